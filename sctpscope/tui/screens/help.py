"""The help screen: every key of every screen."""

from __future__ import annotations

from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Static

KEYS = (
    ("anywhere", (("?", "this help"), ("q", "quit"))),
    ("associations", (("↑ ↓ PgUp PgDn", "move in the list"), ("enter", "open the association"),
                      ("/", "filter the rows (substring of the row text)"), ("escape", "leave / clear the filter"),
                      ("s", "sort by the cursor's column (again: reverse)"),
                      ("click a column header", "sort by that column (again: reverse)"))),
    ("association", (("escape", "back to the list"), ("1 … 5", "Overview, Streams, Ending, Events, Anomalies"),
                     ("← →", "previous / next tab when the tabs have focus"))),
    ("help", (("escape, ?, q", "close this help"),)),
)


def help_table() -> Table:
    t = Table(title="sctpscope keys", show_header=True, expand=False)
    t.add_column("screen")
    t.add_column("key")
    t.add_column("does")
    for screen, keys in KEYS:
        for k, what in keys:
            t.add_row(Text(screen), Text(k, style="bold"), Text(what))
    return t


class HelpScreen(ModalScreen[None]):
    """Lists the keys; any of escape, ? or q closes it."""

    BINDINGS = [Binding("escape,question_mark,q", "dismiss", "Close")]

    def compose(self) -> ComposeResult:
        with VerticalScroll(id="help-box"):
            yield Static(help_table(), id="help-text", markup=False)
