"""Making packet bytes safe for a terminal: every control or non-ASCII byte becomes an escape."""

from __future__ import annotations

_SAFE = {i: chr(i) for i in range(0x20, 0x7F)}
_SAFE[ord("\\")] = "\\\\"
_TABLE = [_SAFE.get(i, f"\\x{i:02x}") for i in range(256)]


def escape_bytes(data: bytes | bytearray | memoryview, limit: int | None = None) -> str:
    """Printable ASCII as is, backslash doubled, everything else as \\xNN; cut at `limit` bytes with '…'."""
    raw = bytes(data)
    cut = limit is not None and len(raw) > limit
    if cut:
        raw = raw[:limit]
    s = "".join(_TABLE[b] for b in raw)
    return s + "…" if cut else s


def escape_text(text: str) -> str:
    """A str that may hold control characters (a file name, a decoded field) made terminal-safe.

    Only control characters change, so applying it to text that escape_bytes already made safe changes
    nothing: it is the safety net at the edge, escape_bytes the exact rendering at the source.
    """
    if text.isprintable():
        return text
    out = []
    for ch in text:
        if ch.isprintable():
            out.append(ch)
        else:                       # controls, and Unicode format/separator characters (e.g. RTL override)
            o = ord(ch)
            out.append(f"\\x{o:02x}" if o < 0x100 else f"\\u{o:04x}")
    return "".join(out)


def cause_detail(cause) -> str | None:
    """What an error cause says beyond its name, terminal-safe: the reason text of a user-initiated abort
    (RFC 9260 §3.3.10.12), the information of a protocol violation, the decoded fields of the others."""
    raw = getattr(cause, "reason", None)
    if raw is None:
        raw = getattr(cause, "info", None)
    if isinstance(raw, (bytes, bytearray, memoryview)):
        return escape_bytes(raw) if len(raw) else None
    text = cause.detail()
    prefix = f"{cause.name}: "
    if text.startswith(prefix):
        text = text[len(prefix):]
    return None if not text or text == cause.name else escape_text(text)
