"""The cell protocol: everything that differs between the vanilla RNN, the LSTM, the GRU and the minGRU.

A cell stacks G gate blocks of H rows in U (G·H×V), W (G·H×H) and b (G·H,); the output head
(V, c) is shared. W holds the blocks that read h_{t−1}: all G of them for the RNN, LSTM and GRU, none
for the minGRU (a 0×H W; ``preact_buffers`` sizes the gradients W sees from W itself). Its carried
state s_t has S = len(state_parts)·H numbers: (H,) for one part, (P, H) for P parts (the LSTM's
[h; c]); inside the engine it travels flat, (S,).

What a cell must provide (see rnnviz.cells.rnn for a small example):

    forward(params, xs, s0) -> Cache      the window; cache.hs (H, T), cache.h_prev (H, T),
                                          cache.h_prev_rows (T, H), cache.s_last (state shape)
    back_step(params, cache, t, dS, dA_x, dA_h) -> dS_prev
        One LINEAR step back through time. t: the time step (0-based), or an (m,) array giving
        each row of dS its own time step (index the cache with t and broadcasting does the rest).
        dS: (..., S) rows, each a gradient w.r.t. s_t as the
        future sees it (h_t and the other parts as separate inputs). It is updated IN PLACE to the
        total gradient at the state's nodes (the LSTM adds the path c_t → h_t to its c part).
        Writes into dA_x (..., G·H) the gradients w.r.t. the pre-activations that U x_t + b feed,
        into dA_h (..., G·H) those that W h_{t−1} feeds (the same array unless
        ``separate_h_preact``), and returns dS_prev (..., S), the gradients w.r.t. s_{t−1}.
    reference_step(params, x, s) -> s     the plain equations, written independently (gradient check)

and may override init_params, diagnostics, spectrum, equations (the base class has generic ones).
Nothing outside rnnviz/cells branches on a cell's name: the BPTT driver (rnnviz.bptt), the
Trainer, checkpoints, sampling and pages call these methods.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

SATURATED = 0.95  # |tanh| above this: tanh' < 0.1, gradients through that unit nearly die
JACOBIAN_ROWS = 4096  # rows of identity sent back per back_step call in Cell.jacobians (bounds memory)


class Cache:
    """What a forward pass keeps. Always: inputs (T,), s0, hs (H, T), h_prev (H, T),
    h_prev_rows (T, H) (row t is h_{t−1}), s_last (state shape). Cells add their own fields."""

    def __init__(self, **fields):
        self.__dict__.update(fields)


@dataclass
class Spectrum:
    """The spectrum of the matrix that rules how far gradients reach (``Cell.spectrum_of``).

    eigenvalues: complex;  rho: max |λ|;  sigma_max: largest singular value."""

    eigenvalues: np.ndarray
    rho: float
    sigma_max: float


def matrix_spectrum(M: np.ndarray) -> Spectrum:
    """Eigenvalues, spectral radius and largest singular value of a square matrix."""
    M = np.asarray(M, dtype=np.float64)
    if M.size == 0:
        return Spectrum(np.zeros(0, dtype=complex), 0.0, 0.0)
    eig = np.linalg.eigvals(M)
    return Spectrum(eig, float(np.max(np.abs(eig))), float(np.linalg.norm(M, 2)))


def sigmoid(x):
    """σ(x) = 1 / (1 + e^(−x)), written plainly (the reference steps use it)."""
    return 1.0 / (1.0 + np.exp(-x))


def quad_frobenius(E: np.ndarray, gram: np.ndarray) -> np.ndarray:
    """‖Σ_b diag(E[t, :, b]) W_b‖_F² for every t, without building the matrices.

    E: (T, H, G) row scales per block;  gram: (H, G, G) with gram[i, b, b'] = W_b[i]·W_b'[i].
    Row i of Σ_b diag(e_b) W_b is Σ_b e_b[i] W_b[i], whose squared norm is eᵀ gram[i] e."""
    Ei = E.transpose(1, 0, 2)                    # (H, T, G)
    return np.einsum("itb,itb->t", np.matmul(Ei, gram), Ei)


def block_gram(W: np.ndarray, G: int) -> np.ndarray:
    """(H, G, G): gram[i, b, b'] = W_b[i]·W_b'[i] for the G row blocks of W (G·H×H)."""
    H = W.shape[1]
    Wb = W.reshape(G, H, H).transpose(1, 0, 2)   # (H, G, H): [i, b, :] = W_b[i]
    return np.matmul(Wb, Wb.transpose(0, 2, 1))


class Cell:
    """Base class with the generic parts of the protocol. Subclasses set the class attributes."""

    name = "base"
    title = "Cell"                      # display title
    blocks = 1                          # G: gate blocks stacked in U, W, b
    gate_names: tuple[str, ...] = ()    # gates whose mean activation per step is reported
    block_names: tuple[str, ...] = ()   # the G row blocks of U, W, b, in order (δ of each is shown)
    backward_equations: tuple[str, ...] = ()  # LaTeX: one step of the backward pass, as shown on screen
    state_parts: tuple[str, ...] = ("h",)
    part_notes: dict[str, str] = {}     # what a student should know of each state part beyond h
    separate_h_preact = False           # dA_h differs from dA_x (the GRU's n block)
    spectral_radius_ok = False          # init_params accepts spectral_radius (rescaling a square W)
    spectrum_of = "J̄"                   # the matrix whose spectrum ``spectrum`` returns
    spectrum_note = ("J̄ is the mean over the window of the local Jacobian ∂s_t/∂s_{t−1}: for a gated "
                     "cell it depends on the gates, so W alone does not decide how far gradients reach.")
    equations: tuple[str, ...] = ()     # LaTeX, one equation per string, as shown on screen
    saturation_of = "h_t"                # the quantity whose |·| > 0.95 counts as saturated
    saturation_note = "fraction of units whose tanh output has |·| > 0.95"
    step_by_step = False                # rnnviz.explain's written-out backward pass covers this cell
    recurrence = "W"                    # what the unrolled graph writes on the edge h_{t−1} → h_t
    recurrence_note = "one W carries h_{t−1} into every step's gates"   # the explorer's caption, colours named there
    # The cell in plain NumPy, for the take-home script (rnnviz.takehome), or None: this cell has none (the
    # script is then refused with a message). The source defines, reading the script's globals np, H and
    # the weights U, W, b (updated in place by the script's optimizer):
    #   zero_state() -> s                         the state entering a text's first window
    #   step(x, s) -> (s_t, h_t, cache)           one time step on token id x (forward; sampling)
    #   back(dh, ds, cache, dU, dW, db) -> ds_prev
    #       one step back: dh is ∂L_t/∂h_t through the output (or 0.0), ds the gradient w.r.t. s_t from the
    #       later steps (shaped like s); adds this step's share into dU, dW, db; returns ∂L/∂s_{t−1}.
    # It begins with a comment giving the cell's equations, and is tested end to end against the engine
    # (tests/test_takehome.py).
    script: str | None = None

    # ------------------------------------------------------------------ shapes and state
    def param_shapes(self, vocab_size: int, hidden_size: int) -> dict[str, tuple[int, ...]]:
        """The five shapes: U (G·H×V), W (G·H×H), V (V×H), b (G·H,), c (V,)."""
        V, H, GH = int(vocab_size), int(hidden_size), self.blocks * int(hidden_size)
        return {"U": (GH, V), "W": (GH, H), "V": (V, H), "b": (GH,), "c": (V,)}

    def state_shape(self, H: int) -> tuple[int, ...]:
        return (H,) if len(self.state_parts) == 1 else (len(self.state_parts), H)

    def state_size(self, H: int) -> int:
        return len(self.state_parts) * H

    def zero_state(self, H: int) -> np.ndarray:
        return np.zeros(self.state_shape(H))

    def check_state(self, s, H: int) -> np.ndarray:
        """s as a float64 array of state_shape(H) (zeros if None); ValueError if it does not fit."""
        if s is None:
            return self.zero_state(H)
        s = np.asarray(s, dtype=np.float64)
        if s.size != self.state_size(H):
            raise ValueError(f"the {self.title} state has shape {self.state_shape(H)} (got {s.shape})")
        return s.reshape(self.state_shape(H))

    def states(self, cache: Cache) -> dict[str, np.ndarray]:
        """{state part: (H, T) its value after each step}: cache.hs, and cache.<part>s for the
        other parts (the LSTM's cache.cs)."""
        return {p: getattr(cache, p + "s") for p in self.state_parts}

    def hidden(self, s: np.ndarray) -> np.ndarray:
        """h, the part of the state the output head reads ((H,))."""
        return s if s.ndim == 1 else s[0]

    # ------------------------------------------------------------------ initialisation
    def init_params(self, vocab_size: int, hidden_size: int, *, seed: int = 0, init: str = "uniform",
                    spectral_radius: float | None = None, forget_bias: float = 1.0) -> dict[str, np.ndarray]:
        """Every weight ~ U(−1/√H, 1/√H) (PyTorch's choice for nn.LSTM/nn.GRU), biases from
        ``init_bias(H, forget_bias)``. init="orthogonal": each H×H block of W a random orthogonal matrix.
        spectral_radius: refused (ValueError): it rescales a square vanilla W; a gated cell's
        reach is set by its gates, not by W's eigenvalues. forget_bias: the forget gate's bias, for a cell
        that has one (the LSTM); the others ignore it."""
        if spectral_radius is not None:
            raise ValueError(f"spectral radius ρ rescales the vanilla RNN's W; the {self.title}'s W stacks "
                             f"{self.blocks} gate blocks and its gates decide how far gradients reach. "
                             "Turn ρ off for this cell.")
        V, H = int(vocab_size), int(hidden_size)
        G = self.blocks
        rng = np.random.default_rng(seed)
        bound = 1.0 / np.sqrt(H)
        U = rng.uniform(-bound, bound, size=(G * H, V))
        if init == "orthogonal":
            blocks = []
            for _ in range(G):
                q, r = np.linalg.qr(rng.standard_normal((H, H)))
                blocks.append(q * np.sign(np.diag(r)))
            W = np.concatenate(blocks, axis=0)
        else:
            W = rng.uniform(-bound, bound, size=(G * H, H))
        Vmat = rng.uniform(-bound, bound, size=(V, H))
        return {"U": U, "W": W, "V": Vmat, "b": self.init_bias(H, forget_bias), "c": np.zeros(V)}

    def init_bias(self, H: int, forget_bias: float = 1.0) -> np.ndarray:
        """The gate biases at init: zero (forget_bias is for a cell with a forget gate)."""
        return np.zeros(self.blocks * H)

    def preact_buffers(self, params, rows: int) -> tuple[np.ndarray, np.ndarray]:
        """(dA_x, dA_h) for ``back_step`` on ``rows`` rows: dA_x (rows, G·H), the gradients that U x_t + b
        feed; dA_h (rows, rows of W), those that W h_{t−1} feeds: the same array unless the cell
        separates them (the GRU's reset gate; the minGRU, whose W has no rows at all)."""
        dA_x = np.empty((rows, params["U"].shape[0]))
        return dA_x, (np.empty((rows, params["W"].shape[0])) if self.separate_h_preact else dA_x)

    # ------------------------------------------------------------------ stepping
    def step(self, params, x: int, s: np.ndarray) -> np.ndarray:
        """One time step (sampling): the new state, shaped like s."""
        return self.forward(params, np.array([int(x)], dtype=np.intp), s).s_last

    # ------------------------------------------------------------------ Jacobians and diagnostics
    def jacobians(self, params, cache: Cache) -> np.ndarray:
        """(T, S, S): J_t = ∂s_t/∂s_{t−1}, from back_step applied to the identity (it is linear:
        a row gradient g goes back as g J_t). Several time steps go back in one call (back_step
        takes one time step per row), JACOBIAN_ROWS rows at a time."""
        H, T = cache.hs.shape
        S = self.state_size(H)
        out = np.empty((T, S, S))
        per = max(1, JACOBIAN_ROWS // S)          # time steps per call
        for t0 in range(0, T, per):
            ts = np.arange(t0, min(T, t0 + per))
            ax, ah = self.preact_buffers(params, ts.size * S)
            rows = np.tile(np.eye(S), (ts.size, 1))
            out[ts] = self.back_step(params, cache, np.repeat(ts, S), rows, ax, ah).reshape(ts.size, S, S)
        return out

    def mean_jacobian(self, params, cache: Cache) -> np.ndarray:
        """(S, S) J̄ = (1/T) Σ_t ∂s_t/∂s_{t−1} over the window (generic: from ``jacobians``)."""
        return self.jacobians(params, cache).mean(axis=0)

    def diagnostics(self, params, cache: Cache) -> dict:
        """{"jacobian_norms": (T,) ‖∂s_t/∂s_{t−1}‖_F, "saturation": (T,) (saturation_note),
        "gates": {gate name: (T,) mean activation}}. Generic (slow) version from ``jacobians``."""
        J = self.jacobians(params, cache)
        return {"jacobian_norms": np.sqrt(np.einsum("tij,tij->t", J, J)),
                "saturation": np.mean(np.abs(cache.hs) > SATURATED, axis=0), "gates": {}}

    def spectrum(self, params, inputs, s0=None) -> Spectrum:
        """The spectrum of ``spectrum_of``: here J̄, the mean of ∂s_t/∂s_{t−1} over the window."""
        H = params["W"].shape[1]
        xs = np.asarray(inputs, dtype=np.intp).reshape(-1)
        cache = self.forward(params, xs, self.check_state(s0, H))
        return matrix_spectrum(self.mean_jacobian(params, cache))
