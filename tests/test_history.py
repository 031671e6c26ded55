"""rnnviz.history: bounded memory, thinning that keeps what the charts teach, undo over thinned histories."""

from __future__ import annotations

import numpy as np
import pytest

from rnnviz import TrainConfig, Trainer
from rnnviz import history as history_module
from rnnviz.figures.common import envelope
from rnnviz.history import COLUMNS, PARAM_NORM_COLUMNS, History

NAMES = COLUMNS + PARAM_NORM_COLUMNS
TEXT = "the cat sat on the mat, and the dog sat on the log. " * 20


def synthetic(n: int, seed: int = 0) -> dict[str, np.ndarray]:
    """Columns of n steps: random losses with two spikes, clipping at random steps and at the lowest
    losses (so thinning meets it on both rows it keeps), η halved every 600 steps."""
    rng = np.random.default_rng(seed)
    steps = np.arange(1, n + 1)
    cols = {c: rng.random(n) for c in NAMES}
    cols["step"], cols["pos"] = steps, rng.integers(0, 1000, n)
    cols["loss"] = 1.0 + rng.random(n)
    for step, spike in ((777, 50.0), (2_500, 40.0)):           # two exploding steps
        if step <= n:
            cols["loss"][step - 1] = spike
    cols["grad_norm"] = rng.lognormal(0.0, 1.0, n)
    cols["clipped"] = (rng.random(n) < 0.01) | (cols["loss"] < 1.02)   # rare, and at most lowest-loss steps
    cols["lr_changed"] = steps % 600 == 0
    halvings_before = np.concatenate([[0], np.cumsum(cols["lr_changed"])[:-1]])
    cols["lr"] = 0.1 * 0.5 ** halvings_before                 # the rate used at each step
    return cols


def fill(h: History, cols: dict, T: int = 6, config=None) -> list[np.ndarray]:
    dhs = []
    for i in range(cols["step"].size):
        dh = np.arange(1.0, T + 1) * (i + 1)
        dhs.append(dh)
        h.append({c: cols[c][i] for c in NAMES}, dh, config)
    return dhs


def test_memory_is_bounded_after_200k_appends():
    h = History()
    row = dict.fromkeys(NAMES, 1.5)
    dh = np.ones(25)
    sizes = {}
    for step in range(1, 200_001):
        row["step"], row["loss"] = step, 2.0 + (step % 97) / 97
        h.append(row, dh, step // 1000)        # a new "config" every 1,000 steps
        if step % 10 == 0:
            h.spectrum.append((step, 1.0, 1.0))
        if step in (50_000, 200_000):
            sizes[step] = h.nbytes
    rows_max = h.recent_steps + h.batch_rows + h.old_rows + history_module.PENDING_ROWS
    assert len(h) <= rows_max
    assert sizes[200_000] <= sizes[50_000]      # stopped growing
    assert sizes[200_000] < 8 * 2**20           # ~360 bytes per row (T = 25) for at most rows_max rows
    assert sizes[200_000] <= rows_max * (8 * len(NAMES) + 8 * 25 + 4)
    assert len(h.spectrum) <= history_module.SPECTRUM_ROWS + 1
    assert len(h._cfg_steps) <= len(h) + 1      # config changes no kept row uses are dropped
    steps = h.column("step")
    assert steps[-1] == 200_000 and np.all(np.diff(steps) > 0)
    assert np.array_equal(steps[-h.recent_steps:], np.arange(200_001 - h.recent_steps, 200_001))
    assert [h.configs[i] for i in (0, len(h) // 2, -1)] == [s // 1000 for s in steps[[0, len(h) // 2, -1]]]


def expected_buckets(cols: dict, last_thinned_step: int, stride: int) -> dict[int, dict]:
    """Per bucket of the thinned part, computed directly from all rows (steps start at 1)."""
    out = {}
    for b in range((last_thinned_step - 1) // stride + 1):
        i = np.arange(b * stride, min((b + 1) * stride, last_thinned_step))   # row indices (step − 1)
        loss = cols["loss"][i]
        lo, hi = int(i[np.argmin(loss)]), int(i[np.argmax(loss)])
        changed = i[cols["lr_changed"][i]]
        out[b] = dict(lo=lo + 1, hi=hi + 1, clipped=bool(cols["clipped"][i].any()), lr_changed=changed.size > 0,
                      lr=float(cols["lr"][changed[-1]]) if changed.size else float(cols["lr"][hi]),
                      grad_norm=float(cols["grad_norm"][i].max()))
    return out


def test_thinning_keeps_spikes_events_and_true_steps():
    cols = synthetic(5_000)
    h = History(recent_steps=100, batch_rows=50, old_rows=40)
    dhs = fill(h, cols)
    kept = {c: h.column(c) for c in NAMES}
    steps, k = kept["step"], h.n_thinned
    assert k > 0 and h.stride > 1 and len(h) <= 100 + 50 + 40 + history_module.PENDING_ROWS
    # The recent part: every step, exactly as appended.
    first_recent = int(steps[k])
    assert first_recent <= 5_000 - 100 + 1
    assert np.array_equal(steps[k:], np.arange(first_recent, 5_001))
    for c in NAMES:
        assert np.array_equal(kept[c][k:], cols[c][first_recent - 1:]), c
    # The thinned part: per bucket, the lowest- and highest-loss steps with their own values…
    exp = expected_buckets(cols, first_recent - 1, h.stride)
    assert steps[:k].tolist() == sorted({s for e in exp.values() for s in (e["lo"], e["hi"])})
    own = [c for c in NAMES if c not in ("clipped", "lr_changed", "lr", "grad_norm")]
    for c in own:
        assert np.array_equal(kept[c][:k], cols[c][steps[:k] - 1]), c
    for r in range(k):
        assert np.array_equal(h.dh_norms[r], dhs[steps[r] - 1])
    # …and the highest-loss row carries the bucket's events, the other none.
    for e in exp.values():
        r_hi = int(np.searchsorted(steps, e["hi"]))
        assert kept["clipped"][r_hi] == e["clipped"] and kept["lr_changed"][r_hi] == e["lr_changed"]
        assert kept["lr"][r_hi] == e["lr"] and kept["grad_norm"][r_hi] == e["grad_norm"]
        if e["lo"] != e["hi"]:
            r_lo = int(np.searchsorted(steps, e["lo"]))
            assert not kept["clipped"][r_lo] and not kept["lr_changed"][r_lo]
            assert kept["lr"][r_lo] == cols["lr"][e["lo"] - 1]
    # What the loss chart shows: both spikes at their true steps, the extremes, every halving with its rate.
    assert kept["loss"][steps == 777][0] == 50.0 and kept["loss"][steps == 2_500][0] == 40.0
    assert kept["loss"].min() == cols["loss"].min()
    changed = kept["lr_changed"]
    assert changed.sum() == cols["lr_changed"].sum()           # 600 < stride: one halving per bucket
    np.testing.assert_array_equal(kept["lr"][changed] * 0.5, 0.1 * 0.5 ** np.arange(1, changed.sum() + 1))
    clip_buckets = {(s - 1) // h.stride for s in np.flatnonzero(cols["clipped"][:first_recent - 1]) + 1}
    assert kept["clipped"][:k].sum() == len(clip_buckets)
    x, y = envelope(steps, kept["loss"], max_points=20)
    assert 50.0 in y and 40.0 in y


def test_a_flat_bucket_keeps_two_rows_and_one_carrier():
    cols = synthetic(3_000)
    cols["loss"][:] = 2.0                       # every step ties: lowest = first, highest = last of the bucket
    h = History(recent_steps=100, batch_rows=50, old_rows=40)
    fill(h, cols)
    steps, k, s = h.column("step"), h.n_thinned, h.stride
    buckets = (steps[:k] - 1) // s
    assert np.all(np.bincount(buckets) == 2)
    assert np.array_equal(steps[:k:2], buckets[::2] * s + 1)        # each bucket's first step…
    carriers = h.column("clipped")[:k] | h.column("lr_changed")[:k]
    assert not carriers[::2].any()                                  # …carries nothing: its last row does
    assert carriers[1::2].sum() == len({(x - 1) // s for x in np.flatnonzero(cols["clipped"][:steps[k] - 1]) + 1}
                                       | {(x - 1) // s for x in np.flatnonzero(cols["lr_changed"][:steps[k] - 1]) + 1})


def test_configs_follow_steps_and_only_changes_are_stored():
    cols = synthetic(3_000)
    h = History(recent_steps=100, batch_rows=50, old_rows=40)
    cfg_a, cfg_b = TrainConfig(lr=0.1), TrainConfig(lr=0.05)
    for i in range(3_000):
        cfg = cfg_a if i < 2_950 else cfg_b
        h.append({c: cols[c][i] for c in NAMES}, np.ones(3), TrainConfig(lr=cfg.lr) if i % 2 else cfg)
    assert len(h._cfgs) == 2                    # equal configs (even new objects) are not stored again
    assert h.config_at(2_950) == cfg_a and h.config_at(2_951) == cfg_b and h.config_at(0) is None
    assert all(c == (cfg_a if s <= 2_950 else cfg_b) for s, c in zip(h.column("step"), h.configs, strict=True))


def test_truncate_to_step_in_the_recent_and_the_thinned_part():
    cols = synthetic(2_000)
    h = History(recent_steps=100, batch_rows=50, old_rows=40)
    fill(h, cols)
    for s in range(100, 2_001, 100):
        h.spectrum.append((s, 1.0, 1.0))
    h.truncate_to_step(1_950)
    assert h.column("step")[-1] == 1_950 and h.spectrum[-1][0] == 1_900
    k = h.n_thinned
    middle = int(h.column("step")[k // 2])
    h.truncate_to_step(middle)
    assert h.column("step")[-1] == middle and h.n_thinned == len(h) <= k
    h.append({c: cols[c][1_000] for c in NAMES} | {"step": middle + 1}, np.ones(3), None)
    assert h.column("step")[-2:].tolist() == [middle, middle + 1]
    h.truncate_to_step(0)
    assert len(h) == 0 and h.spectrum == [] and h.config_at(5) is None
    fill(h, synthetic(300))                     # starts over: origin and stride reset
    assert h.column("step")[-1] == 300 and h.stride >= 1


def test_dh_matrix_picks_rows_evenly_spaced_in_steps():
    cols = synthetic(20_000)
    h = History(recent_steps=1_000, batch_rows=200, old_rows=200)
    fill(h, cols, T=4)
    steps, M = h.dh_matrix(max_rows=50)
    assert steps[0] == 1 or steps[0] == h.column("step")[0]
    assert steps[-1] == 20_000 and len(steps) <= 50 and M.shape == (len(steps), 4)
    # Evenly in steps: most picked rows lie in the thinned part, which covers ~95% of the steps.
    assert np.sum(steps < h.column("step")[h.n_thinned]) >= 0.8 * len(steps)


@pytest.fixture
def small_limits(monkeypatch):
    """Trainers built now get Histories that keep only 120 steps row for row (undo reaches ≤ 100 back)."""
    monkeypatch.setattr(history_module, "RECENT_STEPS", 120)
    monkeypatch.setattr(history_module, "BATCH_ROWS", 30)
    monkeypatch.setattr(history_module, "OLD_ROWS", 16)


def snapshot(tr: Trainer, since: int) -> dict:
    """State bits and the history rows of steps ≥ since."""
    s = tr.state
    steps = tr.history.column("step")
    keep = steps >= since
    return {"step": s.step, "theta": s.theta.tobytes(), "pos": s.pos, "h": s.h.tobytes(),
            "slots": {k: v.tobytes() for k, v in s.opt.slots.items()}, "smooth": s.smooth_loss,
            "lr_scale": s.lr_scale, "last_row": int(steps[-1]) if steps.size else 0,
            "rows": {c: tr.history.column(c)[keep].tolist() for c in NAMES if c != "wall_ms"},
            "dh": [tr.history.dh_norms[i].tobytes() for i in np.flatnonzero(keep)],
            "configs": [tr.history.config_at(int(x)) for x in steps[keep]]}


@pytest.mark.parametrize("budget", [None, 1])        # 1: one snapshot per 50 steps, undo replays
@pytest.mark.parametrize("n", [1, 7, 50])
def test_undo_is_exact_after_thinning(small_limits, budget, n):
    cfg = TrainConfig(hidden_size=8, seq_len=5, optimizer="adam", lr=0.01, clip="norm", clip_value=0.5,
                      lr_halving=True, halve_every=10)
    tr = Trainer(TEXT, cfg, **({} if budget is None else {"undo_budget_bytes": budget}))
    N, caps = 700, {}
    for i in range(1, N + 1):
        if i == N - 30:
            tr.reconfigure(tr.config.with_changes(lr=0.02, clip="elementwise", clip_value=0.05))
        if i == N - 12:
            tr.reconfigure(tr.config.with_changes(truncate=2))
        assert tr.step() is not None
        if i >= N - 50:
            caps[i] = snapshot(tr, N - 100)
    assert tr.history.n_thinned > 0 and tr.history.stride > 1 and len(tr.history) < N
    assert tr.undo(n)
    assert snapshot(tr, N - 100) == caps[N - n]
    # Forward again with the settings each step used: the same run.
    for i in range(N - n + 1, N + 1):
        tr.reconfigure(caps[i]["configs"][-1])
        tr.step()
        assert snapshot(tr, N - 100) == caps[i]


def test_the_loss_chart_spreads_its_points_over_steps_not_rows():
    from rnnviz.figures.train import loss_spec

    cols = synthetic(40_000)
    h = History(recent_steps=2_000, batch_rows=200, old_rows=400)
    fill(h, cols, T=2)
    steps, k = h.column("step"), h.n_thinned
    clipped = steps[h.column("clipped")]
    spec = loss_spec(steps, h.column("loss"), h.column("smooth_loss"), 3.0, clipped)
    raw, smooth, ticks = (np.asarray(d["x"]) for d in spec["data"][:3])
    old = steps[k]                              # the thinned part covers 95% of the steps…
    assert np.sum(raw < old) >= 0.6 * k         # …so it gets most of the points (by rows it would get ~15%)
    assert np.sum(smooth < old) >= 0.6 * min(k, 600)
    assert np.sum(ticks < old) >= 0.6 * np.sum(clipped < old)
    assert {50.0, 40.0} <= set(np.asarray(spec["data"][0]["y"]).tolist())
