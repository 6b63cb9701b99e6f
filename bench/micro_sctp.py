"""Micro-benchmark of decode_sctp alone (no capture reading, no IP decoding, no analysis).

    python bench/micro_sctp.py [CAPTURE] [--limit N] [--repeat R] [--mv]

The SCTP payloads of CAPTURE (default: the 250k-packet benchmark capture; built with
bench/make_capture.py when missing) are extracted with dpkt into a list first, then decode_sctp is
timed over the whole list and over the one-DATA, one-SACK and bundled-DATA subsets. Figures are µs
per packet of CPU time, each batch of 10,000 packets the best of R runs. --mv passes memoryview slices of the frame (as the pipeline may)
instead of bytes.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
from collections import Counter

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)

DEFAULT = "/tmp/sctpscope-bench-250000-a50-s1.pcap"


def extract(path: str, limit: int | None, mv: bool) -> list:
    import dpkt

    out = []
    with open(path, "rb") as f:
        for _ts, frame in dpkt.pcap.Reader(f):
            try:
                eth = dpkt.ethernet.Ethernet(frame)
            except dpkt.UnpackError:
                continue
            ip = eth.data
            if isinstance(ip, dpkt.ip.IP):
                if ip.p != 132 or ip.mf or ip.offset:
                    continue
                hl = ip.hl * 4
                start, end = 14 + hl, 14 + ip.len
            elif isinstance(ip, dpkt.ip6.IP6):
                if ip.nxt != 132:
                    continue
                start, end = 14 + 40, 14 + 40 + ip.plen
            else:
                continue
            out.append(memoryview(frame)[start:end] if mv else bytes(frame[start:end]))
            if limit and len(out) >= limit:
                break
    return out


def classify(bufs: list) -> dict:
    groups: dict = {"all": bufs, "1 DATA": [], "1 SACK": [], "SACK+DATA": [], "n DATA (n>=2)": []}
    ndata_chunks = 0
    import struct

    for b in bufs:
        types = []
        off, n = 12, len(b)
        while off + 4 <= n:
            t, _f, L = struct.unpack_from(">BBH", b, off)
            types.append(t)
            if L < 4:
                break
            off += (L + 3) & ~3
        if types == [0]:
            groups["1 DATA"].append(b)
        elif types == [3]:
            groups["1 SACK"].append(b)
        elif types and types[0] == 3 and all(t == 0 for t in types[1:]) and len(types) > 1:
            groups["SACK+DATA"].append(b)
        elif len(types) >= 2 and all(t == 0 for t in types):
            groups["n DATA (n>=2)"].append(b)
            ndata_chunks += len(types)
    groups["_ndata_chunks"] = ndata_chunks
    return groups


def timeit(fn, bufs: list, repeat: int, batch: int = 10000) -> float:
    """µs per packet: the list is timed in batches, each the best of ``repeat`` runs in CPU time
    (process_time), which keeps other processes on a busy machine out of the figures."""
    total = 0.0
    clock = time.process_time
    for i in range(0, len(bufs), batch):
        part = bufs[i:i + batch]
        best = float("inf")
        for _ in range(repeat):
            t0 = clock()
            for b in part:
                fn(b)
            best = min(best, clock() - t0)
        total += best
    return total / max(len(bufs), 1) * 1e6


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("capture", nargs="?", default=DEFAULT)
    ap.add_argument("--limit", type=int, default=None)
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--mv", action="store_true", help="memoryview slices instead of bytes")
    ap.add_argument("--no-verify", action="store_true")
    a = ap.parse_args()
    if not os.path.exists(a.capture):
        subprocess.check_call([sys.executable, os.path.join(ROOT, "bench", "make_capture.py"),
                               "-n", "250000", "-o", a.capture])
    from sctpscope.decode.sctp import decode_sctp

    bufs = extract(a.capture, a.limit, a.mv)
    g = classify(bufs)
    nd = g.pop("_ndata_chunks")
    verify = not a.no_verify
    fn = decode_sctp if verify else (lambda b: decode_sctp(b, 0, False))
    # chunk-type mix
    mix = Counter()
    for b in bufs[:20000]:
        mix[tuple(c.type for c in decode_sctp(b).chunks)] += 1
    print(f"{len(bufs)} SCTP packets ({'memoryview' if a.mv else 'bytes'}, verify={verify}); top mixes:",
          ", ".join(f"{k}:{v}" for k, v in mix.most_common(5)))
    for name, sub in g.items():
        if not sub:
            continue
        us = timeit(fn, sub, a.repeat)
        extra = ""
        if name == "n DATA (n>=2)":
            extra = f"  (avg {nd / len(sub):.2f} chunks/pkt)"
        print(f"  {name:16s} {len(sub):8d} pkts  {us:6.3f} µs/pkt{extra}")
    # marginal cost of an extra DATA chunk: packets of k DATA chunks only, by k
    byk: dict = {}
    for b in g["1 DATA"] + g["n DATA (n>=2)"]:
        byk.setdefault(len(decode_sctp(b).chunks), []).append(b)
    prev = None
    for k in sorted(byk):
        sub = byk[k]
        if len(sub) < 500 or k > 6:
            continue
        us = timeit(fn, sub, a.repeat)
        size = sum(map(len, sub)) / len(sub)
        step = f"  (+{us - prev[1]:.3f} µs for +{k - prev[0]} chunk)" if prev else ""
        print(f"  {k} DATA chunk(s)   {len(sub):8d} pkts  {us:6.3f} µs/pkt  avg {size:5.0f} bytes{step}")
        prev = (k, us)

if __name__ == "__main__":
    main()
