#!/usr/bin/env python3
"""Benchmark of the terminal UI on a large capture (not a test: it reports, it asserts nothing).

    python bench/make_capture.py -n 1000000 -o /tmp/big.pcap       # ~10 s, ~160 MiB, not committed
    .venv/bin/python bench/tui_bench.py /tmp/big.pcap [--json out.json]

Runs the real app headless (Textual's test driver, 160x50) and reports:

* time to the first association row in the list (progressive indexing),
* time to the full index (every frame analysed, the list final),
* the time to quit while indexing (q pressed one second in),
* opening the association with the most packets: time until its timeline (every packet decoded again)
  is drawn, and the time to move to the end of its ladder and back,
* the same analysis without the UI (`sctpscope.analysis.runner.analyse`, one process) for comparison,
* peak RSS of the process (ru_maxrss), after each phase.
"""
from __future__ import annotations

import argparse
import asyncio
import json
import os
import resource
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)


def rss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


async def index_run(path: str, out: dict) -> None:
    from sctpscope.tui.app import make_app

    t0 = time.perf_counter()
    app = make_app(path)
    async with app.run_test(size=(160, 50)) as pilot:
        table = app.home.query_one("#associations")
        first = None
        while first is None:                      # poll until the first row shows
            await pilot.pause(0.01)
            if table.row_count():
                first = time.perf_counter() - t0
        await app.workers.wait_for_complete()     # then no polling: the UI only reacts to the worker
        await pilot.pause()
        assert app.progress.done
        done = time.perf_counter() - t0
        await pilot.pause()
        out["first_row_s"] = round(first, 3)
        out["full_index_s"] = round(done, 3)
        out["frames"] = app.progress.frames
        out["associations"] = table.row_count()
        out["rss_after_index_mib"] = round(rss_mib(), 1)
        # the association with the most packets
        biggest = max(app.home.associations, key=lambda a: a["packets"])
        out["biggest_association_packets"] = biggest["packets"]
        t1 = time.perf_counter()
        app.home.open_key(biggest["_key"])
        await pilot.pause()
        await pilot.press("2")
        screen = app.screen
        while screen.timeline is None:
            await pilot.pause(0.01)
        await pilot.pause()
        out["open_biggest_timeline_s"] = round(time.perf_counter() - t1, 3)
        ladder = screen.query_one("#ladder")
        out["timeline_rows"] = ladder.row_count()
        t2 = time.perf_counter()
        await pilot.press("c", "end")                  # unfold every run, go to the last chunk
        await pilot.pause()
        await pilot.press("home")
        await pilot.pause()
        out["unfold_all_end_home_s"] = round(time.perf_counter() - t2, 3)
        out["timeline_rows_unfolded"] = ladder.row_count()
        out["rss_after_timeline_mib"] = round(rss_mib(), 1)


async def quit_run(path: str, out: dict) -> None:
    from sctpscope.tui.app import make_app

    app = make_app(path)
    async with app.run_test(size=(160, 50)) as pilot:
        await pilot.pause(1.0)
        indexing = app.progress is not None and not app.progress.done
        t = time.perf_counter()
        await pilot.press("q")
        await app.workers.wait_for_complete()
    out["quit_while_indexing_s"] = round(time.perf_counter() - t, 3)
    out["quit_was_while_indexing"] = indexing


def headless(path: str, out: dict) -> None:
    from sctpscope.analysis.runner import analyse

    t = time.perf_counter()
    res = analyse([path], jobs=1)
    out["analysis_without_ui_s"] = round(time.perf_counter() - t, 3)
    out["analysis_without_ui_associations"] = len(res.associations)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("capture")
    ap.add_argument("--json", metavar="OUT", help="also write the figures as JSON")
    ap.add_argument("--no-headless", action="store_true", help="skip the analysis without the UI")
    args = ap.parse_args()
    out: dict = {"capture": args.capture, "size_mib": round(os.path.getsize(args.capture) / 2**20, 1)}
    asyncio.run(quit_run(args.capture, out))
    asyncio.run(index_run(args.capture, out))
    if not args.no_headless:
        headless(args.capture, out)
    out["peak_rss_mib"] = round(rss_mib(), 1)
    width = max(map(len, out))
    for k, v in out.items():
        print(f"{k:<{width}}  {v}")
    if args.json:
        with open(args.json, "w", encoding="utf-8") as f:
            json.dump(out, f, indent=1)
    return 0


if __name__ == "__main__":
    sys.exit(main())
