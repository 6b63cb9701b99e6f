"""An incremental pcapng parser: bytes in as they arrive (a file being written, a pipe), frames out.

``sctpscope.capture.open_capture`` reads a file to its end and stops there; live capture needs to read a file
while it grows (the analysis follows the file the capture writes) and a pipe in pieces (the dumpcap engine),
handing out every whole block at once and keeping a partial one until the rest comes. Frames and their
timestamps are computed exactly as the file reader computes them (``ticks / ticks-per-second`` plus the
interface's offset), and numbered the same way, so analysing frames from here or from ``open_capture`` of
the finished file gives the same result.

Blocks: SHB (either byte order; a new section resets the interfaces), IDB (link type, snaplen, if_tsresol,
if_tsoffset), EPB, SPB, OPB; ISB are kept as the last statistics of each interface (``stats``); custom blocks
are numbered as tshark numbers them and skipped; everything else is skipped.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass

from sctpscope.capture.reader import Frame, seconds

_BT_SHB = 0x0A0D0D0A
_NUMBERED_NON_PACKETS = frozenset({0x00000BAD, 0x40000BAD, 0x00000009})
MAX_BLOCK = 1 << 24


class StreamError(ValueError):
    """The bytes are not (or no longer) a pcapng stream."""


@dataclass
class StreamInterface:
    linktype: int
    snaplen: int
    tsdiv: int = 1_000_000
    tsoffset: int = 0
    name: str | None = None


class PcapngStream:
    """Feed bytes with ``feed()``; it returns the frames of every block completed, each with its timestamp in
    integer nanoseconds: ``[(Frame, ts_ns), ...]``."""

    def __init__(self) -> None:
        self._buf = bytearray()
        self._endian: str | None = None
        self.interfaces: list[StreamInterface] = []
        self.link_types: list[int] = []          # every IDB's link type, in order (all sections)
        self.number = 0
        self.bytes = 0                           # bytes of whole blocks consumed
        #: per interface id of the current section: (received, dropped) from its last ISB
        self.stats: dict[int, tuple[int | None, int | None]] = {}
        self.sections = 0
        self._last = (0.0, 0)                    # the previous packet's timestamp (SPBs have none)
        #: after each feed(): the stream offset of each returned frame's data (parallel to the list returned)
        self.offsets: list[int] = []

    @property
    def started(self) -> bool:
        """A section header has been read."""
        return self._endian is not None

    def pending(self) -> int:
        """Bytes held back: the start of a block not complete yet."""
        return len(self._buf)

    def feed(self, data: bytes) -> list[tuple[Frame, int]]:
        buf = self._buf
        buf += data
        out: list[tuple[Frame, int]] = []
        self.offsets = []
        pos = 0
        n = len(buf)
        while n - pos >= 12:
            if self._endian is None or buf[pos:pos + 4] == b"\x0a\x0d\x0d\x0a":
                bom = bytes(buf[pos + 8:pos + 12])
                if buf[pos:pos + 4] != b"\x0a\x0d\x0d\x0a":
                    raise StreamError("not a pcapng stream (no section header)")
                if bom == b"\x4d\x3c\x2b\x1a":
                    e = "<"
                elif bom == b"\x1a\x2b\x3c\x4d":
                    e = ">"
                else:
                    raise StreamError(f"bad byte-order magic {bom.hex()}")
            else:
                e = self._endian
            btype, blen = struct.unpack_from(e + "II", buf, pos)
            if blen < 12 or blen > MAX_BLOCK:
                raise StreamError(f"block type {btype:#x} with impossible length {blen}")
            blen = (blen + 3) & ~3
            if n - pos < blen:
                break
            self._block(e, btype, buf, pos, blen, out)
            pos += blen
        if pos:
            del buf[:pos]
            self.bytes += pos
        return out

    def _block(self, e: str, btype: int, buf: bytearray, pos: int, blen: int, out: list) -> None:
        if btype == _BT_SHB:
            self._endian = e
            self.interfaces = []
            self.stats = {}
            self.sections += 1
            return
        if btype == 6 and blen >= 32:                                  # EPB
            ifid, th, tl, caplen, orig_len = struct.unpack_from(e + "IIIII", buf, pos + 8)
            self.offsets.append(self.bytes + pos + 28)
            self._packet(ifid, (th << 32) | tl, bytes(buf[pos + 28:pos + 28 + min(caplen, blen - 32)]), orig_len, out)
        elif btype == 3 and blen >= 16 and self.interfaces:             # SPB: no timestamp (the reader reuses
            orig_len = struct.unpack_from(e + "I", buf, pos + 8)[0]    # the previous one; so do we)
            ifc = self.interfaces[0]
            caplen = min(orig_len, blen - 16, ifc.snaplen or orig_len)
            self.offsets.append(self.bytes + pos + 12)
            self._packet(0, None, bytes(buf[pos + 12:pos + 12 + caplen]), orig_len, out)
        elif btype == 2 and blen >= 32:                                 # OPB
            ifid, _drops, th, tl, caplen, orig_len = struct.unpack_from(e + "HHIIII", buf, pos + 8)
            self.offsets.append(self.bytes + pos + 28)
            self._packet(ifid, (th << 32) | tl, bytes(buf[pos + 28:pos + 28 + min(caplen, blen - 32)]), orig_len, out)
        elif btype == 1 and blen >= 20:                                 # IDB
            linktype, _res, snaplen = struct.unpack_from(e + "HHI", buf, pos + 8)
            ifc = StreamInterface(linktype, snaplen)
            for code, value in _options(e, buf, pos + 16, pos + blen - 4):
                if code == 9 and value:
                    r = value[0]
                    exp = r & 0x7F
                    if exp <= 63 or not r & 0x80:
                        ifc.tsdiv = (1 << exp) if r & 0x80 else 10 ** exp
                elif code == 14 and len(value) >= 8:
                    ifc.tsoffset = struct.unpack_from(e + "q", value)[0]
                elif code == 2:
                    ifc.name = value.decode("utf-8", "replace")
            self.interfaces.append(ifc)
            self.link_types.append(linktype)
        elif btype == 5 and blen >= 24:                                 # ISB
            ifid = struct.unpack_from(e + "I", buf, pos + 8)[0]
            recv = drop = None
            for code, value in _options(e, buf, pos + 20, pos + blen - 4):
                if code == 4 and len(value) >= 8:
                    recv = struct.unpack_from(e + "Q", value)[0]
                elif code == 5 and len(value) >= 8:
                    drop = struct.unpack_from(e + "Q", value)[0]
            self.stats[ifid] = (recv, drop)
        elif btype in _NUMBERED_NON_PACKETS:
            self.number += 1

    def _packet(self, ifid: int, ticks: int | None, data: bytes, orig_len: int, out: list) -> None:
        try:
            ifc = self.interfaces[ifid]
        except IndexError:
            raise StreamError(f"packet of interface {ifid}, of {len(self.interfaces)} described") from None
        if ticks is None:                        # SPB
            ts, ns = self._last
        else:
            ts = seconds(ticks, ifc.tsdiv)        # as the file reader
            if ifc.tsoffset:
                ts += ifc.tsoffset
            ns = ticks * 1_000_000_000 // ifc.tsdiv + ifc.tsoffset * 1_000_000_000
            self._last = (ts, ns)
        self.number += 1
        out.append((Frame(self.number, ts, ifc.linktype, data, len(data), orig_len, ifid), ns))


def _options(e: str, buf, p: int, end: int):
    while p + 4 <= end:
        code, olen = struct.unpack_from(e + "HH", buf, p)
        if code == 0:
            return
        v = p + 4
        if v + olen > end:
            return
        yield code, bytes(buf[v:v + olen])
        p = v + ((olen + 3) & ~3)
