"""Live capture without the wire (no root needed): the incremental pcapng parser against the file reader and
tshark, the ring of output files, a whole LiveSession fed from real captures through a stand-in source (its
report against `sctpscope report`), a write error mid-capture, the live TUI with Pilot, and the CLI's one-line
errors. The same code on real sockets: test_live_wire.py."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from conftest import CAPTURES, REPO, TSHARK, repo_captures, run_sctpscope, tshark_required
from sctpscope.capture import open_capture
from sctpscope.capture.live import KernelStats
from sctpscope.live.output import OutputFiles
from sctpscope.live.session import LiveSession
from sctpscope.live.stream import PcapngStream

MANY = CAPTURES / "scenario__many_assocs.pcapng"
ECHO = CAPTURES / "usrsctp__echo_ipv4.pcapng"


def stream_frames(path: Path, piece: int) -> tuple[list, PcapngStream]:
    data = path.read_bytes()
    s = PcapngStream()
    out = []
    offsets = []
    for i in range(0, len(data), piece):
        got = s.feed(data[i:i + piece])
        out.extend(got)
        offsets.extend(s.offsets)
    return list(zip(out, offsets)), s


PCAPNGS = [p for p in repo_captures() if p.read_bytes()[:4] == b"\x0a\x0d\x0d\x0a"]


@pytest.mark.parametrize("path", PCAPNGS, ids=lambda p: p.name)
def test_stream_parser_reads_what_the_file_reader_reads(path):
    """Fed in uneven pieces (a block split anywhere), the stream gives the reader's frames exactly."""
    with open_capture(path) as cap:
        want = list(cap)
    raw = path.read_bytes()
    for piece in (1 << 20, 997, 61):
        got, s = stream_frames(path, piece)
        assert [f for (f, _), _ in got] == want
        assert s.pending() == 0 and s.bytes == len(raw)
        for (f, ns), off in got:
            assert raw[off:off + f.caplen] == f.data            # the offsets point at the frame's bytes
            assert abs(ns / 1e9 - f.ts) < 1e-6


@tshark_required
def test_stream_parser_timestamps_match_tshark():
    got, _ = stream_frames(ECHO, 4096)
    out = subprocess.run([TSHARK, "-n", "-r", str(ECHO), "-T", "fields", "-e", "frame.time_epoch"],
                         capture_output=True, text=True, check=True).stdout.split()
    assert [f"{ns // 10**9}.{ns % 10**9:09d}" for (_, ns), _ in got] == out


def test_stream_parser_reads_interface_statistics(tmp_path):
    from sctpscope.capture.writer import PcapngWriter

    path = tmp_path / "s.pcapng"
    with PcapngWriter(path) as w:
        i = w.add_interface(1, "x")
        w.write_packet(i, 1.0, b"\0" * 20)
        w.write_stats(i, 2.0, 10, 3)
    _, s = stream_frames(path, 7)
    assert s.stats == {0: (10, 3)} and [i.name for i in s.interfaces] == ["x"]


# -- a stand-in source: the frames of a capture, handed out as a live source hands them -------------------------------
class ReplaySource:
    """LiveSource's surface over a capture file: `batch` frames per read, then idle; `stats()` counts what was
    handed out (no drop)."""

    def __init__(self, path: Path, batch: int = 50, name: str = "replay0") -> None:
        got, s = stream_frames(path, 1 << 20)
        self.items = [(f, ns) for (f, ns), _ in got]
        self.linktype = s.interfaces[0].linktype
        self.name = name
        self.batch = batch
        self.pos = 0
        self.closed = False

    def read(self, timeout=0.1):
        if self.pos >= len(self.items):
            time.sleep(min(timeout or 0, 0.02))
            return []
        out = self.items[self.pos:self.pos + self.batch]
        self.pos += len(out)
        return out

    def drain(self):
        return []

    def stats(self):
        return KernelStats(self.pos, 0, 0)

    def close(self):
        self.closed = True


def run_session(src: ReplaySource, path: Path, **kw) -> LiveSession:
    out = OutputFiles(str(path), src.linktype, src.name, 262144, ring_size=kw.pop("ring_size", None),
                      ring_files=kw.pop("ring_files", None))
    sess = LiveSession(src, out, **kw)
    sess.start()
    end = time.monotonic() + 60
    while src.pos < len(src.items) and not sess.done:
        assert time.monotonic() < end
        time.sleep(0.01)
    sess.stop("test")
    assert sess.wait(60)
    return sess


def report(*args) -> dict:
    proc = run_sctpscope("report", "--json", *args, check=True)
    return json.loads(proc.stdout)


def test_session_report_is_the_report_of_its_file(tmp_path):
    """20 associations replayed through a session: its file holds the capture's frames, its report is
    `sctpscope report` of that file, and apart from the capture's name and interface list (one interface
    written) the report of the original too."""
    src = ReplaySource(MANY, batch=37)
    path = tmp_path / "live.pcapng"
    sess = run_session(src, path)
    assert sess.error is None and src.closed
    with open_capture(MANY) as a, open_capture(path) as b:
        assert [(f.ts, f.data, f.orig_len) for f in a] == [(f.ts, f.data, f.orig_len) for f in b]
    doc = sess.report()
    live = doc.pop("live")
    assert doc == report(path)
    orig = report(MANY)
    for d in (doc, orig):
        for c in d["captures"]:
            c.pop("path")
            c.pop("link_types")
    assert doc == orig and len(doc["associations"]) == 20
    assert live["captured_packets"] == len(src.items) == live["kernel"]["received"]
    assert live["files"] == [{"path": str(path), "packets": len(src.items), "bytes": path.stat().st_size,
                              "deleted": False}]


def test_session_count_filter_and_ring(tmp_path):
    src = ReplaySource(MANY, batch=5)
    sess = run_session(src, tmp_path / "c.pcapng", count=11)
    assert sess.stopped_by == "count"
    doc = sess.report()
    doc.pop("live")
    assert doc["totals"]["sctp_packets"] == 11 and doc == report(tmp_path / "c.pcapng")

    expr = "chunk == ABORT || sid == 1"
    sess = run_session(ReplaySource(MANY), tmp_path / "f.pcapng", flt=_compile(expr))
    doc = sess.report()
    assert doc.pop("live")["filter"] == expr
    assert doc == report("--filter", expr, tmp_path / "f.pcapng")

    src = ReplaySource(MANY, batch=3)
    sess = run_session(src, tmp_path / "r.pcapng", ring_size=3000, ring_files=4)
    doc = sess.report()
    files = doc.pop("live")["files"]
    assert len(files) > 4 and [f["deleted"] for f in files] == [True] * (len(files) - 4) + [False] * 4
    names = [Path(f["path"]).name for f in files]
    assert all(n.startswith(f"r_{i:05d}_") and n.endswith(".pcapng") for i, n in enumerate(names, 1))
    assert sorted(p.name for p in tmp_path.glob("r_*")) == names[-4:]
    kept = [f["path"] for f in files if not f["deleted"]]
    with open_capture(MANY) as cap:
        allf = [(x.ts, x.data) for x in cap]
    back = [(x.ts, x.data) for p in kept for x in open_capture(p)]
    assert back == allf[len(allf) - len(back):]
    whole = report(MANY)
    assert doc["associations"] == whole["associations"] and doc["totals"] == whole["totals"]


def _compile(expr):
    from sctpscope.filter import compile as compile_filter

    return compile_filter(expr)


def test_rotation_by_hand_keeps_the_first_name(tmp_path):
    from sctpscope.capture.reader import Frame

    out = OutputFiles(str(tmp_path / "one.pcapng"), 1, "x", 262144)
    out.open()
    out.write(Frame(1, 1.0, 1, b"\0" * 60, 60, 60, 0), 10**9)
    out.rotate((5, 1))
    out.write(Frame(2, 2.0, 1, b"\1" * 60, 60, 60, 0), 2 * 10**9)
    out.close((9, 2))
    assert out.files[0].path == str(tmp_path / "one.pcapng")
    assert Path(out.files[1].path).name.startswith("one_00002_")
    assert [len(list(open_capture(f.path))) for f in out.files] == [1, 1]


def test_write_error_mid_capture_keeps_a_valid_file(tmp_path):
    """The file size limit (RLIMIT_FSIZE, as a full disk) stops the capture: one error, and the file keeps
    every whole block written before; the report is that of the file."""
    script = f"""
import json, resource, signal, sys, time
sys.path.insert(0, {str(REPO / 'tests')!r})
signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
resource.setrlimit(resource.RLIMIT_FSIZE, (6000, 6000))
from test_live_unit import ReplaySource
from sctpscope.live.output import OutputFiles
from sctpscope.live.session import LiveSession
src = ReplaySource(__import__('pathlib').Path({str(MANY)!r}), batch=2)
out = OutputFiles({str(tmp_path / 'full.pcapng')!r}, src.linktype, 'x', 262144)
s = LiveSession(src, out)
s.start()
s.wait(60)
doc = s.report()
print(json.dumps({{"error": str(s.error), "stopped_by": s.stopped_by, "doc": doc}}))
"""
    proc = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120,
                          env=dict(os.environ, PYTHONPATH=str(REPO)))
    assert proc.returncode == 0, proc.stderr
    res = json.loads(proc.stdout)
    assert res["stopped_by"] == "write error" and "File too large" in res["error"]
    path = tmp_path / "full.pcapng"
    assert path.stat().st_size <= 6000
    with open_capture(path) as cap:
        got = list(cap)
        assert not cap.problems
    with open_capture(MANY) as cap:
        want = [f.data for f in cap][:len(got)]
    assert [f.data for f in got] == want and len(got) > 5
    doc = res["doc"]
    doc.pop("live")
    assert doc == report(path)
    if TSHARK:
        t = subprocess.run([TSHARK, "-r", str(path)], capture_output=True, text=True)
        assert t.returncode == 0 and len(t.stdout.splitlines()) == len(got)


def test_live_tui_fills_in_from_a_session(tmp_path):
    """The live UI over a replayed capture: every association appears with the state the report gives,
    the status bar counts the frames, `p` pauses the display and `w` starts a new file."""
    pytest.importorskip("textual")
    import asyncio

    from sctpscope.tui.live import LiveApp

    src = ReplaySource(ECHO, batch=1)
    path = tmp_path / "tui.pcapng"
    sess = LiveSession(src, OutputFiles(str(path), src.linktype, src.name, 262144), snapshots=True)
    whole = report(ECHO)
    want = whole["associations"]

    async def run():
        app = LiveApp(sess)
        async with app.run_test(size=(160, 40)) as pilot:
            end = time.monotonic() + 30
            while True:
                await pilot.pause(0.1)
                table = app.home.query_one("#associations")
                rows = [table.row_cells(i) for i in range(table.row_count())]
                st = sess.status()
                if rows and rows[0][2] == want[0]["state"] and st.analysed == st.packets == len(src.items):
                    break
                assert time.monotonic() < end, rows
            await pilot.pause(0.5)
            status = str(app.home.query_one("#live-status").render())
            await pilot.press("p")
            paused = str(app.home.query_one("#live-status").render())
            await pilot.press("w")
            await pilot.pause(0.5)
            await pilot.press("q")
        return rows, status, paused

    rows, status, paused = asyncio.run(run())
    assert sess.wait(30)
    assert [r[2] for r in rows] == [a["state"] for a in want]
    assert f"{len(src.items)} packets" in status and f"{whole['totals']['sctp_packets']} SCTP" in status
    assert "PAUSED" in paused and "PAUSED" not in status
    assert len(sess.output.files) == 2 and sess.output.files[0].packets == len(src.items)


# -- the command line --------------------------------------------------------------------------------------------------
def test_unknown_interface_is_one_line():
    proc = run_sctpscope("live", "-i", "nosuch0", "--duration", "1", "--json")
    assert proc.returncode == 2 and proc.stdout == ""
    assert proc.stderr.splitlines() == ["sctpscope: live capture: no such interface: 'nosuch0' "
                                        "(`sctpscope interfaces` lists them)"]


@pytest.mark.parametrize("args,message", [
    (["--ring-files", "3"], "--ring-files needs --ring-size"),
    (["--duration", "0"], "--duration must be more than 0"),
    (["--count", "0"], "--count must be at least 1"),
    (["--buffer-size", "0"], "--buffer-size must be between"),
    (["--user", "no-such-user-here"], "--user no-such-user-here: no such user"),
])
def test_bad_options_are_one_line(args, message):
    proc = run_sctpscope("live", "-i", "lo", "--json", *args)
    assert proc.returncode == 2 and proc.stdout == ""
    assert len(proc.stderr.splitlines()) == 1 and message in proc.stderr and "Traceback" not in proc.stderr


def test_bad_filter_fails_before_capturing():
    proc = run_sctpscope("live", "-i", "lo", "--json", "--filter", "port ==")
    assert proc.returncode == 2 and "Traceback" not in proc.stderr and proc.stdout == ""


def test_interfaces_lists_every_interface():
    """`sctpscope interfaces` against iproute2's own listing of this namespace."""
    proc = run_sctpscope("interfaces", "--json", check=True)
    ours = {i["name"]: i for i in json.loads(proc.stdout)}
    theirs = json.loads(subprocess.run(["ip", "-j", "link"], capture_output=True, text=True, check=True).stdout)
    assert set(ours) == {i["ifname"] for i in theirs} | {"any"}
    for i in theirs:
        assert ours[i["ifname"]]["index"] == i["ifindex"] and ours[i["ifname"]]["mtu"] == i["mtu"]
    text = run_sctpscope("interfaces", check=True).stdout
    assert all(name in text for name in ours)


def test_netns_skip_reason_logic():
    """The wire tests skip with a reason when not root or when a tool is missing, and run otherwise."""
    from test_live_wire import netns_unavailable

    assert "root" in netns_unavailable(euid=1000)
    assert "dumpcap" in netns_unavailable(euid=0, which=lambda t: None if t == "dumpcap" else "/x")
    no_peers = netns_unavailable(euid=0, which=lambda t: "/x", exists=lambda p: "usrsctp" not in str(p))
    assert "libusrsctp-examples" in no_peers
    assert netns_unavailable(euid=0, which=lambda t: "/x", exists=lambda p: True) is None
