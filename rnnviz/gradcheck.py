"""Finite-difference gradient check: the independent oracle for every gradient rnnviz shows.

For full BPTT the reference is the plain loss. Truncated BPTT is not the gradient of the window's
loss; it is the gradient of Σ_t L_t where the state h_{t−k−1} that L_t starts from is held fixed
(a stop-gradient). ``truncated_loss`` computes exactly that sum, so its finite differences check
the truncated gradient independently of the backward code.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from rnnviz.cells import get_cell
from rnnviz.params import param_names


def _forward_states(params, xs, s0, cell: str = "rnn") -> list[np.ndarray]:
    """[s_0, s_1, ..., s_T] by the cell's plain reference step (deliberately not its forward)."""
    step = get_cell(cell).reference_step
    states = [s0]
    for x in xs:
        states.append(step(params, x, states[-1]))
    return states


def _token_loss(params, h, y) -> float:
    o = params["V"] @ h + params["c"]
    m = o.max()
    return float(m + np.log(np.exp(o - m).sum()) - o[y])


def _start(params, h0, cell):
    the_cell = get_cell(cell)
    return the_cell, the_cell.check_state(h0, params["W"].shape[1])


def plain_loss(params, inputs, targets, h0=None, cell: str = "rnn") -> float:
    """L = Σ_t −log p_t[y_t] by a straightforward loop over the cell's reference step."""
    the_cell, s0 = _start(params, h0, cell)
    states = _forward_states(params, inputs, s0, cell)
    return sum(_token_loss(params, the_cell.hidden(states[t + 1]), y) for t, y in enumerate(targets))


def truncated_loss(params, inputs, targets, h0, truncate, frozen_states, cell: str = "rnn") -> float:
    """Σ_t L_t with L_t recomputed from the frozen state s_{t−k−1} (k = truncate).

    frozen_states: [s_0..s_T] from the unperturbed parameters: the states gradients may not cross.
    """
    the_cell = get_cell(cell)
    total = 0.0
    for t, y in enumerate(targets):
        start = max(0, t - truncate)  # L_t reaches steps start..t, so s_{start-1} is held fixed
        s = frozen_states[start]
        for j in range(start, t + 1):
            s = the_cell.reference_step(params, inputs[j], s)
        total += _token_loss(params, the_cell.hidden(s), y)
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
    cell: str = "rnn",
) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """Central differences (L(θ+ε) − L(θ−ε)) / 2ε for each parameter.

    Returns {name: (flat indices checked, numerical values)}. max_entries samples that many
    entries per parameter at random (all entries if None), so the app can check big models fast.
    """
    p = {k: np.array(v, dtype=np.float64, copy=True) for k, v in params.items()}
    xs = [int(x) for x in inputs]
    ys = [int(y) for y in targets]
    _, h0 = _start(p, h0, cell)
    if truncate is None or truncate >= len(xs) - 1:
        def f() -> float:
            return plain_loss(p, xs, ys, h0, cell)
    else:
        frozen = _forward_states(p, xs, h0, cell)

        def f() -> float:
            return truncated_loss(p, xs, ys, h0, int(truncate), frozen, cell)

    rng = np.random.default_rng(seed)
    out = {}
    for name in param_names(p):
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
    cell: str = "rnn",
) -> dict[str, float]:
    """Relative error per parameter between ``loss_and_grads`` and finite differences of the
    cell's independent reference (``reference_step`` and a plain head)."""
    from rnnviz.bptt import loss_and_grads

    analytic = loss_and_grads(params, inputs, targets, h0, truncate, cell=cell, diagnostics=False).grads
    numeric = numerical_gradient(
        params, inputs, targets, h0, truncate, eps=eps, max_entries=max_entries, seed=seed, cell=cell
    )
    return {name: relative_error(analytic[name].reshape(-1)[idx], num) for name, (idx, num) in numeric.items()}


GOOD, BAD = 1e-7, 1e-3   # relative error: below GOOD the gradient is right, above BAD it is wrong


def verdict(errors: dict[str, float]) -> str:
    """What a gradient check's relative errors {parameter: error} say, in words (worst one decides)."""
    worst = max(errors.values(), default=0.0)
    if not worst < BAD:          # NaN counts as wrong
        return "some above 1e-3: a gradient is wrong"
    if worst < GOOD:
        return "all below 1e-7: the backward pass is right"
    return "between 1e-7 and 1e-3: probably right, limited by the finite-difference step"
