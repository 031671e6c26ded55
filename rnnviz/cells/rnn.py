"""The vanilla (Elman) RNN cell.

    a_t = U x_t + W h_{t-1} + b        h_t = tanh(a_t)

Shapes: H hidden units, T time steps. Hidden states are kept as columns: ``hs`` is H×T and
``hs[:, t]`` is h_t (transposed views of row-major T×H arrays, so the loops over t touch
contiguous rows). Only the recurrence loops over t in Python.
"""

from __future__ import annotations

from textwrap import dedent

import numpy as np

from rnnviz.cells.base import SATURATED, Cache, Cell, Spectrum, matrix_spectrum
from rnnviz.vecdot import vecdot as _vecdot


class VanillaRNNCell(Cell):
    """h_t = tanh(U x_t + W h_{t-1} + b). U: H×V, W: H×H, b: (H,); state (H,)."""

    name = "rnn"
    title = "Vanilla RNN"
    blocks = 1
    spectral_radius_ok = True
    step_by_step = True
    block_names = ("a",)
    backward_equations = (
        r"\frac{\partial L}{\partial h_t} = V^\top \frac{\partial L_t}{\partial o_t} + W^\top \delta_{t+1}",
        r"\delta_t = (1 - h_t^2) \odot \frac{\partial L}{\partial h_t}",
    )
    spectrum_of = "W"
    spectrum_note = ("Going back one step multiplies the gradient by diag(1 − h_t²) W, so W's spectrum "
                     "bounds the reach: ‖∂h_t/∂h_k‖ ≤ σ_max(W)^(t−k).")
    saturation_of = "h_t"
    saturation_note = "fraction of units with |h_t| > 0.95"
    equations = (
        r"a_t = U x_t + W h_{t-1} + b",
        r"h_t = \tanh(a_t)",
        r"o_t = V h_t + c, \quad p_t = \mathrm{softmax}(o_t)",
    )
    script = dedent('''
        # ---- the cell, a vanilla RNN: a_t = U x_t + W h_{t-1} + b, h_t = tanh(a_t); its state is h (H,)
        def zero_state():
            return np.zeros(H)


        def step(x, h):
            """Read token x in state h = h_{t-1}. U x_t is column x of U: an index, never a one-hot product.
            Returns the new state, h_t (the same here), and what back() needs."""
            h_t = np.tanh(U[:, x] + W @ h + b)
            return h_t, h_t, (x, h, h_t)


        def back(dh, ds, cache, dU, dW, db):
            """One step back. dh: ∂L_t/∂h_t through the output; ds: ∂L/∂h_t from the later steps.
            Adds this step's share into dU, dW, db; returns ∂L/∂h_{t-1}."""
            x, h_prev, h_t = cache
            da = (dh + ds) * (1 - h_t * h_t)     # δ_t = ∂L/∂a_t: back through tanh (tanh' = 1 − h²)
            dU[:, x] += da
            dW += np.outer(da, h_prev)
            db += da
            return W.T @ da                      # ∂a_t/∂h_{t-1} = W: the product that vanishes or explodes
    ''')

    def init_params(self, vocab_size, hidden_size, *, seed=0, init="uniform", spectral_radius=None, forget_bias=1.0):
        """init="uniform": every matrix entry ~ U(−1/√n, 1/√n), n = fan-in (the seeds' choice: V for U).
        init="orthogonal": W a random orthogonal matrix (all singular values 1); U and V uniform.
        spectral_radius=ρ: afterwards rescale W so that max|eig(W)| = ρ (ρ < 1 vanishes, ρ > 1 explodes).
        Biases start at zero."""
        V, H = int(vocab_size), int(hidden_size)
        rng = np.random.default_rng(seed)

        def uniform(shape, fan_in):
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
            current = matrix_spectrum(W).rho
            W = W * (rho / current) if current > 0 else W
        return {"U": U, "W": W, "V": Vmat, "b": np.zeros(H), "c": np.zeros(V)}

    def forward(self, params, inputs, s0) -> Cache:
        """inputs: (T,) ids; s0: (H,). cache.dtanh_rows (T, H) = 1 − h_t², the local gate."""
        U, W, b = params["U"], params["W"], params["b"]
        xs = np.asarray(inputs, dtype=np.intp)
        T, H = xs.shape[0], W.shape[1]
        states = np.empty((T + 1, H))
        states[0] = s0
        # U x_t + b for every t at once, parked in h_t's row until the loop adds W h_{t−1}:
        # token ids index columns, never a one-hot product.
        hs = states[1:]
        np.add(U.T[xs], b, out=hs)
        Wh = np.empty(H)
        W_dot, add, tanh = W.dot, np.add, np.tanh  # out= by position: a little cheaper per call
        h_prev = states[0]
        for h in hs:           # row views of states, h = h_t
            W_dot(h_prev, Wh)  # Wh = W h_{t−1}
            add(h, Wh, h)      # a_t = U x_t + b + W h_{t−1}
            tanh(h, h)         # h_t = tanh(a_t)
            h_prev = h
        dtanh = np.multiply(hs, hs)
        np.subtract(1.0, dtanh, out=dtanh)
        return Cache(inputs=xs, s0=s0, hs=hs.T, h_prev=states[:-1].T, h_prev_rows=states[:-1],
                     s_last=hs[-1].copy(), dtanh_rows=dtanh, dtanh=dtanh.T)

    def back_step(self, params, cache, t, dS, dA_x, dA_h):
        """δ_t = dh_t ⊙ (1 − h_t²) (= ∂L/∂a_t, seen by U, b and W alike);  dh_{t−1} = Wᵀ δ_t (rows: δ W)."""
        np.multiply(dS, cache.dtanh_rows[t], dA_x)
        return dA_x.dot(params["W"])

    def reference_step(self, params, x, s):
        return np.tanh(params["U"][:, x] + params["W"] @ s + params["b"])

    def diagnostics(self, params, cache) -> dict:
        """jacobian_norms[t] = ‖diag(1 − h_t²) W‖_F;  saturation[t] = fraction of |h_t| > 0.95."""
        W = params["W"]
        dtanh = cache.dtanh
        row_sq = _vecdot(W, W, axis=1)
        return {
            "jacobian_norms": np.sqrt(row_sq @ (dtanh * dtanh)),
            # |h| > 0.95 ⇔ 1 − h² < 0.0975
            "saturation": np.add.reduce(dtanh < 1 - SATURATED**2, axis=0) / W.shape[0],
            "gates": {},
        }

    def jacobians(self, params, cache) -> np.ndarray:
        """(T, H, H): diag(1 − h_t²) W."""
        return cache.dtanh_rows[:, :, None] * params["W"][None]

    def spectrum(self, params, inputs=None, s0=None) -> Spectrum:
        """Eigenvalues, ρ(W) and σ_max(W): for the vanilla cell they do not depend on the window."""
        return matrix_spectrum(params["W"])


CELL = VanillaRNNCell()  # discovered by rnnviz.cells
