"""A virtual list: renders only the rows on screen, through an LRU cache of rendered lines, with a cursor.

Subclasses say how many rows there are (`row_count`) and how one row looks (`render_row`, a rich Text that
is never parsed as markup); a million rows cost nothing until they are scrolled into view.
"""

from __future__ import annotations

from rich.style import Style
from rich.text import Text
from textual.binding import Binding
from textual.cache import LRUCache
from textual.geometry import Size
from textual.message import Message
from textual.reactive import reactive
from textual.scroll_view import ScrollView
from textual.strip import Strip

CURSOR_STYLE = Style(reverse=True)


class VirtualList(ScrollView, can_focus=True):
    """Rows rendered on demand; up/down/page/home/end move the cursor, enter selects the row."""

    DEFAULT_CSS = """
    VirtualList { height: 1fr; }
    VirtualList:focus { border-left: outer $accent; }
    """
    BINDINGS = [
        Binding("up", "cursor(-1)", "Up", show=False),
        Binding("down", "cursor(1)", "Down", show=False),
        Binding("pageup", "page(-1)", "Page up", show=False),
        Binding("pagedown", "page(1)", "Page down", show=False),
        Binding("home", "edge(0)", "First", show=False),
        Binding("end", "edge(1)", "Last", show=False),
        Binding("enter", "select", "Select", show=False),
    ]

    cursor: reactive[int] = reactive(0, always_update=True, init=False)
    show_cursor = True

    class Selected(Message):
        """Enter on a row: handled as `on_virtual_list_selected`."""

        def __init__(self, view: "VirtualList", index: int) -> None:
            super().__init__()
            self.view = view
            self.index = index

        @property
        def control(self) -> "VirtualList":
            return self.view

    class Highlighted(Message):
        """The cursor moved to a row: handled as `on_virtual_list_highlighted`."""

        def __init__(self, view: "VirtualList", index: int) -> None:
            super().__init__()
            self.view = view
            self.index = index

        @property
        def control(self) -> "VirtualList":
            return self.view

    def __init__(self, *, id: str | None = None, classes: str | None = None) -> None:
        super().__init__(id=id, classes=classes)
        self._lines: LRUCache[tuple, Strip] = LRUCache(2048)

    # -- what subclasses provide ----------------------------------------------------------------------
    def row_count(self) -> int:
        return 0

    def render_row(self, index: int, width: int) -> Text:
        return Text("")

    # -- updating -------------------------------------------------------------------------------------
    def rows_changed(self) -> None:
        """The rows are different now: forget rendered lines, resize, repaint."""
        self._lines.clear()
        self.virtual_size = Size(self.size.width or 1, self.row_count())
        n = self.row_count()
        if self.cursor >= n:
            self.cursor = max(0, n - 1)
        self.refresh()

    def on_resize(self) -> None:
        self._lines.clear()
        self.virtual_size = Size(self.size.width or 1, self.row_count())

    # -- rendering ------------------------------------------------------------------------------------
    def render_line(self, y: int) -> Strip:
        scroll_x, scroll_y = self.scroll_offset
        index = scroll_y + y
        width = self.scrollable_content_region.width
        style = self.rich_style
        if index >= self.row_count() or width <= 0:
            return Strip.blank(width, style)
        selected = self.show_cursor and index == self.cursor
        key = (index, width, selected and self.has_focus, selected)
        strip = self._lines.get(key)
        if strip is None:
            text = self.render_row(index, width)
            text.no_wrap = True
            text.end = ""
            segments = [s for s in text.render(self.app.console) if s.text != "\n"]
            strip = Strip(segments).crop_extend(0, width, style)
            if selected:
                strip = strip.apply_style(CURSOR_STYLE if self.has_focus else Style(underline=True))
            self._lines[key] = strip
        return strip

    def on_focus(self) -> None:
        self.refresh()

    def on_blur(self) -> None:
        self.refresh()

    # -- the cursor -----------------------------------------------------------------------------------
    def watch_cursor(self, old: int, new: int) -> None:
        self.scroll_to_row(new)
        self.refresh()
        self.post_message(self.Highlighted(self, new))

    def scroll_to_row(self, index: int) -> None:
        top = self.scroll_offset.y
        height = self.scrollable_content_region.height or 1
        if index < top:
            self.scroll_to(y=index, animate=False)
        elif index >= top + height:
            self.scroll_to(y=index - height + 1, animate=False)

    def move_to(self, index: int) -> None:
        """Put the cursor on row `index` (clamped) and scroll it into view, a few rows from the top."""
        n = self.row_count()
        if not n:
            return
        index = max(0, min(n - 1, index))
        height = self.scrollable_content_region.height or 1
        self.cursor = index
        # after the next refresh: the virtual size may just have changed (a run unfolded)
        self.call_after_refresh(self.scroll_to, y=max(0, index - min(3, height // 4)), animate=False)

    def action_cursor(self, delta: int) -> None:
        n = self.row_count()
        if n:
            self.cursor = max(0, min(n - 1, self.cursor + delta))

    def action_page(self, direction: int) -> None:
        self.action_cursor(direction * max(1, (self.scrollable_content_region.height or 2) - 1))

    def action_edge(self, end: int) -> None:
        n = self.row_count()
        if n:
            self.cursor = n - 1 if end else 0

    def action_select(self) -> None:
        if self.row_count():
            self.post_message(self.Selected(self, self.cursor))

    def on_click(self, event) -> None:
        index = self.scroll_offset.y + event.y
        if 0 <= index < self.row_count():
            self.cursor = index
