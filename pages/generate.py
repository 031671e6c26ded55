"""Generate: let the model write, see how sure it was of each token, and look inside its hidden units."""

from __future__ import annotations

import time

import numpy as np
import pandas as pd
import streamlit as st

from rnnviz.figures.common import visible
from rnnviz.figures.generate import MAX_COLUMNS, MAX_UNITS, hidden_heatmap, pick_units
from rnnviz.figures.tokens import least_sure, sample_html, unit_strip_html
from rnnviz.figures.train import recent_mean_loss
from rnnviz.generation import (
    MAX_ANALYSE_TOKENS,
    MAX_LENGTH,
    MAX_PRIME_CHARS,
    MIN_LENGTH,
    GenSettings,
    default_prime,
    describe_tokens,
    encode_known,
    generate,
)
from rnnviz.sample import MAX_TEMPERATURE, state_trajectory
from rnnviz.ui import charts
from rnnviz.ui.guard import guarded
from rnnviz.ui.memo import page_state
from rnnviz.ui.page import page_header, setup_page
from rnnviz.ui.safe import md
from rnnviz.ui.state import AppSession

TEMPS = [0.0, 0.1, 0.2, 0.3, 0.5, 0.7, 0.8, 1.0, 1.2, 1.5, 2.0, 3.0, 5.0, 10.0, 100.0, "other"]
MODE_LABELS = {"sample": "Sample", "greedy": "Greedy (argmax)", "top-k": "Top-k"}
ORDER_LABELS = {"variance": "Most active", "slow": "Slowest-changing", "index": "By number"}
START_LABELS = {"carried": "where training left off", "zero": "blank: h = 0"}
START_PHRASES = {"carried": "the memory training left off with", "zero": "a blank memory (h = 0)"}
SOURCES = {"generated": "the generated text", "training": "the start of the training text", "paste": "a text you paste"}
MAX_PASTE_CHARS = 5000
KEEP = "session"  # widget values survive a visit to another page (keys carry the model's generation)
def joiner(sess: AppSession) -> str:
    return "" if sess.trainer.tokenizer.level == "char" else " "


def last_result(sess: AppSession) -> dict | None:
    """The last Generate click: {"out": Generation, "step" and "state": the model's then, "ms": time taken}.
    None if there was none for the current model (page_state drops it when the model is replaced)."""
    return page_state(sess, "gen_").get("result")


# ---------------------------------------------------------------------------- sections
@guarded("the model summary")
def model_summary(sess: AppSession) -> None:
    tr = sess.trainer
    level = "characters" if tr.tokenizer.level == "char" else "words"
    smooth, w = recent_mean_loss(tr.history, tr.step_count)
    loss = f"loss {smooth:.3f} nats/token (mean of the last {w} steps)" if len(tr.history) else "no training yet"
    st.markdown(f"**Model:** step **{tr.step_count:,}** · tokens are {level} · V = {tr.vocab_size} tokens · "
                f"H = {tr.config.hidden_size} hidden units · {loss} (untrained: ln V = {tr.baseline_loss:.3f} nats/token)")
    if tr.step_count == 0:
        st.warning("This model is untrained (step 0): this is what an untrained model writes, noise, with every "
                   "token about equally likely. Go to **Train**, press **Step ×100** a few times, and come back.",
                   icon=":material/school:")
        st.page_link("pages/train.py", label="Go to Train", icon=":material/model_training:")


@guarded("the generation settings")
def controls(sess: AppSession) -> GenSettings | None:
    """The widgets; returns the settings they show (None if something went wrong)."""
    tr = sess.trainer
    g = sess.generation
    char = tr.tokenizer.level == "char"
    c = st.columns([3, 1.3, 1, 1])
    prime = c[0].text_area(
        "Prime text: what the model reads before it starts writing", value=default_prime(tr.tokenizer, tr.data),
        max_chars=MAX_PRIME_CHARS, height=100, key=f"gen_prime_{g}", persist_state=KEEP,
        help=f"Up to {MAX_PRIME_CHARS:,} characters. Leave it empty to start from the first token of the training text. "
             + ("Characters the training text never uses are left out." if char else "Unknown words are read as `<unk>`."))
    start = c[1].radio(
        "Memory before the prime", list(START_LABELS), format_func=START_LABELS.get, key=f"gen_start_{g}",
        persist_state=KEEP,
        help="The hidden state h the model has before it reads the prime. Training carries h from window to window, "
             "so the model has seen h = 0 only at the very start of its text: from a blank memory it often writes "
             "worse. min-char-rnn samples from where training left off.")
    length = c[2].number_input(f"Length ({MIN_LENGTH}–{MAX_LENGTH})", MIN_LENGTH, MAX_LENGTH,
                               300 if char else 60, step=50 if char else 10, key=f"gen_len_{g}", persist_state=KEEP,
                               help=f"How many {'characters' if char else 'words'} to generate, at most {MAX_LENGTH:,}.")
    seed = c[3].number_input("Seed", 0, 2**31 - 1, 0, key=f"gen_seed_{g}", persist_state=KEEP,
                             help="Same seed and settings ⇒ the same text. Change it for another sample.")
    c = st.columns([2, 2.4, 1], vertical_alignment="bottom")
    mode = c[0].radio("Choosing each token", list(MODE_LABELS), format_func=MODE_LABELS.get, horizontal=True,
                      key=f"gen_mode_{g}", persist_state=KEEP,
                      help="Sample: draw from p (sharpened or flattened by τ). Greedy: always the most likely token. "
                           "Top-k: draw only among the k most likely.")
    choice = c[1].select_slider(
        "Temperature τ", TEMPS, value=0.8, format_func=lambda v: "other…" if v == "other" else f"{v:g}",
        key=f"gen_temp_{g}", persist_state=KEEP, disabled=mode == "greedy",
        help="p ∝ exp(o/τ). τ < 1 sharpens the distribution (safer, repetitive), τ > 1 flattens it (more "
             f"surprising, then gibberish). 0 means greedy. Pick 'other…' to type any value from 0 to {MAX_TEMPERATURE:g}.")
    if choice == "other":
        temp = c[1].number_input(f"τ (0–{MAX_TEMPERATURE:g})", 0.0, MAX_TEMPERATURE, 1.0, step=0.1, format="%.2f",
                                 key=f"gen_temp_other_{g}", persist_state=KEEP, disabled=mode == "greedy")
    else:
        temp = float(choice)
    k = c[2].number_input(f"k (1–{tr.vocab_size})", 1, tr.vocab_size, min(5, tr.vocab_size), key=f"gen_k_{g}",
                          persist_state=KEEP, disabled=mode != "top-k",
                          help="Top-k: only the k most likely tokens can be drawn; the rest get probability 0.")
    settings = GenSettings(prime=prime or "", length=int(length), temperature=float(temp), mode=mode, k=int(k),
                           seed=int(seed), start=start)
    for kind, text in settings.advice(tr.vocab_size):
        getattr(st, kind)(md(text))
    if st.button("Generate", type="primary", icon=":material/edit_note:", key=f"gen_go_{g}",
                 help="Prime the model, then write the tokens one at a time."):
        run_generation(sess, settings)
    return settings


def token_table(out) -> pd.DataFrame:
    """The generated text's colours as numbers: each token, the probability the model gave it, its top 5."""
    return pd.DataFrame({
        "position": np.arange(1, out.n + 1),
        "token": [visible(t) for t in out.tokens],
        "p": np.asarray(out.result.probs, dtype=float)[:out.n],
        "the model's top 5": [", ".join(f"{visible(a)} {q:.2f}" for a, q in alts) for alts in out.top[:out.n]],
    })


def run_generation(sess: AppSession, settings: GenSettings) -> None:
    """Sample with the current weights (read only) and keep the result for this model."""
    tr = sess.trainer
    t0 = time.perf_counter()
    try:
        out = generate(tr.params, tr.tokenizer, settings, int(tr.data[0]), carried_h=tr.h, cell=tr.config.cell)
    except ValueError as e:
        st.error(f"{md(str(e).rstrip('.'))}. Nothing was generated; the model is unchanged.")
        return
    # The trainer's state object identifies the weights: every step, undo or reset swaps in a new one.
    page_state(sess, "gen_")["result"] = {"step": tr.step_count, "state": tr.state, "out": out,
                                         "ms": (time.perf_counter() - t0) * 1e3}


@guarded("the generated text")
def output(sess: AppSession, current: GenSettings | None) -> None:
    tr = sess.trainer
    r = last_result(sess)
    st.markdown("**What the model wrote**")
    if r is None:
        st.info("Press **Generate**: the model reads the prime, then writes one token at a time, each drawn from "
                "the probabilities it assigns to the next token.")
        return
    out = r["out"]
    for kind, text in out.prime.notes():
        getattr(st, kind)(md(text))
    stale = []
    if r["state"] is not tr.state:
        stale.append(f"written by the model at step {r['step']:,}; the model has changed since (now at step "
                     f"{tr.step_count:,})")
    if current is not None and current != out.settings:
        stale.append("the settings above have changed")
    if stale:
        st.caption("This text was " + " and ".join(stale) + ": press **Generate** to see what it writes now.")
    st.html(sample_html(out.prime.text, out.tokens, out.result.probs, out.top, joiner=joiner(sess)))
    s = out.settings
    how = ("greedy" if s.greedy else f"τ = {s.temperature:g}" + (f", top-{s.k}" if s.mode == "top-k" else "")
           + f", seed {s.seed}") + f", starting from {START_PHRASES[s.start]}"
    st.caption(f"Grey: the prime. Each of the {out.n:,} generated tokens is coloured by the probability the model "
               f"gave it (pale: a surprise, dark blue: it was sure); hover for its 5 most likely choices, or open the "
               f"table below. {least_sure(out.tokens, out.result.probs)} Written with {how} in {r['ms']:.0f} ms. "
               "Low temperature: safe, repetitive; high: creative, then gibberish.")
    charts.show_table(lambda: token_table(out), key=f"gen_table_{sess.generation}",
                      label="Show each token's probability as a table", formats={"p": "%.3f"})
    m = st.columns(4)
    m[0].metric("Tokens generated", f"{out.n:,}")
    m[1].metric("Mean log p per token", f"{out.mean_log_p:.3f}",
                help="Average of log p(token) over the generated tokens, p from the model at τ = 1 (nats). "
                     "0 would mean it was certain of every token.")
    m[2].metric("Perplexity of its own text", f"{out.perplexity:.2f}" if out.perplexity < 1e6 else "huge",
                help="e^(−mean log p): the model was as unsure as a uniform choice among this many tokens.")
    m[3].metric("Untrained perplexity (V)", f"{tr.vocab_size}",
                help="A model that knows nothing is as unsure as a uniform choice among all V tokens.")
    st.caption((f"Here: {out.perplexity:.2f} against V = {tr.vocab_size}. " if out.perplexity < 1e6 else "")
               + "Greedy and low τ pick what the model finds likely, which lowers this perplexity; high τ picks tokens "
               "the model itself finds unlikely, which raises it towards V.")
    st.markdown("Plain text, to copy (button at the top right of the box) or download:")
    st.code(out.text, language=None, wrap_lines=True)
    st.download_button("Download as .txt", data=out.text, file_name=f"rnnviz_step{r['step']}_seed{s.seed}.txt",
                       mime="text/plain", on_click="ignore", icon=":material/download:", key=f"gen_dl_{sess.generation}")


def analysed_text(sess: AppSession, current: GenSettings | None) -> tuple[np.ndarray, np.ndarray, str, str] | None:
    """(ids, h0 (H,), what the text is, the start key of h0) for the heatmap; None if no text.

    The generated text is read from the state it was generated from; other texts from the
    memory chosen above (where training left off, or h = 0)."""
    tr = sess.trainer
    g = sess.generation
    r = last_result(sess)
    src = st.radio("Read", list(SOURCES), format_func=SOURCES.get, horizontal=True, key=f"gen_src_{g}",
                   persist_state=KEEP,
                   help="The model reads the text one token at a time; each column is h after a token.")
    if src == "generated" and r is not None:
        out = r["out"]
        return out.all_ids, out.h0, "the prime and generated text", out.settings.start
    carried = current is not None and current.start == "carried"
    h0 = tr.h.copy() if carried else np.zeros_like(tr.h)
    memory = "carried" if carried else "zero"
    if src == "generated":
        st.caption("Nothing generated yet, so this shows the start of the training text; press **Generate** above.")
    if src != "paste":
        return tr.data, h0, "the training text", memory
    text = st.text_area("Analyse this text instead", max_chars=MAX_PASTE_CHARS, height=100, key=f"gen_paste_{g}",
                        persist_state=KEEP, placeholder='Try text with "quotes", (brackets) or several lines…',
                        help=f"Up to {MAX_PASTE_CHARS:,} characters; the first {MAX_ANALYSE_TOKENS} tokens are read.")
    if not text:
        st.info("Paste a text above: the heatmap shows how the model's hidden units react to it.")
        return None
    ids, unknown, action = encode_known(tr.tokenizer, text)
    if unknown:
        what = "read as <unk>" if action == "unk" else "left out"
        st.warning(md(f"Not in the model's vocabulary, {what}: {describe_tokens(unknown)}."))
    if ids.size == 0:
        st.info("None of this text's tokens are in the vocabulary: paste text that resembles the training text.")
        return None
    return ids, h0, "your text", memory


@guarded("the hidden-unit heatmap")
def hidden_units(sess: AppSession, current: GenSettings | None) -> None:
    tr = sess.trainer
    g = sess.generation
    tok = tr.tokenizer
    st.markdown("**Inside the model: hidden units over a text**")
    st.caption("Each hidden unit is one number of the state that the network updates after every token. Some units "
               "learn to track something: whether a quote or bracket is open, how far into a line or word it is.")
    picked = analysed_text(sess, current)
    if picked is None:
        return
    ids, h0, what, memory = picked
    total = int(ids.size)
    ids = ids[:MAX_ANALYSE_TOKENS]
    tokens = [tok.token_text(i) for i in ids]
    states = state_trajectory(tr.params, ids, h0=h0, cell=tr.config.cell)   # {part: (H, n)} after each token
    part = "h"
    if len(states) > 1:
        part = st.radio("State shown", list(states), horizontal=True, key=f"gen_part_{g}", persist_state=KEEP,
                        format_func=lambda p: f"{p} ({tr.cell.title} state)",
                        help="The LSTM carries two vectors: h (what the output reads, in [−1, 1]) and the cell "
                             "state c (unbounded: the memory the gradient highway runs along).") or "h"
    hs = states[part]
    H = hs.shape[0]
    peak = float(np.abs(hs).max()) if hs.size else 1.0
    scale = 1.0 if peak <= 1.0 else float(np.ceil(peak))  # h lies in [−1, 1]; c may not
    c = st.columns([2, 3, 2], vertical_alignment="bottom")
    top = min(MAX_UNITS, H)
    n_units = (c[0].slider(f"Units shown (of H = {H})", 1, top, min(24, top), key=f"gen_nunits_{g}", persist_state=KEEP)
               if top > 1 else 1)
    order = c[1].radio("Which units first", list(ORDER_LABELS), horizontal=True, key=f"gen_order_{g}",
                       persist_state=KEEP, format_func=ORDER_LABELS.get,
                       help="Most active: the units whose value changes most over this text (largest variance). "
                            "Slowest: the units that hold their value longest before switching (highest correlation "
                            "between h_t and h_t+1): the best candidates for a memory of quotes or brackets.")
    units = [int(u) for u in pick_units(hs, n_units, order)]
    capped = f" (the first {MAX_ANALYSE_TOKENS} of its {total:,} tokens)" if total > MAX_ANALYSE_TOKENS else ""
    c[2].caption(f"Reading {what}{capped} with the weights at step {tr.step_count:,}, starting from "
                 f"{START_PHRASES[memory]}.")
    first = hs[units[0], :MAX_COLUMNS] if units else hs[:0, 0]
    alt = (f"Heatmap: {len(units)} hidden units (rows) over the first {min(len(tokens), MAX_COLUMNS)} tokens read "
           f"(columns), the colour {part} from −{scale:g} (orange) through 0 (white) to +{scale:g} (blue)."
           + (f" The first row, unit {units[0]}, runs from {first.min():+.2f} to {first.max():+.2f}." if first.size else ""))
    charts.plotly(hidden_heatmap(hs, units, tokens, part=part, scale=scale), alt=alt, key=f"gen_heat_{g}")
    lo, hi = (float(hs.min()), float(hs.max())) if hs.size else (0.0, 0.0)
    st.caption(f"Rows: hidden units; columns: the tokens read, left to right (drag sideways to scroll, hover for the "
               f"value). Blue: {part} near +{scale:g}, orange: near −{scale:g}, white: 0 (the colour bar gives the "
               f"numbers; on this text {part} runs from {lo:.2f} to {hi:.2f}). Look for a row that switches colour at "
               "a quote, a bracket or a line end: that unit has learned to keep track of it.")
    spread = hs.std(axis=1)
    unit = st.selectbox("Look at one unit over the text", units, key=f"gen_unit_{g}", persist_state=KEEP,
                        format_func=lambda u: f"unit {u} (spread σ = {spread[u]:.2f})")
    if unit is None:
        return
    st.html(unit_strip_html(tokens, hs[unit], unit, joiner=joiner(sess), part=part, scale=scale))
    st.caption(f"The text again, each token's background the value of unit {unit} after reading it. Does it light up "
               "inside quotes, after a space, near the end of a line? Early in training most units look like noise.")


# ---------------------------------------------------------------------------- page
def main() -> None:
    sess = setup_page()
    page_header(
        sess, "Generate text",
        "The model writes one token at a time: it reads the prime, turns its hidden state into a probability "
               "for every token in the vocabulary, draws one, reads it, and repeats. Sampling only reads the "
               "weights: nothing here changes the model.",
    )
    model_summary(sess)
    settings = controls(sess)
    st.divider()
    output(sess, settings)
    st.divider()
    hidden_units(sess, settings)


main()
