"""The sample texts shipped in ``sample_texts/``: their names, titles and contents."""

from __future__ import annotations

from functools import cache
from pathlib import Path

SAMPLE_DIR = Path(__file__).resolve().parent.parent / "sample_texts"

# File stem → (title shown in the app, one line on what it is good for).
SAMPLES: dict[str, tuple[str, str]] = {
    "english_prose": ("English prose", "a lighthouse keeper's weather log; loss falls steadily over a few thousand steps"),
    "short_poem": ("A short poem", "rhymes and a refrain: line structure is learned quickly"),
    "python_like_code": ("Python-like code", "indentation, brackets and keywords: watch it learn to indent"),
    "word_level_small_vocab": ("Small-vocabulary sentences", "for word-level models: about 70 distinct words"),
    "long_range_brackets": ("Matched brackets", "the closing bracket depends on the opening one 18-40 characters back"),
    "recall_first_char": ("Recall the first character", "each line ends with the letter it began with: pure long-range memory"),
    "counting": ("Counting patterns", "very regular text: learns within a few hundred steps"),
}


@cache
def read_sample(name: str) -> str:
    """The text of a sample (immutable str, so caching it is safe to share between users)."""
    if name not in SAMPLES:
        raise ValueError(f"unknown sample {name!r}")
    return (SAMPLE_DIR / f"{name}.txt").read_text(encoding="utf-8")
