"""How far truncated BPTT is from the full gradient, on one window.

Truncation with length k drops, from every loss term L_s, the gradient it would send to steps
more than k back. Only dW, dU and db change: dV and dc depend on the forward pass alone.

``truncation_gap`` compares one k with full BPTT. ``truncation_sweep`` does every k = 0..T−1 at
once: grouping the per-term contributions by their distance d = s − t, the truncated gradient is
the sum over d ≤ k, so one pass over d (one H×H by H×(T−d) product each) gives all T gradients,
instead of T separate truncated backward passes (O(T²H²) instead of O(T³H²)).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from rnnviz.bptt import loss_and_grads
from rnnviz.cells import get_cell
from rnnviz.head import head_forward_backward
from rnnviz.params import param_names

SWEPT = ("W", "U", "b")   # the parameters whose gradient truncation changes (those the model has: param_names())


@dataclass
class Gap:
    """One parameter's gradient, full vs truncated: norms, ‖g_k − g‖ and ‖g_k − g‖ / ‖g‖."""

    full_norm: float
    truncated_norm: float
    diff_norm: float
    rel_error: float


def _rel(diff: float, ref: float) -> float:
    return 0.0 if diff == 0 else (diff / ref if ref > 0 else float("inf"))


def truncation_gap(params, inputs, targets, h0=None, truncate: int | None = None, *,
                   cell: str = "rnn") -> dict[str, Gap]:
    """{name: Gap} for U, W, V, b, c (those with entries: rnnviz.params.param_names) and "all" (every
    parameter as one vector), truncation k vs full."""
    full = loss_and_grads(params, inputs, targets, h0, None, cell=cell, diagnostics=False).grads
    trunc = loss_and_grads(params, inputs, targets, h0, truncate, cell=cell, diagnostics=False).grads
    out, sq = {}, np.zeros(3)
    for name in param_names(params):
        g, gk = full[name], trunc[name]
        n = np.array([np.vdot(g, g), np.vdot(gk, gk), np.vdot(gk - g, gk - g)])
        sq += n
        f, t, d = np.sqrt(n)
        out[name] = Gap(float(f), float(t), float(d), _rel(float(d), float(f)))
    f, t, d = np.sqrt(sq)
    out["all"] = Gap(float(f), float(t), float(d), _rel(float(d), float(f)))
    return out


@dataclass
class Sweep:
    """ks: (T,) 0..T−1 (k = T−1 is full BPTT).  rel_error: {"W", "U", "b" (those the model has), "all": (T,)} with
    ‖g_k − g‖ / ‖g‖ ("all": every parameter as one vector).  norms: {same keys: (T,)} ‖g_k‖.
    full_norms: {same keys: float} ‖g‖ of the full gradient."""

    ks: np.ndarray
    rel_error: dict[str, np.ndarray]
    norms: dict[str, np.ndarray]
    full_norms: dict[str, float]


def truncation_sweep(params, inputs, targets, h0=None, *, cell: str = "rnn") -> Sweep:
    """The window's truncated gradient for every k = 0..T−1, against the full one (any cell).

    At distance d, row s of the carried matrix is ∂L_s/∂s_{s−d}: one back_step call moves every
    row one step back at once (each row at its own time step s − d)."""
    the_cell = get_cell(cell)
    xs = np.asarray(inputs, dtype=np.intp).reshape(-1)
    full = loss_and_grads(params, xs, targets, h0, None, cell=cell, diagnostics=False).grads
    swept = tuple(n for n in SWEPT if n in param_names(params))
    H = params["W"].shape[1]
    T = xs.size
    cache = the_cell.forward(params, xs, the_cell.check_state(h0, H))
    head = head_forward_backward(params, cache.hs, np.asarray(targets, dtype=np.intp).reshape(-1))
    h_prev = cache.h_prev_rows
    # dU differs from the full one only in the columns of tokens in the window: compare those.
    cols, col_of_t = np.unique(xs, return_inverse=True)
    onehot = np.zeros((T, cols.size))      # onehot[s, j] = 1 if x_s is the j-th distinct token
    onehot[np.arange(T), col_of_t] = 1.0
    ref = {"W": full["W"], "U": full["U"][:, cols], "b": full["b"]}
    acc = {"W": np.zeros_like(full["W"]), "U": np.zeros_like(ref["U"]), "b": np.zeros_like(full["b"])}
    unchanged_sq = sum(float(np.vdot(full[n], full[n])) for n in ("V", "c"))  # same for every k
    full_sq = {n: float(np.vdot(full[n], full[n])) for n in swept}
    full_all = np.sqrt(sum(full_sq.values()) + unchanged_sq)
    err = {n: np.zeros(T) for n in (*swept, "all")}
    nrm = {n: np.zeros(T) for n in (*swept, "all")}
    live = np.zeros((T, the_cell.state_size(H)))
    live[:, :H] = head.dh_out.T             # row s: ∂L_s/∂s_{s−d} at the current distance d
    bx, bh = the_cell.preact_buffers(params, T)
    for d in range(T):
        n = T - d
        prev = the_cell.back_step(params, cache, np.arange(n), live[d:], bx[:n], bh[:n])
        acc["W"] += bh[:n].T @ h_prev[:n]
        acc["U"] += bx[:n].T @ onehot[:n]     # column x_{s−d} gets its row (repeats add up)
        acc["b"] += bx[:n].sum(axis=0)
        e_all, n_all = 0.0, unchanged_sq
        for name in swept:
            diff = acc[name] - ref[name]
            e2, a2 = float(np.vdot(diff, diff)), float(np.vdot(acc[name], acc[name]))
            err[name][d] = _rel(np.sqrt(e2), np.sqrt(full_sq[name]))
            nrm[name][d] = np.sqrt(a2)
            e_all += e2
            n_all += a2
        err["all"][d] = _rel(np.sqrt(e_all), full_all)
        nrm["all"][d] = np.sqrt(n_all)
        if n > 1:
            live[d + 1:] = prev[1:]                 # one step further back: ∂L_s/∂s_{s−d−1}
    for name in err:                              # k = T − 1 is full BPTT by definition
        err[name][-1] = 0.0
    full_norms = {n: float(np.sqrt(v)) for n, v in full_sq.items()} | {"all": float(full_all)}
    return Sweep(ks=np.arange(T), rel_error=err, norms=nrm, full_norms=full_norms)
