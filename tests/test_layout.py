"""sctpscope.decode.layout: every field node of the packet-detail tree sits where tshark says the field is.

Oracle: `tshark -T pdml` gives the position and size of every field of every frame. For each frame, the
(field name, position, size) of the layout's nodes must equal tshark's, for every field name the layout
knows (so a field the layout places wrongly, misses or invents fails).
"""
from __future__ import annotations

import subprocess
import xml.etree.ElementTree as ET
from collections import Counter

from conftest import CAPTURES, TSHARK, tshark_required
from sctpscope.capture.index import CaptureIndex
from sctpscope.decode.frame import FrameDecoder
from sctpscope.decode.layout import frame_tree

# Captures covering every layout path: link layers (Ethernet, VLAN), IPv4/IPv6, UDP encapsulation and
# tunnels (VXLAN, GTP-U), and SCTP chunks with parameters and causes (INIT/INIT ACK parameters, SACK gap
# blocks, ABORT reasons, ASCONF, RE-CONFIG, FORWARD TSN, I-DATA / I-FORWARD-TSN, PAD, HEARTBEAT), and a
# capture where tshark numbers TSNs relative (arkime m3ua: it names the field sctp.data_tsn_raw).
CAPTURES_USED = [
    "pkts__sctp-addip.cap", "tcpdump__sctp-asconf.pcap", "tcpdump__sctp-re-config.pcap",
    "tcpdump__sctp-i-forward.pcap", "tcpdump__sctp-pad.pcap", "scenario__abort_reason.pcapng",
    "scenario__init_streams.pcapng", "scenario__udp_encap.pcapng", "scenario__prsctp_forward_tsn.pcapng",
    "pcapflowlab__16_sctp_vlan_ipv4_data_s1ap.pcap", "pcapflowlab__18_sctp_vxlan_inner_ipv4_data_s1ap.pcap",
    "pcapflowlab__20_sctp_gtpu_inner_ipv4_data_s1ap.pcap", "arkime__m3ua_synthetic.pcap",
]
# Field names the layout must place in the captures above, between them (guards against a layout that
# passes by naming no field at all).
MUST_COVER = {
    "eth.dst", "eth.type", "vlan.id", "ip.src", "ip.len", "ipv6.src", "ipv6.plen", "udp.srcport",
    "sctp.srcport", "sctp.verification_tag", "sctp.checksum", "sctp.chunk_type", "sctp.chunk_length",
    "sctp.data_tsn", "sctp.data_ssn", "sctp.data_payload_proto_id", "sctp.sack_cumulative_tsn_ack",
    "sctp.sack_gap_block_start", "sctp.init_initiate_tag", "sctp.initack_initial_tsn", "sctp.parameter_type",
    "sctp.parameter_ipv4_address", "sctp.parameter_state_cookie", "sctp.supported_chunk_type",
    "sctp.cause_code", "sctp.cause_information", "sctp.shutdown_cumulative_tsn_ack", "sctp.forward_tsn_tsn",
    "sctp.asconf_seq_nr_number", "sctp.correlation_id", "sctp.parameter_reconfig_sid", "sctp.data_mid",
    "sctp.i_forward_tsn_tsn", "sctp.padding_data", "sctp.parameter_heartbeat_information", "sctp.cookie",
    "sctp.chunk_padding", "sctp.parameter_padding",
}


def _pdml(path) -> dict[int, Counter]:
    out = subprocess.run([TSHARK, "-n", "-r", str(path), "-T", "pdml"], capture_output=True, check=True).stdout
    frames = {}
    for pkt in ET.fromstring(out).iter("packet"):
        fields: Counter = Counter()
        num = None
        for f in pkt.iter("field"):
            name = f.get("name")
            if name == "num":
                num = int(f.get("show"))
            elif name and f.get("hide") != "yes" and f.get("pos") is not None:
                # tshark shows a TSN as "data_tsn" only when relative TSNs are off for the association
                name = "sctp.data_tsn" if name == "sctp.data_tsn_raw" else name
                fields[(name, int(f.get("pos")), int(f.get("size")))] += 1
        for key in [k for k in fields if k[0] == "sctp.data_tsn"]:
            fields[key] = 1 if fields[key] else 0          # data_tsn and data_tsn_raw at the same place
        frames[num] = fields
    return frames


def _layout(path) -> dict[int, Counter]:
    decoder = FrameDecoder()
    out = {}
    with CaptureIndex(path) as idx:
        idx.extend()
        for n in range(1, idx.count + 1):
            try:
                raw = idx.read(n)
            except KeyError:
                continue
            decoded = decoder.decode(n, raw.ts, raw.linktype, raw.data, raw.orig_len)
            if "ip-fragment" in decoded.layers:
                continue                    # tshark places reassembled fields in another data source
            tree = frame_tree(n, raw.ts, raw.linktype, raw.data, raw.orig_len, decoded)
            out[n] = Counter((x.field, x.offset, x.length) for x in tree.walk() if x.field)
    return out


@tshark_required
def test_field_positions_equal_tshark():
    covered = set()
    failures = []
    for name in CAPTURES_USED:
        path = CAPTURES / name
        theirs_all, mine_all = _pdml(path), _layout(path)
        names = {k[0] for c in mine_all.values() for k in c}
        covered |= names
        for n, mine in mine_all.items():
            theirs = Counter({k: v for k, v in theirs_all.get(n, Counter()).items() if k[0] in names and v})
            if mine != theirs:
                failures.append(f"{name} frame {n}: only sctpscope {sorted(mine - theirs)[:4]}, "
                                f"only tshark {sorted(theirs - mine)[:4]}")
    assert not failures, "\n".join(failures[:20])
    assert MUST_COVER <= covered, f"never placed: {sorted(MUST_COVER - covered)}"


def test_labels_escape_packet_text():
    """A hostname parameter with control bytes and markup shows escaped in its label."""
    import struct

    from sctpscope.decode.sctp import decode_sctp

    host = b"a\x1b[2Jb[bold]"
    param = struct.pack("!HH", 11, 4 + len(host)) + host + b"\0" * (-len(host) % 4)
    init = struct.pack("!BBHIIHHI", 1, 0, 20 + len(param), 1, 65535, 1, 1, 1) + param
    pkt = decode_sctp(struct.pack("!HHII", 1, 2, 0, 0) + init, verify=False)
    from sctpscope.decode.layout import sctp_tree

    labels = [n.label for n in sctp_tree(pkt, 0).walk()]
    assert "Hostname: a\\x1b[2Jb[bold]" in labels and not any("\x1b" in s for s in labels)


def test_reassembled_sctp_is_marked_outside_the_frame(tmp_path):
    """An SCTP packet reassembled from IP fragments is not in the last fragment's bytes: its nodes say so
    (offset -1) instead of pointing at wrong bytes. The packet: frame 9 of sendall_chat (an INIT ACK), split
    into two IPv4 fragments."""
    import struct

    from sctpscope.pipeline import decode_files

    with CaptureIndex(CAPTURES / "scenario__sendall_chat.pcapng") as idx:
        raw = idx.read(9)
    eth, ip = raw.data[:14], raw.data[14:]
    assert ip[9] == 132
    hl = (ip[0] & 15) * 4
    payload = ip[hl:]
    parts = [(0, payload[:16], 0x2000), (2, payload[16:], 0)]      # offsets in 8-byte units, MF bit
    records = b""
    for off8, body, mf in parts:
        hdr = bytearray(ip[:hl])
        struct.pack_into("!H", hdr, 2, hl + len(body))
        struct.pack_into("!H", hdr, 6, mf | off8)
        frame = eth + bytes(hdr) + body
        records += struct.pack("<IIII", 1, 0, len(frame), len(frame)) + frame
    path = tmp_path / "frag.pcap"
    path.write_bytes(struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 65535, 1) + records)
    (f,) = [f for f in decode_files([str(path)], []) if f.sctp]
    assert f.number == 2 and f.sctp[0].offset == -1 and f.sctp[0].packet.chunks[0].type == 2
    with CaptureIndex(path) as idx:
        raw = idx.read(2)
    tree = frame_tree(2, raw.ts, raw.linktype, raw.data, raw.orig_len, f)
    (sctp,) = [c for c in tree.children if c.label.startswith("Stream Control")]
    assert "reassembled from IP fragments" in sctp.label
    assert all(n.offset == -1 for n in sctp.walk())
    assert any(n.field == "ip.frag_offset" and n.label == "Fragment Offset: 16" for n in tree.walk())
