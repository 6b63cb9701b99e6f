"""Anomalies and events derived from real captures, some edited on purpose (CRC32c recomputed)."""
from __future__ import annotations

import json
import struct

import crc32c

from conftest import CAPTURES, run_sctpscope


def _edit_sctp(src, dst, frame_no: int, edit) -> None:
    """Copy an Ethernet/IPv4 pcap, applying `edit(bytearray sctp)` to one frame's SCTP bytes, CRC32c fixed."""
    data = bytearray(src.read_bytes())
    off, n = 24, 0
    while off < len(data):
        incl = struct.unpack_from("<I", data, off + 8)[0]
        n += 1
        if n == frame_no:
            frame = off + 16
            ihl = (data[frame + 14] & 15) * 4
            start = frame + 14 + ihl
            end = frame + 14 + struct.unpack_from("!H", data, frame + 16)[0]
            sctp = bytearray(data[start:end])
            edit(sctp)
            struct.pack_into("<I", sctp, 8, 0)
            struct.pack_into("<I", sctp, 8, crc32c.crc32c(bytes(sctp)))
            data[start:end] = sctp
            break
        off += 16 + incl
    dst.write_bytes(bytes(data))


def _report(path) -> dict:
    return json.loads(run_sctpscope("report", "--json", path, check=True).stdout)


def test_wrong_verification_tag(tmp_path):
    """sctp-www.cap frame 5 is a DATA of the association begun by the INIT of frame 1 (tshark: vtag
    0xd26ac1e5, chunk type 0): with its tag replaced, the packet matches no association, and the report says
    whose ports and address it used."""
    path = tmp_path / "badtag.cap"
    _edit_sctp(CAPTURES / "pkts__sctp-www.cap", path, 5, lambda b: struct.pack_into("!I", b, 4, 0xDEADBEEF))
    original, edited = _report(CAPTURES / "pkts__sctp-www.cap"), _report(path)
    assert len(edited["associations"]) == len(original["associations"]) + 1
    odd = [a for a in edited["associations"] if a["responder"]["vtag"] == 0xDEADBEEF]
    assert len(odd) == 1 and odd[0]["first_frame"] == 5
    assert [x["kind"] for x in odd[0]["anomalies"]] == ["unexpected_vtag"]
    assert "frame 1" in odd[0]["anomalies"][0]["detail"]


def test_checksum_offload_verdict():
    """sctp001.pcap (iperf3 on loopback): every packet of both senders has a wrong CRC32c (tshark agrees,
    sctp.checksum.status == 0 on all 12): checksum offload, not corruption."""
    (a,) = _report(CAPTURES / "pkts__sctp001.pcap")["associations"]
    kinds = [x["kind"] for x in a["anomalies"]]
    assert kinds.count("checksum_offload") == 2 and "bad_checksum" not in kinds


def test_single_corrupt_packet_is_corruption(tmp_path):
    """One packet of sctp-test.cap with a flipped payload byte (CRC left as it was): a bad_checksum, not offload."""
    data = bytearray((CAPTURES / "pkts__sctp-test.cap").read_bytes())
    data[-10] ^= 0xFF           # inside the last frame's DATA payload
    path = tmp_path / "corrupt.cap"
    path.write_bytes(bytes(data))
    doc = _report(path)
    assert doc["totals"]["bad_checksums"] == 1
    (a,) = doc["associations"]
    assert [x["kind"] for x in a["anomalies"] if "checksum" in x["kind"]] == ["bad_checksum"]
