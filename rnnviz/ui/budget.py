"""Each session's share of the CPU: Step ×N, a twin step and play all draw from one per-session bucket.

One click can be expensive: at the largest model the limits allow (V·H = 2.56M, T = 200) a step costs
about 0.2 CPU-s, so Step ×100 costs about 20 (README, "Robust for a lecture hall"). Run inside the
click, that is 20 s in which this session holds the interpreter lock in a tight loop while the other
students' clicks queue behind it. So a click only *asks* for work (``request``); the page then does it
in chunks (``drain``), each chunk paid for from this session's bucket (``session_bucket``): it refills at
RATE CPU-s per second up to BURST. A click that costs less than the burst (Step ×100 on the default
model: ~0.1 s) runs at once with no progress shown; a bigger job shows a progress bar and a Stop
button, and waits between chunks while the bucket is in debt, so one session spends at most about
RATE of a core however often it clicks. Play pays from the same bucket (rnnviz.ui.play), on top of the
server-wide play governor (rnnviz.ui.governor).

The bucket and the pending job live in st.session_state (this session only), never at module level.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from dataclasses import dataclass

import streamlit as st
from streamlit.runtime.scriptrunner_utils.script_run_context import get_script_run_ctx

from rnnviz.ui.governor import CpuBucket


def _env_float(name: str, default: float, lo: float, hi: float) -> float:
    try:
        return min(hi, max(lo, float(os.environ.get(name, default))))
    except ValueError:
        return default


# CPU-s per second one session may spend. 0.75: the long-memory race (three cells at T = 100, ~14 CPU-ms
# per race step) then reaches ~3,000 steps, where the LSTM has learned, in under a minute of play
# (benchmarks/bench_race_play.py: at 0.5 it reached 2,168 steps in 60 s), while every other session
# keeps at least a quarter of the interpreter.
RATE = _env_float("RNNVIZ_SESSION_CPU_SHARE", 0.75, 0.05, 4.0)
BURST = _env_float("RNNVIZ_SESSION_CPU_BURST", 4.0, 0.1, 600.0)  # CPU-s a session may spend at once
CHUNK_S = 0.25         # CPU-s of work between two progress updates (a Stop click lands within about this)
SHOW_AFTER_S = 0.5     # a job that has run this long (wall time) shows its progress and a Stop button
TICK_S = 0.1           # while waiting for the bucket, touch the page this often (a click can interrupt)
_BUCKET_KEY = "_rnnviz_cpu_bucket"
_JOB_KEY = "_rnnviz_job_"


def session_bucket() -> CpuBucket:
    """This session's bucket (created full on first use). Outside a Streamlit session (a unit test,
    a notebook) a fresh one each call: there is no one to share with."""
    if get_script_run_ctx(suppress_warning=True) is None:
        return CpuBucket(RATE, BURST)
    bucket = st.session_state.get(_BUCKET_KEY)
    if bucket is None:
        bucket = st.session_state[_BUCKET_KEY] = CpuBucket(RATE, BURST)
    return bucket


@dataclass
class Job:
    """n units of work asked for by a click. run(k) does up to k units and returns how many it did
    (fewer means it had to stop, e.g. training diverged)."""

    label: str
    total: int
    run: Callable[[int], int]
    done: int = 0


def request(name: str, label: str, n: int, run: Callable[[int], int]) -> None:
    """Ask for n units of work (from a button's on_click); ``drain(name)`` on the page does them.
    A new request replaces an unfinished one of the same name (the user clicked something else)."""
    st.session_state[_JOB_KEY + name] = Job(label, max(0, int(n)), run)


def cancel(name: str) -> None:
    """Stop the pending job (the Stop button): what was done is kept."""
    st.session_state.pop(_JOB_KEY + name, None)


def pending(name: str) -> Job | None:
    return st.session_state.get(_JOB_KEY + name)


def click_waiting() -> bool:
    """Whether the user clicked something since this run started (a rerun is queued, not a timer's).

    A click on a button inside a fragment does not interrupt a running fragment: Streamlit queues it
    until the run ends. So a long job asks this between chunks and hands over (its remainder stays
    pending, and the click's callback decides: Stop cancels it). Reads Streamlit's queued request
    (an internal attribute): False if it is not there, and then only a full rerun interrupts."""
    ctx = get_script_run_ctx(suppress_warning=True)
    requests = getattr(ctx, "script_requests", None)
    state = getattr(getattr(requests, "_state", None), "name", "CONTINUE")
    return state == "RERUN" and not getattr(getattr(requests, "_rerun_data", None), "is_auto_rerun", False)


def drain(name: str, bucket: CpuBucket | None = None) -> Job | None:
    """Do the pending job `name` here, in chunks of about CHUNK_S CPU-s paid from the session's bucket.
    Returns the finished (or stopped) job, or None if there was none.

    Shows nothing for a job that finishes within SHOW_AFTER_S; a longer one gets a progress bar and
    a Stop button in this place. Every chunk and every wait touches the page, which is where Streamlit
    interrupts a run for a click, and a click queued behind this run (``click_waiting``) ends it early:
    Stop (or any other click) lands within about a chunk. The job stays in session state until done, so
    an interrupted job goes on in the next run unless it was stopped."""
    job = pending(name)
    if job is None:
        return None
    bucket = bucket or session_bucket()
    slot = st.empty()
    bar = None
    t0 = time.monotonic()
    k = 1                                      # units per chunk: 1 until one has been timed

    def show(note: str = "") -> None:
        nonlocal bar
        if bar is None:
            with slot.container():
                st.button(f"Stop {job.label}", key=f"{_JOB_KEY}{name}_stop", on_click=cancel, args=(name,),
                          help="Stop here: the steps already done are kept")
                bar = st.progress(0.0)
        bar.progress(min(1.0, job.done / max(job.total, 1)),
                     text=f"{job.label}: {job.done:,} of {job.total:,} done{note}")

    while job.done < job.total:
        wait = bucket.charge(0.0)
        while wait > 0:                        # in debt: this session has used its share for now
            if time.monotonic() - t0 > SHOW_AFTER_S or wait > SHOW_AFTER_S:
                show(f" · waiting {wait:.1f} s for this session's CPU share")
            time.sleep(min(wait, TICK_S))
            if click_waiting():
                return job                     # left pending: the click's callback decides
            wait = bucket.charge(0.0)
        c0 = time.thread_time()
        ask = min(k, job.total - job.done)
        did = job.run(ask)
        cpu = time.thread_time() - c0
        bucket.charge(cpu)
        job.done += did
        if did < ask:
            break
        k = max(1, int(CHUNK_S / max(cpu / max(did, 1), 1e-6)))
        if job.done < job.total and click_waiting():
            return job                         # left pending: the click's callback decides
        if job.done < job.total and time.monotonic() - t0 > SHOW_AFTER_S:
            show()
    cancel(name)
    slot.empty()
    return job
