"""Progressive indexing: the full analysis run in time-boxed steps, plus which frames each association has.

An `Indexer` takes any iterator of DecodedFrames (a file, several files, or a live source whose iterator
grows: it may yield None when it has nothing new, so that a step can end on time) and a `FrameStore`
that reads a frame's bytes back by number. The iterator ending means the capture is complete. `step(budget)` analyses frames for
about `budget` seconds and returns; the caller (the TUI's worker thread) shows a snapshot between steps
and stops at once when the user quits. Beside the analysis it keeps, per association, the frames of its
packets (frame number, index of the SCTP packet in the frame, which side sent it) so that per-association
views (timeline, stream ordering, packet detail) decode exactly those frames again, on demand.

Nothing here imports textual; nothing is stored per packet except those 8-byte frame entries.
"""

from __future__ import annotations

import threading
import time
from array import array
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import Protocol

from sctpscope.analysis.association import ABORT, INIT, INIT_ACK, SHUTDOWN_COMPLETE, Association
from sctpscope.analysis.runner import Result
from sctpscope.analysis.tracker import Analysis
from sctpscope.decode.frame import DecodedFrame, FrameDecoder, SctpRecord
from sctpscope.pipeline import CaptureInfo

KEY = "_key"        # added to every association dict handed out: a key that never changes (ids may)


class FrameStore(Protocol):
    """Reads frames back by number (sctpscope.capture.index.CaptureIndex / MultiIndex for files)."""

    def read(self, number: int): ...          # -> RawFrame(number, ts, linktype, data, orig_len)

    def extend(self, upto: int | None = None): ...

    def fraction(self) -> float | None: ...

    def close(self) -> None: ...


def entry(frame: int, index: int, side: int) -> int:
    """A frame entry: frame number, index of the SCTP packet among the frame's SCTP packets, sender side."""
    return frame << 8 | (index & 0x7F) << 1 | side


def unpack_entry(e: int) -> tuple[int, int, int]:
    return e >> 8, (e >> 1) & 0x7F, e & 1


def side_of(a: Association, rec: SctpRecord) -> int:
    """0 when the initiator sent this packet, 1 when the responder did."""
    pkt = rec.packet
    ini, res = a.eps
    if pkt.src_port != pkt.dst_port:
        return 0 if pkt.src_port == ini.port else 1
    chunks = pkt.chunks
    first = chunks[0] if chunks else None
    if first is not None and first.type in (INIT, INIT_ACK):
        tag = getattr(first, "initiate_tag", None)
        if tag is not None:
            return 0 if tag == ini.tag else 1
    reflected = first is not None and first.type in (ABORT, SHUTDOWN_COMPLETE) and first.flags & 1
    if res.tag is not None and pkt.vtag == res.tag:       # packets to the responder carry its tag
        return 1 if reflected else 0
    if ini.tag is not None and pkt.vtag == ini.tag:
        return 0 if reflected else 1
    return 0 if rec.src in ini.addresses and rec.src not in res.addresses else 1


@dataclass
class Progress:
    """What one step changed: counts so far, and the association dicts that are new or changed."""

    frames: int
    sctp_packets: int
    associations: int
    fraction: float | None
    done: bool
    changed: list[dict] = field(default_factory=list)
    totals: dict = field(default_factory=dict)


class Indexer:
    """The analysis of one capture, fed in time-boxed steps, with each association's frames."""

    def __init__(self, frames: Iterator[DecodedFrame], store: FrameStore | None = None,
                 infos: list[CaptureInfo] | None = None, *, sctp_udp_ports: tuple[int, ...] = (9899,),
                 verify: bool = True, path_max_retrans: int = 5) -> None:
        self.frames = iter(frames)
        self.store = store
        self.infos = infos if infos is not None else []
        self.sctp_udp_ports = sctp_udp_ports
        self.verify = verify
        self.analysis = Analysis(path_max_retrans)
        self.analysis.members = []
        self.entries: dict[Association, array] = {}
        self.keys: dict[Association, int] = {}
        self.by_key: dict[int, Association] = {}
        self.touched: set[Association] = set()
        self.frames_seen = 0
        self.last_frame = 0
        self.done = False
        self.result: Result | None = None
        self.lock = threading.Lock()        # guards entries / keys while the UI copies from them

    # -- feeding --------------------------------------------------------------------------------------
    def step(self, budget: float = 0.25, cancelled=lambda: False) -> bool:
        """Analyse frames for about `budget` seconds; True once every frame is analysed (and finished).
        `cancelled()` is polled every 256 frames: when it turns true the step returns at once."""
        if self.done:
            return True
        deadline = time.perf_counter() + budget
        add = self.analysis.add
        members = self.analysis.members
        frames = self.frames
        n = 0
        with self.lock:
            for frame in frames:
                if frame is None:           # a live source with nothing new yet: give the time back
                    if time.perf_counter() > deadline or cancelled():
                        break
                    continue
                add(frame)
                if members:
                    self._note(frame, members)
                    members.clear()
                n += 1
                self.last_frame = frame.number
                if not n & 0xFF and (time.perf_counter() > deadline or cancelled()):
                    break
            else:
                self.frames_seen += n
                self._finish()
                return True
        self.frames_seen += n
        if self.store is not None:
            self.store.extend(self.last_frame)      # the record index keeps pace: progress, and reads
        return False

    def _note(self, frame: DecodedFrame, members: list) -> None:
        recs = frame.sctp
        if len(recs) == 1 and len(members) == 1:
            a = members[0]
            if a is not None:
                self._append(a, entry(frame.number, 0, side_of(a, recs[0])))
            return
        ok = [(i, r) for i, r in enumerate(recs) if r.packet.header_ok]
        for (i, rec), a in zip(ok, members):
            if a is not None:
                self._append(a, entry(frame.number, i, side_of(a, rec)))

    def _append(self, a: Association, e: int) -> None:
        lst = self.entries.get(a)
        if lst is None:
            lst = self.entries[a] = array("Q")
            k = self.keys[a] = len(self.keys) + 1
            self.by_key[k] = a
        lst.append(e)
        self.touched.add(a)

    def _fold_absorbed(self) -> None:
        """An INIT collision folds one association into another (RFC 9260 §5.2.1): move its frames over,
        sides swapped (its initiator is the other's responder)."""
        live = set(self.analysis.associations)
        for gone in [a for a in self.entries if a not in live]:
            into = next((a for a in self.analysis.associations if a.collision
                         and a.eps[1].port == gone.eps[0].port and a.eps[0].port == gone.eps[1].port
                         and a.eps[1].tag == gone.eps[0].tag), None)
            lst = self.entries.pop(gone)
            self.touched.discard(gone)
            if into is None:
                continue
            merged = sorted([*self.entries.get(into, ()), *(e ^ 1 for e in lst)])
            self.entries[into] = array("Q", merged)
            if into not in self.keys:
                k = self.keys[into] = len(self.keys) + 1
                self.by_key[k] = into
            self.touched.add(into)

    def _finish(self) -> None:
        self._fold_absorbed()
        an = self.analysis
        an.finish()
        dicts = []
        for a in an.associations:
            d = a.as_dict()
            d[KEY] = self._key(a)
            dicts.append(d)
        self.result = Result(self.infos, an.totals, dicts, an.unassociated_packets, an.unassociated_chunks)
        self.done = True
        if self.store is not None:
            self.store.extend(None)

    def _key(self, a: Association) -> int:
        k = self.keys.get(a)
        if k is None:
            k = self.keys[a] = len(self.keys) + 1
            self.by_key[k] = a
        return k

    # -- what the UI reads between steps ----------------------------------------------------------------
    def progress(self, everything: bool = False) -> Progress:
        """Counts so far and the dicts of the associations new or changed since the last call (all of them
        with `everything`), as if the capture ended now; after the last step, the final dicts."""
        an = self.analysis
        with self.lock:
            if self.done:
                changed = list(self.result.associations)
            else:
                self._fold_absorbed()
                an.associations.sort(key=lambda a: (a.first_frame, a.id))
                for i, a in enumerate(an.associations, 1):
                    a.id = i
                which = an.associations if everything else [a for a in an.associations if a in self.touched]
                changed = []
                for a in which:
                    d = a.snapshot_dict()
                    d[KEY] = self._key(a)
                    changed.append(d)
            self.touched.clear()
            t = an.totals
            totals = {"packets": t.packets, "sctp_packets": t.sctp_packets, "bad_checksums": t.bad_checksums,
                      "malformed": t.malformed, "problems": sum(t.problems.values()),
                      "checksums_unchecked": t.checksums["unchecked"]}
            n = len(an.associations)
        fraction = 1.0 if self.done else (self.store.fraction() if self.store is not None else None)
        return Progress(t.packets, t.sctp_packets, n, fraction, self.done, changed, totals)

    def frames_of(self, key: int) -> array:
        """A copy of the frame entries of the association with this key (see `entry`)."""
        with self.lock:
            a = self.by_key.get(key)
            lst = self.entries.get(a) if a is not None else None
            return array("Q", lst) if lst is not None else array("Q")

    def decoder(self) -> FrameDecoder:
        """A fresh frame decoder with the options of this capture (for decoding frames again)."""
        return FrameDecoder(sctp_udp_ports=self.sctp_udp_ports, verify_checksum=self.verify)

    def close(self) -> None:
        if self.store is not None:
            self.store.close()


def packets_of(entries: Sequence[int], store: FrameStore, decoder: FrameDecoder,
               cancelled=lambda: False) -> Iterator[tuple[int, float, int, SctpRecord | None, int]]:
    """Decode the frames of an association again: yields (frame, ts, side, record, index of the record among
    the frame's SCTP packets), record None when the frame cannot be read back or its SCTP packet is gone
    (reassembled from IP fragments of other frames)."""
    for e in entries:
        if cancelled():
            return
        number, index, side = unpack_entry(e)
        try:
            raw = store.read(number)
        except (KeyError, OSError, ValueError):
            yield number, 0.0, side, None, index
            continue
        frame = decoder.decode(number, raw.ts, raw.linktype, raw.data, raw.orig_len)
        recs = [r for r in frame.sctp if r.packet.header_ok]
        yield number, raw.ts, side, recs[index] if index < len(recs) else None, index


def file_indexer(paths: Sequence[str], *, sctp_udp_ports: tuple[int, ...] = (9899,), verify: bool = True,
                 path_max_retrans: int = 5) -> Indexer:
    """An Indexer over capture files read in order as one. Opening errors (a missing file, not a capture)
    raise CaptureError here, before any step."""
    from sctpscope.capture.index import MultiIndex
    from sctpscope.pipeline import check_inputs, decode_files

    check_inputs(paths)
    infos: list[CaptureInfo] = []
    frames = decode_files(paths, infos, sctp_udp_ports=sctp_udp_ports, verify_checksum=verify)
    return Indexer(frames, MultiIndex(paths), infos, sctp_udp_ports=sctp_udp_ports, verify=verify,
                   path_max_retrans=path_max_retrans)
