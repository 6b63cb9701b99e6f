"""The pcapng writer: what it writes is read back identically by tshark (the independent reader) and by
sctpscope's own reader, whatever the link types and time resolutions; a failing disk leaves a valid file."""

from __future__ import annotations

import errno
import io
import json
import struct
import subprocess

import pytest

from conftest import CAPTURES, TSHARK, tshark_required
from sctpscope.capture import open_capture
from sctpscope.capture.writer import PcapngWriter, WriterError

ECHO = CAPTURES / "usrsctp__echo_ipv4.pcapng"          # Ethernet, nanosecond timestamps (dumpcap)
VLAN = CAPTURES / "pcapflowlab__16_sctp_vlan_ipv4_data_s1ap.pcap"
SLL = CAPTURES / "pkts__sctp-test.cap"


def tshark_frames(path) -> list[dict]:
    """Each frame as tshark reads it: epoch time (as printed, to the nanosecond), lengths, interface, comment,
    encapsulation and raw bytes."""
    names = ["time_epoch", "len", "cap_len", "interface_id", "interface_name", "comment", "encap_type"]
    cmd = [TSHARK, "-n", "-r", str(path), "-T", "fields", "-E", "separator=/t", "-E", "occurrence=f"]
    for n in names:
        cmd += ["-e", f"frame.{n}"]
    out = subprocess.run(cmd, capture_output=True, text=True, check=True, timeout=120).stdout
    frames = [{k: v for k, v in zip(names, line.split("\t")) if v} for line in out.splitlines()]
    raw = subprocess.run([TSHARK, "-n", "-r", str(path), "-T", "json", "-x", "-j", "frame"],
                         capture_output=True, text=True, check=True, timeout=120).stdout
    for f, pkt in zip(frames, json.loads(raw or "[]"), strict=True):
        f["raw"] = bytes.fromhex(pkt["_source"]["layers"]["frame_raw"][0])
    return frames


def pcapng_blocks(data: bytes) -> list[tuple[int, bytes]]:
    """A minimal independent walk of a little-endian pcapng file: (block type, body) in order."""
    blocks, pos = [], 0
    while pos < len(data):
        btype, blen = struct.unpack_from("<II", data, pos)
        assert blen >= 12 and blen % 4 == 0 and pos + blen <= len(data)
        assert struct.unpack_from("<I", data, pos + blen - 4)[0] == blen
        blocks.append((btype, data[pos + 8:pos + blen - 4]))
        pos += blen
    return blocks


def options(body: bytes) -> dict[int, bytes]:
    out, pos = {}, 0
    while pos + 4 <= len(body):
        code, n = struct.unpack_from("<HH", body, pos)
        if code == 0:
            break
        out[code] = body[pos + 4:pos + 4 + n]
        pos += 4 + n + (-n & 3)
    return out


def copy_capture(src, dst, *, ns: bool = True, comment_every: int = 0) -> list:
    """Every frame of `src` through the writer into `dst` (one IDB per source interface); returns the frames."""
    frames = []
    with open_capture(src) as cap, PcapngWriter(dst) as w:
        ids = {}
        for fr in cap:
            if fr.interface not in ids:
                ifc = cap.interfaces[fr.interface]
                ids[fr.interface] = w.add_interface(ifc.linktype, f"if{fr.interface}", ifc.snaplen or 262144, ns)
            comment = f"frame {fr.number} \u00e9" if comment_every and fr.number % comment_every == 0 else None
            w.write_packet(ids[fr.interface], fr.ts, fr.data, fr.orig_len, comment)
            frames.append(fr)
    return frames


@pytest.mark.parametrize("src", [ECHO, VLAN, SLL], ids=lambda p: p.name)
def test_own_reader_reads_back_every_frame(tmp_path, src):
    out = tmp_path / "copy.pcapng"
    frames = copy_capture(src, out)
    assert frames
    with open_capture(out) as cap:
        back = list(cap)
        assert cap.format == "pcapng" and not cap.problems
    assert [(f.linktype, f.data, f.caplen, f.orig_len) for f in back] == \
           [(f.linktype, f.data, f.caplen, f.orig_len) for f in frames]
    # nanosecond interface: a float timestamp comes back within half a float step (1e-6 s at most)
    assert all(abs(a.ts - b.ts) < 1e-6 for a, b in zip(back, frames))


@tshark_required
@pytest.mark.parametrize("src,ns", [(ECHO, True), (VLAN, False), (SLL, True)], ids=["echo-ns", "vlan-us", "sll-ns"])
def test_tshark_reads_what_sctpscope_reads(tmp_path, src, ns):
    out = tmp_path / "copy.pcapng"
    copy_capture(src, out, ns=ns, comment_every=3)
    theirs = tshark_frames(out)
    with open_capture(out) as cap:
        ours = list(cap)
    original = tshark_frames(src)
    assert len(theirs) == len(ours) == len(original)
    for t, o, orig in zip(theirs, ours, original):
        assert t["raw"] == o.data == orig["raw"]
        assert int(t["len"]) == o.orig_len == int(orig["len"])
        assert int(t["cap_len"]) == o.caplen
        assert t["encap_type"] == orig["encap_type"]
        assert abs(float(t["time_epoch"]) - o.ts) < 1e-6
        assert abs(float(t["time_epoch"]) - float(orig["time_epoch"])) < 1e-6
        assert t["interface_name"] == f"if{t['interface_id']}"
        if o.number % 3 == 0:
            assert t["comment"] == f"frame {o.number} \u00e9"
        else:
            assert "comment" not in t


@tshark_required
def test_nanoseconds_exact_with_ts_ns_and_mixed_interfaces(tmp_path):
    out = tmp_path / "mixed.pcapng"
    pkt = bytes(range(60))
    with PcapngWriter(out, application="test-app") as w:
        eth = w.add_interface(1, "eth-ns", 65535, True)
        raw = w.add_interface(101, "raw-us", 1500, False)
        w.write_packet(eth, 0.0, pkt, ts_ns=1_700_000_000_123_456_789)
        w.write_packet(raw, 1_700_000_001.25, pkt[:20], orig_len=1400)
        w.write_packet(eth, 1_700_000_002.000000001, pkt[:3])       # odd length: padding
    theirs = tshark_frames(out)
    assert [t["time_epoch"] for t in theirs] == ["1700000000.123456789", "1700000001.250000000",
                                                 "1700000002.000000000"]
    assert [(int(t["len"]), int(t["cap_len"]), t["interface_name"]) for t in theirs] == \
           [(60, 60, "eth-ns"), (1400, 20, "raw-us"), (3, 3, "eth-ns")]
    with open_capture(out) as cap:
        ours = list(cap)
        assert [i.snaplen for i in cap.interfaces] == [65535, 1500]
        assert [i.tsdiv for i in cap.interfaces] == [10**9, 10**6]
    assert [(f.linktype, f.data, f.interface) for f in ours] == [(1, pkt, 0), (101, pkt[:20], 1), (1, pkt[:3], 0)]
    assert ours[0].ts == 1_700_000_000_123_456_789 / 10**9
    capinfos = subprocess.run(["capinfos", str(out)], capture_output=True, text=True, check=True).stdout
    assert "Capture application: test-app" in capinfos


def test_interface_statistics_block(tmp_path):
    out = tmp_path / "stats.pcapng"
    with PcapngWriter(out) as w:
        a = w.add_interface(1, "a")
        b = w.add_interface(113, "b", tsresol_ns=False)
        w.write_packet(a, 1.5, b"x" * 14)
        w.write_stats(a, 2.0, 1234, 56)
        w.write_stats(b, 3.0, None, 7)
    blocks = pcapng_blocks(out.read_bytes())
    assert [t for t, _ in blocks] == [0x0A0D0D0A, 1, 1, 6, 5, 5]
    isb_a, isb_b = blocks[4][1], blocks[5][1]
    ifid, hi, lo = struct.unpack_from("<III", isb_a)
    assert (ifid, (hi << 32) | lo) == (0, 2 * 10**9)
    opts = options(isb_a[12:])
    assert struct.unpack("<Q", opts[4])[0] == 1234 and struct.unpack("<Q", opts[5])[0] == 56
    ifid, hi, lo = struct.unpack_from("<III", isb_b)
    assert (ifid, (hi << 32) | lo) == (1, 3 * 10**6)
    assert 4 not in options(isb_b[12:]) and struct.unpack("<Q", options(isb_b[12:])[5])[0] == 7
    with open_capture(out) as cap:            # statistics blocks are skipped, not taken for packets
        assert [f.data for f in cap] == [b"x" * 14] and not cap.problems


@tshark_required
def test_header_only_file_opens(tmp_path):
    out = tmp_path / "empty.pcapng"
    w = PcapngWriter(out)
    w.add_interface(1, "x")
    w.flush()
    assert subprocess.run([TSHARK, "-r", str(out)], capture_output=True, text=True).returncode == 0
    with open_capture(out) as cap:
        assert list(cap) == [] and cap.link_types == ["ether"]
    w.close()
    w.close()                                   # twice: harmless
    with pytest.raises(ValueError):
        w.write_packet(0, 1.0, b"x")


class FillingFile(io.RawIOBase):
    """A seekable file that accepts `room` bytes, writes part of the next write, then fails with ENOSPC."""

    def __init__(self, room: int):
        self.data = bytearray()
        self.room = room
        self.pos = 0

    def writable(self):
        return True

    def seekable(self):
        return True

    def tell(self):
        return self.pos

    def seek(self, pos, whence=0):
        self.pos = pos
        return pos

    def truncate(self, size=None):
        del self.data[size:]
        return size

    def write(self, b):
        b = bytes(b)
        free = self.room - len(self.data)
        if free <= 0:
            raise OSError(errno.ENOSPC, "No space left on device")
        take = b[:free]
        self.data += take
        self.pos += len(take)
        return len(take)


@tshark_required
def test_full_disk_keeps_a_valid_file_up_to_the_last_whole_block(tmp_path):
    sink = FillingFile(room=5003)              # not a multiple of 4: no block ends there
    w = PcapngWriter(sink, buffer_size=1)            # every packet is written at once
    ifc = w.add_interface(1, "full")
    written = 0
    with pytest.raises(WriterError) as exc:
        for i in range(1000):
            w.write_packet(ifc, 1000.0 + i, bytes([i & 0xFF]) * 100)
            written += 1
    assert "No space left on device" in str(exc.value)
    assert 0 < written < 1000
    # later writes fail the same way, nothing is added
    with pytest.raises(WriterError):
        w.write_packet(ifc, 1.0, b"y")
    path = tmp_path / "full.pcapng"
    path.write_bytes(bytes(sink.data))
    assert len(sink.data) < 5003 and pcapng_blocks(bytes(sink.data))   # the partial block was cut off
    with open_capture(path) as cap:
        frames = list(cap)
        assert not cap.problems
    assert [f.data for f in frames] == [bytes([i & 0xFF]) * 100 for i in range(written)]
    proc = subprocess.run([TSHARK, "-r", str(path)], capture_output=True, text=True)
    assert proc.returncode == 0 and proc.stderr.replace(
        'Running as user "root" and group "root". This could be dangerous.', "").strip() == ""
    assert len(proc.stdout.splitlines()) == written


def test_full_disk_in_a_large_flush_keeps_every_block_that_fitted(tmp_path):
    sink = FillingFile(room=5003)
    w = PcapngWriter(sink)                           # one flush of everything at the end
    ifc = w.add_interface(1, "full")
    for i in range(100):
        w.write_packet(ifc, 1000.0 + i, bytes([i]) * 100)
    with pytest.raises(WriterError):
        w.close()
    path = tmp_path / "full.pcapng"
    path.write_bytes(bytes(sink.data))
    with open_capture(path) as cap:
        frames = list(cap)
        assert not cap.problems
    # header blocks, then 132-byte packet blocks: as many as fit in 5003 bytes, all of them whole
    head = len(pcapng_blocks(bytes(sink.data))[0][1]) + 12 + len(pcapng_blocks(bytes(sink.data))[1][1]) + 12
    assert len(frames) == (5003 - head) // 132 > 0
    assert [f.data for f in frames] == [bytes([i]) * 100 for i in range(len(frames))]


def test_unwritable_path_is_one_clear_error(tmp_path):
    with pytest.raises(WriterError) as exc:
        PcapngWriter(tmp_path / "no" / "such" / "dir.pcapng")
    assert "cannot create" in str(exc.value) and "No such file or directory" in str(exc.value)


def test_unknown_interface_is_refused(tmp_path):
    with PcapngWriter(tmp_path / "x.pcapng") as w:
        with pytest.raises(ValueError):
            w.write_packet(0, 1.0, b"x")
