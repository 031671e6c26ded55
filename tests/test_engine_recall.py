"""The right-closing-marker score (rnnviz.recall): which positions count, and that it scores argmax
over the markers exactly (checked against a model whose prediction the test controls)."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np

from rnnviz.config import TrainConfig
from rnnviz.params import init_params
from rnnviz.recall import closing_positions, marker_ids, recall_score, trainer_recall
from rnnviz.tokenize import CharTokenizer
from rnnviz.trainer import Trainer

TEXT = (Path(__file__).resolve().parent.parent / "sample_texts" / "recall_first_char.txt").read_text()


def test_closing_positions_are_the_second_marker_of_each_line():
    text = "A...A\nC..C\nB.B\n"
    tok = CharTokenizer(text)
    ids = tok.encode(text)
    pos = closing_positions(ids, marker_ids(tok), tok.vocab.index("\n"))
    # targets at pos + 1 are the closing markers: indices 4, 9, 13 of the text
    assert (pos + 1).tolist() == [4, 9, 13]
    assert [text[p + 1] for p in pos] == ["A", "C", "B"]


def test_the_sample_text_has_one_closing_marker_per_line():
    tok = CharTokenizer(TEXT)
    ids = tok.encode(TEXT)
    pos = closing_positions(ids, marker_ids(tok), tok.vocab.index("\n"))
    lines = [ln for ln in TEXT.split("\n") if ln]
    assert pos.size == len(lines)
    assert all(TEXT[p + 1] == TEXT[TEXT.rfind("\n", 0, p) + 1] for p in pos)   # the line's first character


def test_score_is_argmax_over_markers_of_a_model_that_always_says_one_marker():
    tok = CharTokenizer(TEXT)
    ids = tok.encode(TEXT)
    markers = marker_ids(tok)
    p = init_params(tok.vocab_size, 8, cell="gru", seed=3)
    p["V"][:] = 0.0
    p["c"][:] = 0.0
    p["c"][markers[2]] = 5.0            # "C" wins among the markers whatever h is
    p["c"][tok.vocab.index(".")] = 9.0  # a non-marker that is more likely must not count
    s = recall_score(p, "gru", ids, markers, tok.vocab.index("\n"), max_tokens=800)
    pos = closing_positions(ids[:801], markers, tok.vocab.index("\n"))
    assert s.n == pos.size > 0
    assert s.correct == int(np.sum(ids[pos + 1] == markers[2]))
    assert s.chance == 0.25 and math.isclose(s.accuracy, s.correct / s.n)


def test_trainer_recall_is_bounded_and_nan_without_markers():
    tr = Trainer(TEXT, TrainConfig(hidden_size=8, seq_len=20, cell="lstm"))
    small, large = trainer_recall(tr, 300), trainer_recall(tr, 3000)
    assert 0 < small.n < large.n
    word = Trainer("the cat sat on the mat . " * 10, TrainConfig(level="word", hidden_size=4, seq_len=5))
    s = trainer_recall(word)
    assert s.n == 0 and math.isnan(s.accuracy)
