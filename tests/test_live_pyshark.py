"""`sctpscope live --engine tshark`: pyshark's LiveCapture (dumpcap writing into tshark) carries the frames,
sctpscope decodes them; and `--engine dumpcap`, which reads dumpcap's pcapng itself. Real usrsctp peers in two
network namespaces joined by a veth pair (test_live_wire's network), while dumpcap captures the same interface.

Truths: dumpcap's own capture (the frames, byte for byte, and their kernel timestamps), tshark's decode of it
(which frames are SCTP), `sctpscope report` of the file the engine wrote, the peers' own output (echo_server's
"Msg of length L ... on stream S with SSN n", tsctp's receiver summary), /proc (which processes run), the
interface statistics block sctpscope writes. Nothing is timed: waits poll for a condition, with a limit.

Needs root, network namespaces, iproute2, dumpcap/tshark and Debian's libusrsctp-examples; otherwise the wire
tests skip with the reason (test_live_wire.netns_unavailable).
"""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import struct
import subprocess
import sys
import time
from pathlib import Path

import pytest

from conftest import run_sctpscope
from test_live_wire import (ENV, REASON, USRSCTP, V4, V6, WAIT, _inject, echo, frames, net,  # noqa: F401 - net: fixture
                            noise, no_traceback, report_json, same_frames, sctpscope_cmd, start_dumpcap,
                            tshark_sctp_numbers, until)
from test_writer import options, pcapng_blocks

wire = pytest.mark.skipif(REASON is not None, reason=REASON or "")
START = 90.0                    # tshark takes seconds to start on a busy machine


def engine_cmd(engine: str, *args) -> list[str]:
    """`sctpscope live --json ARGS` with the engine set after the argument parser has run (its --engine choices
    are cli.py's): the same command, options and output otherwise."""
    code = ("import sys\n"
            "from sctpscope.cli import _ports, build_parser\n"
            "from sctpscope.live.command import cmd_live\n"
            "args = build_parser().parse_args(['live', '--json', *sys.argv[2:]])\n"
            "args.engine = sys.argv[1]\n"
            "sys.exit(cmd_live(args, sys.stdout, _ports(args)))\n")
    return [sys.executable, "-c", code, engine, *map(str, args)]


def start_engine(net, name: str, tmp: Path, engine: str, *args) -> tuple[subprocess.Popen, Path]:
    """A live capture in namespace A, in a process group of its own (as a shell runs a command, so that a
    signal to the group is Ctrl-C on its terminal) and with a TMPDIR of its own (where tshark keeps its
    temporary file); returns once it announced that it captures."""
    tmpdir = tmp / f"{name}-tmp"
    tmpdir.mkdir()
    cmd = (sctpscope_cmd("live", "--engine", "tshark", "--json", *args) if engine == "tshark"
           else engine_cmd(engine, *args))
    p = net.start(net.a, cmd, name, env=dict(ENV, TMPDIR=str(tmpdir)), cwd=net.work, start_new_session=True)
    until(lambda: "capturing SCTP on" in net.text(name) or p.poll() is not None, f"{name} to start", START)
    assert p.poll() is None, net.text(name)
    return p, tmpdir


def cmdline(pid: int) -> str | None:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace").strip()
    except OSError:
        return None


def descendants(pid: int) -> dict[int, str]:
    """Every process below `pid`, from /proc: pid -> command line."""
    children: dict[int, list[int]] = {}
    for d in Path("/proc").iterdir():
        if d.name.isdigit():
            try:
                ppid = int((d / "stat").read_text().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
            children.setdefault(ppid, []).append(int(d.name))
    out: dict[int, str] = {}
    todo = [pid]
    while todo:
        for c in children.get(todo.pop(), []):
            line = cmdline(c)
            if line:
                out[c] = line
                todo.append(c)
    return out


def programs(procs: dict[int, str]) -> list[str]:
    return sorted(os.path.basename(c.split()[0]) for c in procs.values())


def settled(pids: list[int], want: list[str]) -> dict[int, str]:
    """The processes below `pids` once they are the programs `want`: a child forked by tshark shows tshark's
    command line until it has executed dumpcap, so a look at the wrong moment sees one tshark too many."""
    def look():
        procs = {k: v for pid in pids for k, v in descendants(pid).items()}
        return procs if programs(procs) == want else None
    found = look()
    if found is None:
        until(look, f"the processes {want}")
        found = look() or {}
    assert programs(found) == want, found
    return found


def left_behind(procs: dict[int, str]) -> dict[int, str]:
    """Those of `procs` still running (the same pid with the same command line)."""
    return {pid: c for pid, c in procs.items() if cmdline(pid) == c}


def stop_like_ctrl_c(net, p: subprocess.Popen) -> int:
    os.killpg(p.pid, signal.SIGINT)         # as a terminal does: to every process of sctpscope's group
    try:
        return p.wait(WAIT * 4)
    finally:
        net.stop(p)


def last_line(net, name: str) -> str:
    return net.text(name).strip().splitlines()[-1]


# -- the tests -------------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("engine", ["tshark", "dumpcap"])
@pytest.mark.netns
@wire
def test_engine_matches_dumpcap_and_its_own_report(engine, net, tmp_path):
    """Three echo associations (IPv4, IPv6, UDP-encapsulated) and non-SCTP noise, captured by the engine and by
    dumpcap at once; stopped as Ctrl-C stops it. The file holds exactly dumpcap's SCTP frames, the report is
    `sctpscope report` of the file and counts the messages echo_server logged, and no process is left."""
    ref = tmp_path / "reference.pcapng"
    dump = start_dumpcap(net, f"ref-{engine}", ref)
    path = tmp_path / f"{engine}.pcapng"
    live, tmpdir = start_engine(net, engine, tmp_path, engine, "-i", net.if_a, "-w", path)
    if engine == "tshark":              # pyshark's dumpcap, tshark, and the dumpcap tshark runs on its input
        procs = settled([live.pid], ["dumpcap", "dumpcap", "tshark"])
        until(lambda: any(tmpdir.iterdir()), "tshark's temporary file where TMPDIR says")
    else:
        procs = settled([live.pid], ["dumpcap"])

    noise(net)
    sent = {
        "v4": echo(net, f"{engine}-v4", V4[1], ["hello, sctpscope", "a second message", "third"]),
        "v6": echo(net, f"{engine}-v6", V6[1], ["over IPv6", "2"]),
        "udp": echo(net, f"{engine}-udp", V4[1], ["encapsulated in UDP", "twice"], encaps=True),
    }
    noise(net)
    assert stop_like_ctrl_c(net, live) == 0, net.text(engine)
    net.stop(dump, signal.SIGINT)
    no_traceback(net.text(engine))
    assert left_behind(procs) == {} and not any(tmpdir.iterdir())

    # the file: exactly the SCTP frames dumpcap saw, with their bytes, lengths and kernel timestamps
    theirs = frames(ref)
    sctp = tshark_sctp_numbers(ref)
    want = [f for i, f in enumerate(theirs, 1) if i in sctp]
    ours = frames(path)
    assert same_frames(ours, want) and len(theirs) > len(want)         # the noise was there, and kept out

    # the report: `sctpscope report` of the file, and what the peers did
    doc = json.loads(net.text(engine, "out"))
    live_doc = doc.pop("live")
    assert doc == report_json(path)
    assert live_doc["engine"] == engine and live_doc["stopped_by"] == "signal"
    assert live_doc["captured_packets"] == len(ours)
    assert live_doc["kernel"] == {"received": len(ours), "dropped": 0, "ring_full": None}
    assert last_line(net, engine).endswith(f"kernel: {len(ours)} received, 0 dropped; written to {path}")
    assocs = doc["associations"]
    assert len(assocs) == 3
    for a, (kind, got) in zip(assocs, sent.items()):
        assert a["handshake_seen"] and a["ending"]["kind"] == "graceful", kind
        up = {s["sid"]: s for s in a["streams"] if s["direction"] == "initiator_to_responder"}
        for sid in {m["sid"] for m in got}:
            mine = [m for m in got if m["sid"] == sid]
            assert up[sid]["messages"] == len(mine) and up[sid]["bytes"] == sum(m["len"] for m in mine), kind
    for a, target in zip(assocs, (V4[1], V6[1], V4[1])):
        assert any(p["dst"] == target for p in a["paths"])


@pytest.mark.netns
@wire
def test_count_and_duration_stop_the_tshark_engine_cleanly(net, tmp_path):
    """--count 5 and --duration 3 end the capture by themselves: exit status 0, the file ends where it should
    (dumpcap's first five SCTP frames; the SCTP frames from the start), and nothing is left running."""
    ref = tmp_path / "reference.pcapng"
    dump = start_dumpcap(net, "ref-stops", ref)
    count, count_tmp = start_engine(net, "count", tmp_path, "tshark", "-i", net.if_a, "-c", "5",
                                    "-w", tmp_path / "count.pcapng")
    dur, dur_tmp = start_engine(net, "duration", tmp_path, "tshark", "-i", net.if_a, "--duration", "3",
                                "-w", tmp_path / "duration.pcapng")
    procs = settled([count.pid, dur.pid], ["dumpcap"] * 4 + ["tshark"] * 2)
    echo(net, "stops", V4[1], ["one", "two", "three", "four"])
    assert count.wait(WAIT) == 0, net.text("count")
    assert dur.wait(WAIT) == 0, net.text("duration")
    net.stop(dump, signal.SIGINT)
    assert left_behind(procs) == {} and not any(count_tmp.iterdir()) and not any(dur_tmp.iterdir())

    theirs = frames(ref)
    sctp = tshark_sctp_numbers(ref)
    want = [f for i, f in enumerate(theirs, 1) if i in sctp]
    count_doc = json.loads(net.text("count", "out"))
    assert count_doc.pop("live")["stopped_by"] == "count"
    assert same_frames(frames(tmp_path / "count.pcapng"), want[:5])
    assert count_doc == report_json(tmp_path / "count.pcapng")
    dur_doc = json.loads(net.text("duration", "out"))
    assert dur_doc.pop("live")["stopped_by"] == "duration"
    got = frames(tmp_path / "duration.pcapng")
    assert same_frames(got, want[:len(got)]) and got
    assert dur_doc == report_json(tmp_path / "duration.pcapng")
    for name in ("count", "duration"):
        no_traceback(net.text(name))


@pytest.mark.parametrize("engine", ["tshark", "dumpcap"])
@pytest.mark.netns
@wire
def test_engines_report_dumpcaps_drops(engine, net, tmp_path):
    """A 1 MiB buffer and the capturing dumpcap paused for a second in a full-speed tsctp transfer: the kernel
    drops, and the report, the last line and the file's statistics block give dumpcap's counts, with received =
    captured + dropped (every frame dumpcap took reached the file, through tshark and pyshark or not)."""
    path = tmp_path / "drops.pcapng"
    live, tmpdir = start_engine(net, "drops", tmp_path, engine, "-i", net.if_a, "--buffer-size", "1", "-w", path)
    procs = descendants(live.pid)
    (capturing,) = [pid for pid, c in procs.items() if f"-i {net.if_a}" in c]
    sink = net.start(net.b, ["stdbuf", "-oL", str(USRSCTP / "tsctp")], "drops-sink")
    time.sleep(0.3)
    sender = net.start(net.a, [str(USRSCTP / "tsctp"), "-n", "50000", "-l", "1400", V4[1]], "drops-send")
    time.sleep(0.3)
    os.kill(capturing, signal.SIGSTOP)          # paused, not ended: sctpscope ends it
    time.sleep(1.0)
    os.kill(capturing, signal.SIGCONT)
    until(lambda: sender.poll() is not None, "tsctp to send everything", 300)
    line = until(lambda: re.search(r"^(\d+), (\d+), (\d+), (\d+), ([\d.]+)", net.text("drops-sink", "out"), re.M),
                 "the tsctp receiver's summary")
    net.stop(sink)
    assert stop_like_ctrl_c(net, live) == 0, net.text("drops")
    assert left_behind(procs) == {} and not any(tmpdir.iterdir())
    doc = json.loads(net.text("drops", "out"))
    k = doc["live"]["kernel"]
    captured = len(frames(path))
    assert captured == doc["live"]["captured_packets"]
    assert k["dropped"] > 0 and k["received"] == captured + k["dropped"]
    assert last_line(net, "drops").endswith(f"kernel: {k['received']} received, {k['dropped']} dropped; "
                                            f"written to {path}")
    (isb,) = [body for btype, body in pcapng_blocks(path.read_bytes()) if btype == 5]
    opts = options(isb[12:])
    assert struct.unpack("<Q", opts[4])[0] == k["received"] and struct.unpack("<Q", opts[5])[0] == k["dropped"]
    up = sum(s["messages"] for a in doc["associations"] for s in a["streams"]
             if s["direction"] == "initiator_to_responder")
    assert 0 < up <= int(line[2])               # what was captured is analysed; nothing invented


# -- without the wire ----------------------------------------------------------------------------------------------
def test_user_is_refused_with_the_tshark_engine():
    """--user drops root after the socket opens, which only the af_packet engine has: one line, before
    anything is started or written."""
    proc = run_sctpscope("live", "-i", "lo", "--engine", "tshark", "--user", "nobody", "--json", "-w", "/nonexistent/x")
    assert proc.returncode == 2 and proc.stdout == ""
    assert proc.stderr.splitlines() == [
        "sctpscope: live capture: --user works with --engine af_packet only (dumpcap holds the capture privilege "
        "itself, and the processes --engine tshark starts must stay within sctpscope's reach)"]


@pytest.mark.skipif(shutil.which("dumpcap") is None, reason="dumpcap not on PATH (apt-get install tshark)")
def test_unknown_interface_with_the_tshark_engine_is_one_line(tmp_path):
    """dumpcap's own reason, on one line, and no file."""
    path = tmp_path / "never.pcapng"
    proc = run_sctpscope("live", "-i", "nosuch0", "--engine", "tshark", "--json", "-w", path)
    assert proc.returncode == 2 and proc.stdout == "" and not path.exists()
    (line,) = proc.stderr.splitlines()
    assert line.startswith("sctpscope: live capture: dumpcap could not capture on nosuch0: ")


def test_unknown_drop_counts_are_not_zero():
    """Counts a source does not know (the tshark and dumpcap engines until dumpcap ends) show as unknown."""
    from sctpscope.capture.live import KernelStats
    from sctpscope.live.command import status_line
    from sctpscope.live.session import LiveStatus

    st = LiveStatus("eth0", "tshark", "ether", 0.0, 1.0, 10, 1000, 10, 10, 1, KernelStats(None, None, None), 10.0,
                    8e3, "x.pcapng", 1, True, None, None)
    assert "drops unknown by the kernel" in status_line(st) and "0 dropped" not in status_line(st)


@pytest.mark.parametrize("engine", ["tshark", "dumpcap"])
@pytest.mark.netns
@wire
def test_engine_ends_when_the_interface_goes_down(engine, net, tmp_path):
    """As the AF_PACKET engine (test_live_wire.test_interface_going_down_keeps_what_was_captured): the interface
    set down mid-capture ends the capture with one line and exit status 2, the report covers the five packets
    sent before (which dumpcap saw too), the file holds them, and no process is left. dumpcap alone would
    wait for the interface to come back."""
    ref = tmp_path / "reference.pcapng"
    dump = start_dumpcap(net, f"ref-down-{engine}", ref)
    path = tmp_path / f"{engine}.pcapng"
    live, tmpdir = start_engine(net, "down", tmp_path, engine, "-i", net.if_a, "-w", path)
    procs = descendants(live.pid)
    _inject(net, 5)
    # the engine's file has them (with tshark, the last frame of a burst waits for the next or the end)
    until(lambda: path.exists() and len(frames(path)) >= (4 if engine == "tshark" else 5), "the packets in the file")
    net.ip("link", "set", net.if_a, "down", ns=net.a)
    try:
        status = live.wait(WAIT * 2)
    finally:
        net.ip("link", "set", net.if_a, "up", ns=net.a)
        net.stop(live)
        net.stop(dump, signal.SIGINT)
    err = net.text("down").strip().splitlines()
    no_traceback("\n".join(err))
    assert status == 2 and err[-1] == f"sctpscope: live capture: interface {net.if_a} went down", err
    assert left_behind(procs) == {} and not any(tmpdir.iterdir())
    doc = json.loads(net.text("down", "out"))
    assert doc["live"]["stopped_by"] == "error" and doc["totals"]["sctp_packets"] == 5
    theirs = frames(ref)
    want = [f for i, f in enumerate(theirs, 1) if i in tshark_sctp_numbers(ref)]
    assert same_frames(frames(path), want) and len(want) == 5
    doc.pop("live")
    assert doc == report_json(path)
