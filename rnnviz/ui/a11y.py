"""For everyone in the room: what Streamlit's theme cannot do, in one stylesheet and two helpers.

The theme (.streamlit/config.toml) gives the contrast. What it cannot give, this stylesheet does, injected
once per page run by rnnviz.ui.page.setup_page (a <style>-only st.html goes to Streamlit's event
container and takes no room on the page):

- ``.rv-sr``: text for screen readers only, visually hidden the standard way (the charts' text
  alternatives before a plotly chart, whose SVG a screen reader cannot read);
- a focus ring on every control reached with Tab: Streamlit's own is a faint tinted box-shadow on
  buttons that a keyboard user loses on a projector;
- an equation wider than its column (the BPTT explorer's, and any on a phone) scrolls inside its box
  (``latex``), which holds the equation's help icon, so Tab reaches the box and the arrow keys scroll it
  (axe-core rule scrollable-region-focusable); KaTeX's own scroller, which holds nothing Tab can reach, and
  Streamlit's clipping markdown container inside it are switched off;
- inline code in a caption in black ink (the caption's fading would leave Streamlit's green code colour at 3:1);
- on a phone (≤ 640 px), the Train page's controls in compact rows (see rnnviz.ui.charts and
  pages/train.py: the controls sit in a container keyed ``train_controls``).
"""

from __future__ import annotations

import html

import streamlit as st

FOCUS = "#005a9c"   # the theme's primaryColor: 7:1 on white, so the ring itself is seen (WCAG 2.4.7, 1.4.11)

CSS = f"""<style>
.rv-sr {{ position: absolute !important; width: 1px; height: 1px; padding: 0; margin: -1px; overflow: hidden;
  clip: rect(0 0 0 0); clip-path: inset(50%); white-space: nowrap; border: 0; }}
/* Cheap selectors on purpose: with :is(button, a, [role=…], [tabindex="0"], …):focus-visible and
   label:has(input:focus-visible) instead of these two rules, benchmarks/bench_click.py read 2.17× and 2.02×
   (a Step click against a one-button app's), with these 1.77× and 1.67× (main, without either: 1.67×,
   1.59×): Chromium re-matches such selectors on every element React touches. */
:focus-visible {{ outline: 3px solid {FOCUS} !important; outline-offset: 2px !important; }}
/* A toggle's, checkbox's or radio's input is invisible (Streamlit draws its own knob): ring its label. */
label:focus-within {{ outline: 3px solid {FOCUS}; outline-offset: 2px; border-radius: 4px; }}
[class*="st-key-rv_eq_"] {{ overflow-x: auto; }}
/* Inline code in a caption: Streamlit draws it in its green code colour, then fades the whole caption to 0.6, which
   left 3.0:1 (axe-core, on the take-home script's file names); black ink fades to #666, 5.7:1. */
[data-testid="stCaptionContainer"] code {{ color: #000000; }}
[class*="st-key-rv_eq_"] [data-testid="stMarkdownContainer"], [class*="st-key-rv_eq_"] .katex-display {{
  overflow: visible !important; }}
@media (max-width: 640px) {{
  .st-key-train_controls button {{ min-height: 2.25rem; padding: 0.25rem 0.6rem; }}
}}
</style>"""


def apply() -> None:
    """Inject the stylesheet (once per page run: every page calls setup_page first)."""
    st.html(CSS)


def sr_only(text: str) -> str:
    """``text`` (escaped) as HTML that a screen reader reads and the screen does not show."""
    return f'<p class="rv-sr">{html.escape(text, quote=True)}</p>'


def latex(tex: str, *, key: str, help: str, into=st) -> None:
    """st.latex in a box that scrolls sideways when the equation is wider than its column. ``help``, the
    equation in words, is its help icon, inside the box: Tab reaches it (and scrolls the box to it), the
    arrow keys then scroll the box, and a screen reader reads the words (KaTeX also writes MathML, which
    it reads as the equation). key: unique on the page (the box's CSS class is st-key-rv_eq_<key>)."""
    into.container(key=f"rv_eq_{key}", gap=None).latex(tex, help=help)
