"""The recent-files picker: `sctpscope` without FILE on a terminal lists the captures opened before, newest
first, files that are gone marked; enter opens one."""

from __future__ import annotations

import time
from collections.abc import Sequence

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.screen import Screen
from textual.widgets import Footer, OptionList, Static
from textual.widgets.option_list import Option

from sctpscope.state import Recent
from sctpscope.tui.format import safe


def recent_label(r: Recent) -> Text:
    """One capture: when it was opened, its file(s), a mark on missing ones."""
    out = Text(time.strftime("%Y-%m-%d %H:%M  ", time.localtime(r.opened)), style="dim")
    gone = set(r.missing)
    for i, p in enumerate(r.paths):
        if i:
            out.append(" + ")
        out.append(safe(p), style="strike dim" if p in gone else "")
    if gone:
        out.append("  [missing]", style="bold red")
    return out


class RecentScreen(Screen):
    """The captures opened before; enter opens the highlighted one in this app (app.open_capture)."""

    DEFAULT_CSS = """
    #recent-title { height: auto; padding: 0 1; background: $boost; text-style: bold; }
    #recent-list { height: 1fr; }
    """

    def __init__(self, entries: Sequence[Recent]) -> None:
        super().__init__()
        self.entries = list(entries)

    def compose(self) -> ComposeResult:
        yield Static(Text("sctpscope: captures opened before, newest first (enter: open, q: quit)" if self.entries
                          else "sctpscope: no capture opened before: start it as `sctpscope FILE`"),
                     id="recent-title", markup=False)
        yield OptionList(*(Option(recent_label(r), id=str(i)) for i, r in enumerate(self.entries)),
                         id="recent-list")
        yield Footer()

    def on_mount(self) -> None:
        self.query_one("#recent-list", OptionList).focus()

    @on(OptionList.OptionSelected, "#recent-list")
    def chosen(self, event: OptionList.OptionSelected) -> None:
        r = self.entries[int(event.option.id)]
        if r.missing:
            self.notify(f"no longer there: {safe(', '.join(r.missing))}", severity="error", markup=False)
            return
        self.app.open_capture(list(r.paths))
