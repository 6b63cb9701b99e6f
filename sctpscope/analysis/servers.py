"""Server endpoints seen from the wire: one address:port that several associations share.

A one-to-many socket (or a listening one-to-one server) shows as one responder endpoint with many
associations; how many were up at once, and whether one was closed while others went on (SCTP_EOF or
close() of one association), is what a user reads from it. Derived from finished association records only,
so it works the same after a parallel merge.
"""

from __future__ import annotations

from bisect import bisect_left


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


def server_view(a: dict) -> dict:
    """What `servers` reads of an association dict (a few hundred bytes, where the dict is several KB)."""
    events = []
    for ev in a["events"]:
        if ev["type"] in ("COMM_UP", "SHUTDOWN_COMP", "COMM_LOST"):
            events.append({"type": ev["type"], "ts": ev["ts"]})
    return {"id": a["id"], "start": a["start"], "end": a["end"], "handshake_seen": a["handshake_seen"],
            "events": events, "responder": {"port": a["responder"]["port"], "addresses": a["responder"]["addresses"]},
            "initiator": {"port": a["initiator"]["port"], "addresses": a["initiator"]["addresses"][:1]}}


def servers(associations: list[dict]) -> list[dict]:
    """Responder endpoints with two or more associations, in order of their first association.
    O(n log n) in associations (a server of 100,000 associations too)."""
    owner: dict[tuple[str, int], int] = {}       # (address, port) -> group
    groups: list[list[dict]] = []
    keys_of: list[list[tuple[str, int]]] = []    # per group: the (address, port) keys pointing to it
    for a in associations:
        r = a["responder"]
        keys = [(addr, r["port"]) for addr in r["addresses"]]
        found = {owner[k] for k in keys if k in owner}
        if found:
            g = min(found)
            for other in sorted(found - {g}, reverse=True):     # the association joins two groups
                groups[g].extend(groups[other])
                groups[other] = []
                for k in keys_of[other]:
                    owner[k] = g
                keys_of[g].extend(keys_of[other])
                keys_of[other] = []
        else:
            g = len(groups)
            groups.append([])
            keys_of.append([])
        groups[g].append(a)
        for k in keys:
            if owner.get(k) != g:
                owner[k] = g
                keys_of[g].append(k)
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
        out.append({
            "port": members[0]["responder"]["port"],
            "addresses": sorted({x for a in members for x in a["responder"]["addresses"]}),
            "associations": sorted(a["id"] for a in members),
            "peers": len({(tuple(a["initiator"]["addresses"][:1]), a["initiator"]["port"]) for a in members}),
            "max_concurrent": peak,
            "closed_while_others_open": _ended_early(spans),
        })
    return out


def _ended_early(spans: list[tuple[float, float]]) -> int:
    """How many spans end while another one (begun before that end) goes on after it: for each span, the
    latest end among the other spans begun before its end, from prefix maxima over the spans by start."""
    order = sorted(range(len(spans)), key=lambda i: spans[i][0])
    starts = [spans[i][0] for i in order]
    rank = {i: r for r, i in enumerate(order)}
    best: list[tuple[float, int, float]] = []    # per prefix: (highest end, its rank, second highest end)
    hi, at, second = float("-inf"), -1, float("-inf")
    for r, i in enumerate(order):
        e = spans[i][1]
        if e > hi:
            hi, at, second = e, r, hi
        elif e > second:
            second = e
        best.append((hi, at, second))
    n = 0
    for i, (s, e) in enumerate(spans):
        k = bisect_left(starts, e)              # spans begun before this one ends
        if k == 0:
            continue
        hi, at, second = best[k - 1]
        other = second if at == rank[i] else hi
        if other > e:
            n += 1
    return n
