"""Making user text safe to show in Streamlit markdown (messages, headings, expander labels)."""

from __future__ import annotations

# Every character markdown (or Streamlit's LaTeX via $) could read as syntax gets a backslash.
_MD_SPECIAL = str.maketrans({c: "\\" + c for c in "\\`*_{}[]()#+-!|<>$~=:."})


def md(text: str) -> str:
    """Plain text made safe for markdown: no formatting, links, HTML or math from user text."""
    return str(text).translate(_MD_SPECIAL)
