"""Backpropagation through time over one window: the loss, every gradient, and diagnostics.

One driver for every cell (``rnnviz.cells``) and the shared output head (``rnnviz.head``). The
cell's ``back_step`` is linear in the state gradient, so the driver carries m gradients as rows
of one matrix and pays one G·H×H product per step for all of them:

    full BPTT        m = 1: the loss terms' gradients summed (∂L_t/∂h_t is added at step t)
    truncated (k)    m ≤ k + 1: the loss terms still allowed to reach back (L_t stops after k steps)
    reach            m ≤ T: every loss term separately

Weight gradients are whole-window array operations on the pre-activation gradients:
dW = Σ_t dA_h,t h_{t−1}ᵀ, dU[:, x_t] += dA_x,t, db = Σ_t dA_x,t.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np

from rnnviz.cells import get_cell
from rnnviz.head import head_forward_backward
from rnnviz.vecdot import vecdot as _vecdot


def _empty() -> np.ndarray:
    return np.empty(0)


@dataclass
class LossResult:
    """Everything one forward + backward pass over a window of T steps produces.

    loss: L = Σ_t −log p_t[y_t] in nats.   losses: (T,) the L_t.
    grads: U, W, V, b, c, shaped like the params.
    columns: the window's distinct input tokens, sorted: the columns of grads["U"] that can be nonzero.
    h_last: the carried state after the window ((H,), or (2, H) [h; c] for the LSTM).
    hs: (H, T) h_1..h_T.
    dlogits: (T, V) row t is ∂L_t/∂o_t = p_t − onehot(y_t) (``probs()`` gives p_t back);
    p_target: (T,) p_t[y_t];  predicted: (T,) argmax_v p_t[v].
    dh_norms: (T,) ‖∂L/∂h_t‖, the total gradient at node h_t (own output + the future, up to the
    truncation);  dc_norms: (T,) ‖∂L/∂c_t‖ for a cell with a c part (LSTM), else empty;
    state_grad_norms: {state part: (T,)} both of these by part name.
    dlogit_norms: (T,) ‖∂L_t/∂o_t‖;  dW_contrib, dU_contrib: (T,) each step's term's norm in dW, dU;
    jacobian_norms: (T,) ‖∂s_t/∂s_{t−1}‖_F;  saturation: (T,) (the cell's saturation_note);
    gate_means: {gate: (T,) mean activation} for gated cells.
    The diagnostic arrays are empty when computed with ``diagnostics=False``.
    """

    loss: float
    losses: np.ndarray
    grads: Mapping[str, np.ndarray]
    columns: np.ndarray
    h_last: np.ndarray
    hs: np.ndarray
    dlogits: np.ndarray
    targets: np.ndarray
    p_target: np.ndarray
    predicted: np.ndarray
    dh_norms: np.ndarray
    dc_norms: np.ndarray = field(default_factory=_empty)
    state_grad_norms: dict = field(default_factory=dict)
    dlogit_norms: np.ndarray = field(default_factory=_empty)
    dW_contrib: np.ndarray = field(default_factory=_empty)
    dU_contrib: np.ndarray = field(default_factory=_empty)
    jacobian_norms: np.ndarray = field(default_factory=_empty)
    saturation: np.ndarray = field(default_factory=_empty)
    gate_means: dict = field(default_factory=dict)

    def probs(self) -> np.ndarray:
        """(T, V) row t is p_t, rebuilt from dlogits (a new array)."""
        p = self.dlogits.copy()
        p[np.arange(self.targets.size), self.targets] += 1.0
        return p


@dataclass
class Backward:
    """node: (T, S) the total gradient at each state node s_t;  dA_x, dA_h: (T, G·H) the
    pre-activation gradients that U, b and that W see (the same array unless the cell separates them)."""

    node: np.ndarray
    dA_x: np.ndarray
    dA_h: np.ndarray


def _check_window(params: Mapping[str, np.ndarray], inputs, targets, validate: bool = True) -> tuple[np.ndarray, np.ndarray]:
    if not validate:  # the Trainer's windows: 1-D id arrays its own tokenizer made
        return np.asarray(inputs, dtype=np.intp), np.asarray(targets, dtype=np.intp)
    xs = np.asarray(inputs, dtype=np.intp).reshape(-1)
    ys = np.asarray(targets, dtype=np.intp).reshape(-1)
    if xs.shape != ys.shape:
        raise ValueError(f"inputs and targets differ in length ({xs.size} vs {ys.size})")
    if xs.size == 0:
        raise ValueError("a window needs at least one time step")
    V = params["U"].shape[1]
    for name, ids in (("input", xs), ("target", ys)):
        if ids.min() < 0 or ids.max() >= V:
            raise ValueError(f"{name} token ids must lie in 0..{V - 1}")
    return xs, ys


def backprop(cell, params, cache, dh_out_rows: np.ndarray, truncate: int | None) -> Backward:
    """The backward pass through the recurrence. dh_out_rows: (T, H) row t is ∂L_t/∂h_t through
    the output only. truncate: None (full BPTT) or k ≥ 0."""
    T, H = dh_out_rows.shape
    S = cell.state_size(H)
    node = np.zeros((T, S))
    node[:, :H] = dh_out_rows
    dA_x, dA_h = cell.preact_buffers(params, T)
    back, add = cell.back_step, np.add
    if truncate is None or truncate >= T - 1:
        carry = np.zeros(S)
        for t, d, ax, ah in zip(range(T - 1, -1, -1), node[::-1], dA_x[::-1], dA_h[::-1], strict=True):
            add(d, carry, d)                   # own term + what the future sends back
            carry = back(params, cache, t, d, ax, ah)
        return Backward(node, dA_x, dA_h)
    k = int(truncate)
    if k < 0:
        raise ValueError(f"truncation must be ≥ 0 or None (got {truncate})")
    # live[t] = ∂L_t/∂s_j for the loss terms t ∈ [j, j + k] still allowed to reach s_j.
    live = node.copy()
    bx, bh = cell.preact_buffers(params, k + 1)
    for j in range(T - 1, -1, -1):
        hi = min(T, j + k + 1)
        m = hi - j
        block = live[j:hi]
        prev = back(params, cache, j, block, bx[:m], bh[:m])
        add.reduce(block, axis=0, out=node[j])
        add.reduce(bx[:m], axis=0, out=dA_x[j])
        if cell.separate_h_preact:
            add.reduce(bh[:m], axis=0, out=dA_h[j])
        keep = min(T, j + k) - j               # terms that may go one step further back
        if j > 0 and keep > 0:
            live[j:j + keep] = prev[:keep]
    return Backward(node, dA_x, dA_h)


def weight_grads(cache, back: Backward, out: Mapping[str, np.ndarray]) -> np.ndarray:
    """dU, dW, db into out (zero-filled U): single matrix operations over the window.
    Returns the window's distinct input tokens, sorted: the only columns of dU that can be nonzero."""
    np.matmul(back.dA_h.T, cache.h_prev_rows, out=out["W"])
    dA_x = back.dA_x
    # Only the columns of the tokens seen get a gradient, and repeated tokens must add up: one
    # product with the window's one-hot matrix over its distinct tokens (T × n, n ≤ T) does both.
    cols = np.unique(cache.inputs)
    col_of_t = np.searchsorted(cols, cache.inputs)   # a third of unique(…, return_inverse=True)'s time
    onehot = np.zeros((cache.inputs.size, cols.size))
    onehot[np.arange(cache.inputs.size), col_of_t] = 1.0
    out["U"][:, cols] = dA_x.T @ onehot
    np.add.reduce(dA_x, axis=0, out=out["b"])
    return cols


def _row_norms(M: np.ndarray) -> np.ndarray:
    return np.sqrt(_vecdot(M, M, axis=1))


def loss_and_grads(
    params: Mapping[str, np.ndarray],
    inputs: Sequence[int],
    targets: Sequence[int],
    h0: np.ndarray | None = None,
    truncate: int | None = None,
    *,
    cell: str = "rnn",
    diagnostics: bool = True,
    grads_out: Mapping[str, np.ndarray] | None = None,
    validate: bool = True,
) -> LossResult:
    """Forward and (truncated) backward pass over one window; the exact gradient of ``.loss``.

    params: U (G·H×V), W (G·H×H), V (V×H), b (G·H,), c (V,) for the cell.
    inputs, targets: T token ids each.  h0: the carried state ((H,), or (2, H) for the LSTM;
    zeros if None); it is a constant here: windows are not differentiated through each other.
    truncate: None for full BPTT, or k ≥ 0 so that each L_t reaches back at most k steps (the
    state entering step t − k is a constant for L_t).
    grads_out: optional arrays (one per parameter, U zero-filled) to write the gradients into.
    validate=False skips the token id range check (the Trainer's ids come from its tokenizer).
    """
    xs, ys = _check_window(params, inputs, targets, validate)
    the_cell = get_cell(cell)
    H = params["W"].shape[1]
    cache = the_cell.forward(params, xs, the_cell.check_state(h0, H))
    out = {k: np.zeros_like(params[k]) for k in params} if grads_out is None else grads_out
    head = head_forward_backward(params, cache.hs, ys, out)
    back = backprop(the_cell, params, cache, head.dh_out.T, truncate)
    columns = weight_grads(cache, back, out)
    parts = {p: _row_norms(back.node[:, i * H:(i + 1) * H]) for i, p in enumerate(the_cell.state_parts)}
    diag = {}
    if diagnostics:
        d = the_cell.diagnostics(params, cache)
        dAx_norms = _row_norms(back.dA_x)
        dAh_norms = dAx_norms if back.dA_h is back.dA_x else _row_norms(back.dA_h)
        diag = {"dlogit_norms": _row_norms(head.dlogits), "dU_contrib": dAx_norms,
                "dW_contrib": dAh_norms * _row_norms(cache.h_prev_rows),   # ‖a bᵀ‖_F = ‖a‖‖b‖
                "jacobian_norms": d["jacobian_norms"], "saturation": d["saturation"], "gate_means": d["gates"]}
    return LossResult(
        loss=head.loss,
        losses=head.losses,
        grads={k: out[k] for k in ("U", "W", "V", "b", "c")},
        columns=columns,
        h_last=cache.s_last,
        hs=cache.hs,
        dlogits=head.dlogits,
        targets=ys,
        p_target=head.p_target,
        predicted=head.predicted,
        dh_norms=parts["h"],
        dc_norms=parts.get("c", _empty()),
        state_grad_norms=parts,
        **diag,
    )


def gradient_reaches(
    params: Mapping[str, np.ndarray],
    inputs: Sequence[int],
    targets: Sequence[int],
    h0: np.ndarray | None = None,
    *,
    cell: str = "rnn",
) -> dict[str, np.ndarray]:
    """{state part: R (T×T)} with R[t, k] = ‖∂L_t/∂s_k‖ restricted to that part (h; the LSTM's c too),
    for k ≤ t, zero above the diagonal (full BPTT).

    All loss terms go back together as rows of one matrix: about one extra backward pass, which
    yields every part at once.
    """
    xs, ys = _check_window(params, inputs, targets)
    the_cell = get_cell(cell)
    H = params["W"].shape[1]
    cache = the_cell.forward(params, xs, the_cell.check_state(h0, H))
    head = head_forward_backward(params, cache.hs, ys)
    T = xs.size
    live = np.zeros((T, the_cell.state_size(H)))
    live[:, :H] = head.dh_out.T
    bx, bh = the_cell.preact_buffers(params, T)
    R = {part: np.zeros((T, T)) for part in the_cell.state_parts}
    for j in range(T - 1, -1, -1):
        block = live[j:]                         # row t: ∂L_t/∂s_j (row j: own output only)
        prev = the_cell.back_step(params, cache, j, block, bx[:T - j], bh[:T - j])
        for i, part in enumerate(the_cell.state_parts):   # block now holds the totals at the nodes of s_j
            R[part][j:, j] = _row_norms(block[:, i * H:(i + 1) * H])
        if j > 0:
            live[j:] = prev
    return R


def gradient_reach(
    params: Mapping[str, np.ndarray],
    inputs: Sequence[int],
    targets: Sequence[int],
    h0: np.ndarray | None = None,
    *,
    cell: str = "rnn",
    wrt: str = "h",
) -> np.ndarray:
    """R (T×T): R[t, k] = ‖∂L_t/∂h_k‖ for k ≤ t, zero above the diagonal (full BPTT).

    wrt: the state part ("h"; the LSTM also has "c": ‖∂L_t/∂c_k‖, the reach along the cell path).
    One pass of ``gradient_reaches``; ask that for several parts at once.
    """
    the_cell = get_cell(cell)
    if wrt not in the_cell.state_parts:
        raise ValueError(f"the {the_cell.title} state has parts {', '.join(the_cell.state_parts)} (got {wrt!r})")
    return gradient_reaches(params, inputs, targets, h0, cell=cell)[wrt]
