"""The Textual app: analyses the capture in a thread worker, then shows the associations."""

from __future__ import annotations

from collections.abc import Sequence

from textual import work
from textual.app import App
from textual.binding import Binding
from textual.worker import Worker, WorkerState

from sctpscope.errors import SctpscopeError
from sctpscope.tui.screens.associations import AssociationsScreen
from sctpscope.tui.screens.help import HelpScreen


class SctpscopeApp(App):
    """sctpscope's terminal UI over one capture (or several read as one)."""

    CSS_PATH = "sctpscope.tcss"
    TITLE = "sctpscope"
    BINDINGS = [Binding("q", "quit", "Quit"), Binding("question_mark", "help", "Help")]

    def __init__(self, paths: Sequence[str], *, sctp_udp_ports: tuple[int, ...] = (9899,),
                 verify: bool = True) -> None:
        super().__init__()
        self.paths = list(paths)
        self.sctp_udp_ports = sctp_udp_ports
        self.verify = verify
        self.result = None
        self.home = AssociationsScreen()

    def on_mount(self) -> None:
        self.push_screen(self.home)
        self.analyse()

    @work(thread=True, exit_on_error=False, name="analyse")
    def analyse(self):
        from sctpscope.analysis.runner import analyse

        return analyse(self.paths, sctp_udp_ports=self.sctp_udp_ports, verify=self.verify, jobs=1)

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        if event.worker.name != "analyse":
            return
        if event.state == WorkerState.SUCCESS:
            self.result = event.worker.result
            self.home.show_result(self.result)
        elif event.state == WorkerState.ERROR:
            exc = event.worker.error
            message = str(exc) if isinstance(exc, SctpscopeError) else f"{type(exc).__name__}: {exc}"
            self.home.show_error(f"sctpscope: {message}")

    def action_help(self) -> None:
        if not isinstance(self.screen, HelpScreen):
            self.push_screen(HelpScreen())


def make_app(paths: str | Sequence[str], *, sctp_udp_ports: tuple[int, ...] = (9899,),
             verify: bool = True) -> SctpscopeApp:
    """The app for one capture path (or several read in order as one), used by the CLI and the tests."""
    if isinstance(paths, (str, bytes)) or not isinstance(paths, Sequence):
        paths = [str(paths)]
    return SctpscopeApp([str(p) for p in paths], sctp_udp_ports=sctp_udp_ports, verify=verify)
