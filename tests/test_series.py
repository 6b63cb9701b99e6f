"""analysis.series (the graphs' data) against tshark on real captures: DATA TSNs in order, the retransmissions
tshark's TSN analysis finds, SACK cumulative acks, gap blocks and a_rwnd; heartbeat RTTs per path, the primary
path's changes and the user-data bytes per stream and time bucket, against tshark and the scenario logs."""
from __future__ import annotations

import json
import subprocess
import sys
from decimal import Decimal

import pytest

from conftest import CAPTURES, tshark_required
from sctpscope.analysis import series
from sctpscope.analysis.indexer import file_indexer, packets_of
from tui_support import scenario_log, tshark_fields


def build(capture: str, which: int = 0) -> tuple[dict, series.Series]:
    ix = file_indexer([str(CAPTURES / capture)])
    while not ix.step(10):
        pass
    a = ix.result.associations[which]
    s = series.build(packets_of(ix.frames_of(a["_key"]), ix.store, ix.decoder()))
    ix.close()
    return a, s


@tshark_required
def test_tsn_series_matches_tshark_with_gap_blocks():
    cap = "scenario__loss_retransmit.pcapng"
    a, s = build(cap)
    d = s.directions[0]
    data = tshark_fields(cap, "sctp.chunk_type == 0 && ip.src == 198.18.1.1", "frame.number", "sctp.data_tsn_raw")
    assert [(p.frame, p.tsn) for p in d.data] == [(int(f), int(t)) for f, ts in data for t in ts.split(",")]
    rtx = [int(f) for (f,) in tshark_fields(cap, "sctp.retransmission", "frame.number",
                                            extra=("-o", "sctp.tsn_analysis:TRUE"))]
    assert sorted({p.frame for p in d.data if p.retransmission}) == sorted(set(rtx))
    sacks = tshark_fields(cap, "sctp.chunk_type == 3 && ip.src == 198.18.1.2", "frame.number",
                          "sctp.sack_cumulative_tsn_ack_raw", "sctp.sack_a_rwnd", "sctp.sack_gap_block_start",
                          "sctp.sack_gap_block_end")
    assert [(p.frame, p.cum, p.a_rwnd) for p in d.sacks] == [(int(f), int(c), int(w)) for f, c, w, _, _ in sacks]
    assert any(p.gaps for p in d.sacks)
    for p, (_, c, _, starts, ends) in zip(d.sacks, sacks):
        want = [] if not starts else [(int(c) + int(x) - d.base, int(c) + int(y) - d.base)   # no wrap here
                                      for x, y in zip(starts.split(","), ends.split(","))]
        assert list(p.gaps) == want
    (init_tsn,) = tshark_fields(cap, "sctp.chunk_type == 1", "sctp.init_initial_tsn")[0]
    assert d.base == int(init_tsn) and d.data[0].rel == d.data[0].tsn - int(init_tsn)
    assert d.flight[-1].value == 0 and max(x.value for x in d.flight) > 0
    assert s.directions[1].data == [] and s.unreadable == 0


@tshark_required
def test_a_rwnd_series_from_init_and_sacks():
    """The a_rwnd the responder advertised for the initiator's DATA: its INIT ACK's, then every SACK's."""
    cap = "scenario__streams_mixed.pcapng"
    a, s = build(cap)
    resp = a["responder"]["addresses"][0]
    want = [int(w) for (w,) in tshark_fields(cap, f"sctp.chunk_type == 2 && ip.src == {resp}", "sctp.initack_credit")]
    want += [int(w) for (ws,) in tshark_fields(cap, f"sctp.chunk_type == 3 && ip.src == {resp}", "sctp.sack_a_rwnd")
             for w in ws.split(",")]
    assert [x.value for x in s.directions[0].rwnd] == want


# -- heartbeats, primary path changes, throughput per stream (issue #6) -------------------------------------
def chunks(capture: str, port: int | None = None) -> list[dict]:
    """Every chunk tshark dissects in the capture (of the association using `port`), in capture order: frame,
    time (exact), path (ip.src, ip.dst), ports, sender side (0: the first INIT's sender), type, length, plus TSN
    and stream of a DATA / I-DATA chunk or the heartbeat info of a HEARTBEAT / HEARTBEAT ACK."""
    rows = tshark_fields(capture, "sctp" if port is None else f"sctp.port == {port}", "frame.number",
                         "frame.time_epoch", "ip.src", "ip.dst", "sctp.srcport", "sctp.dstport", "sctp.chunk_type",
                         "sctp.chunk_length",
                         "sctp.data_tsn_raw", "sctp.data_sid", "sctp.parameter_heartbeat_information")
    out = []
    for frame, t, src, dst, sport, dport, types, lengths, tsns, sids, infos in rows:
        tsn_it, sid_it, info_it = (iter(x.split(",") if x else ()) for x in (tsns, sids, infos))
        for ty, ln in zip(types.split(","), lengths.split(",")):
            c = {"frame": int(frame), "time": Decimal(t), "path": (src, dst), "port": int(sport),
                 "dport": int(dport), "type": int(ty), "length": int(ln)}
            if c["type"] in (0, 64):
                c["tsn"], c["sid"] = int(next(tsn_it)), int(next(sid_it), 0)
            elif c["type"] in (4, 5):
                c["info"] = next(info_it)
            out.append(c)
    init = next(c for c in out if c["type"] == 1)
    for c in out:           # who sent it: by port, or by address when both ends use the same port
        c["side"] = int(c["port"] != init["port"] if c["port"] != c["dport"] else c["path"][0] != init["path"][0])
    return out


def first_transmissions(cs: list[dict], side: int) -> list[dict]:
    """DATA / I-DATA chunks of `side` whose TSN that side had not sent before."""
    seen, out = set(), []
    for c in cs:
        if c["type"] in (0, 64) and c["side"] == side and c["tsn"] not in seen:
            seen.add(c["tsn"])
            out.append(c)
    return out


def heartbeats(cs: list[dict], side: int) -> tuple[list[tuple], list[int]]:
    """The HEARTBEATs `side` sent: (HEARTBEAT frame, ACK frame, path, RTT) for those the peer answered (the
    first later-or-same-time HEARTBEAT ACK echoing the same info, in any capture order), and the frames of
    the others."""
    mine = [c for c in cs if c["type"] == 4 and c["side"] == side]
    acks = [c for c in cs if c["type"] == 5 and c["side"] != side]
    answered, unanswered = [], []
    for hb in mine:
        ack = next((a for a in acks if a["info"] == hb["info"] and a["time"] >= hb["time"]), None)
        if ack is None:
            unanswered.append(hb["frame"])
        else:
            acks.remove(ack)
            answered.append((hb["frame"], ack["frame"], hb["path"], ack["time"] - hb["time"]))
    return answered, unanswered


def association_using(capture: str, port: int) -> tuple[dict, series.Series]:
    ix = file_indexer([str(CAPTURES / capture)])
    while not ix.step(10):
        pass
    (k,) = [k for k, a in enumerate(ix.result.associations) if a["initiator"]["port"] == port]
    ix.close()
    return build(capture, k)


@tshark_required
@pytest.mark.parametrize("cap", ["scenario__multihoming_failover.pcapng", "tcpdump__sctp-i-forward.pcap",
                                 "tcpdump__forces3.pcap", "tcpdump__sctp-pad.pcap"])
def test_heartbeat_rtts_match_tshark(cap):
    """Per direction, the HEARTBEATs and their RTTs are those of tshark's HEARTBEAT / HEARTBEAT ACK chunks
    matched by heartbeat info (also when a merged capture holds the ACK first: failover's frames 189/190),
    each on the HEARTBEAT's path; the unanswered ones are those tshark shows no ACK for."""
    port = next(c["port"] for c in chunks(cap) if c["type"] == 1)
    cs = chunks(cap, port)
    a, s = association_using(cap, port)
    for d in s.directions:
        answered, unanswered = heartbeats(cs, d.side)
        assert answered
        got = [h for h in d.heartbeats if h.ts is not None]
        assert [(h.sent_frame, h.frame, h.path) for h in got] == [x[:3] for x in answered]
        for h, x in zip(got, answered):
            assert h.rtt == pytest.approx(float(x[3]), abs=1e-6)
        assert [h.sent_frame for h in d.heartbeats if h.ts is None] == unanswered


def failover_window() -> tuple[float, float, str]:
    """multihoming_failover's log: when the client deleted 198.18.1.1 and added it back, in seconds after its
    COMM_UP; and the COOKIE ACK's time in the capture (tshark), which ties the log's clock to the capture's."""
    log = scenario_log("multihoming_failover")
    up = next(r["t"] for r in log if r["role"] == "c1" and r.get("state") == "COMM_UP")
    gone, back = [r["t"] - up for r in log if r["ev"] == "sh" and "198.18.1.1/" in r["cmd"]]
    (cookie_ack,) = tshark_fields("scenario__multihoming_failover.pcapng", "sctp.chunk_type == 11",
                                  "frame.time_epoch")[0]
    return gone, back, cookie_ack


@tshark_required
def test_failover_heartbeats_unanswered_exactly_while_the_address_was_gone():
    """multihoming_failover's log: the client deleted 198.18.1.1, then added it back. The server's
    HEARTBEATs to it that no ACK answered were all sent in between, those answered outside (the log's clock
    tied to the capture's by the client's COMM_UP, which the COOKIE ACK gives)."""
    cap = "scenario__multihoming_failover.pcapng"
    gone, back, cookie_ack = failover_window()
    _, s = build(cap)
    to_gone = [h for h in s.directions[1].heartbeats if h.path[1] == "198.18.1.1"]
    assert any(h.ts is None for h in to_gone) and any(h.ts is not None for h in to_gone)
    for h in to_gone:
        t = h.sent - float(cookie_ack)
        assert (gone < t < back + 0.1) == (h.ts is None), (h.sent_frame, t, gone, back)


@tshark_required
@pytest.mark.parametrize("cap", ["scenario__multihoming_failover.pcapng", "tcpdump__sctp-i-forward.pcap"])
def test_primary_path_changes_where_new_data_first_uses_the_new_path(cap):
    """A path change is marked at the first new DATA / I-DATA chunk (tshark: first time its TSN is sent) on
    another path (ip.src → ip.dst) than the previous new one; retransmissions elsewhere are no change. The
    report's primary_path_changes say the same."""
    cs = chunks(cap)
    a, s = build(cap)
    for d in s.directions:
        want, path = [], None
        for c in first_transmissions(cs, d.side):
            if path is not None and c["path"] != path:
                want.append((c["frame"], c["tsn"], path, c["path"]))
            path = c["path"]
        assert [(x.frame, x.tsn, x.old, x.new) for x in d.path_changes] == want
    assert s.directions[0].path_changes
    assert sorted(x.frame for d in s.directions for x in d.path_changes) == \
        sorted(x["frame"] for x in a["primary_path_changes"])


@tshark_required
def test_failover_path_changes_follow_the_address_deletion_and_return():
    """multihoming_failover: the client's new DATA leaves its first path after the log's address deletion and
    comes back to it after the address was added again."""
    cap = "scenario__multihoming_failover.pcapng"
    gone, back, cookie_ack = failover_window()
    _, s = build(cap)
    away, home = s.directions[0].path_changes
    assert away.new == home.old and home.new == away.old
    assert gone < away.ts - float(cookie_ack) < back < home.ts - float(cookie_ack)


@tshark_required
@pytest.mark.parametrize("cap", ["scenario__streams_mixed.pcapng", "pkts__sctp-test.cap",
                                 "scenario__loss_retransmit.pcapng", "tcpdump__sctp-i-forward.pcap",
                                 "scenario__multihoming_failover.pcapng"])
def test_throughput_buckets_add_up_to_tshark_stream_totals(cap):
    """Per direction and stream, at several bucket sizes, the buckets hold the user-data bytes (tshark's chunk
    length minus the 16-byte DATA / 20-byte I-DATA header) of the first transmissions in their time range,
    add up to the stream's total (also kept per stream), and open the bucket's last chunk; tshark's TSN
    analysis counts the left-out retransmissions."""
    cs = chunks(cap)
    a, s = build(cap)
    repeats = 0
    for d in s.directions:
        first = first_transmissions(cs, d.side)
        repeats += sum(1 for c in cs if c["type"] in (0, 64) and c["side"] == d.side) - len(first)
        for c in first:
            c["bytes"] = c["length"] - (16 if c["type"] == 0 else 20)
        assert d.streams == sorted({c["sid"] for c in first})
        assert d.types == {c["type"] for c in first}
        assert d.sent == {sid: sum(c["bytes"] for c in first if c["sid"] == sid) for sid in d.streams}
        for width in (s.end - s.start, 0.05, 0.002):
            for sid in (None, *d.streams):
                mine = [c for c in first if sid in (None, c["sid"])]
                buckets = series.throughput(d, s.start, width, sid)
                assert sum(b.bytes for b in buckets) == sum(c["bytes"] for c in mine)
                for b in buckets:
                    inside = [c for c in mine if b.ts <= float(c["time"]) < b.ts + b.width]
                    assert b.bytes == sum(c["bytes"] for c in inside) and b.chunks == len(inside)
                    assert b.frame == max(inside, key=lambda c: c["time"])["frame"]
    rtx = tshark_fields(cap, "sctp.retransmission", "sctp.retransmission", extra=("-o", "sctp.tsn_analysis:TRUE"))
    assert repeats == sum(len(r[0].split(",")) for r in rtx)


def test_bucket_width_is_round_and_fits():
    """1, 2 or 5 × 10^k seconds, the smallest that cuts the span into at most that many buckets."""
    for span, n, want in ((1.8, 58, 0.05), (1.0, 100, 0.01), (0.0905, 58, 0.002), (13.5, 10, 2.0), (1e-9, 5, 1e-6)):
        assert series.bucket_width(span, n) == pytest.approx(want)


@tshark_required
@pytest.mark.parametrize("cap", ["scenario__multihoming_failover.pcapng", "tcpdump__sctp-i-forward.pcap",
                                 "tcpdump__forces3.pcap", "tcpdump__sctp-pad.pcap"])
def test_report_path_heartbeat_rtts_match_tshark(cap):
    """The report's per-path heartbeat RTTs (count, min, max) are tshark's HEARTBEAT / HEARTBEAT ACK pairs
    on that path, also those whose ACK the capture holds first (the failover capture, merged from two
    interfaces)."""
    port = next(c["port"] for c in chunks(cap) if c["type"] == 1)
    cs = chunks(cap, port)
    rtts: dict[tuple, list] = {}
    for side in (0, 1):
        for _, _, path, rtt in heartbeats(cs, side)[0]:
            rtts.setdefault(tuple(path), []).append(float(rtt))
    doc = json.loads(subprocess.run([sys.executable, "-m", "sctpscope", "report", "--json", str(CAPTURES / cap)],
                                    capture_output=True, text=True, check=True).stdout)
    (a,) = [a for a in doc["associations"] if a["initiator"]["port"] == port]
    got = {(p["src"], p["dst"]): p["heartbeat_rtt"] for p in a["paths"] if p["heartbeat_rtt"]}
    assert set(got) == set(rtts)
    for path, r in rtts.items():
        assert got[path]["count"] == len(r), path
        assert got[path]["min"] == pytest.approx(min(r), abs=1e-6)
        assert got[path]["max"] == pytest.approx(max(r), abs=1e-6)
