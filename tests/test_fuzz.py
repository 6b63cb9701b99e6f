"""Issue 15's fuzz harness (tests/fuzz_harness.py), briefly: mutated single packets and mutated whole captures
give a report or one clear error, never a traceback, a hang or a runaway allocation. bench/fuzz_campaign.py
runs the same harness for millions of seeds."""
from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import fuzz_harness as fh


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.integers(1, 2**40).filter(lambda s: s % fh.WHOLE_SHARE))
def test_mutated_single_packets(seed):
    assert fh.run_one(seed, limit=30) == "ok", fh.explain(seed)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.integers(1, 2**34).map(lambda s: s * fh.WHOLE_SHARE))
def test_mutated_whole_captures(seed):
    assert fh.run_one(seed, limit=60) in ("ok", "error"), fh.explain(seed)


def test_campaign_counts(tmp_path):
    """The campaign script's own run: 200 seeds, every outcome counted, none a finding."""
    import subprocess
    import sys
    from conftest import REPO
    proc = subprocess.run([sys.executable, str(REPO / "bench" / "fuzz_campaign.py"), "200", "--start", "7"],
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    totals = [ln for ln in proc.stdout.splitlines() if ln.startswith("totals: ")][0]
    counts = dict(part.rsplit(" ", 1) for part in totals[len("totals: "):].split(", "))
    assert int(counts["ok"]) + int(counts["error"]) == 200
    assert counts["traceback"] == counts["hang"] == counts["memory"] == counts["over_1GiB"] == "0"
