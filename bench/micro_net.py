"""Micro-benchmark of the capture reader and the link/IP decoder (sctpscope.capture, sctpscope.decode.net).

    python bench/micro_net.py /tmp/sctpscope-bench-250000-a50-s1.pcap [more captures...] [--repeat 3]

For each capture prints µs/frame (best of --repeat) for:
  read  -- ``for frame in open_capture(path): pass``
  net   -- ``NetDecoder().decode(linktype, data, ts, orig_len)`` over frames held in memory
  net-slow -- the same with the fast path disabled (NetDecoder(fast=False)), when supported
"""

from __future__ import annotations

import argparse
import gc
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sctpscope.capture import open_capture  # noqa: E402
from sctpscope.decode.net import NetDecoder  # noqa: E402


def bench_read(path: str) -> tuple[float, int]:
    t0 = time.process_time()
    n = 0
    with open_capture(path) as cap:
        for _f in cap:
            n += 1
    return time.process_time() - t0, n


def bench_net(frames, **kw) -> float:
    dec = NetDecoder(**kw)
    decode = dec.decode
    t0 = time.process_time()
    for lt, data, ts, ol in frames:
        decode(lt, data, ts, ol)
    return time.process_time() - t0


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("captures", nargs="+")
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--limit", type=int, default=300_000, help="frames held in memory for the net benchmark")
    args = ap.parse_args()
    try:
        NetDecoder(fast=False)
        have_slow = True
    except TypeError:
        have_slow = False
    for path in args.captures:
        gc.collect()
        best, n = min(bench_read(path) for _ in range(args.repeat))
        print(f"{path}: {n} frames")
        print(f"  read      {best / n * 1e6:7.3f} µs/frame  ({best:.3f} s)")
        frames = []
        with open_capture(path) as cap:
            for f in cap:
                frames.append((f.linktype, f.data, f.ts, f.orig_len))
                if len(frames) >= args.limit:
                    break
        m = len(frames)
        gc.disable()
        try:
            best = min(bench_net(frames) for _ in range(args.repeat))
            print(f"  net       {best / m * 1e6:7.3f} µs/frame  ({m} frames)")
            if have_slow:
                best = min(bench_net(frames, fast=False) for _ in range(args.repeat))
                print(f"  net-slow  {best / m * 1e6:7.3f} µs/frame")
        finally:
            gc.enable()
        del frames


if __name__ == "__main__":
    main()
