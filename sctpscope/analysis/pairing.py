"""Which two directions of a port pair are one association when no handshake links their verification tags.

A capture that starts mid-association shows flows: the packets sent one way between two ports with one
verification tag. Two flows the opposite way on the same ports are one association only where the wire shows
it. The evidence, strongest first (RFC 9260 section numbers where they define it):

1. ``sack``: a SACK / NR-SACK of one flow whose cumulative TSN ack lies within the TSNs the other flow sent
   (allowing the ack to trail the first TSN captured by up to ``TSN_SLACK``) (§3.3.4);
2. ``heartbeat``: a HEARTBEAT ACK of one flow echoing the Heartbeat Information of a HEARTBEAT of the other
   (§8.3: the receiver returns it unchanged);
3. ``asconf``: an ASCONF-ACK of one flow carrying the serial number of an ASCONF of the other (RFC 5061 §5.2);
4. ``addresses``: the addresses one flow sent from are addresses the other sent to, and the other way round
   (a single-homed pair of peers shows the same address pair reversed).

Sharing the ports is never evidence: every gNB talks to the AMF from 38412 to 38412. A flow is joined to the
candidate whose evidence is the strongest, compared level by level (`vector`); only when that candidate is
the only one that strong, and the flow is that candidate's only strongest match in return. Otherwise the flow
waits (bounded: see tracker.Analysis) and, still alone at the end of the capture, stays an association of its
own, with an ``ambiguous_pairing`` anomaly when other lone flows the other way could have been its partner.
"""

from __future__ import annotations

from typing import Any

from sctpscope.analysis.association import (ASCONF, ASCONF_ACK, DATA, HEARTBEAT, HEARTBEAT_ACK, I_DATA, NR_SACK,
                                            SACK, hb_info)

TSN_SLACK = 4096        # TSNs a cumulative ack may trail the first TSN captured from the other way
TSN_AHEAD = 64          # ...or lead the highest one (DATA the capture missed)
KEEP = 16               # heartbeat infos and ASCONF serials remembered per flow
JOURNAL_MAX = 1024      # packets a lone flow keeps to be replayed when its partner is found
JOURNAL_TOTAL = 65536   # packets all lone flows keep together

LEVELS = ("sack", "heartbeat", "asconf", "addresses")
MISSING = {"sack": "no SACK acknowledges TSNs the other sent",
           "heartbeat": "no HEARTBEAT ACK echoes a HEARTBEAT of the other",
           "asconf": "no ASCONF-ACK carries the serial of an ASCONF of the other",
           "addresses": "their address pairs are not each other's reverse"}


def _signed(d: int) -> int:
    d &= 0xFFFFFFFF
    return d - 0x100000000 if d >= 0x80000000 else d


class Evidence:
    """What one flow sent that can tie it to a flow the other way: TSNs, cumulative acks, heartbeat infos
    sent and echoed, ASCONF serials sent and acknowledged. Bounded: two ranges and a few small sets."""

    __slots__ = ("tsn_lo", "tsn_hi", "ack_hi", "hb_sent", "hb_acked", "asconf_sent", "asconf_acked")

    def __init__(self) -> None:
        self.tsn_lo: int | None = None
        self.tsn_hi: int | None = None
        self.ack_hi: int | None = None
        self.hb_sent: list[bytes] = []
        self.hb_acked: list[bytes] = []
        self.asconf_sent: list[int] = []
        self.asconf_acked: list[int] = []

    def add(self, packet) -> bool:
        """Take in one packet of the flow; True when it changed what the flow can be matched by."""
        changed = False
        for c in packet.chunks:
            t = c.type
            if t == DATA or t == I_DATA:
                tsn = getattr(c, "tsn", None)
                if tsn is None:
                    continue
                if self.tsn_lo is None or self.tsn_hi is None:
                    self.tsn_lo = self.tsn_hi = tsn
                    changed = True
                elif _signed(tsn - self.tsn_hi) > 0:
                    self.tsn_hi = tsn
                    changed = True
                elif _signed(tsn - self.tsn_lo) < 0:
                    self.tsn_lo = tsn
                    changed = True
            elif t == SACK or t == NR_SACK:
                ack = getattr(c, "cum_tsn_ack", None)
                if ack is not None and (self.ack_hi is None or _signed(ack - self.ack_hi) > 0):
                    self.ack_hi = ack
                    changed = True
            elif t == HEARTBEAT or t == HEARTBEAT_ACK:
                info = hb_info(c)
                if info:                # an empty info would match every other empty one
                    changed |= _remember(self.hb_sent if t == HEARTBEAT else self.hb_acked, info)
            elif t == ASCONF or t == ASCONF_ACK:
                serial = getattr(c, "serial", None)
                if serial is not None:
                    changed |= _remember(self.asconf_sent if t == ASCONF else self.asconf_acked, serial)
        return changed


def _remember(seen: list, value: Any) -> bool:
    if value in seen:
        return False
    seen.append(value)
    if len(seen) > KEEP:
        del seen[0]
    return True


def _acks_fit(acker: Evidence, sender: Evidence) -> bool:
    ack, lo, hi = acker.ack_hi, sender.tsn_lo, sender.tsn_hi
    if ack is None or lo is None or hi is None:
        return False
    return _signed(ack - (lo - 1)) >= -TSN_SLACK and _signed(hi - ack) >= -TSN_AHEAD


def vector(a: Evidence, a_from: set[str], a_to: set[str], b: Evidence, b_from: set[str], b_to: set[str],
           same_ports: bool = False) -> tuple[bool, bool, bool, bool] | None:
    """The evidence that flows a and b (opposite ways on the same ports) are one association, one flag per
    level of LEVELS. `x_from` / `x_to`: the addresses flow x sent from / to. None when they cannot be: on a
    port pair like 38412-38412 two flows sent from (or to) one address are two peers talking to one, since
    the two endpoints of an association never share a transport address."""
    if same_ports and (a_from & b_from or a_to & b_to):
        return None
    sack = _acks_fit(a, b) or _acks_fit(b, a)
    hb = any(i in b.hb_sent for i in a.hb_acked) or any(i in a.hb_sent for i in b.hb_acked)
    asconf = any(s in b.asconf_sent for s in a.asconf_acked) or any(s in a.asconf_sent for s in b.asconf_acked)
    addresses = bool(a_from & b_to) and bool(a_to & b_from)
    return sack, hb, asconf, addresses


def best(scored: list[tuple[tuple[bool, bool, bool, bool], Any]]) -> tuple[Any, list]:
    """The candidate with the strongest evidence (compared level by level) when it is the only one that
    strong and has any at all, else None; and the candidates tied at the top (for the ambiguity report)."""
    if not scored:
        return None, []
    top = max(v for v, _ in scored)
    if not any(top):
        return None, []
    tied = [c for v, c in scored if v == top]
    return (tied[0] if len(tied) == 1 else None), tied


def missing(v: tuple[bool, bool, bool, bool]) -> str:
    """The evidence a candidate lacks, in words."""
    return "; ".join(MISSING[name] for name, have in zip(LEVELS, v) if not have)


def found(v: tuple[bool, bool, bool, bool]) -> str:
    return ", ".join(name for name, have in zip(LEVELS, v) if have) or "none"
