"""Filters applied by the CLI: `packets --filter` (matching frames) and `report --filter` (matching associations).

`report --filter EXPR` lists the associations that have at least one SCTP packet matching EXPR, each analysed
in full (all its packets, not only the matching ones), with the ids of the unfiltered report; `servers` keeps
the shared endpoints of which at least one listed association is part (their figures are the whole
capture's); `captures`, `totals` and `unassociated` describe the whole capture. The analysis runs in one
process; a filter naming `association` reads the files twice (once to number the associations as the report
does), except from a pipe, which is read once with associations numbered in order of first appearance.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass

from sctpscope.filter.context import Annotator, PacketContext, Replay, annotator_for, rereadable
from sctpscope.filter.parser import Filter


@dataclass(slots=True)
class FilterOutcome:
    """What a filter selected in a report: matching SCTP packets, their associations, out-of-the-blue ones."""

    expression: str
    packets: int = 0                   # matching SCTP packets (quoted ones not counted)
    associations: int = 0              # associations listed
    of_associations: int = 0           # associations in the capture
    unassociated: int = 0              # matching packets that belong to no association

    def line(self) -> str:
        from sctpscope.text import escape_text

        s = (f"filter {escape_text(self.expression)}: {self.packets} SCTP packets match, in {self.associations} of "
             f"{self.of_associations} associations")
        if self.unassociated:
            s += f" (and {self.unassociated} out of the blue)"
        return s + "; totals are the whole capture's"


def filtered_frames(files: Sequence[str], flt: Filter, infos: list, *, sctp_udp_ports: tuple[int, ...] = (9899,),
                    verify: bool = True, path_max_retrans: int = 5) -> Iterator[tuple[object, list[PacketContext]]]:
    """(DecodedFrame, its contexts) for every frame with a matching SCTP packet, in capture order."""
    from sctpscope.pipeline import decode_files

    ann = annotator_for(files, flt, sctp_udp_ports=sctp_udp_ports, verify=verify, path_max_retrans=path_max_retrans)
    for frame in decode_files(files, infos, sctp_udp_ports=sctp_udp_ports, verify_checksum=verify):
        if not frame.sctp and not frame.quotes:
            continue
        ctxs = ann.add(frame)
        if flt.match_any(ctxs):
            yield frame, ctxs


@dataclass(slots=True)
class Scan:
    """One matching pass over the capture: the analysis (for the report), the report ids of the associations
    with a matching packet, the matching SCTP packets and how many of those belong to no association."""

    annotator: Annotator
    ids: set
    packets: int = 0
    unassociated: int = 0


def scan(files: Sequence[str], flt: Filter, infos: list, *, two: bool, sctp_udp_ports: tuple[int, ...] = (9899,),
         verify: bool = True, path_max_retrans: int = 5, cancelled: Callable[[], bool] | None = None) -> Scan | None:
    """Which associations have a packet matching `flt`: one pass with an Annotator, or (`two`) a second pass
    replaying the first pass' membership so that `association` means the report's id. None when
    `cancelled()` (asked every 256 frames) says so."""
    from sctpscope.pipeline import decode_files

    ann = Annotator(path_max_retrans=path_max_retrans, record=two)
    out = Scan(ann, set())
    objs: set = set()
    for n, frame in enumerate(decode_files(files, infos, sctp_udp_ports=sctp_udp_ports, verify_checksum=verify)):
        if cancelled is not None and not n & 0xFF and cancelled():
            return None
        ctxs = ann.add(frame)
        if two:
            continue
        for c in ctxs:
            if not c.quoted and c.record.packet.header_ok and flt.match(c):
                out.packets += 1
                if c.assoc is not None:
                    objs.add(c.assoc)
                else:
                    out.unassociated += 1
    ann.finish()
    if not two:
        out.ids = {i for i in (ann.report_id(a) for a in objs) if i is not None}
        return out
    replay = Replay(ann.membership())
    for n, frame in enumerate(decode_files(files, [], sctp_udp_ports=sctp_udp_ports, verify_checksum=verify)):
        if cancelled is not None and not n & 0xFF and cancelled():
            return None
        for c in replay.add(frame):
            if not c.quoted and c.record.packet.header_ok and flt.match(c):
                out.packets += 1
                if c.association is not None:
                    out.ids.add(c.association)
                else:
                    out.unassociated += 1
    return out


def filtered_report(files: Sequence[str], flt: Filter, *, sctp_udp_ports: tuple[int, ...] = (9899,),
                    verify: bool = True, path_max_retrans: int = 5) -> tuple[dict, FilterOutcome]:
    """The contract document restricted to the associations with a matching packet (see the module doc)."""
    from sctpscope.pipeline import check_inputs
    from sctpscope.report.document import build_report

    if rereadable(files):
        check_inputs(files)          # a pipe would lose what this reads
    infos: list = []
    res = scan(files, flt, infos, two=flt.uses("association") and rereadable(files), sctp_udp_ports=sctp_udp_ports,
               verify=verify, path_max_retrans=path_max_retrans)
    assert res is not None           # not cancellable here
    out = FilterOutcome(flt.expression, packets=res.packets, unassociated=res.unassociated)
    ids = res.ids
    ann = res.annotator
    an = ann.analysis
    doc = build_report(infos, an.totals, an.association_dicts(), an.unassociated())
    out.of_associations = len(doc["associations"])
    doc["associations"] = [a for a in doc["associations"] if a["id"] in ids]
    doc["servers"] = [s for s in doc.get("servers", []) if ids.intersection(s["associations"])]
    out.associations = len(doc["associations"])
    return doc, out
