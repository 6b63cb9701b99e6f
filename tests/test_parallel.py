"""Analysis state merges exactly: the report of N workers splitting a capture equals the single-worker one."""
from __future__ import annotations

import pytest

from conftest import all_captures, repo_captures
from sctpscope.analysis.runner import analyse
from sctpscope.report.document import build_report


def _doc(path, jobs):
    res = analyse([str(path)], jobs=jobs)
    return build_report(res.infos, res.totals, res.associations, res.unassociated())


@pytest.mark.parametrize("path", all_captures(), ids=lambda p: p.name)
def test_three_workers_equal_one(path):
    one = _doc(path, 1)
    three = _doc(path, 3)
    assert three == one


def test_two_files_read_as_one_capture():
    """Two files in order: frame numbers go on across them and totals add up."""
    a, b = (p for p in repo_captures() if p.name in ("pkts__sctp-test.cap", "pkts__sctp-www.cap"))
    both = analyse([str(a), str(b)], jobs=1)
    first, second = analyse([str(a)], jobs=1), analyse([str(b)], jobs=1)
    assert both.totals.packets == first.totals.packets + second.totals.packets == 74 + 84
    assert len(both.associations) == len(first.associations) + len(second.associations)
    assert both.associations[-1]["last_frame"] == 74 + second.associations[-1]["last_frame"]


def _analysis(path, snapshot_every=0, members=False):
    from sctpscope.analysis.tracker import Analysis
    from sctpscope.pipeline import decode_files

    analysis = Analysis()
    if members:
        analysis.members = []
    snaps = []
    seen = 0
    for n, frame in enumerate(decode_files([str(path)], []), 1):
        analysis.add(frame)
        if members:
            # one entry per counted SCTP packet of the frame
            assert len(analysis.members) == sum(1 for r in frame.sctp if r.packet.header_ok)
            seen += len(analysis.members)
            analysis.members.clear()
        if snapshot_every and n % snapshot_every == 0:
            snaps.append(analysis.snapshot())
    last = analysis.snapshot()
    analysis.finish()
    return analysis, snaps, last, seen


@pytest.mark.parametrize("path", all_captures(), ids=lambda p: p.name)
def test_snapshots_leave_the_analysis_unchanged(path):
    """Live views and progressive indexing take snapshots while packets keep coming: taking them changes
    nothing, and a snapshot after the last packet is the final report."""
    plain, _, _, _ = _analysis(path)
    watched, snaps, last, seen = _analysis(path, snapshot_every=3, members=True)
    final = plain.association_dicts()
    assert watched.association_dicts() == final
    assert last == final
    assert seen == plain.totals.sctp_packets


@pytest.mark.parametrize("sample", [0, 7], ids=["unsampled", "sampled-7"])
@pytest.mark.parametrize("name", ["scenario__many_assocs.pcapng", "pkts__sctp_init_collision.cap",
                                  "usrsctp__echo_rtx_ipv4.pcapng"])
def test_unsampled_port_pairs_are_dealt_out_and_still_merge_exactly(monkeypatch, name, sample):
    """Port pairs outside the planning sample go to the least loaded worker at first sight: the result is the
    same."""
    from sctpscope.analysis import runner

    path = next(p for p in repo_captures() if p.name == name)
    one = _doc(path, 1)
    monkeypatch.setattr(runner, "PLAN_SAMPLE_FRAMES", sample)
    assert _doc(path, 2) == one


def test_plan_balances_the_busiest_port_pairs():
    """Longest-processing-time first: the loads differ by at most the busiest pair's count."""
    from sctpscope.analysis.runner import plan
    from sctpscope.decode.frame import Partition
    from sctpscope.pipeline import sample_port_keys

    path = next(p for p in repo_captures() if p.name == "scenario__many_assocs.pcapng")
    counts = sample_port_keys([str(path)], 10**6)
    assert len(counts) > 2 and sum(counts.values()) > 100
    for parts in (2, 3):
        owners = plan(counts, parts)
        loads = [0] * parts
        for key, n in counts.items():
            assert Partition(0, parts, owners).owner(key) == owners[key]
            loads[owners[key]] += n
        assert max(loads) - min(loads) <= max(counts.values())
