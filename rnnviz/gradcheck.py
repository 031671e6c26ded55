"""Finite-difference gradient check: the independent oracle for every gradient rnnviz shows.

For full BPTT the reference is the plain loss. Truncated BPTT is not the gradient of the window's
loss; it is the gradient of Σ_t L_t where the state h_{t−k−1} that L_t starts from is held fixed
(a stop-gradient). ``truncated_loss`` computes exactly that sum, so its finite differences check
the truncated gradient independently of the backward code.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from rnnviz.params import PARAM_NAMES


def _forward_states(params, xs, h0) -> list[np.ndarray]:
    """[h_0, h_1, ..., h_T] by the plain recurrence (deliberately not the cell's code)."""
    states = [h0]
    for x in xs:
        states.append(np.tanh(params["U"][:, x] + params["W"] @ states[-1] + params["b"]))
    return states


def _token_loss(params, h, y) -> float:
    o = params["V"] @ h + params["c"]
    m = o.max()
    return float(m + np.log(np.exp(o - m).sum()) - o[y])


def plain_loss(params, inputs, targets, h0=None) -> float:
    """L = Σ_t −log p_t[y_t] by a straightforward loop."""
    H = params["W"].shape[0]
    h0 = np.zeros(H) if h0 is None else np.asarray(h0, dtype=np.float64)
    states = _forward_states(params, inputs, h0)
    return sum(_token_loss(params, states[t + 1], y) for t, y in enumerate(targets))


def truncated_loss(params, inputs, targets, h0, truncate, frozen_states) -> float:
    """Σ_t L_t with L_t recomputed from the frozen state h_{t−k−1} (k = truncate).

    frozen_states: [h_0..h_T] from the unperturbed parameters: the states gradients may not cross.
    """
    total = 0.0
    for t, y in enumerate(targets):
        start = max(0, t - truncate)  # L_t reaches steps start..t, so h_{start-1} is held fixed
        h = frozen_states[start]
        for s in range(start, t + 1):
            h = np.tanh(params["U"][:, inputs[s]] + params["W"] @ h + params["b"])
        total += _token_loss(params, h, y)
    return total


def numerical_gradient(
    params: Mapping[str, np.ndarray],
    inputs,
    targets,
    h0=None,
    truncate: int | None = None,
    *,
    eps: float = 1e-5,
    max_entries: int | None = None,
    seed: int = 0,
) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """Central differences (L(θ+ε) − L(θ−ε)) / 2ε for each parameter.

    Returns {name: (flat indices checked, numerical values)}. max_entries samples that many
    entries per parameter at random (all entries if None), so the app can check big models fast.
    """
    p = {k: np.array(v, dtype=np.float64, copy=True) for k, v in params.items()}
    xs = [int(x) for x in inputs]
    ys = [int(y) for y in targets]
    H = p["W"].shape[0]
    h0 = np.zeros(H) if h0 is None else np.asarray(h0, dtype=np.float64)
    if truncate is None or truncate >= len(xs) - 1:
        def f() -> float:
            return plain_loss(p, xs, ys, h0)
    else:
        frozen = _forward_states(p, xs, h0)

        def f() -> float:
            return truncated_loss(p, xs, ys, h0, int(truncate), frozen)

    rng = np.random.default_rng(seed)
    out = {}
    for name in PARAM_NAMES:
        flat = p[name].reshape(-1)  # a view: writing into it perturbs p[name]
        n = flat.size
        idx = np.arange(n) if max_entries is None or max_entries >= n else rng.choice(n, max_entries, replace=False)
        num = np.empty(idx.size)
        for i, j in enumerate(idx):
            old = flat[j]
            flat[j] = old + eps
            up = f()
            flat[j] = old - eps
            down = f()
            flat[j] = old
            num[i] = (up - down) / (2 * eps)
        out[name] = (idx, num)
    return out


def relative_error(analytic: np.ndarray, numerical: np.ndarray) -> float:
    """‖a − n‖ / (‖a‖ + ‖n‖) over the checked entries: a scale-free reading of the mismatch.

    Norms rather than a per-entry maximum, because entries near zero make per-entry ratios
    meaningless. Rule of thumb: below 1e-7 the gradient is right; above 1e-3 it is wrong.
    """
    a = np.asarray(analytic, dtype=np.float64).reshape(-1)
    n = np.asarray(numerical, dtype=np.float64).reshape(-1)
    denom = np.linalg.norm(a) + np.linalg.norm(n)
    return 0.0 if denom < 1e-300 else float(np.linalg.norm(a - n) / denom)


def gradient_check(
    params: Mapping[str, np.ndarray],
    inputs,
    targets,
    h0=None,
    truncate: int | None = None,
    *,
    eps: float = 1e-5,
    max_entries: int | None = 30,
    seed: int = 0,
) -> dict[str, float]:
    """Relative error per parameter between ``loss_and_grads`` and finite differences."""
    from rnnviz.bptt import loss_and_grads

    analytic = loss_and_grads(params, inputs, targets, h0, truncate, diagnostics=False).grads
    numeric = numerical_gradient(
        params, inputs, targets, h0, truncate, eps=eps, max_entries=max_entries, seed=seed
    )
    return {name: relative_error(analytic[name].reshape(-1)[idx], num) for name, (idx, num) in numeric.items()}
