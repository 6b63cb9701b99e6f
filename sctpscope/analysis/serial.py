"""Serial number arithmetic (RFC 1982) for TSNs, SSNs and MIDs, a bounded memory of TSNs seen, and running
statistics of a measured value."""

from __future__ import annotations


class Unwrapper:
    """Maps a wrapping counter of `bits` bits onto an unbounded integer line, near the last value seen."""

    __slots__ = ("mod", "half", "last")

    def __init__(self, bits: int) -> None:
        self.mod = 1 << bits
        self.half = 1 << (bits - 1)
        self.last: int | None = None

    def __call__(self, value: int) -> int:
        last = self.last
        if last is None:
            self.last = value
            return value
        delta = (value - last) % self.mod
        if delta >= self.half:
            delta -= self.mod
        u = last + delta
        if delta > 0:
            self.last = u
        return u


#: The `above` of every SeenSet with nothing above its floor (most of them: TSNs arrive in order): one shared
#: empty set, never added to (SeenSet.add makes its own first), instead of 216 bytes per direction.
_NOTHING: set[int] = set()


class SeenSet:
    """Which unwrapped numbers were seen: everything <= `floor`, plus a bounded set above it.

    Memory stays bounded by `cap`: when the set is full the lowest entries are folded into the floor
    (they are then reported as seen; `evicted` counts how often that happened).
    """

    __slots__ = ("start", "floor", "above", "below", "cap", "evicted")

    def __init__(self, cap: int = 4096) -> None:
        self.start = 0                  # the first number seen (once floor is set); lower ones are kept in `below`
        self.floor: int | None = None
        self.above: set[int] = _NOTHING
        self.below: set[int] | None = None     # made at its first use (rare)
        self.cap = cap
        self.evicted = 0

    def add(self, n: int) -> bool:
        """Record n; True if it was seen before."""
        floor = self.floor
        if floor is None:
            self.start = self.floor = n
            return False
        if n < self.start:
            below = self.below
            if below is None:
                below = self.below = set()
            if n in below:
                return True
            if len(below) < self.cap:
                below.add(n)
            return False
        if n <= floor or n in self.above:
            return True
        if n == floor + 1:
            floor = n
            above = self.above
            while floor + 1 in above:
                floor += 1
                above.discard(floor)
            self.floor = floor
            if above is not _NOTHING and not above:
                self.above = _NOTHING
        else:
            if self.above is _NOTHING:
                self.above = set()
            self.above.add(n)
            if len(self.above) > self.cap:
                self._shrink()
        return False

    def __contains__(self, n: int) -> bool:
        if self.floor is None:
            return False
        if n < self.start:
            return self.below is not None and n in self.below
        return n <= self.floor or n in self.above

    def missing(self) -> int:
        """Numbers never seen between the floor and the highest number seen."""
        floor = self.floor
        if not self.above or floor is None:
            return 0
        return max(self.above) - floor - len(self.above)

    def highest(self) -> int | None:
        return max(self.above) if self.above else self.floor

    def _shrink(self) -> None:
        keep = sorted(self.above)
        drop = len(keep) // 4
        self.evicted += drop
        self.floor = keep[drop - 1]
        self.above = set(keep[drop:])


class Running:
    """Count, minimum, maximum and mean of a measured value (round-trip times), in constant memory."""

    __slots__ = ("n", "lo", "hi", "total")

    def __init__(self) -> None:
        self.n = 0
        self.lo = self.hi = self.total = 0.0

    def add(self, value: float) -> None:
        if self.n == 0 or value < self.lo:
            self.lo = value
        if value > self.hi:
            self.hi = value
        self.n += 1
        self.total += value

    def as_dict(self) -> dict | None:
        if not self.n:
            return None
        return {"count": self.n, "min": self.lo, "max": self.hi, "mean": self.total / self.n}
