"""The files of a capture set: a directory (every capture file in it), globs, several files — read in time
order, by the timestamp of each file's first packet record (a dumpcap ring buffer's names need not sort as
its files follow each other), and what each file leaves between it and the one before it (overlap, gap).

Only the first packet record of each file is read to order them (gzip/bzip2/xz inputs: only the first
decompressed bytes). Pipes and other non-regular files cannot be read twice: when one is among the inputs,
the order given is kept.
"""

from __future__ import annotations

import glob
import os
import stat
from collections.abc import Sequence

from sctpscope.capture.reader import Capture
from sctpscope.errors import CaptureError

#: bytes asked of a file to find its first record (a pcapng's header blocks and first packet fit in it)
HEAD_CHUNK = 64 * 1024
_MAGICS = (b"\xd4\xc3\xb2\xa1", b"\xa1\xb2\xc3\xd4", b"\x4d\x3c\xb2\xa1", b"\xa1\xb2\x3c\x4d",
           b"\x34\xcd\xb2\xa1", b"\xa1\xb2\xcd\x34", b"\x0a\x0d\x0d\x0a")
_GLOB_CHARS = frozenset("*?[")


def first_timestamp(path: str) -> float | None:
    """The timestamp of the first packet record of a capture file (None: it has none); reads only the
    file's beginning. Raises CaptureError when the file cannot be opened or is not a capture."""
    with Capture(path, chunk=HEAD_CHUNK) as cap:
        for frame in cap:
            return frame.ts
    return None


def _looks_like_capture(path: str) -> bool:
    """A file of a directory that holds a capture: by its first bytes (pcap, pcapng, or compressed)."""
    try:
        with open(path, "rb") as f:
            head = f.read(6)
    except OSError:
        return False
    return (head[:4] in _MAGICS or head[:2] == b"\x1f\x8b" or head[:3] == b"BZh"
            or head == b"\xfd7zXZ\x00")


def _regular(path: str) -> bool:
    try:
        return stat.S_ISREG(os.stat(path).st_mode)
    except OSError:
        return False


def expand_inputs(paths: Sequence[str]) -> list[str]:
    """Directories become the capture files in them (not recursive; hidden files and files that are not
    captures by their first bytes left out); a pattern with `*?[` that names no file is expanded as a glob
    (quoted on the command line). Raises CaptureError for a directory without captures or a glob that
    matches nothing."""
    out: list[str] = []
    for p in paths:
        if os.path.isdir(p):
            names = sorted(n for n in os.listdir(p) if not n.startswith("."))
            found = [os.path.join(p, n) for n in names
                     if _regular(os.path.join(p, n)) and _looks_like_capture(os.path.join(p, n))]
            if not found:
                raise CaptureError(f"{p}: a directory with no pcap or pcapng file in it")
            out.extend(found)
        elif not os.path.exists(p) and _GLOB_CHARS & set(p):
            found = sorted(m for m in glob.glob(p) if _regular(m))
            if not found:
                raise CaptureError(f"{p}: no file matches")
            out.extend(found)
        else:
            out.append(p)
    return out


def order_inputs(paths: Sequence[str]) -> list[str]:
    """The inputs expanded (expand_inputs) and, when there are several, in order of their first packet's
    timestamp (ties and files without packets: in the order given, files without packets last). A pipe
    among them keeps the order given (it can be read only once). Missing files and non-captures are left
    in place for the reader to report."""
    files = expand_inputs(paths)
    if len(files) < 2 or not all(_regular(f) for f in files):
        return files
    keyed = []
    for k, f in enumerate(files):
        try:
            ts = first_timestamp(f)
        except CaptureError:
            return files    # reported when it is read (check_inputs), before any work
        keyed.append((ts is None, ts if ts is not None else 0.0, k, f))
    keyed.sort()
    return [f for *_, f in keyed]


def set_notes(entries: Sequence[tuple[float | None, float | None]]) -> list[dict | None]:
    """For the files of a set in reading order, given (first_ts, last_ts) of each: None for the first file
    (and for one without packets), else how it stands to the file read before it that had packets:
    {"previous": index, "overlaps_previous_s": s} when it begins before that file's last packet, or
    {"previous": index, "gap_after_previous_s": s} (seconds from that file's last packet to this one's
    first; 0 or more)."""
    notes: list[dict | None] = []
    prev: int | None = None
    for k, (first, last) in enumerate(entries):
        if first is None or last is None:
            notes.append(None)
            continue
        if prev is None:
            notes.append(None)
        else:
            d = first - entries[prev][1]     # type: ignore[operator]
            if d < 0:
                notes.append({"previous": prev, "overlaps_previous_s": round(-d, 9)})
            else:
                notes.append({"previous": prev, "gap_after_previous_s": round(d, 9)})
        prev = k
    return notes
