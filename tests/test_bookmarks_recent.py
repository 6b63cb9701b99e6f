"""Comfort features of issue #6: bookmarks on frames, the recent-files list (and where that state lives),
and search in the timeline.

Truths: tshark (the TSNs and chunks of the frames bookmarked or searched for) and the usrsctp peers' log of
the scenario opened from the recent list; the state files are read back as plain JSON.
"""
from __future__ import annotations

import json
import os
import sys
import time

import pytest

pytest.importorskip("textual")

from textual.widgets import OptionList, Static  # noqa: E402

from conftest import CAPTURES, run_sctpscope, tshark_required  # noqa: E402
from sctpscope.state import State, state_dir  # noqa: E402
from sctpscope.tui.app import make_app  # noqa: E402
from sctpscope.tui.dialogs.bookmarks import BookmarksScreen  # noqa: E402
from sctpscope.tui.dialogs.prompt import PromptScreen  # noqa: E402
from sctpscope.tui.dialogs.recent import RecentScreen  # noqa: E402
from sctpscope.tui.screens.associations import AssociationsScreen  # noqa: E402
from sctpscope.tui.screens.packet import PacketScreen  # noqa: E402
from tui_support import SIZE, loaded, pilot_test, plain, scenario_log, settle, tshark_fields  # noqa: E402

LOSS = "scenario__loss_retransmit.pcapng"


@pytest.fixture(autouse=True)
def _own_state(tmp_path, monkeypatch):
    """State goes to a directory of this test, never to the user's."""
    monkeypatch.setenv("SCTPSCOPE_STATE_DIR", str(tmp_path / "state"))
    return tmp_path / "state"


def notices(app) -> list[str]:
    return [n.message for n in app._notifications]


# -- where the state lives, how it is written ---------------------------------------------------------------
def test_state_directory_follows_the_environment(monkeypatch, tmp_path):
    monkeypatch.delenv("SCTPSCOPE_STATE_DIR")
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    monkeypatch.delenv("XDG_STATE_HOME", raising=False)
    assert state_dir() == tmp_path / "home" / ".local" / "state" / "sctpscope"
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "xdg"))
    assert state_dir() == tmp_path / "xdg" / "sctpscope"
    monkeypatch.setenv("XDG_STATE_HOME", "relative/ignored")          # the spec: relative paths are invalid
    assert state_dir() == tmp_path / "home" / ".local" / "state" / "sctpscope"
    monkeypatch.setenv("SCTPSCOPE_STATE_DIR", str(tmp_path / "mine"))
    assert state_dir() == tmp_path / "mine"


def test_recent_list_is_newest_first_once_per_capture(_own_state, tmp_path):
    a, b = CAPTURES / LOSS, CAPTURES / "pkts__sctp-www.cap"
    st = State()
    assert st.remember([str(a)], when=100.0) and st.remember([str(b), str(a)], when=200.0)
    assert st.remember([str(a)], when=300.0)
    assert [(r.paths, r.opened) for r in State().recent()] == [((str(a),), 300.0), ((str(b), str(a)), 200.0)]
    doc = json.loads((_own_state / "recent.json").read_text())
    assert doc["version"] == 1 and [e["opened"] for e in doc["recent"]] == [300.0, 200.0]
    assert sorted(os.listdir(_own_state)) == ["recent.json"]              # no temporary file left behind
    assert not State().notices


def test_corrupt_state_is_ignored_with_a_notice(_own_state):
    _own_state.mkdir()
    (_own_state / "recent.json").write_text('{"version": 1, "recent": [')
    (_own_state / "bookmarks.json").write_text('["not", "ours"]')
    st = State()
    assert st.recent() == [] and st.bookmarks([str(CAPTURES / LOSS)]) == []
    assert len(st.notices) == 2 and all(n.startswith("ignored the state file ") for n in st.notices)
    assert st.set_bookmarks([str(CAPTURES / LOSS)], [26])                    # and the next save replaces it
    assert json.loads((_own_state / "bookmarks.json").read_text()) == \
        {"version": 1, "captures": {str(CAPTURES / LOSS): [26]}}


def test_unwritable_state_is_a_notice_not_an_error(tmp_path, monkeypatch):
    blocker = tmp_path / "a-file"
    blocker.write_text("")
    monkeypatch.setenv("SCTPSCOPE_STATE_DIR", str(blocker / "state"))
    st = State()
    assert not st.remember([str(CAPTURES / LOSS)])
    assert len(st.notices) == 1 and st.notices[0].startswith(f"cannot save {blocker / 'state' / 'recent.json'}")


# -- `sctpscope` without FILE ---------------------------------------------------------------------------------
def test_no_file_without_terminal_lists_recent_or_prints_usage(_own_state, tmp_path):
    proc = run_sctpscope()
    assert proc.returncode == 2 and proc.stdout.startswith("usage: sctpscope") and "Traceback" not in proc.stderr
    gone = tmp_path / "gone.pcap"
    State().remember([str(gone)], when=time.time() - 60)
    State().remember([str(CAPTURES / LOSS)])
    proc = run_sctpscope(check=True)
    lines = proc.stdout.splitlines()
    assert len(lines) == 2 and lines[0].endswith(f"  {CAPTURES / LOSS}") and lines[1].endswith(f"  {gone}  [missing]")
    (_own_state / "recent.json").write_text("garbage")
    proc = run_sctpscope()
    assert proc.returncode == 2 and proc.stderr.startswith("sctpscope: ignored the state file ")
    assert proc.stdout.startswith("usage: sctpscope")


def test_no_file_on_a_terminal_opens_the_picker(monkeypatch):
    import sctpscope.tui
    from sctpscope import cli

    class Tty:
        def isatty(self):
            return True

        def write(self, s):
            return len(s)

    State().remember([str(CAPTURES / LOSS)])
    opened = []
    monkeypatch.setattr(sctpscope.tui, "run", lambda paths, **kw: opened.append(list(paths)))
    monkeypatch.setattr(sys, "stdout", Tty())
    assert cli.main([]) == 0 and opened == [[]]


@pilot_test
async def test_every_capture_opened_is_remembered(_own_state):
    app = make_app(CAPTURES / "pkts__sctp-www.cap")
    async with app.run_test(size=SIZE) as pilot:
        await loaded(app, pilot)
    (first,) = State().recent()
    assert first.paths == (str(CAPTURES / "pkts__sctp-www.cap"),) and time.time() - first.opened < 60


@pilot_test
async def test_recent_picker_marks_missing_files_and_opens_one(tmp_path):
    """Newest first; the missing file is marked and does not open; enter on the other opens it in place
    of the picker: the list shows one association per client of the scenario's log, and it moves first."""
    chat = CAPTURES / "scenario__sendall_chat.pcapng"
    State().remember([str(chat)], when=1000.0)
    State().remember([str(tmp_path / "gone.pcapng")], when=2000.0)
    app = make_app([])
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        assert isinstance(app.screen, RecentScreen)
        box = app.screen.query_one("#recent-list", OptionList)
        labels = [box.get_option_at_index(i).prompt.plain for i in range(box.option_count)]
        assert labels[0].endswith(f"{tmp_path / 'gone.pcapng'}  [missing]") and labels[1].endswith(str(chat))
        await pilot.press("enter")                         # the missing one: a notice, still the picker
        await pilot.pause()
        assert isinstance(app.screen, RecentScreen)
        assert any("no longer there" in n for n in notices(app))
        await pilot.press("down", "enter")
        screen = await loaded(app, pilot)
        assert isinstance(screen, AssociationsScreen) and app.paths == [str(chat)]
        clients = {r["role"] for r in scenario_log("sendall_chat") if r["ev"] == "connect"}
        assert screen.query_one("#associations").row_count() == len(clients) == 3
    assert State().recent()[0].paths == (str(chat),)


# -- bookmarks ------------------------------------------------------------------------------------------------
async def goto_frame(app, pilot, number: int) -> None:
    await pilot.press("colon")
    await pilot.pause()
    assert isinstance(app.screen, PromptScreen)
    await pilot.press(*str(number), "enter")
    await pilot.pause()


@tshark_required
@pilot_test
async def test_bookmarks_toggle_list_open_and_persist(_own_state):
    """b on frames 26 and 14 of loss_retransmit, B lists them in frame order with their summary (the TSNs
    tshark reads in each), enter opens one; a new app on the same capture has them; d removes one."""
    tsns = {int(f): t.split(",") for f, t in tshark_fields(LOSS, "frame.number == 14 || frame.number == 26",
                                                            "frame.number", "sctp.data_tsn_raw")}
    app = make_app(CAPTURES / LOSS)
    async with app.run_test(size=SIZE) as pilot:
        await loaded(app, pilot)
        await goto_frame(app, pilot, 26)
        assert isinstance(app.screen, PacketScreen) and app.screen.frame == 26
        await pilot.press("b")
        await pilot.pause()
        assert plain(app.screen.query_one("#packet-title", Static)).endswith("★ bookmarked")
        await pilot.press("escape")
        await goto_frame(app, pilot, 14)
        await pilot.press("b", "B")
        await pilot.pause()
        assert isinstance(app.screen, BookmarksScreen)
        box = app.screen.query_one("#bookmarks-list", OptionList)
        rows = [box.get_option_at_index(i).prompt.plain for i in range(box.option_count)]
        assert [int(r.split()[0]) for r in rows] == [14, 26]
        for row, frame in zip(rows, (14, 26)):
            assert [x.split()[0] for x in row.split("DATA(TSN=")[1:]] == tsns[frame]
        await pilot.press("down", "enter")
        await pilot.pause()
        assert isinstance(app.screen, PacketScreen) and app.screen.frame == 26
        assert plain(app.screen.query_one("#packet-title", Static)).startswith("bookmarks, frame 26 (2 of 2)")
    assert json.loads((_own_state / "bookmarks.json").read_text())["captures"] == {str(CAPTURES / LOSS): [14, 26]}

    app = make_app(CAPTURES / LOSS)
    async with app.run_test(size=SIZE) as pilot:
        await loaded(app, pilot)
        assert app.bookmarks == {14, 26}
        await pilot.press("B")
        await pilot.pause()
        await pilot.press("d")                             # the highlighted one: frame 14
        await pilot.pause()
        box = app.screen.query_one("#bookmarks-list", OptionList)
        assert box.option_count == 1 and box.get_option_at_index(0).prompt.plain.split()[0] == "26"
        await pilot.press("escape")
        await goto_frame(app, pilot, 26)
        await pilot.press("b")                             # toggles it off again
        await pilot.pause()
        assert "★" not in plain(app.screen.query_one("#packet-title", Static))
    assert State().bookmarks([str(CAPTURES / LOSS)]) == []


@pilot_test
async def test_bookmarks_are_per_capture():
    State().set_bookmarks([str(CAPTURES / LOSS)], [3])
    app = make_app(CAPTURES / "pkts__sctp-www.cap")
    async with app.run_test(size=SIZE) as pilot:
        await loaded(app, pilot)
        assert app.bookmarks == set()
        await pilot.press("B")
        await pilot.pause()
        assert app.screen.query_one("#bookmarks-list", OptionList).option_count == 0
        assert "no bookmark yet" in plain(app.screen.query_one("#bookmarks-help", Static))


# -- search in the timeline -----------------------------------------------------------------------------------
async def search(app, pilot, text: str) -> None:
    await pilot.press("slash")
    await pilot.pause()
    assert isinstance(app.screen, PromptScreen)
    await pilot.press(*text, "enter")
    await pilot.pause()


@tshark_required
@pilot_test
async def test_timeline_search_unfolds_and_steps_through_matches():
    """loss_retransmit: the first TSN tshark calls retransmitted is in two frames (tshark); / finds the first
    inside the folded DATA/SACK run (unfolding it), ] the retransmission, ] says no further match, [ goes
    back; a search is case-insensitive (shutdown_complete: tshark's chunk type 14); ABORT: no match."""
    ((first_rtx,),) = [r[:1] for r in tshark_fields(LOSS, "sctp.retransmission", "sctp.data_tsn_raw",
                                                    extra=("-o", "sctp.tsn_analysis:TRUE"))][:1]
    tsn = first_rtx.split(",")[0]
    frames = [int(f) for (f,) in tshark_fields(LOSS, f"sctp.data_tsn_raw == {tsn}", "frame.number")]
    ((complete,),) = tshark_fields(LOSS, "sctp.chunk_type == 14", "frame.number")
    assert len(frames) == 2
    app = make_app(CAPTURES / LOSS)
    async with app.run_test(size=SIZE) as pilot:
        await loaded(app, pilot)
        await pilot.press("enter", "2")
        await settle(app, pilot)
        ladder = app.screen.query_one("#ladder")
        assert ladder.has_focus and not ladder.unfolded                  # the run starts folded
        await search(app, pilot, f"TSN={tsn}")
        step = ladder.step_at()
        assert ladder.has_focus and (step.frame, step.tsn, step.retransmission) == (frames[0], int(tsn), False)
        assert ladder.unfolded
        await pilot.press("right_square_bracket")
        await pilot.pause()
        step = ladder.step_at()
        assert (step.frame, step.tsn, step.retransmission) == (frames[1], int(tsn), True)
        await pilot.press("right_square_bracket")
        await pilot.pause()
        assert ladder.step_at() is step and any(f"no further match for TSN={tsn}" in n for n in notices(app))
        await pilot.press("left_square_bracket")
        await pilot.pause()
        assert ladder.step_at().frame == frames[0]
        await search(app, pilot, "shutdown_complete")
        assert str(ladder.step_at().frame) == complete and ladder.step_at().type == 14
        await search(app, pilot, "ABORT")
        assert str(ladder.step_at().frame) == complete
        assert any("no match for ABORT in this timeline" in n for n in notices(app))
