"""The LSTM cell (Hochreiter & Schmidhuber 1997, with a forget gate), PyTorch's gate order i, f, g, o.

    i_t = σ(U_i x_t + W_i h_{t-1} + b_i)     f_t = σ(U_f x_t + W_f h_{t-1} + b_f)
    g_t = tanh(U_g x_t + W_g h_{t-1} + b_g)  o'_t = σ(U_o x_t + W_o h_{t-1} + b_o)
    c_t = f_t ⊙ c_{t-1} + i_t ⊙ g_t          h_t = o'_t ⊙ tanh(c_t)

U: 4H×V, W: 4H×H, b: (4H,), blocks in the order i, f, g, o. The carried state is (2, H) = [h; c]
(flat (2H,) inside the engine). Along the cell path ∂c_t/∂c_{t−1} = diag(f_t): the highway.
σ(a) is computed as 1 / (1 + e^(−a)), one exp for all gates of a step.
"""

from __future__ import annotations

from textwrap import dedent

import numpy as np

from rnnviz.cells.base import SATURATED, Cache, Cell, block_gram, quad_frobenius, sigmoid


class LSTMCell(Cell):
    name = "lstm"
    title = "LSTM"
    blocks = 4
    gate_names = ("i", "f", "o")
    state_parts = ("h", "c")
    part_notes = {"c": "c is the cell state, the LSTM's highway: going back along it, the gradient is only "
                       "multiplied by the forget gate f_t at each step, with no W and no tanh′ in the way."}
    block_names = ("i", "f", "g", "o")
    backward_equations = (
        r"\frac{\partial L}{\partial h_t} = V^\top \frac{\partial L_t}{\partial o_t} + W^\top \delta_{t+1}",
        r"\frac{\partial L}{\partial c_t} = \frac{\partial L}{\partial h_t} \odot o'_t \odot (1 - \tanh^2 c_t)"
        r" + f_{t+1} \odot \frac{\partial L}{\partial c_{t+1}}",
        r"\delta^i_t = \frac{\partial L}{\partial c_t} \odot g_t \odot i_t (1 - i_t) \quad "
        r"\delta^f_t = \frac{\partial L}{\partial c_t} \odot c_{t-1} \odot f_t (1 - f_t)",
        r"\delta^g_t = \frac{\partial L}{\partial c_t} \odot i_t \odot (1 - g_t^2) \quad "
        r"\delta^o_t = \frac{\partial L}{\partial h_t} \odot \tanh c_t \odot o'_t (1 - o'_t)",
    )
    saturation_of = "tanh(c_t)"
    saturation_note = "fraction of units with |tanh(c_t)| > 0.95"
    equations = (
        r"i_t = \sigma(U_i x_t + W_i h_{t-1} + b_i)",
        r"f_t = \sigma(U_f x_t + W_f h_{t-1} + b_f)",
        r"g_t = \tanh(U_g x_t + W_g h_{t-1} + b_g)",
        r"o'_t = \sigma(U_o x_t + W_o h_{t-1} + b_o)",
        r"c_t = f_t \odot c_{t-1} + i_t \odot g_t",
        r"h_t = o'_t \odot \tanh(c_t)",
    )
    script = dedent('''
        # ---- the cell, an LSTM (gate blocks i, f, g, o' stacked in U, W, b, PyTorch's order):
        #   i_t = σ(U_i x_t + W_i h_{t-1} + b_i)     f_t = σ(U_f x_t + W_f h_{t-1} + b_f)
        #   g_t = tanh(U_g x_t + W_g h_{t-1} + b_g)  o'_t = σ(U_o x_t + W_o h_{t-1} + b_o)
        #   c_t = f_t ⊙ c_{t-1} + i_t ⊙ g_t          h_t = o'_t ⊙ tanh(c_t)
        # Its state is s = [h; c], shape (2, H). (c alone is the output bias: the cell state is c_t here.)
        def sigmoid(a):
            return 1 / (1 + np.exp(-a))


        def zero_state():
            return np.zeros((2, H))


        def step(x, s):
            """Read token x (column x of U) in state s = [h_{t-1}; c_{t-1}]. Returns [h_t; c_t], h_t, and
            what back() needs."""
            h_prev, c_prev = s
            a = U[:, x] + W @ h_prev + b                    # every gate's pre-activation at once: (4H,)
            i, f, g, og = sigmoid(a[:H]), sigmoid(a[H:2 * H]), np.tanh(a[2 * H:3 * H]), sigmoid(a[3 * H:])
            c_t = f * c_prev + i * g                        # the cell state: forget some, write some
            tanh_c = np.tanh(c_t)
            h_t = og * tanh_c                               # og is o'_t, the output gate
            return np.array([h_t, c_t]), h_t, (x, h_prev, c_prev, i, f, g, og, tanh_c)


        def back(dh, ds, cache, dU, dW, db):
            """One step back. dh: ∂L_t/∂h_t through the output; ds = [∂L/∂h_t; ∂L/∂c_t] from the later
            steps. Adds this step's share into dU, dW, db; returns [∂L/∂h_{t-1}; ∂L/∂c_{t-1}]."""
            x, h_prev, c_prev, i, f, g, og, tanh_c = cache
            dh = dh + ds[0]
            dc = ds[1] + dh * og * (1 - tanh_c * tanh_c)    # ∂L/∂c_t: from c_{t+1}, and through h_t
            da = np.concatenate([dc * g * i * (1 - i),      # σ'(a) = σ (1 − σ), tanh'(a) = 1 − tanh²
                                 dc * c_prev * f * (1 - f),
                                 dc * i * (1 - g * g),
                                 dh * tanh_c * og * (1 - og)])
            dU[:, x] += da
            dW += np.outer(da, h_prev)
            db += da
            return np.array([W.T @ da, dc * f])             # ∂c_t/∂c_{t-1} = diag(f_t): the highway
    ''')

    def init_bias(self, H, forget_bias=1.0):
        """b_f = forget_bias (1 by default), other biases 0: the forget gate starts mostly open (Gers et al.
        2000; Jozefowicz et al. 2015), so gradients travel along c from the first step; σ(1) ≈ 0.73 of the cell
        state is kept per step, σ(3) ≈ 0.95 (the long-memory race's setting: 0.95³⁰ ≈ 0.2 survives a line)."""
        b = np.zeros(4 * H)
        b[H:2 * H] = forget_bias
        return b

    def forward(self, params, inputs, s0) -> Cache:
        U, W, b = params["U"], params["W"], params["b"]
        xs = np.asarray(inputs, dtype=np.intp)
        T, H = xs.shape[0], W.shape[1]
        s0 = np.asarray(s0, dtype=np.float64).reshape(2, H)
        # The loop works on the NEGATED pre-activation ā = −(U x_t + W h_{t−1} + b): then
        # σ(a) = 1 / (1 + e^ā) needs one exp for i, f, o together (NumPy's exp is vectorised,
        # its float64 tanh is not: 5.9 µs for 400 numbers against 2.5), and −g = tanh(ā_g).
        Y = np.add(U.T[xs], b)                # (T, 4H) row t: U x_t + b, then ā_t, then i, f, g, o'
        np.negative(Y, out=Y)
        hs_all = np.empty((T + 1, H))
        hs_all[0] = s0[0]
        # Loop step t (0-based) turns the cell state in M[t, H:] into the one in M[t+1, H:]. It
        # keeps −g of that step beside its incoming state, M[t] = [−g, c_in], so that
        # [i, f] ⊙ M[t] = [−i ⊙ g, f ⊙ c_in] is one product and the new c is the difference of its halves.
        M = np.empty((T + 1, 2 * H))
        M[0, H:] = s0[1]
        tc = np.empty((T, H))                 # tanh(c_t)
        prod = np.empty(2 * H)
        neg_ig, fc = prod[:H], prod[H:]
        Wh = np.empty(4 * H)
        W_dot, subtract, multiply, tanh, exp, add, divide = (W.dot, np.subtract, np.multiply, np.tanh, np.exp,
                                                             np.add, np.divide)
        with np.errstate(over="ignore"):      # e^ā = ∞ gives σ = 0, as it should
            for t in range(T):
                a, m = Y[t], M[t]
                W_dot(hs_all[t], Wh)
                subtract(a, Wh, a)            # ā_t
                tanh(a[2 * H:3 * H], m[:H])   # −g_t
                exp(a, a)
                add(a, 1.0, a)
                divide(1.0, a, a)             # i, f, o' = σ(a) (the g block's is not used)
                multiply(a[:2 * H], m, prod)
                c = M[t + 1, H:]
                subtract(fc, neg_ig, c)       # c_t = f ⊙ c_{t−1} + i ⊙ g
                tanh(c, tc[t])
                multiply(a[3 * H:], tc[t], hs_all[t + 1])   # h_t = o' ⊙ tanh(c_t)
        Gi, Gf, Gg, Go = (Y[:, k * H:(k + 1) * H] for k in range(4))   # (T, H) each: i, f, g, o'
        np.negative(M[:T, :H], out=Gg)        # g into its block of Y (the loop left σ of junk there)
        cs_all = M[:, H:]                     # (T+1, H) c_0 … c_T (c_0 entering the window)
        coef3 = np.empty((T, 3, H))           # dA_{i,f,g} = dc_t ⊙ coef3
        np.multiply(Gi, 1.0 - Gi, out=coef3[:, 0])
        coef3[:, 0] *= Gg
        np.multiply(Gf, 1.0 - Gf, out=coef3[:, 1])
        coef3[:, 1] *= cs_all[:-1]
        np.multiply(Gg, Gg, out=coef3[:, 2])
        np.subtract(1.0, coef3[:, 2], out=coef3[:, 2])
        coef3[:, 2] *= Gi
        k = tc * tc
        np.subtract(1.0, k, out=k)
        k *= Go                                # ∂h_t/∂c_t = diag(o' ⊙ (1 − tanh² c_t))
        coef_o = np.subtract(1.0, Go)
        coef_o *= Go
        coef_o *= tc                          # dA_o = dh_t ⊙ tanh(c_t) ⊙ σ'(o)
        return Cache(inputs=xs, s0=s0, hs=hs_all[1:].T, h_prev=hs_all[:-1].T, h_prev_rows=hs_all[:-1],
                     s_last=np.array([hs_all[-1], cs_all[-1]]), gates=Y.reshape(T, 4, H), tanh_c=tc,
                     cs=cs_all[1:].T, k=k, coef3=coef3, coef_o=coef_o, f=np.ascontiguousarray(Gf))

    def back_step(self, params, cache, t, dS, dA_x, dA_h):
        H = cache.k.shape[1]
        dh, dc = dS[..., :H], dS[..., H:]
        dc += dh * cache.k[t]                 # total ∂L/∂c_t: from c_{t+1} and through h_t
        dA4 = dA_x.reshape(dA_x.shape[:-1] + (4, H))
        np.multiply(dc[..., None, :], cache.coef3[t], out=dA4[..., :3, :])
        np.multiply(dh, cache.coef_o[t], out=dA4[..., 3, :])
        prev = np.empty_like(dS)
        prev[..., :H] = dA_x.dot(params["W"])   # ndarray.dot: less call overhead than matmul
        np.multiply(dc, cache.f[t], out=prev[..., H:])   # ∂c_t/∂c_{t−1} = diag(f_t)
        return prev

    def reference_step(self, params, x, s):
        H = params["W"].shape[1]
        h, c = s[0], s[1]
        a = params["U"][:, x] + params["W"] @ h + params["b"]
        i, f, g, o = sigmoid(a[:H]), sigmoid(a[H:2 * H]), np.tanh(a[2 * H:3 * H]), sigmoid(a[3 * H:])
        c = f * c + i * g
        return np.stack([o * np.tanh(c), c])

    @staticmethod
    def _jacobian_rows(cache):
        """E (2, T, H, 4): J_t = [[Σ_b diag(E[0, t, :, b]) W_b, diag(k ⊙ f)], [Σ_b diag(E[1, t, :, b]) W_b, diag(f)]]."""
        H, T = cache.hs.shape
        E = np.zeros((2, T, H, 4))                    # E[1]: ∂c_t/∂h_{t−1} = Σ_b diag(E[1]_b) W_b
        E[1, :, :, :3] = cache.coef3.transpose(0, 2, 1)
        np.multiply(E[1], cache.k[:, :, None], out=E[0])   # E[0]: ∂h_t/∂h_{t−1} = diag(k) ∂c_t/∂h_{t−1} + diag(coef_o) W_o
        E[0, :, :, 3] = cache.coef_o
        return E

    def mean_jacobian(self, params, cache):
        """J̄ in closed form: J_t is linear in its row scales, so J̄ uses their means over t."""
        W = params["W"]
        H = W.shape[1]
        EA, EC = self._jacobian_rows(cache).mean(axis=1)
        W4 = W.reshape(4, H, H)
        J = np.empty((2 * H, 2 * H))
        J[:H, :H] = np.einsum("hb,bhj->hj", EA, W4)
        J[H:, :H] = np.einsum("hb,bhj->hj", EC, W4)
        J[:H, H:] = np.diag((cache.k * cache.f).mean(axis=0))
        J[H:, H:] = np.diag(cache.f.mean(axis=0))
        return J

    def diagnostics(self, params, cache) -> dict:
        """jacobian_norms[t] = ‖∂(h_t, c_t)/∂(h_{t−1}, c_{t−1})‖_F (exact, in closed form);
        saturation[t]: fraction of |tanh(c_t)| > 0.95;  gates: mean of i_t, f_t, o'_t over units."""
        H, T = cache.hs.shape
        E = self._jacobian_rows(cache).reshape(2 * T, H, 4)   # both row blocks in one product
        q = quad_frobenius(E, block_gram(params["W"], 4))
        f, kf = cache.f, cache.k * cache.f
        sq = q[:T] + q[T:] + np.einsum("th,th->t", kf, kf) + np.einsum("th,th->t", f, f)  # + ‖∂h_t/∂c_{t−1}‖² + ‖∂c_t/∂c_{t−1}‖²
        means = cache.gates.mean(axis=2)              # (T, 4): i, f, g, o'
        return {"jacobian_norms": np.sqrt(sq),
                "saturation": np.count_nonzero(np.abs(cache.tanh_c) > SATURATED, axis=1) / H,
                "gates": {"i": means[:, 0], "f": means[:, 1], "o": means[:, 3]}}


CELL = LSTMCell()
