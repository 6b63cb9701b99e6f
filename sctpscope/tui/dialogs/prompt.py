"""A one-line input dialog (a file name, a frame number): enter accepts, escape cancels."""

from __future__ import annotations

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Input, Static

from sctpscope.text import escape_text


class PromptScreen(ModalScreen[str | None]):
    """Asks for one value; dismisses with the text typed (stripped) or None when cancelled."""

    BINDINGS = [Binding("escape", "cancel", "Cancel")]

    def __init__(self, question: str, value: str = "", *, placeholder: str = "") -> None:
        super().__init__()
        self.question = question
        self.value = value
        self.placeholder = placeholder

    def compose(self) -> ComposeResult:
        with Vertical(id="prompt-box"):
            yield Static(Text(escape_text(self.question), style="bold"), id="prompt-question", markup=False)
            yield Input(value=self.value, placeholder=self.placeholder, id="prompt-input")
            yield Static(Text("enter: accept · escape: cancel", style="dim"), id="prompt-help", markup=False)

    def on_mount(self) -> None:
        self.query_one("#prompt-input", Input).focus()

    @on(Input.Submitted, "#prompt-input")
    def submitted(self, event: Input.Submitted) -> None:
        value = event.value.strip()
        self.dismiss(value or None)

    def action_cancel(self) -> None:
        self.dismiss(None)
