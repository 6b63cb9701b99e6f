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
