"""One association in tabs: Overview, Streams, Ending, Events, Anomalies."""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, VerticalScroll
from textual.screen import Screen
from textual.widgets import DataTable, Footer, Static, TabbedContent, TabPane

from sctpscope.tui.format import (DIRECTION_ARROWS, STREAM_COLUMNS, endpoint, endpoint_lines, ending_lines,
                                  event_extra, safe, stream_row)
from sctpscope.tui.widgets.negotiation import Negotiation

TABS = ("overview", "streams", "ending", "events", "anomalies")


class AssociationScreen(Screen):
    """Everything the report says of one association; escape returns to the list."""

    BINDINGS = [Binding("escape", "app.pop_screen", "Back")] + [
        Binding(str(k), f"tab('{name}')", name.capitalize(), show=False) for k, name in enumerate(TABS, 1)]

    def __init__(self, association: dict) -> None:
        super().__init__()
        self.association = association

    def compose(self) -> ComposeResult:
        a = self.association
        yield Static(Text(f"association {a['id']}: {endpoint(a['initiator'])} ⇄ {endpoint(a['responder'])}  "
                          f"[{a['state']}] frames {a['first_frame']}–{a['last_frame']}, {a['packets']} packets"),
                     id="title", markup=False)
        with TabbedContent(id="tabs"):
            with TabPane("Overview", id="overview"):
                with VerticalScroll():
                    with Horizontal(id="endpoints"):
                        yield Static(endpoint_lines("initiator", a["initiator"]), id="ep-initiator",
                                     classes="endpoint", markup=False)
                        yield Static(endpoint_lines("responder", a["responder"]), id="ep-responder",
                                     classes="endpoint", markup=False)
                    yield Negotiation(a, id="negotiation")
                    yield Static(Text(f"extensions both support: {', '.join(map(safe, a.get('extensions', []))) or 'none'}"
                                      f"; primary path changes: {len(a.get('primary_path_changes', []))}"),
                                 id="overview-extra", markup=False)
                    yield DataTable(id="paths", cursor_type="row")
            with TabPane("Streams", id="streams"):
                yield DataTable(id="streams-table", cursor_type="row", zebra_stripes=True)
            with TabPane("Ending", id="ending"):
                yield VerticalScroll(Static(ending_lines(a), id="ending-text", markup=False))
            with TabPane("Events", id="events"):
                yield DataTable(id="events-table", cursor_type="row")
            with TabPane("Anomalies", id="anomalies"):
                yield DataTable(id="anomalies-table", cursor_type="row")
        yield Footer()

    def on_mount(self) -> None:
        a = self.association
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
            streams.add_row(*stream_row(s), key=f"{DIRECTION_ARROWS.get(s['direction'], '?')}/{s['sid']}")
        events = self.query_one("#events-table", DataTable)
        events.add_columns("frame", "time (s)", "event", "endpoint", "detail")
        for ev in a["events"]:
            events.add_row(Text(str(ev["frame"]), justify="right"), Text(f"{ev['ts'] - a['start']:.6f}"),
                           Text(safe(ev["type"])), Text(safe(ev.get("endpoint", ""))), Text(event_extra(ev)))
        anomalies = self.query_one("#anomalies-table", DataTable)
        anomalies.add_columns("frame", "kind", "detail")
        for x in a["anomalies"]:
            anomalies.add_row(Text(str(x["frame"]), justify="right"), Text(safe(x["kind"])), Text(safe(x["detail"])))
        shown, total = len(a["anomalies"]), a.get("anomaly_count", len(a["anomalies"]))
        if total > shown:
            anomalies.add_row(Text(""), Text("…"), Text(f"{total - shown} more not kept by the analysis"))

    def action_tab(self, name: str) -> None:
        self.query_one("#tabs", TabbedContent).active = name
