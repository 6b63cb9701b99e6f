"""The Textual app: indexes the capture in a thread worker, in time-boxed steps, filling the list as it goes.

Without a capture it starts on the recent-files picker. What it remembers between runs (captures opened,
bookmarked frames) is sctpscope.state's; exports (x) are written by sctpscope.export.formats in a worker."""

from __future__ import annotations

import sys
import threading

from collections.abc import Sequence

from textual import work
from textual.app import App
from textual.binding import Binding
from textual.message import Message
from textual.worker import Worker, WorkerState, get_current_worker

from sctpscope.analysis.indexer import Indexer, Progress, file_indexer
from sctpscope.errors import SctpscopeError
from sctpscope.export.walk import Rereader
from sctpscope.state import State
from sctpscope.tui.commands import SctpscopeCommands
from sctpscope.tui.dialogs.export import ExportRequest
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
                Binding("T", "toggle_theme", "Light/dark", show=False),
                Binding("B", "bookmarks", "Bookmarks", show=False)]

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
                 verify: bool = True, indexer: Indexer | None = None, state: State | None = None) -> None:
        super().__init__()
        self.paths = list(paths)
        self.sctp_udp_ports = sctp_udp_ports
        self.verify = verify
        self.indexer: Indexer | None = indexer     # a live source may hand its own Indexer in
        self.progress: Progress | None = None
        self.result = None
        self.home = AssociationsScreen()
        self.last_export: str | None = None
        self.state = state if state is not None else State()
        self.bookmarks: set[int] = set()
        self._applied = threading.Event()          # the list took the last progress in: send the next
        self._applied.set()

    def on_mount(self) -> None:
        if self.paths:
            self.push_screen(self.home)
            return
        from sctpscope.tui.dialogs.recent import RecentScreen

        entries = self.state.recent()
        self.push_screen(RecentScreen(entries))
        self.state_notices()

    def open_capture(self, paths: Sequence[str]) -> None:
        """From the recent-files picker: this capture, in place of the picker."""
        self.paths = list(paths)
        self.switch_screen(self.home)

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
            self.state.remember(self.paths)
            self.bookmarks = set(self.state.bookmarks(self.paths))
            self.state_notices()
        self.index()

    def state_notices(self) -> None:
        """Show (once) what went wrong reading or saving the state files."""
        for notice in self.state.notices:
            self.notify(safe(notice), severity="warning", timeout=8, markup=False)
        self.state.notices.clear()

    @work(thread=True, exit_on_error=False, name="index", group="index")
    def index(self) -> None:
        """Analyse in steps; between steps post the progress. Returns within one step of a cancel (quit)."""
        worker = get_current_worker()
        ix = self.indexer
        budget = FIRST_STEP
        ready = self._applied
        # The interpreter hands over between threads every millisecond (not 5): a key waits less behind a step
        sys.setswitchinterval(0.001)
        while not worker.is_cancelled:
            done = ix.step(budget, lambda: worker.is_cancelled)
            if worker.is_cancelled:
                return
            # One progress at a time: the next is made only once the list has taken the previous one in (the
            # changes since add up meanwhile), so the main thread never has a backlog for keys to wait behind.
            if done:
                while not ready.wait(0.05):
                    if worker.is_cancelled:
                        return
            if ready.is_set():
                ready.clear()
                self.post_message(self.Indexed(ix.progress()))
            if done:
                return
            budget = STEP

    def on_sctpscope_app_indexed(self, message: Indexed) -> None:
        p = self.progress = message.progress
        if p.done:
            self.result = self.indexer.result
        # the list takes it in by slices between other events (keys first); then the worker may send the next
        self.home.apply_progress(p, applied=self._applied.set)

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
        if self.indexer is None:
            self.notify("no capture open", severity="warning")
            return
        frames = getattr(self.screen, "frames", None)
        self.push_screen(PacketScreen(number, frames=frames if frames and number in frames else None))

    # -- bookmarks ------------------------------------------------------------------------------------------
    def toggle_bookmark(self, frame: int) -> bool:
        """Bookmark the frame, or drop its bookmark; saved at once. True when it is bookmarked now."""
        self.bookmarks.symmetric_difference_update({frame})
        self.state.set_bookmarks(self.paths, sorted(self.bookmarks))
        self.state_notices()
        return frame in self.bookmarks

    def remove_bookmark(self, frame: int) -> None:
        if frame in self.bookmarks:
            self.toggle_bookmark(frame)

    def frame_summary(self, number: int) -> str:
        """One line about a frame, as `sctpscope packets` prints it (its first SCTP packet, and how many more)."""
        from sctpscope.report.packets import frame_lines

        ix = self.indexer
        try:
            raw = ix.store.read(number)
        except (KeyError, OSError, ValueError) as exc:
            return f"{number:>7} cannot be read back: {exc}"
        frame = Rereader(ix.store, ix.decoder()).read(number)[0]      # IP fragments: rebuilt from earlier frames
        t0 = next((i.first_ts for i in ix.infos if i.first_ts is not None), raw.ts)
        lines = frame_lines(frame, t0)
        if not lines:
            return f"{number:>7} {raw.ts - t0:11.6f} no SCTP packet ({len(raw.data)} bytes)"
        return lines[0] + (f"  (+{len(lines) - 1} more)" if len(lines) > 1 else "")

    def action_bookmarks(self) -> None:
        """B: the bookmarked frames; enter opens one's packet detail."""
        from sctpscope.tui.dialogs.bookmarks import BookmarksScreen

        if self.indexer is None:
            self.notify("no capture open", severity="warning")
            return
        rows = [(f, safe(self.frame_summary(f))) for f in sorted(self.bookmarks)]
        self.push_screen(BookmarksScreen(rows, self.remove_bookmark), self.open_bookmark)

    def open_bookmark(self, frame: int | None) -> None:
        from sctpscope.tui.screens.packet import PacketScreen

        if frame is not None:
            self.push_screen(PacketScreen(frame, frames=sorted(self.bookmarks), title="bookmarks"))

    # -- export ---------------------------------------------------------------------------------------------
    def export_associations(self, associations: list[dict]) -> None:
        """x: the export dialog (format, associations, file), then the export written in a worker."""
        from sctpscope.tui.dialogs.export import ExportDialog

        if self.progress is None or not self.progress.done:
            self.notify("export: wait until the capture is indexed (association ids are final then)",
                        severity="warning")
            return
        known = [a["id"] for a in (self.result.associations if self.result is not None else [])]
        self.push_screen(ExportDialog(self.paths, [a["id"] for a in associations], known), self._export)

    def _export(self, request: ExportRequest | None) -> None:
        if request is not None:
            self.notify(f"exporting to {safe(request.path)}…", markup=False)
            self.export_worker(request)

    @work(thread=True, exit_on_error=False, group="export")
    def export_worker(self, request: ExportRequest) -> None:
        from sctpscope.export.formats import write_export

        try:
            text = write_export(request.format, self.paths, list(request.ids), request.path,
                                indexer=self.indexer if self.result is not None else None,
                                sctp_udp_ports=self.sctp_udp_ports, verify=self.verify)
        except SctpscopeError as exc:
            self.post_message(self.Exported(f"export failed: {exc}", True))
            return
        except OSError as exc:
            self.post_message(self.Exported(f"export failed: {exc.strerror or exc}", True))
            return
        self.post_message(self.Exported(text))

    def on_sctpscope_app_exported(self, message: Exported) -> None:
        self.last_export = message.text
        self.notify(safe(message.text), severity="error" if message.error else "information", timeout=8,
                    markup=False)


def make_app(paths: str | Sequence[str], *, sctp_udp_ports: tuple[int, ...] = (9899,),
             verify: bool = True, state: State | None = None) -> SctpscopeApp:
    """The app for one capture path (or several read in order as one; none: the recent-files picker), used by
    the CLI and the tests."""
    if isinstance(paths, (str, bytes)) or not isinstance(paths, Sequence):
        paths = [str(paths)]
    return SctpscopeApp([str(p) for p in paths], sctp_udp_ports=sctp_udp_ports, verify=verify, state=state)
