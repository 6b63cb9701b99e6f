"""Follow an association: its user messages, reassembled, per direction and stream, in arrival order.

A ``Follower`` is fed the SCTP packets of one association with their bytes (``packet(record, data)``) and
returns the messages each packet completes; ``finish()`` returns those still missing fragments.
Reassembly is the receiver's (RFC 9260 §6.9, RFC 8260 §2.1), as in analysis.streams: DATA fragments by the
B/E bits over contiguous TSNs of one stream (and one SSN when ordered; unordered ones by TSN contiguity
alone), I-DATA fragments by (stream, U bit, MID) and FSN. A fragment whose TSN was seen before (a
retransmission) is counted in ``retransmitted_chunks`` of its direction and not used again.

Each Message has its direction, stream, SSN or MID, U bit, PPID (and IANA name), size (user-data bytes in the
capture), the frames of its fragments, the time from its first to its last fragment, and its first
``keep_bytes`` bytes (``data``; ``truncated`` when the message is longer). Bounds: ``keep_bytes`` per
message (PREVIEW_BYTES by default, None for every byte: `follow --save`), MAX_PENDING fragments waiting
per direction (the oldest are dropped beyond it and counted in ``fragments_dropped``).
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable
from dataclasses import dataclass, field

from sctpscope.analysis.serial import SeenSet, Unwrapper
from sctpscope.decode.sctp import ppid_name
from sctpscope.decode.sctp.chunks import DataChunk, IDataChunk

PREVIEW_BYTES = 4096          # bytes kept per message by default (previews, upper-layer summaries)
MAX_PENDING = 8192            # fragments waiting for the rest of their message, per direction
DIRECTIONS = ("initiator_to_responder", "responder_to_initiator")

_B, _E, _U = 0x02, 0x01, 0x04


@dataclass(slots=True)
class Message:
    direction: int                  # 0: initiator -> responder, 1: responder -> initiator
    sid: int
    ssn: int | None                 # DATA, ordered or not (the SSN field as sent)
    mid: int | None                 # I-DATA
    unordered: bool
    ppid: int | None
    size: int                       # user-data bytes (as captured)
    frames: list[int]               # frames of its fragments, in TSN (FSN) order, each once
    first_ts: float                 # arrival of its first and last fragment
    last_ts: float
    tsn: int                        # TSN of its first fragment
    fragments: int
    data: bytes                     # the first keep_bytes bytes
    truncated: bool                 # data holds fewer bytes than size
    complete: bool = True           # False: fragments missing at the end of the capture
    idata: bool = False
    sport: int | None = None        # ports of the sender and receiver (upper-layer guessing by port)
    dport: int | None = None

    @property
    def latency(self) -> float:
        """First-to-last-fragment time."""
        return self.last_ts - self.first_ts

    @property
    def ppid_name(self) -> str | None:
        return ppid_name(self.ppid) if self.ppid is not None else None

    @property
    def direction_name(self) -> str:
        return DIRECTIONS[self.direction]


@dataclass(slots=True)
class _Frag:
    u: int              # unwrapped TSN
    sid: int
    ssn: int            # DATA: SSN; I-DATA: FSN
    flags: int
    ppid: int | None
    frame: int
    ts: float
    data: bytes
    length: int


@dataclass
class _Direction:
    unwrap: Unwrapper = field(default_factory=lambda: Unwrapper(32))
    seen: SeenSet = field(default_factory=lambda: SeenSet(65536))
    pending: dict = field(default_factory=dict)          # DATA: first TSN of a run of fragments -> _Run
    ends: dict = field(default_factory=dict)             # DATA: last TSN of a run -> first TSN
    ipending: dict = field(default_factory=dict)         # I-DATA: (sid, U, MID) -> _IMessage
    ahead: int = 0                                       # I-DATA fragments held beyond a hole
    retransmitted_chunks: int = 0
    fragments_dropped: int = 0
    messages: int = 0


class Follower:
    """Reassembles the user messages of one association (see the module doc).

    ``side_of(record)`` tells the direction of a packet: by verification tag (packets to the responder carry
    the responder's tag), else by ports, else by address. Build it with ``Follower.for_association(a)`` from
    an association dict of the report, or give the two endpoints' (port, vtag, addresses) yourself.
    """

    def __init__(self, initiator: tuple, responder: tuple, *, keep_bytes: int | None = PREVIEW_BYTES,
                 streams: Iterable[int] | None = None) -> None:
        self.eps = (initiator, responder)       # (port, vtag, addresses)
        self.keep = keep_bytes
        self.streams = None if streams is None else frozenset(streams)
        self.dirs = (_Direction(), _Direction())

    @classmethod
    def for_association(cls, a: dict, **kw) -> "Follower":
        ini, res = a["initiator"], a["responder"]
        return cls((ini["port"], ini["vtag"], frozenset(ini["addresses"])),
                   (res["port"], res["vtag"], frozenset(res["addresses"])), **kw)

    def side_of(self, rec) -> int:
        pkt = rec.packet
        (iport, itag, iaddrs), (rport, rtag, raddrs) = self.eps
        if itag != rtag:
            if pkt.vtag == rtag and rtag is not None:
                return 0
            if pkt.vtag == itag and itag is not None:
                return 1
        if iport != rport:
            return 0 if pkt.src_port == iport else 1
        return 1 if rec.src in raddrs and rec.src not in iaddrs else 0

    @property
    def retransmitted_chunks(self) -> tuple[int, int]:
        return self.dirs[0].retransmitted_chunks, self.dirs[1].retransmitted_chunks

    @property
    def fragments_dropped(self) -> int:
        return self.dirs[0].fragments_dropped + self.dirs[1].fragments_dropped

    # -- feeding -------------------------------------------------------------------------------------------
    def packet(self, rec, data: bytes | memoryview) -> list[Message]:
        """Messages completed by this SCTP packet; `data` is the SCTP packet's bytes, from its common header
        on: ``frame_data[rec.offset:rec.offset + rec.packet.length]`` when ``rec.offset >= 0``; a packet
        reassembled from IP fragments (offset -1) has them only from the decoder: export.walk keeps them, for
        the whole capture (`walk`) or for frames read back by number (`Rereader`, as the TUI reads them)."""
        out: list[Message] = []
        side = None
        for c in rec.packet.chunks:
            is_data = isinstance(c, DataChunk)
            if not is_data and not isinstance(c, IDataChunk):
                continue
            if side is None:
                side = self.side_of(rec)
            d = self.dirs[side]
            u = d.unwrap(c.tsn)
            if d.seen.add(u):
                d.retransmitted_chunks += 1
                continue
            if self.streams is not None and c.sid not in self.streams:
                continue
            start = c.payload_offset
            n = c.payload_length
            keep = n if self.keep is None else min(n, self.keep)
            body = bytes(data[start:start + keep])
            if is_data:
                frag = _Frag(u, c.sid, c.ssn, c.flags, c.ppid, rec.frame, rec.ts, body, n)
                m = self._data(d, side, frag, rec)
            else:
                fsn = 0 if c.flags & _B else c.fsn
                frag = _Frag(u, c.sid, fsn, c.flags, c.ppid, rec.frame, rec.ts, body, n)
                m = self._idata(d, side, frag, c.mid, rec)
            if m is not None:
                out.append(m)
        return out

    def _ports(self, side: int) -> tuple[int, int]:
        return self.eps[side][0], self.eps[1 - side][0]

    def _message(self, side: int, frags, *, ssn, mid, complete: bool, idata: bool) -> Message:
        """A Message from a list of fragments or a _Run of them."""
        run = frags if isinstance(frags, _Run) else _Run.of(frags, self.keep)
        first = run.first
        data = b"".join(f.data for f in run.frags)
        if self.keep is not None:
            data = data[:self.keep]
        sport, dport = self._ports(side)
        self.dirs[side].messages += complete
        return Message(side, first.sid, ssn, mid, bool(first.flags & _U), first.ppid if first.flags & _B else None,
                       run.size, list(run.frames), run.ts_lo, run.ts_hi, first.u & 0xFFFFFFFF, run.count, data,
                       len(data) < run.size, complete, idata, sport, dport)

    def _data(self, d: _Direction, side: int, frag: _Frag, rec) -> Message | None:
        if frag.flags & (_B | _E) == _B | _E:
            return self._message(side, [frag], ssn=frag.ssn, mid=None, complete=True, idata=False)
        pending, ends = d.pending, d.ends
        if frag.u in pending or frag.u in ends:
            d.fragments_dropped += 1
            return None
        run = _Run.of([frag], self.keep)
        # join the runs just before and after (as analysis.streams): O(1) amortised, whatever their lengths
        if not frag.flags & _B:
            lo = ends.get(frag.u - 1)
            prev = pending.get(lo) if lo is not None else None
            if prev is not None and not prev.last.flags & _E and _same(prev.last, frag):
                del pending[prev.first.u]
                del ends[prev.last.u]
                run = prev.join(run, self.keep)
        if not run.last.flags & _E:
            nxt = pending.get(run.last.u + 1)
            if nxt is not None and not nxt.first.flags & _B and _same(run.first, nxt.first):
                del pending[nxt.first.u]
                ends.pop(nxt.last.u, None)
                run = run.join(nxt, self.keep)
        if run.first.flags & _B and run.last.flags & _E:
            return self._message(side, run, ssn=run.first.ssn, mid=None, complete=True, idata=False)
        pending[run.first.u] = run
        ends[run.last.u] = run.first.u
        if len(pending) > MAX_PENDING:
            for t in sorted(pending)[: MAX_PENDING // 4]:
                old = pending.pop(t)
                ends.pop(old.last.u, None)
                d.fragments_dropped += old.count
        return None

    def _idata(self, d: _Direction, side: int, frag: _Frag, mid: int, rec) -> Message | None:
        if frag.flags & (_B | _E) == _B | _E:
            return self._message(side, [frag], ssn=None, mid=mid, complete=True, idata=True)
        # As analysis.streams counts I-DATA messages: complete when the FSNs seen are 0 .. the E fragment's FSN
        # (so the report's message counts and these agree, odd FSNs included).
        key = (frag.sid, bool(frag.flags & _U), mid)
        got = d.ipending.get(key)
        if got is None:
            if len(d.ipending) >= MAX_PENDING:
                old = d.ipending.pop(next(iter(d.ipending)))
                d.fragments_dropped += old.count + len(old.ahead)
                d.ahead -= len(old.ahead)
            got = d.ipending[key] = _IMessage()
        fsn = frag.ssn
        if frag.flags & _E:
            got.last = fsn
        if fsn == got.next:
            got.add(frag, self.keep)
            while got.next in got.ahead:
                got.add(got.ahead.pop(got.next), self.keep)
                d.ahead -= 1
        elif fsn < got.next:        # an FSN again (senders number the first two 0): one more part of it
            got.add(frag, self.keep, advance=False)
        elif fsn not in got.ahead:
            if d.ahead < MAX_PENDING:
                got.ahead[fsn] = frag
                d.ahead += 1
            else:
                d.fragments_dropped += 1
        if got.last is not None and got.next == got.last + 1 and got.run is not None:
            del d.ipending[key]
            d.ahead -= len(got.ahead)
            return self._message(side, got.run, ssn=None, mid=mid, complete=True, idata=True)
        return None

    def finish(self) -> list[Message]:
        """Messages still missing fragments (complete=False), by first arrival; the Follower is then empty."""
        out = self.incomplete()
        for d in self.dirs:
            d.pending.clear()
            d.ends.clear()
            d.ipending.clear()
            d.ahead = 0
        return out

    def incomplete(self) -> list[Message]:
        """The messages still missing fragments as if the capture ended now (complete=False), by first
        arrival; the Follower goes on as before (a growing association shows them meanwhile)."""
        out = []
        for side, d in enumerate(self.dirs):
            for t in sorted(d.pending):
                run = d.pending[t]
                out.append(self._message(side, run, ssn=run.first.ssn, mid=None, complete=False, idata=False))
            for (sid, _u, mid), got in d.ipending.items():
                frags = list(got.run.frags) if got.run is not None else []
                extra = sorted(got.ahead.values(), key=lambda f: (f.ssn, f.u))
                run = got.run
                if run is None:
                    run = _Run.of(extra, self.keep)
                elif extra:
                    run = _Run.of(frags, self.keep).join(_Run.of(extra, self.keep), self.keep)
                    run.count = got.run.count + len(extra)
                    run.size = got.run.size + sum(f.length for f in extra)
                if run is not None:
                    out.append(self._message(side, run, ssn=None, mid=mid, complete=False, idata=True))
        out.sort(key=lambda m: (m.first_ts, m.frames[0] if m.frames else 0))
        return out


MAX_FRAMES = 10000          # frames listed per message (a message of more fragments lists its first ones)


def _same(a: _Frag, b: _Frag) -> bool:
    return a.sid == b.sid and a.flags & _U == b.flags & _U and (a.flags & _U != 0 or a.ssn == b.ssn)


class _Run:
    """Fragments of one message, contiguous: the first and last, the ones whose bytes are kept (up to
    keep_bytes: every one when None), their count, size, time span and frames (at most MAX_FRAMES)."""

    __slots__ = ("first", "last", "frags", "kept", "count", "size", "ts_lo", "ts_hi", "frames")

    def __init__(self, first: _Frag) -> None:
        self.first = self.last = first
        self.frags: deque = deque()
        self.kept = 0
        self.count = self.size = 0
        self.ts_lo = self.ts_hi = first.ts
        self.frames: deque = deque()

    @classmethod
    def of(cls, frags: list[_Frag], keep: int | None) -> "_Run":
        run = cls(frags[0])
        for f in frags:
            run.append(f, keep)
        return run

    def append(self, f: _Frag, keep: int | None) -> None:
        self.last = f
        self.count += 1
        self.size += f.length
        if keep is None or self.kept < keep:
            self.frags.append(f)
            self.kept += len(f.data)
        self.ts_lo = min(self.ts_lo, f.ts)
        self.ts_hi = max(self.ts_hi, f.ts)
        if (not self.frames or self.frames[-1] != f.frame) and len(self.frames) < MAX_FRAMES:
            self.frames.append(f.frame)

    def join(self, right: "_Run", keep: int | None) -> "_Run":
        """This run followed by `right`: the longer one absorbs the shorter (amortised O(1) per fragment)."""
        if keep is None or self.kept < keep:
            if len(self.frags) >= len(right.frags):
                self.frags.extend(right.frags)
            else:
                right.frags.extendleft(reversed(self.frags))
                self.frags = right.frags
            self.kept += right.kept
        room = MAX_FRAMES - len(self.frames)
        theirs = right.frames
        if theirs and self.frames and self.frames[-1] == theirs[0]:
            theirs.popleft()
        if room > 0 and theirs:
            if len(self.frames) >= len(theirs) or len(self.frames) + len(theirs) > MAX_FRAMES:
                self.frames.extend(theirs[i] for i in range(min(room, len(theirs))))
            else:
                theirs.extendleft(reversed(self.frames))
                self.frames = theirs
        self.last = right.last
        self.count += right.count
        self.size += right.size
        self.ts_lo = min(self.ts_lo, right.ts_lo)
        self.ts_hi = max(self.ts_hi, right.ts_hi)
        return self


class _IMessage:
    """An I-DATA message being reassembled: its fragments from FSN 0 on without a hole (a _Run), those beyond
    a hole by FSN, the E fragment's FSN."""

    __slots__ = ("run", "ahead", "next", "last")

    def __init__(self) -> None:
        self.run: _Run | None = None
        self.ahead: dict[int, _Frag] = {}
        self.next = 0
        self.last: int | None = None

    @property
    def count(self) -> int:
        return self.run.count if self.run is not None else 0

    def add(self, f: _Frag, keep: int | None, advance: bool = True) -> None:
        if self.run is None:
            self.run = _Run.of([f], keep)
        else:
            self.run.append(f, keep)
        self.next += advance


# -- previews -------------------------------------------------------------------------------------------

def looks_like_text(data: bytes) -> bool:
    """Mostly printable ASCII (with tabs and line ends): shown as text, else as hex."""
    if not data:
        return False
    printable = sum(1 for b in data if 0x20 <= b < 0x7F or b in (9, 10, 13))
    return printable >= 0.9 * len(data)


def preview(data: bytes, width: int = 64) -> str:
    """A terminal-safe preview: escaped text when it looks like text, else hex bytes (about `width` columns)."""
    from sctpscope.text import escape_bytes

    if looks_like_text(data):
        return '"' + escape_bytes(data, limit=width) + '"'
    n = max(1, width // 3)
    shown = data[:n].hex(" ")
    return shown + (" …" if len(data) > n else "")
