"""What every page does first: find this session's state and draw the shared sidebar.

The sidebar is drawn from inside each page rather than in app.py around ``page.run()``: Streamlit's
AppTest loses sidebar elements created outside the page script after the first rerun, and drawing
it here keeps one code path for the browser and the tests.
"""

from __future__ import annotations

import time

import streamlit as st

from rnnviz.ui import a11y, present
from rnnviz.ui.controls import sidebar
from rnnviz.ui.safe import md
from rnnviz.ui.state import LINK_TARGET, AppSession, get_session, show_flashes

PROGRESS_EVERY_S = 0.1   # the link's progress bar redraws this often (each redraw is also where Stop lands)


def setup_page() -> AppSession:
    """This browser session's AppSession, with the sidebar drawn (and a link's steps trained)."""
    sess = get_session()
    a11y.apply()   # the stylesheet the theme cannot give (focus ring, screen-reader text, …): rnnviz.ui.a11y
    sidebar(sess)
    present.apply()
    follow_link(sess)
    return sess


def _stop_link(sess: AppSession) -> None:
    target = sess.extras.pop(LINK_TARGET, None)
    if target is not None:
        sess.flash("info", f"Stopped at step {sess.trainer.step_count:,} (the link asked for {target:,}).")


def follow_link(sess: AppSession) -> None:
    """Train to the step a link asked for, with a progress bar and a Stop button.

    A click on Stop (or any widget) interrupts this run at the next progress redraw; Stop's callback
    forgets the target, any other click leaves it, and the next run continues from where this one got."""
    target = sess.extras.get(LINK_TARGET)
    tr = sess.trainer
    if target is None or tr.step_count >= target:
        sess.extras.pop(LINK_TARGET, None)
        return
    slot = st.empty()   # one placeholder for the bar and Stop: emptied when done
    box = slot.container()
    bar = box.progress(tr.step_count / target, text=f"Training to step {target:,} as the link asks…")
    box.button("Stop", key="link_stop", on_click=_stop_link, args=(sess,), icon=":material/stop:",
               help="Stop here: the model stays at the step reached.")
    start, shown = tr.step_count, time.monotonic()
    while tr.step_count < target:
        if tr.step() is None:   # diverged: the banner on the Train page says why
            sess.flash("warning", f"Training stopped at step {tr.step_count:,} of the link's {target:,}: it diverged.")
            break
        if time.monotonic() - shown >= PROGRESS_EVERY_S:
            shown = time.monotonic()
            bar.progress(tr.step_count / target, text=f"Training to step {target:,} as the link asks: "
                                                      f"step {tr.step_count:,}")
    else:
        sess.flash("success", f"Trained {tr.step_count - start:,} steps to step {tr.step_count:,}, as the link asked.")
    sess.extras.pop(LINK_TARGET, None)
    slot.empty()


def page_header(sess: AppSession, title: str, caption: str, short: str | None = None) -> None:
    """The page title with the text it trains on (escaped: a file name is user text), a caption
    for students (``short``, one sentence, in the presentation view), then any pending messages."""
    st.markdown(f"### {title} · {md(sess.text_label)}")
    present.caption(caption, short or caption)
    show_flashes(sess)
