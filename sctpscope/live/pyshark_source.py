"""``--engine tshark``: pyshark's LiveCapture captures (dumpcap into tshark), sctpscope decodes the frames.

For systems where the AF_PACKET engine cannot run (no CAP_NET_RAW for Python, not Linux) but Wireshark's
tools can. pyshark.LiveCapture starts dumpcap with the libpcap equivalent of the kernel filter
(live.dumpcap.capture_filter) writing pcapng into tshark, which prints every frame as JSON with its bytes
(``-x``); pyshark parses that, and this source hands out the bytes, the nanosecond timestamp and the original
length as the same frames LiveSource gives. The session writes them to its own file and decodes them with
sctpscope's decoder, as for any engine. tshark only carries the frames here: the link layer's dissector is
disabled and only the ``frame`` layer printed, since nothing but the frame's bytes is read (tshark dissecting
and printing every layer carries a few times fewer frames per second). tshark reads its input through a dumpcap
of its own, which keeps what tshark has not read yet in a temporary file (in TMPDIR): when frames come faster
than tshark and pyshark carry them (about 10,000 a second on a small machine), the backlog grows there, not
in the kernel, and the capture ends that much later.

pyshark is asyncio-based: its event loop runs in a thread of its own, and the frames cross to the session's
capture thread through a queue. dumpcap and tshark run in a session of their own, so that Ctrl-C on the
terminal reaches sctpscope alone, which stops them in order: dumpcap first (SIGINT: it writes out what the
kernel holds and prints its counts and ends), then tshark reads its pipe to the end and ends, and pyshark sees
the end of tshark's output. Only what does not end by itself is terminated, and only the processes started
here.

Kernel drop counts are known when dumpcap ends (its last line on standard error); until then, and when dumpcap
does not say, they are unknown (None). A frame reaches sctpscope once tshark has begun printing the next one
(pyshark knows a frame is whole by what follows it) or the capture ends: the last frame of a burst waits.
Slower than ``--engine dumpcap``, which reads dumpcap's pcapng itself. As there, an interface going down ends
the capture (LinkWatch: dumpcap itself would keep waiting), once every frame before it has been handed over.
"""

from __future__ import annotations

import asyncio
import atexit
import os
import re
import signal
import subprocess
import threading
import time
from collections import deque

import pyshark
from pyshark.tshark.tshark import TSharkNotFoundException, get_process_path, tshark_supports_duplicate_keys

from sctpscope.capture.linktypes import linktype_name
from sctpscope.capture.live import KernelStats, LinkWatch, LiveCaptureError
from sctpscope.capture.reader import Frame, seconds
from sctpscope.live.dumpcap import capture_filter, first_error, interface_link
from sctpscope.text import escape_text

#: the dissector tshark would start each frame with, per link type: disabled, tshark prints the frame alone
_LINK_DISSECTOR = {0: "null", 1: "eth", 101: "raw", 113: "sll", 276: "sll"}
_DROPS = re.compile(r"Packets received/dropped on interface .*: (\d+)/(\d+) \(")
STOP_WAIT = 10.0           # seconds dumpcap and tshark are given to end by themselves, then as much after SIGTERM


def epoch_ns(text: str) -> int:
    """``frame.time_epoch`` as tshark prints it ("1795432207.331713992") in whole nanoseconds, exactly."""
    whole, _, frac = text.partition(".")
    return int(whole) * 1_000_000_000 + int((frac + "000000000")[:9])


class _LiveCapture(pyshark.LiveCapture):
    """pyshark's LiveCapture with what a capture that must end cleanly needs: dumpcap's snap length, buffer,
    link type and promiscuous mode; each process in a session of its own (see the module docstring); no end of
    the pipe between them left open in this process (pyshark 0.6 keeps both, and tshark would never see dumpcap
    end); both processes at hand to be signalled; their standard error kept (dumpcap's counts, the errors)."""

    def __init__(self, interface: str, *, dumpcap_options: list[str], **kw) -> None:
        super().__init__(interface, **kw)
        self.dumpcap_options = dumpcap_options
        self.processes: dict[str, asyncio.subprocess.Process] = {}
        self.stderr: dict[str, list[str]] = {"dumpcap": [], "tshark": []}
        self.ready = threading.Event()          # both said "Capturing on"

    def _get_dumpcap_parameters(self) -> list[str]:
        return super()._get_dumpcap_parameters() + self.dumpcap_options   # after -i: options of that interface

    async def _get_tshark_process(self, packet_count=None, stdin=None):
        read, write = os.pipe()
        try:
            await self._start("dumpcap", [get_process_path(self.tshark_path, "dumpcap"),
                                          *self._get_dumpcap_parameters()], stdout=write)
            cmd = [self._get_tshark_path(), "-l", "-n", "-T", "json", *self.get_parameters(packet_count)]
            if tshark_supports_duplicate_keys(self._get_tshark_version()):
                cmd.append("--no-duplicate-keys")       # as pyshark: its parser expects what this version prints
            return await self._start("tshark", cmd, stdin=read, stdout=subprocess.PIPE)
        finally:
            os.close(read)
            os.close(write)

    async def _start(self, name: str, cmd: list[str], **kw) -> asyncio.subprocess.Process:
        proc = await asyncio.create_subprocess_exec(*cmd, stderr=subprocess.PIPE, start_new_session=True, **kw)
        self.processes[name] = proc
        self._stderr_handling_tasks.append(asyncio.ensure_future(self._keep_stderr(name, proc.stderr)))
        self._created_new_process(cmd, proc, process_name=name)
        return proc

    async def _keep_stderr(self, name: str, stream: asyncio.StreamReader) -> None:
        lines = self.stderr[name]
        while line := await stream.readline():
            lines.append(line.decode("utf-8", "replace").rstrip())
            del lines[:-50]
            if all(any(ln.startswith("Capturing on") for ln in v) for v in self.stderr.values()):
                self.ready.set()

    async def _cleanup_subprocess(self, process) -> None:
        """pyshark's end of a process, without calling an exit status other than 0 and 1 a crash: the source
        reports what dumpcap or tshark said instead."""
        _send(process, signal.SIGKILL)
        await process.wait()

    def send(self, name: str, sig: int) -> None:
        """Signal a process started here, by name (in the event loop's thread)."""
        proc = self.processes.get(name)
        if proc is not None:
            _send(proc, sig)


def _send(proc: asyncio.subprocess.Process, sig: int) -> None:
    """Signal `proc` unless it has ended: called in the event loop's thread, where its end is known, a process
    already reaped (whose pid may be another's by now) is never signalled."""
    if proc.returncode is None:
        try:
            os.kill(proc.pid, sig)
        except ProcessLookupError:
            pass


class PysharkSource:
    """Frames from pyshark.LiveCapture (see the module docstring); the surface of LiveSource."""

    def __init__(self, interface: str, *, snaplen: int = 262144, buffer_size: int = 64 << 20, promisc: bool = False,
                 sctp_udp_ports: tuple[int, ...] = (9899,), start_timeout: float = 30.0) -> None:
        try:
            dumpcap = get_process_path(process_name="dumpcap")
            get_process_path()                  # tshark's
        except TSharkNotFoundException:
            raise LiveCaptureError("--engine tshark needs tshark and dumpcap (apt-get install tshark)") from None
        self.name = interface
        self.buffer_size = buffer_size
        self.linktype, dlt_name = interface_link(dumpcap, interface)
        self.link = linktype_name(self.linktype)
        options = ["-s", str(snaplen), "-B", str(max(1, buffer_size >> 20)), "-y", dlt_name]
        if not promisc:
            options.append("-p")
        tshark_options = ["-J", "frame"]
        if self.linktype in _LINK_DISSECTOR:
            tshark_options += ["--disable-protocol", _LINK_DISSECTOR[self.linktype]]
        self._loop = asyncio.new_event_loop()
        try:
            self.capture = _LiveCapture(interface, bpf_filter=capture_filter(tuple(sctp_udp_ports), self.linktype),
                                        use_json=True, include_raw=True, eventloop=self._loop,
                                        custom_parameters=tshark_options, dumpcap_options=options)
        except Exception as exc:                # noqa: BLE001 - pyshark's own errors: one line
            self._loop.close()
            raise LiveCaptureError(f"pyshark could not prepare the capture on {escape_text(interface)}: "
                                   f"{escape_text(str(exc).splitlines()[0] if str(exc) else type(exc).__name__)}"
                                   ) from None
        self._queue: deque[tuple[Frame, int]] = deque()
        self._arrived = threading.Event()
        self._done = threading.Event()
        self._failure: BaseException | None = None
        self._number = 0
        self._stopping = False
        self._closed = False
        self._thread = threading.Thread(target=self._run, name="sctpscope-pyshark", daemon=True)
        self._thread.start()
        atexit.register(self.close)             # never leave dumpcap capturing after sctpscope has gone
        end = time.monotonic() + start_timeout
        while not self.capture.ready.wait(0.1):
            if self._done.is_set() or time.monotonic() > end:
                why = (self._error() if self._done.is_set()
                       else f"no capture began within {start_timeout:g} s")
                self.close()
                raise LiveCaptureError(f"tshark could not capture on {escape_text(interface)}: {why}")
        self.watch = LinkWatch(interface)

    # -- the event loop's thread -------------------------------------------------------------------------------------
    def _run(self) -> None:
        asyncio.set_event_loop(self._loop)
        try:
            self._loop.run_until_complete(self.capture.packets_from_tshark(self._take, close_tshark=False))
        except BaseException as exc:      # noqa: BLE001 - reported by read() as one line
            self._failure = exc
        finally:
            try:
                self._loop.run_until_complete(self.capture.close_async())   # kills only what still runs
            finally:
                self._loop.close()
                self._done.set()
                self._arrived.set()

    def _take(self, packet) -> None:
        # bytes.fromhex: pyshark's get_raw_packet() builds the same bytes a pair of digits at a time, 70 times slower
        data = bytes.fromhex(packet.frame_raw.value)
        ns = epoch_ns(packet.sniff_timestamp)
        self._number += 1
        self._queue.append((Frame(self._number, seconds(ns, 1_000_000_000), self.linktype, data, len(data),
                                  int(packet.length), 0), ns))
        self._arrived.set()

    def _signal(self, name: str, sig: int) -> None:
        try:
            self._loop.call_soon_threadsafe(self.capture.send, name, sig)
        except RuntimeError:              # the loop has ended: so have the processes
            pass

    def _error(self) -> str:
        for name in ("dumpcap", "tshark"):
            proc = self.capture.processes.get(name)
            if proc is not None and proc.returncode:
                return f"{name}: {first_error(self.capture.stderr[name], proc.returncode)}"
        if self._failure is not None:
            return escape_text(f"{type(self._failure).__name__}: {self._failure}".splitlines()[0])
        return "tshark ended"

    # -- the source's surface ----------------------------------------------------------------------------------------
    def _taken(self) -> list[tuple[Frame, int]]:
        out = []
        while self._queue:
            out.append(self._queue.popleft())
        return out

    def read(self, timeout: float | None = 0.1) -> list[tuple[Frame, int]]:
        """Raises LiveCaptureError once tshark stopped or the interface went down, after every frame before."""
        self._queue.extend(self.watch.check(self._stopping, self.drain))
        if not self._queue and self.watch.error is None:
            self._arrived.wait(timeout)
        self._arrived.clear()
        out = self._taken()
        if not out and self.watch.error is not None:
            raise self.watch.error
        if not out and self._done.is_set() and not self._stopping:
            raise LiveCaptureError(f"tshark stopped capturing on {escape_text(self.name)}: {self._error()}")
        return out

    def drain(self) -> list[tuple[Frame, int]]:
        """Stop dumpcap (it hands over what the kernel holds) and take every frame up to the end of tshark's
        output, for as long as frames keep coming."""
        self._stopping = True
        self._signal("dumpcap", signal.SIGINT)
        seen, last = self._number, time.monotonic()
        while not self._done.wait(0.2):
            if self._number != seen:
                seen, last = self._number, time.monotonic()
            elif time.monotonic() - last > STOP_WAIT:
                break
        return self._taken()

    def stats(self) -> KernelStats:
        """dumpcap's counts once it has ended (received: captured and dropped); unknown (None) until then."""
        for line in reversed(self.capture.stderr["dumpcap"]):
            m = _DROPS.match(line)
            if m:
                captured, dropped = int(m[1]), int(m[2])
                return KernelStats(captured + dropped, dropped, None)
        return KernelStats(None, None, None)

    def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        self._stopping = True
        atexit.unregister(self.close)
        self._signal("dumpcap", signal.SIGINT)
        for sig in (signal.SIGTERM, signal.SIGKILL):
            if self._done.wait(STOP_WAIT):
                break
            self._signal("dumpcap", sig)
            self._signal("tshark", sig)
        self._thread.join(STOP_WAIT)
