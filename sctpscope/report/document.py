"""The JSON association report (contract `sctpscope.report/1`, see report/schema.json)."""

from __future__ import annotations

from collections.abc import Sequence

from sctpscope import __version__
from sctpscope.analysis.servers import servers
from sctpscope.analysis.totals import Totals
from sctpscope.capture.inputs import set_notes
from sctpscope.pipeline import CaptureInfo

SCHEMA = "sctpscope.report/1"


def build_report(infos: Sequence[CaptureInfo], totals: Totals, associations: Sequence[dict] = (),
                 unassociated: dict | None = None) -> dict:
    """Assemble the contract document from per-file info, capture-wide totals and association records."""
    captures = [i.as_dict() for i in infos]
    if len(captures) > 1:
        # beyond the contract: a set of files read in time order (capture.inputs), how each follows the last
        for cap, note in zip(captures, set_notes([(c["first_ts"], c["last_ts"]) for c in captures])):
            if note is not None:
                note["previous_path"] = captures[note["previous"]]["path"]
            cap["set"] = note
    return {
        "schema": SCHEMA,
        "generator": {"name": "sctpscope", "version": __version__},
        "captures": captures,
        "totals": {
            "packets": totals.packets,
            "sctp_packets": totals.sctp_packets,
            "associations": len(associations),
            "chunks": totals.chunks_by_name(),
            "bad_checksums": totals.bad_checksums,
            "malformed": totals.malformed,
            # beyond the contract
            "checksums": dict(sorted(totals.checksums.items())),
            "decode_problems": dict(sorted(totals.problems.items())),
            "icmp_quoted_sctp": totals.quoted,
            "udp_encapsulated": totals.udp_encapsulated,
        },
        # a list, or a runner.OneByOne (written one by one; servers then computed as they are written)
        "associations": associations if not isinstance(associations, (list, tuple)) else list(associations),
        "servers": servers(list(associations)) if isinstance(associations, (list, tuple)) else [],
        "unassociated": unassociated if unassociated is not None else {"packets": 0, "chunks": {}},
    }
