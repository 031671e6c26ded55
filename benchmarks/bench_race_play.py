"""The long-memory race played in Chromium: race steps reached after N seconds of "Play the race".

    python benchmarks/bench_race_play.py [--seconds 60]     # prints a Markdown table

Starts the app (`streamlit run app.py`), picks the *Long memory* preset, opens the Lab (it opens on
the race), turns "Play the race" on and reads the race caption every 10 s: the steps reached and
each cell's right-closing-marker score. Every race step trains the three cells (T = 100); play pays
from this session's CPU budget (rnnviz.ui.budget, RNNVIZ_SESSION_CPU_SHARE), as any user's would.
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


def caption(page) -> str:
    return page.get_by_text("After ", exact=False).filter(has_text="steps —").first.inner_text()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seconds", type=int, default=60)
    a = ap.parse_args()
    from playwright.sync_api import sync_playwright
    server = StreamlitServer()
    rows = []
    try:
        with sync_playwright() as p:
            browser = launch(p)
            page = open_app(browser, server.url)
            open_long_memory_race(page)
            page.get_by_text("Play the race").click()
            t0 = time.monotonic()
            for s in range(10, a.seconds + 1, 10):
                time.sleep(max(0.0, t0 + s - time.monotonic()))
                try:
                    text = caption(page)
                except Exception:   # noqa: BLE001 — the caption is being redrawn; try the next tick
                    continue
                steps = re.search(r"After ([\d,]+) steps", text)
                scores = re.findall(r"(Vanilla RNN|LSTM|GRU) (\d+)/(\d+) right \((\d+)%, best so far (\d+)%", text)
                rows.append((s, steps.group(1) if steps else "?",
                             {name: f"{pct}% (best {best}%)" for name, _, _, pct, best in scores}))
            page.get_by_text("Play the race").click()
            browser.close()
    finally:
        server.stop()
    names = ["Vanilla RNN", "LSTM", "GRU"]
    print("| seconds of play | race steps | " + " | ".join(names) + " |")
    print("|---" * (2 + len(names)) + "|")
    for s, steps, sc in rows:
        print(f"| {s} | {steps} | " + " | ".join(sc.get(n, "—") for n in names) + " |")


if __name__ == "__main__":
    main()
