""""Right closing marker": can the model recall a line's first character 20–40 steps later?

On ``sample_texts/recall_first_char.txt`` every line is a marker (A–D), 20–40 dots and the same
marker again. The closing marker can only be predicted from the line's first character, so the
fraction of closing positions where argmax over the four markers of p_t is the right one measures
memory over that distance (chance: 1/4).

The state is carried through the text from h = 0 at its start (as in training), over at most
``max_tokens`` tokens so that an evaluation costs a bounded forward pass.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from rnnviz.cells import get_cell

MARKERS = "ABCD"
MAX_EVAL_TOKENS = 2_000     # ≈ 60 lines of the sample text; one forward pass of this many steps


@dataclass(frozen=True)
class RecallScore:
    """correct of n closing markers right (argmax over the markers); accuracy = correct / n
    (NaN when n = 0); chance = 1 / number of markers."""

    correct: int
    n: int
    chance: float

    @property
    def accuracy(self) -> float:
        return self.correct / self.n if self.n else float("nan")


def marker_ids(tokenizer, markers: str = MARKERS) -> np.ndarray:
    """Token ids of the markers present in the vocabulary ((m,), in ``markers`` order)."""
    return np.array([tokenizer.vocab.index(m) for m in markers if m in tokenizer.vocab], dtype=np.intp)


def closing_positions(ids: np.ndarray, markers: np.ndarray, newline: int | None) -> np.ndarray:
    """Positions t (0-based, t + 1 < len(ids)) whose target ids[t + 1] is a marker closing a line
    that already holds one: the second marker of a line. ids: (N,) token ids."""
    out = []
    is_marker = np.isin(ids, markers)
    seen = False
    for t in range(len(ids) - 1):
        tok = ids[t]
        if newline is not None and tok == newline:
            seen = False
        elif is_marker[t]:
            seen = True
        if seen and is_marker[t + 1] and (newline is None or tok != newline):
            out.append(t)
    return np.array(out, dtype=np.intp)


def dependency_lengths(ids: np.ndarray, markers: np.ndarray, newline: int | None) -> np.ndarray:
    """(n,) how many steps back each closing marker's answer lies: from the position that predicts it
    (closing_positions) to the line's opening marker. ids: (N,) token ids."""
    ids = np.asarray(ids, dtype=np.intp)
    pos = closing_positions(ids, markers, newline)
    is_marker = np.isin(ids, markers)
    out, opened = [], None
    j = 0
    for t in range(len(ids) - 1):
        tok = ids[t]
        if newline is not None and tok == newline:
            opened = None
        elif is_marker[t] and opened is None:
            opened = t
        if j < pos.size and pos[j] == t:
            out.append(t - opened if opened is not None else 0)
            j += 1
    return np.array(out, dtype=np.intp)


def recall_score(params, cell: str, ids: np.ndarray, markers: np.ndarray, newline: int | None,
                 max_tokens: int = MAX_EVAL_TOKENS) -> RecallScore:
    """The right-closing-marker score of the model (params, cell) on ids[:max_tokens + 1]."""
    ids = np.asarray(ids, dtype=np.intp)[: int(max_tokens) + 1]
    pos = closing_positions(ids, markers, newline)
    chance = 1.0 / max(len(markers), 1)
    if pos.size == 0:
        return RecallScore(0, 0, chance)
    the_cell = get_cell(cell)
    H = params["W"].shape[1]
    xs = ids[: pos[-1] + 1]
    cache = the_cell.forward(params, xs, the_cell.zero_state(H))
    logits = params["V"][markers] @ cache.hs[:, pos] + params["c"][markers, None]   # (m, n): the markers only
    picked = markers[np.argmax(logits, axis=0)]
    return RecallScore(int(np.sum(picked == ids[pos + 1])), int(pos.size), chance)


def trainer_dependencies(trainer, max_tokens: int = MAX_EVAL_TOKENS) -> np.ndarray:
    """dependency_lengths on the trainer's text, over the tokens the score reads."""
    tok = trainer.tokenizer
    nl = tok.vocab.index("\n") if "\n" in getattr(tok, "vocab", ()) else None
    return dependency_lengths(np.asarray(trainer.data)[: int(max_tokens) + 1], marker_ids(tok), nl)


def trainer_recall(trainer, max_tokens: int = MAX_EVAL_TOKENS) -> RecallScore:
    """recall_score for a Trainer on its own text (NaN accuracy if the text has no markers)."""
    tok = trainer.tokenizer
    nl = tok.vocab.index("\n") if "\n" in getattr(tok, "vocab", ()) else None
    return recall_score(trainer.params, trainer.config.cell, trainer.data, marker_ids(tok), nl, max_tokens)
