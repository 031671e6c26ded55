"""A step that would blow up is refused: nothing changes, the trainer says why and what to do,
and training resumes once the settings are fixed."""

from __future__ import annotations

import numpy as np
import pytest

import rnnviz.trainer as trainer_module
from rnnviz import TrainConfig, Trainer

from test_engine_trainer import CHAR_TEXT, assert_same, capture, word_text


def test_exploding_gradient_is_refused_then_clipping_and_lower_lr_resume():
    """A large spectral radius, a long window and no clipping: BPTT's gradient explodes on step 1."""
    cfg = TrainConfig(hidden_size=64, seq_len=200, optimizer="sgd", lr=1e3, clip="none", spectral_radius=10.0)
    tr = Trainer(word_text(30, 400), cfg.with_changes(level="word"))
    before = capture(tr)
    assert tr.step() is None
    assert_same(capture(tr), before)
    d = tr.divergence
    assert d is not None and d.step == 1
    assert "learning rate" in d.suggestion and "clipping" in d.suggestion
    assert "spectral radius below 10" in d.suggestion
    assert "Diverged at step 1" in d.message() and d.reason in d.message()
    assert tr.step(5) is None and tr.step_count == 0  # step(n) stops at the first refusal
    assert tr.reconfigure(tr.config.with_changes(lr=1e-3, clip="norm", clip_value=5.0)) is False
    rec = tr.step()
    assert rec is not None and rec.step == 1 and tr.divergence is None
    assert rec.clip.fired and rec.clip.global_before > 1e6  # it really was exploding
    assert np.isfinite(tr.state.theta).all()


def test_huge_learning_rate_is_refused_and_lowering_it_resumes(monkeypatch):
    """With the weight bound lowered (so a small model can exceed it), lr = 1e3 pushes the weights
    beyond it; the step is refused bit for bit, and a smaller lr then trains normally."""
    cfg = TrainConfig(hidden_size=8, seq_len=10, optimizer="sgd", lr=1e3, clip="none")
    tr = Trainer(CHAR_TEXT, cfg.with_changes(lr=0.1))
    tr.step(4)
    tr.reconfigure(cfg)
    norm = float(np.linalg.norm(tr.state.theta))
    monkeypatch.setattr(trainer_module, "MAX_WEIGHT_NORM", 2 * norm)
    before = capture(tr)
    last = tr.last
    assert tr.step() is None
    assert_same(capture(tr), before)
    assert tr.last is last
    d = tr.divergence
    assert d.step == 5
    assert "norm" in d.reason and "1e+03" in d.reason
    assert "lower the learning rate" in d.suggestion and "1e+03" in d.suggestion
    assert "spectral radius" not in d.suggestion  # no spectral radius was set
    tr.reconfigure(tr.config.with_changes(lr=1e-3))
    rec = tr.step()
    assert rec is not None and rec.step == 5 and tr.divergence is None
    assert rec.lr == 1e-3 and len(tr.history) == 5
    assert np.linalg.norm(tr.state.theta) < 2 * norm


def test_nan_gradient_is_refused(monkeypatch):
    cfg = TrainConfig(hidden_size=6, seq_len=8, optimizer="adam", lr=0.01, clip="elementwise")
    tr = Trainer(CHAR_TEXT, cfg)
    tr.step(3)
    ref = Trainer(CHAR_TEXT, cfg)  # the same run, unpatched
    ref.step(5)
    real = trainer_module.loss_and_grads
    calls = {"n": 0}

    def poisoned(*a, **kw):
        res = real(*a, **kw)
        calls["n"] += 1
        if calls["n"] == 3:  # the third step of the next call
            res.grads["W"][0, 0] = np.nan
        return res

    monkeypatch.setattr(trainer_module, "loss_and_grads", poisoned)
    rec = tr.step(10)
    # Two good steps, then the refused one; step(n) returns the last good record and stops.
    assert rec is not None and rec.step == 5 and tr.step_count == 5
    assert_same(capture(tr), capture(ref), skip_columns=("wall_ms",))
    assert tr.divergence.step == 6
    assert "NaN" in tr.divergence.reason
    assert "learning rate" in tr.divergence.suggestion
    monkeypatch.setattr(trainer_module, "loss_and_grads", real)
    tr.reconfigure(tr.config.with_changes(lr=0.005))
    assert tr.step() is not None and tr.step_count == 6 and tr.divergence is None


def test_nan_in_loss_is_refused(monkeypatch):
    tr = Trainer(CHAR_TEXT, TrainConfig(hidden_size=4, seq_len=6, optimizer="sgd", clip="none"))
    real = trainer_module.loss_and_grads

    def nan_loss(*a, **kw):
        res = real(*a, **kw)
        res.loss = float("inf")
        return res

    monkeypatch.setattr(trainer_module, "loss_and_grads", nan_loss)
    before = capture(tr)
    assert tr.step() is None
    assert_same(capture(tr), before)
    assert tr.divergence.step == 1
    assert "turn gradient clipping on" in tr.divergence.suggestion


@pytest.mark.parametrize("undo_budget", [None, 1])
def test_refused_step_keeps_undo_and_replay_exact(monkeypatch, undo_budget):
    cfg = TrainConfig(hidden_size=6, seq_len=8, optimizer="adam", lr=0.01)
    kw = {} if undo_budget is None else {"undo_budget_bytes": undo_budget}
    tr = Trainer(CHAR_TEXT, cfg, **kw)
    caps = [capture(tr)]
    for _ in range(6):
        tr.step()
        caps.append(capture(tr))
    real = trainer_module.loss_and_grads

    def poisoned(*a, **kw):
        res = real(*a, **kw)
        res.grads["V"][:] = np.inf
        return res

    monkeypatch.setattr(trainer_module, "loss_and_grads", poisoned)
    assert tr.step() is None
    monkeypatch.setattr(trainer_module, "loss_and_grads", real)
    assert tr.undo(2)
    assert_same(capture(tr), caps[4])
    assert tr.divergence is None
