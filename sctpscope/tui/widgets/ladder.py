"""The timeline as a ladder diagram: one arrow per chunk, runs of DATA/SACK folded, rendered on demand.

Rows are laid out by export.ladder (the same rows `sctpscope ladder` writes). `/` searches the chunk labels
(folded runs too: the run holding a match unfolds), `]` / `[` go to the next / previous match."""

from __future__ import annotations

from rich.text import Text
from textual.binding import Binding

from sctpscope.analysis.timeline import Timeline
from sctpscope.export.ladder import Row, run_row, step_label, step_row
from sctpscope.tui.format import safe
from sctpscope.tui.widgets.virtual import VirtualList


def _text(row: Row) -> Text:
    return Text.assemble(*row.segments, style=row.base)


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
        Binding("slash", "search", "Search", show=False),
        Binding("right_square_bracket", "next_match(1)", "Next match", show=False),
        Binding("left_square_bracket", "next_match(-1)", "Prev match", show=False),
    ]

    def __init__(self, **kwargs) -> None:
        super().__init__(**kwargs)
        self.timeline: Timeline | None = None
        self.t0 = 0.0
        self.rows: list[int] = []
        self.unfolded: set[int] = set()
        self.run_of: dict[int, int] = {}          # step index -> run index
        self.search_text = ""                     # the last search (`/`), for `]` / `[`

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
            return _text(step_row(self.timeline.steps[r], self.t0, width))
        k = -r - 1
        return _text(run_row(self.timeline.runs[k], k not in self.unfolded))

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

    def _here(self, direction: int) -> int:
        """The step index the cursor is on; on a run's line, just before (forward) or at its first step."""
        here = self.rows[self.cursor] if self.rows else -1
        if here < 0 and self.timeline is not None and self.timeline.runs:
            here = self.timeline.runs[-here - 1].start - (1 if direction > 0 else 0)
        return here

    def action_next_rtx(self, direction: int) -> None:
        tl = self.timeline
        if tl is None:
            return
        here = self._here(direction)
        rtx = tl.retransmissions()
        after = [i for i in rtx if (i > here if direction > 0 else i < here)]
        if not after:
            self.notify("no further retransmission", severity="warning")
            return
        self.jump_to_step(after[0] if direction > 0 else after[-1])

    # -- search -------------------------------------------------------------------------------------
    def matches(self, query: str) -> list[int]:
        """Indices of the steps whose label (as shown, marks included) holds `query`, any case."""
        if self.timeline is None or not query:
            return []
        q = query.casefold()
        return [i for i, s in enumerate(self.timeline.steps) if q in step_label(s).casefold()]

    def action_search(self) -> None:
        """/: ask for a text; the cursor goes to the first chunk at or after it whose label holds it."""
        from sctpscope.tui.dialogs.prompt import PromptScreen

        if self.timeline is None:
            return
        self.app.push_screen(PromptScreen("Search the timeline (chunk label, e.g. TSN=1234, ABORT, SID=3):",
                                          self.search_text, placeholder="text in the arrow's label"), self.search)

    def search(self, query: str | None) -> None:
        if not query:
            return
        self.search_text = query
        found = self.matches(query)
        if not found:
            self.notify(f"no match for {safe(query)} in this timeline", severity="warning", markup=False)
            return
        here = self._here(1)
        at = next((i for i in found if i >= max(here, 0)), found[0])
        self._show_match(at, found)

    def action_next_match(self, direction: int) -> None:
        """] / [: the next / previous chunk matching the last search."""
        if not self.search_text:
            self.notify("no search yet: / to search the timeline", severity="warning")
            return
        found = self.matches(self.search_text)
        here = self._here(direction)
        after = [i for i in found if (i > here if direction > 0 else i < here)]
        if not after:
            self.notify(f"no {'further' if direction > 0 else 'earlier'} match for {safe(self.search_text)}"
                        + ("" if found else " (none at all)"), severity="warning", markup=False)
            return
        self._show_match(after[0] if direction > 0 else after[-1], found)

    def _show_match(self, step: int, found: list[int]) -> None:
        self.jump_to_step(step)
        self.notify(f"{safe(self.search_text)}: match {found.index(step) + 1} of {len(found)}", markup=False,
                    timeout=2)

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
