"""The bookmarks list (B): the capture's bookmarked frames with their one-line summary; enter opens one."""

from __future__ import annotations

from collections.abc import Callable, Sequence

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import OptionList, Static
from textual.widgets.option_list import Option


class BookmarksScreen(ModalScreen[int | None]):
    """Dismisses with the frame chosen (enter), or None (escape); d / delete drops the highlighted bookmark
    through `remove`."""

    DEFAULT_CSS = """
    BookmarksScreen { align: center middle; }
    #bookmarks-box { width: 96%; max-width: 160; height: auto; max-height: 90%; border: thick $primary;
                     padding: 0 1; background: $surface; }
    #bookmarks-box > Static { height: auto; }
    #bookmarks-list { height: auto; max-height: 30; }
    """
    BINDINGS = [Binding("escape", "cancel", "Close"), Binding("d,delete", "remove", "Remove bookmark")]

    def __init__(self, rows: Sequence[tuple[int, str]], remove: Callable[[int], None]) -> None:
        super().__init__()
        self.rows = list(rows)          # (frame, one-line summary, terminal-safe)
        self.drop = remove

    def compose(self) -> ComposeResult:
        with Vertical(id="bookmarks-box"):
            yield Static(Text("Bookmarked frames", style="bold"), markup=False)
            yield OptionList(*(Option(Text(summary), id=str(frame)) for frame, summary in self.rows),
                             id="bookmarks-list")
            yield Static(Text("no bookmark yet: b on a packet's detail bookmarks its frame" if not self.rows else
                              "enter: open the frame · d: remove the bookmark · escape: close", style="dim"),
                         id="bookmarks-help", markup=False)

    def on_mount(self) -> None:
        self.query_one("#bookmarks-list", OptionList).focus()

    @on(OptionList.OptionSelected, "#bookmarks-list")
    def chosen(self, event: OptionList.OptionSelected) -> None:
        self.dismiss(int(event.option.id))

    def action_remove(self) -> None:
        box = self.query_one("#bookmarks-list", OptionList)
        if box.highlighted is None:
            return
        frame = int(box.get_option_at_index(box.highlighted).id)
        box.remove_option(str(frame))
        self.rows = [r for r in self.rows if r[0] != frame]
        self.drop(frame)

    def action_cancel(self) -> None:
        self.dismiss(None)
