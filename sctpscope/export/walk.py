"""Frames with their raw bytes beside their decode: what `extract` (frame bytes) and `follow` (user-message
bytes, also of SCTP packets reassembled from IP fragments) need, and pipeline.decode_files does not keep.

The decode is FrameDecoder.decode's, step by step (NetDecoder, then decode_sctp for every SCTP packet
carried), keeping each carried packet's bytes: the records are equal to decode_files' (a test checks it on
every bundled capture), so frame numbers and association membership agree with the report.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass

from sctpscope.capture import Frame, Interface, open_capture
from sctpscope.decode.frame import DecodedFrame, FrameDecoder, SctpRecord
from sctpscope.decode.net import NetDecoder
from sctpscope.decode.sctp import decode_sctp


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


def walk(paths: Sequence[str], *, sctp_udp_ports: tuple[int, ...] = (9899,), verify: bool = True) -> Iterator[RawFrame]:
    """Every frame of every file in order, numbered on across files as decode_files numbers them."""
    from sctpscope.pipeline import _check_link_types

    net = NetDecoder(sctp_udp_ports=sctp_udp_ports)      # one for all files, as decode_files' FrameDecoder
    checker = FrameDecoder(sctp_udp_ports=sctp_udp_ports)
    offset = 0
    for index, path in enumerate(paths):
        with open_capture(path) as cap:
            _check_link_types(path, cap, checker)
            last = 0
            for frame in cap:
                last = frame.number
                number = offset + last
                res = net.decode(frame.linktype, frame.data, frame.ts, orig_len=frame.orig_len)
                out = DecodedFrame(number, frame.ts, [], [], list(res.problems) if res.problems else [], res.layers)
                payloads = []
                for c in res.carried:
                    pkt = decode_sctp(c.payload, base=c.offset if c.offset >= 0 else 0, verify=verify)
                    rec = SctpRecord(number, frame.ts, c.src, c.dst, c.ip_version, c.encap, c.udp_encapsulated,
                                     c.fragmented, c.offset, pkt)
                    if c.quoted:
                        out.quotes.append(rec)
                    else:
                        out.sctp.append(rec)
                        payloads.append(c.payload)
                        if pkt.problems:
                            out.problems.extend(pkt.problems)
                ifaces = cap.interfaces
                iface = ifaces[frame.interface] if 0 <= frame.interface < len(ifaces) else None
                yield RawFrame(number, index, frame, iface, out, payloads)
            offset += last
