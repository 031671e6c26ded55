"""The numbers the BPTT explorer and the lab show are the engine's gradients, exactly.

- per-step terms (rnnviz.explain) sum to ``loss_and_grads``'s gradients, full and truncated;
- each per-step vector matches an independent oracle (tests/test_engine_reference.py);
- the truncation gap and sweep (rnnviz.truncation) equal ``loss_and_grads(truncate=k)``;
- the reach matrix rows equal an explicit per-loss-term backward loop.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import rnnviz
from rnnviz.explain import backward_trace, gradient_check_plan
from rnnviz.terms import TERM_NAMES
from rnnviz.truncation import truncation_gap, truncation_sweep

from test_engine_reference import forward_states, onehot, per_term_dh, random_params, softmax, window

SHAPES = [(2, 1, 1), (3, 2, 2), (4, 3, 6), (5, 4, 9)]
RTOL, ATOL = 1e-12, 1e-14


def case(V, H, T, seed=0, scale=1.0):
    params = random_params(V, H, seed=seed + 11 * V + H, scale=scale)
    xs, ys = window(V, T, seed=T + seed)
    h0 = np.random.default_rng(seed + 3).uniform(-0.8, 0.8, H)
    return params, xs, ys, h0


def ks_for(T):
    return sorted({None, 0, 1, T // 2, T - 2 if T >= 2 else 0, T - 1, T + 3}, key=lambda k: -1 if k is None else k)


# ----------------------------------------------------------------------------- per-step terms
@pytest.mark.parametrize("V,H,T", SHAPES)
def test_per_step_terms_sum_to_the_engine_gradient(V, H, T):
    params, xs, ys, h0 = case(V, H, T)
    for k in ks_for(T):
        tc = backward_trace(params, xs, ys, h0, k)
        grads = rnnviz.loss_and_grads(params, xs, ys, h0, k).grads
        for name in TERM_NAMES:
            total = sum(tc.term(name, t) for t in range(T))
            np.testing.assert_allclose(total, grads[name], rtol=RTOL, atol=ATOL, err_msg=f"d{name}, k={k}")


@pytest.mark.parametrize("V,H,T", SHAPES)
def test_running_sum_is_the_sum_of_later_terms_and_whole_gradient_at_t1(V, H, T):
    params, xs, ys, h0 = case(V, H, T, seed=1)
    for k in (None, 0, 1):
        tc = backward_trace(params, xs, ys, h0, k)
        grads = rnnviz.loss_and_grads(params, xs, ys, h0, k).grads
        for name in TERM_NAMES:
            for t in range(T):
                expected = sum(tc.term(name, s) for s in range(t, T))
                np.testing.assert_allclose(tc.running(name, t), expected, rtol=RTOL, atol=ATOL)
            np.testing.assert_allclose(tc.running(name, 0), grads[name], rtol=RTOL, atol=ATOL)
        norms = tc.term_norms(T - 1)
        for name in TERM_NAMES:
            assert norms[name] == pytest.approx(np.linalg.norm(tc.term(name, T - 1)), rel=1e-12, abs=1e-15)


@settings(max_examples=40, deadline=None)
@given(V=st.integers(2, 6), H=st.integers(1, 5), T=st.integers(1, 12), k=st.one_of(st.none(), st.integers(0, 14)),
       seed=st.integers(0, 1000), scale=st.sampled_from([0.3, 1.0, 3.0]))
def test_property_terms_sum_to_gradient(V, H, T, k, seed, scale):
    params, xs, ys, h0 = case(V, H, T, seed=seed, scale=scale)
    tc = backward_trace(params, xs, ys, h0, k)
    res = rnnviz.loss_and_grads(params, xs, ys, h0, k)
    assert tc.loss == pytest.approx(res.loss, rel=1e-12)
    np.testing.assert_allclose(np.linalg.norm(tc.dh, axis=0), res.dh_norms, rtol=1e-10, atol=1e-13)
    for name in TERM_NAMES:
        np.testing.assert_allclose(tc.running(name, 0), res.grads[name], rtol=1e-11, atol=1e-13)


def test_a_wrong_truncation_is_detected():
    """The comparison is sharp: the trace for k = 1 does not pass for the gradient with k = 2."""
    params, xs, ys, h0 = case(4, 3, 6)
    tc = backward_trace(params, xs, ys, h0, 1)
    other = rnnviz.loss_and_grads(params, xs, ys, h0, 2).grads
    assert not np.allclose(tc.running("W", 0), other["W"], rtol=1e-6, atol=1e-9)


# ----------------------------------------------------------------------------- per-step vectors vs the oracle
@pytest.mark.parametrize("V,H,T", SHAPES)
@pytest.mark.parametrize("k", [None, 0, 2])
def test_vectors_match_the_per_term_oracle(V, H, T, k):
    """dlogits = p − onehot(y); dh_own = Vᵀ dlogits; dh = Σ of the loss terms reaching h_t;
    dh_future = dh − dh_own; δ = (1 − h²) ⊙ dh; cut = the gradient of L_{t+k+1} at h_t."""
    params, xs, ys, h0 = case(V, H, T, seed=2)
    tc = backward_trace(params, xs, ys, h0, k)
    states = forward_states(params, xs, h0)
    G = per_term_dh(params, xs, ys, h0, k)           # G[s, t] = ∂L_s/∂h_t where L_s reaches h_t
    G_full = per_term_dh(params, xs, ys, h0, None)
    for t in range(T):
        p = softmax(params["V"] @ states[t + 1] + params["c"])
        np.testing.assert_allclose(tc.dlogits[t], p - onehot(ys[t], V), rtol=1e-12, atol=1e-14)
        np.testing.assert_allclose(tc.dh_own[:, t], params["V"].T @ (p - onehot(ys[t], V)), rtol=1e-12, atol=1e-14)
        np.testing.assert_allclose(tc.dh[:, t], G[:, t].sum(axis=0), rtol=1e-10, atol=1e-13)
        np.testing.assert_allclose(tc.dh_future[:, t], G[t + 1:, t].sum(axis=0) if t + 1 < T else 0,
                                   rtol=1e-10, atol=1e-13)
        np.testing.assert_allclose(tc.delta[:, t], (1 - states[t + 1] ** 2) * tc.dh[:, t], rtol=1e-12, atol=1e-14)
        k_eff = tc.truncate
        if k_eff is not None and t + k_eff + 1 < T:
            np.testing.assert_allclose(tc.cut[:, t], G_full[t + k_eff + 1, t], rtol=1e-10, atol=1e-13)
        else:
            assert not tc.cut[:, t].any()


def test_full_bptt_future_is_W_transpose_delta_next():
    params, xs, ys, h0 = case(5, 4, 9, seed=3)
    tc = backward_trace(params, xs, ys, h0, None)
    for t in range(8):
        np.testing.assert_allclose(tc.dh_future[:, t], params["W"].T @ tc.delta[:, t + 1], rtol=1e-12, atol=1e-14)
    assert not tc.dh_future[:, -1].any()


def test_what_the_page_reads_at_a_step():
    params, xs, ys, h0 = case(5, 4, 7, seed=4)
    tc = backward_trace(params, xs, ys, h0)
    res = rnnviz.loss_and_grads(params, xs, ys, h0)
    for t in range(7):
        out = tc.output_summary(t, n=2)
        assert out["target"] == ys[t]
        assert out["p_target"] == pytest.approx(res.p_target[t], rel=1e-12)
        assert out["target_entry"] == pytest.approx(res.p_target[t] - 1, rel=1e-12)
        assert out["loss"] == pytest.approx(-np.log(res.p_target[t]), rel=1e-9)
        ranked = [i for i in np.argsort(-res.probs()[t], kind="stable") if i != ys[t]]
        assert [i for i, _ in out["others"]] == ranked[:2]
        gate = tc.gate_stats(t)
        assert 0 < gate["mean_gate"] <= 1 and 0 <= gate["saturated"] <= 1
        vec = tc.vectors(t)
        np.testing.assert_allclose(vec["∂L/∂h_t"], vec["Vᵀ ∂L_t/∂o_t"] + vec["from the future"], rtol=1e-12)
        run = tc.running_norms(t)
        for name in TERM_NAMES:
            assert run[name] == pytest.approx(np.linalg.norm(tc.running(name, t)), rel=1e-9, abs=1e-12)
    assert tc.running_norms(0)["U"] == pytest.approx(np.linalg.norm(res.grads["U"]), rel=1e-12)


def test_bad_inputs_are_refused():
    params, xs, ys, h0 = case(3, 2, 4)
    with pytest.raises(ValueError):
        backward_trace(params, [], [], h0)
    with pytest.raises(ValueError):
        backward_trace(params, xs, ys[:-1], h0)
    with pytest.raises(ValueError):
        backward_trace(params, xs, ys, h0, -1)
    with pytest.raises(ValueError):
        backward_trace(params, xs, ys, h0, cell="lstm")
    with pytest.raises(ValueError):
        backward_trace(params, xs, ys, h0).term("Q", 0)


# ----------------------------------------------------------------------------- truncation vs full
@pytest.mark.parametrize("V,H,T", SHAPES)
def test_truncation_gap_equals_engine_gradients(V, H, T):
    params, xs, ys, h0 = case(V, H, T, seed=5)
    full = rnnviz.loss_and_grads(params, xs, ys, h0).grads
    for k in ks_for(T):
        gap = truncation_gap(params, xs, ys, h0, k)
        trunc = rnnviz.loss_and_grads(params, xs, ys, h0, k).grads
        for name in TERM_NAMES:
            d = np.linalg.norm(trunc[name] - full[name])
            assert gap[name].diff_norm == pytest.approx(d, rel=1e-12, abs=1e-15)
            assert gap[name].truncated_norm == pytest.approx(np.linalg.norm(trunc[name]), rel=1e-12)
        assert gap["V"].diff_norm == 0 and gap["c"].diff_norm == 0   # truncation never touches dV, dc
        every = np.concatenate([(trunc[n] - full[n]).ravel() for n in TERM_NAMES])
        ref = np.concatenate([full[n].ravel() for n in TERM_NAMES])
        assert gap["all"].rel_error == pytest.approx(np.linalg.norm(every) / np.linalg.norm(ref), rel=1e-12, abs=1e-15)


@pytest.mark.parametrize("V,H,T", SHAPES + [(6, 5, 15)])
def test_truncation_sweep_equals_one_truncated_pass_per_k(V, H, T):
    params, xs, ys, h0 = case(V, H, T, seed=6, scale=1.5)
    sw = truncation_sweep(params, xs, ys, h0)
    assert sw.ks.tolist() == list(range(T))
    full = rnnviz.loss_and_grads(params, xs, ys, h0).grads
    for k in range(T):
        trunc = rnnviz.loss_and_grads(params, xs, ys, h0, k).grads
        for name in ("W", "U", "b"):
            rel = np.linalg.norm(trunc[name] - full[name]) / np.linalg.norm(full[name])
            assert sw.rel_error[name][k] == pytest.approx(rel, rel=1e-7, abs=1e-13), (name, k)
            assert sw.norms[name][k] == pytest.approx(np.linalg.norm(trunc[name]), rel=1e-10)
        gap = truncation_gap(params, xs, ys, h0, k)
        assert sw.rel_error["all"][k] == pytest.approx(gap["all"].rel_error, rel=1e-7, abs=1e-13)
        assert sw.norms["all"][k] == pytest.approx(gap["all"].truncated_norm, rel=1e-10)
    assert sw.rel_error["all"][-1] == 0.0


# ----------------------------------------------------------------------------- reach
@pytest.mark.parametrize("V,H,T", SHAPES)
def test_reach_rows_equal_a_per_loss_term_backward_loop(V, H, T):
    params, xs, ys, h0 = case(V, H, T, seed=7, scale=1.3)
    R = rnnviz.gradient_reach(params, xs, ys, h0)
    G = per_term_dh(params, xs, ys, h0, None)
    np.testing.assert_allclose(R, np.linalg.norm(G, axis=2), rtol=1e-10, atol=1e-14)
    # and the loss terms' gradients reaching h_t add up to the explorer's ∂L/∂h_t
    tc = backward_trace(params, xs, ys, h0)
    np.testing.assert_allclose(G.sum(axis=0).T, tc.dh, rtol=1e-10, atol=1e-13)
    np.testing.assert_allclose(np.diag(R), np.linalg.norm(tc.dh_own, axis=0), rtol=1e-12)


# ----------------------------------------------------------------------------- gradient check budget
def test_gradient_check_plan_fits_the_budget():
    entries, est = gradient_check_plan(25, None, 100, 53)      # the default model: the most we take
    assert entries == 60 and est < 1.5
    entries, est = gradient_check_plan(200, 50, 512, 53)       # long truncated window, big model: the fewest
    assert entries == 2 and est > 5                            # … and the page can warn it will be slow
    entries, est = gradient_check_plan(200, None, 100, 53)
    assert 2 < entries < 60 and est <= 1.5
    assert gradient_check_plan(200, 199, 100, 53) == gradient_check_plan(200, None, 100, 53)   # k ≥ T − 1 is full
    assert gradient_check_plan(30, 3, 64, 2000)[1] > gradient_check_plan(30, 3, 64, 20)[1]      # V costs too
    # A gated cell's step costs about G vanilla steps: fewer entries fit, and the estimate says so.
    rnn, lstm = gradient_check_plan(200, None, 100, 53), gradient_check_plan(200, None, 100, 53, blocks=4)
    assert lstm[0] < rnn[0] and lstm[1] / lstm[0] > 3 * rnn[1] / rnn[0]
