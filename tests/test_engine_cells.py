"""Every cell (vanilla RNN, LSTM, GRU) against independent references: finite differences of the
cells' plain reference steps (full and truncated BPTT), the reach per loss term, the local
Jacobians and gate means, and the two facts the lecture ends on: the LSTM's cell path carries
∂L/∂c unchanged when f = 1, i = 0, and a GRU with z = 1 copies h."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import rnnviz
from rnnviz.cells import CELLS, get_cell
from rnnviz.cells.base import Cell, sigmoid
from rnnviz.gradcheck import gradient_check

CELL_NAMES = ("rnn", "lstm", "gru", "mingru")
SHAPES = [(2, 1, 1), (2, 1, 4), (3, 2, 1), (4, 3, 6)]   # (V, H, T): H = 1, T = 1, V = 2 included


def make_case(cell, V, H, T, seed=0, scale=0.5):
    """Initialised parameters with noise (biases away from their init), a window and a state."""
    rng = np.random.default_rng(seed)
    p = rnnviz.init_params(V, H, cell=cell, seed=seed)
    p = {k: v + scale * rng.standard_normal(v.shape) for k, v in p.items()}
    xs, ys = rng.integers(0, V, T), rng.integers(0, V, T)
    s0 = rng.uniform(-0.8, 0.8, get_cell(cell).state_shape(H))
    return p, xs, ys, s0


def run_states(cell, p, xs, s0, start=0, stop=None):
    """Reference states [s_start, …] by the cell's plain step from s0 = s_start."""
    c = get_cell(cell)
    out = [np.asarray(s0, dtype=float)]
    for x in xs[start:stop]:
        out.append(np.asarray(c.reference_step(p, x, out[-1])))
    return out


def term_loss(p, h, y):
    o = p["V"] @ h + p["c"]
    m = o.max()
    return float(m + np.log(np.exp(o - m).sum()) - o[y])


# ----------------------------------------------------------------------------- gradients
@pytest.mark.parametrize("cell", CELL_NAMES)
@pytest.mark.parametrize("V,H,T", SHAPES)
@pytest.mark.parametrize("k", [None, 0, 1, 4])
def test_gradients_match_finite_differences(cell, V, H, T, k):
    p, xs, ys, s0 = make_case(cell, V, H, T, seed=V + 3 * H + 7 * T)
    errors = gradient_check(p, xs, ys, s0, k, cell=cell, max_entries=None)
    assert max(errors.values()) < 1e-6, errors


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(cell=st.sampled_from(CELL_NAMES), V=st.integers(2, 5), H=st.integers(1, 3), T=st.integers(1, 7),
       k=st.one_of(st.none(), st.integers(0, 6)), seed=st.integers(0, 10_000), scale=st.floats(0.1, 2.0))
def test_gradients_match_finite_differences_on_random_cases(cell, V, H, T, k, seed, scale):
    p, xs, ys, s0 = make_case(cell, V, H, T, seed=seed, scale=scale)
    errors = gradient_check(p, xs, ys, s0, k, cell=cell, max_entries=12, seed=seed)
    assert max(errors.values()) < 1e-5, errors


@pytest.mark.parametrize("cell", CELL_NAMES)
def test_loss_and_carried_state_match_the_reference(cell):
    p, xs, ys, s0 = make_case(cell, 5, 3, 6)
    res = rnnviz.loss_and_grads(p, xs, ys, s0, cell=cell)
    states = run_states(cell, p, xs, s0)
    c = get_cell(cell)
    ref = sum(term_loss(p, c.hidden(states[t + 1]), y) for t, y in enumerate(ys))
    assert res.loss == pytest.approx(ref, rel=1e-12)
    assert res.h_last.shape == c.state_shape(3)
    np.testing.assert_allclose(res.h_last, states[-1], rtol=1e-12, atol=1e-14)
    assert set(res.grads) == {"U", "W", "V", "b", "c"}
    for k, g in res.grads.items():
        assert g.shape == p[k].shape


# ----------------------------------------------------------------------------- an LSTM step with a hook
def lstm_step(p, x, h, c, dc=None):
    """The LSTM equations once more, with an optional perturbation added to c_t before h_t."""
    H = h.size
    a = p["U"][:, x] + p["W"] @ h + p["b"]
    i, f, g, o = sigmoid(a[:H]), sigmoid(a[H:2 * H]), np.tanh(a[2 * H:3 * H]), sigmoid(a[3 * H:])
    c = f * c + i * g + (0 if dc is None else dc)
    return o * np.tanh(c), c, (i, f, o)


def perturbed_losses(cell, p, xs, ys, s0, t, part, vec, upto=None):
    """Σ_s L_s (or L_upto alone) with vec added to state part `part` at node t (the LSTM's c before h_t)."""
    c = get_cell(cell)
    H = p["V"].shape[1]
    s = np.asarray(s0, dtype=float)
    total = 0.0
    for j, x in enumerate(xs):
        if cell == "lstm":
            h, cc, _ = lstm_step(p, x, s[0], s[1], vec if (j == t and part == "c") else None)
            if j == t and part == "h":
                h = h + vec
            s = np.stack([h, cc])
        else:
            s = np.asarray(c.reference_step(p, x, s)) + (vec if j == t else 0)
        if upto is None or j == upto:
            total += term_loss(p, c.hidden(s).reshape(H), ys[j])
    return total


def fd_grad(f, H, eps=1e-6):
    g = np.zeros(H)
    for i in range(H):
        e = np.zeros(H)
        e[i] = eps
        g[i] = (f(e) - f(-e)) / (2 * eps)
    return g


@pytest.mark.parametrize("cell", CELL_NAMES)
def test_state_gradient_norms_are_the_total_gradients_at_each_node(cell):
    V, H, T = 4, 3, 5
    p, xs, ys, s0 = make_case(cell, V, H, T, seed=11)
    res = rnnviz.loss_and_grads(p, xs, ys, s0, cell=cell)
    for part in get_cell(cell).state_parts:
        got = res.state_grad_norms[part]
        for t in range(T):
            g = fd_grad(lambda e, t=t, part=part: perturbed_losses(cell, p, xs, ys, s0, t, part, e), H)
            assert got[t] == pytest.approx(np.linalg.norm(g), rel=1e-6, abs=1e-9)
    assert np.array_equal(res.dh_norms, res.state_grad_norms["h"])
    assert res.dc_norms.shape == ((T,) if cell == "lstm" else (0,))


@pytest.mark.parametrize("cell", CELL_NAMES)
def test_reach_equals_each_loss_terms_own_gradient(cell):
    V, H, T = 4, 2, 5
    p, xs, ys, s0 = make_case(cell, V, H, T, seed=5)
    assert set(rnnviz.gradient_reaches(p, xs, ys, s0, cell=cell)) == set(get_cell(cell).state_parts)
    for part in get_cell(cell).state_parts:
        R = rnnviz.gradient_reach(p, xs, ys, s0, cell=cell, wrt=part)   # one part of gradient_reaches
        assert R.shape == (T, T)
        assert np.all(np.triu(R, 1) == 0)
        for t in range(T):
            for k in range(t + 1):
                g = fd_grad(lambda e, k=k, t=t, part=part: perturbed_losses(cell, p, xs, ys, s0, k, part, e, upto=t), H)
                assert R[t, k] == pytest.approx(np.linalg.norm(g), rel=1e-6, abs=1e-9), (part, t, k)


@pytest.mark.parametrize("cell", CELL_NAMES)
@pytest.mark.parametrize("k", [0, 1, 3])
def test_truncated_dh_is_the_sum_over_the_loss_terms_allowed_to_reach(cell, k):
    """dh_t under truncation k = Σ_{s ∈ [t, t+k]} ∂L_s/∂h_t, each term from the reach."""
    p, xs, ys, s0 = make_case(cell, 4, 3, 7, seed=2)
    res = rnnviz.loss_and_grads(p, xs, ys, s0, k, cell=cell)
    assert res.dh_norms.shape == (7,)
    full = rnnviz.loss_and_grads(p, xs, ys, s0, None, cell=cell)
    far = rnnviz.loss_and_grads(p, xs, ys, s0, 6, cell=cell)   # k ≥ T − 1 is full BPTT
    np.testing.assert_array_equal(far.dh_norms, full.dh_norms)
    # k = 0: each L_t reaches only h_t, so dh_t is its own output's gradient.
    if k == 0:
        R = rnnviz.gradient_reach(p, xs, ys, s0, cell=cell)
        np.testing.assert_allclose(res.dh_norms, np.diag(R), rtol=1e-12)


# ----------------------------------------------------------------------------- diagnostics
@pytest.mark.parametrize("cell", CELL_NAMES)
def test_jacobian_norms_match_finite_difference_jacobians(cell):
    V, H, T = 4, 3, 5
    p, xs, ys, s0 = make_case(cell, V, H, T, seed=3, scale=1.0)
    c = get_cell(cell)
    res = rnnviz.loss_and_grads(p, xs, ys, s0, cell=cell)
    states = run_states(cell, p, xs, s0)
    S = c.state_size(H)
    for t in range(T):
        J = np.zeros((S, S))
        for j in range(S):
            e = np.zeros(S)
            e[j] = 1e-6
            up = np.asarray(c.reference_step(p, xs[t], (states[t].ravel() + e).reshape(c.state_shape(H)))).ravel()
            dn = np.asarray(c.reference_step(p, xs[t], (states[t].ravel() - e).reshape(c.state_shape(H)))).ravel()
            J[:, j] = (up - dn) / 2e-6
        assert res.jacobian_norms[t] == pytest.approx(np.linalg.norm(J), rel=1e-6)
    assert res.saturation.shape == (T,) and np.all((res.saturation >= 0) & (res.saturation <= 1))


def test_gate_means_are_the_reference_gates():
    p, xs, ys, s0 = make_case("lstm", 4, 3, 5, seed=4)
    res = rnnviz.loss_and_grads(p, xs, ys, s0, cell="lstm")
    h, c = s0
    for t, x in enumerate(xs):
        h, c, (i, f, o) = lstm_step(p, x, h, c)
        for name, g in (("i", i), ("f", f), ("o", o)):
            assert res.gate_means[name][t] == pytest.approx(g.mean(), rel=1e-12)
    p, xs, ys, s0 = make_case("gru", 4, 3, 5, seed=4)
    res = rnnviz.loss_and_grads(p, xs, ys, s0, cell="gru")
    h = s0
    for t, x in enumerate(xs):
        a = p["U"][:, x] + p["b"] + p["W"] @ h
        assert res.gate_means["r"][t] == pytest.approx(sigmoid(a[:3]).mean(), rel=1e-12)
        assert res.gate_means["z"][t] == pytest.approx(sigmoid(a[3:6]).mean(), rel=1e-12)
        h = get_cell("gru").reference_step(p, x, h)
    assert rnnviz.loss_and_grads(*make_case("rnn", 4, 3, 5)[:3], cell="rnn").gate_means == {}


@pytest.mark.parametrize("cell", CELL_NAMES)
def test_spectrum_is_of_the_matrix_the_cell_names(cell):
    p, xs, ys, s0 = make_case(cell, 4, 3, 5)
    c = get_cell(cell)
    spec = c.spectrum(p, xs, s0)
    if c.spectrum_of == "W":
        M = p["W"]
    else:   # J̄: the mean local Jacobian over the window
        M = c.jacobians(p, c.forward(p, xs, s0)).mean(axis=0)
    assert spec.rho == pytest.approx(np.abs(np.linalg.eigvals(M)).max(), rel=1e-10)
    assert spec.sigma_max == pytest.approx(np.linalg.norm(M, 2), rel=1e-10)


@pytest.mark.parametrize("cell", CELL_NAMES)
def test_closed_form_mean_jacobian_is_the_mean_of_the_generic_jacobians(cell):
    p, xs, ys, s0 = make_case(cell, 4, 3, 6, seed=8, scale=1.0)
    c = get_cell(cell)
    cache = c.forward(p, xs, s0)
    generic = Cell.jacobians(c, p, cache)             # back_step applied to the identity
    np.testing.assert_allclose(c.jacobians(p, cache), generic, rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(c.mean_jacobian(p, cache), generic.mean(axis=0), rtol=1e-12, atol=1e-14)


# ----------------------------------------------------------------------------- the highway and the copy
def test_lstm_with_forget_gate_1_and_input_gate_0_carries_dc_unchanged():
    """f = σ(40) ≈ 1 and i = σ(−40) ≈ 0 (through the biases): ∂c_t/∂c_{t−1} = I and c_t no longer
    depends on h_{t−1}, so a gradient that arrives at c_T goes back through every step unchanged."""
    V, H, T = 5, 4, 30
    p, xs, ys, s0 = make_case("lstm", V, H, T, seed=9)
    p["b"][:H], p["b"][H:2 * H] = -40.0, 40.0
    c = get_cell("lstm")
    cache = c.forward(p, xs, s0)
    v = np.random.default_rng(0).standard_normal(H)
    dS = np.concatenate([np.zeros(H), v])
    ax = np.empty(4 * H)
    for t in range(T - 1, -1, -1):
        dS = c.back_step(p, cache, t, dS.copy(), ax, ax)
    np.testing.assert_allclose(dS[H:], v, rtol=1e-12)
    assert np.abs(dS[:H]).max() < 1e-12 * np.abs(v).max()
    # and the model state: c stays c_0 along the window
    np.testing.assert_allclose(cache.cs[:, -1], s0[1], rtol=1e-12)


def test_vanilla_rnn_loses_the_same_gradient():
    """The contrast: the vanilla cell's reach shrinks over the same distance (tanh' ≤ 1, small W)."""
    p, xs, ys, s0 = make_case("rnn", 5, 4, 30, seed=9, scale=0.0)
    R = rnnviz.gradient_reach(p, xs, ys, s0, cell="rnn")
    assert R[-1, 0] < 1e-3 * R[-1, -1]


def test_gru_with_update_gate_1_copies_h():
    V, H, T = 5, 3, 12
    p, xs, ys, s0 = make_case("gru", V, H, T, seed=1)
    p["b"][H:2 * H] = 40.0   # z = σ(40) ≈ 1
    c = get_cell("gru")
    cache = c.forward(p, xs, s0)
    np.testing.assert_allclose(cache.hs, np.repeat(s0[:, None], T, axis=1), rtol=1e-12, atol=1e-15)
    v = np.random.default_rng(1).standard_normal(H)
    d = v.copy()
    ax, ah = np.empty(3 * H), np.empty(3 * H)
    for t in range(T - 1, -1, -1):
        d = c.back_step(p, cache, t, d.copy(), ax, ah)
    np.testing.assert_allclose(d, v, rtol=1e-12)


def test_mingru_with_update_gate_0_carries_h_and_its_gradient_unchanged():
    """The minGRU's highway with nothing in the way: z = 0 keeps h_{t−1} and sends the gradient back
    untouched (∂h_t/∂h_{t−1} = diag(1 − z_t) = I); z = 1 overwrites h and stops it."""
    V, H, T = 5, 3, 12
    p, xs, ys, s0 = make_case("mingru", V, H, T, seed=4)
    c = get_cell("mingru")
    assert p["W"].shape == (0, H) and rnnviz.params.param_names(p) == ("U", "V", "b", "c")
    v = np.random.default_rng(4).standard_normal(H)
    for bias, kept in ((-40.0, True), (40.0, False)):
        q = {k: a.copy() for k, a in p.items()}
        q["b"][:H] = bias                      # z = σ(∓40): shut (keep) or open (overwrite)
        cache = c.forward(q, xs, s0)
        d = v.copy()
        ax, ah = c.preact_buffers(q, 1)
        for t in range(T - 1, -1, -1):
            d = c.back_step(q, cache, t, d.copy(), ax[0], ah[0])
        if kept:
            np.testing.assert_allclose(cache.hs, np.repeat(s0[:, None], T, axis=1), rtol=1e-12, atol=1e-15)
            np.testing.assert_allclose(d, v, rtol=1e-12)
        else:
            np.testing.assert_allclose(cache.hs[:, -1], q["U"][H:, xs[-1]] + q["b"][H:], rtol=1e-12)
            assert np.abs(d).max() < 1e-15 * np.abs(v).max()


def test_mingru_jacobian_is_diag_one_minus_z():
    p, xs, ys, s0 = make_case("mingru", 6, 4, 9, seed=2)
    c = get_cell("mingru")
    cache = c.forward(p, xs, s0)
    z = sigmoid(p["U"][:4, xs].T + p["b"][:4])          # (T, H) the update gate, from the equations
    J = c.jacobians(p, cache)
    for t in range(9):
        np.testing.assert_allclose(J[t], np.diag(1 - z[t]), rtol=1e-12, atol=1e-15)
    spec = c.spectrum(p, xs, s0)                         # J̄ = diag(mean 1 − z): real, inside the unit circle
    np.testing.assert_allclose(np.sort(spec.eigenvalues.real), np.sort((1 - z).mean(axis=0)), rtol=1e-12)
    assert np.all(spec.eigenvalues.imag == 0) and spec.rho < 1


# ----------------------------------------------------------------------------- initialisation
def test_init_shapes_gate_order_and_determinism():
    for cell, G in (("rnn", 1), ("lstm", 4), ("gru", 3)):   # (the minGRU has no W: tested above)
        p = rnnviz.init_params(7, 5, cell=cell, seed=3)
        assert {k: v.shape for k, v in p.items()} == {"U": (G * 5, 7), "W": (G * 5, 5), "V": (7, 5),
                                                      "b": (G * 5,), "c": (7,)}
        q = rnnviz.init_params(7, 5, cell=cell, seed=3)
        assert all(p[k].tobytes() == q[k].tobytes() for k in p)
        o = rnnviz.init_params(7, 5, cell=cell, seed=3, init="orthogonal")
        for b in range(G):
            Wb = o["W"][b * 5:(b + 1) * 5]
            np.testing.assert_allclose(Wb @ Wb.T, np.eye(5), atol=1e-12)
    b = rnnviz.init_params(7, 5, cell="lstm")["b"]
    assert np.all(b[5:10] == 1.0) and np.all(b[:5] == 0) and np.all(b[10:] == 0)   # forget gate open
    b3 = rnnviz.init_params(7, 5, cell="lstm", forget_bias=3.0)["b"]               # the race's b_f
    assert np.all(b3[5:10] == 3.0) and np.all(b3[:5] == 0) and np.all(b3[10:] == 0)
    for cell in ("rnn", "gru", "mingru"):   # no forget gate: nothing changes
        a, z = rnnviz.init_params(7, 5, cell=cell, seed=3), rnnviz.init_params(7, 5, cell=cell, seed=3, forget_bias=3.0)
        assert all(a[k].tobytes() == z[k].tobytes() for k in a)


@pytest.mark.parametrize("cell", ["lstm", "gru", "mingru"])
def test_spectral_radius_is_refused_for_gated_cells(cell):
    with pytest.raises(ValueError, match="vanilla"):
        rnnviz.init_params(7, 5, cell=cell, spectral_radius=0.9)
    with pytest.raises(ValueError, match="vanilla"):
        rnnviz.TrainConfig(cell=cell, spectral_radius=0.9).validate()


def test_cells_describe_themselves_for_the_pages():
    for name in CELL_NAMES:
        c = get_cell(name)
        assert c.title and c.equations and all(isinstance(e, str) for e in c.equations)
        assert c.state_parts[0] == "h"
    assert get_cell("lstm").gate_names == ("i", "f", "o") and get_cell("gru").gate_names == ("r", "z")
    assert any("o'_t" in e for e in get_cell("lstm").equations)
    assert get_cell("mingru").gate_names == ("z",)
    assert [get_cell(n).title for n in CELL_NAMES] == ["Vanilla RNN", "LSTM", "GRU", "minGRU"]
    assert set(CELL_NAMES) <= set(CELLS)


def test_nothing_outside_the_cells_package_branches_on_a_cell_name():
    """The boundary: code outside rnnviz/cells asks the cell, it never tests which cell it is."""
    import re
    from pathlib import Path

    root = Path(__file__).resolve().parent.parent
    names = "rnn|lstm|gru|mingru"
    pattern = re.compile(rf"""["']({names})["']\s*(==|!=|in\b)|(==|!=)\s*["']({names})["']|["'](lstm|gru|mingru)["']""")
    files = [*root.glob("rnnviz/**/*.py"), *root.glob("pages/*.py"), root / "app.py"]
    offenders = [f"{f.relative_to(root)}:{i}" for f in files if "cells" not in f.parts
                 for i, line in enumerate(f.read_text(encoding="utf-8").splitlines(), 1) if pattern.search(line)]
    assert offenders == []
