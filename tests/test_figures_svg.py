"""The Train page's charts drawn as SVG pictures (rnnviz.figures.svg): each shows its spec's numbers.

The specs come from a real run (the engine), so every trace kind the page draws is exercised: the loss
chart (raw, smoothed, clip ticks, η changes, held-out line), the ‖∂L/∂h_t‖ heatmap and the norms per
weight in each clipping mode. Nothing here depends on the run's exact numbers: each check compares the
picture with the spec it was drawn from.
"""

from __future__ import annotations

import base64
import math
import re
import struct
import xml.etree.ElementTree as ET
import zlib

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from rnnviz import TrainConfig, Trainer
from rnnviz.figures.cells import gates_spec, state_grads_spec
from rnnviz.figures.heldout import with_val
from rnnviz.figures.palette import BASELINE
from rnnviz.figures.svg import Axis, colorscale_stops, nice_ticks, png_bytes, svg_chart, svg_img
from rnnviz.figures.train import dh_heatmap_spec, grad_norms_spec, loss_spec, trailing_mean

NS = "{http://www.w3.org/2000/svg}"
TEXT = "the quick brown fox jumps over the lazy dog. " * 40


def run(steps: int, **cfg) -> Trainer:
    tr = Trainer(TEXT, TrainConfig(hidden_size=16, seq_len=10, **cfg))
    tr.step(steps)
    return tr


def loss_chart(tr: Trainer) -> dict:
    h = tr.history
    steps, loss = h.column("step"), h.column("loss")
    changed = h.column("lr_changed").astype(bool)
    spec = loss_spec(steps, loss, trailing_mean(steps, loss, 5), tr.baseline_loss,
                     steps[h.column("clipped").astype(bool)], steps[changed], h.column("lr")[changed])
    return with_val(spec, h.val)


def norms_chart(tr: Trainer) -> dict:
    c, last = tr.config, tr.last
    return grad_norms_spec(last.clip.norms_before, last.clip.norms_after, c.clip, c.clip_value,
                           last.clip.max_abs_before)


def parse(spec: dict) -> ET.Element:
    return ET.fromstring(svg_chart(spec))


def traces(root: ET.Element) -> list[ET.Element]:
    return [g for g in root.iter(f"{NS}g") if g.get("class") == "trace"]


def numbers(s: str) -> np.ndarray:
    return np.array([float(v) for v in s.split()], dtype=float) if s else np.array([])


def points(g: ET.Element) -> list[tuple[float, float]]:
    return [tuple(map(float, p.split(","))) for pl in g.iter(f"{NS}polyline") for p in pl.get("points").split()]


@pytest.fixture(scope="module")
def clipped_run() -> Trainer:
    # Global-norm clipping with a small c fires on most steps; val_every gives held-out points.
    return run(40, clip="norm", clip_value=0.5, val_every=10, lr=0.1)


def test_every_trace_carries_the_numbers_of_its_spec(clipped_run):
    for spec in (loss_chart(clipped_run), norms_chart(clipped_run),
                 dh_heatmap_spec(*clipped_run.history.dh_matrix(max_rows=200))):
        drawn = traces(parse(spec))
        assert [g.get("data-name") for g in drawn] == [t.get("name") or "" for t in spec["data"]]
        for g, t in zip(drawn, spec["data"], strict=True):
            want = np.array([np.nan if v is None else v for v in (t["y"] if t["type"] != "heatmap" else t["y"])],
                            dtype=float)
            got = numbers(g.get("data-y"))
            assert got.shape == want.shape
            assert np.array_equal(np.isnan(got), np.isnan(want))
            assert np.allclose(got[~np.isnan(got)], want[~np.isnan(want)], rtol=1e-5)


def test_loss_lines_draw_every_point_and_higher_loss_is_higher_on_the_picture(clipped_run):
    spec = loss_chart(clipped_run)
    root = parse(spec)
    drawn = {g.get("data-name"): g for g in traces(root)}
    raw = spec["data"][0]
    pts = points(drawn[raw["name"]])
    assert len(pts) == np.isfinite(raw["y"]).sum() == 40
    xs = [x for x, _ in pts]
    assert xs == sorted(xs)                      # steps left to right
    order = np.argsort(raw["y"])                 # the lowest loss is drawn lowest (largest pixel y)
    assert pts[order[0]][1] > pts[order[-1]][1]
    val = drawn["held-out loss (text never trained on)"]
    assert len(points(val)) == len(clipped_run.history.val) == 4
    ticks = next(drawn["clipping fired"].iter(f"{NS}path")).get("d")
    assert ticks.count("M") == int(clipped_run.history.column("clipped").sum()) > 0   # one tick per clipped step


def test_the_baseline_line_sits_at_ln_v_on_the_y_axis(clipped_run):
    spec = loss_chart(clipped_run)
    svg = svg_chart(spec)
    root = ET.fromstring(svg)
    base = [ln for ln in root.iter(f"{NS}line") if ln.get("class") == "shape" and ln.get("stroke") == BASELINE]
    assert len(base) == 1
    # The y ticks are linear in pixels: read the axis off two of them and place ln V on it.
    ticks = [(float(t.text), float(t.get("y")) - 13 * 0.35) for t in root.iter(f"{NS}text")
             if t.get("text-anchor") == "end"]
    (v0, p0), (v1, p1) = ticks[0], ticks[-1]
    want = p0 + (clipped_run.baseline_loss - v0) * (p1 - p0) / (v1 - v0)
    assert abs(float(base[0].get("y1")) - want) < 0.2


def decode_png(data: bytes) -> np.ndarray:
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    w, h = struct.unpack(">II", data[16:24])
    idat = data[data.index(b"IDAT") + 4:data.index(b"IEND") - 8]
    raw = zlib.decompress(idat)
    rows = [raw[i * (3 * w + 1) + 1:(i + 1) * (3 * w + 1)] for i in range(h)]
    return np.array([list(r) for r in rows], dtype=np.uint8).reshape(h, w, 3)


def test_heatmap_is_one_pixel_per_cell_with_the_scale_at_its_ends():
    tr = run(12)
    steps, M = tr.history.dh_matrix(max_rows=200)
    spec = dh_heatmap_spec(steps, M)
    root = parse(spec)
    img = next(root.iter(f"{NS}image"))
    png = base64.b64decode(img.get("href").split(",", 1)[1])
    pix = decode_png(png)
    assert pix.shape == (M.shape[0], M.shape[1], 3)
    z = spec["data"][0]["z"]
    stops = colorscale_stops("Viridis")
    hexrgb = lambda c: [int(c[i:i + 2], 16) for i in (1, 3, 5)]   # noqa: E731
    top = pix[::-1]    # the picture's first row is the newest step (drawn on top)
    i, j = np.unravel_index(np.nanargmax(z), z.shape)
    assert list(top[i, j]) == hexrgb(stops[-1][1])
    i, j = np.unravel_index(np.nanargmin(z), z.shape)
    assert list(top[i, j]) == hexrgb(stops[0][1])
    # Row labels name the rows' own steps.
    labels = [t.text for t in root.iter(f"{NS}text") if t.get("text-anchor") == "end"]
    assert labels[0] == "1" and labels[-1] == f"{int(steps[-1]):,}"


@pytest.mark.parametrize("mode", ["none", "norm", "elementwise"])
def test_norm_bars_on_a_log_axis_in_each_clipping_mode(mode):
    tr = run(3, clip=mode, clip_value=0.5)
    spec = norms_chart(tr)
    root = parse(spec)
    bars = [g for g in traces(root) if g.get("data-type") == "bar"]
    assert len(bars) == 2 and all(len(list(g.iter(f"{NS}rect"))) == 6 for g in bars)
    # Taller rect = larger norm, on the same weight.
    before = [float(r.get("height")) for r in bars[0].iter(f"{NS}rect")]
    after = [float(r.get("height")) for r in bars[1].iter(f"{NS}rect")]
    assert all(b >= a - 1e-6 for b, a in zip(before, after, strict=True))
    # At least two y ticks, their values rising up the picture (10⁻¹, 10⁰, … or 2, 5, … on a short range).
    sup = str.maketrans("⁻⁰¹²³⁴⁵⁶⁷⁸⁹", "-0123456789")
    ticks = [(float(t.text[2:].translate(sup)) if t.text.startswith("10") and t.text[2:3] in "⁻⁰¹²³⁴⁵⁶⁷⁸⁹"
              else math.log10(float(t.text)), float(t.get("y")))
             for t in root.iter(f"{NS}text") if t.get("text-anchor") == "end"]
    assert len(ticks) >= 2
    assert all(a[0] < b[0] and a[1] > b[1] for a, b in zip(ticks, ticks[1:], strict=False))
    labels = " ".join(t.text or "" for t in root.iter(f"{NS}text"))
    assert ("c = 0.5" in labels) == (mode != "none")


def test_text_is_escaped_and_the_image_can_run_nothing():
    evil = '<script>alert(1)</script> & "quotes"'
    spec = {"data": [dict(type="scatter", x=[1, 2], y=[1.0, float("inf")], mode="lines", name=evil)],
            "layout": dict(height=200, annotations=[dict(x=1, y=1, text=evil)], showlegend=True,
                           xaxis=dict(title=dict(text=evil)))}
    svg = svg_chart(spec)
    assert "<script" not in svg
    root = ET.fromstring(svg)
    assert evil in [t.text for t in root.iter(f"{NS}text")]
    assert traces(root)[0].get("data-y") == "1 nan"
    tag = svg_img(spec, alt=evil)
    assert "<script" not in tag and tag.startswith('<img class="rv-chart"')
    b64 = re.search(r'src="data:image/svg\+xml;base64,([^"]+)"', tag).group(1)
    assert base64.b64decode(b64).decode() == svg


@given(st.floats(-1e6, 1e6), st.floats(1e-3, 1e6))
def test_nice_ticks_cover_the_range_evenly(lo, span):
    hi = lo + span
    ticks = nice_ticks(lo, hi)
    assert 2 <= len(ticks) <= 13
    assert all(lo - 1e-9 * span <= t <= hi + 1e-9 * span for t in ticks)
    gaps = np.diff(ticks)
    assert np.allclose(gaps, gaps[0], rtol=1e-6)
    mantissa = gaps[0] / 10 ** math.floor(math.log10(gaps[0]))
    assert any(math.isclose(mantissa, m, rel_tol=1e-6) for m in (1, 2, 2.5, 5, 10))


def test_axis_maps_the_ends_of_its_range_to_the_ends_of_the_plot():
    ax = Axis({"rangemode": "tozero"}, np.array([2.0, 8.0]), 100, 300, pad=0.05)
    assert ax.lo == 0 and ax.px(ax.lo) == 100 and ax.px(ax.hi) == 300
    log = Axis({"type": "log"}, np.array([0.01, 100.0, 0.0, np.nan]), 50, 10, pad=0.05)
    assert log.lo == pytest.approx(-2.2) and log.px(log.lo) == 50 and log.hi == pytest.approx(2.2)
    assert [lbl for _, lbl in log.ticks()] == ["10⁻²", "10⁻¹", "10⁰", "10¹", "10²"]


def test_png_bytes_round_trip():
    rgb = np.arange(2 * 3 * 3, dtype=np.uint8).reshape(2, 3, 3)
    assert np.array_equal(decode_png(png_bytes(rgb)), rgb)


def test_the_gated_cells_panels_draw_their_numbers_and_subscripts():
    tr = run(2, cell="lstm")
    res = tr.last.result
    for spec in (gates_spec(res.gate_means), state_grads_spec(res.state_grad_norms)):
        svg = svg_chart(spec)
        root = ET.fromstring(svg)
        drawn = traces(root)
        assert len(drawn) == len(spec["data"]) >= 2
        for g, t in zip(drawn, spec["data"], strict=True):
            assert len(points(g)) == np.isfinite(t["y"]).sum() == tr.config.seq_len
            assert np.allclose(numbers(g.get("data-y")), t["y"], rtol=1e-5, equal_nan=True)
        # plotly's "f<sub>t</sub>" is a subscript here too, not the letters of a tag
        assert "&lt;sub&gt;" not in svg and 'baseline-shift="sub"' in svg
    assert set(res.gate_means) == {"i", "f", "o"}


def test_a_log_axis_over_many_decades_labels_a_few_counted_from_the_top():
    ax = Axis({"type": "log"}, np.array([1e-20, 1.0]), 300, 10)
    labels = [lbl for _, lbl in ax.ticks()]
    assert 2 <= len(labels) <= 7 and labels[-1] == "10⁰"


def test_before_the_first_step_the_loss_picture_still_shows_ln_v_on_its_axis():
    spec = loss_spec(np.array([]), np.array([]), np.array([]), 3.97)
    root = parse(spec)
    base = [ln for ln in root.iter(f"{NS}line") if ln.get("class") == "shape"]
    ticks = [(float(t.text), float(t.get("y"))) for t in root.iter(f"{NS}text") if t.get("text-anchor") == "end"]
    assert len(base) == 1 and max(v for v, _ in ticks) >= 3.97      # the axis reaches ln V
    top, bottom = min(p for _, p in ticks), max(p for _, p in ticks)
    assert top - 10 <= float(base[0].get("y1")) <= bottom


@pytest.mark.parametrize("ys", [[np.nan, np.nan], [-1.7e308, 1.7e308], [5.0, 5.0], [np.inf, -np.inf, 1.0], []])
def test_any_numbers_make_a_picture_not_an_error(ys):
    """A diverged run's numbers (NaN, ±∞, huge, all equal, none) still draw: gaps where nothing is finite."""
    spec = {"data": [dict(type="scatter", x=list(range(len(ys))), y=ys, mode="lines+markers", name="y")],
            "layout": dict(height=200, yaxis=dict(rangemode="tozero"))}
    root = parse(spec)
    assert len(points(traces(root)[0])) == int(np.isfinite(np.array(ys, dtype=float)).sum())
    for heat in ([[np.nan, np.nan]], [[1.0, 1.0]], [[np.inf, 2.0]]):
        assert traces(parse(dict(data=[dict(type="heatmap", z=heat, x=[1, 2], y=[1])], layout=dict(height=200))))
