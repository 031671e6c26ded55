"""The output head shared by every cell: logits, softmax, cross-entropy, and their gradients.

    o_t = V h_t + c        p_t = softmax(o_t)        L_t = −log p_t[y_t]

Vectorised over the whole window. Internally time is the row axis (T×V), so that the softmax's
max, exp and sum run along contiguous memory; for a word model V is in the thousands and these
passes, not Python, are what the head costs.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

BLOCK_BYTES = 1 << 18  # 256 kB: a block of rows of V (or dV) stays in the 1 MB L2 cache


def row_blocks(n_rows: int, n_cols: int) -> list[slice]:
    """Consecutive blocks of rows of an n_rows×n_cols float64 array, each about BLOCK_BYTES.

    dV is computed block by block so that each block of its rows is written while in cache."""
    rows = max(1, BLOCK_BYTES // (8 * max(n_cols, 1)))
    return [slice(i, min(i + rows, n_rows)) for i in range(0, n_rows, rows)]


def dV_block(dlogits: np.ndarray, hs: np.ndarray, rows: slice, out: np.ndarray) -> np.ndarray:
    """Rows ``rows`` of dV = Σ_t (∂L_t/∂o_t) h_tᵀ, written into out (len(rows)×H).

    dlogits: (T, V);  hs: (H, T), the transposed view of a row-major (T, H) array."""
    return np.matmul(dlogits.T[rows], hs.T, out=out)


def dV_into(dlogits: np.ndarray, hs: np.ndarray, out: np.ndarray) -> np.ndarray:
    """The whole of dV (V×H) into out, block by block (row_blocks)."""
    for rows in row_blocks(*out.shape):
        dV_block(dlogits, hs, rows, out[rows])
    return out


@dataclass
class HeadResult:
    """loss: Σ_t L_t in nats; losses: (T,) each L_t; p_target: (T,) p_t[y_t];
    predicted: (T,) argmax p_t; dlogits: (T, V) row t is ∂L_t/∂o_t = p_t − onehot(y_t);
    dh_out: (H, T) column t is Vᵀ ∂L_t/∂o_t. dV (V×H) and dc (V,) are written into ``out``."""

    loss: float
    losses: np.ndarray
    p_target: np.ndarray
    predicted: np.ndarray
    dlogits: np.ndarray
    dh_out: np.ndarray


def head_forward_backward(params, hs: np.ndarray, targets, out: dict | None = None) -> HeadResult:
    """Loss and gradients of the head for hidden states hs (H, T) and targets (T,).

    out: {"V": (V, H), "c": (V,)} arrays to write dV and dc into (new arrays if None)."""
    Vmat, c = params["V"], params["c"]
    ys = np.asarray(targets, dtype=np.intp)
    T, nV = ys.shape[0], Vmat.shape[0]
    z = hs.T @ Vmat.T                      # (T, V) logits without c
    z += c
    # Entry (t, v) of z is flat[t·V + v]: 1-D indexing is NumPy's fast path for picking one
    # entry per row. argmax p_t = argmax o_t (softmax is monotone), and the largest logit found
    # there is the shift that keeps exp from overflowing: one pass over z serves both.
    flat = z.reshape(-1)
    row_start = np.arange(0, T * nV, nV)
    predicted = z.argmax(axis=1)
    z -= flat[row_start + predicted][:, None]   # the largest logit of each row becomes 0
    at_y = row_start + ys
    z_target = flat[at_y]
    np.exp(z, out=z)
    Z = np.add.reduce(z, axis=1)           # the ufunc itself: np.sum adds a Python layer
    z /= Z[:, None]
    # log p_t[y_t] from the shifted logits: exact even when p_t[y_t] underflows to 0.
    losses = np.log(Z) - z_target
    p_target = flat[at_y]
    dlogits = z  # p_t becomes p_t − onehot(y_t) in place: no copy of a T×V array
    flat[at_y] = p_target - 1.0
    if out is None:
        out = {"V": np.empty_like(Vmat), "c": np.empty_like(c)}
    dV_into(dlogits, hs, out["V"])
    np.add.reduce(dlogits, axis=0, out=out["c"])
    return HeadResult(
        loss=float(np.add.reduce(losses)),  # the ufunc: ndarray.sum goes through a Python layer
        losses=losses,
        p_target=p_target,
        predicted=predicted,
        dlogits=dlogits,
        dh_out=(dlogits @ Vmat).T,          # (H, T) view of a row-major (T, H) product, as BPTT reads it
    )
