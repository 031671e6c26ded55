"""The hardening catalogue, through the app as a user drives it (AppTest). Each bad input gets a
message that says what to change, and the model that was there stays intact."""

from __future__ import annotations

import numpy as np
import pytest

from rnnviz.figures import train as train_figures
from rnnviz.ui.textsource import MAX_TEXT_CHARS

from apptest_helpers import by_label, errors, params_copy, same_params, session, start


@pytest.fixture
def at():
    a = start()
    a.button(key="btn_step10").click().run()
    return a


def paste(at, text: str):
    at.sidebar.text_area(key="paste_text").input(text).run()
    by_label(at.sidebar.button, "Train on this text").click().run()
    assert not at.exception, at.exception
    return at


def apply_model(at, **widgets):
    """Set model-form widgets by label prefix, then press Apply."""
    for label, value in widgets.items():
        kind, name = label.split(":", 1)
        by_label(getattr(at.sidebar, kind), name).set_value(value)
    by_label(at.sidebar.button, "Apply and reset").click().run()
    assert not at.exception, at.exception
    return at


def test_a_huge_paste_is_refused_with_the_limit(at):
    before, old = params_copy(at), session(at).trainer
    paste(at, "word " * (MAX_TEXT_CHARS // 5 + 10))
    assert any(f"{MAX_TEXT_CHARS:,}" in e for e in errors(at)), errors(at)
    assert session(at).trainer is old and same_params(before, params_copy(at))


def test_unicode_oddities_train_and_display_escaped(at):
    text = ("<script>x</script> & <b>tags</b> \x00 Emoji 🙂🚀, combining e\u0301, right-to-left שלום עולם \u202e, "
            "bell \x07. ") * 4
    paste(at, text)
    tr = session(at).trainer
    assert tr.text == text and "\x00" in tr.tokenizer.vocab and "🙂" in tr.tokenizer.vocab
    at.button(key="btn_step").click().run()
    assert not at.exception and errors(at) == []
    strip = "".join(h.proto.body for h in at.get("html") if "rv-strip" in h.proto.body)  # the window: 25 characters
    assert "<script>" not in strip
    assert "<b>" not in strip
    assert "\x00" not in strip
    assert "&lt;" in strip and "&gt;" in strip and "&amp;" in strip
    assert "\\x00" in strip  # control characters are shown visibly, never raw


def test_word_level_vocabulary_explosion_is_capped(at):
    rng = np.random.default_rng(0)
    words = " ".join("w" + "".join(rng.choice(list("abcdefghij"), 6)) for _ in range(6000))
    paste(at, words)
    apply_model(at, **{"radio:Tokens": "word"})
    by_label(at.sidebar.number_input, "Word vocabulary cap").set_value(500)
    by_label(at.sidebar.button, "Apply and reset").click().run()
    tr = session(at).trainer
    assert tr.config.level == "word" and tr.vocab_size == 500 and tr.tokenizer.truncated
    assert any("<unk>" in w.value for w in at.warning), [w.value for w in at.warning]
    at.button(key="btn_step").click().run()
    assert tr.step_count == 1 and not at.exception


@pytest.mark.parametrize("hidden", [1, 512])
def test_extreme_hidden_sizes_work(at, hidden):
    apply_model(at, **{"select_slider:Hidden size": hidden})
    tr = session(at).trainer
    assert tr.config.hidden_size == hidden and tr.params["W"].shape == (hidden, hidden)
    at.button(key="btn_step").click().run()
    assert tr.step_count == 1 and errors(at) == [] and not at.exception


def test_window_of_one_step(at):
    apply_model(at, **{"slider:Window length T": 1})
    tr = session(at).trainer
    assert tr.config.seq_len == 1
    at.button(key="btn_step10").click().run()
    assert tr.step_count == 10 and errors(at) == []
    assert by_label(at.sidebar.toggle, "Truncate BPTT").disabled  # nothing to truncate with T = 1


def test_truncation_above_a_new_window_length_is_clamped(at):
    sess = session(at)
    sess.apply_config(sess.config.with_changes(truncate=20))
    at.run()
    apply_model(at, **{"slider:Window length T": 5})
    assert session(at).config.seq_len == 5 and session(at).config.truncate == 4


def test_learning_rate_zero_warns_and_changes_nothing(at):
    by_label(at.sidebar.select_slider, "Learning rate").set_value(0.0).run()
    assert any("never change" in w.value for w in at.sidebar.warning)
    before = params_copy(at)
    at.button(key="btn_step").click().run()
    assert same_params(before, params_copy(at)) and session(at).trainer.step_count == 11


def test_a_failing_chart_shows_a_message_not_a_traceback(at, monkeypatch):
    def broken(*args, **kwargs):
        raise RuntimeError("simulated bug")

    monkeypatch.setattr(train_figures, "reach_spec", broken)
    monkeypatch.setattr("pages.train.reach_spec", broken, raising=False)
    before = params_copy(at)
    at.run()
    assert not at.exception
    assert any("could not be shown" in e and "untouched" in e for e in errors(at)), errors(at)
    assert same_params(before, params_copy(at))
    at.button(key="btn_step").click().run()  # the rest of the page still works
    assert session(at).trainer.step_count == 11


def test_a_text_of_too_many_distinct_characters_is_refused_with_what_to_change(at):
    """999,999 distinct code points once took 4.9 GB and 11 s to build (issue #13)."""
    from rnnviz.config import MAX_CHAR_VOCAB

    before, old = params_copy(at), session(at).trainer
    paste(at, "".join(chr(0x4E00 + i) for i in range(MAX_CHAR_VOCAB + 500)) * 2)
    assert any(f"limit is {MAX_CHAR_VOCAB:,}" in e and "word-level" in e for e in errors(at)), errors(at)
    assert session(at).trainer is old and same_params(before, params_copy(at))


def test_a_word_model_too_big_for_v_times_h_is_refused_with_the_hidden_size_that_fits(at):
    from rnnviz.config import MAX_VH

    paste(at, " ".join(f"w{i}" for i in range(12_000)))
    apply_model(at, **{"radio:Tokens": "word", "select_slider:Hidden size": 512})   # V = 5,000: fits exactly
    old = session(at).trainer
    assert old.vocab_size * 512 <= MAX_VH
    by_label(at.sidebar.number_input, "Word vocabulary cap").set_value(12_000)
    by_label(at.sidebar.button, "Apply and reset").click().run()
    assert not at.exception
    assert any(f"{MAX_VH:,}" in e and "lower the hidden size to" in e for e in errors(at)), errors(at)
    assert session(at).trainer is old
