"""The app's pages, in the order of the navigation, and the navigation drawn in the sidebar.

Why not Streamlit's own navigation menu: with a ``pages/`` folder beside app.py (the project's agreed layout),
Streamlit 1.67 lists the folder's files ("app", "explorer", "generate", …) instead of the st.navigation pages
whenever a page is opened by its own URL (a ``?lesson=3`` link, a reload, a tab reconnecting to another
replica). So the config turns that menu off (client.showSidebarNavigation) and every page draws this one.
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
