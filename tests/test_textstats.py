"""The sample caption's "what to watch for" is written from the text itself: it names only what the text has."""

from __future__ import annotations

import pytest

from rnnviz import TrainConfig, Trainer
from rnnviz.figures.textstats import what_to_watch
from rnnviz.samples import SAMPLES, read_sample


@pytest.mark.parametrize("name", list(SAMPLES))
def test_it_names_only_what_the_text_has(name):
    level = "word" if name.startswith("word") else "char"
    tr = Trainer(read_sample(name), TrainConfig(level=level, hidden_size=8, seq_len=10))
    text = what_to_watch(tr.tokenizer.vocab, tr.data, level)
    chars = set(tr.text)
    assert text.startswith("Early on it is noise")
    if level == "char":
        assert ("whole words" in text) == (" " in chars and sum(c.isalpha() for c in chars) >= 10)
        assert ("digits" in text) == any(c.isdigit() for c in chars)
        assert ("line breaks" in text) == ("\n" in chars)


def test_the_recall_text_is_not_promised_words_or_punctuation():
    tr = Trainer(read_sample("recall_first_char"), TrainConfig(hidden_size=8, seq_len=10))
    text = what_to_watch(tr.tokenizer.vocab, tr.data)
    assert "words" not in text and "punctuation" not in text and "'.'" in text
