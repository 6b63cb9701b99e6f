"""One captured frame in, its decoded SCTP packets out: link/IP decode composed with the SCTP decoder."""

from __future__ import annotations

from dataclasses import dataclass, field

from sctpscope.decode.net import NetDecoder
from sctpscope.decode.sctp import SctpPacket, decode_sctp
from sctpscope.problems import Problem


@dataclass(slots=True)
class SctpRecord:
    """An SCTP packet as found in a frame: where it came from and what it holds."""

    frame: int
    ts: float
    src: str
    dst: str
    ip_version: int
    encap: tuple[str, ...]
    udp_encapsulated: bool
    fragmented: bool
    offset: int  # of the SCTP bytes in the frame; -1 when reassembled from IP fragments
    packet: SctpPacket


@dataclass(slots=True)
class DecodedFrame:
    """Everything decoded from one frame.

    `sctp` are the SCTP packets carried (usually one); `quotes` are SCTP headers quoted inside ICMP errors,
    decoded for display but never counted as SCTP packets.
    """

    number: int
    ts: float
    sctp: list[SctpRecord] = field(default_factory=list)
    quotes: list[SctpRecord] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    layers: list[str] = field(default_factory=list)


class FrameDecoder:
    """Decodes frames one by one; the only state is the IP fragment reassembly held by the NetDecoder."""

    def __init__(self, sctp_udp_ports: tuple[int, ...] = (9899,), verify_checksum: bool = True) -> None:
        self.net = NetDecoder(sctp_udp_ports=sctp_udp_ports)
        self.verify = verify_checksum

    def decode(self, number: int, ts: float, linktype: int, data: bytes, orig_len: int | None = None) -> DecodedFrame:
        res = self.net.decode(linktype, data, ts, orig_len=orig_len)
        out = DecodedFrame(number, ts, problems=list(res.problems), layers=res.layers)
        for c in res.carried:
            base = c.offset if c.offset >= 0 else 0
            pkt = decode_sctp(c.payload, base=base, verify=self.verify)
            rec = SctpRecord(number, ts, c.src, c.dst, c.ip_version, c.encap, c.udp_encapsulated,
                             c.fragmented, c.offset, pkt)
            if c.quoted:
                out.quotes.append(rec)
            else:
                out.sctp.append(rec)
                out.problems.extend(pkt.problems)
        return out
