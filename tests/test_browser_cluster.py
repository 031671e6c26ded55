"""A class on a cluster (issue #22): deploy/cluster.sh with 2 replicas behind nginx, in Chromium.

The replica serving a student is SIGKILLed; the tab reconnects through nginx to the other one,
which restores the session from the shared folder: same step, same loss, the app's own pages, a
one-sentence message. Then the other way round, after the first came back. And browsers from one
address (a lecture hall behind one NAT address) spread over both replicas."""

from __future__ import annotations

import os
import signal
import time

import pytest
from playwright.sync_api import TimeoutError as PlaywrightTimeout

from browser_support import METRIC, open_app, require_browser, shot, step_count, wait_idle, wait_step
from cluster_support import Cluster, require_nginx, serving_replica

pytestmark = pytest.mark.browser

METRICS_JS = f"() => [...document.querySelectorAll('{METRIC}')].map(m => m.innerText)"
NAV_JS = "() => [...document.querySelectorAll('[data-testid=stSidebarNav] a')].map(a => a.innerText.split('\\n').pop())"


@pytest.fixture(scope="module")
def cluster():
    require_browser()
    require_nginx()
    c = Cluster(2)
    yield c
    c.save_logs("cluster")
    c.stop()


@pytest.fixture(scope="module")
def chromium(cluster, browser):
    """The test run's Chromium (conftest: one Playwright per process; a second one cannot start beside it)."""
    return browser


def metrics(page) -> dict[str, str]:
    """The metric row: {"Step": "10", "Loss per token": "3.912", …}."""
    labels = page.evaluate("() => [...document.querySelectorAll('[data-testid=stMetricLabel]')].map(m => m.innerText.trim())")
    return dict(zip(labels, page.evaluate(METRICS_JS), strict=True))


KEPT = ("Step", "Loss per token", "Smoothed loss", "Perplexity")   # the last step's gradient norm is not saved


def same_model(page, before: dict[str, str]) -> None:
    after = metrics(page)
    assert {k: after.get(k) for k in KEPT} == {k: before[k] for k in KEPT}, "the restored model is not the one trained"


def kill_and_reconnect(cluster, page, step: int, shots: str) -> tuple[int, int, float]:
    """SIGKILL the replica serving page (at `step`); wait for the tab to say it reconnected and was
    restored at that step (the message names it: an earlier failover's message may still be shown).
    (killed, now serving, seconds)."""
    killed = serving_replica(page)
    t0 = time.monotonic()
    os.kill(cluster.pid(killed), signal.SIGKILL)
    page.get_by_text(f"this tab reconnected: your model was restored from its last save (step {step:,}").wait_for(
        timeout=60_000)
    took = time.monotonic() - t0
    wait_idle(page)
    shot(page, shots)
    return killed, serving_replica(page), took


def test_a_student_loses_nothing_when_the_replica_serving_them_dies_either_way_round(cluster, chromium):
    page = open_app(chromium, cluster.url)
    page.get_by_role("button", name="Step ×10", exact=True).click()
    wait_step(page, 10)
    wait_idle(page)
    before = metrics(page)
    nav = page.evaluate(NAV_JS)

    first, second, took = kill_and_reconnect(cluster, page, 10, "cluster-1-failover")
    assert second != first
    wait_step(page, 10)
    same_model(page, before)
    assert page.evaluate(NAV_JS) == nav, "after the reconnect the tab has other pages"
    assert page.locator('[data-testid="stException"]').count() == 0
    message = page.get_by_text("this tab reconnected").inner_text()
    assert "Traceback" not in message and message.count(". ") == 0, message      # one sentence
    print(f"\nreplica {first} killed: the tab was back on replica {second} at step 10 after {took:.1f} s")

    page.get_by_role("button", name="Step ×10", exact=True).click()     # it trains on where it is now
    wait_step(page, 20)
    cluster.restart(first)
    # The dead replica is back: the tab's requests (and its websocket) stay where its session now lives.
    assert serving_replica(page) == second
    page.get_by_role("button", name="Step", exact=False).first.click()
    wait_step(page, 21)
    wait_idle(page)
    before = metrics(page)

    killed, back, took = kill_and_reconnect(cluster, page, 21, "cluster-2-failover-back")
    assert (killed, back) == (second, first)
    wait_step(page, 21)
    same_model(page, before)
    print(f"replica {second} killed: the tab was back on replica {first} at step 21 after {took:.1f} s")
    cluster.restart(second)
    assert "Traceback" not in cluster.log_text()
    page.context.close()


def test_a_text_uploaded_after_a_failover_reaches_the_replica_that_now_serves_the_tab(cluster, chromium):
    """Uploads are HTTP requests beside the websocket: after a failover they must follow it (Streamlit
    keeps an upload in the memory of the replica whose session asked for it). 1.4 MB: more than
    nginx takes by default (1 MB) and than it keeps in memory (16 KB: the rest is buffered on disk)."""
    page = open_app(chromium, cluster.url)
    page.get_by_role("button", name="Step ×10", exact=True).click()
    wait_step(page, 10)
    killed, now, _ = kill_and_reconnect(cluster, page, 10, "cluster-3-before-upload")
    assert now != killed and _alive(cluster.pid(now))   # the tab lives on the replica that survived
    text = "Ein Bär saß im Café, aß Crème brûlée und las Gödel. " * 14_000     # 728,000 characters, 1.4 MB
    page.get_by_text("Text ·").first.click()
    upload = page.locator('[data-testid="stExpander"]').filter(has_text="…or upload a .txt file")
    upload.locator('input[type="file"]').set_input_files(
        files=[{"name": "lecture.txt", "mimeType": "text/plain", "buffer": text.encode()}])
    page.get_by_role("heading", name="Uploaded: lecture.txt").wait_for(timeout=60_000)
    wait_step(page, 0)
    page.get_by_role("button", name="Step", exact=False).first.click()
    wait_step(page, 1)
    assert step_count(page) == "1" and serving_replica(page) == now   # trained on the upload, on the new replica
    assert page.get_by_role("heading", name="Uploaded: lecture.txt").count() >= 1
    assert "Traceback" not in cluster.log_text()
    shot(page, "cluster-4-uploaded")
    for i in (1, 2):       # both replicas alive again for the next test
        if not _alive(cluster.pid(i)):
            cluster.restart(i)
    page.context.close()


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
        return True
    except ProcessLookupError:
        return False


def test_browsers_behind_one_address_spread_over_both_replicas(cluster, chromium):
    """Every browser here comes from 127.0.0.1, as a lecture hall comes from one NAT address: affinity
    by address would put them all on one replica; by cookie they are spread, and each stays put."""
    pages = [open_app(chromium, cluster.url, width=1000, height=800) for _ in range(4)]
    serving = [serving_replica(p) for p in pages]
    assert set(serving) == {1, 2}, f"all browsers landed on one replica: {serving}"
    for p, r in zip(pages, serving, strict=True):
        p.get_by_role("button", name="Step", exact=False).first.click()
        wait_step(p, 1)
        assert serving_replica(p) == r, "a browser moved to another replica although none died"
    print(f"\n4 browsers from one address: replicas {serving}")
    for p in pages:
        p.context.close()


def test_a_rolling_restart_of_every_replica_loses_no_one_s_model(cluster, chromium):
    """`deploy/cluster.sh rolling` restarts the replicas one by one (SIGTERM, start, healthy, next):
    a tab on each replica is reconnected at its own step, once or twice, and trains on."""
    pages, steps = [], []
    while len({serving_replica(p) for p in pages}) < 2 and len(pages) < 6:
        pages.append(open_app(chromium, cluster.url, width=1000, height=800))
    for k, p in enumerate(pages):
        p.get_by_role("button", name="Step ×10", exact=True).click()
        wait_step(p, 10)
        for _ in range(k):
            p.get_by_role("button", name="Step", exact=False).first.click()
            wait_step(p, 11 + _)
        steps.append(10 + k)
    assert len({serving_replica(p) for p in pages}) == 2, "the tabs did not cover both replicas"
    cluster.sh("rolling", str(cluster.port))
    for p, step in zip(pages, steps, strict=True):
        p.get_by_text(f"this tab reconnected: your model was restored from its last save (step {step:,}").wait_for(
            timeout=60_000)
        wait_idle(p)
        wait_step(p, step)
        for attempt in range(3):     # a tab moved twice may still be reconnecting: its click is then lost
            p.get_by_role("button", name="Step", exact=False).first.click()
            try:
                wait_step(p, step + 1, timeout=10_000)
                break
            except PlaywrightTimeout:
                if attempt == 2:
                    raise
                wait_idle(p)
                wait_step(p, step)
        assert step_count(p) == f"{step + 1:,}", "the restored model did not train on"
        p.context.close()
    assert "Traceback" not in cluster.log_text()
