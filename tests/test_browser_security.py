"""Security in a real browser (Chromium + `streamlit run app.py`): hostile text stays text, sessions stay apart.

- A pasted text full of HTML/JS payloads is trained on, stepped, sampled and used as a Generate prime:
  no alert ever opens, no element is created from it, and the payload shows literally on the page.
- A hostile upload file name (HTML, markdown link, formatting) shows literally in headings and messages.
- Two browser contexts (two Streamlit sessions) on one server train different texts: neither ever
  shows the other's text, step count or settings.
- The reload autosave (``?s=<token>`` in the URL) must not join two sessions: a shared link gives a
  copy, never a line into the other person's session, and a token chosen by someone else is not
  adopted.
Screenshots go to test-artifacts/.
"""

from __future__ import annotations

import re

import pytest

from browser_support import (
    METRIC,
    chart_values,
    open_app,
    paste_text,
    shot,
    step_count,
    wait_chart,
    wait_idle,
    wait_step,
)

pytestmark = pytest.mark.browser

PAYLOADS = ("<img src=x onerror=alert(1)>", "<script>alert(2)</script>", '"><svg onload=alert(3)>')
# Payloads first (the first four windows of T = 25 cover them), then varied plain text.
XSS_TEXT = (" ".join(PAYLOADS) + " Plain words follow the markup here. ") * 3
# Elements that exist only if user text was parsed as HTML instead of shown as text.
INJECTED = ('img[src="x"]', "img[onerror]", "svg[onload]", "[onerror]", "[onload]")
# Set by any alert/confirm/prompt, whether it came through a dialog or a direct call.
ALERT_TRAP = """(() => {
    window.__xss = [];
    for (const f of ['alert', 'confirm', 'prompt']) {
        const orig = window[f];
        window[f] = function (...a) { window.__xss.push(f + ':' + a.join(',')); return orig.apply(this, a); };
    }
})();"""

VISIBLE = {"␣": " ", "⏎": "\n", "⇥": "\t"}   # rnnviz.figures.common.visible, reversed


def click_step(page, n: int) -> None:
    """Press Step once and wait for the counter to show n."""
    page.get_by_role("button", name="Step", exact=False).first.click()
    wait_step(page, n)


def window_inputs(page) -> str:
    """The inputs x_1 … x_T of the window strip, joined back into text."""
    shown = page.evaluate("""() => [...document.querySelectorAll('.rv-strip .rv-tok')]
        .map(d => d.querySelector('.rv-in').textContent)""")
    return "".join(VISIBLE.get(s, s) for s in shown)


def injected_elements(page) -> list[str]:
    """Selectors (per frame) that match an element created from user text, plus script elements calling alert."""
    found = []
    for frame in page.frames:
        for sel in INJECTED:
            if frame.locator(sel).count():
                found.append(f"{frame.url} {sel}: {frame.locator(sel).first.evaluate('e => e.outerHTML')[:200]}")
        scripts = frame.evaluate("() => [...document.scripts].map(s => s.textContent).filter(t => t.includes('alert('))")
        found += [f"{frame.url} <script>{s[:100]}" for s in scripts]
    return found


def alerts(page) -> list[str]:
    return [a for f in page.frames for a in (f.evaluate("() => window.__xss || []") or [])]


def everything_shown(page) -> str:
    """All text a user can see: the page text, every input's value, and the window strip joined back."""
    values = page.evaluate("() => [...document.querySelectorAll('input, textarea')].map(e => e.value).join('\\n')")
    return "\n".join([page.locator("body").inner_text(), values, window_inputs(page)])


def words(text: str) -> set[str]:
    return set(re.findall(r"[a-z]+", text.lower()))


def trap_alerts(page) -> list[str]:
    """Record every dialog the page opens (and dismiss it), and wrap alert/confirm/prompt."""
    page.add_init_script(ALERT_TRAP)       # for every later navigation of this page
    page.evaluate(ALERT_TRAP)              # and for the document already open
    dialogs: list[str] = []

    def on_dialog(d):
        dialogs.append(f"{d.type}: {d.message}")
        d.dismiss()

    page.on("dialog", on_dialog)
    return dialogs


def test_pasted_markup_is_shown_as_text_never_run(browser, app_url):
    page = open_app(browser, app_url)
    dialogs = trap_alerts(page)

    paste_text(page, XSS_TEXT)
    wait_step(page, 0)
    # Before training, the strip previews the first window: already the payload, as text.
    assert window_inputs(page) == XSS_TEXT[:25]

    seen = ""
    for n in range(1, 6):
        click_step(page, n)
        wait_chart(page, 0, n)            # the loss chart has caught up with this step
        seen += window_inputs(page)
    assert seen == XSS_TEXT[: 25 * 5], "the window strip must show exactly the pasted characters, in order"
    for p in PAYLOADS:
        assert p in seen
    assert "<img src=x" in seen
    sample = page.locator(".rv-sample").first.inner_text()
    assert len(sample) > 100 and set(sample) & set("<>\"="), "the model's sample draws from the markup characters"
    assert injected_elements(page) == []
    shot(page, "security-1-train-markup")

    # Generate with the payload as the prime: the prime is shown verbatim (grey), then the sample.
    page.get_by_role("link", name="Generate").click()
    page.get_by_role("heading", name="Generate text").wait_for()
    prime = " ".join(PAYLOADS)
    area = page.get_by_role("textbox", name="Prime text", exact=False)
    area.fill(prime)
    area.press("Control+Enter")
    wait_idle(page)
    page.get_by_role("button", name="Generate", exact=True).click()
    out = page.locator(".rv-sample .rv-prime").first
    out.wait_for()
    wait_idle(page)
    assert out.inner_text() == prime
    generated = page.locator(".rv-sample").first.inner_text()
    assert generated.startswith(prime) and len(generated) > len(prime) + 100
    # The hidden-unit strip reads the generated text: the payload again, as text.
    strip = page.locator(".rv-sample").last.inner_text()
    assert "<img src=x onerror=alert(1)>" in strip
    assert injected_elements(page) == []
    shot(page, "security-2-generate-markup")

    # Back to Train (a full rerun redraws everything from the session): still inert.
    page.get_by_role("link", name="Train", exact=True).click()
    page.get_by_role("heading", name="Your pasted text").wait_for()
    wait_step(page, 5)
    wait_idle(page)
    assert injected_elements(page) == []
    assert dialogs == [], f"a dialog opened: {dialogs}"
    assert alerts(page) == [], f"alert() was called: {alerts(page)}"
    page.context.close()


HOSTILE_NAME = '<img src=x onerror=alert(5)> [link](javascript:alert(6)) **bold** $x$ ![im](x.png).txt'


def test_uploaded_file_name_is_shown_as_text(browser, app_url):
    page = open_app(browser, app_url)
    dialogs = trap_alerts(page)
    page.get_by_text("Text ·").first.click()
    upload = page.locator('[data-testid="stExpander"]').filter(has_text="…or upload a .txt file")
    upload.locator('input[type="file"]').set_input_files(
        files=[{"name": HOSTILE_NAME, "mimeType": "text/plain", "buffer": XSS_TEXT.encode()}])
    heading = page.get_by_role("heading", name="Uploaded:")
    heading.wait_for()
    wait_idle(page)
    assert HOSTILE_NAME in heading.inner_text().replace("\u200b", ""), "the file name is shown literally in the title"
    made = heading.locator("strong, em, a[href^='javascript'], img, .katex")
    assert made.count() == 0, [made.nth(i).evaluate("e => e.outerHTML") for i in range(made.count())]
    assert HOSTILE_NAME in page.get_by_text("Training on ").first.inner_text().replace("\u200b", ""), "… and in the message"
    extra = ('a[href^="javascript"]', 'img[src="x.png"]')
    assert injected_elements(page) == [] and not any(page.locator(sel).count() for sel in extra)
    shot(page, "security-5-upload-name")

    page.get_by_role("link", name="Generate").click()
    heading = page.get_by_role("heading", name="Generate text")
    heading.wait_for()
    wait_idle(page)
    assert HOSTILE_NAME in heading.inner_text().replace("\u200b", "")
    assert injected_elements(page) == [] and not any(page.locator(sel).count() for sel in extra)
    assert dialogs == [] and alerts(page) == []
    page.context.close()


TEXT_A = ("alpha bravo charlie delta echo foxtrot golf hotel india juliet kilo lima mike november "
          "oscar papa quebec romeo sierra tango uniform victor whiskey xray yankee zulu. ") * 4
WORDS_A = {"bravo", "foxtrot", "juliet", "quebec", "whiskey", "yankee", "zulu"}
# The word-level sample opens with "The old man hears the small owl near the field."
WORDS_B = {"hears", "owl", "field"}


def test_two_browsers_never_see_each_other(browser, app_url):
    a = open_app(browser, app_url)
    b = open_app(browser, app_url)
    assert a.context is not b.context

    paste_text(a, TEXT_A)
    for n in range(1, 6):
        click_step(a, n)
    wait_chart(a, 0, 5)

    b.get_by_role("button", name="Word-level").click()
    b.get_by_role("heading", name="Small-vocabulary sentences").wait_for()
    wait_step(b, 0)
    click_step(b, 1)
    wait_chart(b, 0, 1)
    wait_idle(a)
    wait_idle(b)

    assert step_count(a) == "5" and step_count(b) == "1"
    assert "Your pasted text" in a.get_by_role("heading", level=3).first.inner_text()
    assert "Small-vocabulary sentences" in b.get_by_role("heading", level=3).first.inner_text()
    shown_a, shown_b = everything_shown(a), everything_shown(b)
    # Each page shows its own text (the checks below would pass vacuously otherwise) …
    assert WORDS_A <= words(shown_a)
    assert WORDS_B <= words(shown_b)
    # … and nothing of the other's.
    assert not WORDS_A & words(shown_b), f"B shows A's words: {WORDS_A & words(shown_b)}"
    assert not WORDS_B & words(shown_a), f"A shows B's words: {WORDS_B & words(shown_a)}"
    assert "Small-vocabulary sentences" not in shown_a
    assert "Your pasted text" not in shown_b
    shot(a, "security-3-session-a")
    shot(b, "security-4-session-b")

    # A trains on; B's counter, charts and text stay where they were.
    before_b = chart_points(b)
    click_step(a, 6)
    wait_chart(a, 0, 6)
    wait_idle(b)
    assert step_count(b) == "1"
    assert chart_points(b) == before_b
    assert not WORDS_A & words(everything_shown(b))
    # And the other way round: B steps, A stays at 6.
    click_step(b, 2)
    wait_idle(a)
    assert step_count(a) == "6"
    assert not WORDS_B & words(everything_shown(a))
    a.context.close()
    b.context.close()


def chart_points(page) -> list[int]:
    """Points in the first trace of every chart (the loss chart grows by one per step)."""
    return [len(chart[0]) if chart else -1 for chart in chart_values(page)]


# ---------------------------------------------------------------------------- the reload autosave (?s=<token>)
# Periodic, so that every 25-character window of it (all the window strip shows) contains "kumquat".
SECRET_B = "kumquat marmalade " * 12 + "my private notes for the exam.\n"


def new_page(browser, url: str):
    """A fresh context (= a fresh Streamlit session) on ``url``, which may carry a ?s= token."""
    page = browser.new_context(viewport={"width": 1500, "height": 2200}).new_page()
    page.set_default_timeout(60_000)
    page.goto(url)
    page.wait_for_selector(METRIC)
    wait_idle(page)
    return page


def test_a_shared_link_never_overwrites_the_owners_session(browser, app_url):
    a = open_app(browser, app_url)
    paste_text(a, TEXT_A)
    for n in (1, 2, 3):
        click_step(a, n)
    wait_idle(a)
    link = a.url
    assert "s=" in link, "the URL names the autosave"

    # B opens A's link (a shared or projected URL): a copy of A's model, which B then makes its own.
    b = new_page(browser, link)
    paste_text(b, SECRET_B)
    click_step(b, 1)
    wait_idle(b)

    a.reload()                              # A reloads its own tab: it must get its own model back
    a.wait_for_selector(METRIC)
    wait_idle(a)
    shown, steps = everything_shown(a), step_count(a)
    a.context.close()
    b.context.close()
    assert "kumquat" not in shown, "A's reload restored B's text"
    assert steps == "3", "A's reload restored B's model"


def test_a_token_chosen_by_someone_else_is_never_adopted(browser, app_url):
    chosen = "ChosenBySomeoneElse_01"           # 22 URL-safe characters: a valid token nobody saved under
    victim = new_page(browser, f"{app_url}/?s={chosen}")
    paste_text(victim, SECRET_B)
    click_step(victim, 1)
    wait_idle(victim)

    other = new_page(browser, f"{app_url}/?s={chosen}")
    shown, steps = everything_shown(other), step_count(other)
    victim.context.close()
    other.context.close()
    assert "kumquat" not in shown and "Your pasted text" not in shown, "the token's chooser reads the victim's text"
    assert steps == "0", "the token's chooser gets the victim's model"
