"""Making user text safe to show in Streamlit markdown (messages, headings, expander labels)."""

from __future__ import annotations

import re

# Every character markdown (or Streamlit's LaTeX via $) could read as syntax gets a backslash.
_MD_SPECIAL = str.maketrans({c: "\\" + c for c in "\\`*_{}[]()#+-!|<>$~=:."})
# GitHub-style autolinks (remark-gfm) are found in the text *after* backslash escapes are undone, so
# escaping cannot stop them: "https://x.y", "www.x.y" and "a@x.y" become links whatever precedes
# them. A zero-width space after every ":" and "@", and between "www" and ".", breaks each pattern
# (the scheme needs "://", the www form "www.", an e-mail "@" then a domain) and shows nothing.
_AUTOLINK_BREAK = re.compile(r"(?<=[:@])|(?i:(?<=www)(?=\.))")
ZWSP = "\u200b"


def md(text: str) -> str:
    """Plain text made safe for markdown: no formatting, links, autolinks, HTML or math from user text."""
    return _AUTOLINK_BREAK.sub(ZWSP, str(text)).translate(_MD_SPECIAL)
