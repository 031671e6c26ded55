"""The lesson's building blocks: a chapter is data (text, set-up, question, the action, what to measure),
and its answer is computed from the student's own run, never written in advance (DESIGN.md, "The lesson").

    Setup     what "Set it up" puts the student's session into: a preset, or a sample with settings,
              and how many steps to train first; or a twin run / the race the chapter needs
    Question  a prediction to commit to before the action: a prompt and 3-4 choices, each a band of values
    Action    the chapter's key action (Step ×20, the backward pass, Step both ×100, Race ×N)
    Measure   what the action showed, measured on the session: the value, which band it fell in, and one
              sentence of why with the run's own numbers
    Chapter   all of it, plus the chapter's text, its charts (names the page draws from the shared specs)
              and the page to open for more

No Streamlit here: every chapter can be set up, answered and measured in a test.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field

from rnnviz.config import TrainConfig


@dataclass(frozen=True)
class Setup:
    """What "Set it up" does. preset: a key of rnnviz.presets.PRESETS; or sample + config; steps: trained
    afterwards (through the session's CPU budget); twin: a twin-run setting (rnnviz.twin) started from the
    set-up model's fresh weights; race: start the lecture's race afresh (rnnviz.race.Race.lecture)."""

    describe: str
    preset: str | None = None
    sample: str | None = None
    config: TrainConfig | None = None
    steps: int = 0
    twin: str | None = None
    race: bool = False


@dataclass(frozen=True)
class Action:
    """The key action, done after the prediction. kind: "train" (n steps of the session's model), "twin"
    (n steps of both twins), "race" (n race steps), "look" (nothing trained: measure the model as it is)."""

    label: str
    kind: str
    n: int = 0
    help: str = ""


@dataclass(frozen=True)
class Measure:
    """What the run showed. value: the number the question asks about; shown: it in words ("3.98 nats per
    token"); band: the index of the choice it falls in; why: one or two sentences, every number from the run;
    numbers: the other values the sentence uses, by name (tests compare them with the engine's)."""

    value: float
    shown: str
    band: int
    why: str
    numbers: dict = field(default_factory=dict)


@dataclass(frozen=True)
class Question:
    """prompt and choices may depend on the run (e.g. ln V of the student's text): functions of the context
    returning text. measure: (LessonContext) -> Measure, called right after the action; its band is the index of
    the right choice. ordinal: the choices are bands of one number in order (then "one choice away" means
    something); False for choices that are kinds, not amounts."""

    prompt: Callable
    choices: Callable
    measure: Callable
    ordinal: bool = True


@dataclass(frozen=True)
class Chapter:
    key: str
    title: str
    text: str              # ≤ ~150 words, markdown, in DESIGN.md's notation
    setup: Setup
    question: Question
    action: Action
    charts: tuple[str, ...]   # chart names the lesson page knows how to draw (from the other pages' specs)
    page: tuple[str, str]     # (page file, label) of the full page for more
    after: str = ""           # what to try once the reveal is read (optional)
    more: Action | None = None   # a follow-up action offered with ``after`` (no prediction: training only)


@dataclass
class LessonContext:
    """What a chapter's functions may read: the session's trainer, and the twin run or race the set-up made."""

    trainer: object
    twin: object | None = None
    race: object | None = None


def band(value: float, edges: tuple[float, ...]) -> int:
    """The index of the band value falls in, for increasing edges e_0 < e_1 < …: band 0 is below e_0,
    band i is [e_{i−1}, e_i), the last is e_{-1} and above. NaN falls in no band: -1."""
    if not math.isfinite(value) and not math.isinf(value):
        return -1
    return sum(value >= e for e in edges)


def nearest(value: float, anchors: tuple[float, ...], log: bool = False) -> int:
    """The index of the anchor closest to value (on a log scale if log; anchors must then be > 0)."""
    if not math.isfinite(value):
        return -1
    key = (lambda a: abs(math.log(max(value, 1e-300)) - math.log(a))) if log else (lambda a: abs(value - a))
    return min(range(len(anchors)), key=lambda i: key(anchors[i]))


def pct(x: float) -> str:
    """A fraction as students read it: 45%, 0.8%, 0.0047%, or a power of ten when tinier."""
    if not math.isfinite(x):
        return "not a finite number"
    if x >= 0.1:
        return f"{x:.0%}"
    if x >= 1e-4:
        return f"{100 * x:.2g}%"
    return f"{x:.1e}".replace("e-0", "e-").replace("e-", " × 10^-")
