"""Small text formatters for pages: numbers and tokens in Streamlit markdown, safely."""

from __future__ import annotations

from rnnviz.figures.common import visible


def md_token(tok: str) -> str:
    """A token as a markdown code span: shown literally (no markdown, HTML or math inside)."""
    s = visible(tok)
    fence = "``" if "`" in s else "`"
    pad = " " if s.startswith("`") or s.endswith("`") else ""
    return f"{fence}{pad}{s}{pad}{fence}"


def num(x: float) -> str:
    """A number with 3 significant digits, as students read them (−0.969, 1.2e-05)."""
    return f"{x:.3g}".replace("-", "−")

