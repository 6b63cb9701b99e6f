"""Progressive indexing: the full analysis run in time-boxed steps, plus which frames each association has.

An `Indexer` is fed in one of two ways. Pulled: it takes any iterator of DecodedFrames (a file, several
files, or a live source whose iterator grows: it may yield None when it has nothing new, so that a step can
end on time); the iterator ending means the capture is complete; `step(budget)` analyses frames for about
`budget` seconds and returns, so the caller (the TUI's worker thread) shows a snapshot between steps and
stops at once when the user quits. Pushed: made without an iterator, it is handed frames as they arrive
(`add(frame)`, `add_many(frames)`, from any thread) and told when there are no more (`finish()`); `step`
then only waits for that end. Either way `progress()` gives the snapshot the UI shows.

Beside the analysis, `AssociationFrames` keeps, per association, the frames of its packets (frame number,
index of the SCTP packet in the frame, which side sent it) so that per-association views (timeline, stream
ordering, packet detail) decode exactly those frames again, on demand, through a `FrameStore` that reads a
frame's bytes back by number. A live session fills the same AssociationFrames from its own analysis thread
(sctpscope.live.index.LiveIndex). What the association screens read is `FrameSource`.

Nothing here imports textual; nothing is stored per packet except those 8-byte frame entries.
"""

from __future__ import annotations

import threading
import time
from array import array
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Protocol

from sctpscope.analysis.association import ABORT, INIT, INIT_ACK, SHUTDOWN_COMPLETE, Association
from sctpscope.analysis.runner import Result
from sctpscope.analysis.totals import Totals
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


class FrameSource(Protocol):
    """What the association and packet screens read from an indexed capture, file or live: an Indexer,
    or a live session's LiveIndex."""

    store: FrameStore
    sctp_udp_ports: tuple[int, ...]

    def frames_of(self, key: int) -> array: ...

    def decoder(self) -> FrameDecoder: ...


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
    """What one step changed: counts so far, the association dicts that are new or changed, and the capture
    files as read so far (their names and first timestamp head the list)."""

    frames: int
    sctp_packets: int
    associations: int
    fraction: float | None
    done: bool
    changed: list[dict] = field(default_factory=list)
    totals: dict = field(default_factory=dict)
    infos: list[CaptureInfo] = field(default_factory=list)
    #: keys of associations replaced since the last step (lone flows joined, INIT collisions folded in)
    gone: list[int] = field(default_factory=list)

    @classmethod
    def of_result(cls, result: Result, changed: list[dict], done: bool) -> "Progress":
        """The progress a Result stands for: a live session's snapshot (`done` once the capture ended)."""
        t = result.totals
        return cls(t.packets, t.sctp_packets, len(result.associations), None, done, changed, totals_summary(t),
                   result.infos)


def totals_summary(t: Totals) -> dict:
    """The capture totals the association list shows."""
    return {"packets": t.packets, "sctp_packets": t.sctp_packets, "bad_checksums": t.bad_checksums,
            "malformed": t.malformed, "problems": sum(t.problems.values()),
            "checksums_unchecked": t.checksums["unchecked"]}


class AssociationFrames:
    """Each association's frame entries (see `entry`) under a key that never changes (ids may).

    Filled by the thread that runs the Analysis, right after ``Analysis.add(frame)`` with
    ``analysis.members`` set (`note`), or after a filter Annotator's ``add`` (`note_contexts`); read by the UI
    thread (`frames_of`). Every method takes the lock, so both may run at once.
    """

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.entries: dict[Association, array] = {}
        self.keys: dict[Association, int] = {}
        self.by_key: dict[int, Association] = {}
        self.touched: set[Association] = set()      # associations given frames since `take_touched`
        self.gone: list[int] = []                     # keys of associations replaced since `take_gone`

    # -- fed by the analysis thread -----------------------------------------------------------------------
    def note(self, frame: DecodedFrame, members: list) -> None:
        """The association of each of the frame's SCTP packets (``analysis.members`` after adding it)."""
        recs = frame.sctp
        with self.lock:
            if len(recs) == 1 and len(members) == 1:
                a = members[0]
                if a is not None:
                    self._append(a, entry(frame.number, 0, side_of(a, recs[0])))
                return
            ok = [(i, r) for i, r in enumerate(recs) if r.packet.header_ok]
            for (i, rec), a in zip(ok, members):
                if a is not None:
                    self._append(a, entry(frame.number, i, side_of(a, rec)))

    def note_contexts(self, frame: DecodedFrame, ctxs: list) -> None:
        """The same from a filter Annotator's PacketContexts of the frame."""
        with self.lock:
            i = 0
            for c in ctxs:
                if c.quoted:
                    continue
                if c.record.packet.header_ok:
                    if c.assoc is not None:
                        self._append(c.assoc, entry(frame.number, i, side_of(c.assoc, c.record)))
                    i += 1

    def fold(self, associations: list[Association], resolve) -> None:
        """Associations replaced by another (an INIT collision folded in, RFC 9260 §5.2.1; a lone flow joined
        to its partner): the frames of those no longer in `associations` move to the one `resolve` (the
        Analysis's) names, sides swapped where it says so."""
        with self.lock:
            live = set(associations)
            for gone in [a for a in self.entries if a not in live]:
                into, swapped = resolve(gone)
                lst = self.entries.pop(gone)
                self.touched.discard(gone)
                if gone in self.keys:
                    self.gone.append(self.keys[gone])
                if into is None or into is gone:
                    continue
                moved = (e ^ 1 for e in lst) if swapped else iter(lst)
                self.entries[into] = array("Q", sorted([*self.entries.get(into, ()), *moved]))
                self._key(into)
                self.touched.add(into)

    def key(self, a: Association) -> int:
        """The association's key (the KEY of the dicts handed out), given on first sight."""
        with self.lock:
            return self._key(a)

    def _key(self, a: Association) -> int:
        k = self.keys.get(a)
        if k is None:
            k = self.keys[a] = len(self.keys) + 1
            self.by_key[k] = a
        return k

    def _append(self, a: Association, e: int) -> None:
        lst = self.entries.get(a)
        if lst is None:
            lst = self.entries[a] = array("Q")
            self._key(a)
        lst.append(e)
        self.touched.add(a)

    def take_gone(self) -> list[int]:
        """The keys of the associations replaced since the last call."""
        with self.lock:
            out, self.gone = self.gone, []
            return out

    def take_touched(self) -> set[Association]:
        """The associations given frames since the last call."""
        with self.lock:
            out, self.touched = self.touched, set()
            return out

    # -- read by the UI -----------------------------------------------------------------------------------
    def frames_view(self, key: int) -> array:
        """The frame entries of the association with this key themselves, not a copy: only for an association
        that no longer grows (indexing done), and only to read."""
        with self.lock:
            a = self.by_key.get(key)
            lst = self.entries.get(a) if a is not None else None
            return lst if lst is not None else array("Q")

    def frames_of(self, key: int) -> array:
        """A copy of the frame entries of the association with this key (see `entry`)."""
        with self.lock:
            a = self.by_key.get(key)
            lst = self.entries.get(a) if a is not None else None
            return array("Q", lst) if lst is not None else array("Q")


class Indexer:
    """The analysis of one capture, pulled from an iterator in time-boxed steps or pushed frame by frame,
    with each association's frames (`frames_of`)."""

    def __init__(self, frames: Iterator[DecodedFrame] | None = None, store: FrameStore | None = None,
                 infos: list[CaptureInfo] | None = None, *, sctp_udp_ports: tuple[int, ...] = (9899,),
                 verify: bool = True, path_max_retrans: int = 5) -> None:
        self.frames = iter(frames) if frames is not None else None     # None: fed by add() / add_many()
        self.store = store
        self.infos = infos if infos is not None else []
        self.sctp_udp_ports = sctp_udp_ports
        self.verify = verify
        self.analysis = Analysis(path_max_retrans)
        self.analysis.members = []
        self.assoc_frames = AssociationFrames()
        self.frames_seen = 0
        self.last_frame = 0
        self.done = False
        self.result: Result | None = None
        self.lock = threading.Lock()        # one thread at a time in the analysis (feeding, snapshots)
        self._finished = threading.Event()

    # -- feeding: pulled ------------------------------------------------------------------------------
    def step(self, budget: float = 0.25, cancelled=lambda: False) -> bool:
        """Analyse frames for about `budget` seconds; True once every frame is analysed (and finished).
        `cancelled()` is polled every 256 frames: when it turns true the step returns at once. A pushed
        Indexer has nothing to pull: the step waits up to `budget` for `finish()`."""
        if self.done:
            return True
        if self.frames is None:
            done = self._finished.wait(budget)
            if self.store is not None and not done:
                self.store.extend(self.last_frame)
            return done
        deadline = time.perf_counter() + budget
        add = self._add
        n = 0
        with self.lock:
            for frame in self.frames:
                if frame is None:           # a live source with nothing new yet: give the time back
                    if time.perf_counter() > deadline or cancelled():
                        break
                    continue
                add(frame)
                n += 1
                if not n & 0xFF and (time.perf_counter() > deadline or cancelled()):
                    break
            else:
                self._finish()
                return True
        if self.store is not None:
            self.store.extend(self.last_frame)      # the record index keeps pace: progress, and reads
        return False

    # -- feeding: pushed ------------------------------------------------------------------------------
    def add(self, frame: DecodedFrame) -> None:
        """Analyse one more frame as it arrives (an Indexer made without an iterator). Frames come in
        capture order, numbered from 1 as the FrameStore reads them back; any thread may call this while
        another takes `progress()` or `frames_of()`."""
        with self.lock:
            self._add(frame)

    def add_many(self, frames: Iterable[DecodedFrame]) -> int:
        """`add` for each frame, taking the lock once; returns how many were added."""
        n = 0
        with self.lock:
            for frame in frames:
                self._add(frame)
                n += 1
        return n

    def finish(self) -> None:
        """No more frames: the analysis ends (the final association dicts, `result`, `done`)."""
        with self.lock:
            if not self.done:
                self._finish()

    def _add(self, frame: DecodedFrame) -> None:
        if self.done:
            raise RuntimeError("frame added to a finished Indexer")
        an = self.analysis
        an.add(frame)
        if an.members:
            self.assoc_frames.note(frame, an.members)
            an.members.clear()
        self.frames_seen += 1
        self.last_frame = frame.number

    def _finish(self) -> None:
        an = self.analysis
        an.finish()
        self.assoc_frames.fold(an.associations, an.resolve)
        dicts = []
        for a in an.associations:
            d = a.as_dict()
            d[KEY] = self.assoc_frames.key(a)
            dicts.append(d)
        self.result = Result(self.infos, an.totals, dicts, an.unassociated_packets, an.unassociated_chunks)
        self.done = True
        self._finished.set()
        if self.store is not None:
            self.store.extend(None)

    # -- what the UI reads between steps ----------------------------------------------------------------
    def progress(self, everything: bool = False) -> Progress:
        """Counts so far and the dicts of the associations new or changed since the last call (all of them
        with `everything`), as if the capture ended now; after the last step, the final dicts."""
        an = self.analysis
        frames = self.assoc_frames
        with self.lock:
            touched = frames.take_touched()
            if self.done:
                changed = list(self.result.associations)
            else:
                frames.fold(an.associations, an.resolve)
                touched |= frames.take_touched()
                an.associations.sort(key=lambda a: (a.first_frame, a.id))
                for i, a in enumerate(an.associations, 1):
                    a.id = i
                which = an.associations if everything else [a for a in an.associations if a in touched]
                changed = []
                for a in which:
                    d = a.snapshot_dict()
                    d[KEY] = frames.key(a)
                    changed.append(d)
            totals = totals_summary(an.totals)
            packets, sctp_packets = an.totals.packets, an.totals.sctp_packets
            n = len(an.associations)
        fraction = 1.0 if self.done else (self.store.fraction() if self.store is not None else None)
        return Progress(packets, sctp_packets, n, fraction, self.done, changed, totals, self.infos,
                        frames.take_gone())

    def frames_of(self, key: int) -> array:
        """A copy of the frame entries of the association with this key (see `entry`)."""
        return self.assoc_frames.frames_of(key)

    def frames_view(self, key: int) -> array:
        """The entries themselves once indexing is done (a large association's compact index reads them in
        place, sparing a copy of 8 bytes a packet); a copy before."""
        return self.assoc_frames.frames_view(key) if self.done else self.frames_of(key)

    def decoder(self) -> FrameDecoder:
        """A fresh frame decoder with the options of this capture (for decoding frames again)."""
        return FrameDecoder(sctp_udp_ports=self.sctp_udp_ports, verify_checksum=self.verify)

    def close(self) -> None:
        if self.store is not None:
            self.store.close()


def packets_of(entries: Sequence[int], store: FrameStore, decoder: FrameDecoder,
               cancelled=lambda: False) -> Iterator[tuple[int, float, int, SctpRecord | None, int]]:
    """Decode the frames of an association again: yields (frame, ts, side, record, index of the record among
    the frame's SCTP packets), record None when the frame cannot be read back. A packet reassembled from IP
    fragments is rebuilt from the frames before it (export.walk.Rereader)."""
    from sctpscope.export.walk import Rereader

    reader = Rereader(store, decoder)
    for e in entries:
        if cancelled():
            return
        number, index, side = unpack_entry(e)
        try:
            frame, _ = reader.read(number)
        except (KeyError, OSError, ValueError):
            yield number, 0.0, side, None, index
            continue
        recs = [r for r in frame.sctp if r.packet.header_ok]
        yield number, frame.ts, side, recs[index] if index < len(recs) else None, index


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
