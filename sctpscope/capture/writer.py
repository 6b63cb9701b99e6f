"""A streaming pcapng writer (little-endian, one section): interfaces, packets, interface statistics.

Used by live capture (every captured frame, as it arrives) and by ``sctpscope extract``. The file always
ends on a whole block: blocks are assembled in memory and handed to the file on ``flush()`` (or when the
buffer passes ``buffer_size``); if a write fails (a full disk), a seekable file is cut back to the end of the
last block that reached it whole (every block that fitted is kept), so what is on disk stays a valid capture
that tshark, Wireshark and ``sctpscope.capture.open_capture`` read, and the error is raised as
:class:`WriterError` (an OSError).

Blocks (pcapng, draft-ietf-opsawg-pcapng):

- SHB (0x0A0D0D0A): byte-order magic 0x1A2B3C4D, version 1.0, section length -1 (unknown, streaming);
  options shb_os (3) and shb_userappl (4).
- IDB (1): link type, snaplen; options if_name (2), if_tsresol (9): 9 = nanoseconds, else 6 = microseconds.
- EPB (6): interface id, 64-bit timestamp in the interface's units, captured and original length, the data
  padded to 32 bits; option opt_comment (1).
- ISB (5): interface id, timestamp; options isb_ifrecv (4) and isb_ifdrop (5), 64-bit counters.

Timestamps are given as float seconds (``ts``); ``ts_ns`` (integer nanoseconds since the epoch) is taken
instead when given, because a float cannot hold a present-day time to the nanosecond.
"""

from __future__ import annotations

import os
import platform
import struct
from typing import BinaryIO

__all__ = ["PcapngWriter", "WriterError"]

_SHB = 0x0A0D0D0A
_IDB = 1
_ISB = 5
_EPB = 6
_BOM = 0x1A2B3C4D

_U32 = struct.Struct("<I")
_OPT = struct.Struct("<HH")
_EPB_HEAD = struct.Struct("<IIIIIII")    # type, length, interface, ts high, ts low, caplen, orig_len
_ISB_HEAD = struct.Struct("<III")        # interface, ts high, ts low
_U64 = struct.Struct("<Q")

#: blocks gathered in memory before they are written without an explicit flush()
DEFAULT_BUFFER = 1 << 20


class WriterError(OSError):
    """Writing the capture file failed (e.g. the disk is full); what was written before is a valid file."""

    def __str__(self) -> str:
        return self.strerror or super().__str__()       # the message alone, without "[Errno N]"


def _pad(n: int) -> int:
    return -n & 3


def _option(code: int, value: bytes) -> bytes:
    return _OPT.pack(code, len(value)) + value + b"\0" * _pad(len(value))


def _options(opts: list[bytes]) -> bytes:
    return b"".join(opts) + _OPT.pack(0, 0) if opts else b""


def _block(btype: int, body: bytes) -> bytes:
    length = 12 + len(body)
    return _U32.pack(btype) + _U32.pack(length) + body + _U32.pack(length)


class PcapngWriter:
    """Write a pcapng file block by block.

    ``PcapngWriter(path_or_binary_file, *, application="sctpscope")``: a path is created (truncated); a
    binary file object (a pipe, ``sys.stdout.buffer``, ``io.BytesIO``) is written to and left open by
    ``close()``. The section header is written at once (and flushed), so even a capture with no packet
    opens.
    """

    def __init__(self, path_or_binary_file: str | os.PathLike[str] | BinaryIO, *, application: str = "sctpscope",
                 buffer_size: int = DEFAULT_BUFFER) -> None:
        if isinstance(path_or_binary_file, (str, bytes, os.PathLike)):
            try:
                self._f: BinaryIO = open(path_or_binary_file, "wb", buffering=0)
            except OSError as exc:
                raise WriterError(exc.errno, f"cannot create {os.fsdecode(path_or_binary_file)}: "
                                  f"{exc.strerror or exc}") from None
            self._own = True
            self.path: str | None = os.fsdecode(path_or_binary_file)
        else:
            self._f = path_or_binary_file
            self._own = False
            self.path = getattr(path_or_binary_file, "name", None)
            if not isinstance(self.path, str):
                self.path = None
        self._buf = bytearray()
        self._ends: list[int] = []          # where each block gathered in _buf ends
        self._limit = buffer_size
        self._tsdiv: list[int] = []
        self._closed = False
        self._failed: WriterError | None = None
        #: bytes handed to the file whole (the file's valid length when it started empty)
        self.bytes_written = 0
        #: packets written (EPBs, flushed or not)
        self.packets = 0
        try:
            self._committed = self._f.tell() if self._f.seekable() else None
        except (OSError, ValueError, AttributeError):
            self._committed = None
        opts = [_option(3, _os_name().encode()), _option(4, application.encode())]
        body = _U32.pack(_BOM) + struct.pack("<HHq", 1, 0, -1) + _options(opts)
        self._add(_block(_SHB, body))
        self.flush()

    # -- blocks ------------------------------------------------------------------------------------------
    def add_interface(self, linktype: int, name: str | None = None, snaplen: int = 262144,
                      tsresol_ns: bool = True) -> int:
        """Describe an interface (IDB); returns its id, the ``interface`` of write_packet/write_stats."""
        self._check()
        opts = []
        if name is not None:
            opts.append(_option(2, name.encode("utf-8", "backslashreplace")))
        opts.append(_option(9, bytes([9 if tsresol_ns else 6])))
        body = struct.pack("<HHI", linktype & 0xFFFF, 0, snaplen) + _options(opts)
        self._add(_block(_IDB, body))
        self._tsdiv.append(1_000_000_000 if tsresol_ns else 1_000_000)
        return len(self._tsdiv) - 1

    def _ticks(self, interface: int, ts: float, ts_ns: int | None) -> int:
        try:
            div = self._tsdiv[interface]
        except (IndexError, TypeError):
            raise ValueError(f"interface {interface} was not added (add_interface)") from None
        if ts_ns is not None:
            return ts_ns if div == 1_000_000_000 else (ts_ns + 500) // 1000
        # int(ts) and ts - int(ts) are exact: only the fraction is rounded, to the interface's unit
        sec = int(ts)
        return sec * div + round((ts - sec) * div)

    def write_packet(self, interface: int, ts: float, data: bytes, orig_len: int | None = None,
                     comment: str | None = None, *, ts_ns: int | None = None) -> None:
        """One packet (EPB): ``data`` as captured, ``orig_len`` its length on the wire (default len(data))."""
        self._check()
        ticks = self._ticks(interface, ts, ts_ns)
        n = len(data)
        opts = _options([_option(1, comment.encode("utf-8", "backslashreplace"))]) if comment else b""
        length = 32 + n + _pad(n) + len(opts)
        buf = self._buf
        buf += _EPB_HEAD.pack(_EPB, length, interface, (ticks >> 32) & 0xFFFFFFFF, ticks & 0xFFFFFFFF, n,
                              n if orig_len is None else orig_len)
        buf += data
        if n & 3:
            buf += b"\0" * _pad(n)
        if opts:
            buf += opts
        buf += _U32.pack(length)
        self._ends.append(len(buf))
        self.packets += 1
        if len(buf) >= self._limit:
            self.flush()

    def write_stats(self, interface: int, ts: float, received: int | None, dropped: int | None, *,
                    ts_ns: int | None = None) -> None:
        """Interface statistics (ISB): packets received and dropped by the capture since it started."""
        self._check()
        ticks = self._ticks(interface, ts, ts_ns)
        opts = []
        if received is not None:
            opts.append(_option(4, _U64.pack(received)))
        if dropped is not None:
            opts.append(_option(5, _U64.pack(dropped)))
        body = _ISB_HEAD.pack(interface, (ticks >> 32) & 0xFFFFFFFF, ticks & 0xFFFFFFFF) + _options(opts)
        self._add(_block(_ISB, body))

    # -- output ------------------------------------------------------------------------------------------
    def _add(self, block: bytes) -> None:
        self._buf += block
        self._ends.append(len(self._buf))

    def _check(self) -> None:
        if self._closed:
            raise ValueError("write to a closed PcapngWriter")
        if self._failed is not None:
            raise self._failed

    def flush(self) -> None:
        """Hand every whole block gathered so far to the file (and the file's own buffer to the OS)."""
        if self._failed is not None:
            raise self._failed
        if not self._buf:
            return
        data = bytes(self._buf)
        done = 0
        try:
            view = memoryview(data)
            while done < len(data):
                n = self._f.write(view[done:])
                done += len(data) - done if n is None else n
            flush = getattr(self._f, "flush", None)
            if flush is not None:
                flush()
        except (OSError, ValueError) as exc:
            # keep the blocks that reached the file whole
            whole = max((e for e in self._ends if e <= done), default=0)
            self.bytes_written += whole
            if self._committed is not None:
                self._committed += whole
            self._fail(exc)
        self._buf.clear()
        self._ends.clear()
        self.bytes_written += len(data)
        if self._committed is not None:
            self._committed += len(data)

    def _fail(self, exc: Exception) -> None:
        """A write failed: cut the file back to its last whole block, remember and raise the error."""
        if self._committed is not None:
            try:
                self._f.truncate(self._committed)
                self._f.seek(self._committed)
            except (OSError, ValueError):
                pass
        errno = getattr(exc, "errno", None)
        strerror = getattr(exc, "strerror", None) or str(exc)
        where = f"{self.path}: " if self.path else ""
        self._failed = WriterError(errno, f"{where}cannot write: {strerror}")
        self._buf.clear()
        self._ends.clear()
        raise self._failed from None

    @property
    def buffered(self) -> int:
        """Bytes of whole blocks gathered and not yet handed to the file."""
        return len(self._buf)

    @property
    def failed(self) -> WriterError | None:
        """The write error that stopped this writer, if any."""
        return self._failed

    @property
    def closed(self) -> bool:
        return self._closed

    def close(self) -> None:
        """Flush and, for a path, close the file. A second close does nothing."""
        if self._closed:
            return
        try:
            if self._failed is None:
                self.flush()
        finally:
            self._closed = True
            if self._own:
                try:
                    self._f.close()
                except OSError:
                    pass

    def __enter__(self) -> "PcapngWriter":
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def _os_name() -> str:
    try:
        return f"{platform.system()} {platform.release()}"
    except Exception:  # noqa: BLE001
        return "unknown"

