"""The vanilla (Elman) RNN cell: forward over a window, and its exact backward pass.

    a_t = U x_t + W h_{t-1} + b        h_t = tanh(a_t)

Shapes: H hidden units, T time steps. Hidden states are kept as columns: ``hs`` is H×T, and
``hs[:, t]`` is h_t. Only the recurrence itself loops over t in Python; everything that does not
depend on the previous step (the input columns, tanh', weight gradients) is one array operation.

Truncated BPTT with length k (the word-level seed's ``bptt_truncate``): each loss term L_t sends its
gradient back through its own step and at most k earlier steps. We carry the gradients of the loss
terms that are still "live" as columns of one matrix, so a step back costs one H×H by H×(k+1)
product instead of k+1 separate sweeps.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from rnnviz.vecdot import vecdot as _vecdot


@dataclass
class CellCache:
    """What the forward pass keeps for the backward pass.

    inputs: (T,) token ids x_t;  h0: (H,) state before the window;
    hs: (H, T) hidden states h_1..h_T;  h_prev: (H, T) with h_prev[:, t] = h_{t-1}.
    hs, h_prev and dtanh are transposed views of row-major (T, H) arrays, so the Python loops over
    t read and write contiguous rows while the rest of the code keeps the H×T notation.
    """

    inputs: np.ndarray
    h0: np.ndarray
    hs: np.ndarray
    h_prev: np.ndarray
    dtanh: np.ndarray  # (H, T) tanh'(a_t) = 1 − h_t², the local gate every gradient passes through


@dataclass
class CellBackward:
    """Backward pass results. grads: dU (H×V), dW (H×H), db (H,).

    dh: (H, T) the total gradient ∂L/∂h_t that BPTT assigns to h_t (from its own output and, up
    to the truncation, from the future). delta: (H, T) ∂L/∂a_t, the same through tanh'.
    """

    grads: dict[str, np.ndarray]
    dh: np.ndarray
    delta: np.ndarray


class VanillaRNNCell:
    """h_t = tanh(U x_t + W h_{t-1} + b). Owns U, W, b."""

    name = "rnn"
    param_names = ("U", "W", "b")

    def forward(self, params, inputs, h0: np.ndarray) -> CellCache:
        """Run the window. inputs: (T,) ids; h0: (H,). Returns the cache with hs (H, T)."""
        U, W, b = params["U"], params["W"], params["b"]
        xs = np.asarray(inputs, dtype=np.intp)
        T, H = xs.shape[0], W.shape[0]
        # Rows are time steps here (T×H, contiguous) so the loop touches contiguous memory;
        # the cache exposes the H×T transposed views the rest of the code is written in.
        states = np.empty((T + 1, H))
        states[0] = h0
        # U x_t + b for every t at once, parked in h_t's row until the loop adds W h_{t−1}:
        # token ids index columns, never a one-hot product.
        hs = states[1:]
        np.add(U.T[xs], b, out=hs)
        Wh = np.empty(H)
        # The only Python loop: three calls per step, each writing into an existing array (the
        # last argument is out=, given by position, and W.dot is a bound method: both are a little
        # cheaper per call, which counts 25 times per window).
        W_dot, add, tanh = W.dot, np.add, np.tanh
        h_prev = states[0]
        for h in hs:           # row views of states, h = h_t
            W_dot(h_prev, Wh)  # Wh = W h_{t−1}
            add(h, Wh, h)      # a_t = U x_t + b + W h_{t−1}
            tanh(h, h)         # h_t = tanh(a_t)
            h_prev = h
        dtanh = np.multiply(hs, hs)
        np.subtract(1.0, dtanh, out=dtanh)  # (T, H), row-major like states
        return CellCache(inputs=xs, h0=h0, hs=hs.T, h_prev=states[:-1].T, dtanh=dtanh.T)

    def step(self, params, x: int, h: np.ndarray) -> np.ndarray:
        """One time step (for sampling): h_new = tanh(U[:, x] + W h + b), shape (H,)."""
        return np.tanh(params["U"][:, x] + params["W"] @ h + params["b"])

    def backward(self, params, cache: CellCache, dh_out: np.ndarray, truncate: int | None,
                 out: dict | None = None) -> CellBackward:
        """Exact (truncated) BPTT. dh_out: (H, T) with column t = ∂L_t/∂h_t through o_t only.

        out: optional {"U", "W", "b"} arrays, all zeros, to write the weight gradients into."""
        W = params["W"]
        H, T = cache.hs.shape
        dtanh = cache.dtanh
        WT = W.T
        if truncate is None or truncate >= T - 1:
            # Full BPTT: the gradients of all loss terms reaching h_t can be summed into one vector:
            #   dh_t = ∂L_t/∂h_t + Wᵀ δ_{t+1},   δ_t = dh_t ⊙ tanh'(a_t).
            # Rows are time steps (contiguous). dh starts as a copy of ∂L_t/∂h_t, to which the
            # loop adds what comes back from the future (a plain copy: the head returns dh_out
            # as the transposed view of a row-major array).
            dh_rows = np.array(dh_out.T, order="C")
            delta_rows = np.empty((T, H))
            dt_rows = np.ascontiguousarray(dtanh.T)  # no copy: forward made it row-major
            WTdelta = np.empty(H)
            WT_dot, add, multiply = WT.dot, np.add, np.multiply  # out= by position, as in forward
            delta_next = delta_rows[-1]
            multiply(dh_rows[-1], dt_rows[-1], delta_next)  # nothing comes back from beyond the window
            # t = T−2 … 0 (reversed row views); no Wᵀ δ_0: h_{−1} is a constant here.
            for dh_t, dt_t, delta_t in zip(dh_rows[-2::-1], dt_rows[-2::-1], delta_rows[-2::-1], strict=True):
                WT_dot(delta_next, WTdelta)      # Wᵀ δ_{t+1}
                add(dh_t, WTdelta, dh_t)         # dh_t
                multiply(dh_t, dt_t, delta_t)    # δ_t
                delta_next = delta_t
            dh, delta = dh_rows.T, delta_rows.T
        else:
            k = int(truncate)
            if k < 0:
                raise ValueError(f"truncation must be ≥ 0 or None (got {truncate})")
            # live[:, t] = ∂L_t/∂h_j for the loss terms t ∈ [j, j+k] still allowed to reach h_j.
            dh = np.empty((H, T))
            live = np.zeros((H, T))
            for j in range(T - 1, -1, -1):
                live[:, j] = dh_out[:, j]
                hi = min(T, j + k + 1)
                dh[:, j] = live[:, j:hi].sum(axis=1)
                keep = min(T, j + k) - j  # loss terms that may still go one step further back
                if j > 0 and keep > 0:
                    live[:, j:j + keep] = WT @ (live[:, j:j + keep] * dtanh[:, j:j + 1])
            delta = dh * dtanh
        return CellBackward(grads=self.weight_grads(params, cache, delta, out), dh=dh, delta=delta)

    @staticmethod
    def weight_grads(params, cache: CellCache, delta: np.ndarray, out: dict | None = None) -> dict[str, np.ndarray]:
        """dU, dW, db from δ_t = ∂L/∂a_t (H, T): single matrix operations over the window.

        out: optional zero-filled {"U", "W", "b"} arrays to write into (new ones if None)."""
        if out is None:
            out = {k: np.zeros_like(params[k]) for k in ("U", "W", "b")}
        np.matmul(delta, cache.h_prev.T, out=out["W"])
        # Only the columns of the tokens seen get a gradient; repeated tokens must add up,
        # hence add.at (a fancy-index += would keep only one of them).
        dU = out["U"]
        H, V = dU.shape
        if dU.flags.c_contiguous:
            # On flat indices (entry (i, x_t) of dU is i·V + x_t) add.at takes NumPy's fast 1-D
            # path, several times quicker than indexing the columns of a 2-D view.
            at = cache.inputs[:, None] + np.arange(0, H * V, V)  # (T, H): row t is column x_t of dU
            np.add.at(dU.reshape(-1), at.ravel(), delta.T.ravel())  # a view when δ is row-major (T, H)
        else:
            np.add.at(dU.T, cache.inputs, delta.T)
        np.add.reduce(delta, axis=1, out=out["b"])  # the ufunc itself: np.sum adds a Python layer
        return out

    def reach(self, params, cache: CellCache, dh_out: np.ndarray) -> np.ndarray:
        """R (T, T) with R[t, k] = ‖∂L_t/∂h_k‖ for k ≤ t, 0 above the diagonal (full BPTT).

        All loss terms are propagated together as columns of one matrix, so this costs about one
        extra backward pass of H×H by H×T products rather than T separate sweeps.
        """
        WT = params["W"].T
        H, T = cache.hs.shape
        dtanh = cache.dtanh
        R = np.zeros((T, T))
        G = np.zeros((H, T))  # G[:, t] = ∂L_t/∂h_j at the current j, for t ≥ j
        for j in range(T - 1, -1, -1):
            G[:, j] = dh_out[:, j]
            R[j:, j] = np.linalg.norm(G[:, j:], axis=0)
            if j > 0:
                G[:, j:] = WT @ (G[:, j:] * dtanh[:, j:j + 1])
        return R

    def diagnostics(self, params, cache: CellCache, delta: np.ndarray) -> dict[str, np.ndarray]:
        """Cheap per-time-step numbers for the charts, each of shape (T,).

        dW_contrib[t] = ‖δ_t h_{t−1}ᵀ‖_F = ‖δ_t‖·‖h_{t−1}‖ (a rank-one term's norm is a product);
        dU_contrib[t] = ‖δ_t‖ (the column U[:, x_t] receives δ_t);
        jacobian_norms[t] = ‖∂h_t/∂h_{t−1}‖_F = ‖diag(1 − h_t²) W‖_F;
        saturation[t] = fraction of units with |h_t| > 0.95 (tanh' < 0.1 there: gradients die).
        """
        W = params["W"]
        H = W.shape[0]
        dtanh = cache.dtanh
        delta_norms = np.sqrt(_vecdot(delta, delta, axis=0))
        row_sq = _vecdot(W, W, axis=1)
        return {
            "dW_contrib": delta_norms * np.sqrt(_vecdot(cache.h_prev, cache.h_prev, axis=0)),
            "dU_contrib": delta_norms,
            "jacobian_norms": np.sqrt(row_sq @ (dtanh * dtanh)),
            # |h| > 0.95 ⇔ 1 − h² < 0.0975; summing the booleans is cheaper than a mean or
            # np.count_nonzero along an axis.
            "saturation": np.add.reduce(dtanh < 1 - 0.95**2, axis=0) / H,
        }


CELL = VanillaRNNCell()  # discovered by rnnviz.cells
