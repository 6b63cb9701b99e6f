"""What a filter is evaluated on: one SCTP packet with its association and what accounting it did.

``Annotator`` runs the association analysis (analysis.tracker.Analysis) as frames arrive and turns every SCTP
packet of a frame into a PacketContext. The association ids of the report are assigned only when the
analysis finishes (numbered by first frame, after INIT collisions are folded), so:

* ``Annotator`` numbers associations in order of first appearance (provisional ids; they equal the
  report's except where an INIT collision folds two associations into one);
* ``first_pass(files)`` analyses the files once and returns a ``Membership`` (per SCTP packet: the report's
  association id, and the retransmission / anomaly flags); ``Replay(membership)`` then gives exact contexts
  for a second decode of the same files. Captures read from a pipe cannot be read twice: use ``rereadable``.
"""

from __future__ import annotations

import os
from array import array
from collections.abc import Sequence
from dataclasses import dataclass

from sctpscope.analysis.tracker import Analysis
from sctpscope.decode.frame import DecodedFrame, SctpRecord
from sctpscope.errors import SctpscopeError

RETRANSMISSION, ANOMALY = 1, 2


@dataclass(slots=True)
class PacketContext:
    """One SCTP packet as a filter sees it.

    record: the decoded SctpRecord. association: the association id (None: out of the blue, an SCTP header
    cut short, or SCTP quoted in an ICMP error). retransmission: the packet carried a DATA/I-DATA chunk whose
    TSN was seen before. anomaly: accounting it raised an anomaly of its association. quoted: SCTP quoted in
    an ICMP error (never counted as an SCTP packet). assoc: the analysis' Association object (Annotator only).
    """

    record: SctpRecord
    association: int | None = None
    retransmission: bool = False
    anomaly: bool = False
    quoted: bool = False
    assoc: object = None


def _flags_of(a) -> tuple[int, int]:
    f = a.flows
    return f[0].retransmissions + f[1].retransmissions, a.anomaly_count


class Annotator:
    """Feeds frames to an Analysis and returns the PacketContexts of each (single pass, provisional ids).

    The Annotator owns ``analysis.members``: it sets it to a list and clears it after every frame. When a
    frame carries two SCTP packets of one association, both get the flags that frame's accounting raised.
    ``record=True`` keeps, per counted SCTP packet, what ``membership()`` needs after ``finish()``.
    """

    def __init__(self, analysis: Analysis | None = None, *, path_max_retrans: int = 5, record: bool = False) -> None:
        self.analysis = analysis if analysis is not None else Analysis(path_max_retrans)
        self.analysis.members = []
        self._last: dict = {}           # Association -> (retransmissions, anomaly_count) after its last packet
        self._seq: dict = {}            # Association -> order of first appearance (0-based)
        self.objects: list = []         # by order of first appearance
        self._record = record
        self._seqs = array("l")
        self._flags = bytearray()
        self.final_ids: list[int | None] | None = None

    def add(self, frame: DecodedFrame) -> list[PacketContext]:
        an = self.analysis
        an.add(frame)
        members = an.members
        raised: dict = {}
        for a in members:
            if a is not None and a not in raised:
                now = _flags_of(a)
                before = self._last.get(a, (0, 0))
                raised[a] = (now[0] > before[0], now[1] > before[1])
                self._last[a] = now
        out = []
        k = 0
        for rec in frame.sctp:
            if not rec.packet.header_ok:
                out.append(PacketContext(rec))
                continue
            a = members[k] if k < len(members) else None
            k += 1
            if a is None:
                ctx = PacketContext(rec)
                seq = -1
            else:
                seq = self._seq.get(a)
                if seq is None:
                    seq = self._seq[a] = len(self.objects)
                    self.objects.append(a)
                retx, anom = raised[a]
                ctx = PacketContext(rec, seq + 1, retx, anom, False, a)
            if self._record:
                self._seqs.append(seq)
                self._flags.append(ctx.retransmission * RETRANSMISSION | ctx.anomaly * ANOMALY)
            out.append(ctx)
        for rec in frame.quotes:
            out.append(PacketContext(rec, quoted=True))
        members.clear()
        return out

    def finish(self) -> list[int | None]:
        """Finish the analysis; returns the report's id of every association, by order of first appearance."""
        an = self.analysis
        an.finish()
        live = {a: a.id for a in an.associations}
        ids: list[int | None] = []
        for obj in self.objects:
            i = live.get(obj)
            if i is None:                       # replaced by another (INIT collision, lone flows joined)
                host, _ = an.resolve(obj)
                i = host.id if host is not None and host in live else None
            ids.append(i)
        self.final_ids = ids
        return ids

    def report_id(self, assoc) -> int | None:
        """The report's id of an Association object seen by this Annotator (after finish())."""
        if self.final_ids is None:
            raise RuntimeError("Annotator.finish() first")
        seq = self._seq.get(assoc)
        return None if seq is None else self.final_ids[seq]

    def membership(self) -> "Membership":
        if self.final_ids is None:
            self.finish()
        if not self._record:
            raise RuntimeError("membership() needs Annotator(record=True)")
        ids = self.final_ids
        return Membership(array("L", ((ids[s] or 0) if s >= 0 else 0 for s in self._seqs)), bytes(self._flags))


@dataclass(slots=True)
class Membership:
    """Per counted SCTP packet, in capture order: the report's association id (0: none) and the flags."""

    ids: array
    flags: bytes


class Replay:
    """Contexts for a second decode of the files a Membership was made from (exact report ids)."""

    def __init__(self, membership: Membership) -> None:
        self.m = membership
        self.k = 0

    def add(self, frame: DecodedFrame) -> list[PacketContext]:
        ids, flags = self.m.ids, self.m.flags
        out = []
        for rec in frame.sctp:
            if not rec.packet.header_ok:
                out.append(PacketContext(rec))
                continue
            k = self.k
            if k >= len(ids):
                raise SctpscopeError("the capture changed between the two readings (it has more SCTP packets "
                                     "now); read it from a file that does not change")
            self.k = k + 1
            f = flags[k]
            out.append(PacketContext(rec, ids[k] or None, bool(f & RETRANSMISSION), bool(f & ANOMALY)))
        for rec in frame.quotes:
            out.append(PacketContext(rec, quoted=True))
        return out


class Plain:
    """Contexts without association, retransmission or anomaly (for filters that read none of them): no
    analysis runs."""

    def add(self, frame: DecodedFrame) -> list[PacketContext]:
        out = [PacketContext(rec) for rec in frame.sctp]
        out += [PacketContext(rec, quoted=True) for rec in frame.quotes]
        return out


ANALYSIS_FIELDS = ("association", "retransmission", "anomaly")


def rereadable(files: Sequence[str]) -> bool:
    """Whether every input is a regular file (so it can be read twice); pipes and /dev/stdin are not."""
    return all(os.path.isfile(f) for f in files)


def first_pass(files: Sequence[str], *, sctp_udp_ports: tuple[int, ...] = (9899,), verify: bool = True,
               path_max_retrans: int = 5) -> Membership:
    """Read the files once and return the Membership of every SCTP packet (the report's association ids)."""
    from sctpscope.pipeline import decode_files

    ann = Annotator(path_max_retrans=path_max_retrans, record=True)
    for frame in decode_files(files, [], sctp_udp_ports=sctp_udp_ports, verify_checksum=verify):
        ann.add(frame)
    return ann.membership()


def annotator_for(files: Sequence[str], flt, *, sctp_udp_ports: tuple[int, ...] = (9899,),
                  verify: bool = True, path_max_retrans: int = 5):
    """What the CLI uses for a filter `flt`: a Replay after a first pass when it names `association` and the
    files can be read twice; a single-pass Annotator when it reads what the analysis tells (provisional ids
    on a pipe); else Plain."""
    if not flt.uses(*ANALYSIS_FIELDS):
        return Plain()
    if flt.uses("association") and rereadable(files):
        return Replay(first_pass(files, sctp_udp_ports=sctp_udp_ports, verify=verify,
                                 path_max_retrans=path_max_retrans))
    return Annotator(path_max_retrans=path_max_retrans)
