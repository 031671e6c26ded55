"""Setup links (rnnviz.ui.urlstate): parsing is validation, producing then parsing gives the setup back."""

from __future__ import annotations

from urllib.parse import parse_qsl

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from rnnviz.config import MAX_HIDDEN, MAX_SEQ_LEN, TrainConfig
from rnnviz.presets import DEFAULT_CONFIG, DEFAULT_SAMPLE, PRESETS, PRESETS_BY_KEY
from rnnviz.samples import SAMPLES, read_sample
from rnnviz.trainer import Trainer
from rnnviz.ui import urlstate as u


def test_the_issue_example_takes_the_preset_and_changes_one_setting():
    link = u.parse({"preset": "exploding", "step": "100", "lr": "0.03"})
    p = PRESETS_BY_KEY["exploding"]
    assert link.preset == "exploding" and link.sample == p.sample and link.step == 100
    assert link.config == p.config.with_changes(lr=0.03) and link.messages == []
    assert link.is_preset == (p.config.lr == 0.03)   # a preset unchanged by the link


def test_every_field_by_its_own_name():
    link = u.parse({"sample": "short_poem", "hidden_size": "64", "cell": "rnn", "truncate": "4", "clip": "norm",
                    "lr_halving": "true", "spectral_radius": "1.5", "seed": "7", "val_every": "10", "lr": "3e-3"})
    assert link.messages == [] and link.preset is None and link.sample == "short_poem"
    assert link.config == DEFAULT_CONFIG.with_changes(hidden_size=64, cell="rnn", truncate=4, clip="norm",
                                                      lr_halving=True, spectral_radius=1.5, seed=7, val_every=10,
                                                      lr=0.003)


@pytest.mark.parametrize("params, field", [
    ({"hidden_size": "100000"}, "hidden_size"), ({"hidden_size": "-3"}, "hidden_size"),
    ({"hidden_size": "2.5"}, "hidden_size"), ({"seq_len": str(MAX_SEQ_LEN + 1)}, "seq_len"),
    ({"lr": "nan"}, "lr"), ({"lr": "inf"}, "lr"), ({"lr": "1e9"}, "lr"), ({"cell": "transformer"}, "cell"),
    ({"optimizer": "<script>"}, "optimizer"), ({"lr_halving": "maybe"}, "lr_halving"),
    ({"seed": "9" * 5000}, "seed"), ({"max_vocab": "1e100"}, "max_vocab"), ({"val_fraction": "0.99"}, "val_fraction"),
])
def test_a_bad_value_gets_a_message_and_the_default(params, field):
    link = u.parse(params)
    assert getattr(link.config, field) == getattr(DEFAULT_CONFIG, field)
    assert len(link.messages) == 1 and field in link.messages[0]
    assert "<script>" not in link.messages[0]   # user text is escaped for markdown


def test_unknown_preset_sample_step_and_names_get_messages():
    link = u.parse({"preset": "nope", "sample": "../../etc/passwd", "step": "ten", "colour": "red", "s": "x",
                    "present": "1", "embed": "true"})
    assert link.preset is None and link.sample == DEFAULT_SAMPLE and link.config == DEFAULT_CONFIG and link.step == 0
    text = " ".join(link.messages)
    assert len(link.messages) == 4 and "nope" in text and "passwd" in text and "ten" in text and "colour" in text


def test_the_step_is_bounded():
    assert u.parse({"step": str(10**12)}).step == u.MAX_LINK_STEPS
    assert u.parse({"step": "-1"}).step == 0


def test_setup_params_round_trip_for_every_preset_and_changed_settings():
    for p in PRESETS:
        q = u.setup_params(p.key, p.sample, p.config, 42)
        assert q == {"preset": p.key, "step": "42"}
        back = u.parse(q)
        assert (back.preset, back.sample, back.config, back.step, back.messages) == (p.key, p.sample, p.config, 42, [])
    cfg = DEFAULT_CONFIG.with_changes(lr=0.0301, truncate=None, spectral_radius=0.7, hidden_size=33, lr_halving=True)
    query = u.setup_query(None, "counting", cfg, 7, present=True)
    params = dict(parse_qsl(query[1:], keep_blank_values=True))
    assert params["present"] == "1"
    back = u.parse(params)
    assert (back.sample, back.config, back.step, back.messages) == ("counting", cfg, 7, [])


@settings(max_examples=150, deadline=None)
@given(st.dictionaries(st.sampled_from(sorted(u.SETUP_PARAMS | {"junk", "s"})), st.text(max_size=60), max_size=8))
def test_any_query_parses_to_a_valid_bounded_setup(params):
    link = u.parse(params)
    link.config.validate()
    assert link.config.hidden_size <= MAX_HIDDEN and link.config.seq_len <= MAX_SEQ_LEN
    assert 0 <= link.step <= u.MAX_LINK_STEPS and link.sample in SAMPLES


def test_same_link_same_run_bit_for_bit():
    """Opening a link reproduces the run: the trainer it describes, trained to its step, has the same θ."""
    cfg = PRESETS_BY_KEY["clipping"].config.with_changes(hidden_size=16, seq_len=12)
    a = Trainer(read_sample("english_prose"), cfg)
    a.step(30)
    link = u.parse(u.setup_params("clipping", "english_prose", cfg, a.step_count))
    b = Trainer(read_sample(link.sample), link.config)
    b.step(link.step)
    assert np.asarray(a.state.theta).tobytes() == np.asarray(b.state.theta).tobytes()
    assert isinstance(link.config, TrainConfig)
