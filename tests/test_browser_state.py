"""The trained model survives what students do: switching pages, reloading, changing settings mid-play."""

from __future__ import annotations

import time

import pytest

from browser_support import open_app, step_count, wait_idle, wait_step

pytestmark = pytest.mark.browser


def test_switching_pages_and_reloading_keep_the_model(browser, app_url):
    page = open_app(browser, app_url)
    page.get_by_role("button", name="Step ×10", exact=True).click()
    wait_step(page, 10)
    assert "?s=" in page.url  # the session's autosave token

    for name in ("Generate", "BPTT explorer", "Vanishing & exploding lab", "Train"):
        page.get_by_role("link", name=name).click()
        wait_idle(page)
    wait_step(page, 10)

    page.reload()
    wait_step(page, 10)
    page.get_by_text("Welcome back").wait_for()
    page.get_by_role("button", name="Step", exact=False).first.click()
    wait_step(page, 11)  # and it keeps training from there


def test_changing_settings_mid_play_keeps_training(browser, app_url):
    page = open_app(browser, app_url)
    page.get_by_role("button", name="Play").click()
    page.get_by_role("button", name="Pause").wait_for()
    time.sleep(1.5)
    # A live setting while playing: clipping off. The model and the play loop carry on.
    page.get_by_text("Off", exact=True).click()  # the clipping segmented control
    time.sleep(1.5)
    before = int(step_count(page).replace(",", ""))
    time.sleep(2.0)
    assert int(step_count(page).replace(",", "")) > before > 0, "training stopped after a live setting change"
    page.get_by_role("button", name="Pause").click()
    page.get_by_role("button", name="Play").wait_for()
