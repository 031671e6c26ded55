"""Survive a browser reload: each session's training state is saved under a random token.

A reload starts a new Streamlit session, and st.session_state starts empty. So every session
gets an unguessable token (128 random bits) kept in the page URL as ``?s=…``, and its state
(rnnviz.persist: weights, optimizer, position, history) is written to a server-side folder under
that token, at most every few seconds. A new session whose URL carries a known token restores it.

Nothing per-user lives in Python memory shared between sessions: the folder holds one file per
token, only a browser holding that URL can name it, and files expire after a day. A restored
session continues under a new token, so opening a shared URL gives a copy of the model (as a
downloaded checkpoint would) and never writes to the original; an unknown token is never adopted.
"""

from __future__ import annotations

import logging
import os
import re
import secrets
import tempfile
import time
from pathlib import Path

from rnnviz.persist import dump_trainer, load_trainer, min_dump_bytes

TOKEN_PARAM = "s"
_TOKEN_RE = re.compile(r"^[A-Za-z0-9_-]{22}$")   # token_urlsafe(16): 22 characters, nothing path-like
SAVE_EVERY_S = 3.0                                # while training, at most one write per this many seconds
SAVE_SHARE = 0.02                                 # … and saving takes at most this share of a playing session's time
MAX_SAVE_BYTES = 64 * 2**20                       # bigger states (huge word models) are not autosaved
EXPIRE_S = 24 * 3600
log = logging.getLogger("rnnviz")


def new_token() -> str:
    return secrets.token_urlsafe(16)


def valid_token(token: str | None) -> bool:
    return bool(token) and bool(_TOKEN_RE.match(token))


def store_dir() -> Path:
    """Where saved sessions live (RNNVIZ_SESSION_DIR, else the system temp folder)."""
    root = Path(os.environ.get("RNNVIZ_SESSION_DIR") or Path(tempfile.gettempdir()) / "rnnviz-sessions")
    root.mkdir(parents=True, exist_ok=True)
    return root


def _path(token: str) -> Path:
    if not valid_token(token):
        raise ValueError("invalid session token")
    return store_dir() / f"{token}.npz"


def load(token: str):
    """(Trainer, extra) saved under token, or None if there is none or it is invalid."""
    if not valid_token(token):
        return None
    path = _path(token)
    if not path.exists():
        return None
    try:
        return load_trainer(path.read_bytes())
    except (ValueError, OSError) as e:
        log.warning("rnnviz: could not restore session %s…: %s", token[:6], e)
        return None


def save(token: str, trainer, extra: dict) -> bool:
    """Write atomically (temp file + rename), so a crash mid-write never leaves a broken file.
    False (nothing written) if the state exceeds MAX_SAVE_BYTES: judged first from the arrays'
    sizes, so a huge model is not serialised every few seconds only to be thrown away."""
    if min_dump_bytes(trainer) > MAX_SAVE_BYTES:
        return False
    data = dump_trainer(trainer, extra)
    if len(data) > MAX_SAVE_BYTES:
        return False
    path = _path(token)
    tmp = path.with_suffix(f".{os.getpid()}.tmp")
    tmp.write_bytes(data)
    os.replace(tmp, path)
    return True


def save_interval(last_cost_s: float) -> float:
    """Seconds between saves while playing: SAVE_EVERY_S, or longer when the last save took long
    (a big model), so that saving never takes more than SAVE_SHARE of the time."""
    return max(SAVE_EVERY_S, last_cost_s / SAVE_SHARE)


def expire_old(now: float | None = None) -> int:
    """Delete saved sessions untouched for EXPIRE_S; returns how many were removed."""
    now = now or time.time()
    removed = 0
    for p in store_dir().glob("*.npz"):
        try:
            if now - p.stat().st_mtime > EXPIRE_S:
                p.unlink()
                removed += 1
        except OSError:
            pass
    return removed
