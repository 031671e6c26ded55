"""Plain SGD updating θ in place (rnnviz.inplace): the same bits as the general path, and only
when no one can see the change."""

from __future__ import annotations

import sys
import weakref

import numpy as np
import pytest

import rnnviz
import rnnviz.trainer as trainer_module
from rnnviz import TrainConfig, Trainer
from rnnviz.bptt import DeferredGrads
from rnnviz.head import dV_into, row_blocks
from rnnviz.inplace import dV_norm_bound, grad_sq_norms, sgd_in_place

from test_engine_trainer import CHAR_TEXT, WORD_TEXT, assert_same, capture

SGD = TrainConfig(level="word", hidden_size=16, seq_len=10, optimizer="sgd", lr=0.05, clip="none", max_vocab=400)


@pytest.fixture(autouse=True)
def in_place_at_any_size(monkeypatch):
    """Small models here take the in-place path that a word model (1.6 M weights) takes."""
    monkeypatch.setattr(trainer_module, "INPLACE_MIN_WEIGHTS", 0)


def pair(config: TrainConfig, text: str = WORD_TEXT) -> tuple[Trainer, Trainer]:
    """Two trainers for the same run. A tiny undo budget keeps most states out of the
    snapshots, as for a real word model (13 MB of weights against 8 MiB)."""
    return Trainer(text, config, undo_budget_bytes=1), Trainer(text, config, undo_budget_bytes=1)


def step_both(a: Trainer, b: Trainer, n: int) -> None:
    """n steps of each: a free to update θ in place, b forced onto the general path because a
    caller holds a view of its weights (as a page drawing the model would)."""
    for _ in range(n):
        ra = a.step()
        held = b.params["V"]
        rb = b.step()
        del held
        assert (ra is None) == (rb is None)


@pytest.mark.parametrize("changes", [{}, {"truncate": 3}, {"lr_halving": True, "halve_every": 7},
                                     {"level": "char", "max_vocab": 10000}])
def test_in_place_gives_the_general_paths_bits(monkeypatch, changes):
    cfg = SGD.with_changes(**changes)
    text = CHAR_TEXT if cfg.level == "char" else WORD_TEXT
    a, b = pair(cfg, text)
    ids = set()
    for _ in range(8):
        step_both(a, b, 15)
        ids.add(id(a.state.theta))
        assert_same(capture(a), capture(b), skip_columns=("wall_ms",))  # weights, state and every history column (norms too)
    # It really ran in place: 120 steps used a handful of θ vectors (new ones only after a snapshot).
    assert a.step_count == 120 and len(ids) < 8
    assert b.step_count == 120
    assert a.history.frame()["grad_norm"].gt(0).all()


def test_in_place_is_taken_between_snapshots(monkeypatch):
    tr = Trainer(WORD_TEXT, SGD, undo_budget_bytes=1)
    assert tr.snapshot_stride > 1
    tr.step(tr.snapshot_stride + 1)  # past the first snapshot
    same = 0
    for _ in range(tr.snapshot_stride - 2):
        before = id(tr.state.theta)
        tr.step()
        same += id(tr.state.theta) == before
    assert same == tr.snapshot_stride - 2


@pytest.mark.parametrize("hold", ["view", "params", "state", "theta"])
def test_nothing_anyone_holds_changes(monkeypatch, hold):
    """A caller's view of the weights, params dict, State or θ keeps the values it had."""
    tr = Trainer(WORD_TEXT, SGD, undo_budget_bytes=1)
    ref = Trainer(WORD_TEXT, SGD, undo_budget_bytes=1)
    tr.step(5)
    ref.step(5)
    held = {"view": lambda: tr.params["V"], "params": lambda: tr.params, "state": lambda: tr.state,
            "theta": lambda: tr.state.theta}[hold]()
    theta_then = tr.state.theta.copy()
    tr.step(3)
    ref.step(3)
    now = {"view": lambda h: h, "params": lambda h: h["V"], "state": lambda h: h.params["V"],
           "theta": lambda h: h}[hold](held)
    expect = theta_then if hold == "theta" else tr.layout.views(theta_then)["V"]
    assert np.array_equal(now, expect)
    assert_same(capture(tr), capture(ref), skip_columns=("wall_ms",))
    del held, now


def test_undo_replays_exactly_through_in_place_steps(monkeypatch):
    tr = Trainer(WORD_TEXT, SGD, undo_budget_bytes=1)
    caps = {}
    for _ in range(70):
        tr.step()
        caps[tr.step_count] = capture(tr)
    assert tr.undo(37)
    assert_same(capture(tr), caps[33], skip_columns=("wall_ms",))
    tr.step(20)
    assert_same(capture(tr), caps[53], skip_columns=("wall_ms",))


def test_divergence_is_the_same_whichever_path(monkeypatch):
    """Big steps push ‖θ‖ past the limit: the in-place path must refuse the same step, for the same
    reason, and keep the same last good weights, as the general path."""
    a, b = pair(SGD.with_changes(lr=0.3))   # ‖θ‖ grows from 12 to about 40 by step 120, then to 72 by step 150
    monkeypatch.setattr(trainer_module, "MAX_WEIGHT_NORM", 50.0)
    for _ in range(300):
        step_both(a, b, 1)
        if b.divergence is not None:
            break
    assert b.divergence is not None and b.step_count > 2 * b.snapshot_stride, "this run should blow up, late"
    assert a.divergence is not None and a.divergence.step == b.divergence.step
    assert a.divergence.reason == b.divergence.reason
    assert_same(capture(a), capture(b), skip_columns=("wall_ms",))


def test_weight_norm_bound_makes_it_fall_back(monkeypatch):
    """Near the weight-norm limit the in-place path steps aside and the general one decides."""
    tr = Trainer(WORD_TEXT, SGD, undo_budget_bytes=1)
    tr.step(tr.snapshot_stride + 1)
    before = id(tr.state.theta)
    monkeypatch.setattr(trainer_module, "MAX_WEIGHT_NORM", tr.state.norm_bound * 1.000001)
    rec = tr.step()
    assert rec is not None or tr.divergence is not None
    assert id(tr.state.theta) != before or tr.divergence is not None


def test_norm_bound_stays_an_upper_bound():
    """In place, the bound grows by η‖g‖ a step (triangle inequality); a general step resets it to ‖θ‖."""
    tr = Trainer(WORD_TEXT, SGD.with_changes(lr=0.5), undo_budget_bytes=1)
    resets = 0
    for _ in range(120):
        before, bound = id(tr.state.theta), tr.state.norm_bound
        rec = tr.step()
        exact = float(np.linalg.norm(tr.state.theta))
        assert exact <= tr.state.norm_bound
        if id(tr.state.theta) == before:
            assert tr.state.norm_bound == pytest.approx(bound + 0.5 * rec.clip.global_before, rel=1e-8)
        else:
            resets += 1
            assert tr.state.norm_bound == pytest.approx(exact, rel=1e-8)
    assert resets >= 2


def test_deferred_dV_is_the_gradient(monkeypatch):
    """The record's grads["V"], never stored by the in-place step, is filled exactly on request."""
    tr = Trainer(WORD_TEXT, SGD, undo_budget_bytes=1)
    tr.step(4)
    params = {k: v.copy() for k, v in tr.params.items()}
    xs, ys, h0 = tr.next_window()
    ref = rnnviz.loss_and_grads(params, xs, ys, h0)
    rec = tr.step()
    assert isinstance(rec.result.grads, DeferredGrads)
    assert list(rec.result.grads) == ["U", "W", "V", "b", "c"] and len(rec.result.grads) == 5
    for k in ("U", "W", "V", "b", "c"):
        np.testing.assert_allclose(rec.result.grads[k], ref.grads[k], rtol=1e-12, atol=1e-15, err_msg=k)
    assert rec.clip.norms_before["V"] == pytest.approx(np.linalg.norm(ref.grads["V"]), rel=1e-12)


def test_sgd_in_place_matches_plain_sgd_and_the_bound_holds():
    rng = np.random.default_rng(3)
    H, V, T = 7, 12000, 9   # V large enough for several row blocks (256 kB each)
    assert len(row_blocks(V, H)) > 1
    theta = {"U": rng.normal(size=(H, V)), "W": rng.normal(size=(H, H)), "V": rng.normal(size=(V, H)),
             "b": rng.normal(size=H), "c": rng.normal(size=V)}
    xs = rng.integers(0, V, T)
    cols = np.unique(xs)
    g = {k: rng.normal(size=v.shape) for k, v in theta.items()}
    g["U"][:] = 0.0
    g["U"][:, cols] = rng.normal(size=(H, cols.size))
    dlogits, hs = rng.normal(size=(T, V)), np.tanh(rng.normal(size=(T, H))).T
    g["V"] = dV_into(dlogits, hs, np.empty((V, H)))
    lr = 0.1
    expect = {k: v - g[k] * lr for k, v in theta.items()}
    got = {k: v.copy() for k, v in theta.items()}
    sq_V = sgd_in_place(got, g, dlogits, hs, cols, lr)
    for k in theta:
        assert np.array_equal(got[k], expect[k]), k
    assert sq_V == grad_sq_norms(g, cols)["V"]
    assert sq_V == pytest.approx(np.sum(g["V"] ** 2), rel=1e-12)
    assert grad_sq_norms(g, cols)["U"] == pytest.approx(np.sum(g["U"] ** 2), rel=1e-12)
    assert np.linalg.norm(g["V"]) <= dV_norm_bound(dlogits, hs)


def test_self_test_switches_both_optimisations_off_where_counts_differ(monkeypatch):
    """On an interpreter that counts one reference fewer (as Python 3.14 may), the import-time
    self-test fails, and then θ is neither updated in place nor recycled: runs stay exact."""
    assert trainer_module.REFCOUNTS_PROVE_OWNERSHIP  # on CI's CPython the fast paths are on
    real = sys.getrefcount
    monkeypatch.setattr(sys, "getrefcount", lambda obj: real(obj) - 2)  # −2: this lambda's own references
    assert trainer_module._refcount_self_test() is False
    monkeypatch.setattr(sys, "getrefcount", real)
    monkeypatch.setattr(trainer_module, "REFCOUNTS_PROVE_OWNERSHIP", False)
    a, b = pair(SGD)
    for _ in range(30):
        old = weakref.ref(a.state.theta)   # a weak reference: it does not change the counts
        step_both(a, b, 1)
        assert a.state.theta is not old()  # a new θ every step, though nothing else holds the old one
    assert not a._retired                  # and none kept for recycling
    held = a.params["V"]
    before = held.copy()
    step_both(a, b, 5)
    assert np.array_equal(held, before)
    assert_same(capture(a), capture(b), skip_columns=("wall_ms",))
