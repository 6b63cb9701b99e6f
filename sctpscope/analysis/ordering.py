"""One stream's messages in arrival order, with what an ordered receiver would do with them.

From a stream's DATA / I-DATA chunks in capture order (analysis.timeline.DataRef), messages are reassembled
as the receiver does (RFC 9260 §6.9: DATA fragments by B/E bits over consecutive TSNs of one stream and SSN;
RFC 8260 §2.1: I-DATA by MID and FSN); a TSN seen before is a retransmission and adds nothing. For each
ordered message the view needs:

- `missing_before`: the SSNs (MIDs) skipped when it arrived (a gap: those were never seen until then);
- `late`: it arrived after a higher SSN (out of order), filling a gap;
- `delivered`: when an ordered receiver could hand it up (RFC 9260 §6.6): at once if every lower SSN had
  arrived, else when the last missing one did; None when a missing one never arrived. The wait between
  arrival and delivery is head-of-line blocking, and `blocked_by` names the SSN it waited for.

Unordered messages are delivered on arrival (RFC 9260 §6.6) and take no part in the SSN order.

A stream reset (RFC 6525) starts the sender's SSNs on the stream again at 0. It is performed when the peer
answers the Outgoing SSN Reset Request (or an SSN/TSN Reset Request, every stream both ways) with the
RE-CONFIG result "Success - Performed" (§5.2.2, §5.2.4): `Resets` collects those answers from the
association's packets, and `stream_order` starts the SSN expectations afresh at each one (a `Reset` marks
the point among the messages), so the SSNs again from 0 are neither a gap nor late. The old SSNs a receiver
still waited for then never come. `missing` counts, reset by reset, the SSNs between the lowest and the
highest seen that never arrived: the report's `ssn_gaps` (analysis.streams), as `late` is its `out_of_order`.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field

FLAG_E, FLAG_B, FLAG_U = 0x01, 0x02, 0x04
RE_CONFIG = 130
P_OUT_RESET, P_SSN_TSN_RESET, P_RESPONSE = 13, 15, 16      # RFC 6525 §4 parameter types
PERFORMED, IN_PROGRESS = 1, 6                               # RFC 6525 §4.4 results


@dataclass(slots=True)
class Message:
    """One reassembled message of a stream."""

    arrival: int                      # 0, 1, 2, ... in order of completion
    seq: int                          # SSN (DATA) or MID (I-DATA)
    unordered: bool
    tsn_first: int
    tsn_last: int
    frame_first: int
    frame_last: int
    first_ts: float
    ts: float                         # when its last fragment arrived
    chunks: int
    bytes: int
    ppid: int | None
    retransmitted: bool = False       # a fragment of it was sent more than once
    missing_before: tuple[int, int] | None = None   # (first, last) SSN skipped when it arrived
    late: bool = False
    delivered: float | None = None
    blocked_by: int | None = None     # the SSN it waited for (head-of-line blocking)

    @property
    def wait(self) -> float | None:
        """Seconds between arrival and ordered delivery (0 when delivered at once; None: never)."""
        return None if self.delivered is None else self.delivered - self.ts


@dataclass(frozen=True, slots=True)
class Reset:
    """A stream reset performed: the SSNs of the streams it names (every one when none) start again at 0."""

    frame: int                        # the RE-CONFIG response "Success - Performed"
    ts: float
    request_frame: int                # the request it answers (its last copy, when it was sent again)
    req_seq: int                      # the request's Re-configuration Request Sequence Number
    sids: tuple[int, ...]             # empty: every stream
    ssn_tsn: bool = False             # an SSN/TSN Reset Request: every stream both ways, and the TSNs

    def covers(self, sid: int) -> bool:
        return not self.sids or sid in self.sids


class Resets:
    """The stream resets performed in one association, from its packets in capture order.

    A request is remembered by (sender, request sequence number), its latest copy winning (a request is sent
    again while the answer is "In progress"); the peer's response with that number and "Success - Performed"
    performs it; any other result (denied, errors, nothing to do) drops it.
    """

    def __init__(self) -> None:
        self.requests: dict[tuple[int, int], tuple[int, tuple[int, ...], bool]] = {}
        self.done: list[tuple[int | None, Reset]] = []   # (side whose outgoing SSNs restart, None: both)

    def watch(self, packets: Iterable[tuple]) -> Iterator[tuple]:
        """The (frame, ts, side, record, ...) items of analysis.indexer.packets_of, passed on unchanged."""
        for item in packets:
            if item[3] is not None:
                self.packet(item[0], item[1], item[2], item[3])
            yield item

    def packet(self, frame: int, ts: float, side: int, rec) -> None:
        for c in rec.packet.chunks:
            if c.type != RE_CONFIG:
                continue
            for p in getattr(c, "params", ()):
                if p.type in (P_OUT_RESET, P_SSN_TSN_RESET) and hasattr(p, "req_seq"):
                    self.requests[(side, p.req_seq)] = (frame, tuple(getattr(p, "sids", ())),
                                                        p.type == P_SSN_TSN_RESET)
                elif p.type == P_RESPONSE and getattr(p, "result", IN_PROGRESS) != IN_PROGRESS:
                    req = self.requests.pop((1 - side, p.resp_seq), None)
                    if req is not None and p.result == PERFORMED:
                        asked, sids, both = req
                        self.done.append((None if both else 1 - side,
                                          Reset(frame, ts, asked, p.resp_seq, () if both else sids, both)))

    def of(self, side: int, sid: int) -> list[Reset]:
        """The resets of stream `sid` sent by `side` (0 initiator, 1 responder), in capture order."""
        return [r for s, r in self.done if (s is None or s == side) and r.covers(sid)]


@dataclass
class StreamOrder:
    messages: list[Message] = field(default_factory=list)
    retransmissions: int = 0
    incomplete: int = 0                 # messages still missing fragments at the end
    resets: list[tuple[int, Reset]] = field(default_factory=list)   # (messages before it, the reset)
    missing: int = 0                    # SSNs never seen between the lowest and highest, reset by reset

    @property
    def gaps(self) -> int:
        """Messages that came after a gap (a gap filled later counts too; `missing`: never filled)."""
        return sum(1 for m in self.messages if m.missing_before)

    @property
    def late(self) -> int:
        return sum(1 for m in self.messages if m.late)

    @property
    def blocked(self) -> int:
        """Ordered messages that had to wait for an earlier one (or still wait at the end)."""
        return sum(1 for m in self.messages if not m.unordered and (m.delivered is None or m.delivered > m.ts))

    def rows(self) -> list[Message | Reset]:
        """The messages in arrival order with each reset at its place (a view's rows)."""
        out: list[Message | Reset] = []
        at = 0
        for before, r in self.resets:
            out += self.messages[at:before]
            out.append(r)
            at = before
        return out + self.messages[at:]


def _serial(a: int, b: int, bits: int) -> int:
    """a - b in serial arithmetic of `bits` bits (RFC 1982), as a signed number."""
    mod = 1 << bits
    d = (a - b) % mod
    return d - mod if d >= mod >> 1 else d


def stream_order(refs: Iterable, resets: Iterable[Reset] = ()) -> StreamOrder:
    """Messages of one stream in one direction from its DataRefs in capture order, with the stream's resets
    (Resets.of), each placed before the DATA of its own frame (the new SSNs can only follow the response)."""
    out = StreamOrder()
    refs = list(refs)
    todo = sorted(resets, key=lambda x: x.frame)
    if not refs:
        out.resets = [(0, x) for x in todo]
        return out
    idata = refs[0].idata
    bits = 32 if idata else 16
    seen_tsn: set[int] = set()
    rtx: set[int] = set()           # TSNs sent more than once
    by_tsn: dict[int, Message] = {}
    pending: dict = {}              # DATA: tsn -> ref; I-DATA: (U, mid) -> {fsn: ref}
    k = 0
    for r in refs:
        while k < len(todo) and todo[k].frame <= r.frame:
            out.resets.append((len(out.messages), todo[k]))
            k += 1
        if r.retransmission or r.tsn in seen_tsn:
            out.retransmissions += 1
            rtx.add(r.tsn)
            done = by_tsn.get(r.tsn)
            if done is not None:
                done.retransmitted = True
            continue
        seen_tsn.add(r.tsn)
        if r.flags & 3 == 3:
            _complete(out, [r], by_tsn, rtx)
        elif idata:
            key = (bool(r.flags & FLAG_U), r.seq)
            frags = pending.setdefault(key, {})
            frags[0 if r.flags & FLAG_B else r.fsn] = r
            last = next((f for f, x in frags.items() if x.flags & FLAG_E), None)
            if last is not None and 0 in frags and len(frags) == last + 1:
                del pending[key]
                _complete(out, [frags[i] for i in range(last + 1)], by_tsn, rtx)
        else:
            pending[r.tsn] = r
            chain = _data_chain(pending, r.tsn)
            if chain:
                for x in chain:
                    del pending[x.tsn]
                _complete(out, chain, by_tsn, rtx)
    out.resets += [(len(out.messages), x) for x in todo[k:]]
    out.incomplete = len(pending) if idata else sum(1 for x in pending.values() if x.flags & FLAG_B)
    at = 0
    for before, _ in out.resets:        # each reset starts the SSNs again
        out.missing += _order(out.messages[at:before], bits)
        at = before
    out.missing += _order(out.messages[at:], bits)
    return out


def _data_chain(pending: dict, tsn: int) -> list | None:
    """The fragments of a DATA message around TSN `tsn`, if all are there (B ... E over consecutive TSNs,
    same U bit and, when ordered, the same SSN)."""
    r = pending[tsn]
    u = r.flags & FLAG_U

    def same(x) -> bool:
        return x.flags & FLAG_U == u and (u or x.seq == r.seq)

    lo = tsn
    while not pending[lo].flags & FLAG_B:
        prev = pending.get((lo - 1) & 0xFFFFFFFF)
        if prev is None or not same(prev) or prev.flags & FLAG_E:
            return None
        lo = (lo - 1) & 0xFFFFFFFF
    hi = tsn
    while not pending[hi].flags & FLAG_E:
        nxt = pending.get((hi + 1) & 0xFFFFFFFF)
        if nxt is None or not same(nxt) or nxt.flags & FLAG_B:
            return None
        hi = (hi + 1) & 0xFFFFFFFF
    chain, t = [], lo
    while True:
        chain.append(pending[t])
        if t == hi:
            return chain
        t = (t + 1) & 0xFFFFFFFF


def _complete(out: StreamOrder, frags: list, by_tsn: dict, rtx: set) -> None:
    first, last = frags[0], frags[-1]
    latest = max(frags, key=lambda x: (x.ts, x.frame))
    m = Message(len(out.messages), first.seq, bool(first.flags & FLAG_U), first.tsn, last.tsn,
                min(x.frame for x in frags), latest.frame, min(x.ts for x in frags), latest.ts, len(frags),
                sum(x.length for x in frags), first.ppid)
    m.retransmitted = any(x.tsn in rtx for x in frags)
    out.messages.append(m)
    for x in frags:
        by_tsn[x.tsn] = m


def _order(messages: list[Message], bits: int) -> int:
    """Gaps, late arrivals and ordered delivery times of the ordered messages, in arrival order; returns how
    many SSNs between the lowest and the highest never arrived."""
    highest = None
    arrived: set[int] = set()       # unwrapped SSNs
    buffered: dict[int, Message] = {}
    next_ssn = None                 # the next SSN an ordered receiver delivers (unwrapped)
    for m in messages:
        if m.unordered:
            m.delivered = m.ts
            continue
        u = m.seq if highest is None else highest + _serial(m.seq, highest % (1 << bits), bits)
        if highest is None:
            highest = next_ssn = u
        elif u > highest:
            if u > highest + 1:
                m.missing_before = ((highest + 1) % (1 << bits), (u - 1) % (1 << bits))
            highest = u
        elif u not in arrived:
            m.late = True
        arrived.add(u)
        if u < next_ssn:                # a duplicate SSN below the delivery point: nothing waits for it
            m.delivered = m.ts
            continue
        if u != next_ssn:
            m.blocked_by = next_ssn % (1 << bits)      # the first SSN it waits for
        buffered[u] = m
        while next_ssn in buffered:
            buffered.pop(next_ssn).delivered = m.ts
            next_ssn += 1
    return 0 if highest is None else highest - min(arrived) + 1 - len(arrived)
