"""An association screen opened before its association is complete grows with it (issues #4 and #5).

Driven with Pilot on real captures whose indexing the test holds at chosen frames: through the file app's
own worker (a frame source that stops at a limit), through the public push API of the Indexer
(`add_many` / `finish`), and through the live app over a LiveSession fed by a stand-in source (its file
written and read back as on the wire). The partial figures are checked against tshark (the SCTP frames up
to the limit), the final ones against `sctpscope report --json` of the same file (which the other tests
check against tshark and the peers' logs) and tshark; the tab, the cursors and the stream chosen before
the association grew are still where they were. On a real wire (root, network namespaces, usrsctp peers):
see test_live_wire.py's helpers, reused at the end.
"""
from __future__ import annotations

import json
import os
import subprocess
import time

import pytest

pytest.importorskip("textual")

from textual.widgets import DataTable, Static, TabbedContent  # noqa: E402

from conftest import CAPTURES, run_sctpscope, tshark_required  # noqa: E402
from sctpscope.analysis.indexer import Indexer  # noqa: E402
from sctpscope.capture.index import MultiIndex  # noqa: E402
from sctpscope.pipeline import decode_files  # noqa: E402
from sctpscope.tui.app import SctpscopeApp  # noqa: E402
from sctpscope.tui.screens.association import AssociationScreen  # noqa: E402
from sctpscope.tui.screens.help import HelpScreen  # noqa: E402
from test_live_unit import ReplaySource  # noqa: E402
from tui_support import SIZE, loaded, pilot_test, plain, screen_text, tshark_fields  # noqa: E402

MIXED = CAPTURES / "scenario__streams_mixed.pcapng"       # one association, 10 streams, 79 frames
WAIT = 60.0
SHUTDOWNS = "sctp.chunk_type == 7 || sctp.chunk_type == 8 || sctp.chunk_type == 14"


def report(path) -> dict:
    return json.loads(run_sctpscope("report", "--json", path, check=True).stdout)


def sctp_frames(capture: str, upto: int | None = None) -> int:
    """tshark's count of frames holding SCTP (up to frame `upto`)."""
    flt = "sctp" if upto is None else f"sctp && frame.number <= {upto}"
    return len(tshark_fields(capture, flt, "frame.number"))


class HeldFrames:
    """The decoded frames of a capture, handed out up to frame `limit` only: past it, None (a source with
    nothing new yet) until the test moves the limit, so indexing stops there."""

    def __init__(self, path, limit: int) -> None:
        self.infos: list = []
        self.frames = decode_files([str(path)], self.infos)
        self.limit = limit

    def __iter__(self):
        for f in self.frames:
            while f.number > self.limit:
                time.sleep(0.005)
                yield None
            yield f


class CountingStore(MultiIndex):
    """The file's record index, counting the frames read back (each should be decoded again once only)."""

    def __init__(self, paths) -> None:
        super().__init__(paths)
        self.reads: list[int] = []

    def read(self, number: int):
        self.reads.append(number)
        return super().read(number)


async def until(pilot, cond, what: str, limit: float = WAIT):
    end = time.monotonic() + limit
    while True:
        v = cond()
        if v:
            return v
        if time.monotonic() > end:
            pytest.fail(f"gave up waiting: {what}")
        await pilot.pause(0.05)


def title(screen) -> str:
    return plain(screen.query_one("#title", Static))


def table_rows(screen, which: str) -> dict[str, list[str]]:
    table = screen.query_one(which, DataTable)
    return {r.key.value: [c.plain for c in table.get_row(r.key)] for r in table.ordered_rows}


def cursor_key(screen, which: str) -> str:
    table = screen.query_one(which, DataTable)
    return table.coordinate_to_cell_key(table.cursor_coordinate).row_key.value


def settled(screen, packets: int) -> bool:
    """The screen shows the association with `packets` packets and its packets are decoded to match."""
    return (f", {packets} packets" in title(screen) and not screen.decoding and screen.pending is None
            and len(screen.frames) == packets)


def stream_figures(a: dict) -> dict[tuple[str, str], tuple[str, str]]:
    """(direction arrow, sid) -> (messages, bytes) of the report's streams."""
    arrow = {"initiator_to_responder": "I→R", "responder_to_initiator": "R→I"}
    return {(arrow[s["direction"]], str(s["sid"])): (str(s["messages"]), str(s["bytes"])) for s in a["streams"]}


def data_streams(capture: str, a: dict, upto: int) -> set[tuple[str, str]]:
    """tshark's (direction arrow, sid) of the DATA chunks up to frame `upto`, the direction by the sender's
    address."""
    rows = tshark_fields(capture, f"sctp.chunk_type == 0 && frame.number <= {upto}", "ip.src", "sctp.data_sid")
    initiator = set(a["initiator"]["addresses"])
    return {("I→R" if src in initiator else "R→I", str(int(sid, 16)))
            for src, sids in rows for sid in sids.split(",")}


def shown_streams(screen) -> dict[tuple[str, str], tuple[str, str]]:
    return {(r[1], r[2]): (r[3], r[4]) for r in table_rows(screen, "#streams-table").values()}


# -- a file still being indexed ---------------------------------------------------------------------------
@tshark_required
@pilot_test
async def test_association_opened_while_indexing_grows_to_the_report():
    """Indexing held at frame 20: the association opened there shows tshark's 20 SCTP frames and says it is
    still growing; with the timeline cursor moved and the second stream chosen in the Streams tab, indexing
    goes on to frame 50, then to the end: the figures follow (tshark's 50, then the report's packets,
    streams, events, ending, messages), the tab, the stream chosen and the timeline's step stay, and
    every frame was read back and decoded once only."""
    want = report(MIXED)
    (a,) = want["associations"]
    held = HeldFrames(MIXED, 20)
    store = CountingStore([str(MIXED)])
    ix = Indexer(iter(held), store, held.infos)
    app = SctpscopeApp([str(MIXED)], indexer=ix)
    async with app.run_test(size=SIZE) as pilot:
        await until(pilot, lambda: app.home.query_one("#associations").row_count() and ix.last_frame == 20,
                    "indexing to reach frame 20")
        await pilot.pause(0.3)
        await pilot.press("enter")
        screen = await until(pilot, lambda: isinstance(app.screen, AssociationScreen) and app.screen,
                             "the association screen")
        first = sctp_frames(MIXED.name, 20)
        await until(pilot, lambda: settled(screen, first), f"{first} packets shown")
        assert "still growing: indexing" in title(screen) and screen.growing
        assert set(shown_streams(screen)) == data_streams(MIXED.name, a, 20) < set(stream_figures(a))
        assert "no SHUTDOWN" in plain(screen.query_one("#ending-status", Static))

        await pilot.press("2")                          # the timeline: the cursor five rows down
        for _ in range(5):
            await pilot.press("down")
        ladder = screen.query_one("#ladder")
        step = ladder.step_at()
        await pilot.press("3")                          # the streams: the second one chosen
        await pilot.press("down")
        await pilot.pause(0.2)
        chosen = cursor_key(screen, "#streams-table")
        assert chosen == list(table_rows(screen, "#streams-table"))[1]
        shown_before = screen.stream_shown
        assert shown_before is not None
        assert chosen == f"{'I→R' if shown_before[0] == 0 else 'R→I'}/{shown_before[1]}"

        held.limit = 50
        middle = sctp_frames(MIXED.name, 50)
        await until(pilot, lambda: settled(screen, middle), f"{middle} packets shown")
        assert "still growing: indexing" in title(screen)
        held.limit = 1 << 30
        await until(pilot, lambda: ix.done and not screen.growing and settled(screen, a["packets"]),
                    "the final association")

        assert a["packets"] == sctp_frames(MIXED.name)
        assert "still growing" not in title(screen) and f"[{a['state']}]" in title(screen)
        assert f"frames {a['first_frame']}–{a['last_frame']}" in title(screen)
        assert shown_streams(screen) == stream_figures(a)
        assert len(table_rows(screen, "#events-table")) == len(a["events"])
        ending = str(screen.query_one("#ending-text", Static).render())
        assert f"kind: {a['ending']['kind']}" in ending and f"begun by: {a['ending']['by']}" in ending
        assert f"frame: {a['ending']['first_frame']}" in ending
        shutdown = [int(r[0]) for r in tshark_fields(MIXED.name, SHUTDOWNS, "frame.number")]
        assert [int(r[0]) for r in table_rows(screen, "#ending-flow").values()] == shutdown
        follow = screen.query_one("#follow-list")
        assert len(follow.messages) == sum(s["messages"] for s in a["streams"])
        assert all(m.complete for m in follow.messages)
        # where the user was
        assert screen.query_one("#tabs", TabbedContent).active == "streams"
        assert cursor_key(screen, "#streams-table") == chosen and screen.stream_shown == shown_before
        ordering = screen.query_one("#ordering")
        side = "I→R" if shown_before[0] == 0 else "R→I"
        assert str(ordering.row_count()) == stream_figures(a)[(side, str(shown_before[1]))][0]
        assert ladder.step_at() == step
        # each frame of the association read back once, over several showings
        assert sorted(store.reads) == sorted(set(store.reads)) and len(store.reads) == a["packets"]
        await pilot.press("q")


# -- frames pushed through the public API ------------------------------------------------------------------
@tshark_required
@pilot_test
async def test_frames_pushed_to_an_indexer_grow_the_open_association(monkeypatch):
    """The Indexer fed with `add_many` / `add` (as a live source would feed it) and no iterator: the
    association screen opened after the handshake and first DATA follows the frames pushed one every 0.1 s,
    shown again a few times (at most every REFRESH seconds, not at every frame nor at every step of the
    indexing worker), then `finish()` gives the report's figures, the graceful ending and its flow (the
    SHUTDOWN chunks' frames by tshark)."""
    from sctpscope.tui.screens import association as association_module

    loads = []
    original = AssociationScreen.on_association_screen_loaded

    def spy(screen, message):
        loads.append(time.monotonic())
        original(screen, message)
    monkeypatch.setattr(AssociationScreen, "on_association_screen_loaded", spy)
    path = CAPTURES / "usrsctp__echo_ipv4.pcapng"
    want = report(path)
    (a,) = want["associations"]
    infos: list = []
    frames = list(decode_files([str(path)], infos))
    ix = Indexer(None, MultiIndex([str(path)]), infos)
    data = [int(r[0]) for r in tshark_fields(path.name, "sctp.chunk_type == 0", "frame.number")]
    cut = data[0]                                  # up to the first DATA
    app = SctpscopeApp([str(path)], indexer=ix)
    async with app.run_test(size=SIZE) as pilot:
        assert ix.add_many(frames[:cut]) == cut
        await until(pilot, lambda: app.home.query_one("#associations").row_count(), "the association listed")
        await pilot.press("enter")
        screen = await until(pilot, lambda: isinstance(app.screen, AssociationScreen) and app.screen,
                             "the association screen")
        first = sctp_frames(path.name, cut)
        await until(pilot, lambda: settled(screen, first), f"{first} packets shown")
        assert screen.growing and "no SHUTDOWN" in str(screen.query_one("#ending-text", Static).render())
        await pilot.press("4")
        start, before = time.monotonic(), len(loads)
        for f in frames[cut:]:
            ix.add(f)
            await pilot.pause(0.1)
        ix.finish()
        await until(pilot, lambda: not screen.growing and settled(screen, a["packets"]), "the final association")
        elapsed, shown = time.monotonic() - start, len(loads) - before
        assert 2 <= shown <= elapsed / association_module.REFRESH + 2, (shown, elapsed)
        ending = str(screen.query_one("#ending-text", Static).render())
        assert "kind: graceful" in ending and f"begun by: {a['ending']['by']}" in ending
        shutdown = [int(r[0]) for r in tshark_fields(path.name, SHUTDOWNS, "frame.number")]
        assert [int(r[0]) for r in table_rows(screen, "#ending-flow").values()] == shutdown
        assert shown_streams(screen) == stream_figures(a)
        assert screen.query_one("#tabs", TabbedContent).active == "ending"
        await pilot.press("q")


def test_pushing_after_finish_is_refused():
    """A finished Indexer takes no more frames (the result would silently miss them)."""
    ix = Indexer(None)
    ix.finish()
    with pytest.raises(RuntimeError):
        ix.add_many(decode_files([str(CAPTURES / "usrsctp__echo_ipv4.pcapng")], []))


# -- the live UI -----------------------------------------------------------------------------------------
class HeldSource(ReplaySource):
    """test_live_unit.ReplaySource handing out its frames only up to `limit`: the capture is running but quiet
    until the test moves the limit."""

    def __init__(self, path, limit: int) -> None:
        super().__init__(path, name="held0")
        self.limit = limit

    def read(self, timeout=0.1):
        n = min(self.limit, len(self.items))
        if self.pos >= n:
            time.sleep(min(timeout or 0, 0.02))
            return []
        out = self.items[self.pos:n]
        self.pos = n
        return out


@tshark_required
def test_live_association_screen_follows_the_capture(tmp_path):
    """The live UI over a session whose source holds back the capture's end: the association opened while
    it is established says it is live, then shows the graceful ending, the report's packets and streams and
    the SHUTDOWN flow read back from the file being written, without leaving the tab chosen."""
    import asyncio

    from sctpscope.live.output import OutputFiles
    from sctpscope.live.session import LiveSession
    from sctpscope.tui.live import LiveApp

    path = CAPTURES / "usrsctp__echo_ipv4.pcapng"
    (a,) = report(path)["associations"]
    shutdown = [int(r[0]) for r in tshark_fields(path.name, SHUTDOWNS, "frame.number")]
    src = HeldSource(path, shutdown[0] - 1)
    out = tmp_path / "live.pcapng"
    sess = LiveSession(src, OutputFiles(str(out), src.linktype, src.name, 262144), snapshots=True)
    seen = {}

    async def run():
        app = LiveApp(sess)
        async with app.run_test(size=(160, 40)) as pilot:
            table = app.home.query_one("#associations")
            await until(pilot, lambda: table.row_count() and table.row_cells(0)[2] == "established"
                        and sess.status().analysed == src.limit, "the association established")
            await pilot.pause(0.3)
            await pilot.press("enter")
            screen = await until(pilot, lambda: isinstance(app.screen, AssociationScreen) and app.screen,
                                 "the association screen")
            before = sctp_frames(path.name, src.limit)
            await until(pilot, lambda: settled(screen, before), f"{before} packets shown")
            seen["before"] = title(screen)
            seen["ending before"] = str(screen.query_one("#ending-text", Static).render())
            await pilot.press("4")
            src.limit = len(src.items)
            await until(pilot, lambda: "graceful" in str(screen.query_one("#ending-text", Static).render())
                        and settled(screen, a["packets"]), "the graceful ending")
            seen["after"] = title(screen)
            seen["ending"] = str(screen.query_one("#ending-text", Static).render())
            seen["flow"] = [int(r[0]) for r in table_rows(screen, "#ending-flow").values()]
            seen["streams"] = shown_streams(screen)
            seen["tab"] = screen.query_one("#tabs", TabbedContent).active
            await pilot.press("q")

    asyncio.run(run())
    assert sess.wait(30)
    assert "still growing: live capture" in seen["before"] and "[established]" in seen["before"]
    assert "no SHUTDOWN" in seen["ending before"]
    assert "still growing: live capture" in seen["after"] and f"[{a['state']}]" in seen["after"]
    assert f"begun by: {a['ending']['by']}" in seen["ending"]
    assert seen["flow"] == shutdown
    assert seen["streams"] == stream_figures(a)
    assert seen["tab"] == "ending"


@pilot_test
async def test_help_lists_the_live_keys():
    """? lists p (pause the display) and w (new file) in a live section."""
    app = SctpscopeApp([str(MIXED)])
    async with app.run_test(size=(140, 80)) as pilot:
        await loaded(app, pilot)            # a key pressed before the first screen is up would be lost
        await pilot.press("question_mark")
        await until(pilot, lambda: isinstance(app.screen, HelpScreen), "the help screen")
        app.screen.query_one("#help-box").scroll_end(animate=False)      # the live section is near the end
        await pilot.pause()
        lines = [ln.strip("▌█ ") for ln in screen_text(app).splitlines()]
        live = next(i for i, ln in enumerate(lines) if ln.startswith("live "))
        assert lines[live].split()[1] == "p" and "pause the display" in lines[live]
        assert lines[live + 1].split()[0] == "w" and "new one" in lines[live + 1]


# -- the live UI on a real wire ----------------------------------------------------------------------------
@pytest.fixture(scope="module")
def wire(tmp_path_factory):
    """test_live_wire's two namespaces and veth pair, under names of their own (scl-ra-PID / scl-rb-PID) so
    that they never meet test_live_wire's; every process started there is stopped, the namespaces deleted."""
    from test_live_wire import REASON, Net

    if REASON is not None:
        pytest.skip(REASON)
    n = Net(tmp_path_factory.mktemp("refresh-wire"))
    pid = os.getpid()
    n.a, n.b, n.if_a, n.if_b = f"scl-ra-{pid}", f"scl-rb-{pid}", f"sclra{pid}", f"sclrb{pid}"
    try:
        try:
            n.setup()
        except (RuntimeError, subprocess.SubprocessError, OSError) as exc:
            pytest.skip(f"cannot build the test network: {exc}")
        time.sleep(0.5)         # let link-up chatter (MLD, ND) pass before anything captures
        yield n
    finally:
        n.close()


@pytest.mark.netns
def test_live_wire_association_screen_grows_and_ends(wire, tmp_path):
    """usrsctp's client and echo_server in two namespaces, `sctpscope live`'s UI capturing: the association
    is opened while established after one message, then a second message is sent (its DATA and the echo
    show up in the open screen's streams) and the client closes (the graceful ending and its SHUTDOWN flow
    fill in, read back from the file being written). Checked against `sctpscope report` of the file written,
    tshark's SHUTDOWN frames in it and echo_server's own output."""
    import asyncio
    import re

    from sctpscope.live.output import OutputFiles
    from sctpscope.live.session import LiveSession
    from sctpscope.tui.live import LiveApp
    from test_live_wire import USRSCTP, V4, source_in_a

    source = source_in_a(wire)
    path = tmp_path / "grow.pcapng"
    session = LiveSession(source, OutputFiles(str(path), source.linktype, wire.if_a, 262144), snapshots=True)
    seen = {}

    def messages_i2r(screen) -> int:
        return sum(int(r[3]) for r in table_rows(screen, "#streams-table").values() if r[1] == "I→R")

    def flow(screen) -> list[str]:
        return [r[4] for r in table_rows(screen, "#ending-flow").values()]

    async def run():
        app = LiveApp(session)
        async with app.run_test(size=(160, 40)) as pilot:
            table = app.home.query_one("#associations")
            srv = wire.start(wire.b, ["stdbuf", "-oL", str(USRSCTP / "echo_server")], "grow-server")
            time.sleep(0.3)
            cli = wire.start(wire.a, ["stdbuf", "-oL", str(USRSCTP / "client"), V4[1], "7", "5007"], "grow-client",
                             stdin=subprocess.PIPE)
            cli.stdin.write(b"first line\n")
            cli.stdin.flush()
            await until(pilot, lambda: table.row_count() and table.row_cells(0)[2] == "established"
                        and table.row_cells(0)[6] == "1/1", "the association established, one message each way")
            await pilot.press("enter")
            screen = await until(pilot, lambda: isinstance(app.screen, AssociationScreen) and app.screen,
                                 "the association screen")
            await until(pilot, lambda: screen.timeline is not None and messages_i2r(screen) == 1, "one message")
            seen["before"] = title(screen)
            seen["ending before"] = str(screen.query_one("#ending-text", Static).render())
            await pilot.press("4")                              # the Ending tab, left open
            cli.stdin.write(b"second line\n")
            cli.stdin.flush()
            await until(pilot, lambda: messages_i2r(screen) == 2, "the second message in the open screen")
            cli.stdin.close()
            await until(pilot, lambda: "graceful" in str(screen.query_one("#ending-text", Static).render())
                        and any("SHUTDOWN_COMPLETE" in x for x in flow(screen))
                        and not screen.decoding and screen.pending is None
                        and f", {len(screen.frames)} packets" in title(screen), "the graceful ending")
            seen["after"] = title(screen)
            seen["ending"] = str(screen.query_one("#ending-text", Static).render())
            seen["flow"] = [int(r[0]) for r in table_rows(screen, "#ending-flow").values()]
            seen["streams"] = shown_streams(screen)
            seen["tab"] = screen.query_one("#tabs", TabbedContent).active
            seen["follow"] = len(screen.query_one("#follow-list").messages)
            wire.stop(srv)
            cli.wait(WAIT)
            await pilot.press("q")

    asyncio.run(run())
    assert session.wait(WAIT)
    doc = report(path)
    (a,) = doc["associations"]
    echoed = re.findall(r"Msg of length (\d+)", wire.text("grow-server", "out"))
    assert len(echoed) == 2
    assert "still growing: live capture" in seen["before"] and "[established]" in seen["before"]
    assert "no SHUTDOWN" in seen["ending before"]
    assert f"[{a['state']}]" in seen["after"] and f", {a['packets']} packets" in seen["after"]
    assert "kind: graceful" in seen["ending"] and f"begun by: {a['ending']['by']}" in seen["ending"]
    assert seen["flow"] == sorted(int(r[0]) for r in tshark_fields(str(path), SHUTDOWNS, "frame.number"))
    assert seen["streams"] == stream_figures(a)
    assert seen["follow"] == 2 * len(echoed) == sum(s["messages"] for s in a["streams"])
    assert seen["tab"] == "ending"
