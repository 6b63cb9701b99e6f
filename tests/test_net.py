"""Link and IP layers: which frames carry SCTP, with which addresses and bytes — checked against
tshark on the public corpus and on crafted captures covering every link type and encapsulation."""

from __future__ import annotations

import ipaddress
import shutil
import struct
import subprocess
from pathlib import Path

import crc32c
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sctpscope.capture import open_capture
from sctpscope.decode.net import Carried, NetDecoder, NetResult

from conftest import PUBLIC  # noqa: E402
HAVE_TSHARK = shutil.which("tshark") is not None
needs_public = pytest.mark.skipif(not PUBLIC.is_dir(), reason="public capture corpus not present")
tshark_only = pytest.mark.skipif(not HAVE_TSHARK, reason="tshark is not installed (reference decoder)")

#: tshark's `sctp` filter only matches when the SCTP dissector ran: it needs the 12-byte common header.
SCTP_MIN = 12


# --------------------------------------------------------------------------- packet builders
def sctp(vtag: int, sport: int = 5000, dport: int = 36412, data: bytes = b"hello sctp!") -> bytes:
    chunk = struct.pack("!BBHIHHI", 0, 3, 16 + len(data), 1, 0, 0, 18) + data
    chunk += b"\0" * (-len(chunk) % 4)
    pkt = struct.pack("!HHII", sport, dport, vtag, 0) + chunk
    return pkt[:8] + struct.pack("<I", crc32c.crc32c(pkt)) + pkt[12:]


def a4(s: str) -> bytes:
    return ipaddress.IPv4Address(s).packed


def a6(s: str) -> bytes:
    return ipaddress.IPv6Address(s).packed


def ipv4(src: str, dst: str, proto: int, payload: bytes, ident: int = 1, frag: int = 0, options: bytes = b"", tot: int | None = None) -> bytes:
    hl = 20 + len(options)
    assert hl % 4 == 0
    total = hl + len(payload) if tot is None else tot
    h = struct.pack("!BBHHHBBH4s4s", 0x40 | hl // 4, 0, total, ident, frag, 64, proto, 0, a4(src), a4(dst)) + options
    return h + payload


def ipv6(src: str, dst: str, nh: int, payload: bytes, plen: int | None = None) -> bytes:
    n = len(payload) if plen is None else plen
    return struct.pack("!IHBB16s16s", 0x60000000, n, nh, 64, a6(src), a6(dst)) + payload


def ext6(nh: int, body_len8: int = 0) -> bytes:
    """A generic IPv6 extension header (hop-by-hop / routing / dest options) of (len+1)*8 bytes, PadN filled."""
    n = (body_len8 + 1) * 8
    return bytes([nh, body_len8, 1, n - 4]) + b"\0" * (n - 4)


def udp(sport: int, dport: int, payload: bytes) -> bytes:
    return struct.pack("!HHHH", sport, dport, 8 + len(payload), 0) + payload


MAC = b"\x02\x00\x00\x00\x00\x02\x02\x00\x00\x00\x00\x01"


def ether(etype: int, payload: bytes, tags: tuple[tuple[int, int], ...] = (), pad: bool = True) -> bytes:
    h = MAC
    for tpid, vid in tags:
        h += struct.pack("!HH", tpid, vid)
    f = h + struct.pack("!H", etype) + payload
    if pad and len(f) < 60:
        f += b"\xa5" * (60 - len(f))  # Ethernet trailer: must not reach the SCTP payload
    return f


def sll(proto: int, payload: bytes, hatype: int = 1) -> bytes:
    return struct.pack("!HHH8sH", 0, hatype, 6, b"\x02\0\0\0\0\x01\0\0", proto) + payload


def sll2(proto: int, payload: bytes, hatype: int = 1) -> bytes:
    return struct.pack("!HHIHBB8s", proto, 0, 2, hatype, 0, 6, b"\x02\0\0\0\0\x01\0\0") + payload


def vxlan(inner: bytes) -> bytes:
    return struct.pack("!BBHI", 0x08, 0, 0, 42 << 8) + inner


def geneve(ptype: int, inner: bytes, opts: bytes = b"") -> bytes:
    assert len(opts) % 4 == 0
    return struct.pack("!BBHI", len(opts) // 4, 0, ptype, 7 << 8) + opts + inner


def gtpu(inner: bytes, seq: int | None = None, ext: bytes = b"") -> bytes:
    flags = 0x30
    opt = b""
    if seq is not None or ext:
        flags |= 0x02 if seq is not None else 0
        flags |= 0x04 if ext else 0
        opt = struct.pack("!HBB", seq or 0, 0, 0x85 if ext else 0) + ext
    body = opt + inner
    return struct.pack("!BBHI", flags, 255, len(body), 0x1234) + body


def pdu_session_container() -> bytes:
    # length 1 (4 bytes): PDU type/QFI, then next extension type 0
    return bytes([1, 0x10, 0x09, 0])


def write_pcap(path: Path, linktype: int, frames: list[bytes], endian: str = "<") -> Path:
    out = [struct.pack(endian + "IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 262144, linktype)]
    for i, f in enumerate(frames):
        out.append(struct.pack(endian + "IIII", 1700000000 + i, 0, len(f), len(f)) + f)
    path.write_bytes(b"".join(out))
    return path


# --------------------------------------------------------------------------- comparison with tshark
def tshark_sctp(path: Path, display_filter: str = "sctp && !icmp && !icmpv6") -> dict[int, tuple[list[str], list[str], list[str], list[str], list[int]]]:
    out = subprocess.run(
        ["tshark", "-n", "-r", str(path), "-Y", display_filter, "-T", "fields", "-E", "occurrence=a",
         "-e", "frame.number", "-e", "ip.src", "-e", "ip.dst", "-e", "ipv6.src", "-e", "ipv6.dst", "-e", "sctp.verification_tag"],
        capture_output=True, text=True, timeout=120,
    ).stdout
    res = {}
    for line in out.splitlines():
        n, s4, d4, s6, d6, vt = line.split("\t")
        sp = lambda x: [v for v in x.split(",") if v]  # noqa: E731
        res[int(n)] = (sp(s4), sp(d4), sp(s6), sp(d6), [int(v, 16) for v in sp(vt)])
    return res


def decode_file(path: Path, nd: NetDecoder | None = None) -> dict[int, NetResult]:
    nd = nd or NetDecoder()
    out = {}
    with open_capture(path) as cap:
        for f in cap:
            out[f.number] = nd.decode(f.linktype, f.data, f.ts, f.orig_len)
    return out


def sctp_frames(results: dict[int, NetResult], quoted: bool = False) -> dict[int, list[Carried]]:
    return {
        n: cs for n, r in results.items()
        if (cs := [c for c in r.carried if c.quoted == quoted and len(c.payload) >= SCTP_MIN])
    }


def assert_matches_tshark(path: Path, nd: NetDecoder | None = None) -> dict[int, NetResult]:
    results = decode_file(path, nd)
    for quoted, flt in ((False, "sctp && !icmp && !icmpv6"), (True, "sctp && (icmp || icmpv6)")):
        ref = tshark_sctp(path, flt)
        mine = sctp_frames(results, quoted)
        assert sorted(mine) == sorted(ref), (path.name, quoted)
        for n, cs in mine.items():
            s4, d4, s6, d6, vtags = ref[n]
            c = cs[-1]
            if c.ip_version == 4:
                assert (c.src, c.dst) == (s4[-1], d4[-1]), (path.name, n)
            else:
                assert (c.src, c.dst) == (s6[-1], d6[-1]), (path.name, n)
            # the SCTP bytes are the ones tshark decoded: same verification tags, in order
            assert [struct.unpack_from("!I", x.payload, 4)[0] for x in cs] == vtags[-len(cs):], (path.name, n)
    return results


# --------------------------------------------------------------------------- public corpus
def public_files() -> list[Path]:
    if not PUBLIC.is_dir():
        return []
    return sorted(p for p in PUBLIC.iterdir() if p.suffix in (".pcap", ".cap", ".pcapng"))


@needs_public
@pytest.mark.tshark
@tshark_only
@pytest.mark.parametrize("path", public_files(), ids=lambda p: p.name)
def test_public_sctp_frames_match_tshark(path: Path) -> None:
    assert_matches_tshark(path)


@needs_public
def test_public_counts_without_tshark() -> None:
    """The manifest's SCTP packet counts (tshark `sctp && !icmp && !icmpv6`), reproduced without tshark."""
    expect = {
        "pcapplusplus__ip-frag.pcap": 47,
        "open5gs__nonipsec_reg.pcapng": 46,
        "open5gs__testattach.pcapng": 307,
        "open5gs__volte.pcapng": 38,
        "umakant__sctpnw.pcap": 27,
        "mrp__sctp-randpkt.pcap": 998,
        "suricata__sctp-pkt-too-small.pcap": 0,
        "pcapflowlab__18_sctp_vxlan_inner_ipv4_data_s1ap.pcap": 1,
        "pcapflowlab__20_sctp_gtpu_inner_ipv4_data_s1ap.pcap": 1,
        "pcapflowlab__16_sctp_vlan_ipv4_data_s1ap.pcap": 1,
    }
    for name, n in expect.items():
        assert len(sctp_frames(decode_file(PUBLIC / name))) == n, name


@needs_public
def test_icmp_quotes_in_ip_frag() -> None:
    res = decode_file(PUBLIC / "pcapplusplus__ip-frag.pcap")
    quoted = sctp_frames(res, quoted=True)
    assert sorted(quoted) == [8, 10, 12]
    for n in (8, 10, 12):
        (c,) = quoted[n]
        assert c.encap == ("ether", "ipv4", "icmp", "ipv4")
        assert (c.src, c.dst) == ("10.118.213.211", "10.118.213.212")  # the quoted packet's addresses
        assert c.offset == 14 + 20 + 8 + 20
    # the IP-fragmented UDP traffic is reassembled without problems and carries no SCTP
    assert not any(p.code.startswith("ip.") for r in res.values() for p in r.problems)


@needs_public
def test_ip_fragmented_sctp_in_open5gs() -> None:
    res = decode_file(PUBLIC / "open5gs__nonipsec_reg.pcapng")
    assert res[32].carried == [] and "ip-fragment" in res[32].layers
    (c,) = res[33].carried
    assert c.fragmented and c.offset == -1 and not c.quoted
    assert (c.src, c.dst, c.encap) == ("172.24.0.46", "10.4.128.21", ("linux-sll", "ipv4"))
    if HAVE_TSHARK:
        out = subprocess.run(
            ["tshark", "-n", "-r", str(PUBLIC / "open5gs__nonipsec_reg.pcapng"), "-Y", "frame.number==33",
             "-T", "fields", "-e", "ip.reassembled.length", "-e", "sctp.chunk_length"],
            capture_output=True, text=True,
        ).stdout.split()
        assert len(c.payload) == int(out[0])
        assert struct.unpack_from("!H", c.payload, 14)[0] == int(out[1].split(",")[0])


@needs_public
def test_ethernet_trailer_is_dropped() -> None:
    res = decode_file(PUBLIC / "pkts__sctp-www.cap")
    for n, r in res.items():
        for c in r.carried:
            assert c.encap == ("ether", "ipv4") and c.offset == 34


def test_vlan_public_encap() -> None:
    p = PUBLIC / "pcapflowlab__16_sctp_vlan_ipv4_data_s1ap.pcap"
    if not p.exists():
        pytest.skip("public capture corpus not present")
    (c,) = decode_file(p)[1].carried
    assert c.encap == ("ether", "vlan", "ipv4")
    (c,) = decode_file(PUBLIC / "pcapflowlab__18_sctp_vxlan_inner_ipv4_data_s1ap.pcap")[1].carried
    assert c.encap == ("ether", "ipv4", "udp", "vxlan", "ether", "ipv4")
    (c,) = decode_file(PUBLIC / "pcapflowlab__20_sctp_gtpu_inner_ipv4_data_s1ap.pcap")[1].carried
    assert c.encap == ("ether", "ipv4", "udp", "gtp-u", "ipv4")


# --------------------------------------------------------------------------- crafted Ethernet capture
V4A, V4B = "192.0.2.1", "198.51.100.2"
V6A, V6B = "2001:db8::1", "2001:db8:0:1::2"


def ethernet_cases() -> list[tuple[bytes, dict | None]]:
    """(frame, expectation or None for non-SCTP frames). Each SCTP packet has a distinct vtag."""
    E4, E6 = 0x0800, 0x86DD
    cases: list[tuple[bytes, dict | None]] = []

    def add(frame: bytes, vtag: int | None = None, **exp) -> None:
        cases.append((frame, dict(vtag=vtag, **exp) if vtag is not None else None))

    add(ether(E4, ipv4(V4A, V4B, 132, sctp(1))), 1, encap=("ether", "ipv4"), offset=34)  # padded to 60 bytes
    add(ether(E4, ipv4(V4A, V4B, 132, sctp(2)), tags=((0x88A8, 10), (0x8100, 20))), 2, encap=("ether", "vlan", "vlan", "ipv4"), offset=42)
    add(ether(E4, ipv4(V4A, V4B, 132, sctp(3)), tags=((0x9100, 5),)), 3, encap=("ether", "vlan", "ipv4"))
    add(ether(E4, ipv4(V4A, V4B, 132, sctp(4), options=b"\x01\x01\x01\x00" + b"\x07\x04\x00\x00")), 4, offset=42)
    hop = ext6(60)  # hop-by-hop -> dest options
    dst = ext6(43, 1)  # dest options (16 bytes) -> routing
    rt = bytes([132, 0, 0, 0]) + b"\0" * 4  # routing type 0, segments left 0
    add(ether(E6, ipv6(V6A, V6B, 0, hop + dst + rt + sctp(5))), 5, encap=("ether", "ipv6"), offset=14 + 40 + 8 + 16 + 8, ip_version=6)
    # IPv6 fragments, out of order: completed by the third frame
    big6 = sctp(6, data=bytes(range(256)) * 4)
    frags = [(0, big6[:400]), (400, big6[400:800]), (800, big6[800:])]
    for idx in (2, 0):
        off, part = frags[idx]
        more = 0 if idx == 2 else 1
        fh = struct.pack("!BBHI", 132, 0, off | more, 0xABCDEF)
        add(ether(E6, ipv6(V6A, V6B, 44, fh + part)))
    off, part = frags[1]
    add(ether(E6, ipv6(V6A, V6B, 44, struct.pack("!BBHI", 132, 0, off | 1, 0xABCDEF) + part)), 6, fragmented=True, offset=-1, length=len(big6), ip_version=6)
    # IPv4 fragments, last first
    big4 = sctp(7, data=b"x" * 1000)
    add(ether(E4, ipv4(V4A, V4B, 132, big4[504:], ident=77, frag=504 // 8)))
    add(ether(E4, ipv4(V4A, V4B, 132, big4[:504], ident=77, frag=0x2000)), 7, fragmented=True, offset=-1, length=len(big4))
    # SCTP over UDP (RFC 6951), IPv4 and IPv6
    add(ether(E4, ipv4(V4A, V4B, 17, udp(9899, 9899, sctp(8)))), 8, udp=True, encap=("ether", "ipv4", "udp"), offset=42)
    add(ether(E6, ipv6(V6A, V6B, 17, udp(40000, 9899, sctp(9)))), 9, udp=True, ip_version=6)
    # VXLAN with an inner IPv6 packet
    inner = ether(E6, ipv6("fd00::a", "fd00::b", 132, sctp(10)), pad=False)
    add(ether(E4, ipv4(V4A, V4B, 17, udp(55555, 4789, vxlan(inner)))), 10,
        encap=("ether", "ipv4", "udp", "vxlan", "ether", "ipv6"), src="fd00::a", dst="fd00::b", ip_version=6)
    # Geneve: options + Ethernet, and IPv4 directly
    inner = ether(E4, ipv4("10.9.9.1", "10.9.9.2", 132, sctp(11)), pad=False)
    add(ether(E4, ipv4(V4A, V4B, 17, udp(1234, 6081, geneve(0x6558, inner, opts=b"\x01\x02\x03\x01" + b"abcd")))), 11,
        encap=("ether", "ipv4", "udp", "geneve", "ether", "ipv4"), src="10.9.9.1", dst="10.9.9.2")
    add(ether(E4, ipv4(V4A, V4B, 17, udp(1234, 6081, geneve(0x0800, ipv4("10.9.9.3", "10.9.9.4", 132, sctp(12)))))), 12,
        encap=("ether", "ipv4", "udp", "geneve", "ipv4"), src="10.9.9.3")
    # GTP-U with a sequence number and a PDU session container extension, inner IPv6
    add(ether(E4, ipv4(V4A, V4B, 17, udp(2152, 2152, gtpu(ipv6("fd01::1", "fd01::2", 132, sctp(13)), seq=9, ext=pdu_session_container())))), 13,
        encap=("ether", "ipv4", "udp", "gtp-u", "ipv6"), src="fd01::1", ip_version=6)
    add(ether(E4, ipv4(V4A, V4B, 17, udp(2152, 2152, gtpu(ipv4("10.1.1.1", "10.1.1.2", 132, sctp(14)))))), 14, src="10.1.1.1")
    # ICMP errors quoting SCTP
    q4 = ipv4(V4B, V4A, 132, sctp(15))
    add(ether(E4, ipv4(V4A, V4B, 1, struct.pack("!BBHI", 11, 0, 0, 0) + q4)), 15, quoted=True, encap=("ether", "ipv4", "icmp", "ipv4"), src=V4B, dst=V4A)
    q6 = ipv6(V6B, V6A, 132, sctp(16))
    add(ether(E6, ipv6(V6A, V6B, 58, struct.pack("!BBHI", 1, 4, 0, 0) + q6)), 16, quoted=True, ip_version=6, src=V6B, dst=V6A)
    q4b = ipv4(V4B, V4A, 132, sctp(17), tot=1200)[: 20 + 8]  # a quote truncated to 8 bytes of SCTP
    add(ether(E4, ipv4(V4A, V4B, 1, struct.pack("!BBHI", 3, 3, 0, 0) + q4b)))
    # IP-in-IP, 6in4, GRE with a key
    add(ether(E4, ipv4(V4A, V4B, 4, ipv4("10.2.2.1", "10.2.2.2", 132, sctp(18)))), 18, encap=("ether", "ipv4", "ipv4"), src="10.2.2.1")
    add(ether(E4, ipv4(V4A, V4B, 41, ipv6("fd02::1", "fd02::2", 132, sctp(19)))), 19, encap=("ether", "ipv4", "ipv6"), ip_version=6, src="fd02::1")
    add(ether(E4, ipv4(V4A, V4B, 47, struct.pack("!HHI", 0x2000, 0x0800, 99) + ipv4("10.3.3.1", "10.3.3.2", 132, sctp(20)))), 20,
        encap=("ether", "ipv4", "gre", "ipv4"), src="10.3.3.1")
    # 802.3 + LLC/SNAP, PPPoE, MPLS
    snap = b"\xaa\xaa\x03\x00\x00\x00\x08\x00" + ipv4(V4A, V4B, 132, sctp(21))
    add(MAC + struct.pack("!H", len(snap)) + snap, 21, offset=14 + 8 + 20)
    ppp = struct.pack("!BBHHH", 0x11, 0, 0x1234, 2 + 20 + len(sctp(22)), 0x0021) + ipv4(V4A, V4B, 132, sctp(22))
    add(ether(0x8864, ppp), 22, encap=("ether", "pppoe", "ipv4"))
    add(ether(0x8847, struct.pack("!I", (100 << 12) | 0x100 | 64) + ipv4(V4A, V4B, 132, sctp(23))), 23, encap=("ether", "mpls", "ipv4"))
    # IPv4 total length 0 (TSO): the frame bounds the packet
    add(ether(E4, ipv4(V4A, V4B, 132, sctp(24), tot=0), pad=False), 24)
    # IPv6 AH, and an atomic fragment
    ah = bytes([132, 4]) + b"\0" * 22  # (4+2)*4 = 24 bytes
    add(ether(E6, ipv6(V6A, V6B, 51, ah + sctp(25))), 25, ip_version=6, offset=14 + 40 + 24)
    add(ether(E6, ipv6(V6A, V6B, 44, struct.pack("!BBHI", 132, 0, 0, 5) + sctp(26))), 26, ip_version=6, fragmented=False)
    # IP total length beyond the frame: tshark flags it and still decodes what is there
    add(ether(E4, ipv4(V4A, V4B, 132, sctp(27), tot=400), pad=False), 27, problems={"ip.truncated"})
    add(ether(E6, ipv6(V6A, V6B, 132, sctp(28), plen=500)), 28, ip_version=6, problems={"ip.truncated"})
    # non-SCTP: TCP, DNS, ARP, ESP, a UDP packet on another port
    add(ether(E4, ipv4(V4A, V4B, 6, b"\0" * 20)))
    add(ether(E4, ipv4(V4A, V4B, 17, udp(5353, 53, b"\0" * 12))))
    add(ether(0x0806, b"\0\x01\x08\x00\x06\x04\0\x01" + b"\0" * 20))
    add(ether(E6, ipv6(V6A, V6B, 50, b"\0" * 24)))
    add(ether(E6, ipv6(V6A, V6B, 59, b"")))
    return cases


@pytest.fixture
def ethernet_capture(tmp_path: Path) -> tuple[Path, list]:
    cases = ethernet_cases()
    return write_pcap(tmp_path / "eth.pcap", 1, [f for f, _ in cases]), cases


def test_crafted_ethernet_expectations(ethernet_capture) -> None:
    path, cases = ethernet_capture
    res = decode_file(path)
    for i, (frame, exp) in enumerate(cases, start=1):
        r = res[i]
        if exp is None:
            assert [c for c in r.carried if len(c.payload) >= SCTP_MIN] == [], (i, r)
            continue
        (c,) = r.carried
        vtag = exp["vtag"]
        assert struct.unpack_from("!I", c.payload, 4)[0] == vtag, i
        assert c.ip_version == exp.get("ip_version", 4), i
        assert c.udp_encapsulated == exp.get("udp", False), i
        assert c.quoted == exp.get("quoted", False), i
        assert c.fragmented == exp.get("fragmented", False), i
        if "encap" in exp:
            assert c.encap == exp["encap"], i
        if "src" in exp:
            assert c.src == exp["src"], i
        if "dst" in exp:
            assert c.dst == exp["dst"], i
        if "offset" in exp:
            assert c.offset == exp["offset"], i
        if c.offset >= 0:
            assert frame[c.offset:c.offset + len(c.payload)] == bytes(c.payload), i
        if exp.get("quoted") or exp.get("problems"):
            pass
        elif "length" in exp:
            assert len(c.payload) == exp["length"]
        else:
            assert bytes(c.payload) == sctp(vtag), i  # exactly the SCTP bytes: no trailer, no padding
        assert {p.code for p in r.problems} == exp.get("problems", set()), (i, r.problems)


@pytest.mark.tshark
@tshark_only
def test_crafted_ethernet_matches_tshark(ethernet_capture) -> None:
    path, _ = ethernet_capture
    assert_matches_tshark(path)


# --------------------------------------------------------------------------- other link types
def link_cases() -> list[tuple[int, list[bytes], str]]:
    p4 = ipv4(V4A, V4B, 132, sctp(101))
    p6 = ipv6(V6A, V6B, 132, sctp(102))
    return [
        (0, [struct.pack("<I", 2) + p4, struct.pack("<I", 24) + p6, struct.pack("<I", 28) + p6, struct.pack("<I", 30) + p6], "null"),
        (0, [struct.pack(">I", 2) + p4, struct.pack(">I", 30) + p6], "null"),
        (108, [struct.pack(">I", 2) + p4, struct.pack(">I", 24) + p6], "loop"),
        (101, [p4, p6], "raw"),
        (12, [p4, p6], "raw"),
        (14, [p4, p6], "raw"),
        (228, [p4], None),
        (229, [p6], None),
        (113, [sll(0x0800, p4), sll(0x86DD, p6), sll(0x0800, p4, hatype=772), sll(0x8100, struct.pack("!HH", 7, 0x0800) + p4)], "linux-sll"),
        (276, [sll2(0x0800, p4), sll2(0x86DD, p6), sll2(0x0800, p4, hatype=65534)], "linux-sll2"),
    ]


@pytest.mark.parametrize("linktype, frames, name", link_cases(), ids=lambda v: str(v) if isinstance(v, int) else None)
def test_link_types(tmp_path: Path, linktype: int, frames: list[bytes], name: str | None) -> None:
    nd = NetDecoder()
    for f in frames:
        r = nd.decode(linktype, f, 0.0)
        (c,) = r.carried
        assert r.problems == []
        v = 4 if c.ip_version == 4 else 6
        assert c.encap[0] == (name if name else f"ipv{v}")
        assert c.encap[-1] == f"ipv{v}"
        assert bytes(c.payload) == sctp(101 if v == 4 else 102)
        assert (c.src, c.dst) == ((V4A, V4B) if v == 4 else (V6A, V6B))
    if HAVE_TSHARK:
        assert_matches_tshark(write_pcap(tmp_path / "l.pcap", linktype, frames))


def test_unknown_link_type_is_a_problem_not_an_exception() -> None:
    nd = NetDecoder()
    r = nd.decode(147, b"\x45" + b"\0" * 40, 1.0)
    assert r.carried == []
    assert [p.code for p in r.problems] == ["capture.unsupported_link_type"]


def test_custom_sctp_udp_port() -> None:
    f = ether(0x0800, ipv4(V4A, V4B, 17, udp(30000, 7777, sctp(5))))
    assert NetDecoder().decode(1, f, 0).carried == []
    (c,) = NetDecoder(sctp_udp_ports=(7777,)).decode(1, f, 0).carried
    assert c.udp_encapsulated and c.encap == ("ether", "ipv4", "udp") and bytes(c.payload) == sctp(5)


def test_snaplen_cut_frame_carries_what_was_captured() -> None:
    full = ether(0x0800, ipv4(V4A, V4B, 132, sctp(9, data=b"y" * 200)))
    cut = full[:100]
    (c,) = NetDecoder().decode(1, cut, 0, orig_len=len(full)).carried
    assert bytes(c.payload) == full[34:100]
    r = NetDecoder().decode(1, cut, 0)  # without orig_len, the total length exceeds the frame
    assert [p.code for p in r.problems] == ["ip.truncated"] and len(r.carried) == 1


# --------------------------------------------------------------------------- fragment reassembly bounds
def frag4(ident: int, off: int, more: bool, payload: bytes, src: str = V4A) -> bytes:
    return ether(0x0800, ipv4(src, V4B, 132, payload, ident=ident, frag=(off // 8) | (0x2000 if more else 0)))


def test_fragment_overflow_evicts_oldest() -> None:
    nd = NetDecoder(max_fragment_datagrams=2)
    pkt = sctp(1, data=b"z" * 64)
    probs = []
    for ident in (1, 2, 3):
        probs += nd.decode(1, frag4(ident, 0, True, pkt[:40]), 1.0).problems
    assert [p.code for p in probs] == ["ip.fragment_overflow"]
    # datagram 1 was evicted: its last fragment completes nothing; 3 completes
    assert nd.decode(1, frag4(1, 40, False, pkt[40:]), 1.1).carried == []
    (c,) = nd.decode(1, frag4(3, 40, False, pkt[40:]), 1.2).carried
    assert bytes(c.payload) == pkt and c.fragmented
    # byte bound
    nd = NetDecoder(max_fragment_bytes=100)
    r1 = nd.decode(1, frag4(1, 0, True, pkt[:64]), 0)
    r2 = nd.decode(1, frag4(2, 0, True, pkt[:64]), 0)
    assert r1.problems == [] and [p.code for p in r2.problems] == ["ip.fragment_overflow"]
    assert nd.frag4.held_bytes <= 100


def test_fragment_timeout_by_capture_time() -> None:
    nd = NetDecoder(fragment_timeout=5.0)
    pkt = sctp(1, data=b"t" * 64)
    nd.decode(1, frag4(9, 0, True, pkt[:40]), 100.0)
    assert nd.decode(1, frag4(9, 40, False, pkt[40:]), 106.0).carried == []  # the first half expired
    nd.decode(1, frag4(10, 0, True, pkt[:40]), 200.0)
    (c,) = nd.decode(1, frag4(10, 40, False, pkt[40:]), 204.0).carried
    assert bytes(c.payload) == pkt


def test_fragment_overlap_and_duplicates() -> None:
    nd = NetDecoder()
    pkt = sctp(1, data=b"o" * 64)
    assert nd.decode(1, frag4(5, 0, True, pkt[:40]), 0).problems == []
    assert nd.decode(1, frag4(5, 0, True, pkt[:40]), 0).problems == []  # a retransmitted duplicate
    bad = bytearray(pkt[32:56])
    bad[0] ^= 0xFF
    r = nd.decode(1, frag4(5, 32, True, bytes(bad)), 0)
    assert [p.code for p in r.problems] == ["ip.fragment_overlap"]
    (c,) = nd.decode(1, frag4(5, 56, False, pkt[56:]), 0).carried
    assert bytes(c.payload) == pkt  # the first copy wins


def test_fragments_of_different_sources_do_not_mix() -> None:
    nd = NetDecoder()
    a, b = sctp(1, data=b"a" * 64), sctp(2, data=b"b" * 64)
    nd.decode(1, frag4(1, 0, True, a[:40], src="10.0.0.1"), 0)
    nd.decode(1, frag4(1, 0, True, b[:40], src="10.0.0.2"), 0)
    (cb,) = nd.decode(1, frag4(1, 40, False, b[40:], src="10.0.0.2"), 0).carried
    (ca,) = nd.decode(1, frag4(1, 40, False, a[40:], src="10.0.0.1"), 0).carried
    assert (bytes(ca.payload), ca.src) == (a, "10.0.0.1") and (bytes(cb.payload), cb.src) == (b, "10.0.0.2")


# --------------------------------------------------------------------------- robustness
def test_every_truncation_of_every_crafted_frame() -> None:
    nd = NetDecoder()
    for frame, _ in ethernet_cases():
        for n in range(len(frame) + 1):
            r = nd.decode(1, frame[:n], 0.0)
            for c in r.carried:
                assert c.offset == -1 or c.offset + len(c.payload) <= n
    for linktype, frames, _ in link_cases():
        for frame in frames:
            for n in range(len(frame) + 1):
                nd.decode(linktype, frame[:n], 0.0)


@settings(max_examples=400, deadline=None)
@given(linktype=st.sampled_from([0, 1, 12, 14, 101, 108, 113, 228, 229, 276, 9999]), data=st.binary(max_size=200))
def test_random_bytes_never_raise(linktype: int, data: bytes) -> None:
    r = NetDecoder().decode(linktype, data, 0.0)
    assert isinstance(r.problems, list)


@settings(max_examples=300, deadline=None)
@given(idx=st.integers(min_value=0, max_value=10_000), pos=st.integers(min_value=0, max_value=10_000), val=st.integers(0, 255))
def test_mutated_frames_never_raise(idx: int, pos: int, val: int) -> None:
    cases = ethernet_cases()
    frame = bytearray(cases[idx % len(cases)][0])
    frame[pos % len(frame)] = val
    nd = NetDecoder()
    r = nd.decode(1, bytes(frame), 0.0)
    for c in r.carried:
        assert c.offset == -1 or c.offset + len(c.payload) <= len(frame)


# --------------------------------------------------------------------------- fast path == general walker
def assert_fast_equals_general(frames) -> int:
    """Decode (linktype, data, ts, orig_len) frames with and without the fast path (each with its own
    fragment state, fed the same frames in order): the NetResults must be equal. Returns the number
    of frames the fast path took and the number of frames carrying one plain SCTP packet."""
    fast, slow = NetDecoder(), NetDecoder(fast=False)
    taken = plain = 0
    for i, (linktype, data, ts, orig_len) in enumerate(frames):
        walks = fast.general_walks
        a = fast.decode(linktype, data, ts, orig_len)
        b = slow.decode(linktype, data, ts, orig_len)
        assert a == b, (i, linktype, data.hex())
        assert type(a) is NetResult and all(type(c) is Carried for c in a.carried)
        assert type(a.layers) is list and type(a.carried) is list and type(a.problems) is list
        taken += fast.general_walks == walks
        plain += len(b.carried) == 1 and not b.problems and not (b.carried[0].quoted or b.carried[0].fragmented)
    return taken, plain


@needs_public
def test_fast_path_equals_general_on_public_captures() -> None:
    taken = plain = 0
    for path in public_files():
        with open_capture(path) as cap:
            frames = [(f.linktype, f.data, f.ts, f.orig_len) for f in cap]
        t, p = assert_fast_equals_general(frames)
        taken += t
        plain += p
        # again without orig_len
        assert_fast_equals_general([(lt, d, ts, None) for lt, d, ts, _ in frames])
    # the fast path does take (nearly) every frame carrying one plain SCTP packet, and nothing else
    assert 0.95 * plain <= taken <= plain


def test_fast_path_equals_general_on_crafted_frames_and_truncations() -> None:
    frames = []
    for frame, _ in ethernet_cases():
        frames += [(1, frame[:n], 0.0, None) for n in range(len(frame) + 1)]
        frames.append((1, frame[:40], 0.0, len(frame)))  # cut by the snapshot length
    for linktype, fs, _ in link_cases():
        for frame in fs:
            frames += [(linktype, frame[:n], 0.0, None) for n in range(len(frame) + 1)]
    assert_fast_equals_general(frames)


@settings(max_examples=300, deadline=None)
@given(idx=st.integers(min_value=0, max_value=10_000), pos=st.integers(min_value=0, max_value=80), val=st.integers(0, 255),
       linktype=st.sampled_from([1, 12, 101, 113, 228, 276]))
def test_fast_path_equals_general_on_mutated_headers(idx: int, pos: int, val: int, linktype: int) -> None:
    """Mutate one byte of the link / IP headers of frames the fast path would take."""
    p4 = ipv4(V4A, V4B, 132, sctp(idx))
    p6 = ipv6(V6A, V6B, 132, sctp(idx))
    frames = {
        1: [ether(0x0800, p4), ether(0x86DD, p6), ether(0x0800, p4, tags=((0x8100, 7),))],
        12: [p4, p6], 101: [p4, p6], 228: [p4],
        113: [sll(0x0800, p4), sll(0x86DD, p6)], 276: [sll2(0x0800, p4), sll2(0x86DD, p6)],
    }[linktype]
    cases = []
    for f in frames:
        b = bytearray(f)
        b[pos % len(b)] = val
        cases.append((linktype, bytes(b), 0.0, None))
    assert_fast_equals_general(cases)


@pytest.mark.parametrize("linktype, frame, layers", [
    (1, ether(0x0800, ipv4(V4A, V4B, 132, sctp(1))), ["ether", "ipv4", "sctp"]),
    (1, ether(0x0800, ipv4(V4A, V4B, 132, sctp(1)), tags=((0x8100, 7),)), ["ether", "vlan", "ipv4", "sctp"]),
    (1, ether(0x86DD, ipv6(V6A, V6B, 132, sctp(1))), ["ether", "ipv6", "sctp"]),
    (113, sll(0x0800, ipv4(V4A, V4B, 132, sctp(1))), ["linux-sll", "ipv4", "sctp"]),
    (276, sll2(0x0800, ipv4(V4A, V4B, 132, sctp(1))), ["linux-sll2", "ipv4", "sctp"]),
    (101, ipv4(V4A, V4B, 132, sctp(1)), ["raw", "ipv4", "sctp"]),
    (228, ipv4(V4A, V4B, 132, sctp(1)), ["ipv4", "sctp"]),
])
def test_fast_path_is_taken_for_common_shapes(linktype: int, frame: bytes, layers: list[str]) -> None:
    nd = NetDecoder()
    r = nd.decode(linktype, frame, 0.0)
    assert nd.general_walks == 0, "general walker called"
    assert r == NetDecoder(fast=False).decode(linktype, frame, 0.0)
    assert r.layers == layers and r.problems == [] and len(r.carried) == 1
    assert bytes(r.carried[0].payload) == sctp(1)
