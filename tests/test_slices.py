"""capture.slices: a capture cut into byte ranges at record boundaries, without reading it all; the
frames read slice by slice are the frames read whole (count, timestamps, bytes, lengths, link types)."""
from __future__ import annotations

import argparse
import gzip
import os
import struct

import pytest

from conftest import CAPTURES, all_captures
from sctpscope.capture import open_capture
from sctpscope.capture import slices as slices_mod
from sctpscope.capture.slices import context_changed, open_slice, parse_size, read_slice, slice_file


def _frames(frames):
    return [(f.ts, f.data, f.caplen, f.orig_len, f.linktype) for f in frames]


def _whole(path):
    with open_capture(path) as cap:
        return _frames(cap), [(p.code, p.detail) for p in cap.problems]


def _covers(path, sl):
    size = os.path.getsize(path)
    assert sl[0].start == len(sl[0].header) and sl[-1].end == size
    for a, b in zip(sl, sl[1:]):
        assert a.end == b.start and a.start < a.end
    assert [s.index for s in sl] == list(range(len(sl)))


@pytest.mark.parametrize("path", all_captures(), ids=lambda p: p.name)
def test_slices_cover_the_file_and_give_its_frames(path):
    whole, _ = _whole(path)
    size = os.path.getsize(path)
    for slice_size in (1, 333, 1024, 4096, 65536):
        sl = slice_file(str(path), slice_size)
        _covers(path, sl)
        got = []
        for s in sl:
            got.extend(_frames(read_slice(s)))
        assert got == whole, f"slice size {slice_size}"
        if slice_size >= 1024 and size > 4 * slice_size and len(whole) > 50:
            assert len(sl) > 1          # the file was really cut


def test_a_file_cut_short_keeps_its_fault_in_the_last_slice(tmp_path):
    src = (CAPTURES / "pkts__sctp-www.cap").read_bytes()
    cut = tmp_path / "cut.pcap"
    cut.write_bytes(src[:-37])
    whole, problems = _whole(cut)
    assert problems and problems[0][0] == "capture.truncated_record"
    sl = slice_file(str(cut), 1024)
    _covers(cut, sl)
    got = []
    for s in sl[:-1]:
        with open_slice(s) as cap:
            got.extend(_frames(cap))
            assert not cap.problems
    before = len(got)
    with open_slice(sl[-1]) as cap:
        got.extend(_frames(cap))
        # the same fault; records are numbered within the slice
        assert problems == [("capture.truncated_record", f"record {len(whole) + 1} cut short")]
        assert [(p.code, p.detail) for p in cap.problems] == [
            ("capture.truncated_record", f"record {len(whole) + 1 - before} cut short")]
    assert got == whole


def test_compressed_file_is_one_slice_read_once(tmp_path):
    src = CAPTURES / "scenario__ngap_many_gnbs.pcapng"
    gz = tmp_path / "x.pcapng.gz"
    gz.write_bytes(gzip.compress(src.read_bytes()))
    sl = slice_file(str(gz), 1024)
    assert len(sl) == 1 and sl[0].whole and (sl[0].start, sl[0].end) == (0, gz.stat().st_size)
    assert _frames(read_slice(sl[0])) == _whole(src)[0]


def test_slicing_reads_only_around_the_boundaries(tmp_path, monkeypatch):
    """A 4 MB pcap cut in 64 KiB slices: the bytes read to find the boundaries are a small part of it."""
    src = (CAPTURES / "pkts__sctp-www.cap").read_bytes()
    body = src[24:]
    big = tmp_path / "big.pcap"
    with big.open("wb") as f:
        f.write(src[:24])
        while f.tell() < 4 << 20:
            f.write(body)
    read = []
    real = os.pread
    monkeypatch.setattr(slices_mod.os, "pread", lambda fd, n, off: read.append(n) or real(fd, n, off))
    sl = slice_file(str(big), 65536)
    assert len(sl) >= 60
    assert sum(read) < big.stat().st_size / 4
    got = []
    for s in sl:
        got.extend(_frames(read_slice(s)))
    assert got == _whole(big)[0]


def test_pcapng_sections_after_the_first_packet(tmp_path):
    """Sections one after the other (`mergecap -a` of copies): the frames are the file's, and the slices
    holding a later section header say the context changed there."""
    one = (CAPTURES / "scenario__many_assocs.pcapng").read_bytes()
    path = tmp_path / "three.pcapng"
    path.write_bytes(one * 3)
    whole, _ = _whole(path)
    sl = slice_file(str(path), 4096)
    _covers(path, sl)
    got, changed = [], []
    for s in sl:
        with open_slice(s) as cap:
            got.extend(_frames(cap))
            changed.append(context_changed(cap, s))
    assert got == whole and len(whole) == 3 * 270
    # the second and third sections begin at len(one) and 2 * len(one): in exactly those slices
    holders = [s.index for s in sl if s.start <= len(one) < s.end or s.start <= 2 * len(one) < s.end]
    heads = [s.index for s in sl if s.start in (len(one), 2 * len(one))]
    assert [k for k, c in enumerate(changed) if c] == sorted(set(holders + heads))


def test_parse_size():
    assert parse_size("4096") == 4096
    assert parse_size("1k") == parse_size("1K") == parse_size("1KiB") == 1024
    assert parse_size("64M") == parse_size("64MB") == 64 << 20
    assert parse_size("2G") == 2 << 30
    for bad in ("", "0", "-1", "1.5M", "12T", "M", "64 MiBs"):
        with pytest.raises(argparse.ArgumentTypeError):
            parse_size(bad)
    ap = argparse.ArgumentParser(prog="x")
    ap.add_argument("--slice-size", type=parse_size)
    assert ap.parse_args(["--slice-size", "64k"]).slice_size == 65536
    with pytest.raises(argparse.ArgumentTypeError) as exc:
        parse_size("12T")
    assert str(exc.value) == "bad size '12T': a number of bytes with an optional k, M or G suffix, e.g. 64M"
    with pytest.raises(argparse.ArgumentTypeError) as exc:
        parse_size("0k")
    assert str(exc.value) == "bad size '0k': at least 1 byte"
