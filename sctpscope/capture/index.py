"""Random access to the frames of a capture: a record index built by walking record headers only.

`CaptureIndex(path)` walks a pcap or pcapng file's record (block) headers in 1 MiB reads and keeps, per
frame, where its bytes are, its captured and original lengths, its timestamp and link type; `read(n)`
then returns frame n with one seek. The walk is incremental (`extend(upto=n)` goes only as far as frame
n), so the first frames are readable at once and a file that is still growing (a live capture written
to disk) is indexed further by calling `extend` again.

Frame numbers are tshark's (and the reader's, sctpscope.capture.reader): numbered from 1, pcapng custom
blocks and systemd journal entries take a number but carry no packet (`read` of such a number raises
KeyError). `MultiIndex` numbers several files on, as `pipeline.decode_files` does.

Compressed files (gzip, bzip2, xz) cannot be read at an offset: the walk decompresses the stream once,
into an anonymous temporary file beside the system's temporary directory, as it goes, and frames are read
back from that copy; the copy is removed by `close` (or when the process ends). Progress is then measured
on the compressed bytes read.

Memory: 26 bytes per frame (offset, lengths, timestamp, link type), e.g. 26 MB for a million frames.
This module imports nothing from sctpscope.decode (capture is the lowest layer).
"""

from __future__ import annotations

import bz2
import gzip
import lzma
import os
import struct
import tempfile
import threading
from array import array
from collections.abc import Sequence
from typing import NamedTuple

from sctpscope.capture.reader import seconds
from sctpscope.errors import CaptureError

READ_SIZE = 1 << 20
MAX_RECORD = 1 << 24            # as the reader: anything bigger is a corrupt length

_PCAP_MAGICS = {                # first four bytes -> (endian, nanosecond, modified record header)
    b"\xd4\xc3\xb2\xa1": ("<", False, False), b"\xa1\xb2\xc3\xd4": (">", False, False),
    b"\x4d\x3c\xb2\xa1": ("<", True, False), b"\xa1\xb2\x3c\x4d": (">", True, False),
    b"\x34\xcd\xb2\xa1": ("<", False, True), b"\xa1\xb2\xcd\x34": (">", False, True),
}
_SHB, _IDB, _OPB, _SPB, _EPB = 0x0A0D0D0A, 1, 2, 3, 6
_NUMBERED_NON_PACKETS = frozenset({0x00000BAD, 0x40000BAD, 0x00000009})   # tshark numbers them as frames


class RawFrame(NamedTuple):
    """One frame read back from the capture."""

    number: int
    ts: float
    linktype: int
    data: bytes
    orig_len: int


class CaptureIndex:
    """Where each frame of one capture file is; `read(n)` returns frame n (numbered from `first_number`)."""

    def __init__(self, path: str | os.PathLike, first_number: int = 1) -> None:
        self.path = str(path)
        self.first_number = first_number
        self.data_off = array("Q")      # per frame: offset of its bytes (0: a numbered non-packet record)
        self.caplen = array("I")
        self.orig_len = array("I")
        self.ts = array("d")
        self.linktype = array("H")
        self.done = False               # the walk reached the end of the file (or a fault)
        self.fault: str | None = None   # why the walk stopped early
        self.compression: str | None = None
        self._raw = None                # the file as stored
        self._stream = None             # what the walk reads: the file itself or its decompressor
        self._copy = None               # decompressed copy (compressed files only)
        self._reader = None             # file that `read` seeks in
        self._buf = b""
        self._buf_off = 0               # stream offset of _buf[0]
        self._next = 0                  # stream offset of the next record to walk
        self._fmt = ""
        self._state: dict = {}
        self._open()

    # -- opening --------------------------------------------------------------------------------------
    def _open(self) -> None:
        p = self.path
        try:
            raw = open(p, "rb")
        except FileNotFoundError:
            raise CaptureError(f"{p}: no such file") from None
        except IsADirectoryError:
            raise CaptureError(f"{p}: is a directory, not a capture file") from None
        except OSError as e:
            raise CaptureError(f"{p}: cannot open: {e.strerror or e}") from None
        self._raw = raw
        head = raw.read(6)
        raw.seek(0)
        if head[:2] == b"\x1f\x8b":
            self.compression, self._stream = "gzip", gzip.GzipFile(fileobj=raw, mode="rb")
        elif head[:3] == b"BZh":
            self.compression, self._stream = "bzip2", bz2.BZ2File(raw, "rb")
        elif head[:6] == b"\xfd7zXZ\x00":
            self.compression, self._stream = "xz", lzma.LZMAFile(raw, "rb")
        else:
            self._stream = raw
        if self.compression:
            self._copy = tempfile.TemporaryFile(prefix="sctpscope-", suffix=".pcap")
            self._reader = self._copy
        else:
            self._reader = open(p, "rb")
        if not self._fill(4):
            self.close()
            raise CaptureError(f"{p}: empty file, not a capture")
        magic = self._buf[:4]
        if magic in _PCAP_MAGICS:
            self._open_pcap(*_PCAP_MAGICS[magic])
        elif magic == b"\x0a\x0d\x0d\x0a":
            self._fmt = "pcapng"
            self._state = {"endian": "<", "ifaces": [], "last_ts": 0.0}
        else:
            self.close()
            raise CaptureError(f"{p}: not a pcap or pcapng file (starts with {magic.hex(' ')})")

    def _open_pcap(self, endian: str, nanos: bool, modified: bool) -> None:
        if not self._fill(24):
            self.close()
            raise CaptureError(f"{self.path}: pcap file header cut short")
        network = struct.unpack_from(endian + "I", self._buf, 20)[0]
        self._fmt = "pcap"
        self._state = {"rec": struct.Struct(endian + "IIII"), "hlen": 24 if modified else 16,
                       "scale": 1e-9 if nanos else 1e-6, "linktype": network & 0xFFFF}
        self._next = 24

    # -- reading the stream ---------------------------------------------------------------------------
    def _fill(self, need: int) -> bool:
        """Make `need` bytes from self._next available in self._buf; False when the stream has fewer."""
        start = self._next - self._buf_off
        if len(self._buf) - start >= need:
            return True
        parts = [self._buf[start:]]
        have = len(parts[0])
        while have < need:
            try:
                # read1: what one step of the decompressor gives, so that a compressed file cut short yields
                # every byte before the cut (read(n) would raise at the cut and drop what it had)
                if self.compression:
                    piece = self._stream.read1(max(READ_SIZE, need - have))
                else:
                    piece = self._stream.read(max(READ_SIZE, need - have))
            except Exception as e:  # noqa: BLE001 - a corrupt compressed stream ends the walk
                self.fault = f"{self.compression or 'file'} stream cut short or corrupt: {e}"
                self.done = True
                piece = b""
            if not piece:
                break
            if self._copy is not None:
                self._copy.seek(0, os.SEEK_END)
                self._copy.write(piece)
            parts.append(piece)
            have += len(piece)
        self._buf = b"".join(parts)
        self._buf_off = self._next
        return have >= need

    # -- the walk -------------------------------------------------------------------------------------
    @property
    def count(self) -> int:
        """Frames indexed so far (the highest frame number known, relative to this file)."""
        return len(self.data_off)

    @property
    def last_number(self) -> int:
        return self.first_number + self.count - 1

    def extend(self, upto: int | None = None, max_records: int | None = None) -> int:
        """Walk on until frame `upto` is indexed (every frame when None), or `max_records` more records,
        or the end of the file; returns the number of frames indexed. At the end of the file the walk
        stops but is not final: a growing file is indexed further by a later call."""
        if self.fault is not None:
            return self.count
        want = None if upto is None else upto - self.first_number + 1
        walk = self._walk_pcap if self._fmt == "pcap" else self._walk_pcapng
        n0 = self.count
        while want is None or self.count < want:
            if max_records is not None and self.count - n0 >= max_records:
                break
            if not walk():
                break
        if self._copy is not None:
            self._copy.flush()
        return self.count

    def _walk_pcap(self) -> bool:
        """Index the records wholly in the buffer (at least one); False at the end of the data."""
        st = self._state
        hlen = st["hlen"]
        if not self._fill(hlen):
            self.done = True
            return False
        unpack = st["rec"].unpack_from
        scale, lt = st["scale"], st["linktype"]
        buf, base = self._buf, self._buf_off
        pos = self._next - base
        caplen = unpack(buf, pos)[2]
        if caplen > MAX_RECORD:
            return self._stop(f"record length {caplen} is impossible")
        if not self._fill(hlen + caplen):
            self.done = True
            return False
        buf, base = self._buf, self._buf_off
        pos = self._next - base
        n = len(buf)
        offs, caps, origs, tss, lts = self.data_off, self.caplen, self.orig_len, self.ts, self.linktype
        while pos + hlen <= n:
            sec, frac, caplen, orig = unpack(buf, pos)
            end = pos + hlen + caplen
            if end > n or caplen > MAX_RECORD:
                break
            offs.append(base + pos + hlen)
            caps.append(caplen)
            origs.append(orig)
            tss.append(sec + frac * scale)
            lts.append(lt)
            pos = end
        self._next = base + pos
        self.done = False
        return True

    def _walk_pcapng(self) -> bool:
        """Index one block; False at the end of the data or at a fault."""
        if not self._fill(12):
            self.done = True
            return False
        st = self._state
        buf, base = self._buf, self._buf_off
        pos = self._next - base
        e = st["endian"]
        btype = struct.unpack_from(e + "I", buf, pos)[0]
        if btype == _SHB:
            bom = buf[pos + 8:pos + 12]
            if bom == b"\x4d\x3c\x2b\x1a":
                e = "<"
            elif bom == b"\x1a\x2b\x3c\x4d":
                e = ">"
            else:
                return self._stop("section header with a bad byte-order magic")
            st["endian"], st["ifaces"] = e, []
        blen = struct.unpack_from(e + "I", buf, pos + 4)[0]
        if blen < 12 or blen > MAX_RECORD:
            return self._stop(f"block type {btype:#x} with impossible length {blen}")
        blen = (blen + 3) & ~3
        if not self._fill(blen):
            self.done = True
            return False
        buf, base = self._buf, self._buf_off
        pos = self._next - base
        at = base + pos
        if btype in (_EPB, _OPB):
            if blen < 32:
                return self._stop("packet block too short")
            if btype == _EPB:
                ifid, th, tl, caplen, orig = struct.unpack_from(e + "IIIII", buf, pos + 8)
            else:
                ifid, _drops, th, tl, caplen, orig = struct.unpack_from(e + "HHIIII", buf, pos + 8)
            if ifid >= len(st["ifaces"]) or caplen > blen - 32:
                return self._stop("packet block with an unknown interface or a bad length")
            lt, tsdiv, tsoff = st["ifaces"][ifid]
            ts = seconds((th << 32) | tl, tsdiv) + tsoff
            st["last_ts"] = ts
            self._add(at + 28, caplen, orig, ts, lt)
        elif btype == _SPB:
            if blen < 16 or not st["ifaces"]:
                return self._stop("simple packet block too short or before any interface")
            lt, _div, _off = st["ifaces"][0]
            orig = struct.unpack_from(e + "I", buf, pos + 8)[0]
            caplen = min(orig, blen - 16)
            snap = st.get("snaplen0") or 0
            if snap:
                caplen = min(caplen, snap)
            self._add(at + 12, caplen, orig, st["last_ts"], lt)      # an SPB has no timestamp: the previous one
        elif btype == _IDB:
            if blen < 20:
                return self._stop("interface description block too short")
            linktype, _res, snaplen = struct.unpack_from(e + "HHI", buf, pos + 8)
            tsdiv, tsoff = _idb_options(buf, pos + 16, pos + blen - 4, e)
            if not st["ifaces"]:
                st["snaplen0"] = snaplen
            st["ifaces"].append((linktype, tsdiv, tsoff))
        elif btype in _NUMBERED_NON_PACKETS:
            self._add(0, 0, 0, st["last_ts"], 0)
        self._next = at + blen
        self.done = False
        return True

    def _add(self, off: int, caplen: int, orig: int, ts: float, lt: int) -> None:
        self.data_off.append(off)
        self.caplen.append(caplen)
        self.orig_len.append(orig)
        self.ts.append(ts)
        self.linktype.append(lt)

    def _stop(self, why: str) -> bool:
        self.fault = why
        self.done = True
        return False

    # -- progress -------------------------------------------------------------------------------------
    def fraction(self) -> float | None:
        """How far the walk is through the file (0..1), measured on the bytes as stored."""
        if self.done:
            return 1.0
        try:
            size = os.fstat(self._raw.fileno()).st_size
            pos = self._raw.tell() if self.compression else self._next
        except (OSError, ValueError):
            return None
        return min(1.0, pos / size) if size else None

    # -- random access --------------------------------------------------------------------------------
    def read(self, number: int) -> RawFrame:
        """Frame `number`: its bytes, timestamp, link type and original length. KeyError when the capture
        has no such frame (or that number is a record without a packet)."""
        i = number - self.first_number
        if i < 0:
            raise KeyError(number)
        if i >= self.count:
            self.extend(upto=number)
            if i >= self.count:
                raise KeyError(number)
        off = self.data_off[i]
        if not off:
            raise KeyError(number)
        f = self._reader
        f.seek(off)
        data = f.read(self.caplen[i])
        return RawFrame(number, self.ts[i], self.linktype[i], data, self.orig_len[i])

    def close(self) -> None:
        for f in (self._stream, self._raw, self._copy, self._reader):
            try:
                if f is not None:
                    f.close()
            except Exception:  # noqa: BLE001
                pass
        self._stream = self._raw = self._copy = self._reader = None
        self._buf = b""

    def __enter__(self) -> "CaptureIndex":
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def _idb_options(buf: bytes, p: int, end: int, e: str) -> tuple[int, int]:
    """if_tsresol and if_tsoffset of an interface description (ticks per second, seconds added)."""
    tsdiv, tsoff = 1_000_000, 0
    while p + 4 <= end:
        code, olen = struct.unpack_from(e + "HH", buf, p)
        if code == 0:
            break
        v = p + 4
        if v + olen > end:
            break
        if code == 9 and olen >= 1:
            r = buf[v]
            exp = r & 0x7F
            if exp <= 63 or not (r & 0x80):
                tsdiv = (1 << exp) if r & 0x80 else 10 ** exp
        elif code == 14 and olen >= 8:
            tsoff = struct.unpack_from(e + "q", buf, v)[0]
        p = v + ((olen + 3) & ~3)
    return tsdiv, tsoff


class MultiIndex:
    """Several capture files read in order as one capture, numbered on like `pipeline.decode_files`:
    the frames of file k+1 follow the last frame of file k. Files are opened as the walk reaches them.
    Safe to share between threads (one lock around every call)."""

    def __init__(self, paths: Sequence[str | os.PathLike]) -> None:
        self.paths = [str(p) for p in paths]
        self.parts: list[CaptureIndex] = []
        self.lock = threading.RLock()
        if self.paths:
            self.parts.append(CaptureIndex(self.paths[0], 1))

    def extend(self, upto: int | None = None) -> None:
        with self.lock:
            self._extend(upto)

    def _extend(self, upto: int | None) -> None:
        while self.parts:
            last = self.parts[-1]
            last.extend(upto)
            if (upto is not None and last.count and last.last_number >= upto) or not last.done \
                    or len(self.parts) == len(self.paths):
                return
            self.parts.append(CaptureIndex(self.paths[len(self.parts)], last.last_number + 1))

    @property
    def count(self) -> int:
        return self.parts[-1].last_number if self.parts else 0

    def fraction(self) -> float | None:
        """Progress over all files, each file weighing as much as the others."""
        with self.lock:
            return self._fraction()

    def _fraction(self) -> float | None:
        if not self.paths:
            return 1.0
        f = self.parts[-1].fraction()
        if f is None:
            return None
        return (len(self.parts) - 1 + f) / len(self.paths)

    def read(self, number: int) -> RawFrame:
        with self.lock:
            return self._read(number)

    def _read(self, number: int) -> RawFrame:
        if number > self.count:
            self._extend(number)
        for part in self.parts:
            if number < part.first_number:
                break
            if number <= part.last_number or part is self.parts[-1]:
                return part.read(number)
        raise KeyError(number)

    def close(self) -> None:
        with self.lock:
            for p in self.parts:
                p.close()
