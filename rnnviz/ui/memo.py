"""Per-page state and memoised engine results, kept in ``sess.extras`` (one session's own dict).

A result is valid for one model state: the same trainer generation, the same ``trainer.state``
object (every step, undo or reset swaps in a new one, so a stale value is never shown even when
the step number repeats after an undo), and the same extra arguments (k, …). The memo keeps a
reference to that state, so its id cannot be reused by a later one.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from rnnviz.ui.state import AppSession


def page_state(sess: AppSession, prefix: str) -> dict:
    """This page's dict in sess.extras (key prefix + "state"), emptied when the generation changes."""
    key = f"{prefix}state"
    page = sess.extras.get(key)
    if page is None or page.get("_generation") != sess.generation:
        page = {"_generation": sess.generation}
        sess.extras[key] = page
    return page


def memo(sess: AppSession, key: str, args: tuple, compute: Callable[[], Any]) -> Any:
    """compute(), or the value stored under sess.extras[key] for this model state and args."""
    state = sess.trainer.state
    hit = sess.extras.get(key)
    if hit is not None and hit[0] == sess.generation and hit[1] is state and hit[2] == args:
        return hit[3]
    value = compute()
    sess.extras[key] = (sess.generation, state, args, value)
    return value


def peek(sess: AppSession, key: str, args: tuple) -> Any | None:
    """The stored value for this model state and args, or None (nothing is computed)."""
    hit = sess.extras.get(key)
    if hit is not None and hit[0] == sess.generation and hit[1] is sess.trainer.state and hit[2] == args:
        return hit[3]
    return None


def store(sess: AppSession, key: str, args: tuple, value: Any) -> None:
    """Store a value computed elsewhere (e.g. by a button) for this model state and args."""
    sess.extras[key] = (sess.generation, sess.trainer.state, args, value)


def memo_args(sess: AppSession, key: str, args: tuple, compute: Callable[[], Any]) -> Any:
    """compute(), or the value stored under sess.extras[key] for this generation and args, whatever
    the model state: for views that refresh on their own schedule (the Train page's text sample is
    drawn anew every N steps, so its args hold step // N). Forget it with ``forget`` where the
    model goes back (reset)."""
    hit = sess.extras.get(key)
    if hit is not None and hit[0] == sess.generation and hit[1] == args:
        return hit[2]
    value = compute()
    sess.extras[key] = (sess.generation, args, value)
    return value


def forget(sess: AppSession, key: str) -> None:
    """Drop what memo / memo_args stored under key."""
    sess.extras.pop(key, None)
