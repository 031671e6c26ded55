"""A student's progress through the lesson: where they are, what they predicted, what their run showed, the
exit ticket. Plain JSON-able data: it travels with the session's autosave (a reload keeps it, as the model), so
``from_json`` checks everything it reads (a saved file is data from disk, never trusted)."""

from __future__ import annotations

import math
from dataclasses import dataclass, field

MAX_TEXT = 2_000      # characters kept of any stored sentence (a reveal's why is ~400)


@dataclass
class Progress:
    """chapter: index of the open chapter (len(CHAPTERS) is the exit ticket).
    predictions: {chapter key: choice index, or None when the question was skipped}.
    reveals: {chapter key: {"value", "shown", "band", "why", "choices", "prediction"}}: the measure after the action.
    setups: {chapter key: [config dict, text label]}: the session as "Set it up" left it.
    ticket: {question index: choice index}; ticket_done: the answers were submitted.
    revision: bumped on every change (the autosave compares it)."""

    chapter: int = 0
    predictions: dict = field(default_factory=dict)
    reveals: dict = field(default_factory=dict)
    setups: dict = field(default_factory=dict)
    ticket: dict = field(default_factory=dict)
    ticket_done: bool = False
    revision: int = 0

    def touch(self) -> None:
        self.revision += 1

    def to_json(self) -> dict:
        return {"chapter": self.chapter, "predictions": self.predictions, "reveals": self.reveals,
                "setups": self.setups, "ticket": {str(k): v for k, v in self.ticket.items()},
                "ticket_done": self.ticket_done}

    @classmethod
    def from_json(cls, d, keys: tuple[str, ...], n_ticket: int) -> Progress:
        """A Progress from saved data, keeping only what is well formed (unknown chapters, out-of-range choices,
        wrong types are dropped: a damaged file restores what it can, never raises)."""
        p = cls()
        if not isinstance(d, dict):
            return p
        ch = d.get("chapter")
        if isinstance(ch, int) and not isinstance(ch, bool) and 0 <= ch <= len(keys):
            p.chapter = ch
        for k, v in (d.get("predictions") or {}).items() if isinstance(d.get("predictions"), dict) else ():
            if k in keys and (v is None or (isinstance(v, int) and not isinstance(v, bool) and 0 <= v < 8)):
                p.predictions[k] = v
        for k, v in (d.get("reveals") or {}).items() if isinstance(d.get("reveals"), dict) else ():
            r = _reveal(v)
            if k in keys and r is not None:
                p.reveals[k] = r
        for k, v in (d.get("setups") or {}).items() if isinstance(d.get("setups"), dict) else ():
            if k in keys and isinstance(v, list) and len(v) == 2 and isinstance(v[0], dict) and isinstance(v[1], str):
                p.setups[k] = [v[0], v[1][:MAX_TEXT]]
        for k, v in (d.get("ticket") or {}).items() if isinstance(d.get("ticket"), dict) else ():
            if str(k).isdigit() and int(k) < n_ticket and isinstance(v, int) and not isinstance(v, bool) and 0 <= v < 8:
                p.ticket[int(k)] = v
        p.ticket_done = d.get("ticket_done") is True
        return p


def _reveal(v) -> dict | None:
    if not isinstance(v, dict):
        return None
    value, band = v.get("value"), v.get("band")
    if not isinstance(value, (int, float)) or isinstance(value, bool) or not isinstance(band, int):
        return None
    texts = {k: v.get(k) for k in ("shown", "why")}
    if not all(isinstance(t, str) for t in texts.values()):
        return None
    choices = v.get("choices")
    if not (isinstance(choices, list) and all(isinstance(c, str) for c in choices) and len(choices) <= 8):
        return None
    pred = v.get("prediction")
    if not (pred is None or (isinstance(pred, int) and not isinstance(pred, bool) and 0 <= pred < len(choices))):
        return None
    return {"value": float(value) if math.isfinite(value) else float("nan"), "band": band,
            "shown": texts["shown"][:MAX_TEXT], "why": texts["why"][:MAX_TEXT],
            "choices": [c[:MAX_TEXT] for c in choices], "prediction": pred}
