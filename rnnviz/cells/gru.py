"""The GRU cell (Cho et al. 2014) in PyTorch's form, gate order r, z, n, one bias per gate.

    r_t = σ(U_r x_t + W_r h_{t-1} + b_r)     z_t = σ(U_z x_t + W_z h_{t-1} + b_z)
    n_t = tanh(U_n x_t + b_n + r_t ⊙ (W_n h_{t-1}))
    h_t = (1 − z_t) ⊙ n_t + z_t ⊙ h_{t-1}

U: 3H×V, W: 3H×H, b: (3H,); state (H,). The reset gate multiplies W_n h_{t−1}, so the gradient
that W_n sees is r_t ⊙ (that of U_n and b_n): the one place where dA_h differs from dA_x.
"""

from __future__ import annotations

from textwrap import dedent

import numpy as np

from rnnviz.cells.base import SATURATED, Cache, Cell, block_gram, quad_frobenius, sigmoid


class GRUCell(Cell):
    name = "gru"
    title = "GRU"
    blocks = 3
    gate_names = ("r", "z")
    separate_h_preact = True
    block_names = ("r", "z", "n")
    backward_equations = (
        r"\frac{\partial L}{\partial h_t} = V^\top \frac{\partial L_t}{\partial o_t} + z_{t+1} \odot "
        r"\frac{\partial L}{\partial h_{t+1}} + W_{r,z}^\top \delta^{r,z}_{t+1} + W_n^\top (r_{t+1} \odot \delta^n_{t+1})",
        r"\delta^n_t = \frac{\partial L}{\partial h_t} \odot (1 - z_t) \odot (1 - n_t^2) \quad "
        r"\delta^z_t = \frac{\partial L}{\partial h_t} \odot (h_{t-1} - n_t) \odot z_t (1 - z_t)",
        r"\delta^r_t = \delta^n_t \odot (W_n h_{t-1}) \odot r_t (1 - r_t)",
    )
    saturation_of = "n_t"
    saturation_note = "fraction of units with |n_t| > 0.95"
    equations = (
        r"r_t = \sigma(U_r x_t + W_r h_{t-1} + b_r)",
        r"z_t = \sigma(U_z x_t + W_z h_{t-1} + b_z)",
        r"n_t = \tanh(U_n x_t + b_n + r_t \odot (W_n h_{t-1}))",
        r"h_t = (1 - z_t) \odot n_t + z_t \odot h_{t-1}",
    )
    script = dedent('''
        # ---- the cell, a GRU (gate blocks r, z, n stacked in U, W, b, PyTorch's order):
        #   r_t = σ(U_r x_t + W_r h_{t-1} + b_r)     z_t = σ(U_z x_t + W_z h_{t-1} + b_z)
        #   n_t = tanh(U_n x_t + b_n + r_t ⊙ (W_n h_{t-1}))
        #   h_t = (1 − z_t) ⊙ n_t + z_t ⊙ h_{t-1}    its state is h (H,)
        def sigmoid(a):
            return 1 / (1 + np.exp(-a))


        def zero_state():
            return np.zeros(H)


        def step(x, h):
            """Read token x (column x of U) in state h = h_{t-1}. Returns h_t, h_t, and what back() needs."""
            ax, wh = U[:, x] + b, W @ h                     # (3H,) each: the input's and the state's parts
            r = sigmoid(ax[:H] + wh[:H])
            z = sigmoid(ax[H:2 * H] + wh[H:2 * H])
            n = np.tanh(ax[2 * H:] + r * wh[2 * H:])       # the reset gate scales what W_n reads from h
            h_t = (1 - z) * n + z * h
            return h_t, h_t, (x, h, r, z, n, wh)


        def back(dh, ds, cache, dU, dW, db):
            """One step back. dh: ∂L_t/∂h_t through the output; ds: ∂L/∂h_t from the later steps.
            Adds this step's share into dU, dW, db; returns ∂L/∂h_{t-1}."""
            x, h_prev, r, z, n, wh = cache
            dh = dh + ds
            dn = dh * (1 - z) * (1 - n * n)
            dz = dh * (h_prev - n) * z * (1 - z)
            dr = dn * wh[2 * H:] * r * (1 - r)
            da = np.concatenate([dr, dz, dn])               # what U x_t + b feeds
            dah = np.concatenate([dr, dz, r * dn])          # what W h_{t-1} feeds: W_n's is scaled by r_t
            dU[:, x] += da
            dW += np.outer(dah, h_prev)
            db += da
            return W.T @ dah + dh * z                       # through the gates, and straight through z ⊙ h_{t-1}
    ''')

    def init_params(self, vocab_size, hidden_size, *, seed=0, init="uniform", spectral_radius=None, forget_bias=1.0):
        """Weights ~ U(−1/√H, 1/√H) as PyTorch's nn.GRU; biases 0 (see Cell.init_params; no forget gate)."""
        return super().init_params(vocab_size, hidden_size, seed=seed, init=init, spectral_radius=spectral_radius)

    def forward(self, params, inputs, s0) -> Cache:
        U, W, b = params["U"], params["W"], params["b"]
        xs = np.asarray(inputs, dtype=np.intp)
        T, H = xs.shape[0], W.shape[1]
        # r and z come from the NEGATED pre-activation ā = −(U x_t + W h_{t−1} + b) as
        # σ(a) = 1 / (1 + e^ā): NumPy's float64 exp is vectorised, its tanh is not.
        P = np.add(U.T[xs], b)                 # (T, 3H) U x_t + b, negated in the r and z blocks
        np.negative(P[:, :2 * H], out=P[:, :2 * H])
        Ws = W.copy()
        np.negative(Ws[:2 * H], out=Ws[:2 * H])
        hs_all = np.empty((T + 1, H))
        hs_all[0] = np.asarray(s0, dtype=np.float64).reshape(H)
        WH = np.empty((T, 3 * H))              # W h_{t−1} (r, z rows negated); WH[:, 2H:] = W_n h_{t−1}
        RZ = np.empty((T, 2 * H))
        N = np.empty((T, H))
        Ws_dot, add, multiply, tanh, subtract, exp, divide = (Ws.dot, np.add, np.multiply, np.tanh, np.subtract,
                                                              np.exp, np.divide)
        with np.errstate(over="ignore"):      # e^ā = ∞ gives σ = 0, as it should
            for t in range(T):
                wh, rz, n, h, hp = WH[t], RZ[t], N[t], hs_all[t + 1], hs_all[t]
                Ws_dot(hp, wh)
                add(P[t, :2 * H], wh[:2 * H], rz)
                exp(rz, rz)
                add(rz, 1.0, rz)
                divide(1.0, rz, rz)            # r, z
                multiply(rz[:H], wh[2 * H:], n)
                add(n, P[t, 2 * H:], n)
                tanh(n, n)                     # n_t
                subtract(hp, n, h)
                multiply(rz[H:], h, h)
                add(h, n, h)                   # h_t = n + z ⊙ (h_{t−1} − n)
        r, z = RZ[:, :H], RZ[:, H:]
        hp = hs_all[:-1]
        cn = (1.0 - z) * (1.0 - N * N)         # dA_n (U's view) = dh ⊙ cn
        coef_zn = np.empty((T, 2, H))
        coef_zn[:, 0] = (hp - N) * z * (1.0 - z)
        coef_zn[:, 1] = cn
        return Cache(inputs=xs, s0=hs_all[0], hs=hs_all[1:].T, h_prev=hp.T, h_prev_rows=hp,
                     s_last=hs_all[-1].copy(), r=r, z=np.ascontiguousarray(z), n=N, coef_zn=coef_zn,
                     cr=WH[:, 2 * H:] * r * (1.0 - r),   # dA_r = dA_n ⊙ W_n h_{t−1} ⊙ σ'(r)
                     cnr=cn * r)                         # W_n sees r ⊙ dA_n

    def back_step(self, params, cache, t, dS, dA_x, dA_h):
        H = cache.n.shape[1]
        shape = dA_x.shape[:-1] + (3, H)
        dA3, dAh3 = dA_x.reshape(shape), dA_h.reshape(shape)
        np.multiply(dS[..., None, :], cache.coef_zn[t], out=dA3[..., 1:, :])
        np.multiply(dA3[..., 2, :], cache.cr[t], out=dA3[..., 0, :])
        dAh3[..., :2, :] = dA3[..., :2, :]
        np.multiply(dS, cache.cnr[t], out=dAh3[..., 2, :])
        prev = dA_h.dot(params["W"])
        prev += dS * cache.z[t]                # the direct path h_{t−1} → z ⊙ h_{t−1}
        return prev

    def reference_step(self, params, x, s):
        H = params["W"].shape[1]
        U, W, b = params["U"], params["W"], params["b"]
        ax = U[:, x] + b
        wh = W @ s
        r = sigmoid(ax[:H] + wh[:H])
        z = sigmoid(ax[H:2 * H] + wh[H:2 * H])
        n = np.tanh(ax[2 * H:] + r * wh[2 * H:])
        return (1 - z) * n + z * s

    @staticmethod
    def _jacobian_rows(cache):
        """E (T, H, 3): J_t = diag(z_t) + Σ_b diag(E_b) W_b."""
        H, T = cache.hs.shape
        E = np.empty((T, H, 3))
        E[:, :, 0] = cache.coef_zn[:, 1] * cache.cr
        E[:, :, 1] = cache.coef_zn[:, 0]
        E[:, :, 2] = cache.cnr
        return E

    def mean_jacobian(self, params, cache):
        """J̄ in closed form: J_t is linear in its row scales, so J̄ uses their means over t."""
        W = params["W"]
        H = W.shape[1]
        J = np.einsum("hb,bhj->hj", self._jacobian_rows(cache).mean(axis=0), W.reshape(3, H, H))
        J[np.diag_indices(H)] += cache.z.mean(axis=0)
        return J

    def diagnostics(self, params, cache) -> dict:
        """jacobian_norms[t] = ‖∂h_t/∂h_{t−1}‖_F = ‖diag(z_t) + Σ_b diag(e_b) W_b‖_F (closed form);
        saturation[t]: fraction of |n_t| > 0.95;  gates: mean of r_t, z_t over units."""
        W = params["W"]
        H, T = cache.hs.shape
        E = self._jacobian_rows(cache)
        Wdiag = np.diagonal(W.reshape(3, H, H), axis1=1, axis2=2)   # (3, H): W_b[i, i]
        z = cache.z
        sq = (quad_frobenius(E, block_gram(W, 3)) + 2 * np.einsum("th,th->t", z, np.einsum("thb,bh->th", E, Wdiag))
              + np.einsum("th,th->t", z, z))
        return {"jacobian_norms": np.sqrt(np.maximum(sq, 0.0)),
                "saturation": np.mean(np.abs(cache.n) > SATURATED, axis=1),
                "gates": {"r": cache.r.mean(axis=1), "z": cache.z.mean(axis=1)}}


CELL = GRUCell()
