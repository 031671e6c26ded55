"""The exit ticket: questions answered from memory at the lesson's end (retrieval practice: Roediger & Karpicke
2006), each with its explanation afterwards, and the score. Where the student's own run measured the point, the
explanation quotes it (``explain(reveals)``: reveals are the chapters' stored measures, by chapter key)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True)
class TicketQuestion:
    prompt: str
    choices: tuple[str, ...]
    answer: int
    explain: Callable[[dict], str]   # (reveals by chapter key) -> the explanation, with the run's numbers if any


def _yours(reveals: dict, key: str, prefix: str) -> str:
    r = reveals.get(key)
    return f" {prefix} {r['shown']}." if r else ""


TICKET: tuple[TicketQuestion, ...] = (
    TicketQuestion(
        "What loss per token does a model that knows nothing score, on a text of V distinct tokens?",
        ("0", "1 nat", "ln V", "V"), 2,
        lambda rv: "It gives each token probability about 1/V, and −log(1/V) = ln V: the dashed line ln V on every loss chart."
                   + _yours(rv, "window", "Your first window:")),
    TicketQuestion(
        "Over one window, the gradient dW of the recurrent matrix is…",
        ("the last step's outer product δ_T h_(T−1)ᵀ", "a sum of one outer product δ_t h_(t−1)ᵀ per step",
         "the product of the steps' Jacobians", "an average over the windows seen so far"), 1,
        lambda rv: "The same W is used at every step, so its gradient adds one term per step."
                   + _yours(rv, "bptt", "In your window the last step's term was")),
    TicketQuestion(
        "Which of the two gradients shows vanishing?",
        ("the total ‖∂L/∂h_t‖ of all loss terms", "the reach ‖∂L_t/∂h_k‖ of one loss term", "both", "neither"), 1,
        lambda rv: "Every step adds its own loss term to the total, so it stays level; one term's gradient shrinks with "
                   "each step back." + _yours(rv, "two", "In your run the total's first step was")),
    TicketQuestion(
        "Gradient clipping with threshold c fires when ‖g‖ > c. After it, the gradient's norm is…",
        ("exactly c, in the same direction", "somewhat below c", "unchanged: only the largest entries are cut", "0"), 0,
        lambda rv: "Clipping by norm rescales g by c/‖g‖: same direction, length c (clipping each entry to ±c instead "
                   "is min-char-rnn's variant)." + _yours(rv, "clip", "It fired on")),
    TicketQuestion(
        "Truncated BPTT with k = 4 loses the most gradient when…",
        ("the gradient has vanished within 4 steps anyway", "later tokens depend on tokens more than 4 steps earlier "
         "and the gradient still reaches them", "the learning rate is small", "the window is short"), 1,
        lambda rv: "It drops exactly the terms more than k steps back: they matter only if they still carry gradient."
                   + _yours(rv, "trunc", "On your word-level window it was")),
    TicketQuestion(
        "Going back one step along the LSTM's cell state c, the gradient is multiplied by…",
        ("W and tanh′, as in the vanilla RNN", "the forget gate f_t, and nothing else", "the input gate i_t",
         "the output gate o'_t"), 1,
        lambda rv: "∂c_t/∂c_(t−1) = diag(f_t): where f_t ≈ 1 the gradient passes on whole: the highway."
                   + _yours(rv, "cure", "In your race:")),
)


def score(answers: dict) -> tuple[int, int]:
    """(right, asked) for answers {question index: choice index}; unanswered questions count as asked."""
    right = sum(1 for i, q in enumerate(TICKET) if answers.get(i) == q.answer)
    return right, len(TICKET)
