"""The lecture hall in a real browser: a setup link, PNG and CSV downloads, the presentation view, the held-out line."""

from __future__ import annotations

import csv
import io
import struct
from urllib.parse import parse_qsl, urlsplit

import pytest

from rnnviz.figures.common import SLIDE_HEIGHT, SLIDE_SCALE, SLIDE_WIDTH
from rnnviz.figures.heldout import VAL_NAME

from browser_support import ARTIFACTS, METRIC, chart_traces, step_count, wait_idle, wait_step

pytestmark = pytest.mark.browser


def open_link(browser, url: str, step: int, *, width: int = 1500, height: int = 2200):
    """A fresh session on a (setup) link, once it shows the step (replaying a link takes a while on a busy
    machine, and the first draw waits for it: so wait for the step's text, with a generous timeout)."""
    ctx = browser.new_context(viewport={"width": width, "height": height})
    page = ctx.new_page()
    page.set_default_timeout(120_000)
    page.goto(url)
    wait_step(page, step, timeout=180_000)
    return page


def copy_link(page) -> dict[str, str]:
    """Sidebar: Share → Copy link to this setup; the link's query parameters."""
    page.get_by_text("Share ·").first.click()
    page.get_by_role("button", name="Copy link to this setup").click()
    code = page.locator('[data-testid="stCode"]').filter(has_text="step=")
    code.first.wait_for()
    return dict(parse_qsl(urlsplit(code.first.inner_text().strip()).query))


def test_a_link_opens_that_preset_with_those_settings_at_that_step(browser, app_url):
    page = open_link(browser, f"{app_url}/?preset=exploding&step=40&lr=0.05&hidden_size=32", 40)
    page.get_by_text("Trained 40 steps to step 40, as the link asked.").wait_for()
    assert "preset=" not in page.url and "s=" in page.url   # applied; a reload restores the session
    params = copy_link(page)
    assert params == {"preset": "exploding", "hidden_size": "32", "lr": "0.05", "step": "40"}
    # The sidebar's learning-rate slider shows the link's η.
    assert page.locator('[data-testid="stSliderThumbValue"]').filter(has_text="0.05").count() >= 1


def test_a_bad_link_says_so_and_opens_the_defaults(browser, app_url):
    page = open_link(browser, f"{app_url}/?hidden_size=100000&step=abc&cell=%3Cb%3Ex", 0)
    page.get_by_text("was not used").first.wait_for()
    assert step_count(page) == "0"
    assert page.locator("b", has_text="x").count() == 0   # the value was shown as text, not markup


def png_size(data: bytes) -> tuple[int, int]:
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    return struct.unpack(">II", data[16:24])


def test_png_of_a_chart_and_the_csvs_download_and_read_back(browser, app_url):
    page = open_link(browser, app_url, 0)
    page.get_by_role("button", name="Step ×10", exact=True).click()
    wait_step(page, 10, timeout=180_000)
    wait_idle(page, timeout=180_000)   # a click while the panel is being redrawn can land on a button being replaced
    page.get_by_role("button", name="Step", exact=False).first.click()
    wait_step(page, 11, timeout=180_000)
    wait_idle(page, timeout=180_000)
    assert page.locator(".js-plotly-plot").count() == 0      # pictures by default; plotly on request
    page.get_by_text("Interactive charts").click()
    chart = page.locator(".js-plotly-plot").first
    chart.wait_for()
    assert page.locator("img.rv-chart").count() == 0
    chart.hover()
    with page.expect_download() as dl:
        chart.locator('.modebar-btn[data-title="Download plot as a PNG"]').click()
    png = dl.value.path().read_bytes()
    assert png_size(png) == (SLIDE_WIDTH * SLIDE_SCALE, SLIDE_HEIGHT * SLIDE_SCALE)
    (ARTIFACTS / "lecture-loss-chart.png").write_bytes(png)

    shown = int(step_count(page).replace(",", ""))
    with page.expect_download() as dl:
        page.get_by_role("button", name="Training history (CSV)").click()
    rows = list(csv.DictReader(io.StringIO(dl.value.path().read_text())))
    assert int(rows[-1]["step"]) == shown == 11
    assert [int(r["step"]) for r in rows] == list(range(1, 12))
    assert {"loss", "smoothed_loss", "grad_norm_before_clip", "grad_norm_after_clip", "clipped", "lr",
            "val_loss"} <= set(rows[0])
    with page.expect_download() as dl:
        page.get_by_role("button", name="The last window, per time step (CSV)").click()
    window = list(csv.DictReader(io.StringIO(dl.value.path().read_text())))
    assert len(window) == 25 and all(0 < float(r["p_target"]) <= 1 for r in window)


def test_presentation_view_at_1280x720(browser, app_url):
    page = open_link(browser, f"{app_url}/?preset=clipping&step=30&present=1", 30, width=1280, height=720)
    wait_idle(page)
    page.locator("img.rv-chart").first.wait_for()
    root_px = page.evaluate("() => parseFloat(getComputedStyle(document.documentElement).fontSize)")
    assert root_px >= 20
    sidebar_open = page.evaluate("""() => { const s = document.querySelector('[data-testid="stSidebar"]');
        return !!s && s.getAttribute('aria-expanded') === 'true' && s.getBoundingClientRect().width > 50; }""")
    assert not sidebar_open
    # Nothing clipped: no sideways scrolling, no metric label cut short, no text wider than its box.
    assert page.evaluate("() => document.documentElement.scrollWidth <= document.documentElement.clientWidth")
    cut = page.evaluate("""() => [...document.querySelectorAll(
            '[data-testid="stMetricLabel"] p, h3, [data-testid="stCaptionContainer"]')]
        .filter(e => e.scrollWidth > e.clientWidth + 1).map(e => e.innerText)""")
    assert cut == []
    assert page.locator("img.rv-chart").count() == 2     # the headline charts only: loss and reach
    assert page.get_by_text("Interactive charts").count() == 0
    page.screenshot(path=str(ARTIFACTS / "lecture-present-1280x720.png"))
    # Keyboard shortcuts still work: S is Step.
    page.keyboard.press("s")
    wait_step(page, 31, timeout=180_000)
    # Inside Streamlit's embed mode (for slides) too.
    embed = open_link(browser, f"{app_url}/?present=1&embed=true", 0, width=1280, height=720)
    embed.locator(METRIC).first.wait_for()
    embed.locator("img.rv-chart").first.wait_for()
    embed.screenshot(path=str(ARTIFACTS / "lecture-present-embed-1280x720.png"))


def test_the_heldout_loss_is_drawn_on_the_loss_chart(browser, app_url):
    page = open_link(browser, f"{app_url}/?sample=short_poem&hidden_size=128&val_every=10&step=60", 60)
    wait_idle(page)
    page.locator("img.rv-chart").first.wait_for()
    val = [t["y"] for t in chart_traces(page)[0] if t["name"] == VAL_NAME]
    assert val and len(val[0]) == 6 and all(v > 0 for v in val[0])
    page.get_by_text("Purple: the loss on the text's held-out end").wait_for()
