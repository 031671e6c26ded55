"""Server-side time of the Train page's reruns, measured with Streamlit's AppTest.

    python benchmarks/bench_page.py            # prints a Markdown table

Rows:
- Step click: one click of Step with 5,000 steps of history (default settings). Target ≤ 150 ms.
- Play run, first frame: one rerun while playing at the "Fastest" speed: trains for up to
  play.FRAME_S × play.TRAIN_SHARE (40 ms), then draws the whole page. In the browser this happens
  once per play run (every 3 s or more); the frames in between redraw only the fast part (see
  benchmarks/bench_play.py for the redraw rate a real browser shows).
AppTest runs the whole script each time (it cannot run a fragment alone), and the test fixture's
play runs stop after one frame, so these are upper bounds of the server time per full draw.
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
    from rnnviz.ui import play
    play.LOOP_S = 0.0  # one frame per run: AppTest would otherwise wait out each 2-second play run
    before = tr.step_count
    frame_ms = timed_runs(at, lambda a: a.run(), 15)
    steps_per_frame = (tr.step_count - before) / 15
    sess.playing = False

    print("| measurement | median ms | p90 ms | target |")
    print("|---|---|---|---|")
    q = lambda xs: statistics.quantiles(xs, n=10)[-1]
    print(f"| Step click rerun, 5,000 steps of history | {statistics.median(step_ms):.0f} | {q(step_ms):.0f} | ≤ 150 |")
    print(f"| Play run's first frame (train + full draw), {steps_per_frame:.0f} steps/frame | "
          f"{statistics.median(frame_ms):.0f} | {q(frame_ms):.0f} | (once per play run, every ≥ 3 s) |")


if __name__ == "__main__":
    main()
