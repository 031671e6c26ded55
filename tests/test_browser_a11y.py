"""Every student can read it (issue #23), in a real browser: axe-core's WCAG 2.0/2.1 A and AA rules on every
page after three Steps, on the default model and on the LSTM; the keyboard alone; a 390 × 844 phone.

Adding a page (or a lesson chapter) is adding its URL path to PAGES, and to PHONE_PAGES if it must be
looked at on a phone. The keyboard walk through a lesson question is ``answer_by_keyboard`` (pick an
option of a radio question with the arrow keys, then Tab to the button and press Enter), shown working
on Generate's question "Choosing each token" in test_keyboard_alone_answers_a_question.

axe-core comes bundled in the axe-playwright-python package (requirements-dev.txt): nothing is fetched
while the tests run.
"""

from __future__ import annotations

import os
import re
import time

import pytest

from browser_support import ARTIFACTS, METRIC, open_app, step_count, wait_idle, wait_step

pytestmark = pytest.mark.browser

# URL paths of the pages (app.py's navigation): "" is the Train page. A lesson chapter can be a path with
# a query ("lesson?chapter=2"). Each is visited in this order in one session, after three Steps.
PAGES = ("", "generate", "explorer", "lab", "race", "lesson")   # every lesson chapter: tests/test_browser_lesson.py
PHONE_PAGES = ("", "lesson?lesson=4")  # looked at, and measured, at 390 × 844
CELLS = ("rnn", "lstm")

AXE_OPTIONS = {"runOnly": {"type": "tag", "values": ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]},
               "resultTypes": ["violations"]}
FAILING = ("serious", "critical")

# Violations that come from inside Streamlit and cannot be fixed from the app: {rule id: [(a fragment
# of the failing node's target selector, "streamlit/streamlit#issue", why)]}. Each entry must name its
# Streamlit issue. Empty: every serious or critical violation found so far was the app's to fix.
ALLOWED: dict[str, list[tuple[str, str, str]]] = {}

PHONE = {"width": 390, "height": 844}
CONTROLS = ".st-key-train_controls"   # pages/train.py CONTROLS_KEY
LEGIBLE_PX = 10.0                     # the smallest chart text a phone may show, in CSS px


# ---------------------------------------------------------------------------- helpers
def require_axe():
    try:
        from axe_playwright_python.sync_playwright import Axe
    except ImportError:
        if os.environ.get("CI", "").lower() in ("1", "true", "yes"):
            pytest.fail("axe-playwright-python is not installed (pip install -r requirements-dev.txt)")
        pytest.skip("axe-playwright-python is not installed")
    return Axe()


def press_step(page, n: int) -> None:
    wait_idle(page)
    page.locator(".st-key-btn_step").get_by_role("button").click()   # (Streamlit also keeps a hidden copy)
    wait_step(page, n)


def go_to(page, app_url: str, path: str) -> None:
    """Open the page at ``path`` in the same session: through the sidebar's link when it has one, else by
    its URL with this session's token (a reload restores the session from its autosave)."""
    link = page.locator(f'[data-testid="stSidebar"] a[href="{app_url}/{path}"]')   # rnnviz.ui.nav's links
    if link.count():
        link.click()
        page.wait_for_url(re.compile(re.escape(f"{app_url}/{path}") + r"(\?|$)"))
    else:
        token = re.search(r"[?&]s=([^&]+)", page.url)
        page.goto(f"{app_url}/{path}" + (("&" if "?" in path else "?") + f"s={token.group(1)}" if token else ""))
    page.wait_for_selector('[data-testid="stMainBlockContainer"] h3')
    wait_idle(page)
    time.sleep(0.5)   # charts draw after the script ends


def grow_to_content(page) -> dict:
    """Make the viewport as tall as the page (Streamlit scrolls its main area itself, so the document never
    does): axe measures contrast only for what it can see. Returns the old viewport size."""
    size = page.viewport_size
    height = page.evaluate("""() => Math.max(...[...document.querySelectorAll(
        '[data-testid="stMain"], [data-testid="stSidebarContent"]')].map(e => e.scrollHeight))""")
    page.set_viewport_size({"width": size["width"], "height": int(height) + 40})
    time.sleep(0.5)
    return size


def allowed(rule: str, target: str) -> bool:
    return any(fragment in target for fragment, _issue, _why in ALLOWED.get(rule, ()))


def serious_violations(axe, page) -> list[str]:
    """axe-core's serious and critical violations on the whole page, one line per node: rule, impact, target
    selector and what to fix; minus ALLOWED."""
    size = grow_to_content(page)
    try:
        found = axe.run(page, options=AXE_OPTIONS).response["violations"]
    finally:
        page.set_viewport_size(size)
    lines = []
    for v in found:
        if v["impact"] not in FAILING:
            continue
        for node in v["nodes"]:
            target = " ".join(map(str, node["target"]))
            if not allowed(v["id"], target):
                summary = " ".join((node.get("failureSummary") or v["help"]).split())[:220]
                lines.append(f"{v['id']} ({v['impact']}) on {node['html'][:90]!r}: {summary} [target: {target}]")
    return lines


def missing_text_alternatives(page) -> list[str]:
    """Charts a screen reader cannot read: a picture without numbers in its alt text, a plotly chart without
    the screen-reader sentence (rnnviz.ui.charts.plotly) just before it."""
    return page.evaluate(r"""() => {
        const bad = [];
        for (const img of document.querySelectorAll('img.rv-chart'))
            if (!/\d/.test(img.alt || '')) bad.push('picture: ' + (img.alt || '(no alt)').slice(0, 80));
        for (const chart of document.querySelectorAll('[data-testid="stPlotlyChart"]')) {
            const box = chart.closest('[data-testid="stVerticalBlock"]');
            const sr = box && box.querySelector('.rv-sr');
            if (!sr || !/^Chart: .*\d/.test(sr.textContent)) bad.push('plotly chart without its sentence');
        }
        return bad; }""")


def focused(page) -> dict:
    """What has the keyboard focus: its text, the st-key-… class of the widget it belongs to, its outline."""
    return page.evaluate("""() => { const e = document.activeElement, s = getComputedStyle(e);
        const keyed = e.closest('[class*="st-key-"]'), group = e.closest('[role="radiogroup"]');
        return {tag: e.tagName, text: (e.innerText || e.getAttribute('aria-label') || '').trim().slice(0, 60),
                key: keyed ? [...keyed.classList].find(c => c.startsWith('st-key-')).slice(7) : null,
                group: group ? group.getAttribute('aria-label') : null,
                outline: s.outlineStyle !== 'none' ? parseFloat(s.outlineWidth) : 0,
                shown: e.getBoundingClientRect().width > 0 && e.getBoundingClientRect().height > 0}; }""")


def tab_to(page, wanted, limit: int = 200) -> dict:
    """Press Tab until ``wanted(focused(page))`` holds (at once if it already has the focus); the focused
    element. Fails naming what Tab visited."""
    f = focused(page)
    if wanted(f):
        return f
    seen = []
    for _ in range(limit):
        page.keyboard.press("Tab")
        f = focused(page)
        if wanted(f):
            return f
        seen.append(f["key"] or f["text"])
    raise AssertionError(f"Tab never reached it in {limit} presses; visited: {seen[:60]}")


def settled_step(page) -> int:
    """The step shown once it stops changing (after Pause, the last play frame may still be on its way)."""
    wait_idle(page)
    shown = None
    for _ in range(20):
        time.sleep(0.5)
        now = int(step_count(page).replace(",", ""))
        if now == shown:
            return now
        shown = now
    raise AssertionError("the step count kept changing after Pause")


def keyed(key: str):
    return lambda f: f["key"] == key


def answer_by_keyboard(page, question: str, option: str, submit: str) -> None:
    """Answer a radio question with the keyboard alone: Tab into the group labelled ``question`` (Tab lands
    on its chosen option), arrow keys until ``option`` is chosen, then Tab to the button ``submit`` and
    press Enter. For the lesson's predict-first questions as for any st.radio."""
    tab_to(page, lambda f: f["group"] == question)
    choice = page.get_by_role("radiogroup", name=question).get_by_role("radio", name=option)
    for _ in range(20):
        if choice.is_checked():
            break
        page.keyboard.press("ArrowDown")
        wait_idle(page)
    assert choice.is_checked(), f"the arrow keys never chose {option!r}"
    # (a button's text starts with its icon's name: "edit_note\nGenerate")
    tab_to(page, lambda f: f["tag"] == "BUTTON" and submit in [line.strip() for line in f["text"].split("\n")])
    page.keyboard.press("Enter")


def full_shot(page, name: str) -> None:
    size = grow_to_content(page)
    try:
        page.screenshot(path=str(ARTIFACTS / f"{name}.png"))
    finally:
        page.set_viewport_size(size)


# ---------------------------------------------------------------------------- tests
@pytest.mark.parametrize("cell", CELLS)
def test_no_serious_accessibility_violation_on_any_page(browser, app_url, cell):
    axe = require_axe()
    page = open_app(browser, f"{app_url}/?cell={cell}", width=1500, height=1000)
    for n in (1, 2, 3):
        press_step(page, n)
    problems, unread = {}, {}
    for path in PAGES:
        if path:
            go_to(page, app_url, path)
        name = path or "train"
        problems[name] = serious_violations(axe, page)
        unread[name] = missing_text_alternatives(page)
        full_shot(page, f"a11y-{cell}-{name}-1500")
    assert not any(problems.values()), "axe-core, serious or critical:\n" + "\n".join(
        f"[{p}] {line}" for p, lines in problems.items() for line in lines)
    assert not any(unread.values()), unread


def test_keyboard_alone_steps_undoes_and_plays(browser, app_url):
    """Tab, Enter and Space through Step, Undo, Play and Pause, each with a visible focus, the S and U
    shortcuts listed on screen, and a "Show as a table". (Undo comes before Play: right after Pause, Streamlit can drop the first
    click on the live panel, keyboard or mouse alike: "The fragment with id … does not exist anymore" in
    the server log; a bug of its own, not a keyboard one.)"""
    page = open_app(browser, app_url, width=1500, height=1000)
    assert page.get_by_text("Keyboard: S Step · P Play / Pause · U Undo").is_visible()   # the shortcuts, on screen
    for key, press, step in (("btn_step", "Enter", 1), ("btn_step", "Space", 2), ("btn_undo", "Enter", 1)):
        f = tab_to(page, keyed(key))
        assert f["outline"] >= 2 and f["shown"], f"no visible focus on {key}: {f}"
        page.keyboard.press(press)
        wait_step(page, step)
        wait_idle(page)
    page.keyboard.press("s")
    wait_step(page, 2)
    wait_idle(page)
    page.keyboard.press("u")
    wait_step(page, 1)
    wait_idle(page)
    # "Show as a table" opens from the keyboard too (Tab, Enter), and only then is the table built and sent.
    assert page.locator(".st-key-table_loss [data-testid='stDataFrame']").count() == 0
    tab_to(page, lambda f: f["key"] == "table_loss" and f["tag"] == "SUMMARY")
    page.keyboard.press("Enter")
    page.locator(".st-key-table_loss [data-testid='stDataFrame']").wait_for()
    f = tab_to(page, keyed("btn_play"))
    assert f["outline"] >= 2 and f["shown"], f"no visible focus on Play: {f}"
    page.keyboard.press("Space")
    page.locator(".st-key-btn_pause").wait_for()
    time.sleep(1.0)
    f = tab_to(page, keyed("btn_pause"))
    assert f["outline"] >= 2 and f["shown"], f"no visible focus on Pause: {f}"
    page.keyboard.press("Space")
    page.locator(".st-key-btn_play").wait_for()
    assert settled_step(page) > 1, "Play trained nothing, or Pause did not stop it"


def test_keyboard_alone_answers_a_question(browser, app_url):
    """The walk a lesson's predict-first question takes, on Generate's radio question and its button."""
    page = open_app(browser, app_url, width=1500, height=1000)
    go_to(page, app_url, "generate")
    answer_by_keyboard(page, "Choosing each token", "Greedy (argmax)", submit="Generate")
    page.locator(".rv-sample").first.wait_for()
    wait_idle(page)
    written = page.locator('[data-testid="stCaptionContainer"]', has_text="Written with").first.inner_text()
    assert "Written with greedy" in written, written


@pytest.mark.parametrize("path", PHONE_PAGES)
def test_a_phone_shows_the_controls_compactly_and_the_charts_legibly(browser, app_url, path):
    page = open_app(browser, app_url, **PHONE)
    if path.startswith("lesson"):   # a chapter set up and answered (skipped), so that its charts are drawn
        go_to(page, app_url, path)
        key = page.locator('[class*="st-key-lesson_setup_"]').first.get_attribute("class").split("st-key-lesson_setup_")[1]
        key = key.split()[0]
        for button in (f"lesson_setup_{key}", f"lesson_skip_{key}", f"lesson_act_{key}"):
            page.locator(f".st-key-{button} button:visible").first.click()
            wait_idle(page)
        page.locator(".rv-reveal").first.wait_for()
        wait_idle(page)
        time.sleep(0.5)
    elif path:
        go_to(page, app_url, path)
    else:
        press_step(page, 1)
        wait_idle(page)
        time.sleep(0.5)
    name = path.split("?")[0] or "train"
    page.screenshot(path=str(ARTIFACTS / f"a11y-phone-{name}-390x844.png"))
    full_shot(page, f"a11y-phone-{name}-390-full")
    wide = page.evaluate("""() => { const m = document.querySelector('[data-testid="stMain"]'),
        d = document.scrollingElement;
        return {document: [d.scrollWidth, innerWidth], main: [m.scrollWidth, m.clientWidth]}; }""")
    assert wide["document"][0] <= wide["document"][1] and wide["main"][0] <= wide["main"][1], f"scrolls sideways: {wide}"
    if not path:
        box = page.locator(CONTROLS).bounding_box()
        assert box is not None and box["height"] <= PHONE["height"] / 3, f"the controls take {box}"
    # Pictures: their text is drawn at font-size × (shown width ÷ drawn width).
    sizes = page.evaluate("""() => [...document.querySelectorAll('img.rv-chart')].map(img => {
        const svg = atob(img.src.split(',')[1]);
        const drawn = +svg.match(/viewBox="0 0 ([0-9.]+)/)[1], font = +svg.match(/font-size="([0-9.]+)"/)[1];
        return [img.alt.slice(0, 40), font * img.clientWidth / drawn]; })""")
    assert sizes, "no chart picture on the page"
    small = [(alt, round(px, 1)) for alt, px in sizes if alt.startswith(("Loss per token", "Fraction of a loss term"))
             and px < LEGIBLE_PX]
    assert not small, f"headline chart text below {LEGIBLE_PX} px on a phone: {small}"
    if not path:
        assert page.locator(METRIC).first.is_visible()


def test_keyboard_alone_answers_a_lesson_question(browser, app_url):
    """A lesson chapter from the keyboard alone: Set it up (Tab, Enter), the predict-first question (arrow keys,
    then Tab to Lock in and Enter), the action (Tab, Enter), and the reveal with the run's numbers."""
    page = open_app(browser, app_url, width=1500, height=1000)
    go_to(page, app_url, "lesson?lesson=3")
    f = tab_to(page, keyed("lesson_setup_two"))
    assert f["outline"] >= 2 and f["shown"], f"no visible focus on Set it up: {f}"
    page.keyboard.press("Enter")
    page.get_by_text("Predict first.").wait_for()
    wait_idle(page)
    answer_by_keyboard(page, "Your prediction", "about the same (1/10 to 10×)", submit="Lock in my prediction")
    page.get_by_text("Your prediction: about the same (1/10 to 10×)").wait_for()
    wait_idle(page)
    f = tab_to(page, keyed("lesson_act_two"))
    assert f["outline"] >= 2 and f["shown"], f"no visible focus on the action: {f}"
    page.keyboard.press("Enter")
    reveal = page.locator(".rv-reveal").first
    reveal.wait_for()
    assert "Your prediction was right" in reveal.inner_text() and re.search(r"\d", reveal.inner_text())
