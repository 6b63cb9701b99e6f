"""Generators of hostile and pathological captures (issue 15), as bytes one can explain.

Every packet is Ethernet / IPv4 / SCTP with a correct CRC32c unless asked otherwise, written to a
little-endian microsecond pcap. The chunk builders follow RFC 9260 §3 (DATA, ABORT, ERROR...), RFC 5061
(ASCONF), RFC 3758 (FORWARD-TSN) and RFC 8260 (I-DATA). Big captures are written as they are generated
(`write_pcap` takes an iterable), so a generator of two million packets holds one packet at a time.
"""
from __future__ import annotations

import struct
from collections.abc import Iterable, Iterator
from pathlib import Path

import crc32c

A = bytes([198, 18, 0, 1])
B = bytes([198, 18, 0, 2])
A2 = bytes([198, 18, 0, 11])
PORT_A, PORT_B = 5000, 6000
TAG_A, TAG_B = 0x0A0A0A0A, 0x0B0B0B0B      # the tags packets TO A / TO B carry


def pad4(b: bytes) -> bytes:
    return b + b"\0" * (-len(b) % 4)


def chunk(ctype: int, flags: int, body: bytes) -> bytes:
    """A chunk: type, flags, length (header + body, without padding), body, padding to 4 bytes."""
    return pad4(struct.pack("!BBH", ctype, flags, 4 + len(body)) + body)


def param(ptype: int, value: bytes) -> bytes:
    return pad4(struct.pack("!HH", ptype, 4 + len(value)) + value)


def cause(code: int, value: bytes) -> bytes:
    return pad4(struct.pack("!HH", code, 4 + len(value)) + value)


def data(tsn: int, sid: int, ssn: int, ppid: int, payload: bytes, flags: int) -> bytes:
    """DATA (type 0); flags: 0x04 U, 0x02 B, 0x01 E."""
    return chunk(0, flags, struct.pack("!IHHI", tsn, sid, ssn, ppid) + payload)


def idata(tsn: int, sid: int, mid: int, ppid_or_fsn: int, payload: bytes, flags: int) -> bytes:
    """I-DATA (type 64): TSN, SID, reserved, MID, PPID (first fragment) or FSN (the others)."""
    return chunk(64, flags, struct.pack("!IHHII", tsn, sid, 0, mid, ppid_or_fsn) + payload)


def init(ctype: int, tag: int, tsn: int, streams: int = 10) -> bytes:
    """INIT (1) or INIT ACK (2): initiate tag, a_rwnd, OS, MIS, initial TSN."""
    return chunk(ctype, 0, struct.pack("!IIHHI", tag, 65536, streams, streams, tsn))


def sctp(sport: int, dport: int, vtag: int, chunks: bytes, good_crc: bool = True) -> bytes:
    pkt = bytearray(struct.pack("!HHII", sport, dport, vtag, 0) + chunks)
    crc = crc32c.crc32c(bytes(pkt))
    struct.pack_into("<I", pkt, 8, crc if good_crc else crc ^ 0xFFFFFFFF)
    return bytes(pkt)


def frame(src: bytes, dst: bytes, sctp_bytes: bytes) -> bytes:
    ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(sctp_bytes), 1, 0, 64, 132, 0, src, dst)
    return b"\x02" * 6 + b"\x04" * 6 + b"\x08\x00" + ip + sctp_bytes


def a_to_b(chunks: bytes, src: bytes = A, dst: bytes = B, vtag: int = TAG_B, good_crc: bool = True) -> bytes:
    return frame(src, dst, sctp(PORT_A, PORT_B, vtag, chunks, good_crc))


def b_to_a(chunks: bytes, src: bytes = B, dst: bytes = A, vtag: int = TAG_A, good_crc: bool = True) -> bytes:
    return frame(src, dst, sctp(PORT_B, PORT_A, vtag, chunks, good_crc))


def pcap_bytes(frames: Iterable[bytes]) -> Iterator[bytes]:
    yield struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 65535, 1)
    for i, f in enumerate(frames):
        yield struct.pack("<IIII", 1_700_000_000 + i // 1000, (i % 1000) * 1000, len(f), len(f)) + f


def write_pcap(path: Path, frames: Iterable[bytes]) -> Path:
    with open(path, "wb") as out:
        buf: list[bytes] = []
        for piece in pcap_bytes(frames):
            buf.append(piece)
            if len(buf) >= 4096:
                out.write(b"".join(buf))
                buf.clear()
        out.write(b"".join(buf))
    return path


def handshake() -> list[bytes]:
    """INIT from A (tag TAG_A, TSN 1000), INIT ACK from B (tag TAG_B, TSN 5000), COOKIE ECHO, COOKIE ACK."""
    return [a_to_b(init(1, TAG_A, 1000), vtag=0), b_to_a(init(2, TAG_B, 5000)),
            a_to_b(chunk(10, 0, b"cookie!!")), b_to_a(chunk(11, 0, b""))]


# -- the reproducers of issue 15 -----------------------------------------------------------------------

def asconf_nested(path: Path) -> Path:
    """Item 1: an ASCONF (RFC 5061) whose Set Primary Address parameter (0xC004) carries, where its address
    parameter belongs, an Add IP Address parameter (0xC001) that itself holds IPv4 198.18.0.11."""
    add_ip = param(0xC001, struct.pack("!I", 7) + param(5, A2))
    set_primary = param(0xC004, struct.pack("!I", 8) + add_ip)
    asconf = chunk(193, 0, struct.pack("!I", 1) + param(5, A) + set_primary)
    return write_pcap(path, handshake() + [a_to_b(asconf)])


def collision_bad_checksum(path: Path) -> Path:
    """Item 2: an INIT collision (both sides send INIT, both answer INIT ACK) where the second side's INIT
    ACK has a wrong CRC32c."""
    frames = [a_to_b(init(1, TAG_A, 1000), vtag=0), b_to_a(init(1, TAG_B, 5000), vtag=0),
              b_to_a(init(2, TAG_B, 5000), vtag=TAG_A), a_to_b(init(2, TAG_A, 1000), vtag=TAG_B, good_crc=False),
              a_to_b(chunk(10, 0, b"cookie!!")), b_to_a(chunk(11, 0, b""))]
    return write_pcap(path, frames)


def abort_causes(path: Path, causes: int, packets: int = 1, chunks_per_packet: int = 1) -> Path:
    """Items 4 and 5: ABORT chunks of `causes` User-Initiated Abort causes (code 12, reason 'x') each."""
    one = chunk(6, 0, cause(12, b"x") * causes)
    return write_pcap(path, handshake() + [a_to_b(one * chunks_per_packet) for _ in range(packets)])


def forward_tsn_jumps(path: Path, packets: int) -> Path:
    """Item 6: DATA TSN 1000, then FORWARD-TSN chunks (type 192) each jumping the cumulative TSN by 2^31 - 1
    (with one stream/SSN entry)."""
    frames = handshake() + [a_to_b(data(1000, 0, 0, 0, b"abcd", 3))]
    cum = 1000
    for _ in range(packets):
        cum = (cum + (1 << 31) - 1) & 0xFFFFFFFF
        frames.append(a_to_b(chunk(192, 0, struct.pack("!IHH", cum, 0, 0xFFFF))))
    return write_pcap(path, frames)


def endless_message(path: Path, fragments: int, i_data: bool = False, per_packet: int = 8) -> Path:
    """Items 7 and 8: one message on stream 1 whose first fragment (B) is followed by `fragments` - 1 middle
    fragments and never an E fragment; `per_packet` fragments per packet, TSNs from 1000 on."""
    def gen() -> Iterator[bytes]:
        yield from handshake()
        tsn = 1000
        n = 0
        while n < fragments:
            body = []
            for _ in range(min(per_packet, fragments - n)):
                flags = 2 if n == 0 else 0
                if i_data:
                    body.append(idata(tsn, 1, 0, 46 if n == 0 else n, b"frag", flags))
                else:
                    body.append(data(tsn, 1, 0, 46, b"frag", flags))
                tsn = (tsn + 1) & 0xFFFFFFFF
                n += 1
            yield a_to_b(b"".join(body))
    return write_pcap(path, gen())


def error_chunks(path: Path, chunks: int, causes: int = 20) -> Path:
    """Item 9: `chunks` ERROR chunks (type 9) from B, one per packet, each of `causes` Invalid Stream
    Identifier causes (code 1: stream id + reserved)."""
    one = chunk(9, 0, cause(1, struct.pack("!HH", 7, 0)) * causes)
    return write_pcap(path, handshake() + [b_to_a(one) for _ in range(chunks)])


def alternating_paths(path: Path, packets: int) -> Path:
    """Item 10: `packets` DATA packets from A, TSNs from 1000, source address alternating between
    198.18.0.1 and 198.18.0.11: every new DATA moves A's primary path."""
    def gen() -> Iterator[bytes]:
        yield from handshake()
        for i in range(packets):
            yield a_to_b(data(1000 + i, 0, i & 0xFFFF, 0, b"abcd", 3), src=A if i % 2 == 0 else A2)
    return write_pcap(path, gen())


def many_associations(path: Path, n: int) -> Path:
    """Item 11: `n` associations, each a handshake, one DATA each way, a SACK each way and SHUTDOWN /
    SHUTDOWN ACK / SHUTDOWN COMPLETE, between 10.x.y.z:port and 198.18.0.2:6000 (tags derived from i)."""
    def gen() -> Iterator[bytes]:
        for i in range(n):
            src = bytes([10, (i >> 16) & 0xFF, (i >> 8) & 0xFF, i & 0xFF])
            sport = 1024 + i % 60000
            ta, tb = 0x10000000 + i, 0x20000000 + i

            def ab(c: bytes, vtag: int = tb) -> bytes:
                return frame(src, B, sctp(sport, PORT_B, vtag, c))

            def ba(c: bytes, vtag: int = ta) -> bytes:
                return frame(B, src, sctp(PORT_B, sport, vtag, c))
            yield ab(init(1, ta, 1), vtag=0)
            yield ba(init(2, tb, 1))
            yield ab(chunk(10, 0, b"cookie!!"))
            yield ba(chunk(11, 0, b""))
            yield ab(data(1, 0, 0, 0, b"ping", 3))
            yield ba(chunk(3, 0, struct.pack("!IIHH", 1, 65536, 0, 0)) + data(1, 0, 0, 0, b"pong", 3))
            yield ab(chunk(3, 0, struct.pack("!IIHH", 1, 65536, 0, 0)))
            yield ab(chunk(7, 0, struct.pack("!I", 1)))
            yield ba(chunk(8, 0, b""))
            yield ab(chunk(14, 0, b""))
    return write_pcap(path, gen())
