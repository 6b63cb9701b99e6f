"""The home screen: capture totals, indexing progress, and one sortable, filterable row per association.

It is handed the indexing's progress (`apply_progress`) by the file app's worker or, in live mode, by the
live app's timer; it passes each new version of an association on to that association's screen when one is
open, so that the screen grows with it."""

from __future__ import annotations

import os
import time

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.screen import Screen
from textual.message import Message
from textual.widgets import Footer, Input, ProgressBar, Static
from textual.worker import get_current_worker

from sctpscope.analysis.indexer import KEY, Progress
from sctpscope.tui.filtering import Matches
from sctpscope.tui.format import association_row, filter_error_text, safe
from sctpscope.tui.widgets.assoctable import AssociationTable


SLICE = 200                 # associations taken into the list per turn of the event loop (~20-50 ms)
REFRESH_EVERY = 0.25        # seconds between two sorts of the list while indexing, at least


class AssociationsScreen(Screen):
    """Fills in as the app's indexer reports progress (`apply_progress`), or shows one error line.

    `live`: the list of a live capture (sctpscope.tui.live), which has no end to make progress towards: no
    progress bar, and "live" where a file says "indexing"."""

    BINDINGS = [
        Binding("enter", "open", "Open"),
        Binding("slash", "filter", "Search"),
        Binding("f", "display_filter", "Display filter"),
        Binding("s", "sort", "Sort (← → column)"),
        Binding("x", "export", "Export pcapng"),
        Binding("i", "statistics", "Statistics"),
        Binding("escape", "leave_filter", "Clear filter", show=False),
    ]

    class Filtered(Message):
        """The display-filter worker finished: handled as `on_associations_screen_filtered`."""

        def __init__(self, matches: Matches) -> None:
            super().__init__()
            self.matches = matches

    def __init__(self, live: bool = False) -> None:
        super().__init__()
        self.live = live
        self.rows: dict[int, tuple[list[Text], tuple, str, dict]] = {}  # key -> cells, sort keys, text, assoc
        self.sort_column: int = 0
        self.sort_reverse = False
        self.t0: float | None = None
        self.done = False
        self._next_refresh = 0.0           # while indexing: no new sort of the list before this (monotonic)
        self._refresh_timer = None         # a sort put off by the rule above, done when it allows
        self.matches: Matches | None = None      # the display filter's result (None: no display filter)

    def compose(self) -> ComposeResult:
        yield Static(Text("reading the capture…"), id="totals", markup=False)
        yield ProgressBar(id="progress", show_eta=False)
        yield Static("", id="error", markup=False)
        yield Input(placeholder="filter: / to type, escape to clear", id="filter")
        yield Input(placeholder="display filter (f): e.g. ppid == Diameter, chunk == DATA && sid == 3; "
                                "empty + enter clears", id="display-filter")
        yield Static("", id="filter-status", markup=False)
        yield Static("", id="associations-header", markup=False)
        yield AssociationTable(id="associations")
        yield Footer()

    def on_mount(self) -> None:
        table = self.query_one("#associations", AssociationTable)
        self.query_one("#error").display = False
        self.query_one("#progress").display = not self.live
        self.query_one("#associations-header").display = False
        self.query_one("#filter").display = False
        self.query_one("#display-filter").display = False
        self.query_one("#filter-status").display = False
        table.display = False
        self.app.start()

    @property
    def associations(self) -> list[dict]:
        return [r[3] for r in self.rows.values()]

    # -- what the app hands over -------------------------------------------------------------------------
    def apply_progress(self, p: Progress, applied=None) -> None:
        """New and changed associations into the list (and into their screens when open); the totals line and
        the progress bar. Taken in by slices of SLICE associations, each slice a separate turn of the event
        loop (keys in between); `applied()` is called once all of it is in."""
        infos = p.infos
        if self.t0 is None:
            self.t0 = next((i.first_ts for i in infos if i.first_ts is not None), None)
        self._apply_slice(p, 0, applied)

    def _apply_slice(self, p: Progress, start: int, applied) -> None:
        t0 = self.t0 or 0.0
        changed = p.changed
        end = min(len(changed), start + SLICE)
        for a in changed[start:end]:
            cells, keys = association_row(a, t0)
            self.rows[a[KEY]] = (cells, keys, " ".join(c.plain for c in cells).lower(), a)
        if end < len(changed):
            self.call_later(self._apply_slice, p, end, applied)
            return
        self._applied_progress(p)
        if applied is not None:
            applied()

    def _applied_progress(self, p: Progress) -> None:
        infos = p.infos
        for k in p.gone:
            self.rows.pop(k, None)            # replaced: lone flows joined, an INIT collision folded in
        if p.done:
            present = {a[KEY] for a in p.changed}
            for k in [k for k in self.rows if k not in present]:
                del self.rows[k]
        self._totals(p, infos)
        bar = self.query_one("#progress", ProgressBar)
        if p.done:
            bar.display = False
        elif p.fraction is not None:
            bar.update(total=100, progress=round(p.fraction * 100, 1))
        # While indexing, the list is sorted and shown again at most every 4x the time that takes (a list of
        # 100,000 rows takes a while): the keys get the rest of the time.
        now = time.monotonic()
        if (p.changed or p.gone or p.done) and (p.done or p.gone or now >= self._next_refresh):
            self._sorted_now(now)
            self._pass_on(p)
        elif p.changed:
            self._pass_on(p)
            # shown when the rule allows, even if nothing changes after this (a live capture gone quiet)
            if self._refresh_timer is None:
                self._refresh_timer = self.set_timer(max(0.0, self._next_refresh - now), self._put_off_sort)
        table = self.query_one("#associations", AssociationTable)
        if table.row_count() and not table.display:
            table.display = True
            self.query_one("#associations-header").display = True
            self.query_one("#filter").display = True
            table.focus()
        self.done = p.done
        if p.done and not self.rows:
            self.query_one("#totals", Static).update(Text(self._totals_text(p, infos) + " — no SCTP association"))

    def _totals_text(self, p: Progress, infos) -> str:
        t = p.totals
        names = ", ".join(safe(os.path.basename(i.path)) for i in infos) or "?"
        s = (f"{names}: {t.get('packets', 0)} packets, {t.get('sctp_packets', 0)} SCTP packets, {p.associations} "
             f"associations, {t.get('bad_checksums', 0)} bad checksums, {t.get('malformed', 0)} malformed, "
             f"{t.get('problems', 0)} decode problems")
        if not p.done and self.live:
            s += " — live"
        elif not p.done:
            s += " — indexing" + (f" {p.fraction * 100:.0f}%" if p.fraction is not None else "…")
        return s

    def _pass_on(self, p: Progress) -> None:
        """Each open association screen (on top or under a packet screen) gets its association's new version;
        once the capture is complete, the final one."""
        from sctpscope.tui.screens.association import AssociationScreen

        changed = {a[KEY] for a in p.changed} | set(p.gone)
        for screen in self.app.screen_stack:
            if isinstance(screen, AssociationScreen) and (p.done or screen.key in changed):
                row = self.rows.get(screen.key)
                if row is None:
                    screen.folded()
                else:
                    screen.update_association(row[3], complete=p.done)

    def _totals(self, p: Progress, infos) -> None:
        self.query_one("#totals", Static).update(Text(self._totals_text(p, infos)))

    def show_error(self, message: str) -> None:
        """One clear line instead of the list."""
        self.query_one("#progress").display = False
        self.query_one("#totals", Static).update(Text("cannot open the capture"))
        err = self.query_one("#error", Static)
        err.update(Text(safe(message), style="bold red"))
        err.display = True
        self.query_one("#associations").display = False
        self.query_one("#associations-header").display = False
        self.query_one("#filter").display = False

    # -- the list --------------------------------------------------------------------------------------------
    def visible_rows(self) -> list[tuple[list[Text], tuple, str, dict]]:
        needle = self.query_one("#filter", Input).value.strip().lower()
        rows = [r for r in self.rows.values() if needle in r[2]] if needle else list(self.rows.values())
        if self.matches is not None:
            rows = [r for r in rows if r[3]["id"] in self.matches.ids]
        rows.sort(key=lambda r: r[1][self.sort_column], reverse=self.sort_reverse)
        return rows

    def _sorted_now(self, now: float) -> None:
        if self._refresh_timer is not None:
            self._refresh_timer.stop()
            self._refresh_timer = None
        self.refresh_rows()
        took = time.monotonic() - now
        self._next_refresh = time.monotonic() + max(REFRESH_EVERY, 4 * took)

    def _put_off_sort(self) -> None:
        self._refresh_timer = None
        self._sorted_now(time.monotonic())

    def refresh_rows(self) -> None:
        table = self.query_one("#associations", AssociationTable)
        table.sort_column, table.sort_reverse = self.sort_column, self.sort_reverse
        table.set_rows([(r[3][KEY], r[0]) for r in self.visible_rows()])
        self.query_one("#associations-header", Static).update(table.header())

    def sort_by(self, column: int) -> None:
        """Sort by `column`; the same column again reverses the order."""
        if column == self.sort_column:
            self.sort_reverse = not self.sort_reverse
        else:
            self.sort_column, self.sort_reverse = column, False
        table = self.query_one("#associations", AssociationTable)
        table.column = column
        self.refresh_rows()

    def action_sort(self) -> None:
        self.sort_by(self.query_one("#associations", AssociationTable).column)

    def action_filter(self) -> None:
        box = self.query_one("#filter", Input)
        box.display = True
        box.focus()

    # -- the display filter -------------------------------------------------------------------------------
    def action_display_filter(self) -> None:
        box = self.query_one("#display-filter", Input)
        box.display = True
        box.focus()

    @on(Input.Submitted, "#display-filter")
    def display_filter_submitted(self, event: Input.Submitted) -> None:
        self.apply_display_filter(event.value)

    def apply_display_filter(self, expression: str) -> None:
        """Compile `expression` and list only the associations with a matching packet; blank: no filter.
        A bad expression shows the error with a caret under the fault and keeps the rows as they were."""
        from sctpscope.filter import FilterError, compile as compile_filter

        status = self.query_one("#filter-status", Static)
        self.workers.cancel_group(self, "display-filter")
        if not expression.strip():
            self.matches = None
            status.display = False
            self.refresh_rows()
            self.query_one("#associations", AssociationTable).focus()
            return
        try:
            flt = compile_filter(expression)
        except FilterError as exc:
            status.update(filter_error_text(exc))
            status.set_class(True, "error")
            status.display = True
            return
        status.set_class(False, "error")
        status.update(Text(f"filter {safe(expression)}: reading the capture…", style="italic"))
        status.display = True
        self.run_filter(flt)

    @work(thread=True, exclusive=True, exit_on_error=False, group="display-filter")
    def run_filter(self, flt) -> None:
        from sctpscope.tui.filtering import matching_associations

        worker = get_current_worker()
        app = self.app
        m = matching_associations(app.paths, flt, sctp_udp_ports=app.sctp_udp_ports, verify=app.verify,
                                  cancelled=lambda: worker.is_cancelled)
        if m is not None and not worker.is_cancelled:
            self.post_message(self.Filtered(m))

    def on_associations_screen_filtered(self, message: Filtered) -> None:
        m = self.matches = message.matches
        self.refresh_rows()
        shown = sum(1 for r in self.rows.values() if r[3]["id"] in m.ids)
        line = (f"filter {safe(m.expression)}: {m.packets} SCTP packets match, in {shown} of {len(self.rows)} "
                f"associations")
        if m.unassociated:
            line += f" (and {m.unassociated} out of the blue)"
        self.query_one("#filter-status", Static).update(Text(line + "  (f: change, empty + enter: clear)",
                                                             style="bold"))
        self.query_one("#associations", AssociationTable).focus()

    # -- export, statistics ---------------------------------------------------------------------------------
    def selected(self) -> dict | None:
        table = self.query_one("#associations", AssociationTable)
        if not table.row_count():
            return None
        row = self.rows.get(table.keys[table.cursor])
        return row[3] if row else None

    def action_export(self) -> None:
        a = self.selected()
        if a is not None:
            self.app.export_associations([a])

    def action_statistics(self) -> None:
        from sctpscope.tui.screens.statistics import StatisticsScreen

        if not self.done:
            self.notify("statistics: wait until the capture is indexed", severity="warning")
            return
        self.app.push_screen(StatisticsScreen())

    def action_leave_filter(self) -> None:
        if self.focused is self.query_one("#display-filter"):
            self.query_one("#associations", AssociationTable).focus()
            return
        box = self.query_one("#filter", Input)
        if box.value:
            box.value = ""
        self.query_one("#associations", AssociationTable).focus()

    def action_open(self) -> None:
        table = self.query_one("#associations", AssociationTable)
        if table.row_count():
            self.open_key(table.keys[table.cursor])

    def on_association_table_sort_requested(self, event: AssociationTable.SortRequested) -> None:
        if event.column >= 0:
            self.sort_by(event.column)
        else:
            self.query_one("#associations-header", Static).update(event.table.header())

    def on_click(self, event) -> None:
        """A click on the header line sorts by the column under the pointer."""
        header = self.query_one("#associations-header", Static)
        if event.widget is header:
            self.sort_by(self.query_one("#associations", AssociationTable).column_at(event.x))

    @on(Input.Changed, "#filter")
    def filter_changed(self) -> None:
        self.refresh_rows()

    @on(Input.Submitted, "#filter")
    def filter_submitted(self) -> None:
        self.query_one("#associations", AssociationTable).focus()

    @on(AssociationTable.Selected, "#associations")
    def row_selected(self, event: AssociationTable.Selected) -> None:
        table = self.query_one("#associations", AssociationTable)
        self.open_key(table.keys[event.index])

    def open_key(self, key: int) -> None:
        from sctpscope.tui.screens.association import AssociationScreen

        row = self.rows.get(key)
        if row is not None:
            self.app.push_screen(AssociationScreen(row[3], growing=not self.done, live=self.live))
