"""Play mode's pacing: the shared CPU bucket, steps owed per frame, and the frame loop."""

from __future__ import annotations

import time

import pytest

from rnnviz.ui import play
from rnnviz.ui.governor import CpuBucket
from rnnviz.ui.state import default_session


@pytest.fixture
def sess(monkeypatch):
    monkeypatch.setenv("RNNVIZ_SESSION_DIR", str(__import__("tempfile").mkdtemp()))
    s = default_session()
    s.playing = True
    return s


def test_bucket_lets_a_burst_through_then_makes_spenders_wait_in_proportion():
    b = CpuBucket(rate=0.5, burst=0.2)
    t = 100.0
    b._t = t
    assert b.charge(0.1, now=t) == 0.0                   # within the burst: no wait
    assert b.charge(0.2, now=t) == pytest.approx(0.2)    # 0.1 in debt at 0.5 CPU-s/s: wait 0.2 s
    assert b.charge(0.0, now=t + 0.2) == pytest.approx(0.0, abs=1e-12)   # paid back after that wait
    assert b.charge(0.0, now=t + 100) == 0.0 and b._level == pytest.approx(0.2)  # refills only up to burst


def test_bucket_caps_the_aggregate_rate_of_many_spenders():
    """N loops that each spend c per frame and wait as told: together they use ≈ rate CPU-s per s."""
    rate, c, n = 0.5, 0.02, 10
    b = CpuBucket(rate=rate, burst=0.05)
    b._t = 0.0
    ready = [0.0] * n
    spent = 0.0
    now = 0.0
    while now < 60.0:
        i = min(range(n), key=ready.__getitem__)
        now = ready[i]
        spent += c
        ready[i] = now + max(c, b.charge(c, now=now))
    assert spent / now == pytest.approx(rate, rel=0.05)


def test_bucket_rejects_a_nonsense_rate():
    with pytest.raises(ValueError):
        CpuBucket(rate=0, burst=1)


def test_steps_owed_follow_the_speed_not_the_frame_rate(sess):
    sess.extras["speed"] = "5 steps/s"
    tr = sess.trainer
    t_end = time.monotonic() + 1.2
    while time.monotonic() < t_end:
        play.train_frame(sess)
        time.sleep(0.02)
    assert 4 <= tr.step_count <= 8          # ~6 steps in 1.2 s at 5 steps/s, however many frames


def test_fastest_is_bounded_by_the_frame_budget(sess, monkeypatch):
    """Fastest owes ~10,000 steps after a 10 s pause; the frame stops at its time budget. The clock is
    a fake that advances 10 ms per step, so the property holds on any machine, however loaded."""
    clock = [0.0]
    monkeypatch.setattr(play.time, "perf_counter", lambda: clock[0])
    real_step = sess.trainer.step

    def step(n=1):
        clock[0] += 0.01
        return real_step(n)

    monkeypatch.setattr(sess.trainer, "step", step)
    sess.extras["speed"] = "Fastest"
    sess.extras["play_t"] = time.monotonic() - 10.0   # a long pause must not be made up in one frame
    done = play.train_frame(sess, budget_s=0.03)
    assert done == 3 and clock[0] <= 0.03 + 0.01      # steps until the 30 ms budget is spent, then stop
    assert sess.extras["play_credit"] <= 1.0          # and the backlog is dropped, not carried


def test_a_diverging_step_stops_playing(sess):
    sess.apply_config(sess.config.with_changes(optimizer="sgd", lr=1000.0, clip="none"))
    sess.playing = True
    sess.extras["speed"] = "100 steps/s"
    sess.extras["play_t"] = time.monotonic() - 0.5
    for _ in range(50):
        play.train_frame(sess)
        if not sess.playing:
            break
    assert not sess.playing and sess.trainer.divergence is not None


def test_loop_redraws_after_training_and_ends_when_the_run_has_lasted(sess, monkeypatch):
    monkeypatch.setattr(play, "FRAME_S", 0.01)
    sess.extras["speed"] = "Fastest"
    frames = []
    t0 = time.monotonic()
    play.loop(sess, frames.append, time.thread_time(), loop_s=0.15)
    took = time.monotonic() - t0
    assert frames == list(range(1, len(frames) + 1)) and len(frames) >= play.MIN_FRAMES
    assert 0.15 <= took < 1.5
    assert sess.trainer.step_count >= len(frames)


def test_frames_without_a_new_step_are_not_redrawn(sess, monkeypatch):
    monkeypatch.setattr(play, "FRAME_S", 0.01)
    sess.extras["speed"] = "20 steps/s"     # a step every 5th frame of 10 ms
    frames, steps_at_redraw = [], []
    before = sess.trainer.step_count

    def redraw(frame):
        frames.append(frame)
        steps_at_redraw.append(sess.trainer.step_count)

    play.loop(sess, redraw, time.thread_time(), loop_s=0.2)
    assert frames, "a 0.2 s run at 20 steps/s takes steps"
    # every redraw shows at least one new step, and most 10 ms frames had none to show
    assert all(b > a for a, b in zip([before, *steps_at_redraw], steps_at_redraw, strict=False))
    assert frames[-1] >= 2 * len(frames)


def test_loop_stops_at_once_when_playing_stops(sess):
    calls = []

    def redraw(frame):
        calls.append(frame)
        sess.playing = False              # e.g. the frame diverged

    play.loop(sess, redraw, time.thread_time(), loop_s=5.0)
    assert len(calls) == 1


def test_loop_with_zero_length_draws_nothing_more(sess):
    calls = []
    play.loop(sess, calls.append, time.thread_time(), loop_s=0.0)
    assert calls == []


def test_long_waits_tick_so_a_click_can_interrupt(monkeypatch):
    ticks = []
    play.sleep(0.35, lambda: ticks.append(1))
    assert len(ticks) >= 2


def test_a_frame_after_a_long_gap_trains_longer_but_never_past_the_cap(sess):
    sess.extras["speed"] = "Fastest"
    sess.extras["play_t"] = time.monotonic() - 10.0       # a busy server spaced the frames out
    t0 = time.perf_counter()
    play.train_frame(sess)
    took = time.perf_counter() - t0
    assert play.TRAIN_SHARE * play.FRAME_S < took < play.MAX_TRAIN_S + 0.1
