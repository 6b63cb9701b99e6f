"""The frames of chosen associations, with their raw bytes: what `follow` and `extract` read.

Association ids are the report's. From regular files that takes two readings: the first analyses the
capture as `report` does (and gives each association's report record), the second walks the frames with
their bytes and keeps those with an SCTP packet of a chosen association. A pipe (or /dev/stdin) can be read
only once: then associations are numbered in order of first appearance, which is the report's numbering
except where an INIT collision folds two associations into one, and unknown ids are reported at the end.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field

from sctpscope.errors import SctpscopeError
from sctpscope.export.walk import RawFrame, walk
from sctpscope.filter.context import Annotator, PacketContext, Replay, rereadable


@dataclass
class Selection:
    """What was chosen: the ids asked for, the report record of each (once known), the number of
    associations in the capture, and whether the ids are exactly the report's (False on a pipe)."""

    ids: tuple[int, ...]
    associations: dict[int, dict] = field(default_factory=dict)
    total: int = 0
    exact: bool = True

    def check(self, files: Sequence[str]) -> None:
        missing = [i for i in self.ids if i not in self.associations]
        if missing:
            from sctpscope.text import escape_text

            where = escape_text(", ".join(map(str, files)))
            have = f"associations 1..{self.total}" if self.total else "no association"
            raise SctpscopeError(f"no association {', '.join(map(str, missing))} in {where} (it has {have})")


class _Fragments:
    """IP fragments held until the datagram they belong to is known (extract keeps a reassembled SCTP packet's
    fragments): frames whose decode stopped at an IP fragment, matched to a reassembled SCTP packet by its
    source and destination address bytes (adjacent in the IPv4 and IPv6 headers). Bounded: MAX_HELD frames,
    HOLD_SECONDS of capture time (the reassembler's timeout)."""

    MAX_HELD = 4096
    HOLD_SECONDS = 60.0

    def __init__(self) -> None:
        self.held: list[RawFrame] = []

    def offer(self, rf: RawFrame) -> None:
        if not rf.decoded.sctp and "ip-fragment" in rf.decoded.layers:
            self.held.append(rf)
            if len(self.held) > self.MAX_HELD:
                del self.held[: self.MAX_HELD // 4]

    def claim(self, rf: RawFrame) -> list[RawFrame]:
        """The held fragments of the SCTP packets this frame completed (removed from the hold)."""
        held = self.held
        if not held:
            return []
        limit = rf.raw.ts - self.HOLD_SECONDS
        while held and held[0].raw.ts < limit:
            held.pop(0)
        keys = [_addr_bytes(r.src) + _addr_bytes(r.dst) for r in rf.decoded.sctp if r.fragmented]
        keys = [k for k in keys if k]
        if not keys:
            return []
        mine = [h for h in held if any(k in h.raw.data for k in keys)]
        if mine:
            self.held = [h for h in held if h not in mine]
        return mine


def _addr_bytes(text: str) -> bytes:
    import socket

    try:
        return socket.inet_pton(socket.AF_INET6 if ":" in text else socket.AF_INET, text)
    except OSError:
        return b""


def select_frames(files: Sequence[str], ids: Sequence[int], *, sctp_udp_ports: tuple[int, ...] = (9899,),
                  verify: bool = True, path_max_retrans: int = 5,
                  fragments: bool = False) -> tuple[Selection, Iterator[tuple[RawFrame, list[PacketContext]]]]:
    """(Selection, iterator of (frame, its SCTP packets' contexts) for frames with a packet of a chosen
    association). From regular files the Selection is complete before the iterator starts; from a pipe it
    is filled when the iterator ends (then call ``selection.check``). ``fragments=True``: also the frames
    holding the IP fragments of a chosen SCTP packet (with no contexts), just before the frame completing it.
    """
    from sctpscope.pipeline import check_inputs, decode_files

    sel = Selection(tuple(dict.fromkeys(ids)))
    wanted = frozenset(sel.ids)
    if rereadable(files):
        check_inputs(files)
        ann = Annotator(path_max_retrans=path_max_retrans, record=True)
        for frame in decode_files(files, [], sctp_udp_ports=sctp_udp_ports, verify_checksum=verify):
            ann.add(frame)
        ann.finish()
        dicts = ann.analysis.association_dicts()
        sel.total = len(dicts)
        sel.associations = {a["id"]: a for a in dicts if a["id"] in wanted}
        sel.check(files)
        replay = Replay(ann.membership())

        def frames() -> Iterator[tuple[RawFrame, list[PacketContext]]]:
            hold = _Fragments() if fragments else None
            for rf in walk(files, sctp_udp_ports=sctp_udp_ports, verify=verify):
                if not rf.decoded.sctp:
                    if hold is not None:
                        hold.offer(rf)
                    continue
                ctxs = replay.add(rf.decoded)
                before = hold.claim(rf) if hold is not None else []
                if any(c.association in wanted for c in ctxs):
                    for h in before:
                        yield h, []
                    yield rf, ctxs
        return sel, frames()

    sel.exact = False

    def live() -> Iterator[tuple[RawFrame, list[PacketContext]]]:
        one = Annotator(path_max_retrans=path_max_retrans)
        hold = _Fragments() if fragments else None
        for rf in walk(files, sctp_udp_ports=sctp_udp_ports, verify=verify):
            ctxs = one.add(rf.decoded)
            if not rf.decoded.sctp:
                if hold is not None:
                    hold.offer(rf)
                continue
            before = hold.claim(rf) if hold is not None else []
            if any(c.association in wanted for c in ctxs):
                for h in before:
                    yield h, []
                yield rf, ctxs
        one.finish()
        dicts = one.analysis.association_dicts()
        sel.total = len(one.objects)
        by_seq = {i + 1: obj for i, obj in enumerate(one.objects)}
        for i in sel.ids:
            obj = by_seq.get(i)
            if obj is not None:
                host, _ = one.analysis.resolve(obj)
                sel.associations[i] = next((d for d in dicts if host is not None and d["id"] == host.id), {})
    return sel, live()
