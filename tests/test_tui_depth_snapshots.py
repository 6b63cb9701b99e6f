"""Snapshot tests of the TUI's depth screens (issue #6): Follow, the TSN graph on a retransmission, the
display-filter error, statistics. Accept changes with `--snapshot-update` after reviewing the diff."""
from __future__ import annotations

import pytest

pytest.importorskip("pytest_textual_snapshot")

from test_tui_snapshots import _shot  # noqa: E402


def test_follow_stream(snap_compare):
    """Follow: streams_mixed's reassembled messages with PPID names, sizes, frames, one-liners, previews."""
    assert _shot(snap_compare, "scenario__streams_mixed.pcapng", "enter", "7")


def test_tsn_graph_retransmission(snap_compare):
    """Graphs: loss_retransmit's TSN graph, SACK cum ack and gap blocks, cursor on the first retransmission."""
    assert _shot(snap_compare, "scenario__loss_retransmit.pcapng", "enter", "8", "n")


def test_display_filter_error(snap_compare):
    """Filter bar: an unknown chunk type, the caret under it, the rows unchanged."""
    assert _shot(snap_compare, "scenario__sendall_chat.pcapng", "f c h u n k space = = space D A T enter")


def test_statistics(snap_compare):
    """Statistics: associations by ending, chunks per association and side, paths."""
    assert _shot(snap_compare, "scenario__sendall_chat.pcapng", "i")
