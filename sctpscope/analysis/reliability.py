"""Acknowledgement accounting of one direction's DATA: SACK statistics and TSN round-trip times.

Round-trip times use absolute (unwrapped) TSNs: a TSN's RTT is the time from its first transmission to the
first SACK whose cumulative TSN ack covers it, and TSNs that were retransmitted give no sample (Karn's rule,
RFC 9260 §6.3.1 C5). Memory is bounded by MAX_OUTSTANDING.
"""

from __future__ import annotations

from collections import deque
from typing import Final, TYPE_CHECKING

from sctpscope.analysis.serial import Running

if TYPE_CHECKING:
    from sctpscope.decode.sctp.chunks import SackChunk

MAX_OUTSTANDING: Final = 65536
MAX_ZERO_WINDOW_PERIODS: Final = 100


class AckTracker:
    """For the DATA one endpoint sends: what the peer's SACKs said about it."""

    __slots__ = ("outstanding", "karn", "rtt", "sacks", "nr_sacks",
                 "gap_blocks", "nr_gap_blocks", "dup_tsns", "max_gap_blocks", "acked", "overflow",
                 "rwnd_min", "rwnd_max", "rwnd_last", "zero_since", "zero_periods")

    def __init__(self) -> None:
        # (unwrapped TSN, time first sent), in sending order; and the outstanding TSNs that were retransmitted.
        # Both made at their first use: most associations of a big capture send little (README, Memory)
        self.outstanding: deque | None = None
        self.karn: set[int] | None = None
        self.rtt = Running()
        self.sacks = self.nr_sacks = self.gap_blocks = self.nr_gap_blocks = self.dup_tsns = 0
        self.max_gap_blocks = 0
        self.acked = 0
        self.overflow = 0
        self.rwnd_min: int | None = None
        self.rwnd_max: int | None = None
        self.rwnd_last: int | None = None
        self.zero_since: tuple[int, float] | None = None
        self.zero_periods: list[dict] = []

    def sent(self, tsn: int, ts: float) -> None:
        out = self.outstanding
        if out is None:
            out = self.outstanding = deque()
        out.append((tsn, ts))
        if len(out) > MAX_OUTSTANDING:
            out.popleft()
            self.overflow += 1

    def retransmitted(self, tsn: int) -> None:
        karn = self.karn
        if karn is None:
            karn = self.karn = set()
        if len(karn) < MAX_OUTSTANDING:
            karn.add(tsn)

    def sack(self, c: SackChunk, cum: int | None, ts: float, frame: int) -> bool:
        """A SACK or NR-SACK from the receiver; `cum` is its cumulative TSN ack, unwrapped.
        Returns True when it opens a zero-window period."""
        self.sacks += 1
        gaps = len(c.gap_blocks)
        self.gap_blocks += gaps
        if gaps > self.max_gap_blocks:
            self.max_gap_blocks = gaps
        self.dup_tsns += len(c.dup_tsns)
        if c.type == 16:
            self.nr_sacks += 1
            self.nr_gap_blocks += len(c.nr_gap_blocks)  # type: ignore[arg-type]  # a list in every NR-SACK
        zero = self.window(c.a_rwnd, ts, frame)
        if cum is None:
            return zero
        out = self.outstanding
        karn = self.karn
        while out and out[0][0] <= cum:
            tsn, sent = out.popleft()
            self.acked += 1
            if karn is not None and karn and tsn in karn:
                karn.discard(tsn)
                continue
            self.rtt.add(ts - sent)
        if out is not None and not out:
            self.outstanding = None         # all acknowledged: no empty deque kept (about 600 bytes)
        return zero

    def window(self, a_rwnd: int, ts: float, frame: int) -> bool:
        """The receiver's advertised window (INIT/INIT ACK, SACK); zero-window periods are kept.
        Returns True when this advertisement opens a zero-window period."""
        self.rwnd_last = a_rwnd
        if self.rwnd_min is None or a_rwnd < self.rwnd_min:
            self.rwnd_min = a_rwnd
        if self.rwnd_max is None or a_rwnd > self.rwnd_max:
            self.rwnd_max = a_rwnd
        if a_rwnd == 0:
            if self.zero_since is None:
                self.zero_since = (frame, ts)
                return True
        elif self.zero_since is not None:
            self._close_zero(frame, ts)
        return False

    def _close_zero(self, frame: int | None, ts: float | None) -> None:
        zs = self.zero_since
        if zs is None:
            return
        start_frame, start = zs
        if len(self.zero_periods) < MAX_ZERO_WINDOW_PERIODS:
            self.zero_periods.append({"first_frame": start_frame, "end_frame": frame, "start": start,
                                      "duration": None if ts is None else ts - start})
        self.zero_since = None

    def as_dict(self) -> dict:
        """Non-destructive: a zero-window period still open is listed as open (no end, no duration)."""
        periods = self.zero_periods
        if self.zero_since is not None and len(periods) < MAX_ZERO_WINDOW_PERIODS:
            start_frame, start = self.zero_since
            periods = [*periods, {"first_frame": start_frame, "end_frame": None, "start": start, "duration": None}]
        return {"sacks": self.sacks, "nr_sacks": self.nr_sacks, "gap_blocks": self.gap_blocks,
                "max_gap_blocks_per_sack": self.max_gap_blocks, "nr_gap_blocks": self.nr_gap_blocks,
                "duplicate_tsns_reported": self.dup_tsns, "tsns_acked": self.acked, "ack_rtt": self.rtt.as_dict(),
                "a_rwnd": {"min": self.rwnd_min, "max": self.rwnd_max, "last": self.rwnd_last},
                "zero_window_periods": list(periods)}
