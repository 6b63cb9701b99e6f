"""Terminal safety of text: escape_bytes renders packet bytes exactly; escape_text is an idempotent net."""
from __future__ import annotations

from sctpscope.text import escape_bytes, escape_text


def test_escape_bytes_is_exact_and_ascii():
    assert escape_bytes(b"bye\x1b[2J\x07\\") == "bye\\x1b[2J\\x07\\\\"
    assert escape_bytes(bytes(range(256))).isascii()
    assert escape_bytes(b"abcdef", limit=3) == "abc…"


def test_escape_text_escapes_controls_and_format_characters_once():
    assert escape_text("a\x1bb\u202ec\td") == "a\\x1bb\\u202ec\\x09d"
    safe = escape_bytes(b"reason \x1b[31m")
    assert escape_text(safe) == safe                # already safe text is left alone: no double escaping
    assert escape_text(escape_text("x\x00y")) == escape_text("x\x00y")
