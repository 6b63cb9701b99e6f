"""Statistics over the report (report/stats.py): chunk counts per association and side, the per-path table,
associations by ending, top anomaly kinds.

Truth: tshark's decode of the same capture (`tshark -r F -Y sctp -T fields -e sctp.srcport -e sctp.dstport
-e ip.src -e ip.dst -e sctp.chunk_type`): chunks counted by the port (and address) that sent them; an
association ended gracefully when tshark sees a SHUTDOWN on its ports, by an abort when it sees an ABORT
(the scenario peers' logs say which sockets aborted); anomaly kinds recounted from the report itself.
"""
from __future__ import annotations

import subprocess
from collections import Counter, defaultdict

import pytest

from conftest import CAPTURES, run_sctpscope, tshark_required
from sctpscope.cli import run_report
from sctpscope.decode.sctp import chunk_name
from sctpscope.report.stats import capture_summary, chunk_counts, path_rows


def _tshark_rows(path) -> list[tuple[int, int, str, str, list[int]]]:
    out = subprocess.run(["tshark", "-n", "-r", str(path), "-Y", "sctp", "-T", "fields", "-E", "separator=;",
                          "-e", "sctp.srcport", "-e", "sctp.dstport", "-e", "ip.src", "-e", "ip.dst", "-e",
                          "sctp.chunk_type"], capture_output=True, text=True, check=True).stdout
    rows = []
    for line in out.splitlines():
        sp, dp, src, dst, types = line.split(";")
        rows.append((int(sp), int(dp), src, dst, [int(t) for t in types.split(",") if t]))
    return rows


@pytest.fixture(scope="module")
def many():
    path = CAPTURES / "scenario__many_assocs.pcapng"
    return path, run_report([str(path)], (9899,), True, 1), _tshark_rows(path)


@tshark_required
def test_chunk_counts_per_side_like_tshark(many):
    """Each association of many_assocs has its own client port: tshark's chunks by sending port."""
    _, doc, rows = many
    sent: dict[int, Counter] = defaultdict(Counter)
    for sp, _, _, _, types in rows:
        sent[sp].update(chunk_name(t) for t in types)
    assert len(doc["associations"]) == 20
    for a in doc["associations"]:
        ini, res = a["initiator"]["port"], a["responder"]["port"]
        mine = [(n, i, r) for n, i, r in chunk_counts(a)]
        theirs_i = Counter(sent[ini])
        theirs_r = Counter()
        for sp, dp, _, _, types in rows:
            if sp == res and dp == ini:
                theirs_r.update(chunk_name(t) for t in types)
        assert {n: i for n, i, _ in mine if i} == dict(theirs_i)
        assert {n: r for n, _, r in mine if r} == dict(theirs_r)
        every = chunk_counts(a, every_type=True)
        assert len(every) >= 25 and [x for x in every if x[1] or x[2]] == mine


@tshark_required
@pytest.mark.parametrize("name", ["scenario__many_assocs.pcapng", "pkts__sctp-www.cap", "scenario__abort_reason.pcapng",
                                  "pkts__sctp.cap"])
def test_endings_like_tshark(name):
    """graceful: tshark sees a SHUTDOWN on the association's ports; abort: an ABORT; none: neither (these
    captures have one association per port pair)."""
    path = CAPTURES / name
    doc = run_report([str(path)], (9899,), True, 1)
    rows = _tshark_rows(path)
    kinds = Counter()
    pairs = set()
    for a in doc["associations"]:
        ports = frozenset((a["initiator"]["port"], a["responder"]["port"]))
        pairs.add(ports)
        types = {t for sp, dp, _, _, ts in rows if {sp, dp} == ports for t in ts}
        kinds["abort" if 6 in types else "graceful" if 7 in types else "none"] += 1
    assert len(pairs) == len(doc["associations"])
    summary = capture_summary(doc)
    assert summary["by_ending"] == {k: kinds[k] for k in ("graceful", "abort", "none")}
    assert summary["associations"] == sum(summary["by_ending"].values()) > 0


@tshark_required
def test_path_table_like_tshark():
    """Multihoming: packets and DATA chunks per address pair as tshark counts them."""
    path = CAPTURES / "scenario__multihoming_failover.pcapng"
    doc = run_report([str(path)], (9899,), True, 1)
    rows = _tshark_rows(path)
    packets = Counter((src, dst) for _, _, src, dst, _ in rows)
    data = Counter()
    for _, _, src, dst, types in rows:
        data[(src, dst)] += types.count(0)
    mine = path_rows(doc["associations"][0])
    assert len(mine) == 4
    assert {(r["src"], r["dst"]): r["packets"] for r in mine} == dict(packets)
    assert {(r["src"], r["dst"]): r["data_chunks"] for r in mine} == {k: v for k, v in data.items()}
    ini = set(doc["associations"][0]["initiator"]["addresses"])
    assert all((r["by"] == "initiator") == (r["src"] in ini) for r in mine)


def test_top_anomalies_and_abort_causes():
    """Recounted from the report's own records: anomaly kinds (most frequent first) and abort causes."""
    path = CAPTURES / "arkime__m3ua_synthetic.pcap"
    doc = run_report([str(path)], (9899,), True, 1)
    kinds = Counter(x["kind"] for a in doc["associations"] for x in a["anomalies"])
    top = capture_summary(doc)["top_anomalies"]
    assert len(kinds) >= 3
    assert [(x["kind"], x["count"]) for x in top] == sorted(kinds.items(), key=lambda kv: (-kv[1], kv[0]))[:10]
    for x in top:
        assert x["associations"] == sorted(a["id"] for a in doc["associations"]
                                           if any(y["kind"] == x["kind"] for y in a["anomalies"]))


def test_abort_cause_from_the_scenario_log():
    """abort_reason: the peer aborted with a reason (its log's `abort` event); the summary names the cause."""
    path = CAPTURES / "scenario__abort_reason.pcapng"
    doc = run_report([str(path)], (9899,), True, 1)
    s = capture_summary(doc)
    assert s["by_ending"]["abort"] == 1 and s["abort_causes"] == {"User-Initiated Abort": 1}
    out = run_sctpscope("report", path, check=True).stdout.splitlines()
    assert "associations by ending: graceful 0, abort 1, none 0 (aborted 1)" in out
    assert "abort causes: User-Initiated Abort 1" in out
