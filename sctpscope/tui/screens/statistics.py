"""Statistics of the whole capture (sctpscope.report.stats): associations by ending and state, abort causes,
top anomaly kinds, the chunk counts per association and side, and the per-path table."""

from __future__ import annotations

from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import Screen
from textual.widgets import DataTable, Footer, Static
from textual.worker import get_current_worker

from sctpscope.report.stats import capture_summary, chunk_counts, path_rows
from sctpscope.tui.format import endpoint, safe


MAX_ROWS = 2000         # rows per table: a capture of 100,000 associations stays a screen, not a freeze


class StatisticsScreen(Screen):
    """The capture-wide summary above two tables; escape goes back."""

    BINDINGS = [Binding("escape", "app.pop_screen", "Back")]

    def compose(self) -> ComposeResult:
        yield Static(Text("statistics of the capture", style="bold"), id="stats-title", markup=False)
        with VerticalScroll():
            yield Static("", id="stats-summary", markup=False)
            yield Static(Text("chunks per association and side (I: sent by the initiator, R: by the responder)",
                              style="bold"), classes="stats-head", markup=False)
            yield DataTable(id="stats-chunks", cursor_type="row", zebra_stripes=True)
            yield Static(Text("paths (source → destination address pairs)", style="bold"), classes="stats-head",
                         markup=False)
            yield DataTable(id="stats-paths", cursor_type="row", zebra_stripes=True)
        yield Footer()

    def on_mount(self) -> None:
        self.query_one("#stats-summary", Static).update(Text("computing the statistics…", style="italic"))
        self.compute()

    @work(thread=True, exclusive=True, exit_on_error=False, group="statistics")
    def compute(self) -> None:
        """The summary and the rows of both tables, in a worker: keys (escape, q) never wait for them."""
        worker = get_current_worker()
        result = self.app.result
        assocs = list(result.associations) if result is not None else []
        s = capture_summary({"associations": assocs})
        e = s["by_ending"]
        out = Text()
        out.append(f"{s['associations']} associations; by ending: graceful {e['graceful']}, abort {e['abort']}, "
                   f"none {e['none']}\n")
        if s["by_state"]:
            out.append("by state: " + ", ".join(f"{k} {v}" for k, v in s["by_state"].items()) + "\n")
        if s["ended_by"]:
            out.append("ended by: " + ", ".join(f"{k.replace('_', ' ')} {v}" for k, v in s["ended_by"].items())
                       + "\n")
        if s["abort_causes"]:
            out.append("abort causes: " + ", ".join(f"{safe(k)} {v}" for k, v in s["abort_causes"].items()) + "\n")
        out.append(f"retransmissions: {s['retransmissions']}\n")
        if s["top_anomalies"]:
            out.append("top anomalies:\n", style="bold")
            for x in s["top_anomalies"]:
                ids = ", ".join(map(str, x["associations"][:12])) + ("…" if len(x["associations"]) > 12 else "")
                out.append(f"  {safe(x['kind'])} ×{x['count']} in association(s) {ids}\n")
        else:
            out.append("no anomaly\n")
        chunk_rows: list[tuple] = []
        chunk_more = 0
        for a in assocs:
            if worker.is_cancelled:
                return
            pair = f"{endpoint(a['initiator'])} ⇄ {endpoint(a['responder'])}"
            for k, (name, i, r) in enumerate(chunk_counts(a)):
                if len(chunk_rows) >= MAX_ROWS:
                    chunk_more += 1
                    continue
                chunk_rows.append((Text(str(a["id"]) if k == 0 else "", justify="right"),
                                   Text(pair if k == 0 else ""), Text(safe(name)), Text(str(i), justify="right"),
                                   Text(str(r), justify="right")))
        path_list: list[tuple] = []
        path_more = 0
        for a in assocs:
            if worker.is_cancelled:
                return
            for p in path_rows(a):
                if len(path_list) >= MAX_ROWS:
                    path_more += 1
                    continue
                rtt = "-" if p["rtt_ms"] is None else f"{p['rtt_ms']:.3f}"
                path_list.append((Text(str(a["id"]), justify="right"), Text(f"{safe(p['src'])} → {safe(p['dst'])}"),
                                  Text(p["by"]), *(Text(str(p[k]), justify="right") for k in
                                                   ("packets", "data_chunks", "retransmissions", "heartbeats")),
                                  Text(rtt, justify="right"), Text(str(p["first_frame"]), justify="right")))
        if chunk_more or path_more:
            out.append(f"the tables list their first {MAX_ROWS} rows: {chunk_more} chunk row(s) and {path_more} "
                       f"path row(s) more (`sctpscope report` lists every one)\n", style="italic")
        if not worker.is_cancelled:
            self.app.call_from_thread(self._show, out, chunk_rows, path_list)

    def _show(self, summary: Text, chunk_rows: list[tuple], path_list: list[tuple]) -> None:
        if not self.is_attached:
            return
        self.query_one("#stats-summary", Static).update(summary)
        chunks = self.query_one("#stats-chunks", DataTable)
        chunks.add_columns("assoc", "initiator ⇄ responder", "chunk", "I", "R")
        chunks.add_rows(chunk_rows)
        paths = self.query_one("#stats-paths", DataTable)
        paths.add_columns("assoc", "src → dst", "by", "packets", "DATA", "rtx", "heartbeats", "HB RTT ms",
                          "first frame")
        paths.add_rows(path_list)
        chunks.focus()
