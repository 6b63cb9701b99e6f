"""End to end in a real terminal: sctpscope started in tmux, driven with send-keys, read with capture-pane."""
from __future__ import annotations

import json
import os
import shlex
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

from conftest import CAPTURES, REPO

pytestmark = pytest.mark.skipif(shutil.which("tmux") is None, reason="tmux not installed (apt-get install tmux)")


def _tmux(*args: str) -> str:
    return subprocess.run(["tmux", *args], capture_output=True, text=True, check=True).stdout


def _wait_for(session: str, text: str, timeout: float = 30.0) -> str:
    deadline = time.monotonic() + timeout
    screen = ""
    while time.monotonic() < deadline:
        screen = _tmux("capture-pane", "-t", session, "-p")
        if text in screen:
            return screen
        time.sleep(0.2)
    pytest.fail(f"{text!r} never appeared on screen:\n{screen}")


def test_open_association_and_its_negotiation_in_tmux():
    """init_streams scenario: the client asked OS 10/MIS 5, the server OS 3/MIS 8 (its .log.jsonl); the
    list shows one association, Enter opens it and the negotiation shows 8 and 3, q quits."""
    session = f"sctpscope-e2e-{os.getpid()}"
    env = f"PYTHONPATH={shlex.quote(str(REPO))} TERM=xterm-256color"
    installed = Path(sys.executable).with_name("sctpscope")     # the console script of the venv, if installed
    program = shlex.quote(str(installed)) if installed.is_file() else f"{shlex.quote(sys.executable)} -m sctpscope"
    cmd = f"{env} {program} {shlex.quote(str(CAPTURES / 'scenario__init_streams.pcapng'))}"
    _tmux("new-session", "-d", "-s", session, "-x", "150", "-y", "40")
    try:
        # A detached session may start at tmux's default 80x24: fix the size before the app starts.
        _tmux("set-option", "-t", session, "window-size", "manual")
        _tmux("resize-window", "-t", session, "-x", "150", "-y", "40")
        _tmux("send-keys", "-t", session, f"exec env {cmd}", "Enter")
        screen = _wait_for(session, "⇄")
        assert "1 associations" in screen
        for _ in range(20):           # the table takes focus once loaded: press Enter until it opens
            _tmux("send-keys", "-t", session, "Enter")
            time.sleep(0.5)
            if "INIT stream negotiation" in _tmux("capture-pane", "-t", session, "-p"):
                break
        screen = _wait_for(session, "responder → initiator")
        lines = [line for line in screen.splitlines() if "initiator → responder" in line or "responder → initiator" in line]
        assert lines and lines[0].rstrip(" │").split()[-1] == "8" and lines[1].rstrip(" │").split()[-1] == "3"
        _tmux("send-keys", "-t", session, "q")
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and subprocess.run(["tmux", "has-session", "-t", session],
                                                             capture_output=True).returncode == 0:
            time.sleep(0.2)
        assert subprocess.run(["tmux", "has-session", "-t", session], capture_output=True).returncode != 0
    finally:
        subprocess.run(["tmux", "kill-session", "-t", session], capture_output=True)


def _keys(session: str, *keys: str) -> None:
    for k in keys:
        _tmux("send-keys", "-t", session, k)
        time.sleep(0.3)


def test_timeline_packet_detail_and_stream_order_in_tmux():
    """sendall_chat, keyboard only, in a real terminal: the installed `sctpscope` lists the three clients
    (the scenario log's c1..c3 ports), 2 shows the first association's ladder from the INIT its client
    logged, e jumps to the SHUTDOWN, enter shows that packet's tree and hex, escape and 3 show the streams
    with the messages of the first one in arrival order."""
    log = [json.loads(line) for line in open(CAPTURES / "scenario__sendall_chat.log.jsonl", encoding="utf-8")]
    ports = sorted(r["lport"] for r in log if r["ev"] == "start" and r["role"] != "server")
    c1 = next(r for r in log if r["ev"] == "initmsg" and r["role"] == "c1")
    session = f"sctpscope-e2e2-{os.getpid()}"
    installed = Path(sys.executable).with_name("sctpscope")
    program = shlex.quote(str(installed)) if installed.is_file() else f"{shlex.quote(sys.executable)} -m sctpscope"
    env = f"PYTHONPATH={shlex.quote(str(REPO))} TERM=xterm-256color"
    cmd = f"{env} {program} {shlex.quote(str(CAPTURES / 'scenario__sendall_chat.pcapng'))}"
    _tmux("new-session", "-d", "-s", session, "-x", "150", "-y", "40")
    try:
        _tmux("set-option", "-t", session, "window-size", "manual")
        _tmux("resize-window", "-t", session, "-x", "150", "-y", "40")
        _tmux("send-keys", "-t", session, f"exec env {cmd}", "Enter")
        screen = _wait_for(session, "3 associations")
        for port in ports:
            assert f":{port} ⇄ 198.18.1.2:5000" in screen
        for _ in range(20):                         # the list takes focus once loaded
            _keys(session, "Enter")
            if "Overview" in _tmux("capture-pane", "-t", session, "-p"):
                break
        _keys(session, "2")
        screen = _wait_for(session, f"INIT os={c1['ostreams']} mis={c1['instreams']}")
        assert "DATA/SACK chunks" in screen
        _keys(session, "e", "Enter")
        screen = _wait_for(session, "SHUTDOWN chunk")
        assert "Cumulative TSN Ack:" in screen and "0000  " in screen        # the tree and the hex dump
        _keys(session, "Escape", "3")
        screen = _wait_for(session, "messages in arrival order")
        assert "stream 0 I→R: 1 messages in arrival order" in screen
        _keys(session, "q")
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and subprocess.run(["tmux", "has-session", "-t", session],
                                                             capture_output=True).returncode == 0:
            time.sleep(0.2)
        assert subprocess.run(["tmux", "has-session", "-t", session], capture_output=True).returncode != 0
    finally:
        subprocess.run(["tmux", "kill-session", "-t", session], capture_output=True)
