"""How many workers a report uses: never more than the sampled port-pair loads can use (an association is
not split across workers, and every worker reads the whole capture), and -v says why. Counts are the real
captures' port pairs (tshark's sctp.srcport/dstport agree with them)."""
from __future__ import annotations

import json
from collections import Counter

import pytest

from conftest import CAPTURES, TSHARK, run_sctpscope, tshark_required
from sctpscope.analysis import runner
from sctpscope.pipeline import sample_port_keys


def _counts(name):
    return sample_port_keys([str(CAPTURES / name)], runner.PLAN_SAMPLE_FRAMES)


@tshark_required
@pytest.mark.parametrize("name", ["scenario__many_assocs.pcapng", "usrsctp__tsctp_ipv4.pcapng",
                                  "scenario__ngap_many_gnbs.pcapng"])
def test_sample_counts_are_tshark_port_pairs(name):
    import subprocess

    out = subprocess.run([TSHARK, "-r", str(CAPTURES / name), "-Y", "sctp", "-T", "fields", "-e", "sctp.srcport",
                          "-e", "sctp.dstport"], capture_output=True, text=True, check=True).stdout
    pairs = Counter(tuple(sorted(map(int, line.split()))) for line in out.splitlines() if line.strip())
    ours = sorted(_counts(name).values())
    # (the sampler passes over the few records the reader builds off its fast path, a block's first one)
    assert len(ours) == len(pairs) and all(abs(a - b) <= 1 for a, b in zip(ours, sorted(pairs.values())))


def test_one_busy_pair_gets_one_worker():
    counts = _counts("usrsctp__tsctp_ipv4.pcapng")
    assert len(counts) == 1
    n, why = runner.usable_workers(counts, 8, explicit=False)
    assert n == 1
    assert why == (f"1 worker(s) of 8 cores: the busiest port pair carries 100 % of the {sum(counts.values())} "
                   "sampled SCTP packets (1 port pair(s)), and a port pair is never split")
    # asked for explicitly: capped to the one port pair
    n, why = runner.usable_workers(counts, 4, explicit=True)
    assert n == 1 and "a port pair is never split" in why


def test_workers_follow_the_busiest_share():
    # 20 port pairs of about the same load: all of 8 cores, and no more workers than pairs
    counts = _counts("scenario__many_assocs.pcapng")
    assert len(counts) == 20 and max(counts.values()) / sum(counts.values()) < 1 / 8
    assert runner.usable_workers(counts, 8, explicit=False)[0] == 8
    # the busiest of them carries 18 of the 269 sampled packets: 1/16 of them with the slack, not 1/20
    assert (max(counts.values()), sum(counts.values())) == (18, 269)
    assert runner.usable_workers(counts, 64, explicit=False)[0] == 16
    assert runner.usable_workers(counts, 64, explicit=True)[0] == 20
    # one pair of 50 %: two workers at most; 40/30/30: two; 34/33/33: three
    assert runner.usable_workers({1: 50, 2: 25, 3: 25}, 4, explicit=False)[0] == 2
    assert runner.usable_workers({1: 40, 2: 30, 3: 30}, 4, explicit=False)[0] == 2
    assert runner.usable_workers({1: 34, 2: 33, 3: 33}, 4, explicit=False)[0] == 3
    assert runner.usable_workers({}, 4, explicit=False)[0] == 1
    assert runner.usable_workers({1: 5, 2: 5}, 1, explicit=True)[0] == 1


def test_default_on_a_large_one_association_capture_uses_one_worker(monkeypatch):
    """The default picks one worker per core for a large file, then the planner keeps one: the report is
    the one-process report and the note says why."""
    monkeypatch.setattr(runner, "PARALLEL_MIN_BYTES", 0)
    monkeypatch.setattr(runner, "cores", lambda: 4)
    path = str(CAPTURES / "usrsctp__tsctp_ipv4.pcapng")
    assert runner.default_jobs([path]) == 4
    notes: list[str] = []
    res = runner.analyse([path], notes=notes)
    assert notes and notes[0].startswith("1 worker(s) of 4 cores: the busiest port pair carries 100 %")
    one = runner.analyse([path], jobs=1)
    assert res.associations == one.associations and res.totals.packets == one.totals.packets == 56


def test_verbose_says_how_the_work_is_split():
    path = CAPTURES / "scenario__many_assocs.pcapng"
    proc = run_sctpscope("report", path, "-j", "3", "-v", "--json")
    assert proc.returncode == 0
    assert proc.stderr == "sctpscope: 3 workers as asked (20 port pairs in the sample)\n"
    one = json.loads(run_sctpscope("report", path, "-j", "1", "--json").stdout)
    assert json.loads(proc.stdout) == one
    proc = run_sctpscope("report", CAPTURES / "usrsctp__tsctp_ipv4.pcapng", "-j", "5", "-v")
    assert proc.returncode == 0
    assert proc.stderr == ("sctpscope: 1 worker(s) of the 5 asked: the sample has 1 port pair(s), and a port pair "
                           "is never split\n")
    proc = run_sctpscope("report", path, "-j", "3")
    assert proc.returncode == 0 and proc.stderr == ""      # without -v: nothing
