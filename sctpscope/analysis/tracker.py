"""Which association each SCTP packet belongs to: one pair of verification tags between two ports.

Lookup key of a packet: (source port, destination port, verification tag). Once an association knows both
tags it is indexed under both directions. INIT (tag 0, RFC 9260 §8.5.1) opens an association keyed by its
Initiate Tag; INIT ACK completes it. A packet with the T bit (ABORT, SHUTDOWN COMPLETE; §8.5.1) carries its
sender's own tag and is looked up reflected.

Without a handshake (a capture that starts mid-association) a flow - the packets sent one way with one tag -
opens a *lone flow*: an association of its own whose other tag is unknown. A flow the other way on the same
ports joins it only on evidence from the wire (analysis.pairing: SACKs, HEARTBEAT ACKs, ASCONF serials,
addresses), never because it shares the ports: many peers use one port pair (S1AP, NGAP, M3UA). A lone flow
keeps a bounded journal of its packets; when two lone flows that both have packets are found to be one
association, the association is built again from both journals in capture order, so the result is the one
a reader that knew the pairing from the first packet would give. The associations replaced are recorded in
`folds` (the TUI's frame index and the filter's membership follow them).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any
from itertools import islice

from sctpscope.analysis.association import (ABORT, INIT, INIT_ACK, INITIATOR, RESPONDER, SHUTDOWN_COMPLETE,
                                            Association, Endpoint)
from sctpscope.analysis import pairing
from sctpscope.analysis.pairing import Evidence
from sctpscope.analysis.tally import Tally
from sctpscope.analysis.totals import Totals
from sctpscope.decode.frame import DecodedFrame, SctpRecord
from sctpscope.decode.sctp import chunk_name
from sctpscope.decode.sctp.chunks import Chunk

# Ports and tags of a decoded header (SctpPacket types them `int | None`: None only when header_ok is False,
# and such packets never reach the tracker).
Key = tuple[int | None, int | None, int | None]
Ports = tuple[int | None, int | None]
OPEN_MAX = 64           # associations remembered per port pair waiting to learn a tag
RECENT = 64             # lone flows the other way compared with a flow beyond those its addresses and
                        # heartbeats point to (for SACK and ASCONF evidence)
LONE_INFOS = 64         # heartbeat infos a lone flow is indexed under


class Lone:
    """A flow with no partner yet and no handshake: its association (the flow's sender is the initiator),
    what can pair it (`evidence`), and its packets (`journal`: (order, side, record); None once over the
    bound: the flow can then still take a partner, but that partner's earlier packets are replayed after its
    own)."""

    __slots__ = ("assoc", "key", "evidence", "journal", "notes", "paths", "infos")

    def __init__(self, assoc: Association, key: Key) -> None:
        self.assoc = assoc
        self.key = key
        self.evidence = Evidence()
        self.journal: list[tuple[int, int, SctpRecord]] | None = []
        self.notes: list[tuple[int | None, str, str]] = []     # anomalies the tracker raised: kept on a rebuild
        self.paths: set[tuple[str, str]] = set()                # (src, dst) it sent on (indexed under)
        self.infos: set[bytes] = set()                          # heartbeat infos it is indexed under

    def ports(self) -> Ports:
        return self.key[0], self.key[1]

    def name(self) -> str:
        a = self.assoc
        src = ",".join(sorted(a.eps[0].addresses)) or "?"
        dst = ",".join(sorted(a.eps[1].addresses)) or "?"
        return f"{src}:{self.key[0]} → {dst}:{self.key[1]} (tag 0x{self.key[2] or 0:08x}, from frame {a.first_frame})"


def _drop(table: dict[Any, dict[Lone, None]], key: Any, lone: Lone) -> None:
    on = table.get(key)
    if on is not None:
        on.pop(lone, None)
        if not on:
            del table[key]


class Analysis:
    """All analysis state of a capture: totals, associations, out-of-the-blue packets. Fed frame by frame."""

    def __init__(self, path_max_retrans: int = 5) -> None:
        self.path_max_retrans = path_max_retrans
        self.totals = Totals()
        self.associations: list[Association] = []
        self.index: dict[Key, tuple[Association, int]] = {}
        # (src port, dst port) -> associations (with a handshake) waiting to learn the tag of packets sent that
        # way by their endpoint `side`
        self.open: dict[Ports, list[tuple[Association, int]]] = {}
        #: lone flows (no partner, no handshake) by their key, and by (src port, dst port)
        self.lone: dict[Key, Lone] = {}
        #: ...by (src port, dst port) in order of creation (an ordered set), by (src port, dst port, src, dst)
        #: of every path they sent on, and by the heartbeat infos they sent or echoed
        self.lone_by_ports: dict[Ports, dict[Lone, None]] = {}
        self.lone_by_path: dict[tuple[int | None, int | None, str, str], dict[Lone, None]] = {}
        self.lone_by_info: dict[bytes, dict[Lone, None]] = {}
        self.journaled = 0              # packets held in all lone flows' journals
        self.order = 0                  # packets accounted in the slow path (orders journal entries)
        #: associations replaced by another: a lone flow joined to its partner, an INIT collision folded in;
        #: -> (the association now holding their packets, whether their sides are swapped there)
        self.folds: dict[Association, tuple[Association, bool]] = {}
        self.unassociated_packets = 0
        self.unassociated_chunks: Tally = Tally()
        #: when a list: every association a packet is accounted to is appended (None for out-of-the-blue
        #: packets), in packet order; the TUI's frame index reads and clears it after each `add`
        self.members: list[Association | None] | None = None

    def add_all(self, frames: Iterable[DecodedFrame]) -> None:
        """add() every frame: the loop of a whole capture, here so that it is compiled along with add()."""
        for frame in frames:
            self.add(frame)

    def add(self, frame: DecodedFrame) -> None:
        t = self.totals
        t.packets += 1
        if frame.problems:
            for p in frame.problems:
                t.problems[p.code] += 1
        if frame.quotes:
            t.quoted += len(frame.quotes)
        for rec in frame.sctp:
            pkt = rec.packet
            if not pkt.header_ok:
                continue
            t.sctp_packets += 1
            t.checksums[pkt.checksum_status] += 1
            if pkt.problems:
                t.malformed += 1
            if rec.udp_encapsulated:
                t.udp_encapsulated += 1
            # The common case first: a packet of a known association that does not start with INIT/INIT ACK.
            chunks: list[Chunk] = pkt.chunks
            if chunks:
                first = chunks[0].type
                if first != INIT and first != INIT_ACK:
                    hit = self.index.get((pkt.src_port, pkt.dst_port, pkt.vtag))
                    if hit is not None:
                        hit[0].packet(rec, hit[1], t.chunk_types)
                        if self.members is not None:
                            self.members.append(hit[0])
                        continue
            self.packet(rec)

    # -- association lookup --------------------------------------------------------------------------
    def packet(self, rec: SctpRecord) -> None:
        pkt = rec.packet
        chunks = pkt.chunks
        first = chunks[0].type if chunks else None
        sport, dport, vtag = pkt.src_port, pkt.dst_port, pkt.vtag
        self.order += 1
        hit = None
        lone = None
        if first == INIT and vtag == 0 and getattr(chunks[0], "initiate_tag", None) is not None:
            hit = self._init(rec, chunks[0])
        elif first == INIT_ACK and getattr(chunks[0], "initiate_tag", None) is not None:
            hit = self._init_ack(rec, chunks[0])
        else:
            hit = self.index.get((sport, dport, vtag))
            if hit is None:
                lone = self.lone.get((sport, dport, vtag))
                if lone is not None:
                    hit = (lone.assoc, INITIATOR)
        if hit is None and first in (ABORT, SHUTDOWN_COMPLETE) and chunks[0].flags & 1:
            rev = self.index.get((dport, sport, vtag))      # T bit: the sender's own tag, reflected
            if rev is not None:
                hit = (rev[0], 1 - rev[1])
            else:
                lone = self.lone.get((dport, sport, vtag))
                if lone is not None:
                    hit = (lone.assoc, RESPONDER)
        if hit is None:
            hit, lone = self._learn(rec)
        if hit is None:
            if self.members is not None:
                self.members.append(None)
            self.unassociated_packets += 1
            types = self.totals.chunk_types
            for c in chunks:
                self.unassociated_chunks[c.type] += 1
                types[c.type] += 1
            return
        assoc, side = hit
        assoc.packet(rec, side, self.totals.chunk_types)
        if self.members is not None:
            self.members.append(assoc)
        if lone is not None:
            self._lone_packet(lone, side, rec)

    def _new(self, rec: SctpRecord, initiator: Endpoint, responder: Endpoint) -> Association:
        a = Association(len(self.associations) + 1, rec.frame, rec.ts, initiator, responder, self.path_max_retrans)
        self.associations.append(a)
        return a

    def _bind(self, a: Association, side: int) -> None:
        """Index the association for packets sent by `side` (they carry the other endpoint's tag)."""
        me, peer = a.eps[side], a.eps[1 - side]
        ports = (me.port, peer.port)
        waiting = self.open.get(ports)
        if peer.tag is not None:
            self.index[(me.port, peer.port, peer.tag)] = (a, side)
            if waiting:
                waiting[:] = [w for w in waiting if w[0] is not a]
        elif waiting is None:
            self.open[ports] = [(a, side)]
        elif not any(w[0] is a for w in waiting):
            waiting.append((a, side))
            if len(waiting) > OPEN_MAX:
                del waiting[0]

    def _init(self, rec: SctpRecord, init) -> tuple[Association, int]:
        sport, dport = rec.packet.src_port, rec.packet.dst_port
        # The same INIT again (retransmitted): replies to it carry its Initiate Tag.
        known = self.index.get((dport, sport, init.initiate_tag))
        if known is not None and known[1] == RESPONDER and known[0].eps[INITIATOR].port == sport:
            return known[0], INITIATOR
        previous = self._open_between(sport, dport, rec.src, rec.dst)
        a = self._new(rec, Endpoint(sport, init.initiate_tag), Endpoint(dport, None))
        if previous is not None and previous.cookie_ack_seen:
            a.restart_of = previous
            previous.event(rec.ts, rec.frame, "RESTART", None, new_association=a)
        self._bind(a, RESPONDER)
        self._bind(a, INITIATOR)
        return a, INITIATOR

    def _init_ack(self, rec: SctpRecord, ack) -> tuple[Association, int] | None:
        pkt = rec.packet
        hit = self.index.get((pkt.src_port, pkt.dst_port, pkt.vtag))
        if hit is not None:
            a, side = hit
            if side == RESPONDER and a.eps[RESPONDER].tag != ack.initiate_tag:
                old = a.eps[RESPONDER].tag
                if old is not None:
                    self.index.pop((a.eps[INITIATOR].port, a.eps[RESPONDER].port, old), None)
                a.eps[RESPONDER].tag = ack.initiate_tag
                self._collision(a)
                self._bind(a, INITIATOR)
            return hit
        # INIT ACK without its INIT in the capture: the receiver is the initiator.
        a = self._new(rec, Endpoint(pkt.dst_port, pkt.vtag), Endpoint(pkt.src_port, ack.initiate_tag))
        self._bind(a, INITIATOR)
        self._bind(a, RESPONDER)
        return a, RESPONDER

    def _collision(self, a: Association) -> None:
        """INIT collision (RFC 9260 §5.2.1): the peer's own INIT, with the tag its INIT ACK now gives, opened a
        second association for the same tag pair; fold it into this one."""
        ini, res = a.eps
        for other in reversed(self.associations[-64:]):
            o_ini, o_res = other.eps
            if (other is not a and other.init_seen and not other.init_ack_seen and o_ini.tag == res.tag
                    and o_ini.port == res.port and o_res.port == ini.port):
                a.absorb(other)
                self.associations.remove(other)
                self.folds[other] = (a, True)
                self.index.pop((o_res.port, o_ini.port, o_ini.tag), None)
                waiting = self.open.get((o_ini.port, o_res.port))
                if waiting:
                    waiting[:] = [w for w in waiting if w[0] is not other]
                return

    def _learn(self, rec: SctpRecord) -> tuple[tuple[Association, int] | None, Lone | None]:
        """A packet of a flow not seen before: it is the other direction of an association that waits for it
        (only on evidence, see analysis.pairing), or it opens a lone flow."""
        pkt = rec.packet
        sport, dport, vtag = pkt.src_port, pkt.dst_port, pkt.vtag
        if vtag == 0:
            return None, None               # only INIT may carry tag 0: out of the blue
        ev = Evidence()
        ev.add(pkt)
        src, dst = {rec.src}, {rec.dst}
        scored: list[tuple[tuple[bool, bool, bool, bool], object]] = []
        for a, side in self.open.get((sport, dport), ()):
            # an association with a handshake: its addresses are known (INIT / INIT ACK / the packets so far)
            addressed = rec.src in a.eps[side].addresses and rec.dst in a.eps[1 - side].addresses
            scored.append(((False, False, False, addressed), (a, side)))
        scored += self._scored((dport, sport), ((rec.src, rec.dst),), ev, src, dst, None)
        choice, _ = pairing.best(scored)
        if isinstance(choice, Lone) and self._best_for(choice, ev, src, dst) is not None:
            choice = None                   # a flow already seen is as good a match for it
        if isinstance(choice, tuple):
            a, side = choice
            a.eps[1 - side].tag = vtag
            self._bind(a, side)
            return (a, side), None
        if isinstance(choice, Lone):
            self._join_first(choice, vtag)
            return (choice.assoc, RESPONDER), None
        a = self._new(rec, Endpoint(sport, None), Endpoint(dport, vtag))
        lone = Lone(a, (sport, dport, vtag))
        lone.evidence = ev
        self.lone[lone.key] = lone
        self.lone_by_ports.setdefault((sport, dport), {})[lone] = None
        self._index(lone, rec)
        known = self._open_between(sport, dport, rec.src, rec.dst)
        if known is not None and None not in (known.eps[0].tag, known.eps[1].tag):
            detail = (f"verification tag 0x{vtag:08x} belongs to no association; the ports and addresses are those "
                      f"of the association begun in frame {known.first_frame} (tags 0x{known.eps[0].tag:08x}/"
                      f"0x{known.eps[1].tag:08x})")
            a.anomaly(rec.frame, "unexpected_vtag", detail)
            lone.notes.append((rec.frame, "unexpected_vtag", detail))
        return (a, INITIATOR), lone

    def _best_for(self, lone: Lone, ev: Evidence, src: set[str], dst: set[str]) -> Lone | None:
        """A lone flow the same way as a new flow (ev, src, dst) that matches `lone` at least as well."""
        la = lone.assoc
        mine = pairing.vector(ev, src, dst, lone.evidence, la.eps[0].addresses, la.eps[1].addresses,
                              lone.key[0] == lone.key[1])
        if mine is None:
            return None
        for v, other in self._candidates(lone):     # the evidence is symmetric: either way round
            if v >= mine and isinstance(other, Lone):
                return other
        return None

    def _join_first(self, lone: Lone, vtag: int | None) -> None:
        """A new flow (its first packet, tag `vtag`) is `lone`'s other direction: nothing to replay."""
        a = lone.assoc
        a.eps[INITIATOR].tag = vtag
        self._forget(lone)
        self._bind(a, INITIATOR)
        self._bind(a, RESPONDER)

    def _gather(self, ports: Ports, paths, ev: Evidence, exclude: Lone | None) -> list[Lone]:
        """Lone flows sent on `ports` that could be the partner of a flow the other way that sent on `paths`
        with evidence `ev`: those that sent on one of its paths reversed, those whose heartbeat infos it
        sent or echoed, and the RECENT latest on those ports."""
        out: dict[Lone, None] = {}
        recent = self.lone_by_ports.get(ports)
        if recent:
            for x in islice(reversed(recent), RECENT):
                out[x] = None
        for src, dst in paths:
            on = self.lone_by_path.get((ports[0], ports[1], dst, src))
            if on:
                out.update(on)
        for info in ev.hb_sent + ev.hb_acked:
            on = self.lone_by_info.get(info)
            if on:
                out.update(on)
        if exclude is not None:
            out.pop(exclude, None)
        return list(out)

    def _index(self, lone: Lone, rec: SctpRecord) -> None:
        """Index a lone flow under the path of its packet `rec` and its heartbeat infos."""
        path = (rec.src, rec.dst)
        if path not in lone.paths:
            lone.paths.add(path)
            self.lone_by_path.setdefault((lone.key[0], lone.key[1], rec.src, rec.dst), {})[lone] = None
        ev = lone.evidence
        for info in ev.hb_sent + ev.hb_acked:
            if info not in lone.infos and len(lone.infos) < LONE_INFOS:
                lone.infos.add(info)
                self.lone_by_info.setdefault(info, {})[lone] = None

    def _forget(self, lone: Lone) -> None:
        self.lone.pop(lone.key, None)
        _drop(self.lone_by_ports, lone.ports(), lone)
        for s, d in lone.paths:
            _drop(self.lone_by_path, (lone.key[0], lone.key[1], s, d), lone)
        for i in lone.infos:
            _drop(self.lone_by_info, i, lone)
        if lone.journal is not None:
            self.journaled -= len(lone.journal)
            lone.journal = None

    def _lone_packet(self, lone: Lone, side: int, rec: SctpRecord) -> None:
        """A packet of a lone flow, accounted already: journal it, and look for its partner if it tells more."""
        journal = lone.journal
        if journal is not None:
            if len(journal) >= pairing.JOURNAL_MAX or self.journaled >= pairing.JOURNAL_TOTAL:
                self.journaled -= len(journal)
                lone.journal = None
            else:
                journal.append((self.order, side, rec))
                self.journaled += 1
        if side == INITIATOR:
            changed = lone.evidence.add(rec.packet)
            if (rec.src, rec.dst) not in lone.paths:
                changed = True
            if changed:
                self._index(lone, rec)
                self._pair(lone)

    def _candidates(self, lone: Lone) -> list[tuple[tuple[bool, bool, bool, bool], object]]:
        """The lone flows the other way that could be `lone`'s partner, with their evidence."""
        la = lone.assoc
        return self._scored((lone.key[1], lone.key[0]), lone.paths, lone.evidence, la.eps[0].addresses,
                            la.eps[1].addresses, lone)

    def _scored(self, ports: Ports, paths, ev: Evidence, sent_from: set[str], sent_to: set[str],
                exclude: Lone | None) -> list[tuple[tuple[bool, bool, bool, bool], object]]:
        """The lone flows sent on `ports` (see `_gather`) with the evidence that each is one association with
        a flow the other way that sent `ev` from `sent_from` to `sent_to` (those that cannot be are left out)."""
        out: list[tuple[tuple[bool, bool, bool, bool], object]] = []
        for other in self._gather(ports, paths, ev, exclude):
            oa = other.assoc
            v = pairing.vector(ev, sent_from, sent_to, other.evidence, oa.eps[0].addresses, oa.eps[1].addresses,
                               ports[0] == ports[1])
            if v is not None:
                out.append((v, other))
        return out

    def _pair(self, lone: Lone) -> bool:
        """Join `lone` to the lone flow the other way that the evidence names, if it names exactly one and
        that one's best match is `lone` in return."""
        choice, _ = pairing.best(self._candidates(lone))
        if not isinstance(choice, Lone):
            return False
        back, _ = pairing.best(self._candidates(choice))
        if back is not lone:
            return False
        return self._join(lone, choice)

    def _join(self, x: Lone, y: Lone) -> bool:
        """Two lone flows are one association: rebuild it from both journals in capture order (x's or y's
        association goes on when its journal was dropped: the other's packets are replayed into it)."""
        if x.assoc.first_frame > y.assoc.first_frame or (x.assoc.first_frame == y.assoc.first_frame
                                                         and x.assoc.id > y.assoc.id):
            x, y = y, x                     # x began first: its sender is the initiator
        if x.journal is None and y.journal is None:
            return False
        xa, ya = x.assoc, y.assoc
        scratch = Tally()
        if x.journal is not None and y.journal is not None:
            host = Association(xa.id, xa.first_frame, xa.start, Endpoint(x.key[0], y.key[2]),
                               Endpoint(x.key[1], x.key[2]), self.path_max_retrans)
            entries = x.journal + [(o, 1 - s, r) for o, s, r in y.journal]
            entries.sort(key=lambda e: e[0])
            for _, s, r in entries:
                host.packet(r, s, scratch)
            self.associations[self.associations.index(xa)] = host
            self.folds[xa] = (host, False)
            notes = x.notes + y.notes
        else:
            keep, other = (x, y) if x.journal is None else (y, x)
            host = keep.assoc
            host.eps[INITIATOR].tag = other.key[2]
            journal = other.journal if other.journal is not None else []
            for _, s, r in journal:
                host.packet(r, 1 - s, scratch)
            xa, ya = host, other.assoc
            notes = other.notes
        self.associations.remove(ya)
        self.folds[ya] = (host, True)
        for frame, kind, detail in notes:
            host.anomaly(frame, kind, detail)
        for lone in (x, y):
            self._forget(lone)
        self._bind(host, INITIATOR)
        self._bind(host, RESPONDER)
        return True

    def _open_between(self, sport: int | None, dport: int | None, src: str, dst: str) -> Association | None:
        """The latest association still open between these ports whose endpoints used these addresses."""
        for a in reversed(self.associations[-64:]):
            ini, res = a.eps
            if a.closed or a.aborted:
                continue
            if (ini.port, res.port) == (sport, dport) and src in ini.addresses and dst in res.addresses:
                return a
            if (res.port, ini.port) == (sport, dport) and src in res.addresses and dst in ini.addresses:
                return a
        return None

    def resolve(self, a: Association) -> tuple[Association | None, bool]:
        """The association that now holds the packets once accounted to `a` (itself unless it was replaced:
        see `folds`), and whether the sides are swapped there."""
        swapped = False
        seen = 0
        while a in self.folds and seen < 64:
            a, s = self.folds[a]
            swapped ^= s
            seen += 1
        return a, swapped

    # -- results -------------------------------------------------------------------------------------
    def finish(self) -> None:
        """Pair what the end of the capture can still pair, say which lone flows are ambiguous, number
        associations in order of first frame (contract `id`), then close each one's books."""
        for lone in sorted(self.lone.values(), key=lambda x: x.assoc.first_frame):
            if lone.key in self.lone:
                self._pair(lone)
        for lone in sorted(self.lone.values(), key=lambda x: x.assoc.first_frame):
            scored = self._candidates(lone)
            a = lone.assoc
            mine = a.eps[0].addresses | a.eps[1].addresses
            if len(scored) > 1:
                # several peers on these ports: only those with some evidence, or an address in common, are
                # candidates (flows that share no address and nothing else are other peers' leftovers)
                scored = [(v, c) for v, c in scored if any(v) or isinstance(c, Lone) and
                          mine & (c.assoc.eps[0].addresses | c.assoc.eps[1].addresses)]
            if not scored:
                continue
            others = [c for _, c in scored if isinstance(c, Lone)]
            shown = ", ".join(o.name() for o in others[:4]) + (f" and {len(others) - 4} more" if len(others) > 4 else "")
            top = max(v for v, _ in scored)
            tied = sum(1 for v, _ in scored if v == top)
            if not any(top):
                why = pairing.missing(top)
            elif tied > 1:
                why = f"the evidence ({pairing.found(top)}) fits {tied} of them equally"
            else:
                why = f"the one that fits best ({pairing.found(top)}) fits another flow as well"
            a.anomaly(a.first_frame, "ambiguous_pairing",
                      f"no partner found for the flow {lone.name()}: {len(others)} lone flow(s) the other way on "
                      f"these ports could be it ({shown}), but the wire does not show which: {why}")
        self.associations.sort(key=lambda a: (a.first_frame, a.id))
        for i, a in enumerate(self.associations, 1):
            a.id = i
        for a in self.associations:
            a.finish()

    def association_dicts(self) -> list[dict]:
        return [a.as_dict() for a in self.associations]

    def snapshot(self) -> list[dict]:
        """The association dicts as if the capture ended now, while the analysis goes on (live capture,
        progressive indexing). Associations are numbered in order of first frame, as `finish` does."""
        self.associations.sort(key=lambda a: (a.first_frame, a.id))
        for i, a in enumerate(self.associations, 1):
            a.id = i
        return [a.snapshot_dict() for a in self.associations]

    def unassociated(self) -> dict:
        return {"packets": self.unassociated_packets,
                "chunks": {chunk_name(t): n for t, n in sorted(self.unassociated_chunks.items())}}
