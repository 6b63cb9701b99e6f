"""Statistics over a report document (contract `sctpscope.report/1`): chunk counts per association and side,
the per-path table, and a capture-wide summary (associations by ending and state, top anomaly kinds).

Pure functions of the document: they work the same on a parallel run's merged report, a filtered report
and a report read back from JSON. Anomaly kinds are counted from each association's `anomalies` list (at
most analysis.anomalies.MAX_PER_ASSOCIATION per association; `anomaly_count` has the full number).
"""

from __future__ import annotations

from collections import Counter

from sctpscope.decode.sctp import CHUNK_NAMES
from sctpscope.text import escape_text

ENDINGS = ("graceful", "abort", "none")
STATES = ("established", "shutting_down", "closed", "aborted", "incomplete")


def chunk_counts(a: dict, every_type: bool = False) -> list[tuple[str, int, int]]:
    """(chunk name, sent by the initiator, sent by the responder) for every chunk type the association carried
    (every_type: every chunk type of the registry too, zeros included), in chunk-type order."""
    ini, res = a["chunks"]["initiator"], a["chunks"]["responder"]
    order = {name: code for code, name in CHUNK_NAMES.items()}
    names = set(ini) | set(res)
    if every_type:
        names |= set(order)

    def key(name: str) -> tuple[int, str]:
        if name in order:
            return order[name], name
        tail = name.rpartition("_")[2]
        return (int(tail) if tail.isdigit() else 256), name
    return [(n, ini.get(n, 0), res.get(n, 0)) for n in sorted(names, key=key)]


def path_rows(a: dict) -> list[dict]:
    """One row per source/destination address pair: packets, DATA chunks, retransmissions, heartbeats, the
    heartbeat RTT (mean, ms) and which side sends on it."""
    ini = set(a["initiator"]["addresses"])
    rows = []
    for p in a.get("paths", []):
        rtt = p.get("heartbeat_rtt")
        rows.append({"src": p["src"], "dst": p["dst"],
                     "by": "initiator" if p["src"] in ini and p["dst"] not in ini else "responder",
                     "packets": p["packets"], "data_chunks": p["data_chunks"],
                     "retransmissions": p["retransmissions"], "heartbeats": p["heartbeats"],
                     "rtt_ms": None if not rtt else rtt["mean"] * 1000.0, "first_frame": p["first_frame"]})
    return rows


def capture_summary(doc: dict, top: int = 10) -> dict:
    """Associations by ending kind and by state, abort causes, top anomaly kinds (count, associations)."""
    assocs = doc["associations"]
    endings = Counter(a["ending"]["kind"] for a in assocs)
    states = Counter(a["state"] for a in assocs)
    by_who = Counter((a["ending"]["kind"], a["ending"]["by"]) for a in assocs if a["ending"]["kind"] != "none")
    causes = Counter(c["name"] for a in assocs for c in a["ending"].get("abort_causes", []))
    kinds: Counter = Counter()
    where: dict[str, set] = {}
    for a in assocs:
        for x in a["anomalies"]:
            kinds[x["kind"]] += 1
            where.setdefault(x["kind"], set()).add(a["id"])
    return {
        "associations": len(assocs),
        "by_ending": {k: endings.get(k, 0) for k in ENDINGS},
        "by_state": {k: states.get(k, 0) for k in STATES if states.get(k)},
        "ended_by": {f"{kind}_by_{who}": n for (kind, who), n in sorted(by_who.items())},
        "abort_causes": dict(causes.most_common()),
        "top_anomalies": [{"kind": k, "count": n, "associations": sorted(where[k])}
                          for k, n in sorted(kinds.items(), key=lambda kv: (-kv[1], kv[0]))[:top]],
        "retransmissions": sum(a["retransmissions"]["initiator"] + a["retransmissions"]["responder"] for a in assocs),
    }


def summary_lines(doc: dict) -> list[str]:
    """The capture-wide summary as lines of text (the human report)."""
    s = capture_summary(doc)
    if not s["associations"]:
        return []
    e = s["by_ending"]
    lines = [f"associations by ending: graceful {e['graceful']}, abort {e['abort']}, none {e['none']}"
             + (" (" + ", ".join(f"{k} {v}" for k, v in s["by_state"].items()) + ")" if s["by_state"] else "")]
    if s["abort_causes"]:
        lines.append("abort causes: " + ", ".join(f"{escape_text(k)} {v}" for k, v in s["abort_causes"].items()))
    if s["top_anomalies"]:
        lines.append("top anomalies: " + ", ".join(f"{x['kind']} {x['count']} (in {len(x['associations'])})"
                                                  for x in s["top_anomalies"]))
    return lines


def chunk_line(a: dict) -> str:
    """`chunks I/R: DATA 12/0, SACK 0/11, ...` for the human report."""
    return "chunks I/R: " + ", ".join(f"{n} {i}/{r}" for n, i, r in chunk_counts(a))


def path_lines(a: dict) -> list[str]:
    rows = path_rows(a)
    if len(rows) < 2:
        return []
    out = ["path (src → dst)                           by         pkts   data  retx    hb  rtt ms"]
    for r in rows:
        pair = f"{escape_text(r['src'])} → {escape_text(r['dst'])}"
        rtt = "-" if r["rtt_ms"] is None else f"{r['rtt_ms']:.3f}"
        out.append(f"{pair:42} {r['by']:9} {r['packets']:5} {r['data_chunks']:6} {r['retransmissions']:5} "
                   f"{r['heartbeats']:5}  {rtt}")
    return out
