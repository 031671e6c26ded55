"""Model parameters: names, shapes and initialisation.

Notation (DESIGN.md): vocabulary size V, hidden size H.

    U: H×V   input → hidden (column U[:, x_t] is the input for token x_t)
    W: H×H   hidden → hidden (the recurrence; its spectral radius decides vanishing/exploding)
    V: V×H   hidden → output logits
    b: H     hidden bias
    c: V     output bias

Parameters are a plain ``dict[str, np.ndarray]`` of float64 arrays, so any mapping works.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

PARAM_NAMES: tuple[str, ...] = ("U", "W", "V", "b", "c")
INITS: tuple[str, ...] = ("uniform", "orthogonal")


def param_shapes(vocab_size: int, hidden_size: int) -> dict[str, tuple[int, ...]]:
    """The shape of each parameter for vocabulary size V and hidden size H."""
    V, H = vocab_size, hidden_size
    return {"U": (H, V), "W": (H, H), "V": (V, H), "b": (H,), "c": (V,)}


def spectral_radius_of(W: np.ndarray) -> float:
    """ρ(W) = max |eigenvalue of W|: below 1 the recurrence forgets, above 1 it can explode."""
    return float(np.max(np.abs(np.linalg.eigvals(W)))) if W.size else 0.0


def init_params(
    vocab_size: int,
    hidden_size: int,
    *,
    seed: int = 0,
    init: str = "uniform",
    spectral_radius: float | None = None,
) -> dict[str, np.ndarray]:
    """Fresh parameters for a vanilla RNN language model.

    init="uniform":    every matrix entry ~ U(−1/√n, 1/√n), n = fan-in (the seeds' choice).
    init="orthogonal": W is a random orthogonal matrix (all singular values 1); U and V uniform.
    spectral_radius=ρ: afterwards rescale W so that max|eig(W)| = ρ (ρ < 1 vanishes, ρ > 1 explodes).
    Biases start at zero. Same arguments ⇒ the same arrays, bit for bit.
    """
    V, H = int(vocab_size), int(hidden_size)
    if V < 2:
        raise ValueError(f"vocabulary size must be at least 2 (got {V})")
    if H < 1:
        raise ValueError(f"hidden size must be at least 1 (got {H})")
    if init not in INITS:
        raise ValueError(f"unknown init {init!r}; choose one of {', '.join(INITS)}")
    rng = np.random.default_rng(seed)

    def uniform(shape: tuple[int, int], fan_in: int) -> np.ndarray:
        bound = 1.0 / np.sqrt(fan_in)
        return rng.uniform(-bound, bound, size=shape)

    U = uniform((H, V), V)
    if init == "orthogonal":
        # QR of a Gaussian matrix, signs fixed by diag(R), gives a Haar-random orthogonal matrix.
        q, r = np.linalg.qr(rng.standard_normal((H, H)))
        W = q * np.sign(np.diag(r))
    else:
        W = uniform((H, H), H)
    Vmat = uniform((V, H), H)
    if spectral_radius is not None:
        rho = float(spectral_radius)
        if not np.isfinite(rho) or rho < 0:
            raise ValueError(f"spectral radius must be a finite number ≥ 0 (got {spectral_radius})")
        current = spectral_radius_of(W)
        W = W * (rho / current) if current > 0 else W
    return {"U": U, "W": W, "V": Vmat, "b": np.zeros(H), "c": np.zeros(V)}


def copy_params(params: Mapping[str, np.ndarray]) -> dict[str, np.ndarray]:
    """A deep copy (new arrays) of a parameter mapping."""
    return {k: np.array(v, dtype=np.float64, copy=True) for k, v in params.items()}


def sizes_of(params: Mapping[str, np.ndarray]) -> tuple[int, int]:
    """(V, H) read off the shapes of a parameter mapping."""
    H, V = np.shape(params["U"])
    return int(V), int(H)
