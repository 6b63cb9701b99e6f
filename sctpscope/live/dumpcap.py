"""``--engine tshark``: dumpcap (Wireshark's capture program) captures, sctpscope reads its pcapng from a pipe.

For systems where the AF_PACKET engine cannot run (no CAP_NET_RAW for Python, not Linux) but dumpcap can
(installed setuid or with capabilities, as Debian's wireshark-common offers). dumpcap is given the libpcap
equivalent of the kernel filter of sctpscope.capture.bpf (SCTP, SCTP over the UDP ports, behind a VLAN tag)
and writes pcapng to its standard output; this source parses the stream as it comes
(live.stream.PcapngStream) and hands out the same frames as LiveSource, which the session writes to its own
file and analyses as usual. Kernel drop counts are known when dumpcap ends (its interface statistics
block); until then they show as zero.
"""

from __future__ import annotations

import os
import select
import shutil
import signal
import subprocess
import time

from sctpscope.capture.linktypes import linktype_name
from sctpscope.capture.live import KernelStats, LiveCaptureError
from sctpscope.capture.reader import Frame
from sctpscope.live.stream import PcapngStream, StreamError


def capture_filter(ports: tuple[int, ...]) -> str:
    """libpcap filter syntax for what the BPF program of capture.bpf keeps (IPv6 extension headers aside)."""
    udp = " or ".join(f"udp port {p}" for p in ports)
    base = f"sctp or {udp} or (udp and ip[6:2] & 0x1fff != 0)"
    return f"{base} or (vlan and ({base} or (vlan and ({base}))))"    # each `vlan` steps over one tag


class DumpcapSource:
    """Frames from a dumpcap child process (see the module docstring)."""

    def __init__(self, interface: str, *, snaplen: int = 262144, buffer_size: int = 64 << 20, promisc: bool = False,
                 sctp_udp_ports: tuple[int, ...] = (9899,), start_timeout: float = 15.0) -> None:
        exe = shutil.which("dumpcap")
        if exe is None:
            raise LiveCaptureError("--engine tshark needs dumpcap (apt-get install tshark)")
        self.name = interface
        cmd = [exe, "-q", "-i", interface, "-w", "-", "-s", str(snaplen), "-B", str(max(1, buffer_size >> 20)),
               "-f", capture_filter(tuple(sctp_udp_ports))]
        if not promisc:
            cmd.append("-p")
        self.command = cmd
        self.proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        self._fd = self.proc.stdout.fileno()
        os.set_blocking(self._fd, False)
        self.stream = PcapngStream()
        self._pending: list[tuple[Frame, int]] = []
        self._eof = False
        self._closed = False
        self._stopping = False
        self._stderr = b""
        end = time.monotonic() + start_timeout
        while not self.stream.interfaces:
            if not self._pump(0.2) and self._eof:
                raise LiveCaptureError(f"dumpcap could not capture on {interface}: {self._dumpcap_error()}")
            if time.monotonic() > end:
                self.close()
                raise LiveCaptureError(f"dumpcap did not start capturing on {interface} within {start_timeout:g} s")
        self.linktype = self.stream.interfaces[0].linktype
        self.link = linktype_name(self.linktype)

    def _dumpcap_error(self) -> str:
        try:
            _, err = self.proc.communicate(timeout=5)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            _, err = self.proc.communicate()
        self._stderr += err or b""
        lines = [ln.strip() for ln in self._stderr.decode("utf-8", "replace").splitlines()
                 if ln.strip() and "dangerous" not in ln and not ln.startswith("Capturing on")]
        from sctpscope.text import escape_text

        return escape_text(lines[0]) if lines else f"exit status {self.proc.returncode}"

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
        if not self._pending:
            self._pump(0.1 if timeout is None else timeout)
            while self._pump(0):
                pass
        out, self._pending = self._pending, []
        if not out and self._eof and not self._stopping:
            raise LiveCaptureError(f"dumpcap stopped capturing on {self.name}: {self._dumpcap_error()}")
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
        recv, drop = self.stream.stats.get(0, (None, None))
        return KernelStats(recv or 0, drop or 0, 0)

    def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        self._stopping = True
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
