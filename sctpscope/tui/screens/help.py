"""The help screen: every key of every screen (the live capture's too: `sctpscope live`)."""

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
                  (": / T", "go to frame N (its packet detail) / light or dark theme"),
                  ("ctrl+p", "command palette: open an association, switch tabs, jump in the timeline"),
                  ("B", "the bookmarked frames of this capture: enter opens one, d removes it"))),
    ("associations", (("↑ ↓ PgUp PgDn, enter", "move in the list, open the association"),
                      ("/, escape", "search the rows (substring of the row text); clear the search"),
                      ("f", "display filter: rows with a matching packet (ppid == Diameter); empty clears"),
                      ("s, click a header", "sort by the cursor's / that column (again: reverse)"),
                      ("x / i", "export: pcapng, JSON report, ladder as text or SVG (ids like 3, 5, 7-9) / capture statistics"))),
    ("association", (("escape", "back to the list"),
                     ("1 … 6", "tabs Overview, Timeline, Streams, Ending, Events, Anomalies"),
                     ("7, 8 / x", "tabs Follow, Graphs / export: pcapng, JSON report, ladder as text or SVG"),
                     ("tab, ← →", "next widget; on the tab bar: previous / next tab"))),
    ("timeline", (("↑ ↓ PgUp PgDn Home End", "move along the ladder"), ("h", "jump to the handshake (INIT)"),
                  ("r", "jump to the first retransmission"), ("n / N", "next / previous retransmission"),
                  ("e", "jump to the shutdown or abort"), ("c", "unfold / fold every DATA/SACK run"),
                  ("enter, space", "on a folded run: unfold it; on a chunk: its packet detail"),
                  ("/, ] [", "search the chunk labels (TSN=1234, ABORT, SID=3; folded runs too); next / previous match"))),
    ("streams", (("↑ ↓", "choose a stream: its messages in arrival order show below"),
                 ("enter", "table: into the ordering view; view: the packet of the message"))),
    ("ending", (("enter", "the packet of a SHUTDOWN / SHUTDOWN ACK / SHUTDOWN COMPLETE / ABORT"),)),
    ("events, anomalies", (("enter", "the packet of the line's frame"), ("t", "the line's frame in the timeline"))),
    ("packet", (("↑ ↓", "move in the tree: the field's bytes light up in the hex dump"),
                ("enter, x", "fold / unfold a tree node; unfold everything"),
                ("[ ]", "previous / next frame of the association"), ("tab, escape", "tree / hex dump; back"),
                ("b", "bookmark this frame (again: remove the bookmark); B lists the bookmarks"))),
    ("follow", (("↑ ↓", "move through the reassembled messages (arrival order); the detail shows below"),
                ("s / S, a", "next / previous stream (per direction); all streams"),
                ("enter", "the packet of the message's first fragment"),
                ("w / W", "save the message / every message listed (the stream) to a file, raw bytes"))),
    ("graphs", (("g", "next graph: TSN vs time (SACK cum ack, gap blocks), a_rwnd, bytes in flight, "
                      "throughput per stream, heartbeat RTT per path"),
                ("d", "the other direction of DATA"), ("← → Home End", "move the cursor ◉ between points"),
                ("n / N", "next / previous retransmission; in the heartbeat graph: primary path change"),
                ("s / S, a", "throughput: next / previous stream, all; heartbeat graph: next / previous path, all"),
                ("+ -, 0", "zoom in / out in time (throughput buckets follow); whole association"),
                ("< >", "pan left / right"),
                ("click, double click", "select the point (bar, path change) under the pointer; also open its frame"),
                ("wheel, shift+wheel", "zoom in / out around the pointer; pan"),
                ("enter", "the packet of the point: its chunk, HEARTBEAT ACK, a bucket's last DATA, a change's DATA"))),
    ("statistics", (("escape", "back"),)),
    ("live", (("p", "pause the display (the capture goes on); p again resumes"),
              ("w", "close the current file and go on capturing in a new one"),
              ("q", "stop the capture (the file is completed) and quit"),
              ("enter", "open an association: it keeps growing as packets arrive"))),
    ("export", (("tab, ↑ ↓ enter, click", "next field; choose the format"),
                ("enter / escape", "export (an existing file: enter twice) / cancel"))),
    ("recent files", (("↑ ↓, enter", "`sctpscope` alone: the captures opened before (missing ones marked); open one"),)),
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
