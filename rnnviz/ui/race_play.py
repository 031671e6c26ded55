"""The session's race of the cells (rnnviz.race), shared by the race page and the lesson's last chapter.

It lives in st.session_state under RACE_KEY (this session only), not in sess.extras: a race on the lecture's
settings has its own text and outlives sidebar changes, which empty sess.extras. Training goes through the
session's CPU budget (rnnviz.ui.budget): Race ×N as a job, Play as bounded slices per rerun.
"""

from __future__ import annotations

import time

import streamlit as st

from rnnviz.race import LONGMEM_CONFIG, LONGMEM_SAMPLE, Race
from rnnviz.samples import read_sample
from rnnviz.ui import budget
from rnnviz.ui.state import AppSession

RACE_KEY = "_rnnviz_race"
JOB = "race"                # the budget job's name
PLAY_S = 0.85               # one play rerun trains this long (or what the CPU budget holds), then redraws
MIN_PLAY_S = 0.05           # less CPU time than this left in the budget: only redraw
SLICE = 5                   # race steps between two clock checks while playing


def state() -> dict:
    """{source: "lecture" | "model", seed, generation, race}: what this session races, and the race (None
    until first use)."""
    return st.session_state.setdefault(RACE_KEY, {"source": "lecture", "seed": LONGMEM_CONFIG.seed, "generation": None,
                                                  "race": None})


def race(sess: AppSession) -> Race:
    """The session's race on the long-memory text, started on first use: with the lecture's settings and the
    chosen seed, or with the sidebar's settings (restarted when they change)."""
    s = state()
    if s["source"] == "model" and s["generation"] != (sess.generation, sess.config):
        s["race"] = None
    if s["race"] is None:
        s["race"] = (Race.lecture(s["seed"]) if s["source"] == "lecture" else
                     Race(read_sample(LONGMEM_SAMPLE), sess.config))
        s["generation"] = (sess.generation, sess.config)
    return s["race"]


def restart(source: str | None = None, seed: int | None = None) -> None:
    """Drop the race (the next use starts it afresh), optionally with another source or seed; a pending
    Race ×N job was for the old race and ends."""
    s = state()
    if source is not None:
        s["source"] = source
    if seed is not None:
        s["seed"] = int(seed)
    s["race"] = None
    budget.cancel(JOB)


def request_steps(sess: AppSession, n: int, label: str | None = None) -> None:
    """Ask for n race steps (from a button's on_click): ``budget.drain(JOB)`` on the page does them."""
    run = race(sess)

    def steps(k: int) -> int:
        return run.step(k) if state()["race"] is run else 0   # restarted meanwhile: the job was for the old race

    budget.request(JOB, label or f"Race ×{n}", n, steps)


def play(sess: AppSession, until: int | None = None) -> None:
    """One play rerun: train the race for up to PLAY_S, or for as much CPU time as this session's budget holds
    if that is less (a session in debt only redraws), and never past race step ``until``. Training for what
    the budget holds, rather than all or nothing, keeps the race moving at the session's full share."""
    bucket = budget.session_bucket()
    allowed = min(PLAY_S, bucket.available())
    if allowed < MIN_PLAY_S:
        return
    r, c0 = race(sess), time.thread_time()
    t_end = time.perf_counter() + allowed
    while time.perf_counter() < t_end and time.thread_time() - c0 < allowed:
        n = SLICE if until is None else min(SLICE, until - r.steps)
        if n <= 0 or not r.step(n):
            break
    bucket.charge(time.thread_time() - c0)
