"""Keep tracebacks away from users: a failing section shows a message; the model is untouched.

Trainer updates are atomic (a new state object is swapped in only at the end of a step), so an
exception anywhere leaves the session's model exactly as it was.
"""

from __future__ import annotations

import functools
import logging

import streamlit as st

log = logging.getLogger("rnnviz")


def failure_message(what: str, e: Exception) -> str:
    return (f"Sorry: {what} could not be shown ({type(e).__name__}: {str(e)[:200]}). "
            "Your model and its training history are untouched; try another setting, or "
            "press Reset if it keeps happening.")


def fill(slot, what: str, draw) -> None:
    """Run draw() (which fills the placeholder slot), or, if it fails, put the same message in the
    slot as ``guarded`` would show."""
    try:
        draw()
    except Exception as e:
        log.exception("rnnviz: %s failed", what)
        slot.error(failure_message(what, e))


def fill_html(slot, what: str, build) -> None:
    """Put build()'s HTML in the placeholder slot, or, if building it fails, the same message as
    ``guarded`` would show. One element either way: play frames rewrite slots in place."""
    fill(slot, what, lambda: slot.html(build()))


def guarded(what: str):
    """Decorator: run the section; on an exception log it and show a short message instead."""

    def wrap(fn):
        @functools.wraps(fn)
        def run(*args, **kwargs):
            try:
                return fn(*args, **kwargs)
            except Exception as e:  # Streamlit's rerun/stop signals are BaseExceptions: not caught
                log.exception("rnnviz: %s failed", what)
                st.error(failure_message(what, e))
                return None

        return run

    return wrap
