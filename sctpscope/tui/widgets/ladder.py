"""The timeline as a ladder diagram: one arrow per chunk, runs of DATA/SACK folded, rendered on demand."""

from __future__ import annotations

from rich.text import Text
from textual.binding import Binding

from sctpscope.analysis.timeline import Timeline
from sctpscope.tui.format import ladder_run, ladder_step
from sctpscope.tui.widgets.virtual import VirtualList


class Ladder(VirtualList):
    """Rows are steps (chunks) and folded runs; `rows[i]` >= 0 is a step index, -(k + 1) is run k."""

    BINDINGS = [
        Binding("h", "jump('handshake')", "Handshake"),
        Binding("r", "jump('retransmission')", "1st rtx"),
        Binding("n", "next_rtx(1)", "Next rtx"),
        Binding("N", "next_rtx(-1)", "Prev rtx", show=False),
        Binding("e", "jump('ending')", "Shutdown/abort"),
        Binding("c", "fold_all", "Unfold/fold all"),
        Binding("space", "toggle_run", "Fold run", show=False),
    ]

    def __init__(self, **kwargs) -> None:
        super().__init__(**kwargs)
        self.timeline: Timeline | None = None
        self.t0 = 0.0
        self.rows: list[int] = []
        self.unfolded: set[int] = set()
        self.run_of: dict[int, int] = {}          # step index -> run index

    def show(self, timeline: Timeline, t0: float) -> None:
        self.timeline, self.t0 = timeline, t0
        self.run_of = {i: k for k, r in enumerate(timeline.runs) for i in range(r.start, r.end + 1)}
        self._rebuild()

    def _rebuild(self, keep_step: int | None = None) -> None:
        tl = self.timeline
        rows: list[int] = []
        if tl is not None:
            runs = tl.runs
            k, i, n = 0, 0, len(tl.steps)
            while i < n:
                if k < len(runs) and runs[k].start == i:
                    rows.append(-(k + 1))
                    if k in self.unfolded:
                        rows.extend(range(runs[k].start, runs[k].end + 1))
                    i = runs[k].end + 1
                    k += 1
                else:
                    rows.append(i)
                    i += 1
        self.rows = rows
        self.rows_changed()
        if keep_step is not None:
            self.move_to(self.row_of(keep_step))

    def row_count(self) -> int:
        return len(self.rows)

    def render_row(self, index: int, width: int) -> Text:
        r = self.rows[index]
        if r >= 0:
            return ladder_step(self.timeline.steps[r], self.t0, width)
        k = -r - 1
        return ladder_run(self.timeline.runs[k], k not in self.unfolded, width)

    # -- what the cursor is on ------------------------------------------------------------------------
    def step_at(self, index: int | None = None):
        """The Step under the cursor (None on a folded run)."""
        index = self.cursor if index is None else index
        if self.timeline is None or not (0 <= index < len(self.rows)) or self.rows[index] < 0:
            return None
        return self.timeline.steps[self.rows[index]]

    def row_of(self, step: int) -> int:
        """The row showing step `step`, unfolding its run if needed."""
        k = self.run_of.get(step)
        if k is not None and k not in self.unfolded:
            self.unfolded.add(k)
            self._rebuild()
        try:
            return self.rows.index(step)
        except ValueError:
            return 0

    def jump_to_step(self, step: int | None) -> bool:
        if step is None or self.timeline is None:
            return False
        self.move_to(self.row_of(step))
        return True

    def jump_to_frame(self, frame: int) -> bool:
        if self.timeline is None:
            return False
        return self.jump_to_step(next((i for i, s in enumerate(self.timeline.steps) if s.frame >= frame), None))

    # -- keys -----------------------------------------------------------------------------------------
    def action_jump(self, what: str) -> None:
        tl = self.timeline
        if tl is None:
            return
        target = {"handshake": tl.handshake, "retransmission": tl.first_retransmission,
                  "ending": tl.ending}[what]()
        if not self.jump_to_step(target):
            self.notify(f"no {what} in this association", severity="warning")

    def action_next_rtx(self, direction: int) -> None:
        tl = self.timeline
        if tl is None:
            return
        here = self.rows[self.cursor] if self.rows else -1
        if here < 0:
            here = tl.runs[-here - 1].start - (1 if direction > 0 else 0)
        rtx = tl.retransmissions()
        after = [i for i in rtx if (i > here if direction > 0 else i < here)]
        if not after:
            self.notify("no further retransmission", severity="warning")
            return
        self.jump_to_step(after[0] if direction > 0 else after[-1])

    def action_toggle_run(self) -> None:
        if not self.rows:
            return
        r = self.rows[self.cursor]
        k = -r - 1 if r < 0 else self.run_of.get(r)
        if k is None:
            return
        self.unfolded.symmetric_difference_update({k})
        self._rebuild()
        self.move_to(self.rows.index(-(k + 1)))

    def action_fold_all(self) -> None:
        if self.timeline is None:
            return
        step = self.step_at()
        every = set(range(len(self.timeline.runs)))
        self.unfolded = set() if self.unfolded == every else every
        self._rebuild()
        if step is not None and (self.run_of.get(self.timeline.steps.index(step)) is None or self.unfolded):
            self.move_to(self.rows.index(self.timeline.steps.index(step)))

    def action_select(self) -> None:
        if self.rows and self.rows[self.cursor] < 0:
            self.action_toggle_run()
        else:
            super().action_select()
