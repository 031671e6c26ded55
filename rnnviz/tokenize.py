"""Text → token ids and back, at the level of characters or of words.

A tokenizer is built from the user's text (no downloads): its vocabulary is what that text
contains. ``encode`` maps text to ids, ``decode`` maps ids back to text.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Sequence

import numpy as np

from rnnviz.config import MAX_CHAR_VOCAB, MAX_TEXT_CHARS, MAX_VH

UNK = "<unk>"
BOS, EOS = "<s>", "</s>"
# A word (letters/digits, with inner apostrophes or hyphens), a newline, or any other single
# visible character (punctuation, emoji, symbols each become a token of their own).
_WORD_RE = re.compile(r"\w+(?:['’\-]\w+)*|\n|[^\w\s]")
_SENTENCE_END = {".", "!", "?"}
# An apostrophe is not here: "don ' t" must not decode to "don't", which splits differently.
_NO_SPACE_BEFORE = set(".,;:!?)]}%\"”…") | {"\n"}
_NO_SPACE_AFTER = set("([{\"“") | {"\n"}


class CharTokenizer:
    """Every distinct character is a token; decode(encode(text)) == text."""

    level = "char"

    def __init__(self, text: str, max_vocab: int = MAX_CHAR_VOCAB):
        distinct = set(text)   # cheap (a set of at most MAX_TEXT_CHARS characters): checked before any id is made
        if len(distinct) > max_vocab:
            raise ValueError(
                f"the text has {len(distinct):,} distinct characters; the character-level limit is {max_vocab:,} "
                "(each one is a row of the output layer): use a text in fewer scripts, or word-level tokens")
        self.vocab: list[str] = sorted(distinct)
        self.index = {ch: i for i, ch in enumerate(self.vocab)}

    @property
    def vocab_size(self) -> int:
        return len(self.vocab)

    def split(self, text: str) -> list[str]:
        return list(text)

    def encode(self, text: str, on_unknown: str = "error") -> np.ndarray:
        """Ids (n,) of the characters. on_unknown: "error" (ValueError naming them) or "skip"."""
        return _encode(self, self.split(text), on_unknown)

    def decode(self, ids: Sequence[int]) -> str:
        return "".join(self.vocab[int(i)] for i in ids)

    def token_text(self, i: int) -> str:
        return self.vocab[int(i)]


class WordTokenizer:
    """Words, punctuation marks and newlines are tokens.

    max_vocab caps the vocabulary at the most frequent tokens (ties broken by first appearance);
    the rest become ``<unk>``. sentence_tokens wraps each sentence in ``<s> … </s>``.
    """

    level = "word"

    def __init__(self, text: str, max_vocab: int = 5000, lowercase: bool = True, sentence_tokens: bool = False):
        if max_vocab < 3:
            raise ValueError(f"the word vocabulary cap must be at least 3 (got {max_vocab})")
        self.lowercase = lowercase
        self.sentence_tokens = sentence_tokens
        words = self.split(text)
        counts = Counter(words)
        first_seen = {w: i for i, w in reversed(list(enumerate(words)))}
        ranked = sorted(counts, key=lambda w: (-counts[w], first_seen[w]))
        specials = [UNK] + ([BOS, EOS] if sentence_tokens else [])
        ranked = [w for w in ranked if w not in specials]
        self.truncated = len(ranked) > max_vocab - len(specials)
        kept = ranked[: max_vocab - len(specials)]
        self.vocab: list[str] = specials + kept
        self.index = {w: i for i, w in enumerate(self.vocab)}
        self.unk_id = self.index[UNK]

    @property
    def vocab_size(self) -> int:
        return len(self.vocab)

    def split(self, text: str) -> list[str]:
        """The token strings of ``text`` before mapping to ids."""
        if self.lowercase:
            text = text.lower()
        tokens = _WORD_RE.findall(text)
        if not self.sentence_tokens:
            return tokens
        out: list[str] = []
        open_ = False
        for tok in tokens:
            if tok == "\n":
                out.append(tok)
                continue
            if not open_:
                out.append(BOS)
                open_ = True
            out.append(tok)
            if tok in _SENTENCE_END:
                out.append(EOS)
                open_ = False
        if open_:
            out.append(EOS)
        return out

    def encode(self, text: str, on_unknown: str = "unk") -> np.ndarray:
        """Ids (n,). on_unknown: "unk" (map to <unk>), "skip", or "error"."""
        return _encode(self, self.split(text), on_unknown)

    def decode(self, ids: Sequence[int]) -> str:
        """Readable text: spaces between words, none before punctuation; <s> dropped, </s> a space."""
        parts: list[str] = []
        prev = "\n"
        for i in ids:
            tok = self.vocab[int(i)]
            if tok == BOS:
                continue
            if tok == EOS:
                tok = ""
            elif parts and prev not in _NO_SPACE_AFTER and tok not in _NO_SPACE_BEFORE:
                parts.append(" ")
            parts.append(tok)
            prev = tok or prev
        return "".join(parts)

    def token_text(self, i: int) -> str:
        return self.vocab[int(i)]


def _encode(tok, pieces: list[str], on_unknown: str) -> np.ndarray:
    if on_unknown not in ("error", "skip", "unk"):
        raise ValueError(f"on_unknown must be 'error', 'skip' or 'unk' (got {on_unknown!r})")
    index = tok.index
    unk = getattr(tok, "unk_id", None)
    if on_unknown == "unk" and unk is None:
        on_unknown = "error"
    ids: list[int] = []
    missing: list[str] = []
    for p in pieces:
        i = index.get(p)
        if i is not None:
            ids.append(i)
        elif on_unknown == "unk":
            ids.append(unk)
        elif on_unknown == "error":
            missing.append(p)
    if missing:
        shown = ", ".join(repr(m) for m in list(dict.fromkeys(missing))[:10])
        raise ValueError(f"not in the vocabulary: {shown}")
    return np.asarray(ids, dtype=np.intp)


def make_tokenizer(text: str, level: str = "char", *, max_vocab: int = 5000, sentence_tokens: bool = False):
    """A char or word tokenizer for ``text``."""
    if level == "char":
        return CharTokenizer(text)
    if level == "word":
        return WordTokenizer(text, max_vocab=max_vocab, sentence_tokens=sentence_tokens)
    raise ValueError(f"unknown tokenization level {level!r}; choose 'char' or 'word'")


def check_model_size(V: int, H: int) -> None:
    """ValueError saying what to change if V·H (the size of the output layer V and of U) exceeds MAX_VH."""
    if V * H > MAX_VH:
        fit_H = max(1, MAX_VH // max(V, 1))
        raise ValueError(
            f"a vocabulary of {V:,} tokens with hidden size {H} needs {V * H:,} weights per input/output matrix; "
            f"the limit is {MAX_VH:,} (V·H): lower the hidden size to {fit_H} or less, "
            "or the vocabulary (a lower word cap, or a text with fewer distinct tokens)")


def tokenize_corpus(text: str, level: str, seq_len: int, hidden_size: int | None = None, **kwargs):
    """(tokenizer, ids) for training, or ValueError saying what is wrong with the text.

    Training needs at least two distinct tokens and seq_len + 1 tokens (one window of inputs
    and its targets shifted by one). Every limit is checked before the step it protects: the
    text's length before tokenizing, the vocabulary size before any id is made, and (given
    hidden_size) V·H before the trainer allocates a weight.
    """
    if not text or not text.strip():
        raise ValueError("the text is empty: paste or upload some text, or pick a sample")
    if len(text) > MAX_TEXT_CHARS:
        raise ValueError(f"the text has {len(text):,} characters; the limit is {MAX_TEXT_CHARS:,}: "
                         "use a shorter excerpt")
    tok = make_tokenizer(text, level, **kwargs)
    if hidden_size is not None:
        check_model_size(tok.vocab_size, hidden_size)
    ids = tok.encode(text, on_unknown="unk" if level == "word" else "error")
    distinct = len(set(ids.tolist()))
    if distinct < 2:
        raise ValueError(
            f"the text has only {distinct} distinct {'character' if level == 'char' else 'word'}: "
            "a model cannot learn anything from it; use a longer, more varied text"
        )
    if ids.size < seq_len + 1:
        raise ValueError(
            f"the text has {ids.size} tokens but one window of T={seq_len} needs {seq_len + 1}: "
            "paste more text or lower the window length T"
        )
    return tok, ids
