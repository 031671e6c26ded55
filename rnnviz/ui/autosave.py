"""Survive a browser reload: each session's training state is saved under a random token.

A reload starts a new Streamlit session, and st.session_state starts empty. So every session
gets an unguessable token (128 random bits) kept in the page URL as ``?s=…``, and its state
(rnnviz.persist: weights, optimizer, position, history) is written to a server-side folder under
that token (a big state at most every SAVE_EVERY_S seconds), and only once the session has changed something
(state.AppSession.autosave): a client that opens sessions by the hundred writes nothing.

Nothing per-user lives in Python memory shared between sessions: the folder holds one file per
token, only a browser holding that URL can name it, and files expire after a day. A restored
session continues under a new token, so opening a shared URL gives a copy of the model (as a
downloaded checkpoint would) and never writes to the original; an unknown token is never adopted.

The folder is shared with other local accounts' reach only if we let it be: it is created 0700 and
must be owned by us and not be a symlink (else nothing is saved or read); files are written 0600 via
``mkstemp`` (O_EXCL: a planted file or symlink is never written through) and renamed into place; a
file is opened with O_NOFOLLOW, must be a regular file and is read with a size bound. The folder is
bounded: each file ≤ MAX_SAVE_BYTES, all together ≤ MAX_STORE_BYTES and MAX_STORE_FILES (the least
recently saved go first), and stale ``*.tmp`` files are removed with expired sessions.

Several processes share the folder (replicas of the app behind a load balancer, deploy/): any of them
may write, read, restore and evict at the same time, so every operation is safe across processes.
Writes are a temp file renamed into place, so a reader sees a whole old file or a whole new one, and a
writer killed mid-write leaves only a temp file (removed after TMP_EXPIRE_S). Readers need no lock: a
file unlinked while it is read stays readable through the open descriptor. The one race that needs a
lock is eviction against a rename: a pruner that listed a file as old could otherwise unlink the fresh
file another process renamed over that name a moment later. So writers hold a shared flock on the
folder's LOCK_NAME file while they rename, and a pruner takes it exclusively, checks that the name
still holds the file it listed (same inode, same mtime), and only then unlinks (see ``_evict``). A
restore never continues under the token it read: it copies the state under its new token at once (see
``load``), so two replicas restoring one token fork two copies, and a replica that dies right after a
restore loses nothing.
"""

from __future__ import annotations

import fcntl
import logging
import os
import re
import secrets
import stat
import tempfile
import time
from contextlib import contextmanager
from pathlib import Path

from rnnviz.checkpoint import CheckpointError
from rnnviz.persist import MAX_SESSION_BYTES, dump_trainer, load_trainer, min_dump_bytes

TOKEN_PARAM = "s"
_TOKEN_RE = re.compile(r"[A-Za-z0-9_-]{22}")     # token_urlsafe(16): 22 characters, nothing path-like (fullmatch)
SAVE_EVERY_S = 3.0                                # at most one write per session per this many seconds
SMALL_SAVE_BYTES = 8 * 2**20                      # … except a state this small: saved after every change when paused,
                                                  # every PLAY_SAVE_S while playing (the default model's state stays
                                                  # under 4.5 MB however long it trains: benchmarks/bench_history.py)
PLAY_SAVE_S = 1.0                                 # a replica that dies loses at most this much of a small state's play
SAVE_SHARE = 0.02                                 # … and saving takes at most this share of a playing session's time
MAX_SAVE_BYTES = MAX_SESSION_BYTES                # bigger states (huge word models) are not autosaved
MAX_STORE_BYTES = 2 * 2**30                       # the whole folder; beyond it the least recently saved go
MAX_STORE_FILES = 5000                            # … and beyond this many files
EXPIRE_S = 24 * 3600
TMP_EXPIRE_S = 300                                # a temp file older than this was left by a crash
PRUNE_EVERY_S = 10.0                              # a process prunes after a save at most this often (5,000 files
                                                  # take ~40 ms to list; several replicas share the work)
LOCK_NAME = ".lock"                               # flock'ed by writers (shared) and evictions (exclusive)
_last_prune = float("-inf")                       # when this process last pruned (process state, no user's)
log = logging.getLogger("rnnviz")


class StoreError(OSError):
    """The session folder is not safe to use (someone else's, a symlink, open to others)."""


class RestoreError(Exception):
    """A saved session exists but cannot be restored; the message says why."""


def new_token() -> str:
    return secrets.token_urlsafe(16)


def valid_token(token: str | None) -> bool:
    return isinstance(token, str) and _TOKEN_RE.fullmatch(token) is not None


def store_dir() -> Path:
    """Where saved sessions live (RNNVIZ_SESSION_DIR, else the system temp folder), checked to be
    a real directory owned by this user and closed to others (created 0700 if missing)."""
    root = Path(os.environ.get("RNNVIZ_SESSION_DIR") or Path(tempfile.gettempdir()) / "rnnviz-sessions")
    try:
        os.mkdir(root, 0o700)
    except FileExistsError:
        pass
    st = os.lstat(root)
    if stat.S_ISLNK(st.st_mode) or not stat.S_ISDIR(st.st_mode):
        raise StoreError(f"{root} is not a directory (a symlink?): autosave is off")
    if st.st_uid != os.getuid():
        raise StoreError(f"{root} belongs to another user: autosave is off")
    if st.st_mode & 0o077:          # made by an older version (0755): close it, it is ours
        os.chmod(root, 0o700)
    return root


def _path(token: str) -> Path:
    if not valid_token(token):
        raise ValueError("invalid session token")
    return store_dir() / f"{token}.npz"


def read_bounded(path: Path, limit: int) -> bytes:
    """The bytes of a regular file of at most `limit` bytes (never follows a symlink, never reads a
    device or FIFO, never reads more than limit + 1 bytes). OSError otherwise."""
    fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
    try:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode):
            raise OSError("not a regular file")
        if st.st_size > limit:
            raise OSError(f"the file is {st.st_size / 2**20:.0f} MB; the limit is {limit / 2**20:.0f} MB")
        with os.fdopen(fd, "rb", closefd=False) as f:
            data = f.read(limit + 1)
        if len(data) > limit:
            raise OSError("the file grew beyond the limit while being read")
        return data
    finally:
        os.close(fd)


def load(token: str, copy_to: str | None = None):
    """(Trainer, extra) saved under token; None if there is none (or the token is invalid);
    RestoreError saying why if a saved file exists but cannot be restored.

    copy_to: the new token the restored session continues under. The same bytes are written under
    it before this returns, so the restored state is durable at once (a replica that dies before the
    session's next change loses nothing) and, being a fresh file, is the last the caps would evict."""
    if not valid_token(token):
        return None
    try:
        path = _path(token)
        if not os.path.lexists(path):
            return None
        data = read_bounded(path, MAX_SAVE_BYTES)
        found = load_trainer(data)
    except (CheckpointError, ValueError, OSError) as e:
        log.warning("rnnviz: could not restore session %s…: %s", token[:6], e)
        raise RestoreError(str(e)) from None
    if copy_to is not None:
        try:
            write(copy_to, data)
        except OSError as e:  # a full disk: the session works, and is saved at its next change
            log.warning("rnnviz: could not copy the restored session: %s", e)
    return found


def save(token: str, trainer, extra: dict) -> bool:
    """Write the state atomically (``write``), so a crash mid-write never leaves a broken file.
    False (nothing written) if the state exceeds MAX_SAVE_BYTES: judged first from the arrays'
    sizes, so a huge model is not serialised every few seconds only to be thrown away."""
    if min_dump_bytes(trainer) > MAX_SAVE_BYTES:
        return False
    data = dump_trainer(trainer, extra)
    if len(data) > MAX_SAVE_BYTES:
        return False
    write(token, data)
    return True


def write(token: str, data: bytes) -> None:
    """Put data under token atomically: a fresh 0600 temp file, renamed into place under the folder's
    shared lock (so that no eviction decided on the old file can unlink the new one). Then prune, at
    most every PRUNE_EVERY_S in this process."""
    path = _path(token)
    fd, tmp = tempfile.mkstemp(prefix=f"{token}.", suffix=".tmp", dir=path.parent)   # O_EXCL, mode 0600
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
        with _folder_lock(path.parent, exclusive=False):
            os.replace(tmp, path)      # rename replaces a planted symlink itself, never its target
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    maybe_prune(keep=path)


@contextmanager
def _folder_lock(root: Path, *, exclusive: bool):
    """flock on the folder's LOCK_NAME file: shared for a rename, exclusive for an eviction. Held for
    microseconds (one rename, or one check and unlink), never across a write or a scan."""
    fd = os.open(root / LOCK_NAME, os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW | os.O_CLOEXEC, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX if exclusive else fcntl.LOCK_SH)
        yield
    finally:
        os.close(fd)               # closing releases the lock


def save_interval(last_cost_s: float, *, playing: bool = True, nbytes: int | None = None) -> float:
    """Seconds between saves: SAVE_EVERY_S, or longer when the last save took long (a big model),
    so that saving never takes more than SAVE_SHARE of the time. A paused session whose state is at
    most SMALL_SAVE_BYTES (the default model: 0.4 MB at first, 4.3 MB after 100,000 steps; 1-5 ms to write) is saved after
    every change, so a reload right after a click loses nothing, and while playing every PLAY_SAVE_S,
    so a replica that dies loses at most that much play; a big one (a word model's state reached
    63 MB) is not rewritten on every click. nbytes None: the size is not known, taken as big."""
    small = nbytes is not None and nbytes <= SMALL_SAVE_BYTES
    if small and not playing:
        return 0.0
    return max(PLAY_SAVE_S if small else SAVE_EVERY_S, last_cost_s / SAVE_SHARE)


def _entries(root: Path) -> list[tuple[int, int, str, int]]:
    """(mtime_ns, size, name, inode) of the folder's files (*.npz and *.tmp; nothing else is ours)."""
    out = []
    with os.scandir(root) as it:
        for e in it:
            if e.name.endswith((".npz", ".tmp")):
                try:
                    st = e.stat(follow_symlinks=False)
                except OSError:
                    continue
                out.append((st.st_mtime_ns, st.st_size if stat.S_ISREG(st.st_mode) else 0, e.name, st.st_ino))
    return out


def prune(now: float | None = None, keep: Path | None = None) -> int:
    """Remove expired sessions (EXPIRE_S), stale temp files (TMP_EXPIRE_S), then the least recently
    saved sessions until the folder holds at most MAX_STORE_FILES files and MAX_STORE_BYTES bytes
    (never `keep`, the file just written, and never a temp file: another process may be writing it).
    Safe while other processes write and prune (see the module docstring). Returns how many were removed."""
    global _last_prune
    _last_prune = time.monotonic()
    now = now or time.time()
    root = store_dir()
    entries = sorted(_entries(root))
    removed = 0
    live = []
    for mtime_ns, size, name, ino in entries:
        limit = TMP_EXPIRE_S if name.endswith(".tmp") else EXPIRE_S
        if now - mtime_ns / 1e9 > limit and _evict(root, name, ino, mtime_ns):
            removed += 1
        else:
            live.append((mtime_ns, size, name, ino))
    total, count = sum(e[1] for e in live), len(live)
    for mtime_ns, size, name, ino in live:     # oldest first
        if count <= MAX_STORE_FILES and total <= MAX_STORE_BYTES:
            break
        if (keep is not None and name == keep.name) or name.endswith(".tmp"):
            continue
        if _evict(root, name, ino, mtime_ns):
            removed += 1
            total -= size
            count -= 1
    return removed


def maybe_prune(keep: Path | None = None) -> int:
    """prune(), if this process has not pruned for PRUNE_EVERY_S (after a save, on a new session):
    listing 5,000 files takes ~40 ms, too much to do on every click."""
    return prune(keep=keep) if time.monotonic() - _last_prune >= PRUNE_EVERY_S else 0


def expire_old(now: float | None = None) -> int:
    """Delete saved sessions untouched for EXPIRE_S (and stale temp files); returns how many were removed."""
    return prune(now)


def _evict(root: Path, name: str, ino: int, mtime_ns: int) -> bool:
    """Unlink root/name if it is still the file that was listed (same inode and mtime): under the
    folder's exclusive lock, so that no writer can rename a fresh save over the name between the
    check and the unlink. A fresh save is left alone (it is no longer old)."""
    path = root / name
    try:
        with _folder_lock(root, exclusive=True):
            st = os.lstat(path)
            if (st.st_ino, st.st_mtime_ns) != (ino, mtime_ns):
                return False
            path.unlink()
        return True
    except OSError:
        return False
