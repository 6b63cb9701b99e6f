"""The INIT stream negotiation of one association, drawn side by side (RFC 9260 §5.1.1)."""

from __future__ import annotations

from rich.table import Table
from rich.text import Text
from textual.widgets import Static

from sctpscope.tui.format import q


def negotiation_table(a: dict) -> Table:
    """INIT OS/MIS beside INIT ACK OS/MIS, and the minimum each direction takes."""
    ii, ri = a["initiator"].get("init"), a["responder"].get("init")
    n = a.get("negotiated") or {}
    t = Table(title="INIT stream negotiation", title_justify="left", expand=False, show_edge=True)
    t.add_column("")
    t.add_column("INIT (initiator)", justify="right")
    t.add_column("INIT ACK (responder)", justify="right")
    t.add_column("negotiated", justify="right")
    t.add_row(Text("outbound streams (OS)"), Text(q(ii and ii["outbound_streams"])),
              Text(q(ri and ri["outbound_streams"])), Text(""))
    t.add_row(Text("max inbound streams (MIS)"), Text(q(ii and ii["max_inbound_streams"])),
              Text(q(ri and ri["max_inbound_streams"])), Text(""))
    t.add_row(Text("initiator → responder"),
              Text(f"OS {q(ii and ii['outbound_streams'])}"), Text(f"MIS {q(ri and ri['max_inbound_streams'])}"),
              Text(q(n.get("initiator_to_responder_streams")), style="bold"))
    t.add_row(Text("responder → initiator"),
              Text(f"MIS {q(ii and ii['max_inbound_streams'])}"), Text(f"OS {q(ri and ri['outbound_streams'])}"),
              Text(q(n.get("responder_to_initiator_streams")), style="bold"))
    c = a.get("stream_counts") or {}
    if c and c != n:
        t.caption = (f"after RE-CONFIG Add Streams: initiator → responder {q(c.get('initiator_to_responder_streams'))}, "
                     f"responder → initiator {q(c.get('responder_to_initiator_streams'))}")
        t.caption_justify = "left"
    return t


class Negotiation(Static):
    """A Static showing `negotiation_table` of one association."""

    DEFAULT_CSS = """
    Negotiation { height: auto; width: auto; margin: 1 0; }
    """

    def __init__(self, association: dict, **kwargs) -> None:
        super().__init__(negotiation_table(association), markup=False, **kwargs)
