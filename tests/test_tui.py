"""The terminal UI as a user meets it, driven with Textual's Pilot (real key presses) against real captures.

Expected values come from outside sctpscope: the scenario logs of the usrsctp peers (captures/*.log.jsonl)
and tshark (`-T fields`, `-T pdml`).
"""
from __future__ import annotations

import subprocess
import sys
import time
import xml.etree.ElementTree as ET

import pytest

pytest.importorskip("textual")

from textual.widgets import DataTable, Static, Tree  # noqa: E402

from conftest import CAPTURES, TSHARK, tshark_required, write_abort_capture  # noqa: E402
from sctpscope.tui.app import SctpscopeApp, make_app  # noqa: E402
from sctpscope.tui.screens.association import AssociationScreen  # noqa: E402
from sctpscope.tui.screens.associations import AssociationsScreen  # noqa: E402
from sctpscope.tui.screens.help import HelpScreen  # noqa: E402
from sctpscope.tui.screens.packet import PacketScreen  # noqa: E402
from tui_support import (SIZE, loaded, pilot_test, plain, scenario_log, screen_text, settle,  # noqa: E402
                         tshark_fields)


def rows(screen) -> list[list[str]]:
    table = screen.query_one("#associations")
    return [table.row_cells(i) for i in range(table.row_count())]


def ladder_rows(app) -> list[str]:
    ladder = app.screen.query_one("#ladder")
    return [ladder.render_row(i, 140).plain for i in range(ladder.row_count())]


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


@tshark_required
@pilot_test
async def test_abort_reason_ending_tab_and_flow():
    """Ending (key 4) names the abort, who began it, the reason text the client passed to its abort, and
    the flow alone: one ABORT (T bit clear) in tshark's frame, with the DATA still unacknowledged then."""
    (reason,) = [r["text"] for r in scenario_log("abort_reason") if r["ev"] == "abort"]
    assert reason == "scenario abort: bye"
    ((abort_frame, t_bit),) = tshark_fields("scenario__abort_reason.pcapng", "sctp.chunk_type == 6",
                                            "frame.number", "sctp.abort_t_bit")
    # What the initiator had sent and the responder had not cumulatively acknowledged before the ABORT.
    sent = [int(t) for (t,) in tshark_fields("scenario__abort_reason.pcapng",
                                             f"sctp.chunk_type == 0 && ip.src == 198.18.1.1 && frame.number < {abort_frame}",
                                             "sctp.data_tsn_raw")]
    cums = [int(c) for (c,) in tshark_fields("scenario__abort_reason.pcapng",
                                             f"sctp.chunk_type == 3 && ip.src == 198.18.1.2 && frame.number < {abort_frame}",
                                             "sctp.sack_cumulative_tsn_ack_raw")]
    outstanding = sorted(t for t in sent if t > cums[-1])
    assert outstanding                                   # the client aborted with DATA in flight
    app = make_app(CAPTURES / "scenario__abort_reason.pcapng")
    async with app.run_test(size=SIZE) as pilot:
        screen = await loaded(app, pilot)
        (row,) = rows(screen)
        assert row[2] == "aborted" and row[10] == "abort by initiator: User-Initiated Abort"
        await pilot.press("enter", "4")
        await settle(app, pilot)
        ending = plain(app.screen.query_one("#ending-text", Static))
        assert "kind: abort" in ending and "begun by: initiator" in ending
        assert f"cause 12 User-Initiated Abort: {reason}" in ending
        assert f"T bit: {'set' if t_bit == '1' else 'clear'}" in ending
        flow = app.screen.query_one("#ending-flow", DataTable)
        cells = [[c.plain for c in flow.get_row_at(i)] for i in range(flow.row_count)]
        assert [(c[0], c[3]) for c in cells] == [(abort_frame, "initiator →")]
        assert cells[0][4] == f"ABORT (User-Initiated Abort: {reason})"
        status = plain(app.screen.query_one("#ending-status", Static))
        assert (f"DATA the initiator still had outstanding then (not cumulatively acknowledged): "
                f"{len(outstanding)} TSNs ({outstanding[0]}…{outstanding[-1]})") in status
        assert "DATA the responder still had outstanding then (not cumulatively acknowledged): none" in status
        assert reason in screen_text(app)
        await pilot.press("enter")                       # the flow's row: its packet
        await pilot.pause()
        assert isinstance(app.screen, PacketScreen) and app.screen.frame == int(abort_frame)


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
        assert "84 packets, 84 SCTP packets" in totals and "0 bad checksums, 0 malformed, 0 decode problems" in totals
        assert not screen.query_one("#progress").display


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
        await pilot.press("s")               # column 0 (id), already sorted by it: reverse
        await pilot.pause()
        assert [r[0] for r in rows(screen)] == ["3", "2", "1"]
        await pilot.press(*["right"] * 5, "s")   # the "pkts" column
        await pilot.pause()
        packets = [int(r[5]) for r in rows(screen)]
        assert packets == sorted(packets) and len(set(packets)) > 1
        header = plain(screen.query_one("#associations-header", Static))
        assert "pkts▲" in header
        await pilot.press("s")
        await pilot.pause()
        assert [int(r[5]) for r in rows(screen)] == sorted(packets, reverse=True)
        assert "pkts▼" in plain(screen.query_one("#associations-header", Static))
        x = header.index("state")             # a click on a header sorts by that column
        await pilot.click("#associations-header", offset=(x + 1, 0))
        await pilot.pause()
        assert [r[2] for r in rows(screen)] == sorted(r[2] for r in rows(screen))
        assert "state▲" in plain(screen.query_one("#associations-header", Static))


@tshark_required
@pilot_test
async def test_stream_gap_and_ordering_view():
    """suricata sctp-keywords: stream 0 from 10.173.48.13:2906 carries SSNs 0, 2, 3, 4 (tshark): the stream's
    row carries the GAP marker, and its ordering view lists the messages in that order with SSN 1 missing
    before SSN 2 and the later ones stuck behind it (head-of-line blocking)."""
    ssns = [s for (s,) in tshark_fields("suricata__sctp-keywords.pcap",
                                        "sctp.chunk_type == 0 && sctp.srcport == 2906 && sctp.data_sid == 0",
                                        "sctp.data_ssn")]
    assert ssns == ["0", "2", "3", "4"]
    app = make_app(CAPTURES / "suricata__sctp-keywords.pcap")
    async with app.run_test(size=SIZE) as pilot:
        await loaded(app, pilot)
        await pilot.press("enter", "3")
        await settle(app, pilot)
        table = app.screen.query_one("#streams-table", DataTable)
        by_key = {k.value: [c.plain for c in table.get_row(k)] for k in table.rows}
        assert by_key["I→R/0"][0] == "⚠ GAP" and by_key["I→R/0"][5] == "0..4" and by_key["I→R/0"][6] == "1"
        assert by_key["R→I/0"][0] == "" and by_key["R→I/0"][6] == "0"
        await pilot.press("enter")                      # into the ordering view of the highlighted stream
        await pilot.pause()
        view = app.screen.query_one("#ordering")
        assert view.has_focus
        shown = [view.render_row(i, 140).plain.split() for i in range(view.row_count())]
        assert [r[1] for r in shown] == ssns
        text = [view.render_row(i, 140).plain for i in range(view.row_count())]
        assert "GAP: SSN 1 missing" in text[1] and "HOL: stuck, SSN 1 never came" in text[1]
        assert all("HOL: stuck, SSN 1 never came" in t for t in text[2:]) and "GAP" not in text[0]
        summary = plain(app.screen.query_one("#order-summary", Static))
        assert summary.startswith("stream 0 I→R: 4 messages in arrival order; 1 gap(s)")
        assert "GAP: SSN 1 missing" in screen_text(app)
        await pilot.press("6")
        await pilot.pause()
        anomalies = app.screen.query_one("#anomalies-table", DataTable)
        kinds = [anomalies.get_row_at(i)[1].plain for i in range(anomalies.row_count)]
        assert "ssn_gap" in kinds


@pilot_test
async def test_ordering_view_matches_what_the_receiver_got():
    """streams_mixed: the server's log lists every message it received (stream, SSN, first TSN, length,
    unordered); the ordering view of each stream from the client shows the same messages in the same
    order, fragmented ones (4000 bytes) with their fragment count."""
    recv = [r for r in scenario_log("streams_mixed") if r["ev"] == "recv" and r["role"] == "server"]
    app = make_app(CAPTURES / "scenario__streams_mixed.pcapng")
    async with app.run_test(size=SIZE) as pilot:
        await loaded(app, pilot)
        await pilot.press("enter", "3")
        await settle(app, pilot)
        screen = app.screen
        table = screen.query_one("#streams-table", DataTable)
        checked = 0
        for sid in sorted({r["sid"] for r in recv}):
            table.move_cursor(row=table.get_row_index(f"I→R/{sid}"))
            await pilot.pause()
            view = screen.query_one("#ordering")
            msgs = view.order.messages
            want = [r for r in recv if r["sid"] == sid]
            assert [(m.seq if not m.unordered else "U", m.tsn_first, m.bytes) for m in msgs] == \
                   [(r["ssn"] if "unordered" not in r["flags"] else "U", r["tsn"], r["len"]) for r in want]
            for i, r in enumerate(want):
                cols = view.render_row(i, 140).plain.split()
                assert cols[1] == (str(r["ssn"]) if "unordered" not in r["flags"] else "U")
                assert cols[2].split("–")[0] == str(r["tsn"]) and cols[5] == str(r["len"])
                if r["len"] > 1200:
                    assert "F" in cols[7]         # fragmented
            checked += len(want)
        assert checked == len(recv) == 12


@tshark_required
@pilot_test
async def test_timeline_jumps_and_retransmissions():
    """loss_retransmit: h jumps to tshark's INIT frame, r to the first TSN tshark calls a retransmission,
    n to the next one, e to the SHUTDOWN; every retransmitted TSN tshark lists is marked ⟲ in the ladder."""
    rtx = [(f, int(t)) for f, tsns in tshark_fields("scenario__loss_retransmit.pcapng", "sctp.retransmission",
                                                     "frame.number", "sctp.data_tsn_raw",
                                                     extra=("-o", "sctp.tsn_analysis:TRUE"))
           for t in tsns.split(",")]
    assert len(rtx) == 4
    (init,), (shutdown,) = (tshark_fields("scenario__loss_retransmit.pcapng", f"sctp.chunk_type == {t}", "frame.number")[0]
                            for t in (1, 7))
    app = make_app(CAPTURES / "scenario__loss_retransmit.pcapng")
    async with app.run_test(size=SIZE) as pilot:
        await loaded(app, pilot)
        await pilot.press("enter", "2")
        await settle(app, pilot)
        ladder = app.screen.query_one("#ladder")
        assert ladder.has_focus
        await pilot.press("r")
        await pilot.pause()
        step = ladder.step_at()
        assert (str(step.frame), step.tsn) == rtx[0] and step.retransmission
        await pilot.press("n")
        await pilot.pause()
        assert (str(ladder.step_at().frame), ladder.step_at().tsn) == rtx[1]
        await pilot.press("h")
        await pilot.pause()
        assert str(ladder.step_at().frame) == init and ladder.step_at().label.startswith("INIT os=10 mis=2048")
        await pilot.press("e")
        await pilot.pause()
        assert str(ladder.step_at().frame) == shutdown and ladder.step_at().label.startswith("SHUTDOWN cum=")
        await pilot.press("c")                     # the jumps unfolded the one run: c folds it
        await pilot.pause()
        (folded,) = [r for r in ladder_rows(app) if "⟲" in r]
        assert f"⟲ {len(rtx)} retransmission(s)" in folded and folded.strip().startswith("▸")
        await pilot.press("c")                     # and unfolds it again: each retransmission shows
        await pilot.pause()
        marked = [r for r in ladder_rows(app) if "⟲ DATA" in r]
        assert sorted((r.split()[0], int(r.split("TSN=")[1].split()[0])) for r in marked) == sorted(rtx)


@pilot_test
async def test_timeline_ladder_of_a_chat_association():
    """sendall_chat: the ladder starts with the handshake the peers logged (INIT os/mis = the client's
    initmsg, INIT ACK = the server's), folds the DATA/SACK run into one line, and ends with the
    initiator's SHUTDOWN; enter on the fold unfolds it."""
    log = scenario_log("sendall_chat")
    init = {r["role"]: r for r in log if r["ev"] == "initmsg"}
    app = make_app(CAPTURES / "scenario__sendall_chat.pcapng")
    async with app.run_test(size=SIZE) as pilot:
        await loaded(app, pilot)
        await pilot.press("enter", "2")
        await settle(app, pilot)
        shown = ladder_rows(app)
        assert f"│─ INIT os={init['c1']['ostreams']} mis={init['c1']['instreams']} " in shown[0]
        assert f"INIT_ACK os={init['server']['ostreams']} mis={init['server']['instreams']} " in shown[1]
        assert shown[1].split("│")[1].startswith("◀")          # from the responder, drawn right to left
        assert "COOKIE_ECHO" in shown[2] and "COOKIE_ACK" in shown[3]
        assert shown[4].strip().startswith("▸") and "DATA/SACK chunks" in shown[4]
        assert [r.split("│─ ")[1].split()[0] if "│─ " in r else r.split()[-2] for r in shown[-3:]] == \
               ["SHUTDOWN", "SHUTDOWN_ACK", "SHUTDOWN_COMPLETE"]
        ladder = app.screen.query_one("#ladder")
        ladder.move_to(4)
        await pilot.press("enter")
        await pilot.pause()
        unfolded = ladder_rows(app)
        assert len(unfolded) > len(shown) and unfolded[4].strip().startswith("▾")
        sends = [r for r in log if r["ev"] == "send" and r["role"] == "c1"]
        assert sum("DATA TSN=" in r and "│─ " in r for r in unfolded) == len(sends)


@tshark_required
@pilot_test
async def test_packet_detail_tree_and_hex_highlight():
    """From the ladder, enter on the INIT opens its packet: the tree shows tshark's initiate tag and the
    hex view highlights exactly the bytes tshark gives for the Initial TSN field (pdml pos/size)."""
    pdml = subprocess.run([TSHARK, "-n", "-r", str(CAPTURES / "scenario__loss_retransmit.pcapng"), "-T", "pdml",
                           "-Y", "sctp.chunk_type == 1"], capture_output=True, text=True, check=True).stdout
    fields = {f.get("name"): f for f in ET.fromstring(pdml).iter("field")}
    tsn, tag = fields["sctp.init_initial_tsn"], fields["sctp.init_initiate_tag"]
    frame = int(fields["num"].get("show"))
    ((init_ack,),) = tshark_fields("scenario__loss_retransmit.pcapng", "sctp.chunk_type == 2", "frame.number")
    app = make_app(CAPTURES / "scenario__loss_retransmit.pcapng")
    async with app.run_test(size=SIZE) as pilot:
        await loaded(app, pilot)
        await pilot.press("enter", "2")
        await settle(app, pilot)
        await pilot.press("h", "enter")
        await pilot.pause()
        screen = app.screen
        assert isinstance(screen, PacketScreen) and screen.frame == frame
        tree = screen.query_one("#packet-tree", Tree)
        assert tree.cursor_node.data.label.startswith("INIT chunk (OS 10, MIS 2048)")
        labels = [n.data.label for n in _tree_nodes(tree.root) if n.data is not None]
        assert f"Initiate tag: {tag.get('show')}" in labels
        target = next(n for n in _tree_nodes(tree.root) if n.data and n.data.field == "sctp.init_initial_tsn")
        tree.move_cursor(target)
        await pilot.pause()
        hexv = screen.query_one("#packet-hex")
        pos, size = int(tsn.get("pos")), int(tsn.get("size"))
        assert hexv.span == (pos, pos + size)
        row = hexv.render_row(pos // 16, 80)
        lit = "".join(row.plain[s.start:s.end] for s in row.spans if "yellow" in str(s.style))
        assert lit.replace(" ", "")[:2 * size].startswith(tsn.get("value")[:2 * min(size, 16 - pos % 16)])
        assert f"bytes {pos}–{pos + size - 1} ({size})" in plain(screen.query_one("#packet-span", Static))
        await pilot.press("right_square_bracket")          # the association's next frame: the INIT ACK
        await pilot.pause()
        assert screen.frame == int(init_ack) and tree.root.data.label.startswith(f"Frame {init_ack}:")
        await pilot.press("escape")
        await pilot.pause()
        assert isinstance(app.screen, AssociationScreen)


def _tree_nodes(node):
    yield node
    for c in node.children:
        yield from _tree_nodes(c)


@tshark_required
@pilot_test
async def test_events_and_anomalies_jump_to_their_frame():
    """Events (key 5): enter on COMM_UP opens tshark's COOKIE ACK frame; t shows that frame in the
    timeline. Anomalies (key 6): enter opens the anomaly's frame."""
    (cookie_ack,) = tshark_fields("scenario__sendall_chat.pcapng", "sctp.chunk_type == 11 && sctp.srcport == 5000 "
                                  "&& sctp.dstport == 5001", "frame.number")[0]
    app = make_app(CAPTURES / "scenario__sendall_chat.pcapng")
    async with app.run_test(size=SIZE) as pilot:
        await loaded(app, pilot)
        await pilot.press("enter", "5")
        await settle(app, pilot)
        events = app.screen.query_one("#events-table", DataTable)
        assert events.has_focus
        first = [c.plain for c in events.get_row_at(0)]
        assert first[2] == "COMM_UP" and first[0] == cookie_ack
        await pilot.press("enter")
        await pilot.pause()
        assert isinstance(app.screen, PacketScreen) and app.screen.frame == int(cookie_ack)
        await pilot.press("escape", "t")
        await pilot.pause()
        ladder = app.screen.query_one("#ladder")
        assert ladder.has_focus and str(ladder.step_at().frame) == cookie_ack and ladder.step_at().type == 11
    app = make_app(CAPTURES / "suricata__sctp-keywords.pcap")
    async with app.run_test(size=SIZE) as pilot:
        await loaded(app, pilot)
        await pilot.press("enter", "6")
        await settle(app, pilot)
        table = app.screen.query_one("#anomalies-table", DataTable)
        frame = table.get_row_at(0)[0].plain
        await pilot.press("enter")
        await pilot.pause()
        assert isinstance(app.screen, PacketScreen) and str(app.screen.frame) == frame


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
        for key in ("enter", "escape", "/", "q", "1 … 6", "ctrl+p", "n / N"):
            assert key in shown
        box = app.screen.query_one("#help-box")      # the rest of the table, a page at a time
        while box.scroll_y < box.max_scroll_y:
            box.scroll_to(y=box.scroll_y + box.size.height - 1, animate=False)
            await pilot.pause()
            shown += screen_text(app)
        for key in ("[ ]", "fold / unfold", "recent files", "close this help"):
            assert key in shown
        await pilot.press("escape")
        await pilot.pause()
        assert isinstance(app.screen, AssociationsScreen)


@pilot_test
async def test_command_palette_opens_an_association():
    """ctrl+p, type part of an endpoint: the palette opens that association."""
    app = make_app(CAPTURES / "scenario__sendall_chat.pcapng")
    async with app.run_test(size=SIZE) as pilot:
        await loaded(app, pilot)
        await pilot.press("ctrl+p", *"198.18.3.1")
        from textual.command import CommandList

        for _ in range(100):                 # the palette searches in a worker: wait for its hit
            await pilot.pause(0.05)
            lists = app.screen.query(CommandList)
            if lists and lists.first().option_count == 1:
                break
        assert "Open association 3: 198.18.3.1:5003" in str(lists.first().get_option_at_index(0).prompt)
        await pilot.press("down", "enter")
        await settle(app, pilot)
        assert isinstance(app.screen, AssociationScreen)
        assert app.screen.association["initiator"]["addresses"] == ["198.18.3.1"]


@pilot_test
async def test_reason_with_control_bytes_and_markup_is_literal(tmp_path):
    """A reason text holding ESC, BEL and `[bold]` shows escaped and literal in the Ending tab, the ladder
    and the packet tree: no raw control byte, no markup."""
    path = tmp_path / "abort.pcap"
    write_abort_capture(path, b"bye\x1b[2J\x07[bold]x[/]")
    app = make_app(path)
    async with app.run_test(size=SIZE) as pilot:
        await loaded(app, pilot)
        await pilot.press("enter", "4")
        await settle(app, pilot)
        ending = plain(app.screen.query_one("#ending-text", Static))
        assert "\x1b" not in ending and "\x07" not in ending
        assert "User-Initiated Abort: bye\\x1b[2J\\x07[bold]x[/]" in ending
        assert "bye\\x1b[2J\\x07[bold]x[/]" in screen_text(app)
        await pilot.press("2")
        await pilot.pause()
        (row,) = ladder_rows(app)
        assert "bye\\x1b[2J\\x07[bold]x[/]" in row and "\x1b" not in row
        await pilot.press("enter")
        await pilot.pause()
        tree = app.screen.query_one("#packet-tree", Tree)
        labels = [n.label.plain for n in _tree_nodes(tree.root)]
        assert any("Cause information: bye\\x1b[2J\\x07[bold]x[/]" in s for s in labels)
        assert not any("\x1b" in s or "\x07" in s for s in labels)


@pilot_test
async def test_missing_file_is_one_line_in_the_app(tmp_path):
    """A missing file ends the loading with one clear line and no list."""
    app = make_app(tmp_path / "nope.pcap")
    async with app.run_test(size=SIZE) as pilot:
        screen = await loaded(app, pilot)
        error = plain(screen.query_one("#error", Static))
        assert "nope.pcap" in error and "no such file" in error.lower() and "\n" not in error
        assert not screen.query_one("#associations").display
        assert not screen.query_one("#progress").display


@pilot_test
async def test_not_a_capture_is_one_line_in_the_app():
    app = make_app(CAPTURES / "README.md")
    async with app.run_test(size=SIZE) as pilot:
        screen = await loaded(app, pilot)
        assert "README.md" in plain(screen.query_one("#error", Static))


# -- progressive indexing --------------------------------------------------------------------------------
@pilot_test
async def test_list_fills_in_while_indexing(monkeypatch):
    """many_assocs with tiny time boxes: the list shows associations (and a progress bar) before the index
    is complete, and ends with every association the scenario's clients opened."""
    import sctpscope.tui.app as app_module

    monkeypatch.setattr(app_module, "FIRST_STEP", 0.0)
    monkeypatch.setattr(app_module, "STEP", 0.0)
    clients = {r["role"] for r in scenario_log("many_assocs") if r["ev"] == "connect"}
    seen = []
    original = AssociationsScreen.apply_progress

    def spy(screen, progress, **kw):
        original(screen, progress, **kw)
        table = screen.query_one("#associations")
        seen.append((progress.done, table.row_count(), screen.query_one("#progress").display))
    monkeypatch.setattr(AssociationsScreen, "apply_progress", spy)
    app = make_app(CAPTURES / "scenario__many_assocs.pcapng")
    async with app.run_test(size=SIZE) as pilot:
        screen = await loaded(app, pilot)
        partial = [(n, bar) for done, n, bar in seen if not done]
        assert any(n > 0 and bar for n, bar in partial), seen[:10]
        assert seen[-1][0] and not seen[-1][2]
        assert len(rows(screen)) == len(clients) == 20


class _Endless:
    """A live-like frame source that never ends: the frames of a real capture again and again."""

    def __init__(self, path):
        from sctpscope.pipeline import decode_files

        self.frames = list(decode_files([str(path)], []))

    def __iter__(self):
        n = 0
        while True:
            for f in self.frames:
                n += 1
                f.number = n
                yield f


@pilot_test
async def test_quit_while_indexing_is_instant():
    """An indexer fed by a source that never ends (as a live capture): q quits within a second."""
    from sctpscope.analysis.indexer import Indexer

    ix = Indexer(iter(_Endless(CAPTURES / "scenario__sendall_chat.pcapng")))
    app = SctpscopeApp([str(CAPTURES / "scenario__sendall_chat.pcapng")], indexer=ix)
    async with app.run_test(size=SIZE) as pilot:
        for _ in range(50):
            await pilot.pause(0.05)
            if app.home.query_one("#associations").row_count():
                break
        assert app.home.query_one("#associations").row_count() > 0
        assert not ix.done
        start = time.monotonic()
        await pilot.press("q")
        await app.workers.wait_for_complete()
        assert time.monotonic() - start < 1.0


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
