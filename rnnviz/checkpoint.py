"""Save and load a trained model as ``.npz``, never with pickle, and validate what is loaded.

A checkpoint holds the five parameters, the vocabulary, the config (which names the cell), the
step count and the training text, so a model can be taken home and trained on or sampled from later. Vocabulary,
config and text are stored as JSON strings: NumPy's fixed-width strings drop trailing NUL
characters, so a vocabulary entry that is the NUL character would come back as "". The
optimizer state and history are not saved: training resumes with a fresh optimizer.

Loading trusts nothing: names, shapes, dtypes, finiteness, sizes and the vocabulary are all
checked, and any failure is one ``ValueError`` saying what is wrong.
"""

from __future__ import annotations

import io
import json
import zipfile

import numpy as np

from rnnviz.config import MAX_HIDDEN, MAX_TEXT_CHARS, TrainConfig
from rnnviz.params import PARAM_NAMES, param_shapes

FORMAT = "rnnviz-checkpoint-2"
MAX_CHECKPOINT_BYTES = 200 * 2**20    # uncompressed, all members together
# The text is held to the paste limit (MAX_TEXT_CHARS) before it is decompressed: a 352 kB file
# carrying 45M characters cost 16 CPU-s and 2.5 GB to tokenize. As JSON in a NumPy string each
# character takes 4 bytes, 24 if it is a control character written as \uXXXX.
MAX_TEXT_MEMBER_BYTES = 24 * MAX_TEXT_CHARS + 4096
MAX_ABS_WEIGHT = 1e8
_KEYS = {"format", "config", "vocab", "text", "step", *PARAM_NAMES}


def save_checkpoint(trainer) -> bytes:
    """The trainer's model as .npz bytes (compressed)."""
    buf = io.BytesIO()
    arrays = {k: np.asarray(trainer.params[k], dtype=np.float64) for k in PARAM_NAMES}
    np.savez_compressed(
        buf,
        format=np.array(FORMAT),
        config=np.array(json.dumps(trainer.config.to_dict())),
        vocab=np.array(json.dumps(trainer.tokenizer.vocab, ensure_ascii=False)),
        text=np.array(json.dumps(trainer.text[:MAX_TEXT_CHARS], ensure_ascii=False)),
        step=np.array(trainer.step_count, dtype=np.int64),
        **arrays,
    )
    return buf.getvalue()


class CheckpointError(ValueError):
    """A file that is not a valid rnnviz checkpoint."""


def _fail(msg: str):
    raise CheckpointError(f"not a valid rnnviz checkpoint: {msg}")


def _json_member(arr: np.ndarray, what: str):
    """The value of a member that holds one JSON string."""
    if arr.shape != () or arr.dtype.kind != "U":
        _fail(f"{what} must be one JSON string")
    try:
        return json.loads(str(arr))
    except (ValueError, RecursionError):
        _fail(f"{what} is not valid JSON")


def load_checkpoint(data: bytes) -> dict:
    """Validate and load. Returns {"params", "config" (TrainConfig), "vocab", "text", "step"}."""
    if not isinstance(data, (bytes, bytearray)) or len(data) == 0:
        _fail("the file is empty")
    try:
        zf = zipfile.ZipFile(io.BytesIO(data))
        members = zf.infolist()
    except (zipfile.BadZipFile, OSError, ValueError):
        _fail("it is not an .npz (zip) file, or it is truncated")
    # Check sizes from the zip directory before decompressing anything (no zip bombs).
    if sum(m.file_size for m in members) > MAX_CHECKPOINT_BYTES:
        _fail(f"it would unpack to more than {MAX_CHECKPOINT_BYTES // 2**20} MB")
    text_member = next((m for m in members if m.filename in ("text", "text.npy")), None)
    if text_member is not None and text_member.file_size > MAX_TEXT_MEMBER_BYTES:
        _fail(f"its training text is longer than the limit of {MAX_TEXT_CHARS:,} characters")
    names = {m.filename[:-4] if m.filename.endswith(".npy") else m.filename for m in members}
    if names != _KEYS:
        missing, extra = sorted(_KEYS - names), sorted(names - _KEYS)
        _fail("; ".join(filter(None, [missing and f"missing {', '.join(missing)}",
                                      extra and f"unexpected {', '.join(extra)}"])))
    try:
        with np.load(io.BytesIO(data), allow_pickle=False) as npz:
            arrays = {k: npz[k] for k in _KEYS}
    except ValueError as e:  # object arrays need pickle, which we refuse
        _fail(f"it contains data that would need pickle to load ({e})")
    except Exception as e:  # corrupt member, bad header, CRC error …
        _fail(f"it could not be read ({type(e).__name__})")
    if arrays["format"].shape != () or str(arrays["format"]) != FORMAT:
        _fail(f"format tag is not {FORMAT}")
    try:
        config = TrainConfig.from_dict(json.loads(str(arrays["config"])))
    except (ValueError, TypeError, RecursionError) as e:
        _fail(f"bad settings: {e}")
    vocab = _json_member(arrays["vocab"], "the vocabulary")
    if (not isinstance(vocab, list) or not all(isinstance(v, str) for v in vocab) or len(vocab) < 2
            or len(set(vocab)) != len(vocab)):
        _fail("the vocabulary must be a list of at least 2 distinct strings")
    text = _json_member(arrays["text"], "the training text")
    if not isinstance(text, str):
        _fail("the training text must be one string")
    if len(text) > MAX_TEXT_CHARS:
        _fail(f"its training text has {len(text):,} characters; the limit is {MAX_TEXT_CHARS:,}")
    step = arrays["step"]
    if step.shape != () or step.dtype.kind not in "iu" or int(step) < 0:
        _fail("the step count must be a whole number ≥ 0")
    H = config.hidden_size   # validated (≤ MAX_HIDDEN); every array must fit it and the cell
    if not 1 <= H <= MAX_HIDDEN:
        _fail(f"hidden size {H} is out of range")
    shapes = param_shapes(len(vocab), H, config.cell)   # the cell the file records decides the shapes
    params = {}
    for k in PARAM_NAMES:
        a = arrays[k]
        if a.dtype != np.float64:
            _fail(f"{k} has dtype {a.dtype}, expected float64")
        if a.shape != shapes[k]:
            _fail(f"{k} has shape {a.shape}, expected {shapes[k]} "
                  f"for the {config.cell} cell with V={len(vocab)}, hidden size H={H}")
        if not np.isfinite(a).all():
            _fail(f"{k} contains NaN or infinity")
        if a.size and np.abs(a).max() > MAX_ABS_WEIGHT:
            _fail(f"{k} has weights beyond ±{MAX_ABS_WEIGHT:g}")
        params[k] = np.array(a, dtype=np.float64)
    return {"params": params, "config": config, "vocab": vocab, "text": text, "step": int(step)}
