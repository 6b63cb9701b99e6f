"""The fuzz campaign of issue 15: run tests/fuzz_harness.py's `run_one` for N seeds and count the outcomes.

    python bench/fuzz_campaign.py N [--start S] [--jobs J] [--limit SECONDS]

Seeds S .. S+N-1 are dealt to J worker processes (in-process runs: decoder, analysis, report, packet tree,
ladder, follow; one seed in 25 a whole capture through report/packets/follow/ladder/extract). Each worker
runs under an address-space limit of 2 GiB (a runaway allocation becomes a MemoryError, outcome `memory`)
and records its peak resident memory; an input after which a worker's peak passed 1 GiB is counted in
`over_1GiB`. Prints the counts per kind and outcome, the seeds of every outcome that is neither `ok` nor
`error` (replay one: `python -c 'import fuzz_harness as h; print(h.explain(SEED))'` in tests/), and the
time taken. Exit status 1 if any traceback, hang, memory or over_1GiB.
"""
from __future__ import annotations

import argparse
import multiprocessing as mp
import os
import resource
import sys
import time
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))

GIB = 1 << 30


def _work(args: tuple[int, int, int, float]) -> tuple[Counter, list[tuple[int, str]], int]:
    start, stop, step, limit = args
    import fuzz_harness as fh
    resource.setrlimit(resource.RLIMIT_AS, (2 * GIB, 2 * GIB))
    counts: Counter = Counter()
    bad: list[tuple[int, str]] = []
    over = False
    for seed in range(start, stop, step):
        out = fh.run_one(seed, limit)
        counts[(fh.kind(seed), out)] += 1
        if out not in ("ok", "error"):
            bad.append((seed, out))
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
        if peak > GIB and not over:
            over = True
            counts[(fh.kind(seed), "over_1GiB")] += 1
            bad.append((seed, "over_1GiB"))
    return counts, bad, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("n", type=int, help="number of inputs")
    ap.add_argument("--start", type=int, default=1, help="first seed (default 1)")
    ap.add_argument("--jobs", type=int, default=1, help="worker processes (default 1)")
    ap.add_argument("--limit", type=float, default=20.0, help="seconds an input may take before it is a hang")
    ap.add_argument("--chunk", type=int, default=20000, help="seeds per task")
    args = ap.parse_args()
    t0 = time.monotonic()
    tasks = []
    for lo in range(args.start, args.start + args.n, args.chunk):
        tasks.append((lo, min(lo + args.chunk, args.start + args.n), 1, args.limit))
    total: Counter = Counter()
    bad: list[tuple[int, str]] = []
    peak = 0
    with mp.Pool(args.jobs, maxtasksperchild=5) as pool:
        for k, (counts, b, rss) in enumerate(pool.imap_unordered(_work, tasks), 1):
            total.update(counts)
            bad += b
            peak = max(peak, rss)
            done = sum(total[key] for key in total if key[1] != "over_1GiB")
            print(f"[{time.monotonic() - t0:7.0f} s] {done} inputs, {len(bad)} findings", file=sys.stderr,
                  flush=True)
    print(f"inputs: {args.n} (seeds {args.start}..{args.start + args.n - 1}), {args.jobs} worker(s), "
          f"{time.monotonic() - t0:.0f} s, peak RSS of a worker {peak / 2**20:.0f} MiB")
    for (kind, outcome), n in sorted(total.items()):
        print(f"  {kind:7} {outcome:30} {n}")
    outcomes = Counter()
    for (kind, outcome), n in total.items():
        outcomes[outcome.split(":")[0]] += n
    print("totals: " + ", ".join(f"{k} {outcomes.get(k, 0)}" for k in
                                 ("ok", "error", "traceback", "hang", "memory", "over_1GiB")))
    for seed, what in bad[:50]:
        print(f"  seed {seed}: {what}")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
