"""Plain SGD (no clipping) on a big model, applied in place: one pass over each weight per step.

For a word model (V = 8,000, H = 100), U and V hold 1.6 M weights (13 MB) and a step costs memory
traffic, not arithmetic. The general path writes dV (6 MB), reads the whole gradient for its norms,
then reads θ and g and writes a new θ: about 100 MB per step. Here instead

  - dV is never stored: each block of its rows is computed, measured and applied while in cache;
  - dU is zero outside the columns of the window's tokens, so only those columns are read and changed;
  - θ is changed in place, so no new 13 MB vector is written.

It gives bit for bit the weights and norms of the general path (the same BLAS calls on the same
blocks, the same elementwise operations, the same order of sums), so replays for undo and reruns
after reset agree whichever path each step took. When it may be used is the Trainer's call.
"""

from __future__ import annotations

import math
from collections.abc import Mapping

import numpy as np

from rnnviz.head import dV_block, row_blocks
from rnnviz.params import PARAM_NAMES
from rnnviz.vecdot import vecdot

SLACK = 1 + 1e-9  # rounding: a computed norm or update may exceed the exact one by ~n·ε (n ≤ 1e7 weights)


def _sq(a: np.ndarray) -> float:
    f = a.reshape(-1)
    return float(f.dot(f))


def sq_norm_U(dU: np.ndarray, cols: np.ndarray) -> float:
    """‖dU‖² from the columns `cols` (sorted, distinct): every other column of dU is zero."""
    return float(vecdot(dU[:, cols], dU[:, cols], axis=0).sum())


def sq_norm_V(dV: np.ndarray) -> float:
    """‖dV‖², summed over row_blocks in order, exactly as sgd_in_place sums it."""
    return sum(_sq(dV[rows]) for rows in row_blocks(*dV.shape))


def grad_sq_norms(g: Mapping[str, np.ndarray], cols: np.ndarray, with_V: bool = True) -> dict[str, float]:
    """{name: ‖g_name‖²} for U, W, b, c (and V if with_V), computed as sgd_in_place computes them."""
    out = {"U": sq_norm_U(g["U"], cols), "W": _sq(g["W"]), "b": _sq(g["b"]), "c": _sq(g["c"])}
    if with_V:
        out["V"] = sq_norm_V(g["V"])
    return out


def dV_norm_bound(dlogits: np.ndarray, hs: np.ndarray) -> float:
    """An upper bound on ‖dV‖ before computing it: dV = Σ_t dlogits_t h_tᵀ, a sum of rank-one terms,
    so ‖dV‖_F ≤ Σ_t ‖dlogits_t‖·‖h_t‖ (triangle inequality).  dlogits: (T, V);  hs: (H, T)."""
    return float(np.sqrt(vecdot(dlogits, dlogits, axis=1)) @ np.sqrt(vecdot(hs, hs, axis=0))) * SLACK


def sgd_in_place(theta: Mapping[str, np.ndarray], g: Mapping[str, np.ndarray], dlogits: np.ndarray,
                 hs: np.ndarray, cols: np.ndarray, lr: float) -> float:
    """θ ← θ − η g in place, for U (columns `cols` only), W, b, c and V; returns ‖dV‖².

    theta: writable views U (H×V), W, V (V×H), b, c;  g: the gradients of U, W, b, c (g["V"] is
    not read: dV is rebuilt block by block from dlogits (T, V) and hs (H, T), as the head does).
    cols: sorted distinct token ids of the window (the only nonzero columns of dU)."""
    for k in ("W", "b", "c"):
        np.subtract(theta[k], g[k] * lr, out=theta[k])   # θ − (g·η), as the general SGD computes it
    U = theta["U"]
    U[:, cols] = U[:, cols] - g["U"][:, cols] * lr
    V = theta["V"]
    blocks = row_blocks(*V.shape)
    buf = np.empty((blocks[0].stop - blocks[0].start, V.shape[1])) if blocks else None
    sq = 0.0
    for rows in blocks:
        d = buf[: rows.stop - rows.start]
        dV_block(dlogits, hs, rows, d)
        sq += _sq(d)
        d *= lr
        np.subtract(V[rows], d, out=V[rows])
    return sq


def norms(sq: Mapping[str, float]) -> dict[str, float]:
    """{name: √(squared norm)} in PARAM_NAMES order, whatever order sq came in: the global norm
    is math.hypot over these values, and both paths must feed it the same sequence."""
    return {k: math.sqrt(sq[k]) for k in PARAM_NAMES}
