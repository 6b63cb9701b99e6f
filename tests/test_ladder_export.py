"""`sctpscope ladder FILE -a N [--svg] [-o OUT]`: the Timeline tab's ladder as text, or as an SVG sequence diagram.

Truth: tshark. The ladder has one arrow per chunk: per association (its frames picked by tshark with
`sctp.port == <its client port>`), the arrows' chunk names (text) and `data-type` (SVG) counted per type equal
tshark's `sctp.chunk_type` values in those frames, in frame order, each arrow in the right direction
(tshark's `sctp.srcport`). Packet text (an ABORT reason with markup, XML and control bytes) comes out
escaped: literal in the text, parsed back intact from the SVG.
"""
from __future__ import annotations

import xml.etree.ElementTree as ET
from collections import Counter

import pytest

from conftest import CAPTURES, run_sctpscope, tshark_required, write_abort_capture
from sctpscope.decode.sctp import chunk_name
from tui_support import tshark_fields

SVG = "{http://www.w3.org/2000/svg}"


def tshark_chunks(capture: str, port: int) -> list[tuple[int, int, int]]:
    """(frame, chunk type, 0 when the client port `port` sent it else 1) of every chunk on that port."""
    out = []
    for frame, src, types in tshark_fields(capture, f"sctp.port == {port}", "frame.number", "sctp.srcport",
                                           "sctp.chunk_type"):
        out += [(int(frame), int(t), 0 if int(src) == port else 1) for t in types.split(",")]
    return out


def arrows(text: str) -> list[tuple[int, str, int]]:
    """(frame, chunk name, side) of every arrow line of a text ladder: side 0 is drawn ─▶, side 1 ◀─."""
    out = []
    for line in text.splitlines():
        if "│─ " in line and line.endswith("▶│"):
            label, side = line.split("│─ ", 1)[1], 0
        elif "│◀" in line and line.endswith(" ─│"):
            label, side = line.split("│◀", 1)[1].lstrip("─").strip(), 1
        else:
            continue
        name = label.removeprefix("⚠ ").removeprefix("⟲ ").split()[0]
        out.append((int(line.split()[0]), name, side))
    return out


@tshark_required
@pytest.mark.parametrize("capture,port,assoc", [
    ("scenario__loss_retransmit.pcapng", 5001, 1),        # retransmissions bundled four to a packet
    ("scenario__sendall_chat.pcapng", 5002, 2),           # the middle one of three associations
    ("tcpdump__forces3.pcap", 57793, 3),                  # heartbeats, Linux cooked capture
    ("scenario__stream_reset.pcapng", None, 1),           # RE-CONFIG chunks
])
def test_text_ladder_has_one_arrow_per_chunk(capture, port, assoc):
    if port is None:
        port = int(tshark_fields(capture, "sctp.chunk_type == 1", "sctp.srcport")[0][0])
    want = [(f, chunk_name(t), side) for f, t, side in tshark_chunks(capture, port)]
    text = run_sctpscope("ladder", CAPTURES / capture, "-a", str(assoc), check=True).stdout
    got = arrows(text)
    assert Counter(n for _, n, _ in got) == Counter(n for _, n, _ in want)
    assert got == want                        # frame order, and each arrow drawn from its sender
    assert text.splitlines()[0].startswith(f"association {assoc}: ")
    assert f":{port}" in text.splitlines()[1]


@tshark_required
def test_text_ladder_marks_tsharks_retransmissions_and_folds_runs():
    """loss_retransmit: the arrows marked ⟲ are the DATA chunks tshark calls retransmissions; --fold keeps
    the handshake and shutdown arrows and folds the DATA/SACK between into one line."""
    cap = "scenario__loss_retransmit.pcapng"
    rtx = sorted((int(f), int(t)) for f, tsns in tshark_fields(cap, "sctp.retransmission", "frame.number",
                                                                "sctp.data_tsn_raw",
                                                                extra=("-o", "sctp.tsn_analysis:TRUE"))
                 for t in tsns.split(","))
    text = run_sctpscope("ladder", CAPTURES / cap, "-a", "1", check=True).stdout
    marked = sorted((int(line.split()[0]), int(line.split("TSN=")[1].split()[0]))
                    for line in text.splitlines() if "⟲ DATA" in line)
    assert marked == rtx and len(rtx) == 4
    folded = run_sctpscope("ladder", CAPTURES / cap, "-a", "1", "--fold", check=True).stdout.splitlines()
    names = [n for _, n, _ in arrows("\n".join(folded))]
    assert names == ["INIT", "INIT_ACK", "COOKIE_ECHO", "COOKIE_ACK", "SHUTDOWN", "SHUTDOWN_ACK",
                     "SHUTDOWN_COMPLETE"]
    (run,) = [line for line in folded if "DATA/SACK chunks" in line]
    data = [t for _, t, _ in tshark_chunks(cap, 5001)].count(0)
    sacks = [t for _, t, _ in tshark_chunks(cap, 5001)].count(3)
    assert f"▸ {data + sacks} DATA/SACK chunks: I→R {data} DATA" in run and f"R→I {sacks} SACK" in run
    assert "⟲ 4 retransmission(s)" in run


@tshark_required
def test_svg_ladder_parses_with_one_arrow_per_chunk(tmp_path):
    """Two associations of forces3 in one SVG: valid XML, one <g class="chunk"> per tshark chunk with its
    type, frame and direction, a line and an arrow head each, and two lifelines per association."""
    cap = "tcpdump__forces3.pcap"
    out = tmp_path / "ladder.svg"
    proc = run_sctpscope("ladder", CAPTURES / cap, "-a", "3", "5", "--svg", "-o", out, check=True)
    assert proc.stdout == ""
    root = ET.parse(out).getroot()
    assert root.tag == f"{SVG}svg"
    sections = [g for g in root.iter(f"{SVG}g") if g.get("class") == "association"]
    assert [g.get("data-id") for g in sections] == ["3", "5"]
    for section, port in zip(sections, (57793, 41874)):
        chunks = [g for g in section.iter(f"{SVG}g") if "chunk" in g.get("class", "").split()]
        want = tshark_chunks(cap, port)
        assert [(int(g.get("data-frame")), int(g.get("data-type")), int(g.get("data-side"))) for g in chunks] == want
        assert all(g.find(f"{SVG}line") is not None and g.find(f"{SVG}polygon") is not None for g in chunks)
        labels = [g.find(f"{SVG}text[@class='label']").text for g in chunks]
        assert Counter(label.split()[0] for label in labels) == Counter(chunk_name(t) for _, t, _ in want)
        assert len([x for x in section.iter(f"{SVG}line") if x.get("class") == "lifeline"]) == 2


def test_packet_text_is_escaped_in_text_and_svg(tmp_path):
    """An ABORT whose reason holds ESC, BEL, markup and XML specials: the text ladder shows it escaped
    (no control byte), the SVG is valid XML whose label reads back the same escaped text."""
    path = write_abort_capture(tmp_path / "abort.pcap", b'bye\x1b[2J\x07<b>&"x"</b>')
    text = run_sctpscope("ladder", path, "-a", "1", check=True).stdout
    assert "\x1b" not in text and "\x07" not in text
    assert 'User-Initiated Abort: bye\\x1b[2J\\x07<b>&"x"</b>' in text
    svg = run_sctpscope("ladder", path, "-a", "1", "--svg", check=True).stdout
    assert "\x1b" not in svg and "<b>" not in svg
    (label,) = [t.text for t in ET.fromstring(svg).iter(f"{SVG}text") if t.get("class") == "label"]
    assert label.startswith("ABORT") and 'bye\\x1b[2J\\x07<b>&"x"</b>' in label


def test_ladder_errors_are_one_line(tmp_path):
    path = CAPTURES / "pkts__sctp-www.cap"
    proc = run_sctpscope("ladder", path, "-a", "4")
    assert proc.returncode == 2 and proc.stdout == ""
    assert proc.stderr.strip() == f"sctpscope: error: no association 4 in {path} (it has associations 1..3)"
    proc = run_sctpscope("ladder", path, "-a", "1", "-o", tmp_path / "no" / "dir.txt")
    assert proc.returncode == 2 and len(proc.stderr.splitlines()) == 1 and "cannot write" in proc.stderr
    proc = run_sctpscope("ladder", tmp_path / "nope.pcap", "-a", "1")
    assert proc.returncode == 2 and len(proc.stderr.splitlines()) == 1 and "no such file" in proc.stderr.lower()
    assert "Traceback" not in proc.stderr
