"""One association in tabs: Overview, Timeline, Streams, Ending, Events, Anomalies, Follow, Graphs.

The association dict (the report's) fills Overview, the stream table, Events and Anomalies at once; a
thread worker decodes the association's packets again (as analysis.indexer.packets_of) for the Timeline, the
streams' ordering views, the ending flow, the reassembled messages (analysis.follow) and the graphs'
series (analysis.series), which appear when it is done.
"""

from __future__ import annotations

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.message import Message
from textual.screen import Screen
from textual.widgets import DataTable, Footer, Static, TabbedContent, TabPane
from textual.worker import get_current_worker

import os

from sctpscope.analysis import ordering, series, timeline
from sctpscope.analysis.follow import Follower
from sctpscope.analysis.indexer import KEY, unpack_entry
from sctpscope.tui.format import (DIRECTION_ARROWS, I2R, ORDER_HEADER, STREAM_COLUMNS, beyond_negotiated,
                                  FOLLOW_HEADER, endpoint, endpoint_lines, ending_lines, event_extra,
                                  follow_detail, ladder_header, order_summary, outstanding_text, safe,
                                  stream_row)
from sctpscope.tui.widgets.follow import FollowView
from sctpscope.tui.widgets.graph import Graph
from sctpscope.tui.widgets.ladder import Ladder
from sctpscope.tui.widgets.negotiation import Negotiation
from sctpscope.tui.widgets.ordering import OrderingView

TABS = ("overview", "timeline", "streams", "ending", "events", "anomalies", "follow", "graphs")
FOLLOW_KEEP = 512           # bytes kept per message for the Follow tab (summaries read 256, previews less)
SIDES = ("initiator", "responder")


class AssociationScreen(Screen):
    """Everything about one association; escape returns to the list."""

    BINDINGS = [Binding("escape", "app.pop_screen", "Back")] + [
        Binding(str(k), f"tab('{name}')", name.capitalize(), show=False) for k, name in enumerate(TABS, 1)] + [
        Binding("t", "show_in_timeline", "In timeline", show=False),
        Binding("x", "export", "Export pcapng"),
    ]

    class Loaded(Message):
        """The packets were decoded again: handled as `on_association_screen_loaded`."""

        def __init__(self, tl: timeline.Timeline, frames: list[int], sr: series.Series | None = None,
                     messages: list | None = None, unfollowed: int = 0) -> None:
            super().__init__()
            self.timeline = tl
            self.frames = frames
            self.series = sr
            self.messages = messages or []
            self.unfollowed = unfollowed

    class Saved(Message):
        """The save worker wrote a file (or failed): handled as `on_association_screen_saved`."""

        def __init__(self, text: str, error: bool = False) -> None:
            super().__init__()
            self.text = text
            self.error = error

    def __init__(self, association: dict) -> None:
        super().__init__()
        self.association = association
        self.timeline: timeline.Timeline | None = None
        self.frames: list[int] = []
        self.orders: dict[tuple[int, int], ordering.StreamOrder] = {}
        self.stream_shown: tuple[int, int] | None = None
        self.flow_steps: list[int] = []
        self.series: series.Series | None = None
        self.last_saved: str | None = None

    def compose(self) -> ComposeResult:
        a = self.association
        snapshot = "" if getattr(self.app.progress, "done", True) else \
            "  (opened while indexing: later packets are not shown)"
        yield Static(Text(f"association {a['id']}: {endpoint(a['initiator'])} ⇄ {endpoint(a['responder'])}  "
                          f"[{a['state']}] frames {a['first_frame']}–{a['last_frame']}, {a['packets']} packets"
                          f"{snapshot}"), id="title", markup=False)
        with TabbedContent(id="tabs"):
            with TabPane("1 Overview", id="overview"):
                with VerticalScroll():
                    with Horizontal(id="endpoints"):
                        yield Static(endpoint_lines("initiator", a["initiator"]), id="ep-initiator",
                                     classes="endpoint", markup=False)
                        yield Static(endpoint_lines("responder", a["responder"]), id="ep-responder",
                                     classes="endpoint", markup=False)
                    yield Negotiation(a, id="negotiation")
                    yield Static(Text("\n".join(beyond_negotiated(a)), style="bold red"), id="beyond", markup=False)
                    yield Static(Text(f"extensions both support: {', '.join(map(safe, a.get('extensions', []))) or 'none'}"
                                      f"; primary path changes: {len(a.get('primary_path_changes', []))}"),
                                 id="overview-extra", markup=False)
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
                    yield Static(ending_lines(a), id="ending-text", markup=False)
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
        a = self.association
        self.query_one("#beyond").display = bool(beyond_negotiated(a))
        paths = self.query_one("#paths", DataTable)
        paths.add_columns("path src → dst", "packets", "DATA", "rtx", "heartbeats", "HB RTT ms (min/mean/max)",
                          "first frame")
        for p in a.get("paths", []):
            rtt = p.get("heartbeat_rtt")
            rtt_s = "-" if not rtt else f"{rtt['min'] * 1e3:.1f}/{rtt['mean'] * 1e3:.1f}/{rtt['max'] * 1e3:.1f}"
            paths.add_row(Text(f"{safe(p['src'])} → {safe(p['dst'])}"), *(Text(str(p[k])) for k in (
                "packets", "data_chunks", "retransmissions", "heartbeats")), Text(rtt_s), Text(str(p["first_frame"])))
        streams = self.query_one("#streams-table", DataTable)
        streams.add_columns(*STREAM_COLUMNS)
        for s in a["streams"]:
            row = stream_row(s)
            if s.get("beyond_negotiated"):
                row[0] = Text("⚠ BEYOND " + row[0].plain.lstrip("⚠ "), style="bold red")
            streams.add_row(*row, key=f"{DIRECTION_ARROWS.get(s['direction'], '?')}/{s['sid']}")
        events = self.query_one("#events-table", DataTable)
        events.add_columns("frame", "time (s)", "event", "endpoint", "detail")
        for i, ev in enumerate(a["events"]):
            events.add_row(Text(str(ev["frame"]), justify="right"), Text(f"{ev['ts'] - a['start']:.6f}"),
                           Text(safe(ev["type"])), Text(safe(ev.get("endpoint", ""))), Text(event_extra(ev)),
                           key=f"e{i}")
        anomalies = self.query_one("#anomalies-table", DataTable)
        anomalies.add_columns("frame", "kind", "detail")
        for i, x in enumerate(a["anomalies"]):
            anomalies.add_row(Text(str(x["frame"]), justify="right"), Text(safe(x["kind"])), Text(safe(x["detail"])),
                              key=f"x{i}")
        shown, total = len(a["anomalies"]), a.get("anomaly_count", len(a["anomalies"]))
        if total > shown:
            anomalies.add_row(Text(""), Text("…"), Text(f"{total - shown} more not kept by the analysis"))
        flow = self.query_one("#ending-flow", DataTable)
        flow.add_columns("frame", "+ since start ms", "Δ ms", "sender", "chunk")
        flow.display = False
        self.load()

    # -- decoding the association's packets again ---------------------------------------------------------
    @work(thread=True, exclusive=True, exit_on_error=False, group="association")
    def load(self) -> None:
        worker = get_current_worker()
        ix = self.app.indexer
        if ix is None:
            return
        entries = ix.frames_of(self.association[KEY])
        sb = series.Builder()
        follower = Follower.for_association(self.association, keep_bytes=FOLLOW_KEEP)
        messages: list = []
        unfollowed = [0]

        def packets():
            """As analysis.indexer.packets_of, feeding the series and the follower (which needs the bytes)."""
            decoder, store = ix.decoder(), ix.store
            for e in entries:
                if worker.is_cancelled:
                    return
                number, index, side = unpack_entry(e)
                try:
                    raw = store.read(number)
                except (KeyError, OSError, ValueError):
                    item = (number, 0.0, side, None, index)
                else:
                    frame = decoder.decode(number, raw.ts, raw.linktype, raw.data, raw.orig_len)
                    recs = [r for r in frame.sctp if r.packet.header_ok]
                    rec = recs[index] if index < len(recs) else None
                    item = (number, raw.ts, side, rec, index)
                    if rec is not None and rec.offset >= 0:
                        messages.extend(follower.packet(rec, raw.data[rec.offset:rec.offset + rec.packet.length]))
                    else:
                        unfollowed[0] += 1
                sb.add(item)
                yield item
        tl = timeline.build(packets())
        messages.extend(follower.finish())
        if not worker.is_cancelled:
            self.post_message(self.Loaded(tl, [unpack_entry(e)[0] for e in entries], sb.series, messages,
                                          unfollowed[0]))

    def on_association_screen_loaded(self, message: Loaded) -> None:
        tl = self.timeline = message.timeline
        self.frames = message.frames
        a = self.association
        status = self.query_one("#timeline-status", Static)
        note = f"{len(tl.steps)} chunks in {len(self.frames)} packets, {len(tl.runs)} folded DATA/SACK runs"
        if tl.unreadable:
            note += f"; {tl.unreadable} frame(s) could not be decoded again"
        status.update(Text(note + "; enter on a run unfolds it, on a chunk opens its packet", style="dim"))
        self.query_one("#ladder-head", Static).update(ladder_header(a, self.size.width - 2))
        self.query_one("#ladder", Ladder).show(tl, a["start"])
        self._fill_ending(tl)
        self._fill_follow(message.messages, message.unfollowed)
        if message.series is not None:
            self.series = message.series
            self.query_one("#graph", Graph).show(message.series, a["start"])
        table = self.query_one("#streams-table", DataTable)
        if table.row_count and self.stream_shown is None:
            self._show_stream(table.coordinate_to_cell_key(table.cursor_coordinate).row_key.value)

    def _fill_ending(self, tl: timeline.Timeline) -> None:
        flow = timeline.ending_flow(tl)
        status = self.query_one("#ending-status", Static)
        table = self.query_one("#ending-flow", DataTable)
        if flow.kind == "none":
            status.update(Text("no SHUTDOWN, SHUTDOWN ACK, SHUTDOWN COMPLETE or ABORT in the capture"))
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
        status.update(out)
        self.flow_steps = flow.steps
        prev = first.ts
        for k, i in enumerate(flow.steps):
            st = steps[i]
            table.add_row(Text(str(st.frame), justify="right"), Text(f"{(st.ts - first.ts) * 1e3:.3f}", justify="right"),
                          Text(f"{(st.ts - prev) * 1e3:.3f}", justify="right"),
                          Text(f"{SIDES[st.side]} {'→' if st.side == 0 else '←'}"),
                          Text(safe(st.label), style="bold red" if st.type == 6 else ""), key=f"f{k}")
            prev = st.ts
        table.display = True

    # -- follow -------------------------------------------------------------------------------------------
    def _fill_follow(self, messages: list, unfollowed: int) -> None:
        view = self.query_one("#follow-list", FollowView)
        view.show(messages, self.association["start"])
        if unfollowed:
            self.notify(f"follow: {unfollowed} packet(s) not read (reassembled from IP fragments)",
                        severity="warning")

    @on(FollowView.Changed, "#follow-list")
    def follow_changed(self, event: FollowView.Changed) -> None:
        view = event.view
        n = len(view.shown)
        if view.stream is None:
            what = f"every stream ({len(view.streams)}): {n} messages in arrival order"
        else:
            d, sid = view.stream
            what = f"stream {sid} {'I→R' if d == 0 else 'R→I'}: {n} messages in arrival order"
        incomplete = sum(1 for i in view.shown if not view.messages[i].complete)
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
            step = next((s for s in (self.timeline.steps if self.timeline else ())
                         if s.frame == m.frames[0] and s.tsn == m.tsn), None)
            self.open_packet(m.frames[0], ("chunk", step.record, step.index) if step else None)

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
            wanted = [m]
            default = f"assoc{a['id']}-msg{k}.bin"
            question = f"Save message #{k} ({m.size} bytes) to the file:"
        else:
            wanted = [view.messages[i] for i in view.shown]
            if view.stream is None:
                default = f"assoc{a['id']}-all.bin"
                question = f"Save the {len(wanted)} messages of every stream, one after the other, to the file:"
            else:
                d, sid = view.stream
                default = f"assoc{a['id']}-{'ir' if d == 0 else 'ri'}-sid{sid}.bin"
                question = f"Save the {len(wanted)} messages of stream {sid}, one after the other, to the file:"
        keys = [(x.direction, x.sid, x.tsn, x.complete) for x in wanted]
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
        decoder = ix.decoder()

        def take(ms) -> None:
            for m in ms:
                n = want.get((m.direction, m.sid, m.tsn, m.complete))
                if n is not None:
                    found[n] = m.data
        for e in ix.frames_of(self.association[KEY]):
            number, index, _side = unpack_entry(e)
            try:
                raw = ix.store.read(number)
            except (KeyError, OSError, ValueError):
                continue
            recs = [r for r in decoder.decode(number, raw.ts, raw.linktype, raw.data, raw.orig_len).sctp
                    if r.packet.header_ok]
            rec = recs[index] if index < len(recs) else None
            if rec is not None and rec.offset >= 0:
                take(follower.packet(rec, raw.data[rec.offset:rec.offset + rec.packet.length]))
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

    def _show_stream(self, key: str) -> None:
        if self.timeline is None:
            return
        arrow, sid = key.split("/")
        side = 0 if arrow == DIRECTION_ARROWS[I2R] else 1
        k = (side, int(sid))
        so = self.orders.get(k)
        if so is None:
            so = self.orders[k] = ordering.stream_order(self.timeline.data.get(k, ()))
        self.stream_shown = k
        direction = "initiator_to_responder" if side == 0 else "responder_to_initiator"
        self.query_one("#order-summary", Static).update(order_summary(direction, int(sid), so))
        self.query_one("#ordering", OrderingView).show(so, self.association["start"])

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
        m = self.query_one("#ordering", OrderingView).message_at(event.index)
        if m is None:
            return
        step = next((s for s in (self.timeline.steps if self.timeline else ())
                     if s.frame == m.frame_first and s.tsn == m.tsn_first), None)
        self.open_packet(m.frame_first, ("chunk", step.record, step.index) if step else None)

    @on(DataTable.RowSelected, "#ending-flow")
    def flow_selected(self, event: DataTable.RowSelected) -> None:
        st = self.timeline.steps[self.flow_steps[int(event.row_key.value[1:])]]
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
