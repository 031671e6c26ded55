"""Uploaded and pasted text: clear refusals for what cannot be trained on."""

from __future__ import annotations

import pytest

from rnnviz.ui.textsource import MAX_TEXT_CHARS, MAX_UPLOAD_MB, TextError, check_text, decode_upload


def test_plain_utf8_with_bom_and_crlf():
    assert decode_upload("\ufeffhello\r\nworld é ✓".encode()) == "hello\nworld é ✓"


@pytest.mark.parametrize("data, says", [
    (b"", "empty"),
    (b"   \n ", "empty"),
    (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(200), "binary"),
    ("caf\u00e9".encode("latin-1") + b" more text here", "not valid UTF-8"),
    (b"\x00\x01\x02\x03binary\x00\x00" * 50, "binary"),
    (b"\xff\xfe\x00\xd8", "UTF-16"),
])
def test_refusals_say_why(data, says):
    with pytest.raises(TextError, match=says):
        decode_upload(data, "notes.txt")


def test_upload_size_limit():
    with pytest.raises(TextError, match=f"limit is {MAX_UPLOAD_MB} MB"):
        decode_upload(b"a" * (MAX_UPLOAD_MB * 2**20 + 1), "big.txt")


def test_text_length_limit():
    check_text("a" * MAX_TEXT_CHARS)
    with pytest.raises(TextError, match="limit"):
        check_text("a" * (MAX_TEXT_CHARS + 1))


def test_control_characters_and_emoji_are_text():
    text = "a\x00b\u202eמה🙂e\u0301\x07" + "plain words " * 20
    assert decode_upload(text.encode()) == text


def test_utf16_with_bom_is_decoded():
    assert decode_upload("héllo wörld\r\n".encode("utf-16")) == "héllo wörld\n"


def test_markdown_escaping_neutralises_user_text():
    from rnnviz.ui.safe import md

    evil = "[click](javascript:alert(1)) **bold** $x^2$ <img src=x> # heading `code`"
    out = md(evil)
    import re
    assert re.search(r"(?<!\\)[\[\]()*$<>#`]", out) is None, out  # every special character is escaped
    # Escaping only adds backslashes (and zero-width spaces): removing them gives the text back.
    assert out.replace("\\", "").replace("\u200b", "") == evil.replace("\\", "")


def _unescaped(markdown: str) -> str:
    """The text a markdown renderer ends up with: each backslash escape undone."""
    import re

    return re.sub(r"\\(.)", r"\1", markdown)


def test_markdown_escaping_breaks_github_autolinks():
    """remark-gfm turns bare URLs, www. names and e-mail addresses into links after escapes are
    undone, so md() must leave none of the patterns it looks for (its regexes, simplified)."""
    import re

    from rnnviz.ui.safe import md

    patterns = [r"(?i)https?://[-.\w]", r"(?i)\bwww\.[-\w]", r"[-.+\w]+@[-\w]+\.[-\w]", r"(?i)(mailto|xmpp):[-.+\w]"]
    for name in ["notes see https://evil.example/login?x=1.txt", "WWW.evil.example", "HTTP://x.y",
                 "mail me: bob@evil.example", "mailto:bob@evil.example", "www.a.b https://c.d www.e.f"]:
        shown = _unescaped(md(name))
        assert not any(re.search(p, shown) for p in patterns), (name, shown)
        assert shown.replace("\u200b", "") == name      # nothing visible changes
