"""Key latency of the terminal UI on a hostile capture (issue 15): `python bench/tui_hostile.py FILE`.

Through Textual's pilot (as the tests drive it), at 160x50:
* while indexing (2 s in): `?` pressed, time until the help screen is on top; escape; then
* `q` pressed 1 s later: time until the app has exited (`quit_while_indexing_s`);
* a second run waits for the end of indexing, presses `i` (statistics, computed in a worker) and, at once,
  `q`: time until the app has exited (`quit_during_statistics_s`), and a third run the time until the
  statistics are shown (`statistics_shown_s`).
Prints the figures as JSON.
"""
from __future__ import annotations

import asyncio
import json
import sys
import time


async def while_indexing(path: str, out: dict) -> None:
    from sctpscope.tui.app import make_app
    from sctpscope.tui.screens.help import HelpScreen

    app = make_app(path)
    async with app.run_test(size=(160, 50)) as pilot:
        await pilot.pause(2.0)
        out["indexing_when_help_pressed"] = app.progress is None or not app.progress.done
        t = time.perf_counter()
        await pilot.press("question_mark")
        while not isinstance(app.screen, HelpScreen):
            await pilot.pause(0.005)
        out["help_shown_s"] = round(time.perf_counter() - t, 3)
        await pilot.press("escape")
        await pilot.pause(1.0)
        out["indexing_when_quit"] = app.progress is None or not app.progress.done
        t = time.perf_counter()
        await pilot.press("q")
    out["quit_while_indexing_s"] = round(time.perf_counter() - t, 3)


async def statistics(path: str, out: dict, quit_at_once: bool) -> None:
    from sctpscope.tui.app import make_app
    from sctpscope.tui.screens.statistics import StatisticsScreen

    app = make_app(path)
    async with app.run_test(size=(160, 50)) as pilot:
        t = time.perf_counter()
        while app.progress is None or not app.progress.done:
            await pilot.pause(0.05)
        out["indexed_s"] = round(time.perf_counter() - t, 1)
        await pilot.pause(0.2)
        t = time.perf_counter()
        await pilot.press("i")
        if quit_at_once:
            await pilot.pause(0.05)
            t = time.perf_counter()
            await pilot.press("q")
        else:
            while not isinstance(app.screen, StatisticsScreen):
                await pilot.pause(0.005)
            out["statistics_screen_s"] = round(time.perf_counter() - t, 3)
            await app.workers.wait_for_complete()
            out["statistics_shown_s"] = round(time.perf_counter() - t, 3)
            t = time.perf_counter()
            await pilot.press("q")
    out["quit_during_statistics_s" if quit_at_once else "quit_after_statistics_s"] = round(time.perf_counter() - t, 3)


def main() -> None:
    path = sys.argv[1]
    out: dict = {"capture": path}
    asyncio.run(while_indexing(path, out))
    print(json.dumps(out), flush=True)
    asyncio.run(statistics(path, out, True))
    print(json.dumps(out), flush=True)
    asyncio.run(statistics(path, out, False))
    print(json.dumps(out, indent=1))


if __name__ == "__main__":
    main()
