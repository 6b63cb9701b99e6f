"""Every prefix of real packets decodes without raising; cuts inside a chunk are reported; bad lengths
produce the named problems."""

import struct

import pytest

from sctpscope.decode.sctp import decode_sctp

H = bytes.fromhex

REAL = {
    # tcpdump__sctp-asconf.pcap frame 1 (INIT with parameters)
    "init": H("8dc88dc900000000000000000100002c18edcf9b0001a000000affff70b1cf91000c000600050000"
              "8000000480080007c1808200c0000004"),
    # pkts__sctp-addip.cap frame 6 (ASCONF with nested address parameter)
    "asconf": H("1a0a270f48e63127500d88fec1000020a1104d8a00050008c0a80065c00100100000000000050008c0a80066"),
    # pcapflowlab__16_sctp_vlan_ipv4_data_s1ap.pcap frame 1 (DATA)
    "data": H("bfec8e3c10213243000000000003001400000001000000000000001253314150"),
    # pcapplusplus__ip-frag.pcap frame 441 (HEARTBEAT)
    "heartbeat": H("0b7c0b7c0214ac8266882985040000100001000c00000000e1e56448"),
    # tcpdump__sctp-re-config.pcap frame 7 (RE-CONFIG)
    "reconfig": H("e4108dc97c24420400000000820000100010000c85661df800000001"),
    # tcpdump__sctp-i-forward.pcap frame 19 (I-FORWARD-TSN)
    "iforward": H("b5008dc9a37ac29c00000000c2000010dc8eba550000000000000000"),
}

CASES = [(name, n) for name, b in REAL.items() for n in range(len(b) + 1)]


@pytest.mark.parametrize("name,n", CASES)
def test_prefix(name, n):
    full = REAL[name]
    pkt = decode_sctp(full[:n], base=100)
    assert pkt.length == n
    if n < 12:
        assert not pkt.header_ok and pkt.problems[0].code == "sctp.too_short"
    elif n == len(full):
        assert not [p for p in pkt.problems if p.code != "chunk.bad_padding"]
    else:
        assert pkt.malformed                      # cut inside the (only) chunk
        assert all(p.offset >= 100 for p in pkt.problems)
    assert sum(c.length if c.length <= n else 0 for c in pkt.chunks) <= n


def _pkt(*chunks):
    return struct.pack(">HHII", 1, 2, 3, 0) + b"".join(chunks)


@pytest.mark.parametrize("length", [0, 1, 2, 3, 65535, 4000])
def test_bad_chunk_lengths(length):
    pkt = decode_sctp(_pkt(struct.pack(">BBH", 3, 0, length) + bytes(12)))
    assert "chunk.bad_length" in {p.code for p in pkt.problems}


def test_trailing_bytes():
    pkt = decode_sctp(_pkt(struct.pack(">BBH", 11, 0, 4), b"\0\0"))
    assert [c.name for c in pkt.chunks] == ["COOKIE_ACK"] and pkt.problems[0].code == "chunk.truncated"


@pytest.mark.parametrize("plen", [0, 1, 3, 200])
def test_bad_param_lengths(plen):
    body = struct.pack(">IIHHI", 1, 2, 3, 4, 5) + struct.pack(">HH", 5, plen) + bytes(4)
    pkt = decode_sctp(_pkt(struct.pack(">BBH", 1, 0, 4 + len(body)) + body))
    assert {p.code for p in pkt.problems} & {"param.bad_length", "param.truncated"}


@pytest.mark.parametrize("clen", [0, 2, 300])
def test_bad_cause_lengths(clen):
    body = struct.pack(">HH", 1, clen) + bytes(4)
    pkt = decode_sctp(_pkt(struct.pack(">BBH", 6, 0, 4 + len(body)) + body))
    assert {p.code for p in pkt.problems} & {"cause.bad_length", "cause.truncated"}


def test_data_too_short_is_listed_and_decoding_goes_on():
    # tshark lists a DATA chunk of length 10 ("bogus chunk length") and the COOKIE ACK after it
    pkt = decode_sctp(_pkt(struct.pack(">BBH", 0, 3, 10) + bytes(8), struct.pack(">BBH", 11, 0, 4)))
    assert [c.name for c in pkt.chunks] == ["DATA", "COOKIE_ACK"]
    assert pkt.problems[0].code == "chunk.bad_length" and pkt.problems[0].layer == "chunk:DATA"
