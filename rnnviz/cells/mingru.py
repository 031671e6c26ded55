"""minGRU (Feng, Tung, Ahmed, Bengio & Hajimirsadeghi 2024, "Were RNNs All We Needed?"), the smallest
gated linear recurrence: the GRU with its gates cut off from h_{t−1}.

    z_t = σ(U_z x_t + b_z)        h̃_t = U_h x_t + b_h        h_t = (1 − z_t) ⊙ h_{t−1} + z_t ⊙ h̃_t

U: 2H×V (blocks z, h̃), b: (2H,); there is no recurrent matrix W (it is stored as a 0×H array, so
every part of the engine that sums over W's rows sums over none). State (H,).

Nothing inside the recurrence reads h_{t−1} except the mix itself, so going back one step multiplies the
gradient by exactly ∂h_t/∂h_{t−1} = diag(1 − z_t): the LSTM's forget-gate highway (∂c_t/∂c_{t−1} =
diag(f_t)) with nothing else in the way. Where the gate stays shut (z ≈ 0) the state and its gradient
pass unchanged; where it opens (z ≈ 1) the state is overwritten and the gradient stops. Because z_t and
h̃_t depend on the input alone, the whole window's gates are computed at once; only the mix loops in
time (and it is a linear recurrence: the bridge to today's parallel scans and state-space models).
"""

from __future__ import annotations

from textwrap import dedent

import numpy as np

from rnnviz.cells.base import Cache, Cell, sigmoid

GATE_SHUT = 0.05   # z_t below this: 1 − z_t > 0.95, the unit keeps its state (and passes its gradient back)


class MinGRUCell(Cell):
    name = "mingru"
    title = "minGRU"
    blocks = 2
    gate_names = ("z",)
    block_names = ("z", "h̃")
    separate_h_preact = True            # W h_{t−1} feeds nothing: dA_h has no columns at all
    backward_equations = (
        r"\frac{\partial L}{\partial h_t} = V^\top \frac{\partial L_t}{\partial o_t} + (1 - z_{t+1}) \odot "
        r"\frac{\partial L}{\partial h_{t+1}}",
        r"\delta^z_t = \frac{\partial L}{\partial h_t} \odot (\tilde h_t - h_{t-1}) \odot z_t (1 - z_t) \quad "
        r"\delta^{\tilde h}_t = \frac{\partial L}{\partial h_t} \odot z_t",
    )
    saturation_of = "z_t"
    saturation_note = "fraction of units whose update gate z_t > 0.95 (h_{t−1} all but overwritten: its gradient stops)"
    spectrum_note = ("For the minGRU ∂h_t/∂h_{t−1} = diag(1 − z_t) exactly, so J̄ is diagonal and its eigenvalues are "
                     "each unit's mean 1 − z_t: real, between 0 and 1, never outside the unit circle. A value near 1 "
                     "is a unit that remembers (and passes its gradient back) for many steps.")
    part_notes = {}
    recurrence = "1−z"
    recurrence_note = ("no W: h_{t−1} reaches h_t only through the mix ⊙ (1 − z_t), which has no weights, "
                       "so the gradient crosses a step multiplied by 1 − z_t alone")
    equations = (
        r"z_t = \sigma(U_z x_t + b_z)",
        r"\tilde h_t = U_h x_t + b_h",
        r"h_t = (1 - z_t) \odot h_{t-1} + z_t \odot \tilde h_t",
    )
    script = dedent('''
        # ---- the cell, a minGRU (Feng et al. 2024; blocks z, h~ stacked in U and b; there is no W):
        #   z_t = σ(U_z x_t + b_z)     h~_t = U_h x_t + b_h     h_t = (1 − z_t) ⊙ h_{t-1} + z_t ⊙ h~_t
        # Its state is h (H,). W is stored empty (0×H): the gates do not read h_{t-1}.
        def sigmoid(a):
            return 1 / (1 + np.exp(-a))


        def zero_state():
            return np.zeros(H)


        def step(x, h):
            """Read token x (column x of U) in state h = h_{t-1}. Returns h_t, h_t, and what back() needs."""
            a = U[:, x] + b
            z, h_tilde = sigmoid(a[:H]), a[H:]
            h_t = (1 - z) * h + z * h_tilde                 # keep 1 − z of the old state, write z of the new
            return h_t, h_t, (x, h, z, h_tilde)


        def back(dh, ds, cache, dU, dW, db):
            """One step back. dh: ∂L_t/∂h_t through the output; ds: ∂L/∂h_t from the later steps.
            Adds this step's share into dU, db (W has no entries); returns ∂L/∂h_{t-1}."""
            x, h_prev, z, h_tilde = cache
            dh = dh + ds
            da = np.concatenate([dh * (h_tilde - h_prev) * z * (1 - z), dh * z])
            dU[:, x] += da
            db += da
            return dh * (1 - z)                             # ∂h_t/∂h_{t-1} = diag(1 − z_t), nothing else
    ''')

    def param_shapes(self, vocab_size, hidden_size):
        """U (2H×V), W (0×H: none), V (V×H), b (2H,), c (V,)."""
        shapes = super().param_shapes(vocab_size, hidden_size)
        shapes["W"] = (0, int(hidden_size))
        return shapes

    def init_params(self, vocab_size, hidden_size, *, seed=0, init="uniform", spectral_radius=None, forget_bias=1.0):
        """U, V ~ U(−1/√H, 1/√H) as the other gated cells; biases 0 (z starts near ½); W empty.
        init="orthogonal" has no W to act on and changes nothing; spectral_radius is refused."""
        p = super().init_params(vocab_size, hidden_size, seed=seed, init="uniform", spectral_radius=spectral_radius)
        p["W"] = np.zeros((0, int(hidden_size)))
        return p

    def forward(self, params, inputs, s0) -> Cache:
        U, b = params["U"], params["b"]
        xs = np.asarray(inputs, dtype=np.intp)
        T, H = xs.shape[0], params["W"].shape[1]
        A = np.add(U.T[xs], b)                 # (T, 2H): [a_z, h̃] for every step at once (no h in them)
        z = sigmoid(A[:, :H])
        h_tilde = A[:, H:]
        hs_all = np.empty((T + 1, H))
        hs_all[0] = np.asarray(s0, dtype=np.float64).reshape(H)
        keep = 1.0 - z
        zh = z * h_tilde
        for t in range(T):                     # the only loop: h_t = (1 − z_t) ⊙ h_{t−1} + z_t ⊙ h̃_t
            np.multiply(keep[t], hs_all[t], out=hs_all[t + 1])
            hs_all[t + 1] += zh[t]
        hp = hs_all[:-1]
        return Cache(inputs=xs, s0=hs_all[0], hs=hs_all[1:].T, h_prev=hp.T, h_prev_rows=hp, s_last=hs_all[-1].copy(),
                     z=z, keep=keep, h_tilde=h_tilde,
                     coef_z=(h_tilde - hp) * z * keep)   # dA_z = dh ⊙ (h̃ − h_{t−1}) ⊙ σ'(a_z)

    def back_step(self, params, cache, t, dS, dA_x, dA_h):
        H = cache.z.shape[1]
        np.multiply(dS, cache.coef_z[t], out=dA_x[..., :H])
        np.multiply(dS, cache.z[t], out=dA_x[..., H:])
        return dS * cache.keep[t]             # ∂h_t/∂h_{t−1} = diag(1 − z_t); dA_h has no columns

    def reference_step(self, params, x, s):
        H = params["W"].shape[1]
        a = params["U"][:, x] + params["b"]
        z = sigmoid(a[:H])
        return (1 - z) * s + z * a[H:]

    def jacobians(self, params, cache) -> np.ndarray:
        """(T, H, H): diag(1 − z_t)."""
        T, H = cache.keep.shape
        J = np.zeros((T, H, H))
        J[:, np.arange(H), np.arange(H)] = cache.keep
        return J

    def mean_jacobian(self, params, cache) -> np.ndarray:
        """J̄ = diag(mean over t of 1 − z_t)."""
        return np.diag(cache.keep.mean(axis=0))

    def diagnostics(self, params, cache) -> dict:
        """jacobian_norms[t] = ‖diag(1 − z_t)‖_F;  saturation[t]: fraction of units with z_t > 0.95;
        gates: the mean of z_t over units."""
        keep, z = cache.keep, cache.z
        return {"jacobian_norms": np.sqrt(np.einsum("th,th->t", keep, keep)),
                "saturation": np.mean(z > 1 - GATE_SHUT, axis=1),
                "gates": {"z": z.mean(axis=1)}}


CELL = MinGRUCell()
