"""The gated cells in a real browser: pick the LSTM (and the minGRU) in the sidebar, Step, visit every page with
no exception; then the race page, played. Screenshots go to test-artifacts/ to be looked at."""

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


@pytest.mark.parametrize("title, shows", [("LSTM", ("The LSTM's state path", "The LSTM's gates")),
                                          ("minGRU", ("The minGRU's gates",))])
def test_a_gated_cell_on_every_page(browser, app_url, title, shows):
    page = open_app(browser, app_url)
    errors = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.get_by_text("changing these resets training").click()
    choose(page, "Cell", title)
    page.get_by_role("button", name="Apply and reset the model").click()
    wait_idle(page)
    page.get_by_text("Model reset for the new cell").wait_for()
    for n in (1, 2):
        page.locator("[data-testid=\"stMain\"]").get_by_role("button", name="Step", exact=False).first.click()
        wait_step(page, n)
    wait_idle(page)
    for text in shows:
        page.get_by_text(text).wait_for()
    _no_exception(page)
    shot(page, f"cells-1-{title.lower()}-train")
    for label, name in PAGES:
        page.get_by_role("link", name=label).click()
        wait_idle(page)
        time.sleep(1.0)
        wait_idle(page)
        _no_exception(page)
        shot(page, f"cells-2-{title.lower()}-{name}")
    page.get_by_role("link", name="BPTT explorer").click()
    wait_idle(page)
    page.get_by_text(f"the {title}'s backward pass").wait_for()
    assert not errors, errors


def test_the_race_plays(browser, app_url):
    """The lecture's ending, as a lecturer opens it: the race page, Play the race for a few seconds, Pause."""
    page = open_app(browser, app_url)
    open_long_memory_race(page)
    toggle = page.get_by_text("Play the race", exact=True)
    toggle.click()
    time.sleep(6.0)
    toggle.click()
    wait_idle(page)
    sentence = page.locator(".rv-race-verdict").first
    sentence.wait_for()
    text = sentence.inner_text()
    steps = int(text.split("After ")[1].split(" race steps")[0].replace(",", ""))
    assert steps > 0, "playing the race for 6 s trained nothing"
    for title in ("Vanilla RNN", "minGRU", "GRU", "LSTM"):
        assert f"{title} " in text, text
    assert page.locator("img.rv-chart").count() >= 6    # scores, loss, and a reach panel per racer (+ the LSTM's c)
    _no_exception(page)
    shot(page, "cells-3-longmem-race")
