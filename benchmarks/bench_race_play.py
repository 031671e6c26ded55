"""The long-memory race played in Chromium: race steps and scores after every 10 s of "Play the race".

    python benchmarks/bench_race_play.py [--seconds 60] [--shots DIR]     # prints a Markdown table

Starts the app (`streamlit run app.py`), opens the race page (pages/race.py: every cell on the long-memory
task), turns "Play the race" on and reads the race's sentence every 10 s: the race steps reached, each
cell's right-closing-marker score and the first step it reached 70%. Every race step trains every cell
(T = 100); play pays from this session's CPU budget (rnnviz.ui.budget, RNNVIZ_SESSION_CPU_SHARE), as any
user's would. --shots saves a screenshot of the page at every reading.
"""

from __future__ import annotations

import argparse
import re
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "tests")]

from browser_support import StreamlitServer, launch, open_app, open_long_memory_race  # noqa: E402

SENTENCE = ".rv-race-verdict"
CELL = re.compile(r"(Vanilla RNN|minGRU|GRU|LSTM) (\d+)% \((\d+) of (\d+)(?:, 70% first at step ([\d,]+))?\)")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seconds", type=int, default=60)
    ap.add_argument("--shots", type=Path, default=None)
    a = ap.parse_args()
    from playwright.sync_api import sync_playwright
    server = StreamlitServer()
    rows, names = [], []
    try:
        with sync_playwright() as p:
            browser = launch(p)
            page = open_app(browser, server.url, width=1500, height=1800)
            open_long_memory_race(page)
            page.get_by_text("Play the race", exact=True).click()
            t0 = time.monotonic()
            for s in range(10, a.seconds + 1, 10):
                time.sleep(max(0.0, t0 + s - time.monotonic()))
                try:
                    text = page.locator(SENTENCE).first.inner_text(timeout=5000)
                except Exception:   # noqa: BLE001 — the sentence is being redrawn; try the next tick
                    continue
                if a.shots:
                    a.shots.mkdir(parents=True, exist_ok=True)
                    page.screenshot(path=str(a.shots / f"race-{s:03d}s.png"), full_page=True)
                steps = re.search(r"After ([\d,]+) race steps", text)
                cells = {m[0]: (m[1], m[4]) for m in CELL.findall(text)}
                names = names or list(cells)
                rows.append((s, steps.group(1) if steps else "?", cells))
            page.get_by_text("Play the race", exact=True).click()
            browser.close()
    finally:
        server.stop()
    print("| seconds of play | race steps | " + " | ".join(f"{n}: score (first step ≥ 70%)" for n in names) + " |")
    print("|---" * (2 + len(names)) + "|")
    for s, steps, cells in rows:
        print(f"| {s} | {steps} | " + " | ".join(f"{cells[n][0]}% ({cells[n][1] or '—'})" if n in cells else "—"
                                                  for n in names) + " |")


if __name__ == "__main__":
    main()
