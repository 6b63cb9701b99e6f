"""Capture input: pcap / pcapng (both byte orders, several sections and interfaces), gzip, pipes,
truncated and corrupt files. Frame numbers and timestamps are checked against tshark."""

from __future__ import annotations

import bz2
import gzip
import lzma
import os
import shutil
import struct
import subprocess
import threading
import tracemalloc
from decimal import Decimal
from pathlib import Path

import pytest

from sctpscope.capture import LINKTYPE_NAMES, Frame, RecordSkip, open_capture
from sctpscope.errors import CaptureError

from conftest import PUBLIC, repo_captures  # noqa: E402
HAVE_TSHARK = shutil.which("tshark") is not None
needs_public = pytest.mark.skipif(not PUBLIC.is_dir(), reason="public capture corpus not present")
tshark_only = pytest.mark.skipif(not HAVE_TSHARK, reason="tshark is not installed (reference decoder)")


def public_files() -> list[Path]:
    if not PUBLIC.is_dir():
        return []
    return sorted(p for p in PUBLIC.iterdir() if p.suffix in (".pcap", ".cap", ".pcapng"))


def tshark_fields(path: Path, *fields: str, display_filter: str | None = None) -> list[list[str]]:
    cmd = ["tshark", "-n", "-r", str(path), "-T", "fields"]
    for f in fields:
        cmd += ["-e", f]
    if display_filter:
        cmd += ["-Y", display_filter]
    out = subprocess.run(cmd, capture_output=True, text=True, timeout=120).stdout
    return [line.split("\t") for line in out.splitlines()]


def tshark_times(path: Path) -> list[tuple[int, Decimal]]:
    return [(int(n), Decimal(t)) for n, t in tshark_fields(path, "frame.number", "frame.time_epoch")]


def read_all(path) -> tuple[list[Frame], object]:
    with open_capture(path) as cap:
        frames = list(cap)
    return frames, cap


def assert_same_times(frames: list[Frame], ref: list[tuple[int, Decimal]]) -> None:
    assert [f.number for f in frames] == [n for n, _ in ref]
    for f, (_, t) in zip(frames, ref):
        assert abs(f.ts - float(t)) < 2e-6, (f.number, f.ts, t)


# --------------------------------------------------------------------------- writers for crafted files
def pcap_bytes(linktype: int, records, endian: str = "<", nanos: bool = False, snaplen: int = 262144) -> bytes:
    """records: iterable of (sec, frac, data[, orig_len])."""
    magic = 0xA1B23C4D if nanos else 0xA1B2C3D4
    out = [struct.pack(endian + "IHHiIII", magic, 2, 4, 0, 0, snaplen, linktype)]
    for r in records:
        sec, frac, data = r[:3]
        orig = r[3] if len(r) > 3 else len(data)
        out.append(struct.pack(endian + "IIII", sec, frac, len(data), orig) + data)
    return b"".join(out)


def pcap_to_big_endian(src: bytes) -> bytes:
    """Rewrite a little-endian pcap file in big-endian byte order."""
    magic = struct.unpack_from("<I", src, 0)[0]
    assert magic in (0xA1B2C3D4, 0xA1B23C4D)
    out = [struct.pack(">IHHiIII", *struct.unpack_from("<IHHiIII", src, 0))]
    p = 24
    while p + 16 <= len(src):
        sec, frac, caplen, orig = struct.unpack_from("<IIII", src, p)
        out.append(struct.pack(">IIII", sec, frac, caplen, orig) + src[p + 16:p + 16 + caplen])
        p += 16 + caplen
    return b"".join(out)


def _pad4(b: bytes) -> bytes:
    return b + b"\0" * (-len(b) % 4)


def ng_block(btype: int, body: bytes, e: str = "<") -> bytes:
    body = _pad4(body)
    n = len(body) + 12
    return struct.pack(e + "II", btype, n) + body + struct.pack(e + "I", n)


def ng_opts(opts: list[tuple[int, bytes]], e: str = "<") -> bytes:
    if not opts:
        return b""
    out = b"".join(struct.pack(e + "HH", c, len(v)) + _pad4(v) for c, v in opts)
    return out + struct.pack(e + "HH", 0, 0)


def ng_shb(e: str = "<") -> bytes:
    return ng_block(0x0A0D0D0A, struct.pack(e + "IHHq", 0x1A2B3C4D, 1, 0, -1), e)


def ng_idb(linktype: int, snaplen: int = 0, tsresol: int | None = None, tsoffset: int | None = None, e: str = "<") -> bytes:
    opts = []
    if tsresol is not None:
        opts.append((9, bytes([tsresol])))
    if tsoffset is not None:
        opts.append((14, struct.pack(e + "q", tsoffset)))
    return ng_block(1, struct.pack(e + "HHI", linktype, 0, snaplen) + ng_opts(opts, e), e)


def ng_epb(ifid: int, ticks: int, data: bytes, orig_len: int | None = None, e: str = "<") -> bytes:
    orig = len(data) if orig_len is None else orig_len
    return ng_block(6, struct.pack(e + "IIIII", ifid, ticks >> 32, ticks & 0xFFFFFFFF, len(data), orig) + data, e)


def ng_opb(ifid: int, ticks: int, data: bytes, e: str = "<") -> bytes:
    return ng_block(2, struct.pack(e + "HHIIII", ifid, 0, ticks >> 32, ticks & 0xFFFFFFFF, len(data), len(data)) + data, e)


def ng_spb(data: bytes, orig_len: int | None = None, e: str = "<") -> bytes:
    return ng_block(3, struct.pack(e + "I", len(data) if orig_len is None else orig_len) + data, e)


def eth_frame(n: int) -> bytes:
    """A small Ethernet/IPv4/UDP frame, distinct per n."""
    payload = n.to_bytes(4, "big") * 3
    udp = struct.pack("!HHHH", 1000 + n % 1000, 2000, 8 + len(payload), 0) + payload
    ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(udp), n & 0xFFFF, 0, 64, 17, 0, bytes([10, 0, 0, 1]), bytes([10, 0, 0, 2]))
    return b"\x02\0\0\0\0\x02\x02\0\0\0\0\x01\x08\x00" + ip + udp


# --------------------------------------------------------------------------- public corpus vs tshark
@needs_public
@pytest.mark.parametrize("path", public_files(), ids=lambda p: p.name)
@pytest.mark.tshark
@pytest.mark.skipif(not HAVE_TSHARK, reason="tshark is not installed (reference decoder)")
def test_public_frames_and_times_match_tshark(path: Path) -> None:
    frames, cap = read_all(path)
    assert cap.problems == []
    assert cap.format == ("pcapng" if path.suffix == ".pcapng" else "pcap")
    assert_same_times(frames, tshark_times(path))
    lens = tshark_fields(path, "frame.len", "frame.cap_len")
    assert [(f.orig_len, f.caplen) for f in frames] == [(int(a), int(b)) for a, b in lens]
    assert all(len(f.data) == f.caplen for f in frames)


@needs_public
def test_public_link_types() -> None:
    expect = {
        "pkts__sctp-addip.cap": ["linux-sll"],
        "umakant__sctpnw.pcap": ["linux-sll2"],
        "suricata__sctp-max-chunks.pcap": ["ipv4"],
        "open5gs__testattach.pcapng": ["linux-sll"],
        "tcpdump__sctp-asconf.pcap": ["ether"],
    }
    for name, lts in expect.items():
        with open_capture(PUBLIC / name) as cap:
            assert cap.link_types == lts, name
            first = next(iter(cap))
            assert first.number == 1
            assert LINKTYPE_NAMES[first.linktype] == lts[0]


# --------------------------------------------------------------------------- variants made with editcap/mergecap
@needs_public
@pytest.mark.tshark
@pytest.mark.skipif(not HAVE_TSHARK, reason="tshark is not installed (reference decoder)")
@pytest.mark.parametrize("fmt", ["nsecpcap", "pcapng", "pcap"])
@pytest.mark.parametrize("name", ["pkts__sctp-test.cap", "open5gs__volte.pcapng", "umakant__sctpnw.pcap"])
def test_editcap_variants(tmp_path: Path, fmt: str, name: str) -> None:
    out = tmp_path / f"v.{fmt}"
    subprocess.run(["editcap", "-F", fmt, str(PUBLIC / name), str(out)], check=True, capture_output=True)
    frames, cap = read_all(out)
    assert cap.problems == []
    assert cap.format == ("pcapng" if fmt == "pcapng" else "pcap")
    assert_same_times(frames, tshark_times(out))
    orig, _ = read_all(PUBLIC / name)
    assert [f.data for f in frames] == [f.data for f in orig]
    assert [f.linktype for f in frames] == [f.linktype for f in orig]


@needs_public
@pytest.mark.tshark
@pytest.mark.skipif(not HAVE_TSHARK, reason="tshark is not installed (reference decoder)")
def test_mergecap_several_interfaces(tmp_path: Path) -> None:
    srcs = ["pkts__sctp-addip.cap", "tcpdump__sctp-asconf.pcap", "umakant__sctpnw.pcap", "suricata__sctp-max-chunks.pcap"]
    out = tmp_path / "merged.pcapng"
    subprocess.run(["mergecap", "-F", "pcapng", "-w", str(out), *[str(PUBLIC / s) for s in srcs]], check=True, capture_output=True)
    frames, cap = read_all(out)
    assert cap.problems == []
    assert sorted(cap.link_types) == sorted(["linux-sll", "ether", "linux-sll2", "ipv4"])
    assert len(frames) == 38 + 29 + 27 + 1
    assert_same_times(frames, tshark_times(out))
    ref = tshark_fields(out, "frame.interface_id", "frame.protocols")
    first_proto = {"linux-sll": "sll", "ether": "eth", "linux-sll2": "sll", "ipv4": "ip"}
    for f, (ifid, protos) in zip(frames, ref):
        assert f.interface == int(ifid)
        assert LINKTYPE_NAMES[f.linktype] == cap.link_types[f.interface]
        assert protos.split(":")[0] == first_proto[LINKTYPE_NAMES[f.linktype]]
    # the payload bytes of each source survive the merge
    merged = sorted(f.data for f in frames)
    originals = sorted(f.data for s in srcs for f in read_all(PUBLIC / s)[0])
    assert merged == originals


# --------------------------------------------------------------------------- gzip, pipes, big endian
@needs_public
@pytest.mark.parametrize("compress", [lambda b: bz2.compress(b, 1), lzma.compress], ids=["bzip2", "xz"])
def test_other_compressions(tmp_path: Path, compress) -> None:
    raw = (PUBLIC / "open5gs__volte.pcapng").read_bytes()
    p = tmp_path / "capture"
    p.write_bytes(compress(raw))
    frames, cap = read_all(p)
    orig, _ = read_all(PUBLIC / "open5gs__volte.pcapng")
    assert cap.compressed and cap.problems == []
    assert [(f.number, f.ts, f.data) for f in frames] == [(f.number, f.ts, f.data) for f in orig]
    p.write_bytes(compress(raw)[:-300])
    frames, cap = read_all(p)
    assert [f.data for f in frames] == [f.data for f in orig[: len(frames)]]
    assert [x.code for x in cap.problems][:1] == ["capture.decompress_error"]


def test_unsupported_compression_is_named(tmp_path: Path) -> None:
    p = tmp_path / "c.zst"
    p.write_bytes(b"\x28\xb5\x2f\xfd" + b"\0" * 40)
    with pytest.raises(CaptureError, match="zstd-compressed"):
        open_capture(p)


@needs_public
@pytest.mark.parametrize("name", ["pkts__sctp-www.cap", "open5gs__nonipsec_reg.pcapng"])
def test_gzip_detected_by_magic(tmp_path: Path, name: str) -> None:
    raw = (PUBLIC / name).read_bytes()
    gz = tmp_path / "capture.bin"  # no .gz extension: detection is by magic
    gz.write_bytes(gzip.compress(raw))
    frames, cap = read_all(gz)
    orig, ocap = read_all(PUBLIC / name)
    assert cap.compressed and cap.compression == "gzip" and cap.problems == []
    assert cap.format == ocap.format and cap.link_types == ocap.link_types
    assert [(f.number, f.ts, f.data, f.orig_len) for f in frames] == [(f.number, f.ts, f.data, f.orig_len) for f in orig]


@needs_public
@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="no named pipes on this platform")
@pytest.mark.parametrize("compress", [False, True])
def test_reads_from_a_pipe(tmp_path: Path, compress: bool) -> None:
    raw = (PUBLIC / "open5gs__testattach.pcapng").read_bytes()
    payload = gzip.compress(raw) if compress else raw
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)

    def writer() -> None:
        with open(fifo, "wb") as w:
            for i in range(0, len(payload), 7777):  # small writes: reads return short
                w.write(payload[i:i + 7777])
                w.flush()

    t = threading.Thread(target=writer)
    t.start()
    try:
        frames, cap = read_all(fifo)
    finally:
        t.join(10)
    orig, _ = read_all(PUBLIC / "open5gs__testattach.pcapng")
    assert cap.problems == []
    assert len(frames) == 565
    assert [f.data for f in frames] == [f.data for f in orig]


@needs_public
@pytest.mark.tshark
@pytest.mark.skipif(not HAVE_TSHARK, reason="tshark is not installed (reference decoder)")
@pytest.mark.parametrize("nsec", [False, True])
def test_big_endian_pcap(tmp_path: Path, nsec: bool) -> None:
    src = PUBLIC / "tcpdump__forces3.pcap"
    if nsec:
        le = tmp_path / "le.pcap"
        subprocess.run(["editcap", "-F", "nsecpcap", str(src), str(le)], check=True, capture_output=True)
        src = le
    be = tmp_path / "be.pcap"
    be.write_bytes(pcap_to_big_endian(src.read_bytes()))
    frames, cap = read_all(be)
    assert cap.problems == [] and cap.link_types == ["linux-sll"]
    assert_same_times(frames, tshark_times(be))
    orig, _ = read_all(src)
    assert [(f.ts, f.data) for f in frames] == [(f.ts, f.data) for f in orig]


def test_nanosecond_timestamps_exact(tmp_path: Path) -> None:
    p = tmp_path / "ns.pcap"
    p.write_bytes(pcap_bytes(1, [(1700000000, 123456789, eth_frame(1)), (1700000001, 999999999, eth_frame(2))], nanos=True))
    frames, _ = read_all(p)
    assert frames[0].ts == pytest.approx(1700000000.123456789, abs=1e-6)
    assert frames[1].ts == pytest.approx(1700000001.999999999, abs=1e-6)
    p.write_bytes(pcap_bytes(1, [(1700000000, 123456, eth_frame(1))], endian=">"))
    frames, _ = read_all(p)
    assert frames[0].ts == pytest.approx(1700000000.123456, abs=1e-7)


# --------------------------------------------------------------------------- hand-made pcapng
def crafted_pcapng() -> tuple[bytes, list[tuple[int, int, float, bytes]]]:
    """Two sections (little then big endian), base-10 and base-2 resolutions, an offset, EPB/OPB/SPB,
    and blocks to skip (NRB, ISB, DSB, custom). Returns the file and (interface, linktype, ts, data)."""
    exp = []
    b = [ng_shb("<")]
    b.append(ng_idb(1, 0))  # if 0: default microseconds
    b.append(ng_idb(101, 0, tsresol=9, tsoffset=1000))  # if 1: nanoseconds + 1000 s
    b.append(ng_block(4, struct.pack("<HH", 1, 8) + bytes([10, 0, 0, 1]) + b"abc\0" + struct.pack("<HH", 0, 0)))  # NRB
    f1 = eth_frame(1)
    b.append(ng_epb(0, 1700000000_250000, f1))
    exp.append((0, 1, 1700000000.25, f1))
    raw2 = eth_frame(2)[14:]
    b.append(ng_epb(1, 1700000000_000000500, raw2))
    exp.append((1, 101, 1700001000.0000005, raw2))
    b.append(ng_block(5, struct.pack("<III", 0, 0, 0) + struct.pack("<HH", 0, 0)))  # ISB
    b.append(ng_block(0x0BAD, struct.pack("<I", 32473) + b"custom data"))  # custom block: tshark numbers it
    exp.append(None)
    b.append(ng_block(0x0A, struct.pack("<II", 0x544C534B, 4) + b"keys"))  # DSB
    f3 = eth_frame(3)
    b.append(ng_opb(0, 1700000002_000001, f3))
    exp.append((0, 1, 1700000002.000001, f3))
    # second section, big endian: interface numbering restarts
    b.append(ng_shb(">"))
    b.append(ng_idb(113, 0, tsresol=0x80 | 20, e=">"))  # 2^-20 s ticks
    sll = b"\0\0\0\x01\0\x06" + b"\x02\0\0\0\0\x01\0\0" + b"\x08\x00" + eth_frame(4)[14:]
    b.append(ng_epb(0, (1700000003 << 20) + (1 << 19), sll, e=">"))
    exp.append((0, 113, 1700000003.5, sll))
    b.append(ng_idb(1, 64, e=">"))  # if 1 of section 2, snaplen 64
    big = eth_frame(5) + b"\xee" * 100
    b.append(ng_epb(1, 1700000004_000000, big, e=">"))
    exp.append((1, 1, 1700000004.0, big))
    return b"".join(b), exp


def test_crafted_pcapng_sections_resolutions_and_block_types(tmp_path: Path) -> None:
    raw, exp = crafted_pcapng()
    p = tmp_path / "crafted.pcapng"
    p.write_bytes(raw)
    frames, cap = read_all(p)
    assert cap.problems == []
    assert cap.format == "pcapng"
    assert cap.link_types == ["ether", "raw", "linux-sll", "ether"]
    # the custom block is not yielded, but keeps its frame number (as tshark numbers it)
    assert [f.number for f in frames] == [i + 1 for i, e in enumerate(exp) if e is not None]
    assert cap.skipped_records == 1
    for f, (ifid, lt, ts, data) in zip(frames, [e for e in exp if e is not None]):
        assert (f.interface, f.linktype, f.data, f.caplen, f.orig_len) == (ifid, lt, data, len(data), len(data))
        assert f.ts == pytest.approx(ts, abs=1e-6)


@pytest.mark.tshark
@pytest.mark.skipif(not HAVE_TSHARK, reason="tshark is not installed (reference decoder)")
def test_crafted_pcapng_matches_tshark(tmp_path: Path) -> None:
    raw, _ = crafted_pcapng()
    p = tmp_path / "crafted.pcapng"
    p.write_bytes(raw)
    frames, _ = read_all(p)
    ref = [(int(n), Decimal(t)) for n, t in tshark_fields(p, "frame.number", "frame.time_epoch") if t]
    assert_same_times(frames, ref)  # tshark shows no time for the custom block record
    ref = tshark_fields(p, "frame.number", "frame.cap_len", "frame.len")
    assert [(f.number, f.caplen, f.orig_len) for f in frames] == [(int(n), int(a), int(b)) for n, a, b in ref if int(n) != 3]
    # a record of every other kind (custom, systemd journal) keeps its number too; SPB has no time
    raw = (
        ng_shb() + ng_idb(1) + ng_epb(0, 1_000_000, eth_frame(1))
        + ng_block(0x40000BAD, struct.pack("<I", 32473) + b"nocopy") + ng_block(0x0BAD, struct.pack("<I", 1) + b"copy")
        + ng_block(9, b"__CURSOR=s=1\n_REALTIME_TIMESTAMP=1700000000000000\nMESSAGE=hi\n\n")
        + ng_block(0x80000001, b"local use") + ng_epb(0, 2_000_000, eth_frame(2)) + ng_spb(eth_frame(3))
    )
    p.write_bytes(raw)
    frames, cap = read_all(p)
    ref = tshark_fields(p, "frame.number", "frame.time_epoch", "frame.protocols")
    assert [f.number for f in frames] == [int(n) for n, _, pr in ref if pr.startswith("eth")] == [1, 5, 6]
    assert cap.skipped_records == 3
    assert [f.ts for f in frames] == [1.0, 2.0, 2.0]  # the SPB reuses the previous packet's time


def test_simple_packet_block_caplen(tmp_path: Path) -> None:
    data = eth_frame(7) + b"\x55" * 40
    raw = ng_shb() + ng_idb(1, 50) + ng_spb(data) + ng_spb(data[:30], orig_len=200) + ng_spb(data[:20])
    p = tmp_path / "spb.pcapng"
    p.write_bytes(raw)
    frames, cap = read_all(p)
    assert cap.problems == []
    # caplen = min(orig_len, snaplen, room in the block)
    assert [(f.caplen, f.orig_len, f.interface) for f in frames] == [(50, len(data), 0), (32, 200, 0), (20, 20, 0)]
    assert frames[0].data == data[:50]
    assert frames[1].data == data[:30] + b"\0\0"  # SPB has no caplen: block padding counts as data


def test_unknown_interface_stops(tmp_path: Path) -> None:
    raw = ng_shb() + ng_idb(1) + ng_epb(0, 1, eth_frame(1)) + ng_epb(3, 2, eth_frame(2)) + ng_epb(0, 3, eth_frame(3))
    p = tmp_path / "badif.pcapng"
    p.write_bytes(raw)
    frames, cap = read_all(p)
    assert len(frames) == 1
    assert [x.code for x in cap.problems] == ["capture.unknown_interface"]


def test_idb_after_packets_extends_link_types(tmp_path: Path) -> None:
    raw = ng_shb() + ng_idb(1) + ng_epb(0, 1, eth_frame(1)) + ng_idb(276) + ng_epb(1, 2, b"x" * 20)
    p = tmp_path / "late.pcapng"
    p.write_bytes(raw)
    with open_capture(p) as cap:
        assert cap.link_types == ["ether"]  # known after opening: up to the first packet
        frames = list(cap)
        assert cap.link_types == ["ether", "linux-sll2"]
    assert [f.linktype for f in frames] == [1, 276]


# --------------------------------------------------------------------------- damaged files
@needs_public
@pytest.mark.parametrize("name", ["pkts__sctp-test.cap", "open5gs__volte.pcapng"])
@pytest.mark.parametrize("cut", [1, 5, 17, 100])
def test_truncated_file_yields_every_whole_frame(tmp_path: Path, name: str, cut: int) -> None:
    raw = (PUBLIC / name).read_bytes()
    p = tmp_path / "cut"
    p.write_bytes(raw[:-cut])
    frames, cap = read_all(p)
    orig, _ = read_all(PUBLIC / name)
    assert [f.data for f in frames] == [f.data for f in orig[:len(frames)]]
    if name.endswith(".pcap") or name.endswith(".cap"):
        assert len(frames) == len(orig) - 1
    else:  # a pcapng file may end with statistics blocks: the cut may leave every packet whole
        assert len(orig) - 1 <= len(frames) <= len(orig)
    assert [x.code for x in cap.problems] == ["capture.truncated_record"]
    prob = cap.problems[0]
    assert prob.needed is not None and prob.available is not None and prob.available < prob.needed
    assert prob.offset < len(raw)
    if HAVE_TSHARK:  # tshark shows the same frames before its "cut short" error
        assert len(tshark_fields(p, "frame.number")) == len(frames)


@needs_public
def test_truncated_gzip_stream(tmp_path: Path) -> None:
    raw = (PUBLIC / "pkts__sctp-www.cap").read_bytes()
    gz = gzip.compress(raw)
    p = tmp_path / "cut.gz"
    p.write_bytes(gz[: len(gz) // 2])
    frames, cap = read_all(p)
    orig, _ = read_all(PUBLIC / "pkts__sctp-www.cap")
    assert 0 < len(frames) < len(orig)
    assert [f.data for f in frames] == [f.data for f in orig[:len(frames)]]
    codes = [x.code for x in cap.problems]
    assert "capture.decompress_error" in codes


def test_corrupt_block_length(tmp_path: Path) -> None:
    blocks = [ng_shb(), ng_idb(1)] + [ng_epb(0, i, eth_frame(i)) for i in range(10)]
    raw = bytearray(b"".join(blocks))
    # corrupt the 6th packet block's total length (not a multiple of 4)
    off = sum(len(b) for b in blocks[:2 + 5])
    struct.pack_into("<I", raw, off + 4, 0x13)
    p = tmp_path / "corrupt.pcapng"
    p.write_bytes(raw)
    frames, cap = read_all(p)
    assert [f.data for f in frames] == [eth_frame(i) for i in range(5)]
    assert [x.code for x in cap.problems] == ["capture.corrupt_block"]
    assert cap.problems[0].offset == off
    if HAVE_TSHARK:  # tshark stops at the same block
        assert len(tshark_fields(p, "frame.number")) == 5
    # a length that is not a multiple of 4 but rounds up to the right one is tolerated (as tshark does)
    raw1 = bytearray(b"".join(blocks))
    struct.pack_into("<I", raw1, off + 4, len(blocks[7]) - 3)
    p.write_bytes(raw1)
    frames, cap = read_all(p)
    assert len(frames) == 10 and cap.problems == []
    # a trailing length that disagrees
    raw2 = bytearray(b"".join(blocks))
    struct.pack_into("<I", raw2, off + len(blocks[7]) - 4, 8)
    p.write_bytes(raw2)
    frames, cap = read_all(p)
    assert len(frames) == 5 and [x.code for x in cap.problems] == ["capture.corrupt_block"]
    if HAVE_TSHARK:
        assert len(tshark_fields(p, "frame.number")) == 5
    # a huge length: must not try to buffer it
    raw3 = bytearray(b"".join(blocks))
    struct.pack_into("<I", raw3, off + 4, 0xFFFFFFF0)
    p.write_bytes(raw3)
    frames, cap = read_all(p)
    assert len(frames) == 5 and [x.code for x in cap.problems] == ["capture.corrupt_block"]
    # packet data longer than its block
    raw4 = bytearray(b"".join(blocks))
    struct.pack_into("<I", raw4, off + 20, 4000)
    p.write_bytes(raw4)
    frames, cap = read_all(p)
    assert len(frames) == 5 and [x.code for x in cap.problems] == ["capture.corrupt_block"]


def test_corrupt_pcap_record_length(tmp_path: Path) -> None:
    recs = [(1, i, eth_frame(i)) for i in range(6)]
    raw = bytearray(pcap_bytes(1, recs))
    off = 24 + sum(16 + len(r[2]) for r in recs[:3])
    struct.pack_into("<I", raw, off + 8, 0x7FFFFFFF)
    p = tmp_path / "c.pcap"
    p.write_bytes(raw)
    frames, cap = read_all(p)
    assert len(frames) == 3 and [x.code for x in cap.problems] == ["capture.corrupt_block"]


@pytest.mark.tshark
@tshark_only
def test_modified_pcap_format(tmp_path: Path) -> None:
    """Kuznetsov's modified pcap (magic a1b2cd34, 24-byte record headers)."""
    out = [struct.pack("<IHHiIII", 0xA1B2CD34, 2, 4, 0, 0, 65535, 1)]
    for i in range(3):
        d = eth_frame(i)
        out.append(struct.pack("<IIIIIHBB", 1700000000 + i, i, len(d), len(d), 1, 0x800, 0, 0) + d)
    p = tmp_path / "mod.pcap"
    p.write_bytes(b"".join(out))
    frames, cap = read_all(p)
    assert cap.problems == [] and [f.data for f in frames] == [eth_frame(i) for i in range(3)]
    assert_same_times(frames, tshark_times(p))


def test_header_only_and_empty_section(tmp_path: Path) -> None:
    p = tmp_path / "h.pcap"
    p.write_bytes(pcap_bytes(1, []))
    frames, cap = read_all(p)
    assert frames == [] and cap.problems == [] and cap.link_types == ["ether"]
    p.write_bytes(ng_shb() + ng_idb(229))
    frames, cap = read_all(p)
    assert frames == [] and cap.problems == [] and cap.link_types == ["ipv6"]


# --------------------------------------------------------------------------- not a capture
def test_missing_file() -> None:
    with pytest.raises(CaptureError) as ei:
        open_capture("/nonexistent/dir/none.pcap")
    msg = str(ei.value)
    assert "no such file" in msg and "/nonexistent/dir/none.pcap" in msg and "\n" not in msg


@pytest.mark.parametrize(
    "content, words",
    [
        (b"hello, this is a text file\n", "not a pcap or pcapng"),
        (b"", "empty"),
        (b"\xd4\xc3\xb2\xa1\x02\x00", "cut short"),
        (b"\x0a\x0d\x0d\x0a\x1c\0\0\0XXXX", "byte-order magic"),
        (gzip.compress(b"just text, gzip-compressed"), "not a pcap or pcapng gzip-compressed"),
    ],
)
def test_not_a_capture(tmp_path: Path, content: bytes, words: str) -> None:
    p = tmp_path / "x.pcap"
    p.write_bytes(content)
    with pytest.raises(CaptureError) as ei:
        open_capture(p)
    assert words in str(ei.value) and "\n" not in str(ei.value)
    assert str(ei.value).startswith("capture: ")


def test_directory_is_not_a_capture(tmp_path: Path) -> None:
    with pytest.raises(CaptureError, match="directory"):
        open_capture(tmp_path)


# --------------------------------------------------------------------------- streaming
def test_memory_is_bounded(tmp_path: Path) -> None:
    """A 12 MiB file is read with a peak far below its size (chunks, not the whole file)."""
    p = tmp_path / "big.pcap"
    frame = eth_frame(1) + b"\0" * 1400
    with open(p, "wb") as f:
        f.write(pcap_bytes(1, []))
        rec = struct.pack("<IIII", 1, 0, len(frame), len(frame)) + frame
        f.write(rec * (12 * 1024 * 1024 // len(rec)))
    tracemalloc.start()
    try:
        n = 0
        with open_capture(p) as cap:
            for fr in cap:
                n += 1
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert n == 12 * 1024 * 1024 // len(rec)
    assert peak < 4 * 1024 * 1024, peak


def test_frames_are_numbered_from_one_and_iteration_resumes(tmp_path: Path) -> None:
    p = tmp_path / "n.pcap"
    p.write_bytes(pcap_bytes(1, [(i, 0, eth_frame(i)) for i in range(5)]))
    with open_capture(p) as cap:
        it = iter(cap)
        assert next(it).number == 1
        assert [f.number for f in cap] == [2, 3, 4, 5]


# --------------------------------------------------------------------------- buffer boundaries
def _frames_tuple(path) -> tuple[list[tuple], list]:
    frames, cap = read_all(path)
    return [tuple(f) for f in frames], [(p.code, p.offset) for p in cap.problems]


@pytest.mark.parametrize("chunk", [1, 13, 100, 4096])
def test_records_across_buffer_boundaries(tmp_path: Path, monkeypatch, chunk: int) -> None:
    """Tiny read sizes force records and blocks across the buffer end, so that the readers' fast
    loops and their general paths take turns: the frames and problems must not change."""
    import sctpscope.capture.reader as reader

    raw, _ = crafted_pcapng()
    paths = [tmp_path / "crafted.pcapng", tmp_path / "cut.pcapng", tmp_path / "n.pcap", tmp_path / "cut.pcap"]
    paths[0].write_bytes(raw)
    paths[1].write_bytes(raw[:-37])
    recs = [(i, 7 * i, eth_frame(i) + b"\x5a" * (i % 9)) for i in range(40)]
    pcap = pcap_bytes(1, recs)
    paths[2].write_bytes(pcap)
    paths[3].write_bytes(pcap[:-5])
    if PUBLIC.is_dir():
        paths += [PUBLIC / "open5gs__volte.pcapng", PUBLIC / "mrp__sctp-randpkt.pcap"]
    expected = [_frames_tuple(p) for p in paths]
    monkeypatch.setattr(reader, "CHUNK", chunk)
    assert [_frames_tuple(p) for p in paths] == expected


def test_frame_api(tmp_path: Path) -> None:
    p = tmp_path / "n.pcap"
    p.write_bytes(pcap_bytes(1, [(5, 6, eth_frame(1))]))
    (f,) = read_all(p)[0]
    assert (f.number, f.linktype, f.caplen, f.orig_len, f.interface) == (1, 1, len(eth_frame(1)), len(eth_frame(1)), 0)
    assert f.data == eth_frame(1) and type(f.data) is bytes
    assert f == Frame(1, f.ts, 1, eth_frame(1), len(eth_frame(1)), len(eth_frame(1)))
    assert f._replace(number=3).number == 3


class _SkipLengthsOf3(RecordSkip):
    def skip(self, linktype, buf, start, end):
        return (end - start) % 3 == 0


@pytest.mark.parametrize("name", ["pkts__sctp-test.cap", "scenario__many_assocs.pcapng", "usrsctp__echo_ipv6.pcapng"])
def test_skipped_records_are_numbered_and_counted_but_not_built(name):
    """Capture.skip (parallel workers drop other workers' frames unread): the frames it keeps are those of
    a plain read with the same numbers, times and bytes; the skipped ones are counted, first and last known."""
    path = next(p for p in repo_captures() if p.name == name)
    with open_capture(path) as cap:
        plain = list(cap)
    with open_capture(path) as cap:
        cap.skip = _SkipLengthsOf3()
        kept = list(cap)
    odd = [f for f in plain if len(f.data) % 3 == 0]
    # the reader's general path (first block of a pcapng, unusual blocks) builds frames without asking
    assert {f.number for f in kept} | {f.number for f in odd} == {f.number for f in plain}
    assert cap.skipped == len(plain) - len(kept) > 0
    by_number = {f.number: f for f in plain}
    assert all(by_number[f.number] == f for f in kept)
    skipped = sorted({f.number for f in plain} - {f.number for f in kept})
    assert cap.skipped_first == (skipped[0], by_number[skipped[0]].ts)
    assert cap.skipped_last == (skipped[-1], by_number[skipped[-1]].ts)
