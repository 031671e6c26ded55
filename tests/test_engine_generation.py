"""rnnviz.generation: reading the prime, settings and their advice, and one Generate click."""

from __future__ import annotations

import math

import numpy as np
import pytest

from rnnviz import Trainer
from rnnviz.config import TrainConfig
from rnnviz.generation import (
    MAX_LENGTH,
    MAX_PRIME_CHARS,
    GenSettings,
    default_prime,
    describe_tokens,
    encode_known,
    generate,
    read_prime,
)
from rnnviz.tokenize import UNK, CharTokenizer, WordTokenizer

TEXT = "the cat sat on the mat. the dog sat on the log.\n" * 4


@pytest.fixture(scope="module")
def trainer():
    tr = Trainer(TEXT, TrainConfig(hidden_size=16, seq_len=10, seed=3))
    tr.step(30)
    return tr


def run(tr, **kw) -> object:
    return generate(tr.params, tr.tokenizer, GenSettings(**kw), int(tr.data[0]), carried_h=tr.h)


# ---------------------------------------------------------------------------- prime
def test_char_prime_drops_unknown_characters_and_names_them():
    tok = CharTokenizer(TEXT)
    p = read_prime(tok, "the Zoo§", first_id=0)
    assert p.text == "the oo"
    assert p.unknown == ("Z", "§") and p.action == "dropped" and not p.fallback
    (kind, msg), = p.notes()
    assert kind == "warning" and "'Z', '§'" in msg and "left out" in msg


def test_word_prime_maps_unknown_words_to_unk():
    tok = WordTokenizer(TEXT)
    p = read_prime(tok, "The zebra sat", first_id=0)
    assert [tok.token_text(i) for i in p.ids] == ["the", UNK, "sat"]
    assert p.unknown == ("zebra",) and p.action == "unk"
    assert UNK in p.notes()[0][1] and "'zebra'" in p.notes()[0][1]


def test_word_prime_does_not_close_an_open_sentence():
    tok = WordTokenizer(TEXT, sentence_tokens=True)
    ids = read_prime(tok, "the cat", first_id=0).ids
    assert [tok.token_text(i) for i in ids] == ["<s>", "the", "cat"]
    ids = read_prime(tok, "the cat sat.", first_id=0).ids   # a finished sentence keeps its </s>
    assert tok.token_text(ids[-1]) == "</s>"


@pytest.mark.parametrize("text,empty", [("", True), ("§¶", False)])
def test_nothing_usable_falls_back_to_the_first_token(text, empty):
    tok = CharTokenizer(TEXT)
    p = read_prime(tok, text, first_id=tok.index["t"])
    assert p.ids.tolist() == [tok.index["t"]] and p.fallback and p.empty_input == empty
    info = [m for k, m in p.notes() if k == "info"]
    assert len(info) == 1 and "first token of the training text, 't'" in info[0]


def test_spaces_are_a_prime_for_characters_but_not_for_words():
    assert read_prime(CharTokenizer(TEXT), "  ", first_id=0).ids.size == 2
    p = read_prime(WordTokenizer(TEXT), "  ", first_id=1)
    assert p.fallback and p.empty_input and p.ids.tolist() == [1]


def test_encode_known_never_raises_and_describe_tokens_is_bounded():
    ids, unknown, action = encode_known(CharTokenizer(TEXT), "\t☃x")
    assert ids.size == 0 and unknown == ("\t", "☃", "x") and action == "dropped"
    assert describe_tokens(["\t", " ", "\n"]) == "'⇥', '␣', '⏎'"
    assert describe_tokens(list("abcdefghijklmnop"), limit=3) == "'a', 'b', 'c' and 13 more"


def test_default_prime_is_a_prefix_of_the_text(trainer):
    p = default_prime(trainer.tokenizer, trainer.data)
    assert TEXT.startswith(p) and 0 < len(p) <= 17 and (p.endswith(" ") or len(p) == 16)


# ---------------------------------------------------------------------------- settings
@pytest.mark.parametrize("kw,match", [
    (dict(temperature=-0.1), "temperature"), (dict(temperature=100.5), "temperature"),
    (dict(temperature=math.nan), "temperature"), (dict(length=0), "length"),
    (dict(length=MAX_LENGTH + 1), "length"), (dict(mode="beam"), "mode"), (dict(mode="top-k", k=0), "k must"),
    (dict(seed=-1), "seed"), (dict(start="warm"), "start"), (dict(prime="x" * (MAX_PRIME_CHARS + 1)), "prime"),
])
def test_bad_settings_say_what_to_change(kw, match):
    with pytest.raises(ValueError, match=match):
        GenSettings(**kw).validate()


def test_advice_for_the_extremes():
    text = lambda **kw: " ".join(m for _, m in GenSettings(**kw).advice(vocab_size=20))  # noqa: E731
    assert "greedy" in text(temperature=0.0)
    assert "gibberish" in text(temperature=100.0) and "Lower τ" in text(temperature=100.0)
    assert "make no difference" in text(mode="greedy", temperature=100.0)
    assert "same as plain sampling" in text(mode="top-k", k=20)
    assert "greedy" in text(mode="top-k", k=1)
    assert GenSettings(temperature=0.8).advice(20) == []
    assert GenSettings(temperature=0.0).greedy and GenSettings(mode="top-k", k=1).greedy


# ---------------------------------------------------------------------------- generate
def test_generate_is_deterministic_and_leaves_the_model_alone(trainer):
    theta, h = trainer.state.theta.copy(), trainer.h.copy()
    a, b = run(trainer, prime="the ", length=50, seed=4), run(trainer, prime="the ", length=50, seed=4)
    assert a.text == b.text and a.n == 50 and len(a.tokens) == 50 and len(a.top) == 50
    assert np.array_equal(trainer.state.theta, theta) and np.array_equal(trainer.h, h)
    assert a.text == trainer.tokenizer.decode(a.all_ids) and a.text.startswith("the ")


def test_temperature_zero_equals_greedy(trainer):
    greedy = run(trainer, prime="the ", length=40, mode="greedy", seed=1).text
    assert run(trainer, prime="the ", length=40, temperature=0.0, seed=2).text == greedy
    assert run(trainer, prime="the ", length=40, mode="top-k", k=1, seed=3).text == greedy


def test_seeds_differ_and_extreme_temperature_stays_finite(trainer):
    texts = {run(trainer, prime="the ", length=60, temperature=1.5, seed=s).text for s in range(3)}
    assert len(texts) == 3
    hot = run(trainer, prime="the ", length=200, temperature=100.0)
    assert np.isfinite(hot.mean_log_p) and hot.perplexity > run(trainer, prime="the ", length=200, mode="greedy").perplexity


def test_scores_are_the_models_probabilities(trainer):
    g = run(trainer, prime="the ", length=30)
    assert g.mean_log_p == pytest.approx(np.mean(np.log(g.result.probs)))
    assert g.perplexity == pytest.approx(math.exp(-g.mean_log_p))
    # The top-5 list of each step starts with its most likely token, probabilities descending.
    for top in g.top:
        ps = [p for _, p in top]
        assert ps == sorted(ps, reverse=True)


def test_memory_choice_changes_the_start_state(trainer):
    assert np.any(trainer.h != 0)
    carried = run(trainer, prime="t", length=5, start="carried")
    blank = run(trainer, prime="t", length=5, start="zero")
    assert np.array_equal(carried.h0, trainer.h) and not np.any(blank.h0)
    assert not np.allclose(carried.result.hs[:, 0], blank.result.hs[:, 0])


def test_top_k_only_draws_the_k_most_likely(trainer):
    g = run(trainer, prime="the ", length=100, mode="top-k", k=2, temperature=5.0)
    for chosen, top in zip(g.tokens, g.top, strict=True):
        assert chosen in {t for t, _ in top[:2]}
