"""Time series of one association for graphs: per direction of DATA, the TSN of every DATA / I-DATA chunk,
the peer's SACK cumulative ack and gap blocks (Wireshark's TSN graph), the peer's advertised a_rwnd and the
bytes in flight.

Built on demand from the association's packets decoded again (analysis.indexer.packets_of), like
analysis.timeline: `build(packets)` takes (frame, ts, side, SctpRecord or None[, record index]) in capture
order. TSNs are unwrapped (RFC 1982, 32 bits) and also given relative to the direction's base: the initial
TSN of the sender's INIT / INIT ACK when the capture has it, else the first TSN seen. A DATA chunk whose TSN
the same side sent before is a retransmission (as the timeline marks it). Bytes in flight are the user-data
bytes of TSNs sent and neither cumulatively acked nor covered by a gap block (RFC 9260 §6.2.1; a gap block
acknowledges only until a later SACK renegs it, which this ignores), after every DATA or SACK.
No Textual here.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from sctpscope.analysis.serial import Unwrapper
from sctpscope.decode.sctp.chunks import ShortChunk

DATA_TYPES = (0, 64)          # DATA, I-DATA
SACK_TYPES = (3, 16)          # SACK, NR-SACK
INIT_TYPES = (1, 2)           # INIT, INIT ACK


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


@dataclass
class Direction:
    """DATA sent by `side` (0 initiator, 1 responder) and what its peer said about it."""

    side: int
    base: int | None = None                   # unwrapped TSN that `rel` counts from
    data: list[DataPoint] = field(default_factory=list)
    sacks: list[SackPoint] = field(default_factory=list)
    rwnd: list[Sample] = field(default_factory=list)      # a_rwnd the peer advertised (INIT / INIT ACK, SACK)
    flight: list[Sample] = field(default_factory=list)    # bytes in flight after each DATA / SACK

    @property
    def retransmissions(self) -> list[int]:
        """Indices into `data` of the retransmitted chunks."""
        return [i for i, d in enumerate(self.data) if d.retransmission]


@dataclass
class Series:
    directions: tuple[Direction, Direction]
    unreadable: int = 0                       # frames that could not be read back or decoded again
    start: float | None = None                # time of the first packet
    end: float | None = None                  # time of the last packet


class _State:
    __slots__ = ("unwrap", "seen", "outstanding", "initial", "bytes")

    def __init__(self) -> None:
        self.unwrap = Unwrapper(32)
        self.seen: set[int] = set()
        self.outstanding: dict[int, int] = {}     # unwrapped TSN -> bytes
        self.initial: int | None = None           # initial TSN (INIT / INIT ACK), as on the wire
        self.bytes = 0                            # sum of outstanding


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
        if series.start is None:
            series.start = ts
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
                _data(dirs[side], states[side], c, ts, frame, record, i)
            elif t in SACK_TYPES:
                _sack(dirs[1 - side], states[1 - side], c, ts, frame, record, i)


def build(packets: Iterable[tuple]) -> Series:
    """The series of one association (see the module doc)."""
    b = Builder()
    for item in packets:
        b.add(item)
    return b.series


def _data(d: Direction, st: _State, c, ts: float, frame: int, record: int, index: int) -> None:
    u = st.unwrap(c.tsn)
    if d.base is None:
        d.base = u
    rtx = u in st.seen
    if not rtx:
        st.seen.add(u)
    n = c.payload_length
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
