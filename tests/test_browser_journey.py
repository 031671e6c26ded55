"""The newcomer's journey in a real browser (Chromium + `streamlit run app.py`).

Open the app, paste a custom text, Step three times and watch the counter, the loss chart and the
per-time-step gradient chart change; Play for two seconds, Pause; generate text. Screenshots go to
test-artifacts/ for a human to look at.
"""

from __future__ import annotations

import time

import pytest

from browser_support import (
    bar_values,
    chart_values,
    open_app,
    paste_text,
    shot,
    step_count,
    wait_bars,
    wait_chart,
    wait_idle,
    wait_step,
)

pytestmark = pytest.mark.browser

CUSTOM = ("The quick brown fox studies recurrent networks every evening. "
          "Gradients flow backwards through time, and sometimes they fade away. ") * 6


def test_newcomer_journey(browser, app_url):
    page = open_app(browser, app_url)
    assert step_count(page) == "0"
    shot(page, "journey-1-opened")

    paste_text(page, CUSTOM)
    wait_step(page, 0)

    seen = []
    for n in (1, 2, 3):
        page.get_by_role("button", name="Step", exact=False).first.click()
        wait_step(page, n)
        wait_chart(page, 0, n)          # the loss chart gains one point per step
        wait_bars(page, 25)             # the gradient chart shows T = 25 bars
        seen.append((chart_values(page), bar_values(page)))
    shot(page, "journey-2-three-steps")
    # Loss chart: one more point per step. Gradient chart: T finite positive bars that change.
    loss = [charts[0][0] for charts, _ in seen]
    assert [len(v) for v in loss] == [1, 2, 3]
    dh = [bars for _, bars in seen]
    assert all(len(v) == 25 and all(x > 0 for x in v) for v in dh)
    assert dh[0] != dh[1] != dh[2]

    page.get_by_role("button", name="Play").click()
    time.sleep(2.0)
    page.get_by_role("button", name="Pause").click()
    wait_idle(page)
    page.get_by_role("button", name="Play").wait_for()
    after_play = int(step_count(page).replace(",", ""))
    assert after_play > 3, "Play for 2 s trained nothing"
    time.sleep(1.0)
    assert int(step_count(page).replace(",", "")) == after_play, "Pause must stop training"
    shot(page, "journey-3-after-play")

    page.get_by_role("link", name="Generate").click()
    page.get_by_role("button", name="Generate", exact=True).click()
    wait_idle(page)
    out = page.locator(".rv-sample").first
    out.wait_for()
    assert len(out.inner_text()) > 20
    shot(page, "journey-4-generated")
