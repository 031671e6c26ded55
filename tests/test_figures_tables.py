"""The headline charts' numbers as tables, and the samples' colours in words (for screen readers, the
keyboard, and anyone who wants the exact value): rnnviz.figures.tables and tokens.least_sure."""

from __future__ import annotations

import numpy as np

from rnnviz.figures.tables import loss_table, reach_table, scores_table
from rnnviz.figures.tokens import least_sure, prob_colour, sample_html, window_html


def test_loss_table_has_a_row_per_step_and_the_held_out_loss_where_measured():
    df = loss_table([1, 2, 3, 4], [4.0, 3.5, 3.0, 2.5], [4.0, 3.75, 3.5, 3.25], [(2, 3.9), (4, 3.1)], "mean of 5")
    assert list(df.columns) == ["step", "loss per token (nats)", "mean of 5", "held-out loss"]
    assert df["step"].tolist() == [1, 2, 3, 4] and df["loss per token (nats)"].tolist() == [4.0, 3.5, 3.0, 2.5]
    held = df["held-out loss"].tolist()
    assert np.isnan(held[0]) and held[1] == 3.9 and np.isnan(held[2]) and held[3] == 3.1
    assert "held-out loss" not in loss_table([1], [4.0], [4.0]).columns   # nothing measured: no empty column


def test_reach_table_reads_d_from_zero():
    df = reach_table([1.0, 0.5, 0.25], [3, 2, 1])
    assert df["d (steps back)"].tolist() == [0, 1, 2]
    assert df["fraction left"].tolist() == [1.0, 0.5, 0.25] and df["loss terms averaged"].tolist() == [3, 2, 1]


def test_scores_table_aligns_the_racers_on_their_evaluation_steps():
    df = scores_table({"RNN": ([100, 200], [0.25, 0.3]), "GRU": ([100, 200, 300], [0.3, 0.7, 1.0])})
    assert df["race step"].tolist() == [100, 200, 300]
    assert df["GRU: right closing marker"].tolist() == [0.3, 0.7, 1.0]
    rnn = df["RNN: right closing marker"].tolist()
    assert rnn[:2] == [0.25, 0.3] and np.isnan(rnn[2])


def test_least_sure_names_the_lowest_probabilities_in_text_order():
    words = least_sure(["a", "b", " ", "c", "d"], [0.9, 0.05, 0.5, 0.01, np.nan], n=2)
    assert "Mean p over the 4 tokens written: 0.37; least sure: " in words
    assert words.endswith("'b' (0.05, token 2), 'c' (0.01, token 4).")
    assert least_sure([], []) == "" and least_sure(["x"], [np.nan]) == ""


def test_token_text_keeps_4_5_to_1_on_its_background_and_the_number_is_printed():
    strip = window_html(["a", "b"], ["b", "c"], [0.001, 0.999], ["b", "x"])
    assert "color:#000000" in strip and "color:#ffffff" in strip   # black on the palest box, white on the darkest
    assert ">0.00<" in strip and ">1.00<" in strip                  # p printed in each box, not in colour alone
    assert 'aria-hidden="true">↓' in strip                           # a screen reader does not read out the arrows
    sample = sample_html("", ["q", "u"], [0.02, 0.97])
    assert sample.count('style="background:') == 2 and f"background:{prob_colour(0.97)};color:#ffffff" in sample
