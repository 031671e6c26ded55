"""The lesson's chapters, in order: from one window's loss to the gated cells' highway.

Each chapter's question is answered by measuring the student's own session after the action (rnnviz.lesson.core);
the bands of the choices and the set-ups were checked through the engine over seeds 0-5, standing in for other
machines (tests/test_lesson.py asserts each chapter's point as a property on every one of them).
"""

from __future__ import annotations

import math

import numpy as np

from rnnviz.bptt import loss_and_grads
from rnnviz.cells import CELLS
from rnnviz.config import TrainConfig
from rnnviz.explain_cells import cell_trace
from rnnviz.lesson.core import Action, Chapter, Measure, Question, Setup, band, nearest, pct
from rnnviz.presets import DEFAULT_CONFIG
from rnnviz.race import GOAL
from rnnviz.truncation import truncation_gap, truncation_sweep
from rnnviz.vanish import reach_by_distance, window_reach

# The lesson opens on the app's first model (English prose, Adam η = 0.005: rnnviz.presets.DEFAULT_CONFIG says why):
# its loss falls from the first Step.
OPENING = DEFAULT_CONFIG
TRUNCATE_K = 4           # the word-level tutorial's bptt_truncate
REACH_D = 10             # "10 steps back" in the vanishing chapter


# ---------------------------------------------------------------------------- 1. one window
def _window_choices(ctx):
    V = ctx.trainer.vocab_size
    return ("about 0: it predicts well already", "about 1 nat per token", f"about ln V = ln {V} ≈ {math.log(V):.2f}",
            f"about {V}, the number of tokens")


def _window_measure(ctx) -> Measure:
    tr = ctx.trainer
    last = tr.last
    loss, V = float(last.loss_per_token), tr.vocab_size
    p = np.asarray(last.p_target, dtype=float)
    why = (f"Your model's first window scored {loss:.3f} nats per token; ln V = {math.log(V):.3f}. An untrained model "
           f"spreads its probability almost evenly: it gave each target p_t[y_t] between {p.min():.4f} and "
           f"{p.max():.4f}, close to 1/V = {1 / V:.4f}, and −log(1/V) = ln V. That is the dashed line ln V every loss chart "
           "draws: below it, the model has learned something.")
    return Measure(loss, f"{loss:.3f} nats per token", nearest(loss, (0.05, 1.0, math.log(V), float(V)), log=True), why,
                   {"ln_V": math.log(V), "p_min": float(p.min()), "p_max": float(p.max())})


WINDOW = Chapter(
    key="window", title="One window: what the model predicts, and its loss",
    text=(r"A character-level RNN reads a **window** of $T$ tokens $x_1 \dots x_T$ and, at every step $t$, guesses the "
          r"next one: it turns its hidden state into probabilities $p_t = \mathrm{softmax}(V h_t + c)$ over the $V$ tokens "
          "of the text. Its loss on the window is the surprise at what really came next, summed over the steps:"
          "\n\n"
          r"$$L = \sum_t -\log p_t[y_t] \quad \text{(nats; shown per token, } L/T\text{)}$$"
          "\n\n"
          "A confident right guess costs almost nothing; a confident wrong one costs a lot. One **Step** computes "
          "$L$ on the next window, sends its gradient back through time and nudges every weight downhill."),
    setup=Setup("English prose, H = 100, T = 25, Adam η = 0.005: fresh weights at step 0",
                sample="english_prose", config=OPENING),
    question=Question(
        prompt=lambda ctx: "Before it has learned anything, what loss per token will the model score on its first window?",
        choices=_window_choices, measure=_window_measure),
    action=Action("Step", "train", 1, "One SGD update on the first window"),
    charts=("window", "loss"), page=("pages/train.py", "Train"),
    after="Now train on: press **Step ×20** and watch the loss fall under the dashed line ln V.",
    more=Action("Step ×20", "train", 20, "20 more SGD updates"),
)


# ---------------------------------------------------------------------------- 2. one step of BPTT
def _bptt_measure(ctx) -> Measure:
    tr = ctx.trainer
    xs, ys, h0 = tr.next_window()
    tc = cell_trace(tr.params, xs, ys, h0, cell=tr.config.cell)
    terms = np.array([tc.term_norms(t)["W"] for t in range(tc.T)])
    whole = tc.running_norms(0)["W"]
    share = terms / whole if whole > 0 else np.full(tc.T, np.nan)
    last, top = float(share[-1]), int(np.nanargmax(share))
    why = (f"The window's dW is a sum of {tc.T} outer products δ_t h_(t−1)ᵀ, one per step, because the same W is used at "
           f"every step. The last step's term is {pct(last)} of ‖dW‖ = {whole:.3g}; the largest is step {top + 1}'s "
           f"({pct(float(share[top]))}). Each δ_t = (1 − h_t²) ⊙ (Vᵀ(p_t − onehot(y_t)) + Wᵀδ_(t+1)) carries its own "
           "loss term and what the later steps send back through it, so no single step owns the gradient.")
    return Measure(last, f"{pct(last)} of ‖dW‖", 3 - band(last, (0.05, 0.3, 0.8)), why,
                   {"whole": float(whole), "largest_step": top + 1, "largest_share": float(share[top])})


BPTT = Chapter(
    key="bptt", title="One step of backpropagation through time",
    text=(r"Going backwards from $t = T$ to $1$, the gradient at each step has two sources: its own loss term and "
          "what comes back from the step after it:"
          "\n\n"
          r"$$\delta_t = (1 - h_t^2) \odot \left(V^\top (p_t - \mathrm{onehot}(y_t)) + W^\top \delta_{t+1}\right)$$"
          "\n\n"
          r"$p_t - \mathrm{onehot}(y_t)$ is how wrong the guess at $t$ was; $1 - h_t^2$ is tanh's slope. The same $W$, "
          r"$U$ and $b$ are used at every step, so their gradients are **sums over time**: "
          r"$dW = \sum_t \delta_t h_{t-1}^\top$, one outer product per step (the word-level tutorial's point)."),
    setup=Setup("the opening model, trained 20 steps", sample="english_prose", config=OPENING, steps=20),
    question=Question(
        prompt=lambda ctx: (f"The window has T = {ctx.trainer.config.seq_len} steps. How much of the window's ‖dW‖ will "
                            "the last step's term δ_T h_(T−1)ᵀ be?"),
        choices=lambda ctx: ("almost all of it (more than 80%)", "a large part (30-80%)", "a small part (5-30%)",
                             "a tiny part (less than 5%)"),
        measure=_bptt_measure),
    action=Action("Run the backward pass", "look", 0, "Compute this window's backward pass, step by step"),
    charts=("graph", "dw"), page=("pages/explorer.py", "BPTT explorer"),
)


# ---------------------------------------------------------------------------- 3. the two gradients
def _two_measure(ctx) -> Measure:
    tr = ctx.trainer
    xs, ys, h0 = tr.next_window()
    res = loss_and_grads(tr.params, xs, ys, h0, cell=tr.config.cell)
    total = float(res.dh_norms[0] / res.dh_norms[-1])
    ratio, _ = window_reach(tr.params, xs, ys, h0, cell=tr.config.cell)
    far = float(ratio[-1])
    T = xs.size
    why = (f"On your window ‖∂L/∂h_1‖ / ‖∂L/∂h_T‖ = {total:.2g}: the total stays level, because every step adds its "
           f"own loss term to what arrives from later. But one loss term's gradient fell to {pct(far)} of itself "
           f"across the same {T - 1} steps (the bars). Vanishing lives in the reach of each term, never in the total.")
    return Measure(total, f"{total:.2g}× the last step's", band(total, (0.01, 0.1, 10.0)), why, {"reach_far": far})


TWO = Chapter(
    key="two", title="The two gradients that must not be confused",
    text=("There are two gradients of the hidden state, and only one of them can show vanishing."
          "\n\n"
          r"- The **total** $\lVert \partial L / \partial h_t \rVert$ with $L = \sum_s L_s$: its own loss term plus "
          "everything later terms send back.\n"
          r"- The **reach** of one loss term, $\lVert \partial L_t / \partial h_k \rVert$ for $k \le t$: how much of "
          r"$L_t$'s gradient is left $t - k$ steps back."
          "\n\n"
          r"This model has $\rho(W) = 0.5$ and a 40-step window (the *Vanishing gradients* preset)."),
    setup=Setup("the Vanishing gradients preset (ρ(W) = 0.5, T = 40), step 0", preset="vanishing"),
    question=Question(
        prompt=lambda ctx: ("Compare the total gradient ‖∂L/∂h_t‖ at the window's first step with the one at its last "
                            "step. The first is:"),
        choices=lambda ctx: ("less than 1/100 of the last", "between 1/100 and 1/10 of it", "about the same (1/10 to 10×)",
                             "more than 10× the last"),
        measure=_two_measure),
    action=Action("Show both gradients", "look", 0, "Measure both on the window the next Step trains on"),
    charts=("reach", "total"), page=("pages/train.py", "Train"),
)


# ---------------------------------------------------------------------------- 4. vanishing
def _vanish_measure(ctx) -> Measure:
    tr = ctx.trainer
    xs, ys, h0 = tr.next_window()
    ratio, _ = window_reach(tr.params, xs, ys, h0, cell=tr.config.cell)
    left = float(ratio[REACH_D])
    rho = tr.spectrum().rho
    line = rho ** REACH_D
    why = (f"Going back one step multiplies the gradient by diag(1 − h_t²) W. With ρ(W) = {rho:.2f}, ρ(W)^{REACH_D} = "
           f"{line:.2g}; your model measured {left:.2g}, about {left ** (1 / REACH_D):.2f}× per step"
           + (" (tanh′ = 1 − h_t² ≤ 1 takes a little more)." if left < line else ".")
           + " A closing letter 20-40 steps after its opening letter gets next to no gradient from it: the vanilla RNN "
             "cannot learn that it matters.")
    return Measure(left, f"{pct(left)} is left", 3 - band(left, (0.002, 0.03, 0.3)), why,
                   {"rho": float(rho), "rho_power": float(line)})


VANISH = Chapter(
    key="vanish", title="Vanishing: ρ(W) < 1",
    text=("Each step back through the vanilla RNN multiplies the gradient by the local Jacobian"
          "\n\n"
          r"$$\frac{\partial h_t}{\partial h_{t-1}} = \mathrm{diag}(1 - h_t^2)\, W .$$"
          "\n\n"
          r"If $W$ shrinks vectors (spectral radius $\rho(W) < 1$) and $\tanh' = 1 - h_t^2 \le 1$, the product shrinks "
          r"like $\rho(W)^d$ over $d$ steps (Pascanu et al. 2013 bound it by $\sigma_{\max}(W)^d$). This model starts "
          r"with $\rho(W) = 0.5$."),
    setup=Setup("the Vanishing gradients preset (ρ(W) = 0.5, T = 40), step 0", preset="vanishing"),
    question=Question(
        prompt=lambda ctx: f"How much of a loss term's gradient is left {REACH_D} steps back in this model?",
        choices=lambda ctx: ("about half", "about a tenth", "about 1%", "0.1% or less"),
        measure=_vanish_measure),
    action=Action("Measure the reach", "look", 0, "The reach of every loss term on the window the next Step trains on"),
    charts=("reach", "decay"), page=("pages/lab.py", "Vanishing & exploding lab"),
)


# ---------------------------------------------------------------------------- 5. exploding
def _explode_measure(ctx) -> Measure:
    tr = ctx.trainer
    h = tr.history
    g = h.column("grad_norm")[-20:]
    loss = h.column("loss")[-10:]
    top, first = float(np.nanmax(g)), float(g[0])
    why = (f"Without clipping the first step's gradient norm was {first:,.0f} and the largest of the 20 was {top:,.0f}. "
           f"With ρ(W) = 3 every step back can stretch the gradient up to 3×: {tr.config.seq_len} steps of it compound. "
           f"The updates overshoot: the last 10 steps averaged {float(np.nanmean(loss)):.2f} nats per token, above "
           f"ln V = {tr.baseline_loss:.2f}, where a model that knows nothing would be.")
    return Measure(top, f"{top:,.0f} at most", band(top, (10.0, 1e3, 1e5)), why,
                   {"first": first, "loss_last10": float(np.nanmean(loss)), "ln_V": tr.baseline_loss})


EXPLODE = Chapter(
    key="explode", title="Exploding: ρ(W) > 1",
    text=(r"The same product can grow instead. With $\rho(W) = 3$, going back one step can stretch the gradient "
          r"threefold, and over a window the stretches multiply. The gradient norm $\lVert \partial L / \partial \theta "
          r"\rVert$ then becomes huge, and plain SGD, which moves every weight by $\eta$ times the gradient, takes a giant "
          "step in a random-looking direction."),
    setup=Setup("the Exploding gradients preset (ρ(W) = 3, plain SGD η = 0.1, no clipping), step 0", preset="exploding"),
    question=Question(
        prompt=lambda ctx: "Over the next 20 steps, how large will the biggest gradient norm ‖∂L/∂θ‖ be?",
        choices=lambda ctx: ("below 10", "10 to 1,000", "1,000 to 100,000", "above 100,000"),
        measure=_explode_measure),
    action=Action("Step ×20", "train", 20, "20 SGD updates without clipping"),
    charts=("loss", "norms"), page=("pages/lab.py", "Vanishing & exploding lab"),
)


# ---------------------------------------------------------------------------- 6. clipping
def _clip_measure(ctx) -> Measure:
    tr = ctx.trainer
    h = tr.history
    fired = h.column("clipped")[-20:].astype(bool)
    before, after = h.column("grad_norm")[-20:], h.column("grad_norm_clipped")[-20:]
    n = int(fired.sum())
    c = tr.config.clip_value
    loss = float(np.nanmean(h.column("loss")[-10:]))
    span = (f"from {before[fired].min():,.0f} to {before[fired].max():,.0f} before, exactly "
            f"{after[fired].min():.4g} after" if n else "never above c")
    why = (f"Clipping fired on {n} of 20 steps: the norm ran {span}. Clipping keeps the gradient's direction and cuts its "
           f"length to c = {c:g}, so no single step can throw the weights far. The last 10 steps averaged {loss:.2f} "
           f"nats per token against ln V = {tr.baseline_loss:.2f}: the run holds where the unclipped one shot above it.")
    return Measure(float(n), f"{n} of 20 steps", band(float(n), (1, 6, 20)), why,
                   {"after_min": float(after[fired].min()) if n else math.nan,
                    "after_max": float(after[fired].max()) if n else math.nan, "loss_last10": loss})


CLIP = Chapter(
    key="clip", title="Clipping rescues it",
    text=(r"The same text, the same first weights and the same $\eta$ as the exploding run, with one change: before "
          r"each update, a gradient whose norm $\lVert g \rVert$ exceeds $c = 5$ is scaled down to norm exactly $c$:"
          "\n\n"
          r"$$g \leftarrow g \cdot \frac{c}{\lVert g \rVert} \quad \text{when } \lVert g \rVert > c$$"
          "\n\n"
          "(Pascanu et al. 2013; min-char-rnn clips each entry to ±5 instead). The red ticks under the loss chart mark "
          "the steps where it fires."),
    setup=Setup("the Clipping rescues it preset (as Exploding, with ‖g‖ clipped to 5), step 0", preset="clipping"),
    question=Question(
        prompt=lambda ctx: "On how many of the next 20 steps will clipping fire?",
        choices=lambda ctx: ("none", "a few (1-5)", "most (6-19)", "all 20"),
        measure=_clip_measure),
    action=Action("Step ×20", "train", 20, "20 SGD updates with clipping"),
    charts=("loss", "norms"), page=("pages/lab.py", "Vanishing & exploding lab"),
    after="Press **Step ×50** a few times: the clipped run's loss falls below the dashed line ln V.",
    more=Action("Step ×50", "train", 50, "50 more SGD updates, clipped"),
)


# ---------------------------------------------------------------------------- 7. truncated BPTT
def _trunc_measure(ctx) -> Measure:
    tr = ctx.trainer
    xs, ys, h0 = tr.next_window()
    gap = truncation_gap(tr.params, xs, ys, h0, TRUNCATE_K, cell=tr.config.cell)["all"].rel_error
    sw = truncation_sweep(tr.params, xs, ys, h0, cell=tr.config.cell)
    below = sw.ks[np.isfinite(sw.rel_error["all"]) & (sw.rel_error["all"] < 0.01)]
    first = int(below[0]) if below.size else None
    why = (f"At k = {TRUNCATE_K} the truncated gradient is {pct(gap)} away from the full one on your window: that much of "
           "the gradient came from loss terms more than 4 steps back. "
           + (f"From k = {first} on the error is below 1% (the sweep): the longer-range terms carry almost nothing here."
              if first is not None else "Even the longest k leaves more than 1%: long-range terms matter here."))
    return Measure(gap, f"{pct(gap)} off", band(gap, (0.01, 0.1, 0.5)), why, {"first_below_1pct": first})


TRUNC = Chapter(
    key="trunc", title="Truncated BPTT: what is cut, measured",
    text=("Full BPTT sends every loss term back to the start of the window. **Truncated** BPTT with length $k$ stops "
          "each term after $k$ steps back (the word-level tutorial's `bptt_truncate = 4`): cheaper, and harmless when the "
          "gradient has vanished by then anyway; costly when the text has dependencies longer than $k$. This model is "
          "the *Word-level* preset: words as tokens, trained with $k = 4$."),
    setup=Setup("the Word-level preset (truncated BPTT, k = 4), trained 20 steps", preset="word", steps=20),
    question=Question(
        prompt=lambda ctx: (f"How far is the gradient truncated at k = {TRUNCATE_K} from the full one, "
                            "‖g_k − g‖ / ‖g‖, on the next window?"),
        choices=lambda ctx: ("less than 1%", "1% to 10%", "10% to 50%", "more than 50%"),
        measure=_trunc_measure),
    action=Action("Measure it", "look", 0, "Compare truncated and full BPTT on the next window"),
    charts=("sweep",), page=("pages/lab.py", "Vanishing & exploding lab"),
)


# ---------------------------------------------------------------------------- 8. SGD vs Adagrad
def _optim_measure(ctx) -> Measure:
    run = ctx.twin
    a, b = run.series(run.a), run.series(run.b)
    la, lb = float(np.nanmean(a["loss"][-20:])), float(np.nanmean(b["loss"][-20:]))
    peak = float(np.nanmax(b["loss"][:10]))
    diff = la - lb
    which = 0 if diff < -0.05 else 1 if diff > 0.05 else 2
    base = ctx.trainer.baseline_loss
    why = (f"Over the last 20 of 100 steps: {run.a.label}: {la:.2f}; {run.b.label}: {lb:.2f} nats per token (ln V = "
           f"{base:.2f}). Plain SGD moves each weight by η times its gradient, and a window's summed loss has large "
           "gradients: at η = 0.1 its steps overshoot. Adagrad divides each weight's step by the root of that weight's "
           f"summed squared gradients, so every weight first moves about η (its loss peaked at {peak:.2f} in the first "
           "10 steps) and then ever less, most for the weights pushed most often.")
    return Measure(diff, f"SGD {la:.2f}, Adagrad {lb:.2f}", which, why, {"sgd": la, "adagrad": lb, "adagrad_peak": peak})


OPTIM = Chapter(
    key="optim", title="SGD against Adagrad",
    text=("The character-level tutorial trains with **Adagrad** and says to check and compare both. Two copies of one "
          r"model, the same first weights and the same windows, differ only in the optimizer, both at $\eta = 0.1$ "
          "(min-char-rnn's settings, clipping each entry to ±5):"
          "\n\n"
          r"- SGD: $\theta \leftarrow \theta - \eta\, g$" "\n"
          r"- Adagrad: $m \leftarrow m + g^2, \quad \theta \leftarrow \theta - \eta\, g / \sqrt{m + 10^{-8}}$"),
    setup=Setup("English prose with min-char-rnn's settings (H = 100, T = 25, η = 0.1), twins SGD / Adagrad from the "
                "same fresh weights", sample="english_prose", config=TrainConfig(), twin="optimizer"),
    question=Question(
        prompt=lambda ctx: "After 100 steps, which twin's loss will be lower?",
        choices=lambda ctx: ("SGD's", "Adagrad's", "about the same (within 0.05 nats)"),
        measure=_optim_measure, ordinal=False),
    action=Action("Step both ×100", "twin", 100, "100 updates of each twin on the same windows"),
    charts=("twin_loss",), page=("pages/lab.py", "Vanishing & exploding lab"),
)


# ---------------------------------------------------------------------------- 9. the cure
RACE_STEPS = 3000        # race steps in the final chapter: every gated cell has learned by then (README, measured)


def _race_measure(ctx) -> Measure:
    race = ctx.race
    rows = race.summary()
    ok = {r["cell"]: r["best"] >= GOAL for r in rows}      # reached the goal at some scoring within the race
    gated = [c for c in ok if CELLS[c].gate_names]          # cells with gates: all but the vanilla RNN
    plain = [c for c in ok if not CELLS[c].gate_names]
    kind = (0 if not any(ok.values()) else
            1 if all(ok[c] for c in gated) and not any(ok[c] for c in plain) else
            2 if all(ok.values()) else 3)
    d = race.dependency_distance()
    left = {}
    for r in rows:                                          # the same reading the race page shows
        for part, R in race.reaches(r["cell"]).items():
            left[r["label"] if part == "h" else f"{r['label']} through {part}"] = float(reach_by_distance(R)[0][d])
    scores = "; ".join(f"{r['label']} best {r['best']:.0%}" for r in rows)
    highway = max(left, key=lambda k: left[k] if math.isfinite(left[k]) else -1)
    why = (f"Within {race.steps:,} race steps, right closing markers at best: {scores} (chance {race.chance:.0%}). "
           f"{d} steps back "
           f"(the text's mean distance) what is left of a loss term's gradient: "
           + "; ".join(f"{k} {pct(v)}" for k, v in left.items())
           + f". The most survives in {highway}: along a gated cell's state the gradient is multiplied by a gate "
             "(f_t, z_t or 1 − z_t) and nothing else, so where the gate stays open it passes on whole.")
    return Measure(float(kind), scores, kind, why, {"left": left, "d": d})


CURE = Chapter(
    key="cure", title="The cure: a highway for the gradient",
    text=(r"Gated cells give the gradient a path with no $W$ and no $\tanh'$ in the way. The LSTM keeps a cell state "
          r"$c_t = f_t \odot c_{t-1} + i_t \odot g_t$, so going back along $c$ multiplies by the forget gate alone: "
          r"$\partial c_t / \partial c_{t-1} = \mathrm{diag}(f_t)$. The GRU copies $h_{t-1}$ with weight $z_t$; the "
          r"minGRU (2024) keeps only that mix, $\partial h_t / \partial h_{t-1} = \mathrm{diag}(1 - z_t)$. The race trains "
          "all four cells on lines that close with the marker they opened with, 20-40 characters back."),
    setup=Setup("the race: vanilla RNN, minGRU, GRU and LSTM on the long-memory text, step 0", race=True),
    question=Question(
        prompt=lambda ctx: (f"Within {RACE_STEPS:,} race steps, which models will pick the right closing marker at "
                            f"least {GOAL:.0%} of the time?"),
        choices=lambda ctx: ("none of them", "the gated cells, but not the vanilla RNN", "all four, the vanilla RNN too",
                             "only the vanilla RNN"),
        measure=_race_measure, ordinal=False),
    action=Action(f"Race ×{RACE_STEPS:,}", "race", RACE_STEPS,
                  "Train all four models together: about half a minute of this session's CPU share"),
    charts=("race_score", "race_reach"), page=("pages/race.py", "The race: who remembers?"),
)


CHAPTERS: tuple[Chapter, ...] = (WINDOW, BPTT, TWO, VANISH, EXPLODE, CLIP, TRUNC, OPTIM, CURE)
