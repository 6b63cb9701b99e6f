"""A large association in the terminal UI, browsed from its compact index (analysis.lazyassoc): what the
Timeline shows at its end, after a search, after a jump to a frame and at the next retransmission, and what
Follow shows for a message, equal what `sctpscope ladder` and `sctpscope follow` print for those frames.

The capture is bench/make_capture.py's (one association of 30 000 packets, stand-alone generator); the
threshold above which the screen uses the compact index is lowered to 0 so that it does here.
"""
from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

pytest.importorskip("textual")

from sctpscope.export.follow import message_lines  # noqa: E402
from sctpscope.tui import screens  # noqa: E402,F401
from sctpscope.tui.app import make_app  # noqa: E402
from tui_support import loaded, pilot_test  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
WIDTH = 140
PACKETS = 30000


@pytest.fixture(scope="module")
def large(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("large") / "one.pcap"
    subprocess.run([sys.executable, str(ROOT / "bench" / "make_capture.py"), "-n", str(PACKETS), "--associations",
                    "1", "--mean-life", "1000000000", "--seed", "5", "-o", str(out), "-q"], check=True)
    return out


def _cli(*args) -> list[str]:
    res = subprocess.run([sys.executable, "-m", "sctpscope", *map(str, args)], capture_output=True, text=True,
                         check=True)
    return res.stdout.splitlines()


@pytest.fixture(scope="module")
def ladder_cli(large) -> list[str]:
    """`sctpscope ladder` unfolded: one line per chunk, after the title and the lanes' header."""
    return _cli("ladder", large, "-a", "1", "--width", WIDTH)[2:]


@pytest.fixture
def lazy(monkeypatch):
    from sctpscope.tui.screens import association

    monkeypatch.setattr(association, "LAZY_MIN", 0)


async def _open(app, pilot, tab: str):
    await loaded(app, pilot)
    await pilot.press("enter", tab)
    screen = app.screen
    for _ in range(3000):                      # the scan of the compact index, in its worker
        await pilot.pause(0.01)
        if screen.index is not None and screen.index.complete and not screen.decoding:
            break
    await pilot.pause()
    assert screen.lazy and screen.index.complete
    return screen


def _shown(ladder) -> str:
    return ladder.render_row(ladder.cursor, WIDTH).plain


def _frame(line: str) -> int:
    return int(line.split()[0])


@pilot_test
async def test_large_timeline_end_search_jump_equal_the_ladder(large, ladder_cli, lazy):
    app = make_app(large)
    async with app.run_test(size=(WIDTH + 2, 40)) as pilot:
        screen = await _open(app, pilot, "2")
        ladder = screen.query_one("#ladder")
        assert len(screen.timeline.steps) == len(ladder_cli)
        assert screen.index.nbytes() / screen.index.packets < 64          # the README's figure, with room
        # End: the last chunk, as the last line of the ladder
        await pilot.press("end")
        await pilot.pause()
        assert _shown(ladder) == ladder_cli[-1]
        await pilot.press("home")
        await pilot.pause()
        # a search: a TSN two thirds in, inside a folded run; the first line holding it
        target = next(line for line in ladder_cli[len(ladder_cli) * 2 // 3:] if "DATA TSN=" in line)
        tsn = re.search(r"TSN=(\d+)", target)[1]
        await pilot.press("slash")
        await pilot.pause()
        await pilot.press(*f"TSN={tsn}", "enter")
        for _ in range(2000):
            await pilot.pause(0.01)
            if not ladder.searching and ladder.step_at() is not None and ladder.step_at().tsn == int(tsn):
                break
        first = next(line for line in ladder_cli if f"TSN={tsn} " in line + " ")
        assert _shown(ladder) == first
        # ] the next match: the next line holding it (its retransmission, or none)
        later = [line for line in ladder_cli[ladder_cli.index(first) + 1:] if f"TSN={tsn} " in line + " "]
        await pilot.press("right_square_bracket")
        for _ in range(2000):
            await pilot.pause(0.01)
            if not ladder.searching:
                break
        await pilot.pause()
        assert _shown(ladder) == (later[0] if later else first)
        # a jump to a frame: the first chunk of that frame (or the next one the association has)
        frame = _frame(ladder_cli[len(ladder_cli) // 3])
        ladder.jump_to_frame(frame)
        await pilot.pause()
        assert _shown(ladder) == next(line for line in ladder_cli if _frame(line) >= frame)
        # n: the next retransmission after it
        here = ladder_cli.index(_shown(ladder))
        await pilot.press("n")
        await pilot.pause()
        rtx = [line for line in ladder_cli[here + 1:] if "⟲" in line]
        if rtx:
            assert _shown(ladder) == rtx[0]
        # e, h: the ending and the handshake
        await pilot.press("e")
        await pilot.pause()
        assert _shown(ladder) == next(line for line in ladder_cli if "SHUTDOWN" in line or "ABORT" in line)
        await pilot.press("h")
        await pilot.pause()
        assert _shown(ladder) == ladder_cli[0]
        # c unfolds every run: the rows are then the ladder's lines, one for one, plus the runs' lines
        await pilot.press("c")
        await pilot.pause()
        steps = [i for i in range(ladder.row_count()) if ladder.rows[i] >= 0]
        assert len(steps) == len(ladder_cli)
        for i in (steps[0], steps[len(steps) // 2], steps[-1]):
            assert ladder.render_row(i, WIDTH).plain == ladder_cli[ladder.rows[i]]


@pilot_test
async def test_large_follow_equals_follow(large, lazy):
    app = make_app(large)
    async with app.run_test(size=(WIDTH + 2, 40)) as pilot:
        screen = await _open(app, pilot, "7")
        view = screen.query_one("#follow-list")
        n = len(view.shown)
        assert _cli("follow", large, "-a", "1")[-1] == f"{n} message(s)"
        for k in (1, n // 2, n):
            view.cursor = k - 1
            await pilot.pause()
            index, m = view.current()
            assert index == k
            want = _cli("follow", large, "-a", "1", "-m", k)[1:-1]
            got = message_lines(m, k, screen.association["start"])
            assert got[:2] == want[:2]
            assert "\n".join(want[:2]) in "\n".join(got)
        # one stream: s, its messages are follow -s's
        await pilot.press("s")
        await pilot.pause()
        side, sid = view.stream
        want = _cli("follow", large, "-a", "1", "-s", sid)
        mine = [message_lines(view.messages[i], 0, screen.association["start"])[0].split(maxsplit=1)[1]
                for i in view.shown if view.messages[i].direction == side]
        theirs = [line.split(maxsplit=1)[1] for line in want if line.startswith("#")]
        assert [x for x in theirs if (" I→R " if side == 0 else " R→I ") in x][:20] == mine[:20]
