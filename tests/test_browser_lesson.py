"""The lesson in a real browser: a newcomer's walk from the first screen through every chapter (set it up,
predict, act, read the reveal) to the exit ticket and its score, every chapter screenshotted at 1440×900; then
every ?lesson=N link in the presentation view at 1280×720. Screenshots go to test-artifacts/ to be looked at."""

from __future__ import annotations

import re

import pytest

from rnnviz.lesson import CHAPTERS, TICKET

from browser_support import METRIC, shot, wait_idle
from test_browser_a11y import require_axe, serious_violations

pytestmark = pytest.mark.browser


def _no_exception(page) -> None:
    exc = page.locator('[data-testid="stException"]')
    assert exc.count() == 0, exc.first.inner_text()


def _click(page, key: str) -> None:
    """The button of a widget key (Streamlit gives its container the class st-key-<key>)."""
    page.locator(f".st-key-{key} button:visible").first.click()
    wait_idle(page)


def test_a_newcomer_walks_the_whole_lesson(browser, app_url):
    """... and axe-core (WCAG 2.0/2.1 A and AA) on every chapter once it is answered: no serious violation."""
    axe = require_axe()
    problems = {}
    ctx = browser.new_context(viewport={"width": 1440, "height": 900})
    page = ctx.new_page()
    page.set_default_timeout(120_000)
    errors = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.goto(app_url)
    page.wait_for_selector(METRIC)
    page.get_by_text("Watch a recurrent network learn").wait_for()     # the first screen: two ways in
    shot(page, "lesson-0-first-screen")
    page.get_by_role("button", name="Start the lesson").click()
    wait_idle(page)
    for i, ch in enumerate(CHAPTERS):
        page.get_by_text(f"{i + 1}. {ch.title}", exact=True).wait_for()
        _click(page, f"lesson_setup_{ch.key}")
        page.get_by_text("Predict first.").wait_for()
        page.locator('[data-testid="stMain"] [data-testid="stRadioOption"]').first.click()
        wait_idle(page)
        _click(page, f"lesson_lock_{ch.key}")
        _click(page, f"lesson_act_{ch.key}")
        reveal = page.locator(".rv-reveal").first
        reveal.wait_for(timeout=400_000)                               # the race chapter trains for ~30 s (idle machine)
        wait_idle(page)
        text = reveal.inner_text()
        assert text.startswith("Your run:") and re.search(r"\d", text), text
        assert "You predicted" in text or "Your prediction was right" in text
        _no_exception(page)
        shot(page, f"lesson-{i + 1}-{ch.key}")
        problems[ch.key] = serious_violations(axe, page)
        _click(page, "lesson_next")
    page.get_by_text(f"{len(CHAPTERS) + 1}. Exit ticket", exact=True).wait_for()
    for j in range(len(TICKET)):
        page.locator(f".st-key-lesson_ticket_{j} [data-testid='stRadioOption']").nth(TICKET[j].answer).click()
        wait_idle(page)
    _click(page, "lesson_ticket_check")
    page.get_by_text(f"Your score: {len(TICKET)} of {len(TICKET)}.").wait_for()
    page.get_by_text("Take it home", exact=True).wait_for()
    _no_exception(page)
    shot(page, "lesson-10-exit-ticket")
    problems["ticket"] = serious_violations(axe, page)
    assert not any(problems.values()), "axe-core, serious or critical:\n" + "\n".join(
        f"[{k}] {line}" for k, lines in problems.items() for line in lines)
    page.get_by_text(f"{len(CHAPTERS)} of {len(CHAPTERS)} chapters answered").wait_for()
    assert not errors, errors
    ctx.close()


def test_every_lesson_link_in_the_presentation_view(browser, app_url):
    ctx = browser.new_context(viewport={"width": 1280, "height": 720})
    page = ctx.new_page()
    page.set_default_timeout(60_000)
    for n in range(1, len(CHAPTERS) + 2):
        page.goto(f"{app_url}/lesson?lesson={n}&present=1")
        title = CHAPTERS[n - 1].title if n <= len(CHAPTERS) else "Exit ticket"
        page.get_by_text(f"{n}. {title}", exact=True).wait_for()
        page.get_by_role("button", name="← Previous").wait_for()   # drawn, not a loading skeleton, before the shot
        wait_idle(page)
        _no_exception(page)
        assert page.locator('[data-testid="stSidebar"][aria-expanded="true"]').count() == 0   # collapsed for a projector
        shot(page, f"lesson-present-{n}-1280x720")
    page.goto(f"{app_url}/lesson?lesson=banana")
    page.get_by_text("is not a chapter").wait_for()
    page.get_by_text(f"1. {CHAPTERS[0].title}", exact=True).wait_for()
    ctx.close()
