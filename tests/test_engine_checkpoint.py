"""Checkpoints: exact round trips, and a clear CheckpointError for every kind of bad file,
without ever unpickling anything."""

from __future__ import annotations

import io
import json
import pickle
import zipfile

import numpy as np
import pytest

from rnnviz import TrainConfig, Trainer, load_checkpoint, save_checkpoint
from rnnviz.checkpoint import CheckpointError

from test_engine_reference import NAMES, token_losses
from test_engine_trainer import CHAR_TEXT, assert_same, capture, word_text

CFG = TrainConfig(hidden_size=6, seq_len=8, optimizer="adam", lr=0.01, clip="norm", clip_value=2.0, seed=5)


@pytest.fixture(scope="module")
def trained():
    tr = Trainer(CHAR_TEXT, CFG)
    tr.step(7)
    return tr


@pytest.fixture(scope="module")
def good(trained) -> bytes:
    return save_checkpoint(trained)


def members(data: bytes) -> dict:
    with np.load(io.BytesIO(data), allow_pickle=False) as z:
        return {k: z[k] for k in z.files}


def pack(d: dict) -> bytes:
    buf = io.BytesIO()
    np.savez(buf, **d)  # allow_pickle defaults to True here: object arrays get pickled
    return buf.getvalue()


def changed(good: bytes, **updates) -> bytes:
    d = members(good)
    for k, v in updates.items():
        if v is None:
            del d[k]
        else:
            d[k] = v
    return pack(d)


def check_rejected(data, *words):
    with pytest.raises(CheckpointError) as e:
        load_checkpoint(data)
    msg = str(e.value)
    assert msg.startswith("not a valid rnnviz checkpoint")
    for w in words:
        assert w in msg, msg
    return msg


# ----------------------------------------------------------------------------- round trips
def test_round_trip_is_exact(trained, good):
    ck = load_checkpoint(good)
    assert set(ck) == {"params", "config", "vocab", "text", "step"}
    for k in NAMES:
        assert ck["params"][k].dtype == np.float64
        assert ck["params"][k].tobytes() == np.asarray(trained.params[k]).tobytes()
    assert ck["config"] == CFG
    assert ck["vocab"] == trained.tokenizer.vocab
    assert ck["text"] == CHAR_TEXT
    assert ck["step"] == 7
    assert isinstance(CheckpointError("x"), ValueError)


def test_trainer_from_checkpoint_continues(trained, good):
    tr = Trainer.from_checkpoint(good)
    assert tr.step_count == 7 and tr.config == CFG and len(tr.history) == 0
    for k in NAMES:
        assert np.asarray(tr.params[k]).tobytes() == np.asarray(trained.params[k]).tobytes()
    assert not tr.can_undo and tr.undo(1) is False
    rec = tr.step()
    assert rec.step == 8 and len(tr.history) == 1
    # The loaded weights are what the step used: a loaded trainer starts at the text's start
    # with h = 0, so its first loss is the loss of the first window at the saved weights.
    data = trained.tokenizer.encode(CHAR_TEXT)
    T = CFG.seq_len
    expected = token_losses(trained.params, data[:T], data[1:T + 1], np.zeros(CFG.hidden_size)).sum()
    assert rec.loss == pytest.approx(expected, rel=1e-12)


@pytest.mark.parametrize("budget", [None, 1])
def test_undo_after_loading_a_checkpoint(good, budget):
    """History rows are offset by the checkpoint's step; undo (with replay when budget = 1) must
    still find the settings each step used, and never go below the loaded step."""
    kw = {} if budget is None else {"undo_budget_bytes": budget}
    tr = Trainer.from_checkpoint(good, **kw)
    caps = [capture(tr)]
    for i in range(8):
        if i == 3:
            tr.reconfigure(tr.config.with_changes(lr=0.05, clip="elementwise", clip_value=0.05))
        if i == 6:
            tr.reconfigure(tr.config.with_changes(truncate=1))
        tr.step()
        caps.append(capture(tr))
    assert tr.undo(9) is False
    assert tr.undo(6)
    assert_same(capture(tr), caps[2])
    assert tr.undo(2)
    assert_same(capture(tr), caps[0])
    assert tr.undo(1) is False


@pytest.mark.parametrize(
    "text,level",
    [
        ("h\x00e\x00l\x00l\x00o\x00 \x00w\x00o\x00r\x00l\x00d\x00" * 3, "char"),  # UTF-16 read as UTF-8
        ("abc\x00" * 10, "char"),
        ("emoji 👩‍👩‍👧 🇫🇷 combining e\u0301 rtl שלום \u202e ctrl \x01\x7f tab\t" * 2, "char"),
        ("lone surrogate \udcff from a bad decode " * 3, "char"),
        (word_text(40, 300), "word"),
        ("Hello there. How are you? Fine, thanks! " * 5, "word"),
    ],
)
def test_round_trip_odd_texts(text, level):
    cfg = TrainConfig(level=level, hidden_size=4, seq_len=6, sentence_tokens=level == "word")
    tr = Trainer(text, cfg)
    tr.step(2)
    tr2 = Trainer.from_checkpoint(save_checkpoint(tr))
    assert tr2.text == text
    assert tr2.tokenizer.vocab == tr.tokenizer.vocab
    for k in NAMES:
        assert np.asarray(tr2.params[k]).tobytes() == np.asarray(tr.params[k]).tobytes()


# ----------------------------------------------------------------------------- rejections
def test_random_bytes_empty_and_truncated(good):
    check_rejected(np.random.default_rng(0).bytes(4000), "zip")
    check_rejected(b"", "empty")
    check_rejected(good[: len(good) // 2], "truncated")
    check_rejected(good[:-30], "truncated")
    check_rejected(b"PK\x03\x04" + b"\x00" * 100)


def test_corrupted_member_is_rejected(good):
    # Flip bytes inside the first member's compressed data (the directory stays intact).
    data = bytearray(good)
    with zipfile.ZipFile(io.BytesIO(good)) as zf:
        info = max(zf.infolist(), key=lambda m: m.compress_size)
    start = info.header_offset + 30 + len(info.filename) + len(info.extra)
    for i in range(start + 5, start + 40):
        data[i] ^= 0xFF
    check_rejected(bytes(data), "could not be read")


def test_pickled_object_array_is_rejected_without_unpickling(good, monkeypatch):
    def boom(*a, **kw):
        raise AssertionError("pickle was used")

    for name in ("load", "loads", "Unpickler"):
        monkeypatch.setattr(pickle, name, boom)
    obj = np.empty((6, 6), dtype=object)
    obj[:] = 0.5
    check_rejected(changed(good, W=obj), "pickle")
    check_rejected(changed(good, vocab=np.array([["a"], 1], dtype=object)), "pickle")
    # And a good file loads with pickle unavailable.
    assert load_checkpoint(good)["step"] == 7


def test_wrong_shapes_dtypes_values(good):
    d = members(good)
    H, V = d["W"].shape[0], d["V"].shape[0]
    check_rejected(changed(good, V=np.zeros((V + 1, H))), "V has shape", f"({V + 1}, {H})")
    check_rejected(changed(good, W=np.zeros((H, H + 1))), "W has shape")
    check_rejected(changed(good, b=np.zeros((H, 1))), "b has shape")
    check_rejected(changed(good, W=np.zeros((H + 1, H + 1))), "hidden size")
    check_rejected(changed(good, W=np.zeros(H)), "hidden size")
    check_rejected(changed(good, W=d["W"].astype(np.float32)), "W has dtype float32")
    check_rejected(changed(good, c=d["c"].astype(np.int64)), "c has dtype")
    w = d["W"].copy()
    w[1, 2] = np.nan
    check_rejected(changed(good, W=w), "W contains NaN")
    u = d["U"].copy()
    u[0, 0] = np.inf
    check_rejected(changed(good, U=u), "U contains NaN or infinity")
    check_rejected(changed(good, V=d["V"] * 1e10), "beyond")


def test_extra_or_missing_keys(good):
    check_rejected(changed(good, extra=np.zeros(1)), "unexpected extra")
    check_rejected(changed(good, c=None), "missing c")
    check_rejected(changed(good, W=None, hack=np.zeros(1)), "missing W", "unexpected hack")


def test_bad_metadata(good):
    check_rejected(changed(good, format=np.array("rnnviz-checkpoint-0")), "format")
    check_rejected(changed(good, step=np.array(-1)), "step")
    check_rejected(changed(good, step=np.array(2.5)), "step")
    check_rejected(changed(good, vocab=np.array(json.dumps(["a"]))), "vocabulary")
    check_rejected(changed(good, vocab=np.array(json.dumps(["a", "a", "b"]))), "vocabulary")
    check_rejected(changed(good, vocab=np.array(json.dumps(["a", 3]))), "vocabulary")
    check_rejected(changed(good, vocab=np.array(json.dumps({"a": 1}))), "vocabulary")
    check_rejected(changed(good, vocab=np.array(["a", "b"])), "vocabulary")  # not one JSON string
    check_rejected(changed(good, vocab=np.array("[not json")), "vocabulary")
    check_rejected(changed(good, text=np.array(json.dumps(["x"]))), "text")
    check_rejected(changed(good, text=np.array("raw, not JSON")), "text")


@pytest.mark.parametrize(
    "config",
    ["{not json", "[1, 2]", "null", '"string"', '{"bogus": 1}', '{"hidden_size": 0}', '{"lr": "fast"}',
     '{"cell": ["rnn"]}', "[" * 100_000, '{"seq_len": 1e999}'],
)
def test_invalid_config_json(good, config):
    check_rejected(changed(good, config=np.array(config)), "settings")


def test_config_with_unknown_key_names_it(good):
    d = json.loads(str(members(good)["config"]))
    d["momentum_beta"] = 0.5
    check_rejected(changed(good, config=np.array(json.dumps(d))), "momentum_beta")


def test_vocabulary_must_match_the_text(good):
    d = members(good)
    vocab = json.loads(str(d["vocab"]))
    swapped = [vocab[1], vocab[0], *vocab[2:]]
    data = changed(good, vocab=np.array(json.dumps(swapped)))
    assert load_checkpoint(data)["vocab"] == swapped  # a well-formed file ...
    with pytest.raises(CheckpointError, match="vocabulary does not match"):
        Trainer.from_checkpoint(data)  # ... whose vocabulary is not its text's
    with pytest.raises(CheckpointError, match="cannot be trained on"):
        Trainer.from_checkpoint(changed(good, text=np.array(json.dumps("aaaaaaaaaaaaaaaaaaaa"))))


def test_not_bytes_is_rejected():
    with pytest.raises(CheckpointError):
        load_checkpoint("a string, not bytes")  # type: ignore[arg-type]


# ----------------------------------------------------------------------------- the text limit (issue #13)
def _compressed(d: dict) -> bytes:
    buf = io.BytesIO()
    np.savez_compressed(buf, **d)
    return buf.getvalue()


def test_a_small_file_with_a_huge_text_is_refused_before_decompressing(good, monkeypatch):
    """45M characters compress to a few hundred kB: the zip directory gives the text away first."""
    from rnnviz import checkpoint
    from rnnviz.config import MAX_TEXT_CHARS

    d = members(good)
    d["text"] = np.array(json.dumps("a" * (7 * MAX_TEXT_CHARS)))
    data = _compressed(d)
    assert len(data) < 1_000_000
    monkeypatch.setattr(checkpoint.np, "load", lambda *a, **k: pytest.fail("decompressed the text"))
    check_rejected(data, f"{MAX_TEXT_CHARS:,} characters")


def test_a_text_just_over_the_paste_limit_is_refused_before_tokenizing(good, monkeypatch):
    from rnnviz import trainer as trainer_mod
    from rnnviz.config import MAX_TEXT_CHARS

    data = changed(good, text=np.array(json.dumps("ab" * (MAX_TEXT_CHARS // 2 + 1))))
    monkeypatch.setattr(trainer_mod, "tokenize_corpus", lambda *a, **k: pytest.fail("tokenized the text"))
    with pytest.raises(CheckpointError, match=f"limit is {MAX_TEXT_CHARS:,}"):
        Trainer.from_checkpoint(data)
