"""What each time step adds to the weight gradients, and the running sums: one implementation for both
walkthroughs of the backward pass (rnnviz.explain for the vanilla RNN, rnnviz.explain_cells for any cell).

dW = Σ_t δ^W_t h_{t−1}ᵀ, dU[:, x_t] += δ_t, db = Σ_t δ_t, dV = Σ_t ∂L_t/∂o_t h_tᵀ, dc = Σ_t ∂L_t/∂o_t.
A class that mixes in ``WindowTerms`` provides, as attributes or properties:

    inputs, targets: (T,) ids;  losses: (T,) L_t;  dlogits: (T, V) ∂L_t/∂o_t;  hs: (H, T) h_t;
    dA_x: (T, G·H) δ_t as U and b see it;  dA_h: (T, G·H) δ^W_t as W sees it;
    h_prev_rows: (T, H) row t is h_{t−1}.
"""

from __future__ import annotations

import numpy as np

TERM_NAMES = ("W", "U", "b", "V", "c")


def _unknown(name: str) -> ValueError:
    return ValueError(f"unknown parameter {name!r}; choose one of {', '.join(TERM_NAMES)}")


def _outer_sum_norm(A: np.ndarray, B: np.ndarray) -> float:
    """‖Σ_s a_s b_sᵀ‖_F for rows a_s of A (n, p) and b_s of B (n, q), from two n×n Gram matrices:
    Σ_{s,s'} (a_s·a_s')(b_s·b_s'). No p×q matrix is built (a word model's dV would be V×H)."""
    return float(np.sqrt(max(float(np.sum((A @ A.T) * (B @ B.T))), 0.0)))


class WindowTerms:
    """term / term_norms / running / running_norms / output_summary over the attributes named above."""

    def term(self, name: str, t: int) -> np.ndarray:
        """The term step t (0-based) adds to d<name>, shaped like the parameter.

        W: δ^W_t h_{t−1}ᵀ;  U: δ_t in column x_t;  b: δ_t;  V: ∂L_t/∂o_t h_tᵀ;  c: ∂L_t/∂o_t."""
        if name == "W":
            return np.outer(self.dA_h[t], self.h_prev_rows[t])
        if name == "U":
            out = np.zeros((self.dA_x.shape[1], self.dlogits.shape[1]))
            out[:, self.inputs[t]] = self.dA_x[t]
            return out
        if name == "b":
            return self.dA_x[t].copy()
        if name == "V":
            return np.outer(self.dlogits[t], self.hs[:, t])
        if name == "c":
            return self.dlogits[t].copy()
        raise _unknown(name)

    def term_norms(self, t: int) -> dict[str, float]:
        """‖term‖ per parameter at step t, without building the matrices: a rank-one term's
        Frobenius norm is the product of its two vectors' norms."""
        dx = float(np.linalg.norm(self.dA_x[t]))
        dh = float(np.linalg.norm(self.dA_h[t]))
        g = float(np.linalg.norm(self.dlogits[t]))
        return {"W": dh * float(np.linalg.norm(self.h_prev_rows[t])), "U": dx, "b": dx,
                "V": g * float(np.linalg.norm(self.hs[:, t])), "c": g}

    def running(self, name: str, t: int) -> np.ndarray:
        """Σ_{s ≥ t} of step s's term: d<name> as accumulated when the backward pass reaches t.
        At t = 0 (time step 1) this is the whole gradient of the window."""
        if name == "W":
            return self.dA_h[t:].T @ self.h_prev_rows[t:]
        if name == "U":
            out = np.zeros((self.dA_x.shape[1], self.dlogits.shape[1]))
            np.add.at(out.T, self.inputs[t:], self.dA_x[t:])   # repeated tokens add up
            return out
        if name == "b":
            return self.dA_x[t:].sum(axis=0)
        if name == "V":
            return self.dlogits[t:].T @ self.hs[:, t:].T
        if name == "c":
            return self.dlogits[t:].sum(axis=0)
        raise _unknown(name)

    def running_norms(self, t: int) -> dict[str, float]:
        """‖Σ_{s ≥ t} term_s‖ per parameter: how much of each gradient is in place at t (dU reads
        only the columns of the tokens seen)."""
        cols, col_of = np.unique(self.inputs[t:], return_inverse=True)
        dU = np.zeros((self.dA_x.shape[1], cols.size))
        np.add.at(dU.T, col_of, self.dA_x[t:])
        return {"W": _outer_sum_norm(self.dA_h[t:], self.h_prev_rows[t:]), "U": float(np.linalg.norm(dU)),
                "b": float(np.linalg.norm(self.dA_x[t:].sum(axis=0))),
                "V": _outer_sum_norm(self.dlogits[t:], self.hs[:, t:].T),
                "c": float(np.linalg.norm(self.dlogits[t:].sum(axis=0)))}

    def output_summary(self, t: int, n: int = 3) -> dict:
        """The entries of ∂L_t/∂o_t worth naming: the target's p_t[y_t] − 1 and the n largest
        others (the tokens the model wrongly favoured, pushed down by the gradient step).

        Returns {"target": y_t, "p_target": p_t[y_t], "target_entry": p_t[y_t] − 1,
        "others": [(token id, entry), …] largest first, "norm": ‖∂L_t/∂o_t‖, "loss": L_t}."""
        g = self.dlogits[t]
        y = int(self.targets[t])
        order = np.argsort(-g, kind="stable")
        others = [(int(i), float(g[i])) for i in order if i != y][:n]
        return {"target": y, "p_target": float(g[y] + 1.0), "target_entry": float(g[y]), "others": others,
                "norm": float(np.linalg.norm(g)), "loss": float(self.losses[t])}
