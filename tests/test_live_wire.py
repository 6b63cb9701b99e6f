"""`sctpscope live` on the wire: real usrsctp peers in two network namespaces joined by a veth pair (and a
VLAN on it), native SCTP over IPv4 and IPv6 and UDP-encapsulated, while dumpcap captures the same interface.

Truths: dumpcap's capture (the frames, byte for byte, and their kernel timestamps), tshark's decode of it
(which frames are SCTP), `sctpscope report` of sctpscope's own file, the peers' own output (echo_server's
"Msg of length L ... on stream S with SSN n", tsctp's receiver summary), /proc (the user a process runs as),
the kernel's own interface state. Nothing is timed: waits poll for a condition, with a generous limit.

Needs root, network namespaces, iproute2, dumpcap/tshark and Debian's libusrsctp-examples; otherwise every
test here skips with the reason (see `netns_unavailable`).
"""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import struct
import subprocess
import sys
import time
from pathlib import Path

import pytest

from conftest import REPO, TSHARK
from sctpscope.capture import open_capture

USRSCTP = Path(os.environ.get("USRSCTP_BIN", "/usr/lib/usrsctp"))
PEERS = ("echo_server", "client", "tsctp")
V4 = ("198.18.0.1", "198.18.0.2")
V6 = ("fd00:5c7:5c7::1", "fd00:5c7:5c7::2")
VLAN_ID = 5
WAIT = 30.0                     # the most any wait below polls for a condition


def netns_unavailable(euid: int | None = None, which=shutil.which, exists=os.path.exists) -> str | None:
    """Why these tests cannot run here (None: they can)."""
    if (os.geteuid() if euid is None else euid) != 0:
        return "needs root (network namespaces, AF_PACKET sockets, usrsctp raw sockets)"
    for tool in ("ip", "dumpcap", "tshark"):
        if which(tool) is None:
            return f"{tool} not on PATH (apt-get install iproute2 tshark)"
    for prog in PEERS:
        if not exists(USRSCTP / prog):
            return f"{USRSCTP / prog} missing (apt-get install libusrsctp-examples)"
    if not exists("/proc/self/ns/net"):
        return "the kernel has no network namespaces"
    return None


REASON = netns_unavailable()
pytestmark = [pytest.mark.netns, pytest.mark.skipif(REASON is not None, reason=REASON or "")]


# -- the test network --------------------------------------------------------------------------------------------
class Net:
    """Namespaces scl-a-PID / scl-b-PID joined by veth sclaPID / sclbPID (IPv4, IPv6), and every process
    started in them; `close()` stops those processes (by PID) and deletes the namespaces."""

    def __init__(self, work: Path) -> None:
        pid = os.getpid()
        self.work = work
        self.a, self.b = f"scl-a-{pid}", f"scl-b-{pid}"
        self.if_a, self.if_b = f"scla{pid}", f"sclb{pid}"
        self.made: list[str] = []
        self.procs: list[subprocess.Popen] = []

    def ip(self, *args: str, ns: str | None = None) -> None:
        cmd = ["ip", *(["-n", ns] if ns else []), *args]
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=30)
        if proc.returncode:
            raise RuntimeError(f"{' '.join(cmd)}: {proc.stderr.strip()}")

    def setup(self) -> None:
        for ns in (self.a, self.b):
            self.ip("netns", "add", ns)
            self.made.append(ns)
        self.ip("link", "add", self.if_a, "netns", self.a, "type", "veth", "peer", "name", self.if_b, "netns", self.b)
        for ns, ifc, v4, v6 in ((self.a, self.if_a, V4[0], V6[0]), (self.b, self.if_b, V4[1], V6[1])):
            subprocess.run(["ip", "netns", "exec", ns, "sysctl", "-qw", f"net.ipv6.conf.{ifc}.accept_ra=0",
                            f"net.ipv6.conf.{ifc}.router_solicitations=0", "net.ipv6.conf.default.accept_dad=0"],
                           check=True, timeout=30)
            self.ip("link", "set", "lo", "up", ns=ns)
            self.ip("addr", "add", f"{v4}/24", "dev", ifc, ns=ns)
            self.ip("addr", "add", f"{v6}/64", "dev", ifc, "nodad", ns=ns)
            self.ip("link", "set", ifc, "up", ns=ns)

    def start(self, ns: str, cmd: list[str], name: str, stdin=subprocess.DEVNULL, **kw) -> subprocess.Popen:
        """A process in a namespace, its output in WORK/NAME.out / .err; it is stopped by close()."""
        out = open(self.work / f"{name}.out", "wb")
        err = open(self.work / f"{name}.err", "wb")
        proc = subprocess.Popen(["ip", "netns", "exec", ns, *cmd], stdin=stdin, stdout=out, stderr=err, **kw)
        out.close()
        err.close()
        proc.name = name
        self.procs.append(proc)
        return proc

    def text(self, name: str, which: str = "err") -> str:
        return (self.work / f"{name}.{which}").read_text(errors="replace")

    def stop(self, proc: subprocess.Popen, sig: int = signal.SIGTERM) -> int:
        if proc.poll() is None:
            proc.send_signal(sig)
            try:
                proc.wait(10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(10)
        return proc.returncode

    def close(self) -> None:
        for p in self.procs:
            if p.poll() is None:
                p.kill()
                try:
                    p.wait(10)
                except subprocess.TimeoutExpired:
                    pass
        for ns in self.made:
            subprocess.run(["ip", "netns", "del", ns], capture_output=True, timeout=30)


def until(cond, what: str, limit: float = WAIT):
    """Poll `cond()` until it is true; fail with `what` after `limit` seconds (a bound, not an assertion on
    time)."""
    end = time.monotonic() + limit
    while True:
        v = cond()
        if v:
            return v
        if time.monotonic() > end:
            pytest.fail(f"gave up waiting: {what}")
        time.sleep(0.05)


@pytest.fixture(scope="module")
def net(tmp_path_factory):
    work = tmp_path_factory.mktemp("live-wire")
    n = Net(work)
    try:
        try:
            n.setup()
        except (RuntimeError, subprocess.SubprocessError, OSError) as exc:
            n.close()
            pytest.skip(f"cannot build the test network: {exc}")
        time.sleep(0.5)         # let link-up chatter (MLD, ND) pass before anything captures
        yield n
    finally:
        n.close()


def sctpscope_cmd(*args) -> list[str]:
    return [sys.executable, "-m", "sctpscope", *map(str, args)]


ENV = dict(os.environ, PYTHONPATH=os.pathsep.join(filter(None, [str(REPO), os.environ.get("PYTHONPATH")])))


def start_live(net: Net, name: str, *args, ns: str | None = None) -> subprocess.Popen:
    """`sctpscope live ARGS` in namespace A; returns once it announced that it captures."""
    p = net.start(ns or net.a, sctpscope_cmd("live", *args), name, env=ENV, cwd=net.work)
    until(lambda: "capturing SCTP on" in net.text(name) or p.poll() is not None, f"{name} to start")
    assert p.poll() is None, net.text(name)
    return p


def start_dumpcap(net: Net, name: str, path: Path, iface: str | None = None) -> subprocess.Popen:
    p = net.start(net.a, ["dumpcap", "-q", "-i", iface or net.if_a, "-w", str(path)], name)
    until(lambda: "Capturing on" in net.text(name) or p.poll() is not None, "dumpcap to start")
    assert p.poll() is None, net.text(name)
    return p


def echo(net: Net, name: str, target: str, lines: list[str], encaps: bool = False) -> list[dict]:
    """An echo_server in B and a client in A sending `lines` (one message each, a newline included), the
    client closing gracefully at the end; returns what the server says it received (its own log)."""
    srv_args = ["9899", "9899"] if encaps else []
    cli_args = ["5007", "9899", "9899"] if encaps else ["5007"]
    srv = net.start(net.b, ["stdbuf", "-oL", str(USRSCTP / "echo_server"), *srv_args], f"{name}-server")
    time.sleep(0.3)     # echo_server says nothing when it listens; an INIT sent too early is retransmitted anyway
    assert srv.poll() is None, net.text(f"{name}-server", "out")
    cli = net.start(net.a, ["stdbuf", "-oL", str(USRSCTP / "client"), target, "7", *cli_args], f"{name}-client",
                    stdin=subprocess.PIPE)
    until(lambda: "COMM_UP" in net.text(f"{name}-client", "out") or cli.poll() is not None, f"{name}: COMM_UP")
    for i, line in enumerate(lines, 1):
        cli.stdin.write(line.encode() + b"\n")
        cli.stdin.flush()
        until(lambda: net.text(f"{name}-server", "out").count("Msg of length") >= i, f"{name}: message {i} echoed")
        until(lambda: net.text(f"{name}-client", "out").count(line) >= 1, f"{name}: echo {i} back")
    cli.stdin.close()
    until(lambda: cli.poll() is not None, f"{name}: the client to finish its SHUTDOWN")
    assert cli.returncode == 0, net.text(f"{name}-client", "out")
    net.stop(srv)
    got = []
    for m in re.finditer(r"Msg of length (\d+) received from (\S+):(\d+) on stream (\d+) with SSN (\d+) and TSN (\d+)",
                         net.text(f"{name}-server", "out")):
        got.append({"len": int(m[1]), "port": int(m[3]), "sid": int(m[4]), "ssn": int(m[5]), "tsn": int(m[6])})
    assert len(got) == len(lines)
    return got


def noise(net: Net) -> None:
    """Non-SCTP traffic on the veth: UDP to other ports, over IPv4 and IPv6."""
    code = ("import socket\n"
            f"for fam, dst in ((socket.AF_INET, '{V4[1]}'), (socket.AF_INET6, '{V6[1]}')):\n"
            "    s = socket.socket(fam, socket.SOCK_DGRAM)\n"
            "    for port in (53, 5353, 9898): s.sendto(b'not sctp', (dst, port))\n")
    subprocess.run(["ip", "netns", "exec", net.a, sys.executable, "-c", code], check=True, timeout=30)


TAGGED_SCTP = 6


def inject_tagged(net: Net) -> None:
    """VLAN-tagged frames sent from B's end of the veth through a packet socket (this kernel may have no VLAN
    devices): in A the kernel moves the outer tag into the packet's metadata, where dumpcap and sctpscope
    must find it and put it back. Behind one tag (802.1Q VID 5) and two (802.1ad 7 + 802.1Q 5): an SCTP
    HEARTBEAT with tag 0 (out of the blue) over IPv4, over IPv6 and UDP-encapsulated (6 SCTP frames), and
    UDP to port 53 (2 frames, not SCTP). Addresses 198.18.5.0/24 and fd00:5::/64 exist nowhere: nothing
    answers."""
    mac = json.loads(subprocess.run(["ip", "-n", net.a, "-j", "link", "show", net.if_a], capture_output=True,
                                    text=True, check=True).stdout)[0]["address"]
    code = f"""
import socket, struct, crc32c
def sctp():
    p = bytearray(struct.pack('!HHII', 4000, 5000, 0, 0) + struct.pack('!BBHHH', 4, 0, 8, 1, 4))
    struct.pack_into('<I', p, 8, crc32c.crc32c(bytes(p)))
    return bytes(p)
def ip4(proto, payload):
    h = struct.pack('!BBHHHBBH4s4s', 0x45, 0, 20 + len(payload), 1, 0, 64, proto, 0,
                    socket.inet_aton('198.18.5.2'), socket.inet_aton('198.18.5.1'))
    c = sum(struct.unpack('!10H', h)); c = (c & 0xffff) + (c >> 16); c = (c & 0xffff) + (c >> 16)
    return h[:10] + struct.pack('!H', ~c & 0xffff) + h[12:] + payload
def ip6(nxt, payload):
    return struct.pack('!IHBB16s16s', 6 << 28, len(payload), nxt, 64, socket.inet_pton(socket.AF_INET6, 'fd00:5::2'),
                       socket.inet_pton(socket.AF_INET6, 'fd00:5::1')) + payload
def udp(sport, dport, payload):
    return struct.pack('!HHHH', sport, dport, 8 + len(payload), 0) + payload
s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW)
s.bind(('{net.if_b}', 0))
dst = bytes.fromhex('{mac}'.replace(':', ''))
src = s.getsockname()[4]
for tags in ([(0x8100, {VLAN_ID})], [(0x88a8, 7), (0x8100, {VLAN_ID})]):
    head = dst + src + b''.join(struct.pack('!HH', t, v) for t, v in tags)
    for et, l3 in ((0x0800, ip4(132, sctp())), (0x86dd, ip6(132, sctp())), (0x0800, ip4(17, udp(9899, 9899, sctp()))),
                   (0x0800, ip4(17, udp(53, 53, b'not sctp')))):
        s.send(head + struct.pack('!H', et) + l3)
"""
    subprocess.run(["ip", "netns", "exec", net.b, sys.executable, "-c", code], check=True, timeout=30, env=ENV)


def frames(path) -> list[tuple[float, bytes, int]]:
    with open_capture(path) as cap:
        return [(f.ts, f.data, f.orig_len) for f in cap]


def source_in_a(net):
    """An AF_PACKET LiveSource on namespace A's interface, made from this process (in A for the moment)."""
    import ctypes

    from sctpscope.capture.live import LiveSource

    libc = ctypes.CDLL(None, use_errno=True)
    here = os.open("/proc/self/ns/net", os.O_RDONLY)
    there = os.open(f"/run/netns/{net.a}", os.O_RDONLY)
    try:
        assert libc.setns(there, 0x40000000) == 0            # CLONE_NEWNET: the socket is made in A
        return LiveSource(net.if_a)
    finally:
        assert libc.setns(here, 0x40000000) == 0
        os.close(here)
        os.close(there)


SWAP_WINDOW = 0.001     # seconds: two captures may list packets this close together in either order


def same_frames(ours, want, key=lambda f: f) -> bool:
    """`ours` and `want` (lists of `frames`) hold the same frames in the same order, except that frames of packets
    less than SWAP_WINDOW apart may be swapped. Two packet sockets on one interface do not always queue such
    packets in the same order: one sent on one CPU and one received on the other reach each socket's queue in
    whichever order the CPUs get to it, while both carry the kernel's timestamps (seen in CI: two HEARTBEAT ACKs
    crossing, 1.1 µs apart, listed in opposite orders by dumpcap and by the engine under test). `key` picks what
    is compared (the timestamps are always used for the window)."""
    mine, theirs = [key(f) for f in ours], [key(f) for f in want]
    if mine == theirs:
        return True
    if sorted(mine) != sorted(theirs):
        return False
    return all(abs(a[0] - b[0]) < SWAP_WINDOW for a, b, x, y in zip(ours, want, mine, theirs) if x != y)


def tshark_numbers(path, display_filter: str) -> set[int]:
    """The numbers of the frames tshark's display filter selects."""
    out = subprocess.run([TSHARK, "-n", "-r", str(path), "-Y", display_filter, "-T", "fields",
                          "-e", "frame.number"], capture_output=True, text=True, check=True, timeout=120).stdout
    return {int(x) for x in out.split()}


def tshark_sctp_numbers(path) -> set[int]:
    """Frames tshark decodes as an SCTP packet (not one quoted in an ICMP error)."""
    return tshark_numbers(path, "sctp && !icmp && !icmpv6")


def report_json(*args) -> dict:
    proc = subprocess.run(sctpscope_cmd("report", "--json", *args), capture_output=True, text=True, env=ENV,
                          cwd=REPO, timeout=300)
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout)


def no_traceback(text: str) -> None:
    assert "Traceback" not in text and "Error:" not in text.replace("live capture:", ""), text


# -- the tests -------------------------------------------------------------------------------------------------------
def test_live_capture_matches_dumpcap_and_its_own_report(net, tmp_path):
    """Three echo associations (IPv4, IPv6, UDP-encapsulated), VLAN-tagged SCTP and non-SCTP noise. Six
    `sctpscope live` runs at once - plain (stopped with SIGINT, as Ctrl-C), --count, --filter, a ring of
    files, --engine tshark and --user nobody - and dumpcap, all on the same veth end; and one more pair,
    sctpscope and dumpcap on `any` (Linux cooked headers)."""
    d_path = tmp_path / "dumpcap.pcapng"
    dump = start_dumpcap(net, "dumpcap", d_path)
    dump_any = start_dumpcap(net, "dumpcap-any", tmp_path / "dumpcap-any.pcapng", iface="any")
    any_ = start_live(net, "any", "-i", "any", "--json", "-w", tmp_path / "any.pcapng")
    main = start_live(net, "live", "-i", net.if_a, "--json", "-w", tmp_path / "live.pcapng")
    count = start_live(net, "count", "-i", net.if_a, "--json", "-c", "7", "-w", tmp_path / "count.pcapng")
    flt_expr = f"chunk == DATA && addr == {V6[1]}"
    flt = start_live(net, "filter", "-i", net.if_a, "--json", "--filter", flt_expr, "-w", tmp_path / "filter.pcapng")
    ring = start_live(net, "ring", "-i", net.if_a, "--json", "--ring-size", "0.002", "--ring-files", "3",
                      "-w", tmp_path / "ring.pcapng")
    shark = start_live(net, "shark", "-i", net.if_a, "--json", "--engine", "tshark", "-w", tmp_path / "shark.pcapng")
    user = start_live(net, "user", "-i", net.if_a, "--json", "--user", "nobody", "-w", tmp_path / "user.pcapng")
    uid = int(re.search(r"^Uid:\s+(\d+)", Path(f"/proc/{user.pid}/status").read_text(), re.M)[1])
    assert uid == 65534 and (tmp_path / "user.pcapng").stat().st_uid == 65534

    noise(net)
    inject_tagged(net)
    sent = {
        "v4": echo(net, "echo-v4", V4[1], ["hello, sctpscope", "a second message", "third"]),
        "v6": echo(net, "echo-v6", V6[1], ["over IPv6", "2"]),
        "udp": echo(net, "echo-udp", V4[1], ["encapsulated in UDP", "twice"], encaps=True),
    }
    noise(net)

    assert count.wait(WAIT) == 0, net.text("count")      # --count stops by itself
    for p in (main, flt, ring, shark, user, any_):
        assert net.stop(p, signal.SIGINT) == 0, net.text(p.name)
    net.stop(dump, signal.SIGINT)
    net.stop(dump_any, signal.SIGINT)
    for name in ("live", "count", "filter", "ring", "shark", "user", "any"):
        no_traceback(net.text(name))

    # 1. sctpscope's file holds exactly the SCTP frames dumpcap saw: same bytes, same kernel timestamps
    theirs = frames(d_path)
    sctp_numbers = tshark_sctp_numbers(d_path)
    want = [f for i, f in enumerate(theirs, 1) if i in sctp_numbers]
    ours = frames(tmp_path / "live.pcapng")
    assert same_frames(ours, want), (ours, want)
    assert len(theirs) > len(want)                  # the noise (and ARP/ND) was there, and was kept out
    assert tshark_sctp_numbers(tmp_path / "live.pcapng") == set(range(1, len(ours) + 1))
    assert len(tshark_numbers(tmp_path / "live.pcapng", f"vlan.id == {VLAN_ID} && sctp")) == TAGGED_SCTP, \
        "the VLAN tags the kernel kept aside are back in the frames"
    qinq = tshark_numbers(tmp_path / "live.pcapng", "ieee8021ad.id == 7 && vlan.id == 5 && sctp")
    assert len(qinq) == TAGGED_SCTP // 2

    # 2. the live report is `sctpscope report` of its own file
    live = json.loads(net.text("live", "out"))
    section = live.pop("live")
    assert live == report_json(tmp_path / "live.pcapng")
    assert section["captured_packets"] == len(ours) and section["kernel"]["dropped"] == 0
    assert section["kernel"]["received"] == len(ours) and section["stopped_by"] == "signal"

    # 3. ... and it tells what the peers did: the handshake, each message, the graceful ending
    assocs = live["associations"]
    assert len(assocs) == 3 and live["totals"]["associations"] == 3
    assert live["unassociated"] == {"packets": TAGGED_SCTP, "chunks": {"HEARTBEAT": TAGGED_SCTP}}
    assert live["totals"]["udp_encapsulated"] == len(tshark_numbers(tmp_path / "live.pcapng", "udp && sctp")) > 0
    for a, (kind, got) in zip(assocs, sent.items()):
        assert a["handshake_seen"] and a["state"] == "closed", kind
        assert a["ending"]["kind"] == "graceful" and a["ending"]["by"] == "initiator", kind
        assert (a["initiator"]["port"], a["responder"]["port"]) == (5007, 7)
        up = {s["sid"]: s for s in a["streams"] if s["direction"] == "initiator_to_responder"}
        down = {s["sid"]: s for s in a["streams"] if s["direction"] == "responder_to_initiator"}
        for sid in {m["sid"] for m in got}:
            mine = [m for m in got if m["sid"] == sid]
            assert up[sid]["messages"] == len(mine), kind
            assert up[sid]["bytes"] == sum(m["len"] for m in mine), kind
            assert (up[sid]["first_ssn"], up[sid]["last_ssn"]) == (min(m["ssn"] for m in mine),
                                                                   max(m["ssn"] for m in mine))
            assert down[sid]["messages"] == len(mine) and down[sid]["bytes"] == up[sid]["bytes"]   # echoed
    for a, target in zip(assocs, (V4[1], V6[1], V4[1])):
        assert any(p["dst"] == target for p in a["paths"])

    # 4. --count 7: the file ends on the 7th SCTP packet, which are dumpcap's first seven
    count_doc = json.loads(net.text("count", "out"))
    assert count_doc.pop("live")["stopped_by"] == "count"
    assert same_frames(frames(tmp_path / "count.pcapng"), want[:7])
    assert count_doc == report_json(tmp_path / "count.pcapng") and count_doc["totals"]["sctp_packets"] == 7

    # 5. --filter: the file keeps everything; the report is `report --filter` of it
    flt_doc = json.loads(net.text("filter", "out"))
    assert flt_doc.pop("live")["filter"] == flt_expr
    assert same_frames(frames(tmp_path / "filter.pcapng"), want)
    assert flt_doc == report_json("--filter", flt_expr, tmp_path / "filter.pcapng")
    tags = {int(t, 0) for t in subprocess.run(
        [TSHARK, "-n", "-r", str(tmp_path / "filter.pcapng"), "-Y", f"sctp.chunk_type == 0 && ipv6.addr == {V6[1]}",
         "-T", "fields", "-e", "sctp.verification_tag"], capture_output=True, text=True, check=True).stdout.split()}
    expected = [a["id"] for a in assocs if {a["initiator"]["vtag"], a["responder"]["vtag"]} & tags]
    assert [a["id"] for a in flt_doc["associations"]] == expected and 0 < len(expected) < len(assocs)

    # 6. the ring: several files, only the last three kept; together they were everything, in order
    ring_doc = json.loads(net.text("ring", "out"))
    files = ring_doc["live"]["files"]
    assert len(files) > 3 and sum(not f["deleted"] for f in files) == 3
    assert all(not Path(f["path"]).exists() for f in files if f["deleted"])
    kept = [fr for f in files if not f["deleted"] for fr in frames(f["path"])]
    assert same_frames(kept, want[len(want) - len(kept):])
    assert sum(f["packets"] for f in files) == len(want) == ring_doc["totals"]["packets"]
    assert [c["packets"] for c in ring_doc["captures"]] == [f["packets"] for f in files]
    assert ring_doc["associations"] == live["associations"]

    # 7. on `any`: the frames dumpcap stores for the SCTP packets above (the same packets: the same kernel
    # timestamps), cooked headers and the VLAN tags put back in them included; libpcap leaves stale ring bytes
    # after the link-layer address where sctpscope writes zeros
    stamps = {ts for ts, _, _ in want}
    theirs_any = [(ts, d[:6 + d[5]] + bytes(8 - d[5]) + d[14:], n)
                  for ts, d, n in frames(tmp_path / "dumpcap-any.pcapng") if ts in stamps]
    assert same_frames(frames(tmp_path / "any.pcapng"), theirs_any) and len(theirs_any) == len(want)
    any_doc = json.loads(net.text("any", "out"))
    assert any_doc.pop("live")["link_type"] == "linux-sll" and any_doc == report_json(tmp_path / "any.pcapng")

    # 8. the dumpcap engine and the dropped privileges see the same
    for name in ("shark", "user"):
        doc = json.loads(net.text(name, "out"))
        path = tmp_path / f"{name}.pcapng"
        assert same_frames(frames(path), want, key=lambda f: f[1:]), name
        doc.pop("live")
        assert doc == report_json(path), name


def test_live_tui_shows_the_association_appear_and_end(net, tmp_path):
    """The terminal UI (Textual's Pilot) over a live capture: the association appears while the client is
    connected, established; when the client closes it turns closed, ended gracefully by the initiator; the
    Ending tab shows the SHUTDOWN flow read back from the file being written; the status bar counts the
    packets the file holds."""
    pytest.importorskip("textual")
    import asyncio

    from sctpscope.live.output import OutputFiles
    from sctpscope.live.session import LiveSession
    from sctpscope.tui.live import LiveApp

    source = source_in_a(net)
    path = tmp_path / "tui.pcapng"
    session = LiveSession(source, OutputFiles(str(path), source.linktype, net.if_a, 262144), snapshots=True)

    async def run() -> dict:
        app = LiveApp(session)
        seen = {}
        async with app.run_test(size=(160, 40)) as pilot:
            async def wait_rows(cond, what):
                end = time.monotonic() + WAIT
                while True:
                    await pilot.pause(0.1)
                    table = app.home.query_one("#associations")
                    rows = [table.row_cells(i) for i in range(table.row_count())]
                    if cond(rows):
                        return rows
                    if time.monotonic() > end:
                        pytest.fail(f"the live list never showed {what}: {rows}")

            srv = net.start(net.b, [str(USRSCTP / "echo_server")], "tui-server")
            time.sleep(0.3)
            cli = net.start(net.a, ["stdbuf", "-oL", str(USRSCTP / "client"), V4[1], "7", "5007"], "tui-client",
                            stdin=subprocess.PIPE)
            cli.stdin.write(b"live and well\n")
            cli.stdin.flush()
            rows = await wait_rows(lambda r: r and r[0][2] == "established" and r[0][6] == "1/1",
                                   "the association established, one message each way")
            seen["up"] = rows[0]
            cli.stdin.close()
            rows = await wait_rows(lambda r: r and r[0][2] == "closed", "the association closed")
            seen["down"] = rows[0]
            net.stop(srv)
            cli.wait(WAIT)
            await pilot.press("enter")
            await pilot.pause(0.2)
            await pilot.press("4")                              # the Ending tab
            end = time.monotonic() + WAIT
            while "graceful" not in str(app.screen.query_one("#ending-text").render()):
                await pilot.pause(0.1)
                assert time.monotonic() < end, "the ending flow never filled in"
            seen["ending"] = str(app.screen.query_one("#ending-text").render())
            await pilot.press("escape")
            await pilot.pause(0.6)
            seen["status"] = str(app.home.query_one("#live-status").render())
            await pilot.press("q")
        return seen

    seen = asyncio.run(run())
    assert session.wait(WAIT)
    got = frames(path)
    assert seen["up"][1].startswith(f"{V4[0]}:5007") and f"{V4[1]}:7" in seen["up"][1]
    assert seen["down"][10] == "graceful by initiator"
    assert "kind: graceful" in seen["ending"] and "begun by: initiator" in seen["ending"]
    assert f"{len(got)} packets" in seen["status"] and f"{len(got)} SCTP" in seen["status"]
    assert "kernel drops 0" in seen["status"] and str(path) in seen["status"]
    assert session.stopped_by == "quit" and len(got) == session.status().packets
    assert tshark_sctp_numbers(path) == set(range(1, len(got) + 1))


def tsctp_run(net: Net, name: str, live_args: list, messages: int, *, pause: float = 0.0) -> tuple[dict, dict, str]:
    """tsctp sends `messages` of 1400 bytes at full speed from A to B while `sctpscope live` captures on A
    (paused with SIGSTOP for `pause` seconds when given); returns the live report, the receiver's own count
    and the live process's standard error."""
    live = start_live(net, name, "-i", net.if_a, "--json", *live_args)
    sink = net.start(net.b, ["stdbuf", "-oL", str(USRSCTP / "tsctp")], f"{name}-sink")
    time.sleep(0.3)
    sender = net.start(net.a, [str(USRSCTP / "tsctp"), "-n", str(messages), "-l", "1400", V4[1]], f"{name}-send")
    if pause:
        os.kill(live.pid, signal.SIGSTOP)
        time.sleep(pause)
        os.kill(live.pid, signal.SIGCONT)
    until(lambda: sender.poll() is not None, f"{name}: tsctp to send everything", 120)
    line = until(lambda: re.search(r"^(\d+), (\d+), (\d+), (\d+), ([\d.]+)", net.text(f"{name}-sink", "out"), re.M),
                 f"{name}: the tsctp receiver's summary")
    net.stop(sink)
    assert net.stop(live, signal.SIGINT) == 0, net.text(name)
    doc = json.loads(net.text(name, "out"))
    return doc, {"length": int(line[1]), "messages": int(line[2]), "bytes": int(line[4]),
                 "seconds": float(line[5])}, net.text(name)


def test_full_speed_tsctp_loses_nothing_with_the_default_buffer(net, tmp_path):
    """A full-speed tsctp transfer: the kernel reports no drop, the file has every packet the kernel took,
    and the report counts exactly the messages and bytes tsctp's receiver says it received."""
    doc, sink, err = tsctp_run(net, "speed", ["-w", tmp_path / "speed.pcapng"], 20000)
    no_traceback(err)
    k = doc["live"]["kernel"]
    assert k["dropped"] == 0 and k["ring_full"] == 0
    assert doc["live"]["captured_packets"] == k["received"] == doc["totals"]["packets"]
    (a,) = doc["associations"]
    up = [s for s in a["streams"] if s["direction"] == "initiator_to_responder"]
    assert sum(s["messages"] for s in up) == sink["messages"] == 20000
    assert sum(s["bytes"] for s in up) == sink["bytes"]
    assert "0 dropped" in err


def test_drops_are_counted_and_shown(net, tmp_path):
    """A 256 KiB ring and the capture process stopped for a second in the middle of a transfer: the kernel
    must drop, and sctpscope reports those drops (JSON, the last line on standard error, the file's interface
    statistics block), with received = captured + dropped."""
    doc, sink, err = tsctp_run(net, "drops", ["--buffer-size", "0.25", "-w", tmp_path / "drops.pcapng"], 20000,
                               pause=1.0)
    k = doc["live"]["kernel"]
    assert k["dropped"] > 0
    assert k["received"] == doc["live"]["captured_packets"] + k["dropped"]
    assert f"{k['dropped']} dropped" in err
    from test_writer import options, pcapng_blocks

    isb = [body for btype, body in pcapng_blocks((tmp_path / "drops.pcapng").read_bytes()) if btype == 5]
    assert len(isb) == 1
    opts = options(isb[0][12:])
    assert struct.unpack("<Q", opts[5])[0] == k["dropped"] and struct.unpack("<Q", opts[4])[0] == k["received"]
    # what was captured is still analysed: fewer messages seen than the receiver got, none invented
    up = sum(s["messages"] for s in doc["associations"][0]["streams"] if s["direction"] == "initiator_to_responder")
    assert up <= sink["messages"]


def _inject(net: Net, count: int) -> None:
    """`count` SCTP packets (HEARTBEAT, correct CRC32c) from B to A, through a raw IP socket."""
    code = f"""
import socket, struct, crc32c
s = socket.socket(socket.AF_INET, socket.SOCK_RAW, 132)
for i in range({count}):
    chunk = struct.pack('!BBHHH', 4, 0, 8, 1, 4) + b'\\0' * 0   # HEARTBEAT with an empty info parameter
    pkt = bytearray(struct.pack('!HHII', 4000, 5000, 0x1234 + i, 0) + chunk)
    struct.pack_into('<I', pkt, 8, crc32c.crc32c(bytes(pkt)))
    s.sendto(bytes(pkt), ('{V4[0]}', 0))
"""
    subprocess.run(["ip", "netns", "exec", net.b, sys.executable, "-c", code], check=True, timeout=30, env=ENV)


def test_interface_going_down_keeps_what_was_captured(net, tmp_path):
    """The interface is set down mid-capture: one clear line, exit status 2, the report of what was
    captured, and the file holds every packet sent before."""
    path = tmp_path / "down.pcapng"
    live = start_live(net, "down", "-i", net.if_a, "--json", "-w", path)
    _inject(net, 5)
    until(lambda: path.exists() and len(frames(path)) == 5, "the five packets in the file")
    net.ip("link", "set", net.if_a, "down", ns=net.a)
    try:
        assert live.wait(WAIT) == 2
    finally:
        net.ip("link", "set", net.if_a, "up", ns=net.a)
    err = net.text("down").strip().splitlines()
    no_traceback("\n".join(err))
    assert err[-1] == f"sctpscope: live capture: interface {net.if_a} went down"
    doc = json.loads(net.text("down", "out"))
    assert doc["live"]["stopped_by"] == "error" and doc["totals"]["sctp_packets"] == 5
    got = frames(path)
    assert len(got) == 5 and tshark_sctp_numbers(path) == {1, 2, 3, 4, 5}
    doc.pop("live")
    assert doc == report_json(path)


def test_missing_privilege_is_one_line_and_creates_nothing(tmp_path):
    """Without CAP_NET_RAW (root with the capability taken out of its bounding set): one line, status 2,
    no file written."""
    if shutil.which("setpriv") is None:
        pytest.skip("setpriv (util-linux) not on PATH")
    path = tmp_path / "never.pcapng"
    proc = subprocess.run(["setpriv", "--bounding-set", "-net_raw", "--inh-caps", "-net_raw",
                           *sctpscope_cmd("live", "-i", "lo", "--duration", "1", "--json", "-w", path)],
                          capture_output=True, text=True, env=ENV, timeout=60)
    assert proc.returncode == 2
    assert proc.stderr.strip().splitlines() == [
        "sctpscope: live capture: capturing on lo needs the CAP_NET_RAW capability: run as root (or give the "
        "Python interpreter cap_net_raw)"]
    assert proc.stdout == "" and not path.exists()


def test_interfaces_lists_the_namespace_interfaces(net):
    """`sctpscope interfaces` inside namespace A: what the kernel says of its interfaces (iproute2's JSON)."""
    proc = subprocess.run(["ip", "netns", "exec", net.a, *sctpscope_cmd("interfaces", "--json")],
                          capture_output=True, text=True, env=ENV, timeout=60, check=True)
    ours = {i["name"]: i for i in json.loads(proc.stdout)}
    theirs = json.loads(subprocess.run(["ip", "-n", net.a, "-j", "addr"], capture_output=True, text=True,
                                       check=True).stdout)
    assert set(ours) == {i["ifname"] for i in theirs} | {"any"}
    for i in theirs:
        mine = ours[i["ifname"]]
        assert mine["index"] == i["ifindex"] and mine["mtu"] == i["mtu"]
        assert mine["up"] == ("UP" in i["flags"])
        assert sorted(mine["addresses"]) == sorted(f"{a['local']}/{a['prefixlen']}" for a in i["addr_info"])
    assert ours[net.if_a]["link"] == "ether" and ours["any"]["link"] == "cooked"
