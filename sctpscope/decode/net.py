"""Link and IP layers: from a captured frame to the SCTP packets it carries.

``NetDecoder.decode(linktype, data, ts)`` walks the link header (Ethernet with VLAN tags, Linux
cooked SLL/SLL2, BSD NULL/LOOP, raw IP), IPv4 / IPv6 (options, extension headers, fragment
reassembly), UDP (SCTP over UDP per RFC 6951, VXLAN, GTP-U, Geneve), GRE, IP-in-IP and ICMP /
ICMPv6 errors (the quoted SCTP header), and returns every SCTP packet found as a :class:`Carried`.
Malformed input becomes :class:`~sctpscope.problems.Problem` entries, never an exception.

This module does not import the SCTP decoder; the caller composes the two.
"""

from __future__ import annotations

import socket
import struct
from typing import Final, NamedTuple

from sctpscope.decode.fragments import FragmentReassembler
from sctpscope.problems import Problem

_H: Final = struct.Struct("!H")
_HH: Final = struct.Struct("!HH")
_HHH: Final = struct.Struct("!HHH")
_I: Final = struct.Struct("!I")
_LE_I: Final = struct.Struct("<I")
_u16: Final = _H.unpack_from
_u32: Final = _I.unpack_from

_inet_ntop: Final = socket.inet_ntop
_AF_INET: Final = socket.AF_INET
_AF_INET6: Final = socket.AF_INET6

ETH_IPV4: Final = 0x0800
ETH_IPV6: Final = 0x86DD
ETH_TEB: Final = 0x6558  # transparent Ethernet bridging (Geneve, GRE)
_VLAN_TPIDS: Final = frozenset({0x8100, 0x88A8, 0x9100, 0x9200})
_MPLS: Final = frozenset({0x8847, 0x8848})
_PPPOE_SESSION: Final = 0x8864

_BSD_AF_INET: Final = 2
_BSD_AF_INET6: Final = frozenset({24, 28, 30})

_ICMP4_ERRORS: Final = frozenset({3, 4, 5, 11, 12})
_ICMP6_ERRORS: Final = frozenset({1, 2, 3, 4})
_IP6_EXT_GENERIC: Final = frozenset({0, 43, 60, 135, 139, 140})  # (len+1)*8 byte headers

_PROTO_NAMES: Final = {59: "ipv6-nonxt", 1: "icmp", 2: "igmp", 6: "tcp", 17: "udp", 41: "ipv6", 47: "gre", 50: "esp", 58: "icmpv6", 89: "ospf", 103: "pim", 112: "vrrp", 132: "sctp", 136: "udplite"}

_MAX_DEPTH: Final = 8

# fast path (NetDecoder.decode): fixed-layout headers read with one unpack each
#: from an Ethernet type field: type, IPv4 version+IHL, total length, flags+fragment offset, protocol, src+dst
#: (the addresses as one 64-bit integer: a cheaper cache key than bytes)
_E4: Final = struct.Struct("!HBxH2xHxB2xQ").unpack_from
#: IPv4 header: version+IHL, total length, flags+fragment offset, protocol, src+dst
_IP4: Final = struct.Struct("!BxH2xHxB2xQ").unpack_from
#: IPv6 header: version+class, payload length, next header, src+dst
_IP6: Final = struct.Struct("!B3xHBx32s").unpack_from
_RAW_LINKS: Final = frozenset({101, 12, 14, 228})  # raw IP (version from the header) and LINKTYPE_IPV4
_ENC_E4: Final = ("ether", "ipv4")
_ENC_E6: Final = ("ether", "ipv6")
_ENC_EV4: Final = ("ether", "vlan", "ipv4")
_ENC_SLL4: Final = ("linux-sll", "ipv4")
_ENC_SLL24: Final = ("linux-sll2", "ipv4")
_ENC_4: Final = ("ipv4",)
_ENC_RAW4: Final = ("raw", "ipv4")


class Carried(NamedTuple):
    """One SCTP packet found in a frame (a named tuple: cheap to build, immutable)."""

    src: str
    dst: str
    ip_version: int
    payload: bytes | memoryview  # exactly the SCTP packet bytes (bounded by the IP / UDP length)
    offset: int  # offset of payload within the frame data; -1 when reassembled from fragments
    encap: tuple[str, ...]  # layers carrying it, outermost first, e.g. ("ether", "vlan", "ipv4")
    udp_encapsulated: bool = False  # RFC 6951 SCTP over UDP
    quoted: bool = False  # quoted inside an ICMP / ICMPv6 error: not an SCTP packet of its own
    fragmented: bool = False  # reassembled from IP fragments


class NetResult(NamedTuple):
    """What one frame holds: a named tuple of three lists (the tuple is immutable, the lists are not).

    (A typing.NamedTuple, built with ``_tnew(NetResult, ([], [], []))``: mypyc cannot compile a class
    derived from a collections.namedtuple.)
    """

    carried: list[Carried]  # the SCTP packets found
    problems: list[Problem]
    layers: list[str]  # every layer walked, in order (e.g. ether, ipv4, tcp)


#: ``_tnew(Cls, (field, ...))`` builds a Carried / NetResult without a Python-level ``__new__``
_tnew: Final = tuple.__new__


class NetDecoder:
    """Stateful (fragment reassembly) link/IP decoder; one per capture."""

    def __init__(
        self,
        sctp_udp_ports=(9899,),
        max_fragment_datagrams: int = 1024,
        max_fragment_bytes: int = 64 * 1024 * 1024,
        fragment_timeout: float = 60.0,
        vxlan_ports=(4789,),
        gtpu_ports=(2152,),
        geneve_ports=(6081,),
        fast: bool = True,
    ):
        self.sctp_udp_ports = frozenset(int(p) for p in sctp_udp_ports)
        self.vxlan_ports = frozenset(vxlan_ports)
        self.gtpu_ports = frozenset(gtpu_ports)
        self.geneve_ports = frozenset(geneve_ports)
        self.frag4 = FragmentReassembler(max_fragment_datagrams, max_fragment_bytes, fragment_timeout)
        self.frag6 = FragmentReassembler(max_fragment_datagrams, max_fragment_bytes, fragment_timeout)
        self._addr4: dict[bytes, str] = {}
        self._addr6: dict[bytes, str] = {}
        #: the fast path's caches: src+dst addresses (IPv4: as a 64-bit integer, IPv6: 32 bytes) -> (src, dst) strings
        self._pair4: dict[int, tuple[str, str]] = {}
        self._pair4b: dict[bytes, tuple[str, str]] = {}   # the same, keyed by the 8 address bytes
        self._pair6: dict[bytes, tuple[str, str]] = {}
        #: False: the general walker only (tests check that both give the same results). A flag, not an
        #: instance attribute shadowing decode(): compiled (mypyc) classes have no instance __dict__.
        self.fast = fast
        #: frames decoded by the general walker (tests use it to see whether the fast path was taken)
        self.general_walks = 0
        self._links = {
            1: self._ether,
            113: self._sll,
            276: self._sll2,
            0: self._null,
            108: self._loop,
            101: self._raw,
            12: self._raw,
            14: self._raw,
            228: self._raw4,
            229: self._raw6,
        }

    # ------------------------------------------------------------------ entry point
    def supports(self, linktype: int) -> bool:
        """Whether frames of this link type are decoded (others are counted, with a problem)."""
        return linktype in self._links

    def fast_sctp_offset(self, linktype: int, buf: bytes, start: int, end: int) -> int:
        """Where in `buf` the fast path of `decode` would find the SCTP packet of the frame buf[start:end]
        (Ethernet, one optional 802.1Q tag, IPv4 without options or fragments or IPv6 without extension
        headers, at least 4 SCTP bytes), or -1 for any other frame. Mirrors decode's conditions exactly:
        such a frame decodes to that one SCTP packet and no problem. Byte by byte, no unpacking: it runs
        on every frame of a parallel worker."""
        n = end - start
        if linktype != 1 or n < 38:
            return -1
        s = start
        et_hi = buf[s + 12]
        et_lo = buf[s + 13]
        if et_hi == 0x08 and et_lo == 0x00:
            if buf[s + 14] == 0x45 and buf[s + 23] == 132 and not buf[s + 20] & 0x3F and not buf[s + 21]:
                tot = buf[s + 16] << 8 | buf[s + 17]
                if 24 <= tot <= n - 14:
                    return s + 34
        elif et_hi == 0x86 and et_lo == 0xDD:
            if n >= 58 and buf[s + 20] == 132 and buf[s + 14] >> 4 == 6:
                plen = buf[s + 18] << 8 | buf[s + 19]
                if 4 <= plen <= n - 54:
                    return s + 54
        elif et_hi == 0x81 and et_lo == 0x00 and n >= 42:
            if (buf[s + 16] == 0x08 and buf[s + 17] == 0x00 and buf[s + 18] == 0x45 and buf[s + 27] == 132
                    and not buf[s + 24] & 0x3F and not buf[s + 25]):
                tot = buf[s + 20] << 8 | buf[s + 21]
                if 24 <= tot <= n - 18:
                    return s + 38
        return -1

    def decode(self, linktype: int, data: bytes, ts: float, orig_len: int | None = None) -> NetResult:
        """Decode one frame. ``orig_len`` (the frame's original length) lets a frame cut by the
        snapshot length still carry its SCTP bytes; by default the captured length is the frame length.

        The fast path below takes the overwhelmingly common shapes -- Ethernet (one optional
        802.1Q tag), Linux SLL / SLL2 or raw IP, then IPv4 without options or fragmentation or
        IPv6 without extension headers, then SCTP, whole within the captured bytes -- and builds
        exactly what the general walker (``_decode_general``) would. Anything else, or anything
        doubtful, goes to the general walker.
        """
        if not self.fast:
            return self._decode_general(linktype, data, ts, orig_len)
        # typed locals (compiled with mypyc: machine integers, no generic comparisons)
        et: int
        vhl: int
        tot: int
        frag: int
        proto: int
        addrs: int
        vfc: int
        plen: int
        nh: int
        addrs6: bytes
        n = len(data)
        if linktype == 1:
            if n >= 34:
                et = data[12] << 8 | data[13]
                if et == 0x0800:
                    # read byte by byte (compiled: machine loads, no tuple of Python ints): version/IHL 0x45,
                    # protocol SCTP, neither more fragments nor a fragment offset, total length in the frame
                    tot = data[16] << 8 | data[17]
                    if (data[14] == 0x45 and data[23] == 132 and not data[20] & 0x3F and not data[21]
                            and 20 <= tot <= n - 14):
                        key = data[26:34]
                        pair = self._pair4b.get(key)
                        if pair is None:
                            pair = self._pairs4b(key)
                        return _tnew(NetResult, (
                            [_tnew(Carried, (pair[0], pair[1], 4, data[34:14 + tot], 34, _ENC_E4, False, False, False))],
                            [], ["ether", "ipv4", "sctp"],
                        ))
                elif et == 0x86DD:
                    if n >= 54:
                        vfc, plen, nh, addrs6 = _IP6(data, 14)
                        if nh == 132 and vfc >> 4 == 6 and 0 < plen <= n - 54:
                            pair = self._pair6.get(addrs6)
                            if pair is None:
                                pair = self._pairs6(addrs6)
                            return _tnew(NetResult, (
                                [_tnew(Carried, (pair[0], pair[1], 6, data[54:54 + plen], 54, _ENC_E6, False, False, False))],
                                [], ["ether", "ipv6", "sctp"],
                            ))
                elif et == 0x8100:
                    if n >= 38:
                        et, vhl, tot, frag, proto, addrs = _E4(data, 16)
                        if et == 0x0800 and vhl == 0x45 and proto == 132 and not frag & 0x3FFF and 20 <= tot <= n - 18:
                            pair = self._pair4.get(addrs)
                            if pair is None:
                                pair = self._pairs4(addrs)
                            return _tnew(NetResult, (
                                [_tnew(Carried, (pair[0], pair[1], 4, data[38:18 + tot], 38, _ENC_EV4, False, False, False))],
                                [], ["ether", "vlan", "ipv4", "sctp"],
                            ))
        elif linktype == 113:  # Linux SLL: hatype at 2, protocol at 14, 16-byte header
            if n >= 36 and data[14] == 8 and data[15] == 0 and (data[2] != 3 or data[3] != 0x38):  # 824: netlink
                vhl, tot, frag, proto, addrs = _IP4(data, 16)
                if vhl == 0x45 and proto == 132 and not frag & 0x3FFF and 20 <= tot <= n - 16:
                    pair = self._pair4.get(addrs)
                    if pair is None:
                        pair = self._pairs4(addrs)
                    return _tnew(NetResult, (
                        [_tnew(Carried, (pair[0], pair[1], 4, data[36:16 + tot], 36, _ENC_SLL4, False, False, False))],
                        [], ["linux-sll", "ipv4", "sctp"],
                    ))
        elif linktype == 276:  # Linux SLL2: protocol at 0, hatype at 8, 20-byte header
            if n >= 40 and data[0] == 8 and data[1] == 0 and (data[8] != 3 or data[9] != 0x38):
                vhl, tot, frag, proto, addrs = _IP4(data, 20)
                if vhl == 0x45 and proto == 132 and not frag & 0x3FFF and 20 <= tot <= n - 20:
                    pair = self._pair4.get(addrs)
                    if pair is None:
                        pair = self._pairs4(addrs)
                    return _tnew(NetResult, (
                        [_tnew(Carried, (pair[0], pair[1], 4, data[40:20 + tot], 40, _ENC_SLL24, False, False, False))],
                        [], ["linux-sll2", "ipv4", "sctp"],
                    ))
        elif linktype in _RAW_LINKS:
            if n >= 20:
                vhl, tot, frag, proto, addrs = _IP4(data, 0)
                if vhl == 0x45 and proto == 132 and not frag & 0x3FFF and 20 <= tot <= n:
                    pair = self._pair4.get(addrs)
                    if pair is None:
                        pair = self._pairs4(addrs)
                    if linktype == 228:
                        return _tnew(NetResult, (
                            [_tnew(Carried, (pair[0], pair[1], 4, data[20:tot], 20, _ENC_4, False, False, False))],
                            [], ["ipv4", "sctp"],
                        ))
                    return _tnew(NetResult, (
                        [_tnew(Carried, (pair[0], pair[1], 4, data[20:tot], 20, _ENC_RAW4, False, False, False))],
                        [], ["raw", "ipv4", "sctp"],
                    ))
        return self._decode_general(linktype, data, ts, orig_len)

    def _decode_general(self, linktype: int, data: bytes, ts: float, orig_len: int | None = None) -> NetResult:
        """decode() by the general walker, whatever the frame."""
        self.general_walks += 1
        res = _tnew(NetResult, ([], [], []))
        fn = self._links.get(linktype)
        if fn is None:
            res.problems.append(Problem("capture.unsupported_link_type", "link", 0, detail=f"link type {linktype}"))
            return res
        rend = len(data)
        if orig_len is not None and orig_len > rend:
            rend = orig_len
        fn(res, data, rend, ts)
        return res

    def _pairs4(self, addrs: int) -> tuple[str, str]:
        cache = self._pair4
        if len(cache) > 65536:
            cache.clear()
        b = addrs.to_bytes(8, "big")
        pair = cache[addrs] = (self._a4(b[:4]), self._a4(b[4:]))
        return pair

    def _pairs4b(self, addrs: bytes) -> tuple[str, str]:
        cache = self._pair4b
        if len(cache) > 65536:
            cache.clear()
        pair = cache[addrs] = (self._a4(addrs[:4]), self._a4(addrs[4:]))
        return pair

    def _pairs6(self, addrs: bytes) -> tuple[str, str]:
        cache = self._pair6
        if len(cache) > 65536:
            cache.clear()
        pair = cache[addrs] = (self._a6(addrs[:16]), self._a6(addrs[16:]))
        return pair

    # ------------------------------------------------------------------ helpers
    def _a4(self, b: bytes) -> str:
        s = self._addr4.get(b)
        if s is None:
            if len(self._addr4) > 65536:
                self._addr4.clear()
            s = self._addr4[b] = _inet_ntop(_AF_INET, b)
        return s

    def _a6(self, b: bytes) -> str:
        s = self._addr6.get(b)
        if s is None:
            if len(self._addr6) > 65536:
                self._addr6.clear()
            s = self._addr6[b] = _inet_ntop(_AF_INET6, b)
        return s

    @staticmethod
    def _trunc(res: NetResult, code: str, layer: str, off: int, needed: int, available: int, inframe: bool) -> None:
        res.problems.append(Problem(code, layer, off if inframe else -1, needed, max(available, 0)))

    # ------------------------------------------------------------------ link layers
    def _ether(self, res: NetResult, data: bytes, rend: int, ts: float) -> None:
        self._ether_at(res, data, 0, rend, ts, (), True, 0)

    def _ether_at(self, res, data, off, rend, ts, encap, inframe, depth) -> None:
        res.layers.append("ether")
        encap = encap + ("ether",)
        if min(rend, len(data)) - off < 14:
            self._trunc(res, "link.truncated", "ether", off, 14, min(rend, len(data)) - off, inframe)
            return
        etype = _u16(data, off + 12)[0]
        p = off + 14
        if etype < 0x600:  # IEEE 802.3 length: LLC, maybe SNAP
            if etype >= 3:
                rend = min(rend, p + etype)
            if min(rend, len(data)) - p >= 8 and data[p] == 0xAA and data[p + 1] == 0xAA and data[p + 2] == 0x03:
                res.layers.append("llc")
                etype = _u16(data, p + 6)[0]
                p += 8
            else:
                res.layers.append("llc")
                return
        self._ethertype(res, data, p, rend, ts, etype, encap, inframe, depth)

    def _ethertype(self, res, data, p, rend, ts, etype, encap, inframe, depth) -> None:
        cend = min(rend, len(data))
        while etype in _VLAN_TPIDS:
            res.layers.append("vlan")
            encap = encap + ("vlan",)
            if cend - p < 4:
                self._trunc(res, "link.truncated", "vlan", p, 4, cend - p, inframe)
                return
            etype = _u16(data, p + 2)[0]
            p += 4
        if etype == ETH_IPV4:
            self._ipv4(res, data, p, rend, ts, encap, inframe, depth, False)
        elif etype == ETH_IPV6:
            self._ipv6(res, data, p, rend, ts, encap, inframe, depth, False)
        elif etype == _PPPOE_SESSION:
            res.layers.append("pppoe")
            if cend - p < 8:
                self._trunc(res, "link.truncated", "pppoe", p, 8, cend - p, inframe)
                return
            plen = _u16(data, p + 4)[0]
            proto = _u16(data, p + 6)[0]
            end = min(rend, p + 6 + plen)
            encap = encap + ("pppoe",)
            if proto == 0x0021:
                self._ipv4(res, data, p + 8, end, ts, encap, inframe, depth, False)
            elif proto == 0x0057:
                self._ipv6(res, data, p + 8, end, ts, encap, inframe, depth, False)
        elif etype in _MPLS:
            res.layers.append("mpls")
            encap = encap + ("mpls",)
            while True:
                if cend - p < 4:
                    self._trunc(res, "link.truncated", "mpls", p, 4, cend - p, inframe)
                    return
                bos = data[p + 2] & 1
                p += 4
                if bos:
                    break
            self._ip_by_version(res, data, p, rend, ts, encap, inframe, depth)
        else:
            res.layers.append(f"ethertype-{etype:#06x}")

    def _sll(self, res: NetResult, data: bytes, rend: int, ts: float) -> None:
        res.layers.append("linux-sll")
        if len(data) < 16:
            self._trunc(res, "link.truncated", "linux-sll", 0, 16, len(data), True)
            return
        self._sll_proto(res, data, 16, rend, ts, _u16(data, 2)[0], _u16(data, 14)[0], ("linux-sll",))

    def _sll2(self, res: NetResult, data: bytes, rend: int, ts: float) -> None:
        res.layers.append("linux-sll2")
        if len(data) < 20:
            self._trunc(res, "link.truncated", "linux-sll2", 0, 20, len(data), True)
            return
        self._sll_proto(res, data, 20, rend, ts, _u16(data, 8)[0], _u16(data, 0)[0], ("linux-sll2",))

    def _sll_proto(self, res, data, p, rend, ts, hatype, proto, encap) -> None:
        if hatype == 824:  # ARPHRD_NETLINK
            res.layers.append("netlink")
            return
        if proto == 0x0004:  # 802.2 LLC frames
            if min(rend, len(data)) - p >= 8 and data[p] == 0xAA and data[p + 1] == 0xAA and data[p + 2] == 0x03:
                res.layers.append("llc")
                self._ethertype(res, data, p + 8, rend, ts, _u16(data, p + 6)[0], encap, True, 0)
            else:
                res.layers.append("llc")
            return
        if proto < 0x600:
            res.layers.append(f"sll-proto-{proto}")
            return
        self._ethertype(res, data, p, rend, ts, proto, encap, True, 0)

    def _null(self, res: NetResult, data: bytes, rend: int, ts: float, name: str = "null") -> None:
        res.layers.append(name)
        if len(data) < 4:
            self._trunc(res, "link.truncated", name, 0, 4, len(data), True)
            return
        fam = _LE_I.unpack_from(data, 0)[0]
        if fam != _BSD_AF_INET and fam not in _BSD_AF_INET6:
            fam = _u32(data, 0)[0]
        # NULL stores the family in host byte order, LOOP in network byte order: accept both
        encap = (name,)
        if fam == _BSD_AF_INET:
            self._ipv4(res, data, 4, rend, ts, encap, True, 0, False)
        elif fam in _BSD_AF_INET6:
            self._ipv6(res, data, 4, rend, ts, encap, True, 0, False)
        else:
            res.layers.append(f"af-{fam}")

    def _loop(self, res: NetResult, data: bytes, rend: int, ts: float) -> None:
        self._null(res, data, rend, ts, "loop")

    def _raw(self, res: NetResult, data: bytes, rend: int, ts: float) -> None:
        res.layers.append("raw")
        self._ip_by_version(res, data, 0, rend, ts, ("raw",), True, 0)

    def _raw4(self, res: NetResult, data: bytes, rend: int, ts: float) -> None:
        self._ipv4(res, data, 0, rend, ts, (), True, 0, False)

    def _raw6(self, res: NetResult, data: bytes, rend: int, ts: float) -> None:
        self._ipv6(res, data, 0, rend, ts, (), True, 0, False)

    def _ip_by_version(self, res, data, p, rend, ts, encap, inframe, depth) -> None:
        if min(rend, len(data)) <= p:
            self._trunc(res, "ip.truncated", "ip", p, 1, 0, inframe)
            return
        v = data[p] >> 4
        if v == 4:
            self._ipv4(res, data, p, rend, ts, encap, inframe, depth, False)
        elif v == 6:
            self._ipv6(res, data, p, rend, ts, encap, inframe, depth, False)
        else:
            res.problems.append(Problem("ip.bad_header", "ip", p if inframe else -1, detail=f"IP version {v}"))

    # ------------------------------------------------------------------ IPv4
    def _ipv4(self, res, data, off, rend, ts, encap, inframe, depth, quoted) -> None:
        res.layers.append("ipv4")
        encap = encap + ("ipv4",)
        cend = min(rend, len(data))
        avail = cend - off
        if avail < 20:
            self._trunc(res, "ip.truncated", "ipv4", off, 20, avail, inframe)
            return
        vhl = data[off]
        hl = (vhl & 0x0F) << 2
        if vhl >> 4 != 4 or hl < 20:
            res.problems.append(Problem("ip.bad_header", "ipv4", off if inframe else -1, detail=f"version {vhl >> 4}, header length {hl}"))
            return
        tot, _ident, frag = _HHH.unpack_from(data, off + 2)
        if tot == 0 and not quoted:
            tot = rend - off  # TSO / offloaded: length left to the link layer
        if tot < hl:
            res.problems.append(Problem("ip.bad_header", "ipv4", off if inframe else -1, detail=f"total length {tot} below header length {hl}"))
            return
        if avail < hl:
            self._trunc(res, "ip.truncated", "ipv4", off, hl, avail, inframe)
            return
        end = off + tot
        if end > rend:
            if not quoted:
                # tshark: "IPv4 total length exceeds packet length", and it still decodes what is there
                self._trunc(res, "ip.truncated", "ipv4", off, tot, rend - off, inframe)
            end = rend
        if end > cend:
            end = cend  # cut by the snapshot length: carry what was captured
        proto = data[off + 9]
        src = data[off + 12:off + 16]
        dst = data[off + 16:off + 20]
        p = off + hl
        if frag & 0x3FFF:  # more fragments, or a non-zero offset
            foff = (frag & 0x1FFF) << 3
            if quoted:
                if foff:
                    res.layers.append("ip-fragment")
                    return
            else:
                res.layers.append("ip-fragment")
                key = (src, dst, proto, _ident)
                whole, _ = self.frag4.add(key, foff, bool(frag & 0x2000), data[p:end], ts, res.problems, "ipv4", off if inframe else -1)
                if whole is None:
                    return
                self._proto(res, whole, 0, len(whole), ts, proto, self._a4(src), self._a4(dst), 4, encap, False, depth, False, True)
                return
        self._proto(res, data, p, end, ts, proto, self._a4(src), self._a4(dst), 4, encap, inframe, depth, quoted, False)

    # ------------------------------------------------------------------ IPv6
    def _ipv6(self, res, data, off, rend, ts, encap, inframe, depth, quoted) -> None:
        res.layers.append("ipv6")
        encap = encap + ("ipv6",)
        cend = min(rend, len(data))
        avail = cend - off
        if avail < 40:
            self._trunc(res, "ip.truncated", "ipv6", off, 40, avail, inframe)
            return
        if data[off] >> 4 != 6:
            res.problems.append(Problem("ip.bad_header", "ipv6", off if inframe else -1, detail=f"version {data[off] >> 4}"))
            return
        plen = _u16(data, off + 4)[0]
        nh = data[off + 6]
        if plen == 0 and not quoted:
            plen = rend - off - 40  # jumbogram / TSO
        end = off + 40 + plen
        if end > rend:
            if not quoted:
                self._trunc(res, "ip.truncated", "ipv6", off, 40 + plen, rend - off, inframe)
            end = rend
        if end > cend:
            end = cend
        src = data[off + 8:off + 24]
        dst = data[off + 24:off + 40]
        self._ip6_walk(res, data, off + 40, end, ts, nh, src, dst, encap, inframe, depth, quoted, False)

    def _ip6_walk(self, res, data, p, end, ts, nh, src, dst, encap, inframe, depth, quoted, fragmented) -> None:
        while True:
            if nh in _IP6_EXT_GENERIC:
                if end - p < 2:
                    self._trunc(res, "ip.truncated", "ipv6", p, 2, end - p, inframe)
                    return
                hlen = (data[p + 1] + 1) << 3
            elif nh == 51:  # AH
                if end - p < 2:
                    self._trunc(res, "ip.truncated", "ipv6", p, 2, end - p, inframe)
                    return
                hlen = (data[p + 1] + 2) << 2
            elif nh == 44:  # fragment
                if end - p < 8:
                    self._trunc(res, "ip.truncated", "ipv6", p, 8, end - p, inframe)
                    return
                fnh = data[p]
                fo = _u16(data, p + 2)[0]
                foff = fo & 0xFFF8
                more = fo & 1
                if foff == 0 and not more:  # atomic fragment
                    nh = fnh
                    p += 8
                    continue
                if quoted or fragmented:
                    if foff:
                        res.layers.append("ip-fragment")
                        return
                    nh = fnh
                    p += 8
                    continue
                res.layers.append("ip-fragment")
                key = (src, dst, _u32(data, p + 4)[0])
                whole, fnh0 = self.frag6.add(
                    key, foff, bool(more), data[p + 8:end], ts, res.problems, "ipv6", p if inframe else -1, fnh
                )
                if whole is None:
                    return
                if fnh0 is None:
                    fnh0 = fnh
                self._ip6_walk(res, whole, 0, len(whole), ts, fnh0, src, dst, encap, False, depth, False, True)
                return
            else:
                break
            nh = data[p]
            p += hlen
            if p > end:
                self._trunc(res, "ip.truncated", "ipv6", p - hlen, hlen, end - (p - hlen), inframe)
                return
        self._proto(res, data, p, end, ts, nh, self._a6(src), self._a6(dst), 6, encap, inframe, depth, quoted, fragmented)

    # ------------------------------------------------------------------ transport dispatch
    def _proto(self, res, data, p, end, ts, proto, src, dst, ver, encap, inframe, depth, quoted, fragmented) -> None:
        if proto == 132:
            res.layers.append("sctp")
            res.carried.append(
                _tnew(Carried, (src, dst, ver, data[p:end], p if inframe else -1, encap, False, quoted, fragmented))
            )
        elif proto == 17:
            self._udp(res, data, p, end, ts, src, dst, ver, encap, inframe, depth, quoted, fragmented)
        elif proto == 1 and ver == 4 or proto == 58 and ver == 6:
            self._icmp(res, data, p, end, ts, ver, encap, inframe, depth, quoted)
        elif proto == 4 and depth < _MAX_DEPTH and not quoted:
            self._ipv4(res, data, p, end, ts, encap, inframe, depth + 1, False)
        elif proto == 41 and depth < _MAX_DEPTH and not quoted:
            self._ipv6(res, data, p, end, ts, encap, inframe, depth + 1, False)
        elif proto == 47 and depth < _MAX_DEPTH and not quoted:
            self._gre(res, data, p, end, ts, encap, inframe, depth + 1)
        else:
            name = _PROTO_NAMES.get(proto)
            res.layers.append(name if name is not None else f"ip-proto-{proto}")

    def _udp(self, res, data, p, end, ts, src, dst, ver, encap, inframe, depth, quoted, fragmented) -> None:
        res.layers.append("udp")
        if end - p < 8:
            self._trunc(res, "udp.truncated", "udp", p, 8, end - p, inframe)
            return
        sport, dport, ulen = _HHH.unpack_from(data, p)
        if 8 <= ulen <= end - p:
            end = p + ulen
        q = p + 8
        encap = encap + ("udp",)
        ports = self.sctp_udp_ports
        if sport in ports or dport in ports:
            res.layers.append("sctp")
            res.carried.append(_tnew(Carried, (src, dst, ver, data[q:end], q if inframe else -1, encap, True, quoted, fragmented)))
            return
        if quoted or depth >= _MAX_DEPTH:
            return
        lo, hi = (sport, dport) if sport <= dport else (dport, sport)
        for port in (lo, hi):
            if port in self.vxlan_ports:
                res.layers.append("vxlan")
                if end - q < 8:
                    self._trunc(res, "tunnel.truncated", "vxlan", q, 8, end - q, inframe)
                    return
                self._ether_at(res, data, q + 8, end, ts, encap + ("vxlan",), inframe, depth + 1)
                return
            if port in self.gtpu_ports:
                self._gtpu(res, data, q, end, ts, encap, inframe, depth + 1)
                return
            if port in self.geneve_ports:
                self._geneve(res, data, q, end, ts, encap, inframe, depth + 1)
                return

    def _gtpu(self, res, data, p, end, ts, encap, inframe, depth) -> None:
        res.layers.append("gtp-u")
        if end - p < 8:
            self._trunc(res, "tunnel.truncated", "gtp-u", p, 8, end - p, inframe)
            return
        flags = data[p]
        mtype = data[p + 1]
        glen = _u16(data, p + 2)[0]
        if flags >> 5 != 1 or not flags & 0x10:  # GTPv1, PT=GTP
            return
        gend = min(end, p + 8 + glen)
        q = p + 8
        if flags & 0x07:
            if gend - q < 4:
                self._trunc(res, "tunnel.truncated", "gtp-u", p, 12, gend - p, inframe)
                return
            nxt = data[q + 3] if flags & 0x04 else 0
            q += 4
            while nxt:
                if gend - q < 1:
                    self._trunc(res, "tunnel.truncated", "gtp-u", q, 4, gend - q, inframe)
                    return
                elen = data[q] << 2
                if elen == 0 or gend - q < elen:
                    self._trunc(res, "tunnel.truncated", "gtp-u", q, max(elen, 4), gend - q, inframe)
                    return
                nxt = data[q + elen - 1]
                q += elen
        if mtype != 255:  # only G-PDU carries user IP packets
            return
        self._ip_by_version(res, data, q, gend, ts, encap + ("gtp-u",), inframe, depth)

    def _geneve(self, res, data, p, end, ts, encap, inframe, depth) -> None:
        res.layers.append("geneve")
        if end - p < 8:
            self._trunc(res, "tunnel.truncated", "geneve", p, 8, end - p, inframe)
            return
        if data[p] >> 6 != 0:
            return
        hl = 8 + ((data[p] & 0x3F) << 2)
        if end - p < hl:
            self._trunc(res, "tunnel.truncated", "geneve", p, hl, end - p, inframe)
            return
        ptype = _u16(data, p + 2)[0]
        q = p + hl
        encap = encap + ("geneve",)
        if ptype == ETH_TEB:
            self._ether_at(res, data, q, end, ts, encap, inframe, depth)
        elif ptype == ETH_IPV4:
            self._ipv4(res, data, q, end, ts, encap, inframe, depth, False)
        elif ptype == ETH_IPV6:
            self._ipv6(res, data, q, end, ts, encap, inframe, depth, False)

    def _gre(self, res, data, p, end, ts, encap, inframe, depth) -> None:
        res.layers.append("gre")
        if end - p < 4:
            self._trunc(res, "tunnel.truncated", "gre", p, 4, end - p, inframe)
            return
        flags, ptype = _HH.unpack_from(data, p)
        if flags & 0x0007:  # only GRE version 0
            return
        hl = 4 + (4 if flags & 0x8000 else 0) + (4 if flags & 0x2000 else 0) + (4 if flags & 0x1000 else 0)
        if end - p < hl:
            self._trunc(res, "tunnel.truncated", "gre", p, hl, end - p, inframe)
            return
        q = p + hl
        encap = encap + ("gre",)
        if ptype == ETH_TEB:
            self._ether_at(res, data, q, end, ts, encap, inframe, depth)
        else:
            self._ethertype(res, data, q, end, ts, ptype, encap, inframe, depth)

    def _icmp(self, res, data, p, end, ts, ver, encap, inframe, depth, quoted) -> None:
        name = "icmp" if ver == 4 else "icmpv6"
        res.layers.append(name)
        if quoted or end - p < 8:
            return
        if (data[p] in _ICMP4_ERRORS) if ver == 4 else (data[p] in _ICMP6_ERRORS):
            if ver == 4:
                self._ipv4(res, data, p + 8, end, ts, encap + (name,), inframe, depth + 1, True)
            else:
                self._ipv6(res, data, p + 8, end, ts, encap + (name,), inframe, depth + 1, True)
