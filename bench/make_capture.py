#!/usr/bin/env python3
"""Synthetic but realistic SCTP capture writer (pcap, microsecond timestamps, Ethernet).

    python bench/make_capture.py -n 1000000 -o /tmp/big.pcap [--associations 50 --streams 10 --seed 1]
    python bench/make_capture.py -n 1000 -o /tmp/small.pcap --verify     # cross-check with tshark

Stand-alone on purpose: pure Python plus the ``crc32c`` package, no sctpscope imports, so the
benchmark input never depends on the code under test.

What is written (every packet has a correct RFC 9260 Appendix B CRC32c):

* Ethernet II / IPv4 (DF, valid header checksum) and, for ~15 % of the associations, IPv6.
* ``--associations`` *concurrently open* associations.  When one ends, a new one replaces it
  (sometimes a reconnect between the same addresses and ports with new verification tags), so the
  capture holds more associations than that over its length.  Every association has a full life:
  INIT (IPv4/IPv6 Address, Supported Address Types, ECN, Forward-TSN, Supported Extensions) /
  INIT ACK (+ State Cookie) / COOKIE ECHO / COOKIE ACK, data, then SHUTDOWN / SHUTDOWN ACK /
  SHUTDOWN COMPLETE or (~20 %) an ABORT carrying a User-Initiated Abort cause.  At the end of the
  capture every association still open is closed, so the file holds exactly ``-n`` packets and no
  half-open association.
* Some associations are multihomed (two addresses per side, listed in INIT/INIT ACK); their
  HEARTBEATs alternate between the primary and the secondary path.
* Upper layers, chosen per association, with payloads that tshark decodes without errors:
  Diameter (PPID 46, port 3868: CCR/CCA with matching hop-by-hop ids, DWR/DWA sent unordered,
  a few multi-kB answers that get fragmented), NGAP (PPID 60, port 38412: Uplink/Downlink NAS
  Transport carrying ciphered 5GS NAS, a few multi-kB messages fragmented), S1AP (PPID 18, port
  36412: Uplink/Downlink NAS Transport), M3UA (PPID 3, port 2905: DATA carrying ISUP
  IAM/ACM/ANM/REL/RLC on streams 1.., BEAT/BEAT ACK unordered on stream 0).
* DATA on several streams with per-stream SSNs, ordered and unordered, fragmented messages
  (B / middle / E chunks sharing one SSN), small messages bundled several per packet.
* SACKs: delayed (every second packet), immediate while there is a gap; with gap-ack blocks after a
  "lost" DATA chunk (captured at the sender, never reaching the peer), duplicate TSNs after a
  spurious retransmission; SACK bundled in front of DATA.
* Retransmissions: fast retransmit after three miss indications, T3 timeouts, spurious ones.
* HEARTBEAT / HEARTBEAT ACK (Heartbeat Info parameter echoed).

The capture is streamed to disk (bounded memory); the counts of everything written are printed
at the end (``--stats-json FILE`` also writes them as JSON) and ``--verify`` compares them with
what tshark decodes.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import struct
import subprocess
import sys
import time
from collections import Counter, deque

import crc32c as _crc32c_mod

_crc = _crc32c_mod.crc32c
_pack = struct.pack

M32 = 0xFFFFFFFF

CHUNK_NAMES = {
    0: "DATA", 1: "INIT", 2: "INIT_ACK", 3: "SACK", 4: "HEARTBEAT", 5: "HEARTBEAT_ACK",
    6: "ABORT", 7: "SHUTDOWN", 8: "SHUTDOWN_ACK", 10: "COOKIE_ECHO", 11: "COOKIE_ACK",
    14: "SHUTDOWN_COMPLETE",
}

MAX_FRAG = 1200          # user-data bytes per DATA fragment (fits IPv4 and IPv6 at MTU 1500)
MAX_BUNDLE = 1400        # bytes of chunks bundled into one packet
A_RWND = 106496

PPID_DIAMETER, PPID_NGAP, PPID_S1AP, PPID_M3UA = 46, 60, 18, 3


def _pad(b: bytes) -> bytes:
    r = -len(b) % 4
    return b + b"\0" * r if r else b


# ----------------------------------------------------------------------------------------------
# Upper-layer payloads (built once into pools; per-message fields patched where it matters)
# ----------------------------------------------------------------------------------------------

def _avp(code: int, data: bytes, flags: int = 0x40) -> bytes:
    return _pad(_pack(">IB", code, flags) + (8 + len(data)).to_bytes(3, "big") + data)


def _u32(v: int) -> bytes:
    return _pack(">I", v)


def _diameter(cmd: int, app: int, flags: int, avps: list[bytes]) -> bytes:
    body = b"".join(avps)
    return (b"\x01" + (20 + len(body)).to_bytes(3, "big") + bytes([flags]) + cmd.to_bytes(3, "big")
            + _pack(">III", app, 0, 0) + body)


class DiameterApp:
    """Client (side 0) sends CCRs; server (side 1) answers with CCAs (same hop-by-hop/end-to-end);
    both sides send the occasional DWR (unordered) that the peer answers with a DWA."""

    ppid = PPID_DIAMETER
    port = 3868

    def __init__(self, rng: random.Random, streams: int):
        self.rng = rng
        self.streams = streams
        hosts = (b"client%d.example.net" % rng.randrange(100), b"pcrf%d.example.net" % rng.randrange(10))
        realm = b"example.net"
        self.hbh = [rng.getrandbits(32), rng.getrandbits(32)]
        self.pending: list[deque] = [deque(), deque()]   # answers owed by side s: (kind, hbh, e2e, sid)
        self.ccr = []
        for i in range(8):
            sess = b"%s;%d;%d" % (hosts[0], rng.getrandbits(31), i)
            self.ccr.append(_diameter(272, 4, 0xC0, [
                _avp(263, sess), _avp(264, hosts[0]), _avp(296, realm), _avp(283, realm),
                _avp(258, _u32(4)), _avp(416, _u32(1 + i % 3)), _avp(415, _u32(i)),
                _avp(461, b"32251@3gpp.org"),
            ]))
        self.cca = []
        for i in range(8):
            sess = b"%s;%d;%d" % (hosts[0], rng.getrandbits(31), i)
            avps = [_avp(263, sess), _avp(268, _u32(2001)), _avp(264, hosts[1]), _avp(296, realm),
                    _avp(258, _u32(4)), _avp(416, _u32(1 + i % 3)), _avp(415, _u32(i))]
            if i >= 6:   # large answers (charging rules / class blobs) -> fragmented DATA
                for _ in range(rng.randrange(2, 6)):
                    avps.append(_avp(25, bytes(rng.getrandbits(8) for _ in range(rng.randrange(600, 1400)))))
            self.cca.append(_diameter(272, 4, 0x40, avps))
        self.dwr = [_diameter(280, 0, 0x80, [_avp(264, h), _avp(296, realm)]) for h in hosts]
        self.dwa = [_diameter(280, 0, 0x00, [_avp(268, _u32(2001)), _avp(264, h), _avp(296, realm)])
                    for h in hosts]

    @staticmethod
    def _ids(tmpl: bytes, hbh: int, e2e: int) -> bytes:
        return tmpl[:12] + _pack(">II", hbh, e2e) + tmpl[20:]

    def message(self, side: int):
        """-> (payload, sid, unordered)"""
        rng = self.rng
        q = self.pending[side]
        if q and (side == 1 or rng.random() < 0.9):
            kind, hbh, e2e, sid = q.popleft()
            if kind == "dwa":
                return self._ids(self.dwa[side], hbh, e2e), 0, True
            if rng.random() < 0.97:
                t = self.cca[rng.randrange(6)]
            else:
                t = self.cca[6 + rng.randrange(2)]
            return self._ids(t, hbh, e2e), sid, False
        self.hbh[side] = hbh = (self.hbh[side] + 1) & M32
        e2e = rng.getrandbits(32)
        if side == 1 or rng.random() < 0.02:
            self.pending[1 - side].append(("dwa", hbh, e2e, 0))
            return self._ids(self.dwr[side], hbh, e2e), 0, True
        sid = rng.randrange(self.streams)
        self.pending[1].append(("cca", hbh, e2e, sid))
        return self._ids(self.ccr[rng.randrange(8)], hbh, e2e), sid, False

    def wants(self, side: int) -> float:
        """Relative chance that `side` sends next."""
        return 1.0 + 3.0 * len(self.pending[side]) if side == 1 else 1.5


def _per_len(n: int) -> bytes:
    if n < 128:
        return bytes([n])
    assert n < 16384
    return _pack(">H", 0x8000 | n)


def _per_int(v: int, nbits_len: int) -> bytes:
    """APER constrained whole number with a range > 64K: length (nbits_len bits, aligned) + octets."""
    n = max(1, (v.bit_length() + 7) // 8)
    return bytes([(n - 1) << (8 - nbits_len)]) + v.to_bytes(n, "big")


def _ap_ie(ie_id: int, crit: int, value: bytes) -> bytes:
    return _pack(">HB", ie_id, crit << 6) + _per_len(len(value)) + value


def _ap_pdu(choice: int, proc: int, crit: int, ies: list[bytes]) -> bytes:
    value = b"\x00" + _pack(">H", len(ies)) + b"".join(ies)
    return bytes([choice << 5, proc, crit << 6]) + _per_len(len(value)) + value


class NgapApp:
    """gNB (side 0) <-> AMF (side 1): Uplink/Downlink NAS Transport with ciphered 5GS NAS."""

    ppid = PPID_NGAP
    port = 38412

    def __init__(self, rng: random.Random, streams: int):
        self.rng = rng
        self.streams = streams
        plmn = b"\x02\xf8\x39"
        # CHOICE NR(01) + ext/optional bits, NR-CGI {PLMN, 36-bit cell id (the TAI preamble bits
        # share its last octet)}, TAI {PLMN, TAC}
        uli = (b"\x40" + plmn + (rng.getrandbits(36) << 4).to_bytes(5, "big") + plmn
               + rng.getrandbits(24).to_bytes(3, "big"))
        self.pool: list[list[bytes]] = [[], []]
        self.big: list[bytes] = []
        for i in range(12):
            amf, ran = rng.getrandbits(rng.choice((8, 16, 24, 40))), rng.getrandbits(rng.choice((8, 16, 32)))
            for side in (0, 1):
                size = rng.choice((8, 24, 40, 60, 90, 150, 300))
                nas = b"\x7e\x02" + os.urandom(5) + os.urandom(size)   # 5GMM, integrity protected & ciphered
                ies = [_ap_ie(10, 0, _per_int(amf, 3)), _ap_ie(85, 0, _per_int(ran, 2)),
                       _ap_ie(38, 0, _per_len(len(nas)) + nas)]
                if side == 0:
                    ies.append(_ap_ie(121, 1, uli))
                self.pool[side].append(_ap_pdu(0, 46 if side == 0 else 4, 1, ies))
            nas = b"\x7e\x02" + os.urandom(5) + os.urandom(rng.randrange(1500, 5000))
            self.big.append(_ap_pdu(0, 4, 1, [_ap_ie(10, 0, _per_int(amf, 3)), _ap_ie(85, 0, _per_int(ran, 2)),
                                              _ap_ie(38, 0, _per_len(len(nas)) + nas)]))

    def message(self, side: int):
        rng = self.rng
        if side == 1 and rng.random() < 0.01:
            return self.big[rng.randrange(len(self.big))], 1 + rng.randrange(self.streams - 1), False
        return (self.pool[side][rng.randrange(len(self.pool[side]))],
                1 + rng.randrange(self.streams - 1) if self.streams > 1 else 0, False)

    def wants(self, side: int) -> float:
        return 1.0


class S1apApp:
    """eNB (side 0) <-> MME (side 1): Uplink/Downlink NAS Transport, EPS NAS in a security header."""

    ppid = PPID_S1AP
    port = 36412

    def __init__(self, rng: random.Random, streams: int):
        self.rng = rng
        self.streams = streams
        self.pool: list[list[bytes]] = [[], []]
        for i in range(12):
            mme, enb = rng.getrandbits(rng.choice((8, 16, 32))), rng.getrandbits(rng.choice((8, 16, 24)))
            for side in (0, 1):
                if side == 0:    # EMM STATUS inside "integrity protected and ciphered"
                    inner = b"\x07\x60" + bytes([rng.choice((0x60, 0x61, 0x62, 0x6f))])
                else:            # EMM INFORMATION with network daylight saving time
                    inner = b"\x07\x61" + (b"\x49\x01\x00" if i % 2 else b"")
                nas = b"\x27" + os.urandom(4) + bytes([i]) + inner
                ies = [_ap_ie(0, 0, _per_int(mme, 2)), _ap_ie(8, 0, _per_int(enb, 2)),
                       _ap_ie(26, 0, _per_len(len(nas)) + nas)]
                self.pool[side].append(_ap_pdu(0, 13 if side == 0 else 11, 1, ies))

    def message(self, side: int):
        rng = self.rng
        return (self.pool[side][rng.randrange(12)],
                1 + rng.randrange(self.streams - 1) if self.streams > 1 else 0, False)

    def wants(self, side: int) -> float:
        return 1.0


def _m3ua(cls: int, typ: int, params: list[bytes]) -> bytes:
    body = b"".join(params)
    return _pack(">BBBBI", 1, 0, cls, typ, 8 + len(body)) + body


def _m3ua_param(tag: int, value: bytes) -> bytes:
    return _pad(_pack(">HH", tag, 4 + len(value)) + value)


def _bcd(digits: str) -> tuple[bool, bytes]:
    odd = len(digits) % 2 == 1
    d = digits + ("0" if odd else "")
    return odd, bytes(int(d[i]) | (int(d[i + 1]) << 4) for i in range(0, len(d), 2))


class M3uaApp:
    """SG/ASP pair: M3UA DATA carrying ISUP (SI 5) on streams 1.., BEAT/BEAT ACK unordered on 0."""

    ppid = PPID_M3UA
    port = 2905

    def __init__(self, rng: random.Random, streams: int):
        self.rng = rng
        self.streams = streams
        self.opc, self.dpc = rng.randrange(1, 16383), rng.randrange(1, 16383)
        self.rc = rng.randrange(1, 1000)
        self.beat_owed = [0, 0]

        def isup_msg(cic: int, kind: str) -> bytes:
            c = _pack("<H", cic)
            if kind == "IAM":
                odd, called = _bcd("49%09d" % rng.randrange(10 ** 9))
                cpn = bytes([(0x80 if odd else 0) | 0x03, 0x10]) + called
                odd2, calling = _bcd("4930%07d" % rng.randrange(10 ** 7))
                cgn = bytes([(0x80 if odd2 else 0) | 0x03, 0x13]) + calling
                opt = b"\x0a" + bytes([len(cgn)]) + cgn + b"\x00"
                return (c + b"\x01\x00\x20\x01\x0a\x00" + bytes([2, 2 + len(cpn)])
                        + bytes([len(cpn)]) + cpn + opt)
            if kind == "ACM":
                return c + b"\x06\x16\x14\x00"
            if kind == "ANM":
                return c + b"\x09\x00"
            if kind == "REL":
                return c + b"\x0c\x02\x00\x02\x80\x90"
            return c + b"\x10\x00"          # RLC

        self.pool: list[list[tuple[bytes, int]]] = [[], []]
        for side, kinds in ((0, ("IAM", "REL", "IAM", "REL", "ANM")), (1, ("ACM", "ANM", "RLC", "RLC", "REL"))):
            opc, dpc = (self.opc, self.dpc) if side == 0 else (self.dpc, self.opc)
            for i in range(16):
                cic = rng.randrange(4096)
                sls = cic & 0x0F
                isup = isup_msg(cic, kinds[i % len(kinds)])
                pd = _pack(">IIBBBB", opc, dpc, 5, 2, 0, sls) + isup
                msg = _m3ua(1, 1, [_m3ua_param(0x0006, _u32(self.rc)), _m3ua_param(0x0210, pd)])
                self.pool[side].append((msg, sls))
        self.beat = _m3ua(3, 3, [_m3ua_param(0x0009, os.urandom(16))])
        self.beat_ack = _m3ua(3, 6, [_m3ua_param(0x0009, os.urandom(16))])

    def message(self, side: int):
        rng = self.rng
        if self.beat_owed[side]:
            self.beat_owed[side] -= 1
            return self.beat_ack, 0, True
        if rng.random() < 0.01:
            self.beat_owed[1 - side] += 1
            return self.beat, 0, True
        msg, sls = self.pool[side][rng.randrange(16)]
        return msg, (1 + sls % (self.streams - 1)) if self.streams > 1 else 0, False

    def wants(self, side: int) -> float:
        return 1.0 + 5.0 * self.beat_owed[side]


APPS = [(DiameterApp, 0.35), (NgapApp, 0.25), (S1apApp, 0.2), (M3uaApp, 0.2)]


# ----------------------------------------------------------------------------------------------
# Output
# ----------------------------------------------------------------------------------------------

class Path:
    """Precomputed Ethernet + IP + SCTP-common-header template for one sender / address pair."""

    __slots__ = ("eth", "v6", "ip_pre", "ip_post", "base", "hdr8", "crc_hdr", "ipid", "vtag")

    def __init__(self, rng, smac, dmac, src, dst, sport, dport, vtag):
        self.v6 = len(src) == 16
        self.eth = dmac + smac + (b"\x86\xdd" if self.v6 else b"\x08\x00")
        if self.v6:
            self.ip_pre = _pack(">I", 0x60000000 | rng.getrandbits(20))
            self.ip_post = b"\x84\x40" + src + dst
            self.base = 0
        else:
            self.ip_pre = b""
            self.ip_post = src + dst
            self.base = 0x4500 + 0x4000 + 0x4084 + sum(struct.unpack(">4H", src + dst))
        self.ipid = rng.getrandbits(16)
        self.set_vtag(sport, dport, vtag)

    def set_vtag(self, sport, dport, vtag):
        self.vtag = vtag
        self.hdr8 = _pack(">HHI", sport, dport, vtag)
        self.crc_hdr = _crc(self.hdr8 + b"\0\0\0\0")


class Writer:
    def __init__(self, path: str, rng: random.Random, start_us: int):
        self.f = open(path, "wb", buffering=0)
        self.f.write(_pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 262144, 1))
        self.buf: list[bytes] = []
        self.nbuf = 0
        self.rng = rng
        self.t_us = start_us
        self.packets = 0
        self.bytes = 24
        self.v4 = 0
        self.v6 = 0

    def emit(self, p: Path, chunks: bytes) -> None:
        sl = 12 + len(chunks)
        crc = _crc(chunks, p.crc_hdr)
        if p.v6:
            ip = p.ip_pre + _pack(">H", sl) + p.ip_post
            self.v6 += 1
        else:
            tot = 20 + sl
            p.ipid = ident = (p.ipid + 1) & 0xFFFF
            s = p.base + tot + ident
            s = (s & 0xFFFF) + (s >> 16)
            s = (s & 0xFFFF) + (s >> 16)
            ip = _pack(">BBHHHBBH", 0x45, 0, tot, ident, 0x4000, 64, 132, ~s & 0xFFFF) + p.ip_post
            self.v4 += 1
        flen = 14 + len(ip) + sl
        self.t_us = t = self.t_us + 1 + int(self.rng.expovariate(1 / 150.0))
        rec = _pack("<IIII", t // 1000000, t % 1000000, flen, flen) + p.eth + ip + p.hdr8 + _pack("<I", crc) + chunks
        self.buf.append(rec)
        self.nbuf += len(rec)
        self.packets += 1
        if self.nbuf > 1 << 22:
            self.flush()

    def flush(self) -> None:
        if self.buf:
            data = b"".join(self.buf)
            self.f.write(data)
            self.bytes += len(data)
            self.buf.clear()
            self.nbuf = 0

    def close(self) -> None:
        self.flush()
        self.f.close()


# ----------------------------------------------------------------------------------------------
# SCTP association model
# ----------------------------------------------------------------------------------------------

def data_chunk(flags: int, tsn: int, sid: int, ssn: int, ppid: int, payload: bytes) -> bytes:
    return _pad(_pack(">BBHIHHI", 0, flags, 16 + len(payload), tsn, sid, ssn, ppid) + payload)


def _param(ptype: int, value: bytes) -> bytes:
    return _pad(_pack(">HH", ptype, 4 + len(value)) + value)


class Receiver:
    """Data receiver state of one side: cumulative TSN, out-of-order TSNs, duplicates, delayed ack."""

    __slots__ = ("cum", "above", "dups", "pkts")

    def __init__(self, peer_initial_tsn: int):
        self.cum = (peer_initial_tsn - 1) & M32
        self.above: set[int] = set()
        self.dups: list[int] = []
        self.pkts = 0

    def receive(self, tsn: int) -> None:
        off = (tsn - self.cum) & M32
        if off == 0 or off >= 0x80000000 or tsn in self.above:
            self.dups.append(tsn)
        elif off == 1:
            cum = tsn
            above = self.above
            if above:
                nxt = (cum + 1) & M32
                while nxt in above:
                    above.discard(nxt)
                    cum = nxt
                    nxt = (cum + 1) & M32
            self.cum = cum
        else:
            self.above.add(tsn)

    def sack_due(self) -> bool:
        # delayed ack every second packet; immediately after a packet while there is a gap / duplicate
        return self.pkts >= 2 or (self.pkts > 0 and (bool(self.above) or bool(self.dups)))

    def sack(self) -> tuple[bytes, int, int]:
        cum = self.cum
        gaps = b""
        ng = 0
        if self.above:
            offs = sorted((t - cum) & M32 for t in self.above)
            start = prev = offs[0]
            for o in offs[1:]:
                if o != prev + 1:
                    gaps += _pack(">HH", start, prev)
                    ng += 1
                    start = o
                prev = o
            gaps += _pack(">HH", start, prev)
            ng += 1
        dups = self.dups[:16]
        nd = len(dups)
        body = _pack(">IIHH", cum, max(4096, A_RWND - 1400 * len(self.above)), ng, nd) + gaps + b"".join(_pack(">I", d) for d in dups)
        self.dups = []
        self.pkts = 0
        return _pack(">BBH", 3, 0, 4 + len(body)) + body, ng, nd


class Stats:
    def __init__(self):
        self.chunks = Counter()
        self.c = Counter()
        self.ppid = Counter()


class Association:
    def __init__(self, gen: "Generator", idx: int, endpoints=None):
        rng = gen.rng
        self.gen = gen
        self.w = gen.writer
        self.st = gen.stats
        self.rng = rng
        self.idx = idx
        app_cls = rng.choices([a for a, _ in APPS], [w for _, w in APPS])[0]
        streams = gen.streams
        if endpoints is None:
            v6 = rng.random() < gen.ipv6_fraction
            multi = rng.random() < gen.multihome_fraction
            n = gen.next_host()
            if v6:
                addrs = ([bytes.fromhex("fd0000000001000000000000%08x" % n)],
                         [bytes.fromhex("fd0000000002000000000000%08x" % n)])
                if multi:
                    addrs[0].append(bytes.fromhex("fd0000000011000000000000%08x" % n))
                    addrs[1].append(bytes.fromhex("fd0000000012000000000000%08x" % n))
            else:
                addrs = ([bytes([198, 18, n >> 8 & 63, n & 255])], [bytes([198, 18, 64 | n >> 8 & 63, n & 255])])
                if multi:
                    addrs[0].append(bytes([198, 19, n >> 8 & 63, n & 255]))
                    addrs[1].append(bytes([198, 19, 64 | n >> 8 & 63, n & 255]))
            macs = (b"\x02\x00" + _pack(">I", 2 * n), b"\x02\x00" + _pack(">I", 2 * n + 1))
            cport = app_cls.port if app_cls is M3uaApp else rng.randrange(32768, 61000)
            self.ports = (cport, app_cls.port)
            self.endpoints = (app_cls, addrs, macs, self.ports)
        else:
            app_cls, addrs, macs, self.ports = endpoints
            self.endpoints = endpoints
            gen.stats.c["reconnects"] += 1
        self.app = app_cls(rng, streams)
        self.ppid = app_cls.ppid
        self.addrs = addrs
        self.v6 = len(addrs[0][0]) == 16
        self.multi = len(addrs[0]) > 1
        self.tag = [rng.randrange(1, M32), rng.randrange(1, M32)]
        self.next_tsn = [rng.getrandbits(32), rng.getrandbits(32)]
        self.ssn = [[0] * streams, [0] * streams]
        self.rx = [Receiver(self.next_tsn[1]), Receiver(self.next_tsn[0])]
        # paths[s][p]: packets sent by side s on path p (p=0 primary)
        self.paths = [[Path(rng, macs[s], macs[1 - s], addrs[s][p], addrs[1 - s][p], self.ports[s],
                            self.ports[1 - s], self.tag[1 - s]) for p in range(len(addrs[0]))] for s in (0, 1)]
        self.outq: list[deque] = [deque(), deque()]     # queued DATA chunks: (tsn, chunk bytes, frag kind)
        self.recent: list[deque] = [deque(maxlen=8), deque(maxlen=8)]  # (tsn, chunk) recently sent
        self.lost: list[list] = [[], []]               # [tsn, chunk, miss_count, step_lost]
        self.script: deque = deque()                   # queued packets (callables) with priority
        self.steps = 0
        self.lifetime = gen.draw_lifetime()
        self.hb_next = rng.randrange(50, 400)
        self.hb_path = 0
        self.closing = False
        self.done = False
        self.abort = rng.random() < 0.2
        gen.stats.c["associations"] += 1
        gen.stats.c["associations_ipv6"] += self.v6
        gen.stats.c["associations_multihomed"] += self.multi
        gen.stats.ppid_assoc[self.ppid] += 1
        self._handshake()

    # -- packet helpers ---------------------------------------------------------------------
    def send(self, side: int, chunks: bytes, types, path: int = 0) -> None:
        self.w.emit(self.paths[side][path], chunks)
        ch = self.st.chunks
        for t in types:
            ch[t] += 1
        if len(types) > 1:
            self.st.c["bundled_packets"] += 1

    def _addr_params(self, side: int) -> bytes:
        return b"".join(_param(6 if self.v6 else 5, a) for a in self.addrs[side])

    def _handshake(self) -> None:
        rng = self.rng
        n = self.gen.streams
        # last parameter unpadded (chunk length excludes only the chunk's own trailing padding)
        ext = _param(0x8008, b"\xc0\x82") + _param(0x8000, b"") + _param(0xC000, b"")
        types = _param(12, _pack(">H", 6 if self.v6 else 5))
        init = (_pack(">IIHHI", self.tag[0], A_RWND, n, 65535, self.next_tsn[0])
                + self._addr_params(0) + types + ext)
        init = _pack(">BBH", 1, 0, 4 + len(init)) + init
        cookie = os.urandom(rng.randrange(96, 320))
        ack = (_pack(">IIHHI", self.tag[1], A_RWND, n, n, self.next_tsn[1])
               + _param(7, cookie) + self._addr_params(1) + ext)
        ack = _pack(">BBH", 2, 0, 4 + len(ack)) + ack
        echo = _pad(_pack(">BBH", 10, 0, 4 + len(cookie)) + cookie)
        cack = _pack(">BBH", 11, 0, 4)
        p0 = self.paths[0][0]

        def do_init():
            p0.set_vtag(self.ports[0], self.ports[1], 0)     # INIT carries verification tag 0
            self.send(0, init, (1,))
            p0.set_vtag(self.ports[0], self.ports[1], self.tag[1])

        self.script.extend([do_init, lambda: self.send(1, ack, (2,)),
                            lambda: self.send(0, echo, (10,)), lambda: self.send(1, cack, (11,))])

    def close_cost(self) -> int:
        if self.closing:
            return len(self.script)
        return (len(self.script) + len(self.outq[0]) + len(self.outq[1]) + len(self.lost[0]) + len(self.lost[1])
                + 2 + (1 if self.abort else 3))

    # -- DATA ---------------------------------------------------------------------------------
    def _enqueue_message(self, side: int) -> None:
        payload, sid, unordered = self.app.message(side)
        if self.gen.final:       # end of capture: no new fragmented messages (keeps the budget exact)
            for _ in range(20):
                if len(payload) <= MAX_FRAG:
                    break
                payload, sid, unordered = self.app.message(side)
            else:
                payload = payload[:MAX_FRAG]
        st = self.st
        st.c["messages"] += 1
        st.ppid[self.ppid] += 1
        q = self.outq[side]
        ppid = self.ppid
        if unordered:
            ssn = 0
            uflag = 4
            st.c["messages_unordered"] += 1
        else:
            ssns = self.ssn[side]
            ssn = ssns[sid]
            ssns[sid] = (ssn + 1) & 0xFFFF
            uflag = 0
        n = len(payload)
        if n <= MAX_FRAG:
            tsn = self.next_tsn[side]
            self.next_tsn[side] = (tsn + 1) & M32
            q.append((tsn, data_chunk(uflag | 3, tsn, sid, ssn, ppid, payload)))
            return
        st.c["messages_fragmented"] += 1
        for off in range(0, n, MAX_FRAG):
            flags = uflag | (2 if off == 0 else 0) | (1 if off + MAX_FRAG >= n else 0)
            tsn = self.next_tsn[side]
            self.next_tsn[side] = (tsn + 1) & M32
            q.append((tsn, data_chunk(flags, tsn, sid, ssn, ppid, payload[off:off + MAX_FRAG])))
            st.c["data_fragments"] += 1

    def _data_packet(self, side: int, prefix: bytes = b"", prefix_types=(), single: bool = False) -> None:
        """Send one packet of new DATA from `side` (optionally behind a bundled SACK)."""
        rng = self.rng
        q = self.outq[side]
        if not q:
            self._enqueue_message(side)
        chunks = [prefix] if prefix else []
        size = len(prefix)
        types = list(prefix_types)
        limit = 1 if single or self.gen.final else rng.choice((1, 1, 1, 1, 1, 1, 1, 2, 3, 4))
        sent = []
        while True:
            tsn, ch = q[0]
            if sent and size + len(ch) > MAX_BUNDLE:
                break
            q.popleft()
            chunks.append(ch)
            size += len(ch)
            types.append(0)
            sent.append((tsn, ch))
            if len(sent) >= limit:
                break
            if not q:
                if rng.random() < 0.5:
                    break
                self._enqueue_message(side)
        self.send(side, b"".join(chunks), types)
        rx = self.rx[1 - side]
        rx.pkts += 1
        recent = self.recent[side]
        p_loss = self.gen.p_loss if not self.gen.final else 0.0
        for tsn, ch in sent:
            if ch[1] != 3:
                self._count_flags(ch)
            if p_loss and rng.random() < p_loss:
                self.lost[side].append([tsn, ch, 0, self.steps])
                self.st.c["data_lost"] += 1
            else:
                rx.receive(tsn)
            recent.append((tsn, ch))

    def _count_flags(self, ch: bytes) -> None:
        f = ch[1]
        c = self.st.c
        if f & 4:
            c["data_chunks_unordered"] += 1
        be = f & 3
        if be != 3:
            c[("data_chunks_middle_fragment", "data_chunks_last_fragment", "data_chunks_first_fragment")[be]] += 1

    def _retransmit(self, side: int, tsn: int, ch: bytes, why: str) -> None:
        self.send(side, ch, (0,))
        self._count_flags(ch)
        self.st.c["data_retransmitted"] += 1
        self.st.c["retransmit_" + why] += 1
        rx = self.rx[1 - side]
        rx.pkts += 1
        rx.receive(tsn)

    def _sack(self, side: int, bundle_data: bool) -> None:
        chunk, ng, nd = self.rx[side].sack()
        st = self.st
        if ng:
            st.c["sacks_with_gaps"] += 1
            st.c["sack_gap_blocks"] += ng
        if nd:
            st.c["sacks_with_dups"] += 1
            st.c["sack_dup_tsns"] += nd
        # miss indications for the peer's lost chunks
        cum = self.rx[side].cum
        for ent in self.lost[1 - side]:
            if ng and ((ent[0] - cum) & M32) < 0x80000000:
                ent[2] += 1
        if bundle_data:
            st.c["sack_data_bundles"] += 1
            self._data_packet(side, chunk, (3,))
        else:
            self.send(side, chunk, (3,))

    def _heartbeat(self) -> None:
        rng = self.rng
        side = rng.randrange(2)
        path = self.hb_path if self.multi else 0
        self.hb_path ^= 1
        info = _param(1, self.addrs[1 - side][path].ljust(28, b"\0") + _pack(">Q", self.w.t_us) + os.urandom(8))
        hb = _pack(">BBH", 4, 0, 4 + len(info)) + info
        hba = _pack(">BBH", 5, 0, 4 + len(info)) + info
        self.send(side, hb, (4,), path)
        self.script.append(lambda: self.send(1 - side, hba, (5,), path))
        if path:
            self.st.c["heartbeats_secondary_path"] += 1

    # -- life cycle ------------------------------------------------------------------------------
    def start_close(self) -> None:
        if self.closing:
            return
        self.closing = True
        sc = self.script
        for side in (0, 1):        # queued chunks (rest of a fragmented message) go out first
            for _ in range(len(self.outq[side])):
                sc.append(lambda s=side: self._data_packet(s, single=True))
        for side in (0, 1):
            for ent in self.lost[side]:
                sc.append(lambda s=side, e=ent: self._retransmit(s, e[0], e[1], "t3_timeout"))
            self.lost[side] = []
        first = self.rng.randrange(2)
        sc.append(lambda: self._sack(first, False))
        sc.append(lambda: self._sack(1 - first, False))
        side = self.rng.randrange(2)
        st = self.st
        if self.abort:
            reason = self.rng.choice((b"operator shutdown", b"link reset", b"application restart"))
            cause = _pad(_pack(">HH", 12, 4 + len(reason)) + reason)
            ab = _pack(">BBH", 6, 0, 4 + len(cause) - (-(4 + len(reason)) % 4)) + cause

            def do_abort():
                self.send(side, ab, (6,))
                st.c["associations_aborted"] += 1
                self.done = True
            sc.append(do_abort)
        else:
            def do_shutdown():
                self.send(side, _pack(">BBHI", 7, 0, 8, self.rx[side].cum), (7,))

            def do_complete():
                self.send(side, _pack(">BBH", 14, 0, 4), (14,))
                st.c["associations_shutdown"] += 1
                self.done = True
            sc.append(do_shutdown)
            sc.append(lambda: self.send(1 - side, _pack(">BBH", 8, 0, 4), (8,)))
            sc.append(do_complete)

    def step(self) -> None:
        """Emit exactly one packet."""
        if self.script:
            self.script.popleft()()
            return
        self.steps += 1
        steps = self.steps
        if steps >= self.lifetime and not self.closing and not self.gen.final:
            self.start_close()
            self.script.popleft()()
            return
        if steps >= self.hb_next and not self.gen.final:
            self.hb_next = steps + self.rng.randrange(300, 3000)
            self._heartbeat()
            return
        rng = self.rng
        rx = self.rx
        for side in (0, 1) if rng.random() < 0.5 else (1, 0):
            if rx[side].sack_due():
                self._sack(side, rng.random() < 0.25)
                return
        w0, w1 = self.app.wants(0), self.app.wants(1)
        side = 0 if rng.random() * (w0 + w1) < w0 else 1
        lost = self.lost[side]
        if lost:
            ent = lost[0]
            if ent[2] >= 3 or steps - ent[3] > 60:
                lost.pop(0)
                self._retransmit(side, ent[0], ent[1], "fast" if ent[2] >= 3 else "t3_timeout")
                return
        if self.gen.p_spurious and rng.random() < self.gen.p_spurious and self.recent[side]:
            tsn, ch = self.recent[side][-1]
            if not any(e[0] == tsn for e in lost):
                self._retransmit(side, tsn, ch, "spurious")
                return
        self._data_packet(side)


class Generator:
    def __init__(self, args):
        self.rng = random.Random(args.seed)
        self.n = args.packets
        self.streams = max(1, args.streams)
        self.ipv6_fraction = args.ipv6_fraction
        self.multihome_fraction = args.multihome_fraction
        self.p_loss = args.loss
        self.p_spurious = args.spurious
        self.stats = Stats()
        self.stats.ppid_assoc = Counter()
        self.writer = Writer(args.output, self.rng, 1_700_000_000 * 1_000_000)
        self.active_target = max(1, min(args.associations, self.n // 40))
        self.mean_life = args.mean_life or max(20, self.n // self.active_target // 2)
        self.final = False
        self.host = 0
        self.assoc_idx = 0

    def next_host(self) -> int:
        self.host += 1
        return self.host

    def draw_lifetime(self) -> int:
        r = self.rng
        if r.random() < 0.15:                   # short-lived associations
            return r.randrange(3, 60)
        return max(10, int(r.uniform(0.3, 1.7) * self.mean_life))

    def new_assoc(self, endpoints=None) -> Association:
        self.assoc_idx += 1
        return Association(self, self.assoc_idx, endpoints)

    def run(self) -> None:
        rng = self.rng
        active = [self.new_assoc() for _ in range(self.active_target)]
        w = self.writer
        n = self.n
        margin = 24 * self.active_target + 64
        final_at = n - margin
        rnd = rng.random
        while w.packets < final_at:
            a = active[int(rnd() * len(active))]
            a.step()
            if a.done:
                ep = a.endpoints if rnd() < 0.3 else None     # 30 %: reconnect, same addresses/ports
                active[active.index(a)] = self.new_assoc(ep)
        # Final phase: no new associations, losses, heartbeats or natural ends; every step keeps
        # (remaining - close cost) or lowers it by one, so closing everything when they meet lands
        # exactly on n packets.
        self.final = True
        closing = False
        while active:
            remaining = n - w.packets
            if not closing:
                cost = sum(a.close_cost() for a in active)
                if remaining <= cost:
                    if remaining < cost:
                        print(f"warning: {cost - remaining} packets over budget to close every association",
                              file=sys.stderr)
                    for a in active:
                        a.start_close()
                    closing = True
            a = active[int(rnd() * len(active))]
            a.step()
            if a.done:
                active.remove(a)
        if w.packets < n:
            print(f"warning: wrote {w.packets} packets, fewer than the {n} asked for", file=sys.stderr)
        w.close()

    def summary(self) -> dict:
        st = self.stats
        w = self.writer
        return {
            "packets": w.packets,
            "packets_ipv4": w.v4,
            "packets_ipv6": w.v6,
            "file_bytes": w.bytes,
            "chunks": {CHUNK_NAMES[t]: c for t, c in sorted(st.chunks.items())},
            "chunks_total": sum(st.chunks.values()),
            "data_chunks_by_ppid": dict(sorted(st.ppid.items())),  # note: counts messages, see below
            "associations_by_ppid": dict(sorted(st.ppid_assoc.items())),
            **dict(sorted(st.c.items())),
        }


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("-n", "--packets", type=int, default=1000)
    ap.add_argument("-o", "--output", required=True)
    ap.add_argument("--associations", type=int, default=50, help="concurrently open associations (default 50)")
    ap.add_argument("--streams", type=int, default=10, help="streams per association (default 10)")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--mean-life", type=int, default=0, metavar="STEPS",
                    help="mean lifetime of an association, in steps (default: packets / associations / 2); "
                         "with --associations 1 and a large value the capture is one association")
    ap.add_argument("--ipv6-fraction", type=float, default=0.15)
    ap.add_argument("--multihome-fraction", type=float, default=0.15)
    ap.add_argument("--loss", type=float, default=0.003, help="per-DATA-chunk loss probability")
    ap.add_argument("--spurious", type=float, default=0.0005, help="per-packet spurious retransmission probability")
    ap.add_argument("--stats-json", help="also write the counts as JSON here")
    ap.add_argument("--verify", action="store_true", help="decode the result with tshark and compare counts")
    ap.add_argument("-q", "--quiet", action="store_true")
    args = ap.parse_args(argv)
    if args.packets < 40:
        ap.error("-n must be at least 40")

    t0 = time.perf_counter()
    g = Generator(args)
    g.run()
    dt = time.perf_counter() - t0
    s = g.summary()
    s["seconds"] = round(dt, 2)
    # messages by PPID are what st.ppid counts; rename for clarity
    s["messages_by_ppid"] = s.pop("data_chunks_by_ppid")
    if args.stats_json:
        with open(args.stats_json, "w") as f:
            json.dump(s, f, indent=1)
    if not args.quiet:
        print(f"wrote {args.output}: {s['packets']} packets, {s['file_bytes'] / 2**20:.1f} MiB in {dt:.1f} s "
              f"({s['packets'] / dt:,.0f} packets/s)")
        print(json.dumps(s, indent=1))
    if args.verify:
        return 0 if verify(args.output, s) else 1
    return 0


# ----------------------------------------------------------------------------------------------
# tshark cross-check
# ----------------------------------------------------------------------------------------------

def verify(path: str, s: dict, tshark: str = "tshark") -> bool:
    fields = ["sctp.checksum.status", "sctp.chunk_type", "sctp.data_u_bit", "sctp.data_b_bit",
              "sctp.data_e_bit", "sctp.sack_number_of_gap_blocks", "sctp.sack_number_of_duplicated_tsns",
              "sctp.retransmission", "ip.src", "ipv6.src", "_ws.malformed"]
    cmd = [tshark, "-n", "-r", path, "-o", "sctp.checksum:CRC-32C", "-T", "fields", "-E", "occurrence=a",
           "-E", "aggregator=,", "-E", "separator=\t"]
    for f in fields:
        cmd += ["-e", f]
    out = subprocess.run(cmd, capture_output=True, text=True, check=True).stdout
    ck = Counter()
    chunks = Counter()
    u = b = e = gaps = dups = rtx = v4 = v6 = mal = frames = 0
    for line in out.splitlines():
        frames += 1
        cols = line.split("\t")
        cols += [""] * (len(fields) - len(cols))
        ck[cols[0]] += 1
        for t in filter(None, cols[1].split(",")):
            chunks[CHUNK_NAMES.get(int(t), t)] += 1
        u += cols[2].split(",").count("1") if cols[2] else 0
        b_bits = cols[3].split(",") if cols[3] else []
        e_bits = cols[4].split(",") if cols[4] else []
        b += sum(1 for x, y in zip(b_bits, e_bits) if x == "1" and y == "0")
        e += sum(1 for x, y in zip(b_bits, e_bits) if x == "0" and y == "1")
        gaps += sum(int(x) for x in cols[5].split(",") if x)
        dups += sum(int(x) for x in cols[6].split(",") if x)
        rtx += len([x for x in cols[7].split(",") if x])
        v4 += bool(cols[8])
        v6 += bool(cols[9])
        mal += bool(cols[10])
    ok = True

    def cmp(name, mine, theirs):
        nonlocal ok
        good = mine == theirs
        ok &= good
        print(f"  {'ok ' if good else 'BAD'} {name:34s} generator={mine!s:>10} tshark={theirs!s:>10}")

    print(f"tshark cross-check of {path}:")
    cmp("frames", s["packets"], frames)
    cmp("IPv4 / IPv6 frames", (s["packets_ipv4"], s["packets_ipv6"]), (v4, v6))
    cmp("checksum status good (1)", s["packets"], ck.get("1", 0))
    for name in sorted(set(s["chunks"]) | set(chunks)):
        cmp(f"chunks {name}", s["chunks"].get(name, 0), chunks.get(name, 0))
    cmp("DATA chunks with U bit", s.get("data_chunks_unordered", 0), u)
    cmp("first fragments (B=1,E=0)", s.get("data_chunks_first_fragment", 0), b)
    cmp("last fragments (B=0,E=1)", s.get("data_chunks_last_fragment", 0), e)
    cmp("SACK gap-ack blocks", s.get("sack_gap_blocks", 0), gaps)
    cmp("SACK duplicate TSNs", s.get("sack_dup_tsns", 0), dups)
    cmp("tshark TSN-analysis retransmissions", s.get("data_retransmitted", 0), rtx)
    cmp("malformed frames", 0, mal)
    flagged = subprocess.run([tshark, "-n", "-r", path, "-o", "sctp.checksum:CRC-32C", "-Y",
                              "_ws.malformed || _ws.expert.severity >= error"],
                             capture_output=True, text=True).stdout.strip()
    cmp("frames with expert severity >= error", 0, len(flagged.splitlines()) if flagged else 0)
    if flagged:
        print("\n".join(flagged.splitlines()[:20]))
    print("verify:", "OK" if ok else "MISMATCH")
    return ok


if __name__ == "__main__":
    sys.exit(main())
