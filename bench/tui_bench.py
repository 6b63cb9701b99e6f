#!/usr/bin/env python3
"""Benchmark of the terminal UI on a large capture (not a test: it reports, it asserts nothing).

    python bench/make_capture.py -n 1000000 -o /tmp/big.pcap       # ~10 s, ~160 MiB, not committed
    .venv/bin/python bench/tui_bench.py /tmp/big.pcap [--json out.json]

Runs the real app headless (Textual's test driver, 160x50) and reports:

* time to the first association row in the list (progressive indexing),
* time to the full index (every frame analysed, the list final),
* the time to quit while indexing (q pressed one second in),
* opening the association with the most packets and visiting every tab: the time to each tab's first rows;
  in the timeline the time to `End`, `Home`, a jump to a frame, `n` (next retransmission), `h`, `e`, `c`
  (unfold every run) then `End`; in the TSN graph three zooms, a pan, `n`, `0`,
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


def rss_now_mib() -> float:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


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
        await browse(app, pilot, biggest, out)


async def wait_for(pilot, cond, limit: float = 900.0) -> float | None:
    """Seconds until cond() holds (polled every 5 ms with asyncio.sleep: Pilot.pause waits for the process
    to be idle, which it is not while a worker scans), None after `limit`."""
    t = time.perf_counter()
    while not _safe(cond):
        if time.perf_counter() - t > limit:
            return None
        await asyncio.sleep(0.005)
    await asyncio.sleep(0)
    return round(time.perf_counter() - t, 3)


def _safe(f):
    try:
        return f()
    except Exception:       # noqa: BLE001 - a view not filled yet
        return False


ACTIONS = {      # key -> (widget id or None for the screen, action): what the key runs, without Pilot's
    "end": ("#ladder", "edge(1)"), "home": ("#ladder", "edge(0)"), "n": ("#ladder", "next_rtx(1)"),   # waits
    "h": ("#ladder", "jump('handshake')"), "e": ("#ladder", "jump('ending')"), "c": ("#ladder", "fold_all"),
    "plus": ("#graph", "zoom(0.5)"), "greater_than_sign": ("#graph", "pan(1)"), "gn": ("#graph", "rtx(1)"),
    "0": ("#graph", "reset"),
    **{str(k): (None, f"tab('{n}')") for k, n in enumerate(
        ("overview", "timeline", "streams", "ending", "events", "anomalies", "follow", "graphs"), 1)},
}


async def press(app, *keys: str) -> None:
    """Run the keys' actions as the bindings do (Pilot.press waits for the process to be idle, which it is
    not while a worker scans: its times would be the waits')."""
    for key in keys:
        where, action = ACTIONS[key]
        for _ in range(500):
            try:
                await app.run_action(action, app.screen if where is None else app.screen.query_one(where))
                break
            except ValueError:      # the screen's tabs not mounted yet
                await asyncio.sleep(0.01)
        await asyncio.sleep(0)


async def browse(app, pilot, biggest: dict, out: dict) -> None:
    """Open the association and visit every tab: the time to each tab's first rows, to the end of the
    timeline, a jump to a frame, the next retransmission, a graph zoom; peak RSS after each. Times are taken
    until the widget holds what it shows (it is drawn at the next refresh)."""
    from textual.widgets import TabbedContent

    t1 = time.perf_counter()
    app.home.open_key(biggest["_key"])
    await wait_for(pilot, lambda: app.screen.query_one("#ladder") is not None)
    screen = app.screen
    ladder = screen.query_one("#ladder")
    tabs = screen.query_one("#tabs", TabbedContent)
    await press(app, "2")
    names = {"1": "overview", "2": "timeline", "3": "streams", "4": "ending", "5": "events", "6": "anomalies",
             "7": "follow", "8": "graphs"}
    tab_ready = {
        "2": lambda: ladder.row_count() > 0 and ladder.render_row(0, 100) is not None,
        "3": lambda: screen.query_one("#ordering").row_count() > 0,
        "4": lambda: screen.query_one("#ending-flow").row_count > 0,
        "7": lambda: screen.query_one("#follow-list").row_count() > 0
        and screen.query_one("#follow-list").render_row(0, 100) is not None,
        "8": lambda: screen.query_one("#graph").series is not None
        and "decoding" not in screen.query_one("#graph").render().plain[:40],
    }
    await wait_for(pilot, tab_ready["2"])
    out["open_to_timeline_rows_s"] = round(time.perf_counter() - t1, 3)
    out["timeline_rows"] = ladder.row_count()
    for key in "13456782":
        t = time.perf_counter()
        await press(app, key)
        await wait_for(pilot, lambda: tabs.active == names[key])
        if key in tab_ready:
            await wait_for(pilot, tab_ready[key])
        out[f"tab{key}_first_rows_s"] = round(time.perf_counter() - t, 3)
    out["rss_after_tabs_mib"] = round(rss_mib(), 1)
    # a large association is scanned into its compact index meanwhile: the jumps below go across all of it
    samples = []
    next_sample = [0.0]

    def scanned() -> bool:
        now = time.perf_counter()
        if now >= next_sample[0]:
            next_sample[0] = now + 20
            idx = getattr(screen, "index", None)
            samples.append((idx.packets if idx is not None else None, round(rss_now_mib())))
        return not screen.decoding
    await wait_for(pilot, scanned)
    out["rss_during_scan_mib"] = samples
    await pilot.pause()
    out["open_to_complete_index_s"] = round(time.perf_counter() - t1, 3)
    index = getattr(screen, "index", None)
    if index is not None:
        out["index_bytes_per_packet"] = round(index.nbytes() / max(1, index.packets), 1)
    out["rss_after_complete_index_mib"] = round(rss_mib(), 1)
    t = time.perf_counter()              # Streams again, the index complete: a stream's messages
    await press(app, "3")
    await wait_for(pilot, lambda: tabs.active == "streams")
    await wait_for(pilot, lambda: screen.stream_shown in screen.orders
                   and screen.query_one("#ordering").row_count() > 0, 300)
    out["tab3_after_scan_s"] = round(time.perf_counter() - t, 3)
    out["rss_after_tab3_mib"] = round(rss_now_mib())
    await press(app, "2")
    ladder.focus()
    await pilot.pause()
    jumps = {}
    rss_now = {"complete": round(rss_now_mib())}

    async def jump(label: str, keys, moved) -> None:
        before = ladder.cursor
        t = time.perf_counter()
        await press(app, *keys)
        await wait_for(pilot, lambda: moved(before), 60)
        ladder.render_row(ladder.cursor, 200)
        jumps[label] = time.perf_counter() - t
        rss_now[label] = round(rss_now_mib())
    await jump("timeline_end_s", ("end",), lambda b: ladder.cursor == ladder.row_count() - 1)
    out["timeline_end_row"] = ladder.render_row(ladder.cursor, 200).plain
    await jump("timeline_home_s", ("home",), lambda b: ladder.cursor == 0)
    mid = biggest["first_frame"] + (biggest["last_frame"] - biggest["first_frame"]) * 2 // 3
    t = time.perf_counter()
    ladder.jump_to_frame(mid)
    ladder.render_row(ladder.cursor, 200)
    jumps["jump_to_frame_s"] = time.perf_counter() - t
    await pilot.pause()
    out["jump_to_frame_row"] = ladder.render_row(ladder.cursor, 200).plain
    await jump("next_rtx_s", ("n",), lambda b: ladder.cursor != b)
    await jump("handshake_s", ("h",), lambda b: ladder.cursor != b)
    await jump("ending_s", ("e",), lambda b: ladder.cursor != b)
    rows = ladder.row_count()
    await jump("unfold_all_s", ("c",), lambda b: ladder.row_count() != rows)
    await jump("end_unfolded_s", ("end",), lambda b: ladder.cursor == ladder.row_count() - 1)
    out["timeline_rows_unfolded"] = ladder.row_count()
    await press(app, "8")
    await wait_for(pilot, lambda: tabs.active == "graphs")
    graph = screen.query_one("#graph")
    graph.focus()
    await pilot.pause()
    for label, keys in (("graph_zoom_in_s", ("plus",) * 3), ("graph_pan_s", ("greater_than_sign",)),
                        ("graph_next_rtx_s", ("gn",)), ("graph_zoom_reset_s", ("0",))):
        before = (graph.view, graph.sel)
        t = time.perf_counter()
        await press(app, *keys)
        await wait_for(pilot, lambda: (graph.view, graph.sel) != before, 10)
        graph.render()
        jumps[label] = time.perf_counter() - t
        rss_now[label] = round(rss_now_mib())
    out.update({k: round(v, 3) for k, v in jumps.items()})
    out["rss_now_mib"] = rss_now
    out["slowest_jump_s"] = round(max(jumps.values()), 3)
    out["open_to_everything_s"] = round(time.perf_counter() - t1, 3)
    out["rss_after_browse_mib"] = round(rss_mib(), 1)


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
    ap.add_argument("--no-quit", action="store_true", help="skip quitting while indexing")
    args = ap.parse_args()
    out: dict = {"capture": args.capture, "size_mib": round(os.path.getsize(args.capture) / 2**20, 1)}
    if not args.no_quit:
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
