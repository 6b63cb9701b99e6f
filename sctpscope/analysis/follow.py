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
    pending: dict = field(default_factory=dict)          # DATA: unwrapped TSN -> _Frag
    ipending: dict = field(default_factory=dict)         # I-DATA: (sid, U, MID) -> [_Frag]
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

    def _message(self, side: int, frags: list[_Frag], *, ssn, mid, complete: bool, idata: bool) -> Message:
        first = frags[0]
        size = sum(f.length for f in frags)
        if self.keep is None:
            data = b"".join(f.data for f in frags)
        else:
            parts, room = [], self.keep
            for f in frags:
                if room <= 0:
                    break
                parts.append(f.data[:room])
                room -= len(parts[-1])
            data = b"".join(parts)
        frames = list(dict.fromkeys(f.frame for f in frags))
        ts = [f.ts for f in frags]
        sport, dport = self._ports(side)
        self.dirs[side].messages += complete
        return Message(side, first.sid, ssn, mid, bool(first.flags & _U), first.ppid if first.flags & _B else None,
                       size, frames, min(ts), max(ts), first.u & 0xFFFFFFFF, len(frags), data, len(data) < size,
                       complete, idata, sport, dport)

    def _data(self, d: _Direction, side: int, frag: _Frag, rec) -> Message | None:
        if frag.flags & (_B | _E) == _B | _E:
            return self._message(side, [frag], ssn=frag.ssn, mid=None, complete=True, idata=False)
        pending = d.pending
        pending[frag.u] = frag
        if len(pending) > MAX_PENDING:
            for t in sorted(pending)[: MAX_PENDING // 4]:
                del pending[t]
                d.fragments_dropped += 1
            if frag.u not in pending:
                return None
        unordered = frag.flags & _U

        def same(other: _Frag | None) -> bool:
            return (other is not None and other.sid == frag.sid and other.flags & _U == unordered
                    and (unordered or other.ssn == frag.ssn))
        lo = frag.u
        while not pending[lo].flags & _B:
            prev = pending.get(lo - 1)
            if not same(prev) or prev.flags & _E:
                return None
            lo -= 1
        hi = frag.u
        while not pending[hi].flags & _E:
            nxt = pending.get(hi + 1)
            if not same(nxt) or nxt.flags & _B:
                return None
            hi += 1
        frags = [pending.pop(t) for t in range(lo, hi + 1)]
        return self._message(side, frags, ssn=frags[0].ssn, mid=None, complete=True, idata=False)

    def _idata(self, d: _Direction, side: int, frag: _Frag, mid: int, rec) -> Message | None:
        if frag.flags & (_B | _E) == _B | _E:
            return self._message(side, [frag], ssn=None, mid=mid, complete=True, idata=True)
        # As analysis.streams counts I-DATA messages: complete when the FSNs seen are 0 .. the E fragment's FSN
        # (so the report's message counts and these agree, odd FSNs included).
        key = (frag.sid, bool(frag.flags & _U), mid)
        got = d.ipending.get(key)
        if got is None:
            if sum(len(v) for v in d.ipending.values()) >= MAX_PENDING:
                old = next(iter(d.ipending))
                d.fragments_dropped += len(d.ipending.pop(old))
            got = d.ipending[key] = []
        got.append(frag)
        ends = [f.ssn for f in got if f.flags & _E]
        fsns = {f.ssn for f in got}
        if ends and 0 in fsns and len(fsns) == ends[-1] + 1:
            del d.ipending[key]
            frags = sorted(got, key=lambda f: (f.ssn, not f.flags & _B, f.flags & _E, f.u))
            return self._message(side, frags, ssn=None, mid=mid, complete=True, idata=True)
        return None

    def finish(self) -> list[Message]:
        """Messages still missing fragments (complete=False), by first arrival; the Follower is then empty."""
        out = self.incomplete()
        for d in self.dirs:
            d.pending.clear()
            d.ipending.clear()
        return out

    def incomplete(self) -> list[Message]:
        """The messages still missing fragments as if the capture ended now (complete=False), by first
        arrival; the Follower goes on as before (a growing association shows them meanwhile)."""
        out = []
        for side, d in enumerate(self.dirs):
            groups: list[list[_Frag]] = []
            run: list[_Frag] = []
            for t in sorted(d.pending):
                f = d.pending[t]
                if run and (f.flags & _B or run[-1].u + 1 != t or run[-1].flags & _E or run[-1].sid != f.sid):
                    groups.append(run)
                    run = []
                run.append(f)
            if run:
                groups.append(run)
            for g in groups:
                out.append(self._message(side, g, ssn=g[0].ssn, mid=None, complete=False, idata=False))
            for (sid, _u, mid), got in d.ipending.items():
                frags = sorted(got, key=lambda f: (f.ssn, not f.flags & _B, f.u))
                out.append(self._message(side, frags, ssn=None, mid=mid, complete=False, idata=True))
        out.sort(key=lambda m: (m.first_ts, m.frames[0]))
        return out


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
