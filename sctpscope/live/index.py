"""What the terminal UI's association views need during a live capture: each association's frames, and the
frames read back from the files being written.

The file-based UI gets this from an analysis.indexer.Indexer (its AssociationFrames, and capture.index to
read frames back by number). A live session runs its own Analysis in its analysis thread and fills a
LiveIndex beside it: the same AssociationFrames (``note`` / ``note_contexts`` after each frame, ``fold`` and
``key`` when it publishes a snapshot) plus the place of every frame in the files (``add_file``,
``add_frame``). The UI reads it as it reads an Indexer (analysis.indexer.FrameSource): ``frames_of(key)``,
``store.read(number)``, ``decoder()``, ``sctp_udp_ports``. Frames of a ring file already deleted cannot be
read back (the views then say so). Nothing here imports textual.
"""

from __future__ import annotations

import os
from array import array

from sctpscope.analysis.indexer import AssociationFrames
from sctpscope.capture.index import RawFrame
from sctpscope.decode.frame import FrameDecoder
from sctpscope.pipeline import CaptureInfo

_MISSING = 0xFFFF


class LiveIndex(AssociationFrames):
    """AssociationFrames plus where each frame is (a FrameStore over the files being written)."""

    def __init__(self, sctp_udp_ports: tuple[int, ...] = (9899,), verify: bool = True) -> None:
        super().__init__()
        self.sctp_udp_ports = tuple(sctp_udp_ports)
        self.verify = verify
        self.paths: list[str] = []
        self.infos: list[CaptureInfo] = []        # the files as of the last snapshot (set by the session)
        self.store = self
        # per frame number - 1: file index, data offset, captured length, timestamp, link type, original length
        self._file = array("H")
        self._off = array("Q")
        self._cap = array("I")
        self._ts = array("d")
        self._lt = array("H")
        self._orig = array("I")

    # -- fed by the session's analysis thread ------------------------------------------------------------------
    def add_file(self, path: str) -> int:
        """A new file of the capture; returns its index for `add_frame`."""
        with self.lock:
            self.paths.append(path)
            return len(self.paths) - 1

    def add_frame(self, number: int, file_index: int, offset: int, caplen: int, ts: float, linktype: int,
                  orig_len: int) -> None:
        """Frame `number` is `caplen` bytes at `offset` in file `file_index`."""
        with self.lock:
            while len(self._file) < number - 1:          # numbers without a packet (custom blocks)
                for arr, v in ((self._file, _MISSING), (self._off, 0), (self._cap, 0), (self._ts, 0.0),
                               (self._lt, 0), (self._orig, 0)):
                    arr.append(v)
            self._file.append(file_index)
            self._off.append(offset)
            self._cap.append(caplen)
            self._ts.append(ts)
            self._lt.append(linktype & 0xFFFF)
            self._orig.append(orig_len)

    # -- read by the UI ------------------------------------------------------------------------------------------
    def decoder(self) -> FrameDecoder:
        return FrameDecoder(sctp_udp_ports=self.sctp_udp_ports, verify_checksum=self.verify)

    def read(self, number: int) -> RawFrame:
        """Frame `number` read back from its file; KeyError when unknown, OSError when its file is gone."""
        i = number - 1
        with self.lock:
            if i < 0 or i >= len(self._file) or self._file[i] == _MISSING:
                raise KeyError(number)
            path = self.paths[self._file[i]]
            off, cap, ts, lt, orig = self._off[i], self._cap[i], self._ts[i], self._lt[i], self._orig[i]
        fd = os.open(path, os.O_RDONLY)
        try:
            data = os.pread(fd, cap, off)
        finally:
            os.close(fd)
        if len(data) != cap:
            raise KeyError(number)
        return RawFrame(number, ts, lt, data, orig)

    # FrameStore's other methods: a live capture has no end to read towards
    def extend(self, upto: int | None = None) -> None:
        return None

    def fraction(self) -> float | None:
        return None

    def close(self) -> None:
        return None
