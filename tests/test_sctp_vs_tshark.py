"""Compare sctpscope's SCTP decoder with tshark (the reference), packet by packet.

For every public capture, each IPv4/IPv6 packet with protocol 132 carried directly on Ethernet (VLAN
tags allowed), Linux SLL, SLL2 or raw IP is decoded with ``decode_sctp`` and compared with tshark's
fields for the same frame. Tunnelled, IP-fragmented and ICMP-quoted SCTP is skipped here (the frame
decoder's own tests cover it). ``TSHARK_FIELDS`` and ``our_fields`` are meant to be reused by
``sctpscope verify``.

Chunk types are compared for every packet, malformed ones included (tshark lists chunks nested in an
Unrecognized Chunk Type cause or a PKTDROP too: ``tshark_chunk_types`` follows that order). The other
fields are compared for packets we decode without problems (tshark prints partial fields for
malformed chunks).
"""

from __future__ import annotations

import glob
import os
import shutil
import struct
import subprocess

import pytest

from conftest import PUBLIC
from sctpscope.decode.sctp import decode_sctp, iter_tshark_chunks
from sctpscope.decode.sctp.causes import UnrecognizedChunkCause
from sctpscope.decode.sctp.chunks import DataChunk, IDataChunk, InitChunk, SackChunk

CAPTURES = str(PUBLIC)
TSHARK = shutil.which("tshark")

# (tshark field, how to print it). TSNs are read absolute (-o sctp.relative_tsns:FALSE, *_raw fields).
TSHARK_FIELDS = [
    "sctp.srcport", "sctp.dstport", "sctp.verification_tag", "sctp.chunk_type", "sctp.chunk_flags",
    "sctp.data_tsn_raw", "sctp.data_sid", "sctp.data_ssn", "sctp.data_payload_proto_id",
    "sctp.sack_cumulative_tsn_ack_raw", "sctp.sack_gap_block_start", "sctp.sack_duplicate_tsn",
    "sctp.init_initial_tsn", "sctp.initack_initial_tsn", "sctp.init_nr_out_streams", "sctp.cause_code",
    "sctp.checksum.status",
]
TSHARK_OPTS = ["-o", "sctp.relative_tsns:FALSE", "-o", "sctp.checksum:CRC-32C"]
TSHARK_FILTER = "sctp && !icmp && !icmpv6"


def _causes_of(rec):
    """Causes in tshark's order, including those inside ASCONF-ACK Error Cause Indication params."""
    for c in getattr(rec, "causes", None) or ():
        yield c
    for p in getattr(rec, "params", None) or ():
        yield from _causes_of(p)


def our_fields(pkt) -> dict[str, list[int]]:
    """The values tshark would print for TSHARK_FIELDS, from our decode (ints, in tshark order)."""
    out: dict[str, list[int]] = {f: [] for f in TSHARK_FIELDS}
    out["sctp.srcport"].append(pkt.src_port)
    out["sctp.dstport"].append(pkt.dst_port)
    out["sctp.verification_tag"].append(pkt.vtag)
    out["sctp.checksum.status"].append(1 if pkt.checksum_status == "crc32c" else 0)
    for c in iter_tshark_chunks(pkt):
        out["sctp.chunk_type"].append(c.type)
        out["sctp.chunk_flags"].append(c.flags)
        if isinstance(c, DataChunk):
            out["sctp.data_tsn_raw"].append(c.tsn)
            out["sctp.data_sid"].append(c.sid)
            out["sctp.data_ssn"].append(c.ssn)
            out["sctp.data_payload_proto_id"].append(c.ppid)
        elif isinstance(c, IDataChunk):
            out["sctp.data_tsn_raw"].append(c.tsn)
            out["sctp.data_sid"].append(c.sid)
            if c.ppid is not None:
                out["sctp.data_payload_proto_id"].append(c.ppid)
        elif isinstance(c, SackChunk) and c.type == 3:
            out["sctp.sack_cumulative_tsn_ack_raw"].append(c.cum_tsn_ack)
            out["sctp.sack_gap_block_start"].extend(g[0] for g in c.gap_blocks)
            out["sctp.sack_duplicate_tsn"].extend(c.dup_tsns)
        elif isinstance(c, InitChunk):
            out["sctp.init_initial_tsn" if c.type == 1 else "sctp.initack_initial_tsn"].append(c.initial_tsn)
            if c.type == 1:
                out["sctp.init_nr_out_streams"].append(c.outbound_streams)
        for cause in _causes_of(c):
            out["sctp.cause_code"].append(cause.code)
    return out


def tshark_fields(path: str) -> dict[int, dict[str, list[int]]]:
    cmd = [TSHARK, "-n", "-r", path, *TSHARK_OPTS, "-Y", TSHARK_FILTER, "-T", "fields",
           "-E", "occurrence=a", "-E", "aggregator=,", "-e", "frame.number"]
    for f in TSHARK_FIELDS:
        cmd += ["-e", f]
    res = subprocess.run(cmd, capture_output=True, text=True, check=True)
    frames = {}
    for line in res.stdout.splitlines():
        cols = line.split("\t")
        frames[int(cols[0])] = {
            f: [int(v, 0) for v in col.split(",") if v] for f, col in zip(TSHARK_FIELDS, cols[1:])
        }
    return frames


# ---- a tiny frame walker: just enough to find SCTP directly over IP --------------------------------

def _ip_sctp(buf, off, ethertype):
    if ethertype == 0x0800 and len(buf) >= off + 20:
        ihl = (buf[off] & 15) * 4
        tot, frag = struct.unpack_from(">H2xH", buf, off + 2)
        if buf[off + 9] != 132 or frag & 0x3FFF:
            return None
        return buf[off + ihl:off + tot]
    if ethertype == 0x86DD and len(buf) >= off + 40:
        if buf[off + 6] != 132:
            return None
        plen = struct.unpack_from(">H", buf, off + 4)[0]
        return buf[off + 40:off + 40 + plen]
    return None


def sctp_payload(linktype: int, buf: bytes):
    """The SCTP packet inside a frame, or None (not SCTP over plain IP)."""
    try:
        if linktype == 1:
            off, et = 14, struct.unpack_from(">H", buf, 12)[0]
            while et in (0x8100, 0x88A8):
                et = struct.unpack_from(">H", buf, off + 2)[0]
                off += 4
        elif linktype == 113:
            off, et = 16, struct.unpack_from(">H", buf, 14)[0]
        elif linktype == 276:
            off, et = 20, struct.unpack_from(">H", buf, 0)[0]
        elif linktype in (12, 14, 101, 228, 229):
            off, et = 0, (0x0800 if buf[0] >> 4 == 4 else 0x86DD)
        else:
            return None
        return _ip_sctp(buf, off, et)
    except (struct.error, IndexError):
        return None


def read_frames(path: str):
    import dpkt
    with open(path, "rb") as f:
        try:
            reader = dpkt.pcap.Reader(f)
        except ValueError:
            f.seek(0)
            reader = dpkt.pcapng.Reader(f)
        lt = reader.datalink()
        for i, (_ts, buf) in enumerate(reader, 1):
            yield i, sctp_payload(lt, buf)


def _captures():
    paths = sorted(glob.glob(os.path.join(CAPTURES, "*.pcap*")) + glob.glob(os.path.join(CAPTURES, "*.cap")))
    return paths or [os.path.join(CAPTURES, "missing.pcap")]


@pytest.mark.tshark
@pytest.mark.skipif(TSHARK is None, reason="tshark not on PATH")
@pytest.mark.parametrize("path", _captures(), ids=os.path.basename)
def test_matches_tshark(path):
    if not os.path.exists(path):
        pytest.skip("capture absent")
    ref = tshark_fields(path)
    compared = 0
    for frame, payload in read_frames(path):
        if payload is None or frame not in ref:
            continue
        pkt = decode_sctp(bytes(payload))
        mine = our_fields(pkt)
        theirs = ref[frame]
        assert mine["sctp.chunk_type"] == theirs["sctp.chunk_type"], f"frame {frame}: {pkt.problems}"
        if not pkt.problems:
            for f in TSHARK_FIELDS:
                assert mine[f] == theirs[f], f"frame {frame} field {f}"
        compared += 1
    assert compared or not ref or os.path.basename(path).startswith(("pcapflowlab__18", "pcapflowlab__20"))


# ---- crafted corner cases: the same chunk-counting rules on packets built per RFC 9260 --------------

def _chunk(t, f, body, length=None, pad=True):
    b = struct.pack(">BBH", t, f, 4 + len(body) if length is None else length) + body
    return b + (b"\0" * (-len(b) % 4) if pad else b"")


def _param(t, body, length=None):
    b = struct.pack(">HH", t, 4 + len(body) if length is None else length) + body
    return b + b"\0" * (-len(b) % 4)


_CA = _chunk(11, 0, b"")
_INITF = struct.pack(">IIHHI", 1, 2, 3, 4, 5)
_DATAF = struct.pack(">IHHI", 1, 0, 0, 0)
CRAFTED = {
    "len0": _chunk(3, 0, b"", length=0) + _CA,
    "len2": _chunk(3, 0, b"", length=2) + _CA,
    "len65535": _chunk(3, 0, b"\0" * 12, length=65535) + _CA,
    "data10": _chunk(0, 3, b"\0" * 6, length=10) + _CA,
    "sack8": _chunk(3, 0, b"\0" * 4) + _CA,
    "nopad_mid": _chunk(0, 3, _DATAF + b"a", pad=False) + _CA,
    "trail3": _CA + b"\0\0\0",
    "trail4": _CA + b"\0\0\0\0",
    "beyond": _CA + _chunk(0, 3, b"\0" * 12, length=100),
    "init_short": _chunk(1, 0, b"\0" * 8) + _CA,
    "init_param_len0": _chunk(1, 0, _INITF + _param(0x8000, b"", length=0)) + _CA,
    "init_ipv4_short": _chunk(1, 0, _INITF + _param(5, b"\1\2")) + _CA,
    "hb_noparam": _chunk(4, 0, b"") + _CA,
    "hb_param_long": _chunk(4, 0, _param(1, b"abcd", length=40)) + _CA,
    "abort_badcause": _chunk(6, 0, struct.pack(">HH", 1, 2)) + _CA,
    "ecne4": _chunk(12, 0, b"") + _CA,
    "auth6": _chunk(15, 0, b"\0\1") + _CA,
    "fwd4": _chunk(192, 0, b"") + _CA,
    "sack_gap_over": _chunk(3, 0, struct.pack(">IIHH", 1, 2, 1, 0)) + _CA,
    "err_unrec_chunk": _chunk(9, 0, struct.pack(">HH", 6, 8) + _chunk(99, 0, b"")) + _CA,
    "err_unrec_empty": _chunk(9, 0, struct.pack(">HH", 6, 4)) + _CA,
    "err_unrec_sack": _chunk(9, 0, struct.pack(">HH", 6, 8) + struct.pack(">BBH", 3, 0, 4)) + _CA,
    "pktdrop_nested": _chunk(129, 0, b"\0" * 12 + struct.pack(">HHII", 1, 2, 3, 0) + _CA + _chunk(14, 0, b"")) + _CA,
    "pktdrop_nested_short": _chunk(129, 0, b"\0" * 20) + _CA,
    "cause_missing_big": _chunk(6, 0, struct.pack(">HHI", 2, 8, 1000)) + _CA,
}


@pytest.mark.tshark
@pytest.mark.skipif(TSHARK is None, reason="tshark not on PATH")
def test_crafted_chunk_counts_match_tshark(tmp_path):
    import dpkt
    names = list(CRAFTED)
    pkts = [struct.pack(">HHII", 1000, 2000, 0x11223344, 0) + CRAFTED[n] for n in names]
    path = tmp_path / "crafted.pcap"
    with open(path, "wb") as f:
        w = dpkt.pcap.Writer(f, linktype=101)
        for p in pkts:
            ip = struct.pack(">BBHHHBBH4s4s", 0x45, 0, 20 + len(p), 1, 0, 64, 132, 0, b"\n\0\0\1", b"\n\0\0\2")
            w.writepkt(ip + p, 0)
    ref = tshark_fields(str(path))
    for i, (name, p) in enumerate(zip(names, pkts), 1):
        assert our_fields(decode_sctp(p))["sctp.chunk_type"] == ref[i]["sctp.chunk_type"], name
