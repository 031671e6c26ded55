"""Per-time-step diagnostics of ``loss_and_grads`` and the gradient-reach matrix, against
independently computed quantities (finite differences on h_t and explicit per-term loops)."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import rnnviz

from test_engine_reference import fd_dh, forward_states, onehot, per_term_dh, random_params, softmax, window

SHAPES = [(2, 1, 1), (3, 2, 5), (4, 3, 6), (5, 4, 7)]


def make_case(V, H, T, scale=1.0):
    params = random_params(V, H, seed=7 * V + H + T, scale=scale)
    xs, ys = window(V, T, seed=T)
    h0 = np.random.default_rng(V).uniform(-0.9, 0.9, H)
    return params, xs, ys, h0


@pytest.mark.parametrize("V,H,T", SHAPES)
def test_dh_norms_full_bptt_equal_finite_difference_total_gradient(V, H, T):
    params, xs, ys, h0 = make_case(V, H, T)
    res = rnnviz.loss_and_grads(params, xs, ys, h0)
    assert res.dh_norms.shape == (T,)
    for t in range(T):
        g = fd_dh(params, xs, ys, h0, t)
        assert res.dh_norms[t] == pytest.approx(np.linalg.norm(g), rel=1e-6, abs=1e-10)


@pytest.mark.parametrize("V,H,T", SHAPES)
@pytest.mark.parametrize("k", [None, 0, 1, 3])
def test_dh_norms_equal_reference_sum_of_per_term_gradients(V, H, T, k):
    """Truncated too: dh_t is the sum of dL_s/dh_t over the loss terms s in [t, t+k]."""
    params, xs, ys, h0 = make_case(V, H, T)
    res = rnnviz.loss_and_grads(params, xs, ys, h0, k)
    G = per_term_dh(params, xs, ys, h0, k)
    expected = np.linalg.norm(G.sum(axis=0), axis=1)
    np.testing.assert_allclose(res.dh_norms, expected, rtol=1e-10, atol=1e-13)


@pytest.mark.parametrize("V,H,T", SHAPES)
@pytest.mark.parametrize("k", [None, 1])
def test_per_step_diagnostics(V, H, T, k):
    # scale 2.5 pushes some units past |h| > 0.95 so saturation is not trivially 0.
    params, xs, ys, h0 = make_case(V, H, T, scale=2.5)
    res = rnnviz.loss_and_grads(params, xs, ys, h0, k)
    states = forward_states(params, xs, h0)
    G = per_term_dh(params, xs, ys, h0, k)
    dh = G.sum(axis=0)  # (T, H) total dL/dh_t as BPTT assigns it
    W = params["W"]
    dW_sum = np.zeros_like(W)
    for t in range(T):
        h_t, h_prev = states[t + 1], states[t]
        delta_t = dh[t] * (1 - h_t**2)  # dL/da_t
        assert res.dW_contrib[t] == pytest.approx(np.linalg.norm(delta_t) * np.linalg.norm(h_prev), rel=1e-9, abs=1e-14)
        assert res.dW_contrib[t] == pytest.approx(np.linalg.norm(np.outer(delta_t, h_prev)), rel=1e-9, abs=1e-14)
        assert res.dU_contrib[t] == pytest.approx(np.linalg.norm(delta_t), rel=1e-9, abs=1e-14)
        dW_sum += np.outer(delta_t, h_prev)
        J = np.diag(1 - h_t**2) @ W
        assert res.jacobian_norms[t] == pytest.approx(np.linalg.norm(J, "fro"), rel=1e-12)
        assert res.saturation[t] == pytest.approx(np.mean(np.abs(h_t) > 0.95), abs=1e-15)
        p = softmax(params["V"] @ h_t + params["c"])
        assert res.dlogit_norms[t] == pytest.approx(np.linalg.norm(p - onehot(ys[t], V)), rel=1e-12)
    np.testing.assert_allclose(dW_sum, res.grads["W"], rtol=1e-10, atol=1e-13)


def test_saturation_case_is_not_trivial():
    """The saturation check above is only meaningful if the case mixes saturated and live units."""
    params, xs, ys, h0 = make_case(5, 4, 7, scale=2.5)
    res = rnnviz.loss_and_grads(params, xs, ys, h0)
    assert res.saturation.max() > 0 and res.saturation.min() < 1
    assert len(set(res.saturation.tolist())) > 1


@pytest.mark.parametrize("V,H,T", SHAPES + [(3, 3, 9)])
def test_gradient_reach_equals_per_term_gradient_norms(V, H, T):
    params, xs, ys, h0 = make_case(V, H, T)
    R = rnnviz.gradient_reach(params, xs, ys, h0)
    assert R.shape == (T, T)
    G = per_term_dh(params, xs, ys, h0)
    np.testing.assert_allclose(R, np.linalg.norm(G, axis=2), rtol=1e-10, atol=1e-14)
    assert np.all(R[np.triu_indices(T, 1)] == 0.0)  # L_t does not depend on later states
    # Consistency with dh_norms: the per-term vectors add up to the total gradient at h_k.
    res = rnnviz.loss_and_grads(params, xs, ys, h0)
    np.testing.assert_allclose(np.linalg.norm(G.sum(axis=0), axis=1), res.dh_norms, rtol=1e-10, atol=1e-14)
    assert np.all(res.dh_norms <= R.sum(axis=0) * (1 + 1e-12) + 1e-15)  # triangle inequality


def test_gradient_reach_matches_finite_differences_per_term():
    params, xs, ys, h0 = make_case(3, 2, 5)
    R = rnnviz.gradient_reach(params, xs, ys, h0)
    for t in range(5):
        for k in range(t + 1):
            g = fd_dh(params, xs, ys, h0, k, term=t)
            assert R[t, k] == pytest.approx(np.linalg.norm(g), rel=1e-6, abs=1e-10)
    assert np.all(R.diagonal() > 0)


@settings(max_examples=25, deadline=None)
@given(V=st.integers(2, 5), H=st.integers(1, 4), T=st.integers(1, 8), seed=st.integers(0, 2**16),
       scale=st.sampled_from([0.5, 1.0, 4.0]))
def test_property_reach_and_dh_norms(V, H, T, seed, scale):
    params = random_params(V, H, seed, scale)
    rng = np.random.default_rng(seed)
    xs, ys = rng.integers(0, V, T).tolist(), rng.integers(0, V, T).tolist()
    h0 = rng.uniform(-1, 1, H)
    G = per_term_dh(params, xs, ys, h0)
    R = rnnviz.gradient_reach(params, xs, ys, h0)
    np.testing.assert_allclose(R, np.linalg.norm(G, axis=2), rtol=1e-9, atol=1e-13)
    res = rnnviz.loss_and_grads(params, xs, ys, h0)
    np.testing.assert_allclose(res.dh_norms, np.linalg.norm(G.sum(axis=0), axis=1), rtol=1e-9, atol=1e-13)
