"""What a text is made of, in words, for the captions that say what to watch for in the model's samples.

A sample's caption must be true of every text (a sentence such as "watch spelling, then words, then punctuation
appear" is false on a text of dots and four letters), so it is written from the text's own tokens: its most
frequent ones, and whether it has words, punctuation, lines and digits at all.
"""

from __future__ import annotations

import numpy as np

from rnnviz.figures.common import visible

PUNCTUATION = set(".,;:!?\"'()[]{}-")


def what_to_watch(vocab: list[str], ids: np.ndarray, level: str = "char", n_top: int = 3) -> str:
    """One sentence on what a sample of a model of this text will show as it learns. vocab: the token strings;
    ids: (N,) the text's token ids; level: "char" or "word"."""
    ids = np.asarray(ids, dtype=np.intp)
    if not ids.size:
        return ""
    counts = np.bincount(ids, minlength=len(vocab))
    top = [visible(vocab[i]) for i in np.argsort(-counts, kind="stable")[:n_top] if counts[i] > 0]
    first = f"Early on it is noise; first the text's most frequent tokens appear ({', '.join(repr(t) for t in top)})"
    if level == "word":
        return first + ", then common word pairs, then phrases of the text's sentences."
    chars = set(vocab)
    letters = sum(ch.isalpha() for ch in chars)
    later = (["spelling, then whole words"] if letters >= 10 and " " in chars else []) + \
        (["punctuation"] if len(chars & PUNCTUATION) >= 3 else []) + (["line breaks"] if "\n" in chars else []) + \
        (["digits"] if any(ch.isdigit() for ch in chars) else [])
    if not later:
        return first + ", then the order in which the text puts them."
    return first + ", then " + (", ".join(later[:-1]) + " and " + later[-1] if len(later) > 1 else later[0]) + \
        " in their places."
