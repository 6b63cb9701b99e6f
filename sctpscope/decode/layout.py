"""Where each field of a frame lies: a tree of (label, offset, length) nodes for the packet-detail view.

`frame_tree(raw, decoded)` walks the link and IP headers of a frame again (they are fixed layouts) and maps
the decoded SCTP packets (whose chunks, parameters and causes carry their offsets) onto field nodes:
frame → link → IP → (UDP / tunnels) → SCTP → chunks → parameters / causes. Offsets are in the frame, so a
hex view can highlight a node's bytes. Nodes that correspond to a tshark field carry its name (`field`),
which lets the tests compare every position with `tshark -T pdml`.

Pure: bytes and decoded records in, nodes out; labels are terminal-safe (packet text is escaped).
"""

from __future__ import annotations

import ipaddress
import struct
from dataclasses import dataclass
from dataclasses import field as _field

from sctpscope.decode.sctp import chunk_name, ppid_name
from sctpscope.decode.sctp.causes import (InvalidStreamCause, MissingParamsCause, NoUserDataCause,
                                          ParamCause, ProtocolViolationCause, StaleCookieCause,
                                          UnrecognizedChunkCause, UnsupportedHmacCause, UserAbortCause)
from sctpscope.decode.sctp.chunks import (AsconfChunk, AuthChunk, CausesChunk, CookieEchoChunk, DataChunk,
                                          ForwardTsnChunk, IDataChunk, IForwardTsnChunk, InitChunk, PadChunk,
                                          ParamsChunk, PktDropChunk, SackChunk, ShortChunk, ShutdownChunk,
                                          TsnChunk)
from sctpscope.decode.sctp.params import (AdaptationLayerParam, AddressParam, AddStreamsParam,
                                          AsconfAddressParam, ChunkListParam, CookiePreservativeParam,
                                          ErrorCauseIndicationParam, HeartbeatInfoParam, HmacAlgoParam,
                                          HostNameParam, IncomingResetParam, OutgoingResetParam,
                                          RandomParam, ReconfigResponseParam, SsnTsnResetParam,
                                          StateCookieParam, SuccessIndicationParam,
                                          SupportedAddressTypesParam, UnrecognizedParam)
from sctpscope.text import escape_bytes, escape_text

_U16 = struct.Struct("!H").unpack_from
_U32 = struct.Struct("!I").unpack_from


@dataclass(slots=True)
class Node:
    """One line of the detail tree: what it is, where its bytes are in the frame (offset -1: not in this
    frame's bytes, e.g. reassembled from IP fragments), the tshark field it matches, its children."""

    label: str
    offset: int
    length: int
    field: str | None = None
    children: list["Node"] = _field(default_factory=list)
    ref: tuple | None = None        # ("sctp", i) / ("chunk", i, j): the i-th SCTP packet (header decoded)


    def add(self, label: str, offset: int, length: int, fld: str | None = None) -> "Node":
        n = Node(label, offset, length, fld)
        self.children.append(n)
        return n

    def walk(self):
        """This node and every node below it, depth first."""
        yield self
        for c in self.children:
            yield from c.walk()


def _mac(b: bytes) -> str:
    return ":".join(f"{x:02x}" for x in b)


def _hex(b: bytes, limit: int = 32) -> str:
    s = bytes(b[:limit]).hex()
    return s + ("…" if len(b) > limit else "")


# -- link and IP layers -----------------------------------------------------------------------------------
class _Walker:
    """Walks link / IP / UDP / tunnel headers of one frame, adding nodes, until the SCTP offsets."""

    def __init__(self, root: Node, data: bytes, targets: set[int], sctp_udp_ports: frozenset[int]) -> None:
        self.root, self.data, self.targets, self.udp_ports = root, data, targets, sctp_udp_ports
        self.n = len(data)

    def have(self, off: int, need: int) -> bool:
        return off >= 0 and off + need <= self.n

    def link(self, linktype: int) -> None:
        if linktype == 1:
            self.ether(0, 0)
        elif linktype == 113:
            self.sll(0)
        elif linktype == 276:
            self.sll2(0)
        elif linktype in (0, 108):
            self.null(0, linktype)
        elif linktype in (12, 14, 101):
            self.ip(0, 0)
        elif linktype == 228:
            self.ipv4(0, 0)
        elif linktype == 229:
            self.ipv6(0, 0)

    def ether(self, off: int, depth: int) -> None:
        d = self.data
        if not self.have(off, 14):
            return
        node = self.root.add(f"Ethernet II, Src: {_mac(d[off + 6:off + 12])}, Dst: {_mac(d[off:off + 6])}", off, 14)
        node.add(f"Destination: {_mac(d[off:off + 6])}", off, 6, "eth.dst")
        node.add(f"Source: {_mac(d[off + 6:off + 12])}", off + 6, 6, "eth.src")
        etype = _U16(d, off + 12)[0]
        p = off + 14
        if etype < 0x600:
            node.add(f"Length: {etype}", off + 12, 2, "eth.len")
            return
        node.add(f"Type: 0x{etype:04x}", off + 12, 2, "eth.type")
        self.ethertype(p, etype, depth)

    def ethertype(self, p: int, etype: int, depth: int) -> None:
        d = self.data
        while etype in (0x8100, 0x88A8, 0x9100, 0x9200) and self.have(p, 4):
            tci, etype = struct.unpack_from("!HH", d, p)
            node = self.root.add(f"802.1Q Virtual LAN, PRI: {tci >> 13}, DEI: {(tci >> 12) & 1}, ID: {tci & 0xFFF}", p, 4)
            node.add(f"Priority: {tci >> 13}, DEI: {(tci >> 12) & 1}, ID: {tci & 0xFFF}", p, 2, "vlan.id")
            node.add(f"Type: 0x{etype:04x}", p + 2, 2, "vlan.etype")
            p += 4
        if etype == 0x0800:
            self.ipv4(p, depth)
        elif etype == 0x86DD:
            self.ipv6(p, depth)

    def sll(self, off: int) -> None:
        d = self.data
        if not self.have(off, 16):
            return
        ptype, hatype, halen = struct.unpack_from("!HHH", d, off)
        proto = _U16(d, off + 14)[0]
        node = self.root.add("Linux cooked capture v1", off, 16)
        node.add(f"Packet type: {ptype}", off, 2)
        node.add(f"Link-layer address type: {hatype}", off + 2, 2)
        node.add(f"Link-layer address length: {halen}", off + 4, 2)
        node.add(f"Source: {_hex(d[off + 6:off + 6 + min(halen, 8)])}", off + 6, 8)
        node.add(f"Protocol: 0x{proto:04x}", off + 14, 2)
        self.ethertype(off + 16, proto, 0)

    def sll2(self, off: int) -> None:
        d = self.data
        if not self.have(off, 20):
            return
        proto = _U16(d, off)[0]
        ifindex = _U32(d, off + 4)[0]
        hatype = _U16(d, off + 8)[0]
        node = self.root.add("Linux cooked capture v2", off, 20)
        node.add(f"Protocol: 0x{proto:04x}", off, 2)
        node.add(f"Interface index: {ifindex}", off + 4, 4)
        node.add(f"Link-layer address type: {hatype}", off + 8, 2)
        node.add(f"Packet type: {d[off + 10]}", off + 10, 1)
        node.add(f"Link-layer address length: {d[off + 11]}", off + 11, 1)
        node.add(f"Source: {_hex(d[off + 12:off + 12 + min(d[off + 11], 8)])}", off + 12, 8)
        self.ethertype(off + 20, proto, 0)

    def null(self, off: int, linktype: int) -> None:
        d = self.data
        if not self.have(off, 4):
            return
        fam = struct.unpack_from("<I", d, off)[0]
        if fam not in (2, 24, 28, 30):
            fam = _U32(d, off)[0]
        self.root.add(f"{'Null/Loopback' if linktype == 0 else 'OpenBSD loopback'}, family: {fam}", off, 4)
        if fam == 2:
            self.ipv4(off + 4, 0)
        elif fam in (24, 28, 30):
            self.ipv6(off + 4, 0)

    def ip(self, off: int, depth: int) -> None:
        if self.have(off, 1):
            v = self.data[off] >> 4
            if v == 4:
                self.ipv4(off, depth)
            elif v == 6:
                self.ipv6(off, depth)

    def ipv4(self, off: int, depth: int) -> None:
        d = self.data
        if not self.have(off, 20) or d[off] >> 4 != 4:
            return
        hl = (d[off] & 0xF) * 4
        tos, tot, ident, frag, ttl, proto, csum = struct.unpack_from("!xBHHHBBH", d, off)
        src, dst = ipaddress.IPv4Address(d[off + 12:off + 16]), ipaddress.IPv4Address(d[off + 16:off + 20])
        node = self.root.add(f"Internet Protocol Version 4, Src: {src}, Dst: {dst}", off, min(hl, self.n - off))
        node.add("Version: 4", off, 1, "ip.version")
        node.add(f"Header Length: {hl} bytes", off, 1, "ip.hdr_len")
        node.add(f"Differentiated Services Field: 0x{tos:02x}", off + 1, 1, "ip.dsfield")
        node.add(f"Total Length: {tot}", off + 2, 2, "ip.len")
        node.add(f"Identification: 0x{ident:04x} ({ident})", off + 4, 2, "ip.id")
        flags = ", ".join(n for b, n in ((0x4000, "Don't fragment"), (0x2000, "More fragments")) if frag & b)
        node.add(f"Flags: 0x{frag >> 13:x}{' (' + flags + ')' if flags else ''}", off + 6, 1, "ip.flags")
        node.add(f"Fragment Offset: {(frag & 0x1FFF) * 8}", off + 6, 2, "ip.frag_offset")
        node.add(f"Time to Live: {ttl}", off + 8, 1, "ip.ttl")
        node.add(f"Protocol: {proto}", off + 9, 1, "ip.proto")
        node.add(f"Header Checksum: 0x{csum:04x}", off + 10, 2, "ip.checksum")
        node.add(f"Source Address: {src}", off + 12, 4, "ip.src")
        node.add(f"Destination Address: {dst}", off + 16, 4, "ip.dst")
        if hl > 20 and self.have(off, hl):
            node.add(f"Options: {hl - 20} bytes", off + 20, hl - 20)
        if frag & 0x3FFF:
            return                          # a fragment: what it carries is reassembled elsewhere
        end = min(self.n, off + tot) if tot >= hl else self.n
        self.transport(off + hl, end, proto, depth)

    def ipv6(self, off: int, depth: int) -> None:
        d = self.data
        if not self.have(off, 40) or d[off] >> 4 != 6:
            return
        plen, nh, hlim = struct.unpack_from("!HBB", d, off + 4)
        src, dst = ipaddress.IPv6Address(d[off + 8:off + 24]), ipaddress.IPv6Address(d[off + 24:off + 40])
        node = self.root.add(f"Internet Protocol Version 6, Src: {src}, Dst: {dst}", off, 40)
        node.add("Version: 6", off, 1, "ipv6.version")
        node.add(f"Traffic Class: 0x{(_U32(d, off)[0] >> 20) & 0xFF:02x}", off, 4, "ipv6.tclass")
        node.add(f"Flow Label: 0x{_U32(d, off)[0] & 0xFFFFF:05x}", off + 1, 3, "ipv6.flow")
        node.add(f"Payload Length: {plen}", off + 4, 2, "ipv6.plen")
        node.add(f"Next Header: {nh}", off + 6, 1, "ipv6.nxt")
        node.add(f"Hop Limit: {hlim}", off + 7, 1, "ipv6.hlim")
        node.add(f"Source Address: {src}", off + 8, 16, "ipv6.src")
        node.add(f"Destination Address: {dst}", off + 24, 16, "ipv6.dst")
        p = off + 40
        end = min(self.n, p + plen) if plen else self.n
        while nh in (0, 43, 60, 44, 51, 135, 139, 140) and self.have(p, 8):
            if nh == 44:
                fo = _U16(d, p + 2)[0]
                self.root.add(f"IPv6 Fragment header, offset {fo & 0xFFF8}, more: {fo & 1}", p, 8)
                if fo & 0xFFF9:
                    return
                nh, p = d[p], p + 8
                continue
            hlen = (d[p + 1] + 2) * 4 if nh == 51 else (d[p + 1] + 1) * 8
            self.root.add(f"IPv6 extension header {nh}, {hlen} bytes", p, min(hlen, self.n - p))
            nh, p = d[p], p + hlen
        self.transport(p, end, nh, depth)

    def transport(self, p: int, end: int, proto: int, depth: int) -> None:
        if p in self.targets or depth > 6:
            return
        if proto == 17:
            self.udp(p, end, depth)
        elif proto == 4:
            self.ipv4(p, depth + 1)
        elif proto == 41:
            self.ipv6(p, depth + 1)
        elif proto == 47 and self.have(p, 4):
            flags, ptype = struct.unpack_from("!HH", self.data, p)
            hl = 4 + 4 * sum(1 for b in (0x8000, 0x2000, 0x1000) if flags & b)
            self.root.add(f"Generic Routing Encapsulation, protocol 0x{ptype:04x}", p, hl)
            if ptype == 0x6558:
                self.ether(p + hl, depth + 1)
            else:
                self.ethertype(p + hl, ptype, depth + 1)
        elif proto in (1, 58):
            self.root.add(f"{'ICMP' if proto == 1 else 'ICMPv6'} (type {self.data[p] if self.have(p, 1) else '?'})",
                          p, max(0, min(8, end - p)))
            if self.have(p, 8):
                self.ip(p + 8, depth + 1)

    def udp(self, p: int, end: int, depth: int) -> None:
        d = self.data
        if not self.have(p, 8):
            return
        sport, dport, ulen, csum = struct.unpack_from("!HHHH", d, p)
        node = self.root.add(f"User Datagram Protocol, Src Port: {sport}, Dst Port: {dport}", p, 8)
        node.add(f"Source Port: {sport}", p, 2, "udp.srcport")
        node.add(f"Destination Port: {dport}", p + 2, 2, "udp.dstport")
        node.add(f"Length: {ulen}", p + 4, 2, "udp.length")
        node.add(f"Checksum: 0x{csum:04x}", p + 6, 2, "udp.checksum")
        q = p + 8
        if q in self.targets or sport in self.udp_ports or dport in self.udp_ports:
            return
        ports = {sport, dport}
        if 4789 in ports and self.have(q, 8):
            vni = _U32(d, q + 4)[0] >> 8
            self.root.add(f"Virtual eXtensible Local Area Network, VNI: {vni}", q, 8)
            self.ether(q + 8, depth + 1)
        elif 2152 in ports and self.have(q, 8):
            flags, mtype, glen, teid = struct.unpack_from("!BBHI", d, q)
            hl = 8
            if flags & 0x07 and self.have(q, 12):
                hl = 12
                nxt = d[q + 11] if flags & 0x04 else 0
                while nxt and self.have(q + hl, 1) and d[q + hl]:
                    elen = d[q + hl] * 4
                    nxt = d[q + hl + elen - 1] if self.have(q + hl, elen) else 0
                    hl += elen
            self.root.add(f"GPRS Tunneling Protocol, message type {mtype}, TEID 0x{teid:08x}", q, hl)
            self.ip(q + hl, depth + 1)
        elif 6081 in ports and self.have(q, 8):
            hl = 8 + ((d[q] & 0x3F) << 2)
            ptype = _U16(d, q + 2)[0]
            self.root.add(f"Generic Network Virtualization Encapsulation, protocol 0x{ptype:04x}", q, hl)
            if ptype == 0x6558:
                self.ether(q + hl, depth + 1)
            else:
                self.ethertype(q + hl, ptype, depth + 1)


# -- SCTP ---------------------------------------------------------------------------------------------------


def _flags(c) -> str:
    if c.type in (0, 64):
        names = [n for b, n in ((8, "I"), (4, "U"), (2, "B"), (1, "E")) if c.flags & b]
        return f"0x{c.flags:02x}" + (f" ({' '.join(names)})" if names else "")
    if c.type in (6, 14):
        return f"0x{c.flags:02x}" + (" (T: tag reflected)" if c.flags & 1 else "")
    return f"0x{c.flags:02x}"


def sctp_tree(pkt, base: int, src: str = "", dst: str = "") -> Node:
    """The SCTP packet at frame offset `base` (-1: not in this frame's bytes) as a node tree."""
    rel = base >= 0

    def at(o: int) -> int:
        return base + o if rel else -1

    root = Node(f"Stream Control Transmission Protocol, Src Port: {pkt.src_port}, Dst Port: {pkt.dst_port}",
                at(0), pkt.length)
    if not pkt.header_ok:
        root.label = "Stream Control Transmission Protocol (header cut short)"
        return root
    root.add(f"Source port: {pkt.src_port}", at(0), 2, "sctp.srcport")
    root.add(f"Destination port: {pkt.dst_port}", at(2), 2, "sctp.dstport")
    root.add(f"Verification tag: 0x{pkt.vtag:08x}", at(4), 4, "sctp.verification_tag")
    status = {"crc32c": "correct CRC32c", "adler32": "correct Adler-32", "zero": "zero",
              "bad": f"WRONG (CRC32c would be 0x{pkt.computed_crc32c or 0:08x})", "unchecked": "not verified"}
    root.add(f"Checksum: 0x{pkt.checksum:08x} [{status.get(pkt.checksum_status, pkt.checksum_status)}]",
             at(8), 4, "sctp.checksum")
    for c in pkt.chunks:
        node = chunk_node(c, at, pkt.length)
        node.ref = ("chunk",)
        root.children.append(node)
    for p in pkt.problems:
        root.add(f"⚠ {escape_text(str(p))}", -1, 0)
    return root


def chunk_summary_label(c) -> str:
    """A chunk's node label: its name and key fields."""
    name = chunk_name(c.type)
    if isinstance(c, DataChunk):
        ppid = ppid_name(c.ppid)
        return (f"DATA chunk (TSN {c.tsn}, SID {c.sid}, SSN {c.ssn}, PPID {c.ppid}{'/' + ppid if ppid else ''}, "
                f"{c.payload_length} bytes)")
    if isinstance(c, IDataChunk):
        return f"I_DATA chunk (TSN {c.tsn}, SID {c.sid}, MID {c.mid}, {c.payload_length} bytes)"
    if isinstance(c, InitChunk):
        return f"{name} chunk (OS {c.outbound_streams}, MIS {c.inbound_streams})"
    if isinstance(c, SackChunk):
        return f"{name} chunk (cumulative TSN ack {c.cum_tsn_ack}, a_rwnd {c.a_rwnd}, gaps {len(c.gap_blocks)})"
    if isinstance(c, ShortChunk):
        return f"{name} chunk (cut short)"
    return f"{name} chunk"


def chunk_node(c, at, pkt_len: int) -> Node:
    """One chunk: header fields, the type's own fields, parameters / causes, padding."""
    o = c.offset
    node = Node(chunk_summary_label(c), at(o), min(c.length, pkt_len - o) if c.length >= 4 else 4)
    node.add(f"Chunk type: {chunk_name(c.type)} ({c.type})", at(o), 1, "sctp.chunk_type")
    node.add(f"Chunk flags: {_flags(c)}", at(o + 1), 1, "sctp.chunk_flags")
    node.add(f"Chunk length: {c.length}", at(o + 2), 2, "sctp.chunk_length")
    if isinstance(c, ShortChunk):
        return node
    _CHUNK_FIELDS.get(type(c), _no_fields)(node, c, at)
    L = c.length
    pad = (-L) & 3
    if pad and getattr(c, "padding_ok", True) and o + L + pad <= pkt_len and not isinstance(c, PadChunk):
        node.add(f"Chunk padding: {pad} bytes", at(o + L), pad, "sctp.chunk_padding")
    return node


def _no_fields(node, c, at) -> None:
    pass


def _data(node: Node, c, at) -> None:
    o = c.offset
    node.add(f"Transmission sequence number: {c.tsn}", at(o + 4), 4, "sctp.data_tsn")
    node.add(f"Stream identifier: {c.sid}", at(o + 8), 2, "sctp.data_sid")
    node.add(f"Stream sequence number: {c.ssn}", at(o + 10), 2, "sctp.data_ssn")
    name = ppid_name(c.ppid)
    node.add(f"Payload protocol identifier: {c.ppid}{' (' + name + ')' if name else ''}", at(o + 12), 4,
             "sctp.data_payload_proto_id")
    if c.payload_length > 0:
        node.add(f"User data: {c.payload_length} bytes", at(c.payload_offset), c.payload_length)


def _idata(node: Node, c, at) -> None:
    o = c.offset
    node.add(f"Transmission sequence number: {c.tsn}", at(o + 4), 4, "sctp.data_tsn")
    node.add(f"Stream identifier: {c.sid}", at(o + 8), 2, "sctp.data_sid")
    node.add("Reserved", at(o + 10), 2, "sctp.data_reserved")
    node.add(f"Message identifier: {c.mid}", at(o + 12), 4, "sctp.data_mid")
    if c.ppid is not None:
        node.add(f"Payload protocol identifier: {c.ppid}", at(o + 16), 4, "sctp.data_payload_proto_id")
    else:
        node.add(f"Fragment sequence number: {c.fsn}", at(o + 16), 4, "sctp.data_fsn")
    if c.payload_length > 0:
        node.add(f"User data: {c.payload_length} bytes", at(c.payload_offset), c.payload_length)


def _init(node: Node, c, at) -> None:
    o = c.offset
    k = "init" if c.type == 1 else "initack"
    node.add(f"Initiate tag: 0x{c.initiate_tag:08x}", at(o + 4), 4, f"sctp.{k}_initiate_tag")
    node.add(f"Advertised receiver window credit (a_rwnd): {c.a_rwnd}", at(o + 8), 4, f"sctp.{k}_credit")
    node.add(f"Number of outbound streams: {c.outbound_streams}", at(o + 12), 2, f"sctp.{k}_nr_out_streams")
    node.add(f"Number of inbound streams: {c.inbound_streams}", at(o + 14), 2, f"sctp.{k}_nr_in_streams")
    node.add(f"Initial TSN: {c.initial_tsn}", at(o + 16), 4, f"sctp.{k}_initial_tsn")
    _params(node, c.params, at)


def _sack(node: Node, c, at) -> None:
    o = c.offset
    nr = c.type == 16
    k = "nr_sack" if nr else "sack"
    node.add(f"Cumulative TSN ACK: {c.cum_tsn_ack}", at(o + 4), 4, f"sctp.{k}_cumulative_tsn_ack")
    node.add(f"Advertised receiver window credit (a_rwnd): {c.a_rwnd}", at(o + 8), 4, f"sctp.{k}_a_rwnd")
    node.add(f"Number of gap acknowledgement blocks: {len(c.gap_blocks)}", at(o + 12), 2,
             f"sctp.{k}_number_of_gap_blocks")
    if nr:
        node.add(f"Number of nr-gap acknowledgement blocks: {len(c.nr_gap_blocks or [])}", at(o + 14), 2,
                 "sctp.nr_sack_number_of_nr_gap_blocks")
        node.add(f"Number of duplicated TSNs: {len(c.dup_tsns)}", at(o + 16), 2,
                 "sctp.nr_sack_number_of_duplicated_tsns")
        node.add("Reserved", at(o + 18), 2, "sctp.nr_sack_reserved")
        p = o + 20
    else:
        node.add(f"Number of duplicated TSNs: {len(c.dup_tsns)}", at(o + 14), 2, "sctp.sack_number_of_duplicated_tsns")
        p = o + 16
    for start, end in c.gap_blocks:
        g = node.add(f"Gap Acknowledgement for TSN {c.cum_tsn_ack + start} to {c.cum_tsn_ack + end}", at(p), 4)
        g.add(f"Start: {start}", at(p), 2, f"sctp.{k}_gap_block_start")
        g.add(f"End: {end}", at(p + 2), 2, f"sctp.{k}_gap_block_end")
        p += 4
    for start, end in c.nr_gap_blocks or ():
        g = node.add(f"NR Gap Acknowledgement for TSN {c.cum_tsn_ack + start} to {c.cum_tsn_ack + end}", at(p), 4)
        g.add(f"Start: {start}", at(p), 2, "sctp.nr_sack_nr_gap_block_start")
        g.add(f"End: {end}", at(p + 2), 2, "sctp.nr_sack_nr_gap_block_end")
        p += 4
    for t in c.dup_tsns:
        node.add(f"Duplicate TSN: {t}", at(p), 4, f"sctp.{k}_duplicate_tsn")
        p += 4


def _params_chunk(node: Node, c, at) -> None:
    _params(node, c.params, at)


def _causes_chunk(node: Node, c, at) -> None:
    _causes(node, c.causes, at)


def _shutdown(node: Node, c, at) -> None:
    node.add(f"Cumulative TSN Ack: {c.cum_tsn_ack}", at(c.offset + 4), 4, "sctp.shutdown_cumulative_tsn_ack")


def _cookie_echo(node: Node, c, at) -> None:
    if c.cookie_length > 0:
        node.add(f"Cookie: {c.cookie_length} bytes", at(c.offset + 4), c.cookie_length, "sctp.cookie")


def _tsn(node: Node, c, at) -> None:
    k = "ecne" if c.type == 12 else "cwr"
    node.add(f"Lowest TSN: {c.lowest_tsn}", at(c.offset + 4), 4, f"sctp.{k}_lowest_tsn")


def _auth(node: Node, c, at) -> None:
    o = c.offset
    node.add(f"Shared key identifier: {c.shared_key_id}", at(o + 4), 2, "sctp.shared_key_id")
    node.add(f"HMAC identifier: {c.hmac_id}", at(o + 6), 2, "sctp.hmac_id")
    if c.hmac:
        node.add(f"HMAC: {_hex(c.hmac)}", at(o + 8), len(c.hmac), "sctp.hmac")


def _asconf(node: Node, c, at) -> None:
    k = "asconf_seq_nr_number" if c.type == 193 else "asconf_ack_seq_nr_number"
    node.add(f"Sequence number: {c.serial}", at(c.offset + 4), 4, f"sctp.{k}")
    _params(node, c.params, at)


def _pad(node: Node, c, at) -> None:
    if c.pad_length > 0:
        node.add(f"Padding data: {c.pad_length} bytes", at(c.offset + 4), c.pad_length, "sctp.padding_data")


def _fwd(node: Node, c, at) -> None:
    o = c.offset
    node.add(f"New cumulative TSN: {c.new_cum_tsn}", at(o + 4), 4, "sctp.forward_tsn_tsn")
    p = o + 8
    for sid, ssn in c.streams:
        node.add(f"Stream identifier: {sid}", at(p), 2, "sctp.forward_tsn_sid")
        node.add(f"Stream sequence number: {ssn}", at(p + 2), 2, "sctp.forward_tsn_ssn")
        p += 4


def _ifwd(node: Node, c, at) -> None:
    o = c.offset
    node.add(f"New cumulative TSN: {c.new_cum_tsn}", at(o + 4), 4, "sctp.i_forward_tsn_tsn")
    p = o + 8
    for sid, unordered, mid in c.entries:
        node.add(f"Stream identifier: {sid}", at(p), 2, "sctp.i_forward_tsn_sid")
        node.add(f"Flags: U={int(unordered)}", at(p + 2), 2, "sctp.i_forward_tsn_flags")
        node.add(f"Message identifier: {mid}", at(p + 4), 4, "sctp.forward_tsn_mid")
        p += 8


def _pktdrop(node: Node, c, at) -> None:
    o = c.offset
    node.add(f"Bandwidth: {c.link_mtu}", at(o + 4), 4, "sctp.pktdrop_bandwidth")
    node.add(f"Queuesize: {c.queue_size}", at(o + 8), 4, "sctp.pktdrop_queuesize")
    node.add(f"Truncated length: {c.truncated_length}", at(o + 12), 2, "sctp.pktdrop_truncated_length")
    node.add(f"Reserved: {c.reserved}", at(o + 14), 2, "sctp.pktdrop_reserved")
    if c.packet is not None:
        inner = sctp_tree(c.packet, at(o + 16) if at(0) >= 0 else -1)
        inner.label = "Dropped packet: " + inner.label
        node.children.append(inner)
    elif c.dropped_length > 0:
        node.add(f"Data field: {c.dropped_length} bytes", at(c.dropped_offset), c.dropped_length,
                 "sctp.pktdrop_datafield")


_CHUNK_FIELDS = {
    DataChunk: _data, IDataChunk: _idata, InitChunk: _init, SackChunk: _sack, ParamsChunk: _params_chunk,
    CausesChunk: _causes_chunk, ShutdownChunk: _shutdown, CookieEchoChunk: _cookie_echo, TsnChunk: _tsn,
    AuthChunk: _auth, AsconfChunk: _asconf, PadChunk: _pad, ForwardTsnChunk: _fwd, IForwardTsnChunk: _ifwd,
    PktDropChunk: _pktdrop,
}


# -- parameters and causes -------------------------------------------------------------------------------
def _params(node: Node, params, at) -> None:
    for p in params:
        node.children.append(param_node(p, at))


def param_node(p, at) -> Node:
    o, L = p.offset, p.length
    node = Node(f"{escape_text(p.name)} parameter", at(o), max(L, 4))
    node.add(f"Parameter type: {escape_text(p.name)} (0x{p.type:04x})", at(o), 2, "sctp.parameter_type")
    node.add(f"Parameter length: {L}", at(o + 2), 2, "sctp.parameter_length")
    v = o + 4
    if isinstance(p, AddressParam):
        six = p.type == 6
        node.label = f"{p.name} parameter ({p.address})"
        node.add(f"{'IPv6' if six else 'IPv4'} address: {p.address}", at(v), 16 if six else 4,
                 f"sctp.parameter_ipv{6 if six else 4}_address")
    elif isinstance(p, HeartbeatInfoParam):
        if L > 4:
            node.add(f"Heartbeat information: {_hex(p.info)}", at(v), L - 4, "sctp.parameter_heartbeat_information")
    elif isinstance(p, StateCookieParam):
        if L > 4:
            node.add(f"State cookie: {L - 4} bytes", at(v), L - 4, "sctp.parameter_state_cookie")
    elif isinstance(p, CookiePreservativeParam):
        node.add(f"Suggested cookie life-span increment: {p.increment_ms} ms", at(v), 4,
                 "sctp.parameter_cookie_preservative_incr")
    elif isinstance(p, HostNameParam):
        node.add(f"Hostname: {escape_bytes(p.hostname, 64)}", at(v), L - 4, "sctp.parameter_hostname")
    elif isinstance(p, SupportedAddressTypesParam):
        for i, t in enumerate(p.address_types):
            node.add(f"Supported address type: {t}", at(v + 2 * i), 2, "sctp.parameter_supported_address_type")
    elif isinstance(p, ChunkListParam):
        fld = "sctp.supported_chunk_type" if p.type == 0x8008 else "sctp.chunk_type_to_auth"
        for i, t in enumerate(p.chunk_types):
            node.add(f"Chunk type: {chunk_name(t)} ({t})", at(v + i), 1, fld)
    elif isinstance(p, RandomParam):
        if p.random:
            node.add(f"Random number: {_hex(p.random)}", at(v), len(p.random), "sctp.random_number")
    elif isinstance(p, HmacAlgoParam):
        for i, h in enumerate(p.hmac_ids):
            node.add(f"HMAC identifier: {h}", at(v + 2 * i), 2, "sctp.hmac_id")
    elif isinstance(p, AsconfAddressParam):
        if p.correlation_id is not None:
            node.add(f"Correlation ID: {p.correlation_id}", at(v), 4, "sctp.correlation_id")
        if p.address is not None:
            node.children.append(param_node(p.address, at))
    elif isinstance(p, ErrorCauseIndicationParam):
        if p.correlation_id is not None:
            node.add(f"Correlation ID: {p.correlation_id}", at(v), 4, "sctp.correlation_id")
        _causes(node, p.causes, at)
    elif isinstance(p, SuccessIndicationParam):
        if p.correlation_id is not None:
            node.add(f"Correlation ID: {p.correlation_id}", at(v), 4, "sctp.correlation_id")
    elif isinstance(p, AdaptationLayerParam):
        if p.indication is not None:
            node.add(f"Indication: {p.indication}", at(v), 4, "sctp.adaptation_layer_indication")
    elif isinstance(p, OutgoingResetParam):
        node.add(f"Re-configuration request sequence number: {p.req_seq}", at(v), 4,
                 "sctp.parameter_reconfig_request_sequence_number")
        node.add(f"Re-configuration response sequence number: {p.resp_seq}", at(v + 4), 4,
                 "sctp.parameter_reconfig_response_sequence_number")
        node.add(f"Sender's last assigned TSN: {p.last_tsn}", at(v + 8), 4, "sctp.parameter_senders_last_assigned_tsn")
        for i, s in enumerate(p.sids):
            node.add(f"Stream identifier: {s}", at(v + 12 + 2 * i), 2, "sctp.parameter_reconfig_sid")
    elif isinstance(p, IncomingResetParam):
        node.add(f"Re-configuration request sequence number: {p.req_seq}", at(v), 4,
                 "sctp.parameter_reconfig_request_sequence_number")
        for i, s in enumerate(p.sids):
            node.add(f"Stream identifier: {s}", at(v + 4 + 2 * i), 2, "sctp.parameter_reconfig_sid")
    elif isinstance(p, SsnTsnResetParam):
        node.add(f"Re-configuration request sequence number: {p.req_seq}", at(v), 4,
                 "sctp.parameter_reconfig_request_sequence_number")
    elif isinstance(p, ReconfigResponseParam):
        node.add(f"Re-configuration response sequence number: {p.resp_seq}", at(v), 4,
                 "sctp.parameter_reconfig_response_sequence_number")
        node.add(f"Result: {p.result}", at(v + 4), 4, "sctp.parameter_reconfig_response_result")
        if p.sender_next_tsn is not None:
            node.add(f"Sender's next TSN: {p.sender_next_tsn}", at(v + 8), 4, "sctp.parameter_senders_next_tsn")
        if p.receiver_next_tsn is not None:
            node.add(f"Receiver's next TSN: {p.receiver_next_tsn}", at(v + 12), 4, "sctp.parameter_receivers_next_tsn")
    elif isinstance(p, AddStreamsParam):
        k = "outgoing" if p.type == 17 else "incoming"
        node.add(f"Re-configuration request sequence number: {p.req_seq}", at(v), 4,
                 "sctp.parameter_reconfig_request_sequence_number")
        node.add(f"Number of new streams: {p.new_streams}", at(v + 4), 2, f"sctp.parameter_add_{k}_streams_number")
    elif isinstance(p, UnrecognizedParam):
        for inner in p.params:
            node.children.append(param_node(inner, at))
    else:
        value = getattr(p, "value", b"")
        if value:
            node.add(f"Parameter value: {_hex(value)}", at(v), len(value), "sctp.parameter_value")
    pad = (-L) & 3
    if pad and p.padding_ok and L >= 4:
        node.add(f"Parameter padding: {pad} bytes", at(o + L), pad, "sctp.parameter_padding")
    return node


def _causes(node: Node, causes, at) -> None:
    for c in causes:
        node.children.append(cause_node(c, at))


def cause_node(c, at) -> Node:
    o, L = c.offset, c.length
    node = Node(f"{escape_text(c.name)} cause", at(o), max(L, 4))
    node.add(f"Cause code: {escape_text(c.name)} (0x{c.code:04x})", at(o), 2, "sctp.cause_code")
    node.add(f"Cause length: {L}", at(o + 2), 2, "sctp.cause_length")
    v = o + 4
    if isinstance(c, InvalidStreamCause):
        if c.sid is not None:
            node.add(f"Stream identifier: {c.sid}", at(v), 2, "sctp.cause_stream_identifier")
            node.add("Reserved", at(v + 2), 2, "sctp.cause_reserved")
    elif isinstance(c, MissingParamsCause):
        node.add(f"Number of missing parameters: {len(c.param_types)}", at(v), 4, "sctp.cause_nr_of_missing_parameters")
        for i, t in enumerate(c.param_types):
            node.add(f"Missing parameter type: 0x{t:04x}", at(v + 4 + 2 * i), 2, "sctp.cause_missing_parameter_type")
    elif isinstance(c, StaleCookieCause):
        if c.staleness_us is not None:
            node.add(f"Measure of staleness: {c.staleness_us} us", at(v), 4, "sctp.cause_measure_of_staleness")
    elif isinstance(c, NoUserDataCause):
        if c.tsn is not None:
            node.add(f"TSN: {c.tsn}", at(v), 4, "sctp.cause_tsn")
    elif isinstance(c, (UserAbortCause, ProtocolViolationCause)):
        raw = c.reason if isinstance(c, UserAbortCause) else c.info
        if raw:
            node.label += f": {escape_bytes(raw, 200)}"
            node.add(f"Cause information: {escape_bytes(raw, 200)}", at(v), len(raw), "sctp.cause_information")
    elif isinstance(c, ParamCause):
        for p in c.params:
            node.children.append(param_node(p, at))
    elif isinstance(c, UnrecognizedChunkCause):
        if c.chunk is not None:
            node.children.append(chunk_node(c.chunk, at, c.chunk.offset + max(c.chunk.length, 4)))
    elif isinstance(c, UnsupportedHmacCause):
        if c.hmac_id is not None:
            node.add(f"HMAC identifier: {c.hmac_id}", at(v), 2, "sctp.hmac_id")
    else:
        info = getattr(c, "info", b"")
        if info:
            node.add(f"Cause information: {_hex(info)}", at(v), len(info), "sctp.cause_information")
    pad = (-L) & 3
    if pad and c.padding_ok and L >= 4:
        node.add(f"Cause padding: {pad} bytes", at(o + L), pad, "sctp.cause_padding")
    return node


# -- the frame ----------------------------------------------------------------------------------------------
def frame_tree(number: int, ts: float, linktype: int, data: bytes, orig_len: int, decoded,
               sctp_udp_ports=(9899,)) -> Node:
    """The whole frame: a 'Frame' root, the link/IP/transport layers, then each SCTP packet it carries
    (and SCTP headers quoted in ICMP errors), with decode problems as leaves."""
    root = Node(f"Frame {number}: {orig_len} bytes on wire, {len(data)} bytes captured", 0, len(data))
    recs = list(decoded.sctp) + list(decoded.quotes)
    targets = {r.offset for r in recs if r.offset >= 0}
    _Walker(root, data, targets, frozenset(sctp_udp_ports)).link(linktype)
    k = 0
    for r in decoded.sctp:
        node = sctp_tree(r.packet, r.offset)
        if r.packet.header_ok:
            node.ref = ("sctp", k)
            for j, c in enumerate(x for x in node.children if x.ref == ("chunk",)):
                c.ref = ("chunk", k, j)
            k += 1
        if r.offset < 0:
            node.label += " [reassembled from IP fragments: its bytes span several frames]"
        root.children.append(node)
    for r in decoded.quotes:
        node = sctp_tree(r.packet, r.offset)
        node.label = "Quoted in ICMP error: " + node.label
        root.children.append(node)
    for p in decoded.problems:
        if not any(p is q for r in decoded.sctp for q in r.packet.problems):
            root.add(f"⚠ {escape_text(str(p))}", -1, 0)
    return root
