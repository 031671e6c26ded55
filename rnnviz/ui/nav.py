"""The app's pages, in the order of the navigation, and the navigation drawn in the sidebar.

Why not Streamlit's own navigation menu: with a ``pages/`` folder beside app.py (the project's agreed layout), a
fresh Streamlit 1.67 process runs a page opened by its own URL (a ``?lesson=3`` link, a reload, a tab reconnecting
to another replica) as a legacy multipage app, without app.py, and its menu lists the folder's files ("app",
"explorer", "generate", …). rnnviz.ui.state reruns such a run through app.py; this menu, drawn by every page's
sidebar, is the same in either case, so the app hides Streamlit's (st.navigation(position="hidden")).
"""

from __future__ import annotations

import streamlit as st

# (script, title, material icon); the first page is the default one (the app's root URL)
PAGES = (
    ("pages/lesson.py", "Lesson", ":material/school:"),
    ("pages/train.py", "Train", ":material/model_training:"),
    ("pages/generate.py", "Generate", ":material/edit_note:"),
    ("pages/explorer.py", "BPTT explorer", ":material/account_tree:"),
    ("pages/lab.py", "Vanishing & exploding lab", ":material/science:"),
    ("pages/race.py", "The race: who remembers?", ":material/sports_score:"),
)
DEFAULT = "pages/train.py"


def pages() -> list:
    """The st.Page objects for st.navigation (the default page is DEFAULT)."""
    return [st.Page(path, title=title, icon=icon, default=path == DEFAULT) for path, title, icon in PAGES]


def draw() -> None:
    """The links to every page, at the top of the sidebar (the current one is marked by Streamlit)."""
    for path, title, icon in PAGES:
        st.page_link(path, label=title, icon=icon)
    st.divider()
