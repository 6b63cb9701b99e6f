"""The command line as a user meets it: one-line errors, the packet list, the report, exit codes."""
from __future__ import annotations

import json
import struct
import subprocess
import sys

import pytest

from conftest import CAPTURES, run_sctpscope, tshark_required, write_abort_capture


def _one_line_error(proc: subprocess.CompletedProcess) -> str:
    assert proc.returncode != 0
    assert "Traceback" not in proc.stderr
    lines = [line for line in proc.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, proc.stderr
    return lines[0]


@pytest.mark.parametrize("command", ["packets", "report"])
def test_missing_file_is_one_line(tmp_path, command):
    line = _one_line_error(run_sctpscope(command, tmp_path / "nope.pcap"))
    assert "nope.pcap" in line and "no such file" in line.lower()


def test_not_a_capture_is_one_line():
    line = _one_line_error(run_sctpscope("report", "--json", CAPTURES / "README.md"))
    assert "README.md" in line


def test_unsupported_link_type_is_one_line(tmp_path):
    """A pcap of link type 147 (USER0) holding one record: sctpscope cannot decode it and says so."""
    path = tmp_path / "user0.pcap"
    path.write_bytes(struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 65535, 147)
                     + struct.pack("<IIII", 1, 0, 4, 4) + b"\x00\x01\x02\x03")
    line = _one_line_error(run_sctpscope("report", "--json", path))
    assert "147" in line and "link type" in line


def test_truncated_capture_keeps_frames(tmp_path):
    """The last record cut short: every frame before it is reported, and the fault is named."""
    whole = (CAPTURES / "pkts__sctp-test.cap").read_bytes()
    cut = tmp_path / "cut.cap"
    cut.write_bytes(whole[:-100])
    doc = json.loads(run_sctpscope("report", "--json", cut, check=True).stdout)
    assert doc["totals"]["packets"] == 73          # tshark reads 74 frames from the whole file
    assert [p["code"] for p in doc["captures"][0]["problems"]] == ["capture.truncated_record"]


@tshark_required
def test_packets_lists_each_sctp_packet_like_tshark():
    """One line per SCTP packet; TSN/SID/SSN of each DATA chunk as tshark decodes them (frame 5 of sctp-test)."""
    out = run_sctpscope("packets", CAPTURES / "pkts__sctp-test.cap", check=True).stdout.splitlines()
    assert len(out) == 74
    ts = subprocess.run(["tshark", "-n", "-r", str(CAPTURES / "pkts__sctp-test.cap"), "-o",
                         "sctp.relative_tsns:FALSE", "-Y", "frame.number == 5", "-T", "fields", "-E",
                         "separator=;", "-e", "sctp.data_tsn_raw", "-e", "sctp.data_sid", "-e", "sctp.data_ssn"],
                        capture_output=True, text=True, check=True).stdout.strip()
    tsns, sids, _ = (col.split(",") for col in ts.split(";"))
    line = next(line for line in out if line.split()[0] == "5")
    assert len(tsns) == 2
    for tsn, sid in zip(tsns, sids):
        assert f"TSN={int(tsn)} SID={int(sid, 0)} " in line


@pytest.mark.parametrize("command", ["packets", "report"])
def test_abort_reason_is_escaped_once(tmp_path, command):
    """Bytes from a packet never reach the terminal raw: a reason text with ESC and BEL is shown escaped,
    exactly once (a backslash doubled again would misquote the sender's bytes)."""
    out = run_sctpscope(command, write_abort_capture(tmp_path / "abort.pcap", b"bye\x1b[2J\x07"), check=True).stdout
    assert "\x1b" not in out and "\x07" not in out
    assert "User-Initiated Abort: bye\\x1b[2J\\x07" in out
    assert "\\\\x1b" not in out


def test_report_human_summary_names_association_and_negotiation():
    out = run_sctpscope("report", CAPTURES / "pkts__sctp-test.cap", check=True).stdout
    assert "association 1: 192.168.170.8:7 ⇄ 192.168.170.56:7" in out
    # INIT OS 17 / MIS 17, INIT ACK OS 17 / MIS 17 (tshark: sctp.init_nr_out_streams etc. of frames 1 and 2)
    assert "negotiated streams: initiator→responder 17, responder→initiator 17" in out


def test_python_dash_m_and_help():
    proc = run_sctpscope("--help", check=True)
    assert "packets" in proc.stdout and "report" in proc.stdout and "verify" in proc.stdout


def test_second_file_missing_fails_before_work(tmp_path):
    """report A B with B missing: one line naming B, no partial report on standard output."""
    proc = run_sctpscope("report", "--json", CAPTURES / "pkts__sctp-test.cap", tmp_path / "gone.pcap")
    assert "gone.pcap" in _one_line_error(proc)
    assert proc.stdout == ""


def test_report_reads_a_pipe_once(tmp_path):
    """`report /dev/stdin` (a pipe: readable once) gives the report of the same capture read as a file."""
    cap = CAPTURES / "pkts__sctp-test.cap"
    run = lambda *args, **kw: subprocess.run([sys.executable, "-m", "sctpscope", "report", "--json", *args],
                                             capture_output=True, text=True, **kw)
    with open(cap, "rb") as f:
        piped = run("/dev/stdin", stdin=f)
    assert piped.returncode == 0, piped.stderr
    direct = json.loads(run(str(cap)).stdout)
    got = json.loads(piped.stdout)
    assert got["captures"][0]["packets"] == direct["captures"][0]["packets"] == 74   # tshark -r: 74 frames
    assert got["associations"] == direct["associations"] and got["totals"] == direct["totals"]
