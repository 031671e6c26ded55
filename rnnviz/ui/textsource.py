"""Turning what a user pastes or uploads into training text, or a clear reason why not.

No Streamlit here: pure functions, so the checks are unit-testable.
"""

from __future__ import annotations

from rnnviz.config import MAX_TEXT_CHARS  # a paste or upload beyond it is refused, not truncated silently

MAX_UPLOAD_MB = 5                   # also set as server.maxUploadSize in .streamlit/config.toml


class TextError(ValueError):
    """Text we cannot train on; the message says what to do instead."""


def check_text(text: str) -> str:
    """The text unchanged if it can be used, else TextError. (Tokenizing has its own checks.)"""
    if text is None or not text.strip():
        raise TextError("The text is empty. Paste or upload some text, or pick a sample.")
    if len(text) > MAX_TEXT_CHARS:
        raise TextError(
            f"The text has {len(text):,} characters; the limit is {MAX_TEXT_CHARS:,}. "
            "A tiny RNN learns as much from the first few thousand characters: paste a shorter excerpt."
        )
    return text


def decode_upload(data: bytes, name: str = "file") -> str:
    """UTF-8 text from an uploaded file, or TextError naming the problem (size, binary, encoding)."""
    if len(data) > MAX_UPLOAD_MB * 2**20:
        raise TextError(f"{name} is {len(data) / 2**20:.1f} MB; the limit is {MAX_UPLOAD_MB} MB.")
    if not data:
        raise TextError(f"{name} is empty.")
    if data[:2] in (b"\xff\xfe", b"\xfe\xff"):  # UTF-16 with a byte-order mark (Windows Notepad)
        try:
            return check_text(data.decode("utf-16").replace("\r\n", "\n"))
        except UnicodeDecodeError:
            raise TextError(f"{name} starts like UTF-16 text but cannot be decoded. Save it as UTF-8.") from None
    head = data[:8192]
    # Text files almost never contain NUL bytes; binaries (images, zips, executables) almost always do.
    if head.count(b"\x00") > len(head) // 100:
        raise TextError(f"{name} looks like a binary file, not text. Upload a plain .txt file.")
    try:
        text = data.decode("utf-8-sig")  # -sig: drop a byte-order mark some editors write
    except UnicodeDecodeError as e:
        raise TextError(
            f"{name} is not valid UTF-8 text (byte {e.start} cannot be decoded). "
            "Save it as UTF-8 in your editor and upload it again."
        ) from None
    return check_text(text.replace("\r\n", "\n"))
