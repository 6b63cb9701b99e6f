"""What the terminal UI's association views need during a live capture: each association's frames, and the
frames read back from the files being written.

The file-based UI gets this from analysis.indexer.Indexer (frame entries per association) and
capture.index (frames read back by number). A live session fills a LiveIndex instead, from its analysis
thread, with the same frame entries (analysis.indexer.entry / side_of) and the place of every frame in the
files; it offers the surface the association screens use: ``frames_of(key)``, ``store.read(number)``,
``decoder()``, ``sctp_udp_ports``, ``infos``. Frames of a ring file already deleted cannot be read back
(the views then say so). Nothing here imports textual.
"""

from __future__ import annotations

import os
import threading
from array import array

from sctpscope.analysis.indexer import entry, side_of
from sctpscope.capture.index import RawFrame
from sctpscope.decode.frame import DecodedFrame, FrameDecoder

_MISSING = 0xFFFF


class LiveIndex:
    def __init__(self, sctp_udp_ports: tuple[int, ...] = (9899,), verify: bool = True) -> None:
        self.sctp_udp_ports = tuple(sctp_udp_ports)
        self.verify = verify
        self.lock = threading.Lock()
        self.entries: dict = {}                 # Association -> array of frame entries
        self.keys: dict = {}                    # Association -> stable key (KEY of the dicts handed out)
        self.by_key: dict = {}
        self.paths: list[str] = []
        self.infos: list = []
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
        with self.lock:
            self.paths.append(path)
            return len(self.paths) - 1

    def add_frame(self, number: int, file_index: int, offset: int, caplen: int, ts: float, linktype: int,
                  orig_len: int) -> None:
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

    def key(self, a) -> int:
        k = self.keys.get(a)
        if k is None:
            with self.lock:
                k = self.keys[a] = len(self.keys) + 1
                self.by_key[k] = a
        return k

    def _append(self, a, e: int) -> None:
        lst = self.entries.get(a)
        if lst is None:
            self.key(a)
            with self.lock:
                lst = self.entries[a] = array("Q")
        with self.lock:
            lst.append(e)

    def note(self, frame: DecodedFrame, members: list) -> None:
        """After Analysis.add(frame) with ``analysis.members`` set: the association of each SCTP packet."""
        ok = [(i, r) for i, r in enumerate(frame.sctp) if r.packet.header_ok]
        for (i, rec), a in zip(ok, members):
            if a is not None:
                self._append(a, entry(frame.number, i, side_of(a, rec)))

    def note_contexts(self, frame: DecodedFrame, ctxs: list) -> None:
        """The same from a filter Annotator's PacketContexts."""
        i = 0
        for c in ctxs:
            if c.quoted:
                continue
            if c.record.packet.header_ok:
                if c.assoc is not None:
                    self._append(c.assoc, entry(frame.number, i, side_of(c.assoc, c.record)))
            i += 1

    def fold(self, associations: list) -> None:
        """Associations an INIT collision folded into another: their frames go to it, sides swapped (as
        analysis.indexer.Indexer does)."""
        live = set(associations)
        for gone in [a for a in self.entries if a not in live]:
            into = next((a for a in associations if a.collision and a.eps[1].port == gone.eps[0].port
                         and a.eps[0].port == gone.eps[1].port and a.eps[1].tag == gone.eps[0].tag), None)
            with self.lock:
                lst = self.entries.pop(gone)
                if into is not None:
                    self.entries[into] = array("Q", sorted([*self.entries.get(into, ()), *(e ^ 1 for e in lst)]))
            if into is not None:
                self.key(into)

    # -- read by the UI ------------------------------------------------------------------------------------------
    def frames_of(self, key: int) -> array:
        with self.lock:
            a = self.by_key.get(key)
            lst = self.entries.get(a) if a is not None else None
            return array("Q", lst) if lst is not None else array("Q")

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
