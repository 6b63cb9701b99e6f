"""`sctpscope extract FILE... --association N [N...] -w OUT`: the frames of some associations as a pcapng.

Every frame that carries an SCTP packet of a chosen association (ids as in the report) is written as it was
captured: the original bytes (caplen), original length, timestamp and link type. Frames holding the IP
fragments of a chosen SCTP packet are written too (just before the frame that completes the datagram).
One pcapng interface is written per (input file, input interface); its timestamp resolution is
microseconds when the input's was microseconds or coarser, else nanoseconds.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Sequence
from dataclasses import dataclass

from sctpscope.errors import SctpscopeError
from sctpscope.export.select import Selection, select_frames


@dataclass
class Extracted:
    frames: int
    selection: Selection


def _same_file(a: str, b: str) -> bool:
    try:
        return os.path.samefile(a, b)
    except OSError:
        return False


def extract(files: Sequence[str], ids: Sequence[int], output: str, *, sctp_udp_ports: tuple[int, ...] = (9899,),
            verify: bool = True, path_max_retrans: int = 5) -> Extracted:
    """Write the frames of associations `ids` of `files` to the pcapng `output` ('-': standard output)."""
    from sctpscope.capture.writer import PcapngWriter, WriterError

    if output != "-" and any(_same_file(output, f) for f in files):
        raise SctpscopeError(f"{output} is also an input: write the extract to another file")
    sel, frames = select_frames(files, ids, sctp_udp_ports=sctp_udp_ports, verify=verify,
                                path_max_retrans=path_max_retrans, fragments=True)
    target = sys.stdout.buffer if output == "-" else output
    try:
        writer = PcapngWriter(target, application="sctpscope extract")
    except WriterError as exc:
        raise SctpscopeError(str(exc)) from None
    count = 0
    ifaces: dict[tuple, int] = {}
    try:
        with writer:
            for rf, _ in frames:
                raw = rf.raw
                iface = rf.interface
                snaplen = iface.snaplen if iface is not None and iface.snaplen else 262144
                tsdiv = iface.tsdiv if iface is not None else 1_000_000
                key = (rf.file_index, raw.interface, raw.linktype, snaplen, tsdiv)
                i = ifaces.get(key)
                if i is None:
                    i = ifaces[key] = writer.add_interface(raw.linktype, None, snaplen, tsresol_ns=tsdiv > 1_000_000)
                writer.write_packet(i, raw.ts, raw.data, raw.orig_len, ts_ns=rf.ts_ns)
                count += 1
    except WriterError as exc:
        raise SctpscopeError(str(exc)) from None
    try:
        sel.check(files)            # from a pipe the ids are known only now
    except SctpscopeError:
        if output != "-":
            try:
                os.remove(output)       # nothing of what was asked: no file
            except OSError:
                pass
        raise
    return Extracted(count, sel)
