"""Independent reference implementations (oracles) for the engine tests, and tests of the oracles.

Nothing here calls the engine's forward or backward code. The loops are deliberately plain,
one time step and one loss term at a time, written from the equations in DESIGN.md:

    a_t = U x_t + W h_{t-1} + b,   h_t = tanh(a_t),   o_t = V h_t + c,   p_t = softmax(o_t),
    L = sum_t -log p_t[y_t].

Other test modules import these helpers (``from test_engine_reference import ...``). The tests
at the bottom check the oracles themselves against finite differences, so that a wrong oracle
cannot make a wrong engine look right.
"""

from __future__ import annotations

import numpy as np
import pytest

from rnnviz.gradcheck import numerical_gradient, plain_loss, truncated_loss

NAMES = ("U", "W", "V", "b", "c")


# ----------------------------------------------------------------------------- helpers
def softmax(o: np.ndarray) -> np.ndarray:
    e = np.exp(o - np.max(o))
    return e / e.sum()


def onehot(y: int, n: int) -> np.ndarray:
    v = np.zeros(n)
    v[y] = 1.0
    return v


def random_params(V: int, H: int, seed: int, scale: float = 1.0) -> dict[str, np.ndarray]:
    """Random parameters with nonzero biases (so db and dc are tested too)."""
    rng = np.random.default_rng(seed)
    return {
        "U": rng.normal(0.0, scale, (H, V)),
        "W": rng.normal(0.0, scale / np.sqrt(H), (H, H)),
        "V": rng.normal(0.0, scale, (V, H)),
        "b": rng.normal(0.0, 0.5, H),
        "c": rng.normal(0.0, 0.5, V),
    }


def forward_states(params, xs, h0, inject=None) -> list[np.ndarray]:
    """[h_{-1}=h0, h_0, ..., h_{T-1}] (list index t+1 is h_t) by the plain recurrence.

    inject=(t, v) adds v to h_t right after it is computed: the derivative of any loss with
    respect to v at v = 0 is the total derivative dL/dh_t."""
    states = [np.asarray(h0, dtype=np.float64)]
    for t, x in enumerate(xs):
        h = np.tanh(params["U"][:, x] + params["W"] @ states[-1] + params["b"])
        if inject is not None and inject[0] == t:
            h = h + inject[1]
        states.append(h)
    return states


def token_losses(params, xs, ys, h0, inject=None) -> np.ndarray:
    """(T,) the L_t = -log softmax(V h_t + c)[y_t]."""
    states = forward_states(params, xs, h0, inject)
    out = []
    for t, y in enumerate(ys):
        o = params["V"] @ states[t + 1] + params["c"]
        m = o.max()
        out.append(m + np.log(np.exp(o - m).sum()) - o[y])
    return np.array(out)


def seed_bptt(params, xs, ys, h0, k):
    """A direct port of the word-level seed's ``bptt`` loop (with biases b, c added).

    k = None means back to step 0. Returns (loss, {name: gradient})."""
    U, W, Vm, b, c = (params[n] for n in NAMES)
    T, Vs = len(xs), Vm.shape[0]
    h = {-1: np.asarray(h0, dtype=np.float64)}
    p = {}
    loss = 0.0
    for t in range(T):
        h[t] = np.tanh(U[:, xs[t]] + W @ h[t - 1] + b)
        p[t] = softmax(Vm @ h[t] + c)
        loss -= np.log(p[t][ys[t]])
    dU, dW, dV, db, dc = (np.zeros_like(params[n]) for n in NAMES)
    for t in reversed(range(T)):
        delta_o = p[t] - onehot(ys[t], Vs)
        dV += np.outer(delta_o, h[t])
        dc += delta_o
        delta_t = Vm.T @ delta_o * (1 - h[t] ** 2)
        lo = 0 if k is None else max(0, t - k)
        for s in range(t, lo - 1, -1):
            dW += np.outer(delta_t, h[s - 1])
            dU[:, xs[s]] += delta_t
            db += delta_t
            delta_t = W.T @ delta_t * (1 - h[s - 1] ** 2)
    return loss, {"U": dU, "W": dW, "V": dV, "b": db, "c": dc}


def per_term_dh(params, xs, ys, h0, k=None) -> np.ndarray:
    """G (T, T, H) with G[t, s] = dL_t/dh_s for s in [t-k, t] (all s <= t if k is None), else 0.

    An explicit backward loop for each loss term separately (no sharing between terms)."""
    W, Vm = params["W"], params["V"]
    states = forward_states(params, xs, h0)
    T, H = len(xs), W.shape[0]
    G = np.zeros((T, T, H))
    for t in range(T):
        p = softmax(Vm @ states[t + 1] + params["c"])
        g = Vm.T @ (p - onehot(ys[t], Vm.shape[0]))  # dL_t/dh_t through o_t
        lo = 0 if k is None else max(0, t - k)
        for s in range(t, lo - 1, -1):
            G[t, s] = g
            g = W.T @ (g * (1 - states[s + 1] ** 2))  # dL_t/dh_{s-1}
    return G


def fd_dh(params, xs, ys, h0, t, term=None, eps=1e-6) -> np.ndarray:
    """dL/dh_t (or dL_term/dh_t) by central differences on a perturbation injected at h_t."""
    H = params["W"].shape[0]
    g = np.zeros(H)
    for i in range(H):
        e = np.zeros(H)
        e[i] = eps
        up = token_losses(params, xs, ys, h0, (t, e))
        down = token_losses(params, xs, ys, h0, (t, -e))
        if term is None:
            g[i] = (up.sum() - down.sum()) / (2 * eps)
        else:
            g[i] = (up[term] - down[term]) / (2 * eps)
    return g


def window(V: int, T: int, seed: int) -> tuple[list[int], list[int]]:
    """Inputs with a repeated token (so dU must accumulate) and targets, both in 0..V-1."""
    rng = np.random.default_rng(seed)
    xs = rng.integers(0, V, T).tolist()
    if T >= 2:
        xs[-1] = xs[0]  # at least one repeat
    ys = rng.integers(0, V, T).tolist()
    return xs, ys


# ----------------------------------------------------------------------------- oracle tests
@pytest.mark.parametrize("V,H,T,k", [(3, 2, 5, None), (3, 2, 5, 0), (4, 3, 6, 2), (2, 1, 4, 1)])
def test_seed_port_matches_finite_differences(V, H, T, k):
    """The seed port (the oracle) is itself right: its gradients match finite differences of
    the plain loss (full) or of the stop-gradient loss (truncated)."""
    params = random_params(V, H, seed=V * 10 + H)
    xs, ys = window(V, T, seed=T)
    h0 = np.random.default_rng(5).uniform(-0.8, 0.8, H)
    loss, grads = seed_bptt(params, xs, ys, h0, k)
    assert loss == pytest.approx(plain_loss(params, xs, ys, h0), rel=1e-12)
    num = numerical_gradient(params, xs, ys, h0, k)
    for name in NAMES:
        idx, values = num[name]
        a = grads[name].reshape(-1)[idx]
        assert np.linalg.norm(a - values) <= 1e-7 * (np.linalg.norm(a) + np.linalg.norm(values))


def test_truncated_loss_is_plain_loss_at_the_unperturbed_point():
    """The stop-gradient loss has the same value as the real loss (only its gradient differs)."""
    params = random_params(3, 2, seed=1)
    xs, ys = window(3, 6, seed=2)
    h0 = np.array([0.3, -0.2])
    frozen = forward_states(params, xs, h0)
    for k in range(6):
        assert truncated_loss(params, xs, ys, h0, k, frozen) == pytest.approx(plain_loss(params, xs, ys, h0), rel=1e-12)


def test_per_term_dh_matches_finite_differences():
    params = random_params(4, 3, seed=3)
    xs, ys = window(4, 5, seed=4)
    h0 = np.array([0.5, -0.1, 0.2])
    G = per_term_dh(params, xs, ys, h0)
    for t in range(5):
        for s in range(5):
            fd = fd_dh(params, xs, ys, h0, s, term=t)
            np.testing.assert_allclose(G[t, s], fd, rtol=1e-6, atol=1e-9)
    # Total gradient at h_s is the sum over loss terms.
    for s in range(5):
        np.testing.assert_allclose(G[:, s].sum(axis=0), fd_dh(params, xs, ys, h0, s), rtol=1e-6, atol=1e-9)
