"""The Textual app: indexes the capture in a thread worker, in time-boxed steps, filling the list as it goes."""

from __future__ import annotations

import os
from collections.abc import Sequence

from textual import work
from textual.app import App
from textual.binding import Binding
from textual.message import Message
from textual.worker import Worker, WorkerState, get_current_worker

from sctpscope.analysis.indexer import Indexer, Progress, file_indexer
from sctpscope.errors import SctpscopeError
from sctpscope.tui.commands import SctpscopeCommands
from sctpscope.tui.format import safe
from sctpscope.tui.screens.associations import AssociationsScreen
from sctpscope.tui.screens.help import HelpScreen

FIRST_STEP = 0.05       # seconds of analysis before the list first shows: the first rows come quickly
STEP = 0.25             # then a snapshot about four times a second


class SctpscopeApp(App):
    """sctpscope's terminal UI over one capture (or several read as one)."""

    CSS_PATH = "sctpscope.tcss"
    TITLE = "sctpscope"
    COMMANDS = App.COMMANDS | {SctpscopeCommands}
    BINDINGS = [Binding("q", "quit", "Quit"), Binding("question_mark", "help", "Help"),
                Binding("colon", "goto_frame", "Go to frame", key_display=":"),
                Binding("T", "toggle_theme", "Light/dark", show=False)]

    class Exported(Message):
        """The export worker wrote a file (or failed): handled as `on_sctpscope_app_exported`."""

        def __init__(self, text: str, error: bool = False) -> None:
            super().__init__()
            self.text = text
            self.error = error

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
        self.last_export: str | None = None

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


    # -- keys available on several screens -------------------------------------------------------------------
    def action_toggle_theme(self) -> None:
        """T: light / dark."""
        self.theme = "textual-light" if self.current_theme.dark else "textual-dark"

    def action_goto_frame(self) -> None:
        """`:`: ask for a frame number and open that frame's packet detail."""
        from sctpscope.tui.dialogs.prompt import PromptScreen

        self.push_screen(PromptScreen("Go to frame number:", placeholder="e.g. 26"), self.goto_frame)

    def goto_frame(self, value: str | None) -> None:
        from sctpscope.tui.screens.packet import PacketScreen

        if value is None:
            return
        try:
            number = int(value)
        except ValueError:
            number = 0
        if number < 1:
            self.notify(f"not a frame number: {safe(value)}", severity="error", markup=False)
            return
        frames = getattr(self.screen, "frames", None)
        self.push_screen(PacketScreen(number, frames=frames if frames and number in frames else None))

    def export_associations(self, associations: list[dict]) -> None:
        """x: ask for a file name, then write the associations' frames to a pcapng (sctpscope.export)."""
        from sctpscope.tui.dialogs.prompt import PromptScreen

        if self.progress is None or not self.progress.done:
            self.notify("export: wait until the capture is indexed (association ids are final then)",
                        severity="warning")
            return
        ids = [a["id"] for a in associations]
        stem = os.path.splitext(os.path.basename(self.paths[0]))[0] if self.paths else "capture"
        default = f"{stem}-assoc{'-'.join(map(str, ids))}.pcapng"
        self.push_screen(PromptScreen(f"Export association {', '.join(map(str, ids))} (its frames only) to the "
                                      f"pcapng file:", default), lambda path: self._export(ids, path))

    def _export(self, ids: list[int], path: str | None) -> None:
        if path:
            self.notify(f"exporting to {safe(path)}…", markup=False)
            self.export_worker(ids, os.path.expanduser(path))

    @work(thread=True, exit_on_error=False, group="export")
    def export_worker(self, ids: list[int], path: str) -> None:
        from sctpscope.export.extract import extract

        try:
            done = extract(self.paths, ids, path, sctp_udp_ports=self.sctp_udp_ports, verify=self.verify)
        except SctpscopeError as exc:
            self.post_message(self.Exported(f"export failed: {exc}", True))
            return
        except OSError as exc:
            self.post_message(self.Exported(f"export failed: {exc.strerror or exc}", True))
            return
        self.post_message(self.Exported(f"wrote {done.frames} frames of association "
                                        f"{', '.join(map(str, ids))} to {path}"))

    def on_sctpscope_app_exported(self, message: Exported) -> None:
        self.last_export = message.text
        self.notify(safe(message.text), severity="error" if message.error else "information", timeout=8,
                    markup=False)


def make_app(paths: str | Sequence[str], *, sctp_udp_ports: tuple[int, ...] = (9899,),
             verify: bool = True) -> SctpscopeApp:
    """The app for one capture path (or several read in order as one), used by the CLI and the tests."""
    if isinstance(paths, (str, bytes)) or not isinstance(paths, Sequence):
        paths = [str(paths)]
    return SctpscopeApp([str(p) for p in paths], sctp_udp_ports=sctp_udp_ports, verify=verify)
