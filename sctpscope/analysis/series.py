"""Time series of one association for graphs: per direction of DATA, the TSN of every DATA / I-DATA chunk,
the peer's SACK cumulative ack and gap blocks (Wireshark's TSN graph), the peer's advertised a_rwnd, the
bytes in flight, the user-data bytes per stream and time bucket (`throughput`), the heartbeat round-trip
times per path and the changes of the primary path.

Built on demand from the association's packets decoded again (analysis.indexer.packets_of), like
analysis.timeline: `build(packets)` takes (frame, ts, side, SctpRecord or None[, record index]) in capture
order. TSNs are unwrapped (RFC 1982, 32 bits) and also given relative to the direction's base: the initial
TSN of the sender's INIT / INIT ACK when the capture has it, else the first TSN seen. A DATA chunk whose TSN
the same side sent before is a retransmission (as the timeline marks it). Bytes in flight are the user-data
bytes of TSNs sent and neither cumulatively acked nor covered by a gap block (RFC 9260 §6.2.1; a gap block
acknowledges only until a later SACK renegs it, which this ignores), after every DATA or SACK.
A HEARTBEAT and the peer's HEARTBEAT ACK echoing its heartbeat info make one round-trip time, counted on the
HEARTBEAT's path (source → destination address); captures merged from several interfaces may hold the ACK
before its HEARTBEAT, which still pairs them when the ACK's time is not earlier. The primary path of a
direction is the path of its latest new DATA (first transmissions only: a retransmission to an alternate
address is no failover), as the analysis' `primary_path_changes` has it.
No Textual here.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass, field

from sctpscope.analysis.serial import Unwrapper
from sctpscope.decode.sctp.chunks import ShortChunk

DATA_TYPES = (0, 64)          # DATA, I-DATA
SACK_TYPES = (3, 16)          # SACK, NR-SACK
INIT_TYPES = (1, 2)           # INIT, INIT ACK
HEARTBEAT, HEARTBEAT_ACK = 4, 5

Path = tuple[str, str]        # source, destination address


@dataclass(slots=True)
class DataPoint:
    """One DATA / I-DATA chunk: when, where (frame, SCTP packet of the frame, chunk index) and which TSN."""

    ts: float
    frame: int
    record: int
    index: int
    tsn: int                  # as on the wire
    rel: int                  # unwrapped TSN minus the direction's base
    sid: int
    length: int               # user-data bytes
    retransmission: bool


@dataclass(slots=True)
class SackPoint:
    """One SACK / NR-SACK from the receiver of this direction: cumulative ack, gap blocks, a_rwnd."""

    ts: float
    frame: int
    record: int
    index: int
    cum: int                                  # as on the wire
    cum_rel: int                              # relative to the direction's base
    gaps: tuple[tuple[int, int], ...]         # gap blocks as relative TSN ranges [lo, hi]
    a_rwnd: int
    dups: int


@dataclass(slots=True)
class Sample:
    """A value at a time, with the frame that set it (a_rwnd, bytes in flight)."""

    ts: float
    value: int
    frame: int


@dataclass(slots=True)
class Heartbeat:
    """A HEARTBEAT this direction's sender sent on `path` and, once seen, the peer's HEARTBEAT ACK that echoed
    its heartbeat info: ts / frame / record / index are the ACK's (the graph's point opens it), None unanswered."""

    path: Path
    sent: float
    sent_frame: int
    ts: float | None = None
    frame: int | None = None
    record: int = 0
    index: int = 0

    @property
    def rtt(self) -> float | None:
        """Seconds from the HEARTBEAT to its ACK."""
        return None if self.ts is None else self.ts - self.sent


@dataclass(slots=True)
class PathChange:
    """New DATA on another path than the previous new DATA of the direction: the primary path changed (a
    failover, or back). Where: the chunk that first used the new path."""

    ts: float
    frame: int
    record: int
    index: int
    tsn: int
    old: Path
    new: Path


@dataclass(slots=True)
class Bucket:
    """User-data bytes of first transmissions in [ts, ts + width): a point of the throughput graph, which opens
    the bucket's last DATA chunk (frame, record, index; `last` its time)."""

    ts: float
    width: float
    bytes: int
    chunks: int
    frame: int
    record: int
    index: int
    last: float


@dataclass
class Direction:
    """DATA sent by `side` (0 initiator, 1 responder) and what its peer said about it."""

    side: int
    base: int | None = None                   # unwrapped TSN that `rel` counts from
    data: list[DataPoint] = field(default_factory=list)
    sacks: list[SackPoint] = field(default_factory=list)
    rwnd: list[Sample] = field(default_factory=list)      # a_rwnd the peer advertised (INIT / INIT ACK, SACK)
    flight: list[Sample] = field(default_factory=list)    # bytes in flight after each DATA / SACK
    heartbeats: list[Heartbeat] = field(default_factory=list)   # HEARTBEATs `side` sent, in capture order
    path_changes: list[PathChange] = field(default_factory=list)
    sent: dict[int, int] = field(default_factory=dict)    # stream -> user-data bytes of first transmissions
    types: set[int] = field(default_factory=set)          # chunk types of the DATA: 0 DATA, 64 I-DATA

    @property
    def retransmissions(self) -> list[int]:
        """Indices into `data` of the retransmitted chunks."""
        return [i for i, d in enumerate(self.data) if d.retransmission]

    @property
    def streams(self) -> list[int]:
        """Stream identifiers that carried first transmissions, in order."""
        return sorted(self.sent)

    @property
    def paths(self) -> list[Path]:
        """Paths that carried this side's HEARTBEATs, in order of the first."""
        return list(dict.fromkeys(h.path for h in self.heartbeats))


@dataclass
class Series:
    directions: tuple[Direction, Direction]
    unreadable: int = 0                       # frames that could not be read back or decoded again
    start: float | None = None                # time of the earliest packet
    end: float | None = None                  # time of the latest packet


class _State:
    __slots__ = ("unwrap", "seen", "outstanding", "initial", "bytes", "path", "pending", "early")

    def __init__(self) -> None:
        self.unwrap = Unwrapper(32)
        self.seen: set[int] = set()
        self.outstanding: dict[int, int] = {}     # unwrapped TSN -> bytes
        self.initial: int | None = None           # initial TSN (INIT / INIT ACK), as on the wire
        self.bytes = 0                            # sum of outstanding
        self.path: Path | None = None             # path of the latest new DATA: the primary
        self.pending: dict[bytes, Heartbeat] = {}                  # heartbeat info -> HEARTBEAT not acked
        self.early: dict[bytes, tuple[float, int, int, int]] = {}  # ACKs captured before their HEARTBEAT


class Builder:
    """Builds a Series one packet at a time (`add`), so that a caller can feed the same decoded packets to
    other views (the timeline) without keeping them; `series` is the result so far."""

    def __init__(self) -> None:
        self.series = Series((Direction(0), Direction(1)))
        self.states = (_State(), _State())

    def add(self, item: tuple) -> None:
        """One (frame, ts, side, SctpRecord or None[, record index]) in capture order."""
        frame, ts, side, rec = item[:4]
        record = item[4] if len(item) > 4 else 0
        series, dirs, states = self.series, self.series.directions, self.states
        if rec is None:
            series.unreadable += 1
            return
        if series.start is None or ts < series.start:     # merged captures are not always in time order
            series.start = ts
        if series.end is None or ts > series.end:
            series.end = ts
        for i, c in enumerate(rec.packet.chunks):
            if c.__class__ is ShortChunk:
                continue
            t = c.type
            if t in INIT_TYPES:
                st = states[side]
                if st.initial is None:
                    st.initial = c.initial_tsn
                    if dirs[side].base is None:
                        dirs[side].base = st.unwrap(c.initial_tsn)
                # the a_rwnd of an INIT / INIT ACK is the window its sender offers the peer's DATA
                dirs[1 - side].rwnd.append(Sample(ts, c.a_rwnd, frame))
            elif t in DATA_TYPES:
                _data(dirs[side], states[side], c, ts, frame, record, i, (rec.src, rec.dst))
            elif t in SACK_TYPES:
                _sack(dirs[1 - side], states[1 - side], c, ts, frame, record, i)
            elif t == HEARTBEAT:
                _heartbeat(dirs[side], states[side], c, ts, frame, (rec.src, rec.dst))
            elif t == HEARTBEAT_ACK:
                _heartbeat_ack(states[1 - side], c, ts, frame, record, i)


def build(packets: Iterable[tuple]) -> Series:
    """The series of one association (see the module doc)."""
    b = Builder()
    for item in packets:
        b.add(item)
    return b.series


def bucket_width(span: float, buckets: int) -> float:
    """The smallest 1, 2 or 5 × 10^k seconds (at least 1 µs) that cuts `span` into at most `buckets` buckets:
    a round size for the graph's title."""
    want = max(span / max(1, buckets), 1e-6)
    exp = math.floor(math.log10(want))
    for step in (1, 2, 5, 10):
        width = step * 10.0 ** exp
        if width >= want * (1 - 1e-9):
            return width
    return 10.0 ** (exp + 1)


def throughput(d: Direction, origin: float, width: float, sid: int | None = None) -> list[Bucket]:
    """The non-empty buckets of `width` seconds counted from `origin` (the association's first packet, so that
    panning keeps them) with the user-data bytes of the first transmissions of stream `sid` (None: every
    stream); retransmissions are left out, so that the buckets add up to what the application sent."""
    out: dict[int, Bucket] = {}
    for p in d.data:
        if p.retransmission or (sid is not None and p.sid != sid):
            continue
        k = math.floor((p.ts - origin) / width)
        b = out.get(k)
        if b is None:
            b = out[k] = Bucket(origin + k * width, width, 0, 0, p.frame, p.record, p.index, p.ts)
        b.bytes += p.length
        b.chunks += 1
        if p.ts >= b.last:
            b.frame, b.record, b.index, b.last = p.frame, p.record, p.index, p.ts
    return [out[k] for k in sorted(out)]


def _data(d: Direction, st: _State, c, ts: float, frame: int, record: int, index: int, path: Path) -> None:
    u = st.unwrap(c.tsn)
    if d.base is None:
        d.base = u
    rtx = u in st.seen
    n = c.payload_length
    if not rtx:
        st.seen.add(u)
        d.sent[c.sid] = d.sent.get(c.sid, 0) + n
        if st.path != path:
            if st.path is not None:
                d.path_changes.append(PathChange(ts, frame, record, index, c.tsn, st.path, path))
            st.path = path
    d.types.add(c.type)
    if u not in st.outstanding:
        st.outstanding[u] = n
        st.bytes += n
    d.data.append(DataPoint(ts, frame, record, index, c.tsn, u - d.base, c.sid, n, rtx))
    d.flight.append(Sample(ts, st.bytes, frame))


def _sack(d: Direction, st: _State, c, ts: float, frame: int, record: int, index: int) -> None:
    cum = st.unwrap(c.cum_tsn_ack)
    if d.base is None:
        d.base = cum + 1
    gaps = tuple((cum + a - d.base, cum + b - d.base) for a, b in c.gap_blocks if a <= b)
    d.sacks.append(SackPoint(ts, frame, record, index, c.cum_tsn_ack, cum - d.base, gaps, c.a_rwnd,
                             len(c.dup_tsns)))
    d.rwnd.append(Sample(ts, c.a_rwnd, frame))
    out = st.outstanding
    if out:
        blocks = [(cum + a, cum + b) for a, b in c.gap_blocks]
        for u in [u for u in out if u <= cum or any(lo <= u <= hi for lo, hi in blocks)]:
            st.bytes -= out.pop(u)
    d.flight.append(Sample(ts, st.bytes, frame))


def _hb_info(c) -> bytes:
    """The heartbeat info a HEARTBEAT carries and its ACK echoes (RFC 9260 §3.3.5, §3.3.6)."""
    for p in c.params:
        v = getattr(p, "info", None)
        if v is None:
            v = getattr(p, "value", None)
        if v is not None:
            return bytes(v)
    return b""


def _heartbeat(d: Direction, st: _State, c, ts: float, frame: int, path: Path) -> None:
    info = _hb_info(c)
    hb = Heartbeat(path, ts, frame)
    d.heartbeats.append(hb)
    ack = st.early.pop(info, None)
    if ack is not None and ack[0] >= ts:
        hb.ts, hb.frame, hb.record, hb.index = ack
    else:
        st.pending[info] = hb


def _heartbeat_ack(st: _State, c, ts: float, frame: int, record: int, index: int) -> None:
    """A HEARTBEAT ACK for the HEARTBEATs kept in `st` (those of the other side)."""
    info = _hb_info(c)
    hb = st.pending.pop(info, None)
    if hb is None:
        st.early[info] = (ts, frame, record, index)
    else:
        hb.ts, hb.frame, hb.record, hb.index = ts, frame, record, index
