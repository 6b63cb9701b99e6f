"""Streaming pcap / pcapng reader.

Memory stays bounded whatever the file size: the file is read in CHUNK-sized pieces into a small
buffer and parsed in place with precompiled ``struct.Struct`` objects. Bad input never raises out of
iteration: a record cut short by the end of the file, or a block with an impossible length or type,
stops reading and appends a :class:`~sctpscope.problems.Problem` to ``Capture.problems``; every frame
before it has been yielded.

Speed: each format has a tight loop over the records wholly inside the buffer (locals only, one
``unpack_from`` per record, frames built with ``tuple.__new__``); a record across the buffer end, an
odd block or a fault drops to the general code, which refills, reports, or handles the block, and
the loop resumes.
"""

from __future__ import annotations

import bz2
import gzip
import io
import lzma
import os
import struct
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Final, Any, BinaryIO, Iterator, NamedTuple, cast

from sctpscope.capture.linktypes import linktype_name
from sctpscope.errors import CaptureError
from sctpscope.problems import Problem

try:  # present when built with mypyc (mypy depends on it); a no-op decorator in the pure build
    from mypy_extensions import mypyc_attr
except ImportError:  # pragma: no cover - depends on the build
    def mypyc_attr(*_args: object, **_kwargs: object):  # type: ignore[no-redef,misc]
        return lambda cls: cls

CHUNK = 1 << 20  # not Final: tests shrink it (monkeypatch) to cross buffer refills
#: Largest record accepted; anything bigger is taken for a corrupt length (tshark's own limit is 256 KiB).
MAX_RECORD: Final = 1 << 24

# pcap magic numbers as read little-endian from the first four bytes
_PCAP_MAGICS: Final = {
    # bytes: (endian, nanosecond, modified-record-header)
    b"\xd4\xc3\xb2\xa1": ("<", False, False),
    b"\xa1\xb2\xc3\xd4": (">", False, False),
    b"\x4d\x3c\xb2\xa1": ("<", True, False),
    b"\xa1\xb2\x3c\x4d": (">", True, False),
    b"\x34\xcd\xb2\xa1": ("<", False, True),  # Alexey Kuznetsov's modified pcap
    b"\xa1\xb2\xcd\x34": (">", False, True),
}
_PCAPNG_SHB: Final = b"\x0a\x0d\x0d\x0a"
_GZIP_MAGIC: Final = b"\x1f\x8b"

_BT_SHB: Final = 0x0A0D0D0A
_BT_IDB: Final = 1
_BT_OPB: Final = 2
_BT_SPB: Final = 3
_BT_EPB: Final = 6
#: non-packet records that tshark nevertheless numbers as frames: custom blocks, systemd journal export
_NUMBERED_NON_PACKETS: Final = frozenset({0x00000BAD, 0x40000BAD, 0x00000009})
_PACKET_BLOCKS: Final = frozenset({_BT_EPB, _BT_SPB, _BT_OPB})
_NATIVE: Final = "<" if sys.byteorder == "little" else ">"

_S: Final = {
    e: {
        "pcap_global": struct.Struct(e + "HHiIII"),
        "pcap_rec": struct.Struct(e + "IIII"),
        "ng_head": struct.Struct(e + "II"),
        "u32": struct.Struct(e + "I"),
        "idb": struct.Struct(e + "HHI"),
        "epb": struct.Struct(e + "IIIII"),
        "epb7": struct.Struct(e + "IIIIIII"),  # block type and length, then the EPB fields
        "opb": struct.Struct(e + "HHIIII"),
        "opt": struct.Struct(e + "HH"),
        "i64": struct.Struct(e + "q"),
    }
    for e in "<>"
}


class Frame(NamedTuple):
    """One captured record, numbered from 1 like tshark numbers frames.

    A named tuple: the readers build millions of them, and ``tuple.__new__`` is the cheapest
    construction Python offers (fields read as fast as slots). Frames are immutable.
    """

    number: int
    ts: float
    linktype: int
    data: bytes
    caplen: int
    orig_len: int
    interface: int = 0


#: ``_new_frame(Frame, (number, ts, linktype, data, caplen, orig_len, interface))``: builds a Frame
#: without the Python-level ``__new__`` (all seven fields must be given).
_new_frame: Final = tuple.__new__


@dataclass(slots=True)
class Interface:
    """A capture interface: pcap has one, pcapng one per IDB in the current section."""

    linktype: int
    snaplen: int
    tsdiv: int = 1_000_000  # ticks per second (if_tsresol)
    tsoffset: int = 0  # seconds added to every timestamp (if_tsoffset)

    @property
    def name(self) -> str:
        return linktype_name(self.linktype)


class _SwappedWords:
    """``words[i]``: the non-native-order 32-bit word i of a buffer (fast loop of the pcapng reader)."""

    __slots__ = ("_buf",)

    _unpack = staticmethod(struct.Struct(">I" if _NATIVE == "<" else "<I").unpack_from)

    def __init__(self, buf: bytes):
        self._buf = buf

    def __getitem__(self, i: int) -> int:
        return self._unpack(self._buf, i << 2)[0]


class _Chain(io.RawIOBase):
    """A read-only stream: some already-read bytes, then the rest of a file (so pipes work too)."""

    def __init__(self, prefix: bytes, f: BinaryIO):
        self._prefix = prefix
        self._f = f

    def readable(self) -> bool:
        return True

    def readinto(self, b) -> int:  # type: ignore[override]
        if self._prefix:
            n = min(len(b), len(self._prefix))
            b[:n] = self._prefix[:n]
            self._prefix = self._prefix[n:]
            return n
        data = self._f.read(len(b))
        n = len(data)
        b[:n] = data
        return n


def _read_exactly(f: BinaryIO, n: int) -> bytes:
    out = b""
    while len(out) < n:
        piece = f.read(n - len(out))
        if not piece:
            break
        out += piece
    return out


def nanoseconds(ticks: int, tsdiv: int, tsoffset: int = 0) -> int:
    """A timestamp of `ticks` of 1/`tsdiv` s (plus `tsoffset` whole seconds) in whole nanoseconds: exact for
    micro- and nanosecond resolutions, rounded to the nearest for the others."""
    if 1_000_000_000 % tsdiv == 0:
        ns = ticks * (1_000_000_000 // tsdiv)
    else:
        ns = (ticks * 1_000_000_000 + tsdiv // 2) // tsdiv
    return ns + tsoffset * 1_000_000_000


def seconds(ticks: int, tsdiv: int) -> float:
    """A pcapng timestamp (`ticks` of 1/`tsdiv` s) as float seconds, the same in the pure and the compiled
    build: mypyc divides two ints as doubles, which rounds nanosecond ticks (above 2**53) before dividing,
    where Python rounds once. Whole seconds and the remainder are both exact as doubles, so this rounds
    twice at most, identically in both builds (within one ulp, 0.24 us today, of the exact quotient)."""
    whole = ticks // tsdiv
    return whole + (ticks - whole * tsdiv) / tsdiv


@mypyc_attr(allow_interpreted_subclasses=True)
class RecordSkip:
    """What Capture.skip holds: `skip(linktype, buffer, start, end)` says from the record's raw bytes
    buffer[start:end] whether to pass over it (count and number it, build and yield nothing). A class
    rather than a callable: compiled (mypyc), subclasses are called natively, which matters per record."""

    def skip(self, linktype: int, buf: bytes, start: int, end: int) -> bool:
        return False


class Capture:
    """An open capture file; iterate it for :class:`Frame` objects (streaming, single pass)."""

    def __init__(self, path: str | os.PathLike[str], chunk: int = 0, stream: BinaryIO | None = None):
        self.path = str(path)
        #: read this stream (named `path` in messages) instead of opening `path` (capture.slices)
        self._stream = stream
        self.format = ""
        self.link_types: list[str] = []
        self.interfaces: list[Interface] = []
        self.problems: list[Problem] = []
        self.compressed = False
        self.compression: str | None = None  # "gzip" | "bzip2" | "xz" | None
        #: pcapng records tshark numbers as frames but which are no packets (custom blocks...): not yielded
        self.skipped_records = 0
        self._files: list[Any] = []
        self._buf = b""
        self._pos = 0
        self._base = 0  # file offset (of the uncompressed stream) of self._buf[0]
        self._eof = False
        self._number = 0
        self._gen: Iterator[Frame | None] | None = None
        #: optional RecordSkip: records its `skip` returns True for (a parallel worker's frames owned by
        #: another worker) are counted and numbered but not yielded; the caller decides from the raw bytes
        #: without the cost of building a Frame (see pipeline.decode_files)
        self.skip: RecordSkip | None = None
        self.skipped = 0
        #: (number, ts) of the first and last skipped record
        self.skipped_first: tuple[int, float] | None = None
        self.skipped_last: tuple[int, float] | None = None
        #: the last frame's timestamp as the file holds it, in ticks of its interface's tsdiv (before
        #: if_tsoffset): exact where the float Frame.ts is not (nanoseconds since 1970 need 61 bits)
        self.ticks = 0
        #: bytes asked of the file per refill (inputs.first_timestamp asks for little: one record)
        self.chunk = chunk or CHUNK
        try:
            self._open()
        except BaseException:
            self.close()
            raise

    # ------------------------------------------------------------------ opening
    def _open(self) -> None:
        p = self.path
        try:
            given = self._stream
            raw: BinaryIO = given if given is not None else open(p, "rb")
        except FileNotFoundError:
            raise CaptureError(f"{p}: no such file") from None
        except IsADirectoryError:
            raise CaptureError(f"{p}: is a directory, not a capture file") from None
        except OSError as e:
            raise CaptureError(f"{p}: cannot open: {e.strerror or e}") from None
        self._files.append(raw)
        try:
            head = _read_exactly(raw, 4)
        except OSError as e:
            raise CaptureError(f"{p}: cannot read: {e.strerror or e}") from None
        stream: BinaryIO = raw
        kind = None
        if head[:2] == _GZIP_MAGIC:
            kind = "gzip"
        elif head[:3] == b"BZh":
            kind = "bzip2"
        elif head == b"\xfd7zX" and _read_exactly(raw, 2) == b"Z\x00":
            head += b"Z\x00"
            kind = "xz"
        elif head in (b"\x28\xb5\x2f\xfd", b"\x04\x22\x4d\x18"):
            which = "zstd" if head[0] == 0x28 else "lz4"
            raise CaptureError(f"{p}: {which}-compressed captures are not supported; decompress it first")
        if kind is not None:
            self.compressed = True
            src = io.BufferedReader(_Chain(head, raw))
            dec: Any
            if kind == "gzip":
                dec = gzip.GzipFile(fileobj=src, mode="rb")
            elif kind == "bzip2":
                dec = bz2.BZ2File(src, "rb")
            else:
                dec = lzma.LZMAFile(src, "rb")
            self._files.append(dec)
            stream = dec
            try:
                head = _read_exactly(dec, 4)
            except Exception as e:  # noqa: BLE001 - any decompressor fault is a corrupt stream
                raise CaptureError(f"{p}: corrupt {kind} stream: {e}") from None
        self.compression = kind
        self._f = stream
        if not head:
            raise CaptureError(f"{p}: empty file, not a capture")
        self._buf = head
        if head in _PCAP_MAGICS:
            self._open_pcap(*_PCAP_MAGICS[head])
        elif head == _PCAPNG_SHB:
            self._open_pcapng()
        else:
            what = f"{kind}-compressed file" if kind else "file"
            raise CaptureError(
                f"{p}: not a pcap or pcapng {what} (starts with {head.hex(' ')})"
            )

    def _open_pcap(self, endian: str, nanos: bool, modified: bool) -> None:
        self.format = "pcap"
        if not self._fill(24):
            raise CaptureError(f"{self.path}: pcap file header cut short ({len(self._buf)} of 24 bytes)")
        major, minor, _tz, _sigfigs, snaplen, network = _S[endian]["pcap_global"].unpack_from(self._buf, 4)
        if major != 2:
            raise CaptureError(f"{self.path}: pcap version {major}.{minor} is not supported")
        linktype = network & 0xFFFF
        iface = Interface(linktype, snaplen, 1_000_000_000 if nanos else 1_000_000)
        self.interfaces.append(iface)
        self.link_types.append(iface.name)
        self._pos = 24
        self._gen = self._iter_pcap(endian, nanos, modified, linktype)

    def _open_pcapng(self) -> None:
        self.format = "pcapng"
        if not self._fill(12):
            raise CaptureError(f"{self.path}: pcapng section header cut short")
        bom = self._buf[8:12]
        if bom not in (b"\x1a\x2b\x3c\x4d", b"\x4d\x3c\x2b\x1a"):
            raise CaptureError(f"{self.path}: not a pcapng file (bad byte-order magic {bom.hex(' ')})")
        gen = self._gen = self._iter_pcapng()
        # Read the section and interface descriptions up to the first packet record (the generator
        # yields None there), so that link_types is known right after opening.
        next(gen, None)

    # ------------------------------------------------------------------ buffer
    def _fill(self, need: int) -> bool:
        """Make at least ``need`` bytes available from self._pos; False at end of file."""
        buf = self._buf
        pos = self._pos
        if len(buf) - pos >= need:
            return True
        if self._eof:
            return False
        parts = [buf[pos:]] if pos < len(buf) else []
        have = len(buf) - pos
        f = self._f
        read = getattr(f, "read1", None) if self.compressed else None
        if read is None:
            read = f.read
        while have < need:
            try:
                piece = read(max(self.chunk, need - have))
            except Exception as e:  # noqa: BLE001 - bad input never raises out of iteration
                self._eof = True
                code = "capture.decompress_error" if self.compressed else "capture.read_error"
                self.problems.append(Problem(code, self.format or "capture", self._base + pos + have, detail=str(e)))
                break
            if not piece:
                self._eof = True
                break
            parts.append(piece)
            have += len(piece)
        self._base += pos
        self._buf = b"".join(parts)
        self._pos = 0
        return have >= need

    def _skipped(self, number: int, ts: float) -> None:
        self.skipped += 1
        if self.skipped_first is None:
            self.skipped_first = (number, ts)
        self.skipped_last = (number, ts)

    def _problem(self, code: str, offset: int, needed: int | None = None, available: int | None = None, detail: str = "") -> None:
        self.problems.append(Problem(code, self.format, offset, needed, available, detail))

    # ------------------------------------------------------------------ pcap
    def _iter_pcap(self, endian: str, nanos: bool, modified: bool, linktype: int) -> Iterator[Frame]:
        unpack = _S[endian]["pcap_rec"].unpack_from
        hlen = 24 if modified else 16
        scale = 1e-9 if nanos else 1e-6
        # typed locals: compiled (mypyc), the loop then works on machine integers
        sec: int
        frac: int
        caplen: int
        orig_len: int
        pos: int
        start: int
        end: int
        blen: int
        number: int
        fill = self._fill
        number = self._number
        F = Frame
        new = _new_frame
        max_record = MAX_RECORD
        per_sec = 1_000_000_000 if nanos else 1_000_000
        while True:
            # fast loop: every record wholly inside the buffer, no attribute access
            skip = self.skip
            buf = self._buf
            pos = self._pos
            blen = len(buf)
            start = pos + hlen
            while start <= blen:
                sec, frac, caplen, orig_len = unpack(buf, pos)
                end = start + caplen
                if end > blen or caplen > max_record:
                    break
                number += 1
                if skip is not None and skip.skip(linktype, buf, start, end):
                    self._skipped(number, sec + frac * scale)
                else:
                    self.ticks = sec * per_sec + frac
                    yield new(F, (number, sec + frac * scale, linktype, buf[start:end], caplen, orig_len, 0))
                pos = end
                start = end + hlen
            self._pos = pos
            self._number = number
            # slow path: a record across the buffer end (refill), the end of the file, or a bad record
            if blen - pos < hlen:
                if not fill(hlen):
                    left = len(self._buf) - self._pos
                    if left:
                        self._problem("capture.truncated_record", self._base + self._pos, hlen, left, "record header cut short")
                    return
                buf = self._buf
                pos = self._pos
            sec, frac, caplen, orig_len = unpack(buf, pos)
            if caplen > max_record:
                self._problem("capture.corrupt_block", self._base + pos, detail=f"record length {caplen} is impossible")
                return
            if pos + hlen + caplen > len(buf):
                if not fill(hlen + caplen):
                    self._problem(
                        "capture.truncated_record", self._base + self._pos, hlen + caplen, len(self._buf) - self._pos,
                        f"record {number + 1} cut short",
                    )
                    return
            # the record is now wholly in the buffer: the fast loop takes it

    # ------------------------------------------------------------------ pcapng
    def _iter_pcapng(self) -> Iterator[Frame | None]:
        """Yields ``None`` once, before the first packet record (see _open_pcapng), then frames."""
        s = _S["<"]
        endian = "<"
        ifaces: list[Interface] = []
        #: (linktype, tsdiv, tsoffset) per interface of the current section, for the fast loop
        ifinfo: list[tuple[int, int, int]] = []
        fill = self._fill
        number: int = self._number
        last_ts = 0.0
        primed = False
        # typed locals of the fast loop (compiled with mypyc: machine integers)
        btype: int
        blen: int
        ifid: int
        th: int
        tl: int
        caplen: int
        orig_len: int
        pos: int
        end: int
        start: int
        blen_buf: int
        lt: int
        d: int
        tsoff: int
        F = Frame
        new = _new_frame
        max_record = MAX_RECORD
        while True:
            if primed and not self._pos & 3:
                # fast loop: well-formed enhanced packet blocks wholly inside the buffer
                skip = self.skip    # read here: set by the caller after opening, which starts this generator
                epb_unpack = s["epb7"].unpack_from
                buf = self._buf
                pos = self._pos
                blen_buf = len(buf)
                # The buffer starts on a block boundary and blocks are multiples of 4 bytes (so pos is
                # too; checked above): a view as 32-bit words reads the trailing block length with one
                # index, native order (a memoryview) or not.
                words: Any
                if endian == _NATIVE:
                    words = memoryview(buf)[: blen_buf & ~3].cast("I")
                else:
                    words = _SwappedWords(buf)
                while pos + 28 <= blen_buf:
                    btype, blen, ifid, th, tl, caplen, orig_len = epb_unpack(buf, pos)
                    end = pos + blen
                    # (caplen > blen - 32 also rejects blocks shorter than 32 bytes)
                    if (
                        btype != 6 or end > blen_buf or blen & 3 or caplen > blen - 32 or blen > max_record
                        or words[(end >> 2) - 1] != blen
                    ):
                        break
                    try:
                        lt, d, tsoff = ifinfo[ifid]
                    except IndexError:  # unknown interface: the general path reports it
                        break
                    number += 1
                    ticks = (th << 32) | tl
                    whole = ticks // d          # seconds(ticks, d), inline: called per record
                    last_ts = whole + (ticks - whole * d) / d
                    if tsoff:
                        last_ts += tsoff
                    start = pos + 28
                    if skip is not None and skip.skip(lt, buf, start, start + caplen):
                        self._skipped(number, last_ts)
                    else:
                        self.ticks = ticks
                        yield new(F, (number, last_ts, lt, buf[start:start + caplen], caplen, orig_len, ifid))
                    pos = end
                self._pos = pos
                self._number = number
                del words

            # general path: one block of any type (or a refill, or the end)
            buf = self._buf
            pos = self._pos
            if len(buf) - pos < 12:
                if not fill(12):
                    left = len(self._buf) - self._pos
                    if left:
                        self._problem("capture.truncated_record", self._base + self._pos, 12, left, "block header cut short")
                    return
                buf = self._buf
                pos = self._pos
            off = self._base + pos
            btype = s["u32"].unpack_from(buf, pos)[0]
            if not primed and (btype in _PACKET_BLOCKS or btype in _NUMBERED_NON_PACKETS):
                primed = True
                yield None
                buf = self._buf
                pos = self._pos
            if btype == _BT_SHB:
                bom = buf[pos + 8:pos + 12]
                if bom == b"\x4d\x3c\x2b\x1a":
                    endian = "<"
                elif bom == b"\x1a\x2b\x3c\x4d":
                    endian = ">"
                else:
                    self._problem("capture.corrupt_block", off, detail=f"section header with bad byte-order magic {bom.hex()}")
                    return
                s = _S[endian]
            blen = s["u32"].unpack_from(buf, pos + 4)[0]
            if blen < 12 or blen > MAX_RECORD:
                self._problem("capture.corrupt_block", off, detail=f"block type {btype:#x} with impossible length {blen}")
                return
            blen = (blen + 3) & ~3  # like tshark, a length that is not a multiple of 4 is rounded up
            if len(buf) - pos < blen:
                if not fill(blen):
                    self._problem(
                        "capture.truncated_record", off, blen, len(self._buf) - self._pos, f"block type {btype:#x} cut short"
                    )
                    return
                buf = self._buf
                pos = self._pos
            if (s["u32"].unpack_from(buf, pos + blen - 4)[0] + 3) & ~3 != blen:
                self._problem("capture.corrupt_block", off, detail=f"block type {btype:#x}: trailing length differs from {blen}")
                return
            self._pos = pos + blen

            if btype == _BT_EPB:
                if blen < 32:
                    self._problem("capture.corrupt_block", off, detail=f"enhanced packet block of {blen} bytes")
                    return
                ifid, th, tl, caplen, orig_len = s["epb"].unpack_from(buf, pos + 8)
                if caplen > blen - 32:
                    self._problem("capture.corrupt_block", off, caplen, blen - 32, "packet data longer than its block")
                    return
                if ifid >= len(ifaces):
                    self._problem("capture.unknown_interface", off, detail=f"interface {ifid} of {len(ifaces)}")
                    return
                ifc = ifaces[ifid]
                number += 1
                self._number = number
                self.ticks = (th << 32) | tl
                last_ts = seconds(self.ticks, ifc.tsdiv) + ifc.tsoffset
                yield new(F, (number, last_ts, ifc.linktype, buf[pos + 28:pos + 28 + caplen], caplen, orig_len, ifid))
            elif btype == _BT_SPB:
                if blen < 16:
                    self._problem("capture.corrupt_block", off, detail=f"simple packet block of {blen} bytes")
                    return
                if not ifaces:
                    self._problem("capture.unknown_interface", off, detail="simple packet block before any interface")
                    return
                ifc = ifaces[0]
                orig_len = s["u32"].unpack_from(buf, pos + 8)[0]
                caplen = min(orig_len, blen - 16)
                if ifc.snaplen:
                    caplen = min(caplen, ifc.snaplen)
                number += 1
                self._number = number
                # an SPB has no timestamp (tshark shows none): reuse the previous packet's time
                yield new(F, (number, last_ts, ifc.linktype, buf[pos + 12:pos + 12 + caplen], caplen, orig_len, 0))
            elif btype == _BT_IDB:
                if blen < 20:
                    self._problem("capture.corrupt_block", off, detail=f"interface description block of {blen} bytes")
                    return
                linktype, _res, snaplen = s["idb"].unpack_from(buf, pos + 8)
                ifc = Interface(linktype, snaplen)
                self._idb_options(ifc, buf, pos + 16, pos + blen - 4, s)
                ifaces.append(ifc)
                ifinfo.append((ifc.linktype, ifc.tsdiv, ifc.tsoffset))
                self.interfaces.append(ifc)
                self.link_types.append(ifc.name)
            elif btype == _BT_SHB:
                if blen < 28:
                    self._problem("capture.corrupt_block", off, detail=f"section header block of {blen} bytes")
                    return
                ifaces = []
                ifinfo = []
            elif btype == _BT_OPB:
                if blen < 32:
                    self._problem("capture.corrupt_block", off, detail=f"packet block of {blen} bytes")
                    return
                ifid, _drops, th, tl, caplen, orig_len = s["opb"].unpack_from(buf, pos + 8)
                if caplen > blen - 32:
                    self._problem("capture.corrupt_block", off, caplen, blen - 32, "packet data longer than its block")
                    return
                if ifid >= len(ifaces):
                    self._problem("capture.unknown_interface", off, detail=f"interface {ifid} of {len(ifaces)}")
                    return
                ifc = ifaces[ifid]
                number += 1
                self._number = number
                self.ticks = (th << 32) | tl
                last_ts = seconds(self.ticks, ifc.tsdiv) + ifc.tsoffset
                yield new(F, (number, last_ts, ifc.linktype, buf[pos + 28:pos + 28 + caplen], caplen, orig_len, ifid))
            elif btype in _NUMBERED_NON_PACKETS:
                # tshark numbers custom blocks and systemd journal entries as frames: skip them, but
                # keep their numbers so that frame numbers stay those tshark shows
                number += 1
                self._number = number
                self.skipped_records += 1
            # else: NRB (4), ISB (5), DSB (10), local-use blocks...: nothing to do

    @staticmethod
    def _idb_options(ifc: Interface, buf: bytes, p: int, end: int, s: dict) -> None:
        opt = s["opt"]
        while p + 4 <= end:
            code, olen = opt.unpack_from(buf, p)
            if code == 0:
                break
            v = p + 4
            if v + olen > end:
                break
            if code == 9 and olen >= 1:  # if_tsresol
                r = buf[v]
                exp = r & 0x7F
                if exp <= 63 or not (r & 0x80):
                    ifc.tsdiv = (1 << exp) if r & 0x80 else 10 ** exp
            elif code == 14 and olen >= 8:  # if_tsoffset
                ifc.tsoffset = s["i64"].unpack_from(buf, v)[0]
            p = v + ((olen + 3) & ~3)

    # ------------------------------------------------------------------ iteration
    def __iter__(self) -> Iterator[Frame]:
        # the reading generator itself: no per-frame wrapper; iterating again resumes where it stopped
        gen = self._gen
        return cast(Iterator[Frame], gen) if gen is not None else iter(())  # None was consumed at opening

    def raw_offset(self) -> int:
        """Bytes of the file read so far (compressed bytes for a compressed file): for progress."""
        try:
            return int(self._files[0].tell()) if self._files else 0
        except (OSError, ValueError):
            return 0

    def close(self) -> None:
        for f in self._files[::-1]:
            try:
                f.close()
            except Exception:
                pass
        self._files = []
        self._buf = b""

    def __enter__(self) -> "Capture":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"<Capture {self.path!r} {self.format} {','.join(self.link_types)}>"


def open_capture(path: str | os.PathLike[str]) -> Capture:
    """Open a pcap or pcapng file (plain or gzip/bzip2/xz-compressed, detected by magic; regular file or pipe).

    Raises CaptureError with a one-line message when the file is missing or not a capture.
    """
    if isinstance(path, Path):
        path = str(path)
    return Capture(path)
