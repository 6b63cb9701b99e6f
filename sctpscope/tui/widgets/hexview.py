"""A hex dump of one frame, 16 bytes a line, with the selected field's bytes highlighted."""

from __future__ import annotations

from rich.text import Text

from sctpscope.tui.widgets.virtual import VirtualList

HIGHLIGHT = "bold black on yellow"


def hex_line(data: bytes, row: int, span: tuple[int, int] | None) -> Text:
    """Offset, 16 bytes in hex, the same as ASCII (printable ASCII only, '.' otherwise)."""
    base = row * 16
    chunk = data[base:base + 16]
    out = Text(f"{base:04x}  ", style="dim")
    lo, hi = span if span else (-1, -1)
    for i in range(16):
        if i == 8:
            out.append(" ")
        if i < len(chunk):
            style = HIGHLIGHT if lo <= base + i < hi else ""
            out.append(f"{chunk[i]:02x}", style=style)
            out.append(" ", style=HIGHLIGHT if lo <= base + i + 1 < hi and i != 15 and i != 7 else "")
        else:
            out.append("   ")
    out.append(" ")
    for i, b in enumerate(chunk):
        ch = chr(b) if 0x20 <= b < 0x7F else "."
        out.append(ch, style=HIGHLIGHT if lo <= base + i < hi else "")
    return out


class HexView(VirtualList):
    """The frame's bytes; `highlight(offset, length)` marks a field and scrolls to it."""

    DEFAULT_CSS = """
    HexView { height: 1fr; }
    """

    show_cursor = False

    def __init__(self, **kwargs) -> None:
        super().__init__(**kwargs)
        self.data = b""
        self.span: tuple[int, int] | None = None

    def show(self, data: bytes) -> None:
        self.data = data
        self.rows_changed()

    def highlight(self, offset: int, length: int) -> None:
        self.span = (offset, offset + length) if offset >= 0 and length > 0 else None
        self._lines.clear()
        self.refresh()
        if self.span:
            first = offset // 16
            top, height = self.scroll_offset.y, self.scrollable_content_region.height or 1
            if not top <= first < top + height:
                self.scroll_to(y=max(0, first - 1), animate=False)

    def row_count(self) -> int:
        return (len(self.data) + 15) // 16

    def render_row(self, index: int, width: int) -> Text:
        return hex_line(self.data, index, self.span)

    def watch_cursor(self, old: int, new: int) -> None:
        self.refresh()
