"""AppTest: the Generate page, driven as a user would (no browser)."""

from __future__ import annotations

import re

import numpy as np
import pytest

from rnnviz.generation import MAX_ANALYSE_TOKENS

from apptest_helpers import by_label, errors, params_copy, same_params, session, start

XSS = "<img src=x onerror=alert(1)>"
N = 40  # tokens per Generate click in these tests: enough to differ between seeds, quick to draw


@pytest.fixture
def at():
    at = start("generate")
    widget(at, "number_input", "gen_len").set_value(N).run()
    return at


def widget(at, kind: str, name: str):
    """The page's widget ``name`` (its key carries the model's generation number)."""
    return getattr(at, kind)(key=f"{name}_{session(at).generation}")


def generate(at):
    widget(at, "button", "gen_go").click().run()
    assert not at.exception, at.exception
    assert errors(at) == []
    return session(at).extras["gen_state"]["result"]["out"]


def output_html(at) -> str:
    """The body of the st.html holding the generated text (its tokens carry a 'p = ' tooltip)."""
    bodies = [h.proto.body for h in at.html if 'title="p = ' in h.proto.body]
    assert len(bodies) == 1, f"expected one generated-text block, found {len(bodies)}"
    return bodies[0]


def messages(at) -> str:
    return " ".join(m.value for m in [*at.warning, *at.info, *at.error])


def test_opens_with_no_error_and_asks_for_a_click(at):
    assert not at.exception and errors(at) == []
    assert "Press **Generate**" in messages(at)
    # Step 0: the page says the model is untrained and where to train it.
    assert "untrained" in messages(at)
    # The hidden-unit heatmap already shows the training text.
    assert len(at.get("plotly_chart")) == 1


def test_generate_writes_the_requested_number_of_tokens(at):
    before = params_copy(at)
    out = generate(at)
    body = output_html(at)
    assert out.n == N
    assert body.count('title="p = ') == N          # one coloured span per generated token
    assert 'class="rv-prime"' in body               # the prime, in grey
    assert by_label(at.metric, "Tokens generated").value == str(N)
    assert np.isfinite(out.mean_log_p) and out.mean_log_p < 0
    # The plain-text copy is the prime and the output, decoded.
    assert any(c.value == out.text for c in at.code)
    # Sampling only reads the weights.
    assert same_params(before, params_copy(at)) and session(at).trainer.step_count == 0


def test_greedy_gives_the_same_text_twice_whatever_the_seed(at):
    widget(at, "radio", "gen_mode").set_value("greedy").run()
    first = generate(at).text
    widget(at, "number_input", "gen_seed").set_value(7).run()
    assert generate(at).text == first
    assert "Greedy" in messages(at)


def test_same_seed_same_text_other_seed_other_text(at):
    first = generate(at).text
    widget(at, "number_input", "gen_seed").set_value(1).run()
    other = generate(at).text
    widget(at, "number_input", "gen_seed").set_value(0).run()
    again = generate(at).text
    assert again == first
    assert other != first


def test_temperature_zero_is_greedy_and_says_so(at):
    widget(at, "radio", "gen_mode").set_value("greedy").run()
    greedy = generate(at).text
    widget(at, "radio", "gen_mode").set_value("sample").run()
    widget(at, "select_slider", "gen_temp").set_value(0.0).run()
    assert "Temperature 0 means greedy" in messages(at)
    assert generate(at).text == greedy


def test_temperature_100_works_and_warns(at):
    widget(at, "select_slider", "gen_temp").set_value(100.0).run()
    assert "gibberish" in messages(at) and "Lower τ" in messages(at)
    out = generate(at)
    assert out.n == N and np.isfinite(out.perplexity)


def test_typed_temperature_is_used(at):
    widget(at, "select_slider", "gen_temp").set_value("other").run()
    widget(at, "number_input", "gen_temp_other").set_value(42.5).run()
    assert generate(at).settings.temperature == 42.5


def test_unknown_characters_are_named_and_left_out(at):
    before = params_copy(at)
    widget(at, "text_area", "gen_prime").input("The sea § and ü").run()
    out = generate(at)
    warned = " ".join(w.value for w in at.warning)
    assert "§" in warned and "ü" in warned and "left out" in warned
    assert out.prime.text == "The sea  and "
    assert out.n == N and same_params(before, params_copy(at))


def test_empty_prime_starts_from_the_first_token_and_says_so(at):
    widget(at, "text_area", "gen_prime").input("").run()
    out = generate(at)
    assert "first token of the training text" in messages(at)
    assert out.prime.ids.tolist() == [int(session(at).trainer.data[0])]


def test_xss_prime_is_shown_as_text(at):
    # A text that contains every character of the payload, so the prime is kept whole.
    session(at).use_sample("python_like_code")
    at.run()
    widget(at, "number_input", "gen_len").set_value(N).run()
    widget(at, "text_area", "gen_prime").input(XSS).run()
    out = generate(at)
    assert out.prime.text == XSS
    body = output_html(at)
    assert "&lt;img src=x onerror=alert(1)&gt;" in body
    assert "<img" not in body
    # The unit strip (same text) escapes it too.
    widget(at, "radio", "gen_src").set_value("generated").run()
    strips = [h.proto.body for h in at.html if "h of unit" in h.proto.body]
    assert strips and '>&lt;</span>' in strips[0] and "<img" not in strips[0]   # one span per character


def test_xss_prime_on_a_model_without_those_characters(at):
    widget(at, "text_area", "gen_prime").input(XSS).run()
    generate(at)
    assert "<img" not in output_html(at)
    assert "left out" in " ".join(w.value for w in at.warning)


def test_word_level_maps_unknown_words_to_unk(at):
    at.sidebar.button(key="preset_word").click().run()   # the shared sidebar is on this page too
    assert session(at).config.level == "word"
    widget(at, "number_input", "gen_len").set_value(N).run()
    widget(at, "text_area", "gen_prime").input("the zyzzyva").run()
    out = generate(at)
    assert "zyzzyva" in " ".join(w.value for w in at.warning)
    assert out.prime.text.endswith("<unk>")
    assert "&lt;unk&gt;" in output_html(at)


def test_result_belongs_to_its_model(at):
    generate(at)
    session(at).use_sample("counting")  # a new model: the old text must not be shown for it
    at.run()
    assert "Press **Generate**" in messages(at)
    assert "result" not in session(at).extras.get("gen_state", {})


def test_training_after_generating_is_pointed_out(at):
    generate(at)
    session(at).trainer.step(5)
    at.run()
    assert any("step 0" in c.value and "step 5" in c.value for c in at.caption)


def test_heatmap_reads_the_generated_text_and_a_pasted_one(at):
    out = generate(at)
    charts = at.get("plotly_chart")
    assert len(charts) == 1
    fig = charts[0].proto.spec
    assert "heatmap" in fig
    caption = " ".join(c.value for c in at.caption)
    assert "prime and generated text" in caption
    n_cols = len(out.all_ids)
    strips = [h.proto.body for h in at.html if "h of unit" in h.proto.body]
    assert len(strips) == 1 and strips[0].count("<span style=") >= n_cols
    widget(at, "radio", "gen_src").set_value("paste").run()
    widget(at, "text_area", "gen_paste").input('He said "the sea" (and left).').run()
    assert not at.exception and errors(at) == []
    assert "your text" in " ".join(c.value for c in at.caption)


def test_heatmap_caps_long_texts_and_says_so(at):
    widget(at, "radio", "gen_src").set_value("training").run()
    caption = " ".join(c.value for c in at.caption)
    total = session(at).trainer.data.size
    assert re.search(rf"first {MAX_ANALYSE_TOKENS} of its {total:,} tokens", caption)
    widget(at, "slider", "gen_nunits").set_value(64).run()
    widget(at, "radio", "gen_order").set_value("slow").run()
    assert not at.exception and errors(at) == []


def test_settings_and_result_survive_a_visit_to_another_page(at):
    widget(at, "number_input", "gen_seed").set_value(5).run()
    widget(at, "text_area", "gen_prime").input("the sea").run()
    text = generate(at).text
    at.switch_page("pages/train.py").run()
    at.switch_page("pages/generate.py").run()
    assert not at.exception
    assert widget(at, "number_input", "gen_seed").value == 5
    assert widget(at, "text_area", "gen_prime").value == "the sea"
    assert any(c.value == text for c in at.code)
