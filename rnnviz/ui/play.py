"""Play mode: train continuously and redraw the live panel many times a second.

Why a loop inside one script run rather than one rerun per frame: measured in headless Chromium,
a fragment rerun per frame cannot beat its 0.1 s timer, and with a faster timer the browser coalesces
reruns (a 0.05 s timer showed only 3-6 redraws/s), while replacing elements inside one running
fragment reached 20 redraws/s. So a play run draws the whole live panel once, then for about LOOP_S
seconds trains and redraws only the fast part (the numbers, the gradient per time step, the window)
every FRAME_S, training for at most TRAIN_SHARE of each frame: on a 2-core machine the browser
needs about a core to draw 12+ frames a second (measured with benchmarks/bench_play.py). The run
then ends and the fragment's timer (RESTART_S) starts the next one, which redraws the rest of the
panel (loss curve, heatmap, norms, sample; costly to the browser with Interactive charts on): they
refresh every LOOP_S.

While playing, Play/Pause, Step, Undo and Reset live outside the fragment: a click there is a full
rerun, and Streamlit lets a full rerun interrupt a running fragment at once. (Paused, they live
inside it, so a Step reruns only the panel.) Widgets inside the panel apply when the run ends.

Every frame pays for its CPU time from the server-wide bucket (rnnviz.ui.governor), so many players
slow each other's frame rate down instead of starving the students who press Step, and from this
session's own bucket (rnnviz.ui.budget), so one player cannot take more than its share.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from rnnviz.ui.budget import session_bucket
from rnnviz.ui.governor import PLAY_BUCKET
from rnnviz.ui.state import AppSession

FRAME_S = 0.065        # ~15 redraws/s of the fast part when the server is free
LOOP_S = 3.0           # one play run lasts about this long (tests set 0: one frame per run)
MIN_FRAMES = 8         # ...and at least this many frames: under load, when frames are far apart, full
                       # redraws (~100 ms of server time each) would otherwise eat the play budget
MAX_RUN_S = 10.0       # ...but never longer: the slow charts and the panel's own widgets wait for a new run
RESTART_S = 0.1        # the fragment's run_every while playing: the pause between two play runs
TRAIN_SHARE = 0.25     # at most this share of a frame period trains; the rest draws (and the browser)
TICK_S = 0.1           # during a long wait, give a pending click a chance this often
MAX_BACKLOG_S = 2.0    # steps owed are not saved up for longer than this (a long pause is not made up)
MAX_TRAIN_S = 0.12     # one frame never trains longer than this, however far apart frames are
SPEEDS = {"1 step/s": 1, "5 steps/s": 5, "20 steps/s": 20, "100 steps/s": 100, "Fastest": 10_000}
DEFAULT_SPEED = "20 steps/s"


def speed(sess: AppSession) -> float:
    """The chosen play speed in steps per second."""
    return SPEEDS.get(sess.extras.get("speed", DEFAULT_SPEED), SPEEDS[DEFAULT_SPEED])


def stop_clock(sess: AppSession) -> None:
    """Forget the frame clock (on Pause): the next Play starts without a backlog of steps."""
    sess.extras.pop("play_t", None)
    sess.extras.pop("play_credit", None)


def train_frame(sess: AppSession, budget_s: float | None = None) -> int:
    """Take the steps the play speed asks for since the last frame, within budget_s; returns how many.

    Steps are owed at `speed` per second of wall time (fractions carry over, so 1 step/s works at
    15 frames/s). The time budget is TRAIN_SHARE of the time since the last frame (at most
    MAX_TRAIN_S): when a busy server spaces frames out, each frame trains for longer, so "20 steps/s"
    stays 20 steps/s as long as the server has the time. A divergence stops playing; the banner says why.
    """
    now = time.monotonic()
    last = sess.extras.get("play_t", now - FRAME_S)
    if budget_s is None:
        budget_s = min(MAX_TRAIN_S, TRAIN_SHARE * max(FRAME_S, now - last))
    rate = speed(sess)
    credit = sess.extras.get("play_credit", 0.0) + rate * min(now - last, MAX_BACKLOG_S)  # carried credit ≤ 1
    sess.extras["play_t"] = now
    done = 0
    deadline = time.perf_counter() + budget_s
    while credit >= 1.0 and (done == 0 or time.perf_counter() < deadline):
        if sess.trainer.step() is None:
            sess.playing = False
            credit = 0.0
            break
        done += 1
        credit -= 1.0
    if credit >= 1.0:               # more steps owed than the budget allowed: drop the backlog
        credit = min(credit, 1.0)
    sess.extras["play_credit"] = credit
    return done


def sleep(seconds: float, tick: Callable[[], None] | None) -> None:
    """Sleep, calling tick() every TICK_S: a Streamlit call is where a pending click can interrupt
    the run, so a long wait for the play budget never delays Pause or Step."""
    end = time.monotonic() + seconds
    while (left := end - time.monotonic()) > 0:
        time.sleep(min(left, TICK_S))
        if tick is not None and end - time.monotonic() > 0:
            tick()


def wait_turn(tick: Callable[[], None] | None = None) -> None:
    """At the start of a play run: wait while the server's play budget is in debt."""
    sleep(max(PLAY_BUCKET.charge(0.0), session_bucket().charge(0.0)), tick)


def loop(sess: AppSession, redraw: Callable[[int], None], cpu0: float, tick: Callable[[], None] | None = None,
         loop_s: float | None = None) -> None:
    """After the caller drew frame 0 (starting at thread CPU time cpu0): train and redraw
    (redraw(frame) for frame = 1, 2, …) until the run has lasted loop_s (default LOOP_S) and
    MIN_FRAMES frames (but at most MAX_RUN_S), or playing stops.

    Each frame's CPU time (thread time: waiting for the interpreter lock is not counted) is charged to
    the shared bucket, and the next frame waits for its turn as well as for the frame period.
    tick: called every TICK_S of a wait (see ``sleep``).
    """
    loop_s = LOOP_S if loop_s is None else loop_s
    mine = session_bucket()       # this session's share (rnnviz.ui.budget): Step ×N and twins draw from it too
    start = time.monotonic()
    cpu = cpu0
    frame = 0
    next_t = start + FRAME_S
    while loop_s > 0 and sess.playing and (frame < MIN_FRAMES or time.monotonic() - start < loop_s) \
            and time.monotonic() - start < MAX_RUN_S:
        cpu_now = time.thread_time()
        wait = max(PLAY_BUCKET.charge(cpu_now - cpu), mine.charge(cpu_now - cpu))
        cpu = cpu_now
        now = time.monotonic()
        due = max(next_t, now + wait)
        sleep(due - now, tick)
        next_t = max(next_t + FRAME_S, time.monotonic())
        frame += 1
        if train_frame(sess) or not sess.playing:
            redraw(frame)
        sess.autosave()
    PLAY_BUCKET.charge(time.thread_time() - cpu)
    mine.charge(time.thread_time() - cpu)
