"""The progress bar of `report`, `extract` and `follow`: on standard error only when it is a terminal and
the work lasts about a second; nothing otherwise (the bytes and the output are unchanged either way)."""
from __future__ import annotations

import fcntl
import json
import os
import pty
import select
import struct
import subprocess
import sys
import termios
import time

import pytest

from conftest import CAPTURES, REPO, run_sctpscope

SRC = CAPTURES / "scenario__ngap_many_gnbs.pcapng"     # 632 frames


@pytest.fixture(scope="module")
def large(tmp_path_factory):
    """~100,000 frames: the capture's sections one after the other (a valid pcapng, as `mergecap -a`)."""
    path = tmp_path_factory.mktemp("progress") / "large.pcapng"
    one = SRC.read_bytes()
    path.write_bytes(one * 160)
    return path


def _on_pty(args, env_extra=None, timeout=300):
    """Run sctpscope with standard error on a pseudo-terminal (100x30); (exit code, stdout, terminal text)."""
    master, slave = pty.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 30, 100, 0, 0))
    env = {**os.environ, "TERM": "xterm-256color", "COLUMNS": "100", **(env_extra or {})}
    env["PYTHONPATH"] = str(REPO)
    env.pop("NO_COLOR", None)
    proc = subprocess.Popen([sys.executable, "-m", "sctpscope", *map(str, args)], stdout=subprocess.PIPE,
                            stderr=slave, stdin=subprocess.DEVNULL, cwd=REPO, env=env)
    os.close(slave)
    chunks: list[bytes] = []
    out: list[bytes] = []
    open_fds = {master: chunks, proc.stdout.fileno(): out}
    deadline = time.monotonic() + timeout
    try:
        while open_fds:
            assert time.monotonic() < deadline, "sctpscope did not finish"
            r, _, _ = select.select(list(open_fds), [], [], 0.5)
            for fd in r:
                try:
                    data = os.read(fd, 65536)
                except OSError:         # EIO: the terminal's last writer is gone
                    data = b""
                if data:
                    open_fds[fd].append(data)
                else:
                    del open_fds[fd]
    finally:
        if proc.poll() is None:
            proc.kill()
        proc.wait()
        os.close(master)
    return proc.returncode, b"".join(out), b"".join(chunks).decode("utf-8", "replace")


def test_a_bar_appears_on_a_terminal_for_a_long_report(large):
    code, out, term = _on_pty(["report", large, "--json", "-j", "1"], {"SCTPSCOPE_PROGRESS_DELAY": "0.3"})
    assert code == 0
    doc = json.loads(out)
    frames = doc["totals"]["packets"]
    assert frames == 632 * 160
    # the bar: command, bytes read of the file's size, packets so far, rate; gone at the end (transient)
    assert "report" in term and "packets" in term and "/s" in term
    size_mb = large.stat().st_size / 1e6
    assert f"/{size_mb:.1f} MB" in term
    counts = [int(x.replace(",", "")) for x in __import__("re").findall(r"([\d,]+) packets", term)]
    assert counts and max(counts) <= frames and any(c > 0 for c in counts)
    # standard output is the report, byte for byte the one written without a terminal
    plain = run_sctpscope("report", large, "--json", "-j", "1")
    assert plain.stderr == "" and plain.stdout.encode() == out


@pytest.mark.parametrize("cmd", [["extract", "-a", "3", "-w", "-"], ["follow", "-a", "3"]])
def test_a_bar_appears_for_extract_and_follow(large, cmd):
    code, out, term = _on_pty([cmd[0], large, *cmd[1:]], {"SCTPSCOPE_PROGRESS_DELAY": "0.3"})
    assert code == 0 and out
    assert cmd[0] in term and "packets" in term
    plain = subprocess.run([sys.executable, "-m", "sctpscope", cmd[0], str(large), *cmd[1:]], capture_output=True,
                           cwd=REPO, env={**os.environ, "PYTHONPATH": str(REPO)})
    assert plain.returncode == 0 and plain.stderr == b"" and plain.stdout == out


def test_a_quick_report_on_a_terminal_shows_nothing():
    code, out, term = _on_pty(["report", SRC, "--json"])
    assert code == 0 and json.loads(out)["totals"]["packets"] == 632
    assert term == ""


@pytest.mark.parametrize("cmd", [["report"], ["extract", "-a", "1", "-w", "-"], ["follow", "-a", "1"]])
def test_without_a_terminal_nothing_on_standard_error(large, cmd):
    """Not a terminal: not a byte on standard error, even with no delay at all."""
    env = {**os.environ, "PYTHONPATH": str(REPO), "SCTPSCOPE_PROGRESS_DELAY": "0", "TERM": "xterm-256color"}
    proc = subprocess.run([sys.executable, "-m", "sctpscope", cmd[0], str(large), *cmd[1:]], capture_output=True,
                          cwd=REPO, env=env, timeout=300)
    assert proc.returncode == 0 and proc.stdout
    assert proc.stderr == b""
