"""The local Jacobian's singular values (rnnviz.local_jacobian) against finite differences of each
cell's independent reference step, and the vectorised Cell.jacobians against one step at a time."""

from __future__ import annotations

import numpy as np
import pytest

from rnnviz.cells import get_cell
from rnnviz.local_jacobian import local_jacobian
from rnnviz.params import init_params


def _fd_jacobian(cell, p, x, s, eps=1e-6):
    s = np.asarray(s, dtype=float)
    flat = s.reshape(-1)
    J = np.empty((flat.size, flat.size))
    for j in range(flat.size):
        e = np.zeros_like(flat)
        e[j] = eps
        up = cell.reference_step(p, x, (flat + e).reshape(s.shape)).reshape(-1)
        dn = cell.reference_step(p, x, (flat - e).reshape(s.shape)).reshape(-1)
        J[:, j] = (up - dn) / (2 * eps)
    return J


@pytest.mark.parametrize("name", ["rnn", "lstm", "gru", "mingru"])
def test_singular_values_match_finite_differences(name):
    cell = get_cell(name)
    H, V, T = 5, 6, 7
    p = init_params(V, H, cell=name, seed=4)
    rng = np.random.default_rng(1)
    xs = rng.integers(0, V, T)
    s0 = rng.normal(scale=0.5, size=cell.state_shape(H))
    lj = local_jacobian(p, xs, s0, cell=name)
    assert lj.sv.shape == (T, cell.state_size(H)) and lj.state_parts == cell.state_parts
    s = s0
    for t in range(T):
        J = _fd_jacobian(cell, p, int(xs[t]), s)
        np.testing.assert_allclose(lj.sv[t], np.linalg.svd(J, compute_uv=False), rtol=1e-5, atol=1e-8)
        s = cell.reference_step(p, int(xs[t]), s)
    assert np.all(np.diff(lj.sv, axis=1) <= 1e-12)    # largest first
    assert lj.product_bound == pytest.approx(float(np.prod(lj.sigma_max)))


@pytest.mark.parametrize("name", ["lstm", "gru"])
def test_vectorised_jacobians_equal_one_step_at_a_time(name, monkeypatch):
    import rnnviz.cells.base as base

    cell = get_cell(name)
    p = init_params(5, 4, cell=name, seed=2)
    xs = np.random.default_rng(0).integers(0, 5, 9)
    cache = cell.forward(p, xs, cell.zero_state(4))
    together = cell.jacobians(p, cache)
    monkeypatch.setattr(base, "JACOBIAN_ROWS", 1)           # one time step per back_step call
    np.testing.assert_array_equal(cell.jacobians(p, cache), together)


@pytest.mark.parametrize("name", ["rnn", "lstm", "gru", "mingru"])
def test_window_saturation_is_the_cells_own_measure(name):
    from rnnviz.bptt import loss_and_grads
    from rnnviz.local_jacobian import window_saturation

    p = init_params(5, 6, cell=name, seed=3)
    for k in p:
        p[k] = p[k] * 8.0                       # big weights: many saturated units
    xs = np.random.default_rng(0).integers(0, 5, 12)
    sat = window_saturation(p, xs, cell=name)
    assert sat == pytest.approx(float(loss_and_grads(p, xs, xs, cell=name).saturation.mean()))
    assert 0 < sat <= 1
    if name == "rnn":
        h = get_cell(name).forward(p, xs, np.zeros(6)).hs
        assert sat == pytest.approx(float(np.mean(np.abs(h) > 0.95)))
