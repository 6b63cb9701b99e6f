"""Cut a capture file into byte-range slices at record boundaries, without reading it all: the unit of
work of a split analysis (each slice is read on its own, by any process or machine that sees the file).

- pcap: the slice boundaries are found near each multiple of the slice size: the first offset at or after
  it where a plausible record header (lengths within the snapshot length and the reader's limit, a
  sub-second field below one second) is confirmed by the records that follow it (each one plausible,
  and the chain ends exactly at the end of the file if it gets there).
- pcapng: blocks carry their length at both ends: a boundary is an offset (a multiple of 4) where a block
  of a known type has the same length at its start and at its end, and so do the blocks after it.
- Compressed files cannot be entered in the middle: one slice, the whole file (read once).

Only a few KiB around each boundary are read (os.pread). A slice is read as a capture of its own
(`open_slice`, `read_slice`): its records after `Slice.header` (pcap: the file header; pcapng: the blocks
before the first packet: section header, interfaces). A pcapng with a section or an interface that begins
after its first packet block: those blocks are read within their slice, and `context_changed` says the
slices after it need them (read those in order, then). `parse_size` reads a size such as `64M`
(argparse type, for a `--slice-size` option).
"""

from __future__ import annotations

import argparse
import io
import os
import re
import struct
from collections.abc import Iterator
from dataclasses import dataclass

from sctpscope.capture.reader import _PCAP_MAGICS, MAX_RECORD, Capture, Frame
from sctpscope.errors import CaptureError

#: records (pcap) or blocks (pcapng) after a candidate boundary that must be well formed to confirm it
CONFIRM = 16
#: bytes read at a time while looking for a boundary: FIRST_WINDOW first, twice as many each time after
FIRST_WINDOW = 2048
WINDOW = 64 * 1024
#: the largest original length taken for a pcap record's (a frame of 1 MiB: GRO/TSO frames reach 64 KiB+)
MAX_ORIG = 1 << 20
_PCAPNG_TYPES = frozenset({1, 2, 3, 4, 5, 6, 9, 10, 0x0A0D0D0A, 0x00000BAD, 0x40000BAD})
_PACKET_TYPES = frozenset({2, 3, 6, 9, 0x00000BAD, 0x40000BAD})
_SIZE = re.compile(r"\s*(\d+)\s*([kKmMgG]?)(i?[bB])?\s*")
_UNITS = {"": 1, "k": 1 << 10, "m": 1 << 20, "g": 1 << 30}


def parse_size(text: str) -> int:
    """A size in bytes: a whole number with an optional k, M or G suffix (powers of 1024; `KiB`, `MB`
    spellings too): '4096', '64k', '64M', '1G'. An argparse type: a bad size is ArgumentTypeError."""
    m = _SIZE.fullmatch(text)
    if not m:
        raise argparse.ArgumentTypeError(f"bad size {text!r}: a number of bytes with an optional k, M or G "
                                         "suffix, e.g. 64M")
    n = int(m.group(1)) * _UNITS[m.group(2).lower()]
    if n < 1:
        raise argparse.ArgumentTypeError(f"bad size {text!r}: at least 1 byte")
    return n


@dataclass(frozen=True, slots=True)
class Slice:
    """Bytes [start, end) of the file at `path`: whole records; `header` put in front makes them a capture.
    `whole`: the slice is the whole file, read as such (a compressed file)."""

    path: str
    format: str
    index: int
    start: int
    end: int
    header: bytes
    whole: bool = False


class _Pread:
    """Random reads of a file by offset."""

    def __init__(self, path: str) -> None:
        try:
            self.fd = os.open(path, os.O_RDONLY)
        except OSError as e:
            raise CaptureError(f"{path}: cannot open: {e.strerror or e}") from None
        self.size = os.fstat(self.fd).st_size

    def read(self, offset: int, n: int) -> bytes:
        return os.pread(self.fd, n, offset) if offset < self.size else b""

    def close(self) -> None:
        os.close(self.fd)


def slice_file(path: str, size: int) -> list[Slice]:
    """The slices of about `size` bytes of a pcap or pcapng file, in order, covering its records exactly
    (the first begins after the header, each ends where the next begins, the last at the end of the file).
    Raises CaptureError when the file is not a capture (as open_capture does)."""
    if size < 1:
        raise ValueError("slice size must be positive")
    with Capture(path, chunk=WINDOW) as cap:      # checks the file: magic, header, compression
        fmt = cap.format
        compressed = cap.compressed
    f = _Pread(path)
    try:
        if compressed:
            return [Slice(path, fmt, 0, 0, f.size, b"", whole=True)]
        if fmt == "pcap":
            header, find = _pcap(f)
        else:
            header, find = _pcapng(f)
        first = len(header)
        bounds = [first]
        target = first + size
        while target < f.size:
            b = find(max(target, bounds[-1] + 1))
            if b is None or b >= f.size:
                break
            bounds.append(b)
            target = max(target + size, b + 1)
        bounds.append(f.size)
        return [Slice(path, fmt, k, bounds[k], bounds[k + 1], header) for k in range(len(bounds) - 1)
                if bounds[k + 1] > bounds[k] or k == 0]
    finally:
        f.close()


def _pcap(f: _Pread):
    head = f.read(0, 24)
    endian, nanos, modified = _PCAP_MAGICS[head[:4]]
    snaplen = struct.unpack_from(endian + "I", head, 16)[0]
    hlen = 24 if modified else 16
    rec = struct.Struct(endian + "IIII")
    frac_max = 1_000_000_000 if nanos else 1_000_000
    limit = min(MAX_RECORD, max(snaplen, 262144)) if snaplen else MAX_RECORD

    first = f.read(24, hlen)
    first_sec = rec.unpack_from(first, 0)[0] if len(first) == hlen else 0
    day = 86400

    def plausible(buf: bytes, p: int, near: int) -> int:
        """The record's length (header and data) if buf[p:] starts a plausible record header, else 0:
        a sub-second field below one second, lengths within the limits (the captured one at most the
        original one, which is not 0) and a time within a day of `near` (before) or 10 years (after)."""
        sec, frac, caplen, orig_len = rec.unpack_from(buf, p)
        if (frac >= frac_max or caplen > limit or orig_len > MAX_ORIG or not orig_len or caplen > orig_len
                or not near - day <= sec <= near + 3660 * day):
            return 0
        return hlen + caplen

    def confirmed(p: int) -> bool:
        """The records from p on are plausible, each within a day of the one before it, up to CONFIRM of
        them or exactly to the end of the file."""
        near = first_sec
        for _ in range(CONFIRM):
            if p == f.size:
                return True
            h = f.read(p, hlen)
            if len(h) < hlen:
                return False
            n = plausible(h, 0, near)
            if not n or p + n > f.size:
                return False
            sec = rec.unpack_from(h, 0)[0]
            if near != first_sec and abs(sec - near) > day:
                return False
            near = sec
            p += n
        return True

    def shadowed(p: int) -> bool:
        """Another chain of plausible records begins less than a record header before p: only one of the
        two can be the file's (records are longer than their headers); rather than guess, p is no boundary
        (the slice grows to a later one)."""
        lo = max(24, p - hlen + 1)
        buf = f.read(lo, p - lo + hlen)
        return any(plausible(buf, q - lo, first_sec) and confirmed(q) for q in range(lo, p))

    def find(t: int) -> int | None:
        pos = t
        step = FIRST_WINDOW
        while pos < f.size:
            buf = f.read(pos, step + hlen)
            for i in range(min(step, len(buf) - hlen + 1)):
                if plausible(buf, i, first_sec) and confirmed(pos + i) and not shadowed(pos + i):
                    return pos + i
            if len(buf) < step + hlen:
                return None
            pos += step
            step = min(2 * step, WINDOW)
        return None

    return head, find


def _pcapng(f: _Pread):
    head = f.read(0, 12)
    endian = "<" if head[8:12] == b"\x4d\x3c\x2b\x1a" else ">"
    u32 = struct.Struct(endian + "I")
    two = struct.Struct(endian + "II")
    # the header: every block before the first packet (section header, interfaces)
    p = 0
    while True:
        h = f.read(p, 8)
        if len(h) < 8:
            break
        btype, blen = two.unpack(h)
        if btype in _PACKET_TYPES or blen < 12 or blen % 4:
            break
        p += blen
    p = min(p, f.size)
    header = f.read(0, p)

    def block_len(b: bytes, i: int) -> int:
        """The length of a plausible block at b[i:] whose leading length is matched by its trailing one
        (read from the file when beyond b), else 0."""
        btype, blen = two.unpack_from(b, i)
        if btype not in _PCAPNG_TYPES or blen < 12 or blen % 4 or blen > MAX_RECORD:
            return 0
        if btype == 6 and (blen < 32 or (len(b) >= i + 24 and u32.unpack_from(b, i + 20)[0] > blen - 32)):
            return 0        # an enhanced packet block's captured length fits in the block
        return blen

    def confirmed(p: int) -> bool:
        for _ in range(CONFIRM):
            if p == f.size:
                return True
            h = f.read(p, 24)
            if len(h) < 12:
                return False
            n = block_len(h, 0)
            if not n or p + n > f.size or u32.unpack(f.read(p + n - 4, 4))[0] != n:
                return False
            p += n
        return True

    def find(t: int) -> int | None:
        pos = (t + 3) & ~3
        step = FIRST_WINDOW
        while pos < f.size:
            buf = f.read(pos, step + 24)
            for i in range(0, min(step, len(buf) - 11), 4):
                if block_len(buf, i) and confirmed(pos + i):
                    return pos + i
            if len(buf) < step + 24:
                return None
            pos += step
            step = min(2 * step, WINDOW)
        return None

    return header, find


class _Range(io.RawIOBase):
    """`header`, then bytes [start, end) of a file: a slice as a stream of its own."""

    def __init__(self, header: bytes, path: str, start: int, end: int) -> None:
        self._head = header
        self._f = open(path, "rb")
        self._f.seek(start)
        self._left = end - start

    def readable(self) -> bool:
        return True

    def readinto(self, b) -> int:  # type: ignore[override]
        if self._head:
            n = min(len(b), len(self._head))
            b[:n] = self._head[:n]
            self._head = self._head[n:]
            return n
        want = min(len(b), self._left)
        if want <= 0:
            return 0
        data = self._f.read(want)
        n = len(data)
        b[:n] = data
        self._left -= n
        return n

    def close(self) -> None:
        self._f.close()
        super().close()


def open_slice(sl: Slice) -> Capture:
    """A slice read as a capture (iterate it for Frames, numbered from 1 within the slice; problems as the
    reader reports them): `Slice.header`, then the slice's bytes."""
    if sl.whole:
        return Capture(sl.path)
    try:
        stream = _Range(sl.header, sl.path, sl.start, sl.end)
    except OSError as e:
        raise CaptureError(f"{sl.path}: cannot open: {e.strerror or e}") from None
    return Capture(sl.path, stream=stream)    # type: ignore[arg-type]


def context_changed(cap: Capture, sl: Slice) -> bool:
    """After reading a pcapng slice: a section header or interface block inside it, which the slices
    after it need too (read them in order, then)."""
    return sl.format == "pcapng" and not sl.whole and len(cap.interfaces) > _header_interfaces(sl)


def _header_interfaces(sl: Slice) -> int:
    with Capture(sl.path, stream=io.BytesIO(sl.header)) as cap:    # type: ignore[arg-type]
        for _ in cap:
            pass
        return len(cap.interfaces)


def read_slice(sl: Slice) -> Iterator[Frame]:
    """The frames of one slice, in order."""
    with open_slice(sl) as cap:
        yield from cap
