"""A stream's messages in arrival order (analysis.ordering), one row each, rendered on demand; a stream reset
(RE-CONFIG, RFC 6525) is a row of its own where it was performed, the SSNs starting again at 0 below it."""

from __future__ import annotations

from rich.text import Text

from sctpscope.analysis.ordering import Message, Reset, StreamOrder
from sctpscope.tui.format import order_row
from sctpscope.tui.widgets.virtual import VirtualList


def reset_row(r: Reset, t0: float) -> Text:
    """The reset's marker: the response's frame and time, where the request was, the streams it named."""
    if r.ssn_tsn:
        what = "every stream both ways (SSN/TSN reset)"
    elif not r.sids:
        what = "every stream"
    else:
        what = ("streams " if len(r.sids) > 1 else "stream ") + ",".join(map(str, r.sids))
    return Text(f"{'':>5} {'RESET':>6} {'':<21} {r.frame:<11} {r.ts - t0:10.6f}  stream reset performed "
                f"(RE-CONFIG response to request {r.req_seq} of frame {r.request_frame}, {what}): "
                f"SSNs start again at 0", style="bold cyan")


class OrderingView(VirtualList):
    """Rows are messages and stream resets; enter on a message opens the packet that carried its first
    fragment."""

    def __init__(self, **kwargs) -> None:
        super().__init__(**kwargs)
        self.order: StreamOrder | None = None
        self.rows: list[Message | Reset] = []
        self.t0 = 0.0

    def show(self, order: StreamOrder, t0: float) -> None:
        self.order, self.t0 = order, t0
        self.rows = order.rows()
        self.cursor = 0
        self.rows_changed()

    def row_count(self) -> int:
        return len(self.rows)

    def render_row(self, index: int, width: int) -> Text:
        row = self.rows[index]
        return reset_row(row, self.t0) if isinstance(row, Reset) else order_row(row, self.t0)

    def row_at(self, index: int | None = None) -> Message | Reset | None:
        if not self.rows:
            return None
        return self.rows[self.cursor if index is None else index]

    def message_at(self, index: int | None = None) -> Message | None:
        """The message of a row (None on a reset row)."""
        row = self.row_at(index)
        return row if isinstance(row, Message) else None
