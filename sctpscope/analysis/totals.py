"""Capture-wide counters (contract: `totals`), mergeable across partial runs."""

from __future__ import annotations

from dataclasses import dataclass, field

from sctpscope.analysis.tally import Tally
from sctpscope.decode.sctp import chunk_name


@dataclass(slots=True)
class Totals:
    """Counts over every frame: packets, SCTP packets, chunks by type, checksum verdicts, decode problems.

    Filled by analysis.tracker.Analysis.add, in the same pass that follows associations.
    """

    packets: int = 0
    sctp_packets: int = 0
    chunk_types: Tally = field(default_factory=Tally)   # chunk type code -> count
    checksums: Tally = field(default_factory=Tally)     # crc32c / adler32 / zero / bad / unchecked
    malformed: int = 0          # SCTP packets with at least one decode problem
    problems: Tally = field(default_factory=Tally)      # problem code -> count (every layer)
    quoted: int = 0             # SCTP headers quoted inside ICMP errors (not SCTP packets)
    udp_encapsulated: int = 0

    def merge(self, other: "Totals") -> None:
        """Fold in the totals of a later part of the same capture."""
        self.packets += other.packets
        self.sctp_packets += other.sctp_packets
        self.chunk_types.update(other.chunk_types)
        self.checksums.update(other.checksums)
        self.malformed += other.malformed
        self.problems.update(other.problems)
        self.quoted += other.quoted
        self.udp_encapsulated += other.udp_encapsulated

    @property
    def bad_checksums(self) -> int:
        """Packets whose checksum is neither a correct CRC32c nor a correct Adler-32 (zero included)."""
        return self.checksums["bad"] + self.checksums["zero"]

    def chunks_by_name(self) -> dict[str, int]:
        return {chunk_name(t): n for t, n in sorted(self.chunk_types.items())}
