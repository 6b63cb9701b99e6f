"""A progress bar on standard error for the commands that read whole captures (`report`, `extract`,
`follow`): files and bytes read, packets, rate and time left. Only when standard error is a terminal, and
only once the work has taken about a second (a quick report shows nothing); never anything otherwise.

The readers (pipeline.decode_files, export.walk) call `current()` once per file and `Meter.tick` every few
thousand records; `current()` is None unless a command opened `reading_progress()`, and in any other
process (forked parallel workers read too: only the one that opened the bar draws it). Rich is imported
only when a bar is drawn.
"""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

#: seconds of work before a bar appears
DELAY = 1.0
#: records between two ticks of a reader
TICK = 4096

_current: "Meter | None" = None


class Meter:
    """The state of one command's reading: passes over the inputs (follow and extract read them twice),
    the file being read, bytes and records so far."""

    def __init__(self, stream: Any, label: str, delay: float = DELAY) -> None:
        self.stream = stream
        self.label = label
        self.delay = delay
        self.pid = os.getpid()
        self.t0 = self.pass_t0 = time.monotonic()
        self.passes = 0
        self.sizes: list[int] = []
        self.index = 0
        self.done_bytes = 0       # bytes of the files of this pass already read
        self.cap: Any = None
        self.bar: Any = None
        self.task: Any = None

    # -- the readers' side
    def begin(self, paths: Sequence[str]) -> None:
        """A pass over the inputs begins."""
        self.passes += 1
        self.sizes = []
        for p in paths:
            try:
                self.sizes.append(os.stat(p).st_size if os.path.isfile(p) else 0)
            except OSError:
                self.sizes.append(0)
        self.index = -1
        self.pass_t0 = time.monotonic()
        self.done_bytes = 0
        self.cap = None
        if self.bar is not None:
            self.bar.reset(self.task, total=sum(self.sizes) or None)

    def file(self, index: int, cap: Any, packets_before: int) -> None:
        """File `index` of the pass is open (`cap`, a capture.Capture); `packets_before` records read before it."""
        if 0 <= self.index < len(self.sizes):
            self.done_bytes += self.sizes[self.index]
        self.index = index
        self.cap = cap
        self.tick(packets_before)

    def tick(self, packets: int) -> None:
        """`packets` records of this pass read so far."""
        if self.bar is None:
            if time.monotonic() - self.t0 < self.delay:
                return
            self._show()
        done = self.done_bytes
        if self.cap is not None:
            done += min(self.cap.raw_offset(), self.sizes[self.index] if self.index < len(self.sizes) else 0)
        name = os.path.basename(self.cap.path) if self.cap is not None else ""
        from sctpscope.text import escape_text

        nfiles = len(self.sizes)
        what = f"{self.label}" + (f" (pass {self.passes})" if self.passes > 1 else "")
        if nfiles > 1:
            what += f" file {self.index + 1}/{nfiles} {escape_text(name)}"
        elapsed = max(1e-9, time.monotonic() - self.pass_t0)
        self.bar.update(self.task, completed=done, description=what, packets=packets, rate=packets / elapsed)

    # -- drawing
    def _show(self) -> None:
        from rich.console import Console
        from rich.progress import (BarColumn, DownloadColumn, Progress, TextColumn, TimeRemainingColumn)

        console = Console(file=self.stream, force_terminal=True)
        self.bar = Progress(TextColumn("{task.description}", markup=False), BarColumn(), DownloadColumn(),
                            TextColumn("{task.fields[packets]:,} packets"),
                            TextColumn("{task.fields[rate]:,.0f}/s"), TimeRemainingColumn(),
                            console=console, transient=True, refresh_per_second=4,
                            redirect_stdout=False, redirect_stderr=False)
        self.task = self.bar.add_task(self.label, total=sum(self.sizes) or None, packets=0, rate=0.0)
        self.bar.start()

    def close(self) -> None:
        if self.bar is not None:
            self.bar.stop()
            self.bar = None


def current() -> Meter | None:
    """The meter of this process's command, or None (no terminal, or a worker process)."""
    m = _current
    if m is None or m.pid != os.getpid():
        return None
    return m


@contextmanager
def reading_progress(label: str, stream: Any = None) -> Iterator[Meter | None]:
    """While the block runs, readers report to a Meter drawing on `stream` (standard error) — only when
    it is a terminal."""
    global _current
    stream = sys.stderr if stream is None else stream
    try:
        tty = stream.isatty()
    except (AttributeError, ValueError):
        tty = False
    if not tty or os.environ.get("TERM") == "dumb":
        yield None
        return
    meter = Meter(stream, label, float(os.environ.get("SCTPSCOPE_PROGRESS_DELAY", DELAY)))
    previous, _current = _current, meter
    try:
        yield meter
    finally:
        _current = previous
        meter.close()
