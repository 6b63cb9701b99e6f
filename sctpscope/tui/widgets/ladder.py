"""The timeline as a ladder diagram: one arrow per chunk, runs of DATA/SACK folded, rendered on demand.

Rows are laid out by export.ladder (the same rows `sctpscope ladder` writes). `/` searches the chunk labels
(folded runs too: the run holding a match unfolds), `]` / `[` go to the next / previous match."""

from __future__ import annotations

import time
from array import array

from rich.text import Text
from textual import work
from textual.binding import Binding
from textual.message import Message

from sctpscope.analysis.lazyassoc import FoldedRows
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

    class SearchProgress(Message):
        """A search scanning a large association (a worker): handled as `on_ladder_search_progress`; `done`
        once it ended (found or not, or cancelled)."""

        def __init__(self, ladder: "Ladder", text: str, done: bool = False) -> None:
            super().__init__()
            self.ladder = ladder
            self.text = text
            self.done = done

        @property
        def control(self) -> "Ladder":
            return self.ladder

    def __init__(self, **kwargs) -> None:
        super().__init__(**kwargs)
        self.timeline: Timeline | None = None
        self.t0 = 0.0
        self.rows: FoldedRows = FoldedRows(0, (), ())
        self.search_text = ""                     # the last search (`/`), for `]` / `[`
        self.searching = False

    @property
    def unfolded(self) -> set[int]:
        """The runs shown unfolded."""
        return self.rows.unfolded()

    @property
    def lazy(self) -> bool:
        return getattr(self.timeline, "lazy", False)

    def show(self, timeline: Timeline, t0: float) -> None:
        """Show `timeline` (a refresh of the same association keeps the runs unfolded so far)."""
        old = self.rows
        self.timeline, self.t0 = timeline, t0
        runs = timeline.runs
        starts = getattr(runs, "starts", None)
        if starts is None:
            starts, ends = array("I", (r.start for r in runs)), array("I", (r.end for r in runs))
        else:
            ends = runs.ends
        rows = FoldedRows(len(timeline.steps), starts, ends)
        if not old.folded_default:
            rows.set_unfolded("all")
        else:
            rows.set_unfolded({k for k in old.exceptions if k < rows.R})
        self.rows = rows
        self.rows_changed()

    def _rebuild(self, keep_step: int | None = None) -> None:
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
        return _text(run_row(self.timeline.runs[k], not self.rows.is_unfolded(k)))

    # -- what the cursor is on ------------------------------------------------------------------------
    def step_at(self, index: int | None = None):
        """The Step under the cursor (None on a folded run)."""
        index = self.cursor if index is None else index
        if self.timeline is None or not (0 <= index < len(self.rows)) or self.rows[index] < 0:
            return None
        return self.timeline.steps[self.rows[index]]

    def row_of(self, step: int) -> int:
        """The row showing step `step`, unfolding its run if needed."""
        k = self.rows.run_of(step)
        if k is not None and not self.rows.is_unfolded(k):
            self.rows.toggle(k)
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
        tl = self.timeline
        if tl is None:
            return False
        at = getattr(tl, "step_at_frame", None)
        if at is not None:
            return self.jump_to_step(at(frame))
        return self.jump_to_step(next((i for i, s in enumerate(tl.steps) if s.frame >= frame), None))

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
        here = self.rows[self.cursor] if len(self.rows) else -1
        if here < 0 and self.timeline is not None and len(self.timeline.runs):
            here = self.rows.starts[-here - 1] - (1 if direction > 0 else 0)
        return here

    def action_next_rtx(self, direction: int) -> None:
        tl = self.timeline
        if tl is None:
            return
        here = self._here(direction)
        nxt = getattr(tl, "next_retransmission", None)
        if nxt is not None:
            target = nxt(here, direction)
        else:
            rtx = tl.retransmissions()
            after = [i for i in rtx if (i > here if direction > 0 else i < here)]
            target = (after[0] if direction > 0 else after[-1]) if after else None
        if target is None:
            self.notify("no further retransmission", severity="warning")
            return
        self.jump_to_step(target)

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
        if self.lazy:
            self.searching = True
            self._find(query, max(self._here(1), 0), 1)
            return
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
        here = self._here(direction)
        if self.lazy:
            start = here + 1 if direction > 0 else here - 1
            if start < 0:
                self.notify(f"no earlier match for {safe(self.search_text)}", severity="warning", markup=False)
                return
            self.searching = True
            self._find(self.search_text, start, direction, False)
            return
        found = self.matches(self.search_text)
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

    def cancel_search(self) -> bool:
        """Cancel a search still scanning (escape, see the association screen); False when there is none."""
        if not self.searching:
            return False
        self.workers.cancel_group(self, "ladder-search")
        self.searching = False
        self.post_message(self.SearchProgress(self, "search cancelled", True))
        return True

    @work(thread=True, exclusive=True, group="ladder-search", exit_on_error=False)
    def _find(self, query: str, start: int, direction: int, wrap: bool = True) -> None:
        """A large association: scan the labels from `start` on (wrapping around) in a worker, with
        progress; escape cancels."""
        from textual.worker import get_current_worker

        worker = get_current_worker()
        tl = self.timeline
        n = len(tl.steps)
        last = [time.monotonic()]

        def progress(seen: int) -> None:
            now = time.monotonic()
            if now - last[0] > 0.25:
                last[0] = now
                pct = 100 * seen // max(n, 1)
                self.post_message(self.SearchProgress(
                    self, f"searching {query!r}: {seen:,} of {n:,} chunks ({pct}%) — escape cancels"))
        found = tl.find(query, start, direction, lambda: worker.is_cancelled, progress, wrap)
        if worker.is_cancelled:
            return
        self.searching = False
        self.app.call_from_thread(self._found, query, found, tl, wrap, direction)

    def _found(self, query: str, step: int | None, tl, wrap: bool = True, direction: int = 1) -> None:
        self.post_message(self.SearchProgress(self, "", True))
        if tl is not self.timeline and step is not None and step >= len(self.timeline.steps):
            step = None
        if step is None:
            what = "" if wrap else " further" if direction > 0 else " earlier"
            self.notify(f"no{what} match for {safe(query)} in this timeline", severity="warning", markup=False)
            return
        self.jump_to_step(step)
        self.notify(f"{safe(query)}: chunk {step + 1} of {len(self.timeline.steps)}", markup=False, timeout=2)

    def action_toggle_run(self) -> None:
        if not len(self.rows):
            return
        r = self.rows[self.cursor]
        k = -r - 1 if r < 0 else self.rows.run_of(r)
        if k is None:
            return
        self.rows.toggle(k)
        self._rebuild()
        self.move_to(self.rows.index(-(k + 1)))

    def action_fold_all(self) -> None:
        if self.timeline is None:
            return
        here = self.rows[self.cursor] if len(self.rows) else -1
        rows = self.rows
        every = len(rows.exceptions) == rows.R if rows.folded_default else not rows.exceptions
        self.rows.set_unfolded(set() if every else "all")
        self._rebuild()
        if here >= 0 and (self.rows.run_of(here) is None or not every):
            self.move_to(self.rows.index(here))

    def action_select(self) -> None:
        if len(self.rows) and self.rows[self.cursor] < 0:
            self.action_toggle_run()
        else:
            super().action_select()
