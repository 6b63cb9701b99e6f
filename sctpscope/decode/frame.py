"""One captured frame in, its decoded SCTP packets out: link/IP decode composed with the SCTP decoder."""

from __future__ import annotations

from dataclasses import dataclass, field

from sctpscope.decode.net import NetDecoder
from sctpscope.decode.sctp import SctpPacket, decode_sctp
from sctpscope.problems import Problem

_NONE: tuple = ()


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


def port_partition(payload, parts: int) -> int:
    """Which of `parts` workers owns an SCTP packet: a hash of its unordered port pair.

    Every packet of an association has the same two ports whatever its addresses and tags, so a worker
    sees whole associations and the workers' results combine by concatenation.
    """
    if len(payload) < 4:
        return 0
    ports = (payload[0] << 8 | payload[1]) ^ (payload[2] << 8 | payload[3])
    return ((ports * 2654435761) >> 7) % parts


class FrameDecoder:
    """Decodes frames one by one; the only state is the IP fragment reassembly held by the NetDecoder.

    With `partition=(k, n)` only SCTP packets owned by worker k of n are decoded (see port_partition), and
    frame-level findings (link/IP problems, ICMP quotes) are reported by worker 0 alone.
    """

    def __init__(self, sctp_udp_ports: tuple[int, ...] = (9899,), verify_checksum: bool = True,
                 partition: tuple[int, int] | None = None) -> None:
        self.net = NetDecoder(sctp_udp_ports=sctp_udp_ports)
        self.verify = verify_checksum
        self.partition = partition if partition and partition[1] > 1 else None

    def supports(self, linktype: int) -> bool:
        return self.net.supports(linktype)

    def decode(self, number: int, ts: float, linktype: int, data: bytes, orig_len: int | None = None) -> DecodedFrame:
        res = self.net.decode(linktype, data, ts, orig_len=orig_len)
        part = self.partition
        lead = part is None or part[0] == 0
        out = DecodedFrame(number, ts, [], [], list(res.problems) if res.problems and lead else [], res.layers)
        for c in res.carried:
            if c.quoted:
                if not lead:
                    continue
            elif part is not None and port_partition(c.payload, part[1]) != part[0]:
                continue
            base = c.offset if c.offset >= 0 else 0
            pkt = decode_sctp(c.payload, base=base, verify=self.verify)
            rec = SctpRecord(number, ts, c.src, c.dst, c.ip_version, c.encap, c.udp_encapsulated,
                             c.fragmented, c.offset, pkt)
            if c.quoted:
                out.quotes.append(rec)
            else:
                out.sctp.append(rec)
                if pkt.problems:
                    out.problems.extend(pkt.problems)
        return out
