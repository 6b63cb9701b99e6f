"""Live capture on Linux: an AF_PACKET socket with a TPACKET_V3 memory-mapped ring and the SCTP kernel filter.

The socket is opened as libpcap opens it, without letting an unfiltered frame in: created with protocol 0
(it receives nothing yet), the BPF program of sctpscope.capture.bpf attached (SO_ATTACH_FILTER, then locked),
the receive ring set up (PACKET_VERSION = TPACKET_V3, PACKET_RX_RING), mapped, and only then bound to the
interface for every protocol (ETH_P_ALL). The ring is the receive buffer: ``buffer_size`` bytes in blocks of
``block_size``; the kernel fills a block with frames and hands it over when it is full or
``block_timeout_ms`` after its first frame, so a quiet link still delivers within that time. No system call
per frame: one poll() per block when there is nothing to read.

Frames come out as the file readers' :class:`~sctpscope.capture.reader.Frame` (numbered from 1, ``ts`` in
float seconds), each with its exact timestamp in integer nanoseconds (``LiveSource.read``), so that the
pcapng file keeps the kernel's nanoseconds. Link types:

- Ethernet and loopback devices: SOCK_RAW, LINKTYPE_ETHERNET; a VLAN tag the kernel keeps in the packet's
  metadata (receive path, or transmit offload, e.g. veth) is put back into the frame after the MAC
  addresses, as libpcap does, so the stored frame is the one on the wire.
- ``any`` and every other device: SOCK_DGRAM, LINKTYPE_LINUX_SLL (a 16-byte "cooked" header built from the
  ring's sockaddr_ll as libpcap builds it: packet type, ARPHRD type, link-layer address, protocol; a VLAN tag
  from the metadata inserted before the protocol field, as libpcap does). The address bytes beyond its length
  are zero (libpcap leaves whatever the ring held there). For a frame with two VLAN tags the kernel's cooked
  view is lossy (the protocol field names the innermost EtherType while the data still starts with the inner
  tag): stored as the kernel gives it, as libpcap does.

Kernel statistics (PACKET_STATISTICS) are read, and reset by the kernel, at each ``stats()`` call; the
source adds them up: ``received`` counts every frame that passed the filter (dropped ones included, as
libpcap's ps_recv), ``dropped`` those the full ring could not take.

Errors are :class:`LiveCaptureError` with one clear line: no such interface, interface down, missing
CAP_NET_RAW, a ring the kernel cannot allocate, the interface going down (or away) during capture - the
last after every frame already in the ring has been read.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import errno as errno_mod
import mmap
import os
import select
import socket
import struct
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from sctpscope.capture.bpf import SNAPLEN, program
from sctpscope.capture.linktypes import LINKTYPE_ETHERNET, LINKTYPE_LINUX_SLL
from sctpscope.capture.reader import Frame
from sctpscope.errors import SctpscopeError

__all__ = ["LiveCaptureError", "LiveSource", "KernelStats", "InterfaceInfo", "list_interfaces", "interface_info",
           "DEFAULT_BUFFER", "DEFAULT_BLOCK"]

# -- kernel constants (linux/if_packet.h, linux/if_ether.h, asm-generic/socket.h) ------------------------------
SOL_PACKET = 263
PACKET_ADD_MEMBERSHIP = 1
PACKET_RX_RING = 5
PACKET_STATISTICS = 6
PACKET_VERSION = 10
TPACKET_V3 = 2
PACKET_MR_PROMISC = 1
SO_ATTACH_FILTER = 26
SO_LOCK_FILTER = 44
ETH_P_ALL = 0x0003
TP_STATUS_KERNEL = 0
TP_STATUS_USER = 1
TP_STATUS_VLAN_VALID = 0x10
TP_STATUS_VLAN_TPID_VALID = 0x40
IFF_UP = 0x1
ARPHRD_ETHER = 1
ARPHRD_LOOPBACK = 772

#: default ring (receive buffer): 64 MiB, about 3 s of a full-speed usrsctp transfer on veth (see README)
DEFAULT_BUFFER = 64 << 20
DEFAULT_BLOCK = 1 << 20
DEFAULT_BLOCK_TIMEOUT_MS = 50
_FRAME_SIZE = 2048          # V3 ignores it, but the ring request must be consistent with it

# struct tpacket_block_desc (version, offset_to_priv, then tpacket_hdr_v1):
#   block_status @8, num_pkts @12, offset_to_first_pkt @16
_BLOCK = struct.Struct("=III")
# struct tpacket3_hdr: tp_next_offset, tp_sec, tp_nsec, tp_snaplen, tp_len, tp_status, tp_mac, tp_net,
#   hv1 { tp_rxhash, tp_vlan_tci, tp_vlan_tpid }
_HDR = struct.Struct("=IIIIIIHHIIH")
_SLL_OFFSET = 48            # TPACKET_ALIGN(sizeof(struct tpacket3_hdr)): the sockaddr_ll that follows
# struct sockaddr_ll: family, protocol (network order), ifindex, hatype, pkttype, halen, addr[8]
_SOCKADDR_LL = struct.Struct("=HHiHBB8s")
_STATS3 = struct.Struct("=III")      # struct tpacket_stats_v3: tp_packets, tp_drops, tp_freeze_q_cnt
_REQ3 = struct.Struct("=IIIIIII")    # struct tpacket_req3


class LiveCaptureError(SctpscopeError):
    """Live capture cannot start or cannot go on (privilege, interface, kernel resources)."""

    title = "live capture"


@dataclass
class KernelStats:
    """What the kernel counted for the socket since capture began (see the module docstring)."""

    received: int | None = 0     # None: not known (yet); the dumpcap and tshark engines learn theirs when dumpcap ends
    dropped: int | None = 0
    frozen: int | None = 0       # times the ring was full (TPACKET_V3 queue freezes); None: engines without the ring


@dataclass
class InterfaceInfo:
    name: str
    index: int
    arphrd: int | None
    link: str                       # "ether" or "cooked"
    up: bool | None
    state: str
    mtu: int | None
    mac: str = ""
    addresses: list[str] = field(default_factory=list)

    @property
    def linktype(self) -> int:
        return LINKTYPE_ETHERNET if self.link == "ether" else LINKTYPE_LINUX_SLL

    def as_dict(self) -> dict:
        return {"name": self.name, "index": self.index, "arphrd": self.arphrd, "linktype": self.linktype,
                "link": self.link, "up": self.up, "state": self.state, "mtu": self.mtu, "mac": self.mac,
                "addresses": list(self.addresses)}


# -- interfaces ------------------------------------------------------------------------------------------------
def _sys(name: str, attr: str) -> str | None:
    try:
        with open(f"/sys/class/net/{name}/{attr}") as f:
            return f.read().strip()
    except OSError:
        return None


def _int(text: str | None, base: int = 10) -> int | None:
    try:
        return int(text, base) if text is not None else None
    except ValueError:
        return None


def _netlink_addresses() -> dict[int, list[str]]:
    """Every interface's IP addresses (as address/prefix), by interface index, from an RTM_GETADDR dump."""
    out: dict[int, list[str]] = {}
    try:
        s = socket.socket(socket.AF_NETLINK, socket.SOCK_RAW, 0)      # NETLINK_ROUTE
    except OSError:
        return out
    with s:
        s.settimeout(2.0)
        req = struct.pack("=IHHII", 16 + 8, 22, 0x301, 1, 0) + struct.pack("=BBBBI", 0, 0, 0, 0, 0)
        try:
            s.send(req)
            done = False
            while not done:
                data = s.recv(65536)
                if not data:
                    break
                pos = 0
                while pos + 16 <= len(data):
                    length, mtype = struct.unpack_from("=IH", data, pos)
                    if length < 16:
                        done = True
                        break
                    if mtype in (2, 3):                     # NLMSG_ERROR, NLMSG_DONE
                        done = True
                        break
                    if mtype == 20:                         # RTM_NEWADDR
                        family, plen, _flags, _scope, index = struct.unpack_from("=BBBBI", data, pos + 16)
                        attrs, a = {}, pos + 24
                        while a + 4 <= pos + length:
                            alen, atype = struct.unpack_from("=HH", data, a)
                            if alen < 4:
                                break
                            attrs[atype] = data[a + 4:a + alen]
                            a += (alen + 3) & ~3
                        raw = attrs.get(2) or attrs.get(1)      # IFA_LOCAL, else IFA_ADDRESS
                        if raw and family in (socket.AF_INET, socket.AF_INET6):
                            out.setdefault(index, []).append(f"{socket.inet_ntop(family, raw)}/{plen}")
                    pos += (length + 3) & ~3
        except OSError:
            pass
    return out


_SIOCGIFFLAGS, _SIOCGIFMTU, _SIOCGIFHWADDR = 0x8913, 0x8921, 0x8927


def _ioctl(name: str) -> tuple[int | None, int | None, int | None, str]:
    """(ARPHRD type, flags, MTU, hardware address) by ioctl in the caller's network namespace (/sys shows the
    namespace it was mounted in, which need not be ours)."""
    import fcntl

    arphrd = flags = mtu = None
    mac = ""
    req = struct.pack("16s24x", name.encode()[:15])
    try:
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
            res = fcntl.ioctl(s.fileno(), _SIOCGIFHWADDR, req)
            arphrd = struct.unpack_from("=H", res, 16)[0]
            hw = res[18:24]
            if arphrd in (ARPHRD_ETHER, ARPHRD_LOOPBACK):
                mac = ":".join(f"{b:02x}" for b in hw)
            flags = struct.unpack_from("=H", fcntl.ioctl(s.fileno(), _SIOCGIFFLAGS, req), 16)[0]
            mtu = struct.unpack_from("=i", fcntl.ioctl(s.fileno(), _SIOCGIFMTU, req), 16)[0]
    except OSError:
        pass
    return arphrd, flags, mtu, mac


class LinkWatch:
    """Whether a capture's interface is still up: its flags by ioctl in this network namespace, looked at most
    every `every` seconds. For the engines that run Wireshark's dumpcap, which keeps waiting on an interface that
    went down (the AF_PACKET socket is told by the kernel). An interface whose flags cannot be read at the
    start (`any`) is never reported down."""

    def __init__(self, name: str, every: float = 0.5) -> None:
        self.name = name
        self.every = every
        self._next = 0.0
        flags = _ioctl(name)[1]
        self.active = flags is not None and bool(flags & IFF_UP)
        self.error: LiveCaptureError | None = None     # set once the interface was seen down

    def check(self, stopping: bool, drain: Callable[[], list]) -> list:
        """When the interface has just been seen down (and the capture is not stopping anyway): `drain()`, the
        frames the engine still had, to hand over before `error` is raised. Otherwise nothing."""
        if self.error is None and not stopping and self.down():
            self.error = LiveCaptureError(f"interface {self.name} went down")
            return drain()          # dumpcap would wait for the interface to come back
        return []

    def down(self) -> bool:
        if not self.active:
            return False
        now = time.monotonic()
        if now < self._next:
            return False
        self._next = now + self.every
        flags = _ioctl(self.name)[1]
        return flags is None or not flags & IFF_UP


def _info(name: str, index: int, addrs: dict[int, list[str]]) -> InterfaceInfo:
    arphrd, flags, mtu, mac = _ioctl(name)
    if arphrd is None:
        arphrd = _int(_sys(name, "type"))
        flags = _int(_sys(name, "flags"), 16)
        mtu = _int(_sys(name, "mtu"))
        mac = _sys(name, "address") or ""
    link = "ether" if arphrd in (ARPHRD_ETHER, ARPHRD_LOOPBACK) else "cooked"
    up = None if flags is None else bool(flags & IFF_UP)
    state = _sys(name, "operstate") if os.path.isdir(f"/sys/class/net/{name}") else None
    if state is None or (up is False and state != "down"):
        state = "down" if up is False else ("up" if flags and flags & 0x40 else "unknown")   # IFF_RUNNING
    return InterfaceInfo(name, index, arphrd, link, up, state, mtu, mac, addrs.get(index, []))


def _any() -> InterfaceInfo:
    return InterfaceInfo("any", 0, None, "cooked", True, "up", None, "", [])


def list_interfaces() -> list[InterfaceInfo]:
    """Every interface of this network namespace, by index, then the pseudo-interface ``any``."""
    addrs = _netlink_addresses()
    out = [_info(name, index, addrs) for index, name in sorted(socket.if_nameindex())]
    out.append(_any())
    return out


def interface_info(name: str) -> InterfaceInfo:
    """One interface by name (``any`` too); LiveCaptureError when there is none of that name."""
    if name == "any":
        return _any()
    try:
        index = socket.if_nametoindex(name)
    except (OSError, ValueError, UnicodeError):
        raise LiveCaptureError(f"no such interface: {name!r} (`sctpscope interfaces` lists them)") from None
    return _info(name, index, _netlink_addresses())


# -- the socket --------------------------------------------------------------------------------------------------
_libc = None


def _bind(fd: int, ifindex: int) -> None:
    """bind() to a sockaddr_ll by index (Python's own bind wants a name, and `any` has none)."""
    global _libc
    if _libc is None:
        _libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)
    addr = _SOCKADDR_LL.pack(socket.AF_PACKET, socket.htons(ETH_P_ALL), ifindex, 0, 0, 0, b"\0" * 8)
    buf = ctypes.create_string_buffer(addr, len(addr))
    if _libc.bind(fd, buf, len(addr)) != 0:
        err = ctypes.get_errno()
        raise OSError(err, os.strerror(err))


class LiveSource:
    """Frames of one interface as they arrive (see the module docstring)."""

    def __init__(self, interface: str, *, snaplen: int = SNAPLEN, buffer_size: int = DEFAULT_BUFFER,
                 promisc: bool = False, sctp_udp_ports: tuple[int, ...] = (9899,), block_size: int = DEFAULT_BLOCK,
                 block_timeout_ms: int = DEFAULT_BLOCK_TIMEOUT_MS, check_up: bool = True) -> None:
        self.info = interface_info(interface)
        self.name = interface
        if check_up and self.info.up is False:
            raise LiveCaptureError(f"interface {interface} is down")
        self.link = self.info.link
        self.linktype = self.info.linktype
        self.snaplen = snaplen
        self.promisc = promisc and self.info.index != 0
        block_size = max(mmap.PAGESIZE, 1 << (max(block_size, 1) - 1).bit_length())   # a power of two
        if buffer_size < 2 * block_size:
            block_size = max(mmap.PAGESIZE, 1 << ((max(buffer_size, 2 * mmap.PAGESIZE) // 2).bit_length() - 1))
        self.block_size = block_size
        self.block_nr = max(2, buffer_size // block_size)
        self.buffer_size = self.block_size * self.block_nr
        self.block_timeout_ms = block_timeout_ms
        self._number = 0
        self._cur = 0
        self._stats = KernelStats()
        self._error: LiveCaptureError | None = None
        self._closed = False
        self._ring: mmap.mmap | None = None
        self._filter_buf = None
        kind = socket.SOCK_RAW if self.link == "ether" else socket.SOCK_DGRAM
        try:
            self.sock = socket.socket(socket.AF_PACKET, kind, 0)     # protocol 0: nothing arrives before bind
        except PermissionError:
            raise LiveCaptureError(f"capturing on {interface} needs the CAP_NET_RAW capability: run as root "
                                   "(or give the Python interpreter cap_net_raw)") from None
        except OSError as exc:
            raise LiveCaptureError(f"cannot open a packet socket: {exc.strerror or exc}") from None
        try:
            self._setup(sctp_udp_ports)
        except BaseException:
            self.close()
            raise
        self._poll = select.poll()
        self._poll.register(self.sock.fileno(), select.POLLIN | select.POLLERR)

    def _setup(self, ports: tuple[int, ...]) -> None:
        s = self.sock
        code = program(self.link, ports, self.snaplen).pack()
        self._filter_buf = ctypes.create_string_buffer(code, len(code))
        fprog = struct.pack("@HP", len(code) // 8, ctypes.addressof(self._filter_buf))
        try:
            s.setsockopt(socket.SOL_SOCKET, SO_ATTACH_FILTER, fprog)
            s.setsockopt(socket.SOL_SOCKET, SO_LOCK_FILTER, 1)
            s.setsockopt(SOL_PACKET, PACKET_VERSION, TPACKET_V3)
        except OSError as exc:
            raise LiveCaptureError(f"cannot set up the capture socket: {exc.strerror or exc}") from None
        req = _REQ3.pack(self.block_size, self.block_nr, _FRAME_SIZE,
                         self.block_size // _FRAME_SIZE * self.block_nr, self.block_timeout_ms, 0, 0)
        try:
            s.setsockopt(SOL_PACKET, PACKET_RX_RING, req)
            self._ring = mmap.mmap(s.fileno(), self.buffer_size, mmap.MAP_SHARED, mmap.PROT_READ | mmap.PROT_WRITE)
        except OSError as exc:
            raise LiveCaptureError(f"the kernel cannot give a capture buffer of {self.buffer_size >> 20} MiB "
                                   f"({exc.strerror or exc}); try a smaller --buffer-size") from None
        if self.promisc:
            mreq = struct.pack("=iHH8s", self.info.index, PACKET_MR_PROMISC, 0, b"")
            try:
                s.setsockopt(SOL_PACKET, PACKET_ADD_MEMBERSHIP, mreq)
            except OSError as exc:
                raise LiveCaptureError(f"cannot put {self.name} in promiscuous mode: {exc.strerror or exc}") from None
        try:
            _bind(s.fileno(), self.info.index)
        except OSError as exc:
            if exc.errno == errno_mod.ENODEV:
                raise LiveCaptureError(f"no such interface: {self.name!r}") from None
            if exc.errno == errno_mod.ENETDOWN:
                raise LiveCaptureError(f"interface {self.name} is down") from None
            raise LiveCaptureError(f"cannot bind to {self.name}: {exc.strerror or exc}") from None

    # -- reading ---------------------------------------------------------------------------------------------
    def fileno(self) -> int:
        return self.sock.fileno()

    def read(self, timeout: float | None = 0.1, max_blocks: int = 64) -> list[tuple[Frame, int]]:
        """The frames of every block ready now (at most `max_blocks`), each with its timestamp in nanoseconds;
        waits up to `timeout` seconds for one when none is. An empty list: nothing arrived in time.

        Raises LiveCaptureError once the interface went down or away and every frame before has been read."""
        if self._closed:
            return []
        out: list[tuple[Frame, int]] = []
        for _ in range(max_blocks):
            if not self._take_block(out):
                break
        if out:
            return out
        if self._error is not None:
            raise self._error
        ready = self._poll.poll(None if timeout is None else max(0, int(timeout * 1000)))
        if ready and ready[0][1] & select.POLLERR:
            err = self.sock.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR)
            if err:
                what = "went down" if err == errno_mod.ENETDOWN else f"failed ({os.strerror(err)})"
                self._error = LiveCaptureError(f"interface {self.name} {what}")
                # the kernel retires the block being filled on its timer: wait for it, then hand out the rest
                time.sleep(2 * self.block_timeout_ms / 1000)
        for _ in range(max_blocks):
            if not self._take_block(out):
                break
        if not out and self._error is not None:
            raise self._error
        return out

    def _take_block(self, out: list) -> bool:
        ring = self._ring
        base = self._cur * self.block_size
        status, num, off = _BLOCK.unpack_from(ring, base + 8)
        if not status & TP_STATUS_USER:
            return False
        number = self._number
        ether = self.link == "ether"
        unpack = _HDR.unpack_from
        new = tuple.__new__
        lt = self.linktype
        pos = base + off
        for _ in range(num):
            (nxt, sec, nsec, snap, length, st, mac, _net, _hash, tci, tpid) = unpack(ring, pos)
            data = ring[pos + mac:pos + mac + snap]
            if ether:
                if st & TP_STATUS_VLAN_VALID:
                    tag = struct.pack("!HH", tpid if st & TP_STATUS_VLAN_TPID_VALID else 0x8100, tci)
                    data = data[:12] + tag + data[12:]
                    snap += 4
                    length += 4
            else:
                _fam, proto, _idx, hatype, pkttype, halen, addr = _SOCKADDR_LL.unpack_from(ring, pos + _SLL_OFFSET)
                # libpcap copies all 8 bytes of sll_addr, those beyond sll_halen being whatever the ring held
                # before; they are zeroed here
                head = struct.pack("!HHH8s", pkttype, hatype, halen, addr[:min(halen, 8)])
                if st & TP_STATUS_VLAN_VALID:
                    head += struct.pack("!HH", tpid if st & TP_STATUS_VLAN_TPID_VALID else 0x8100, tci)
                data = head + struct.pack("=H", proto) + data     # sll_protocol: network order, read natively
                snap = len(data)
                length += len(head) + 2
            number += 1
            ns = sec * 1_000_000_000 + nsec
            out.append((new(Frame, (number, ns / 1_000_000_000, lt, data, snap, length, 0)), ns))
            pos += nxt
        self._number = number
        struct.pack_into("=I", ring, base + 8, TP_STATUS_KERNEL)          # hand the block back
        self._cur = (self._cur + 1) % self.block_nr
        return True

    def drain(self) -> list[tuple[Frame, int]]:
        """At the end: the frames still in the ring, the block being filled included (the kernel hands it over
        at its timeout, which this waits for)."""
        if self._closed:
            return []
        time.sleep(1.5 * self.block_timeout_ms / 1000)
        out: list[tuple[Frame, int]] = []
        for _ in range(self.block_nr):          # the ring as it is now, not what keeps arriving
            if not self._take_block(out):
                break
        return out

    def __iter__(self):
        """Frames (without the nanosecond timestamps) until the source is closed; errors raise."""
        while not self._closed:
            for frame, _ in self.read(0.2):
                yield frame

    # -- statistics and closing ------------------------------------------------------------------------------------
    def stats(self) -> KernelStats:
        """Cumulative kernel counters (reads, and so resets, the kernel's own)."""
        if not self._closed:
            try:
                raw = self.sock.getsockopt(SOL_PACKET, PACKET_STATISTICS, _STATS3.size)
                packets, drops, frozen = _STATS3.unpack(raw[:_STATS3.size])
                self._stats.received += packets
                self._stats.dropped += drops
                self._stats.frozen += frozen
            except OSError:
                pass
        return KernelStats(self._stats.received, self._stats.dropped, self._stats.frozen)

    @property
    def frames(self) -> int:
        """Frames handed out so far."""
        return self._number

    def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        if self._ring is not None:
            try:
                self._ring.close()
            except (BufferError, ValueError):
                pass
            self._ring = None
        try:
            self.sock.close()
        except OSError:
            pass

    def __enter__(self) -> "LiveSource":
        return self

    def __exit__(self, *exc) -> None:
        self.close()
