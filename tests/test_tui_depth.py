"""The TUI's depth features (issue #6) driven with Pilot on real captures: the display filter bar, the Follow
tab, the TSN graph and its jump to a retransmission's frame, the export to pcapng, statistics, go to frame,
light/dark. Expected values come from the usrsctp peers' scenario logs and from tshark, never from sctpscope.
"""
from __future__ import annotations

import subprocess
from collections import Counter

import pytest

pytest.importorskip("textual")

from textual.widgets import DataTable, Static  # noqa: E402

from conftest import CAPTURES, TSHARK, tshark_required  # noqa: E402
from sctpscope.tui.app import make_app  # noqa: E402
from sctpscope.tui.dialogs.export import ExportDialog  # noqa: E402
from sctpscope.tui.dialogs.prompt import PromptScreen  # noqa: E402
from sctpscope.tui.screens.association import AssociationScreen  # noqa: E402
from sctpscope.tui.screens.packet import PacketScreen  # noqa: E402
from sctpscope.tui.screens.statistics import StatisticsScreen  # noqa: E402
from tui_support import SIZE, loaded, pilot_test, plain, scenario_log, settle, tshark_fields  # noqa: E402


def rows(screen) -> list[list[str]]:
    table = screen.query_one("#associations")
    return [table.row_cells(i) for i in range(table.row_count())]


async def type_into_prompt(app, pilot, text: str) -> None:
    assert isinstance(app.screen, PromptScreen)
    app.screen.query_one("#prompt-input").value = text
    await pilot.press("enter")
    await settle(app, pilot)


# -- the display filter ------------------------------------------------------------------------------------
@pilot_test
async def test_display_filter_keeps_associations_with_a_matching_packet():
    """f + `addr == <c3's address>` keeps only c3's association (the log's local address and port); an
    empty filter brings the three back."""
    starts = {r["role"]: r for r in scenario_log("sendall_chat") if r["ev"] == "start"}
    c3 = starts["c3"]
    app = make_app(CAPTURES / "scenario__sendall_chat.pcapng")
    async with app.run_test(size=SIZE) as pilot:
        screen = await loaded(app, pilot)
        assert len(rows(screen)) == 3
        await pilot.press("f", *f"addr == {c3['local']}", "enter")
        await settle(app, pilot)
        (row,) = rows(screen)
        assert row[1].startswith(f"{c3['local']}:{c3['lport']} ⇄ {starts['server']['local']}:{starts['server']['lport']}")
        status = plain(screen.query_one("#filter-status", Static))
        assert "in 1 of 3 associations" in status
        await pilot.press("f")
        screen.query_one("#display-filter").value = ""
        await pilot.press("enter")
        await settle(app, pilot)
        assert len(rows(screen)) == 3


@pilot_test
async def test_display_filter_error_has_a_caret_and_is_escaped():
    """A bad expression shows the reason, the expression and carets under the fault; the rows stay; a control
    character typed into the expression is shown escaped."""
    app = make_app(CAPTURES / "scenario__sendall_chat.pcapng")
    async with app.run_test(size=SIZE) as pilot:
        screen = await loaded(app, pilot)
        expr = "chunk == DAT && sid == 3"
        await pilot.press("f", *expr, "enter")
        await settle(app, pilot)
        lines = plain(screen.query_one("#filter-status", Static)).splitlines()
        assert lines[0].startswith("filter: ") and "DAT" in lines[0]
        assert lines[1] == "  " + expr
        assert lines[2] == "  " + " " * expr.index("DAT") + "^^^"
        assert len(rows(screen)) == 3
        screen.apply_display_filter("sid == \x1b[31m")
        shown = plain(screen.query_one("#filter-status", Static))
        assert "\x1b" not in shown and "\\x1b" in shown


# -- follow ------------------------------------------------------------------------------------------------
@pilot_test
async def test_follow_lists_the_messages_per_stream_and_saves_a_stream(tmp_path):
    """Follow (key 7) lists every message the client sent (log: stream, PPID, size) in the I→R direction;
    s chooses stream 0, W saves it: the file holds exactly the bytes the client sent on stream 0."""
    sends = [r for r in scenario_log("streams_mixed") if r["ev"] == "send" and r["role"] == "c1"]
    names = {46: "Diameter", 51: "WebRTC String", 18: "S1AP", 60: "NGAP"}
    app = make_app(CAPTURES / "scenario__streams_mixed.pcapng")
    async with app.run_test(size=SIZE) as pilot:
        await loaded(app, pilot)
        await pilot.press("enter", "7")
        await settle(app, pilot)
        view = app.screen.query_one("#follow-list")
        i2r = [m for m in view.messages if m.direction == 0]
        assert Counter((m.sid, m.ppid, m.size) for m in i2r) == Counter((s["sid"], s["ppid"], s["len"]) for s in sends)
        assert all(m.complete for m in i2r)
        line = view.render_row(0, 140).plain
        m0 = view.messages[view.shown[0]]
        assert f"{m0.ppid} {names[m0.ppid]}" in line and f" {m0.size} " in line
        await pilot.press("s")                    # the first stream: (I→R, sid 0)
        await pilot.pause()
        assert view.stream == (0, 0)
        want = [s for s in sends if s["sid"] == 0]
        assert [view.messages[i].size for i in view.shown] == [s["len"] for s in want]
        status = plain(app.screen.query_one("#follow-status", Static))
        assert f"stream 0 I→R: {len(want)} messages" in status
        detail = plain(app.screen.query_one("#follow-detail", Static))
        assert f"stream 0, SSN 0" in detail and f"{want[0]['len']} bytes" in detail
        await pilot.press("W")
        await pilot.pause()
        out = tmp_path / "stream0.bin"
        await type_into_prompt(app, pilot, str(out))
        assert out.stat().st_size == sum(s["len"] for s in want)
        await pilot.press("enter")                # the message's packet
        await pilot.pause()
        assert isinstance(app.screen, PacketScreen) and app.screen.frame == view.messages[view.shown[0]].frames[0]


@tshark_required
@pilot_test
async def test_follow_upper_layer_one_liner_matches_tshark():
    """Diameter capture: the Follow tab's one-liner names the command code tshark decodes in that frame."""
    cap = "arkime__diameter_synthetic.pcap"
    codes = {int(f): c.split(",")[0] for f, c in tshark_fields(cap, "diameter", "frame.number", "diameter.cmd.code")}
    app = make_app(CAPTURES / cap)
    async with app.run_test(size=SIZE) as pilot:
        await loaded(app, pilot)
        await pilot.press("enter", "7")
        await settle(app, pilot)
        view = app.screen.query_one("#follow-list")
        assert view.messages
        for k, m in enumerate(view.messages):
            if m.frames[0] in codes:
                assert f"({codes[m.frames[0]]})" in (view.upper(k) or "")


# -- graphs ------------------------------------------------------------------------------------------------
@tshark_required
@pilot_test
async def test_tsn_graph_jumps_to_the_first_retransmission_frame():
    """Graphs (key 8): the TSN graph has tshark's DATA chunks of the client; n puts the cursor on the first
    chunk tshark's TSN analysis calls a retransmission, + zooms keeping it in view, enter opens its frame."""
    cap = "scenario__loss_retransmit.pcapng"
    tsns = [int(t) for row in tshark_fields(cap, "sctp.chunk_type == 0 && ip.src == 198.18.1.1",
                                            "sctp.data_tsn_raw") for t in row[0].split(",")]
    rtx = [int(f) for (f,) in tshark_fields(cap, "sctp.retransmission", "frame.number",
                                            extra=("-o", "sctp.tsn_analysis:TRUE"))]
    cums = [int(c) for (c,) in tshark_fields(cap, "sctp.chunk_type == 3 && ip.src == 198.18.1.2",
                                             "sctp.sack_cumulative_tsn_ack_raw")]
    app = make_app(CAPTURES / cap)
    async with app.run_test(size=SIZE) as pilot:
        await loaded(app, pilot)
        await pilot.press("enter", "8")
        await settle(app, pilot)
        graph = app.screen.query_one("#graph")
        d = graph.direction()
        assert [p.tsn for p in d.data] == tsns
        assert [s.cum for s in d.sacks] == cums
        await pilot.press("n")
        await pilot.pause()
        p = graph.point()
        assert p.retransmission and p.frame == rtx[0]
        width = graph.view[1] - graph.view[0]
        await pilot.press("plus")
        await pilot.pause()
        assert graph.view[1] - graph.view[0] == pytest.approx(width / 2)
        assert graph.view[0] <= p.ts <= graph.view[1]
        assert "RETRANSMISSION" in graph.render().plain
        await pilot.press("enter")
        await pilot.pause()
        assert isinstance(app.screen, PacketScreen) and app.screen.frame == rtx[0]


@pilot_test
async def test_graph_kinds_and_directions():
    """g cycles TSN → a_rwnd → bytes in flight; a_rwnd starts at the value the log's peers use (131072 is
    usrsctp's default receive window; the INIT ACK advertises it); d switches direction."""
    app = make_app(CAPTURES / "scenario__loss_retransmit.pcapng")
    async with app.run_test(size=SIZE) as pilot:
        await loaded(app, pilot)
        await pilot.press("enter", "8")
        await settle(app, pilot)
        graph = app.screen.query_one("#graph")
        assert graph.kind == "tsn" and graph.side == 0
        await pilot.press("g")
        assert graph.kind == "rwnd" and "a_rwnd vs time" in graph.render().plain
        await pilot.press("g")
        assert graph.kind == "flight"
        assert graph.points()[-1].value == 0           # the client's DATA all acknowledged before SHUTDOWN
        await pilot.press("d")
        assert graph.side == 1 and graph.points() == []
        assert "no points this way" in graph.render().plain


# -- export, statistics, comfort ---------------------------------------------------------------------------
@tshark_required
@pilot_test
async def test_export_association_to_pcapng(tmp_path):
    """x on c2's row writes a pcapng that tshark reads with exactly the frames of c2's ports in the capture,
    and `sctpscope report` on it shows one association with the row's packet count."""
    starts = {r["role"]: r for r in scenario_log("sendall_chat") if r["ev"] == "start"}
    port = starts["c2"]["lport"]
    want = tshark_fields("scenario__sendall_chat.pcapng", f"sctp.port == {port}", "frame.number")
    app = make_app(CAPTURES / "scenario__sendall_chat.pcapng")
    out = tmp_path / "c2.pcapng"
    async with app.run_test(size=SIZE) as pilot:
        screen = await loaded(app, pilot)
        table = screen.query_one("#associations")
        index = next(i for i, r in enumerate(rows(screen)) if f":{port} ⇄" in r[1])
        table.cursor = index
        packets = rows(screen)[index][5]
        await pilot.press("x")
        await pilot.pause()
        assert isinstance(app.screen, ExportDialog)
        app.screen.query_one("#export-path").value = str(out)
        await pilot.press("enter")
        await settle(app, pilot)
        assert app.last_export and "wrote" in app.last_export
    got = subprocess.run([TSHARK, "-n", "-r", str(out), "-T", "fields", "-e", "frame.number"],
                         capture_output=True, text=True, check=True).stdout.split()
    assert len(got) == len(want) == int(packets)
    import json
    import sys
    doc = json.loads(subprocess.run([sys.executable, "-m", "sctpscope", "report", "--json", str(out)],
                                    capture_output=True, text=True, check=True).stdout)
    (a,) = doc["associations"]
    assert a["packets"] == int(packets) and a["initiator"]["port"] == port


@tshark_required
@pilot_test
async def test_statistics_screen_counts_chunks_per_side():
    """i: per association and side, the DATA and SACK chunk counts tshark finds from each address:port."""
    cap = "scenario__sendall_chat.pcapng"
    app = make_app(CAPTURES / cap)
    async with app.run_test(size=SIZE) as pilot:
        screen = await loaded(app, pilot)
        first = rows(screen)[0]
        ini, res = (x.strip() for x in first[1].split("⇄"))
        iaddr, iport = ini.rsplit(":", 1)
        await pilot.press("i")
        await pilot.pause()
        assert isinstance(app.screen, StatisticsScreen)
        await app.workers.wait_for_complete()       # the statistics are computed in a worker
        await pilot.pause()
        table = app.screen.query_one("#stats-chunks", DataTable)
        cells = [[c.plain for c in table.get_row_at(i)] for i in range(table.row_count)]
        mine = []
        for c in cells:
            if c[0] and mine:
                break
            if c[0] == first[0] or mine:
                mine.append(c)
        counts = {c[2]: (int(c[3]), int(c[4])) for c in mine}
        types_i = [t for (r,) in tshark_fields(cap, f"ip.src == {iaddr} && sctp.srcport == {iport}",
                                               "sctp.chunk_type") for t in r.split(",")]
        types_r = [t for (r,) in tshark_fields(cap, f"ip.dst == {iaddr} && sctp.dstport == {iport}",
                                               "sctp.chunk_type") for t in r.split(",")]
        for name, code in (("DATA", "0"), ("SACK", "3"), ("INIT", "1")):
            assert counts[name] == (types_i.count(code), types_r.count(code))
        assert "by ending: graceful 3" in plain(app.screen.query_one("#stats-summary", Static))


@pilot_test
async def test_go_to_frame_and_theme_toggle():
    """`:` 26 opens frame 26's packet detail; T toggles between light and dark."""
    app = make_app(CAPTURES / "scenario__loss_retransmit.pcapng")
    async with app.run_test(size=SIZE) as pilot:
        await loaded(app, pilot)
        dark = app.current_theme.dark
        await pilot.press("T")
        assert app.current_theme.dark != dark
        await pilot.press("colon")
        await pilot.pause()
        await type_into_prompt(app, pilot, "26")
        assert isinstance(app.screen, PacketScreen) and app.screen.frame == 26
        assert "frame 26" in plain(app.screen.query_one("#packet-title", Static))
