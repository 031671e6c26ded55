"""Generating text for the Generate page: read the user's prime, sample, score, and explain.

NumPy only (no Streamlit), so every rule here is unit-testable. Messages are plain text that
say what the user can change; the page decides how to show them.

    prime text ──read_prime──▶ Prime (ids the model knows, notes on what was dropped or mapped)
    Prime + GenSettings ──generate──▶ Generation (tokens, p of each, top 5, mean log p, perplexity)
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from rnnviz.cells import get_cell
from rnnviz.sample import MAX_TEMPERATURE, SampleResult, sample
from rnnviz.tokenize import EOS, UNK

MIN_LENGTH, MAX_LENGTH = 1, 2000     # tokens per click: 2000 take ~0.2 s on the default model
MAX_PRIME_CHARS = 1000               # longer primes add nothing a small RNN can remember
MAX_ANALYSE_TOKENS = 300             # the hidden-unit heatmap reads at most this many tokens
HIGH_TEMPERATURE = 3.0               # from here on p/τ is close to uniform: say so
MODES = ("sample", "greedy", "top-k")
STARTS = ("carried", "zero")         # the hidden state before the prime: training's carried h, or h = 0
_SENTENCE_END = {".", "!", "?"}
_LISTED = 12                         # unknown tokens named in a message; the rest are counted


@dataclass(frozen=True)
class GenSettings:
    """What the user asked for. temperature τ ∈ [0, 100] (0 = greedy); k is used in top-k mode.

    start: the hidden state the model reads the prime from. "carried" is where training left off
    (min-char-rnn samples from there); "zero" is a blank memory h = 0, which a model trained with
    a carried state has only seen at the very start of its text, so it often writes worse from it."""

    prime: str = ""
    length: int = 300
    temperature: float = 0.8
    mode: str = "sample"
    k: int = 5
    seed: int = 0
    start: str = "carried"

    def validate(self) -> GenSettings:
        """Raise ValueError with a message that says what to change; return self if fine."""
        if self.mode not in MODES:
            raise ValueError(f"sampling mode must be one of {', '.join(MODES)} (got {self.mode!r})")
        if not (isinstance(self.length, int) and MIN_LENGTH <= self.length <= MAX_LENGTH):
            raise ValueError(f"length must be a whole number of tokens from {MIN_LENGTH} to {MAX_LENGTH} "
                             f"(got {self.length})")
        t = self.temperature
        if not (isinstance(t, (int, float)) and math.isfinite(t) and 0 <= t <= MAX_TEMPERATURE):
            raise ValueError(f"temperature must be a number from 0 to {MAX_TEMPERATURE:g} (got {t})")
        if self.mode == "top-k" and not (isinstance(self.k, int) and self.k >= 1):
            raise ValueError(f"k must be a whole number ≥ 1 (got {self.k})")
        if self.start not in STARTS:
            raise ValueError(f"start must be one of {', '.join(STARTS)} (got {self.start!r})")
        if not (isinstance(self.seed, int) and 0 <= self.seed < 2**32):
            raise ValueError("the seed must be a whole number from 0 to 2³²−1")
        if len(self.prime) > MAX_PRIME_CHARS:
            raise ValueError(f"the prime has {len(self.prime):,} characters; the limit is {MAX_PRIME_CHARS:,}. "
                             "Shorten it: a small RNN only remembers the last few dozen tokens anyway.")
        return self

    @property
    def greedy(self) -> bool:
        """Greedy mode, or τ = 0 (the limit of p^(1/τ) as τ → 0 is all mass on the argmax)."""
        return self.mode == "greedy" or self.temperature == 0 or (self.mode == "top-k" and self.k == 1)

    def advice(self, vocab_size: int) -> list[tuple[str, str]]:
        """(kind, text) notes about these settings, kind "info" or "warning"; empty if nothing to say."""
        notes: list[tuple[str, str]] = []
        if self.mode == "greedy":
            notes.append(("info", "Greedy: the model always writes its most likely next token. Temperature and "
                                  "seed make no difference, and the text often falls into a loop."))
            return notes
        if self.temperature == 0:
            notes.append(("info", "Temperature 0 means greedy: always the most likely token, the same text for "
                                  "every seed. Raise τ above 0 to sample."))
        elif self.temperature >= HIGH_TEMPERATURE:
            notes.append(("warning", f"τ = {self.temperature:g} flattens the distribution almost to uniform "
                                     f"(every token close to 1/V = 1/{vocab_size}): expect gibberish. "
                                     "Lower τ to between 0.5 and 1.5 for text that resembles the training text."))
        if self.mode == "top-k":
            if self.k == 1:
                notes.append(("info", "k = 1 keeps only the most likely token: that is greedy decoding."))
            elif self.k >= vocab_size:
                notes.append(("info", f"k = {self.k} ≥ V = {vocab_size}: top-k keeps every token, "
                                      "so this is the same as plain sampling. Lower k to cut off unlikely tokens."))
        return notes


@dataclass(frozen=True)
class Prime:
    """The prime as the model will read it.

    ids: (m,) token ids; text: those ids decoded; unknown: the distinct pieces of the user's text
    that are not in the vocabulary (first-seen order); action: what happened to them ("dropped"
    for characters, "unk" for words, "" if none); fallback: the user's prime had no usable token,
    so the training text's first token was used."""

    ids: np.ndarray
    text: str
    unknown: tuple[str, ...] = ()
    action: str = ""
    fallback: bool = False
    empty_input: bool = False

    def notes(self) -> list[tuple[str, str]]:
        """(kind, text) messages for the user, plain text (the page escapes for its format)."""
        out: list[tuple[str, str]] = []
        if self.unknown:
            listed = describe_tokens(self.unknown)
            if self.action == "unk":
                out.append(("warning", f"Not in the model's vocabulary, read as {UNK}: {listed}. The model never saw "
                                       "these words or symbols in its training text; use words from it for a meaningful prime."))
            else:
                out.append(("warning", f"Not in the model's vocabulary, so left out of the prime: {listed}. The "
                                       "training text never uses these characters; use only characters it contains."))
        if self.fallback:
            why = "The prime is empty" if self.empty_input else "Nothing in the prime is in the vocabulary"
            out.append(("info", f"{why}, so the model starts from the first token of the training text, "
                                f"{_quote(self.text)}."))
        return out


def describe_tokens(pieces, limit: int = _LISTED) -> str:
    """'a', 'b', 'c' and 3 more: tokens made visible (space, newline, tab) and quoted."""
    pieces = list(pieces)
    shown = ", ".join(_quote(p) for p in pieces[:limit])
    return shown + (f" and {len(pieces) - limit} more" if len(pieces) > limit else "")


_SHOWN = {" ": "␣", "\n": "⏎", "\t": "⇥", "\r": "␍"}


def _quote(tok: str) -> str:
    """A token quoted with whitespace made visible (the engine does not import the figures layer)."""
    shown = _SHOWN.get(tok) or (f"\\x{ord(tok):02x}" if len(tok) == 1 and (ord(tok) < 32 or ord(tok) == 127) else tok)
    return f"'{shown}'"


def encode_known(tokenizer, text: str) -> tuple[np.ndarray, tuple[str, ...], str]:
    """(ids (n,), distinct unknown pieces, action) for any text, never raising.

    Characters the model does not know are dropped; words it does not know become <unk> (the
    word tokenizer has that token, and a gap in a sentence reads better than a silent splice)."""
    pieces = tokenizer.split(text)
    index = tokenizer.index
    unknown = tuple(dict.fromkeys(p for p in pieces if p not in index))
    unk_id = getattr(tokenizer, "unk_id", None)
    if unk_id is not None:
        ids = [index.get(p, unk_id) for p in pieces]
        action = "unk"
    else:
        ids = [index[p] for p in pieces if p in index]
        action = "dropped"
    return np.asarray(ids, dtype=np.intp), unknown, action if unknown else ""


def read_prime(tokenizer, text: str, first_id: int) -> Prime:
    """The prime's ids (at least one): unknown pieces dropped or mapped to <unk>, and the
    training text's first token (first_id) if nothing usable is left."""
    text_ids, unknown, action = encode_known(tokenizer, text)
    pieces = tokenizer.split(text)
    # With sentence tokens, split() closes an open sentence with </s>; a prime stops mid-sentence,
    # and an extra </s> would tell the model the sentence is over.
    if pieces and pieces[-1] == EOS and (len(pieces) < 2 or pieces[-2] not in _SENTENCE_END):
        text_ids = text_ids[:-1]
    if text_ids.size == 0:
        ids = np.asarray([first_id], dtype=np.intp)
        return Prime(ids, tokenizer.decode(ids), unknown, action, fallback=True, empty_input=not text.strip())
    return Prime(text_ids, tokenizer.decode(text_ids), unknown, action)


@dataclass
class Generation:
    """One click of Generate. result.ids: (n,) generated ids; result.probs: (n,) p (at τ = 1) of each;
    h0: the cell's state the prime was read from ((H,), or (2, H) for the LSTM)."""

    settings: GenSettings
    prime: Prime
    result: SampleResult
    h0: np.ndarray
    tokens: list[str] = field(default_factory=list)        # the n generated tokens as strings
    top: list[list[tuple[str, float]]] = field(default_factory=list)  # each token's top 5 (token, p)
    text: str = ""                                         # prime + generated, decoded (copy/download)

    @property
    def n(self) -> int:
        return int(self.result.ids.size)

    @property
    def all_ids(self) -> np.ndarray:
        """(m + n,) the prime's ids then the generated ones."""
        return np.concatenate([self.prime.ids, self.result.ids])

    @property
    def mean_log_p(self) -> float:
        """(1/n) Σ log p(token): how likely the model (at τ = 1) finds its own output, in nats."""
        # A token drawn at high τ may have p that underflows to 0; floor it so the mean stays finite.
        return float(np.mean(np.log(np.maximum(self.result.probs, 1e-300)))) if self.n else 0.0

    @property
    def perplexity(self) -> float:
        """e^(−mean log p): as unsure as a uniform choice among this many tokens."""
        return math.exp(min(-self.mean_log_p, 700.0))


def generate(params, tokenizer, settings: GenSettings, first_id: int, carried_h=None, cell: str = "rnn") -> Generation:
    """Read the prime, then sample settings.length tokens. Same arguments ⇒ the same Generation.

    first_id: the training text's first token (the prime if there is none); carried_h: the cell's
    state training left off with, used when settings.start is "carried" (zeros if None).
    Never changes params or carried_h (sampling only reads them)."""
    settings.validate()
    prime = read_prime(tokenizer, settings.prime, first_id)
    the_cell = get_cell(cell)
    H = params["V"].shape[1]
    use_carried = settings.start == "carried" and carried_h is not None
    h0 = np.array(the_cell.check_state(carried_h if use_carried else None, H))
    top_k = settings.k if settings.mode == "top-k" else None
    res = sample(params, prime.ids, settings.length, temperature=settings.temperature, top_k=top_k,
                 greedy=settings.greedy, seed=settings.seed, h0=h0, cell=cell)
    tok = tokenizer.token_text
    tokens = [tok(i) for i in res.ids]
    top = [[(tok(a), float(q)) for a, q in zip(ids, ps, strict=True)] for ids, ps in zip(res.top_ids, res.top_probs, strict=True)]
    text = tokenizer.decode(np.concatenate([prime.ids, res.ids]))
    return Generation(settings=settings, prime=prime, result=res, h0=h0, tokens=tokens, top=top, text=text)


def default_prime(tokenizer, data: np.ndarray) -> str:
    """The first few tokens of the training text, decoded: ~16 characters or 4 words,
    cut at a space so a word is not split (the model then continues mid-sentence)."""
    if tokenizer.level == "word":
        return tokenizer.decode(data[:4]).strip()
    head = tokenizer.decode(data[:24])
    cut = head.rfind(" ", 0, 17)
    return head[:cut + 1] if cut > 0 else head[:16]
