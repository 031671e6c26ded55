"""The training history: one row per step, kept as growing columns (cheap to append) and
turned into a pandas DataFrame only on demand. pandas is imported lazily so the engine runs
with NumPy alone."""

from __future__ import annotations

import numpy as np

COLUMNS = (
    "step",            # 1-based step number
    "loss",            # L/T for this window, nats per token
    "smooth_loss",     # exponential moving average of loss (0.999, min-char-rnn)
    "perplexity",      # exp(loss)
    "grad_norm",       # global ‖g‖ before clipping
    "grad_norm_clipped",  # global ‖g‖ after clipping
    "clipped",         # did clipping change the gradient?
    "lr",              # learning rate used at this step
    "lr_changed",      # was η halved at this step?
    "wall_ms",         # time of the step, milliseconds
    "pos",             # where in the text the window started
)
PARAM_NORM_COLUMNS = tuple(f"{k}_{w}" for k in ("U", "W", "V", "b", "c") for w in ("before", "after"))


class History:
    """Append-only per-step records with truncation (for undo).

    dh_norms[i] is the (T,) array ‖∂L/∂h_t‖ of step i + 1; configs[i] the config in force then.
    spectrum: a sparse log of (step, ρ(W), σ_max(W)) taken at some steps only (an eigendecomposition
    costs more than a training step; see Trainer.SPECTRUM_STEPS).
    """

    def __init__(self):
        self.cols: dict[str, list] = {c: [] for c in COLUMNS + PARAM_NORM_COLUMNS}
        self.dh_norms: list[np.ndarray] = []
        self.configs: list = []
        self.spectrum: list[tuple[int, float, float]] = []

    def __len__(self) -> int:
        return len(self.configs)

    def append(self, row: dict, dh_norms: np.ndarray, config) -> None:
        for c, values in self.cols.items():
            values.append(row[c])
        self.dh_norms.append(dh_norms)
        self.configs.append(config)

    def truncate(self, n: int) -> None:
        """Keep only the first n rows (and the spectrum entries up to the last kept step)."""
        last_step = self.cols["step"][n - 1] if n > 0 else 0
        self.spectrum = [e for e in self.spectrum if e[0] <= last_step]
        for values in self.cols.values():
            del values[n:]
        del self.dh_norms[n:]
        del self.configs[n:]

    def column(self, name: str) -> np.ndarray:
        return np.asarray(self.cols[name])

    def frame(self):
        """All rows as a pandas DataFrame (one row per step)."""
        import pandas as pd

        return pd.DataFrame(self.cols)

    def dh_matrix(self, max_rows: int | None = None) -> tuple[np.ndarray, np.ndarray]:
        """(steps (n,), M (n, T_max)) of ‖∂L/∂h_t‖ per step; NaN where a window was shorter.

        max_rows keeps at most that many evenly spaced rows (always including the last)."""
        n = len(self.dh_norms)
        if n == 0:
            return np.zeros(0, dtype=int), np.zeros((0, 0))
        rows = np.arange(n)
        if max_rows is not None and n > max_rows:
            rows = np.unique(np.linspace(0, n - 1, max_rows).round().astype(int))
        width = max(self.dh_norms[i].size for i in rows)
        M = np.full((rows.size, width), np.nan)
        for r, i in enumerate(rows):
            v = self.dh_norms[i]
            M[r, : v.size] = v
        return np.asarray(self.cols["step"])[rows], M
