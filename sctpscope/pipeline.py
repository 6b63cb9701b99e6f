"""The one-way flow from capture files to decoded frames: several files read in order as one capture."""

from __future__ import annotations

import os
import stat
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field

from sctpscope import progress
from sctpscope.capture import LINKTYPE_NAMES, RecordSkip, open_capture
from sctpscope.errors import UnsupportedLinkType
from sctpscope.decode.frame import DecodedFrame, FrameDecoder, Partition, port_key
from sctpscope.decode.net import NetDecoder
from sctpscope.problems import Problem


@dataclass(slots=True)
class CaptureInfo:
    """What the report says of one input file (contract: `captures[]`)."""

    path: str
    format: str = ""
    link_types: list[str] = field(default_factory=list)
    packets: int = 0
    sctp_packets: int = 0
    first_ts: float | None = None
    last_ts: float | None = None
    problems: list[Problem] = field(default_factory=list)
    #: frames counted in `packets` that a parallel worker skipped unread (owned by another worker)
    skipped: int = 0

    def as_dict(self) -> dict:
        return {"path": self.path, "format": self.format, "link_types": list(self.link_types),
                "packets": self.packets, "sctp_packets": self.sctp_packets,
                "first_ts": self.first_ts, "last_ts": self.last_ts,
                "problems": [problem_dict(p) for p in self.problems]}


def problem_dict(p: Problem) -> dict:
    return {"code": p.code, "layer": p.layer, "offset": p.offset, "needed": p.needed,
            "available": p.available, "detail": p.detail}


def _check_link_types(path, cap, decoder: FrameDecoder) -> None:
    """A capture none of whose interfaces sctpscope can decode is an error; a mix is decoded where possible."""
    kinds = [i.linktype for i in cap.interfaces]
    if kinds and not any(decoder.supports(k) for k in kinds):
        names = ", ".join(sorted({f"{k} ({LINKTYPE_NAMES.get(k, 'unknown')})" for k in kinds}))
        raise UnsupportedLinkType(f"{path}: link type {names} is not decoded; sctpscope reads Ethernet, "
                                  "Linux cooked (SLL, SLL2), BSD loopback/NULL and raw IPv4/IPv6 captures")


def check_inputs(paths: Sequence[str]) -> None:
    """Open every input once before any work: a missing file or a non-capture fails before the first
    frame is read (CaptureError), so no partial work is spent and thrown away. A pipe (`/dev/stdin`, a
    fifo) can be read only once: it is checked when it is read."""
    for path in paths:
        if not _regular(path):
            continue
        with open_capture(path):
            pass


def _regular(path: str) -> bool:
    """A regular file, or a path that does not exist (open_capture then reports it)."""
    try:
        return stat.S_ISREG(os.stat(path).st_mode)
    except OSError:
        return True


def decode_files(paths: Sequence[str], infos: list[CaptureInfo], *, sctp_udp_ports: tuple[int, ...] = (9899,),
                 verify_checksum: bool = True, first_number: int = 1,
                 partition: Partition | None = None) -> Iterator[DecodedFrame]:
    """Yield every frame of every file, numbered on across files; fills `infos` (one per file) as it goes.

    Opening errors (missing file, not a capture) raise CaptureError before any frame of that file;
    faults inside a file end that file with a problem in its CaptureInfo and reading goes on with the next.
    `partition`: decode only the SCTP packets its worker owns (see decode.frame.Partition); the others are
    counted and numbered but, when the raw bytes tell, not even read into frames.
    """
    decoder = FrameDecoder(sctp_udp_ports=sctp_udp_ports, verify_checksum=verify_checksum, partition=partition)
    offset = first_number - 1     # frame numbers go on across files, as after `mergecap -a`
    meter = progress.current()    # a progress bar on a terminal (sctpscope.progress), else None
    if meter is not None:
        meter.begin(paths)
    count = 0
    for index, path in enumerate(paths):
        info = CaptureInfo(path=str(path))
        infos.append(info)
        with open_capture(path) as cap:
            if meter is not None:
                meter.file(index, cap, offset - first_number + 1)
            info.format = cap.format
            _check_link_types(path, cap, decoder)
            if decoder.partition is not None:
                cap.skip = _Foreign(decoder)
            last = 0
            first = 0
            for frame in cap:
                # (unpacked at once: compiled, a named tuple's fields by name are descriptor lookups)
                number, ts, linktype, data, _caplen, orig_len, _ifc = frame
                # tshark numbers records the reader skips (pcapng custom blocks): keep its numbering.
                last = number
                decoded = decoder.decode(offset + number, ts, linktype, data, orig_len)
                info.packets += 1
                for rec in decoded.sctp:
                    if rec.packet.header_ok:
                        info.sctp_packets += 1
                if info.first_ts is None:
                    info.first_ts = ts
                    first = last
                info.last_ts = ts
                if meter is not None:
                    count += 1
                    if count >= progress.TICK:
                        count = 0
                        meter.tick(offset - first_number + 1 + number)
                yield decoded
            skipped_first, skipped_last = cap.skipped_first, cap.skipped_last
            if skipped_first is not None and skipped_last is not None:
                info.packets += cap.skipped
                info.skipped += cap.skipped
                if info.first_ts is None or skipped_first[0] < first:
                    info.first_ts = skipped_first[1]
                if skipped_last[0] > last:
                    last, info.last_ts = skipped_last
            info.link_types = list(cap.link_types)
            info.problems.extend(cap.problems)
            offset += last


class _Foreign(RecordSkip):
    """Passes over the frames another parallel worker owns (FrameDecoder.foreign), unread."""

    def __init__(self, decoder: FrameDecoder) -> None:
        self.decoder = decoder

    def skip(self, linktype: int, buf: bytes, start: int, end: int) -> bool:
        return self.decoder.foreign(linktype, buf, start, end)


class _PortSampler(RecordSkip):
    """Counts SCTP packets per port pair straight from the reader's buffer (Capture.skip), building no frames."""

    def __init__(self, net: NetDecoder, limit: int) -> None:
        self.net = net
        self.limit = limit
        self.seen = 0
        self.counts: dict[int, int] = {}

    def skip(self, linktype: int, buf: bytes, start: int, end: int) -> bool:
        if self.seen >= self.limit:
            return False            # the reader yields this frame: the caller stops there
        self.seen += 1
        p = self.net.fast_sctp_offset(linktype, buf, start, end)
        if p >= 0:
            key = port_key(buf, p)
            self.counts[key] = self.counts.get(key, 0) + 1
        return True


def sample_port_keys(paths: Sequence[str], limit: int, sctp_udp_ports: tuple[int, ...] = (9899,)) -> dict[int, int]:
    """SCTP packets per port pair (decode.frame.port_key) among the first `limit` frames of the files that
    have a common shape (NetDecoder.fast_sctp_offset): the sample from which parallel workers are given
    balanced shares (analysis.runner)."""
    sampler = _PortSampler(NetDecoder(sctp_udp_ports=sctp_udp_ports), limit)
    for path in paths:
        if sampler.seen >= limit:
            break
        with open_capture(path) as cap:
            cap.skip = sampler
            for _ in cap:           # frames the reader builds anyway (blocks off its fast path) go unsampled
                if sampler.seen >= limit:
                    break
    return sampler.counts
