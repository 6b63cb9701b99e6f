"""A large association browsed in bounded memory: a compact index built by one scan, packets decoded on demand.

Opening an association with millions of packets cannot keep a Step per chunk, a Message per user message
and a point per DATA (about 1.5 KB a packet). `AssocIndex.scan` reads the association's packets once, in a
worker, and keeps only arrays:

* per packet: its time (8 bytes) and the index of its first chunk (4 bytes), beside the association's frame
  entries the indexer already keeps (8 bytes);
* per chunk: its type and a flags byte (side, retransmission): 2 bytes;
* per DATA / I-DATA chunk: packet, chunk index, stream, TSN, SSN/MID, flags, PPID, length (26 bytes), so that
  the ordering view of a stream is built without decoding again;
* per folded DATA/SACK run, per retransmission, per user message (follow: 26 bytes) a few bytes more;
* the graphs' series decimated per time column (M4: first, last, lowest and highest point of each of
  `COLUMNS` columns of the association's duration), plus every retransmission and heartbeat.

`LazyTimeline` has the interface of analysis.timeline.Timeline (steps, runs, data, the jumps); a step is
built when it is asked for, from its packet decoded again through `PacketCache` (windows of WINDOW packets,
an LRU of WINDOWS windows). `FoldedRows` maps the ladder's rows (steps and folded runs) to steps and back by
arithmetic on the runs, without a list of rows. `LazyMessages` gives analysis.follow Messages one at a time,
their bytes reassembled again from their own packets.

A growing association (opened while indexing or during a live capture) is scanned on as its frames arrive
(`scan` again with the longer entries): what was scanned is kept, nothing else is.
No Textual here.
"""

from __future__ import annotations

import bisect
import itertools
import math
import time
from array import array
from collections import OrderedDict
from collections.abc import Callable, Sequence

from sctpscope.analysis import series as S
from sctpscope.analysis.follow import Follower, Message
from sctpscope.analysis.indexer import unpack_entry
from sctpscope.analysis.serial import SeenSet, Unwrapper
from sctpscope.analysis.timeline import (ENDING_TYPES, RUN_MIN, DataRef, EndingFlow, Run, Step, chunk_label,
                                         family)
from sctpscope.decode.sctp.chunks import ShortChunk
from sctpscope.text import escape_text

WINDOW = 64             # packets decoded together
WINDOWS = 32            # windows kept (LRU)
COLUMNS = 4096          # time columns of the decimated graph series
F_SIDE, F_RTX, F_BAD = 1, 2, 4          # step flags
UNREADABLE = 255                         # step type of a frame that could not be read back
SEEN_CAP = 1 << 16                       # TSNs remembered above the lowest one (retransmission marks)
CKPT = 64                                # packets between two checkpoints of the step count
YIELD = (0.010, 0.004)                   # the scan sleeps this long (s) after this long (s) of work
MAX_BINS = 4 * COLUMNS                   # throughput bins per stream (twice as wide when outgrown)
RECENT = 1 << 13                         # DATA chunks remembered to find a message's first fragment
NO_DATA = 0xFFFFFFFF


def ts_lookup(store) -> Callable[[int], float]:
    """frame number -> its time, from the capture's record index (capture.index) when the store has one,
    else by reading the frame."""
    parts = getattr(store, "parts", None)
    if parts is None and hasattr(store, "ts") and hasattr(store, "first_number"):
        parts = [store]
    if parts is None:
        return lambda n: store.read(n).ts

    def ts(n: int) -> float:
        for k in range(len(parts) - 1, -1, -1):
            part = parts[k]
            if n >= part.first_number:
                i = n - part.first_number
                if i < len(part.ts):
                    return part.ts[i]
                break
        return store.read(n).ts
    return ts
_DATA_FAMILY = frozenset((0, 64, 3, 16))


class PacketCache:
    """Packets of the association decoded again on demand, by their ordinal in the association: windows of
    WINDOW consecutive packets decoded at once, the last WINDOWS windows kept."""

    def __init__(self, entries: Sequence[int], store, decoder) -> None:
        from sctpscope.export.walk import Rereader

        self.entries = entries
        self.reader = Rereader(store, decoder)
        self.windows: OrderedDict[int, list] = OrderedDict()

    def packet(self, k: int) -> tuple:
        """(frame, ts, side, SctpRecord or None, record index, SCTP packet bytes) of packet k."""
        w = k // WINDOW
        win = self.windows.get(w)
        if win is None:
            win = self.windows[w] = [self.decode(e) for e in self.entries[w * WINDOW:(w + 1) * WINDOW]]
            if len(self.windows) > WINDOWS:
                self.windows.popitem(last=False)
        else:
            self.windows.move_to_end(w)
        return win[k - w * WINDOW]

    def decode(self, e: int) -> tuple:
        number, index, side = unpack_entry(e)
        try:
            frame, payloads = self.reader.read(number)
        except (KeyError, OSError, ValueError):
            return number, 0.0, side, None, index, b""
        recs = [(r, b) for r, b in zip(frame.sctp, payloads) if r.packet.header_ok]
        rec, data = recs[index] if index < len(recs) else (None, b"")
        return number, frame.ts, side, rec, index, data

    def clear(self) -> None:
        self.windows.clear()


# -- the graphs' series, decimated per time column (M4) ---------------------------------------------------------
class M4List(list):
    """A list of series points that keeps, per time column, the first, last, lowest and highest point (M4), and
    every retransmission; `value` gives a point's value."""

    def __init__(self, origin: float, width: float, value: Callable) -> None:
        super().__init__()
        self.origin, self.width, self.value = origin, width, value
        self.col = None
        self.cur: list = []          # the current column's points: first, low, high, last (may repeat)
        self.total = 0               # points appended

    def append(self, p) -> None:  # type: ignore[override]
        self.total += 1
        if not getattr(p, "retransmission", False):
            col = math.floor((p.ts - self.origin) / self.width)
            if col != self.col and col >= 2 * COLUMNS:   # a growing association outgrew the columns
                self._flush()
                self._coarsen()
        self._add(p)

    def _coarsen(self) -> None:
        self.width *= 2
        old = list(self)
        self.clear()
        self.col, self.cur = None, []
        for p in old:
            self._add(p)
        self._flush()

    def _add(self, p) -> None:
        if getattr(p, "retransmission", False):
            self._flush()
            list.append(self, p)
            return
        col = math.floor((p.ts - self.origin) / self.width)
        if col != self.col:
            self._flush()
            self.col = col
            self.cur = [p, p, p, p]
            return
        cur, v = self.cur, self.value(p)
        if v < self.value(cur[1]):
            cur[1] = p
        if v > self.value(cur[2]):
            cur[2] = p
        cur[3] = p

    def _flush(self) -> None:
        if self.cur:
            seen = set()
            for p in sorted(self.cur, key=lambda q: (q.ts, q.frame)):
                if id(p) not in seen:
                    seen.add(id(p))
                    super().append(p)
            self.cur = []
            self.col = None

    def done(self) -> None:
        self._flush()


class Histogram:
    """User-data bytes of first transmissions per stream and fine time bin, in dense arrays (bins of
    `width` seconds from `origin`): the throughput graph's buckets are sums of bins (a bin on a bucket's edge
    counts in the bucket its start is in); each bucket opens the last DATA of its last bin."""

    def __init__(self, origin: float, width: float) -> None:
        self.origin, self.width = origin, width
        self.bins: dict[int, tuple[array, array, array, array, array]] = {}   # sid -> per bin columns

    def add(self, p) -> None:
        k = max(0, math.floor((p.ts - self.origin) / self.width))
        got = self.bins.get(p.sid)
        if got is None:
            got = self.bins[p.sid] = (array("Q"), array("I"), array("Q"), array("I"), array("d"))
        nbytes, chunks, frames, refs, ts = got
        while k >= MAX_BINS:          # a growing association outgrew the bins: twice as wide, halve them
            self._coarsen()
            k //= 2
            nbytes, chunks, frames, refs, ts = got = self.bins[p.sid]
        if k >= len(nbytes):
            grow = k + 1 - len(nbytes)
            for col in got:
                col.extend(array(col.typecode, [0]) * grow)
        nbytes[k] += p.length
        chunks[k] += 1
        if p.ts >= ts[k]:
            frames[k], refs[k], ts[k] = p.frame, p.record << 16 | p.index, p.ts

    def _coarsen(self) -> None:
        self.width *= 2
        for sid, (nbytes, chunks, frames, refs, ts) in list(self.bins.items()):
            cols = (array("Q"), array("I"), array("Q"), array("I"), array("d"))
            for k in range(0, len(nbytes), 2):
                j = k + 1 if k + 1 < len(nbytes) and chunks[k + 1] and ts[k + 1] >= ts[k] else k
                cols[0].append(nbytes[k] + (nbytes[k + 1] if k + 1 < len(nbytes) else 0))
                cols[1].append(chunks[k] + (chunks[k + 1] if k + 1 < len(nbytes) else 0))
                cols[2].append(frames[j])
                cols[3].append(refs[j])
                cols[4].append(ts[j])
            self.bins[sid] = cols

    def buckets(self, origin: float, width: float, sid: int | None) -> list:
        out: dict[int, S.Bucket] = {}
        for s, (nbytes, chunks, frames, refs, tss) in self.bins.items():
            if sid is not None and s != sid:
                continue
            for k in range(len(nbytes)):
                if not chunks[k]:
                    continue
                t = self.origin + k * self.width
                i = math.floor((t - origin) / width + 1e-9)
                b = out.get(i)
                ts = tss[k]
                if b is None:
                    b = out[i] = S.Bucket(origin + i * width, width, 0, 0, frames[k], refs[k] >> 16,
                                          refs[k] & 0xFFFF, ts)
                b.bytes += nbytes[k]
                b.chunks += chunks[k]
                if ts >= b.last:
                    b.frame, b.record, b.index, b.last = frames[k], refs[k] >> 16, refs[k] & 0xFFFF, ts
        return [out[k] for k in sorted(out)]


class _DataM4(M4List):
    """The DATA points: M4, and every first transmission counted in the throughput histogram."""

    def __init__(self, origin: float, width: float) -> None:
        super().__init__(origin, width, lambda p: p.rel)
        self.histogram = Histogram(origin, width / 4)

    def append(self, p) -> None:  # type: ignore[override]
        if not p.retransmission:
            self.histogram.add(p)
        super().append(p)


class DecimatedBuilder(S.Builder):
    """series.Builder whose point lists keep COLUMNS columns of the association's duration (M4), the DATA
    list with a throughput histogram of 4 × COLUMNS bins (`data.histogram`)."""

    def __init__(self, start: float, duration: float) -> None:
        super().__init__()
        width = max(duration, 1.0) / COLUMNS     # a growing association: columns widen as it grows
        for d in self.series.directions:
            d.data = _DataM4(start, width)
            d.sacks = M4List(start, width, lambda p: p.cum_rel)
            d.rwnd = M4List(start, width, lambda p: p.value)
            d.flight = M4List(start, width, lambda p: p.value)
        for st in self.states:      # retransmissions: bounded, as the timeline's marks
            st.seen = SeenSet(SEEN_CAP)  # type: ignore[assignment]

    def done(self) -> S.Series:
        for d in self.series.directions:
            for lst in (d.data, d.sacks, d.rwnd, d.flight):
                lst.done()
        return self.series


# -- the index ---------------------------------------------------------------------------------------------------
class AssocIndex:
    """The compact index of one association (module doc), built by `scan`, read by the lazy views."""

    def __init__(self, association: dict, store, decoder) -> None:
        self.association = association
        self.store, self.decoder = store, decoder
        self.entries = array("Q")
        self.cache = PacketCache(self.entries, store, decoder)
        self.complete = False
        self.unreadable = 0
        self.unfollowed = 0
        # per packet
        self.pkt_chunks = bytearray()       # chunks in each packet (255: see pkt_many)
        self.pkt_many: dict[int, int] = {}  # packet ordinal -> chunks, when 255 or more
        self.pkt_ckpt = array("I")          # the first step of every CKPT-th packet
        self._ts = ts_lookup(store)
        # per step
        self.types = bytearray()
        self.flags = bytearray()
        self.rtx = array("I")
        self.handshake: int | None = None
        self.ending: int | None = None
        # runs of DATA/SACK
        self.run_start = array("I")
        self.run_end = array("I")
        self.run_counts = array("I")        # per run: DATA I→R, DATA R→I, SACK I→R, SACK R→I, rtx
        self.run_tsn = array("q")           # per run: lo, hi of I→R, lo, hi of R→I (-1: none)
        self._run: list | None = None       # the run being scanned: [start, d0, d1, s0, s1, rtx, lo0, hi0, lo1, hi1]
        # DATA / I-DATA chunks
        self.d_pkt = array("I")
        self.d_ci = bytearray()
        self.d_sid = array("H")
        self.d_tsn = array("I")
        self.d_seq = array("I")
        self.d_flags = bytearray()          # chunk flags (low 4 bits) | 16 I-DATA | 32 retransmission | 64 side
        self.d_ppid = array("I")
        self.d_len = array("H")
        self.d_fsn: dict[int, int] = {}     # I-DATA: data ordinal -> FSN (when not 0)
        self.d_no_ppid: set[int] = set()    # data ordinals of I-DATA fragments without a PPID
        self.streams: dict[tuple[int, int], int] = {}     # (side, sid) -> DATA chunks
        # the ending flow
        self.ending_steps = array("I")
        self.ending_during = [0, 0]
        self.ending_outstanding: tuple = ((), ())
        self._cum: list = [None, None]      # last cumulative TSN ack each side gave
        self._out: tuple[dict, dict] = ({}, {})   # per sender: unwrapped TSN -> TSN not cumulatively acked
        # follow: user messages
        self.m_data = array("I")            # the DATA chunk (ordinal) of its first fragment (NO_DATA: m_extra)
        self.m_size = array("I")
        self.m_back = array("H")            # packets from its earliest fragment to that chunk's (see m_big)
        self.m_span = array("H")            # packets from its earliest to its latest fragment (see m_big)
        self.m_frags = array("H")           # fragments (see m_big)
        self.m_big: dict[int, tuple[int, int, int]] = {}   # message -> (back, span, fragments) when >= 65535
        self.m_extra: dict[int, tuple] = {}  # message -> (side, sid, SSN/MID, PPID, TSN, packet) without m_data
        self.m_flags = bytearray()          # 1 unordered, 2 complete, 4 I-DATA
        self.m_streams: set[tuple[int, int]] = set()
        self._recent: dict[int, int] = {}   # side << 32 | TSN -> DATA ordinal, the latest RECENT
        self.incomplete_from: int | None = None   # messages from here on were completed by finish()
        self.follower = Follower.for_association(association, keep_bytes=0)
        self.first_ord: dict[int, int] = {}   # unwrapped (side, TSN) of pending fragments -> packet ordinal
        # graphs and the stream resets
        from sctpscope.analysis.ordering import Resets

        self.resets = Resets()
        start = association.get("start") or 0.0
        self.builder = DecimatedBuilder(start, float((association.get("end") or start) - start))
        self._seen = (SeenSet(SEEN_CAP), SeenSet(SEEN_CAP))
        self._unwrap = (Unwrapper(32), Unwrapper(32))
        self._unwrap_cum = (Unwrapper(32), Unwrapper(32))

    # -- sizes -------------------------------------------------------------------------------------------
    @property
    def packets(self) -> int:
        return len(self.pkt_chunks)

    @property
    def steps(self) -> int:
        return len(self.types)

    def nbytes(self) -> int:
        """Bytes the arrays hold (the index's size; the decimated series and the LRU come on top)."""
        arrays = [self.entries, self.pkt_chunks, self.pkt_ckpt, self.types, self.flags, self.rtx, self.run_start,
                  self.run_end, self.run_counts, self.run_tsn, self.d_pkt, self.d_ci, self.d_sid, self.d_tsn,
                  self.d_seq, self.d_flags, self.d_ppid, self.d_len, self.m_data, self.m_size, self.m_back,
                  self.m_span, self.m_frags, self.m_flags]
        return sum(len(a) * (a.itemsize if isinstance(a, array) else 1) for a in arrays)

    # -- scanning ----------------------------------------------------------------------------------------
    def scan(self, entries: Sequence[int], complete: bool, cancelled=lambda: False,
             progress: Callable[[int], None] | None = None, every: int = 4096) -> bool:
        """Read the packets of `entries` not scanned yet (entries must start with those scanned before);
        `complete`: these are all of the association's. False when cancelled."""
        from sctpscope.export.walk import Rereader

        reader = Rereader(self.store, self.decoder)
        start = self.packets
        if entries is not self.entries:     # the same entries, longer: kept once (the UI reads up to `packets`)
            self.entries = entries if isinstance(entries, array) else array("Q", entries)
            self.cache.entries = self.entries
        entries = self.entries
        clock = time.monotonic
        burst = clock()
        for n in range(start, len(entries)):
            e = entries[n]
            if n % 16 == 0 and clock() - burst > YIELD[0]:
                time.sleep(YIELD[1])       # let the UI thread have the interpreter
                burst = clock()
            if n % every == 0:
                if cancelled():
                    return False
                if progress is not None:
                    progress(n)
            number, index, side = unpack_entry(e)
            try:
                frame, payloads = reader.read(number)
            except (KeyError, OSError, ValueError):
                self._packet(n, number, 0.0, side, None, index, b"")
                continue
            recs = [(r, b) for r, b in zip(frame.sctp, payloads) if r.packet.header_ok]
            rec, data = recs[index] if index < len(recs) else (None, b"")
            self._packet(n, number, frame.ts, side, rec, index, data)
        if complete and not self.complete:
            self.complete = True
            self._close_run()
            self.incomplete_from = len(self.m_size)
            for m in self.follower.finish():
                self._message(m, complete=False)
            self.builder.done()
        return True

    def _packet(self, n: int, number: int, ts: float, side: int, rec, index: int, data) -> None:
        types, flags = self.types, self.flags
        if n % CKPT == 0:
            self.pkt_ckpt.append(len(types))
        if rec is None:
            self.pkt_chunks.append(1)
            self.unreadable += 1
            self.unfollowed += 1
            self._close_run()
            types.append(UNREADABLE)
            flags.append(side | F_BAD)
            return
        nc = len(rec.packet.chunks)
        if nc >= 255:
            self.pkt_many[n] = nc
        self.pkt_chunks.append(min(nc, 255))
        item = (number, ts, side, rec, index)
        self.builder.add(item)
        self.resets.packet(number, ts, side, rec)
        pkt = rec.packet
        for ci, c in enumerate(pkt.chunks):
            t = c.type
            i = len(types)
            f = side
            short = c.__class__ is ShortChunk
            if t in (0, 64) and not short:
                u = self._unwrap[side](c.tsn)
                if self._seen[side].add(u):
                    f |= F_RTX
                    self.rtx.append(i)
                idata = t == 64
                k = len(self.d_pkt)
                self.d_pkt.append(n)
                self.d_ci.append(ci & 0xFF)
                self.d_sid.append(c.sid)
                self.d_tsn.append(c.tsn)
                self.d_seq.append(c.mid if idata else c.ssn)
                self.d_flags.append((c.flags & 15) | (16 if idata else 0) | (32 if f & F_RTX else 0) | side << 6)
                if c.ppid is None:
                    self.d_no_ppid.add(k)
                self.d_ppid.append(c.ppid or 0)
                self.d_len.append(min(c.payload_length, 0xFFFF))
                if idata and c.fsn:
                    self.d_fsn[k] = c.fsn
                key = (side, c.sid)
                self.streams[key] = self.streams.get(key, 0) + 1
                recent = self._recent
                rk = side << 32 | c.tsn
                if rk not in recent:
                    recent[rk] = k
                    if len(recent) > RECENT:
                        for old in list(itertools.islice(recent, RECENT // 4)):
                            del recent[old]
                if self.ending is None:
                    self._out[side][u] = c.tsn
                else:
                    self.ending_during[0] += 1
            elif t in (3, 16, 7) and not short:
                if self.ending is None:
                    cum = self._unwrap_cum[side](c.cum_tsn_ack)
                    self._cum[side] = c.cum_tsn_ack
                    out = self._out[1 - side]
                    if out:
                        for u in [u for u in out if u <= cum]:
                            del out[u]
                if t != 7 and self.ending is not None:
                    self.ending_during[1] += 1
            if t in (1, 2) and self.handshake is None:
                self.handshake = i
            if t in ENDING_TYPES:
                if self.ending is None:
                    self.ending = i
                    self.ending_outstanding = tuple(
                        tuple(sorted(o.values(), key=lambda x, a=self._cum[1 - s]: (x - (a or 0)) & 0xFFFFFFFF))
                        for s, o in enumerate(self._out))
                    self._out = ({}, {})
                self.ending_steps.append(i)
            types.append(t & 0xFF)
            flags.append(f)
            self._run_step(i, t, f, c)
        for m in self.follower.packet(rec, data):
            self._message(m, complete=True)

    def _run_step(self, i: int, t: int, f: int, c) -> None:
        if t not in _DATA_FAMILY:
            self._close_run(i - 1)
            return
        r = self._run
        if r is None:
            r = self._run = [i, 0, 0, 0, 0, 0, -1, -1, -1, -1]
        side = f & 1
        if t in (0, 64):
            r[1 + side] += 1
            if f & F_RTX:
                r[5] += 1
            tsn = getattr(c, "tsn", None)
            if tsn is not None:
                if r[6 + 2 * side] < 0:
                    r[6 + 2 * side] = tsn
                r[7 + 2 * side] = tsn
        else:
            r[3 + side] += 1

    def _close_run(self, end: int | None = None) -> None:
        r = self._run
        if r is None:
            return
        self._run = None
        if end is None:
            end = len(self.types) - 1
        if end - r[0] + 1 >= RUN_MIN:
            self.run_start.append(r[0])
            self.run_end.append(end)
            self.run_counts.extend(r[1:6])
            self.run_tsn.extend(r[6:10])

    def _message(self, m: Message, complete: bool) -> None:
        i = len(self.m_size)
        k = self._recent.get(m.direction << 32 | m.tsn)
        first = self.ordinal_of_frame(min(m.frames))
        last = self.ordinal_of_frame(max(m.frames), last=True)
        seq = m.mid if m.idata else m.ssn
        if k is None or self.d_sid[k] != m.sid:
            self.m_extra[i] = (m.direction, m.sid, seq, m.ppid, m.tsn, first)
            k, back = NO_DATA, 0
        else:
            back = self.d_pkt[k] - first
        span = last - first
        if max(back, span, m.fragments) >= 0xFFFF:
            self.m_big[i] = (back, span, m.fragments)
        self.m_data.append(k)
        self.m_size.append(m.size)
        self.m_back.append(min(back, 0xFFFF))
        self.m_span.append(min(span, 0xFFFF))
        self.m_frags.append(min(m.fragments, 0xFFFF))
        self.m_flags.append((1 if m.unordered else 0) | (2 if complete else 0) | (4 if m.idata else 0))
        self.m_streams.add((m.direction, m.sid))

    def msg_info(self, i: int) -> tuple:
        """(side, sid, SSN or MID, PPID or None, TSN, earliest packet, packets to the latest, fragments) of
        message i."""
        big = self.m_big.get(i)
        back, span, frags = big if big is not None else (self.m_back[i], self.m_span[i], self.m_frags[i])
        k = self.m_data[i]
        if k == NO_DATA:
            side, sid, seq, ppid, tsn, first = self.m_extra[i]
            return side, sid, seq, ppid, tsn, first, span, frags
        f = self.d_flags[k]
        ppid = None if (k in self.d_no_ppid or not f & 2) else self.d_ppid[k]
        return f >> 6 & 1, self.d_sid[k], self.d_seq[k], ppid, self.d_tsn[k], self.d_pkt[k] - back, span, frags

    def msg_stream(self, i: int) -> tuple[int, int, int]:
        """(side, sid, TSN) of message i."""
        k = self.m_data[i]
        if k == NO_DATA:
            x = self.m_extra[i]
            return x[0], x[1], x[4]
        return self.d_flags[k] >> 6 & 1, self.d_sid[k], self.d_tsn[k]

    # -- looking things up --------------------------------------------------------------------------------
    def ordinal_of_frame(self, frame: int, last: bool = False) -> int:
        """The ordinal of the (first, or `last`) packet of the association in frame `frame`, or of the first
        packet after it."""
        key = (frame + 1) << 8 if last else frame << 8
        k = bisect.bisect_left(self.entries, key, 0, self.packets)
        return max(0, k - 1) if last else k

    def chunks_in(self, p: int) -> int:
        c = self.pkt_chunks[p]
        return c if c < 255 else self.pkt_many[p]

    def first_step(self, p: int) -> int:
        """The index of packet p's first step."""
        q = p - p % CKPT
        s = self.pkt_ckpt[q // CKPT]
        while q < p:
            s += self.chunks_in(q)
            q += 1
        return s

    def packet_of_step(self, i: int) -> tuple[int, int]:
        """(packet ordinal, its first step) of step i."""
        j = bisect.bisect_right(self.pkt_ckpt, i) - 1
        p, s = j * CKPT, self.pkt_ckpt[j]
        while True:
            c = self.chunks_in(p)
            if s + c > i:
                return p, s
            s += c
            p += 1

    def ts(self, p: int) -> float:
        """The time of packet p (from the capture's record index)."""
        return self._ts(self.entries[p] >> 8)

    def step(self, i: int) -> Step:
        p, first = self.packet_of_step(i)
        frame, ts, side, rec, record, _data = self.cache.packet(p)
        f = self.flags[i]
        if rec is None:
            return Step(frame, ts, side, 0, -1, "(frame not readable again: reassembled from IP fragments?)",
                        "other")
        pkt = rec.packet
        problem = None
        if pkt.checksum_status in ("bad", "zero"):
            problem = f"checksum {pkt.checksum_status}"
        elif pkt.problems:
            problem = escape_text(str(pkt.problems[0]))
        ci = i - first
        c = pkt.chunks[ci]
        t = c.type
        st = Step(frame, ts, side, ci, t, chunk_label(c), family(t), bool(f & F_RTX), problem, None, record)
        if t in (0, 64) and c.__class__ is not ShortChunk:
            st.tsn = c.tsn
            if st.retransmission:
                st.label += " [retransmission]"
        return st

    def data_ref(self, k: int) -> DataRef:
        p = self.d_pkt[k]
        f = self.d_flags[k]
        ppid = None if k in self.d_no_ppid else self.d_ppid[k]
        return DataRef(unpack_entry(self.entries[p])[0], self.ts(p), self.d_tsn[k], self.d_seq[k],
                       self.d_fsn.get(k, 0), f & 15, ppid, self.d_len[k], bool(f & 16), bool(f & 32))

    def stream_ordinals(self, side: int, sid: int, n: int) -> array:
        """The data ordinals of the first `n` DATA chunks of stream `sid` sent by `side` (a scan of the
        columns: nothing is kept per stream)."""
        out = array("I")
        sids, flags = self.d_sid, self.d_flags
        want = side << 6
        for j in range(len(self.d_pkt)):
            if sids[j] == sid and flags[j] & 64 == want:
                out.append(j)
                if len(out) == n:
                    break
        return out

    def span(self, i: int) -> tuple[int, int]:
        """(packets from the first to the last fragment, fragments) of message i."""
        big = self.m_big.get(i)
        return big if big is not None else (self.m_span[i], self.m_frags[i])

    def run(self, k: int) -> Run:
        c = self.run_counts[5 * k:5 * k + 5]
        t = self.run_tsn[4 * k:4 * k + 4]
        return Run(self.run_start[k], self.run_end[k], (c[0], c[1]), (c[2], c[3]), c[4],
                   tuple(None if t[2 * s] < 0 else (t[2 * s], t[2 * s + 1]) for s in (0, 1)))

    def ending_flow(self) -> EndingFlow:
        flow = EndingFlow()
        if self.ending is None:
            return flow
        flow.steps = list(self.ending_steps)
        flow.began_by = self.flags[self.ending] & 1
        flow.kind = "abort" if self.types[self.ending] == 6 else "graceful"
        flow.during = (self.ending_during[0], self.ending_during[1])
        flow.outstanding = self.ending_outstanding
        return flow

    def message(self, i: int, keep: int = 512) -> Message:
        """User message i with its first `keep` bytes and its frames, reassembled again from the packets
        between its first and last fragment (only its stream followed)."""
        side, sid, seq, ppid, want_tsn, first, span, frags = self.msg_info(i)
        flags = self.m_flags[i]
        fol = Follower.for_association(self.association, keep_bytes=keep, streams=(sid,))
        found = None
        for p in range(first, first + span + 1):
            frame, ts, pside, rec, _record, data = self.cache.packet(p)
            if rec is None:
                continue
            for m in fol.packet(rec, data):
                if m.direction == side and m.tsn == want_tsn:
                    found = m
            if found is not None:
                break
        if found is None:
            for m in fol.finish():
                if m.direction == side and m.tsn == want_tsn:
                    found = m
                    break
        if found is None:       # as the index has it, without bytes
            a, b = first, first + span
            fa, fb = unpack_entry(self.entries[a])[0], unpack_entry(self.entries[b])[0]
            found = Message(side, sid, None if flags & 4 else seq, seq if flags & 4 else None, bool(flags & 1),
                            ppid, self.m_size[i], list(dict.fromkeys((fa, fb))), self.ts(a), self.ts(b),
                            want_tsn, frags, b"", self.m_size[i] > 0, bool(flags & 2), bool(flags & 4))
        found.complete = bool(flags & 2)
        return found


# -- the views' sequences --------------------------------------------------------------------------------
class _Lazy(Sequence):
    """A sequence of n items made on demand by `_item(i)` (negative indexes and slices as a list's)."""

    def __init__(self, n: int) -> None:
        self.n = n

    def __len__(self) -> int:
        return self.n

    def __getitem__(self, i):
        if isinstance(i, slice):
            return [self[k] for k in range(*i.indices(self.n))]
        if i < 0:
            i += self.n
        if not 0 <= i < self.n:
            raise IndexError(i)
        return self._item(i)

    def __iter__(self):
        for i in range(self.n):
            yield self._item(i)

    def _item(self, i: int):
        raise NotImplementedError


class _Steps(_Lazy):
    def __init__(self, ix: AssocIndex, n: int) -> None:
        super().__init__(n)
        self.ix = ix

    def _item(self, i: int):
        return self.ix.step(i)


class _Runs(_Lazy):
    def __init__(self, ix: AssocIndex, n: int) -> None:
        super().__init__(n)
        self.ix = ix
        self.starts = ix.run_start
        self.ends = ix.run_end

    def _item(self, i: int):
        return self.ix.run(i)


class _StreamRefs(_Lazy):
    def __init__(self, ix: AssocIndex, ordinals: array, n: int) -> None:
        super().__init__(n)
        self.ix, self.ordinals = ix, ordinals

    def _item(self, i: int):
        return self.ix.data_ref(self.ordinals[i])


class _StreamData:
    """timeline.data as a mapping: (side, sid) -> the stream's DataRefs, built when iterated (the stream's
    chunks found by a scan of the DATA columns, the last few kept)."""

    def __init__(self, ix: AssocIndex) -> None:
        self.ix = ix
        self.sizes = dict(ix.streams)
        self._ordinals: OrderedDict = OrderedDict()

    def ordinals(self, k) -> array:
        got = self._ordinals.get(k)
        if got is None:
            got = self._ordinals[k] = self.ix.stream_ordinals(k[0], k[1], self.sizes[k])
            if len(self._ordinals) > 2:
                self._ordinals.popitem(last=False)
        return got

    def get(self, k, default=()):
        if k not in self.sizes:
            return default
        return _StreamRefs(self.ix, self.ordinals(k), self.sizes[k])

    def __getitem__(self, k):
        return _StreamRefs(self.ix, self.ordinals(k), self.sizes[k])

    def __contains__(self, k) -> bool:
        return k in self.sizes

    def keys(self):
        return self.sizes.keys()

    def __len__(self) -> int:
        return len(self.sizes)

    def __iter__(self):
        return iter(self.sizes)


class LazyTimeline:
    """analysis.timeline.Timeline's interface over an AssocIndex (what was scanned when it was made)."""

    lazy = True

    def __init__(self, ix: AssocIndex) -> None:
        self.ix = ix
        self.steps = _Steps(ix, ix.steps)
        self.runs = _Runs(ix, len(ix.run_start))
        self.data = _StreamData(ix)
        self.n_packets = ix.packets
        self.unreadable = ix.unreadable
        self.n_rtx = len(ix.rtx)

    def handshake(self) -> int | None:
        return self.ix.handshake

    def first_retransmission(self) -> int | None:
        return self.ix.rtx[0] if self.n_rtx else None

    def ending(self) -> int | None:
        return self.ix.ending

    def retransmissions(self) -> Sequence[int]:
        return self.ix.rtx[:self.n_rtx]

    def next_retransmission(self, here: int, direction: int) -> int | None:
        rtx = self.ix.rtx
        if direction > 0:
            k = bisect.bisect_right(rtx, here, 0, self.n_rtx)
            return rtx[k] if k < self.n_rtx else None
        k = bisect.bisect_left(rtx, here, 0, self.n_rtx)
        return rtx[k - 1] if k > 0 else None

    def step_at_frame(self, frame: int) -> int | None:
        """The first step in frame `frame` or after it."""
        p = self.ix.ordinal_of_frame(frame)
        return self.ix.first_step(p) if p < self.n_packets else None

    def steps_of_frame(self, frame: int) -> range:
        ix = self.ix
        p = ix.ordinal_of_frame(frame)
        if p >= ix.packets or unpack_entry(ix.entries[p])[0] != frame:
            return range(0)
        first = ix.first_step(p)
        return range(first, min(first + ix.chunks_in(p), len(self.steps)))

    def ending_flow(self) -> EndingFlow:
        return self.ix.ending_flow()

    def find(self, query: str, start: int, direction: int, cancelled=lambda: False,
             progress: Callable[[int], None] | None = None, wrap: bool = True) -> int | None:
        """The first step from `start` on (direction 1) or before it (-1), then (`wrap`) from the other end,
        whose label as shown (export.ladder.step_label) holds `query`, any case; decodes windows of packets
        as it goes."""
        from sctpscope.export.ladder import step_label

        q = query.casefold()
        n = len(self.steps)
        if not n:
            return None
        order = range(start, n) if direction > 0 else range(start, -1, -1)
        rest = range(0)
        if wrap:
            rest = range(0, min(start, n)) if direction > 0 else range(n - 1, start, -1)
        if direction < 0 and start >= n:
            order = range(n - 1, -1, -1)
        seen = 0
        for rng in (order, rest):
            for i in rng:
                seen += 1
                if seen % 2048 == 0:
                    if cancelled():
                        return None
                    if progress is not None:
                        progress(seen)
                if q in step_label(self.ix.step(i)).casefold():
                    return i
        return None


class LazyMessages(_Lazy):
    """The association's user messages in arrival order as follow.Messages, each reassembled again when asked
    for (a few kept)."""

    def __init__(self, ix: AssocIndex, keep: int = 512) -> None:
        super().__init__(len(ix.m_size))
        self.ix, self.keep = ix, keep
        self._cache: OrderedDict[int, Message] = OrderedDict()

    def _item(self, i: int):
        m = self._cache.get(i)
        if m is None:
            m = self._cache[i] = self.ix.message(i, self.keep)
            if len(self._cache) > 256:
                self._cache.popitem(last=False)
        return m

    def streams(self) -> list[tuple[int, int]]:
        return sorted(self.ix.m_streams)

    def of_stream(self, stream: tuple[int, int] | None) -> Sequence[int]:
        if stream is None:
            return range(self.n)
        of = self.ix.msg_stream
        want = tuple(stream)
        return array("I", (i for i in range(self.n) if of(i)[:2] == want))

    def key(self, i: int) -> tuple[int, int, int]:
        return self.ix.msg_stream(i)

    def complete(self, i: int) -> bool:
        return bool(self.ix.m_flags[i] & 2)

    def count_incomplete(self, shown: Sequence[int]) -> int:
        """How many of `shown` (increasing indices) miss fragments: only finish() gives such messages, at the
        end."""
        frm = self.ix.incomplete_from
        if frm is None or frm >= self.n:
            return 0
        return len(shown) - bisect.bisect_left(shown, frm)


class FrameNumbers(Sequence):
    """The association's frame numbers (for the packet screen's `[` `]`), from its first `n` entries."""

    def __init__(self, entries: Sequence[int], n: int | None = None) -> None:
        self.entries = entries
        self.n = len(entries) if n is None else n

    def __len__(self) -> int:
        return self.n

    def __getitem__(self, i):
        if isinstance(i, slice):
            return [self[k] for k in range(*i.indices(len(self)))]
        if i < 0:
            i += self.n
        if not 0 <= i < self.n:
            raise IndexError(i)
        return self.entries[i] >> 8

    def index(self, frame, *args) -> int:  # type: ignore[override]
        k = bisect.bisect_left(self.entries, frame << 8, 0, self.n)
        if k < self.n and self.entries[k] >> 8 == frame:
            return k
        raise ValueError(frame)

    def __contains__(self, frame) -> bool:
        try:
            self.index(frame)
        except ValueError:
            return False
        return True


# -- the ladder's rows --------------------------------------------------------------------------------------
class FoldedRows:
    """The ladder's rows (`rows[r]` >= 0 a step, -(k + 1) the line of run k) without a list: runs folded or
    not (`folded_by_default`, with exceptions), rows found by bisection over the runs."""

    def __init__(self, n_steps: int, starts: Sequence[int], ends: Sequence[int]) -> None:
        self.n = n_steps
        self.starts, self.ends = starts, ends
        self.R = len(starts)
        self.cum = array("q", [0])          # cum[k]: steps in runs before run k
        for k in range(self.R):
            self.cum.append(self.cum[-1] + ends[k] - starts[k] + 1)
        self.folded_default = True
        self.exceptions: list[int] = []     # sorted run indices that differ from the default
        self._exc_cum = array("q", [0])

    def length(self, k: int) -> int:
        return self.ends[k] - self.starts[k] + 1

    def is_unfolded(self, k: int) -> bool:
        j = bisect.bisect_left(self.exceptions, k)
        exc = j < len(self.exceptions) and self.exceptions[j] == k
        return exc if self.folded_default else not exc

    def unfolded(self) -> set[int]:
        if self.folded_default:
            return set(self.exceptions)
        exc = set(self.exceptions)
        return {k for k in range(self.R) if k not in exc}

    def set_unfolded(self, which) -> None:
        """`which`: a set of run indices, or "all"."""
        if which == "all":
            self.folded_default, exc = False, []
        else:
            self.folded_default, exc = True, sorted(which)
        self._set_exceptions(exc)

    def toggle(self, k: int) -> None:
        exc = list(self.exceptions)
        j = bisect.bisect_left(exc, k)
        if j < len(exc) and exc[j] == k:
            del exc[j]
        else:
            exc.insert(j, k)
        self._set_exceptions(exc)

    def _set_exceptions(self, exc: list[int]) -> None:
        self.exceptions = exc
        c = array("q", [0])
        for k in exc:
            c.append(c[-1] + self.length(k))
        self._exc_cum = c

    def hidden_before(self, k: int) -> int:
        """Steps hidden in folded runs before run k."""
        j = bisect.bisect_left(self.exceptions, k)
        e = self._exc_cum[j]
        return self.cum[k] - e if self.folded_default else e

    def header(self, k: int) -> int:
        """The row of run k's line."""
        return self.starts[k] + k - self.hidden_before(k)

    def __len__(self) -> int:
        return self.n + self.R - self.hidden_before(self.R)

    def __getitem__(self, r: int) -> int:
        if r < 0:
            r += len(self)
        if not 0 <= r < len(self):
            raise IndexError(r)
        lo, hi = 0, self.R          # the last run whose line is at or before row r
        while lo < hi:
            mid = (lo + hi) // 2
            if self.header(mid) <= r:
                lo = mid + 1
            else:
                hi = mid
        k = lo - 1
        if k < 0:
            return r
        h = self.header(k)
        if r == h:
            return -(k + 1)
        if self.is_unfolded(k) and r <= h + self.length(k):
            return self.starts[k] + (r - h - 1)
        return r - (k + 1) + self.hidden_before(k + 1)

    def run_of(self, step: int) -> int | None:
        k = bisect.bisect_right(self.starts, step) - 1
        return k if k >= 0 and step <= self.ends[k] else None

    def index(self, x: int, *args) -> int:
        """The row of step x (>= 0; ValueError when its run is folded) or of run line -(k + 1)."""
        if x < 0:
            k = -x - 1
            if k >= self.R:
                raise ValueError(x)
            return self.header(k)
        if x >= self.n:
            raise ValueError(x)
        k = self.run_of(x)
        if k is not None:
            if not self.is_unfolded(k):
                raise ValueError(x)
            return self.header(k) + 1 + (x - self.starts[k])
        kk = bisect.bisect_right(self.starts, x)
        return x + kk - self.hidden_before(kk)

    def __contains__(self, x) -> bool:
        try:
            self.index(x)
        except ValueError:
            return False
        return True

    def __iter__(self):
        for r in range(len(self)):
            yield self[r]

    def __eq__(self, other) -> bool:
        return list(self) == list(other)

    def __bool__(self) -> bool:
        return len(self) > 0
