"""The LSTM in a real browser: pick it in the sidebar, Step, visit every page with no exception;
then the long-memory preset's race, played. Screenshots go to test-artifacts/ to be looked at."""

from __future__ import annotations

import time

import pytest

from browser_support import choose, open_app, open_long_memory_race, shot, wait_idle, wait_step

pytestmark = pytest.mark.browser

PAGES = (("Generate", "generate"), ("BPTT explorer", "explorer"), ("Vanishing & exploding lab", "lab"),
         ("Train", "train"))


def _no_exception(page) -> None:
    assert page.locator('[data-testid="stException"]').count() == 0, page.locator(
        '[data-testid="stException"]').first.inner_text()


def test_lstm_on_every_page(browser, app_url):
    page = open_app(browser, app_url)
    errors = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.get_by_text("changing these resets training").click()
    choose(page, "Cell", "LSTM")
    page.get_by_role("button", name="Apply and reset the model").click()
    wait_idle(page)
    page.get_by_text("Model reset for the new cell").wait_for()
    for n in (1, 2):
        page.locator("[data-testid=\"stMain\"]").get_by_role("button", name="Step", exact=False).first.click()
        wait_step(page, n)
    wait_idle(page)
    page.get_by_text("The LSTM's state path").wait_for()
    page.get_by_text("The LSTM's gates").wait_for()
    _no_exception(page)
    shot(page, "cells-1-lstm-train")
    for label, name in PAGES:
        page.get_by_role("link", name=label).click()
        wait_idle(page)
        time.sleep(1.0)
        wait_idle(page)
        _no_exception(page)
        shot(page, f"cells-2-lstm-{name}")
    page.get_by_role("link", name="BPTT explorer").click()
    wait_idle(page)
    page.get_by_text("the LSTM's backward pass").wait_for()
    assert not errors, errors


def test_long_memory_preset_race_plays(browser, app_url):
    page = open_app(browser, app_url)
    open_long_memory_race(page)
    page.get_by_text("Play the race").click()
    time.sleep(6.0)
    page.get_by_text("Play the race").click()
    wait_idle(page)
    caption = page.get_by_text("After ", exact=False).filter(has_text="steps —").first
    caption.wait_for()
    steps = int(caption.inner_text().split("After ")[1].split(" steps")[0].replace(",", ""))
    assert steps > 0, "playing the race for 6 s trained nothing"
    _no_exception(page)
    shot(page, "cells-3-longmem-race")
