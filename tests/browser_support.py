"""Real-browser testing: a `streamlit run app.py` server and Debian's Chromium driven by Playwright.

Chromium comes from Debian (`apt-get install -y chromium`, at /usr/bin/chromium); Playwright never
downloads a browser. Without Chromium (or Playwright) the browser tests are skipped on a developer
machine and FAIL under CI=true: a missing browser must never turn into a silent pass in CI.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
ARTIFACTS = ROOT / "test-artifacts"
CHROMIUM = os.environ.get("RNNVIZ_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-dev-shm-usage",
                 "--disable-component-update", "--no-first-run"]
METRIC = '[data-testid="stMetricValue"]'


def require_browser() -> None:
    """Skip locally, fail in CI, when the browser or Playwright is missing."""
    problem = None
    if not Path(CHROMIUM).exists():
        problem = f"Chromium not found at {CHROMIUM} (apt-get install -y chromium)"
    else:
        try:
            import playwright.sync_api  # noqa: F401
        except ImportError:
            problem = "the playwright package is not installed (pip install -r requirements-dev.txt)"
    if problem:
        if os.environ.get("CI", "").lower() in ("1", "true", "yes"):
            pytest.fail(f"browser tests cannot run in CI: {problem}")
        pytest.skip(problem)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class StreamlitServer:
    """`streamlit run app.py` on a free localhost port, for the duration of a test session."""

    def __init__(self):
        self.port = free_port()
        self.url = f"http://localhost:{self.port}"
        self.log = (ARTIFACTS / f"server-{self.port}.log")
        ARTIFACTS.mkdir(exist_ok=True)
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "streamlit", "run", "app.py", "--server.port", str(self.port),
             "--server.address", "127.0.0.1", "--server.headless", "true", "--browser.gatherUsageStats", "false"],
            cwd=ROOT, stdout=self.log.open("w"), stderr=subprocess.STDOUT,
        )
        deadline = time.time() + 90
        while time.time() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"streamlit exited: {self.log.read_text()[-2000:]}")
            try:
                with urllib.request.urlopen(f"{self.url}/_stcore/health", timeout=2) as r:
                    if r.read().strip() == b"ok":
                        return
            except OSError:
                time.sleep(0.3)
        raise RuntimeError("streamlit did not become healthy within 90 s")

    def stop(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(10)
        except subprocess.TimeoutExpired:
            self.proc.kill()

    def log_text(self) -> str:
        return self.log.read_text(errors="replace")


def launch(playwright):
    return playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)


def open_app(browser, url: str, *, width: int = 1500, height: int = 2200):
    """A fresh browser context (= a fresh Streamlit session) on the app, ready to use."""
    ctx = browser.new_context(viewport={"width": width, "height": height})
    page = ctx.new_page()
    page.set_default_timeout(60_000)
    page.goto(url)
    page.wait_for_selector(METRIC)
    return page


def step_count(page) -> str:
    return page.locator(METRIC).first.inner_text()


def wait_step(page, value: int | str, timeout: int = 60_000) -> None:
    """Wait until the Step metric shows ``value``."""
    page.wait_for_function(f"() => {{ const m = document.querySelector('{METRIC}'); return m && m.innerText === '{value}'; }}",
                           timeout=timeout)


def wait_idle(page, timeout: int = 60_000) -> None:
    """Wait until Streamlit is not running a script (its status widget disappears)."""
    page.wait_for_function("() => !document.querySelector('[data-testid=\"stStatusWidget\"]')", timeout=timeout)


def choose(page, label: str, option: str, tries: int = 5) -> None:
    """Pick ``option`` in the selectbox labelled ``label`` (its input is a combobox of that name).

    A click that lands while an expander is still opening or the script is rerunning can leave the
    list closed (seen once in CI): then close whatever opened and click again."""
    from playwright.sync_api import TimeoutError as PlaywrightTimeout

    box = page.get_by_role("combobox", name=label, exact=True)
    wanted = page.get_by_role("option", name=option)
    for attempt in range(tries):
        wait_idle(page)
        box.click()
        try:
            wanted.wait_for(timeout=5_000)
            break
        except PlaywrightTimeout:
            if attempt == tries - 1:
                raise
            page.keyboard.press("Escape")
    wanted.click()


# The Train page draws its charts as SVG pictures (rnnviz.figures.svg): each trace is a <g class="trace">
# with its name and the y values it draws. Decode every picture's SVG and read them.
_CHART_TRACES_JS = """() => [...document.querySelectorAll('img.rv-chart')].map(img => {
    const bytes = Uint8Array.from(atob(img.src.split(',')[1]), c => c.charCodeAt(0));
    const doc = new DOMParser().parseFromString(new TextDecoder().decode(bytes), 'image/svg+xml');
    return [...doc.querySelectorAll('g.trace')].map(g => ({name: g.getAttribute('data-name'),
        y: (g.getAttribute('data-y') || '').split(' ').filter(s => s).map(Number)}));
})"""


def chart_traces(page) -> list[list[dict]]:
    """Every chart picture on the page: [chart][trace] = {"name": …, "y": [the y values it draws]}."""
    return page.evaluate(_CHART_TRACES_JS)


def chart_values(page) -> list[list[list[float]]]:
    """The y values every chart picture on the page currently draws: [chart][trace][point]."""
    return [[t["y"] for t in chart] for chart in chart_traces(page)]


def wait_chart(page, chart: int, points: int, timeout: int = 60_000) -> None:
    """Wait until chart number ``chart`` on the page draws ``points`` points in its first trace."""
    page.wait_for_function(
        f"""([i, n]) => {{ const charts = ({_CHART_TRACES_JS})();
                          const t = charts[i] && charts[i][0];
                          return !!(t && t.y.length === n); }}""",
        arg=[chart, points], timeout=timeout)


_REACH = "img.rv-chart[alt^='Fraction of a loss term']"


def bar_values(page) -> list[float]:
    """The bar heights of the headline chart (the fraction of a loss term's gradient left d steps back)."""
    return page.evaluate(f"""() => {{ const img = document.querySelector("{_REACH}");
        if (!img) return [];
        const all = ({_CHART_TRACES_JS})();
        const i = [...document.querySelectorAll('img.rv-chart')].indexOf(img);
        return all[i][0].y; }}""")


def wait_bars(page, n: int, timeout: int = 60_000) -> None:
    """Wait until the headline chart draws ``n`` bars (d = 0 … n − 1)."""
    page.wait_for_function(
        f"""(n) => {{ const img = document.querySelector("{_REACH}");
            if (!img) return false;
            const all = ({_CHART_TRACES_JS})();
            const i = [...document.querySelectorAll('img.rv-chart')].indexOf(img);
            return all[i][0].y.length === n; }}""", arg=int(n), timeout=timeout)


def paste_text(page, text: str) -> None:
    """Sidebar: paste ``text`` and train on it (waits for the page title naming the pasted text)."""
    page.get_by_text("Text ·").first.click()
    area = page.get_by_label("…or paste your own text")
    area.fill(text)
    area.press("Control+Enter")  # commit the text area's value before pressing the button
    # The rerun that commit starts may not have begun yet (a loaded machine): wait_idle would then
    # return at once and the click could race it (seen once in CI: the click left the page at the
    # sample). Give the rerun time to start, then wait for it to end.
    time.sleep(1.0)
    wait_idle(page)
    page.get_by_role("button", name="Train on this text").click()
    try:
        page.get_by_role("heading", name="Your pasted text").wait_for()
    except Exception:
        shot(page, "fail-paste")   # what the page showed instead, for whoever reads the failure
        raise


def shot(page, name: str) -> Path:
    ARTIFACTS.mkdir(exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path


def open_long_memory_race(page) -> None:
    """Open the race page (every cell on the long-memory task), as a lecturer would from the navigation."""
    page.get_by_role("link", name="The race: who remembers?").click()
    wait_idle(page)
    page.get_by_text("Play the race", exact=True).wait_for()
