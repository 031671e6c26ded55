"""The backward pass of one window, one time step at a time, for ANY cell (the BPTT explorer).

``rnnviz.explain`` writes the vanilla RNN's backward pass out from its equations. This module keeps
the same intermediate vectors for every cell by calling the cell's own ``back_step`` (which the
gradient checks test against finite differences), so the explorer can step a gated cell from
t = T down to 1 too:

    at each state node s_t (parts h, and the LSTM's c):
        own       ∂L_t/∂h_t through the output (Vᵀ ∂L_t/∂o_t; zero for the other parts)
        future    what arrives from s_{t+1} (from the loss terms allowed to reach s_t)
        total     ∂L/∂s_t as the cell's step sees it (the LSTM adds c_t → h_t to its c part)
        cut       with truncation k: what L_{t+k+1} would have sent to s_t, dropped
    δ_t (G·H): the pre-activation gradients of the cell's blocks (what U, b see; W sees δ^W_t)
    dW += δ^W_t h_{t−1}ᵀ   dU[:, x_t] += δ_t   db += δ_t   dV += ∂L_t/∂o_t h_tᵀ   dc += ∂L_t/∂o_t

Indices are 0-based (row t is time step t + 1 on screen).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from rnnviz.cells import get_cell
from rnnviz.head import head_forward_backward
from rnnviz.terms import WindowTerms


@dataclass
class CellTrace(WindowTerms):
    """Every vector of one window's backward pass (T steps, H units, S = P·H state numbers).

    inputs, targets: (T,);  truncate: k or None;  losses: (T,) L_t;  hs: (H, T) h_t;
    h_prev: (T, H) row t is h_{t−1};  dlogits: (T, V);  own, future, total, cut: (T, S);
    dA_x: (T, G·H) δ_t (what U and b see);  dA_h: (T, G·H) what W sees;
    state_parts: ("h",) or ("h", "c");  block_names: the G blocks of U, W, b (e.g. i, f, g, o)."""

    inputs: np.ndarray
    targets: np.ndarray
    truncate: int | None
    losses: np.ndarray
    hs: np.ndarray
    h_prev: np.ndarray
    dlogits: np.ndarray
    own: np.ndarray
    future: np.ndarray
    total: np.ndarray
    cut: np.ndarray
    dA_x: np.ndarray
    dA_h: np.ndarray
    state_parts: tuple[str, ...]
    block_names: tuple[str, ...]

    @property
    def T(self) -> int:
        return int(self.inputs.size)

    @property
    def H(self) -> int:
        return int(self.hs.shape[0])

    def part(self, a: np.ndarray, name: str) -> np.ndarray:
        """The columns of a (T, S) array that belong to state part ``name`` ((T, H))."""
        i = self.state_parts.index(name)
        return a[:, i * self.H:(i + 1) * self.H]

    def block(self, name: str, t: int) -> np.ndarray:
        """δ of block ``name`` at step t ((H,))."""
        i = self.block_names.index(name)
        return self.dA_x[t, i * self.H:(i + 1) * self.H]

    def norms(self) -> dict[str, np.ndarray]:
        """(T,) norms for charts: d<part> (total), d<part>_own, d<part>_future, d<part>_cut for each
        state part, and delta (‖δ_t‖ over all blocks); "dh" is the total at h as in rnnviz.explain."""
        out = {}
        for p in self.state_parts:
            for name, a in (("", self.total), ("_own", self.own), ("_future", self.future), ("_cut", self.cut)):
                out[f"d{p}{name}"] = np.linalg.norm(self.part(a, p), axis=1)
        out["delta"] = np.linalg.norm(self.dA_x, axis=1)
        return out

    def block_norms(self, t: int) -> dict[str, float]:
        """{block name: ‖δ^block_t‖} at step t."""
        return {b: float(np.linalg.norm(self.block(b, t))) for b in self.block_names}

    @property
    def h_prev_rows(self) -> np.ndarray:
        return self.h_prev


def cell_trace(params, inputs, targets, s0=None, truncate: int | None = None, *, cell: str = "rnn") -> CellTrace:
    """Run the window forward (the cell's code) and backward one step at a time with its back_step.

    s0: the carried state (the cell's state shape) or None.  truncate: k ≥ 0 or None (k ≥ T − 1 is None)."""
    the_cell = get_cell(cell)
    xs = np.asarray(inputs, dtype=np.intp).reshape(-1)
    ys = np.asarray(targets, dtype=np.intp).reshape(-1)
    if xs.size == 0 or xs.shape != ys.shape:
        raise ValueError("inputs and targets must be two equally long, non-empty id sequences")
    W = params["W"]
    H, T = W.shape[1], xs.size
    S = the_cell.state_size(H)
    k = None if truncate is None or truncate >= T - 1 else int(truncate)
    if k is not None and k < 0:
        raise ValueError(f"truncation must be ≥ 0 or None (got {truncate})")
    cache = the_cell.forward(params, xs, the_cell.check_state(s0, H))
    head = head_forward_backward(params, cache.hs, ys)
    own = np.zeros((T, S))
    own[:, :H] = head.dh_out.T
    future, total, cut = np.zeros((T, S)), np.zeros((T, S)), np.zeros((T, S))
    dA_x, dA_h = the_cell.preact_buffers(params, T)
    dA_x.fill(0.0)
    dA_h.fill(0.0)
    back = the_cell.back_step
    if k is None:
        carry = np.zeros(S)
        for t in range(T - 1, -1, -1):
            future[t] = carry
            d = own[t] + carry
            carry = back(params, cache, t, d, dA_x[t], dA_h[t])
            total[t] = d                       # back_step completed it (e.g. c_t through h_t)
    else:
        live = own.copy()                      # row s: ∂L_s/∂s_j for the terms still reaching s_j
        bx, bh = the_cell.preact_buffers(params, k + 1)
        for j in range(T - 1, -1, -1):
            hi = min(T, j + k + 1)
            m = hi - j
            block = live[j:hi]
            future[j] = block[1:].sum(axis=0)
            prev = back(params, cache, j, block, bx[:m], bh[:m])
            total[j] = block.sum(axis=0)
            dA_x[j] = bx[:m].sum(axis=0)
            if the_cell.separate_h_preact:
                dA_h[j] = bh[:m].sum(axis=0)
            if j > 0:
                keep = min(T, j + k) - j       # terms L_j … L_{j+k−1} may reach s_{j−1}
                live[j:j + keep] = prev[:keep]
                if j + k < T:                  # L_{j+k} would be k + 1 steps back at s_{j−1}: cut
                    cut[j - 1] = prev[k]
    return CellTrace(inputs=xs, targets=ys, truncate=k, losses=head.losses, hs=cache.hs, h_prev=cache.h_prev_rows,
                     dlogits=head.dlogits, own=own, future=future, total=total, cut=cut, dA_x=dA_x, dA_h=dA_h,
                     state_parts=the_cell.state_parts, block_names=the_cell.block_names)
