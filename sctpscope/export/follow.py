"""`sctpscope follow FILE... --association N [--stream S] [--save OUT]`: an association's user messages.

Messages come from analysis.follow.Follower fed with the association's SCTP packets and their bytes (two
readings of the files, see export.select). Printed one per line, in arrival order (when their last fragment
arrived), with an upper-layer summary (decode.upper) and an escaped preview; `--save` writes the raw bytes
of every message listed, one after the other, to a file (a message's or a whole stream's payload).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence

from sctpscope.analysis.follow import PREVIEW_BYTES, Follower, Message, preview
from sctpscope.decode.upper import summarize
from sctpscope.export.select import Selection, select_frames
from sctpscope.text import escape_text


def _endpoints(obj) -> tuple[tuple, tuple]:
    """(port, vtag, addresses) of a live Association's two endpoints (single-reading mode)."""
    a, b = obj.eps
    return (a.port, a.tag, frozenset(a.addresses)), (b.port, b.tag, frozenset(b.addresses))


def follow_messages(files: Sequence[str], association: int, *, streams: Sequence[int] | None = None,
                    keep_bytes: int | None = PREVIEW_BYTES, sctp_udp_ports: tuple[int, ...] = (9899,),
                    verify: bool = True, path_max_retrans: int = 5) -> tuple[Selection, Iterator[Message]]:
    """(Selection, messages of the association in arrival order, then the incomplete ones).

    From regular files ``selection.associations[association]`` is the report record, known before the first
    message; from a pipe it is filled at the end.
    """
    sel, frames = select_frames(files, [association], sctp_udp_ports=sctp_udp_ports, verify=verify,
                                path_max_retrans=path_max_retrans)
    kw = {"keep_bytes": keep_bytes, "streams": streams}

    def messages() -> Iterator[Message]:
        fol = Follower.for_association(sel.associations[association], **kw) if sel.exact else None
        for rf, ctxs in frames:
            for ctx, data in zip(ctxs, rf.sctp_bytes):
                if ctx.association != association:
                    continue
                if fol is None:
                    fol = Follower(*_endpoints(ctx.assoc), **kw)
                elif not sel.exact:
                    fol.eps = _endpoints(ctx.assoc)       # tags learnt as the association goes on
                yield from fol.packet(ctx.record, data)
        if fol is not None:
            yield from fol.finish()
        if not sel.exact:
            sel.check(files)
    return sel, messages()


def message_lines(m: Message, index: int, t0: float) -> list[str]:
    """A message as two or three lines: header, upper-layer summary (if any), preview."""
    d = "I→R" if m.direction == 0 else "R→I"
    seq = f"MID {m.mid}" if m.idata else f"SSN {m.ssn}"
    ppid = "-" if m.ppid is None else str(m.ppid) + (f" ({m.ppid_name})" if m.ppid_name else "")
    frames = ",".join(map(str, m.frames[:8])) + (f",… ({len(m.frames)} frames)" if len(m.frames) > 8 else "")
    flags = ("U " if m.unordered else "") + ("" if m.complete else "INCOMPLETE ")
    head = (f"#{index:<5} {m.last_ts - t0:11.6f} {d} sid {m.sid} {seq} {flags}ppid {ppid} {m.size} bytes "
            f"in {m.fragments} chunk{'s' if m.fragments > 1 else ''}, frames {frames}")
    if m.fragments > 1:
        head += f", latency {m.latency * 1000:.3f} ms"
    lines = [head]
    up = summarize(m.ppid, m.data, m.sport, m.dport) if m.complete else None
    if up is not None:
        lines.append("        " + escape_text(up.text))
    if m.data:
        lines.append("        " + preview(m.data) + (" (shown: first bytes)" if m.truncated else ""))
    return lines


def association_line(a: dict) -> str:
    def ep(e: dict) -> str:
        addr = escape_text(e["addresses"][0]) if e["addresses"] else "?"
        return f"{addr}:{e['port']}"
    return f"association {a['id']}: {ep(a['initiator'])} ⇄ {ep(a['responder'])} [{a['state']}]"


def streams_note(a: dict) -> str:
    """' (negotiated I→R 8, R→I 8; 10, 12 at the end)': the report's stream counts, for the header line."""
    n, c = a.get("negotiated"), a.get("stream_counts")
    if not n:
        return " (no handshake: stream counts unknown)"
    note = f" (negotiated I→R {n['initiator_to_responder_streams']}, R→I {n['responder_to_initiator_streams']}"
    if c and c != n:
        note += (f"; I→R {c['initiator_to_responder_streams']}, R→I {c['responder_to_initiator_streams']} at the end "
                 "after RE-CONFIG Add Streams")
    return note + ")"
