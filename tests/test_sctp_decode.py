"""Byte-literal tests of the SCTP decoder. Real bytes carry the capture and frame they came from (the
SCTP packet only, i.e. the IP payload); expected values are tshark 4.0's decode of that frame.
Hand-built packets say which RFC section they follow; their expected values are the fields as built."""

import struct

from sctpscope.decode.sctp import CHUNK_NAMES, chunk_name, decode_sctp, ppid_name, tshark_chunk_types
from sctpscope.decode.sctp import chunks as C
from sctpscope.decode.sctp import params as P
from sctpscope.decode.sctp import causes as X

H = bytes.fromhex


def hand(*chunks, vtag=0x01020304):
    """A hand-built packet: common header (RFC 9260 §3.1, checksum 0) + chunks."""
    return struct.pack(">HHII", 5000, 5001, vtag, 0) + b"".join(chunks)


def ch(t, f, body):
    b = struct.pack(">BBH", t, f, 4 + len(body)) + body
    return b + b"\0" * (-len(b) % 4)


def prm(t, body):
    b = struct.pack(">HH", t, 4 + len(body)) + body
    return b + b"\0" * (-len(b) % 4)


def cause(code, body):
    b = struct.pack(">HH", code, 4 + len(body)) + body
    return b + b"\0" * (-len(b) % 4)


def one(buf):
    pkt = decode_sctp(buf)
    assert len(pkt.chunks) == 1, pkt
    return pkt, pkt.chunks[0]


def test_names():
    assert CHUNK_NAMES[16] == "NR_SACK" and CHUNK_NAMES[194] == "I_FORWARD_TSN" and len(CHUNK_NAMES) == 25
    assert chunk_name(99) == "UNKNOWN_99"
    assert ppid_name(3) == "M3UA" and ppid_name(46) == "Diameter" and ppid_name(60) == "NGAP"
    assert ppid_name(51) == "WebRTC String" and ppid_name(57) == "WebRTC Binary Empty" and ppid_name(26) is None


def test_data():
    # pcapflowlab__16_sctp_vlan_ipv4_data_s1ap.pcap frame 1
    pkt, c = one(H("bfec8e3c10213243000000000003001400000001000000000000001253314150"))
    assert (pkt.src_port, pkt.dst_port, pkt.vtag) == (49132, 36412, 0x10213243)
    assert pkt.checksum_status == "zero" and not pkt.malformed
    assert isinstance(c, C.DataChunk) and c.name == "DATA"
    assert (c.tsn, c.sid, c.ssn, c.ppid, c.flags, c.length) == (1, 0, 0, 18, 3, 20)
    assert c.beginning and c.ending and not c.unordered and not c.immediate
    assert (c.payload_offset, c.payload_length) == (28, 4)


def test_init_params():
    # tcpdump__sctp-asconf.pcap frame 1
    pkt, c = one(H("8dc88dc900000000000000000100002c18edcf9b0001a000000affff70b1cf91000c000600050000"
                   "8000000480080007c1808200c0000004"))
    assert isinstance(c, C.InitChunk) and c.type == 1 and c.length == 44
    assert (c.initiate_tag, c.a_rwnd, c.outbound_streams, c.inbound_streams, c.initial_tsn) == (
        0x18EDCF9B, 106496, 10, 65535, 1890701201)
    sat, ecn, ext, fwd = c.params
    assert isinstance(sat, P.SupportedAddressTypesParam) and sat.address_types == [5] and sat.length == 6
    assert isinstance(ecn, P.FlagParam) and ecn.type == 0x8000
    assert isinstance(ext, P.ChunkListParam) and ext.chunk_types == [193, 128, 130] and ext.length == 7
    assert fwd.type == 0xC000 and fwd.name == "Forward-TSN Supported"
    assert pkt.checksum_status == "zero" and pkt.computed_crc32c == 0x22088025  # tshark: should be 0x22088025


def test_init_ack():
    # arkime__diameter_synthetic.pcap frame 12
    _, c = one(H("0f1cb79800000000083f0d0702000014222222220000ffff000a000a000007d0"))
    assert c.name == "INIT_ACK" and (c.initiate_tag, c.a_rwnd, c.outbound_streams, c.initial_tsn) == (
        0x22222222, 65535, 10, 2000)


def test_sack():
    # open5gs__nonipsec_reg.pcapng frame 26
    _, c = one(H("8e3c8e3ce541be73f39714040300001038f24e410000d37800000000"))
    assert isinstance(c, C.SackChunk) and (c.cum_tsn_ack, c.a_rwnd, c.gap_blocks, c.dup_tsns) == (
        0x38F24E41, 0xD378, [], [])


def test_sack_gaps_hand_built():
    # hand-built per RFC 9260 §3.3.4: 2 gap blocks, 1 duplicate TSN
    _, c = one(hand(ch(3, 0, struct.pack(">IIHHHHHHI", 100, 5000, 2, 1, 2, 3, 5, 5, 99))))
    assert c.gap_blocks == [(2, 3), (5, 5)] and c.dup_tsns == [99]


def test_nr_sack_hand_built():
    # hand-built per draft-tuexen-tsvwg-sctp-multipath §4.2 (NR-SACK): 1 gap, 1 nr-gap, 0 dups, A bit
    _, c = one(hand(ch(16, 1, struct.pack(">IIHHHHHHHH", 7, 8, 1, 1, 0, 0, 2, 2, 4, 4))))
    assert c.name == "NR_SACK" and c.gap_blocks == [(2, 2)] and c.nr_gap_blocks == [(4, 4)] and c.all_non_renegable


def test_heartbeat():
    # pcapplusplus__ip-frag.pcap frame 441
    _, c = one(H("0b7c0b7c0214ac8266882985040000100001000c00000000e1e56448"))
    (p,) = c.params
    assert c.name == "HEARTBEAT" and isinstance(p, P.HeartbeatInfoParam) and p.length == 12
    assert p.info == H("00000000e1e56448")


def test_heartbeat_ack():
    # pcapplusplus__ip-frag.pcap frame 442
    _, c = one(H("0b7c0b7c0badab0240192733050000100001000c00000000e1e56448"))
    assert c.name == "HEARTBEAT_ACK" and c.params[0].info == H("00000000e1e56448")


def test_abort_empty():
    # pkts__sctp_init_collision.cap frame 2
    _, c = one(H("30393039be65a7ef7dc1b2fc06000004"))
    assert c.name == "ABORT" and c.causes == [] and not c.t_bit


def test_shutdown():
    # pcap4j__SctpPacketTest.pcap frame 1 (flags 0xaf as captured)
    _, c = one(H("00000050fadefadeabcdabcd07af000801020304"))
    assert c.name == "SHUTDOWN" and c.flags == 0xAF and c.cum_tsn_ack == 16909060


def test_shutdown_ack_complete_cookie():
    # pkts__sctp-addip.cap frames 36 (SHUTDOWN ACK) and 38 (SHUTDOWN COMPLETE)
    assert one(H("1a0a270f48e63127a5c2392108000004"))[1].name == "SHUTDOWN_ACK"
    _, c = one(H("270f1a0a71b81d1f042273060e000004"))
    assert c.name == "SHUTDOWN_COMPLETE" and not c.t_bit
    # arkime__m3ua_synthetic.pcap frame 63 (COOKIE ECHO, 4-byte cookie)
    _, c = one(H("0b590b59000000009896a0a90a000008cafecafe"))
    assert c.name == "COOKIE_ECHO" and c.cookie_length == 4
    # arkime__diameter_synthetic.pcap frame 14 (COOKIE ACK)
    assert one(H("0f1cb798111111117c0f24f80b000004"))[1].name == "COOKIE_ACK"


def test_asconf():
    # pkts__sctp-addip.cap frame 6
    _, c = one(H("1a0a270f48e63127500d88fec1000020a1104d8a00050008c0a80065c00100100000000000050008c0a80066"))
    assert c.name == "ASCONF" and c.serial == 0xA1104D8A
    addr, add = c.params
    assert isinstance(addr, P.AddressParam) and addr.address == "192.168.0.101"
    assert isinstance(add, P.AsconfAddressParam) and add.correlation_id == 0 and add.address.address == "192.168.0.102"


def test_asconf_ack():
    # pkts__sctp-addip.cap frame 8
    _, c = one(H("270f1a0a71b81d1fb6f2512e80000008a1104d8a"))
    assert c.name == "ASCONF_ACK" and c.serial == 0xA1104D8A and c.params == []


def test_re_config():
    # tcpdump__sctp-re-config.pcap frame 7
    _, c = one(H("e4108dc97c24420400000000820000100010000c85661df800000001"))
    (p,) = c.params
    assert isinstance(p, P.ReconfigResponseParam) and (p.resp_seq, p.result) == (2238062072, 1)
    assert p.sender_next_tsn is None


def test_i_forward_tsn():
    # tcpdump__sctp-i-forward.pcap frame 19
    _, c = one(H("b5008dc9a37ac29c00000000c2000010dc8eba550000000000000000"))
    assert c.name == "I_FORWARD_TSN" and c.new_cum_tsn == 3700341333 and c.entries == [(0, False, 0)]


def test_i_data_hand_built():
    # hand-built per RFC 8260 §2.1: first fragment (B) carries PPID; a middle fragment carries FSN
    _, c = one(hand(ch(64, 0x02, struct.pack(">IHHII", 9, 1, 0, 4, 51) + b"xy")))
    assert (c.tsn, c.sid, c.mid, c.ppid, c.fsn, c.payload_length) == (9, 1, 4, 51, 0, 2)
    _, c = one(hand(ch(64, 0x00, struct.pack(">IHHII", 10, 1, 0, 4, 1) + b"z")))
    assert (c.ppid, c.fsn) == (None, 1)


def test_forward_tsn_pad_ecne_cwr_auth_hand_built():
    # hand-built per RFC 3758 §3.2, RFC 4820 §3, RFC 9260 App. A, RFC 4895 §4.2
    pkt = decode_sctp(hand(ch(192, 0, struct.pack(">IHH", 77, 3, 4)), ch(132, 0, b"\0" * 8),
                           ch(12, 0, struct.pack(">I", 5)), ch(13, 0, struct.pack(">I", 6)),
                           ch(15, 0, struct.pack(">HH", 1, 3) + b"\xaa" * 32)))
    fw, pad, ecne, cwr, auth = pkt.chunks
    assert fw.new_cum_tsn == 77 and fw.streams == [(3, 4)]
    assert pad.pad_length == 8 and ecne.lowest_tsn == 5 and cwr.lowest_tsn == 6
    assert (auth.shared_key_id, auth.hmac_id, auth.hmac) == (1, 3, b"\xaa" * 32)
    assert not pkt.problems


def test_pktdrop_nested_hand_built():
    # hand-built per draft-stewart-sctp-pktdrprep §3.2: the dropped packet holds COOKIE ACK
    inner = struct.pack(">HHII", 1, 2, 3, 0) + ch(11, 0, b"")
    pkt, c = one(hand(ch(129, 0x02, struct.pack(">IIHH", 1500, 0, 0, 0) + inner)))
    assert c.name == "PKTDROP" and c.b_bit and c.link_mtu == 1500 and c.dropped_length == 16
    assert [x.name for x in c.packet.chunks] == ["COOKIE_ACK"] and tshark_chunk_types(pkt) == [129, 11]


def test_unknown_chunk_action():
    pkt = decode_sctp(hand(ch(0xC5, 0, b"abc"), ch(11, 0, b"")))
    u, ack = pkt.chunks
    assert isinstance(u, C.UnknownChunk) and u.action == "skip_report" and u.name == "UNKNOWN_197"
    assert ack.name == "COOKIE_ACK"


def test_all_params_hand_built():
    # hand-built per RFC 9260 §3.3.2.1, RFC 5061 §4.2, RFC 4895 §3, RFC 6525 §4, RFC 9653 §5.1
    ps = b"".join([
        prm(5, bytes([10, 0, 0, 1])), prm(6, bytes(15) + b"\1"), prm(7, b"cookie"), prm(9, struct.pack(">I", 500)),
        prm(11, b"host\x1b[2J\0"), prm(8, prm(0x4321, b"zz")), prm(0x8001, struct.pack(">I", 1)),
        prm(0x8002, b"r" * 32), prm(0x8003, bytes([0, 3])), prm(0x8004, struct.pack(">HH", 1, 3)),
        prm(0x8005, bytes(8)), prm(0xC006, struct.pack(">I", 42)), prm(0xC005, struct.pack(">I", 7)),
        prm(0xC003, struct.pack(">I", 8) + cause(1, struct.pack(">HH", 2, 0))),
        prm(0xC002, struct.pack(">I", 9) + prm(5, bytes([10, 0, 0, 2]))),
        prm(0xC004, struct.pack(">I", 10) + prm(5, bytes([10, 0, 0, 3]))),
        prm(13, struct.pack(">IIIHH", 1, 2, 3, 4, 5)), prm(14, struct.pack(">IH", 6, 7)),
        prm(15, struct.pack(">I", 8)), prm(16, struct.pack(">IIII", 9, 1, 100, 200)),
        prm(17, struct.pack(">IHH", 11, 12, 0)), prm(18, struct.pack(">IHH", 13, 14, 0)),
        prm(0x9999, b"??"),
    ])
    pkt = decode_sctp(hand(ch(193, 0, struct.pack(">I", 1) + ps)))
    assert not pkt.problems, pkt.problems
    p = pkt.chunks[0].params
    assert p[0].address == "10.0.0.1" and p[1].address == "::1" and p[2].cookie_length == 6
    assert p[3].increment_ms == 500 and p[4].hostname == b"host\x1b[2J\0"
    assert p[5].params[0].type == 0x4321 and p[6].edmid == 1 and p[7].random == b"r" * 32
    assert p[8].chunk_types == [0, 3] and p[9].hmac_ids == [1, 3] and p[10].pad_length == 8
    assert p[11].indication == 42 and p[12].correlation_id == 7
    assert p[13].correlation_id == 8 and p[13].causes[0].sid == 2
    assert p[14].address.address == "10.0.0.2" and p[15].address.address == "10.0.0.3"
    assert (p[16].req_seq, p[16].resp_seq, p[16].last_tsn, p[16].sids) == (1, 2, 3, [4, 5])
    assert (p[17].req_seq, p[17].sids) == (6, [7]) and p[18].req_seq == 8
    assert (p[19].resp_seq, p[19].result, p[19].sender_next_tsn, p[19].receiver_next_tsn) == (9, 1, 100, 200)
    assert (p[20].req_seq, p[20].new_streams, p[21].new_streams) == (11, 12, 14)
    assert isinstance(p[22], P.UnknownParam) and p[22].action == "skip" and p[22].value == b"??"


def test_all_causes_hand_built():
    # hand-built per RFC 9260 §3.3.10, RFC 5061 §5.1, RFC 4895 §6.1
    cs = b"".join([
        cause(1, struct.pack(">HH", 5, 0)), cause(2, struct.pack(">IHH", 2, 7, 9)), cause(3, struct.pack(">I", 1000)),
        cause(4, b""), cause(5, prm(11, b"h\0")), cause(6, struct.pack(">BBH", 0x7F, 1, 4)), cause(7, b""),
        cause(8, prm(0x8123, b"")), cause(9, struct.pack(">I", 3)), cause(10, b""), cause(11, prm(5, bytes(4))),
        cause(12, b"bye\x07"), cause(13, b"bad\n"), cause(160, prm(5, bytes(4))), cause(161, prm(5, bytes(4))),
        cause(162, prm(5, bytes(4))), cause(163, b""), cause(164, prm(5, bytes(4))), cause(261, struct.pack(">HH", 2, 0)),
        cause(999, b"\xff"),
    ])
    pkt = decode_sctp(hand(ch(6, 1, cs)))
    assert not pkt.problems, pkt.problems
    c = pkt.chunks[0]
    assert c.t_bit
    k = c.causes
    assert [x.code for x in k] == [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 160, 161, 162, 163, 164, 261, 999]
    assert k[0].sid == 5 and k[1].param_types == [7, 9] and k[2].staleness_us == 1000
    assert k[4].params[0].hostname == b"h\0" and (k[5].chunk_type, k[5].chunk_flags, k[5].chunk_length) == (0x7F, 1, 4)
    assert k[7].params[0].type == 0x8123 and k[8].tsn == 3 and k[10].params[0].address == "0.0.0.0"
    assert k[11].reason == b"bye\x07" and k[12].info == b"bad\n" and k[18].hmac_id == 2
    for x in k:
        d = x.detail()
        assert d.isprintable(), d
    assert "\\x07" in k[11].detail() and "\\n" in k[12].detail()
    assert tshark_chunk_types(pkt) == [6, 0x7F]      # tshark lists the chunk inside cause 6


def test_checksums():
    # pkts__sctp.cap frame 1: an Adler-32 checksum (RFC 2960); the CRC32c case comes from a valid
    # packet: tcpdump__sctp-asconf.pcap frame 1 with its checksum field set to tshark's "should be".
    b = bytearray(H("8dc88dc900000000000000000100002c18edcf9b0001a000000affff70b1cf91000c000600050000"
                    "8000000480080007c1808200c0000004"))
    b[8:12] = (0x22088025).to_bytes(4, "big")
    pkt = decode_sctp(bytes(b))
    assert pkt.checksum_status == "crc32c" and pkt.checksum == pkt.computed_crc32c == 0x22088025
    b[20] ^= 1
    assert decode_sctp(bytes(b)).checksum_status == "bad"
    assert decode_sctp(bytes(b), verify=False).checksum_status == "unchecked"


def test_too_short_and_empty():
    pkt = decode_sctp(b"\0" * 11, base=34)
    assert not pkt.header_ok and pkt.src_port is None and pkt.chunks == []
    assert pkt.problems[0].code == "sctp.too_short" and pkt.problems[0].offset == 34
    pkt = decode_sctp(b"\0" * 12)
    assert pkt.header_ok and pkt.chunks == [] and pkt.problems[0].code == "sctp.no_chunks"


def test_adler32():
    # pkts__sctp.cap frame 2 (SACK; tshark -o sctp.checksum:Adler-32: 0x2bf2024e, status Good)
    pkt, c = one(H("0b804000214415232bf2024e03000010280243450000200000000000"))
    assert pkt.checksum == 0x2BF2024E and pkt.checksum_status == "adler32" and c.cum_tsn_ack == 0x28024345
