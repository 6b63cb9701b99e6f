"""The associations list as a virtual table: only the rows on screen are rendered, so the list can be
refilled several times a second while the capture is indexed, with thousands of associations."""

from __future__ import annotations

from rich.text import Text
from textual.binding import Binding
from textual.message import Message

from sctpscope.tui.format import COLUMNS
from sctpscope.tui.widgets.virtual import VirtualList

RIGHT = frozenset((0, 3, 4, 5, 6, 7, 8, 9))      # numeric columns, right-aligned
SEP = "  "


class AssociationTable(VirtualList):
    """Rows of cells (rich Texts); ← → choose the sort column (marked in the header), s sorts by it."""

    DEFAULT_CSS = """
    AssociationTable { height: 1fr; }
    """
    BINDINGS = [
        Binding("left", "column(-1)", "Column", show=False),
        Binding("right", "column(1)", "Column", show=False),
    ]

    class SortRequested(Message):
        """`s` or a click on the header: handled as `on_association_table_sort_requested`."""

        def __init__(self, table: "AssociationTable", column: int) -> None:
            super().__init__()
            self.table = table
            self.column = column

    def __init__(self, **kwargs) -> None:
        super().__init__(**kwargs)
        self.cells: list[list[Text]] = []
        self.keys: list[int] = []
        self.widths = [len(c) for c in COLUMNS]
        self.column = 0
        self.sort_column = 0
        self.sort_reverse = False

    def set_rows(self, rows: list[tuple[int, list[Text]]]) -> None:
        """Replace the rows: (key, cells) in display order; the cursor stays on the same key."""
        keep = self.keys[self.cursor] if self.keys and self.cursor < len(self.keys) else None
        self.keys = [k for k, _ in rows]
        self.cells = [c for _, c in rows]
        widths = [len(c) for c in COLUMNS]
        for cells in self.cells:
            for i, c in enumerate(cells):
                n = c.cell_len
                if n > widths[i]:
                    widths[i] = n
        self.widths = widths
        self.rows_changed()
        if keep is not None and keep in self.keys:
            index = self.keys.index(keep)
            if index != self.cursor:
                self.cursor = index

    def row_count(self) -> int:
        return len(self.cells)

    def _line(self, cells) -> Text:
        out = Text()
        for i, c in enumerate(cells):
            if i:
                out.append(SEP)
            pad = self.widths[i] - c.cell_len
            if i in RIGHT:
                out.append(" " * pad)
                out.append_text(c)
            else:
                out.append_text(c)
                out.append(" " * pad)
        return out

    def render_row(self, index: int, width: int) -> Text:
        line = self._line(self.cells[index])
        if index % 2:
            line.stylize("on #1e1e1e" if self.app.current_theme.dark else "on #eeeeee")
        return line

    def header(self) -> Text:
        """The column names, the sort column marked ▲/▼, the column the cursor chose underlined."""
        cells = []
        for i, name in enumerate(COLUMNS):
            mark = ("▼" if self.sort_reverse else "▲") if i == self.sort_column else ""
            style = "bold underline" if i == self.column else "bold"
            cells.append(Text(name + mark, style=style))
        widths = list(self.widths)
        for i, c in enumerate(cells):
            widths[i] = max(widths[i], c.cell_len)
        self.widths = widths
        return self._line(cells)

    def row_cells(self, index: int) -> list[str]:
        """The plain text of each cell of row `index` (for tests and the command palette)."""
        return [c.plain for c in self.cells[index]]

    def column_at(self, x: int) -> int:
        """Which column the screen column x (from the left edge) falls in."""
        pos = 0
        for i, w in enumerate(self.widths):
            pos += w + len(SEP)
            if x < pos:
                return i
        return len(self.widths) - 1

    def action_column(self, delta: int) -> None:
        self.column = (self.column + delta) % len(COLUMNS)
        self.post_message(self.SortRequested(self, -1))      # only the header changes
