"""Figures of the BPTT explorer: the unrolled network with the gradient on it, weight-gradient
heatmaps, full vs truncated gradients per time step, and the gradient check.

Back and Forward rebuild several of these per click, so they are plain dict specs turned into
figures by ``fast_figure`` (as on the Train page); tests validate every spec with plotly's checks.
"""

from __future__ import annotations

import html

import numpy as np
import plotly.graph_objects as go
from plotly.colors import get_colorscale

from rnnviz.figures.common import ACCENT, CLIP_RED, SMOOTH, fast_figure, layout, token_label
from rnnviz.figures.palette import ACTIVATION_STOPS, GOOD, LINES, text_colour
from rnnviz.gradcheck import BAD  # the gradient check's reading: below RIGHT right, above BAD wrong
from rnnviz.gradcheck import GOOD as RIGHT

MAX_SHOWN = 12              # time steps drawn in the unrolled graph; the rest become "…"
MAX_UNITS = 100             # rows/columns of a weight matrix drawn in a heatmap
WEIGHT_COLOURS = {"U": LINES[2], "W": LINES[0], "V": LINES[1]}   # same colour = same shared matrix (teal, dark blue, orange)
NEUTRAL = "#b8b8b8"
CUT = "#d0d0d0"
GLOW_NOW = "rgba(214, 39, 40, 0.55)"     # the gradient at the current step
GLOW_PATH = "rgba(214, 39, 40, 0.22)"    # the gradient arriving at h_t from later steps
ROWS = {"x": 0.0, "h": 1.0, "o": 2.0, "L": 3.0}

FLOOR = 1e-16               # relative errors drawn at least this high on the log axis (0 is exact)
# Colour scales as explicit lists: fast_figure skips the validation that would expand a name, and
# plotly.js itself knows only a few names (not OrRd or the reversed RdBu_r).
NODE_SCALE = tuple(map(tuple, get_colorscale("OrRd")))
# dW's sign on the app's one diverging scale (orange −, white 0, blue +), rescaled to plotly's [0, 1].
DIVERGING = tuple(((v + 1) / 2, f"rgb{c}") for v, c in ACTIVATION_STOPS)


def _arr(a) -> np.ndarray:
    """float64 array with ±∞ turned into NaN (a gap)."""
    a = np.asarray(a, dtype=float)
    return np.where(np.isfinite(a), a, np.nan)


def visible_steps(T: int, t: int, max_steps: int = MAX_SHOWN) -> tuple[int, int]:
    """(lo, hi), 0-based and inclusive: at most max_steps steps around t, more of them after t
    (where the gradient comes from) than before."""
    if T <= max_steps:
        return 0, T - 1
    lo = min(max(0, t - max_steps // 3), T - max_steps)
    return lo, lo + max_steps - 1


def _sub(name: str, s: int) -> str:
    return f"{name}<sub>{s}</sub>"


def _colourbar_ticks(lo: float, hi: float) -> dict:
    """Up to 4 ticks between log10 values lo and hi, labelled with the norm itself, all distinct."""
    for n in (4, 3, 2):
        vals = np.linspace(lo, hi, n)
        text = [f"{10 ** v:.3g}" for v in vals]
        if len(set(text)) == n:
            return {"tickvals": vals, "ticktext": text}
    return {"tickvals": [hi], "ticktext": [f"{10 ** hi:.3g}"]}


def unrolled_graph_spec(input_tokens, target_tokens, t: int, truncate: int | None, dh_norms, losses,
                        max_steps: int = MAX_SHOWN, dc_norms=None, cell_path: str = "⊙ f", recurrence: str = "W") -> dict:
    """The window unrolled: x_s → h_s → o_s → L_s and h_{s−1} → h_s, with the backward pass at t.

    input_tokens, target_tokens: T strings (x_s, y_s).  t: current step, 0-based (shown as t+1).
    truncate: k or None.  dh_norms: (T,) ‖∂L/∂h_s‖ (nodes already visited, s ≥ t, are coloured
    by it).  losses: (T,) L_s.  Loss terms that cannot reach h_t under truncation are greyed and
    the W edge where their gradient is cut carries a ✂.
    dc_norms: (T,) ‖∂L/∂c_s‖ for a cell with a cell state (the LSTM): a row of c nodes is drawn
    between the h nodes, c_{s−1} → c_s labelled ``cell_path`` (⊙ f_s: ∂c_s/∂c_{s−1} = diag(f_s)),
    the edges the gradient takes back to c_t drawn thick and red.
    recurrence: the label of the edges h_{s−1} → h_s (the cell's ``recurrence``: W, or the minGRU's ⊙ (1−z)).
    """
    T = len(input_tokens)
    lo, hi = visible_steps(T, t, max_steps)
    # With a cell-state row, o and L move up to make room for it between h and o.
    R = dict(ROWS) if dc_norms is None else {**ROWS, "o": ROWS["o"] + C_ROW, "L": ROWS["L"] + C_ROW}
    xpos = {s: s - lo + 1 for s in range(lo, hi + 1)}          # column 0 is h_0 or "…"
    right = hi - lo + 2                                          # column of the right "…"
    k = truncate
    data, shapes, notes = [], [], []

    def reaches(s: int) -> bool:  # does L_s send gradient to h_t?
        return s >= t and (k is None or s - t <= k)

    def edge(x0, y0, x1, y1, colour, width=1.6, label=None, label_colour=None, glow=None, dx=0.0, dy=0.0):
        if glow:
            shapes.append(dict(type="line", x0=x0, y0=y0, x1=x1, y1=y1, layer="below",
                               line=dict(color=glow, width=14 if glow == GLOW_NOW else 10)))
        notes.append(dict(x=x1, y=y1, ax=x0, ay=y0, xref="x", yref="y", axref="x", ayref="y", text="",
                          showarrow=True, arrowhead=2, arrowsize=1.1, arrowwidth=width, arrowcolor=colour,
                          standoff=17, startstandoff=17))
        if label:
            notes.append(dict(x=(x0 + x1) / 2 + dx, y=(y0 + y1) / 2 + dy, text=f"<b>{label}</b>", showarrow=False,
                              font=dict(size=12, color=text_colour(label_colour or colour))))

    # --- edges -----------------------------------------------------------------------------
    for s in range(lo, hi + 1):
        x = xpos[s]
        now = s == t
        edge(x, R["x"], x, R["h"], WEIGHT_COLOURS["U"], label="U", dx=-0.17, glow=GLOW_NOW if now else None)
        glow_out = GLOW_NOW if now else (GLOW_PATH if reaches(s) else None)
        cut_out = s > t and not reaches(s)
        edge(x, R["h"], x, R["o"], CUT if cut_out else WEIGHT_COLOURS["V"], label="V", dx=-0.17, glow=glow_out)
        edge(x, R["o"], x, R["L"], CUT if cut_out else NEUTRAL, glow=glow_out)
    for s in range(lo, hi + 2):   # W edge into h_s (from h_{s−1}); s = hi + 1 leads to the right "…"
        if s == hi + 1 and hi == T - 1:
            break
        x0, x1 = (xpos[s] - 1, xpos[s]) if s <= hi else (xpos[hi], right)
        carries = t < s and reaches(s)             # some L_{s..t+k} crosses this edge towards h_t
        is_cut = k is not None and s == t + k + 1  # L_{t+k+1}'s gradient stops here
        edge(x0, R["h"], x1, R["h"], CUT if is_cut else WEIGHT_COLOURS["W"], label=f"✂ {recurrence}" if is_cut else recurrence,
             dy=0.13, label_colour=CLIP_RED if is_cut else None,
             glow=GLOW_NOW if s == t + 1 and carries else (GLOW_PATH if carries else None))

    # --- nodes -----------------------------------------------------------------------------
    steps = np.arange(lo, hi + 1)
    cols = np.array([xpos[s] for s in steps], dtype=float)
    visited = steps >= t
    dh = np.asarray(dh_norms, dtype=float)[steps]
    with np.errstate(divide="ignore", invalid="ignore"):
        logdh = np.log10(np.where(dh > 0, dh, np.nan))
    fin = logdh[visited & np.isfinite(logdh)]
    cmin, cmax = (float(fin.min()), float(fin.max())) if fin.size else (0.0, 1.0)
    if cmax - cmin < 1e-9:
        cmin, cmax = cmin - 0.5, cmax + 0.5
    ring = dict(width=1.5, color="#555")
    todo = ~visited
    data.append(dict(   # h nodes the backward pass has not reached yet
        type="scatter", x=cols[todo], y=np.full(int(todo.sum()), R["h"]), mode="markers+text",
        text=[_sub("h", s + 1) for s in steps[todo]], textfont=dict(size=13, color="#666"),
        marker=dict(size=36, color="white", line=ring), showlegend=False,
        hovertemplate="%{text}: the backward pass has not reached it yet<extra></extra>"))
    dark = cmin + 0.55 * (cmax - cmin)             # above this the fill is dark: white text
    data.append(dict(   # h nodes visited: coloured by how much gradient reached them
        type="scatter", x=cols[visited], y=np.full(int(visited.sum()), R["h"]), mode="markers+text",
        text=[_sub("h", s + 1) for s in steps[visited]],
        textfont=dict(size=13, color=["white" if v > dark else "black" for v in logdh[visited]]),
        customdata=np.stack([dh[visited], steps[visited] + 1], axis=1) if visited.any() else None,
        marker=dict(size=36, color=_arr(logdh[visited]), colorscale=NODE_SCALE, cmin=cmin - 0.3 * (cmax - cmin),
                    cmax=cmax, line=dict(width=[4 if s == t else 1.5 for s in steps[visited]],
                                         color=["black" if s == t else "#555" for s in steps[visited]]),
                    colorbar=dict(title=dict(text="‖∂L/∂h<sub>t</sub>‖", side="right"), thickness=12, len=0.75,
                                  **_colourbar_ticks(cmin, cmax))),
        hovertemplate="h<sub>%{customdata[1]}</sub>: ‖∂L/∂h‖ = %{customdata[0]:.3g}<extra></extra>",
        showlegend=False))
    for row in ("x", "o", "L"):
        fill, font = [], []
        for s in steps:
            if row == "x":
                fill.append("#e8f5e9" if s == t else "white")
                font.append("black")
            elif s == t or reaches(s):
                fill.append("#f8c9c9" if s == t else "#fde6e6")
                font.append("black")
            elif s > t:  # cut by truncation
                fill.append("#f2f2f2")
                font.append("#767676")   # greyed, and still 4.5:1 on white
            else:
                fill.append("white")
                font.append("#666")
        hover = ([f"x<sub>{s + 1}</sub> = {token_label(input_tokens[s])}" for s in steps] if row == "x" else
                 [f"{row}<sub>{s + 1}</sub>: L<sub>{s + 1}</sub> = {losses[s]:.3f} nats "
                  f"(target {token_label(target_tokens[s])})"
                  + ("" if s < t or reaches(s) else f"<br>cut: more than k = {k} steps after t") for s in steps])
        data.append(dict(
            type="scatter", x=cols, y=np.full(cols.size, R[row]), mode="markers+text",
            text=[_sub(row, s + 1) for s in steps], textfont=dict(size=13, color=font), hovertext=hover,
            hoverinfo="text", showlegend=False,
            marker=dict(size=36, symbol="square" if row == "x" else "circle", color=fill, line=ring)))
    if dc_norms is not None:
        _cell_row(data, edge, xpos, steps, t, lo, hi, reaches, np.asarray(dc_norms, dtype=float), cell_path)
    # left end: the carried state h_0 (a constant here) or "…"; right end: "…"
    if lo == 0:
        data.append(dict(type="scatter", x=[0], y=[R["h"]], mode="markers+text", text=[_sub("h", 0)],
                         textfont=dict(size=13, color="#666"), showlegend=False,
                         marker=dict(size=36, color="#eeeeee", line=dict(width=1.5, color="#999")),
                         hovertext=["h<sub>0</sub>: carried from the previous window, held constant"],
                         hoverinfo="text"))
    else:
        edge(0, R["h"], 1, R["h"], WEIGHT_COLOURS["W"], label=recurrence, dy=0.13)
    for xcol, show in ((0, lo > 0), (right, hi < T - 1)):
        if show:
            for r in R.values():
                notes.append(dict(x=xcol, y=r, text="…", showarrow=False, font=dict(size=22, color="#767676")))
    for s in steps:   # tokens under the inputs and over the losses
        notes.append(dict(x=xpos[s], y=R["x"] - 0.5, text=token_label(input_tokens[s]), showarrow=False,
                          font=dict(size=13, family="monospace")))
        notes.append(dict(x=xpos[s], y=R["L"] + 0.5, text="→" + token_label(target_tokens[s]), showarrow=False,
                          font=dict(size=12, family="monospace", color="#555")))
    lay = layout(height=440, shapes=shapes, annotations=notes,
                 xaxis=dict(visible=False, range=[-0.6, right + 0.6]),
                 yaxis=dict(visible=False, range=[R["x"] - 0.85, R["L"] + 0.8]))
    lay["margin"] = dict(l=10, r=10, t=10, b=10)
    return dict(data=data, layout=lay)


C_ROW = 0.75      # the c nodes sit this far above the h row, halfway between two time steps
C_SHIFT = 0.45
HIGHWAY = "#d62728"


def _cell_row(data, edge, xpos, steps, t, lo, hi, reaches, dc, cell_path) -> None:
    """The LSTM's cell state in the unrolled graph: c_s nodes, c_{s−1} → c_s (⊙ f_s) and c_s → h_s."""
    y = ROWS["h"] + C_ROW
    for s in range(lo, hi + 1):
        x = xpos[s] + C_SHIFT
        on_path = t < s and reaches(s)          # gradient from L_s travels c_s → c_{s−1} towards c_t
        if s > 0 or lo == 0:
            edge(x - 1, y, x, y, HIGHWAY if on_path else WEIGHT_COLOURS["W"], width=3.2 if on_path else 1.6,
                 label=f"{cell_path}<sub>{s + 1}</sub>", label_colour=HIGHWAY if on_path else None, dy=0.2,
                 glow=GLOW_PATH if on_path else None)
        edge(x, y, xpos[s], ROWS["h"], NEUTRAL, width=1.2)
    visited = steps >= t
    with np.errstate(divide="ignore", invalid="ignore"):
        logdc = np.log10(np.where(dc[steps] > 0, dc[steps], np.nan))
    fin = logdc[visited & np.isfinite(logdc)]
    cmin, cmax = (float(fin.min()), float(fin.max())) if fin.size else (0.0, 1.0)
    if cmax - cmin < 1e-9:
        cmin, cmax = cmin - 0.5, cmax + 0.5
    colour = [float(v) if vis and np.isfinite(v) else None for v, vis in zip(logdc, visited, strict=True)]
    data.append(dict(
        type="scatter", x=[xpos[s] + C_SHIFT for s in steps], y=np.full(steps.size, y), mode="markers+text",
        text=[_sub("c", s + 1) for s in steps], textfont=dict(size=12, color="black"), showlegend=False,
        marker=dict(size=30, symbol="diamond", color=[c if c is not None else cmin - 0.3 * (cmax - cmin) for c in colour],
                    colorscale=NODE_SCALE, cmin=cmin - 0.3 * (cmax - cmin), cmax=cmax, line=dict(width=1.5, color="#555")),
        customdata=np.stack([dc[steps], steps + 1], axis=1),
        hovertemplate="c<sub>%{customdata[1]}</sub>: ‖∂L/∂c‖ = %{customdata[0]:.3g}<extra></extra>"))
    if lo == 0:
        data.append(dict(type="scatter", x=[C_SHIFT], y=[y], mode="markers+text", text=[_sub("c", 0)],
                         textfont=dict(size=12, color="#666"), showlegend=False, hoverinfo="text",
                         hovertext=["c<sub>0</sub>: carried from the previous window, held constant"],
                         marker=dict(size=30, symbol="diamond", color="#eeeeee", line=dict(width=1.5, color="#999"))))


def matrix_heatmap_spec(M, scale_of=None, max_units: int = MAX_UNITS, colorbar_title: str = "value",
                        blocks: tuple[str, ...] = ()) -> dict:
    """A weight-shaped matrix (rows i, columns j) on a diverging scale ±max|scale_of| (scale_of = M if
    None), so that partial sums drawn against the whole keep one colour meaning.

    blocks: the names of a gated cell's G row blocks (M is G·H × H, e.g. the LSTM's i, f, g, o): each
    block shows its first max_units // G rows, stacked and labelled, so every gate is on the chart.
    Otherwise only the top-left max_units × max_units block is drawn (a bigger heatmap shows nothing more)."""
    M = np.asarray(M, dtype=float)
    G = len(blocks) if len(blocks) > 1 else 1
    H = M.shape[0] // G
    per = min(H, max(1, max_units // G))          # rows shown of each block
    rows = np.concatenate([np.arange(b * H, b * H + per) for b in range(G)])
    sub = M[rows, :max_units]
    ref = np.abs(np.asarray(M if scale_of is None else scale_of, dtype=float))
    z = float(ref.max()) if ref.size and np.isfinite(ref.max()) and ref.max() > 0 else 1.0
    y = np.arange(1, sub.shape[0] + 1)
    yaxis = dict(title=dict(text="row i (unit of h<sub>t</sub> and δ<sub>t</sub>)"), showgrid=False,
                 autorange="reversed", ticks="")
    trace = dict(type="heatmap", z=_arr(sub), x=np.arange(1, sub.shape[1] + 1), y=y,
                 zmin=-z, zmax=z, zmid=0, colorscale=DIVERGING,
                 colorbar=dict(title=dict(text=colorbar_title, side="right"), thickness=12),
                 hovertemplate="row i = %{y}, column j = %{x}<br>%{z:.3g}<extra></extra>")
    shapes = []
    if G > 1:
        names = [html.escape(str(n)) for n in blocks]
        trace["customdata"] = [[f"{names[r // H]}, unit {r % H + 1}"] * sub.shape[1] for r in rows]
        trace["hovertemplate"] = "block %{customdata}, column j = %{x}<br>%{z:.3g}<extra></extra>"
        yaxis.update(title=dict(text=f"gate block (first {per} units each)" if per < H else "gate block, then unit"),
                     tickmode="array", tickvals=[b * per + (per + 1) / 2 for b in range(G)],
                     ticktext=[f"<b>{n}</b>" for n in names])
        shapes = [dict(type="line", xref="paper", x0=0, x1=1, yref="y", y0=b * per + 0.5, y1=b * per + 0.5,
                       line=dict(color="#333", width=1.5)) for b in range(1, G)]
    return dict(data=[trace], layout=layout(
        height=360,
        xaxis=dict(title=dict(text="column j (unit of h<sub>t−1</sub>)"), showgrid=False, ticks=""),
        yaxis=yaxis, shapes=shapes,
    ))


def dh_compare_spec(full_norms, truncated_norms, truncate: int, t: int) -> dict:
    """‖∂L/∂h_s‖ for every step s with full BPTT and with truncation k; t (0-based) marked."""
    f, g = _arr(full_norms), _arr(truncated_norms)
    s = np.arange(1, f.size + 1)
    lay = layout(
        height=300,
        shapes=[dict(type="line", x0=t + 1, x1=t + 1, y0=0, y1=1, yref="paper",
                     line=dict(color="#555", dash="dot", width=1))],
        annotations=[dict(x=t + 1, y=0, yref="paper", text=f"t = {t + 1}", showarrow=False, xanchor="left",
                          yanchor="bottom")],
        xaxis=dict(title=dict(text="time step t in the window (1 = oldest, T = newest)")),
        yaxis=dict(type="log", title=dict(text="‖∂L/∂h_t‖ (log scale)"), exponentformat="power"),
    )
    lay["legend"] = dict(orientation="h", yanchor="bottom", y=1.0, xanchor="left", x=0)
    return dict(data=[
        dict(type="scatter", x=s, y=np.where(f > 0, f, np.nan), mode="lines+markers", name="full BPTT",
             line=dict(color=ACCENT, width=2), hovertemplate="t = %{x}: %{y:.3g}<extra>full</extra>"),
        dict(type="scatter", x=s, y=np.where(g > 0, g, np.nan), mode="lines+markers", name=f"truncated, k = {truncate}",
             line=dict(color=SMOOTH, width=2, dash="dash"), hovertemplate="t = %{x}: %{y:.3g}<extra>truncated</extra>"),
    ], layout=lay)


def gradcheck_spec(errors: dict[str, float]) -> dict:
    """Relative error per parameter between BPTT and finite differences, on a log axis with the
    usual reading: blue below 1e-7 (right), red above 1e-3 (wrong), orange between; the bands carry
    the words and each bar its number. An exact 0 is drawn at FLOOR."""
    names = list(errors)
    vals = np.array([errors[n] for n in names], dtype=float)
    shown = np.maximum(np.where(np.isfinite(vals), vals, 1.0), FLOOR)
    top = max(1.0, float(shown.max()) * 100)
    colours = [GOOD if v < RIGHT else (CLIP_RED if v > BAD or not np.isfinite(v) else SMOOTH) for v in vals]
    shapes = [dict(type="rect", xref="paper", x0=0, x1=1, y0=FLOOR / 10, y1=RIGHT, fillcolor=GOOD, opacity=0.08,
                   line=dict(width=0), layer="below"),
              dict(type="rect", xref="paper", x0=0, x1=1, y0=BAD, y1=top, fillcolor=CLIP_RED, opacity=0.08,
                   line=dict(width=0), layer="below")]
    notes = [dict(x=1, xref="paper", xanchor="right", y=float(np.log10(y)), yanchor=anchor, text=text, showarrow=False,
                  font=dict(color=colour, size=12))
             for y, text, colour, anchor in ((RIGHT, "below 1e-7: right", GOOD, "top"),
                                             (BAD, "above 1e-3: wrong", CLIP_RED, "bottom"))]
    return dict(data=[dict(type="bar", x=names, y=shown, marker=dict(color=colours), text=[f"{v:.1e}" for v in vals],
                           textposition="outside", hovertemplate="d%{x}: relative error %{text}<extra></extra>")],
                layout=layout(height=300, shapes=shapes, annotations=notes,
                              xaxis=dict(title=dict(text="parameter")),
                              yaxis=dict(type="log", title=dict(text="relative error (log scale)"),
                                         exponentformat="power",
                                         range=[float(np.log10(FLOOR / 10)), float(np.log10(top))])))


def unrolled_graph(*a, **k) -> go.Figure:
    return fast_figure(unrolled_graph_spec(*a, **k))


def matrix_heatmap(*a, **k) -> go.Figure:
    return fast_figure(matrix_heatmap_spec(*a, **k))


def dh_compare_figure(*a, **k) -> go.Figure:
    return fast_figure(dh_compare_spec(*a, **k))


def gradcheck_figure(*a, **k) -> go.Figure:
    return fast_figure(gradcheck_spec(*a, **k))
