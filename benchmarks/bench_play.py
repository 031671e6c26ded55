"""Play mode in a real browser: redraws per second and steps per second the page actually shows.

    python benchmarks/bench_play.py [--seconds 8]     # prints a Markdown table

Starts `streamlit run app.py`, opens Debian's Chromium, picks a play speed, presses Play, and counts
every change of the Step metric on the page (a MutationObserver) for a fixed time: each change is
one redraw of the live fragment. Target: ≥ 10 redraws/s.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "tests")]

from browser_support import METRIC, StreamlitServer, launch, open_app, step_count  # noqa: E402

COUNT = """() => { window.__redraws = 0; let last = null;
  new MutationObserver(() => { const m = document.querySelector('%s'); const t = m && m.innerText;
    if (t && t !== last) { last = t; window.__redraws += 1; } })
  .observe(document.body, {subtree: true, childList: true, characterData: true}); }""" % METRIC


def measure(page, speed: str, seconds: float) -> tuple[float, float]:
    page.get_by_text("Play speed").first.wait_for()
    slider = page.locator('[data-testid="stSlider"]').filter(has_text="Play speed")
    slider.get_by_role("slider").focus()
    for _ in range(6):                       # to the left end, then right to the wanted speed
        page.keyboard.press("ArrowLeft")
    for _ in range(["1 step/s", "5 steps/s", "20 steps/s", "100 steps/s", "Fastest"].index(speed)):
        page.keyboard.press("ArrowRight")
    time.sleep(1.0)
    page.get_by_role("button", name="Play").click()
    page.get_by_role("button", name="Pause").wait_for()
    time.sleep(2.0)                          # warm up: first frames load chart code
    page.evaluate(COUNT)
    s0, t0 = int(step_count(page).replace(",", "")), time.time()
    time.sleep(seconds)
    redraws = page.evaluate("() => window.__redraws")
    s1, t1 = int(step_count(page).replace(",", "")), time.time()
    page.get_by_role("button", name="Pause").click()
    page.get_by_role("button", name="Play").wait_for()
    return redraws / (t1 - t0), (s1 - s0) / (t1 - t0)


def main() -> None:
    ap = argparse.ArgumentParser(description="Play-mode redraw rate in a real browser")
    ap.add_argument("--seconds", type=float, default=8.0)
    args = ap.parse_args()
    from playwright.sync_api import sync_playwright

    server = StreamlitServer()
    try:
        with sync_playwright() as p:
            browser = launch(p)
            rows = []
            for speed in ("20 steps/s", "Fastest"):
                page = open_app(browser, server.url)
                rows.append((speed, *measure(page, speed, args.seconds)))
                page.context.close()
            browser.close()
    finally:
        server.stop()
    print("| play speed | redraws/s (target ≥ 10) | steps/s shown |")
    print("|---|---|---|")
    for speed, fps, sps in rows:
        print(f"| {speed} | {fps:.1f} | {sps:.0f} |")


if __name__ == "__main__":
    main()
