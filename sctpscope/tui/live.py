"""The terminal UI over a live capture: the association list filling in as associations come and go.

Reuses the file UI (app.SctpscopeApp and its screens): the app is handed the session's LiveIndex as its
indexer (the analysis.indexer.FrameSource the association screens read frames back from), the home screen
is the association list in live mode (``AssociationsScreen(live=True)``: no progress bar, "live" instead of
"indexing"), and instead of the indexing worker a timer takes the session's latest snapshot a few times a
second and hands the list the associations that are new or changed (``AssociationsScreen.apply_progress``
with a ``Progress.of_result``), without blocking input: the analysis runs in the session's own thread. An
association screen left open follows its association as the list hands it on. A status bar under the list
shows the interface, packets, SCTP packets, bytes, kernel drops, the rate and the file being written. ``p``
pauses the display (the capture goes on), ``w`` closes the current file and goes on in a new one, ``q``
stops the capture (the file is completed).
"""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.widgets import Static

from sctpscope.analysis.indexer import KEY, Progress
from sctpscope.live.session import LiveSession, LiveStatus
from sctpscope.tui.app import SctpscopeApp
from sctpscope.tui.format import safe
from sctpscope.tui.screens.associations import AssociationsScreen

REFRESH = 0.25


def _size(n: float) -> str:
    for unit in ("B", "kB", "MB", "GB"):
        if n < 1000 or unit == "GB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1000
    return f"{n:.1f} GB"


def status_text(st: LiveStatus, paused: bool = False) -> Text:
    """The status bar's line (terminal-safe: interface and file names are escaped)."""
    t = Text()
    if st.error:
        t.append(f"■ stopped: {safe(st.error)}", style="bold red")
    elif st.running:
        t.append("● capturing", style="bold green")
    else:
        t.append(f"■ stopped ({safe(st.stopped_by or 'done')})", style="bold")
    t.append(f" on {safe(st.interface)} │ {st.packets} packets │ {st.sctp_packets} SCTP │ {_size(st.bytes)} │ ")
    drops = st.kernel.dropped
    t.append("kernel drops unknown" if drops is None else f"kernel drops {drops}", style="bold red" if drops else "")
    t.append(f" │ {st.rate_pps:.0f} pkt/s │ file {safe(st.file or '-')}")
    if st.files > 1:
        t.append(f" ({st.files} files)")
    if st.backlog > 0:
        t.append(f" │ analysis {st.backlog} behind", style="yellow")
    if paused:
        t.append(" │ PAUSED (capture goes on; p resumes)", style="bold reverse")
    return t


class LiveAssociationsScreen(AssociationsScreen):
    """The association list in live mode with the live status bar under it (above the key footer)."""

    DEFAULT_CSS = """
    #live-status { height: 1; padding: 0 1; background: $boost; }
    """

    def __init__(self) -> None:
        super().__init__(live=True)

    def compose(self) -> ComposeResult:
        yield from super().compose()
        yield Static(Text("starting…"), id="live-status", markup=False)


class LiveApp(SctpscopeApp):
    """sctpscope's terminal UI over a running LiveSession."""

    BINDINGS = [Binding("p", "pause", "Pause display"), Binding("w", "rotate", "New file")]

    def __init__(self, session: LiveSession) -> None:
        super().__init__([session.output.files[0].path if session.output.files else session.source.name],
                         sctp_udp_ports=session.ports, verify=session.verify, indexer=session.index)
        self.session = session
        self.home = LiveAssociationsScreen()
        self.paused = False
        self.generation = 0
        self.shown: dict[int, dict] = {}
        self.title = f"sctpscope live: {safe(session.source.name)}"

    def start(self) -> None:
        """Called by the home screen once mounted: start the capture if it is not running, then poll it."""
        if not self.session.started_threads:
            self.session.start()
        self.set_interval(REFRESH, self.tick)
        self.tick()

    def tick(self) -> None:
        st = self.session.status()
        try:
            self.home.query_one("#live-status", Static).update(status_text(st, self.paused))
        except Exception:        # noqa: BLE001 - the screen is being torn down
            return
        snap = self.session.latest
        if self.paused or snap is None or snap.generation == self.generation:
            return
        self.generation = snap.generation
        res = snap.result
        changed = [a for a in res.associations if snap.final or self.shown.get(a.get(KEY)) != a]
        for a in changed:
            self.shown[a.get(KEY)] = a
        present = {a.get(KEY) for a in res.associations}
        gone = [k for k in self.shown if k not in present]      # replaced (lone flows joined, collisions)
        for k in gone:
            del self.shown[k]
        self.progress = Progress.of_result(res, changed, snap.final)
        self.progress.gone = gone
        self.home.apply_progress(self.progress)

    def action_pause(self) -> None:
        self.paused = not self.paused
        self.tick()

    def action_rotate(self) -> None:
        if self.session.capturing:
            self.session.rotate()
            self.notify("the current file is closed; capture goes on in a new one")

    async def action_quit(self) -> None:
        self.session.stop("quit", abandon_analysis=True)
        await super().action_quit()


def run_live_tui(session: LiveSession) -> None:
    """Run the UI until the user quits (the caller then waits for the session to complete its file)."""
    LiveApp(session).run()
