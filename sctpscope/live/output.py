"""The pcapng file(s) live capture writes: one file, or a ring of files like dumpcap's ``-b``.

Every frame captured is written as it arrives (sctpscope.capture.writer); the capture loop flushes whole
blocks to the file at least every ``FLUSH_INTERVAL`` seconds, so a crash or Ctrl-C loses at most that moment,
and a full disk leaves the file valid up to its last whole block. Each file starts with its own section and
interface description and ends with an interface statistics block (kernel received/dropped counts).

Names: ``-w FILE`` as given; by default ``sctpscope_<interface>_<YYYYmmdd-HHMMSS>.pcapng`` in the working
directory. In ring mode (``ring_size`` set) the files are named like dumpcap's: ``<stem>_<NNNNN>_<YYYYmmddHHMMSS>
<suffix>``; a new file begins when the current one passes ``ring_size`` bytes (or on ``rotate()``), and with
``ring_files`` N only the N newest files are kept (the oldest is deleted). Whoever reads the files as they are
written (the analysis) is given an open descriptor of each new file (``on_new_file``): it can go on reading a
file the ring has already deleted.
"""

from __future__ import annotations

import os
import re
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from sctpscope.capture.writer import PcapngWriter, WriterError

FLUSH_INTERVAL = 0.1


@dataclass
class OutputFile:
    """One file written: its path, a descriptor opened for reading as it was created, its size once closed."""

    path: str
    read_fd: int | None = None
    index: int = 1
    final_size: int | None = None          # bytes, once the writer has closed it (None: being written)
    packets: int = 0
    deleted: bool = False
    error: str | None = None               # why writing it stopped early (a full disk)

    def as_dict(self) -> dict:
        return {"path": self.path, "packets": self.packets, "bytes": self.final_size, "deleted": self.deleted}


def default_name(interface: str, now: float | None = None) -> str:
    safe = re.sub(r"[^A-Za-z0-9_.-]", "_", interface) or "if"
    return f"sctpscope_{safe}_{time.strftime('%Y%m%d-%H%M%S', time.localtime(now))}.pcapng"


@dataclass
class OutputFiles:
    path: str
    linktype: int
    interface: str
    snaplen: int
    ring_size: int | None = None           # bytes; None: one file
    ring_files: int | None = None          # keep at most this many files; None: keep all
    owner: tuple[int, int] | None = None   # (uid, gid) to give the files (privileges dropped later)
    on_new_file: Callable[[OutputFile], None] | None = None
    files: list[OutputFile] = field(default_factory=list)

    def __post_init__(self) -> None:
        self._writer: PcapngWriter | None = None
        self._if = 0
        self._last_flush = time.monotonic()
        self.error: WriterError | None = None

    @property
    def ring(self) -> bool:
        return self.ring_size is not None or self.ring_files is not None

    @property
    def current(self) -> OutputFile | None:
        return self.files[-1] if self.files and self.files[-1].final_size is None else None

    def _name(self, index: int) -> str:
        """The path itself for a single file; numbered names in a ring and after a rotation by hand."""
        if not self.ring and index == 1:
            return self.path
        stem, suffix = os.path.splitext(self.path)
        return f"{stem}_{index:05d}_{time.strftime('%Y%m%d%H%M%S')}{suffix or '.pcapng'}"

    def open(self) -> OutputFile:
        """Begin the next file (the first one at start)."""
        index = len(self.files) + 1
        path = self._name(index)
        w = PcapngWriter(path)                 # WriterError: one clear line
        if self.owner is not None:
            try:
                os.chown(path, *self.owner)
            except OSError:
                pass
        self._if = w.add_interface(self.linktype, self.interface, self.snaplen)
        w.flush()
        try:
            fd = os.open(path, os.O_RDONLY)
        except OSError:
            fd = None
        rec = OutputFile(path, fd, index)
        self._writer = w
        self.files.append(rec)
        if self.on_new_file is not None:
            self.on_new_file(rec)
        return rec

    def write(self, frame, ts_ns: int) -> None:
        w = self._writer
        w.write_packet(self._if, frame.ts, frame.data, frame.orig_len, ts_ns=ts_ns)
        self.files[-1].packets += 1
        if self.ring_size is not None and w.bytes_written + w.buffered >= self.ring_size:
            self.rotate()

    def flush(self, force: bool = False) -> bool:
        """Hand what is buffered to the file when FLUSH_INTERVAL has passed (or `force`); True if it did."""
        now = time.monotonic()
        if not force and now - self._last_flush < FLUSH_INTERVAL:
            return False
        self._last_flush = now
        if self._writer is not None:
            self._writer.flush()
        return True

    def _close_current(self, stats: tuple[int, int] | None) -> None:
        w, rec = self._writer, self.files[-1]
        self._writer = None
        try:
            if stats is not None and w.failed is None:
                w.write_stats(self._if, time.time(), stats[0], stats[1], ts_ns=time.time_ns())
            w.close()
        except WriterError as exc:
            self.error = exc
            rec.error = str(exc)
        rec.final_size = w.bytes_written

    def rotate(self, stats: tuple[int, int] | None = None) -> OutputFile:
        """Close the current file (with `stats` as its statistics block) and begin the next; in a ring of N
        files, delete the oldest beyond N."""
        self._close_current(stats)
        if self.error is not None:
            raise self.error
        if self.ring_files is not None:
            alive = [f for f in self.files if not f.deleted]
            for old in alive[:max(0, len(alive) + 1 - self.ring_files)]:
                try:
                    os.unlink(old.path)
                except OSError:
                    pass
                old.deleted = True
        return self.open()

    def close(self, stats: tuple[int, int] | None = None) -> None:
        if self._writer is not None:
            self._close_current(stats)

    def mark_failed(self, exc: WriterError) -> None:
        """A write failed: the file keeps what was written whole; no more writing."""
        self.error = exc
        if self._writer is not None:
            rec = self.files[-1]
            rec.error = str(exc)
            rec.final_size = self._writer.bytes_written
            try:
                self._writer.close()
            except WriterError:
                pass
            self._writer = None
