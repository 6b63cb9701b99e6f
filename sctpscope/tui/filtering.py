"""Applying a display filter (sctpscope.filter) to the capture the UI shows: which associations have a
matching SCTP packet, read in a worker thread, cancellable between frames.

The same reading as `sctpscope report --filter` (sctpscope.filter.apply.filtered_report): one pass with an
Annotator, two (Replay of the first pass' membership) when the filter names `association`, so that ids are
the report's. No protocol logic here: the filter decides, this only feeds it frames.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from sctpscope.filter import Annotator, Filter, Replay


@dataclass
class Matches:
    """What a filter matched: the report ids of the associations, the SCTP packets (and how many of those
    belong to no association)."""

    expression: str
    ids: set[int] = field(default_factory=set)
    packets: int = 0
    unassociated: int = 0


def matching_associations(files: Sequence[str], flt: Filter, *, sctp_udp_ports: tuple[int, ...] = (9899,),
                          verify: bool = True, cancelled: Callable[[], bool] = lambda: False) -> Matches | None:
    """The associations of `files` with a packet matching `flt`; None when cancelled."""
    from sctpscope.pipeline import decode_files

    out = Matches(flt.expression)
    two = flt.uses("association")
    ann = Annotator(record=two)
    objs: set = set()
    for n, frame in enumerate(decode_files(files, [], sctp_udp_ports=sctp_udp_ports, verify_checksum=verify)):
        if not n & 0xFF and cancelled():
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
        if not n & 0xFF and cancelled():
            return None
        for c in replay.add(frame):
            if not c.quoted and c.record.packet.header_ok and flt.match(c):
                out.packets += 1
                if c.association is not None:
                    out.ids.add(c.association)
                else:
                    out.unassociated += 1
    return out
