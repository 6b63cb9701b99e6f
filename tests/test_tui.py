"""The terminal UI as a user meets it, driven with Textual's Pilot against real captures.

Expected values come from outside sctpscope: the scenario logs of the usrsctp peers (captures/*.log.jsonl,
read as in test_scenarios.py) and tshark.
"""
from __future__ import annotations

import asyncio
import functools
import html
import json
import re
import subprocess
import sys

import pytest

pytest.importorskip("textual")

from rich.text import Text  # noqa: E402
from textual.widgets import DataTable, Static  # noqa: E402

from conftest import CAPTURES, TSHARK, tshark_required, write_abort_capture  # noqa: E402
from sctpscope.tui.app import make_app  # noqa: E402
from sctpscope.tui.screens.association import AssociationScreen  # noqa: E402
from sctpscope.tui.screens.associations import AssociationsScreen  # noqa: E402
from sctpscope.tui.screens.help import HelpScreen  # noqa: E402

SIZE = (140, 40)


def pilot_test(fn):
    """Run an async Pilot test without an async pytest plugin (none is a dependency)."""
    @functools.wraps(fn)
    def run(*args, **kwargs):
        asyncio.run(fn(*args, **kwargs))
    return run


def scenario_log(name: str) -> list[dict]:
    with open(CAPTURES / f"scenario__{name}.log.jsonl", encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip()]


async def loaded(app, pilot):
    """Wait until the analysis worker has finished and the list shows its result."""
    await app.workers.wait_for_complete()
    await pilot.pause()
    return app.screen


def rows(screen) -> list[list[str]]:
    table = screen.query_one("#associations", DataTable)
    return [[c.plain for c in table.get_row_at(i)] for i in range(table.row_count)]


def plain(widget: Static) -> str:
    content = widget.content
    assert isinstance(content, Text), "packet-derived text must be a rich Text, never parsed as markup"
    return content.plain


def screen_text(app) -> str:
    """What the terminal shows, line by line, from the SVG screenshot (text only)."""
    svg = app.export_screenshot()
    lines: dict[float, list[tuple[float, str]]] = {}
    for m in re.finditer(r'<text[^>]*x="([\d.]+)" y="([\d.]+)"[^>]*>(.*?)</text>', svg):
        lines.setdefault(float(m[2]), []).append((float(m[1]), html.unescape(m[3]).replace("\xa0", " ")))
    return "\n".join("".join(t for _, t in sorted(parts)) for _, parts in sorted(lines.items()))


@pilot_test
async def test_init_streams_overview_shows_negotiation():
    """Overview draws INIT and INIT ACK OS/MIS side by side and the minimum each way (8 and 3)."""
    log = scenario_log("init_streams")
    init = {r["role"]: r for r in log if r["ev"] == "initmsg"}
    client, server = init["c1"], init["server"]       # client OS 10 / MIS 5, server OS 3 / MIS 8
    i2r = min(client["ostreams"], server["instreams"])
    r2i = min(server["ostreams"], client["instreams"])
    assert (i2r, r2i) == (8, 3)
    app = make_app(CAPTURES / "scenario__init_streams.pcapng")
    async with app.run_test(size=SIZE) as pilot:
        screen = await loaded(app, pilot)
        (row,) = rows(screen)
        assert row[7] == f"{i2r}/{r2i}"
        await pilot.press("enter")
        await pilot.pause()
        assert isinstance(app.screen, AssociationScreen)
        shown = screen_text(app)
        assert "INIT stream negotiation" in shown
        lines = {ln.split("│")[1].strip(): [c.strip() for c in ln.split("│")[2:5]]
                 for ln in shown.splitlines() if ln.count("│") >= 5}
        assert lines["outbound streams (OS)"] == [str(client["ostreams"]), str(server["ostreams"]), ""]
        assert lines["max inbound streams (MIS)"] == [str(client["instreams"]), str(server["instreams"]), ""]
        assert lines["initiator → responder"][2] == str(i2r)
        assert lines["responder → initiator"][2] == str(r2i)
        assert "fd00:5c7:1::1" in plain(app.screen.query_one("#ep-initiator", Static))


@pilot_test
async def test_abort_reason_ending_tab():
    """The Ending tab names the abort, who began it and the reason text the client passed to its abort."""
    (reason,) = [r["text"] for r in scenario_log("abort_reason") if r["ev"] == "abort"]
    app = make_app(CAPTURES / "scenario__abort_reason.pcapng")
    async with app.run_test(size=SIZE) as pilot:
        screen = await loaded(app, pilot)
        (row,) = rows(screen)
        assert row[2] == "aborted" and row[10] == "abort by initiator: User-Initiated Abort"
        await pilot.press("enter", "3")
        await pilot.pause()
        ending = plain(app.screen.query_one("#ending-text", Static))
        assert "kind: abort" in ending and "begun by: initiator" in ending
        assert f"cause 12 User-Initiated Abort: {reason}" in ending
        assert reason == "scenario abort: bye"
        assert reason in screen_text(app)


@tshark_required
@pilot_test
async def test_www_lists_one_row_per_association():
    """sctp-www: 5 INITs but 3 initiate tags (the third INIT is retransmitted twice): 3 rows."""
    out = subprocess.run([TSHARK, "-n", "-r", str(CAPTURES / "pkts__sctp-www.cap"), "-Y", "sctp.chunk_type == 1",
                          "-T", "fields", "-e", "sctp.init_initiate_tag"],
                         capture_output=True, text=True, check=True).stdout.split()
    assert len(out) == 5 and len(set(out)) == 3
    app = make_app(CAPTURES / "pkts__sctp-www.cap")
    async with app.run_test(size=SIZE) as pilot:
        screen = await loaded(app, pilot)
        shown = rows(screen)
        assert len(shown) == 3
        assert [r[2] for r in shown] == ["closed", "closed", "incomplete"]
        assert shown[0][1].startswith("155.230.24.155:32836 +1 ⇄ 203.255.252.194:80")
        assert shown[2][7] == "?/?"         # no INIT ACK: nothing negotiated
        totals = plain(screen.query_one("#totals", Static))
        assert "84 packets, 84 SCTP packets" in totals and "0 bad checksums, 0 malformed" in totals


@pilot_test
async def test_filter_sort_and_navigation():
    """/ filters rows by substring, s sorts the cursor's column, Enter opens, Escape returns."""
    app = make_app(CAPTURES / "pkts__sctp-www.cap")
    async with app.run_test(size=SIZE) as pilot:
        screen = await loaded(app, pilot)
        await pilot.press("slash", *"incompl")
        await pilot.pause()
        assert [r[0] for r in rows(screen)] == ["3"]
        await pilot.press("enter")          # leaves the filter for the table
        await pilot.press("enter")          # opens the one row left
        await pilot.pause()
        assert isinstance(app.screen, AssociationScreen) and app.screen.association["id"] == 3
        await pilot.press("escape")
        await pilot.pause()
        assert app.screen is screen
        await pilot.press("escape")          # clears the filter
        await pilot.pause()
        assert [r[0] for r in rows(screen)] == ["1", "2", "3"]
        await pilot.press("s")               # cursor on column 0 (id), already sorted: reverse
        await pilot.pause()
        assert [r[0] for r in rows(screen)] == ["3", "2", "1"]
        screen.sort_by(5)                    # what clicking the "packets" header does
        await pilot.pause()
        packets = [int(r[5]) for r in rows(screen)]
        assert packets == sorted(packets) and len(set(packets)) > 1
        screen.sort_by(5)
        await pilot.pause()
        assert [int(r[5]) for r in rows(screen)] == sorted(packets, reverse=True)


@pilot_test
async def test_stream_gap_is_marked():
    """suricata sctp-keywords: stream 0 from 10.173.48.13:2906 carries SSNs 0, 2, 3, 4 (tshark
    sctp.data_ssn of frames 5, 9, 10, 11): SSN 1 is never seen, and its row carries the GAP marker."""
    app = make_app(CAPTURES / "suricata__sctp-keywords.pcap")
    async with app.run_test(size=SIZE) as pilot:
        screen = await loaded(app, pilot)
        await pilot.press("enter", "2")
        await pilot.pause()
        assert isinstance(app.screen, AssociationScreen)
        table = app.screen.query_one("#streams-table", DataTable)
        by_key = {k.value: [c.plain for c in table.get_row(k)] for k in table.rows}
        assert by_key["I→R/0"][0] == "⚠ GAP" and by_key["I→R/0"][5] == "0..4" and by_key["I→R/0"][6] == "1"
        assert by_key["R→I/0"][0] == "" and by_key["R→I/0"][6] == "0"
        assert "⚠ GAP" in screen_text(app)
        await pilot.press("5")
        await pilot.pause()
        anomalies = app.screen.query_one("#anomalies-table", DataTable)
        kinds = [anomalies.get_row_at(i)[1].plain for i in range(anomalies.row_count)]
        assert "ssn_gap" in kinds
        del screen


@pilot_test
async def test_help_lists_keys():
    """? opens the help over any screen; escape closes it."""
    app = make_app(CAPTURES / "scenario__init_streams.pcapng")
    async with app.run_test(size=SIZE) as pilot:
        await loaded(app, pilot)
        await pilot.press("question_mark")
        await pilot.pause()
        assert isinstance(app.screen, HelpScreen)
        shown = screen_text(app)
        for key in ("enter", "escape", "/", "q", "1 … 5"):
            assert key in shown
        await pilot.press("escape")
        await pilot.pause()
        assert isinstance(app.screen, AssociationsScreen)


@pilot_test
async def test_reason_with_control_bytes_and_markup_is_literal(tmp_path):
    """A reason text holding ESC, BEL and `[bold]` shows escaped and literal: no raw control byte, no markup."""
    path = tmp_path / "abort.pcap"
    write_abort_capture(path, b"bye\x1b[2J\x07[bold]x[/]")
    app = make_app(path)
    async with app.run_test(size=SIZE) as pilot:
        await loaded(app, pilot)
        await pilot.press("enter", "3")
        await pilot.pause()
        ending = plain(app.screen.query_one("#ending-text", Static))
        assert "\x1b" not in ending and "\x07" not in ending
        assert "User-Initiated Abort: bye\\x1b[2J\\x07[bold]x[/]" in ending
        assert "bye\\x1b[2J\\x07[bold]x[/]" in screen_text(app)


@pilot_test
async def test_missing_file_is_one_line_in_the_app(tmp_path):
    """A missing file ends the loading with one clear line and no list."""
    app = make_app(tmp_path / "nope.pcap")
    async with app.run_test(size=SIZE) as pilot:
        screen = await loaded(app, pilot)
        error = plain(screen.query_one("#error", Static))
        assert "nope.pcap" in error and "no such file" in error.lower() and "\n" not in error
        assert not screen.query_one("#associations", DataTable).display
        assert not screen.query_one("#loading").display


@pilot_test
async def test_not_a_capture_is_one_line_in_the_app():
    app = make_app(CAPTURES / "README.md")
    async with app.run_test(size=SIZE) as pilot:
        screen = await loaded(app, pilot)
        assert "README.md" in plain(screen.query_one("#error", Static))


# -- the command line routes `sctpscope FILE` / `sctpscope open FILE` ----------------------------------------
class _Tty:
    def __init__(self, real):
        self.real = real

    def isatty(self):
        return True

    def write(self, s):
        return self.real.write(s)


@pytest.mark.parametrize("argv", [["open"], []])
def test_open_routes_to_the_tui_on_a_terminal(monkeypatch, argv):
    import sctpscope.tui
    from sctpscope import cli

    opened = []
    monkeypatch.setattr(sctpscope.tui, "run", lambda paths, **kw: opened.append((list(paths), kw)))
    monkeypatch.setattr(sys, "stdout", _Tty(sys.stdout))
    cap = str(CAPTURES / "pkts__sctp-test.cap")
    assert cli.main([*argv, cap]) == 0
    assert opened == [([cap], {"sctp_udp_ports": (9899,), "verify": True})]


def test_open_missing_file_fails_before_the_app(monkeypatch, tmp_path, capsys):
    import sctpscope.tui
    from sctpscope import cli

    monkeypatch.setattr(sctpscope.tui, "run", lambda *a, **k: pytest.fail("the app must not start"))
    monkeypatch.setattr(sys, "stdout", _Tty(sys.stdout))
    assert cli.main(["open", str(tmp_path / "nope.pcap")]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "nope.pcap" in err[0] and "no such file" in err[0].lower()


def test_open_without_terminal_prints_the_packet_list():
    """Piped (as here): `sctpscope open FILE` keeps printing one line per SCTP packet."""
    from conftest import run_sctpscope

    out = run_sctpscope("open", CAPTURES / "pkts__sctp-test.cap", check=True).stdout.splitlines()
    assert len(out) == 74
