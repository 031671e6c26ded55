"""rnnviz.explain_cells: the step-by-step backward pass of every cell agrees with the vectorised
driver (rnnviz.bptt, itself finite-difference checked) and, for the vanilla RNN, with rnnviz.explain."""

from __future__ import annotations

import numpy as np
import pytest

from rnnviz.bptt import loss_and_grads
from rnnviz.cells import get_cell
from rnnviz.explain import backward_trace
from rnnviz.explain_cells import cell_trace
from rnnviz.params import init_params
from rnnviz.terms import TERM_NAMES


def _window(name, T=9, H=4, V=5, seed=1):
    p = init_params(V, H, cell=name, seed=seed)
    rng = np.random.default_rng(seed)
    s0 = rng.normal(scale=0.3, size=get_cell(name).state_shape(H))
    return p, rng.integers(0, V, T), rng.integers(0, V, T), s0


@pytest.mark.parametrize("k", [None, 0, 1, 3])
@pytest.mark.parametrize("name", ["rnn", "lstm", "gru", "mingru"])
def test_trace_matches_the_vectorised_backward_pass(name, k):
    p, xs, ys, s0 = _window(name)
    tc = cell_trace(p, xs, ys, s0, k, cell=name)
    res = loss_and_grads(p, xs, ys, s0, k, cell=name)
    for part in tc.state_parts:
        np.testing.assert_allclose(tc.norms()[f"d{part}"], res.state_grad_norms[part], rtol=1e-10, atol=1e-13)
    for name_ in TERM_NAMES:
        np.testing.assert_allclose(tc.running(name_, 0), res.grads[name_], rtol=1e-10, atol=1e-13)
        assert tc.running_norms(0)[name_] == pytest.approx(np.linalg.norm(res.grads[name_]), rel=1e-9, abs=1e-12)
    # own + future is what the step received; the total adds only what the cell routes inside a step
    np.testing.assert_allclose(tc.part(tc.total, "h"), tc.part(tc.own + tc.future, "h"), rtol=1e-12, atol=1e-14)
    assert set(tc.block_norms(0)) == set(get_cell(name).block_names)


@pytest.mark.parametrize("k", [None, 0, 2])
def test_vanilla_trace_equals_the_written_out_one(k):
    p, xs, ys, s0 = _window("rnn")
    a, b = cell_trace(p, xs, ys, s0, k), backward_trace(p, xs, ys, s0, k)
    np.testing.assert_allclose(a.part(a.future, "h").T, b.dh_future, rtol=1e-10, atol=1e-13)
    np.testing.assert_allclose(a.part(a.cut, "h").T, b.cut, rtol=1e-10, atol=1e-13)
    np.testing.assert_allclose(a.dA_x.T, b.delta, rtol=1e-10, atol=1e-13)
    for t in range(xs.size):
        assert a.term_norms(t) == pytest.approx(b.term_norms(t), rel=1e-9, abs=1e-13)


def test_truncation_cuts_only_under_truncation_and_rejects_bad_input():
    p, xs, ys, s0 = _window("lstm")
    assert not cell_trace(p, xs, ys, s0, None, cell="lstm").cut.any()
    assert cell_trace(p, xs, ys, s0, 1, cell="lstm").cut.any()
    with pytest.raises(ValueError):
        cell_trace(p, xs, ys[:-1], s0, cell="lstm")
    with pytest.raises(ValueError):
        cell_trace(p, xs, ys, s0, -1, cell="lstm")


def test_gradient_check_verdict_reads_the_worst_error():
    from rnnviz.gradcheck import verdict

    assert verdict({"W": 1e-9, "U": 2e-8}).startswith("all below 1e-7")
    assert verdict({"W": 1e-9, "U": 1e-5}).startswith("between")
    assert verdict({"W": 1e-9, "U": 0.5}).startswith("some above")
    assert verdict({"W": float("nan")}).startswith("some above")
