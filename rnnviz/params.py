"""Model parameters: names, shapes and initialisation, for any cell (``rnnviz.cells``).

Notation (DESIGN.md): vocabulary size V, hidden size H, G gate blocks (1 rnn, 4 lstm, 3 gru).

    U: G·H×V   input → gates (column U[:, x_t] is the input for token x_t)
    W: G·H×H   hidden → gates (the recurrence)
    V: V×H     hidden → output logits
    b: G·H     gate biases
    c: V       output bias

Parameters are a plain ``dict[str, np.ndarray]`` of float64 arrays, so any mapping works.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from rnnviz.cells import get_cell
from rnnviz.cells.base import matrix_spectrum

PARAM_NAMES: tuple[str, ...] = ("U", "W", "V", "b", "c")
INITS: tuple[str, ...] = ("uniform", "orthogonal")


def param_shapes(vocab_size: int, hidden_size: int, cell: str = "rnn") -> dict[str, tuple[int, ...]]:
    """The shape of each parameter for vocabulary size V, hidden size H and the cell."""
    return get_cell(cell).param_shapes(vocab_size, hidden_size)


def spectral_radius_of(W: np.ndarray) -> float:
    """ρ(W) = max |eigenvalue of W| (square W): below 1 the recurrence forgets, above 1 it can explode."""
    return matrix_spectrum(W).rho


def init_params(
    vocab_size: int,
    hidden_size: int,
    *,
    cell: str = "rnn",
    seed: int = 0,
    init: str = "uniform",
    spectral_radius: float | None = None,
    forget_bias: float = 1.0,
) -> dict[str, np.ndarray]:
    """Fresh parameters for a language model with this cell; the cell documents its choices.

    Vanilla RNN: entries ~ U(−1/√fan_in, 1/√fan_in), biases 0; spectral_radius=ρ rescales W.
    LSTM and GRU: entries ~ U(−1/√H, 1/√H) as in PyTorch; the LSTM's forget-gate bias is 1;
    spectral_radius is refused (ValueError). init="orthogonal": W's H×H blocks orthogonal.
    Same arguments ⇒ the same arrays, bit for bit.
    """
    V, H = int(vocab_size), int(hidden_size)
    if V < 2:
        raise ValueError(f"vocabulary size must be at least 2 (got {V})")
    if H < 1:
        raise ValueError(f"hidden size must be at least 1 (got {H})")
    if init not in INITS:
        raise ValueError(f"unknown init {init!r}; choose one of {', '.join(INITS)}")
    return get_cell(cell).init_params(V, H, seed=seed, init=init, spectral_radius=spectral_radius, forget_bias=forget_bias)


def param_names(params: Mapping[str, np.ndarray]) -> tuple[str, ...]:
    """The names in PARAM_NAMES whose arrays have entries: all five, but for a cell without a recurrent
    matrix (the minGRU's W is 0×H) W is left out. Charts and tables of per-weight gradients show these."""
    return tuple(k for k in PARAM_NAMES if np.size(params[k]))


def copy_params(params: Mapping[str, np.ndarray]) -> dict[str, np.ndarray]:
    """A deep copy (new arrays) of a parameter mapping."""
    return {k: np.array(v, dtype=np.float64, copy=True) for k, v in params.items()}


def sizes_of(params: Mapping[str, np.ndarray]) -> tuple[int, int]:
    """(V, H) read off the shapes of a parameter mapping."""
    V, H = np.shape(params["V"])
    return int(V), int(H)
