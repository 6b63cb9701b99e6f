"""Applying a display filter (sctpscope.filter) to the capture the UI shows: which associations have a
matching SCTP packet, read in a worker thread, cancellable between frames.

The same reading as `sctpscope report --filter` (sctpscope.filter.apply.filtered_report): one pass with an
Annotator, two (Replay of the first pass' membership) when the filter names `association`, so that ids are
the report's. No protocol logic here: the filter decides, this only feeds it frames.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from sctpscope.filter import Filter
from sctpscope.filter.apply import scan


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
    res = scan(files, flt, [], two=flt.uses("association"), sctp_udp_ports=sctp_udp_ports, verify=verify,
               cancelled=cancelled)
    if res is None:
        return None
    return Matches(flt.expression, res.ids, res.packets, res.unassociated)
