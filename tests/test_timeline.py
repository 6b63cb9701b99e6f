"""The per-association analyses behind the TUI: the progressive indexer, the timeline (ladder rows,
retransmission marks, ending flow) and the stream ordering view.

Truths: tshark (chunks per frame, `sctp.retransmission` with TSN analysis on) and the usrsctp peers' logs of
what each receiver got (captures/scenario__*.log.jsonl `recv` lines: stream, SSN, first TSN, length, flags).
"""
from __future__ import annotations

import pytest

from conftest import CAPTURES, repo_captures, tshark_required
from sctpscope.analysis import ordering, timeline
from sctpscope.analysis.indexer import KEY, file_indexer, packets_of, unpack_entry
from sctpscope.analysis.runner import analyse
from tui_support import scenario_log, tshark_fields


def _indexed(name: str):
    ix = file_indexer([str(CAPTURES / name)])
    while not ix.step(0.5):
        pass
    return ix


def _timeline(ix, a: dict) -> timeline.Timeline:
    return timeline.build(packets_of(ix.frames_of(a[KEY]), ix.store, ix.decoder()))


@pytest.mark.parametrize("path", repo_captures(), ids=lambda p: p.name)
def test_indexer_in_small_steps_gives_the_report(path):
    """Indexed in steps of a millisecond with a snapshot between steps, the final associations equal
    `sctpscope report`'s, and each association's frame list has one entry per packet counted."""
    ix = file_indexer([str(path)])
    steps = 0
    while not ix.step(0.001):
        steps += 1
        ix.progress()
    mine = [{k: v for k, v in a.items() if k != KEY} for a in ix.result.associations]
    assert mine == analyse([str(path)], jobs=1).associations
    for a in ix.result.associations:
        assert len(ix.frames_of(a[KEY])) == a["packets"]
    ix.close()


@tshark_required
def test_association_frames_are_tsharks():
    """many_assocs: each association's frames are exactly the frames tshark finds on its client's port."""
    ix = _indexed("scenario__many_assocs.pcapng")
    assert len(ix.result.associations) == 20
    for a in ix.result.associations[::7]:
        port = a["initiator"]["port"]
        want = [(int(f), 0 if int(src) == port else 1)
                for f, src in tshark_fields("scenario__many_assocs.pcapng", f"sctp.port == {port}",
                                            "frame.number", "sctp.srcport")]
        assert [(unpack_entry(e)[0], unpack_entry(e)[2]) for e in ix.frames_of(a[KEY])] == want


@tshark_required
def test_init_collision_frames_are_folded_into_one_association():
    """sctp_init_collision (both ends use port 12345): after eight aborted tries both ends sent INIT (tshark
    frames 17 and 18); the one association holds every frame from 17 on, and each INIT is drawn from the
    address that sent it."""
    ix = _indexed("pkts__sctp_init_collision.cap")
    a = max(ix.result.associations, key=lambda x: x["packets"])
    assert a["init_collision"]
    entries = ix.frames_of(a[KEY])
    assert len(entries) == a["packets"]
    tl = _timeline(ix, a)
    assert [unpack_entry(e)[0] for e in entries] == list(range(a["first_frame"], a["last_frame"] + 1))
    inits = [(s.frame, s.side) for s in tl.steps if s.type == 1]
    srcs = tshark_fields("pkts__sctp_init_collision.cap", f"sctp.chunk_type == 1 && frame.number >= {a['first_frame']}",
                         "frame.number", "ip.src")
    assert len(srcs) == 2
    assert inits == [(int(f), 0 if src in a["initiator"]["addresses"] else 1) for f, src in srcs]
    assert {s for _, s in inits} == {0, 1}


@tshark_required
@pytest.mark.parametrize("name", ["scenario__loss_retransmit.pcapng", "usrsctp__echo_rtx_ipv4.pcapng",
                                  "scenario__multihoming_failover.pcapng"])
def test_timeline_chunks_and_retransmissions_are_tsharks(name):
    """Every chunk of every association, in order, with tshark's chunk types; the steps marked as
    retransmissions are the (frame, TSN) pairs tshark's TSN analysis flags."""
    ix = _indexed(name)
    per_frame = {int(f): [int(t) for t in types.split(",")]
                 for f, types in tshark_fields(name, "sctp", "frame.number", "sctp.chunk_type")}
    want_rtx = {(int(f), int(t)) for f, tsns in tshark_fields(name, "sctp.retransmission", "frame.number",
                                                              "sctp.data_tsn_raw",
                                                              extra=("-o", "sctp.tsn_analysis:TRUE"))
                for t in tsns.split(",")}
    got_rtx = set()
    for a in ix.result.associations:
        tl = _timeline(ix, a)
        frames = sorted({s.frame for s in tl.steps})
        for f in frames:
            assert [s.type for s in tl.steps if s.frame == f] == per_frame[f], f
        got_rtx |= {(s.frame, s.tsn) for s in tl.steps if s.retransmission}
        for r in tl.runs:
            assert r.length >= timeline.RUN_MIN
            assert all(s.family in ("data", "sack") for s in tl.steps[r.start:r.end + 1])
            for edge in (r.start - 1, r.end + 1):
                assert not (0 <= edge < len(tl.steps)) or tl.steps[edge].family not in ("data", "sack")
    assert got_rtx == want_rtx and want_rtx


@tshark_required
def test_ending_flow_is_tsharks():
    """sendall_chat: each association's flow is the SHUTDOWN, SHUTDOWN ACK, SHUTDOWN COMPLETE frames tshark
    finds on its client port, begun by the client (the initiator); nothing was outstanding (the SHUTDOWN
    acknowledged everything, and every SACK before it covered the client's DATA)."""
    ix = _indexed("scenario__sendall_chat.pcapng")
    for a in ix.result.associations:
        port = a["initiator"]["port"]
        want = tshark_fields("scenario__sendall_chat.pcapng", f"sctp.port == {port} && (sctp.chunk_type == 7 || sctp.chunk_type == 8 "
                             "|| sctp.chunk_type == 14)",
                             "frame.number", "sctp.chunk_type")
        tl = _timeline(ix, a)
        flow = timeline.ending_flow(tl)
        assert [(str(tl.steps[i].frame), str(tl.steps[i].type)) for i in flow.steps] == [tuple(w) for w in want]
        assert flow.kind == "graceful" and flow.began_by == 0 and flow.outstanding == ((), ())


# Every scenario whose capture holds exactly what the receivers got. prsctp_forward_tsn is left out: there
# the sender abandons messages (FORWARD TSN) the capture still shows, which its receiver never delivers.
RECV_SCENARIOS = ["abort_reason", "eof_one_of_many", "init_streams", "loss_retransmit", "many_assocs",
                  "multihoming_failover", "sendall_chat", "stream_reset", "streams_mixed", "udp_encap"]


@pytest.mark.parametrize("name", RECV_SCENARIOS)
def test_ordering_is_what_each_receiver_got(name):
    """For every association, direction and stream: the messages in arrival order (SSN or U, first TSN,
    length) are the receiving peer's `recv` lines, in order."""
    log = scenario_log(name)
    recv = [r for r in log if r["ev"] == "recv"]
    lport = {r["role"]: r["lport"] for r in log if r["ev"] == "start"}
    ix = _indexed(f"scenario__{name}.pcapng")
    compared = 0
    for a in ix.result.associations:
        tl = _timeline(ix, a)
        client = a["initiator"]["port"]
        for (side, sid), refs in tl.data.items():
            if side == 0:
                want = [r for r in recv if r["role"] == "server" and r["peer_port"] == client and r["sid"] == sid]
            else:
                want = [r for r in recv if r["role"] != "server" and lport[r["role"]] == client and r["sid"] == sid]
            got = [("U" if m.unordered else m.seq, m.tsn_first, m.bytes) for m in ordering.stream_order(refs).messages]
            assert got == [("U" if "unordered" in r["flags"] else r["ssn"], r["tsn"], r["len"]) for r in want]
            compared += len(want)
    assert compared == len(recv)


def _ref(tsn, ssn, ts, flags=3, frame=None):
    return timeline.DataRef(frame or tsn, ts, tsn, ssn, 0, flags, 46, 100, False, False)


def test_head_of_line_blocking_by_the_rule():
    """RFC 9260 §6.6 by hand: SSN 0 at t=1, SSN 2 at t=2, SSN 3 at t=2.5, SSN 1 at t=4. SSN 2 comes after a
    gap (SSN 1 missing) and waits 2 s, SSN 3 waits 1.5 s, SSN 1 is late; an unordered message never waits."""
    so = ordering.stream_order([_ref(10, 0, 1.0), _ref(12, 2, 2.0), _ref(13, 3, 2.5), _ref(14, 9, 3.0, flags=7),
                                _ref(11, 1, 4.0)])
    m = {(x.seq, x.unordered): x for x in so.messages}
    assert m[(2, False)].missing_before == (1, 1) and m[(2, False)].wait == 2.0 and m[(2, False)].blocked_by == 1
    assert m[(3, False)].wait == 1.5 and m[(3, False)].missing_before is None
    assert m[(1, False)].late and m[(1, False)].wait == 0.0
    assert m[(9, True)].wait == 0.0 and not m[(9, True)].late
    assert (so.gaps, so.late, so.blocked) == (1, 1, 2)


def test_fragments_and_retransmissions_by_the_rule():
    """DATA fragments (B, middle, E over consecutive TSNs, one SSN) make one message; a TSN sent again adds
    nothing but marks its message retransmitted; a message still missing its end is counted incomplete."""
    refs = [_ref(20, 0, 1.0, flags=2), _ref(21, 0, 1.1, flags=0), _ref(21, 0, 1.2, flags=0),
            _ref(22, 0, 1.3, flags=1), _ref(23, 1, 2.0, flags=2)]
    refs[2].retransmission = True
    so = ordering.stream_order(refs)
    (msg,) = so.messages
    assert (msg.tsn_first, msg.tsn_last, msg.chunks, msg.bytes, msg.retransmitted) == (20, 22, 3, 300, True)
    assert so.retransmissions == 1 and so.incomplete == 1
