"""``--engine dumpcap``: dumpcap (Wireshark's capture program) captures, sctpscope reads its pcapng from a pipe.

For systems where the AF_PACKET engine cannot run (no CAP_NET_RAW for Python, not Linux) but dumpcap can
(installed setuid or with capabilities, as Debian's wireshark-common offers). dumpcap is given the libpcap
equivalent of the kernel filter of sctpscope.capture.bpf (SCTP, SCTP over the UDP ports, behind a VLAN tag)
for the interface's link type (asked of dumpcap first, then imposed with ``-y``) and writes pcapng to its
standard output; this source parses the stream as it comes (live.stream.PcapngStream) and hands out the same
frames as LiveSource, which the session writes to its own file and analyses as usual. Kernel drop counts are
known when dumpcap ends (its interface statistics block); until then they are unknown (None). Faster than
``--engine tshark`` (live.pyshark_source), which has every frame go through tshark and pyshark as well.

dumpcap runs in a session of its own, so that Ctrl-C on the terminal reaches sctpscope alone, which stops
dumpcap (SIGINT) and reads its pipe to the end: dumpcap interrupted first would look like a capture that
failed. Unlike the AF_PACKET socket, dumpcap (4.0) does not end when the interface goes down: it keeps
waiting. So the source looks at the interface's flags itself (capture.live.LinkWatch, twice a second) and, once
it is down, stops dumpcap, hands over every frame dumpcap had, and ends as the AF_PACKET engine does.
"""

from __future__ import annotations

import atexit
import os
import select
import shutil
import signal
import subprocess
import time

from sctpscope.capture.linktypes import LINKTYPE_ETHERNET, LINKTYPE_RAW, linktype_name
from sctpscope.capture.live import KernelStats, LinkWatch, LiveCaptureError
from sctpscope.capture.reader import Frame
from sctpscope.live.stream import PcapngStream, StreamError
from sctpscope.text import escape_text


#: DLT numbers (as dumpcap lists them) that files store under another LINKTYPE number, as libpcap writes them
_LINKTYPE_OF_DLT = {12: LINKTYPE_RAW, 14: LINKTYPE_RAW}


def interface_link(dumpcap: str, interface: str) -> tuple[int, str]:
    """The LINKTYPE number and dumpcap's name of the interface's default link type (the first dumpcap lists),
    asked of dumpcap before capturing: the filter depends on it, and dumpcap says here, in one line, why it
    cannot capture on the interface at all."""
    try:
        proc = subprocess.run([dumpcap, "-L", "-M", "-i", interface], capture_output=True, timeout=60,
                              stdin=subprocess.DEVNULL)
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise LiveCaptureError(f"dumpcap could not list the link types of {escape_text(interface)}: "
                               f"{escape_text(str(exc))}") from None
    rows = [ln.split("\t") for ln in proc.stdout.decode("utf-8", "replace").splitlines()]
    links = [(int(r[0]), r[1]) for r in rows if len(r) >= 2 and r[0].isdigit()]
    if proc.returncode or not links:
        said = first_error(proc.stderr.decode("utf-8", "replace").splitlines(), proc.returncode)
        raise LiveCaptureError(f"dumpcap could not capture on {escape_text(interface)}: {said}")
    dlt, name = links[0]
    return _LINKTYPE_OF_DLT.get(dlt, dlt), name


def first_error(lines: list[str], status: int | None) -> str:
    """What dumpcap or tshark said went wrong (their greetings, warnings and log lines aside), escaped."""
    said = [ln.strip() for ln in lines if ln.strip() and "dangerous" not in ln and not ln.startswith("Capturing on")
            and not ln.lstrip().startswith("**")]
    return escape_text(said[0].removeprefix("dumpcap: ").removeprefix("tshark: ")) if said else f"exit status {status}"


def capture_filter(ports: tuple[int, ...], linktype: int = LINKTYPE_ETHERNET) -> str:
    """libpcap filter syntax for what the BPF program of capture.bpf keeps (IPv6 extension headers aside).
    Behind VLAN tags on Ethernet only: libpcap has no `vlan` for other link types (Linux cooked, on `any`),
    where a tag the kernel took into the packet's metadata is out of the filter's way, but a second one is not
    stepped over."""
    udp = " or ".join(f"udp port {p}" for p in ports)
    base = f"sctp or {udp} or (udp and ip[6:2] & 0x1fff != 0)"
    if linktype != LINKTYPE_ETHERNET:
        return base
    return f"{base} or (vlan and ({base} or (vlan and ({base}))))"    # each `vlan` steps over one tag


class DumpcapSource:
    """Frames from a dumpcap child process (see the module docstring)."""

    def __init__(self, interface: str, *, snaplen: int = 262144, buffer_size: int = 64 << 20, promisc: bool = False,
                 sctp_udp_ports: tuple[int, ...] = (9899,), start_timeout: float = 15.0) -> None:
        exe = shutil.which("dumpcap")
        if exe is None:
            raise LiveCaptureError("--engine dumpcap needs dumpcap (apt-get install tshark)")
        self.name = interface
        self.buffer_size = buffer_size
        linktype, dlt = interface_link(exe, interface)
        cmd = [exe, "-q", "-i", interface, "-y", dlt, "-w", "-", "-s", str(snaplen),
               "-B", str(max(1, buffer_size >> 20)), "-f", capture_filter(tuple(sctp_udp_ports), linktype)]
        if not promisc:
            cmd.append("-p")
        self.command = cmd
        self.proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                     start_new_session=True)
        self._fd = self.proc.stdout.fileno()
        os.set_blocking(self._fd, False)
        self.stream = PcapngStream()
        self._pending: list[tuple[Frame, int]] = []
        self._eof = False
        self._closed = False
        self._stopping = False
        self._stderr = b""
        atexit.register(self.close)             # never leave dumpcap capturing after sctpscope has gone
        end = time.monotonic() + start_timeout
        while not self.stream.interfaces:
            if not self._pump(0.2) and self._eof:
                raise LiveCaptureError(f"dumpcap could not capture on {escape_text(interface)}: "
                                       f"{self._dumpcap_error()}")
            if time.monotonic() > end:
                self.close()
                raise LiveCaptureError(f"dumpcap did not start capturing on {escape_text(interface)} "
                                       f"within {start_timeout:g} s")
        self.linktype = self.stream.interfaces[0].linktype
        self.link = linktype_name(self.linktype)
        self.watch = LinkWatch(interface)

    def _dumpcap_error(self) -> str:
        try:
            _, err = self.proc.communicate(timeout=5)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            _, err = self.proc.communicate()
        self._stderr += err or b""
        return first_error(self._stderr.decode("utf-8", "replace").splitlines(), self.proc.returncode)

    def _pump(self, timeout: float) -> bool:
        """Read what the pipe has (waiting up to `timeout`); True if something came."""
        if self._eof:
            return False
        r, _, _ = select.select([self._fd], [], [], timeout)
        if not r:
            return False
        try:
            data = os.read(self._fd, 1 << 20)
        except BlockingIOError:
            return False
        if not data:
            self._eof = True
            return False
        try:
            self._pending.extend(self.stream.feed(data))
        except StreamError as exc:
            self._eof = True
            raise LiveCaptureError(f"dumpcap wrote something that is not pcapng: {exc}") from None
        return True

    def read(self, timeout: float | None = 0.1) -> list[tuple[Frame, int]]:
        """Raises LiveCaptureError once dumpcap stopped or the interface went down, after every frame before."""
        self._pending.extend(self.watch.check(self._stopping, self.drain))
        if not self._pending and self.watch.error is None:
            self._pump(0.1 if timeout is None else timeout)
            while self._pump(0):
                pass
        out, self._pending = self._pending, []
        if not out and self.watch.error is not None:
            raise self.watch.error
        if not out and self._eof and not self._stopping:
            raise LiveCaptureError(f"dumpcap stopped capturing on {escape_text(self.name)}: {self._dumpcap_error()}")
        return out

    def drain(self) -> list[tuple[Frame, int]]:
        """Ask dumpcap to finish (SIGINT: it writes its statistics) and take everything up to its end."""
        self._stopping = True
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGINT)
        end = time.monotonic() + 10
        while not self._eof and time.monotonic() < end:
            self._pump(0.2)
        out, self._pending = self._pending, []
        return out

    def stats(self) -> KernelStats:
        """dumpcap's counts once it has written them (its statistics block at the end); unknown (None) until then.
        dumpcap's "received" counts the frames it captured; sctpscope's, as libpcap's, the dropped ones too."""
        recv, drop = self.stream.stats.get(0, (None, None))
        return KernelStats(None if recv is None or drop is None else recv + drop, drop, None)

    def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        self._stopping = True
        atexit.unregister(self.close)
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGINT)
            try:
                self.proc.wait(5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        for f in (self.proc.stdout, self.proc.stderr):
            try:
                f.close()
            except OSError:
                pass
