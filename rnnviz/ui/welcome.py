"""A newcomer's first screen: what rnnviz is, and two ways in (the lesson, or training on their own text).

Shown on the Train page (the app's root) only while the session is untouched: the first model, at step 0, not
opened from a lecturer's link. The first Step, a paste or any new model makes it go; so does Dismiss.
"""

from __future__ import annotations

import streamlit as st

from rnnviz.cells import CELLS
from rnnviz.ui.controls import _on_paste
from rnnviz.ui.state import LINK_TARGET, AppSession

CLOSED = "welcome_closed"   # sess.extras: the student dismissed it
SHOWN = "welcome_shown"     # sess.extras: it is on screen (the Train page's fragment reruns the page to take it away)


def fresh(sess: AppSession) -> bool:
    return (sess.generation == 0 and sess.trainer.step_count == 0 and sess.link_preset is None
            and LINK_TARGET not in sess.extras and not sess.extras.get(CLOSED))


def _close(sess: AppSession) -> None:
    sess.extras[CLOSED] = True


def outdated(sess: AppSession) -> bool:
    """Whether it is on screen although the session is no longer fresh (a Step inside the Train page's
    fragment reruns only the fragment: the page must then be rerun once to take the welcome away)."""
    return bool(sess.extras.get(SHOWN)) and not fresh(sess)


def show(sess: AppSession) -> None:
    if not fresh(sess):
        sess.extras.pop(SHOWN, None)
        return
    sess.extras[SHOWN] = True
    with st.container(border=True, key="welcome"):
        st.markdown("#### Watch a recurrent network learn, one step of backpropagation through time at a time")
        others = [c.title for name, c in CELLS.items() if name != sess.config.cell]
        st.markdown(
            f"rnnviz trains a small recurrent network (here the {sess.trainer.cell.title}; the {', '.join(others)} are "
            "one setting away) to predict the next character of a text, one gradient step at a time, and shows what "
            "each step did: the loss, how far back in the text the gradient still reaches, why it vanishes or "
            "explodes, what clipping does, and why gated cells remember where a plain RNN cannot. Every number on "
            "screen is measured on your own model.")
        left, right = st.columns(2, gap="large")
        with left:
            st.markdown("**New to recurrent networks?**")
            if st.button("Start the lesson", key="welcome_lesson", type="primary", icon=":material/school:"):
                st.switch_page("pages/lesson.py")
            st.caption("Nine short chapters on your own model: predict what will happen, then see what your run does.")
        with right:
            st.markdown("**Train on your own text**")
            st.text_area("Paste any text (a poem, code, your notes)", key="welcome_text", height=90,
                         placeholder="Paste text here, or press Step below to train on the sample, English prose.")
            st.button("Train on my text", key="welcome_train", on_click=_on_paste, args=(sess, "welcome_text"),
                      width="stretch")
        st.button("Dismiss", key="welcome_close", on_click=_close, args=(sess,), type="tertiary",
                  icon=":material/close:")
