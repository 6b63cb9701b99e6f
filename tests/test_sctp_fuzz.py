"""Property tests: whatever the bytes, decode_sctp returns, quickly, with chunks inside the buffer."""

import time

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sctpscope.decode.sctp import decode_sctp, tshark_chunk_types

H = bytes.fromhex
SEEDS = [
    # tcpdump__sctp-asconf.pcap frame 1
    H("8dc88dc900000000000000000100002c18edcf9b0001a000000affff70b1cf91000c000600050000"
      "8000000480080007c1808200c0000004"),
    # pkts__sctp-addip.cap frame 6
    H("1a0a270f48e63127500d88fec1000020a1104d8a00050008c0a80065c00100100000000000050008c0a80066"),
    # pcapplusplus__ip-frag.pcap frame 441
    H("0b7c0b7c0214ac8266882985040000100001000c00000000e1e56448"),
    # tcpdump__sctp-re-config.pcap frame 7
    H("e4108dc97c24420400000000820000100010000c85661df800000001"),
    # pkts__sctp.cap frame 2
    H("0b804000214415232bf2024e03000010280243450000200000000000"),
]


def _check(buf):
    t0 = time.perf_counter()
    pkt = decode_sctp(buf)
    assert time.perf_counter() - t0 < 1.0
    assert pkt.length == len(buf)
    for c in pkt.chunks:
        assert 12 <= c.offset < len(buf)
    # chunks are laid end to end: their rounded lengths never exceed the buffer
    assert sum(min((c.length + 3) & ~3, len(buf) - c.offset) if c.length >= 4 else 4 for c in pkt.chunks) <= max(len(buf) - 12, 0)
    tshark_chunk_types(pkt)
    for p in pkt.problems:
        str(p)
    for c in pkt.chunks:
        for x in getattr(c, "causes", None) or ():
            assert x.detail().isprintable()


@settings(max_examples=400, suppress_health_check=[HealthCheck.too_slow], deadline=None)
@given(st.binary(max_size=300))
def test_random_bytes(buf):
    _check(buf)


@settings(max_examples=600, suppress_health_check=[HealthCheck.too_slow], deadline=None)
@given(st.sampled_from(SEEDS), st.lists(st.tuples(st.integers(0, 400), st.integers(0, 255)), max_size=6),
       st.integers(0, 400), st.binary(max_size=12))
def test_mutated_real_packets(seed, flips, cut, tail):
    b = bytearray(seed)
    for pos, val in flips:
        if 12 <= pos < len(b):
            b[pos] = val
    _check(bytes(b[:cut]) + tail)


@settings(max_examples=300, deadline=None)
@given(st.lists(st.tuples(st.sampled_from([0, 1, 2, 3, 4, 5, 6, 9, 15, 16, 64, 128, 129, 130, 192, 193, 194]),
                          st.integers(0, 255), st.integers(0, 80), st.binary(max_size=60)), max_size=5))
def test_structured_chunks(chunks):
    body = b"".join(bytes([t, f]) + ln.to_bytes(2, "big") + v for t, f, ln, v in chunks)
    _check(b"\0\1\0\2\0\0\0\3\0\0\0\0" + body)


def test_max_chunks_is_fast():
    # like suricata__sctp-max-chunks.pcap: 16143 ABORT chunks in one packet
    buf = b"\0\1\0\2\0\0\0\3\0\0\0\0" + b"\x06\x00\x00\x04" * 16143
    t0 = time.perf_counter()
    pkt = decode_sctp(buf)
    assert len(pkt.chunks) == 16143 and time.perf_counter() - t0 < 1.0
