"""Pairing without a handshake, one kind of evidence at a time, on a real multihomed association.

`scenario__multihoming_failover` is one usrsctp association between a client on 198.18.1.1/198.18.2.1 and a
server on 198.18.1.2/198.18.2.2. Cut down with tshark display filters (no handshake left), each direction
is seen only on address pairs that are not each other's reverse, so the addresses alone cannot join them:

- only DATA client 2.1 -> server 1.2 and DATA/HEARTBEAT server 2.2 -> client 1.1: nothing ties the two
  flows: two associations, each with the other endpoint's tag unknown and an `ambiguous_pairing` anomaly
  naming the other flow;
- client DATA on 2.1 -> 1.2 and HEARTBEATs on 2.1 -> 2.2, with only the server's HEARTBEAT ACKs on
  2.2 -> 2.1: one association (heartbeat echo; the client's flow is seen on two address pairs);
- client DATA on 2.1 -> 1.2 with the server's SACKs on 2.2 -> 2.1: one association (SACK).

Expected tags, packet and chunk counts come from tshark's decode of the cut files.
"""
from __future__ import annotations

import json
import subprocess
from collections import Counter
from pathlib import Path

import pytest

from conftest import CAPTURES, run_sctpscope, tshark_required

pytestmark = [pytest.mark.tshark, tshark_required]

SOURCE = CAPTURES / "scenario__multihoming_failover.pcapng"
C1, C2, S1, S2 = "198.18.1.1", "198.18.2.1", "198.18.1.2", "198.18.2.2"
NO_HANDSHAKE = "!(sctp.chunk_type == 1 || sctp.chunk_type == 2 || sctp.chunk_type == 10 || sctp.chunk_type == 11)"


def _cut(tmp_path: Path, name: str, flt: str) -> Path:
    out = tmp_path / f"{name}.pcapng"
    subprocess.run(["tshark", "-n", "-r", str(SOURCE), "-Y", f"({flt}) && {NO_HANDSHAKE}", "-w", str(out)],
                   check=True, capture_output=True, timeout=120)
    return out


def _flows(path: Path) -> Counter:
    """(src, dst, vtag) -> packets, from tshark."""
    out = subprocess.run(["tshark", "-n", "-r", str(path), "-T", "fields", "-e", "ip.src", "-e", "ip.dst",
                          "-e", "sctp.verification_tag"], check=True, capture_output=True, text=True,
                         timeout=120).stdout
    return Counter(tuple(line.split("\t")) for line in out.splitlines() if line)


def _report(path: Path) -> dict:
    return json.loads(run_sctpscope("report", "--json", path, check=True).stdout)


def _tag(vtag_field: str) -> int:
    return int(vtag_field, 16)


def test_two_flows_with_no_evidence_stay_apart_and_say_why(tmp_path):
    path = _cut(tmp_path, "apart", f"(ip.src == {C2} && ip.dst == {S1} && sctp.chunk_type == 0) || "
                                   f"(ip.src == {S2} && ip.dst == {C1})")
    flows = _flows(path)
    assert len({v for _, _, v in flows}) == 2           # the cut holds both directions of the association
    doc = _report(path)
    assocs = doc["associations"]
    assert len(assocs) == 2
    for a in assocs:
        sender = a["initiator"]
        (src, dst, vtag), = [f for f in flows if _tag(f[2]) == a["responder"]["vtag"]]
        assert sender["addresses"] == [src] and a["responder"]["addresses"] == [dst]
        assert sender["vtag"] is None                   # its partner never shown by the wire
        assert a["packets"] == flows[(src, dst, vtag)]
        amb = [x for x in a["anomalies"] if x["kind"] == "ambiguous_pairing"]
        assert len(amb) == 1
        other = next(b for b in assocs if b is not a)
        other_tag = f"0x{other['responder']['vtag']:08x}"
        assert other_tag in amb[0]["detail"] and "HEARTBEAT ACK" in amb[0]["detail"]


def test_heartbeat_ack_echo_joins_them(tmp_path):
    path = _cut(tmp_path, "hb", f"(ip.src == {C2} && ip.dst == {S1} && sctp.chunk_type == 0) || "
                                f"(ip.src == {C2} && ip.dst == {S2} && sctp.chunk_type == 4 && !(sctp.chunk_type == 3)) || "
                                f"(ip.src == {S2} && ip.dst == {C2} && sctp.chunk_type == 5 && !(sctp.chunk_type == 3))")
    flows = _flows(path)
    tags = {(s, d): _tag(v) for s, d, v in flows}
    assert tags[(C2, S1)] == tags[(C2, S2)]             # one flow of the client's, on two address pairs
    doc = _report(path)
    (a,) = doc["associations"]
    assert not [x for x in a["anomalies"] if x["kind"] in ("ambiguous_pairing", "unexpected_vtag")]
    assert a["packets"] == sum(flows.values())
    assert {a["initiator"]["vtag"], a["responder"]["vtag"]} == {tags[(C2, S1)], tags[(S2, C2)]}
    client = "initiator" if a["initiator"]["addresses"] == [C2] else "responder"
    assert a["chunks"][client]["HEARTBEAT"] == sum(n for (s, d, _), n in flows.items() if (s, d) == (C2, S2))
    # each HEARTBEAT whose info a HEARTBEAT ACK echoes gives a round-trip time on the client's path to 2.2
    info = subprocess.run(["tshark", "-n", "-r", str(path), "-Y", "sctp.chunk_type == 4 || sctp.chunk_type == 5",
                           "-T", "fields", "-e", "sctp.chunk_type", "-e", "sctp.parameter_heartbeat_information"],
                          check=True, capture_output=True, text=True).stdout.splitlines()
    sent = [line.split("\t")[1] for line in info if line.startswith("4\t")]
    echoed = {line.split("\t")[1] for line in info if line.startswith("5\t")}
    (hb_path,) = [p for p in a["paths"] if (p["src"], p["dst"]) == (C2, S2)]
    assert hb_path["heartbeat_rtt"]["count"] == sum(1 for x in sent if x in echoed) > 0


def test_sack_fitting_the_tsns_joins_them(tmp_path):
    path = _cut(tmp_path, "sack", f"(ip.src == {C2} && ip.dst == {S1} && sctp.chunk_type == 0) || "
                                  f"(ip.src == {S2} && ip.dst == {C2} && sctp.chunk_type == 3)")
    flows = _flows(path)
    assert {(s, d) for s, d, _ in flows} == {(C2, S1), (S2, C2)}     # not each other's reverse
    doc = _report(path)
    (a,) = doc["associations"]
    assert not [x for x in a["anomalies"] if x["kind"] in ("ambiguous_pairing", "unexpected_vtag")]
    tags = {(s, d): _tag(v) for s, d, v in flows}
    assert {a["initiator"]["vtag"], a["responder"]["vtag"]} == {tags[(C2, S1)], tags[(S2, C2)]}
    # every DATA chunk the client sent is acknowledged by the server's SACKs in the same association
    data = subprocess.run(["tshark", "-n", "-r", str(path), "-Y", f"ip.src == {C2}", "-T", "fields",
                           "-e", "sctp.data_tsn"], check=True, capture_output=True, text=True).stdout.split()
    client = "initiator" if a["initiator"]["addresses"] == [C2] else "responder"
    assert a["chunks"][client]["DATA"] == sum(len(x.split(",")) for x in data)
    acked = a["acknowledgements"][client]
    cums = subprocess.run(["tshark", "-n", "-r", str(path), "-Y", f"ip.src == {S2} && sctp.chunk_type == 3", "-T",
                           "fields", "-e", "sctp.sack_cumulative_tsn_ack"], check=True, capture_output=True,
                          text=True).stdout.split()
    assert acked["sacks"] == len(cums)
    assert acked["tsns_acked"] == len({int(t) for x in data for t in x.split(",")})   # every client TSN


def test_tui_list_and_frames_of_a_capture_cut_after_the_handshakes(tmp_path):
    """The terminal UI indexes the NGAP-style capture cut after its handshakes: lone flows joined while it
    indexes; the list shows one row per gNB address and each association's frame index (what its tabs
    decode again) holds exactly the frames tshark finds between that gNB and the AMF."""
    import asyncio

    pytest.importorskip("textual")
    from sctpscope.analysis.indexer import KEY, unpack_entry
    from sctpscope.tui.app import make_app
    from tui_support import SIZE, loaded

    source = CAPTURES / "scenario__ngap_many_gnbs.pcapng"
    last_cookie_ack = max(int(x) for x in subprocess.run(
        ["tshark", "-n", "-r", str(source), "-Y", "sctp.chunk_type == 11", "-T", "fields", "-e", "frame.number"],
        check=True, capture_output=True, text=True).stdout.split())
    cut = tmp_path / "cut.pcapng"
    subprocess.run(["editcap", "-r", str(source), str(cut), f"{last_cookie_ack + 1}-1000000"], check=True,
                   capture_output=True)
    rows = subprocess.run(["tshark", "-n", "-r", str(cut), "-Y", "sctp", "-T", "fields", "-e", "frame.number",
                           "-e", "ip.src", "-e", "ip.dst"], check=True, capture_output=True, text=True).stdout
    amf = "198.18.38.1"
    frames_of_peer: dict[str, set[int]] = {}
    for line in rows.splitlines():
        n, src, dst = line.split("\t")
        peer = dst if src == amf else src
        frames_of_peer.setdefault(peer, set()).add(int(n))
    # the multihomed gNB: its two addresses are one peer
    multi = {p for p in frames_of_peer if p.startswith("198.18.39.")}
    for p in multi:
        frames_of_peer[p.replace("198.18.39.", "198.18.38.")] |= frames_of_peer.pop(p)

    async def run():
        app = make_app(cut)
        async with app.run_test(size=SIZE) as pilot:
            await loaded(app, pilot)
            result = app.indexer.result
            assert len(result.associations) == len(frames_of_peer) == 4
            for a in result.associations:
                addrs = set(a["initiator"]["addresses"]) | set(a["responder"]["addresses"])
                peer = next(x for x in addrs if x.startswith("198.18.38.") and x != amf)
                got = {unpack_entry(e)[0] for e in app.indexer.frames_of(a[KEY])}
                assert got == frames_of_peer[peer], peer
                assert a["packets"] == len(got)
    asyncio.run(run())


def test_incomplete_messages_of_a_capture_cut_inside_fragmented_messages(tmp_path):
    """`streams[].incomplete_messages`: messages begun (B bit) whose last fragment never came. The
    streams_mixed scenario sends 3000-4000-byte messages over a 1500-byte MTU; cut the capture after each
    frame that carries a first fragment, and count per stream, from tshark's DATA chunks of the cut, the
    first fragments whose message does not end within the cut."""
    source = CAPTURES / "scenario__streams_mixed.pcapng"
    fields = subprocess.run(["tshark", "-n", "-r", str(source), "-o", "sctp.relative_tsns:FALSE", "-Y",
                             "sctp.chunk_type == 0", "-T", "fields", "-e", "frame.number", "-e", "ip.src",
                             "-e", "sctp.data_tsn_raw", "-e", "sctp.data_sid", "-e", "sctp.data_b_bit",
                             "-e", "sctp.data_e_bit"], check=True, capture_output=True, text=True).stdout
    chunks = []             # (frame, src, tsn, sid, B, E)
    for line in fields.splitlines():
        frame, src, *cols = line.split("\t")
        for tsn, sid, b, e in zip(*(c.split(",") for c in cols)):
            chunks.append((int(frame), src, int(tsn), int(sid, 0), b in ("1", "True"), e in ("1", "True")))
    begins = sorted({f for f, _, _, _, b, e in chunks if b and not e})
    assert len(begins) >= 3
    for cut_at in begins[:3]:
        within = [c for c in chunks if c[0] <= cut_at]
        seen = {(src, tsn): (sid, b, e) for _, src, tsn, sid, b, e in within}
        want: Counter = Counter()
        for (src, tsn), (sid, b, e) in seen.items():
            if not b or e:
                continue
            t = tsn
            while (src, t) in seen and not seen[(src, t)][2]:
                t += 1
            if (src, t) not in seen:            # the message's end is not in the cut
                want[(src, sid)] += 1
        assert want, "the cut leaves a message unfinished"
        cut = tmp_path / f"cut{cut_at}.pcapng"
        subprocess.run(["editcap", "-r", str(source), str(cut), f"1-{cut_at}"], check=True, capture_output=True)
        (a,) = _report(cut)["associations"]
        client = a["initiator"]["addresses"][0]
        got = Counter()
        for s in a["streams"]:
            src = client if s["direction"] == "initiator_to_responder" else a["responder"]["addresses"][0]
            if s["incomplete_messages"]:
                got[(src, s["sid"])] = s["incomplete_messages"]
        assert got == want, cut_at


def test_flows_joined_late_give_the_association_known_from_the_first_packet(tmp_path):
    """Both directions have packets before the evidence comes (the server's HEARTBEAT to the client's other
    address first, then DATA both ways, then a SACK that fits the client's TSNs): the two lone flows are
    joined late, and the association rebuilt from their journals is exactly the one an analysis that knew
    both tags from the first packet gives (the tags from tshark, bound before the first frame)."""
    from sctpscope.analysis.association import Endpoint
    from sctpscope.analysis.tracker import Analysis
    from sctpscope.pipeline import decode_files

    path = _cut(tmp_path, "late", f"(ip.src == {C2} && ip.dst == {S1} && sctp.chunk_type == 0) || "
                                  f"(ip.src == {S2} && ip.dst == {C1}) || "
                                  f"(ip.src == {S2} && ip.dst == {C2} && sctp.chunk_type == 3)")
    rows = subprocess.run(["tshark", "-n", "-r", str(path), "-T", "fields", "-e", "ip.src", "-e", "sctp.srcport",
                           "-e", "sctp.dstport", "-e", "sctp.verification_tag", "-e", "sctp.chunk_type"],
                          check=True, capture_output=True, text=True).stdout.splitlines()
    first_src, sport, dport, first_tag, _ = rows[0].split("\t")
    other_tag = next(r.split("\t")[3] for r in rows if r.split("\t")[0] != first_src)
    sack_at = next(i for i, r in enumerate(rows) if r.split("\t")[4].split(",")[-1] == "3")
    assert first_src == S2 and sack_at > 1 and any(r.split("\t")[0] == C2 for r in rows[:sack_at])

    joined = Analysis()
    joined.add_all(decode_files([str(path)], []))
    joined.finish()
    assert len(joined.folds) == 2                   # two lone flows replaced by the association joining them

    known = Analysis()
    frames = list(decode_files([str(path)], []))
    first = frames[0].sctp[0]
    a = known._new(first, Endpoint(int(sport), int(other_tag, 16)), Endpoint(int(dport), int(first_tag, 16)))
    known._bind(a, 0)
    known._bind(a, 1)
    known.add_all(frames)
    known.finish()

    assert [x.as_dict() for x in joined.associations] == [x.as_dict() for x in known.associations]


def test_the_tui_index_drops_the_rows_of_flows_joined_late(tmp_path):
    """Indexed progressively (a snapshot after every frame, as the TUI shows it), the two lone flows appear
    as rows, then leave (`Progress.gone`) when the SACK joins them; their frames move to the association
    that replaced them."""
    from sctpscope.analysis.indexer import KEY, Indexer, unpack_entry
    from sctpscope.pipeline import decode_files

    path = _cut(tmp_path, "late", f"(ip.src == {C2} && ip.dst == {S1} && sctp.chunk_type == 0) || "
                                  f"(ip.src == {S2} && ip.dst == {C1}) || "
                                  f"(ip.src == {S2} && ip.dst == {C2} && sctp.chunk_type == 3)")
    ix = Indexer()
    shown: set[int] = set()
    gone: set[int] = set()
    frames = list(decode_files([str(path)], []))
    for frame in frames:
        ix.add(frame)
        p = ix.progress()
        shown |= {a[KEY] for a in p.changed}
        gone |= set(p.gone)
        assert len(shown - gone) == p.associations
    ix.finish()
    ix.step()
    (final,) = ix.result.associations
    assert shown - gone == {final[KEY]} and len(gone) == 2
    assert sorted(unpack_entry(e)[0] for e in ix.frames_of(final[KEY])) == [f.number for f in frames]
