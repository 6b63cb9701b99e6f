"""Snapshot tests (pytest-textual-snapshot): each screen of the terminal UI at a fixed size, on real captures.

The SVGs under tests/__snapshots__/test_tui_snapshots/ are the accepted screens (the README links them as
screenshots). A change to what a screen shows fails here; review the diff report, then accept it with
`.venv/bin/python -m pytest tests/test_tui_snapshots.py --snapshot-update`. They are byte-exact renderings
of one Textual / Rich version (pinned in pyproject's `test` extra).
"""
from __future__ import annotations

import pytest

pytest.importorskip("pytest_textual_snapshot")

from conftest import CAPTURES  # noqa: E402
from sctpscope.tui.app import make_app  # noqa: E402

SIZE = (130, 36)


def _keys(*keys: str):
    """A run_before that waits for the index, presses `keys` group by group (a group may start the
    association's decoding worker) and waits for every worker after each group."""
    async def run_before(pilot) -> None:
        app = pilot.app
        await pilot.pause()
        await app.workers.wait_for_complete()
        await pilot.pause()
        for group in keys:
            await pilot.press(*group.split())
            await pilot.pause()
            await app.workers.wait_for_complete()
            await pilot.pause()
    return run_before


def _shot(snap_compare, capture: str, *keys: str) -> bool:
    return snap_compare(make_app(CAPTURES / capture), terminal_size=SIZE, run_before=_keys(*keys))


def test_associations_list(snap_compare):
    """Home: capture totals and one row per association of the chat scenario (three clients)."""
    assert _shot(snap_compare, "scenario__sendall_chat.pcapng")


def test_overview_negotiation(snap_compare):
    """Overview: both endpoints, INIT OS 10/MIS 5 against INIT ACK OS 3/MIS 8, 8 and 3 negotiated."""
    assert _shot(snap_compare, "scenario__init_streams.pcapng", "enter")


def test_timeline_first_retransmission(snap_compare):
    """Timeline: the ladder of loss_retransmit with the cursor on the first retransmission (key r)."""
    assert _shot(snap_compare, "scenario__loss_retransmit.pcapng", "enter", "2", "r")


def test_streams_ordering_gap(snap_compare):
    """Streams: the GAP row and its ordering view, SSN 1 missing and the later messages stuck behind it."""
    assert _shot(snap_compare, "suricata__sctp-keywords.pcap", "enter", "3", "enter")


def test_ending_abort(snap_compare):
    """Ending: the ABORT with its reason text, who sent it, and the DATA outstanding then."""
    assert _shot(snap_compare, "scenario__abort_reason.pcapng", "enter", "4")


def test_events(snap_compare):
    """Events: the socket-API notifications of a chat association."""
    assert _shot(snap_compare, "scenario__sendall_chat.pcapng", "enter", "5")


def test_anomalies(snap_compare):
    """Anomalies: the SSN gap of sctp-keywords, each line with its frame."""
    assert _shot(snap_compare, "suricata__sctp-keywords.pcap", "enter", "6")


def test_packet_detail(snap_compare):
    """Packet detail: the INIT's tree with its chunk selected and the chunk's bytes lit in the hex dump."""
    assert _shot(snap_compare, "scenario__loss_retransmit.pcapng", "enter", "2", "h", "enter")


def test_help(snap_compare):
    """Help: every key of every screen."""
    assert _shot(snap_compare, "scenario__init_streams.pcapng", "question_mark")
