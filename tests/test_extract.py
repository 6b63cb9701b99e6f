"""`sctpscope extract`: the frames of chosen associations as a pcapng, re-read by sctpscope and by tshark.

Truth: the original capture's report for that association (the extract must yield the same association,
once frame numbers and ids are renumbered: frame k of the extract is the k-th original frame it holds, found
by tshark matching each extracted frame's time, to the nanosecond, and lengths, in order, among the
original's), and tshark
reading the extracted file (`tshark -r OUT -T fields -e frame.time_epoch -e frame.len -e frame.cap_len -e
sctp.verification_tag -e sctp.chunk_type`): as many frames as written, the association's chunks by type.
"""
from __future__ import annotations

import json
import subprocess
from collections import Counter

import pytest

from conftest import CAPTURES, public_capture, run_sctpscope, tshark_required
from sctpscope.cli import run_report
from sctpscope.decode.sctp import chunk_name
from sctpscope.export.extract import extract

FRAME_KEYS = ("frame", "first_frame", "last_frame")


def _report(*paths) -> dict:
    """The report as `sctpscope report --json` gives it (in-process: this file checks the CLI once)."""
    return json.loads(json.dumps(run_report([str(p) for p in paths], (9899,), True, 1)))


def _tshark_frames(path) -> list[tuple[str, str, str, list[str]]]:
    out = subprocess.run(["tshark", "-n", "-r", str(path), "-T", "fields", "-E", "separator=;", "-e",
                          "frame.time_epoch", "-e", "frame.len", "-e", "frame.cap_len", "-e", "sctp.verification_tag",
                          "-e", "sctp.chunk_type"], capture_output=True, text=True, check=True).stdout
    rows = []
    for line in out.splitlines():
        t, n, c, vtag, types = line.split(";")
        rows.append((t, n, c, vtag, types.split(",") if types else []))
    return rows


def _renumber(value, frames: dict[int, int], ids: dict[int, int]):
    """The association record with original frame numbers and ids replaced by the extract's."""
    if isinstance(value, list):
        return [_renumber(v, frames, ids) for v in value]
    if isinstance(value, dict):
        out = {}
        for k, v in value.items():
            if k in FRAME_KEYS and isinstance(v, int):
                out[k] = frames[v]
            elif k in ("id", "new_association", "restart_of") and isinstance(v, int):
                out[k] = ids[v]
            else:
                out[k] = _renumber(v, frames, ids)
        return out
    return value


def _same_frame(a: tuple, b: tuple) -> bool:
    """The same time (tshark's frame.time_epoch, to the nanosecond), lengths, verification tags and chunks."""
    return a == b


def _check(tmp_path, originals: list, ids: list[int], *, link_types: int = 1, cli: bool = False) -> dict:
    out = tmp_path / "extract.pcapng"
    if cli:
        proc = run_sctpscope("extract", *originals, "--association", *map(str, ids), "-w", out, check=True)
        written = int(proc.stdout.split()[0])
        assert proc.stdout == f"{written} frames of association {', '.join(map(str, ids))} written to {out}\n"
    else:
        written = extract([str(p) for p in originals], ids, str(out)).frames
    full = _report(*originals)
    ext = _report(out)
    # which original frames the extract holds: tshark's view of both files, matched in order
    orig_rows = [r for p in originals for r in _tshark_frames(p)]
    ext_rows = _tshark_frames(out)
    frames: dict[int, int] = {}
    j = 0
    for k, row in enumerate(ext_rows, 1):
        while not _same_frame(orig_rows[j], row):
            j += 1
        frames[j + 1] = k
        j += 1
    assert len(ext_rows) == written == ext["totals"]["packets"] > 0
    chosen = [a for a in full["associations"] if a["id"] in ids]
    new_ids = {a["id"]: i for i, a in enumerate(chosen, 1)}
    want = [_renumber(a, frames, new_ids) for a in chosen]
    assert ext["associations"] == want      # the times too: the extract keeps each timestamp's ticks
    # tshark reads the extract with the same association figures: its chunks, by type
    theirs = Counter(chunk_name(int(t, 0)) for row in ext_rows for t in row[4])
    ours = Counter()
    for a in chosen:
        for side in ("initiator", "responder"):
            ours.update(a["chunks"][side])
    assert theirs == ours
    assert len(ext["captures"][0]["link_types"]) == link_types
    return ext


@tshark_required
@pytest.mark.parametrize("name,ids", [
    ("pkts__sctp-www.cap", [2]),                         # the middle one of three associations (pcap, Ethernet)
    ("pkts__sctp_init_collision.cap", [9]),              # an INIT collision folded into one association
    ("tcpdump__forces3.pcap", [3, 5]),                   # two of six, Linux cooked capture
    ("scenario__multihoming_failover.pcapng", [1]),      # pcapng with two interfaces, multihomed paths
    ("scenario__udp_encap.pcapng", [1]),                 # SCTP over UDP
])
def test_extract_reads_back_as_the_same_associations(tmp_path, name, ids):
    ext = _check(tmp_path, [CAPTURES / name], ids, link_types=2 if "multihoming" in name else 1,
                 cli=name == "tcpdump__forces3.pcap")
    assert ext["associations"]


@tshark_required
def test_extract_from_two_files_numbered_on(tmp_path):
    """Several inputs are one capture, as for report: association 3 is in the second file."""
    ext = _check(tmp_path, [CAPTURES / "pkts__sctp-test.cap", CAPTURES / "pkts__sctp-www.cap"], [3])
    assert ext["associations"][0]["initiator"]["port"] != 7


@tshark_required
def test_extract_keeps_the_ip_fragments(tmp_path):
    """An SCTP packet reassembled from IP fragments: its fragments are extracted with it."""
    path = public_capture("open5gs__nonipsec_reg.pcapng")
    full = _report(path)
    ids = [a["id"] for a in full["associations"]]
    for i in ids:
        _check(tmp_path, [path], [i])


def test_extract_errors_are_one_line(tmp_path):
    path = CAPTURES / "pkts__sctp-www.cap"
    proc = run_sctpscope("extract", path, "--association", "4", "-w", tmp_path / "x.pcapng")
    assert proc.returncode == 2 and "Traceback" not in proc.stderr
    assert proc.stderr.strip() == f"sctpscope: error: no association 4 in {path} (it has associations 1..3)"
    assert not (tmp_path / "x.pcapng").exists()
    proc = run_sctpscope("extract", path, "--association", "1", "-w", path)
    assert proc.returncode == 2 and "is also an input" in proc.stderr and len(proc.stderr.splitlines()) == 1
    proc = run_sctpscope("extract", path, "--association", "1", "-w", tmp_path / "no" / "dir.pcapng")
    assert proc.returncode == 2 and "cannot create" in proc.stderr and len(proc.stderr.splitlines()) == 1
