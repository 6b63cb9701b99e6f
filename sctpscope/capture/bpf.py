"""The kernel filter of live capture: a classic BPF program, hand-assembled, that lets only SCTP through.

Attached to the AF_PACKET socket with SO_ATTACH_FILTER, it runs in the kernel on every frame of the
interface and returns the number of bytes to keep (the snap length) or 0 (drop the frame, which never
reaches user space and costs nothing there). It keeps:

- native SCTP: IPv4 protocol 132, or IPv6 next header 132 directly, after one fragment header (44), or after
  one hop-by-hop (0), routing (43) or destination-options (60) header;
- SCTP over UDP (RFC 6951): a UDP datagram whose source or destination port is one of ``udp_ports``
  (9899 by default), over IPv4 or IPv6 (directly, or after one fragment or extension header);
- the non-first fragments of UDP datagrams: their ports are in the first fragment, which BPF cannot
  remember, so they are kept (the decoder reassembles those of SCTP/UDP; other ones are shown as non-SCTP
  frames); IPv4 fragments of native SCTP carry protocol 132 in every fragment and are matched exactly;
- all of this behind up to two VLAN tags in the frame (802.1Q 0x8100, 802.1ad 0x88a8, old QinQ 0x9100).
  A tag the network card (or veth) took out of the frame into the packet's metadata is invisible to the
  filter, which then sees the untagged frame: both cases are matched. live.py puts such tags back into the
  frame it stores, as libpcap does.

Not kept (the program has no loops): SCTP behind two or more IPv6 extension headers, SCTP inside tunnels
(VXLAN, GTP-U, Geneve), SCTP quoted in ICMP errors.

Two link layers, each with its own program (``program(link)``):

- ``"ether"`` (SOCK_RAW on an Ethernet or loopback device): the frame starts with the Ethernet header; the
  network header is at 14, 18 or 22 bytes behind zero, one or two VLAN tags.
- ``"cooked"`` (SOCK_DGRAM: the ``any`` device and devices without an Ethernet header): the frame starts at
  the network header; its EtherType is the packet's protocol, read with the ancillary load
  ``ld #proto`` (``SKF_AD_OFF + SKF_AD_PROTOCOL``). A frame whose protocol is a VLAN EtherType starts with
  the rest of the tag (TCI, inner EtherType): the network header is then at 4.

``Program`` is a tiny assembler: every instruction is emitted with the comment that documents it, jumps go
to named labels and are resolved (and checked to fit in the 8-bit conditional offsets) by ``assemble()``;
``listing()`` prints the program like ``tcpdump -d`` with the comments, and ``pack()`` gives the bytes of the
``struct sock_filter`` array the kernel takes. ``python -m sctpscope.capture.bpf [ether|cooked] [PORT...]``
prints the listing.
"""

from __future__ import annotations

import struct
import sys
from dataclasses import dataclass

__all__ = ["Insn", "Program", "program", "SNAPLEN", "SKF_AD_PROTOCOL"]

# -- classic BPF encoding (linux/filter.h, linux/bpf_common.h) ------------------------------------------
BPF_LD, BPF_LDX, BPF_ALU, BPF_JMP, BPF_RET, BPF_MISC = 0x00, 0x01, 0x04, 0x05, 0x06, 0x07
BPF_W, BPF_H, BPF_B = 0x00, 0x08, 0x10
BPF_IMM, BPF_ABS, BPF_IND, BPF_MSH = 0x00, 0x20, 0x40, 0xA0
BPF_ADD, BPF_LSH, BPF_RSH, BPF_AND = 0x00, 0x60, 0x70, 0x50
BPF_JA, BPF_JEQ, BPF_JSET = 0x00, 0x10, 0x40
BPF_K = 0x00
BPF_TAX = 0x00

SKF_AD_OFF = -0x1000
SKF_AD_PROTOCOL = 0          # ancillary load: skb->protocol (the EtherType), host order

#: bytes kept of an accepted frame (the largest a pcapng reader is expected to take; dumpcap's default)
SNAPLEN = 262144

ETH_P_IP, ETH_P_IPV6 = 0x0800, 0x86DD
VLAN_TPIDS = (0x8100, 0x88A8, 0x9100)
IPPROTO_HOPOPTS, IPPROTO_UDP, IPPROTO_ROUTING, IPPROTO_FRAGMENT = 0, 17, 43, 44
IPPROTO_SCTP, IPPROTO_DSTOPTS = 132, 60

_INSN = struct.Struct("=HBBI")      # struct sock_filter { __u16 code; __u8 jt; __u8 jf; __u32 k; }


@dataclass
class Insn:
    """One instruction: opcode, the labels of its jump targets (None: the next instruction), k, comment."""

    code: int
    k: int = 0
    jt: str | None = None
    jf: str | None = None
    comment: str = ""
    text: str = ""              # assembler mnemonic, tcpdump -d style


class Program:
    """Emit instructions with labels and comments; ``assemble()`` resolves the labels."""

    def __init__(self) -> None:
        self.insns: list[Insn] = []
        self.labels: dict[str, int] = {}

    # -- emitting ----------------------------------------------------------------------------------------
    def label(self, name: str) -> None:
        if name in self.labels:
            raise ValueError(f"label {name} defined twice")
        self.labels[name] = len(self.insns)

    def _emit(self, code: int, k: int, text: str, comment: str, jt: str | None = None, jf: str | None = None) -> None:
        self.insns.append(Insn(code, k & 0xFFFFFFFF, jt, jf, comment, text))

    def ldh(self, off: int, comment: str) -> None:
        self._emit(BPF_LD | BPF_H | BPF_ABS, off, f"ldh [{off}]", comment)

    def ldb(self, off: int, comment: str) -> None:
        self._emit(BPF_LD | BPF_B | BPF_ABS, off, f"ldb [{off}]", comment)

    def ldh_x(self, off: int, comment: str) -> None:
        self._emit(BPF_LD | BPF_H | BPF_IND, off, f"ldh [x + {off}]", comment)

    def ldb_x(self, off: int, comment: str) -> None:
        self._emit(BPF_LD | BPF_B | BPF_IND, off, f"ldb [x + {off}]", comment)

    def ld_proto(self, comment: str) -> None:
        self._emit(BPF_LD | BPF_H | BPF_ABS, SKF_AD_OFF + SKF_AD_PROTOCOL, "ldh #proto", comment)

    def ldx_iphl(self, off: int, comment: str) -> None:
        self._emit(BPF_LDX | BPF_B | BPF_MSH, off, f"ldxb 4*([{off}]&0xf)", comment)

    def add(self, k: int, comment: str) -> None:
        self._emit(BPF_ALU | BPF_ADD | BPF_K, k, f"add #{k}", comment)

    def lsh(self, k: int, comment: str) -> None:
        self._emit(BPF_ALU | BPF_LSH | BPF_K, k, f"lsh #{k}", comment)

    def rsh(self, k: int, comment: str) -> None:
        self._emit(BPF_ALU | BPF_RSH | BPF_K, k, f"rsh #{k}", comment)

    def tax(self, comment: str) -> None:
        self._emit(BPF_MISC | BPF_TAX, 0, "tax", comment)

    def jeq(self, k: int, jt: str | None, jf: str | None, comment: str) -> None:
        self._emit(BPF_JMP | BPF_JEQ | BPF_K, k, f"jeq #{k:#x}", comment, jt, jf)

    def jset(self, k: int, jt: str | None, jf: str | None, comment: str) -> None:
        self._emit(BPF_JMP | BPF_JSET | BPF_K, k, f"jset #{k:#x}", comment, jt, jf)

    def ja(self, target: str, comment: str) -> None:
        self._emit(BPF_JMP | BPF_JA, 0, "ja", comment, target)

    def ret(self, k: int, comment: str) -> None:
        self._emit(BPF_RET | BPF_K, k, f"ret #{k}", comment)

    # -- output ------------------------------------------------------------------------------------------
    def assemble(self) -> list[tuple[int, int, int, int]]:
        """(code, jt, jf, k) per instruction, jump offsets resolved (relative to the next instruction)."""
        out = []
        for pc, ins in enumerate(self.insns):
            def rel(label: str | None) -> int:
                if label is None:
                    return 0
                target = self.labels[label]
                off = target - pc - 1
                if off < 0:
                    raise ValueError(f"instruction {pc}: jump backwards to {label}")
                return off
            if ins.code == BPF_JMP | BPF_JA:
                out.append((ins.code, 0, 0, rel(ins.jt)))
                continue
            jt, jf = rel(ins.jt), rel(ins.jf)
            if jt > 255 or jf > 255:
                raise ValueError(f"instruction {pc}: conditional jump too far ({jt}, {jf})")
            out.append((ins.code, jt, jf, ins.k))
        if len(out) > 4096:                   # BPF_MAXINSNS
            raise ValueError("program too long")
        return out

    def pack(self) -> bytes:
        """The ``struct sock_filter`` array for SO_ATTACH_FILTER (native byte order)."""
        return b"".join(_INSN.pack(*ins) for ins in self.assemble())

    def listing(self) -> str:
        """The program, one instruction a line: ``(pc) mnemonic  jt jf  ; comment``."""
        code = self.assemble()
        names = {pc: name for name, pc in self.labels.items()}
        lines = []
        for pc, (ins, (op, jt, jf, k)) in enumerate(zip(self.insns, code)):
            if pc in names:
                lines.append(f"{names[pc]}:")
            text = ins.text
            if op == BPF_JMP | BPF_JA:
                text += f" {pc + 1 + k}"
            elif op & 0x07 == BPF_JMP:
                text += f"  jt {pc + 1 + jt}  jf {pc + 1 + jf}"
            lines.append(f"({pc:03d}) {text:<30} ; {ins.comment}")
        return "\n".join(lines)

    def __len__(self) -> int:
        return len(self.insns)


def _ports_test(p: Program, load_src, load_dst, ports: tuple[int, ...], accept: str, reject: str) -> None:
    """A = source port, accept if it is one of `ports`; then the same for the destination port."""
    load_src("UDP source port")
    for port in ports:
        p.jeq(port, accept, None, f"source port {port}: SCTP over UDP")
    load_dst("UDP destination port")
    for i, port in enumerate(ports):
        last = i == len(ports) - 1
        p.jeq(port, accept, reject if last else None, f"destination port {port}: SCTP over UDP")


def _ipv4(p: Program, n: int, ports: tuple[int, ...], tag: str) -> None:
    """IPv4 header at offset n."""
    acc, rej = f"accept{tag}", f"reject{tag}"
    p.label(f"ip4{tag}")
    p.ldb(n + 9, "IPv4 protocol")
    p.jeq(IPPROTO_SCTP, acc, None, "132: SCTP (every fragment carries it)")
    p.jeq(IPPROTO_UDP, None, rej, "17: UDP, else not SCTP")
    p.ldh(n + 6, "IPv4 flags and fragment offset")
    p.jset(0x1FFF, acc, None, "fragment offset != 0: a later fragment, its ports are in the first: keep")
    p.ldx_iphl(n, "X = IPv4 header length (IHL * 4)")
    _ports_test(p, lambda c: p.ldh_x(n, c), lambda c: p.ldh_x(n + 2, c), ports, acc, rej)


def _ipv6(p: Program, n: int, ports: tuple[int, ...], tag: str) -> None:
    """IPv6 header at offset n (40 bytes, then extension headers)."""
    acc, rej = f"accept{tag}", f"reject{tag}"
    p.label(f"ip6{tag}")
    p.ldb(n + 6, "IPv6 next header")
    p.jeq(IPPROTO_SCTP, acc, None, "132: SCTP")
    p.jeq(IPPROTO_UDP, f"udp6{tag}", None, "17: UDP")
    p.jeq(IPPROTO_FRAGMENT, f"frag6{tag}", None, "44: fragment header")
    p.jeq(IPPROTO_HOPOPTS, f"ext6{tag}", None, "0: hop-by-hop options")
    p.jeq(IPPROTO_ROUTING, f"ext6{tag}", None, "43: routing header")
    p.jeq(IPPROTO_DSTOPTS, f"ext6{tag}", rej, "60: destination options, else not SCTP")

    p.label(f"udp6{tag}")
    _ports_test(p, lambda c: p.ldh(n + 40, c), lambda c: p.ldh(n + 42, c), ports, acc, rej)

    p.label(f"frag6{tag}")
    p.ldb(n + 40, "next header inside the fragment header")
    p.jeq(IPPROTO_SCTP, acc, None, "132: a fragment of SCTP")
    p.jeq(IPPROTO_UDP, None, rej, "17: a fragment of UDP, else not SCTP")
    p.ldh(n + 42, "fragment offset (13 bits) and flags")
    p.jset(0xFFF8, acc, None, "fragment offset != 0: a later fragment: keep")
    _ports_test(p, lambda c: p.ldh(n + 48, c), lambda c: p.ldh(n + 50, c), ports, acc, rej)

    p.label(f"ext6{tag}")
    p.ldb(n + 41, "extension header length, in 8-byte units beyond the first 8")
    p.add(1, "units including the first 8 bytes")
    p.lsh(3, "A = the extension header's length in bytes")
    p.tax("X = A")
    p.ldb(n + 40, "next header after the extension header")
    p.jeq(IPPROTO_SCTP, acc, None, "132: SCTP")
    p.jeq(IPPROTO_UDP, None, rej, "17: UDP, else not SCTP (nothing deeper is looked at)")
    _ports_test(p, lambda c: p.ldh_x(n + 40, c), lambda c: p.ldh_x(n + 42, c), ports, acc, rej)


def _network(p: Program, n: int, ports: tuple[int, ...], snaplen: int) -> None:
    """Dispatch on the EtherType in A to the IPv4/IPv6 tests of a network header at offset n, each block with
    its own accept/reject (conditional jumps reach at most 255 instructions ahead)."""
    tag = f"@{n}"
    p.label(f"l3{tag}")
    p.jeq(ETH_P_IP, f"ip4{tag}", None, "EtherType 0x0800: IPv4")
    p.jeq(ETH_P_IPV6, f"ip6{tag}", f"reject{tag}", "EtherType 0x86dd: IPv6, else not IP")
    _ipv4(p, n, ports, tag)
    _ipv6(p, n, ports, tag)
    p.label(f"accept{tag}")
    p.ret(snaplen, "keep the frame (up to the snap length)")
    p.label(f"reject{tag}")
    p.ret(0, "drop the frame")


def program(link: str = "ether", udp_ports: tuple[int, ...] = (9899,), snaplen: int = SNAPLEN) -> Program:
    """The SCTP filter for a link layer: ``"ether"`` or ``"cooked"`` (see the module docstring)."""
    ports = tuple(dict.fromkeys(int(x) for x in udp_ports))
    if not ports or any(not 0 < x < 65536 for x in ports):
        raise ValueError(f"bad UDP port list {udp_ports!r}")
    p = Program()
    if link == "ether":
        p.ldh(12, "EtherType (or TPID) after the two MAC addresses")
        for tpid in VLAN_TPIDS:
            p.jeq(tpid, "vlan1", None, f"{tpid:#06x}: a VLAN tag")
        p.ja("l3@14", "no tag: the network header is at 14")
        p.label("vlan1")
        p.ldh(16, "EtherType (or TPID) after the first tag")
        for tpid in VLAN_TPIDS:
            p.jeq(tpid, "vlan2", None, f"{tpid:#06x}: a second VLAN tag")
        p.ja("l3@18", "one tag: the network header is at 18")
        p.label("vlan2")
        p.ldh(20, "EtherType after the second tag")
        p.ja("l3@22", "two tags: the network header is at 22")
        for n in (14, 18, 22):
            _network(p, n, ports, snaplen)
    elif link == "cooked":
        p.ld_proto("A = the packet's protocol (EtherType), ancillary data")
        for tpid in VLAN_TPIDS:
            p.jeq(tpid, "vlan", None, f"{tpid:#06x}: the frame starts with the rest of a VLAN tag")
        p.ja("l3@0", "the network header is at 0")
        p.label("vlan")
        p.ldh(2, "EtherType after the tag's TCI")
        p.ja("l3@4", "the network header is at 4")
        for n in (0, 4):
            _network(p, n, ports, snaplen)
    else:
        raise ValueError(f"unknown link layer {link!r} (ether or cooked)")
    p.assemble()                            # fail here, not at attach time, if something does not fit
    return p


def main(argv: list[str]) -> int:
    link = argv[0] if argv else "ether"
    ports = tuple(int(a) for a in argv[1:]) or (9899,)
    prog = program(link, ports)
    print(f"; SCTP capture filter, {link} link, SCTP over UDP on port(s) {', '.join(map(str, ports))}: "
          f"{len(prog)} instructions")
    print(prog.listing())
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
