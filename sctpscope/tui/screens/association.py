"""One association in tabs: Overview, Timeline, Streams, Ending, Events, Anomalies, Follow, Graphs.

The association dict (the report's) fills Overview, the stream table, Events and Anomalies at once; a
thread worker decodes the association's packets again (as analysis.indexer.packets_of) for the Timeline, the
streams' ordering views, the ending flow, the reassembled messages (analysis.follow) and the graphs'
series (analysis.series), which appear when it is done.

Opened while the capture is still being indexed, or during a live capture, the association grows: the list
hands each new version on (`update_association`) and the screen shows it again, at most every REFRESH
seconds (and never spending more than a fifth of the time on it), keeping the tab, the cursors, the stream
chosen and the graph's view. Only the frames not decoded yet are read and decoded again: the packets decoded
so far are kept while the association grows, and let go once it is complete.
"""

from __future__ import annotations

import os
import time
from array import array
from dataclasses import dataclass, field

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.message import Message
from textual.screen import Screen
from textual.widgets import DataTable, Footer, Static, TabbedContent, TabPane
from textual.worker import Worker, WorkerState, get_current_worker

from sctpscope.analysis import ordering, series, timeline
from sctpscope.analysis.follow import Follower
from sctpscope.analysis.indexer import KEY, FrameSource, unpack_entry
from sctpscope.analysis.lazyassoc import AssocIndex, FrameNumbers, LazyMessages, LazyTimeline
from sctpscope.export.walk import Rereader
from sctpscope.tui.format import (DIRECTION_ARROWS, I2R, ORDER_HEADER, R2I, STREAM_COLUMNS, beyond_negotiated,
                                  FOLLOW_HEADER, endpoint, endpoint_lines, ending_lines, event_extra,
                                  follow_detail, ladder_header, order_summary, outstanding_text, safe,
                                  stream_row)
from sctpscope.tui.widgets.follow import FollowView
from sctpscope.tui.widgets.graph import Graph
from sctpscope.tui.widgets.ladder import Ladder
from sctpscope.tui.widgets.negotiation import Negotiation, negotiation_table
from sctpscope.tui.widgets.ordering import OrderingView

TABS = ("overview", "timeline", "streams", "ending", "events", "anomalies", "follow", "graphs")
FOLLOW_KEEP = 512           # bytes kept per message for the Follow tab (summaries read 256, previews less)
SIDES = ("initiator", "responder")
REFRESH = 0.5               # seconds at least between two showings of a growing association
GRAPH_CHOICES = ("side", "kind", "stream", "path")     # what the user chose in the graph, kept when it grows
# packets from which an association is browsed from a compact index (analysis.lazyassoc)
LAZY_MIN = int(os.environ.get("SCTPSCOPE_LAZY_MIN", "100000"))
STREAM_MAX = 50_000         # DATA chunks of a large association's stream shown in its ordering view
TAIL = 256                  # last packets of a large association decoded at once for its ending flow
SCAN_SHOW = (0.3, 1.0)      # seconds to the first showing of a scan under way, then between two


@dataclass
class Decoded:
    """What the load worker keeps of a growing association between two showings: the frame entries decoded
    so far and their packets, and the follower fed with them (its complete messages in `messages`)."""

    follower: Follower
    entries: array = field(default_factory=lambda: array("Q"))
    items: list = field(default_factory=list)       # (frame, ts, side, SctpRecord or None, record index)
    messages: list = field(default_factory=list)
    unfollowed: int = 0


class AssociationScreen(Screen):
    """Everything about one association; escape returns to the list."""

    BINDINGS = [Binding("escape", "back", "Back")] + [
        Binding(str(k), f"tab('{name}')", name.capitalize(), show=False) for k, name in enumerate(TABS, 1)] + [
        Binding("t", "show_in_timeline", "In timeline", show=False),
        Binding("x", "export", "Export pcapng"),
    ]

    class Loaded(Message):
        """The packets were decoded again: handled as `on_association_screen_loaded`."""

        def __init__(self, tl: timeline.Timeline, frames: list[int], sr: series.Series | None = None,
                     messages: list | None = None, unfollowed: int = 0,
                     resets: ordering.Resets | None = None) -> None:
            super().__init__()
            self.timeline = tl
            self.frames = frames
            self.series = sr
            self.messages = messages or []
            self.unfollowed = unfollowed
            self.resets = resets or ordering.Resets()

    class Scanned(Message):
        """The scan of a large association went on (`done`: it reached the frames it was given)."""

        def __init__(self, index: AssocIndex, done: bool, total: int) -> None:
            super().__init__()
            self.index = index
            self.done = done
            self.total = total

    class Tail(Message):
        """The last packets of a large association decoded at once: its ending flow before the scan gets there."""

        def __init__(self, index: AssocIndex, tl: timeline.Timeline) -> None:
            super().__init__()
            self.index = index
            self.timeline = tl

    class Saved(Message):
        """The save worker wrote a file (or failed): handled as `on_association_screen_saved`."""

        def __init__(self, text: str, error: bool = False) -> None:
            super().__init__()
            self.text = text
            self.error = error

    def __init__(self, association: dict, *, growing: bool = False, live: bool = False) -> None:
        """`growing`: the capture is still being indexed (or captured, `live`): `update_association` will
        hand on the association's next versions until it is complete."""
        super().__init__()
        self.association = association
        self.key: int = association[KEY]
        self.growing = growing
        self.live = live
        self.timeline: timeline.Timeline | None = None
        self.frames: list[int] = []
        self.orders: dict[tuple[int, int], ordering.StreamOrder] = {}
        self.resets = ordering.Resets()
        self.stream_shown: tuple[int, int] | None = None
        self.flow_steps: list[int] = []
        self.series: series.Series | None = None
        self.last_saved: str | None = None
        self.shown: dict[str, object] = {}            # widget id -> what it shows (see `figures`)
        self.unfollowed = 0
        # refreshing a growing association
        self.decoded: Decoded | None = None           # the load worker's, kept between two loads
        self.decoding = False
        self.pending: tuple[dict, bool] | None = None   # a newer version not shown yet, complete or not
        self.next_refresh = 0.0                       # time.monotonic() before which no refresh starts
        self._load_started = 0.0
        self._refresh_timer = None
        # a large association: the compact index (lazyassoc), scanned in a worker
        self.lazy = association.get("packets", 0) >= LAZY_MIN
        self.index: AssocIndex | None = None
        self.scan_total = 0
        self._status_before = None
        self.tail: timeline.Timeline | None = None     # its last packets, for the ending flow meanwhile
        self.flow_timeline: timeline.Timeline | None = None

    def action_back(self) -> None:
        """escape: cancels a timeline search still scanning a large association, else goes back."""
        if not self.query_one("#ladder", Ladder).cancel_search():
            self.app.pop_screen()

    def title_text(self, a: dict) -> Text:
        """The title line, and while the association may still grow, a notice saying so."""
        t = Text(f"association {a['id']}: {endpoint(a['initiator'])} ⇄ {endpoint(a['responder'])}  "
                 f"[{a['state']}] frames {a['first_frame']}–{a['last_frame']}, {a['packets']} packets")
        if self.growing:
            t.append(f"  ⟳ still growing: {'live capture' if self.live else 'indexing…'}", style="bold yellow")
        return t

    def figures(self, a: dict) -> dict[str, tuple[object, object]]:
        """What the association dict shows outside the tables: widget id -> (what it shows, its renderable)."""
        extra = Text(f"extensions both support: {', '.join(map(safe, a.get('extensions', []))) or 'none'}"
                     f"; primary path changes: {len(a.get('primary_path_changes', []))}")
        beyond = Text("\n".join(beyond_negotiated(a)), style="bold red")
        negotiation = (a["initiator"].get("init"), a["responder"].get("init"), a.get("negotiated"))
        texts = {"title": self.title_text(a), "ep-initiator": endpoint_lines("initiator", a["initiator"]),
                 "ep-responder": endpoint_lines("responder", a["responder"]), "beyond": beyond,
                 "overview-extra": extra, "ending-text": ending_lines(a)}
        out: dict[str, tuple[object, object]] = {k: (t, t) for k, t in texts.items()}
        out["negotiation"] = (negotiation, negotiation_table(a))
        return out

    def compose(self) -> ComposeResult:
        a = self.association
        fig = self.figures(a)
        self.shown = {k: v[0] for k, v in fig.items()}
        yield Static(fig["title"][1], id="title", markup=False)
        with TabbedContent(id="tabs"):
            with TabPane("1 Overview", id="overview"):
                with VerticalScroll():
                    with Horizontal(id="endpoints"):
                        yield Static(fig["ep-initiator"][1], id="ep-initiator", classes="endpoint", markup=False)
                        yield Static(fig["ep-responder"][1], id="ep-responder", classes="endpoint", markup=False)
                    yield Negotiation(a, id="negotiation")
                    yield Static(fig["beyond"][1], id="beyond", markup=False)
                    yield Static(fig["overview-extra"][1], id="overview-extra", markup=False)
                    yield DataTable(id="paths", cursor_type="row")
            with TabPane("2 Timeline", id="timeline"):
                yield Static(ladder_header(a, 120), id="ladder-head", markup=False)
                yield Static(Text(f"decoding {a['packets']} packets…", style="italic"), id="timeline-status",
                             markup=False)
                yield Ladder(id="ladder")
            with TabPane("3 Streams", id="streams"):
                with Vertical():
                    yield DataTable(id="streams-table", cursor_type="row", zebra_stripes=True)
                    yield Static(Text("select a stream (enter) to see its messages in arrival order"),
                                 id="order-summary", markup=False)
                    yield Static(Text(ORDER_HEADER, style="bold"), id="order-header", markup=False)
                    yield OrderingView(id="ordering")
            with TabPane("4 Ending", id="ending"):
                with VerticalScroll():
                    yield Static(fig["ending-text"][1], id="ending-text", markup=False)
                    yield Static(Text("decoding the packets…", style="italic"), id="ending-status", markup=False)
                    yield DataTable(id="ending-flow", cursor_type="row")
            with TabPane("5 Events", id="events"):
                yield DataTable(id="events-table", cursor_type="row")
            with TabPane("6 Anomalies", id="anomalies"):
                yield DataTable(id="anomalies-table", cursor_type="row")
            with TabPane("7 Follow", id="follow"):
                yield Static(Text("decoding the packets…", style="italic"), id="follow-status", markup=False)
                yield Static(Text(FOLLOW_HEADER, style="bold"), id="follow-header", markup=False)
                yield FollowView(id="follow-list")
                yield Static("", id="follow-detail", markup=False)
            with TabPane("8 Graphs", id="graphs"):
                yield Graph(id="graph")
        yield Footer()

    def on_mount(self) -> None:
        self.query_one("#paths", DataTable).add_columns(
            "path src → dst", "packets", "DATA", "rtx", "heartbeats", "HB RTT ms (min/mean/max)", "first frame")
        self.query_one("#streams-table", DataTable).add_columns(*STREAM_COLUMNS)
        self.query_one("#events-table", DataTable).add_columns("frame", "time (s)", "event", "endpoint", "detail")
        self.query_one("#anomalies-table", DataTable).add_columns("frame", "kind", "detail")
        flow = self.query_one("#ending-flow", DataTable)
        flow.add_columns("frame", "+ since start ms", "Δ ms", "sender", "chunk")
        flow.display = False
        self._fill_figures(self.association)
        self._start_load()

    # -- the association dict: Overview, Streams, Ending, Events, Anomalies ---------------------------------
    def _fill_figures(self, a: dict) -> None:
        """Everything the association dict shows, in place: a widget is drawn again only when what it shows
        changed, a table keeps its cursor row."""
        for wid, (what, renderable) in self.figures(a).items():
            if self.shown.get(wid) != what:
                self.shown[wid] = what
                self.query_one(f"#{wid}", Static).update(renderable)
        self.query_one("#beyond").display = bool(beyond_negotiated(a))
        paths = []
        for i, p in enumerate(a.get("paths", [])):
            rtt = p.get("heartbeat_rtt")
            rtt_s = "-" if not rtt else f"{rtt['min'] * 1e3:.1f}/{rtt['mean'] * 1e3:.1f}/{rtt['max'] * 1e3:.1f}"
            paths.append((f"p{i}", [Text(f"{safe(p['src'])} → {safe(p['dst'])}"), *(Text(str(p[k])) for k in (
                "packets", "data_chunks", "retransmissions", "heartbeats")), Text(rtt_s), Text(str(p["first_frame"]))]))
        self._refill(self.query_one("#paths", DataTable), paths)
        streams = []
        for s in a["streams"]:
            row = stream_row(s)
            if s.get("beyond_negotiated"):
                row[0] = Text("⚠ BEYOND " + row[0].plain.lstrip("⚠ "), style="bold red")
            streams.append((f"{DIRECTION_ARROWS.get(s['direction'], '?')}/{s['sid']}", row))
        self._refill(self.query_one("#streams-table", DataTable), streams)
        self._refill(self.query_one("#events-table", DataTable), [
            (f"e{i}", [Text(str(ev["frame"]), justify="right"), Text(f"{ev['ts'] - a['start']:.6f}"),
                       Text(safe(ev["type"])), Text(safe(ev.get("endpoint", ""))), Text(event_extra(ev))])
            for i, ev in enumerate(a["events"])])
        anomalies = [(f"x{i}", [Text(str(x["frame"]), justify="right"), Text(safe(x["kind"])), Text(safe(x["detail"]))])
                     for i, x in enumerate(a["anomalies"])]
        shown, total = len(a["anomalies"]), a.get("anomaly_count", len(a["anomalies"]))
        if total > shown:
            anomalies.append(("more", [Text(""), Text("…"), Text(f"{total - shown} more not kept by the analysis")]))
        self._refill(self.query_one("#anomalies-table", DataTable), anomalies)

    def _refill(self, table: DataTable, rows: list[tuple[str, list[Text]]]) -> None:
        """Show `rows` (key, cells) in `table`. Rows already there (the usual case as an association grows:
        rows are only added at the end) are updated in place and the new ones appended, the cursor staying
        where it is; otherwise the table is filled again with the cursor on the row of the same key, without
        announcing the moves (a stream chosen stays chosen)."""
        old = [r.key.value for r in table.ordered_rows]
        new = [k for k, _ in rows]
        if new[:len(old)] == old:
            columns = list(table.columns)
            for key, cells in rows[:len(old)]:
                for column, was, now in zip(columns, table.get_row(key), cells):
                    if was != now:
                        table.update_cell(key, column, now)
            for key, cells in rows[len(old):]:
                table.add_row(*cells, key=key)
            return
        at = old[table.cursor_row] if 0 <= table.cursor_row < len(old) else None
        with self.prevent(DataTable.RowHighlighted):
            table.clear()
            for key, cells in rows:
                table.add_row(*cells, key=key)
            if at in new:
                table.move_cursor(row=new.index(at), animate=False)

    # -- growing: the list hands on each new version -------------------------------------------------------
    def update_association(self, association: dict, complete: bool = False) -> None:
        """A newer version of this association (`complete`: the last one). Shown at once, or as soon as the
        previous showing is done and REFRESH seconds have passed; versions in between are skipped."""
        if not self.growing:
            return
        self.pending = (association, complete)
        if self.decoding or self._refresh_timer is not None or not self.is_mounted:
            return                                  # picked up when the (first) load ends, or by the timer
        wait = self.next_refresh - time.monotonic()
        if wait > 0:
            self._refresh_timer = self.set_timer(wait, self._refresh)
        else:
            self._refresh()

    def folded(self) -> None:
        """The association was replaced by another: the other direction of a lone flow found (its packets
        now belong to the association that joins both), or an INIT collision folded in."""
        if self.growing:
            self.growing = False
            self.pending = None
            title = self.title_text(self.association).append(
                "  — joined into another association (its other direction found, or an INIT collision): "
                "see the list", style="bold yellow")
            self.shown["title"] = title
            self.query_one("#title", Static).update(title)

    def _refresh(self) -> None:
        self._refresh_timer = None
        if self.pending is None or self.decoding or not self.growing:
            return
        a, complete = self.pending
        self.pending = None
        self.association = a
        self.growing = not complete
        self._fill_figures(a)
        self._start_load()

    def _start_load(self) -> None:
        self.decoding = True
        self._load_started = time.monotonic()
        if not self.lazy and self.association.get("packets", 0) >= LAZY_MIN:
            self.lazy = True        # a growing association (live) outgrew the full decode: the compact index
            self.decoded = None
        if self.lazy:
            self.scan(self.association, not self.growing)
        else:
            self.load(self.association, not self.growing)

    # -- a large association: the compact index ---------------------------------------------------------
    @work(thread=True, exit_on_error=False, group="association")
    def scan(self, association: dict, complete: bool) -> None:
        """Scan the frames not scanned yet into the compact index, showing what is there every second."""
        worker = get_current_worker()
        ix: FrameSource | None = self.app.indexer
        if ix is None:
            return
        view = getattr(ix, "frames_view", None)
        entries = view(association[KEY]) if complete and view is not None else ix.frames_of(association[KEY])
        idx = self.index
        if idx is None or entries[:idx.packets] != idx.entries[:idx.packets]:
            idx = self.index = AssocIndex(association, ix.store, ix.decoder())
        started = time.monotonic()
        nxt = [started + SCAN_SHOW[0]]
        if complete and not idx.packets:     # the ending is at the end: show it before the scan gets there
            from sctpscope.analysis.indexer import packets_of

            tail = timeline.build(packets_of(entries[-TAIL:], ix.store, ix.decoder()))
            self.post_message(self.Tail(idx, tail))

        def progress(n: int) -> None:
            now = time.monotonic()
            if now >= nxt[0]:
                nxt[0] = now + SCAN_SHOW[1]
                self.post_message(self.Scanned(idx, False, len(entries)))
        if idx.scan(entries, complete, lambda: worker.is_cancelled, progress, every=512):
            self.post_message(self.Scanned(idx, True, len(entries)))

    def on_association_screen_scanned(self, message: Scanned) -> None:
        idx = message.index
        if idx is not self.index:
            return
        first = self.timeline is None
        tl = self.timeline = LazyTimeline(idx)
        self.frames = FrameNumbers(idx.entries, idx.packets)
        self.resets = idx.resets
        self.scan_total = message.total
        a = self.association
        note = (f"{len(tl.steps)} chunks in {idx.packets} packets, {len(tl.runs)} folded DATA/SACK runs"
                f" (compact index: {idx.nbytes() / 2**20:.1f} MiB)")
        if not message.done:
            pct = 100 * idx.packets // max(1, message.total)
            note = f"scanning {idx.packets:,} of {message.total:,} packets ({pct}%) · " + note
        if tl.unreadable:
            note += f"; {tl.unreadable} frame(s) could not be decoded again"
        self.query_one("#timeline-status", Static).update(
            Text(note + "; enter on a run unfolds it, on a chunk opens its packet", style="dim"))
        if first:
            self.query_one("#ladder-head", Static).update(ladder_header(a, self.size.width - 2))
        self._show_ladder(tl, first)
        if tl.ending() is not None or self.tail is None:
            self._fill_ending(tl)
        self._fill_follow(LazyMessages(idx, FOLLOW_KEEP), idx.unfollowed)
        self._show_graph(idx.builder.series, first)
        if message.done:        # while the scan goes on, a stream's messages are those of when it was chosen
            self.orders = {}
        if self.query_one("#tabs", TabbedContent).active == "streams":     # else when the tab is shown
            self._show_current_stream()
        if message.done:
            self.decoding = False
            now = time.monotonic()
            self.next_refresh = now + max(REFRESH, 4 * (now - self._load_started))
            if self.pending is not None:
                self.update_association(*self.pending)

    @on(Ladder.SearchProgress, "#ladder")
    def search_progress(self, event: Ladder.SearchProgress) -> None:
        status = self.query_one("#timeline-status", Static)
        if event.done:
            if self._status_before is not None:
                status.update(self._status_before)
                self._status_before = None
            if event.text:
                self.notify(event.text, timeout=2)
            return
        if self._status_before is None:
            self._status_before = status.renderable
        status.update(Text(event.text, style="bold yellow"))

    def on_association_screen_tail(self, message: Tail) -> None:
        if message.index is self.index and not self.index.complete and self.index.ending is None:
            self.tail = message.timeline
            self._fill_ending(self.tail, partial=True)

    def _show_current_stream(self) -> None:
        table = self.query_one("#streams-table", DataTable)
        if self.stream_shown is not None:
            self._show_stream(self._stream_key(self.stream_shown), keep_cursor=True)
        elif table.row_count:
            self._show_stream(table.coordinate_to_cell_key(table.cursor_coordinate).row_key.value)

    @on(TabbedContent.TabActivated, "#tabs")
    def tab_activated(self, event: TabbedContent.TabActivated) -> None:
        if self.lazy and self.timeline is not None and event.pane.id == "streams":
            self._show_current_stream()

    def _chunk_ref(self, frame: int, tsn: int) -> tuple | None:
        """("chunk", record, index) of the DATA chunk of TSN `tsn` in `frame`, for the packet screen."""
        tl = self.timeline
        if tl is None:
            return None
        of = getattr(tl, "steps_of_frame", None)
        candidates = (tl.steps[i] for i in of(frame)) if of is not None else (s for s in tl.steps if s.frame == frame)
        step = next((s for s in candidates if s.frame == frame and s.tsn == tsn), None)
        return ("chunk", step.record, step.index) if step else None

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        if event.worker.group != "association" or event.state not in (WorkerState.ERROR, WorkerState.CANCELLED):
            return
        self.decoding = False
        if event.state == WorkerState.ERROR:
            self.query_one("#timeline-status", Static).update(Text(
                f"could not decode the packets again: {safe(type(event.worker.error).__name__)}: "
                f"{safe(event.worker.error)}", style="bold red"))

    # -- decoding the association's packets again ---------------------------------------------------------
    @work(thread=True, exit_on_error=False, group="association")
    def load(self, association: dict, complete: bool) -> None:
        """Decode the frames not decoded yet (all of them the first time, or when the association's frames or
        endpoints changed otherwise than by growing), then build the views from every packet."""
        worker = get_current_worker()
        ix: FrameSource | None = self.app.indexer
        if ix is None:
            return
        entries = ix.frames_of(association[KEY])
        follower = Follower.for_association(association, keep_bytes=FOLLOW_KEEP)
        d = self.decoded
        if d is None or d.follower.eps != follower.eps or entries[:len(d.entries)] != d.entries:
            d = self.decoded = Decoded(follower)
        done = len(d.entries)
        sb = series.Builder()

        def packets():
            """The packets decoded before, then the new ones, as analysis.indexer.packets_of, feeding the series
            and the follower (which needs the bytes); the new ones are kept unless this is the last load."""
            for item in d.items:
                sb.add(item)
                yield item
            reader = Rereader(ix.store, ix.decoder())
            for e in entries[done:]:
                if worker.is_cancelled:
                    return
                number, index, side = unpack_entry(e)
                try:
                    frame, payloads = reader.read(number)
                except (KeyError, OSError, ValueError):
                    item = (number, 0.0, side, None, index)
                else:
                    recs = [(r, b) for r, b in zip(frame.sctp, payloads) if r.packet.header_ok]
                    rec, data = recs[index] if index < len(recs) else (None, b"")
                    item = (number, frame.ts, side, rec, index)
                    if rec is not None:
                        d.messages.extend(d.follower.packet(rec, data))
                    else:
                        d.unfollowed += 1
                d.entries.append(e)
                if not complete:
                    d.items.append(item)
                sb.add(item)
                yield item
        resets = ordering.Resets()
        tl = timeline.build(resets.watch(packets()))
        if worker.is_cancelled:
            return
        if complete:
            messages = d.messages + d.follower.finish()
            self.decoded = None
        else:   # the messages still missing fragments, as if the capture ended now
            messages = d.messages + d.follower.incomplete()
        self.post_message(self.Loaded(tl, [unpack_entry(e)[0] for e in entries], sb.series, messages,
                                      d.unfollowed, resets))

    def on_association_screen_loaded(self, message: Loaded) -> None:
        first = self.timeline is None
        tl = self.timeline = message.timeline
        self.frames = message.frames
        self.resets = message.resets
        a = self.association
        status = self.query_one("#timeline-status", Static)
        note = f"{len(tl.steps)} chunks in {len(self.frames)} packets, {len(tl.runs)} folded DATA/SACK runs"
        if tl.unreadable:
            note += f"; {tl.unreadable} frame(s) could not be decoded again"
        status.update(Text(note + "; enter on a run unfolds it, on a chunk opens its packet", style="dim"))
        self.query_one("#ladder-head", Static).update(ladder_header(a, self.size.width - 2))
        self._show_ladder(tl, first)
        self._fill_ending(tl)
        self._fill_follow(message.messages, message.unfollowed)
        if message.series is not None:
            self._show_graph(message.series, first)
        self.orders = {}
        table = self.query_one("#streams-table", DataTable)
        if self.stream_shown is not None:
            self._show_stream(self._stream_key(self.stream_shown), keep_cursor=True)
        elif table.row_count:
            self._show_stream(table.coordinate_to_cell_key(table.cursor_coordinate).row_key.value)
        self.decoding = False
        now = time.monotonic()
        # as the live session's snapshots: at most a fifth of the time goes into showing the association again
        self.next_refresh = now + max(REFRESH, 4 * (now - self._load_started))
        if self.pending is not None:
            self.update_association(*self.pending)

    def _show_ladder(self, tl: timeline.Timeline, first: bool) -> None:
        """The new timeline in the ladder; on a refresh the cursor stays on the same step (or folded run)."""
        ladder = self.query_one("#ladder", Ladder)
        here = None if first or not len(ladder.rows) else ladder.rows[min(ladder.cursor, len(ladder.rows) - 1)]
        ladder.show(tl, self.association["start"])
        if here is not None and here in ladder.rows:
            at = ladder.rows.index(here)
            if at != ladder.cursor:
                ladder.cursor = at

    def _show_graph(self, sr: series.Series, first: bool) -> None:
        """The new series in the graph; on a refresh the user's choices (direction, stream or path when the
        graph has them, kind), the point and the zoom stay as they were (a graph showing the whole
        association goes on showing all of it)."""
        graph = self.query_one("#graph", Graph)
        self.series = sr
        if first or graph.series is None:
            graph.show(sr, self.association["start"])
            return
        choices = {k: getattr(graph, k) for k in GRAPH_CHOICES if hasattr(graph, k)}
        sel, view, whole = graph.sel, graph.view, graph.view == graph.full()
        graph.show(sr, self.association["start"])
        for k, v in choices.items():
            setattr(graph, k, v)
        graph.sel = min(sel, max(0, len(graph.points()) - 1))
        if not whole:
            graph.view = view
        graph.refresh()

    def _fill_ending(self, tl: timeline.Timeline, partial: bool = False) -> None:
        """The ending flow of `tl` (`partial`: of the association's last TAIL packets, shown while a large
        association is scanned: the DATA outstanding then is what those packets show)."""
        flow = tl.ending_flow() if hasattr(tl, "ending_flow") else timeline.ending_flow(tl)
        self.flow_timeline = tl
        status = self.query_one("#ending-status", Static)
        table = self.query_one("#ending-flow", DataTable)
        if flow.kind == "none":
            status.update(Text("no SHUTDOWN, SHUTDOWN ACK, SHUTDOWN COMPLETE or ABORT in the capture"
                               + (" yet" if self.growing else "")))
            return
        steps = tl.steps
        first = steps[flow.steps[0]]
        out = Text()
        out.append(f"\n{flow.kind} flow begun by the {SIDES[flow.began_by]} in frame {first.frame}\n", style="bold")
        for side in (0, 1):
            out.append(f"DATA the {SIDES[side]} still had outstanding then (not cumulatively acknowledged): "
                       f"{outstanding_text(flow.outstanding[side])}\n")
        d, s = flow.during
        out.append(f"after it began: {d} DATA and {s} SACK chunk(s)")
        if partial:
            out.append(f"\n(from the association's last {TAIL} packets while the rest is scanned)", style="dim")
        status.update(out)
        self.flow_steps = flow.steps
        prev = first.ts
        rows = []
        for k, i in enumerate(flow.steps):
            st = steps[i]
            rows.append((f"f{k}", [Text(str(st.frame), justify="right"),
                                   Text(f"{(st.ts - first.ts) * 1e3:.3f}", justify="right"),
                                   Text(f"{(st.ts - prev) * 1e3:.3f}", justify="right"),
                                   Text(f"{SIDES[st.side]} {'→' if st.side == 0 else '←'}"),
                                   Text(safe(st.label), style="bold red" if st.type == 6 else "")]))
            prev = st.ts
        self._refill(table, rows)
        table.display = True

    # -- follow -------------------------------------------------------------------------------------------
    def _fill_follow(self, messages: list, unfollowed: int) -> None:
        """The messages in the Follow list; on a refresh the cursor stays on the same message."""
        view = self.query_one("#follow-list", FollowView)
        cur = view.current()
        here = None if cur is None else (cur[1].direction, cur[1].sid, cur[1].tsn)
        cursor = view.cursor
        view.show(messages, self.association["start"])
        if here is not None:
            key = getattr(messages, "key", None) or (lambda i: (messages[i].direction, messages[i].sid,
                                                                messages[i].tsn))
            at = cursor if cursor < len(view.shown) and key(view.shown[cursor]) == here else \
                next((k for k, i in enumerate(view.shown) if key(i) == here), None)
            view.cursor = at if at is not None else min(cursor, max(0, len(view.shown) - 1))
        if unfollowed > self.unfollowed:
            self.notify(f"follow: {unfollowed} packet(s) could not be decoded again",
                        severity="warning")
        self.unfollowed = unfollowed

    @on(FollowView.Changed, "#follow-list")
    def follow_changed(self, event: FollowView.Changed) -> None:
        view = event.view
        n = len(view.shown)
        if view.stream is None:
            what = f"every stream ({len(view.streams)}): {n} messages in arrival order"
        else:
            d, sid = view.stream
            what = f"stream {sid} {'I→R' if d == 0 else 'R→I'}: {n} messages in arrival order"
        incomplete = view.incomplete_count()
        line = Text(f"following {what}", style="bold")
        if incomplete:
            line.append(f", {incomplete} incomplete", style="yellow")
        line.append("   s/S: next/previous stream · a: all · enter: packet · w: save message · W: save these",
                    style="dim")
        self.query_one("#follow-status", Static).update(line)
        cur = view.current()
        detail = self.query_one("#follow-detail", Static)
        if cur is None:
            detail.update(Text("no user message" if not view.messages else ""))
        else:
            k, m = cur
            detail.update(follow_detail(m, k, self.association["start"], view.upper(k - 1), self.size.width))

    @on(FollowView.Selected, "#follow-list")
    def follow_selected(self, event: FollowView.Selected) -> None:
        cur = event.view.current()
        if cur is not None:
            m = cur[1]
            self.open_packet(m.frames[0], self._chunk_ref(m.frames[0], m.tsn))

    @on(FollowView.SaveRequested, "#follow-list")
    def follow_save(self, event: FollowView.SaveRequested) -> None:
        from sctpscope.tui.dialogs.prompt import PromptScreen

        view = event.view
        cur = view.current()
        if cur is None:
            return
        k, m = cur
        a = self.association
        if event.what == "message":
            keys = [(m.direction, m.sid, m.tsn, m.complete)]
            default = f"assoc{a['id']}-msg{k}.bin"
            question = f"Save message #{k} ({m.size} bytes) to the file:"
        else:
            msgs = view.messages
            if hasattr(msgs, "key"):        # a large association: from the compact index
                keys = [(*msgs.key(i), msgs.complete(i)) for i in view.shown]
            else:
                keys = [(x.direction, x.sid, x.tsn, x.complete) for x in (msgs[i] for i in view.shown)]
            if view.stream is None:
                default = f"assoc{a['id']}-all.bin"
                question = f"Save the {len(keys)} messages of every stream, one after the other, to the file:"
            else:
                d, sid = view.stream
                default = f"assoc{a['id']}-{'ir' if d == 0 else 'ri'}-sid{sid}.bin"
                question = f"Save the {len(keys)} messages of stream {sid}, one after the other, to the file:"
        self.app.push_screen(PromptScreen(question, default),
                             lambda path: self.save_messages(keys, os.path.expanduser(path)) if path else None)

    @work(thread=True, exit_on_error=False, group="save")
    def save_messages(self, keys: list[tuple], path: str) -> None:
        """Reassemble again keeping every byte and write the chosen messages' payloads, in order, to `path`."""
        ix = self.app.indexer
        want = {k: n for n, k in enumerate(keys)}
        follower = Follower.for_association(self.association, keep_bytes=None,
                                            streams={k[1] for k in keys})
        found: dict[int, bytes] = {}
        reader = Rereader(ix.store, ix.decoder())

        def take(ms) -> None:
            for m in ms:
                n = want.get((m.direction, m.sid, m.tsn, m.complete))
                if n is not None:
                    found[n] = m.data
        for e in ix.frames_of(self.association[KEY]):
            number, index, _side = unpack_entry(e)
            try:
                frame, payloads = reader.read(number)
            except (KeyError, OSError, ValueError):
                continue
            recs = [(r, b) for r, b in zip(frame.sctp, payloads) if r.packet.header_ok]
            if index < len(recs):
                take(follower.packet(*recs[index]))
        take(follower.finish())
        data = b"".join(found[n] for n in range(len(keys)) if n in found)
        try:
            with open(path, "wb") as f:
                f.write(data)
        except OSError as exc:
            self.post_message(self.Saved(f"cannot write {path}: {exc.strerror or exc}", True))
            return
        self.post_message(self.Saved(f"wrote {len(data)} bytes ({len(found)} message(s)) to {path}"))

    def on_association_screen_saved(self, message: Saved) -> None:
        self.last_saved = message.text
        self.notify(safe(message.text), severity="error" if message.error else "information", markup=False)

    # -- graphs ---------------------------------------------------------------------------------------
    @on(Graph.Selected, "#graph")
    def graph_selected(self, event: Graph.Selected) -> None:
        self.open_packet(event.frame, ("chunk", *event.ref) if event.ref else None)

    def action_export(self) -> None:
        self.app.export_associations([self.association])

    # -- streams ------------------------------------------------------------------------------------------
    @on(DataTable.RowHighlighted, "#streams-table")
    def stream_highlighted(self, event: DataTable.RowHighlighted) -> None:
        if event.row_key is not None and event.row_key.value is not None:
            self._show_stream(event.row_key.value)

    @on(DataTable.RowSelected, "#streams-table")
    def stream_selected(self, event: DataTable.RowSelected) -> None:
        self._show_stream(event.row_key.value)
        self.query_one("#ordering", OrderingView).focus()

    def _show_stream(self, key: str, keep_cursor: bool = False) -> None:
        """The ordering view of the stream of this streams-table key (`keep_cursor`: the same stream again,
        grown, with the cursor on the same row)."""
        if self.timeline is None:
            return
        arrow, sid = key.split("/")
        side = 0 if arrow == DIRECTION_ARROWS[I2R] else 1
        k = (side, int(sid))
        so = self.orders.get(k)
        if so is None and self.lazy:         # a large association: the stream's messages built in a worker
            self.stream_shown = k
            self.query_one("#order-summary", Static).update(
                Text(f"building the messages of stream {sid} ({self.timeline.data.sizes.get(k, 0):,} DATA chunks)…",
                     style="italic"))
            self._order_stream(k, key, keep_cursor)
            return
        if so is None:
            so = self.orders[k] = ordering.stream_order(self.timeline.data.get(k, ()), self.resets.of(*k))
        self.stream_shown = k
        direction = "initiator_to_responder" if side == 0 else "responder_to_initiator"
        summary = order_summary(direction, int(sid), so)
        if getattr(so, "truncated", 0):
            summary.append(f"  (the first {STREAM_MAX:,} of its {so.truncated:,} DATA chunks)", style="yellow")
        self.query_one("#order-summary", Static).update(summary)
        view = self.query_one("#ordering", OrderingView)
        cursor = view.cursor
        view.show(so, self.association["start"])
        if keep_cursor and view.row_count():
            view.cursor = min(cursor, view.row_count() - 1)

    @work(thread=True, exclusive=True, group="order", exit_on_error=False)
    def _order_stream(self, k: tuple[int, int], key: str, keep_cursor: bool) -> None:
        """A large association's stream: its first STREAM_MAX DATA chunks in order (the figures of the whole
        stream are the table's, from the analysis)."""
        tl = self.timeline
        refs = tl.data.get(k, ())
        if len(refs) > STREAM_MAX:
            refs = refs[:STREAM_MAX]
        so = ordering.stream_order(refs, self.resets.of(*k))
        so.truncated = len(tl.data.get(k, ())) if len(refs) == STREAM_MAX else 0  # type: ignore[attr-defined]
        if not get_current_worker().is_cancelled:
            self.app.call_from_thread(self._stream_built, tl, k, so, key, keep_cursor)

    def _stream_built(self, tl, k: tuple[int, int], so, key: str, keep_cursor: bool) -> None:
        if getattr(tl, "ix", tl) is getattr(self.timeline, "ix", self.timeline):
            self.orders[k] = so
            if self.stream_shown == k:
                self._show_stream(key, keep_cursor)

    @staticmethod
    def _stream_key(k: tuple[int, int]) -> str:
        """The streams-table key of (side, sid)."""
        return f"{DIRECTION_ARROWS[I2R] if k[0] == 0 else DIRECTION_ARROWS[R2I]}/{k[1]}"

    # -- opening packets ----------------------------------------------------------------------------------
    def open_packet(self, frame: int, select: tuple | None = None) -> None:
        from sctpscope.tui.screens.packet import PacketScreen

        a = self.association
        self.app.push_screen(PacketScreen(frame, frames=self.frames, select=select,
                                          title=f"association {a['id']}"))

    @on(Ladder.Selected, "#ladder")
    def ladder_selected(self, event: Ladder.Selected) -> None:
        step = self.query_one("#ladder", Ladder).step_at(event.index)
        if step is not None and step.type >= 0:
            self.open_packet(step.frame, ("chunk", step.record, step.index))

    @on(OrderingView.Selected, "#ordering")
    def message_selected(self, event: OrderingView.Selected) -> None:
        view = self.query_one("#ordering", OrderingView)
        row = view.row_at(event.index)
        if isinstance(row, ordering.Reset):        # the RE-CONFIG response that performed it
            self.open_packet(row.frame)
            return
        m = view.message_at(event.index)
        if m is None:
            return
        self.open_packet(m.frame_first, self._chunk_ref(m.frame_first, m.tsn_first))

    @on(DataTable.RowSelected, "#ending-flow")
    def flow_selected(self, event: DataTable.RowSelected) -> None:
        st = self.flow_timeline.steps[self.flow_steps[int(event.row_key.value[1:])]]
        self.open_packet(st.frame, ("chunk", st.record, st.index))

    @on(DataTable.RowSelected, "#events-table")
    def event_selected(self, event: DataTable.RowSelected) -> None:
        self.open_packet(self.association["events"][int(event.row_key.value[1:])]["frame"])

    @on(DataTable.RowSelected, "#anomalies-table")
    def anomaly_selected(self, event: DataTable.RowSelected) -> None:
        if event.row_key.value and event.row_key.value.startswith("x"):
            self.open_packet(self.association["anomalies"][int(event.row_key.value[1:])]["frame"])

    def action_show_in_timeline(self) -> None:
        """From an event or anomaly row: the same frame in the timeline."""
        tab = self.query_one("#tabs", TabbedContent).active
        frame = None
        if tab in ("events", "anomalies"):
            table = self.query_one(f"#{tab}-table", DataTable)
            if table.row_count:
                key = table.coordinate_to_cell_key(table.cursor_coordinate).row_key.value or ""
                if key[:1] in ("e", "x"):
                    lst = self.association["events" if key[0] == "e" else "anomalies"]
                    frame = lst[int(key[1:])]["frame"]
        if frame is None:
            return
        self.action_tab("timeline")
        ladder = self.query_one("#ladder", Ladder)
        ladder.jump_to_frame(frame)
        ladder.focus()

    def action_tab(self, name: str) -> None:
        tabs = self.query_one("#tabs", TabbedContent)
        tabs.active = name
        focus = {"timeline": "#ladder", "streams": "#streams-table", "ending": "#ending-flow",
                 "events": "#events-table", "anomalies": "#anomalies-table", "overview": "#paths",
                 "follow": "#follow-list", "graphs": "#graph"}[name]
        widget = self.query_one(focus)
        if widget.display:
            self.call_after_refresh(widget.focus)
