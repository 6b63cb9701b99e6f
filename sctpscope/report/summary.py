"""`sctpscope report` without --json: a human summary of the contract document, per association."""

from __future__ import annotations

from sctpscope.text import escape_text
from sctpscope.report.stats import chunk_line, path_lines, summary_lines


def _ep(ep: dict) -> str:
    addrs = ep["addresses"]
    first = escape_text(addrs[0]) if addrs else "?"
    more = f" (+{len(addrs) - 1}: {', '.join(escape_text(a) for a in addrs[1:])})" if len(addrs) > 1 else ""
    return f"{first}:{ep['port']}{more}"


def _tag(v) -> str:
    return "?" if v is None else f"0x{v:08x}"


def _init_line(name: str, ep: dict) -> str:
    i = ep.get("init")
    if not i:
        return f"    {name}: no INIT/INIT ACK seen, tag {_tag(ep['vtag'])}"
    ext = ", ".join(i["extensions"]) or "none"
    return (f"    {name}: tag {_tag(i['initiate_tag'])} OS {i['outbound_streams']} MIS "
            f"{i['max_inbound_streams']} initial TSN {i['initial_tsn']} a_rwnd {i['a_rwnd']}; extensions: {ext}")


def render_association(a: dict) -> list[str]:
    lines = [f"association {a['id']}: {_ep(a['initiator'])} ⇄ {_ep(a['responder'])}  "
             f"[{a['state']}] frames {a['first_frame']}–{a['last_frame']}, {a['packets']} packets, "
             f"{a['end'] - a['start']:.3f} s"]
    lines.append(_init_line("initiator", a["initiator"]))
    lines.append(_init_line("responder", a["responder"]))
    n = a["negotiated"]
    if n:
        lines.append(f"    negotiated streams: initiator→responder {n['initiator_to_responder_streams']}, "
                     f"responder→initiator {n['responder_to_initiator_streams']}")
    else:
        lines.append("    negotiated streams: unknown (no handshake in the capture)")
    c = a.get("stream_counts")
    if c and n and c != n:
        lines.append(f"    streams at the end (RE-CONFIG Add Streams): initiator→responder "
                     f"{c['initiator_to_responder_streams']}, responder→initiator {c['responder_to_initiator_streams']}")
    r = a["retransmissions"]
    lines.append(f"    retransmissions: initiator {r['initiator']}, responder {r['responder']}")
    lines.append("    " + chunk_line(a))
    lines.extend("    " + x for x in path_lines(a))
    if a["streams"]:
        lines.append("    direction  sid  msgs  chunks    bytes  ord unord frag  ssn range      gaps ooo  inc  ppids")
        for s in a["streams"]:
            d = "I→R" if s["direction"] == "initiator_to_responder" else "R→I"
            rng = "-" if s["first_ssn"] is None else f"{s['first_ssn']}..{s['last_ssn']}"
            ppids = ",".join(f"{k}×{v}" for k, v in s["ppids"].items())
            lines.append(f"    {d:9} {s['sid']:4} {s['messages']:5} {s['data_chunks']:7} {s['bytes']:8} "
                         f"{s['ordered']:4} {s['unordered']:5} {s['fragmented_messages']:4}  {rng:13} "
                         f"{s['ssn_gaps']:4} {s['out_of_order']:3} {s.get('incomplete_messages', 0):4}  {ppids}")
    e = a["ending"]
    if e["kind"] == "none":
        lines.append("    ending: none seen")
    else:
        lines.append(f"    ending: {e['kind']} begun by the {e['by']} in frame {e['first_frame']}")
        for c in e["abort_causes"]:
            detail = f": {escape_text(c['detail'])}" if c["detail"] else ""
            lines.append(f"      cause {c['code']} {c['name']}{detail}")
    if a["anomalies"]:
        lines.append(f"    anomalies ({a.get('anomaly_count', len(a['anomalies']))}):")
        for x in a["anomalies"][:20]:
            lines.append(f"      frame {x['frame']}: {x['kind']}: {escape_text(x['detail'])}")
        if len(a["anomalies"]) > 20:
            lines.append(f"      … {len(a['anomalies']) - 20} more (see --json)")
    return lines


def _set_note(note: dict | None) -> str:
    """How a file of a set follows the one read before it (report: captures[].set)."""
    if not note:
        return ""
    if "overlaps_previous_s" in note:
        return f"; OVERLAPS the previous file by {note['overlaps_previous_s']:.6f} s"
    return f"; gap of {note['gap_after_previous_s']:.6f} s after the previous file"


def render_summary(doc: dict) -> str:
    lines = []
    for cap in doc["captures"]:
        lines.append(f"{escape_text(cap['path'])}: {cap['format']} ({', '.join(cap['link_types'])}), "
                     f"{cap['packets']} packets, {cap['sctp_packets']} SCTP" + _set_note(cap.get("set")))
        for p in cap.get("problems", []):
            lines.append(f"  ! {p['code']} at offset {p['offset']}: {escape_text(p['detail'])}")
    t = doc["totals"]
    lines.append(f"totals: {t['packets']} packets, {t['sctp_packets']} SCTP packets, "
                 f"{t['associations']} associations, {t['bad_checksums']} bad checksums, "
                 f"{t['malformed']} malformed")
    if t["chunks"]:
        lines.append("chunks: " + ", ".join(f"{k} {v}" for k, v in t["chunks"].items()))
    if t.get("decode_problems"):
        lines.append("decode problems: " + ", ".join(f"{k} {v}" for k, v in t["decode_problems"].items()))
    u = doc["unassociated"]
    if u["packets"]:
        lines.append(f"unassociated (out of the blue): {u['packets']} packets")
    lines.extend(summary_lines(doc))
    for srv in doc.get("servers", []):
        addrs = ", ".join(escape_text(x) for x in srv["addresses"])
        lines.append(f"server {addrs} port {srv['port']}: {len(srv['associations'])} associations from "
                     f"{srv['peers']} peers, up to {srv['max_concurrent']} at once"
                     + (f", {srv['closed_while_others_open']} closed while others stayed up"
                        if srv["closed_while_others_open"] else ""))
    for a in doc["associations"]:
        lines.append("")
        lines.extend(render_association(a))
    return "\n".join(lines) + "\n"
