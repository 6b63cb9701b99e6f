"""Server endpoints seen from the wire: one address:port that several associations share.

A one-to-many socket (or a listening one-to-one server) shows as one responder endpoint with many
associations; how many were up at once, and whether one was closed while others went on (SCTP_EOF or
close() of one association), is what a user reads from it. Derived from finished association records only,
so it works the same after a parallel merge.
"""

from __future__ import annotations


def _established(a: dict) -> tuple[float, float] | None:
    """When the association was up as the API sees it: COMM_UP until SHUTDOWN_COMP/COMM_LOST (or the end)."""
    up = down = None
    for ev in a["events"]:
        if ev["type"] == "COMM_UP" and up is None:
            up = ev["ts"]
        elif ev["type"] in ("SHUTDOWN_COMP", "COMM_LOST") and down is None:
            down = ev["ts"]
    if up is None:
        if a["handshake_seen"]:
            return None
        up = a["start"]              # mid-capture association: up from its first packet
    return up, a["end"] if down is None else down


def servers(associations: list[dict]) -> list[dict]:
    """Responder endpoints with two or more associations, in order of their first association."""
    owner: dict[tuple[str, int], int] = {}       # (address, port) -> group
    groups: list[list[dict]] = []
    for a in associations:
        r = a["responder"]
        keys = [(addr, r["port"]) for addr in r["addresses"]]
        found = {owner[k] for k in keys if k in owner}
        if found:
            g = min(found)
            for other in sorted(found - {g}, reverse=True):     # the association joins two groups
                groups[g].extend(groups[other])
                groups[other] = []
                for k, v in owner.items():
                    if v == other:
                        owner[k] = g
        else:
            g = len(groups)
            groups.append([])
        groups[g].append(a)
        for k in keys:
            owner[k] = g
    out = []
    for members in groups:
        if len(members) < 2:
            continue
        spans = [s for s in map(_established, members) if s is not None]
        points = sorted([(s, 1) for s, _ in spans] + [(e, -1) for _, e in spans], key=lambda p: (p[0], p[1]))
        now = peak = 0
        for _, step in points:
            now += step
            peak = max(peak, now)
        ended_early = sum(1 for s in spans if any(o[1] > s[1] and o[0] < s[1] for o in spans if o is not s))
        out.append({
            "port": members[0]["responder"]["port"],
            "addresses": sorted({x for a in members for x in a["responder"]["addresses"]}),
            "associations": sorted(a["id"] for a in members),
            "peers": len({(tuple(a["initiator"]["addresses"][:1]), a["initiator"]["port"]) for a in members}),
            "max_concurrent": peak,
            "closed_while_others_open": ended_early,
        })
    return out
