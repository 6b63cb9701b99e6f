"""sctpscope.capture.index: random access to frames by a record index built from record headers only.

Truths: the streaming reader (sctpscope.capture.reader, a separate implementation) for every frame of every
capture, and tshark for frame lengths and timestamps.
"""
from __future__ import annotations

import bz2
import gzip
import shutil
import struct

import pytest

from conftest import CAPTURES, repo_captures, tshark_required
from sctpscope.capture import open_capture
from sctpscope.capture.index import CaptureIndex, MultiIndex
from sctpscope.errors import CaptureError
from tui_support import tshark_fields


@pytest.mark.parametrize("path", repo_captures(), ids=lambda p: p.name)
def test_every_frame_reads_back_as_the_reader_yields_it(path):
    """Frame n read at random equals the reader's frame n: bytes, timestamp, link type, original length;
    read backwards so that nothing depends on reading in order."""
    with open_capture(path) as cap:
        frames = list(cap)
    with CaptureIndex(path) as idx:
        for f in reversed(frames):
            r = idx.read(f.number)
            assert (r.data, r.ts, r.linktype, r.orig_len) == (f.data, f.ts, f.linktype, f.orig_len), f.number
        idx.extend()
        assert idx.done and idx.count >= (frames[-1].number if frames else 0)


@tshark_required
@pytest.mark.parametrize("name", ["scenario__sendall_chat.pcapng", "pkts__sctp-www.cap",
                                  "pcapflowlab__16_sctp_vlan_ipv4_data_s1ap.pcap"])
def test_lengths_and_times_match_tshark(name):
    want = tshark_fields(name, "frame", "frame.number", "frame.cap_len", "frame.len", "frame.time_epoch")
    with CaptureIndex(CAPTURES / name) as idx:
        for number, caplen, length, epoch in want:
            r = idx.read(int(number))
            assert (len(r.data), r.orig_len) == (int(caplen), int(length))
            assert abs(r.ts - float(epoch)) < 1e-6
        with pytest.raises(KeyError):
            idx.read(len(want) + 1)


@pytest.mark.parametrize("compress", [gzip.compress, bz2.compress], ids=["gzip", "bzip2"])
def test_compressed_capture_is_indexed_over_its_decompressed_copy(tmp_path, compress):
    src = CAPTURES / "scenario__loss_retransmit.pcapng"
    packed = tmp_path / "c.pcapng.z"
    packed.write_bytes(compress(src.read_bytes()))
    with open_capture(src) as cap:
        frames = list(cap)
    with CaptureIndex(packed) as idx:
        assert idx.compression in ("gzip", "bzip2")
        assert idx.read(frames[-1].number).data == frames[-1].data       # forces the walk to the end
        assert all(idx.read(f.number).data == f.data for f in frames)
        idx.extend()
        assert idx.fraction() == 1.0


def test_growing_file_is_indexed_further(tmp_path):
    """A capture still being written: the walk stops at the end, and goes on when more records arrive."""
    src = (CAPTURES / "pkts__sctp-www.cap").read_bytes()
    with open_capture(CAPTURES / "pkts__sctp-www.cap") as cap:
        frames = list(cap)
    cut = 24 + sum(16 + len(f.data) for f in frames[:10]) + 7          # 10 records and a partial header
    path = tmp_path / "live.pcap"
    path.write_bytes(src[:cut])
    idx = CaptureIndex(path)
    idx.extend()
    assert idx.count == 10
    with pytest.raises(KeyError):
        idx.read(11)
    with open(path, "ab") as f:
        f.write(src[cut:])
    assert idx.read(len(frames)).data == frames[-1].data
    idx.close()


def test_several_files_are_numbered_on(tmp_path):
    """Two files read as one: the second file's frames follow the first's, as `decode_files` numbers them."""
    a, b = CAPTURES / "pkts__sctp-www.cap", CAPTURES / "scenario__abort_reason.pcapng"
    with open_capture(a) as ca, open_capture(b) as cb:
        fa, fb = list(ca), list(cb)
    idx = MultiIndex([a, b])
    assert idx.read(len(fa) + 1).data == fb[0].data
    assert idx.read(len(fa)).data == fa[-1].data
    assert idx.read(len(fa) + len(fb)).data == fb[-1].data
    assert idx.fraction() < 1.0                       # the blocks after the last packet are not walked yet
    idx.extend()
    assert idx.count == len(fa) + len(fb) and idx.fraction() == 1.0
    idx.close()


def test_bad_input_is_a_capture_error(tmp_path):
    with pytest.raises(CaptureError, match="no such file"):
        CaptureIndex(tmp_path / "nope.pcap")
    with pytest.raises(CaptureError, match="not a pcap or pcapng"):
        CaptureIndex(CAPTURES / "README.md")
    empty = tmp_path / "empty.pcap"
    empty.write_bytes(b"")
    with pytest.raises(CaptureError, match="empty"):
        CaptureIndex(empty)


def test_impossible_record_length_stops_the_walk(tmp_path):
    """A record length above 16 MiB (as the reader: a corrupt file) ends the index with a fault."""
    src = (CAPTURES / "pkts__sctp-www.cap").read_bytes()
    first = struct.unpack_from("<I", src, 24 + 8)[0]
    bad = bytearray(src)
    off = 24 + 16 + first                     # the second record's header
    struct.pack_into("<I", bad, off + 8, 1 << 25)
    path = tmp_path / "bad.pcap"
    path.write_bytes(bytes(bad))
    with CaptureIndex(path) as idx:
        idx.extend()
        assert idx.count == 1 and idx.fault and "impossible" in idx.fault


def test_copy_of_a_capture_under_another_name_reads_the_same(tmp_path):
    """The index opens by content, not by name."""
    dst = tmp_path / "capture.bin"
    shutil.copy(CAPTURES / "scenario__udp_encap.pcapng", dst)
    with CaptureIndex(dst) as a, CaptureIndex(CAPTURES / "scenario__udp_encap.pcapng") as b:
        a.extend()
        assert a.count == b.extend() and a.read(a.count).data == b.read(b.count).data
