"""Shared fixtures. Browser fixtures start lazily, only when a browser test asks for them."""

from __future__ import annotations

import os
import tempfile

# As in app.py: one BLAS thread (set before NumPy is imported; the server subprocess inherits it).
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import pytest  # noqa: E402

from browser_support import StreamlitServer, launch, require_browser  # noqa: E402

# Autosaved sessions of the test run go to a folder of their own (the server subprocess inherits it).
os.environ.setdefault("RNNVIZ_SESSION_DIR", tempfile.mkdtemp(prefix="rnnviz-test-sessions-"))


UI_TEST_MODULES = ("test_app_", "test_play")  # the tests that run pages or rnnviz.ui (Streamlit)


@pytest.fixture(autouse=True)
def one_frame_play_runs(request):
    """In AppTest a play run draws one frame and ends (a real server loops for about a second,
    which AppTest would wait out on every run). Browser tests run a real server: not affected.
    Only UI tests get this: importing rnnviz.ui imports Streamlit, and engine tests must run
    without it (tests/test_engine_no_streamlit.py)."""
    if not request.module.__name__.startswith(UI_TEST_MODULES):
        yield
        return
    from rnnviz.ui import play

    saved, play.LOOP_S = play.LOOP_S, 0.0
    yield
    play.LOOP_S = saved


@pytest.fixture(scope="session")
def app_url():
    require_browser()
    server = StreamlitServer()
    yield server.url
    server.stop()


@pytest.fixture(scope="session")
def browser(app_url):
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = launch(p)
        yield b
        b.close()
