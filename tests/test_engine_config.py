"""TrainConfig validation: absurd values raise ValueError with a message saying what to change."""

from __future__ import annotations

import pytest

from rnnviz import LIVE_FIELDS, TrainConfig, Trainer
from rnnviz.config import needs_reset

TEXT = "abcdefghij" * 10


@pytest.mark.parametrize(
    "changes,words",
    [
        ({"hidden_size": 0}, ["hidden size", "1 to 512", "got 0"]),
        ({"hidden_size": 10**6}, ["hidden size", "1 to 512", "got 1000000"]),
        ({"hidden_size": 2.5}, ["hidden size", "whole number"]),
        ({"hidden_size": True}, ["hidden size"]),
        ({"seq_len": 0}, ["window length T", "got 0"]),
        ({"seq_len": 10**4}, ["window length T"]),
        ({"lr": float("nan")}, ["learning rate", "got nan"]),
        ({"lr": -1.0}, ["learning rate", "got -1"]),
        ({"lr": float("inf")}, ["learning rate"]),
        ({"lr": 1e4}, ["learning rate", "between 0 and 1000"]),
        ({"clip_value": 0.0}, ["clipping threshold", "> 0", "got 0"]),
        ({"clip_value": -3.0}, ["clipping threshold"]),
        ({"clip_value": float("nan")}, ["clipping threshold"]),
        ({"truncate": -1}, ["truncation k", "≥ 0", "got -1"]),
        ({"truncate": 1.5}, ["truncation k"]),
        ({"level": "byte"}, ["'char' or 'word'"]),
        ({"optimizer": "lbfgs"}, ["optimizer", "adam"]),
        ({"clip": "max"}, ["clipping must be one of", "norm"]),
        ({"halve_every": 0}, ["halve_every"]),
        ({"init": "zeros"}, ["initialisation", "orthogonal"]),
        ({"spectral_radius": 0.0}, ["spectral radius"]),
        ({"spectral_radius": 50.0}, ["spectral radius"]),
        ({"seed": -1}, ["seed"]),
        ({"seed": 2**32}, ["seed"]),
        ({"max_vocab": 2}, ["vocabulary cap"]),
        ({"cell": "lstm9"}, ["cell", "rnn"]),
    ],
)
def test_absurd_values_raise_with_a_useful_message(changes, words):
    cfg = TrainConfig(**changes)
    for attempt in (cfg.validate, lambda: TrainConfig().with_changes(**changes), lambda: Trainer(TEXT, cfg)):
        with pytest.raises(ValueError) as e:
            attempt()
        for w in words:
            assert w in str(e.value), str(e.value)


def test_reconfigure_validates():
    tr = Trainer(TEXT, TrainConfig(hidden_size=4, seq_len=5))
    with pytest.raises(ValueError, match="learning rate"):
        tr.reconfigure(TrainConfig(hidden_size=4, seq_len=5, lr=-1.0))
    assert tr.config.lr == 0.1 and tr.step_count == 0


@pytest.mark.parametrize(
    "changes",
    [{}, {"hidden_size": 1}, {"hidden_size": 512}, {"seq_len": 1}, {"seq_len": 200}, {"lr": 0.0}, {"lr": 1000.0},
     {"truncate": 0}, {"truncate": 500}, {"spectral_radius": 10.0}, {"max_vocab": 3}, {"clip_value": 1e-9}],
)
def test_boundary_values_are_accepted(changes):
    cfg = TrainConfig(**changes)
    assert cfg.validate() is cfg


def test_effective_truncate():
    assert TrainConfig(seq_len=10, truncate=None).effective_truncate is None
    assert TrainConfig(seq_len=10, truncate=9).effective_truncate is None  # k ≥ T − 1 cuts nothing
    assert TrainConfig(seq_len=10, truncate=8).effective_truncate == 8
    assert TrainConfig(seq_len=10, truncate=0).effective_truncate == 0


def test_dict_round_trip_and_unknown_keys():
    cfg = TrainConfig(level="word", hidden_size=7, truncate=3, spectral_radius=1.5)
    assert TrainConfig.from_dict(cfg.to_dict()) == cfg
    with pytest.raises(ValueError, match="unknown settings: bogus"):
        TrainConfig.from_dict({**cfg.to_dict(), "bogus": 1})


def test_live_fields_need_no_reset_and_others_do():
    base = TrainConfig()
    for f in LIVE_FIELDS:
        value = {"lr": 0.5, "clip": "norm", "clip_value": 1.0, "truncate": 3, "lr_halving": True, "halve_every": 7,
                 "val_every": 25}[f]
        assert needs_reset(base, base.with_changes(**{f: value})) == []
    assert needs_reset(base, base.with_changes(hidden_size=8, seed=2)) == ["hidden_size", "seed"]


@pytest.mark.parametrize("field, bad", [("forget_bias", 11.0), ("forget_bias", float("nan")), ("adam_beta2", 1.0),
                                        ("adam_beta2", 0.2), ("adam_beta2", float("inf"))])
def test_the_gate_and_adam_settings_are_bounded(field, bad):
    with pytest.raises(ValueError):
        TrainConfig(**{field: bad}).validate()
    assert TrainConfig(forget_bias=3.0, adam_beta2=0.99).validate()
