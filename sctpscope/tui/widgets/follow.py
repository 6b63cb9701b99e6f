"""An association's user messages (analysis.follow), one row each in arrival order, all streams or one."""

from __future__ import annotations

from rich.text import Text
from textual.binding import Binding
from textual.message import Message

from sctpscope.decode.upper import summarize
from sctpscope.tui.format import follow_row
from sctpscope.tui.widgets.virtual import VirtualList


class FollowView(VirtualList):
    """Rows are messages of the chosen stream (or of every stream); s / S choose the stream, a all."""

    BINDINGS = [
        Binding("s", "stream(1)", "Next stream"),
        Binding("S", "stream(-1)", "Prev stream", show=False),
        Binding("a", "all_streams", "All streams"),
        Binding("w", "save('message')", "Save message"),
        Binding("W", "save('stream')", "Save stream"),
    ]

    class Changed(Message):
        """The stream shown or the cursor's message changed: handled as `on_follow_view_changed`."""

        def __init__(self, view: "FollowView") -> None:
            super().__init__()
            self.view = view

        @property
        def control(self) -> "FollowView":
            return self.view

    class SaveRequested(Message):
        """w / W: handled as `on_follow_view_save_requested`."""

        def __init__(self, view: "FollowView", what: str) -> None:
            super().__init__()
            self.view = view
            self.what = what

        @property
        def control(self) -> "FollowView":
            return self.view

    def __init__(self, **kwargs) -> None:
        super().__init__(**kwargs)
        self.messages: list = []
        self.t0 = 0.0
        self.streams: list[tuple[int, int]] = []     # (direction, sid) in order
        self.stream: tuple[int, int] | None = None  # None: every stream
        self.shown: list[int] = []                  # indices into messages
        self._upper: dict[int, str | None] = {}

    def show(self, messages, t0: float) -> None:
        """`messages`: a list of follow.Messages, or lazyassoc.LazyMessages (a large association: each message
        reassembled again when shown)."""
        self.messages, self.t0 = messages, t0
        if hasattr(messages, "streams"):
            self.streams = messages.streams()
        else:
            self.streams = sorted({(m.direction, m.sid) for m in messages})
        self._upper.clear()
        self.set_stream(self.stream if self.stream in self.streams else None)

    def set_stream(self, stream: tuple[int, int] | None) -> None:
        self.stream = stream
        msgs = self.messages
        if hasattr(msgs, "of_stream"):
            self.shown = msgs.of_stream(stream)
        else:
            self.shown = [i for i, m in enumerate(msgs) if stream is None or (m.direction, m.sid) == stream]
        self._incomplete: int | None = None
        self.cursor = 0
        self.rows_changed()
        self.post_message(self.Changed(self))

    def incomplete_count(self) -> int:
        """Messages shown that miss fragments (counted once per stream shown)."""
        if getattr(self, "_incomplete", None) is None:
            msgs = self.messages
            if hasattr(msgs, "count_incomplete"):
                self._incomplete = msgs.count_incomplete(self.shown)
                return self._incomplete
            done = msgs.complete if hasattr(msgs, "complete") else (lambda i: msgs[i].complete)
            self._incomplete = sum(1 for i in self.shown if not done(i))
        return self._incomplete

    def upper(self, i: int) -> str | None:
        """The upper-layer one-liner of message i (decode.upper), computed once."""
        if i not in self._upper:
            m = self.messages[i]
            up = summarize(m.ppid, m.data, m.sport, m.dport) if m.complete and m.data else None
            self._upper[i] = up.text if up is not None else None
        return self._upper[i]

    def row_count(self) -> int:
        return len(self.shown)

    def render_row(self, index: int, width: int) -> Text:
        i = self.shown[index]
        return follow_row(self.messages[i], i + 1, self.t0, self.upper(i))

    def current(self) -> tuple[int, object] | None:
        """(number of the message in arrival order, the Message) under the cursor."""
        if not self.shown:
            return None
        i = self.shown[min(self.cursor, len(self.shown) - 1)]
        return i + 1, self.messages[i]

    def watch_cursor(self, old: int, new: int) -> None:
        super().watch_cursor(old, new)
        self.post_message(self.Changed(self))

    def action_stream(self, delta: int) -> None:
        if not self.streams:
            return
        if self.stream is None:
            k = 0 if delta > 0 else len(self.streams) - 1
        else:
            k = (self.streams.index(self.stream) + delta) % len(self.streams)
        self.set_stream(self.streams[k])

    def action_all_streams(self) -> None:
        self.set_stream(None)

    def action_save(self, what: str) -> None:
        if self.shown:
            self.post_message(self.SaveRequested(self, what))
