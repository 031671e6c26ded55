"""Step click to updated page, in Chromium: rnnviz's Train page against a one-button Streamlit app.

    python benchmarks/bench_click.py [--clicks 20] [--history 200] [--interactive]   # prints a Markdown table

Both apps run on this machine in the same run, each behind its own `streamlit run` server, driven by
the same headless Chromium (Debian's /usr/bin/chromium, via Playwright), clicks interleaved A, B, A, B
so that whatever else the machine does slows both alike. One sample: from Playwright's click until the
Step metric shows the new count, the script run has finished (Streamlit's status widget is gone) and
the browser has painted two more frames (the plotly charts are redrawn inside React's render). The
baseline app is a button and a metric: what any Streamlit app costs per click (a websocket round trip,
a script run, a React render). rnnviz opens with --history steps of training (a setup link:
?step=N) so the charts have something to draw. --interactive switches on the Train page's
Interactive charts first (plotly instead of pictures).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "tests")]

from browser_support import CHROMIUM, CHROMIUM_ARGS, METRIC, StreamlitServer  # noqa: E402

ONE_BUTTON_APP = '''import streamlit as st
st.session_state.setdefault("n", 0)
def inc():
    st.session_state.n += 1
st.button("Step", on_click=inc, type="primary")
st.metric("Step", f"{st.session_state.n:,}")
'''

DONE = """(n) => { const m = document.querySelector('%s');
    return m && m.innerText === n && !document.querySelector('[data-testid="stStatusWidget"]'); }""" % METRIC


class FolderServer(StreamlitServer):
    """StreamlitServer running the app.py of another folder."""

    def __init__(self, folder: Path):
        import browser_support
        old = browser_support.ROOT
        browser_support.ROOT = folder   # StreamlitServer runs `streamlit run app.py` in ROOT
        try:
            super().__init__()
        finally:
            browser_support.ROOT = old


def open_page(browser, url: str):
    page = browser.new_context(viewport={"width": 1500, "height": 2000}).new_page()
    page.set_default_timeout(120_000)
    page.goto(url)
    page.wait_for_selector(METRIC)
    page.wait_for_function("() => !document.querySelector('[data-testid=\"stStatusWidget\"]')")
    time.sleep(2.0)   # let the first render settle (fonts, plotly's first draw)
    return page


def click_ms(page) -> float:
    """One Step click: milliseconds until the page shows the new step, the run ended and two frames painted."""
    n = int(page.locator(METRIC).first.inner_text().replace(",", "")) + 1
    button = page.get_by_role("button", name="Step", exact=False).first
    t0 = time.perf_counter()
    button.click()
    page.wait_for_function(DONE, arg=f"{n:,}", polling="raf")
    page.evaluate("() => new Promise(r => requestAnimationFrame(() => requestAnimationFrame(r)))")
    return (time.perf_counter() - t0) * 1e3


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--clicks", type=int, default=20)
    ap.add_argument("--history", type=int, default=200, help="rnnviz starts at this step (a setup link)")
    ap.add_argument("--app-dir", type=Path, default=ROOT, help="the rnnviz checkout to serve (default: this one)")
    ap.add_argument("--interactive", action="store_true", help="switch on Interactive charts (plotly) first")
    args = ap.parse_args()
    from playwright.sync_api import sync_playwright

    rnnviz = FolderServer(args.app_dir)
    with tempfile.TemporaryDirectory() as tmp:
        (Path(tmp) / "app.py").write_text(ONE_BUTTON_APP)
        base = FolderServer(Path(tmp))
        try:
            with sync_playwright() as p:
                browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
                pages = {"rnnviz Train page": open_page(browser, f"{rnnviz.url}/?step={args.history}"),
                         "one-button Streamlit app": open_page(browser, base.url)}
                if args.interactive:
                    page = pages["rnnviz Train page"]
                    page.get_by_text("Interactive charts").click()
                    page.locator(".js-plotly-plot").first.wait_for()
                    time.sleep(2.0)
                times: dict[str, list[float]] = {k: [] for k in pages}
                for i in range(args.clicks + 3):
                    for name, page in pages.items():
                        ms = click_ms(page)
                        if i >= 3:   # the first clicks warm up both servers and the browser
                            times[name].append(ms)
                browser.close()
        finally:
            base.stop()
            rnnviz.stop()
    med = {k: statistics.median(v) for k, v in times.items()}
    print(f"{args.clicks} clicks each, interleaved; rnnviz at step {args.history}+"
          + (", Interactive charts on" if args.interactive else "") + "\n")
    print("| app | median ms | p90 ms | min ms |")
    print("|---|---|---|---|")
    for k, v in times.items():
        print(f"| {k} | {med[k]:.0f} | {statistics.quantiles(v, n=10)[-1]:.0f} | {min(v):.0f} |")
    ratio = med["rnnviz Train page"] / med["one-button Streamlit app"]
    print(f"\nratio of medians: {ratio:.2f}× (target ≤ 2.0×)")


if __name__ == "__main__":
    main()
