"""Which association each SCTP packet belongs to: one pair of verification tags between two ports.

Lookup key of a packet: (source port, destination port, verification tag). Once an association knows both
tags it is indexed under both directions. INIT (tag 0, RFC 9260 §8.5.1) opens an association keyed by its
Initiate Tag; INIT ACK completes it. A packet with the T bit (ABORT, SHUTDOWN COMPLETE; §8.5.1) carries its
sender's own tag and is looked up reflected. A capture that starts mid-association opens one on the first
packet and learns the other tag from the first packet of the reverse direction.
"""

from __future__ import annotations

from collections.abc import Iterable

from sctpscope.analysis.association import (ABORT, INIT, INIT_ACK, INITIATOR, RESPONDER, SHUTDOWN_COMPLETE,
                                            Association, Endpoint)
from sctpscope.analysis.tally import Tally
from sctpscope.analysis.totals import Totals
from sctpscope.decode.frame import DecodedFrame, SctpRecord
from sctpscope.decode.sctp import chunk_name
from sctpscope.decode.sctp.chunks import Chunk

# Ports and tags of a decoded header (SctpPacket types them `int | None`: None only when header_ok is False,
# and such packets never reach the tracker).
Key = tuple[int | None, int | None, int | None]


class Analysis:
    """All analysis state of a capture: totals, associations, out-of-the-blue packets. Fed frame by frame."""

    def __init__(self, path_max_retrans: int = 5) -> None:
        self.path_max_retrans = path_max_retrans
        self.totals = Totals()
        self.associations: list[Association] = []
        self.index: dict[Key, tuple[Association, int]] = {}
        # (src port, dst port) -> association waiting to learn the tag of packets sent that way
        self.waiting: dict[tuple[int | None, int | None], tuple[Association, int]] = {}
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
        hit = None
        if first == INIT and vtag == 0 and getattr(chunks[0], "initiate_tag", None) is not None:
            hit = self._init(rec, chunks[0])
        elif first == INIT_ACK and getattr(chunks[0], "initiate_tag", None) is not None:
            hit = self._init_ack(rec, chunks[0])
        else:
            hit = self.index.get((sport, dport, vtag))
        if hit is None:
            if first in (ABORT, SHUTDOWN_COMPLETE) and chunks[0].flags & 1:
                rev = self.index.get((dport, sport, vtag))      # T bit: the sender's own tag, reflected
                if rev is not None:
                    hit = (rev[0], 1 - rev[1])
            if hit is None:
                hit = self._learn(rec)
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

    def _new(self, rec: SctpRecord, initiator: Endpoint, responder: Endpoint) -> Association:
        a = Association(len(self.associations) + 1, rec.frame, rec.ts, initiator, responder, self.path_max_retrans)
        self.associations.append(a)
        return a

    def _bind(self, a: Association, side: int) -> None:
        """Index the association for packets sent by `side` (they carry the other endpoint's tag)."""
        me, peer = a.eps[side], a.eps[1 - side]
        if peer.tag is not None:
            self.index[(me.port, peer.port, peer.tag)] = (a, side)
            self.waiting.pop((me.port, peer.port), None)
        else:
            self.waiting[(me.port, peer.port)] = (a, side)

    def _init(self, rec: SctpRecord, init) -> tuple[Association, int]:
        sport, dport = rec.packet.src_port, rec.packet.dst_port
        # The same INIT again (retransmitted): replies to it carry its Initiate Tag.
        known = self.index.get((dport, sport, init.initiate_tag))
        if known is not None and known[1] == RESPONDER and known[0].eps[INITIATOR].port == sport:
            return known[0], INITIATOR
        previous = self._open_between(sport, dport)
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
                self.index.pop((o_res.port, o_ini.port, o_ini.tag), None)
                if self.waiting.get((o_ini.port, o_res.port), (None,))[0] is other:
                    del self.waiting[(o_ini.port, o_res.port)]
                return

    def _learn(self, rec: SctpRecord) -> tuple[Association, int] | None:
        """A packet no known tag matches: a half-known association learns its tag, or a new one starts."""
        pkt = rec.packet
        sport, dport, vtag = pkt.src_port, pkt.dst_port, pkt.vtag
        if vtag == 0:
            return None                     # only INIT may carry tag 0: out of the blue
        w = self.waiting.get((sport, dport))
        if w is not None:
            a, side = w
            a.eps[1 - side].tag = vtag
            self._bind(a, side)
            return a, side
        known = self._open_between(sport, dport)
        a = self._new(rec, Endpoint(sport, None), Endpoint(dport, vtag))
        self._bind(a, INITIATOR)
        self._bind(a, RESPONDER)
        if (known is not None and None not in (known.eps[0].tag, known.eps[1].tag)
                and rec.src in known.eps[0].addresses | known.eps[1].addresses):
            a.anomaly(rec.frame, "unexpected_vtag",
                      f"verification tag 0x{vtag:08x} belongs to no association; the ports and address are those "
                      f"of the association begun in frame {known.first_frame} (tags 0x{known.eps[0].tag:08x}/"
                      f"0x{known.eps[1].tag:08x})")
        return a, INITIATOR

    def _open_between(self, sport: int | None, dport: int | None) -> Association | None:
        for a in reversed(self.associations[-64:]):
            ports = (a.eps[0].port, a.eps[1].port)
            if ports in ((sport, dport), (dport, sport)) and not a.closed and not a.aborted:
                return a
        return None

    # -- results -------------------------------------------------------------------------------------
    def finish(self) -> None:
        """Number associations in order of first frame (contract `id`), then close each one's books."""
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
