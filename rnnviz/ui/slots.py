"""Placeholders that play frames rewrite in place, skipping rewrites that would change nothing.

Every rewrite is a message to the browser and a re-render there; during play the baseline ln V,
an absent divergence banner and a perplexity rounded to one decimal often stay the same for many
frames, and the browser's time per frame is what limits the redraw rate.
"""

from __future__ import annotations

from collections.abc import Callable


class Slot:
    """Wraps a Streamlit placeholder (st.empty()): ``slot.metric(...)``, ``slot.html(...)``,
    ``slot.error(...)``, ``slot.empty()`` etc. are passed on unless identical to the last call."""

    def __init__(self, placeholder):
        self._placeholder = placeholder
        self._shown: tuple | None = None

    def container(self, **kwargs):
        """The placeholder as a container, for several elements in its place (not compared: drawn)."""
        self._shown = None
        return self._placeholder.container(**kwargs)

    def __getattr__(self, method: str) -> Callable[..., None]:
        def call(*args, **kwargs) -> None:
            what = (method, args, sorted(kwargs.items()))
            if what != self._shown:
                getattr(self._placeholder, method)(*args, **kwargs)
                self._shown = what

        return call
