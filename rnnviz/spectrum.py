"""Why gradients vanish or explode: the spectrum of W, the decay of the gradient reach, and
how saturated tanh is.

Going back one step multiplies the gradient by ∂h_t/∂h_{t−1} = diag(1 − h_t²) W, so over d steps
by a product of d such matrices. Its size behaves like ρ(W)^d (ρ = spectral radius) when tanh is
not saturated, and is at most σ_max(W)^d (largest singular value) since 0 < 1 − h² ≤ 1.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from rnnviz.cells.base import SATURATED, Spectrum, matrix_spectrum

__all__ = ["SATURATED", "ReachDecay", "Spectrum", "power_line", "reach_decay", "saturation", "w_spectrum"]


def w_spectrum(W: np.ndarray) -> Spectrum:
    """Eigenvalues, spectral radius and largest singular value of a square W (the vanilla RNN's).
    For any cell ask the cell: ``Trainer.spectrum()`` / ``cell.spectrum(params, inputs, s0)``."""
    return matrix_spectrum(W)


@dataclass
class ReachDecay:
    """How ‖∂L_t/∂h_{t−d}‖ shrinks (or grows) with the distance d, relative to d = 0.

    d: (n,) distances 0..T−1.  typical: (n,) geometric mean over t of R[t, t−d] / R[t, t];
    low, high: (n,) the 10th and 90th percentiles of the same ratios.  count: (n,) how many t
    contributed (T − d, fewer where a ratio was zero or not finite)."""

    d: np.ndarray
    typical: np.ndarray
    low: np.ndarray
    high: np.ndarray
    count: np.ndarray


def reach_decay(R: np.ndarray) -> ReachDecay:
    """Summarise the reach matrix R (T×T, R[t, k] = ‖∂L_t/∂h_k‖) by distance d = t − k.

    Ratios to the diagonal make rows comparable (each L_t starts with its own ‖Vᵀ ∂L_t/∂o_t‖);
    the geometric mean suits values spanning decades. Zero ratios are left out (log of 0)."""
    R = np.asarray(R, dtype=np.float64)
    T = R.shape[0]
    diag = np.diag(R)
    typical, low, high, count = (np.full(T, np.nan) for _ in range(4))
    for d in range(T):
        t = np.arange(d, T)
        with np.errstate(divide="ignore", invalid="ignore"):
            r = R[t, t - d] / diag[t]
        r = r[np.isfinite(r) & (r > 0)]
        count[d] = r.size
        if r.size:
            lg = np.log(r)
            typical[d] = np.exp(lg.mean())
            low[d], high[d] = np.exp(np.percentile(lg, [10, 90]))
    return ReachDecay(np.arange(T), typical, low, high, count.astype(int))


def power_line(base: float, d: np.ndarray) -> np.ndarray:
    """base^d for each distance d (the ρ(W)^(t−k) reference line), without overflow warnings."""
    with np.errstate(over="ignore", under="ignore"):
        return np.power(float(base), np.asarray(d, dtype=np.float64))


def saturation(hs: np.ndarray, threshold: float = SATURATED) -> float:
    """Fraction of the entries of hs (H×T) with |h| > threshold."""
    hs = np.asarray(hs)
    return float(np.count_nonzero(np.abs(hs) > threshold) / hs.size) if hs.size else 0.0
