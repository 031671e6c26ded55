"""Uploads in a real browser: a checkpoint round trip through the user's disk, and files that
must be refused with a message while the model stays as it was."""

from __future__ import annotations

import pytest

from browser_support import ARTIFACTS, open_app, shot, step_count, wait_idle, wait_step

pytestmark = pytest.mark.browser


def uploader(page, label: str):
    return page.locator('[data-testid="stFileUploader"]').filter(has_text=label).locator('input[type="file"]')


def open_section(page, title: str) -> None:
    page.get_by_text(title).first.click()
    wait_idle(page)


def test_checkpoint_download_and_upload_round_trip(browser, app_url, tmp_path):
    page = open_app(browser, app_url)
    page.get_by_role("button", name="Step ×10", exact=True).click()
    wait_step(page, 10)
    open_section(page, "Save / load the model")
    with page.expect_download() as dl:
        page.get_by_role("button", name="Download this model (.npz)").click()
    saved = tmp_path / "model.npz"
    dl.value.save_as(saved)
    assert saved.stat().st_size > 1000

    page.get_by_role("button", name="Reset").click()
    wait_step(page, 0)
    uploader(page, "Load a saved model").set_input_files(str(saved))
    page.get_by_text("Loaded model.npz").wait_for()
    wait_step(page, 10)
    page.get_by_role("button", name="Step", exact=False).first.click()
    wait_step(page, 11)
    shot(page, "uploads-1-checkpoint-restored")


@pytest.mark.parametrize("name, content, says, section, label", [
    ("evil.npz", b"PK\x03\x04 this is not really a zip", "Could not load evil.npz", "Save / load the model",
     "Load a saved model"),
    ("photo.txt", b"\x89PNG\r\n\x1a\n" + bytes(3000), "looks like a binary file", "Text ·", "upload a .txt"),
    ("latin1.txt", "Café crème brûlée, déjà vu. ".encode("latin-1") * 20, "not valid UTF-8", "Text ·", "upload a .txt"),
])
def test_bad_uploads_are_refused_and_the_model_kept(browser, app_url, name, content, says, section, label):
    page = open_app(browser, app_url)
    page.get_by_role("button", name="Step ×10", exact=True).click()
    wait_step(page, 10)
    ARTIFACTS.mkdir(exist_ok=True)
    path = ARTIFACTS / name
    path.write_bytes(content)
    open_section(page, section)
    uploader(page, label).set_input_files(str(path))
    page.get_by_text(says).first.wait_for()
    assert step_count(page) == "10"  # the model that was there is untouched
    page.get_by_role("button", name="Step", exact=False).first.click()
    wait_step(page, 11)


def test_a_50_mb_upload_is_refused_before_it_is_sent(browser, app_url):
    page = open_app(browser, app_url)
    page.get_by_role("button", name="Step ×10", exact=True).click()
    wait_step(page, 10)
    ARTIFACTS.mkdir(exist_ok=True)
    big = ARTIFACTS / "big.txt"
    with big.open("wb") as f:
        f.write(b"lorem ipsum " * (50 * 2**20 // 12))
    try:
        open_section(page, "Text ·")
        uploader(page, "upload a .txt").set_input_files(str(big))
        page.get_by_text("File must be 5.0MB or smaller").wait_for()
        assert step_count(page) == "10"
        page.get_by_role("button", name="Step", exact=False).first.click()
        wait_step(page, 11)
    finally:
        big.unlink()
