"""Small shared helpers for the SCTP decoder: structs, safe text, the decode context."""

from __future__ import annotations

import struct

from sctpscope.problems import Problem

U8 = struct.Struct(">B")
U16 = struct.Struct(">H")
U32 = struct.Struct(">I")
HDR = struct.Struct(">BBH")       # chunk header: type, flags, length
TLV = struct.Struct(">HH")        # parameter / cause header: type or code, length
U16U16 = struct.Struct(">HH")

MAX_DEPTH = 8                     # nesting limit for PKTDROP / causes / params inside params


def pad4(n: int) -> int:
    return (n + 3) & ~3


def safe_bytes(b: bytes, limit: int = 64) -> str:
    """Bytes from a packet as printable text: ``repr``-style escapes, never raw control characters."""
    s = repr(bytes(b[:limit]))[2:-1]
    return s + ("..." if len(b) > limit else "")


class Ctx:
    """Per-packet decode context: where problems go, the frame offset of the packet, nesting depth."""

    __slots__ = ("problems", "base", "verify", "depth")

    def __init__(self, problems: list, base: int, verify: bool, depth: int = 0) -> None:
        self.problems = problems
        self.base = base
        self.verify = verify
        self.depth = depth

    def add(self, code: str, layer: str, offset: int, needed: int | None = None,
            available: int | None = None, detail: str = "") -> None:
        self.problems.append(Problem(code, layer, self.base + offset, needed, available, detail))
