"""A chapter run through the engine alone: build its model, start its twin run or race, do its action.

The lesson page does the same through the session (so that labels, the CPU budget and autosave apply); tests
and benchmarks use these directly. ``seed`` replaces the set-up's seed (another seed stands in for another
machine, DESIGN.md, Tests)."""

from __future__ import annotations

from rnnviz.config import TrainConfig
from rnnviz.lesson.core import Action, LessonContext, Setup
from rnnviz.presets import PRESETS_BY_KEY
from rnnviz.race import Race
from rnnviz.samples import read_sample
from rnnviz.trainer import Trainer
from rnnviz.twin import TwinRun


def setup_source(setup: Setup) -> tuple[str, TrainConfig, str]:
    """(sample name, config, label) the set-up trains on."""
    if setup.preset is not None:
        p = PRESETS_BY_KEY[setup.preset]
        return p.sample, p.config, p.title
    if setup.sample is not None:
        return setup.sample, setup.config or TrainConfig(), setup.sample
    raise ValueError("this set-up builds no model of its own (a race uses the session's model as it is)")


def start(setup: Setup, seed: int | None = None, trainer: Trainer | None = None) -> LessonContext:
    """The chapter's context: a fresh trainer trained setup.steps steps (or the given one, for a race set-up),
    plus its twin run or race."""
    if setup.race:
        race = Race.lecture(0 if seed is None else seed)
        return LessonContext(trainer=trainer or next(iter(race.racers.values())).trainer, race=race)
    sample, config, _ = setup_source(setup)
    tr = Trainer(read_sample(sample), config if seed is None else config.with_changes(seed=seed))
    if setup.steps:
        tr.step(setup.steps)
    twin = TwinRun.start(tr, setup.twin) if setup.twin else None
    return LessonContext(trainer=tr, twin=twin)


def act(action: Action, ctx: LessonContext, n: int | None = None) -> int:
    """Do the action (n units, default action.n); returns how many were done."""
    n = action.n if n is None else n
    if action.kind == "train":
        before = ctx.trainer.step_count
        ctx.trainer.step(n)
        return ctx.trainer.step_count - before
    if action.kind == "twin":
        ctx.twin.step(n)
        return n
    if action.kind == "race":
        return ctx.race.step(n)
    if action.kind == "look":
        return 0
    raise ValueError(f"unknown action kind {action.kind!r}")
