"""AppTest: the Train page's "Download as a NumPy script" button, its caption, and the zip its click builds."""

from __future__ import annotations

import io
import json
import threading
import zipfile

import numpy as np
import pytest
from streamlit.runtime.media_file_manager import MediaFileManager
from test_takehome import ToyCell

from rnnviz import takehome
from rnnviz.cells import register, unregister
from rnnviz.ui.takeaway import SCRIPT_LABEL

from apptest_helpers import errors, session, start


@pytest.fixture
def deferred(monkeypatch) -> dict:
    """{file name: the data callable} of every deferred download the page registers (AppTest's media manager
    lives for one run only, so the callables are caught where Streamlit registers them)."""
    found = {}
    real = MediaFileManager.add_deferred

    def spy(self, data_callable, *args, **kw):
        found[kw.get("file_name")] = data_callable
        return real(self, data_callable, *args, **kw)

    monkeypatch.setattr(MediaFileManager, "add_deferred", spy)
    return found


def click_download(at, deferred: dict) -> bytes:
    """What a click on the script's button sends: its deferred data, built off the script thread as the server
    builds it when the browser asks for the file."""
    assert SCRIPT_LABEL in [e.proto.label for e in at.get("download_button")]
    out = []
    worker = threading.Thread(target=lambda: out.append(deferred[takehome.ZIP_NAME]()))
    worker.start()
    worker.join(60)
    return out[0]


def members(data: bytes) -> dict[str, bytes]:
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        return {name.split("/", 1)[1]: zf.read(name) for name in zf.namelist()}


def script_caption(at) -> str:
    found = [c.value for c in at.caption if takehome.ZIP_NAME in c.value]
    assert len(found) == 1, found
    return found[0]


def test_the_train_page_offers_the_script_and_a_click_builds_the_model_at_that_step(deferred):
    at = start()
    at.button(key="btn_step10").click().run()
    tr = session(at).trainer
    script = takehome.export(tr).script
    caption = script_caption(at)
    assert f"{len(script.splitlines())} lines of NumPy" in caption
    assert "`python rnnviz_model.py`" in caption and "Adam" in caption and "Vanilla RNN" in caption   # the default model
    files = members(click_download(at, deferred))
    assert sorted(files) == ["README.txt", takehome.NPZ_NAME, takehome.SCRIPT_NAME]
    assert files[takehome.SCRIPT_NAME].decode() == script
    npz = np.load(io.BytesIO(files[takehome.NPZ_NAME]), allow_pickle=False)
    assert int(npz["step"]) == 10 and npz["U"].tobytes() == tr.params["U"].tobytes()
    at.button(key="btn_step").click().run()    # the next click builds the model as it is then
    npz = np.load(io.BytesIO(members(click_download(at, deferred))[takehome.NPZ_NAME]), allow_pickle=False)
    assert int(npz["step"]) == 11 and not at.exception and errors(at) == []


def test_an_lstm_downloads_its_own_script_with_its_two_part_state(deferred):
    at = start()
    sess = session(at)
    sess.apply_config(sess.trainer.config.with_changes(cell="lstm", hidden_size=16))
    at.run()
    at.button(key="btn_step").click().run()
    assert "LSTM" in script_caption(at)
    files = members(click_download(at, deferred))
    npz = np.load(io.BytesIO(files[takehome.NPZ_NAME]), allow_pickle=False)
    assert npz["h"].shape == (2, 16) and json.loads(str(npz["settings"]))["cell"] == "lstm"
    assert "c_t = f * c_prev + i * g" in files[takehome.SCRIPT_NAME].decode()


def test_a_cell_without_a_script_gets_the_reason_instead_of_the_button():
    cell = register(ToyCell())
    try:
        at = start()
        sess = session(at)
        sess.apply_config(sess.trainer.config.with_changes(cell=cell.name, hidden_size=8))
        at.run()
        assert not at.exception, at.exception
        assert SCRIPT_LABEL not in [e.proto.label for e in at.get("download_button")]
        assert any("the Toy cell has no NumPy script" in c.value for c in at.caption)
    finally:
        unregister(cell.name)
