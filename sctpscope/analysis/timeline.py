"""One association's chunks in wire order, for the ladder diagram, and its shutdown or abort flow.

Built on demand from the association's packets decoded again (analysis.indexer.packets_of): one `Step` per
chunk with a short label (`DATA TSN=… SID=… SSN=…`, `SACK cum=… gaps=…`, `INIT os=… mis=…`), its chunk
family (for colours), and a retransmission mark on DATA / I-DATA whose TSN the same side sent before.
Runs of DATA/SACK are grouped so that a view can collapse them. The DATA of each stream is kept as
`DataRef`s for the stream ordering view (analysis.ordering). Labels are terminal-safe.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from sctpscope.analysis.serial import Unwrapper
from sctpscope.decode.sctp import chunk_name
from sctpscope.decode.sctp.chunks import ShortChunk
from sctpscope.text import cause_detail, escape_text

RUN_MIN = 6                 # a run of at least this many DATA/SACK steps is collapsible
MAX_LABEL = 160             # characters of a step's label (the cut ends with …)
MAX_STEPS = 100_000         # steps (ladder rows) kept per timeline; the chunks beyond are counted, not kept
MAX_DATA_REFS = 200_000     # DATA / I-DATA chunks kept for the stream ordering view; beyond: counted

FAMILIES = {
    0: "data", 64: "data", 3: "sack", 16: "sack",
    1: "handshake", 2: "handshake", 10: "handshake", 11: "handshake",
    4: "heartbeat", 5: "heartbeat",
    7: "shutdown", 8: "shutdown", 14: "shutdown",
    6: "abort", 9: "error",
    192: "forward", 194: "forward", 130: "reconfig", 193: "asconf", 128: "asconf",
}
ENDING_TYPES = frozenset((6, 7, 8, 14))


def family(chunk_type: int) -> str:
    return FAMILIES.get(chunk_type, "other")


@dataclass(slots=True)
class Step:
    """One chunk on the wire: frame, time, sender side (0 initiator, 1 responder), its index in the packet."""

    frame: int
    ts: float
    side: int
    index: int
    type: int
    label: str
    family: str
    retransmission: bool = False
    packet_problem: str | None = None
    tsn: int | None = None          # DATA / I-DATA only
    record: int = 0                 # which SCTP packet of the frame (almost always the only one: 0)


@dataclass(slots=True)
class DataRef:
    """One DATA or I-DATA chunk of a stream, as the ordering view needs it."""

    frame: int
    ts: float
    tsn: int
    seq: int              # SSN (DATA) or MID (I-DATA)
    fsn: int              # fragment sequence number (I-DATA), 0 for DATA
    flags: int
    ppid: int | None
    length: int
    idata: bool
    retransmission: bool


@dataclass(slots=True)
class Run:
    """Consecutive DATA/SACK steps [start, end] (indices into Timeline.steps)."""

    start: int
    end: int
    data: tuple[int, int] = (0, 0)        # DATA chunks sent by initiator / responder
    sacks: tuple[int, int] = (0, 0)
    retransmissions: int = 0
    tsn_ranges: tuple = (None, None)      # (first, last) TSN per side

    @property
    def length(self) -> int:
        return self.end - self.start + 1


@dataclass
class Timeline:
    steps: list[Step] = field(default_factory=list)
    runs: list[Run] = field(default_factory=list)
    data: dict[tuple[int, int], list[DataRef]] = field(default_factory=dict)   # (side, sid) -> chunks
    unreadable: int = 0                  # frames that could not be read back or decoded again
    cum_acks: list = field(default_factory=list)     # (step index, side acknowledging, cum TSN ack)
    steps_dropped: int = 0               # chunks beyond MAX_STEPS: not in `steps`
    data_dropped: int = 0                # DATA / I-DATA chunks beyond MAX_DATA_REFS: not in `data`
    data_refs: int = 0

    def first(self, pred) -> int | None:
        return next((i for i, s in enumerate(self.steps) if pred(s)), None)

    def handshake(self) -> int | None:
        return self.first(lambda s: s.type in (1, 2))

    def first_retransmission(self) -> int | None:
        return self.first(lambda s: s.retransmission)

    def ending(self) -> int | None:
        return self.first(lambda s: s.type in ENDING_TYPES)

    def retransmissions(self) -> list[int]:
        return [i for i, s in enumerate(self.steps) if s.retransmission]


def _gaps(blocks) -> str:
    return ",".join(f"{a}-{b}" for a, b in blocks)


def _data_flags(c) -> str:
    f = c.flags
    parts = []
    if f & 4:
        parts.append("U")
    be = f & 3
    if be != 3:
        parts.append({2: "B", 0: "mid", 1: "E"}[be])
    if f & 8:
        parts.append("I")
    return (" " + ",".join(parts)) if parts else ""


def chunk_label(c) -> str:
    """A chunk in one line, as the ladder shows it; packet text (abort reasons) escaped."""
    t = c.type
    name = chunk_name(t)
    if c.__class__ is ShortChunk:
        return f"{name} (cut short)"
    if t == 0:
        return f"DATA TSN={c.tsn} SID={c.sid} SSN={c.ssn}{_data_flags(c)}"
    if t == 64:
        return f"I_DATA TSN={c.tsn} SID={c.sid} MID={c.mid}{'' if c.flags & 2 else f' FSN={c.fsn}'}{_data_flags(c)}"
    if t in (3, 16):
        s = f"{name} cum={c.cum_tsn_ack} a_rwnd={c.a_rwnd}"
        if c.gap_blocks:
            s += f" gaps={_gaps(c.gap_blocks)}"
        if getattr(c, "nr_gap_blocks", None):
            s += f" nr_gaps={_gaps(c.nr_gap_blocks)}"
        if c.dup_tsns:
            s += f" dups={','.join(map(str, c.dup_tsns[:4]))}{'…' if len(c.dup_tsns) > 4 else ''}"
        return s
    if t in (1, 2):
        return f"{name} os={c.outbound_streams} mis={c.inbound_streams} tag=0x{c.initiate_tag:08x} tsn={c.initial_tsn}"
    if t in (6, 9):
        parts = []
        room = MAX_LABEL
        for k, x in enumerate(c.causes):     # only as many causes as the label can show
            if room <= 0:
                parts.append(f"… {len(c.causes) - k} more")
                break
            d = cause_detail(x)
            parts.append(f"{x.name}: {d}" if d else x.name)
            room -= len(parts[-1]) + 2
        s = name + (" T" if t == 6 and c.flags & 1 else "")
        return _cut(escape_text(s + (" (" + "; ".join(parts) + ")" if parts else "")))
    if t == 7:
        return f"SHUTDOWN cum={c.cum_tsn_ack}"
    if t == 14:
        return "SHUTDOWN_COMPLETE" + (" T" if c.flags & 1 else "")
    if t in (192, 194):
        return f"{name} new_cum={c.new_cum_tsn}"
    if t in (12, 13):
        return f"{name} lowest_tsn={c.lowest_tsn}"
    if t in (193, 128):
        return f"{name} serial={c.serial} ({len(c.params)} parameters)"
    if t == 130:
        return _cut(f"{name} ({', '.join(escape_text(p.name) for p in c.params[:40])}"
                    f"{', …' if len(c.params) > 40 else ''})")
    return name


def _cut(label: str) -> str:
    return label if len(label) <= MAX_LABEL else label[:MAX_LABEL - 1] + "…"


def build(packets: Iterable[tuple]) -> Timeline:
    """The timeline of one association from (frame, ts, side, SctpRecord or None[, record index]) in
    capture order (analysis.indexer.packets_of)."""
    tl = Timeline()
    steps = tl.steps
    seen: tuple[set, set] = (set(), set())
    unwrap = (Unwrapper(32), Unwrapper(32))
    for item in packets:
        frame, ts, side, rec = item[:4]
        record = item[4] if len(item) > 4 else 0
        if rec is None:
            tl.unreadable += 1
            if len(steps) >= MAX_STEPS:
                tl.steps_dropped += 1
                continue
            steps.append(Step(frame, ts, side, 0, -1, "(frame not readable again: reassembled from IP fragments?)",
                              "other"))
            continue
        pkt = rec.packet
        problem = None
        if pkt.checksum_status in ("bad", "zero"):
            problem = f"checksum {pkt.checksum_status}"
        elif pkt.problems:
            problem = _cut(escape_text(str(pkt.problems[0])))
        for i, c in enumerate(pkt.chunks):
            t = c.type
            if len(steps) >= MAX_STEPS:
                tl.steps_dropped += 1
                continue
            st = Step(frame, ts, side, i, t, chunk_label(c), family(t), False, problem, None, record)
            if t in (0, 64) and c.__class__ is not ShortChunk:
                st.tsn = c.tsn
                u = unwrap[side](c.tsn)
                if u in seen[side]:
                    st.retransmission = True
                    st.label += " [retransmission]"
                else:
                    seen[side].add(u)
                idata = t == 64
                ref = DataRef(frame, ts, c.tsn, c.mid if idata else c.ssn, c.fsn if idata else 0, c.flags,
                              c.ppid, c.payload_length, idata, st.retransmission)
                if tl.data_refs < MAX_DATA_REFS:
                    tl.data.setdefault((side, c.sid), []).append(ref)
                    tl.data_refs += 1
                else:
                    tl.data_dropped += 1
            elif t in (3, 16, 7) and c.__class__ is not ShortChunk:
                tl.cum_acks.append((len(steps), side, c.cum_tsn_ack))
            steps.append(st)
    tl.runs = find_runs(steps)
    return tl


def find_runs(steps: list[Step], minimum: int = RUN_MIN) -> list[Run]:
    """Maximal stretches of DATA/SACK steps at least `minimum` long, with what they hold."""
    runs = []
    i, n = 0, len(steps)
    while i < n:
        if steps[i].family not in ("data", "sack"):
            i += 1
            continue
        j = i
        while j + 1 < n and steps[j + 1].family in ("data", "sack"):
            j += 1
        if j - i + 1 >= minimum:
            data, sacks, rtx = [0, 0], [0, 0], 0
            lo: list = [None, None]
            hi: list = [None, None]
            for s in steps[i:j + 1]:
                if s.family == "data":
                    data[s.side] += 1
                    rtx += s.retransmission
                    if lo[s.side] is None:
                        lo[s.side] = s.tsn
                    hi[s.side] = s.tsn
                else:
                    sacks[s.side] += 1
            runs.append(Run(i, j, tuple(data), tuple(sacks), rtx,
                            tuple(None if lo[k] is None else (lo[k], hi[k]) for k in (0, 1))))
        i = j + 1
    return runs


# -- the ending -----------------------------------------------------------------------------------------------
@dataclass
class EndingFlow:
    """The SHUTDOWN / ABORT steps alone, from the first one on."""

    steps: list[int] = field(default_factory=list)        # indices into Timeline.steps
    began_by: int | None = None                           # side
    kind: str = "none"                                    # graceful / abort / none
    outstanding: tuple = ((), ())                         # per side: TSNs sent and not cumulatively acked
    during: tuple[int, int] = (0, 0)                      # DATA and SACK chunks after it began


def ending_flow(tl: Timeline) -> EndingFlow:
    """Who began the shutdown or abort, its steps, and the DATA each side still had outstanding then: TSNs
    sent before it began and not covered by the peer's cumulative TSN ack (SACK, or the SHUTDOWN itself;
    RFC 9260 §9.2), serial arithmetic on 32 bits."""
    begin = tl.ending()
    flow = EndingFlow()
    if begin is None:
        return flow
    steps = tl.steps
    flow.began_by = steps[begin].side
    flow.kind = "abort" if steps[begin].type == 6 else "graceful"
    flow.steps = [i for i in range(begin, len(steps)) if steps[i].type in ENDING_TYPES]
    data = sum(1 for s in steps[begin:] if s.family == "data")
    sacks = sum(1 for s in steps[begin:] if s.family == "sack")
    flow.during = (data, sacks)
    # The last cumulative ack each side gave for the other's DATA, up to and including the first step.
    cum = [None, None]          # cum[side]: what `side` acknowledged of the peer's DATA
    for idx, side, c in tl.cum_acks:
        if idx > begin:
            break
        cum[side] = c
    out = []
    for sender in (0, 1):
        acked = cum[1 - sender]
        sent = {s.tsn for s in steps[:begin] if s.side == sender and s.tsn is not None}
        pending = {t for t in sent if acked is None or _after(t, acked)}
        out.append(tuple(sorted(pending, key=lambda t: (t - (acked if acked is not None else 0)) & 0xFFFFFFFF)))
    flow.outstanding = (out[0], out[1])
    return flow


def _after(tsn: int, cum: int) -> bool:
    """tsn > cum in 32-bit serial arithmetic (RFC 1982)."""
    d = (tsn - cum) & 0xFFFFFFFF
    return 0 < d < 0x80000000
