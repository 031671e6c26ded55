"""AppTest: the Train page and the shared sidebar, driven as a user would (no browser)."""

from __future__ import annotations

import numpy as np
import pytest

from rnnviz import Trainer
from rnnviz.presets import DEFAULT_CONFIG, PRESETS
from rnnviz.samples import read_sample

from apptest_helpers import by_label, errors, params_copy, same_params, session, start


@pytest.fixture
def at():
    return start()


def metric(at, label: str) -> str:
    return by_label(at.metric, label).value


def test_opens_ready_with_no_error(at):
    assert errors(at) == []
    assert metric(at, "Step") == "0"
    sess = session(at)
    assert sess.trainer.vocab_size > 2 and sess.trainer.step_count == 0
    # The baseline shown is ln V of the loaded text.
    assert float(metric(at, "Untrained baseline")) == pytest.approx(np.log(sess.trainer.vocab_size), abs=1e-3)


def test_step_buttons_advance_the_step_count(at):
    at.button(key="btn_step").click().run()
    assert metric(at, "Step") == "1"
    at.button(key="btn_step10").click().run()
    assert metric(at, "Step") == "11"
    at.button(key="btn_step100").click().run()
    assert metric(at, "Step") == "111"
    assert len(session(at).trainer.history) == 111
    assert not at.exception and errors(at) == []


def test_the_loss_shown_is_the_engines(at):
    at.button(key="btn_step10").click().run()
    tr = session(at).trainer
    assert float(metric(at, "Loss per token")) == pytest.approx(tr.last.loss_per_token, abs=5e-4)
    # Independent check: a fresh trainer on the same text and config reaches the same loss.
    ref = Trainer(tr.text, tr.config)
    assert ref.step(10).loss == tr.last.loss


def test_undo_goes_back_exactly(at):
    at.button(key="btn_step10").click().run()
    before = params_copy(at)
    at.button(key="btn_step").click().run()
    assert not same_params(before, params_copy(at))
    at.button(key="btn_undo").click().run()
    assert metric(at, "Step") == "10"
    assert same_params(before, params_copy(at))


def test_reset_reproduces_the_run(at):
    at.button(key="btn_step10").click().run()
    after10 = params_copy(at)
    at.button(key="btn_reset").click().run()
    assert metric(at, "Step") == "0"
    at.button(key="btn_step10").click().run()
    assert same_params(after10, params_copy(at))


@pytest.mark.parametrize("preset", PRESETS, ids=lambda p: p.key)
def test_preset_sets_text_and_settings(at, preset):
    at.sidebar.button(key=f"preset_{preset.key}").click().run()
    sess = session(at)
    assert sess.config == preset.config
    assert sess.text == read_sample(preset.sample)
    assert not at.exception and errors(at) == []
    # The page still works after the preset: one step trains.
    at.button(key="btn_step").click().run()
    assert session(at).trainer.step_count == 1


def test_pasting_text_rebuilds_the_vocabulary(at):
    text = "abcab cabba " * 20
    at.sidebar.text_area(key="paste_text").input(text).run()
    by_label(at.sidebar.button, "Train on this text").click().run()
    tr = session(at).trainer
    assert tr.text == text
    assert tr.tokenizer.vocab == sorted(set(text))
    assert metric(at, "Step") == "0"


@pytest.mark.parametrize("bad, says", [
    ("", "empty"), ("   \n\t  ", "empty"), ("aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", "distinct"), ("short text", "T=25"),
])
def test_bad_text_gives_a_message_and_keeps_the_model(at, bad, says):
    at.button(key="btn_step10").click().run()
    old = session(at).trainer
    before = params_copy(at)
    at.sidebar.text_area(key="paste_text").input(bad).run()
    by_label(at.sidebar.button, "Train on this text").click().run()
    assert not at.exception
    assert any(says in e for e in errors(at)), errors(at)
    assert session(at).trainer is old and same_params(before, params_copy(at))
    assert old.step_count == 10


def test_live_learning_rate_keeps_the_model(at):
    at.button(key="btn_step10").click().run()
    old = session(at).trainer
    by_label(at.sidebar.select_slider, "Learning rate").set_value(0.01).run()
    sess = session(at)
    assert sess.trainer is old and sess.config.lr == 0.01 and old.step_count == 10
    at.button(key="btn_step").click().run()
    assert sess.trainer.history.cols["lr"][-1] == 0.01


def test_model_settings_reset_the_model(at):
    at.button(key="btn_step10").click().run()
    by_label(at.sidebar.select_slider, "Hidden size").set_value(32)
    by_label(at.sidebar.button, "Apply and reset").click().run()
    sess = session(at)
    assert sess.config.hidden_size == 32 and sess.trainer.params["W"].shape == (32, 32)
    assert sess.trainer.step_count == 0
    assert any("reset" in i.value.lower() for i in at.info)


def test_divergence_shows_a_banner_and_keeps_the_last_good_weights(at):
    sess = session(at)
    sess.apply_config(DEFAULT_CONFIG.with_changes(optimizer="sgd"))
    at.run()
    by_label(at.sidebar.select_slider, "Learning rate").set_value(1000.0).run()
    at.sidebar.segmented_control[0].set_value("none").run()
    assert session(at).config.lr == 1000.0 and session(at).config.clip == "none"
    at.button(key="btn_step10").click().run()
    tr = session(at).trainer
    assert tr.divergence is not None
    assert any("diverged at step" in e.lower() and "learning rate" in e.lower() for e in errors(at)), errors(at)
    good = params_copy(at)
    n = tr.step_count
    at.button(key="btn_step").click().run()        # refused again: nothing changes
    assert tr.step_count == n and same_params(good, params_copy(at))
    by_label(at.sidebar.select_slider, "Learning rate").set_value(0.01).run()
    at.button(key="btn_step").click().run()        # lower η: training resumes
    assert tr.step_count == n + 1 and tr.divergence is None
    assert not at.exception


def test_play_and_pause_toggle(at):
    at.button(key="btn_play").click().run()
    assert session(at).playing
    at.button(key="btn_pause").click().run()
    assert not session(at).playing
    assert not at.exception


def test_an_early_adagrad_peak_is_explained_only_when_it_happened(at):
    session(at).apply_config(DEFAULT_CONFIG.with_changes(optimizer="adagrad", lr=0.1))   # min-char-rnn's settings
    at.run()
    at.button(key="btn_step10").click().run()
    h, tr = session(at).trainer.history, session(at).trainer
    peaked = h.column("loss").max() > 1.2 * tr.baseline_loss
    explained = any("Adagrad's first steps" in c.value for c in at.caption)
    assert peaked and explained, "min-char-rnn's Adagrad run jumps above ln V at first and the page says why"
    session(at).apply_config(DEFAULT_CONFIG.with_changes(optimizer="sgd", lr=0.01))
    at.run()
    at.button(key="btn_step10").click().run()
    assert not any("Adagrad's first steps" in c.value for c in at.caption)


def test_undo_while_playing_pauses_and_goes_back_one_step(at):
    at.button(key="btn_step10").click().run()
    at.button(key="btn_play").click().run()
    tr = session(at).trainer
    n = tr.step_count
    assert session(at).playing and n > 10
    at.button(key="btn_undo").click().run()
    assert not session(at).playing and tr.step_count == n - 1


def test_a_big_word_model_with_plain_sgd_steps_undoes_and_plays_exactly(at):
    """A big word model with plain SGD (θ updated in place): the page's steps, undo and play give the
    engine's own numbers, whatever the page held on to between reruns."""
    cfg = DEFAULT_CONFIG.with_changes(level="word", hidden_size=300, seq_len=20, optimizer="sgd", lr=0.05,
                                      clip="none", max_vocab=8000)
    session(at).apply_config(cfg)
    at.run()
    tr = session(at).trainer
    assert tr.layout.size >= 1 << 17 and tr.config.level == "word"
    at.button(key="btn_step10").click().run()
    before = params_copy(at)
    at.button(key="btn_step").click().run()
    at.button(key="btn_undo").click().run()
    assert same_params(before, params_copy(at)) and metric(at, "Step") == "10"
    at.button(key="btn_play").click().run()
    at.button(key="btn_pause").click().run()
    n = tr.step_count
    assert n > 10 and not at.exception and errors(at) == []
    ref = Trainer(tr.text, tr.config)
    ref.step(n)
    assert same_params({k: v.copy() for k, v in ref.params.items()}, params_copy(at))


def reach_chart(at) -> tuple[list[float], str]:
    """The headline chart's bar values (d = 0, 1, …) and its verdict line, as the page drew them."""
    import base64
    import re

    img = next(h.proto.body for h in at.html if "alt=\"Fraction of a loss term" in h.proto.body)
    svg = base64.b64decode(re.search(r'base64,([^"]+)"', img).group(1)).decode()
    values = [float(v) for v in re.search(r'class="trace"[^>]*data-y="([^"]*)"', svg).group(1).split()]
    body = next(h.proto.body for h in at.html if "rv-verdict" in h.proto.body)
    return values, re.search(r"<div class='rv-verdict'>(.*?)</div>", body).group(1)


def test_the_headline_chart_shows_vanishing_on_its_preset_before_and_after_20_steps(at):
    at.sidebar.button(key="preset_vanishing").click().run()
    for steps in (0, 20):
        if steps:
            at.button(key="btn_step10").click().run()
            at.button(key="btn_step10").click().run()
        bars, words = reach_chart(at)
        T = session(at).trainer.config.seq_len
        assert len(bars) == T and bars[0] == pytest.approx(1.0)
        assert bars[10] <= 1e-2 and bars[-1] < bars[10]                 # falls by ≥ 2 decades, and on
        assert "<b>vanishing</b>" in words and f"{1 / bars[10]:,.0f}×" in words   # the sentence reads the bars
        assert ("before the first step" if steps == 0 else "after step 20") in words.lower()


def test_the_headline_chart_rises_going_back_on_exploding_before_the_first_step(at):
    at.sidebar.button(key="preset_exploding").click().run()
    bars, words = reach_chart(at)
    assert bars[10] >= 10 and bars[-1] > bars[10] > bars[0]
    assert "<b>exploding</b>" in words and "grows" in words
