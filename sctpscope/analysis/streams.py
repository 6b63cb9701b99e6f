"""User data of one direction of an association: TSNs, retransmissions, message reassembly, per-stream order.

Messages are reassembled as the receiver would (RFC 9260 §6.9): DATA fragments by the B/E bits over
contiguous TSNs of one stream (unordered ones are not keyed by their meaningless SSN); I-DATA fragments by
(stream, U bit, MID) and FSN (RFC 8260 §2.1). Memory is bounded: pending fragments and remembered TSNs are
capped, and what the caps drop is counted.
"""

from __future__ import annotations

from bisect import bisect_right

from sctpscope.analysis.tally import Tally
from typing import Final, TYPE_CHECKING

from sctpscope.analysis.reliability import AckTracker
from sctpscope.analysis.serial import SeenSet, Unwrapper

if TYPE_CHECKING:
    from sctpscope.decode.sctp.chunks import DataChunk, IDataChunk

MAX_PENDING_FRAGMENTS: Final = 8192   # runs of DATA fragments, I-DATA messages, I-DATA fragments out of order
MAX_MESSAGE_TSNS: Final = 256         # TSNs remembered per I-DATA message being reassembled (I-FORWARD-TSN)
SSN_WINDOW: Final = 1024  # ordered messages remembered per stream for duplicate/late checks
_WINDOW_MASK: Final = (1 << SSN_WINDOW) - 1
MAX_RETX_TRACKED: Final = 65536

FLAG_E: Final = 0x01
FLAG_B: Final = 0x02
FLAG_U: Final = 0x04


# Shared empty maps: a DataFlow holds one of these until it stores its first entry (then its own dict), so
# that the many directions of a big capture that never retransmit nor fragment cost nothing for them. Only
# ever read (or popped from when holding the key, which they never do).
_NO_RETX: dict[int, int] = {}
_NO_RUNS: dict[int, list[int]] = {}
_NO_ENDS: dict[int, int] = {}
_NO_MESSAGES: dict[tuple[int, bool, int], list] = {}


def _same_message(a: list[int], b: list[int]) -> bool:
    """Can two runs of DATA fragments be parts of one message: one stream, one U bit, and (ordered) one SSN?"""
    return a[2] == b[2] and a[4] & FLAG_U == b[4] & FLAG_U and (a[4] & FLAG_U != 0 or a[3] == b[3])


class StreamStats:
    """One stream id in one direction (contract: `streams[]`)."""

    __slots__ = ("sid", "messages", "data_chunks", "bytes", "ordered", "unordered", "fragmented", "ppids",
                 "bits", "first_ssn", "lo", "hi", "seen", "dense", "distinct", "out_of_order", "gaps_before",
                 "resets", "first_frame", "beyond_negotiated", "abandoned_begun")

    def __init__(self, sid: int, bits: int = 16) -> None:
        self.sid = sid
        self.messages = self.data_chunks = self.bytes = 0
        self.ordered = self.unordered = self.fragmented = 0
        self.ppids: Tally = Tally()
        self.bits = bits
        self.first_ssn: int | None = None
        self.lo = 0                      # lowest and highest unwrapped SSN (MID) of this reset epoch (lo: when hi is set)
        self.hi: int | None = None
        self.seen = 0                    # bitmap of SSNs seen within SSN_WINDOW below `hi`...
        self.dense = True                # ...unless every SSN from lo (or the window's start) to hi was seen:
                                         # then `seen` is not kept (the in-order case shifts no big int)
        self.distinct = 0
        self.out_of_order = 0
        self.gaps_before = 0             # gaps of epochs ended by stream resets
        self.resets = 0
        self.first_frame = 0
        self.beyond_negotiated = False
        self.abandoned_begun = 0         # messages begun, then abandoned (FORWARD-TSN / I-FORWARD-TSN)

    def message(self, unordered: bool, ssn: int, ppid: int | None, chunks: int) -> bool:
        """Count a complete message; returns True if it arrived out of order."""
        self.messages += 1
        if chunks > 1:
            self.fragmented += 1
        if ppid is not None:
            self.ppids[ppid] += 1
        if unordered:
            self.unordered += 1
            return False
        self.ordered += 1
        hi = self.hi
        if hi is None:             # first ordered message (of this reset epoch)
            if self.first_ssn is None:
                self.first_ssn = ssn
            self.lo = self.hi = ssn
            self.dense = True
            self.distinct = 1
            return False
        # serial arithmetic relative to the highest SSN (MID) so far (RFC 1982)
        mod = 1 << self.bits
        delta = (ssn - hi) % mod
        if delta >= mod >> 1:
            delta -= mod
        u = hi + delta
        if u > hi:
            self.hi = u
            self.distinct += 1
            if self.dense:
                if u == hi + 1:
                    return False
                seen = self._materialize(hi)
            else:
                seen = self.seen
            # Bit i of `seen` stands for SSN hi - i: a window of SSN_WINDOW numbers below the highest.
            seen = ((seen << (u - hi)) | 1) & _WINDOW_MASK
            self.seen = seen
            self.dense = seen == _WINDOW_MASK
            return False
        if self.dense:
            self.seen = self._materialize(hi)
        if u < self.lo:
            self.lo = u
        i = hi - u
        if i < SSN_WINDOW:
            bit = 1 << i
            if self.seen & bit:
                return False        # the same message again (not a retransmission: a new TSN)
            self.seen |= bit
        self.distinct += 1
        self.out_of_order += 1
        return True

    def _materialize(self, hi: int) -> int:
        """The bitmap a dense stream stands for: every SSN from lo (or the window's start) to hi seen."""
        self.dense = False
        return (1 << min(hi - self.lo + 1, SSN_WINDOW)) - 1

    def reset(self) -> None:
        """A RE-CONFIG stream reset (RFC 6525): sequence numbers start again at 0."""
        self.gaps_before = self.ssn_gaps()      # which already holds the gaps of earlier epochs
        self.resets += 1
        self.lo = 0
        self.hi = None
        self.seen = 0
        self.dense = True
        self.distinct = 0

    def ssn_gaps(self) -> int:
        hi = self.hi
        if hi is None:
            return self.gaps_before
        return self.gaps_before + max(0, hi - self.lo + 1 - self.distinct)

    def last_ssn(self) -> int | None:
        return None if self.hi is None else self.hi % (1 << self.bits)

    def as_dict(self, direction: str, waiting: int = 0) -> dict:
        """The contract record; `waiting`: messages begun whose fragments are still waiting at the end."""
        return {"direction": direction, "sid": self.sid, "messages": self.messages,
                "data_chunks": self.data_chunks, "bytes": self.bytes, "ordered": self.ordered,
                "unordered": self.unordered, "fragmented_messages": self.fragmented,
                "ppids": {str(k): v for k, v in sorted(self.ppids.items())},
                "first_ssn": self.first_ssn, "last_ssn": self.last_ssn(), "ssn_gaps": self.ssn_gaps(),
                "out_of_order": self.out_of_order, "incomplete_messages": self.abandoned_begun + waiting,
                "resets": self.resets, "beyond_negotiated": self.beyond_negotiated}


class DataFlow:
    """All user data sent by one endpoint of an association."""

    __slots__ = ("unwrap", "tsns", "streams", "data_chunks", "retransmissions", "retx_count", "pending",
                 "pending_ends", "ipending", "iahead", "fragments_dropped", "abandoned", "highest_tsn", "idata",
                 "acks", "cut_short")

    def __init__(self) -> None:
        self.unwrap = Unwrapper(32)
        self.tsns = SeenSet()
        self.streams: dict[int, StreamStats] = {}
        self.data_chunks = 0
        self.retransmissions = 0
        self.retx_count: dict[int, int] = _NO_RETX
        # DATA fragments waiting for their message, as runs of contiguous TSNs that can be one message (one
        # stream, U bit and, ordered, SSN; no E before the last, no B after the first), whatever their length:
        # first unwrapped TSN -> [first TSN, last TSN, sid, ssn, first's flags, last's flags, ppid, fragments,
        # bytes]; and last TSN -> first TSN. A fragment joins its neighbours' runs in O(1).
        self.pending: dict[int, list[int]] = _NO_RUNS
        self.pending_ends: dict[int, int] = _NO_ENDS
        # I-DATA messages being reassembled: (sid, unordered, mid) -> [ppid, fragments from FSN 0 on without a
        # hole, their bytes, {fsn: length} of those beyond a hole, last fsn, chunks, TSNs (at most
        # MAX_MESSAGE_TSNS), highest TSN]
        self.ipending: dict[tuple[int, bool, int], list] = _NO_MESSAGES
        self.iahead = 0                 # fragments held beyond a hole, all I-DATA messages together
        #: messages the last FORWARD-TSN / I-FORWARD-TSN abandoned after their first fragment had been sent:
        #: (sid, ssn or mid, unordered, fragments from the first on without a hole, their bytes)
        self.cut_short: list[tuple[int, int, bool, int, int]] = []
        self.fragments_dropped = 0
        self.abandoned = 0
        self.highest_tsn: int | None = None
        self.idata = False
        self.acks = AckTracker()

    def stream(self, sid: int, frame: int) -> StreamStats:
        st = self.streams.get(sid)
        if st is None:
            st = self.streams[sid] = StreamStats(sid, 32 if self.idata else 16)
            st.first_frame = frame
        return st

    def _tsn(self, tsn: int) -> tuple[int, bool, int]:
        """Unwrap a TSN and record it: (unwrapped, seen before, times sent so far)."""
        u = self.unwrap(tsn)
        if self.highest_tsn is None or u > self.highest_tsn:
            self.highest_tsn = u
        if not self.tsns.add(u):
            return u, False, 1
        self.retransmissions += 1
        n = self.retx_count.get(u, 1) + 1
        if len(self.retx_count) < MAX_RETX_TRACKED or u in self.retx_count:
            if self.retx_count is _NO_RETX:
                self.retx_count = {}
            self.retx_count[u] = n
        return u, True, n

    def _accept(self, tsn: int) -> tuple[int, int]:
        """Record a chunk's TSN: (unwrapped TSN, times sent); a retransmission is kept out of the RTTs."""
        u, dup, n = self._tsn(tsn)
        if dup:
            self.acks.retransmitted(u)
        return u, n

    def data(self, c: DataChunk, frame: int, ts: float) -> tuple[StreamStats, int, bool, bool]:
        """A DATA chunk: returns (stream, times this TSN was sent, message completed out of order?, new?)."""
        st = self.streams.get(c.sid)
        if st is None:
            st = self.stream(c.sid, frame)
        st.data_chunks += 1
        self.data_chunks += 1
        tsn = c.tsn
        seen = self.tsns
        floor = seen.floor
        if floor is not None and floor == self.highest_tsn and (tsn - floor) & 0xFFFFFFFF == 1:
            # The common case, inlined: the next TSN in order, nothing outstanding before it.
            u = seen.floor = self.highest_tsn = self.unwrap.last = floor + 1
        else:
            u, n = self._accept(c.tsn)
            if n > 1:
                return st, n, False, False
        self.acks.sent(u, ts)
        st.bytes += c.payload_length
        flags = c.flags
        if flags & 3 == 3:          # B and E: a whole message in one chunk
            return st, 1, st.message(bool(flags & FLAG_U), c.ssn, c.ppid, 1), True
        late = self._assemble([u, u, c.sid, c.ssn, flags, flags, c.ppid, 1, c.payload_length], st)
        if len(self.pending) > MAX_PENDING_FRAGMENTS:
            for t in sorted(self.pending)[: MAX_PENDING_FRAGMENTS // 4]:
                run = self.pending.pop(t)
                self.pending_ends.pop(run[1], None)
                self.fragments_dropped += run[7]
        return st, 1, late, True

    def _assemble(self, run: list[int], st: StreamStats) -> bool:
        """Join the fragment `run` (one fragment) to the runs just before and after it; if that completes a
        message (B ... E), count it and forget it, else keep the run. O(1) whatever the runs' lengths."""
        pending = self.pending
        ends = self.pending_ends
        u = run[0]
        if u in pending or u in ends:
            self.fragments_dropped += 1     # a TSN already waiting (the memory of TSNs seen overflowed)
            return False
        if not run[4] & FLAG_B:
            lo = ends.get(u - 1)
            prev = pending.get(lo) if lo is not None else None
            if prev is not None and not prev[5] & FLAG_E and _same_message(prev, run):
                del pending[prev[0]]
                del ends[u - 1]
                prev[1], prev[5] = run[1], run[5]
                prev[7] += run[7]
                prev[8] += run[8]
                run = prev
        if not run[5] & FLAG_E:
            nxt = pending.get(run[1] + 1)
            if (nxt is not None and not nxt[4] & FLAG_B and ends.get(nxt[1]) == nxt[0]
                    and _same_message(run, nxt)):
                del pending[nxt[0]]
                del ends[nxt[1]]
                run[1], run[5] = nxt[1], nxt[5]
                run[7] += nxt[7]
                run[8] += nxt[8]
        if run[4] & FLAG_B and run[5] & FLAG_E:
            return st.message(bool(run[4] & FLAG_U), run[3], run[6], run[7])
        if pending is _NO_RUNS:
            pending = self.pending = {}
            ends = self.pending_ends = {}
        pending[run[0]] = run
        ends[run[1]] = run[0]
        return False

    def idata_chunk(self, c: IDataChunk, frame: int, ts: float) -> tuple[StreamStats, int, bool, bool]:
        """An I-DATA chunk (RFC 8260): reassembly by (sid, U, MID) and FSN."""
        self.idata = True
        st = self.stream(c.sid, frame)
        st.data_chunks += 1
        self.data_chunks += 1
        u, n = self._accept(c.tsn)
        if n > 1:
            return st, n, False, False
        self.acks.sent(u, ts)
        st.bytes += c.payload_length
        flags = c.flags
        unordered = bool(flags & FLAG_U)
        if flags & (FLAG_B | FLAG_E) == FLAG_B | FLAG_E:
            return st, 1, st.message(unordered, c.mid, c.ppid, 1), True
        key = (c.sid, unordered, c.mid)
        m = self.ipending.get(key)
        if m is None:
            if len(self.ipending) >= MAX_PENDING_FRAGMENTS:
                old = self.ipending.pop(next(iter(self.ipending)))
                self.fragments_dropped += old[1] + len(old[3])
                self.iahead -= len(old[3])
            if self.ipending is _NO_MESSAGES:
                self.ipending = {}
            m = self.ipending[key] = [None, 0, 0, {}, None, 0, set(), u]
        fsn = 0 if flags & FLAG_B else c.fsn
        if flags & FLAG_B:
            m[0] = c.ppid
        if flags & FLAG_E:
            m[4] = fsn
        m[5] += 1
        if len(m[6]) < MAX_MESSAGE_TSNS:
            m[6].add(u)
        if u > m[7]:
            m[7] = u
        ahead: dict[int, int] = m[3]
        run: int = m[1]
        if fsn == run:              # the next fragment without a hole, and those held beyond it
            run += 1
            m[2] += c.payload_length
            while run in ahead:
                m[2] += ahead.pop(run)
                self.iahead -= 1
                run += 1
            m[1] = run
        elif fsn > run and fsn not in ahead:
            if self.iahead < MAX_PENDING_FRAGMENTS:
                ahead[fsn] = c.payload_length
                self.iahead += 1
            else:
                self.fragments_dropped += 1
        if m[4] is not None and run == m[4] + 1:
            self.iahead -= len(ahead)
            del self.ipending[key]
            return st, 1, st.message(unordered, c.mid, m[0], m[5]), True
        return st, 1, False, True

    def forward_tsn(self, new_cum_tsn: int, open_ends: set[int] | None = None,
                    counted: set[int] | None = None) -> int:
        """FORWARD-TSN (RFC 3758): what the receiver has not acknowledged up to new_cum_tsn is abandoned.
        Returns how many messages were: those with fragments waiting; each chunk sent and never acknowledged
        (cumulatively: a message whose fragments all went out counts once per fragment); one per run of TSNs
        never seen, unless the run continues a message cut short. `open_ends`: TSNs that would continue such
        a message, and `counted`: TSNs of messages already counted (both from I-FORWARD-TSN). Abandoned
        chunks leave the round-trip times: the receiver's next SACK covers them without their having come."""
        u = self.unwrap(new_cum_tsn)
        pending = self.pending
        ends_of = self.pending_ends
        # the runs of waiting fragments the new cumulative TSN passes (in whole or their first part)
        dropped = sorted(t for t in pending if t <= u)
        starts = dropped
        stops = [min(pending[t][1], u) for t in dropped]
        out = self.acks.outstanding
        karn = self.acks.karn
        unacked = 0
        while out and out[0][0] <= u:
            t = out.popleft()[0]
            if karn is not None:
                karn.discard(t)
            i = bisect_right(starts, t) - 1
            if not (i >= 0 and t <= stops[i]) and (counted is None or t not in counted):
                unacked += 1
        self.cut_short = []
        ends = set(open_ends) if open_ends else set()
        messages = unacked
        for t in dropped:
            run = pending.pop(t)
            ends_of.pop(run[1], None)
            if run[1] > u:          # the fragments after the new cumulative TSN keep waiting
                keep = run[1] - u
                size = run[8] * keep // run[7] if run[7] else 0     # bytes are kept per run, not per fragment
                rest = [u + 1, run[1], run[2], run[3], run[4] & FLAG_U, run[5], run[6], keep, size]
                pending[u + 1] = rest
                ends_of[run[1]] = u + 1
                run[1], run[5] = u, run[4] & FLAG_U
                run[7] -= keep
                run[8] -= size
            messages += 1           # the first of this message's waiting fragments
            if not run[5] & FLAG_E and run[1] + 1 not in pending:
                ends.add(run[1] + 1)
            if run[4] & FLAG_B:     # the first fragment: the run of the message's fragments that follows it
                self.cut_short.append((run[2], run[3], bool(run[4] & FLAG_U), run[7], run[8]))
        seen = self.tsns
        floor = seen.floor
        if floor is not None and u > floor:
            # every TSN up to u counts as seen; each run of TSNs never seen that does not continue a message
            # was one more message. O(TSNs remembered above the floor), whatever the jump.
            passed = sorted(x for x in seen.above if x <= u)
            t = floor + 1
            for x in passed:
                if x > t and t not in ends:
                    messages += 1
                t = x + 1
            if t <= u and t not in ends:
                messages += 1
            if passed:
                seen.above.difference_update(passed)
            while u + 1 in seen.above:
                u += 1
                seen.above.discard(u)
            seen.floor = u
        self.abandoned += messages
        return messages

    def i_forward_tsn(self, new_cum_tsn: int, entries) -> int:
        """I-FORWARD-TSN (RFC 8260 §2.3): abandon I-DATA messages up to the MIDs listed per stream."""
        gone: list[tuple[int, bool, int]] = []
        ends: set[int] = set()
        counted: set[int] = set()
        cut: list[tuple[int, int, bool, int, int]] = []
        by_stream: dict[tuple[int, bool], list[tuple[int, bool, int]]] = {}
        for k in self.ipending:         # once per chunk: O(messages waiting), not O(entries x messages)
            by_stream.setdefault((k[0], k[1]), []).append(k)
        for sid, unordered, mid in entries:
            keys = by_stream.pop((sid, bool(unordered)), None)      # entries may repeat: each message once
            if not keys:
                continue
            for key in keys:
                if (mid - key[2]) % (1 << 32) >= (1 << 31):
                    by_stream.setdefault((sid, bool(unordered)), []).append(key)   # a later MID: stays
                    continue
                m = self.ipending[key]
                run = m[1]              # fragments from the first on without a hole
                if run:
                    cut.append((sid, key[2], bool(unordered), run, m[2]))
                if m[4] is None:
                    ends.add(m[7] + 1)
                counted.update(m[6])
                gone.append(key)
        for key in gone:
            self.iahead -= len(self.ipending.pop(key)[3])
        n = self.forward_tsn(new_cum_tsn, ends, counted) + len(gone)
        self.abandoned += len(gone)
        self.cut_short = cut + self.cut_short
        return n

    def near(self, tsn: int) -> int | None:
        """A TSN from the peer (a cumulative ack) unwrapped near this direction's highest TSN, if any."""
        hi = self.highest_tsn
        if hi is None:
            return None
        delta = (tsn - hi) & 0xFFFFFFFF
        if delta >= 0x80000000:
            delta -= 0x100000000
        return hi + delta

    def waiting_by_stream(self) -> dict[int, int]:
        """Per stream, the messages begun (B bit, FSN 0) whose fragments are still waiting."""
        out: dict[int, int] = {}
        for v in self.pending.values():
            if v[4] & FLAG_B:
                out[v[2]] = out.get(v[2], 0) + 1
        for key, m in self.ipending.items():
            if m[1]:                    # fragments from FSN 0 on
                out[key[0]] = out.get(key[0], 0) + 1
        return out

    def incomplete_messages(self) -> int:
        """Fragments still waiting at the end of the capture (messages never completed)."""
        return len(self.ipending) + sum(1 for v in self.pending.values() if v[4] & FLAG_B)

    def tsn_gaps(self) -> int:
        return self.tsns.missing()
