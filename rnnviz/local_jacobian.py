"""The local Jacobian J_t = ∂s_t/∂s_{t−1} over a window, and its singular values.

For the vanilla RNN J_t = diag(1 − h_t²) W, so ρ(W) and σ_max(W) bound how far gradients reach.
A gated cell's J_t depends on its gates at every step (the LSTM's contains diag(f_t) on the cell
path), so what the window really does is read from the J_t themselves: σ_max(J_t) > 1 stretches
some direction of the state gradient at step t, σ_max(J_t) < 1 shrinks all of them.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from rnnviz.cells import get_cell

MAX_JACOBIAN_STATE = 1024   # S = state size: an SVD of T matrices S×S is bounded by this (LSTM H ≤ 512)


@dataclass(frozen=True)
class LocalJacobian:
    """sv: (T, S) singular values of J_t, largest first;  norms: (T,) ‖J_t‖_F;
    state_parts: the parts of s_t (("h",) or ("h", "c"))."""

    sv: np.ndarray
    norms: np.ndarray
    state_parts: tuple[str, ...]

    @property
    def sigma_max(self) -> np.ndarray:
        return self.sv[:, 0] if self.sv.size else np.zeros(0)

    @property
    def product_bound(self) -> float:
        """Π_t σ_max(J_t): an upper bound on ‖∂s_T/∂s_0‖ over the window (may be ∞ or 0)."""
        with np.errstate(over="ignore", under="ignore", divide="ignore"):
            return float(np.exp(np.sum(np.log(np.maximum(self.sigma_max, 1e-300)))))


def local_jacobian(params, inputs, s0=None, *, cell: str = "rnn") -> LocalJacobian:
    """The singular values of every J_t = ∂s_t/∂s_{t−1} for the window ``inputs`` from state s0."""
    the_cell = get_cell(cell)
    H = params["W"].shape[1]
    S = the_cell.state_size(H)
    if S > MAX_JACOBIAN_STATE:
        raise ValueError(f"the state has {S} numbers; the Jacobian view handles at most {MAX_JACOBIAN_STATE}")
    xs = np.asarray(inputs, dtype=np.intp).reshape(-1)
    cache = the_cell.forward(params, xs, the_cell.check_state(s0, H))
    J = the_cell.jacobians(params, cache)
    sv = np.linalg.svd(J, compute_uv=False)
    return LocalJacobian(sv, np.sqrt(np.einsum("tij,tij->t", J, J)), the_cell.state_parts)


def window_saturation(params, inputs, s0=None, *, cell: str = "rnn") -> float:
    """The mean over the window of the cell's saturation (its ``saturation_note``: |tanh| > 0.95 of
    h for the vanilla RNN, of c_t for the LSTM, of n_t for the GRU): where it is high, the gradient
    through those units nearly dies."""
    the_cell = get_cell(cell)
    H = params["W"].shape[1]
    xs = np.asarray(inputs, dtype=np.intp).reshape(-1)
    cache = the_cell.forward(params, xs, the_cell.check_state(s0, H))
    return float(np.mean(the_cell.diagnostics(params, cache)["saturation"]))
