"""analysis.series (the graphs' data) against tshark on real captures: DATA TSNs in order, the retransmissions
tshark's TSN analysis finds, SACK cumulative acks, gap blocks and a_rwnd."""
from __future__ import annotations

from conftest import CAPTURES, tshark_required
from sctpscope.analysis import series
from sctpscope.analysis.indexer import file_indexer, packets_of
from tui_support import tshark_fields


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
