"""StreamStats.message (the per-stream ordering verdict of the report) against a plain model of what it
documents: serial-number unwrapping relative to the highest SSN so far (RFC 1982), a message counted
late when an ordered SSN below the highest arrives for the first time, the same SSN again ignored while it
is within the remembered window (SSN_WINDOW below the highest), gaps = the SSNs from the lowest to the
highest never seen (a message further than the window below the highest is not remembered: counted each
time it comes). The model keeps a plain set; the code keeps a bitmap, and none while in order."""

from hypothesis import given, settings, strategies as st

from sctpscope.analysis.streams import SSN_WINDOW, StreamStats


class Model:
    def __init__(self, bits: int) -> None:
        self.mod = 1 << bits
        self.hi: int | None = None
        self.lo = 0
        self.seen: set[int] = set()
        self.distinct = 0
        self.late = 0

    def message(self, ssn: int) -> bool:
        if self.hi is None:
            self.hi = self.lo = ssn
            self.seen = {ssn}
            self.distinct = 1
            return False
        delta = (ssn - self.hi) % self.mod
        if delta >= self.mod // 2:
            delta -= self.mod
        u = self.hi + delta
        if u > self.hi:
            self.hi = u
            self.seen.add(u)
            self.distinct += 1
            return False
        if self.hi - u < SSN_WINDOW and u in self.seen:
            return False
        self.seen.add(u)
        self.distinct += 1
        self.lo = min(self.lo, u)
        self.late += 1
        return True

    def gaps(self) -> int:
        assert self.hi is not None
        return max(0, self.hi - self.lo + 1 - self.distinct)


def steps():
    """SSN steps: mostly the next one, some repeats, small and large jumps both ways (beyond the window)."""
    return st.lists(st.one_of(st.just(1), st.just(1), st.just(0), st.integers(-40, 40),
                              st.integers(-3 * SSN_WINDOW, 3 * SSN_WINDOW)), min_size=1, max_size=400)


@settings(max_examples=300, deadline=None)
@given(start=st.integers(0, 0xFFFF), moves=steps())
def test_ordering_verdicts_match_the_model(start, moves):
    stats, model = StreamStats(0, 16), Model(16)
    ssn = start
    for k, step in enumerate(moves):
        ssn = (ssn + step) % 0x10000
        assert stats.message(False, ssn, None, 1) == model.message(ssn), f"message {k} (SSN {ssn})"
    assert stats.out_of_order == model.late
    assert stats.ssn_gaps() == model.gaps()
    assert stats.last_ssn() == model.hi % 0x10000


def test_a_long_in_order_run_then_a_late_one_within_and_beyond_the_window():
    stats, model = StreamStats(0, 16), Model(16)
    for ssn in list(range(0, 3000)) + [2999 - 5, 2999 - SSN_WINDOW - 5, 3001, 3000, 3000]:
        assert stats.message(False, ssn % 0x10000, None, 1) == model.message(ssn % 0x10000)
    assert (stats.out_of_order, stats.ssn_gaps()) == (model.late, model.gaps()) == (2, 0)
