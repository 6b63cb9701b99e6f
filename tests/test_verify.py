"""`sctpscope verify`: tshark through pyshark decodes each capture too, and no field may disagree."""
from __future__ import annotations

import pytest

from conftest import all_captures, repo_captures, run_sctpscope, tshark_required

pytestmark = [pytest.mark.tshark, tshark_required]


@pytest.mark.parametrize("path", all_captures(), ids=lambda p: p.name)
def test_verify_agrees_with_tshark(path):
    proc = run_sctpscope("verify", path)
    assert "Traceback" not in proc.stderr
    assert proc.stdout.strip(), f"verify printed nothing (exit {proc.returncode}): {proc.stderr[-2000:]}"
    last = proc.stdout.strip().splitlines()[-1]
    assert proc.returncode == 0, proc.stdout[-3000:]
    assert last.endswith(" 0 with disagreements")


def test_verify_reports_a_disagreement(tmp_path):
    """A capture whose decode we corrupt on purpose (a DATA TSN changed after the fact) is flagged."""
    from sctpscope.oracle.fields import differences, our_fields
    from sctpscope.pipeline import decode_files

    frames = [f for f in decode_files([str(repo_captures()[0].parent / "pkts__sctp-test.cap")], [])]
    pkt = next(r.packet for f in frames for r in f.sctp if any(c.type == 0 for c in r.packet.chunks))
    mine = our_fields(pkt)
    theirs = {k: list(v) for k, v in mine.items()}
    theirs["data_tsn_raw"][0] += 1
    assert [d[0] for d in differences(mine, theirs)] == ["data_tsn_raw"]
