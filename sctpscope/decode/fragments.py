"""Bounded IP fragment reassembly (IPv4 and IPv6), timed by capture time.

The reassembled datagram is returned on the fragment that completes it (as tshark shows it).
Memory is bounded by a maximum number of datagrams in progress and a maximum number of held bytes;
when either is exceeded the oldest datagram is dropped with an ``ip.fragment_overflow`` problem.
"""

from __future__ import annotations

from collections import OrderedDict

from sctpscope.problems import Problem


class _Datagram:
    __slots__ = ("first_ts", "parts", "total", "held", "meta")

    def __init__(self, ts: float):
        self.first_ts = ts
        self.parts: list[tuple[int, bytes]] = []
        self.total: int | None = None
        self.held = 0
        self.meta = None  # e.g. the IPv6 next header of the fragmentable part


class FragmentReassembler:
    """Collects fragments keyed by the caller (IPv4: src,dst,proto,id; IPv6: src,dst,id)."""

    __slots__ = ("max_datagrams", "max_bytes", "timeout", "_pending", "_bytes")

    def __init__(self, max_datagrams: int = 1024, max_bytes: int = 64 * 1024 * 1024, timeout: float = 60.0):
        self.max_datagrams = max(1, int(max_datagrams))
        self.max_bytes = max(1, int(max_bytes))
        self.timeout = float(timeout)
        self._pending: OrderedDict[object, _Datagram] = OrderedDict()
        self._bytes = 0

    def __len__(self) -> int:
        return len(self._pending)

    @property
    def held_bytes(self) -> int:
        return self._bytes

    def _drop(self, key) -> None:
        d = self._pending.pop(key)
        self._bytes -= d.held

    def add(
        self, key, start: int, more: bool, payload: bytes, ts: float, problems: list[Problem], layer: str,
        offset: int, meta=None,
    ) -> tuple[bytes | None, object]:
        """Add one fragment; returns (datagram payload, meta) when this fragment completes it, else (None, None)."""
        pending = self._pending
        # expire by capture time (the oldest are first)
        if pending:
            limit = ts - self.timeout
            while pending:
                k, d = next(iter(pending.items()))
                if d.first_ts >= limit:
                    break
                self._drop(k)
        got = pending.get(key)
        if got is None:
            d = pending[key] = _Datagram(ts)
        else:
            d = got
        n = len(payload)
        stop = start + n
        dup = False
        for s, b in d.parts:
            e = s + len(b)
            if s < stop and start < e:
                lo = max(s, start)
                hi = min(e, stop)
                if b[lo - s:hi - s] != payload[lo - start:hi - start]:
                    problems.append(Problem("ip.fragment_overlap", layer, offset, detail=f"fragment at {start}+{n} overlaps {s}+{len(b)}"))
                if s <= start and stop <= e:
                    dup = True  # retransmitted (or contained) fragment: keep the first copy
                    break
        if start == 0 and meta is not None and d.meta is None:
            d.meta = meta
        if not more and d.total is None:
            d.total = stop
        if not dup and n:
            d.parts.append((start, bytes(payload)))
            d.held += n
            self._bytes += n
        # bounds: evict the oldest datagrams
        while len(pending) > self.max_datagrams or self._bytes > self.max_bytes:
            k = next(iter(pending))
            old = pending[k]
            problems.append(
                Problem("ip.fragment_overflow", layer, offset, detail=f"dropped a partial datagram of {old.held} bytes")
            )
            self._drop(k)
            if k == key:
                return None, None
        total = d.total
        if total is None:
            return None, None
        parts = sorted(d.parts, key=lambda sb: sb[0])
        covered = 0
        for s, b in parts:
            if s > covered:
                return None, None
            e = s + len(b)
            if e > covered:
                covered = e
            if covered >= total:
                break
        if covered < total:
            return None, None
        out = bytearray(total)
        for s, b in reversed(d.parts):  # earliest copy wins where fragments overlap
            if s < total:
                out[s:s + len(b)] = b[:total - s]
        meta = d.meta
        self._drop(key)
        return bytes(out), meta
