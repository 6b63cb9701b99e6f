"""Turning the report's association dicts into cells and lines for the screens; no Textual, no protocol logic.

Every string that came from a packet passes through `safe` and is returned inside a rich Text, which is
never parsed as markup: a reason text like `[bold]x` or an ESC byte shows literally.
"""

from __future__ import annotations

from rich.text import Text

from sctpscope.decode.sctp import ppid_name
from sctpscope.export.ladder import header_line
from sctpscope.text import escape_text

I2R, R2I = "initiator_to_responder", "responder_to_initiator"
DIRECTION_ARROWS = {I2R: "I→R", R2I: "R→I"}
NONE = "—"


def safe(value) -> str:
    """Terminal-safe text of a value that may come from a packet.

    The analysis already escapes reason texts (sctpscope.text.cause_detail); escaping those again would
    double their backslashes, so a string that holds nothing to escape but backslashes is kept as it is.
    """
    s = str(value)
    if any(ord(ch) < 0x20 or ord(ch) == 0x7F or 0x80 <= ord(ch) < 0xA0 for ch in s):
        return escape_text(s)
    return s


def text(value, style: str = "") -> Text:
    """A rich Text of `value`, made safe, never interpreted as markup."""
    return Text(safe(value), style=style)


def endpoint(ep: dict) -> str:
    """`addr:port`, with `+N` when the endpoint used or announced N more addresses."""
    addrs = ep["addresses"]
    first = safe(addrs[0]) if addrs else "?"
    more = f" +{len(addrs) - 1}" if len(addrs) > 1 else ""
    return f"{first}:{ep['port']}{more}"


def q(v) -> str:
    """A number, or '?' when the capture does not tell."""
    return "?" if v is None else str(v)


def tag(v) -> str:
    return "?" if v is None else f"0x{v:08x}"


def messages_each_way(a: dict) -> tuple[int, int]:
    """Messages sent initiator→responder and responder→initiator: the sum over each direction's streams."""
    i2r = sum(s["messages"] for s in a["streams"] if s["direction"] == I2R)
    r2i = sum(s["messages"] for s in a["streams"] if s["direction"] == R2I)
    return i2r, r2i


def negotiated_each_way(a: dict) -> tuple[int | None, int | None]:
    n = a.get("negotiated") or {}
    return n.get("initiator_to_responder_streams"), n.get("responder_to_initiator_streams")


def ending(a: dict) -> str:
    """'graceful by initiator', 'abort by responder: <first cause name>' or '—'."""
    e = a["ending"]
    if e["kind"] == "none":
        return NONE
    s = f"{e['kind']} by {e['by'] or '?'}"
    if e["kind"] == "abort" and e["abort_causes"]:
        s += f": {safe(e['abort_causes'][0]['name'])}"
    return s


def anomaly_count(a: dict) -> int:
    return a.get("anomaly_count", len(a["anomalies"]))


def filter_error_text(exc) -> Text:
    """A FilterError as the filter bar shows it: the reason, the expression and a caret line under the fault
    (sctpscope.filter.FilterError.caret_lines: terminal-safe)."""
    shown, marks = exc.caret_lines()
    out = Text()
    out.append(f"filter: {safe(exc.reason)}\n", style="bold red")
    out.append(f"  {shown}\n")
    out.append(f"  {marks}", style="bold red")
    return out


# -- the associations list ---------------------------------------------------------------------------------
# i/r: initiator→responder / responder→initiator; start in seconds after the capture's first frame
COLUMNS = ("id", "initiator ⇄ responder", "state", "start s", "dur s", "pkts", "msgs i/r", "streams i/r",
           "rtx i/r", "anom", "ending")


def association_row(a: dict, t0: float) -> tuple[list[Text], tuple]:
    """The cells of one association in the list and the values its columns sort by."""
    i2r, r2i = messages_each_way(a)
    ni, nr = negotiated_each_way(a)
    rtx = a["retransmissions"]
    start, duration = a["start"] - t0, a["end"] - a["start"]
    n_anom = anomaly_count(a)
    cells = [
        Text(str(a["id"]), justify="right"),
        Text(f"{endpoint(a['initiator'])} ⇄ {endpoint(a['responder'])}"),
        Text(a["state"], style=_STATE_STYLES.get(a["state"], "")),
        Text(f"{start:.3f}", justify="right"),
        Text(f"{duration:.3f}", justify="right"),
        Text(str(a["packets"]), justify="right"),
        Text(f"{i2r}/{r2i}", justify="right"),
        Text(f"{q(ni)}/{q(nr)}", justify="right"),
        Text(f"{rtx['initiator']}/{rtx['responder']}", justify="right"),
        Text(str(n_anom), justify="right", style="bold yellow" if n_anom else ""),
        Text(ending(a)),
    ]
    keys = (a["id"], cells[1].plain, a["state"], start, duration, a["packets"], i2r + r2i,
            (ni or -1) + (nr or -1), rtx["initiator"] + rtx["responder"], n_anom, cells[10].plain)
    return cells, keys


_STATE_STYLES = {"aborted": "bold red", "incomplete": "yellow", "established": "green"}


# -- one association -----------------------------------------------------------------------------------------
def endpoint_lines(name: str, ep: dict) -> Text:
    """An endpoint with every address, its verification tag and what its INIT / INIT ACK said."""
    out = Text()
    out.append(f"{name}  port {ep['port']}\n", style="bold")
    out.append(f"  addresses: {', '.join(safe(x) for x in ep['addresses']) or '?'}\n")
    out.append(f"  verification tag (of packets to it): {tag(ep['vtag'])}\n")
    i = ep.get("init")
    if not i:
        out.append("  no INIT / INIT ACK in the capture\n", style="dim")
        return out
    out.append(f"  initiate tag {tag(i['initiate_tag'])}  initial TSN {i['initial_tsn']}  a_rwnd {i['a_rwnd']}\n")
    out.append(f"  OS {i['outbound_streams']}  MIS {i['max_inbound_streams']}\n")
    out.append(f"  extensions: {', '.join(safe(x) for x in i['extensions']) or 'none'}\n")
    out.rstrip()
    return out


def ppids(stream: dict) -> str:
    """PPIDs of a stream by registry name where one exists: 'Diameter×3, 99×1'."""
    parts = []
    for k, n in stream["ppids"].items():
        try:
            name = ppid_name(int(k))
        except ValueError:
            name = None
        parts.append(f"{safe(name or k)}×{n}")
    return ", ".join(parts)


STREAM_COLUMNS = ("mark", "dir", "sid", "messages", "bytes", "SSN range", "gaps", "out of order", "unordered",
                  "fragmented", "incomplete", "PPIDs")


def stream_marker(s: dict) -> str:
    marks = []
    if s["ssn_gaps"]:
        marks.append("GAP")
    if s["out_of_order"]:
        marks.append("OOO")
    return " ".join(marks)


def stream_row(s: dict) -> list[Text]:
    mark = stream_marker(s)
    warn = "bold red" if mark else ""
    rng = "-" if s["first_ssn"] is None else f"{s['first_ssn']}..{s['last_ssn']}"
    return [Text(f"⚠ {mark}" if mark else "", style=warn), Text(DIRECTION_ARROWS.get(s["direction"], "?")),
            Text(str(s["sid"]), justify="right"), Text(str(s["messages"]), justify="right"),
            Text(str(s["bytes"]), justify="right"), Text(rng), Text(str(s["ssn_gaps"]), justify="right", style=warn),
            Text(str(s["out_of_order"]), justify="right", style=warn), Text(str(s["unordered"]), justify="right"),
            Text(str(s["fragmented_messages"]), justify="right"),
            Text(str(s.get("incomplete_messages", 0)), justify="right",
                 style="yellow" if s.get("incomplete_messages") else ""), Text(ppids(s))]


def ending_lines(a: dict) -> Text:
    """How the association ended: kind, who began it, the frame, the T bit and every abort cause."""
    e = a["ending"]
    out = Text()
    if e["kind"] == "none":
        out.append("no SHUTDOWN or ABORT in the capture\n")
        return out
    out.append(f"kind: {e['kind']}\n", style="bold red" if e["kind"] == "abort" else "bold")
    out.append(f"begun by: {e['by'] or '?'}\n")
    out.append(f"frame: {q(e['first_frame'])}\n")
    if "t_bit" in e:
        out.append(f"T bit: {'set (tag reflected)' if e['t_bit'] else 'clear'}\n")
    if e["kind"] == "abort":
        out.append(f"abort causes: {len(e['abort_causes']) or 'none'}\n")
        for c in e["abort_causes"]:
            out.append(f"  cause {c['code']} {safe(c['name'])}")
            if c.get("detail"):
                out.append(": ")
                out.append(safe(c["detail"]), style="italic")
            out.append("\n")
    out.rstrip()
    return out


def event_extra(ev: dict) -> str:
    """The fields of an event beyond ts, frame, type and endpoint, as `key=value`."""
    skip = {"ts", "frame", "type", "endpoint"}
    return "  ".join(f"{k}={safe(v)}" for k, v in ev.items() if k not in skip)


# -- the timeline ladder (rows laid out by sctpscope.export.ladder, shared with the text/SVG export) ---------
def ladder_header(a: dict, width: int) -> Text:
    """The two lanes' names above the ladder."""
    return Text(header_line(a, width), style="bold")


# -- a stream's ordering view ---------------------------------------------------------------------------------
ORDER_HEADER = f"{'#':>5} {'SSN':>6} {'TSN range':<21} {'frames':<11} {'time s':>10} {'bytes':>7} {'chk':>3} " \
               f"{'flags':<5} {'PPID':<10} marks"


def order_row(m, t0: float) -> Text:
    """One message of the ordering view: arrival index, SSN, TSNs, frames, time, size, flags, marks."""
    tsn = f"{m.tsn_first}" if m.tsn_first == m.tsn_last else f"{m.tsn_first}–{m.tsn_last}"
    frames = f"{m.frame_first}" if m.frame_first == m.frame_last else f"{m.frame_first}–{m.frame_last}"
    flags = ("U" if m.unordered else "") + ("F" if m.chunks > 1 else "") + ("R" if m.retransmitted else "")
    name = ppid_name(m.ppid) if m.ppid is not None else None
    ppid = safe(name or ("-" if m.ppid is None else m.ppid))
    ssn = "U" if m.unordered else str(m.seq)
    out = Text(f"{m.arrival:>5} {ssn:>6} {tsn:<21} {frames:<11} {m.ts - t0:10.6f} {m.bytes:>7} {m.chunks:>3} "
               f"{flags:<5} {ppid[:10]:<10} ")
    if m.missing_before:
        lo, hi = m.missing_before
        out.append(f"GAP: SSN {lo}{'' if lo == hi else '–' + str(hi)} missing ", style="bold red")
    if m.late:
        out.append("LATE: out of order ", style="bold yellow")
    if not m.unordered:
        if m.delivered is None:
            out.append(f"HOL: stuck, SSN {m.blocked_by} never came", style="bold magenta")
        elif m.delivered > m.ts:
            out.append(f"HOL: waited {(m.delivered - m.ts) * 1e3:.3f} ms for SSN {m.blocked_by}", style="magenta")
    if m.retransmitted:
        out.append(" ⟲ retransmitted", style="red")
    return out


def order_summary(direction: str, sid: int, so) -> Text:
    """The line above a stream's ordering view."""
    out = Text(f"stream {sid} {DIRECTION_ARROWS.get(direction, direction)}: {len(so.messages)} messages in "
               f"arrival order; ", style="bold")
    out.append(f"{so.gaps} gap(s)", style="bold red" if so.gaps else "")
    out.append(", ")
    out.append(f"{so.late} late", style="bold yellow" if so.late else "")
    out.append(", ")
    out.append(f"{so.blocked} head-of-line blocked", style="bold magenta" if so.blocked else "")
    out.append(f", {so.retransmissions} retransmitted chunk(s)")
    if so.incomplete:
        out.append(f", {so.incomplete} incomplete at the end", style="yellow")
    out.append("   flags: U unordered, F fragmented, R retransmitted", style="dim")
    return out


# -- the ending flow -------------------------------------------------------------------------------------------
def outstanding_text(tsns) -> str:
    if not tsns:
        return "none"
    if len(tsns) == 1:
        return f"1 TSN ({tsns[0]})"
    return f"{len(tsns)} TSNs ({tsns[0]}…{tsns[-1]})"


def beyond_negotiated(a: dict) -> list[str]:
    """Streams that carried DATA beyond what the INIT negotiation allows, as warning lines."""
    n = a.get("stream_counts") or a.get("negotiated") or {}
    out = []
    for s in a["streams"]:
        if s.get("beyond_negotiated"):
            limit = n.get(f"{s['direction']}_streams")
            out.append(f"⚠ DATA on stream {s['sid']} {DIRECTION_ARROWS.get(s['direction'], '?')}, beyond the "
                       f"{q(limit)} streams negotiated that way")
    return out


# -- follow: an association's user messages --------------------------------------------------------------------
FOLLOW_HEADER = f"{'#':>5} {'time s':>10} {'dir':<3} {'sid':>4} {'SSN/MID':>9} {'PPID':<14} {'bytes':>7} " \
                f"{'frames':<13} {'lat ms':>8}  upper layer / preview"


def _ppid_text(m) -> str:
    if m.ppid is None:
        return "-"
    name = m.ppid_name
    return safe(f"{m.ppid} {name}" if name else str(m.ppid))


def _frames_text(frames) -> str:
    if len(frames) == 1:
        return str(frames[0])
    return f"{frames[0]}–{frames[-1]} ({len(frames)})" if len(frames) > 2 else f"{frames[0]},{frames[1]}"


def follow_row(m, index: int, t0: float, upper: str | None) -> Text:
    """One reassembled message (analysis.follow.Message) in one line; `upper` its one-line upper-layer summary."""
    from sctpscope.analysis.follow import preview

    seq = ("MID " + str(m.mid)) if m.idata else ("U " + str(m.ssn) if m.unordered else str(m.ssn))
    lat = f"{m.latency * 1e3:8.3f}" if m.fragments > 1 else f"{'-':>8}"
    out = Text(f"{index:>5} {m.last_ts - t0:10.6f} {'I→R' if m.direction == 0 else 'R→I'} {m.sid:>4} {seq:>9} "
               f"{_ppid_text(m)[:14]:<14} {m.size:>7} {_frames_text(m.frames):<13} {lat}  ")
    if not m.complete:
        out.append("INCOMPLETE ", style="bold yellow")
    if upper:
        out.append(safe(upper), style="cyan")
        out.append("  ")
    out.append(preview(m.data, 48), style="dim")
    return out


def follow_detail(m, index: int, t0: float, upper: str | None, width: int = 100) -> Text:
    """The selected message: every field, its upper-layer summary and a longer escaped preview."""
    from sctpscope.analysis.follow import looks_like_text
    from sctpscope.text import escape_bytes

    d = "initiator → responder" if m.direction == 0 else "responder → initiator"
    seq = f"MID {m.mid}" if m.idata else f"SSN {m.ssn}"
    out = Text()
    out.append(f"message #{index}: {d}, stream {m.sid}, {seq}{' unordered' if m.unordered else ''}, PPID "
               f"{_ppid_text(m)}, {m.size} bytes in {m.fragments} chunk(s) "
               f"({'DATA' if not m.idata else 'I-DATA'}, first TSN {m.tsn})", style="bold")
    if not m.complete:
        out.append("  INCOMPLETE: fragments missing at the end of the capture", style="bold yellow")
    frames = ", ".join(map(str, m.frames[:20])) + (f", … ({len(m.frames)} frames)" if len(m.frames) > 20 else "")
    out.append(f"\nframes {frames}; first fragment at {m.first_ts - t0:.6f} s, last at {m.last_ts - t0:.6f} s, "
               f"latency {m.latency * 1e3:.3f} ms")
    if upper:
        out.append("\n" + safe(upper), style="cyan")
    data = m.data
    if not data:
        return out
    shown = data[:4 * max(16, (width - 8) // 4)] if looks_like_text(data) else data[:64]
    if looks_like_text(data):
        out.append("\n\"" + escape_bytes(shown) + ("…" if len(shown) < m.size else "") + "\"")
    else:
        for k in range(0, len(shown), 16):
            chunk = shown[k:k + 16]
            out.append(f"\n{k:04x}  {chunk.hex(' '):<47}  " + "".join(chr(b) if 0x20 <= b < 0x7F else "." for b in chunk))
        if len(shown) < m.size:
            out.append(f"\n… {m.size - len(shown)} more bytes", style="dim")
    return out
