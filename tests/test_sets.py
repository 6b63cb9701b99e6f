"""Ring-buffer sets: a directory or a glob of capture files is read in time order (by each file's first
timestamp, not by name) as one capture, and the report says how each file follows the one before it.

The sets are real captures cut with editcap (-c N into parts, -A/-B into time windows); expected times are
tshark's frame.time_epoch of the parts.
"""
from __future__ import annotations

import gzip
import json
import lzma
import os
import random
import shutil
import subprocess

import pytest

from conftest import CAPTURES, TSHARK, run_sctpscope, tshark_required

EDITCAP = shutil.which("editcap")
editcap_required = pytest.mark.skipif(EDITCAP is None or TSHARK is None, reason="editcap/tshark not on PATH")


def _epochs(path) -> list[float]:
    out = subprocess.run([TSHARK, "-r", str(path), "-T", "fields", "-e", "frame.time_epoch"],
                         capture_output=True, text=True, check=True).stdout
    return [float(x) for x in out.split()]


def _report(*args) -> dict:
    proc = run_sctpscope("report", *map(str, args), "--json")
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout)


def _without_captures(doc: dict) -> dict:
    return {k: v for k, v in doc.items() if k != "captures"}


def _ring(src, dest, count: int, seed: int) -> list:
    """`editcap -c count` parts of src in dest, renamed so that name order is not time order; returns the
    parts in time order."""
    dest.mkdir()
    subprocess.run([EDITCAP, "-c", str(count), str(src), str(dest / ("part" + src.suffix))], check=True)
    parts = sorted(dest.iterdir())          # editcap numbers them in time order
    assert len(parts) >= 3
    names = [f"ring_{k:03d}{src.suffix}" for k in range(len(parts))]
    rng = random.Random(seed)
    while names == sorted(names):
        rng.shuffle(names)
    renamed = []
    for p, name in zip(parts, names):
        renamed.append(p.rename(dest / name))
    assert [p.name for p in renamed] != sorted(p.name for p in renamed)
    return renamed


RING_CASES = [("scenario__ngap_many_gnbs.pcapng", 100), ("scenario__many_assocs.pcapng", 50),
              ("pkts__sctp-www.cap", 20), ("usrsctp__tsctp_ipv4.pcapng", 9),
              ("scenario__loss_retransmit.pcapng", 7), ("scenario__multihoming_failover.pcapng", 40)]


@editcap_required
@pytest.mark.parametrize("name,count", RING_CASES, ids=[c[0] for c in RING_CASES])
def test_ring_set_in_a_directory_reports_as_the_original(tmp_path, name, count):
    src = CAPTURES / name
    parts = _ring(src, tmp_path / "ring", count, seed=len(name))
    whole = _report(src)
    ring = _report(str(tmp_path / "ring") + "/")
    assert _without_captures(ring) == _without_captures(whole)
    assert [c["path"] for c in ring["captures"]] == [str(p) for p in parts]     # time order, not name order
    jsonschema = pytest.importorskip("jsonschema")
    from sctpscope.report.document import __file__ as doc_py
    import pathlib

    jsonschema.validate(ring, json.loads((pathlib.Path(doc_py).parent / "schema.json").read_text()))
    assert sum(c["packets"] for c in ring["captures"]) == whole["captures"][0]["packets"] == len(_epochs(src))
    assert ring["captures"][0]["set"] is None
    for k, (cap, part) in enumerate(zip(ring["captures"], parts)):
        epochs = _epochs(part)
        assert cap["first_ts"] == pytest.approx(epochs[0], abs=1e-6)
        if k:
            prev = _epochs(parts[k - 1])
            d = epochs[0] - prev[-1]
            note = cap["set"]
            assert note["previous"] == k - 1 and note["previous_path"] == str(parts[k - 1])
            if d >= 0:
                assert note["gap_after_previous_s"] == pytest.approx(d, abs=1e-6)
            else:
                assert note["overlaps_previous_s"] == pytest.approx(-d, abs=1e-6)


@editcap_required
def test_quoted_glob_and_shell_list_give_the_same_order(tmp_path):
    """A quoted glob (expanded by sctpscope) and the files named in name order read in time order alike;
    `packets` numbers frames on across the files in that order."""
    src = CAPTURES / "scenario__ngap_many_gnbs.pcapng"
    parts = _ring(src, tmp_path / "ring", 150, seed=3)
    by_glob = _report(str(tmp_path / "ring" / "ring_*.pcapng"))
    by_names = _report(*sorted(parts))
    assert by_glob == by_names
    assert [c["path"] for c in by_glob["captures"]] == [str(p) for p in parts]
    ours = run_sctpscope("packets", *sorted(parts))
    whole = run_sctpscope("packets", src)
    assert ours.returncode == 0 and ours.stdout == whole.stdout
    # `sctpscope DIR` (the terminal UI's entry; without a terminal, the packet list) takes the same order
    opened = run_sctpscope(tmp_path / "ring")
    assert opened.returncode == 0 and opened.stdout == whole.stdout


def _window(src, dest, start: float | None, stop: float | None):
    cmd = [EDITCAP]
    if start is not None:
        cmd += ["-A", f"{start:.6f}"]
    if stop is not None:
        cmd += ["-B", f"{stop:.6f}"]
    subprocess.run(cmd + [str(src), str(dest)], check=True)
    return dest


@editcap_required
@pytest.mark.parametrize("kind", ["overlap", "gap"])
def test_overlap_and_gap_are_stated(tmp_path, kind):
    src = CAPTURES / "scenario__ngap_many_gnbs.pcapng"
    t = _epochs(src)
    t0 = min(t)
    if kind == "overlap":
        early = _window(src, tmp_path / "b_early.pcapng", None, t0 + 6.0)
        late = _window(src, tmp_path / "a_late.pcapng", t0 + 4.0, None)
    else:
        early = _window(src, tmp_path / "b_early.pcapng", None, t0 + 3.0)
        late = _window(src, tmp_path / "a_late.pcapng", t0 + 7.0, None)
    e, l = _epochs(early), _epochs(late)
    assert e and l
    doc = _report(tmp_path)
    assert [c["path"] for c in doc["captures"]] == [str(early), str(late)]   # by time, not by name
    note = doc["captures"][1]["set"]
    if kind == "overlap":
        assert max(e) - l[0] > 1.0
        assert note == {"previous": 0, "previous_path": str(early),
                        "overlaps_previous_s": pytest.approx(e[-1] - l[0], abs=1e-6)}
    else:
        assert l[0] - e[-1] > 3.0
        assert note == {"previous": 0, "previous_path": str(early),
                        "gap_after_previous_s": pytest.approx(l[0] - e[-1], abs=1e-6)}
    human = run_sctpscope("report", tmp_path).stdout.splitlines()
    line = next(x for x in human if x.startswith(str(late)))
    s = note.get("overlaps_previous_s", note.get("gap_after_previous_s"))
    want = "OVERLAPS the previous file by" if kind == "overlap" else "gap of"
    assert f"{want} {s:.6f} s" in line


def _rchar() -> int:
    """Bytes this process has read through system calls so far (Linux /proc/self/io): counts what the
    reader reads whether it is compiled or not."""
    with open("/proc/self/io") as f:
        return int(next(line for line in f if line.startswith("rchar:")).split()[1])


@tshark_required
@pytest.mark.skipif(not os.path.exists("/proc/self/io"), reason="needs Linux /proc/self/io")
def test_first_timestamp_reads_only_the_first_records(tmp_path):
    """A 4 MiB pcapng (and its gzip and xz): the first record's time, tshark's, from the file's first
    bytes: ordering a set never reads whole files."""
    from sctpscope.capture import inputs

    src = CAPTURES / "scenario__ngap_many_gnbs.pcapng"
    one = src.read_bytes()
    data = one * (1 + (4 << 20) // len(one))      # more sections, as `mergecap -a` of copies would give
    plain = tmp_path / "big.pcapng"
    plain.write_bytes(data)
    gz = tmp_path / "big.pcapng.gz"
    gz.write_bytes(gzip.compress(data, compresslevel=1))
    xz = tmp_path / "big.pcapng.xz"
    # (a small dictionary: the copies, ~90 KB apart, do not shrink to nothing)
    xz.write_bytes(lzma.compress(data, filters=[{"id": lzma.FILTER_LZMA2, "dict_size": 32 << 10}]))
    want = _epochs(src)[0]
    for f, budget in ((plain, 2 * inputs.HEAD_CHUNK), (gz, 128 << 10), (xz, 128 << 10)):
        assert f.stat().st_size > 4 * budget
        before = _rchar()
        assert inputs.first_timestamp(str(f)) == pytest.approx(want, abs=1e-6)
        spent = _rchar() - before
        assert 0 < spent <= budget, (f.name, spent)


def test_directory_without_captures_and_empty_glob_are_one_line(tmp_path):
    (tmp_path / "notes.txt").write_text("hello")
    proc = run_sctpscope("report", tmp_path)
    assert proc.returncode != 0 and "Traceback" not in proc.stderr
    assert proc.stderr.strip() == f"sctpscope: capture: {tmp_path}: a directory with no pcap or pcapng file in it"
    proc = run_sctpscope("packets", str(tmp_path / "nothing*.pcap"))
    assert proc.returncode != 0 and "Traceback" not in proc.stderr
    assert proc.stderr.strip() == f"sctpscope: capture: {tmp_path}/nothing*.pcap: no file matches"


def test_directory_skips_non_captures():
    """captures/ holds logs beside the captures: only the captures are read (by their first bytes)."""
    from sctpscope.capture.inputs import expand_inputs

    files = expand_inputs([str(CAPTURES)])
    assert files and all(not f.endswith((".log", ".jsonl", ".md")) for f in files)
    assert len(files) == len([p for p in CAPTURES.iterdir() if p.suffix in (".pcap", ".pcapng", ".cap")])


@editcap_required
def test_follow_extract_and_ladder_read_a_set_in_time_order(tmp_path):
    """The other commands take the set in the same order: their output is the original capture's."""
    src = CAPTURES / "scenario__ngap_many_gnbs.pcapng"
    _ring(src, tmp_path / "ring", 120, seed=5)
    ring = str(tmp_path / "ring")
    for args in (["follow", "-a", "2"], ["ladder", "-a", "3"]):
        ours = run_sctpscope(args[0], ring, *args[1:])
        whole = run_sctpscope(args[0], src, *args[1:])
        assert ours.returncode == 0 and ours.stdout == whole.stdout and ours.stdout
    a, b = tmp_path / "a.pcapng", tmp_path / "b.pcapng"
    assert run_sctpscope("extract", ring, "-a", "2", "-w", a).returncode == 0
    assert run_sctpscope("extract", src, "-a", "2", "-w", b).returncode == 0
    ea, eb = _report(a), _report(b)
    assert _without_captures(ea) == _without_captures(eb) and ea["totals"]["packets"] > 0
    assert _epochs(a) == _epochs(b)
