"""The Textual app: indexes the capture in a thread worker, in time-boxed steps, filling the list as it goes."""

from __future__ import annotations

from collections.abc import Sequence

from textual import work
from textual.app import App
from textual.binding import Binding
from textual.message import Message
from textual.worker import Worker, WorkerState, get_current_worker

from sctpscope.analysis.indexer import Indexer, Progress, file_indexer
from sctpscope.errors import SctpscopeError
from sctpscope.tui.commands import SctpscopeCommands
from sctpscope.tui.screens.associations import AssociationsScreen
from sctpscope.tui.screens.help import HelpScreen

FIRST_STEP = 0.05       # seconds of analysis before the list first shows: the first rows come quickly
STEP = 0.25             # then a snapshot about four times a second


class SctpscopeApp(App):
    """sctpscope's terminal UI over one capture (or several read as one)."""

    CSS_PATH = "sctpscope.tcss"
    TITLE = "sctpscope"
    COMMANDS = App.COMMANDS | {SctpscopeCommands}
    BINDINGS = [Binding("q", "quit", "Quit"), Binding("question_mark", "help", "Help")]

    class Indexed(Message):
        """The indexing worker analysed another batch: handled as `on_sctpscope_app_indexed`."""

        def __init__(self, progress: Progress) -> None:
            super().__init__()
            self.progress = progress

    def __init__(self, paths: Sequence[str], *, sctp_udp_ports: tuple[int, ...] = (9899,),
                 verify: bool = True, indexer: Indexer | None = None) -> None:
        super().__init__()
        self.paths = list(paths)
        self.sctp_udp_ports = sctp_udp_ports
        self.verify = verify
        self.indexer: Indexer | None = indexer     # a live source may hand its own Indexer in
        self.progress: Progress | None = None
        self.result = None
        self.home = AssociationsScreen()

    def on_mount(self) -> None:
        self.push_screen(self.home)

    def start(self) -> None:
        """Called by the home screen once it is mounted: open the capture and start indexing."""
        if self.indexer is None:
            try:
                self.indexer = file_indexer(self.paths, sctp_udp_ports=self.sctp_udp_ports, verify=self.verify)
            except SctpscopeError as exc:
                self.home.show_error(f"sctpscope: {exc}")
                return
            except OSError as exc:
                self.home.show_error(f"sctpscope: {exc.strerror or exc}")
                return
        self.index()

    @work(thread=True, exit_on_error=False, name="index", group="index")
    def index(self) -> None:
        """Analyse in steps; between steps post the progress. Returns within one step of a cancel (quit)."""
        worker = get_current_worker()
        ix = self.indexer
        budget = FIRST_STEP
        while not worker.is_cancelled:
            done = ix.step(budget, lambda: worker.is_cancelled)
            if worker.is_cancelled:
                return
            self.post_message(self.Indexed(ix.progress()))
            if done:
                return
            budget = STEP

    def on_sctpscope_app_indexed(self, message: Indexed) -> None:
        p = self.progress = message.progress
        if p.done:
            self.result = self.indexer.result
        self.home.apply_progress(p)

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        if event.worker.name != "index" or event.state != WorkerState.ERROR:
            return
        exc = event.worker.error
        message = str(exc) if isinstance(exc, SctpscopeError) else f"{type(exc).__name__}: {exc}"
        self.home.show_error(f"sctpscope: {message}")

    async def action_quit(self) -> None:
        """Stop the workers first: the shutdown then runs without competing for the interpreter."""
        self.workers.cancel_all()
        self.exit()

    def action_help(self) -> None:
        if not isinstance(self.screen, HelpScreen):
            self.push_screen(HelpScreen())


def make_app(paths: str | Sequence[str], *, sctp_udp_ports: tuple[int, ...] = (9899,),
             verify: bool = True) -> SctpscopeApp:
    """The app for one capture path (or several read in order as one), used by the CLI and the tests."""
    if isinstance(paths, (str, bytes)) or not isinstance(paths, Sequence):
        paths = [str(paths)]
    return SctpscopeApp([str(p) for p in paths], sctp_udp_ports=sctp_udp_ports, verify=verify)
