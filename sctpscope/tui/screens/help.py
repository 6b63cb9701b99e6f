"""The help screen: every key of every screen."""

from __future__ import annotations

from rich import box
from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Static

KEYS = (
    ("anywhere", (("?", "this help"), ("q", "quit (also while indexing)"),
                  ("ctrl+p", "command palette: open an association, switch tabs, jump in the timeline"))),
    ("associations", (("↑ ↓ PgUp PgDn, enter", "move in the list, open the association"),
                      ("/, escape", "filter the rows (substring of the row text); clear the filter"),
                      ("s, click a header", "sort by the cursor's / that column (again: reverse)"))),
    ("association", (("escape", "back to the list"),
                     ("1 … 6", "tabs Overview, Timeline, Streams, Ending, Events, Anomalies"),
                     ("tab, ← →", "next widget; on the tab bar: previous / next tab"))),
    ("timeline", (("↑ ↓ PgUp PgDn Home End", "move along the ladder"), ("h", "jump to the handshake (INIT)"),
                  ("r", "jump to the first retransmission"), ("n / N", "next / previous retransmission"),
                  ("e", "jump to the shutdown or abort"), ("c", "unfold / fold every DATA/SACK run"),
                  ("enter, space", "on a folded run: unfold it; on a chunk: its packet detail"))),
    ("streams", (("↑ ↓", "choose a stream: its messages in arrival order show below"),
                 ("enter", "table: into the ordering view; view: the packet of the message"))),
    ("ending", (("enter", "the packet of a SHUTDOWN / SHUTDOWN ACK / SHUTDOWN COMPLETE / ABORT"),)),
    ("events, anomalies", (("enter", "the packet of the line's frame"), ("t", "the line's frame in the timeline"))),
    ("packet", (("↑ ↓", "move in the tree: the field's bytes light up in the hex dump"),
                ("enter, x", "fold / unfold a tree node; unfold everything"),
                ("[ ]", "previous / next frame of the association"), ("tab, escape", "tree / hex dump; back"))),
    ("help", (("escape, ?, q", "close this help"),)),
)


def help_table() -> Table:
    t = Table(title="sctpscope keys", show_header=True, expand=False, box=box.SIMPLE_HEAD, padding=(0, 1))
    t.add_column("screen")
    t.add_column("key")
    t.add_column("does")
    for screen, keys in KEYS:
        for i, (k, what) in enumerate(keys):
            t.add_row(Text(screen if i == 0 else "", style="italic"), Text(k, style="bold"), Text(what))
    return t


class HelpScreen(ModalScreen[None]):
    """Lists the keys; any of escape, ? or q closes it."""

    BINDINGS = [Binding("escape,question_mark,q", "dismiss", "Close")]

    def compose(self) -> ComposeResult:
        with VerticalScroll(id="help-box"):
            yield Static(help_table(), id="help-text", markup=False)
