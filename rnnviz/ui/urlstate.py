"""Links that carry a setup: ``?preset=KEY``, ``?sample=STEM``, ``?step=N`` and every TrainConfig field
by its own name (``lr=0.03``, ``hidden_size=64``, ``cell=lstm``, …), e.g. ``?preset=exploding&step=100&lr=0.03``.

Opening such a link builds the model from the preset's (or the default) settings with the given
fields changed, on the preset's (or the named) sample text, and trains it to the step: same seed and
settings ⇒ the same run. Every value is checked like a widget value: one that does not parse or is
out of range gets a message and the default, never a traceback, never a model or a step count
larger than the app allows (the TrainConfig caps; MAX_LINK_STEPS). Pasted and uploaded text cannot
ride in a URL; ``?s=`` (rnnviz.ui.autosave) restores a session on this server instead.

Pure functions (no Streamlit): parse a mapping of query parameters, produce one.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, fields
from urllib.parse import urlencode

from rnnviz.config import TrainConfig
from rnnviz.presets import DEFAULT_CONFIG, DEFAULT_SAMPLE, PRESETS_BY_KEY
from rnnviz.samples import SAMPLES
from rnnviz.ui.safe import md

MAX_LINK_STEPS = 5_000   # ?step= is capped here: replaying is a few seconds at default settings, and stoppable
MAX_VALUE_CHARS = 40     # longer values are refused unread (no number or name of ours is this long)
PRESENT_PARAM = "present"
# Parameters that are not part of the setup and are left alone: the session token, the presentation
# view, Streamlit's own (embedding).
OTHER_PARAMS = frozenset({"s", PRESENT_PARAM, "embed", "embed_options", "lesson"})   # lesson: pages/lesson.py
CONFIG_FIELDS = {f.name: f.type for f in fields(TrainConfig)}
SETUP_PARAMS = frozenset({"preset", "sample", "step", *CONFIG_FIELDS})


@dataclass
class LinkSetup:
    """What a link asks for, already checked: build Trainer(read_sample(sample), config), train to step."""

    preset: str | None      # the preset the settings start from (None: the defaults)
    sample: str
    config: TrainConfig
    step: int
    messages: list[str] = field(default_factory=list)   # markdown-safe: user values are escaped

    @property
    def is_preset(self) -> bool:
        """The link is exactly its preset (text and settings): the preset shows as applied."""
        p = PRESETS_BY_KEY.get(self.preset)
        return p is not None and p.config == self.config and p.sample == self.sample


def has_setup(params) -> bool:
    """Whether the query parameters ask for a setup (any of preset, sample, step or a setting)."""
    return any(k in SETUP_PARAMS for k in params)


def _show(raw: str) -> str:
    """A user's value, short and escaped, for a message."""
    raw = str(raw)
    return md(raw if len(raw) <= MAX_VALUE_CHARS else raw[:MAX_VALUE_CHARS] + "…")


def parse_value(kind: str, raw: str):
    """The value of a field of type ``kind`` (TrainConfig's annotation: "int", "float | None", …) from text.
    Raises ValueError if it does not parse. Optional fields take none/off/empty as None."""
    raw = str(raw).strip()
    if len(raw) > MAX_VALUE_CHARS:
        raise ValueError("too long")
    base = kind.replace("| None", "").strip()
    if kind != base and raw.lower() in ("", "none", "off"):
        return None
    if base == "bool":
        low = raw.lower()
        if low in ("1", "true", "on", "yes"):
            return True
        if low in ("0", "false", "off", "no"):
            return False
        raise ValueError("not true or false")
    if base == "int":
        x = float(raw) if any(c in raw for c in ".eE") else int(raw)
        if isinstance(x, float):
            if not (math.isfinite(x) and x == int(x)):
                raise ValueError("not a whole number")
            x = int(x)
        return x
    if base == "float":
        x = float(raw)
        if not math.isfinite(x):
            raise ValueError("not a finite number")
        return x
    if base == "str":
        return raw
    raise ValueError(f"a setting of type {kind} cannot come from a link")


def parse(params) -> LinkSetup:
    """Check the query parameters (a mapping name → str; lists use their last value) of a setup link."""
    def get(name):
        v = params.get(name)
        return v[-1] if isinstance(v, list) else v

    msgs: list[str] = []
    preset = get("preset")
    base, sample = DEFAULT_CONFIG, DEFAULT_SAMPLE
    if preset is not None:
        if preset in PRESETS_BY_KEY:
            base, sample = PRESETS_BY_KEY[preset].config, PRESETS_BY_KEY[preset].sample
        else:
            msgs.append(f"The link's preset “{_show(preset)}” is not one of {', '.join(PRESETS_BY_KEY)}: "
                        "the default settings are used.")
            preset = None
    name = get("sample")
    if name is not None:
        if name in SAMPLES:
            sample = name
        else:
            msgs.append(f"The link's sample text “{_show(name)}” does not exist: “{SAMPLES[sample][0]}” is used.")
    changes = {}
    for f, kind in CONFIG_FIELDS.items():
        raw = get(f)
        if raw is None:
            continue
        try:
            value = parse_value(kind, raw)
            TrainConfig(**{**base.to_dict(), f: value}).validate()
        except (ValueError, TypeError) as e:
            msgs.append(f"The link's {f} = “{_show(raw)}” was not used ({md(str(e)[:200])}): "
                        f"it stays {_show(_fmt(getattr(base, f)))}.")
            continue
        changes[f] = value
    try:
        config = TrainConfig(**{**base.to_dict(), **changes}).validate()
    except (ValueError, TypeError) as e:   # each value was fine alone, not together
        msgs.append(f"The link's settings do not fit together ({md(str(e)[:200])}): the "
                    f"{'preset' if preset else 'default'} settings are used.")
        config = base
    step = 0
    raw = get("step")
    if raw is not None:
        try:
            step = parse_value("int", raw)
            if step < 0:
                raise ValueError("negative")
        except ValueError:
            msgs.append(f"The link's step “{_show(raw)}” is not a whole number ≥ 0: training starts at step 0.")
            step = 0
        if step > MAX_LINK_STEPS:
            msgs.append(f"The link asks for step {step:,}; links replay at most {MAX_LINK_STEPS:,} steps, "
                        "so it stops there.")
            step = MAX_LINK_STEPS
    unknown = sorted(k for k in params if k not in SETUP_PARAMS and k not in OTHER_PARAMS)
    if unknown:
        msgs.append("The link's " + ", ".join(f"“{_show(k)}”" for k in unknown[:5])
                    + (" are not settings" if len(unknown) > 1 else " is not a setting") + " and was ignored.")
    return LinkSetup(preset, sample, config, step, msgs)


def _fmt(v) -> str:
    """A setting as it appears in a link: none, true/false, repr for floats (exact round trip)."""
    if v is None:
        return "none"
    if isinstance(v, bool):
        return "true" if v else "false"
    return repr(v) if isinstance(v, float) else str(v)


def setup_params(preset: str | None, sample: str, config: TrainConfig, step: int) -> dict[str, str]:
    """The query parameters of a link to this setup: the preset (or the sample), the settings that
    differ from its (or the default) ones, and the step. ``parse`` of the result gives them back."""
    out: dict[str, str] = {}
    if preset in PRESETS_BY_KEY:
        base = PRESETS_BY_KEY[preset].config
        out["preset"] = preset
        if sample != PRESETS_BY_KEY[preset].sample:
            out["sample"] = sample
    else:
        base = DEFAULT_CONFIG
        out["sample"] = sample
    for f in CONFIG_FIELDS:
        if getattr(config, f) != getattr(base, f):
            out[f] = _fmt(getattr(config, f))
    if step:
        out["step"] = str(int(step))
    return out


def setup_query(preset: str | None, sample: str, config: TrainConfig, step: int, present: bool = False) -> str:
    """``?preset=…&lr=…&step=…`` (with ``present=1`` for the presentation view)."""
    p = setup_params(preset, sample, config, step)
    if present:
        p[PRESENT_PARAM] = "1"
    return "?" + urlencode(p)
