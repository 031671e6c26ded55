"""The shared sidebar: presets, the text, model settings (reset) and training settings (live).

Widgets carry the session's "generation" in their keys: when the model is replaced from
elsewhere (a preset, a checkpoint), the generation changes and every widget is recreated
showing the new settings, instead of keeping stale values.
"""

from __future__ import annotations

import math

import streamlit as st

from rnnviz.cells import CELLS
from rnnviz.checkpoint import save_checkpoint
from rnnviz.clip import CLIP_MODES
from rnnviz.config import MAX_SEQ_LEN, TrainConfig
from rnnviz.optim import OPTIMIZERS
from rnnviz.presets import PRESETS
from rnnviz.samples import SAMPLES
from rnnviz.trainer import Trainer
from rnnviz.ui import nav, present, urlstate
from rnnviz.ui.safe import md
from rnnviz.ui.state import AppSession
from rnnviz.ui.textsource import MAX_TEXT_CHARS, MAX_UPLOAD_MB, TextError, check_text, decode_upload

LR_OPTIONS = [0.0, 1e-4, 3e-4, 1e-3, 3e-3, 0.005, 0.01, 0.03, 0.05, 0.1, 0.3, 1.0, 3.0, 10.0, 100.0, 1000.0]
CLIP_OPTIONS = [0.1, 0.25, 0.5, 1.0, 2.0, 5.0, 10.0, 25.0, 100.0, 500.0]  # 500: the long-memory preset's
VAL_EVERY_OPTIONS = [0, 10, 25, 50, 100, 250, 500, 1000]   # 0: the held-out loss is not measured
HIDDEN_OPTIONS = [1, 2, 4, 8, 16, 32, 50, 64, 100, 128, 200, 256, 512]
CLIP_LABELS = {"none": "Off", "elementwise": "Each entry ±c", "norm": "Global norm ≤ c"}
OPT_LABELS = {"sgd": "SGD", "momentum": "Momentum (0.9)", "adagrad": "Adagrad", "rmsprop": "RMSProp", "adam": "Adam"}
BETA2_OPTIONS = (0.9, 0.95, 0.98, 0.99, 0.995, 0.999)


def _gen(sess: AppSession) -> int:
    """Changes whenever the trainer is replaced, so widgets are rebuilt with its settings."""
    return sess.generation


def fmt_lr(x: float) -> str:
    return "0" if x == 0 else (f"{x:g}" if x >= 1e-3 else f"{x:.0e}")


def _nearest(options: list, x: float):
    return min(options, key=lambda o: abs(math.log10(o + 1e-12) - math.log10(x + 1e-12)))


# ---------------------------------------------------------------------------- presets
def presets_section(sess: AppSession) -> None:
    st.markdown("**Lecture presets** · one click sets text and settings")
    for p in PRESETS:
        st.button(p.title, key=f"preset_{p.key}", help=p.notice, on_click=sess.apply_preset,
                  args=(p.key,), width="stretch", type="primary" if sess.preset == p.key else "secondary")


# ---------------------------------------------------------------------------- text
def _on_sample(sess: AppSession, key: str) -> None:
    sess.use_sample(st.session_state[key])


def _on_paste(sess: AppSession, key: str) -> None:
    text = st.session_state.get(key) or ""
    try:
        check_text(text)
    except TextError as e:
        sess.flash("error", f"{e} The current model is kept.")
        if len(text) > MAX_TEXT_CHARS:
            st.session_state[key] = ""  # do not keep megabytes of refused text in this session
        return
    if sess.use_text(text, "Your pasted text", "paste"):
        sess.flash("success", f"Training on your text: {len(text):,} characters, vocabulary V = {sess.trainer.vocab_size}.")


def _on_upload(sess: AppSession, key: str) -> None:
    f = st.session_state.get(key)
    if f is None:
        return
    try:
        text = decode_upload(f.getvalue(), f.name)
    except TextError as e:
        sess.flash("error", f"{md(e)} The current model is kept.")
        return
    if sess.use_text(text, f"Uploaded: {f.name}", "upload"):
        sess.flash("success", f"Training on {md(f.name)}: {len(text):,} characters, vocabulary V = {sess.trainer.vocab_size}.")


def text_section(sess: AppSession) -> None:
    with st.expander(f"**Text** · {md(sess.text_label)}", expanded=False):
        names = list(SAMPLES)
        st.selectbox(
            "Sample text", names, index=names.index(sess.sample_name) if sess.source == "sample" else None,
            format_func=lambda n: SAMPLES[n][0], key=f"sample_{_gen(sess)}", placeholder="Pick a sample…",
            on_change=_on_sample, args=(sess, f"sample_{_gen(sess)}"),
            help="\n".join(f"- **{t}**: {d}" for t, d in SAMPLES.values()),
        )
        key = "paste_text"
        # No max_chars: the browser would cut a long paste silently; we refuse it with the limit instead.
        st.text_area("…or paste your own text", key=key, height=110,
                     placeholder="Paste any text: a poem, code, your notes… (at least T+1 characters)")
        st.button("Train on this text", on_click=_on_paste, args=(sess, key), width="stretch",
                  help="Replaces the model with a fresh one trained on the pasted text.")
        st.file_uploader(f"…or upload a .txt file (≤ {MAX_UPLOAD_MB} MB, UTF-8)", type=["txt", "md", "py", "csv"],
                         key="upload_text", on_change=_on_upload, args=(sess, "upload_text"),
                         max_upload_size=MAX_UPLOAD_MB)


# ---------------------------------------------------------------------------- model (reset)
def model_section(sess: AppSession) -> None:
    c = sess.config
    g = _gen(sess)
    with st.expander("**Model** · changing these resets training", expanded=False):
        with st.form(f"model_form_{g}", border=False):
            level = st.radio("Tokens", ["char", "word"], index=["char", "word"].index(c.level), horizontal=True,
                             format_func=lambda v: {"char": "Characters", "word": "Words"}[v])
            cell = st.selectbox("Cell", list(CELLS), index=list(CELLS).index(c.cell), format_func=lambda n: CELLS[n].title,
                                help="The recurrent cell: the vanilla RNN, or the gated cells (LSTM, GRU, minGRU) that "
                                     "keep gradients alive over long distances.")
            hidden = st.select_slider("Hidden size H", HIDDEN_OPTIONS, value=_nearest(HIDDEN_OPTIONS, c.hidden_size),
                                      help="Number of hidden units. Bigger learns more but each step is slower.")
            seq_len = st.slider("Window length T (time steps per update)", 1, MAX_SEQ_LEN, c.seq_len,
                                help="BPTT unrolls the network over T steps; each SGD step sees one window.")
            optimizer = st.selectbox("Optimizer", OPTIMIZERS, index=OPTIMIZERS.index(c.optimizer),
                                     format_func=OPT_LABELS.get)
            beta2 = st.select_slider("Adam's β2", BETA2_OPTIONS, value=_nearest(BETA2_OPTIONS, c.adam_beta2),
                                     help="Adam only: how slowly its running mean of squared gradients forgets "
                                          "(0.999 remembers ~1,000 steps, 0.99 ~100). Smaller forgets the first "
                                          "steps' large gradients sooner.")
            forget_bias = st.slider("LSTM forget-gate bias b_f", -2.0, 6.0, float(c.forget_bias), 0.5,
                                    help="LSTM only: the forget gate's bias at the start. σ(1) ≈ 0.73 keeps 73% of "
                                         "the cell state per step (0.73³⁰ ≈ 0.0001 after 30 steps), σ(3) ≈ 0.95 keeps "
                                         "95% (0.95³⁰ ≈ 0.2).")
            init = st.radio("Initialisation of W", ["uniform", "orthogonal"], index=["uniform", "orthogonal"].index(c.init),
                            horizontal=True, format_func=lambda v: {"uniform": "Uniform ±1/√H", "orthogonal": "Orthogonal"}[v])
            use_rho = st.toggle("Rescale W to spectral radius ρ", value=c.spectral_radius is not None,
                                help="ρ(W) < 1 makes gradients vanish over time, ρ(W) > 1 lets them explode. "
                                     "Vanilla RNN only: a gated cell's W stacks its gate blocks.")
            rho = st.slider("ρ(W)", 0.1, 4.0, float(c.spectral_radius or 1.0), 0.1)
            seed = st.number_input("Random seed", 0, 2**31 - 1, c.seed, help="Same seed and settings ⇒ the same run.")
            val_fraction = st.slider("Held-out share of the text", 0.0, 0.5, float(c.val_fraction), 0.05,
                                     help="The text's last part, never trained on: the loss on it (purple on the "
                                          "loss chart) shows whether the model learned patterns or memorised.")
            if level == "word":
                max_vocab = st.number_input("Word vocabulary cap", 3, 20000, c.max_vocab,
                                            help="Rarer words become <unk>.")
                sentence_tokens = st.checkbox("Mark sentences with <s> … </s>", value=c.sentence_tokens)
            else:
                max_vocab, sentence_tokens = c.max_vocab, c.sentence_tokens
            if st.form_submit_button("Apply and reset the model", type="primary", width="stretch"):
                truncate = c.truncate if c.truncate is None or c.truncate < seq_len else seq_len - 1
                new = TrainConfig(**{**c.to_dict(), "level": level, "hidden_size": int(hidden), "seq_len": int(seq_len),
                                     "optimizer": optimizer, "init": init, "cell": cell,
                                     "spectral_radius": float(rho) if use_rho and CELLS[cell].spectral_radius_ok else None,
                                     "seed": int(seed), "max_vocab": int(max_vocab), "sentence_tokens": bool(sentence_tokens),
                                     "adam_beta2": float(beta2), "forget_bias": float(forget_bias),
                                     "truncate": truncate, "val_fraction": round(float(val_fraction), 2)})
                if new == c:
                    sess.trainer.reset()
                    sess.flash("info", "Nothing changed; the model was reset to step 0.")
                else:
                    sess.apply_config(new)
                st.rerun()


# ---------------------------------------------------------------------------- training (live)
def _live(sess: AppSession, field: str, key: str, transform=lambda v: v) -> None:
    value = transform(st.session_state[key])
    sess.apply_config(sess.config.with_changes(**{field: value}) if _valid(sess, field, value) else sess.config)


def _valid(sess: AppSession, field: str, value) -> bool:
    try:
        TrainConfig(**{**sess.config.to_dict(), field: value}).validate()
        return True
    except ValueError as e:
        sess.flash("error", f"{e}. The setting was not changed.")
        return False


def training_section(sess: AppSession) -> None:
    c = sess.config
    g = _gen(sess)
    with st.expander("**Training** · these apply live, no reset", expanded=True):
        st.select_slider("Learning rate η", LR_OPTIONS, value=_nearest(LR_OPTIONS, c.lr) if c.lr else 0.0,
                         format_func=fmt_lr, key=f"lr_{g}", on_change=_live, args=(sess, "lr", f"lr_{g}"),
                         help="Step size of each update (log scale).")
        if c.lr == 0:
            st.warning("η = 0: the weights will never change. Move the slider right to learn.")
        elif c.lr >= 10:
            st.warning(f"η = {fmt_lr(c.lr)} is very large: expect the loss to blow up (training stops safely if it does).")
        st.segmented_control("Gradient clipping", CLIP_MODES, default=c.clip, format_func=CLIP_LABELS.get,
                             key=f"clip_{g}", on_change=_live, args=(sess, "clip", f"clip_{g}", lambda v: v or "none"),
                             help="Exploding gradients are tamed by clipping each entry to ±c, or by rescaling "
                                  "the whole gradient so its norm is at most c.")
        if c.clip != "none":
            st.select_slider("Clipping threshold c", CLIP_OPTIONS, value=_nearest(CLIP_OPTIONS, c.clip_value),
                             format_func=lambda v: f"{v:g}", key=f"clipv_{g}", on_change=_live,
                             args=(sess, "clip_value", f"clipv_{g}"))
        truncated = st.toggle("Truncate BPTT", value=c.truncate is not None and c.seq_len > 1, key=f"trunc_on_{g}",
                              on_change=_live, args=(sess, "truncate", f"trunc_on_{g}",
                                                     lambda on: min(4, c.seq_len - 1) if on else None),
                              disabled=c.seq_len < 2,
                              help="Each loss term L_t sends its gradient back at most k steps (full BPTT if off).")
        if truncated and c.truncate is not None:
            st.slider("k: steps each gradient may travel back", 0, max(c.seq_len - 1, 1), min(c.truncate, c.seq_len - 1),
                      key=f"trunc_k_{g}", on_change=_live, args=(sess, "truncate", f"trunc_k_{g}"))
        # (No "step" in this label: its help icon is a button named after it, and "Step" must stay the
        # first button of that name on the page for keyboard-free tests and screen readers alike.)
        st.select_slider("Held-out loss, measured every", VAL_EVERY_OPTIONS,
                         value=min(VAL_EVERY_OPTIONS, key=lambda o: abs(o - c.val_every)),
                         format_func=lambda v: "never" if v == 0 else f"{v:,} steps", key=f"val_every_{g}",
                         on_change=_live,
                         args=(sess, "val_every", f"val_every_{g}"),
                         help="How often the loss on the held-out text is measured (a pass over ≤ 1,000 tokens).")
        st.toggle("Halve η when the loss rises", value=c.lr_halving, key=f"halve_{g}", on_change=_live,
                  args=(sess, "lr_halving", f"halve_{g}"),
                  help=f"Every {c.halve_every} steps: if the mean loss went up, η is halved (the word-level tutorial's rule).")


# ---------------------------------------------------------------------------- checkpoints
def _on_checkpoint(sess: AppSession, key: str) -> None:
    f = st.session_state.get(key)
    if f is None:
        return
    data = f.getvalue()
    if len(data) > MAX_UPLOAD_MB * 2**20:
        sess.flash("error", f"{md(f.name)} is larger than {MAX_UPLOAD_MB} MB. The current model is kept.")
        return
    try:
        tr = Trainer.from_checkpoint(data)
    except ValueError as e:  # CheckpointError and any validation error
        sess.flash("error", f"Could not load {md(f.name)}: {md(e)}. The current model is kept.")
        return
    sess.use_trainer(tr, f"Saved model {f.name} (step {tr.step_count:,})")
    sess.flash("success", f"Loaded {md(f.name)}: step {tr.step_count:,}, V = {tr.vocab_size}, H = {tr.config.hidden_size}. "
                          "Training continues from these weights with a fresh optimizer.")


def checkpoint_section(sess: AppSession) -> None:
    tr = sess.trainer
    with st.expander("**Save / load the model**", expanded=False):
        st.download_button(
            "Download this model (.npz)", data=lambda: save_checkpoint(tr), file_name=f"rnnviz-step{tr.step_count}.npz",
            mime="application/octet-stream", width="stretch", on_click="ignore",
            help="Weights, vocabulary, settings and text, as NumPy arrays (no pickle). Load it later to continue.",
        )
        st.file_uploader("Load a saved model", type=["npz"], key=f"ckpt_{_gen(sess)}", on_change=_on_checkpoint,
                         args=(sess, f"ckpt_{_gen(sess)}"), max_upload_size=MAX_UPLOAD_MB,
                         help="Only files saved by rnnviz are accepted; every array is checked before use.")


# ---------------------------------------------------------------------------- share (a link to this setup)
def setup_link(sess: AppSession) -> str:
    """The link to this session's setup: this page's address and rnnviz.ui.urlstate's query."""
    query = urlstate.setup_query(sess.link_preset, sess.sample_name, sess.config, sess.trainer.step_count, present.on())
    return (st.context.url or "") + query


def _make_link(sess: AppSession) -> None:
    sess.extras["setup_link"] = (setup_link(sess), sess.trainer.step_count)


def share_section(sess: AppSession) -> None:
    """"Copy link to this setup": a button (the sidebar is not redrawn by a Step, so the link is made
    on request, at the step shown), then the link in a code box with its copy icon."""
    with st.expander("**Share** · a link to this setup", expanded=False):
        st.button("Copy link to this setup", key="btn_setup_link", on_click=_make_link, args=(sess,),
                  icon=":material/link:", width="stretch",
                  help="A link that opens this text and these settings and trains to this step.")
        link = sess.extras.get("setup_link")
        if link:
            st.code(link[0], language=None, wrap_lines=True)
            st.caption(f"The link at step {link[1]:,}. After more steps, click again for a link to the new step.")
        if sess.source != "sample":
            st.warning(f"{md(sess.text_label)} cannot ride in a link (a URL holds no text): the link opens these "
                       f"settings on the sample “{SAMPLES[sess.sample_name][0]}”. This tab's own address (its ?s=…) "
                       "restores this session, text included, on this server.", icon=":material/info:")
        else:
            st.caption("The link replays the steps from the same seed with the current settings: the same run, unless "
                       "settings were changed while training. Pasted or uploaded text cannot ride in a link.")


def sidebar(sess: AppSession) -> None:
    """All shared controls, in the order a newcomer reads them."""
    with st.sidebar:
        nav.draw()
        present.toggle()
        presets_section(sess)
        share_section(sess)
        text_section(sess)
        training_section(sess)
        model_section(sess)
        checkpoint_section(sess)
