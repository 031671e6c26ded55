"""Server-side time of the Train page's reruns, measured with Streamlit's AppTest.

    python benchmarks/bench_page.py            # prints a Markdown table

Rows:
- Step click: one click of Step with 5,000 steps of history (default settings). Target ≤ 150 ms.
- Play frame: one rerun while playing at the "Fastest" speed (trains for up to 50 ms, then
  redraws everything). Redraws per second = 1000 / frame ms. Target ≥ 10 redraws/s.
AppTest runs the whole script each time (it cannot run a fragment alone), so these are upper
bounds of what the browser waits for: a real Step or play frame reruns only the live fragment.
"""

from __future__ import annotations

import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "tests")]

from apptest_helpers import session, start  # noqa: E402


def timed_runs(at, action, n: int) -> list[float]:
    out = []
    for _ in range(n):
        t0 = time.perf_counter()
        action(at)
        out.append((time.perf_counter() - t0) * 1e3)
        assert not at.exception, at.exception
    return out


def main() -> None:
    at = start()
    tr = session(at).trainer
    t0 = time.perf_counter()
    tr.step(5000)
    print(f"(trained 5,000 steps in {time.perf_counter() - t0:.1f} s to build the history)\n")
    at.run()
    step_ms = timed_runs(at, lambda a: a.button(key="btn_step").click().run(), 15)

    sess = session(at)
    at.select_slider(key="play_speed").set_value("Fastest").run()
    sess.playing = True
    sess.extras["fragment_playing"] = True
    before = tr.step_count
    frame_ms = timed_runs(at, lambda a: a.run(), 15)
    steps_per_frame = (tr.step_count - before) / 15
    sess.playing = False

    print("| measurement | median ms | p90 ms | target |")
    print("|---|---|---|---|")
    q = lambda xs: statistics.quantiles(xs, n=10)[-1]
    print(f"| Step click rerun, 5,000 steps of history | {statistics.median(step_ms):.0f} | {q(step_ms):.0f} | ≤ 150 |")
    fps = 1000 / statistics.median(frame_ms)
    print(f"| Play frame (train + redraw), {steps_per_frame:.0f} steps/frame | {statistics.median(frame_ms):.0f} | "
          f"{q(frame_ms):.0f} | ≤ 100 (≥ 10 redraws/s; here {fps:.1f}/s) |")


if __name__ == "__main__":
    main()
