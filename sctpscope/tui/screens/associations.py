"""The home screen: capture totals and one sortable, filterable row per association."""

from __future__ import annotations

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.screen import Screen
from textual.widgets import DataTable, Footer, Input, LoadingIndicator, Static

from sctpscope.tui.format import COLUMNS, association_row, safe


class AssociationsScreen(Screen):
    """Shows a loading indicator until the app hands it the analysis (`show_result`) or an error."""

    BINDINGS = [
        Binding("slash", "filter", "Filter"),
        Binding("s", "sort", "Sort column"),
        Binding("escape", "leave_filter", "Clear filter", show=False),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.associations: list[dict] = []
        self.rows: list[tuple[list[Text], tuple, str, dict]] = []   # cells, sort keys, search text, assoc
        self.sort_column: int = 0
        self.sort_reverse = False

    def compose(self) -> ComposeResult:
        yield Static(Text("reading the capture…"), id="totals", markup=False)
        yield LoadingIndicator(id="loading")
        yield Static("", id="error", markup=False)
        yield Input(placeholder="filter: / to type, escape to clear", id="filter")
        yield DataTable(id="associations", cursor_type="row", zebra_stripes=True)
        yield Footer()

    def on_mount(self) -> None:
        table = self.query_one("#associations", DataTable)
        for i, name in enumerate(COLUMNS):
            table.add_column(name, key=str(i))
        self.query_one("#error").display = False
        self.query_one("#filter").display = False
        table.display = False

    # -- what the app hands over -------------------------------------------------------------------------
    def show_result(self, result) -> None:
        """Fill the header and the list from an analysis Result."""
        t0 = next((i.first_ts for i in result.infos if i.first_ts is not None), 0.0)
        self.associations = result.associations
        self.rows = []
        for a in result.associations:
            cells, keys = association_row(a, t0)
            self.rows.append((cells, keys, " ".join(c.plain for c in cells).lower(), a))
        t = result.totals
        names = ", ".join(safe(i.path) for i in result.infos)
        self.query_one("#totals", Static).update(Text(
            f"{names}: {t.packets} packets, {t.sctp_packets} SCTP packets, {len(result.associations)} "
            f"associations, {t.bad_checksums} bad checksums, {t.malformed} malformed"))
        self.query_one("#loading").display = False
        self.query_one("#filter").display = True
        table = self.query_one("#associations", DataTable)
        table.display = True
        self.refresh_rows()
        table.focus()

    def show_error(self, message: str) -> None:
        """One clear line instead of the list."""
        self.query_one("#loading").display = False
        self.query_one("#totals", Static).update(Text("cannot open the capture"))
        err = self.query_one("#error", Static)
        err.update(Text(safe(message), style="bold red"))
        err.display = True

    # -- the list --------------------------------------------------------------------------------------------
    def visible_rows(self) -> list[tuple[list[Text], tuple, str, dict]]:
        needle = self.query_one("#filter", Input).value.strip().lower()
        rows = [r for r in self.rows if needle in r[2]] if needle else list(self.rows)
        rows.sort(key=lambda r: r[1][self.sort_column], reverse=self.sort_reverse)
        return rows

    def refresh_rows(self) -> None:
        table = self.query_one("#associations", DataTable)
        table.clear()
        for cells, _, _, a in self.visible_rows():
            table.add_row(*cells, key=str(a["id"]))

    def sort_by(self, column: int) -> None:
        """Sort by `column`; the same column again reverses the order."""
        if column == self.sort_column:
            self.sort_reverse = not self.sort_reverse
        else:
            self.sort_column, self.sort_reverse = column, False
        self.refresh_rows()

    def action_sort(self) -> None:
        self.sort_by(self.query_one("#associations", DataTable).cursor_column)

    def action_filter(self) -> None:
        self.query_one("#filter", Input).focus()

    def action_leave_filter(self) -> None:
        box = self.query_one("#filter", Input)
        if box.value:
            box.value = ""
        self.query_one("#associations", DataTable).focus()

    @on(DataTable.HeaderSelected)
    def header_selected(self, event: DataTable.HeaderSelected) -> None:
        self.sort_by(event.column_index)

    @on(Input.Changed, "#filter")
    def filter_changed(self) -> None:
        self.refresh_rows()

    @on(Input.Submitted, "#filter")
    def filter_submitted(self) -> None:
        self.query_one("#associations", DataTable).focus()

    @on(DataTable.RowSelected, "#associations")
    def row_selected(self, event: DataTable.RowSelected) -> None:
        from sctpscope.tui.screens.association import AssociationScreen

        ident = int(event.row_key.value)
        a = next(x for x in self.associations if x["id"] == ident)
        self.app.push_screen(AssociationScreen(a))
