"""Each session's CPU budget (issue #13): a click's work is metered, shown, and can be stopped."""

from __future__ import annotations

import pytest
from streamlit.testing.v1 import AppTest


def _script():
    import time

    import streamlit as st

    from rnnviz.ui import budget
    from rnnviz.ui.governor import CpuBucket

    if "bucket" not in st.session_state:
        st.session_state.bucket = CpuBucket(rate=1.0, burst=0.2)
        st.session_state.units = 0

    def burn(k: int) -> int:                     # k units of 20 ms of CPU each
        t = time.thread_time()
        while time.thread_time() - t < 0.02 * k:
            pass
        st.session_state.units += k
        return k

    st.button("go", key="go", on_click=budget.request, args=("x", "Burn ×50", 50, burn))
    st.button("stop", key="stop", on_click=budget.cancel, args=("x",))
    t0, c0 = time.monotonic(), time.thread_time()
    job = budget.drain("x", st.session_state.bucket)
    st.session_state.wall, st.session_state.cpu = time.monotonic() - t0, time.thread_time() - c0
    st.session_state.job_done = None if job is None else job.done


def test_a_click_spends_its_burst_then_waits_at_the_session_rate():
    at = AppTest.from_function(_script, default_timeout=30).run()
    assert at.session_state.job_done is None and at.session_state.units == 0    # no click: no work
    at.button(key="go").click().run()
    assert not at.exception
    cpu, wall = at.session_state.cpu, at.session_state.wall
    assert at.session_state.job_done == 50 and at.session_state.units == 50
    # ~1 CPU-s of work with 0.2 CPU-s of burst at 1 CPU-s/s: it had to wait for most of it.
    assert wall >= 0.8 * (cpu - 0.2) / 1.0, (cpu, wall)
    assert at.session_state.bucket.charge(0.0) > 0 or wall > cpu    # the session is in debt, or has paid it


def test_a_stopped_job_keeps_what_was_done_and_does_not_come_back():
    at = AppTest.from_function(_script, default_timeout=30).run()
    from rnnviz.ui import budget

    at.button(key="go").click()
    at.session_state["_rnnviz_job_x"] = budget.Job("Burn ×50", 50, lambda k: k, done=20)  # as if interrupted
    at.button(key="stop").click().run()
    assert at.session_state.job_done is None and "_rnnviz_job_x" not in at.session_state


def test_step_x100_goes_through_the_budget_on_the_train_page(monkeypatch):
    """The page's Step ×100 is not run inside the click: it is a job that budget.drain does (and meters)."""
    from rnnviz.ui import budget

    from apptest_helpers import session, start

    seen = []
    real = budget.drain

    def spy(name, bucket=None):
        job = real(name, bucket)
        if job is not None:
            seen.append((name, job.label, job.done, job.total))
        return job

    monkeypatch.setattr(budget, "drain", spy)
    at = start()
    at.button(key="btn_step100").click().run()
    assert not at.exception and session(at).trainer.step_count == 100
    assert seen == [("train", "Step ×100", 100, 100)]


def test_a_queued_click_ends_the_run_early_and_the_job_goes_on_unless_stopped(monkeypatch):
    """A click inside a fragment cannot interrupt it (Streamlit queues it): drain hands over itself."""
    from rnnviz.ui import budget

    at = AppTest.from_function(_script, default_timeout=30).run()
    monkeypatch.setattr(budget, "click_waiting", lambda: True)
    monkeypatch.setattr(budget, "CHUNK_S", 0.02)          # one unit per chunk
    at.button(key="go").click().run()
    assert 0 < at.session_state.job_done < 50 and "_rnnviz_job_x" in at.session_state   # handed over, still pending
    monkeypatch.setattr(budget, "click_waiting", lambda: False)
    at.run()                                               # a click that was not Stop: the job goes on
    assert at.session_state.units == 50 and "_rnnviz_job_x" not in at.session_state


def test_a_bucket_says_what_it_holds_and_refills_at_its_rate():
    from rnnviz.ui.governor import CpuBucket
    b = CpuBucket(rate=0.5, burst=4.0)
    t0 = b._t
    assert b.available(t0) == 4.0
    b.charge(5.0, t0)                                    # one CPU-s into debt
    assert b.available(t0) == pytest.approx(-1.0)
    assert b.available(t0 + 4.0) == pytest.approx(1.0)   # 4 s at 0.5 CPU-s/s
    assert b.available(t0 + 100.0) == 4.0                # never above the burst
