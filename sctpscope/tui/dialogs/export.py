"""The export dialog (x): which format, which associations ("3, 5, 7-9"), which file.

Everything that can be checked before writing is checked here (export.formats: the ids, the capture having
them, the path being writable and not an input), and shown in the dialog until it is fixed; an existing file
is overwritten only on a second enter. The dialog returns an ExportRequest; the app writes it in a worker.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Input, RadioButton, RadioSet, Static

from sctpscope.export.formats import FORMATS, check_output, default_name, parse_ids, unknown_ids
from sctpscope.tui.format import safe


@dataclass(frozen=True, slots=True)
class ExportRequest:
    format: str                 # a key of export.formats.BY_KEY
    ids: tuple[int, ...]
    path: str                   # ~ expanded


class ExportDialog(ModalScreen[ExportRequest | None]):
    """Format (radio buttons), association ids, output path; enter exports, escape cancels."""

    DEFAULT_CSS = """
    ExportDialog { align: center middle; }
    #export-box { width: 80%; max-width: 100; height: auto; border: thick $primary; padding: 0 1;
                  background: $surface; }
    #export-box > Static { height: auto; }
    #export-format { width: 100%; }
    #export-error { color: $error; }
    """
    BINDINGS = [Binding("escape", "cancel", "Cancel")]

    def __init__(self, inputs: Sequence[str], ids: Sequence[int], known: Sequence[int], fmt: str = "pcapng") -> None:
        super().__init__()
        self.inputs = list(inputs)
        self.ids = list(ids)
        self.known = list(known)
        self.format = fmt
        self.auto_path = default_name(self.inputs, self.ids, fmt)   # the path follows format and ids until edited
        self.confirm: str | None = None                             # a path to overwrite on the next enter

    def compose(self) -> ComposeResult:
        with Vertical(id="export-box"):
            yield Static(Text("Export", style="bold"), markup=False)
            with RadioSet(id="export-format"):
                for f in FORMATS:
                    yield RadioButton(f.label, value=f.key == self.format, id=f"format-{f.key}")
            yield Static(Text("associations (e.g. 3, 5, 7-9):"), markup=False)
            yield Input(", ".join(map(str, self.ids)), id="export-ids")
            yield Static(Text("write to:"), markup=False)
            yield Input(self.auto_path, id="export-path")
            yield Static("", id="export-error", markup=False)
            yield Static(Text("tab: next field · ↑ ↓ enter: choose the format · enter: export · escape: cancel",
                              style="dim"), markup=False)

    def on_mount(self) -> None:
        self.query_one("#export-error").display = False
        self.query_one("#export-path", Input).focus()

    # -- keeping the default name in step -------------------------------------------------------------
    @on(RadioSet.Changed, "#export-format")
    def format_changed(self, event: RadioSet.Changed) -> None:
        self.format = event.pressed.id.removeprefix("format-")
        self._follow()

    @on(Input.Changed, "#export-ids")
    def ids_changed(self, event: Input.Changed) -> None:
        try:
            self.ids = parse_ids(event.value)
        except ValueError:
            return
        self._follow()

    @on(Input.Changed, "#export-path")
    def path_changed(self) -> None:
        self.confirm = None

    def _follow(self) -> None:
        """A new default name, unless the user typed their own path."""
        box = self.query_one("#export-path", Input)
        name = default_name(self.inputs, self.ids, self.format)
        if box.value == self.auto_path:
            box.value = name
        self.auto_path = name
        self.confirm = None

    # -- accepting ------------------------------------------------------------------------------------
    @on(Input.Submitted)
    def submitted(self) -> None:
        try:
            ids = parse_ids(self.query_one("#export-ids", Input).value)
        except ValueError as exc:
            self.show_error(str(exc))
            return
        problem = unknown_ids(ids, self.known)
        if problem:
            self.show_error(problem)
            return
        typed = self.query_one("#export-path", Input).value.strip()
        path = os.path.expanduser(typed)
        problem = check_output(path, self.inputs)
        if problem:
            self.show_error(problem)
            return
        if os.path.exists(path) and self.confirm != path:
            self.confirm = path
            self.show_error(f"{typed} exists: enter again to overwrite it")
            return
        self.dismiss(ExportRequest(self.format, tuple(ids), path))

    def show_error(self, text: str) -> None:
        box = self.query_one("#export-error", Static)
        box.update(Text(safe(text)))
        box.display = True

    def action_cancel(self) -> None:
        self.dismiss(None)
