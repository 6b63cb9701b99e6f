"""The compact index of a large association (analysis.lazyassoc) gives exactly what the full decode gives:
the same steps (labels, marks, frames), runs, retransmissions, jumps, ending flow, stream DataRefs and
follow messages, and the ladder's folded rows map both ways as the list of rows did."""
from __future__ import annotations

import random

import pytest

from conftest import CAPTURES
from sctpscope.analysis import timeline
from sctpscope.analysis.follow import Follower
from sctpscope.analysis.indexer import KEY, file_indexer, packets_of, unpack_entry
from sctpscope.analysis.lazyassoc import AssocIndex, FoldedRows, FrameNumbers, LazyMessages, LazyTimeline
from sctpscope.export.walk import Rereader

CAPS = ["scenario__loss_retransmit.pcapng", "scenario__partial_delivery_idata.pcapng",
        "scenario__partial_delivery.pcapng", "scenario__stream_reset.pcapng", "scenario__streams_mixed.pcapng",
        "scenario__multihoming_failover.pcapng", "pcapplusplus__ip-frag.pcap", "pkts__sctp-www.cap",
        "scenario__abort_reason.pcapng", "tcpdump__sctp-i-forward.pcap"]


def _indexed(path):
    ix = file_indexer([str(path)])
    while not ix.step(5):
        pass
    return ix, ix.progress(everything=True).changed


def _eager_messages(a, entries, ix) -> list:
    fol = Follower.for_association(a, keep_bytes=512)
    reader = Rereader(ix.store, ix.decoder())
    out = []
    for e in entries:
        n, index, _side = unpack_entry(e)
        try:
            fr, pl = reader.read(n)
        except (KeyError, OSError, ValueError):
            continue
        recs = [(r, b) for r, b in zip(fr.sctp, pl) if r.packet.header_ok]
        if index < len(recs):
            out.extend(fol.packet(*recs[index]))
    return out + fol.finish()


def _old_rows(tl, unfolded) -> list[int]:
    """The ladder's rows as the list it used to build."""
    rows, runs, k, i, n = [], tl.runs, 0, 0, len(tl.steps)
    while i < n:
        if k < len(runs) and runs[k].start == i:
            rows.append(-(k + 1))
            if k in unfolded:
                rows.extend(range(runs[k].start, runs[k].end + 1))
            i = runs[k].end + 1
            k += 1
        else:
            rows.append(i)
            i += 1
    return rows


def _runs(tl):
    return [(r.start, r.end, r.data, r.sacks, r.retransmissions, r.tsn_ranges) for r in tl.runs]


@pytest.mark.parametrize("name", CAPS)
def test_lazy_equals_eager(name):
    ix, assocs = _indexed(CAPTURES / name)
    for a in assocs:
        entries = ix.frames_of(a[KEY])
        idx = AssocIndex(a, ix.store, ix.decoder())
        assert idx.scan(entries, True)
        tl = timeline.build(packets_of(entries, ix.store, ix.decoder()))
        lt = LazyTimeline(idx)
        assert list(lt.steps) == tl.steps
        assert _runs(lt) == _runs(tl)
        assert list(lt.retransmissions()) == tl.retransmissions()
        assert (lt.handshake(), lt.first_retransmission(), lt.ending()) == \
            (tl.handshake(), tl.first_retransmission(), tl.ending())
        assert lt.ending_flow() == timeline.ending_flow(tl)
        assert sorted(lt.data.keys()) == sorted(tl.data)
        for k, refs in tl.data.items():
            assert list(lt.data[k]) == refs
        for s in {st.frame for st in tl.steps}:
            first = next(i for i, st in enumerate(tl.steps) if st.frame >= s)
            assert lt.step_at_frame(s) == first
        rtx = tl.retransmissions()
        for here in range(-1, len(tl.steps), max(1, len(tl.steps) // 50)):
            after = [i for i in rtx if i > here]
            before = [i for i in rtx if i < here]
            assert lt.next_retransmission(here, 1) == (after[0] if after else None)
            assert lt.next_retransmission(here, -1) == (before[-1] if before else None)
        msgs = _eager_messages(a, entries, ix)
        lm = LazyMessages(idx)
        assert len(lm) == len(msgs)
        assert list(lm) == msgs
        assert lm.count_incomplete(range(len(lm))) == sum(1 for m in msgs if not m.complete)
        frames = FrameNumbers(idx.entries, idx.packets)
        assert list(frames) == [unpack_entry(e)[0] for e in entries]
        assert idx.nbytes() > 0


def test_folded_rows_match_the_list():
    ix, assocs = _indexed(CAPTURES / "scenario__loss_retransmit.pcapng")
    a = max(assocs, key=lambda d: d["packets"])
    entries = ix.frames_of(a[KEY])
    tl = timeline.build(packets_of(entries, ix.store, ix.decoder()))
    # more runs than the capture has: every DATA/SACK stretch of two or more
    runs = timeline.find_runs([s if i % 7 else timeline.Step(0, 0, 0, 0, 4, "", "heartbeat")
                               for i, s in enumerate(tl.steps)], 2)
    tl.runs = runs
    rng = random.Random(1)
    rows = FoldedRows(len(tl.steps), [r.start for r in runs], [r.end for r in runs])
    for unfolded in (set(), {0}, set(rng.sample(range(len(runs)), len(runs) // 2)), set(range(len(runs)))):
        rows.set_unfolded(unfolded if len(unfolded) < len(runs) else "all")
        want = _old_rows(tl, unfolded)
        assert len(rows) == len(want)
        assert list(rows) == want
        for r, x in enumerate(want):
            assert rows.index(x) == r
        assert rows.unfolded() == unfolded
    assert len(runs) >= 3
    rows.set_unfolded(set())
    rows.toggle(1)
    rows.toggle(2)
    rows.toggle(1)
    assert list(rows) == _old_rows(tl, {2})


def test_decimated_series_keeps_extremes_and_retransmissions():
    """The graphs' series of a large association: per time column the first, last, lowest and highest point
    and every retransmission of the full series; the throughput histogram adds up to the bytes sent."""
    from sctpscope.analysis import series

    ix, assocs = _indexed(CAPTURES / "scenario__loss_retransmit.pcapng")
    a = max(assocs, key=lambda d: d["packets"])
    entries = ix.frames_of(a[KEY])
    full = series.build(packets_of(entries, ix.store, ix.decoder()))
    idx = AssocIndex(a, ix.store, ix.decoder())
    idx.scan(entries, True)
    dec = idx.builder.series
    for side in (0, 1):
        f, d = full.directions[side], dec.directions[side]
        assert [p for p in f.data if p.retransmission] == [p for p in d.data if p.retransmission]
        assert set(map(id, d.data)) <= set(map(id, d.data))
        assert len(d.data) <= len(f.data)
        if f.data:
            assert min(p.rel for p in f.data) == min(p.rel for p in d.data)
            assert max(p.rel for p in f.data) == max(p.rel for p in d.data)
            assert (f.data[0], f.data[-1]) == (d.data[0], d.data[-1])
        sent = sum(p.length for p in f.data if not p.retransmission)
        buckets = d.data.histogram.buckets(full.start, 0.5, None)
        assert sum(b.bytes for b in buckets) == sent
        want = series.throughput(f, full.start, 0.5)
        assert [(b.ts, b.bytes) for b in buckets] == [(b.ts, b.bytes) for b in want]
