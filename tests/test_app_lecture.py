"""The lecture-hall features in AppTest: setup links, the share control, the presentation view, CSV take-away."""

from __future__ import annotations

import csv
import io
import json
from urllib.parse import parse_qsl, urlsplit

import numpy as np
from streamlit.testing.v1 import AppTest

from rnnviz.bptt import gradient_reach
from rnnviz.presets import PRESETS_BY_KEY
from rnnviz.ui import charts, takeaway, urlstate
from rnnviz.vanish import reach_by_distance

from apptest_helpers import APP, TIMEOUT, session


def open_link(**params) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=TIMEOUT)
    for k, v in params.items():
        at.query_params[k] = v
    at.run()
    assert not at.exception, at.exception
    return at


def test_a_link_opens_its_preset_settings_and_step():
    at = open_link(preset="exploding", step="12", lr="0.05", hidden_size="16")
    tr = session(at).trainer
    want = PRESETS_BY_KEY["exploding"].config.with_changes(lr=0.05, hidden_size=16)
    assert tr.step_count == 12 and tr.config == want
    assert any("as the link asked" in s.value for s in at.success)
    # Applied: the setup leaves the URL, the session token stays (a reload restores this session).
    assert not urlstate.SETUP_PARAMS & set(at.query_params) and "s" in at.query_params


def test_a_bad_link_gets_messages_and_defaults_never_a_traceback():
    at = open_link(hidden_size="99999", step="-5", cell="<b>x</b>", preset="zzz")
    tr = session(at).trainer
    assert tr.step_count == 0 and tr.config.hidden_size == 100 and tr.config.cell == "rnn"
    text = " ".join(w.value for w in at.warning)
    assert "99999" in text and "zzz" in text and "<b>" not in text


def test_copy_link_gives_a_link_that_reproduces_the_setup():
    at = open_link(preset="clipping", step="5", hidden_size="16")
    at.button(key="btn_setup_link").click().run()
    assert not at.exception, at.exception
    link = next(c.value for c in at.code if "step=" in c.value)
    params = dict(parse_qsl(urlsplit(link).query))
    back = urlstate.parse(params)
    tr = session(at).trainer
    assert (back.config, back.step, back.sample) == (tr.config, tr.step_count, PRESETS_BY_KEY["clipping"].sample)
    assert params["preset"] == "clipping"


def test_pasted_text_says_it_cannot_ride_in_a_link():
    at = open_link()
    session(at).use_text("abcdefghij" * 30, "Your pasted text", "paste")
    at.run()
    assert any("cannot ride in a link" in w.value for w in at.warning)


def chart_pictures(at) -> list[str]:
    """The <img> tags of the charts drawn as pictures (rnnviz.figures.svg)."""
    return [h.proto.body for h in at.html if 'class="rv-chart"' in h.proto.body]


def test_presentation_view_shows_the_headline_charts_only():
    at = open_link(present="1")
    at.button(key="btn_step").click().run()
    assert len(chart_pictures(at)) == 2   # the loss and the reach; the heatmap and the norms are left out
    assert not at.get("plotly_chart")
    assert not [t for t in at.toggle if t.key == charts.KEY]   # the projector shows pictures: no switch
    assert at.button(key="present_exit") is not None
    at.button(key="present_exit").click().run()
    assert "present" not in at.query_params
    at.button(key="btn_step").click().run()
    assert len(chart_pictures(at)) == 4 and not at.get("plotly_chart")


def test_interactive_charts_switch_draws_the_same_four_charts_in_plotly():
    at = open_link()
    at.button(key="btn_step").click().run()
    assert len(chart_pictures(at)) == 4   # loss, reach, heatmap, norms
    at.toggle(key=charts.KEY).set_value(True).run()
    plotted = at.get("plotly_chart")
    assert len(plotted) == 4 and chart_pictures(at) == []
    assert json.loads(plotted[0].proto.spec)["layout"]["yaxis"]["title"]["text"] == "loss (nats per token)"
    config = json.loads(plotted[0].proto.config)
    assert config["toImageButtonOptions"]["filename"] == "rnnviz-loss"
    at.button(key="btn_step").click().run()   # the switch is kept per session
    assert len(at.get("plotly_chart")) == 4
    at.toggle(key=charts.KEY).set_value(False).run()
    assert len(chart_pictures(at)) == 4 and not at.get("plotly_chart")


def test_window_csv_is_the_last_window_and_guards_formulas():
    at = open_link()
    sess = session(at)
    assert takeaway.window_csv(sess).strip() == ",".join(takeaway.WINDOW_COLUMNS)
    sess.trainer.step(3)
    rows = list(csv.DictReader(io.StringIO(takeaway.window_csv(sess))))
    last = sess.trainer.last
    assert len(rows) == len(last.inputs)
    assert np.allclose([float(r["p_target"]) for r in rows], last.p_target, rtol=0, atol=0)
    assert np.allclose([float(r["loss_term"]) for r in rows], -np.log(last.p_target), rtol=1e-9)
    assert np.allclose([float(r["grad_norm_dh"]) for r in rows], last.result.dh_norms, rtol=0, atol=0)
    assert takeaway.cell_text("=SUM(A1)") == "'=SUM(A1)" and takeaway.cell_text("a") == "a"


def test_the_reach_csv_is_the_headline_chart_and_the_lstm_window_csv_has_dc():
    at = open_link()
    sess = session(at)
    sess.trainer.step(2)
    tr = sess.trainer
    xs, ys, h0 = tr.next_window()
    ratio, n_terms = reach_by_distance(gradient_reach(tr.params, xs, ys, h0, cell=tr.config.cell))
    rows = list(csv.DictReader(io.StringIO(takeaway.reach_csv(sess))))
    assert [int(r["d"]) for r in rows] == list(range(tr.config.seq_len))
    assert np.array_equal([float(r["fraction_left"]) for r in rows], ratio, equal_nan=True)
    assert [int(r["loss_terms"]) for r in rows] == n_terms.tolist()
    assert {r["after_step"] for r in rows} == {"2"}
    sess.apply_config(sess.trainer.config.with_changes(cell="lstm"))
    sess.trainer.step(2)
    rows = list(csv.DictReader(io.StringIO(takeaway.window_csv(sess))))
    assert np.allclose([float(r["grad_norm_dc"]) for r in rows], sess.trainer.last.result.dc_norms, rtol=0, atol=0)
