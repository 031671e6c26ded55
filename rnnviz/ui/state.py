"""The per-browser-session state: one ``AppSession`` in ``st.session_state`` under SESSION_KEY.

Nothing mutable lives at module level or in ``st.cache_resource`` (shared by every user). Every
change goes through a method here that either succeeds completely or leaves the old model in
place and records a message for the page to show: a bad text or setting never loses the model.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field

import streamlit as st

from rnnviz.config import TrainConfig, needs_reset
from rnnviz.lesson import KEYS as LESSON_KEYS
from rnnviz.lesson import TICKET, Progress
from rnnviz.presets import DEFAULT_CONFIG, DEFAULT_SAMPLE, PRESETS_BY_KEY
from rnnviz.samples import SAMPLES, read_sample
from rnnviz.trainer import Trainer
from rnnviz.ui import autosave as store
from rnnviz.ui import urlstate
from rnnviz.ui.safe import md
from rnnviz.ui.textsource import TextError, check_text

SESSION_KEY = "_rnnviz_session"  # no widget uses this key
log = logging.getLogger("rnnviz")


@dataclass
class Flash:
    """A message to show once on the next render. kind: success | info | warning | error."""

    kind: str
    text: str


@dataclass
class AppSession:
    """Everything one browser session owns. The Trainer owns the model and its history."""

    trainer: Trainer
    text_label: str                      # "Sample: English prose", "Your pasted text", …
    source: str = "sample"               # sample | paste | upload | checkpoint
    sample_name: str = DEFAULT_SAMPLE
    preset: str | None = None            # key of the last preset applied, until settings change
    link_preset: str | None = None       # the preset this setup started from (settings may differ since):
                                         # setup links name it and list only the changes (rnnviz.ui.urlstate)
    flashes: list[Flash] = field(default_factory=list)
    playing: bool = False
    extras: dict = field(default_factory=dict)   # per-page state (explorer position, twin run, …)
    generation: int = 0                  # bumped whenever the trainer is replaced (widget keys use it)
    token: str = field(default_factory=store.new_token)   # names this session's autosave (?s= in the URL)
    saved: tuple = (None, 0.0)           # ((generation, step, config, lesson revision), time) of the last autosave
    save_cost: float = 0.0               # CPU seconds the last autosave took (spaces them out while playing)
    lesson: Progress = field(default_factory=Progress)   # the lesson's chapter, predictions and reveals (rnnviz.lesson)

    # ---------------------------------------------------------------- reading
    @property
    def config(self) -> TrainConfig:
        return self.trainer.config

    @property
    def text(self) -> str:
        return self.trainer.text

    def flash(self, kind: str, text: str) -> None:
        self.flashes.append(Flash(kind, text))

    # ---------------------------------------------------------------- changes
    def _replace(self, trainer: Trainer) -> None:
        """Adopt a new trainer: stop playing, drop per-page state tied to the old model."""
        self.trainer = trainer
        self.generation += 1
        self.playing = False
        self.extras.clear()

    def _rebuild(self, text: str, config: TrainConfig) -> Trainer | None:
        """A new Trainer, or None with an error flash (the current one stays)."""
        try:
            check_text(text)
            return Trainer(text, config)
        except (TextError, ValueError) as e:
            self.flash("error", f"{e} The current model is kept.")
            return None
        except MemoryError:
            self.flash("error", "That model would not fit in memory: choose a smaller hidden size or vocabulary. "
                                "The current model is kept.")
            return None

    def use_text(self, text: str, label: str, source: str, sample_name: str | None = None) -> bool:
        """Train on a new text with the current settings (resets training)."""
        tr = self._rebuild(text, self.config)
        if tr is None:
            return False
        self._replace(tr)
        self.text_label, self.source = label, source
        if sample_name:
            self.sample_name = sample_name
        self.preset = self.link_preset = None
        self._note_vocab()
        return True

    def use_sample(self, name: str) -> bool:
        return self.use_text(read_sample(name), f"Sample: {SAMPLES[name][0]}", "sample", name)

    def use_setup(self, name: str, config: TrainConfig) -> bool:
        """A sample with these settings, built once (the lesson's set-ups): a fresh model at step 0."""
        tr = self._rebuild(read_sample(name), config)
        if tr is None:
            return False
        self._replace(tr)
        self.text_label, self.source, self.sample_name = f"Sample: {SAMPLES[name][0]}", "sample", name
        self.preset = self.link_preset = None
        return True

    def apply_config(self, config: TrainConfig) -> bool:
        """Apply settings: live ones keep the model, the others rebuild it (and say so)."""
        try:
            config.validate()
        except ValueError as e:
            self.flash("error", f"{e}. The current settings are kept.")
            return False
        changed = needs_reset(self.config, config)
        if not changed:
            self.trainer.reconfigure(config)
            self.preset = None
            return True
        tr = self._rebuild(self.text, config)
        if tr is None:
            return False
        self._replace(tr)
        self.preset = None
        self.flash("info", f"Model reset for the new {', '.join(_FIELD_NAMES.get(c, c) for c in changed)}.")
        self._note_vocab()
        return True

    def apply_preset(self, key: str) -> bool:
        p = PRESETS_BY_KEY[key]
        tr = self._rebuild(read_sample(p.sample), p.config)
        if tr is None:
            return False
        self._replace(tr)
        self.text_label, self.source, self.sample_name = f"Sample: {SAMPLES[p.sample][0]}", "sample", p.sample
        self.preset = self.link_preset = key
        self.flash("success", f"Preset “{p.title}” loaded. {p.notice}")
        return True

    def use_trainer(self, trainer: Trainer, label: str) -> None:
        """Adopt a ready trainer (from a checkpoint)."""
        self._replace(trainer)
        self.text_label, self.source, self.preset, self.link_preset = label, "checkpoint", None, None

    def _note_vocab(self) -> None:
        tok = self.trainer.tokenizer
        if getattr(tok, "truncated", False):
            self.flash("warning", f"The text has more distinct words than the cap of {self.config.max_vocab:,}; "
                                  "the rarest are replaced by <unk>.")

    # ---------------------------------------------------------------- autosave (survives a reload)
    def autosave(self, force: bool = False) -> None:
        """Save the training state if it changed: a big state (or a playing one) at most every
        SAVE_EVERY_S (longer if saves are slow: see store.save_interval) unless forced. A fresh session that has changed nothing
        (first model, step 0) saves nothing: opening sessions by the hundred writes no file."""
        key = (self.generation, self.trainer.step_count, self.trainer.config, self.lesson.revision)
        last_key, last_t = self.saved
        if key == last_key or (last_key is None and self.generation == 0 and self.trainer.step_count == 0
                               and self.lesson.revision == 0):
            return
        if not force and time.monotonic() - last_t < store.save_interval(
                self.save_cost, playing=self.playing, nbytes=store.min_dump_bytes(self.trainer)):
            return
        # This thread's CPU time, not the wall clock: on a busy replica a save waits for the interpreter
        # lock, and its wall time (measured: up to ~0.3 s with 20 sessions playing) stretched the interval
        # to cost / SAVE_SHARE = 15 s, so a replica that died lost 316 steps of a player's work.
        t0 = time.thread_time()
        try:
            store.save(self.token, self.trainer, {"text_label": self.text_label, "source": self.source,
                                                     "sample_name": self.sample_name, "preset": self.preset,
                                                     "link_preset": self.link_preset, "saved_at": time.time(),
                                                     "lesson": self.lesson.to_json()})
        except (OSError, ValueError) as e:  # a full disk must not break the page
            log.warning("rnnviz: autosave failed: %s", e)
        self.save_cost = time.thread_time() - t0
        self.saved = (key, time.monotonic())


_FIELD_NAMES = {
    "level": "tokenization", "hidden_size": "hidden size", "seq_len": "window length T",
    "optimizer": "optimizer", "init": "initialisation", "spectral_radius": "spectral radius ρ",
    "seed": "seed", "max_vocab": "vocabulary cap", "sentence_tokens": "sentence tokens", "cell": "cell",
    "forget_bias": "forget-gate bias", "adam_beta2": "Adam's β2",
}


def default_session() -> AppSession:
    return AppSession(trainer=Trainer(read_sample(DEFAULT_SAMPLE), DEFAULT_CONFIG),
                      text_label=f"Sample: {SAMPLES[DEFAULT_SAMPLE][0]}")


def _known_preset(key) -> str | None:
    """key if it names a preset (a saved file's value may be any JSON: a list is unhashable)."""
    return key if isinstance(key, str) and key in PRESETS_BY_KEY else None


def restored_session(token: str) -> AppSession | None:
    """A copy of the session saved under token (after a reload, or a reconnect to another replica);
    None if nothing is saved under it; a fresh session that says why if a saved file exists but
    cannot be restored (never silently).

    The copy gets a new token of its own, and the saved bytes are written under it at once
    (store.load's copy_to): the file it came from is read, never written again. So a shared link gives
    the opener a copy and can never overwrite the owner's saved session; two replicas restoring one
    token continue under two tokens; and a replica that dies right after a restore loses nothing."""
    new_token = store.new_token()
    try:
        found = store.load(token, copy_to=new_token)
    except store.RestoreError as e:
        sess = default_session()
        sess.flash("warning", f"Your saved session could not be restored ({md(str(e))}). A fresh model was started.")
        return sess
    if found is None:
        return None
    trainer, extra = found
    sess = AppSession(trainer=trainer, text_label=str(extra.get("text_label", "Restored text")),
                      source=str(extra.get("source", "paste")), sample_name=str(extra.get("sample_name", DEFAULT_SAMPLE)),
                      preset=_known_preset(extra.get("preset")),
                      link_preset=_known_preset(extra.get("link_preset")), token=new_token)
    if sess.sample_name not in SAMPLES:
        sess.sample_name = DEFAULT_SAMPLE
    sess.lesson = Progress.from_json(extra.get("lesson"), LESSON_KEYS, len(TICKET))
    sess.saved = ((sess.generation, trainer.step_count, trainer.config, sess.lesson.revision), time.monotonic())
    if reconnected():
        age = _age(extra.get("saved_at"))
        sess.flash("info", f"The connection to the server was lost and this tab reconnected: your model was restored "
                           f"from its last save (step {trainer.step_count:,}{f', saved {age} ago' if age else ''}).")
    elif trainer.step_count:
        sess.flash("info", f"Welcome back: your model was restored at step {trainer.step_count:,}.")
    return sess


def reconnected() -> bool:
    """Whether this new server session belongs to a tab that was connected before (not a reload):
    Streamlit's frontend offers its previous session's id when its websocket reconnects (the third
    entry of Sec-WebSocket-Protocol), and a process that still had that session would have kept it.
    So the tab's server stopped (a replica that died or restarted: the load balancer sent it to
    another), or dropped the session after a long disconnection."""
    try:
        offered = st.context.headers.get("Sec-WebSocket-Protocol") or ""
    except Exception:   # no script run (a test calling this directly): not a reconnect
        return False
    entries = [e.strip() for e in offered.split(",")]
    return len(entries) >= 3 and bool(entries[2])


def _age(saved_at) -> str | None:
    """How long ago a state saved at time.time() = saved_at was saved: "0.8 s", "12 s", "4 min", "3 h"."""
    if not isinstance(saved_at, (int, float)) or isinstance(saved_at, bool):
        return None
    age = max(0.0, time.time() - saved_at)
    if age < 10:
        return f"{age:.1f} s"
    if age < 120:
        return f"{age:.0f} s"
    return f"{age / 60:.0f} min" if age < 7200 else f"{age / 3600:.0f} h"


def link_session(params) -> AppSession | None:
    """A new session with the setup a link asks for (rnnviz.ui.urlstate), still at step 0: the page
    then trains it to the link's step (follow_link). None, with nothing built, if the model cannot be
    built (the caller falls back to the default session, with the reason in its flashes)."""
    link = urlstate.parse(params)
    try:
        tr = Trainer(read_sample(link.sample), link.config)
    except (ValueError, MemoryError) as e:
        log.warning("rnnviz: link setup refused: %s", e)
        return None
    sess = AppSession(trainer=tr, text_label=f"Sample: {SAMPLES[link.sample][0]}", sample_name=link.sample,
                      preset=link.preset if link.is_preset else None, link_preset=link.preset)
    for m in link.messages:
        sess.flash("warning", m)
    if link.step:
        sess.extras[LINK_TARGET] = link.step
    return sess


LINK_TARGET = "link_target"   # extras: the step a link asked for, until training reaches it or is stopped


def get_session() -> AppSession:
    """This browser session's AppSession: created on first use, or restored after a reload, or built
    from the setup in the URL (a link: rnnviz.ui.urlstate). A saved session (?s=) wins over the setup
    parameters beside it: after a link is opened its parameters leave the URL, so a reload restores."""
    if SESSION_KEY not in st.session_state:
        _through_app_py()
        token = st.query_params.get(store.TOKEN_PARAM)
        sess = restored_session(token) if store.valid_token(token) else None
        params = st.query_params.to_dict()
        if sess is None and urlstate.has_setup(params):
            sess = link_session(params)
            if sess is None:
                sess = default_session()
                sess.flash("error", "The link's setup could not be built; the default model is shown.")
        for k in [k for k in params if k in urlstate.SETUP_PARAMS]:
            del st.query_params[k]   # applied (or refused with a message): the URL now names the session
        if sess is None:
            # A fresh random token, never the one in the URL: adopting an unknown token would let
            # whoever chose it open this session's saved text and model later.
            sess = default_session()
            try:
                store.maybe_prune()
            except OSError as e:  # an unsafe or unwritable folder: autosave is off, the app is not
                log.warning("rnnviz: %s", e)
        st.session_state[SESSION_KEY] = sess
    sess = st.session_state[SESSION_KEY]
    if st.query_params.get(store.TOKEN_PARAM) != sess.token:
        st.query_params[store.TOKEN_PARAM] = sess.token
    return sess


def _through_app_py() -> None:
    """Rerun through app.py if Streamlit ran a page script on its own.

    A Streamlit process takes an app with a pages/ folder for a legacy multipage app until some run
    has called st.navigation (streamlit.runtime.pages_manager: PagesManager.uses_pages_directory). So
    the first run of a fresh process, when a tab reconnects to it on /train (a replica that restarted,
    or the one a dead replica's tabs fail over to), runs pages/train.py alone, without app.py, and
    shows the folder's file names as the navigation (seen in Chromium: "app, explorer, generate, lab,
    train"). Turning that off once per process and rerunning gives the tab the app it had."""
    try:
        from streamlit.runtime.pages_manager import PagesManager
    except ImportError:  # a Streamlit without it has no such mode
        return
    if getattr(PagesManager, "uses_pages_directory", False):
        PagesManager.uses_pages_directory = False
        st.rerun()


def show_flashes(sess: AppSession) -> None:
    """Show and clear pending messages."""
    for f in sess.flashes:
        getattr(st, f.kind if f.kind in ("success", "info", "warning", "error") else "info")(f.text)
    sess.flashes.clear()
