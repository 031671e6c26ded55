"""Gradient checks of ``rnnviz.loss_and_grads``: finite differences and an independent port of
the word-level seed's truncated BPTT loop, for full BPTT and every interesting truncation."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import rnnviz
from rnnviz.gradcheck import gradient_check, numerical_gradient, plain_loss, relative_error

from test_engine_reference import NAMES, random_params, seed_bptt, window

# (V, H, T): includes H = 1, T = 1, V = 2.
SHAPES = [(2, 1, 1), (2, 1, 5), (2, 3, 4), (3, 2, 1), (4, 3, 6), (5, 4, 7), (3, 1, 8)]


def truncations(T: int) -> list:
    ks = {0, 1, 2, T - 2, T - 1, T + 3}
    return sorted(k for k in ks if k >= 0) + [None]


CASES = [(V, H, T, k) for V, H, T in SHAPES for k in truncations(T)]


def make_case(V, H, T):
    params = random_params(V, H, seed=100 * V + 10 * H + T)
    xs, ys = window(V, T, seed=T + V)
    h0 = np.random.default_rng(H).uniform(-0.9, 0.9, H)  # a nonzero carried state
    return params, xs, ys, h0


@pytest.mark.parametrize("V,H,T,k", CASES)
def test_gradients_match_finite_differences(V, H, T, k):
    params, xs, ys, h0 = make_case(V, H, T)
    before = {n: params[n].copy() for n in NAMES}
    res = rnnviz.loss_and_grads(params, xs, ys, h0, k)
    # The loss is the plain loss (truncation changes the gradient, never the loss).
    assert res.loss == pytest.approx(plain_loss(params, xs, ys, h0), rel=1e-12)
    num = numerical_gradient(params, xs, ys, h0, k)  # every entry
    for name in NAMES:
        idx, values = num[name]
        assert idx.size == params[name].size
        err = relative_error(res.grads[name].reshape(-1)[idx], values)
        assert err < 1e-6, f"{name}: relative error {err:.2e} (V={V}, H={H}, T={T}, k={k})"
    for n in NAMES:  # loss_and_grads never writes into the parameters
        assert np.array_equal(params[n], before[n])


@pytest.mark.parametrize("V,H,T,k", CASES)
def test_gradients_match_seed_bptt_loop(V, H, T, k):
    params, xs, ys, h0 = make_case(V, H, T)
    res = rnnviz.loss_and_grads(params, xs, ys, h0, k)
    loss, ref = seed_bptt(params, xs, ys, h0, k)
    assert res.loss == pytest.approx(loss, rel=1e-12)
    for name in NAMES:
        assert res.grads[name].shape == params[name].shape
        np.testing.assert_allclose(res.grads[name], ref[name], rtol=1e-10, atol=1e-12, err_msg=name)


def test_truncation_really_changes_the_gradient():
    """Guards the tests above against a vacuous pass: with k small, the truncated gradient
    differs from the full one, and the finite differences of the plain loss disagree with it."""
    params, xs, ys, h0 = make_case(4, 3, 6)
    full = rnnviz.loss_and_grads(params, xs, ys, h0, None).grads["W"]
    cut = rnnviz.loss_and_grads(params, xs, ys, h0, 1).grads["W"]
    assert relative_error(full, cut) > 1e-3
    idx, values = numerical_gradient(params, xs, ys, h0, None)["W"]
    assert relative_error(cut.reshape(-1)[idx], values) > 1e-3


def test_repeated_tokens_accumulate_in_dU_and_unseen_columns_are_zero():
    V, H = 5, 3
    params = random_params(V, H, seed=9)
    xs = [1, 1, 1, 3, 1]
    ys = [2, 0, 4, 1, 1]
    res = rnnviz.loss_and_grads(params, xs, ys, np.full(H, 0.2))
    assert np.all(res.grads["U"][:, [0, 2, 4]] == 0.0)
    # Column x receives the sum of delta_t over the steps where x_t = x; check with the seed loop.
    _, ref = seed_bptt(params, xs, ys, np.full(H, 0.2), None)
    np.testing.assert_allclose(res.grads["U"], ref["U"], rtol=1e-10, atol=1e-12)
    assert np.linalg.norm(res.grads["U"][:, 1]) > 0


@pytest.mark.parametrize("k", [None, 1])
def test_grads_out_of_any_memory_layout_give_the_same_gradients(k):
    """dU is accumulated on flat indices when grads_out["U"] is contiguous (the Trainer's views),
    and through a 2-D view otherwise: both paths, with repeated tokens, give the same bits."""
    V, H = 5, 3
    params = random_params(V, H, seed=4)
    xs, ys, h0 = [1, 1, 4, 3, 1, 0], [2, 0, 4, 1, 1, 3], np.full(H, -0.3)
    fresh = rnnviz.loss_and_grads(params, xs, ys, h0, k)
    strided = {n: np.zeros(params[n].shape, order="F") for n in NAMES}  # dU (H×V) not C-contiguous
    assert not strided["U"].flags.c_contiguous
    res = rnnviz.loss_and_grads(params, xs, ys, h0, k, grads_out=strided)
    for n in NAMES:
        assert np.array_equal(res.grads[n], fresh.grads[n]), n
    _, ref = seed_bptt(params, xs, ys, h0, k)
    np.testing.assert_allclose(res.grads["U"], ref["U"], rtol=1e-10, atol=1e-12)


def test_h0_none_means_zeros_and_h0_is_a_constant():
    params, xs, ys, _ = make_case(3, 2, 4)
    a = rnnviz.loss_and_grads(params, xs, ys, None)
    b = rnnviz.loss_and_grads(params, xs, ys, np.zeros(2))
    for n in NAMES:
        assert np.array_equal(a.grads[n], b.grads[n])
    # h_last is h_T of the window.
    _, ref = seed_bptt(params, xs, ys, np.zeros(2), None)
    hT = np.zeros(2)
    for x in xs:
        hT = np.tanh(params["U"][:, x] + params["W"] @ hT + params["b"])
    np.testing.assert_allclose(a.h_last, hT, rtol=1e-13, atol=1e-15)


def test_grads_out_and_diagnostics_flag_give_the_same_gradients():
    params, xs, ys, h0 = make_case(4, 3, 6)
    ref = rnnviz.loss_and_grads(params, xs, ys, h0, 2)
    out = {n: np.zeros_like(params[n]) for n in NAMES}
    res = rnnviz.loss_and_grads(params, xs, ys, h0, 2, grads_out=out, diagnostics=False)
    for n in NAMES:
        assert res.grads[n] is out[n] or np.shares_memory(res.grads[n], out[n])
        assert np.array_equal(out[n], ref.grads[n])
    assert res.dW_contrib.size == 0 and ref.dW_contrib.size == 6


def test_probs_rebuilds_the_softmax():
    params, xs, ys, h0 = make_case(4, 3, 6)
    res = rnnviz.loss_and_grads(params, xs, ys, h0)
    h = h0
    for t, x in enumerate(xs):
        h = np.tanh(params["U"][:, x] + params["W"] @ h + params["b"])
        o = params["V"] @ h + params["c"]
        p = np.exp(o - o.max()) / np.exp(o - o.max()).sum()
        np.testing.assert_allclose(res.probs()[t], p, rtol=1e-12, atol=1e-15)
        assert res.p_target[t] == pytest.approx(p[ys[t]], rel=1e-12)
        assert res.predicted[t] == np.argmax(p)
        assert res.losses[t] == pytest.approx(-np.log(p[ys[t]]), rel=1e-12)


@pytest.mark.parametrize(
    "xs,ys,trunc",
    [([0, 1], [1], None), ([], [], None), ([0, 3], [1, 0], None), ([0, -1], [1, 0], None), ([0, 1], [1, 0], -1)],
)
def test_bad_windows_raise_value_error(xs, ys, trunc):
    params = random_params(3, 2, seed=0)
    with pytest.raises(ValueError):
        rnnviz.loss_and_grads(params, xs, ys, None, trunc)


@settings(max_examples=40, deadline=None)
@given(
    V=st.integers(2, 6), H=st.integers(1, 5), T=st.integers(1, 9),
    k=st.one_of(st.none(), st.integers(0, 10)), seed=st.integers(0, 2**16), scale=st.sampled_from([0.3, 1.0, 3.0]),
)
def test_property_gradients_match_seed_loop(V, H, T, k, seed, scale):
    """Random shapes, truncations and weight scales (3.0 saturates tanh): always the seed loop."""
    params = random_params(V, H, seed, scale)
    rng = np.random.default_rng(seed + 1)
    xs, ys = rng.integers(0, V, T).tolist(), rng.integers(0, V, T).tolist()
    h0 = rng.uniform(-1, 1, H)
    res = rnnviz.loss_and_grads(params, xs, ys, h0, k)
    loss, ref = seed_bptt(params, xs, ys, h0, k)
    assert res.loss == pytest.approx(loss, rel=1e-10, abs=1e-12)
    for name in NAMES:
        np.testing.assert_allclose(res.grads[name], ref[name], rtol=1e-9, atol=1e-11, err_msg=name)


def test_gradient_check_reports_small_errors_and_detects_a_wrong_gradient(monkeypatch):
    params, xs, ys, h0 = make_case(4, 3, 6)
    for k in (None, 1):
        errs = gradient_check(params, xs, ys, h0, k, max_entries=10)
        assert set(errs) == set(NAMES)
        assert max(errs.values()) < 1e-6
    # The checker must be able to fail: corrupt dW and it must notice.
    real = rnnviz.bptt.loss_and_grads

    def wrong(*a, **kw):
        res = real(*a, **kw)
        res.grads["W"] *= 1.01
        return res

    monkeypatch.setattr(rnnviz.bptt, "loss_and_grads", wrong)
    errs = gradient_check(params, xs, ys, h0, None, max_entries=10)
    assert errs["W"] > 1e-3 and errs["V"] < 1e-6


def test_relative_error_definition():
    a = np.array([1.0, -2.0, 2.0])
    assert relative_error(a, a) == 0.0
    assert relative_error(a, -a) == pytest.approx(1.0)
    assert relative_error(a, 2 * a) == pytest.approx(1.0 / 3.0)
    assert relative_error(np.zeros(3), np.zeros(3)) == 0.0
