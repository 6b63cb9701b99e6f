"""A stream's messages in arrival order (analysis.ordering), one row each, rendered on demand."""

from __future__ import annotations

from rich.text import Text

from sctpscope.analysis.ordering import StreamOrder
from sctpscope.tui.format import order_row
from sctpscope.tui.widgets.virtual import VirtualList


class OrderingView(VirtualList):
    """Rows are messages; enter opens the packet that carried the message's first fragment."""

    def __init__(self, **kwargs) -> None:
        super().__init__(**kwargs)
        self.order: StreamOrder | None = None
        self.t0 = 0.0

    def show(self, order: StreamOrder, t0: float) -> None:
        self.order, self.t0 = order, t0
        self.cursor = 0
        self.rows_changed()

    def row_count(self) -> int:
        return len(self.order.messages) if self.order is not None else 0

    def render_row(self, index: int, width: int) -> Text:
        return order_row(self.order.messages[index], self.t0)

    def message_at(self, index: int | None = None):
        if self.order is None or not self.order.messages:
            return None
        return self.order.messages[self.cursor if index is None else index]
