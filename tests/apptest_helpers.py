"""Helpers shared by the AppTest suites: start the app, reach the session, find widgets."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from streamlit.testing.v1 import AppTest

from rnnviz.ui.state import SESSION_KEY

TIMEOUT = 60
APP = str(Path(__file__).resolve().parent.parent / "app.py")


def start(page: str | None = None) -> AppTest:
    """The app after its first run (optionally switched to pages/<page>.py), with no exception."""
    at = AppTest.from_file(APP, default_timeout=TIMEOUT).run()
    assert not at.exception, at.exception
    if page:
        at.switch_page(f"pages/{page}.py").run()
        assert not at.exception, at.exception
    return at


def session(at: AppTest):
    return at.session_state[SESSION_KEY]


def params_copy(at: AppTest) -> dict[str, np.ndarray]:
    return {k: v.copy() for k, v in session(at).trainer.params.items()}


def same_params(a: dict, b: dict) -> bool:
    return a.keys() == b.keys() and all(np.array_equal(a[k], b[k]) for k in a)


def errors(at: AppTest) -> list[str]:
    return [e.value for e in at.error]


def by_label(elements, label: str):
    """The one element whose label starts with ``label`` (keys carry a generation suffix)."""
    found = [e for e in elements if str(e.label).startswith(label)]
    assert len(found) == 1, f"{label!r}: found {[e.label for e in elements]}"
    return found[0]
