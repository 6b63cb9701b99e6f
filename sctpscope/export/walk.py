"""Frames with their raw bytes beside their decode: what `extract` (frame bytes) and `follow` (user-message
bytes, also of SCTP packets reassembled from IP fragments) need, and pipeline.decode_files does not keep.

The decode is FrameDecoder.decode's, step by step (NetDecoder, then decode_sctp for every SCTP packet
carried), keeping each carried packet's bytes: the records are equal to decode_files' (a test checks it on
every bundled capture), so frame numbers and association membership agree with the report.

`Rereader` reads single frames back by number (from a capture.index store) and decodes them the same way.
A frame read alone lacks the IP fragments earlier frames carried: the SCTP packet its last fragment
completes (the frame the index lists it in, as tshark does) is not in it. Such a frame is decoded again
after the frames before it, twice as many each time (1, 2, 4 … LOOKBACK, never beyond the reassembly
timeout), until the packet is whole.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass

from sctpscope import progress
from sctpscope.capture import Frame, Interface, open_capture
from sctpscope.capture.reader import nanoseconds
from sctpscope.capture.index import RawFrame as StoredFrame
from sctpscope.decode.frame import DecodedFrame, FrameDecoder, SctpRecord
from sctpscope.decode.net import NetDecoder
from sctpscope.decode.sctp import decode_sctp

LOOKBACK = 256          # frames before the last IP fragment of an SCTP packet searched for the others


@dataclass(slots=True)
class RawFrame:
    """One frame: its number on across files, the capture's Frame, its interface, its decode, and the bytes
    of each SCTP packet in ``decoded.sctp`` (same order)."""

    number: int
    file_index: int
    raw: Frame
    interface: Interface | None
    decoded: DecodedFrame
    sctp_bytes: list
    ts_ns: int              # the timestamp as the file holds it, in nanoseconds (raw.ts is a float)


def walk(paths: Sequence[str], *, sctp_udp_ports: tuple[int, ...] = (9899,), verify: bool = True) -> Iterator[RawFrame]:
    """Every frame of every file in order, numbered on across files as decode_files numbers them."""
    from sctpscope.pipeline import _check_link_types

    net = NetDecoder(sctp_udp_ports=sctp_udp_ports)      # one for all files, as decode_files' FrameDecoder
    checker = FrameDecoder(sctp_udp_ports=sctp_udp_ports)
    offset = 0
    meter = progress.current()    # a progress bar on a terminal (sctpscope.progress), else None
    if meter is not None:
        meter.begin(paths)
    for index, path in enumerate(paths):
        with open_capture(path) as cap:
            _check_link_types(path, cap, checker)
            if meter is not None:
                meter.file(index, cap, offset)
            last = 0
            for frame in cap:
                last = frame.number
                if meter is not None and not last % progress.TICK:
                    meter.tick(offset + last)
                number = offset + last
                out, payloads = decode_frame(net, number, frame.ts, frame.linktype, frame.data, frame.orig_len,
                                             verify)
                ifaces = cap.interfaces
                iface = ifaces[frame.interface] if 0 <= frame.interface < len(ifaces) else None
                ts_ns = (nanoseconds(cap.ticks, iface.tsdiv, iface.tsoffset) if iface is not None
                         else round(frame.ts * 1e9))
                yield RawFrame(number, index, frame, iface, out, payloads, ts_ns)
            offset += last


def decode_frame(net: NetDecoder, number: int, ts: float, linktype: int, data: bytes, orig_len: int,
                 verify: bool) -> tuple[DecodedFrame, list]:
    """One frame decoded as FrameDecoder.decode does, with the bytes of each SCTP packet in ``sctp``."""
    res = net.decode(linktype, data, ts, orig_len=orig_len)
    out = DecodedFrame(number, ts, [], [], list(res.problems) if res.problems else [], res.layers)
    payloads = []
    for c in res.carried:
        pkt = decode_sctp(c.payload, base=c.offset if c.offset >= 0 else 0, verify=verify)
        rec = SctpRecord(number, ts, c.src, c.dst, c.ip_version, c.encap, c.udp_encapsulated, c.fragmented,
                         c.offset, pkt)
        if c.quoted:
            out.quotes.append(rec)
        else:
            out.sctp.append(rec)
            payloads.append(c.payload)
            if pkt.problems:
                out.problems.extend(pkt.problems)
    return out, payloads


class Rereader:
    """Frames read back by number from a store (capture.index) and decoded again, with their SCTP packets'
    bytes; an SCTP packet reassembled from IP fragments is rebuilt from the frames before (module doc)."""

    def __init__(self, store, decoder: FrameDecoder) -> None:
        """`store`: what capture.index.MultiIndex (or live.index) reads frames from; `decoder`: a fresh
        FrameDecoder with the capture's options (the indexer's ``decoder()``)."""
        self.store = store
        self.net = decoder.net
        self.ports = tuple(decoder.net.sctp_udp_ports)
        self.verify = decoder.verify

    def read(self, number: int) -> tuple[DecodedFrame, list]:
        """Frame `number` decoded, and the bytes of each SCTP packet in it (the store's KeyError, OSError or
        ValueError when it cannot be read)."""
        raw = self.store.read(number)
        out = self._decode(self.net, raw)
        if "ip-fragment" in out[0].layers and not any(r.fragmented for r in out[0].sctp):
            return self._with_earlier(raw) or out
        return out

    def _decode(self, net: NetDecoder, raw: StoredFrame) -> tuple[DecodedFrame, list]:
        return decode_frame(net, raw.number, raw.ts, raw.linktype, raw.data, raw.orig_len, self.verify)

    def _with_earlier(self, raw: StoredFrame) -> tuple[DecodedFrame, list] | None:
        """The frame decoded after the fewest frames before it that complete an IP-fragmented SCTP packet."""
        earlier: list[StoredFrame | None] = []       # the frames before it, nearest first (None: unreadable)
        timeout = raw.ts - self.net.frag4.timeout
        oldest = raw.ts
        k = 1
        while True:
            while len(earlier) < k and raw.number - len(earlier) > 1 and oldest >= timeout:
                try:
                    f = self.store.read(raw.number - len(earlier) - 1)
                except (KeyError, OSError, ValueError):
                    f = None
                earlier.append(f)
                if f is not None:
                    oldest = min(oldest, f.ts)
            net = NetDecoder(sctp_udp_ports=self.ports)
            for f in reversed(earlier):
                if f is not None:
                    net.decode(f.linktype, f.data, f.ts, orig_len=f.orig_len)
            out = self._decode(net, raw)
            if any(r.fragmented for r in out[0].sctp):
                return out
            if len(earlier) < k or k >= LOOKBACK:
                return None
            k *= 2
