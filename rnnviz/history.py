"""The training history: one row per step in NumPy columns, with memory bounded whatever the step count.

Recent steps are kept exactly; older ones are thinned so that a session that plays for hours
still holds a few MB (see ``History``). pandas is imported lazily so the engine runs with
NumPy alone.
"""

from __future__ import annotations

import math
from bisect import bisect_right
from collections.abc import Sequence
from operator import itemgetter

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
DTYPES = {c: np.int64 if c in ("step", "pos") else np.bool_ if c in ("clipped", "lr_changed") else np.float64
          for c in COLUMNS + PARAM_NORM_COLUMNS}

_ROW = itemgetter(*DTYPES)   # a row dict → the tuple of its values in column order

RECENT_STEPS = 10_000   # the newest steps kept row for row (undo replays and truncates only there: ≫ UNDO_DEPTH)
BATCH_ROWS = 2_048      # rows that age out of the recent part are thinned in batches of this many (amortised)
OLD_ROWS = 2_048        # the thinned part never holds more rows: its resolution halves when it would
PENDING_ROWS = 256      # rows buffered in a list before they enter the arrays (see append)
SPECTRUM_ROWS = 1_024   # the ρ(W) log is halved (every other entry kept) when it grows beyond this
                        # (the held-out loss log, ``val``, likewise)
CSV_COLUMNS = (   # the history a lecturer takes away (History.to_csv): (header, column or "val_loss")
    ("step", "step"), ("loss", "loss"), ("smoothed_loss", "smooth_loss"), ("grad_norm_before_clip", "grad_norm"),
    ("grad_norm_after_clip", "grad_norm_clipped"), ("clipped", "clipped"), ("lr", "lr"), ("val_loss", "val_loss"),
)


class History:
    """Per-step records (one row per step, steps increasing) with truncation for undo, in bounded memory.

    Storage: one NumPy column per name in COLUMNS + PARAM_NORM_COLUMNS (int64 step/pos, bool
    clipped/lr_changed, float64 the rest), and ‖∂L/∂h_t‖ as one (rows, T_max) float64 matrix padded
    with NaN plus each row's own T (T may differ between rows). Arrays grow by doubling.
    configs: only the changes are stored (a config and the step from which it applied).
    spectrum: a sparse log of (step, ρ(W), σ_max(W)) taken at some steps only (an eigendecomposition
    costs more than a training step; see trainer.SPECTRUM_EVERY); halved when over SPECTRUM_ROWS.
    val: the held-out loss log, (step, loss per token on the held-out text) every ``val_every`` steps
    (rnnviz.heldout); sparse like spectrum, so thinning the rows never drops it; halved likewise.

    What is kept. Every step within RECENT_STEPS of the newest one has its own row, exactly as
    appended. Older steps are thinned: they fall into buckets of ``stride`` consecutive steps
    (bucket = (step − origin) // stride), and each bucket keeps at most two real rows, with their
    true step numbers and their own values: the step with the lowest loss and the step with the
    highest loss (so a loss chart's envelope, and every spike, survives). The highest-loss row also
    carries its bucket's events, because a chart must still show them:
        clipped     clipping fired at some step of the bucket
        lr_changed  η was halved at some step of the bucket; then its lr is the rate used at the
                    bucket's last halving (so lr/2 is the rate that followed, as on the loss chart)
        grad_norm   the largest ‖g‖ (before clipping) in the bucket
    and the lowest-loss row's flags are cleared, so that no event is shown twice. Whenever the thinned
    part would exceed OLD_ROWS rows, stride doubles (its resolution halves). So at most
    RECENT_STEPS + BATCH_ROWS + OLD_ROWS + PENDING_ROWS rows exist: about 5 MB for T = 25, at 1,000 or 10⁸ steps.

    ``len(history)`` is the number of rows kept (= steps recorded until thinning starts); use
    ``truncate_to_step`` and ``config_at`` to address steps.
    """

    def __init__(self, recent_steps: int | None = None, batch_rows: int | None = None, old_rows: int | None = None):
        self.recent_steps = RECENT_STEPS if recent_steps is None else int(recent_steps)
        self.batch_rows = BATCH_ROWS if batch_rows is None else int(batch_rows)
        self.old_rows = OLD_ROWS if old_rows is None else int(old_rows)
        if self.recent_steps < 1 or self.batch_rows < 1 or self.old_rows < 4:
            raise ValueError("history limits too small")
        self.max_rows = self.recent_steps + self.batch_rows + self.old_rows + PENDING_ROWS
        self._n = 0               # rows in use
        self._n_old = 0           # rows [0, _n_old) are the thinned part
        self._stride = 1          # steps per bucket in the thinned part
        self._origin = 0          # bucket b covers steps origin + b·stride … origin + (b+1)·stride − 1
        self._cols = {c: np.zeros(0, dtype=d) for c, d in DTYPES.items()}
        self._dh = np.zeros((0, 0))
        self._dh_len = np.zeros(0, dtype=np.int32)
        self._pending: list[tuple] = []           # rows not yet in the arrays (see append)
        self._pending_dh: list[np.ndarray] = []
        self._cfg_steps: list[int] = []   # config _cfgs[j] applies from step _cfg_steps[j] on
        self._cfgs: list = []
        self.spectrum: list[tuple[int, float, float]] = []
        self.val: list[tuple[int, float]] = []

    # ------------------------------------------------------------------ reading
    def __len__(self) -> int:
        return self._n + len(self._pending)

    @property
    def cols(self) -> dict[str, np.ndarray]:
        """name → (rows,) read-only view of each column (valid until the next change)."""
        self._flush()
        out = {}
        for c, a in self._cols.items():
            v = a[: self._n]
            v.flags.writeable = False
            out[c] = v
        return out

    def column(self, name: str) -> np.ndarray:
        """(rows,) a copy of one column."""
        self._flush()
        return self._cols[name][: self._n].copy()

    @property
    def dh_norms(self) -> Sequence[np.ndarray]:
        """dh_norms[i]: the (T_i,) array ‖∂L/∂h_t‖ of row i (a read-only view)."""
        return _RowView(self, self._dh_row)

    @property
    def configs(self) -> Sequence:
        """configs[i]: the config in force at row i's step."""
        return _RowView(self, lambda i: self.config_at(int(self._cols["step"][i])))

    def config_at(self, step: int):
        """The config recorded for ``step`` (the latest change at or before it); None before the first row."""
        j = bisect_right(self._cfg_steps, step) - 1
        return self._cfgs[j] if j >= 0 else None

    @property
    def n_thinned(self) -> int:
        """How many of the first rows form the thinned part (0 until the history outgrows recent_steps)."""
        self._flush()
        return self._n_old

    @property
    def stride(self) -> int:
        """Steps per bucket in the thinned part (1 before any thinning)."""
        self._flush()
        return self._stride

    @property
    def nbytes(self) -> int:
        """Bytes held by the arrays (allocated capacity, not just the rows in use)."""
        self._flush()
        return sum(a.nbytes for a in self._cols.values()) + self._dh.nbytes + self._dh_len.nbytes

    def _dh_row(self, i: int) -> np.ndarray:
        v = self._dh[i, : self._dh_len[i]]
        v.flags.writeable = False
        return v

    def frame(self):
        """All kept rows as a pandas DataFrame."""
        import pandas as pd

        return pd.DataFrame({c: self.column(c) for c in self._cols})

    def to_csv(self) -> str:
        """The kept rows as CSV text with the CSV_COLUMNS headers: losses in nats per token, clipped 0/1,
        val_loss on the steps where the held-out loss was measured (empty elsewhere). Rows are the
        history's: exact for recent steps, thinned further back (see the class docstring)."""
        self._flush()
        n = self._n
        val = dict(self.val)
        cols = [self._cols[c][:n] if c != "val_loss" else None for _, c in CSV_COLUMNS]
        lines = [",".join(h for h, _ in CSV_COLUMNS)]
        for i in range(n):
            step = int(self._cols["step"][i])
            lines.append(",".join(_csv_cell(col[i]) if col is not None else _csv_cell(val.get(step, math.nan))
                                  for col in cols))
        return "\n".join(lines) + "\n"

    def dh_matrix(self, max_rows: int | None = None) -> tuple[np.ndarray, np.ndarray]:
        """(steps (n,), M (n, T_max)) of ‖∂L/∂h_t‖ per row; NaN where a window was shorter.

        max_rows keeps at most that many rows, the ones nearest to evenly spaced steps (always
        including the first and last): evenly spaced in steps, not rows, since old rows are thinned."""
        self._flush()
        n = self._n
        if n == 0:
            return np.zeros(0, dtype=int), np.zeros((0, 0))
        steps = self._cols["step"][:n]
        rows = np.arange(n)
        if max_rows is not None and n > max_rows:
            targets = np.linspace(steps[0], steps[-1], max(int(max_rows), 1))
            j = np.searchsorted(steps, targets).clip(1, n - 1)
            rows = np.unique(np.where(targets - steps[j - 1] <= steps[j] - targets, j - 1, j))
        width = int(self._dh_len[rows].max())
        return steps[rows].copy(), self._dh[rows, :width]

    # ------------------------------------------------------------------ writing
    def append(self, row: dict, dh_norms: np.ndarray, config) -> None:
        """Add the row of the next step (its "step" must exceed the last one's); may thin old rows.

        Rows wait in a short Python list and enter the arrays PENDING_ROWS at a time: one NumPy
        conversion per batch costs far less than 21 scalar writes per step."""
        self._pending.append(_ROW(row))
        self._pending_dh.append(np.array(dh_norms, dtype=np.float64))   # a copy: callers may reuse buffers
        step = int(row["step"])
        # Configs are immutable and rarely change: compare by identity first (cheap), then by value.
        if not self._cfgs or (config is not self._cfgs[-1] and config != self._cfgs[-1]):
            self._cfg_steps.append(step)
            self._cfgs.append(config)
        if len(self._pending) >= PENDING_ROWS:
            self._flush()
        if len(self.spectrum) > SPECTRUM_ROWS:
            self.spectrum = self.spectrum[::2] + ([self.spectrum[-1]] if len(self.spectrum) % 2 == 0 else [])
        if len(self.val) > SPECTRUM_ROWS:
            self.val = self.val[::2] + ([self.val[-1]] if len(self.val) % 2 == 0 else [])

    def _flush(self) -> None:
        """Move the pending rows into the arrays (every reader calls this first), then thin if due."""
        if not self._pending:
            return
        i, k = self._n, len(self._pending)
        if i + k > self._cols["step"].size:
            self._grow(i + k)
        block = np.array(self._pending, dtype=np.float64)   # (k, columns); steps < 2⁵³ stay exact
        for j, a in enumerate(self._cols.values()):
            a[i:i + k] = block[:, j]
        lens = [v.size for v in self._pending_dh]
        T = max(lens)
        if T > self._dh.shape[1]:
            wider = np.full((self._dh.shape[0], T), np.nan)
            wider[:, : self._dh.shape[1]] = self._dh
            self._dh = wider
        self._dh[i:i + k] = np.nan   # rows are reused after truncation and thinning
        if min(lens) == T:
            self._dh[i:i + k, :T] = self._pending_dh
        else:
            for r, v in enumerate(self._pending_dh):
                self._dh[i + r, : v.size] = v
        self._dh_len[i:i + k] = lens
        self._pending.clear()
        self._pending_dh.clear()
        if i == 0:
            self._origin, self._stride, self._n_old = int(self._cols["step"][0]), 1, 0
        self._n = i + k
        if self._n - self._n_old > self.recent_steps + self.batch_rows:
            self._thin()

    def truncate(self, n: int) -> None:
        """Keep only the first n rows (and the spectrum entries and configs up to the last kept step)."""
        self._flush()
        n = max(0, min(int(n), self._n))
        last_step = int(self._cols["step"][n - 1]) if n > 0 else 0
        self.spectrum = [e for e in self.spectrum if e[0] <= last_step]
        self.val = [e for e in self.val if e[0] <= last_step]
        j = bisect_right(self._cfg_steps, last_step) if n > 0 else 0
        del self._cfg_steps[j:], self._cfgs[j:]
        self._n = n
        self._n_old = min(self._n_old, n)

    def truncate_to_step(self, step: int) -> None:
        """Keep only the rows of steps ≤ step (undo)."""
        self._flush()
        self.truncate(int(np.searchsorted(self._cols["step"][: self._n], step, side="right")))

    def _grow(self, need: int) -> None:
        """Amortised growth: double the capacity, but never beyond what thinning allows."""
        cap = max(need, min(max(2 * self._cols["step"].size, 256), self.max_rows))
        for c, a in self._cols.items():
            bigger = np.zeros(cap, dtype=a.dtype)
            bigger[: self._n] = a[: self._n]
            self._cols[c] = bigger
        dh = np.full((cap, self._dh.shape[1]), np.nan)
        dh[: self._n] = self._dh[: self._n]
        self._dh = dh
        dh_len = np.zeros(cap, dtype=np.int32)
        dh_len[: self._n] = self._dh_len[: self._n]
        self._dh_len = dh_len

    # ------------------------------------------------------------------ thinning
    def _thin(self) -> None:
        """Fold the rows more than recent_steps behind the newest into the thinned part (see class doc)."""
        n, cols = self._n, self._cols
        steps = cols["step"]
        e = int(np.searchsorted(steps[:n], steps[n - 1] - self.recent_steps, side="right"))
        if e <= self._n_old:
            return
        while True:
            ids = (steps[:e] - self._origin) // self._stride
            keep, carrier, starts = _bucket_rows(ids, cols["loss"][:e])
            if keep.size <= self.old_rows:
                break
            self._stride *= 2   # halve the resolution of the whole thinned part
        # The carrier's events, computed from the rows before they are moved.
        any_clip = np.logical_or.reduceat(cols["clipped"][:e], starts)
        any_lr = np.logical_or.reduceat(cols["lr_changed"][:e], starts)
        last_lr = np.maximum.reduceat(np.where(cols["lr_changed"][:e], np.arange(e), -1), starts)
        lr_at = np.where(last_lr >= 0, cols["lr"][:e][last_lr], cols["lr"][:e][carrier])
        g_max = np.fmax.reduceat(cols["grad_norm"][:e], starts)
        k, m = keep.size, n - e
        for a in (*cols.values(), self._dh, self._dh_len):
            a[:k] = a[keep]
            a[k:k + m] = a[e:n]   # the recent rows move down (NumPy handles the overlap)
        at = np.searchsorted(keep, carrier)
        cols["clipped"][:k] = False
        cols["lr_changed"][:k] = False
        cols["clipped"][at] = any_clip
        cols["lr_changed"][at] = any_lr
        cols["lr"][at] = lr_at
        cols["grad_norm"][at] = g_max
        self._n, self._n_old = k + m, k
        self._prune_configs()

    def _prune_configs(self) -> None:
        """Drop config changes that no kept row uses any more (bounds the list by the rows)."""
        if len(self._cfg_steps) < 2:
            return
        steps = self._cols["step"][: self._n]
        first = np.asarray(self._cfg_steps)
        upto = np.append(first[1:], np.iinfo(np.int64).max)
        used = np.searchsorted(steps, upto) > np.searchsorted(steps, first)
        used[-1] = True
        self._cfg_steps = [s for s, u in zip(self._cfg_steps, used, strict=True) if u]
        self._cfgs = [c for c, u in zip(self._cfgs, used, strict=True) if u]

    # ------------------------------------------------------------------ saving
    def to_arrays(self) -> dict[str, np.ndarray]:
        """The kept rows as plain arrays (views: save them before the next change)."""
        self._flush()
        n = self._n
        out = {c: a[:n] for c, a in self._cols.items()}
        out["dh"] = self._dh[:n]
        out["dh_len"] = self._dh_len[:n]
        out["layout"] = np.array([self._n_old, self._stride, self._origin], dtype=np.int64)
        out["spectrum"] = np.asarray(self.spectrum, dtype=np.float64).reshape(-1, 3)
        out["val"] = np.asarray(self.val, dtype=np.float64).reshape(-1, 2)
        return out

    @classmethod
    def from_arrays(cls, arrays: dict, config, last_step: int, max_T: int) -> History:
        """A History from ``to_arrays`` output, validated (ValueError says what is wrong).

        config is recorded as the config of every row (only undo needs them, and it never
        reaches back past a restore). last_step: no row may be later; max_T: widest window."""
        def need(ok, msg):
            if not ok:
                raise ValueError(msg)

        h = cls()
        step = arrays.get("step")
        need(isinstance(step, np.ndarray) and step.ndim == 1, "history steps are missing")
        n = step.size
        for c, d in DTYPES.items():
            a = arrays.get(c)
            need(isinstance(a, np.ndarray) and a.dtype == d and a.shape == (n,), f"history column {c} is malformed")
            need(d is not np.float64 or np.isfinite(a).all(), f"history column {c} is not finite")
            h._cols[c] = np.array(a)
        need(n == 0 or (step[0] >= 1 and step[-1] <= last_step and (np.diff(step) > 0).all()),
             "history steps are not increasing or out of range")
        dh, dh_len = arrays.get("dh"), arrays.get("dh_len")
        need(isinstance(dh, np.ndarray) and dh.dtype == np.float64 and dh.ndim == 2 and dh.shape[0] == n
             and dh.shape[1] <= max_T, "history gradient matrix is malformed")
        need(isinstance(dh_len, np.ndarray) and dh_len.dtype == np.int32 and dh_len.shape == (n,)
             and ((dh_len >= 0) & (dh_len <= dh.shape[1])).all(), "history window lengths are malformed")
        inside = np.arange(dh.shape[1]) < dh_len[:, None]
        need(not np.isnan(dh[inside]).any() and (dh[inside] >= 0).all(), "history gradient norms are malformed")
        h._dh, h._dh_len = np.where(inside, dh, np.nan), np.array(dh_len)
        layout = arrays.get("layout")
        need(isinstance(layout, np.ndarray) and layout.dtype == np.int64 and layout.shape == (3,), "history layout")
        n_old, stride, origin = (int(x) for x in layout)
        need(0 <= n_old <= n and stride >= 1 and 0 <= origin <= (step[0] if n else origin), "history layout")
        spec = arrays.get("spectrum")
        need(isinstance(spec, np.ndarray) and spec.dtype == np.float64 and spec.ndim == 2 and spec.shape[1] == 3
             and np.isfinite(spec).all() and (np.diff(spec[:, 0]) > 0).all(), "spectrum log is malformed")
        h._n, h._n_old, h._stride, h._origin = n, n_old, stride, origin
        if n:
            h._cfg_steps, h._cfgs = [int(step[0])], [config]
        h.spectrum = [(int(s), float(r), float(g)) for s, r, g in spec]
        val = arrays.get("val", np.zeros((0, 2)))   # absent from sessions saved before it existed
        need(isinstance(val, np.ndarray) and val.dtype == np.float64 and val.ndim == 2 and val.shape[1] == 2
             and np.isfinite(val).all() and (val[:, 1] >= 0).all() and (np.diff(val[:, 0]) > 0).all()
             and (val.shape[0] == 0 or (val[0, 0] >= 1 and val[-1, 0] <= last_step)), "held-out loss log is malformed")
        h.val = [(int(s), float(v)) for s, v in val]
        return h


def _csv_cell(v) -> str:
    """One CSV value: integers and flags as integers, floats in full precision (repr), NaN as empty."""
    if isinstance(v, (bool, np.bool_, np.integer)):
        return str(int(v))
    f = float(v)
    return "" if math.isnan(f) else repr(f)


def _bucket_rows(ids: np.ndarray, loss: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """For rows with bucket ids (non-decreasing): (keep, carrier, starts).

    keep: sorted row indices to keep (each bucket's lowest- and highest-loss rows, distinct when the
    bucket has two or more rows); carrier: (buckets,) the highest-loss row of each bucket, the one
    that carries its events; starts: (buckets,) first row of each bucket (for ufunc.reduceat).
    NaN losses count as neither low nor high; ties go to the earliest row."""
    m = ids.size
    new = np.empty(m, dtype=bool)
    new[0], new[1:] = True, ids[1:] != ids[:-1]
    starts = np.flatnonzero(new)
    seg = np.cumsum(new) - 1
    ends = np.append(starts[1:], m) - 1
    nan = np.isnan(loss)
    lo_key, hi_key = np.where(nan, np.inf, loss), np.where(nan, -np.inf, loss)
    lo = _first_true(lo_key == np.minimum.reduceat(lo_key, starts)[seg], seg)
    hi = _first_true(hi_key == np.maximum.reduceat(hi_key, starts)[seg], seg)
    hi = np.where(hi == lo, ends, hi)   # a flat (or one-row) bucket: its last row carries the events
    return np.unique(np.concatenate([lo, hi])), hi, starts


def _first_true(mask: np.ndarray, seg: np.ndarray) -> np.ndarray:
    """The first index where mask holds, for each segment (every segment has one)."""
    cand = np.flatnonzero(mask)
    _, first = np.unique(seg[cand], return_index=True)
    return cand[first]


class _RowView(Sequence):
    """A read-only sequence over a history's rows, built on demand (nothing stored per row)."""

    def __init__(self, history: History, get):
        self._h, self._get = history, get

    def __len__(self) -> int:
        return len(self._h)

    def __getitem__(self, i):
        self._h._flush()
        if isinstance(i, slice):
            return [self._get(j) for j in range(*i.indices(len(self)))]
        self._h._flush()
        n = len(self)
        i = int(i)
        if not -n <= i < n:
            raise IndexError("history row out of range")
        return self._get(i % n)
