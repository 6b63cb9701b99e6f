"""The graphs issue #6 still missed, driven with Pilot on real captures: throughput per stream and heartbeat
RTT per path with the primary path's changes, their keys, mouse clicks and wheel, and the frames they open;
one snapshot of each. Expected values come from tshark (and the failover scenario's log), never from
sctpscope."""
from __future__ import annotations

import importlib.util

import pytest

pytest.importorskip("textual")

from textual import events  # noqa: E402

from conftest import CAPTURES, tshark_required  # noqa: E402
from sctpscope.tui.app import make_app  # noqa: E402
from sctpscope.tui.screens.association import AssociationScreen  # noqa: E402
from sctpscope.tui.screens.packet import PacketScreen  # noqa: E402
from test_series import chunks, first_transmissions, heartbeats  # noqa: E402
from tui_support import SIZE, loaded, pilot_test, settle  # noqa: E402

snapshots = pytest.mark.skipif(importlib.util.find_spec("pytest_textual_snapshot") is None,
                               reason="pytest-textual-snapshot is not installed")


async def open_graphs(app, pilot, kind: str):
    """The first association's Graphs tab, `g` pressed until `kind` shows."""
    await loaded(app, pilot)
    await pilot.press("enter", "8")
    await settle(app, pilot)
    graph = app.screen.query_one("#graph")
    for _ in range(5):
        if graph.kind == kind:
            break
        await pilot.press("g")
    assert graph.kind == kind
    return graph


def screen_offset(graph, index: int) -> tuple[int, int]:
    """Where point `index` is drawn, relative to the widget's region (as Pilot's mouse offsets are)."""
    x, y = graph.point_offset(index)
    return x + graph.content_region.x - graph.region.x, y + graph.content_region.y - graph.region.y


async def back(app, pilot) -> None:
    await pilot.press("escape")
    await settle(app, pilot)
    assert isinstance(app.screen, AssociationScreen)


@tshark_required
@pilot_test
async def test_heartbeat_graph_paths_failover_mouse_and_frames():
    """multihoming_failover, initiator: the heartbeat graph's points are tshark's answered HEARTBEATs (by ACK
    time), s / a choose a path, n marks the first path change at the frame where new DATA first uses the new
    path and enter opens it; a click selects a point and enter opens its HEARTBEAT ACK, a double click opens
    another, a click on the second change's mark opens that one; the wheel zooms around the pointer, pans
    with shift, and zooms back out."""
    cap = "scenario__multihoming_failover.pcapng"
    cs = chunks(cap)
    answered, unanswered = heartbeats(cs, 0)
    by_ack = sorted(answered, key=lambda x: next(c["time"] for c in cs if c["frame"] == x[1] and c["type"] == 5))
    first_path = next(c["path"] for c in cs if c["type"] == 4 and c["side"] == 0)
    new_data = first_transmissions(cs, 0)
    change = next(c for k, c in enumerate(new_data) if k and c["path"] != new_data[k - 1]["path"])
    app = make_app(CAPTURES / cap)
    async with app.run_test(size=SIZE) as pilot:
        graph = await open_graphs(app, pilot, "hbrtt")
        assert graph.side == 0
        assert [(h.sent_frame, h.frame) for h in graph.points()] == [x[:2] for x in by_ack]
        text = graph.render().plain
        assert f"{len(answered)} answered, {len(unanswered)} not" in text and "primary path change" in text

        await pilot.press("s")
        assert graph.path == first_path
        assert [h.frame for h in graph.points()] == [x[1] for x in by_ack if x[2] == first_path]
        await pilot.press("a")
        assert graph.path is None and len(graph.points()) == len(answered)

        await pilot.press("home", "n")
        assert graph.mark == 0 and f"frame {change['frame']}," in graph.render().plain
        await pilot.press("enter")
        await settle(app, pilot)
        assert isinstance(app.screen, PacketScreen) and app.screen.frame == change["frame"]
        await back(app, pilot)

        last = len(graph.points()) - 1
        assert await pilot.click(graph, offset=screen_offset(graph, last))
        assert graph.sel == last and graph.mark is None
        await pilot.press("enter")
        await settle(app, pilot)
        assert isinstance(app.screen, PacketScreen) and app.screen.frame == by_ack[last][1]
        await back(app, pilot)

        assert await pilot.double_click(graph, offset=screen_offset(graph, 0))
        await settle(app, pilot)
        assert isinstance(app.screen, PacketScreen) and app.screen.frame == by_ack[0][1]
        await back(app, pilot)

        gx, gy = graph.content_region.x - graph.region.x, graph.content_region.y - graph.region.y
        x = next(x for x in range(graph.size.width) if graph.mark_at(x, 3) == 1)
        y = next(y for y in range(3, graph.size.height - 2) if graph.point_at(x, y) is None)
        assert graph.mark_at(x, y) == 1 and graph.mark_at(x, 0) is None      # not on the title line
        assert await pilot.click(graph, offset=(x + gx, y + gy))
        assert graph.mark == 1
        await pilot.press("enter")
        await settle(app, pilot)
        again = next(c for k, c in enumerate(new_data) if k and c["path"] != new_data[k - 1]["path"]
                     and c["frame"] > change["frame"])
        assert isinstance(app.screen, PacketScreen) and app.screen.frame == again["frame"]
        await back(app, pilot)

        lo, hi = graph.view
        p = graph.points()[0]
        await pilot._post_mouse_events([events.MouseScrollUp], graph, offset=screen_offset(graph, 0))
        zlo, zhi = graph.view
        assert zhi - zlo == pytest.approx((hi - lo) / 2) and zlo <= p.ts <= zhi
        await pilot._post_mouse_events([events.MouseScrollDown], graph, offset=screen_offset(graph, 0), shift=True)
        assert graph.view == pytest.approx((zlo + (zhi - zlo) / 2, zhi + (zhi - zlo) / 2))     # shift: pans
        await pilot._post_mouse_events([events.MouseScrollDown], graph, offset=(gx + 20, gy + 10))
        assert graph.view == pytest.approx((lo, hi))


@tshark_required
@pilot_test
async def test_throughput_graph_streams_zoom_mouse_and_frames():
    """sctp-test (12 streams): the throughput title's bytes are tshark's first-transmission user-data bytes
    of all streams, then of each stream s / S choose; + keeps the cursor on the bucket holding the old one's
    last DATA; a click on a bar selects the bucket and enter opens tshark's last first transmission in it."""
    cap = "pkts__sctp-test.cap"
    new_data = first_transmissions(chunks(cap), 0)
    total = {None: 0}
    for c in new_data:
        n = c["length"] - 16
        total[None] += n
        total[c["sid"]] = total.get(c["sid"], 0) + n
    sids = sorted(k for k in total if k is not None)
    app = make_app(CAPTURES / cap)
    async with app.run_test(size=SIZE) as pilot:
        graph = await open_graphs(app, pilot, "throughput")
        assert graph.side == 0 and f"all {len(sids)} streams: {total[None]} B" in graph.render().plain
        await pilot.press("s")
        assert graph.stream == sids[0]
        assert f"stream {sids[0]} (1/{len(sids)}): {total[sids[0]]} B" in graph.render().plain
        await pilot.press("S", "S")
        assert graph.stream == sids[-1] and f": {total[sids[-1]]} B" in graph.render().plain
        await pilot.press("a")
        assert graph.stream is None

        old, width = graph.point(), graph.bucket_size()
        await pilot.press("plus")
        p = graph.point()
        assert graph.bucket_size() < width and p.ts <= old.last < p.ts + p.width

        k = len(graph.points()) // 2
        k += k == graph.sel                                          # a bucket the cursor is not on yet
        x, y = screen_offset(graph, k)
        assert await pilot.click(graph, offset=(x, y + 1))          # inside the bar, under its top
        assert graph.sel == k
        b = graph.point()
        inside = [c for c in new_data if b.ts <= float(c["time"]) < b.ts + b.width]
        assert b.bytes == sum(c["length"] - 16 for c in inside)
        await pilot.press("enter")
        await settle(app, pilot)
        assert isinstance(app.screen, PacketScreen)
        assert app.screen.frame == max(inside, key=lambda c: c["time"])["frame"]


# -- snapshots -----------------------------------------------------------------------------------------------
@snapshots
def test_throughput_graph_snapshot(snap_compare):
    """Throughput: sctp-test's user-data bytes of all 12 streams per 2 ms bucket, client → server."""
    from test_tui_snapshots import _shot
    assert _shot(snap_compare, "pkts__sctp-test.cap", "enter", "8", "g g g")


@snapshots
def test_heartbeat_graph_snapshot(snap_compare):
    """Heartbeat RTT: multihoming_failover's client paths, the two primary path changes, the first marked."""
    from test_tui_snapshots import _shot
    assert _shot(snap_compare, "scenario__multihoming_failover.pcapng", "enter", "8", "g g g g", "n")


@tshark_required
@pilot_test
async def test_path_changes_are_marked_in_every_graph():
    """multihoming_failover, initiator: the TSN, a_rwnd, in-flight and throughput graphs carry a ┊ column at
    each primary path change too, and nowhere else: the columns of the DATA chunks that first used a new path
    (tshark: the first transmissions whose path differs from the one before). sctp-test (one path) has none."""
    cap = "scenario__multihoming_failover.pcapng"
    new_data = first_transmissions(chunks(cap), 0)
    changes = [c["frame"] for k, c in enumerate(new_data) if k and c["path"] != new_data[k - 1]["path"]]
    assert len(changes) == 2
    app = make_app(CAPTURES / cap)
    async with app.run_test(size=SIZE) as pilot:
        graph = await open_graphs(app, pilot, "tsn")
        pw, ph = graph.size.width - 12, graph.size.height - 5

        def columns(ch: str) -> set[int]:
            rows, _, _ = graph.grid(pw, ph)
            return {c for row in rows for c, (x, _) in enumerate(row) if x == ch}

        # the columns of the change frames' DATA, found by putting the cursor on them
        want = set()
        for frame in changes:
            graph.sel = next(k for k, p in enumerate(graph.points()) if p.frame == frame)
            (col,) = columns("◉")
            want.add(col)
        assert columns("┊") == want and "primary path change" in graph.legend_line().plain
        for kind in ("rwnd", "flight", "throughput"):
            await pilot.press("g")
            assert graph.kind == kind
            assert columns("┊") == want and "primary path change" in graph.legend_line().plain, kind

    app = make_app(CAPTURES / "pkts__sctp-test.cap")
    async with app.run_test(size=SIZE) as pilot:
        graph = await open_graphs(app, pilot, "tsn")
        rows, _, _ = graph.grid(graph.size.width - 12, graph.size.height - 5)
        assert not any(x == "┊" for row in rows for x, _ in row)
        assert "path change" not in graph.legend_line().plain
