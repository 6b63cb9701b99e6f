"""Micro-benchmark of the analysis layer alone: frames are decoded once, then fed to Analysis repeatedly.

    python bench/micro_analysis.py /tmp/sctpscope-bench-250000-a50-s1.pcap [--frames 100000]
"""

from __future__ import annotations

import argparse
import time

from sctpscope.analysis.tracker import Analysis
from sctpscope.pipeline import decode_files


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("capture")
    ap.add_argument("--frames", type=int, default=100000)
    args = ap.parse_args()
    frames = []
    t = time.perf_counter()
    for f in decode_files([args.capture], []):
        frames.append(f)
        if len(frames) >= args.frames:
            break
    dt = time.perf_counter() - t
    print(f"read+decode: {dt / len(frames) * 1e6:.2f} us/frame")
    best = None
    for _ in range(3):
        a = Analysis()
        t = time.perf_counter()
        for f in frames:
            a.add(f)
        a.finish()
        dt = time.perf_counter() - t
        best = dt if best is None else min(best, dt)
    print(f"analysis: {best / len(frames) * 1e6:.2f} us/frame over {len(frames)} frames")


if __name__ == "__main__":
    main()
