"""Draw a chart spec (the plain dicts our figure functions build for plotly) as a static SVG image.

Why: a plotly chart in Streamlit is re-created from scratch whenever its figure changes (its element
id hashes the figure), and on the Train page that is every Step. Measured in Chromium
(benchmarks/bench_click.py), the three plotly charts cost a Step click ~250 ms of the browser's
main thread, most of the page's time; an <img> of an SVG costs it almost nothing. So the Train page
draws its specs here, and plotly draws the same spec only when the student asks for interactive
charts (hover, zoom, the PNG button). One spec, two ways to draw it; the numbers are the spec's.

The subset drawn is the one our specs use (tests/test_figures_svg.py checks each Train spec):
scatter traces (lines, markers: circle, diamond, square, triangle-up, line-ns-open; dash; opacity;
NaN = a gap), grouped bars on categories, a heatmap (its cells are a PNG inside the SVG, colour bar
beside it; the first row at the bottom, or on top with autorange "reversed"), line shapes and text
annotations (data or paper coordinates), linear and log axes (range, rangemode tozero, dtick,
tickvals, tickformat "d"), a horizontal legend on top and a title.

Every trace is a <g class="trace"> carrying its name and the y values it draws (data-name, data-y),
so tests and screen-reader tools can read the numbers of the picture.
"""

from __future__ import annotations

import base64
import functools
import html
import math
import re
import struct
import zlib

import numpy as np
from plotly.colors import get_colorscale

from rnnviz.figures.common import tick_step

WIDTH = 460                 # the viewBox width: half a page (the <img> scales to its column) and legible on a
                            # phone: at 390 px wide it is drawn 358 px wide, its 13 px text at 10.1 px (560 gave 8.3)
FONT_FAMILY = "Inter, 'Source Sans Pro', 'DejaVu Sans', Arial, sans-serif"
COLORBAR_W = 74             # px right of the plot for a heatmap's colour bar and its labels
DASH = {"dash": "6,4", "dot": "2,3", "dashdot": "6,3,2,3"}
SUPERSCRIPT = str.maketrans("-0123456789", "⁻⁰¹²³⁴⁵⁶⁷⁸⁹")


# ---------------------------------------------------------------------------- small helpers
def _x(s) -> str:
    """XML-escape any text placed into the SVG."""
    return html.escape(str(s), quote=True)


_TAGS = {"<sub>": '<tspan baseline-shift="sub" font-size="75%">', "<sup>": '<tspan baseline-shift="super" font-size="75%">',
         "</sub>": "</tspan>", "</sup>": "</tspan>", "<b>": '<tspan font-weight="600">', "</b>": "</tspan>"}
_TAG_RE = re.compile("(" + "|".join(re.escape(t) for t in _TAGS) + ")")


def _rich(s) -> str:
    """Chart text as plotly reads it (a little HTML: <sub>, <sup>, <b>, entities such as &amp;) turned
    into SVG text: those tags become <tspan>s, everything else is escaped. Balanced tags only."""
    parts = _TAG_RE.split(str(s))
    if sum(p in _TAGS and not p.startswith("</") for p in parts) != sum(p.startswith("</") and p in _TAGS for p in parts):
        return _x(html.unescape(str(s)))
    return "".join(_TAGS[p] if p in _TAGS else _x(html.unescape(p)) for p in parts)


def _plain(s) -> str:
    """The words of a chart text without its tags (for sizes and attributes)."""
    return html.unescape(_TAG_RE.sub("", str(s)))


def _f(v: float) -> str:
    return f"{v:.1f}"


def _num(values) -> np.ndarray:
    """float array; None and ±∞ become NaN (drawn as gaps)."""
    a = np.array([np.nan if v is None else v for v in values] if isinstance(values, (list, tuple)) else values,
                 dtype=float)
    return np.where(np.isfinite(a), a, np.nan)


def _seq(v) -> list | np.ndarray:
    """A trace's x or y as a sequence ([] when absent; arrays stay arrays)."""
    return [] if v is None else v


def _get(d: dict | None, *path, default=None):
    for k in path:
        if not isinstance(d, dict) or d.get(k) is None:
            return default
        d = d[k]
    return d


def _title_text(t) -> str:
    return t.get("text") or "" if isinstance(t, dict) else (t or "")


def nice_ticks(lo: float, hi: float, target: int = 6) -> list[float]:
    """Round tick values (1, 2, 2.5 or 5 × 10^k apart) covering [lo, hi]."""
    if not (math.isfinite(lo) and math.isfinite(hi)) or hi <= lo:
        return [lo] if math.isfinite(lo) else []
    if not math.isfinite(hi - lo):   # a span past the largest float (values near ±1.8e308): the two ends
        return [lo, hi]
    raw = (hi - lo) / target
    mag = 10 ** math.floor(math.log10(raw))
    step = next(m * mag for m in (1, 2, 2.5, 5, 10) if m * mag >= raw)
    first = math.ceil(lo / step - 1e-9) * step
    n = int(math.floor((hi - first) / step + 1e-9)) + 1
    return [round(first + i * step, 12) for i in range(max(n, 0))]


def tick_label(v: float, *, log: bool = False, integer: bool = False) -> str:
    """How a tick reads: 10⁻² on a log axis, whole numbers with thousands separators, else short."""
    if log:
        return "10" + str(int(round(v))).translate(SUPERSCRIPT) if abs(v - round(v)) < 1e-9 else f"{10 ** v:.2g}"
    if integer or abs(v - round(v)) < 1e-9 and abs(v) >= 1:
        return f"{int(round(v)):,}"
    return f"{v:.3g}"


class Axis:
    """Maps data values to pixels along one axis: linear, log (values are log10 inside) or categories."""

    def __init__(self, spec: dict, values: np.ndarray, p0: float, p1: float, *, categories: list | None = None,
                 pad: float = 0.0):
        self.spec, self.p0, self.p1 = spec, p0, p1
        self.log = spec.get("type") == "log"
        self.categories = categories
        if categories is not None:
            self.lo, self.hi = -0.5, len(categories) - 0.5
            return
        v = values[np.isfinite(values)]
        if self.log:
            v = np.log10(v[v > 0])
        rng = spec.get("range")
        if rng is not None:
            lo, hi = float(rng[0]), float(rng[1])
        elif v.size:
            lo, hi = float(v.min()), float(v.max())
            if spec.get("rangemode") == "tozero" and not self.log:
                lo, hi = min(lo, 0.0), max(hi, 0.0)
            span = hi - lo
            if not math.isfinite(span):   # past the largest float: no padding
                pass
            elif span <= 0:
                lo, hi = (lo - 1, hi + 1) if not self.log else (lo - 0.5, hi + 0.5)
            else:
                lo = lo - pad * span if not (spec.get("rangemode") == "tozero" and lo == 0) else lo
                hi = hi + pad * span
        else:
            lo, hi = 0.0, 1.0
        self.lo, self.hi = lo, hi

    def data(self, v) -> float:
        """Data value → the axis' own coordinate (log10 on a log axis)."""
        if self.log:
            return math.log10(v) if v and v > 0 else float("nan")
        return float(v)

    def px(self, u: float) -> float:
        """The axis' own coordinate → pixels."""
        # Halves first: (hi − lo) itself may pass the largest float when the values are ±1e308.
        return self.p0 + (0.5 * u - 0.5 * self.lo) / (0.5 * self.hi - 0.5 * self.lo) * (self.p1 - self.p0)

    def ticks(self) -> list[tuple[float, str]]:
        s = self.spec
        if self.categories is not None:
            return [(float(i), str(c)) for i, c in enumerate(self.categories)]
        integer = s.get("tickformat") == "d"
        if s.get("tickvals") is not None:
            return [(self.data(v), tick_label(float(v), integer=integer)) for v in s["tickvals"]]
        if self.log:   # decades; on a range shorter than that, 1-2-5 steps, then plain round values
            inside = lambda us: [u for u in us if self.lo - 1e-9 <= u <= self.hi + 1e-9]   # noqa: E731
            decades = range(math.floor(self.lo), math.floor(self.hi) + 1)
            us = inside([float(k) for k in decades])
            if len(us) >= 2:   # at most ~7 labels, counted down from the top decade (1 on a chart of fractions)
                step = max(1, math.ceil((len(us) - 1) / 6))
                return [(u, tick_label(u, log=True)) for u in us[::-1][::step][::-1]]
            us = inside([k + math.log10(m) for k in decades for m in (1, 2, 5)])
            if len(us) >= 2:
                return [(u, f"{10 ** u:.3g}") for u in us]
            vals = [v for v in nice_ticks(10 ** self.lo, 10 ** self.hi, 4) if v > 0]
            return [(math.log10(v), f"{v:.3g}") for v in vals]
        if s.get("dtick"):
            d = float(s["dtick"])
            first = math.ceil(self.lo / d - 1e-9) * d
            vals = [first + i * d for i in range(int((self.hi - first) / d + 1e-9) + 1)]
        else:
            vals = nice_ticks(self.lo, self.hi)
        if integer:
            vals = [v for v in vals if abs(v - round(v)) < 1e-9]
        return [(v, tick_label(v, integer=integer)) for v in vals]


# ---------------------------------------------------------------------------- the heatmap's image
def png_bytes(rgb: np.ndarray) -> bytes:
    """A PNG file of an (h, w, 3) uint8 image (no compression tricks: it is small)."""
    h, w, _ = rgb.shape
    raw = b"".join(b"\x00" + rgb[i].tobytes() for i in range(h))

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, 8, 2, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(raw, 6)) + chunk(b"IEND", b""))


@functools.lru_cache(maxsize=16)
def colorscale_stops(name: str) -> list[tuple[float, str]]:
    """(position in [0, 1], '#rrggbb') stops of a plotly colour scale, by name (the same colours as
    the interactive chart)."""
    return [(float(p), c if c.startswith("#") else _rgb_hex(c)) for p, c in get_colorscale(name)]


def _rgb_hex(c: str) -> str:
    r, g, b = (int(float(x)) for x in c[c.index("(") + 1:c.index(")")].split(",")[:3])
    return f"#{r:02x}{g:02x}{b:02x}"


def colour_map(z01: np.ndarray, stops: list[tuple[float, str]]) -> np.ndarray:
    """Values in [0, 1] (NaN: light grey) → (…, 3) uint8 colours, interpolated between the stops."""
    pos = np.array([p for p, _ in stops])
    cols = np.array([[int(c[i:i + 2], 16) for i in (1, 3, 5)] for _, c in stops], dtype=float)
    z = np.nan_to_num(np.clip(z01, 0, 1), nan=0.0)
    out = np.stack([np.interp(z, pos, cols[:, k]) for k in range(3)], axis=-1)
    out[~np.isfinite(z01)] = 235
    return out.round().astype(np.uint8)


# ---------------------------------------------------------------------------- the chart
def svg_chart(spec: dict, width: int = WIDTH) -> str:
    """The SVG document of a chart spec {"data": [...], "layout": {...}}."""
    lay = spec.get("layout") or {}
    traces = [t for t in spec.get("data") or [] if t.get("visible", True) is not False]
    font = float(_get(lay, "font", "size", default=13))
    height = float(lay.get("height") or 300)
    m = lay.get("margin") or {}
    title = _title_text(lay.get("title"))
    heat = next((t for t in traces if t.get("type") == "heatmap"), None)
    named = [t for t in traces if t.get("name") and t.get("showlegend", True) and t.get("type") != "heatmap"]
    show_legend = lay.get("showlegend", len(named) > 1) and bool(named)

    # Legend entries are laid out in rows first: the plot starts below them.
    legend_font = float(_get(lay, "legend", "font", "size", default=font))
    rows, row, used = [], [], 0.0
    for t in named if show_legend else []:
        w = 30 + 0.58 * legend_font * len(_plain(t["name"])) + 14
        if row and used + w > width - 20:
            rows.append((row, used))
            row, used = [], 0.0
        row.append((t, w))
        used += w
    if row:
        rows.append((row, used))
    top = float(m.get("t", 10)) + (font + 10 if title else 0) + len(rows) * (legend_font + 9)
    left, bottom = float(m.get("l", 60)), height - float(m.get("b", 50))
    right = width - float(m.get("r", 20)) - (COLORBAR_W if heat is not None and heat.get("showscale", True) else 0)
    if bottom - top < 40:   # a very small chart: keep some plot area
        top = bottom - 40

    xs_spec, ys_spec = lay.get("xaxis") or {}, lay.get("yaxis") or {}
    cats = None
    bars = [t for t in traces if t.get("type") == "bar"]
    if any(isinstance(c, str) for t in bars for c in _seq(t.get("x"))):   # bars on categories
        cats = []
        for t in traces:
            for c in _seq(t.get("x")):
                if c is not None and str(c) not in cats:
                    cats.append(str(c))
    if heat is not None:   # rows drawn evenly, labelled by their own y values (steps may be thinned)
        z = _num(np.asarray(heat["z"], dtype=float))
        ny, nx = z.shape if z.ndim == 2 else (0, 0)
        zrange = _zrange(heat, z)
        xax = Axis({**xs_spec, "range": [0.5, nx + 0.5]}, np.array([]), left, right)
        # The first row at the bottom, as plotly draws it; at the top with autorange "reversed" (a matrix).
        yrange = [ny - 0.5, -0.5] if ys_spec.get("autorange") == "reversed" else [-0.5, ny - 0.5]
        yax = Axis({**ys_spec, "range": yrange}, np.array([]), bottom, top)
    else:
        xv = np.concatenate([_num(t["x"]) for t in traces if t.get("x") is not None and cats is None]
                            or [np.array([])])
        # Lines drawn in data coordinates (ln V, the clipping threshold) count too, as in plotly's autorange.
        marks = [float(v) for sh in lay.get("shapes") or [] if sh.get("yref", "y") == "y"
                 for v in (sh.get("y0"), sh.get("y1")) if v is not None]
        yv = np.concatenate([_num(t["y"]) for t in traces if t.get("y") is not None] + [_num(marks)])
        if cats is None and bars:   # numeric bars: each is one unit wide, centred on its x
            xax = Axis({"range": [np.nanmin(xv) - 0.5, np.nanmax(xv) + 0.5], **xs_spec}, xv, left, right)
        elif cats is None:
            xax = Axis(xs_spec, xv, left, right)
        else:
            xax = Axis(xs_spec, xv, left, right, categories=cats)
        yax = Axis(ys_spec, yv, bottom, top, pad=0.05)

    out = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{_f(height)}" '
           f'viewBox="0 0 {width} {_f(height)}" font-family="{_x(FONT_FAMILY)}" font-size="{_f(font)}">',
           f'<rect width="{width}" height="{_f(height)}" fill="white"/>']
    if title:
        out.append(f'<text x="{_f(left)}" y="{_f(float(m.get("t", 10)) + font)}" font-size="{_f(font + 2)}" '
                   f'font-weight="600">{_rich(title)}</text>')
    out += _axes(xax, yax, xs_spec, ys_spec, left, right, top, bottom, font, heat, height)
    out.append(f'<svg x="{_f(left)}" y="{_f(top)}" width="{_f(right - left)}" height="{_f(bottom - top)}" '
               f'viewBox="{_f(left)} {_f(top)} {_f(right - left)} {_f(bottom - top)}" overflow="hidden">')
    for t in traces:
        out += _heatmap(t, z, zrange, xax, yax) if t is heat else _trace(t, xax, yax, traces, cats)
    for s in lay.get("shapes") or []:
        out += _shape(s, xax, yax, left, right, top, bottom)
    out.append("</svg>")
    for a in lay.get("annotations") or []:
        out += _annotation(a, xax, yax, left, right, top, bottom, font)
    if heat is not None and heat.get("showscale", True):
        out += _colorbar(heat, z, zrange, right, top, bottom, font)
    out += _legend(rows, width, float(m.get("t", 10)) + (font + 10 if title else 0), legend_font)
    out.append("</svg>")
    return "\n".join(out)


def _axes(xax: Axis, yax: Axis, xs: dict, ys: dict, left, right, top, bottom, font, heat, height) -> list[str]:
    out = []
    grid = "#eee"
    for ax, spec, horizontal in ((xax, xs, True), (yax, ys, False)):
        if heat is None:
            ticks = ax.ticks()
        elif horizontal:   # columns t = 1 … T, labelled as on a ruler
            nx = int(round(ax.hi - 0.5))
            step = tick_step(nx)
            ticks = [(float(k), str(k)) for k in range(1, nx + 1) if k % step == 0 or k == 1]
        else:              # label about 6 rows with the step each one is
            yvals = list(heat.get("y") if heat.get("y") is not None else [])
            n = len(yvals)
            idx = sorted(set(np.linspace(0, n - 1, min(n, 6)).round().astype(int).tolist())) if n else []
            ticks = [(float(i), tick_label(float(yvals[i]), integer=True)) for i in idx]
        for u, label in ticks:
            if not (min(ax.lo, ax.hi) - 1e-9 <= u <= max(ax.lo, ax.hi) + 1e-9):
                continue
            p = ax.px(u)
            if horizontal:
                if spec.get("showgrid", True) and ax.categories is None and heat is None:
                    out.append(f'<line x1="{_f(p)}" x2="{_f(p)}" y1="{_f(top)}" y2="{_f(bottom)}" stroke="{grid}"/>')
                out.append(f'<line x1="{_f(p)}" x2="{_f(p)}" y1="{_f(bottom)}" y2="{_f(bottom + 5)}" stroke="#999"/>')
                out.append(f'<text x="{_f(p)}" y="{_f(bottom + 7 + font)}" text-anchor="middle">{_x(label)}</text>')
            else:
                if spec.get("showgrid", True) and heat is None:
                    out.append(f'<line x1="{_f(left)}" x2="{_f(right)}" y1="{_f(p)}" y2="{_f(p)}" stroke="{grid}"/>')
                out.append(f'<line x1="{_f(left - 5)}" x2="{_f(left)}" y1="{_f(p)}" y2="{_f(p)}" stroke="#999"/>')
                out.append(f'<text x="{_f(left - 8)}" y="{_f(p + font * 0.35)}" text-anchor="end">{_x(label)}</text>')
    out.append(f'<line x1="{_f(left)}" x2="{_f(right)}" y1="{_f(bottom)}" y2="{_f(bottom)}" stroke="#999"/>')
    out.append(f'<line x1="{_f(left)}" x2="{_f(left)}" y1="{_f(top)}" y2="{_f(bottom)}" stroke="#999"/>')
    xt, yt = _title_text(xs.get("title")), _title_text(ys.get("title"))
    if xt:
        out.append(f'<text x="{_f((left + right) / 2)}" y="{_f(min(bottom + 2 * font + 16, height - 4))}" '
                   f'text-anchor="middle">{_rich(xt)}</text>')
    if yt:
        cy = (top + bottom) / 2
        out.append(f'<text x="{_f(font)}" y="{_f(cy)}" text-anchor="middle" '
                   f'transform="rotate(-90 {_f(font)} {_f(cy)})">{_rich(yt)}</text>')
    return out


def _data_y(values) -> str:
    return " ".join("nan" if not np.isfinite(v) else f"{v:.6g}" for v in _num(values))


def _marker(symbol: str, x: float, y: float, size: float, color: str) -> str:
    r = size / 2
    if symbol == "line-ns-open":
        return f'<line x1="{_f(x)}" x2="{_f(x)}" y1="{_f(y - r)}" y2="{_f(y + r)}" stroke="{color}" stroke-width="1.5"/>'
    if symbol == "diamond":
        return (f'<polygon points="{_f(x)},{_f(y - r)} {_f(x + r)},{_f(y)} {_f(x)},{_f(y + r)} {_f(x - r)},{_f(y)}" '
                f'fill="{color}"/>')
    if symbol == "square":
        s = 0.85 * r
        return f'<rect x="{_f(x - s)}" y="{_f(y - s)}" width="{_f(2 * s)}" height="{_f(2 * s)}" fill="{color}"/>'
    if symbol == "triangle-up":
        return (f'<polygon points="{_f(x)},{_f(y - r)} {_f(x + r)},{_f(y + 0.8 * r)} {_f(x - r)},{_f(y + 0.8 * r)}" '
                f'fill="{color}"/>')
    return f'<circle cx="{_f(x)}" cy="{_f(y)}" r="{_f(r)}" fill="{color}"/>'


def _trace(t: dict, xax: Axis, yax: Axis, traces: list, cats) -> list[str]:
    """A scatter or bar trace (a heatmap is drawn by _heatmap)."""
    kind = t.get("type", "scatter")
    name = _x(_plain(t.get("name") or ""))
    y = _num(t.get("y") if t.get("y") is not None else [])
    out = [f'<g class="trace" data-type="{kind}" data-name="{name}" data-y="{_data_y(y)}" '
           f'opacity="{float(t.get("opacity", 1)):g}">']
    if kind == "bar":
        bars = [b for b in traces if b.get("type") == "bar"]
        k, nb = next(i for i, b in enumerate(bars) if b is t), len(bars)
        slot = abs(xax.px(1) - xax.px(0))
        w = slot * 0.8 / nb
        color = _get(t, "marker", "color", default="#1f77b4")
        colors = color if isinstance(color, (list, tuple)) else [color] * len(y)   # one colour per bar, or one
        base = yax.px(yax.lo) if yax.log else yax.px(max(yax.lo, 0.0))
        for c, v, col in zip(_seq(t.get("x")), y, colors, strict=False):
            u = yax.data(v)
            if c is None or not np.isfinite(u):
                continue
            x0 = xax.px(cats.index(str(c)) if cats is not None else float(c)) - slot * 0.4 + k * w
            yv = min(max(yax.px(u), yax.p1 - 2), base)
            out.append(f'<rect x="{_f(x0)}" y="{_f(yv)}" width="{_f(w)}" height="{_f(max(base - yv, 0.5))}" '
                       f'fill="{col}"/>')
    else:
        x = t.get("x") if t.get("x") is not None else []
        xs = [xax.px(xax.data(v)) if v is not None else float("nan") for v in
              ([cats.index(str(c)) if cats is not None and c is not None else c for c in x])]
        ys = [yax.px(yax.data(v)) if np.isfinite(v) else float("nan") for v in y]
        mode = t.get("mode", "lines")
        color = _get(t, "line", "color", default=_get(t, "marker", "color", default="#1f77b4"))
        if "lines" in mode:
            dash = DASH.get(_get(t, "line", "dash", default=""), "")
            width = float(_get(t, "line", "width", default=2))
            seg = []
            for px, py in [*zip(xs, ys, strict=False), (float("nan"), float("nan"))]:
                if math.isfinite(px) and math.isfinite(py):
                    seg.append(f"{px:.1f},{py:.1f}")
                    continue
                if seg:
                    out.append(f'<polyline points="{" ".join(seg)}" fill="none" stroke="{color}" '
                               f'stroke-width="{width:g}" stroke-linejoin="round"'
                               + (f' stroke-dasharray="{dash}"' if dash else "") + "/>")
                seg = []
        if "markers" in mode:
            mcolor = _get(t, "marker", "color", default=color)
            size = float(_get(t, "marker", "size", default=6))
            symbol = _get(t, "marker", "symbol", default="circle")
            drawn = [(px, py) for px, py in zip(xs, ys, strict=False) if math.isfinite(px) and math.isfinite(py)]
            if symbol == "line-ns-open":   # many ticks (clipping fired): one path, not an element each
                r = size / 2
                d = "".join(f"M{px:.1f} {py - r:.1f}V{py + r:.1f}" for px, py in drawn)
                out.append(f'<path d="{d}" stroke="{mcolor}" stroke-width="1.5" fill="none"/>' if d else "")
            else:
                out += [_marker(symbol, px, py, size, mcolor) for px, py in drawn]
    out.append("</g>")
    return out


def _heatmap(t: dict, z: np.ndarray, zrange: tuple[float, float], xax: Axis, yax: Axis) -> list[str]:
    """z: the trace's values (NaN for gaps), zrange: the colour scale's ends (_zrange)."""
    if z.ndim != 2 or not z.size:
        return []
    lo, hi = zrange
    rgb = colour_map((z - lo) / (hi - lo), colorscale_stops(t.get("colorscale", "Viridis")))
    ny, nx = z.shape
    # Image rows go top to bottom; our first row (the oldest step) is drawn at the bottom, as plotly does,
    # unless the axis is reversed (then row 0 is on top, as in a matrix).
    first_on_top = yax.px(-0.5) < yax.px(ny - 0.5)
    uri = "data:image/png;base64," + base64.b64encode(png_bytes(rgb if first_on_top else rgb[::-1])).decode()
    x0, x1 = xax.px(0.5), xax.px(nx + 0.5)
    y0, y1 = sorted((yax.px(ny - 0.5), yax.px(-0.5)))
    return [f'<g class="trace" data-type="heatmap" data-name="{_x(_plain(t.get("name") or ""))}" '
            f'data-y="{_data_y(t.get("y") if t.get("y") is not None else [])}" data-rows="{ny}" data-cols="{nx}">',
            f'<image x="{_f(x0)}" y="{_f(y0)}" width="{_f(x1 - x0)}" height="{_f(y1 - y0)}" '
            f'preserveAspectRatio="none" style="image-rendering:pixelated" href="{uri}"/>', "</g>"]


def _zrange(t: dict, z: np.ndarray) -> tuple[float, float]:
    fin = z[np.isfinite(z)]
    lo = float(t["zmin"]) if t.get("zmin") is not None else (float(fin.min()) if fin.size else 0.0)
    hi = float(t["zmax"]) if t.get("zmax") is not None else (float(fin.max()) if fin.size else 1.0)
    return (lo, hi) if hi > lo else (lo - 0.5, lo + 0.5)


def _colorbar(t: dict, z: np.ndarray, zrange: tuple[float, float], right: float, top: float, bottom: float,
              font: float) -> list[str]:
    if z.ndim != 2 or not np.isfinite(z).any():
        return []
    lo, hi = zrange
    stops = colorscale_stops(t.get("colorscale", "Viridis"))
    x = right + 12
    out = ['<defs><linearGradient id="cb" x1="0" y1="1" x2="0" y2="0">']
    out += [f'<stop offset="{p:g}" stop-color="{c}"/>' for p, c in stops]
    out.append("</linearGradient></defs>")
    out.append(f'<rect x="{_f(x)}" y="{_f(top)}" width="14" height="{_f(bottom - top)}" fill="url(#cb)"/>')
    for v in nice_ticks(lo, hi, 5):
        p = bottom - (v - lo) / (hi - lo) * (bottom - top)
        out.append(f'<text x="{_f(x + 18)}" y="{_f(p + font * 0.35)}">{_x(tick_label(v))}</text>')
    title = _title_text(_get(t, "colorbar", "title"))
    if title:
        cx, cy = right + COLORBAR_W - 4, (top + bottom) / 2
        out.append(f'<text x="{_f(cx)}" y="{_f(cy)}" text-anchor="middle" font-size="{_f(font - 1)}" '
                   f'transform="rotate(90 {_f(cx)} {_f(cy)})">{_rich(title)}</text>')
    return out


def _ref(ax: Axis, v, ref: str, paper0: float, paper1: float, *, log_value: bool = False) -> float:
    """A position given in data coordinates or, with ref "paper", as a fraction of the plot area.
    log_value: the value is already log10 (plotly's convention for annotations on log axes)."""
    if ref == "paper":
        return paper0 + float(v) * (paper1 - paper0)
    return ax.px(float(v) if (log_value or not ax.log) else ax.data(v))


def _shape(s: dict, xax: Axis, yax: Axis, left, right, top, bottom) -> list[str]:
    if s.get("type") != "line":
        return []
    x0 = _ref(xax, s["x0"], s.get("xref", "x"), left, right)
    x1 = _ref(xax, s["x1"], s.get("xref", "x"), left, right)
    y0 = _ref(yax, s["y0"], s.get("yref", "y"), bottom, top)
    y1 = _ref(yax, s["y1"], s.get("yref", "y"), bottom, top)
    if not all(map(math.isfinite, (x0, x1, y0, y1))):
        return []
    dash = DASH.get(_get(s, "line", "dash", default=""), "")
    return [f'<line class="shape" x1="{_f(x0)}" x2="{_f(x1)}" y1="{_f(y0)}" y2="{_f(y1)}" '
            f'stroke="{_get(s, "line", "color", default="#444")}" stroke-width="{float(_get(s, "line", "width", default=2)):g}"'
            + (f' stroke-dasharray="{dash}"' if dash else "") + "/>"]


def _annotation(a: dict, xax: Axis, yax: Axis, left, right, top, bottom, font) -> list[str]:
    text = str(a.get("text") or "")
    if not _plain(text):
        return []
    x = _ref(xax, a.get("x", 0), a.get("xref", "x"), left, right, log_value=True)
    y = _ref(yax, a.get("y", 0), a.get("yref", "y"), bottom, top, log_value=True)
    if not (math.isfinite(x) and math.isfinite(y)):
        return []
    size = float(_get(a, "font", "size", default=font))
    w = 0.58 * size * len(_plain(text)) + 6
    xa = a.get("xanchor", "center")
    x0 = x if xa == "left" else x - w if xa == "right" else x - w / 2
    ya = a.get("yanchor", "middle")
    y0 = y - size - 4 if ya == "bottom" else y if ya == "top" else y - (size + 4) / 2
    out = []
    if a.get("bgcolor"):
        out.append(f'<rect x="{_f(x0)}" y="{_f(y0)}" width="{_f(w)}" height="{_f(size + 4)}" fill="{a["bgcolor"]}"/>')
    out.append(f'<text class="note" x="{_f(x0 + 3)}" y="{_f(y0 + size)}" font-size="{_f(size)}" '
               f'fill="{_get(a, "font", "color", default="#444")}">{_rich(text)}</text>')
    return out


def _legend(rows, width: float, y0: float, size: float) -> list[str]:
    out = []
    for i, (row, used) in enumerate(rows):
        x = width - 10 - used
        y = y0 + i * (size + 9) + size
        for t, w in row:
            color = _get(t, "line", "color", default=_get(t, "marker", "color", default="#1f77b4"))
            mode = t.get("mode", "lines") if t.get("type", "scatter") == "scatter" else "bar"
            if mode == "bar":
                fill = _get(t, "marker", "color", default=color)
                fill = fill[-1] if isinstance(fill, (list, tuple)) and fill else fill
                out.append(f'<rect x="{_f(x)}" y="{_f(y - size * 0.7)}" width="22" height="{_f(size * 0.75)}" '
                           f'fill="{fill}"/>')
            elif "lines" in mode:
                dash = DASH.get(_get(t, "line", "dash", default=""), "")
                out.append(f'<line x1="{_f(x)}" x2="{_f(x + 22)}" y1="{_f(y - size * 0.33)}" y2="{_f(y - size * 0.33)}" '
                           f'stroke="{color}" stroke-width="2.5"' + (f' stroke-dasharray="{dash}"' if dash else "") + "/>")
                if "markers" in mode:   # the line's marker too: lanes differ by more than their colour
                    out.append(_marker(_get(t, "marker", "symbol", default="circle"), x + 11, y - size * 0.33,
                                       float(_get(t, "marker", "size", default=6)), _get(t, "marker", "color", default=color)))
            else:
                out.append(_marker(_get(t, "marker", "symbol", default="circle"), x + 11, y - size * 0.33,
                                   float(_get(t, "marker", "size", default=8)), _get(t, "marker", "color", default=color)))
            out.append(f'<text x="{_f(x + 28)}" y="{_f(y)}" font-size="{_f(size)}">{_rich(t["name"])}</text>')
            x += w
    return out


def svg_img(spec: dict, alt: str, *, width: int = WIDTH, css_class: str = "rv-chart") -> str:
    """The chart as an <img> (its SVG inline, base64): the browser decodes it off the page's layout
    work, and an SVG inside an <img> can run nothing. alt: what the chart shows, in words (also
    the tooltip). width: of the drawing, near the width it will be shown at (its text scales with
    it); it is never shown more than 1.3× larger."""
    b64 = base64.b64encode(svg_chart(spec, width).encode()).decode()
    return (f'<img class="{css_class}" alt="{_x(alt)}" title="{_x(alt)}" '
            f'style="width:100%;max-width:{round(width * 1.3)}px;height:auto;display:block" '
            f'src="data:image/svg+xml;base64,{b64}">')
