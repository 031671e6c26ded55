"""The whole training state of a Trainer as ``.npz`` bytes, and back, for the app's reload autosave.

Unlike a checkpoint (``rnnviz.checkpoint``: the model only, for users to keep), this keeps
everything a reload should not lose: optimizer memory, position in the text, the carried hidden
state, the smoothed loss and the per-step history, so training continues exactly where it was.
Loaded with ``allow_pickle=False`` and validated like a checkpoint: a corrupt file is rejected.
Undo history (snapshots) is not kept: after a restore, undo starts from the restored step.
"""

from __future__ import annotations

import io
import json
import math

import numpy as np

from rnnviz.checkpoint import CheckpointError
from rnnviz.config import TrainConfig
from rnnviz.history import COLUMNS, PARAM_NORM_COLUMNS
from rnnviz.optim import OptState
from rnnviz.trainer import State, Trainer

FORMAT = "rnnviz-session-1"
_META = ("step", "pos", "smooth_loss", "lr_scale", "block_sum", "prev_block_mean", "opt_t")


def dump_trainer(trainer: Trainer, extra: dict | None = None) -> bytes:
    """Uncompressed .npz of the full state (fast to write every few seconds). extra: small JSON."""
    s = trainer.state
    h = trainer.history
    n = len(h)
    width = max((v.size for v in h.dh_norms), default=0)
    dh = np.full((n, width), np.nan)
    for i, v in enumerate(h.dh_norms):
        dh[i, : v.size] = v
    meta = {"step": s.step, "pos": s.pos, "smooth_loss": s.smooth_loss, "lr_scale": s.lr_scale,
            "block_sum": s.block_sum, "prev_block_mean": None if math.isinf(s.prev_block_mean) else s.prev_block_mean,
            "opt_t": s.opt.t}
    arrays = {
        "format": np.array(FORMAT), "config": np.array(json.dumps(trainer.config.to_dict())),
        # JSON, not a raw NumPy string: NumPy's fixed-width strings drop trailing NUL characters.
        "text": np.array(json.dumps(trainer.text)),
        "meta": np.array(json.dumps(meta)), "extra": np.array(json.dumps(extra or {})),
        "theta": np.asarray(s.theta), "h": np.asarray(s.h),
        "hist_dh": dh, "hist_dh_len": np.array([v.size for v in h.dh_norms], dtype=np.int64),
    }
    for slot, a in s.opt.slots.items():
        arrays[f"opt_{slot}"] = np.asarray(a)
    for col in COLUMNS + PARAM_NORM_COLUMNS:
        arrays[f"hist_{col}"] = np.asarray(h.cols[col], dtype=np.float64)
    arrays["hist_spectrum"] = np.asarray(h.spectrum, dtype=np.float64).reshape(-1, 3)
    buf = io.BytesIO()
    np.savez(buf, **arrays)
    return buf.getvalue()


def _fail(msg: str):
    raise CheckpointError(f"saved session is not valid: {msg}")


def load_trainer(data: bytes) -> tuple[Trainer, dict]:
    """(Trainer at the saved state, extra) or CheckpointError."""
    try:
        with np.load(io.BytesIO(data), allow_pickle=False) as npz:
            a = {k: npz[k] for k in npz.files}
    except Exception as e:  # not a zip, truncated, needs pickle …
        _fail(f"unreadable ({type(e).__name__})")
    if str(a.get("format", "")) != FORMAT:
        _fail("wrong format tag")
    try:
        config = TrainConfig.from_dict(json.loads(str(a["config"])))
        meta = json.loads(str(a["meta"]))
        extra = json.loads(str(a["extra"]))
        text = json.loads(str(a["text"]))
        if not isinstance(text, str):
            _fail("the text is not a string")
        tr = Trainer(text, config)
    except (KeyError, ValueError, TypeError, RecursionError) as e:
        _fail(str(e))
    theta, h = a.get("theta"), a.get("h")
    if theta is None or theta.dtype != np.float64 or theta.shape != (tr.layout.size,) or not np.isfinite(theta).all():
        _fail("weights have the wrong shape or are not finite")
    if h is None or h.shape != (config.hidden_size,) or not np.isfinite(h).all():
        _fail("hidden state has the wrong shape")
    slots = {}
    for slot in tr.optimizer.slot_names:
        v = a.get(f"opt_{slot}")
        if v is None or v.shape != theta.shape or not np.isfinite(v).all():
            _fail(f"optimizer state {slot} is missing or malformed")
        slots[slot] = np.array(v)
    step, pos = int(meta["step"]), int(meta["pos"])
    if step < 0 or not 0 <= pos <= tr.data.size:
        _fail("position out of range")
    theta = tr._freeze(np.array(theta))
    prev = meta["prev_block_mean"]
    tr.state = State(step, theta, tr.layout.views(theta), OptState(int(meta["opt_t"]), slots), pos, np.array(h),
                     float(meta["smooth_loss"]), float(meta["lr_scale"]), float(meta["block_sum"]),
                     math.inf if prev is None else float(prev))
    tr._snapshots = [tr.state]
    n = a["hist_step"].size
    lens = a["hist_dh_len"]
    if a["hist_dh"].shape[0] != n or lens.size != n:
        _fail("history columns differ in length")
    for col in COLUMNS + PARAM_NORM_COLUMNS:
        values = a[f"hist_{col}"]
        if values.size != n:
            _fail(f"history column {col} has the wrong length")
        as_int = col in ("step", "pos")
        tr.history.cols[col] = [int(x) for x in values] if as_int else (
            [bool(x) for x in values] if col in ("clipped", "lr_changed") else values.tolist())
    tr.history.dh_norms = [a["hist_dh"][i, : lens[i]].copy() for i in range(n)]
    tr.history.configs = [config] * n
    spec = a.get("hist_spectrum", np.zeros((0, 3)))
    if spec.ndim != 2 or spec.shape[1] != 3 or not np.isfinite(spec).all():
        _fail("spectrum log is malformed")
    tr.history.spectrum = [(int(s), float(r), float(g)) for s, r, g in spec]
    return tr, extra
