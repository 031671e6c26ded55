"""Tokenizers: round trips on arbitrary Unicode, the word vocabulary cap, sentence tokens, and
the messages ``tokenize_corpus`` gives for texts that cannot be trained on."""

from __future__ import annotations

from collections import Counter

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from rnnviz.tokenize import BOS, EOS, UNK, CharTokenizer, WordTokenizer, make_tokenizer, tokenize_corpus

# Pieces that tend to break text handling: emoji (with ZWJ, skin tone, flags), combining marks,
# right-to-left text and overrides, NUL and other control characters, odd whitespace, quotes.
PIECES = [
    "\x00", "\x01", "\x1f", "\x7f", "\t", "\r\n", "\n", "\u00a0", "\u2028", "\u200b", "\ufeff",
    "e\u0301", "\u0301", "\u0327", "a\u20dd", "👩\u200d👩\u200d👧", "👍🏽", "🇫🇷", "😀",
    "שלום", "مرحبا", "\u202e", "\u200f", "İ", "ß", "ǅ", "Σ", "ﬁ",
    "don't", "rock’n’roll", "-", "--", "'", "\"", "“", "”", "(", ")", "...", "…", ".", "!", "?", "%",
    "word", "Word", "x1", "_", " ", "  ", "<unk>", "<s>", "</s>",
]
texts = st.one_of(
    st.text(max_size=60),
    st.lists(st.one_of(st.sampled_from(PIECES), st.characters()), max_size=40).map("".join),
)


@settings(max_examples=300, deadline=None)
@given(texts)
def test_char_round_trip(text):
    tok = CharTokenizer(text)
    ids = tok.encode(text)
    assert ids.shape == (len(text),)
    assert tok.decode(ids) == text
    assert tok.vocab_size == len(set(text))
    if ids.size:
        assert ids.min() >= 0 and ids.max() < tok.vocab_size
    assert tok.decode(list(range(tok.vocab_size))) == "".join(sorted(set(text)))


@settings(max_examples=300, deadline=None)
@given(texts, st.booleans(), st.booleans())
def test_word_encode_decode_encode_is_identity(text, sentence_tokens, lowercase):
    tok = WordTokenizer(text, sentence_tokens=sentence_tokens, lowercase=lowercase)
    ids = tok.encode(text)
    assert UNK not in [tok.vocab[i] for i in ids]  # no cap reached: every token is known
    again = tok.encode(tok.decode(ids))
    assert again.tolist() == ids.tolist(), (tok.decode(ids), [tok.vocab[i] for i in ids])


def test_word_split_hand_checked():
    tok = WordTokenizer("x")
    assert tok.split("Don't stop-now, (ok)?\nYes…") == [
        "don't", "stop-now", ",", "(", "ok", ")", "?", "\n", "yes", "…"]
    assert tok.split("😀a") == ["😀", "a"]
    cased = WordTokenizer("x", lowercase=False)
    assert cased.split("Hello World") == ["Hello", "World"]


def test_word_decode_spacing_hand_checked():
    text = "Hello, world! (A test.)\nNext line - well-known; 50 %"
    tok = WordTokenizer(text)
    assert tok.decode(tok.encode(text)) == "hello, world! (a test.)\nnext line - well-known; 50%"


def test_char_unknown_characters():
    tok = CharTokenizer("abc")
    with pytest.raises(ValueError, match="'z'"):
        tok.encode("abz")
    assert tok.encode("azbz", on_unknown="skip").tolist() == [0, 1]
    with pytest.raises(ValueError):
        tok.encode("a", on_unknown="ignore")


def test_vocabulary_cap_keeps_most_frequent_with_unk():
    # counts: b 4, a 3, c 2, d 1, e 1 ; ties broken by first appearance.
    text = "b a b c b a d c a b e"
    tok = WordTokenizer(text, max_vocab=3)
    assert tok.vocab == [UNK, "b", "a"]
    assert tok.truncated
    ids = tok.encode(text)
    assert [tok.vocab[i] for i in ids] == ["b", "a", "b", UNK, "b", "a", UNK, UNK, "a", "b", UNK]
    assert tok.encode("c d zzz").tolist() == [tok.unk_id] * 3
    assert tok.encode("c d", on_unknown="skip").tolist() == []
    with pytest.raises(ValueError, match="not in the vocabulary"):
        tok.encode("zzz", on_unknown="error")
    # Ties: y comes first in the text, so it ranks before x.
    assert WordTokenizer("y x x y z", max_vocab=3).vocab == [UNK, "y", "x"]
    with pytest.raises(ValueError):
        WordTokenizer(text, max_vocab=2)


@settings(max_examples=100, deadline=None)
@given(st.lists(st.sampled_from("abcdefghij"), min_size=1, max_size=40).map(" ".join), st.integers(3, 12))
def test_vocabulary_cap_property(text, cap):
    tok = WordTokenizer(text, max_vocab=cap)
    words = text.split()
    counts = Counter(words)
    order = sorted(counts, key=lambda w: (-counts[w], words.index(w)))
    assert tok.vocab == [UNK] + order[: cap - 1]
    assert tok.vocab_size == min(cap, len(counts) + 1)
    assert tok.truncated == (len(counts) > cap - 1)
    kept = set(order[: cap - 1])
    assert [tok.vocab[i] for i in tok.encode(text)] == [w if w in kept else UNK for w in words]


def test_sentence_tokens():
    text = "Hello there. How are you? Fine"
    tok = WordTokenizer(text, sentence_tokens=True)
    assert tok.vocab[:3] == [UNK, BOS, EOS]
    assert [tok.vocab[i] for i in tok.encode(text)] == [
        BOS, "hello", "there", ".", EOS, BOS, "how", "are", "you", "?", EOS, BOS, "fine", EOS]
    assert tok.decode(tok.encode(text)) == "hello there. how are you? fine"
    # Literal "<s>" in a text is punctuation plus a word, never the special token.
    assert BOS not in WordTokenizer("<s> hi").split("<s> hi")


def test_make_tokenizer_levels():
    assert isinstance(make_tokenizer("ab", "char"), CharTokenizer)
    assert isinstance(make_tokenizer("a b", "word"), WordTokenizer)
    with pytest.raises(ValueError, match="char"):
        make_tokenizer("ab", "byte")


def test_tokenize_corpus_ok():
    tok, ids = tokenize_corpus("abcab", "char", 4)
    assert tok.decode(ids) == "abcab"
    assert isinstance(ids, np.ndarray) and ids.size == 5


@pytest.mark.parametrize(
    "text,level,T,words",
    [
        ("", "char", 3, ["empty", "paste"]),
        ("", "word", 3, ["empty"]),
        ("   \n\t  ", "char", 3, ["empty"]),
        ("   \n\t  ", "word", 3, ["empty"]),
        ("aaaaaaaaaa", "char", 3, ["1 distinct character", "more varied"]),
        ("the the the the the", "word", 3, ["1 distinct word", "more varied"]),
        ("abcab", "char", 5, ["5 tokens", "T=5", "needs 6", "lower the window length"]),
        ("one two three", "word", 5, ["3 tokens", "T=5", "paste more text"]),
    ],
)
def test_tokenize_corpus_errors_say_what_to_change(text, level, T, words):
    with pytest.raises(ValueError) as e:
        tokenize_corpus(text, level, T)
    for w in words:
        assert w in str(e.value)


# ----------------------------------------------------------------------------- size limits (issue #13)
def test_a_text_with_too_many_distinct_characters_is_refused_before_any_id_is_made(monkeypatch):
    from rnnviz import tokenize as tk
    from rnnviz.config import MAX_CHAR_VOCAB

    text = "".join(chr(0x4E00 + i) for i in range(MAX_CHAR_VOCAB + 1))
    monkeypatch.setattr(tk, "_encode", lambda *a: pytest.fail("encoded a text whose vocabulary is too big"))
    with pytest.raises(ValueError, match=f"{MAX_CHAR_VOCAB + 1:,} distinct characters.*limit is {MAX_CHAR_VOCAB:,}"):
        tk.tokenize_corpus(text, "char", 5)
    assert tk.CharTokenizer(text[:-1]).vocab_size == MAX_CHAR_VOCAB     # the limit itself is allowed


def test_v_times_h_is_bounded_before_the_trainer_allocates_weights(monkeypatch):
    from rnnviz import trainer as trainer_mod
    from rnnviz.config import MAX_HIDDEN, MAX_VH, TrainConfig

    V = MAX_VH // MAX_HIDDEN + 2                           # <unk> and V − 1 words
    text = " ".join(f"w{i}" for i in range(V - 1))
    monkeypatch.setattr(trainer_mod, "init_params", lambda *a, **k: pytest.fail("allocated weights"))
    with pytest.raises(ValueError, match=r"lower the hidden size to \d+ or less"):
        trainer_mod.Trainer(text, TrainConfig(level="word", hidden_size=MAX_HIDDEN, seq_len=5, max_vocab=V))


def test_word_vocabulary_times_h_is_bounded():
    from rnnviz.config import MAX_VH
    from rnnviz.tokenize import tokenize_corpus

    text = " ".join(f"w{i}" for i in range(2000))
    H = MAX_VH // 1000
    tokenize_corpus(text, "word", 5, H, max_vocab=1000)                  # V·H = MAX_VH: allowed
    with pytest.raises(ValueError, match="V·H"):
        tokenize_corpus(text, "word", 5, H, max_vocab=1001)


def test_a_text_longer_than_the_paste_limit_is_refused_whatever_its_source():
    from rnnviz.config import MAX_TEXT_CHARS
    from rnnviz.tokenize import tokenize_corpus

    with pytest.raises(ValueError, match=f"limit is {MAX_TEXT_CHARS:,}"):
        tokenize_corpus("ab" * (MAX_TEXT_CHARS // 2 + 1), "char", 5)
