"""The backward pass of one window, one time step at a time, for the BPTT explorer.

``loss_and_grads`` computes the whole backward pass at once; this module keeps every
intermediate vector of it, for t = T down to 1, so that a page can show each equation with the
numbers of this window (vanilla RNN, DESIGN.md notation):

    ∂L_t/∂o_t = p_t − onehot(y_t)
    ∂L/∂h_t   = Vᵀ ∂L_t/∂o_t  +  Wᵀ δ_{t+1}          (own output + what arrives from the future)
    δ_t       = (1 − h_t²) ⊙ ∂L/∂h_t                   (= ∂L/∂a_t)
    dW += δ_t h_{t−1}ᵀ    dU[:, x_t] += δ_t    db += δ_t    dV += ∂L_t/∂o_t h_tᵀ    dc += ∂L_t/∂o_t

With truncation k, L_s may reach h_t only if s − t ≤ k, so the part of δ_{t+1} that came from
L_{t+k+1} is cut before it crosses W to h_t; ``cut[:, t]`` is that piece.

The backward loop here is written out step by step from these equations, independently of the
cell's vectorised ``backward``, so the tests comparing the two check both. Indices in code are
0-based (column t is time step t + 1 on screen).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from rnnviz.cells import get_cell
from rnnviz.head import head_forward_backward
from rnnviz.terms import WindowTerms


@dataclass
class BackwardTrace(WindowTerms):
    """Every vector of the backward pass of one window (H hidden units, V tokens, T steps).

    inputs, targets: (T,) ids x_t, y_t.   truncate: k, or None for full BPTT.
    losses: (T,) L_t;  hs: (H, T) h_t;  h_prev: (H, T) h_{t−1};  dtanh: (H, T) 1 − h_t².
    dlogits: (T, V) row t is ∂L_t/∂o_t = p_t − onehot(y_t).
    dh_own: (H, T) Vᵀ ∂L_t/∂o_t (the gradient h_t gets from its own output).
    dh_future: (H, T) what arrives at h_t from later steps through W (Wᵀ δ_{t+1} in full BPTT).
    dh: (H, T) ∂L/∂h_t = dh_own + dh_future.   delta: (H, T) δ_t = (1 − h_t²) ⊙ ∂L/∂h_t.
    cut: (H, T) the gradient truncation stopped at h_t (from L_{t+k+1}); zero in full BPTT.
    """

    inputs: np.ndarray
    targets: np.ndarray
    truncate: int | None
    losses: np.ndarray
    hs: np.ndarray
    h_prev: np.ndarray
    dtanh: np.ndarray
    dlogits: np.ndarray
    dh_own: np.ndarray
    dh_future: np.ndarray
    dh: np.ndarray
    delta: np.ndarray
    cut: np.ndarray

    @property
    def T(self) -> int:
        return int(self.inputs.size)

    @property
    def loss(self) -> float:
        return float(self.losses.sum())

    def reaches(self, s: int, t: int) -> bool:
        """Does loss term L_s send gradient to h_t (0-based)? Only later terms, at most k steps back."""
        return t <= s and (self.truncate is None or s - t <= self.truncate)

    # ------------------------------------------------------------------ rows for rnnviz.terms
    @property
    def dA_x(self) -> np.ndarray:
        """(T, H) δ_t as rows: U, b and W all see the same δ in the vanilla RNN."""
        return self.delta.T

    dA_h = dA_x

    @property
    def h_prev_rows(self) -> np.ndarray:
        return self.h_prev.T

    # ------------------------------------------------------------------ what a page shows at t
    def gate_stats(self, t: int, threshold: float = 0.95) -> dict[str, float]:
        """How much of ∂L/∂h_t survives tanh at step t: mean of 1 − h_t² (1 = linear, 0 = dead)
        and the fraction of units with |h_t| > threshold (saturated)."""
        return {"mean_gate": float(self.dtanh[:, t].mean()),
                "saturated": float(np.mean(np.abs(self.hs[:, t]) > threshold))}

    def vectors(self, t: int) -> dict[str, np.ndarray]:
        """The H-vectors of step t, named as on screen (views, do not modify)."""
        return {"Vᵀ ∂L_t/∂o_t": self.dh_own[:, t], "from the future": self.dh_future[:, t],
                "∂L/∂h_t": self.dh[:, t], "1 − h_t²": self.dtanh[:, t], "δ_t": self.delta[:, t],
                "h_{t−1}": self.h_prev[:, t]}

    def norms(self) -> dict[str, np.ndarray]:
        """(T,) norms of the per-step vectors, for charts: dh, dh_own, dh_future, delta, cut."""
        return {k: np.linalg.norm(getattr(self, k), axis=0) for k in ("dh", "dh_own", "dh_future", "delta", "cut")}


def backward_trace(params, inputs, targets, h0=None, truncate: int | None = None, *,
                   cell: str = "rnn") -> BackwardTrace:
    """Run the window forward (the cell's own code) and backward one step at a time.

    params: U (H×V), W (H×H), V (V×H), b (H,), c (V,).  inputs, targets: T ids.  h0: (H,) or None.
    truncate: k ≥ 0, or None for full BPTT (k ≥ T − 1 is the same as None).
    """
    if not get_cell(cell).step_by_step:
        raise ValueError(f"the step-by-step explanation is written for the vanilla RNN; the {get_cell(cell).title} "
                         "has its own equations (see its gradient reach and diagnostics instead)")
    xs = np.asarray(inputs, dtype=np.intp).reshape(-1)
    ys = np.asarray(targets, dtype=np.intp).reshape(-1)
    if xs.size == 0 or xs.shape != ys.shape:
        raise ValueError("inputs and targets must be two equally long, non-empty id sequences")
    W = params["W"]
    H, T = W.shape[0], xs.size
    h0 = np.zeros(H) if h0 is None else np.asarray(h0, dtype=np.float64).reshape(H)
    k = None if truncate is None or truncate >= T - 1 else int(truncate)
    if k is not None and k < 0:
        raise ValueError(f"truncation must be ≥ 0 or None (got {truncate})")

    cache = get_cell(cell).forward(params, xs, h0)
    head = head_forward_backward(params, cache.hs, ys)
    dh_own = head.dh_out
    dtanh = cache.dtanh
    WT = W.T
    dh, future, cut = np.empty((H, T)), np.zeros((H, T)), np.zeros((H, T))
    if k is None:
        delta_next = np.zeros(H)
        for t in range(T - 1, -1, -1):
            future[:, t] = WT @ delta_next             # Wᵀ δ_{t+1} (zero at t = T)
            dh[:, t] = dh_own[:, t] + future[:, t]
            delta_next = dtanh[:, t] * dh[:, t]         # δ_t, sent back at the next iteration
    else:
        # G[:, s] = ∂L_s/∂h_t for the loss terms s still allowed to reach the current t.
        G = np.zeros((H, T))
        for t in range(T - 1, -1, -1):
            if t + 1 < T:
                hi = min(T, t + 1 + k)                  # terms L_{t+1}..L_{t+k} cross W to h_t
                G[:, t + 1:hi] = WT @ (dtanh[:, t + 1:t + 2] * G[:, t + 1:hi])
                if t + 1 + k < T:                       # L_{t+k+1} would be k+1 steps back: cut
                    cut[:, t] = WT @ (dtanh[:, t + 1] * G[:, t + 1 + k])
                future[:, t] = G[:, t + 1:hi].sum(axis=1)
            G[:, t] = dh_own[:, t]
            dh[:, t] = dh_own[:, t] + future[:, t]
    return BackwardTrace(
        inputs=xs, targets=ys, truncate=k, losses=head.losses, hs=cache.hs, h_prev=cache.h_prev,
        dtanh=dtanh, dlogits=head.dlogits, dh_own=dh_own, dh_future=future, dh=dh, delta=dtanh * dh, cut=cut,
    )



GRADCHECK_BUDGET_S = 1.5     # aim: a finite-difference check the student waits for, not a coffee break
GRADCHECK_MAX_ENTRIES = 60   # per parameter; 60 random entries already make a sharp test
GRADCHECK_MIN_ENTRIES = 2    # fewer would often sample only zero entries of dU
# Cost of one cell step of the plain-loop loss in rnnviz.gradcheck, in µs: a fixed NumPy-call
# overhead per gate block plus a cost per multiply-add (G·H² for W h, V·H for the output). Measured
# on a laptop for the vanilla RNN; a gated cell's reference step makes about G times its NumPy calls
# (measured here at H = 100, T = 25: 9, 33 and 37 µs per step for the RNN, GRU and LSTM).
STEP_OVERHEAD_US, PER_ELEMENT_US = 9.0, 3.3e-4


def gradient_check_plan(T: int, truncate: int | None, H: int, V: int,
                        budget_s: float = GRADCHECK_BUDGET_S, blocks: int = 1) -> tuple[int, float]:
    """(entries per parameter, estimated seconds) for a finite-difference check of this window.

    Each entry costs two loss evaluations, for each of the five parameters. A plain loss runs T
    cell steps and T outputs; the truncated (stop-gradient) loss reruns up to k + 1 steps for
    every output, about T·(k + 1) cell steps. blocks: the cell's G gate blocks (1, 3 for the GRU,
    4 for the LSTM). Long truncated windows of a big model cost seconds even at the minimum of
    entries: the estimate lets the page say so before it starts."""
    T = max(int(T), 1)
    G = max(int(blocks), 1)
    k = None if truncate is None or truncate >= T - 1 else int(truncate)
    steps = T if k is None else sum(min(t, k) + 1 for t in range(T))
    loss_us = steps * G * (STEP_OVERHEAD_US + PER_ELEMENT_US * H * H) + T * PER_ELEMENT_US * V * H
    per_entry_s = 2 * 5 * loss_us * 1e-6
    entries = int(np.clip(budget_s // per_entry_s, GRADCHECK_MIN_ENTRIES, GRADCHECK_MAX_ENTRIES))
    return entries, entries * per_entry_s
