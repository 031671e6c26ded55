"""Server-side time of the Train page's reruns and of the lesson's chapters, measured with Streamlit's AppTest.

    python benchmarks/bench_page.py            # prints Markdown tables
    python benchmarks/bench_page.py --lesson   # only the lesson's table

Rows:
- Step click: one click of Step with 5,000 steps of history (default settings). Target ≤ 150 ms.
- Play run, first frame: one rerun while playing at the "Fastest" speed: trains for up to
  play.FRAME_S × play.TRAIN_SHARE (40 ms), then draws the whole page. In the browser this happens
  once per play run (every 3 s or more); the frames in between redraw only the fast part (see
  benchmarks/bench_play.py for the redraw rate a real browser shows).
- Lesson: for each chapter (set up, answered, its charts drawn), a rerun of the lesson page against a rerun
  of the page it borrows its charts from, on the same session: a lesson step should cost no more than that page.
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


def lesson_table(n: int = 10) -> None:
    """Median rerun of the lesson page at each answered chapter against the page it links to, same session."""
    from rnnviz.lesson import CHAPTERS

    print("| chapter | lesson page, median ms | its page | that page, median ms | ratio |")
    print("|---|---|---|---|---|")
    for i, ch in enumerate(CHAPTERS):
        if ch.setup.race:    # its action is a 3,000-step race; its charts are the race page's (bench_race_play.py)
            continue
        at = start("lesson")
        session(at).lesson.chapter = i
        at.run()
        at.button(key=f"lesson_setup_{ch.key}").click().run()
        at.button(key=f"lesson_skip_{ch.key}").click().run()
        at.button(key=f"lesson_act_{ch.key}").click().run()
        assert ch.key in session(at).lesson.reveals and not at.exception, at.exception
        lesson_ms = statistics.median(timed_runs(at, lambda a: a.run(), n))
        at.switch_page(ch.page[0]).run()
        page_ms = statistics.median(timed_runs(at, lambda a: a.run(), n))
        print(f"| {i + 1}. {ch.title} | {lesson_ms:.0f} | {ch.page[1]} | {page_ms:.0f} | {lesson_ms / page_ms:.2f}× |")


def main() -> None:
    if "--lesson" in sys.argv:
        lesson_table()
        return
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
    print()
    lesson_table()


if __name__ == "__main__":
    main()
