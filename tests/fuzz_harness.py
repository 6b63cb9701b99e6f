"""The fuzz harness of issue 15: one mutated input through every consumer, classified by outcome.

`run_one(seed)` derives everything from `seed` (random.Random(seed)), so any outcome can be replayed:

- about 96 % of seeds are **single-packet** inputs: one frame of a capture in captures/ (rich in chunk
  types), mutated (random bytes, a chunk or parameter length field set to an edge value, a random chunk
  type, a cut), fed after the frames before it of the same capture and a few after it, through the decoder
  (checksums verified or not), the analysis, the JSON report (written as a stream to nowhere), the human
  summary, the packet detail tree with every label, the packets line, the ladder timeline and its text
  rows, and the follower;
- the others are **whole-capture** inputs: a small capture of captures/ (or one of tests/hostile.py's
  reproducers, scaled down) mutated as bytes (random bytes, a length field, a cut, gzip/xz compressed and
  cut), written to a temporary file and run through `report --json`, `packets`, `follow`, `ladder` (the
  frame index) and `extract`, in process.

Outcomes: `ok` (a report), `error` (one clear SctpscopeError, e.g. not a capture), `traceback:<Exception>`
(a bug), `hang` (over `limit` seconds: SIGALRM), `memory` (MemoryError). tests/test_fuzz.py runs a few
hundred seeds with hypothesis; bench/fuzz_campaign.py runs millions and prints the counts.
"""
from __future__ import annotations

import gzip
import io
import json
import lzma
import os
import random
import signal
import struct
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
CAPTURES = REPO / "captures"
SOURCES = ["tcpdump__sctp-asconf.pcap", "tcpdump__sctp-re-config.pcap", "tcpdump__sctp-i-forward.pcap",
           "pkts__sctp_init_collision.cap", "scenario__abort_reason.pcapng", "scenario__stream_reset.pcapng",
           "scenario__prsctp_forward_tsn.pcapng", "scenario__partial_delivery_idata.pcapng",
           "scenario__multihoming_failover.pcapng", "pkts__sctp-addip.cap", "tcpdump__sctp-pad.pcap",
           "usrsctp__tsctp_ipfrag_udpencap.pcapng", "scenario__add_streams.pcapng"]
WHOLE = ["pkts__sctp.cap", "pkts__sctp001.pcap", "tcpdump__sctp-re-config.pcap", "tcpdump__sctp-asconf.pcap",
         "pkts__sctp_init_collision.cap", "scenario__add_streams.pcapng", "scenario__prsctp_forward_tsn.pcapng",
         "usrsctp__echo_rtx_ipv4.pcapng", "scenario__abort_reason.pcapng", "pcapplusplus__ip-frag.pcap",
         "pcapflowlab__18_sctp_vxlan_inner_ipv4_data_s1ap.pcap", "scenario__partial_delivery_idata.pcapng"]
WHOLE_SHARE = 25            # one seed in WHOLE_SHARE is a whole-capture input
CONTEXT_AFTER = 3           # frames fed after the mutated one


class Hang(Exception):
    pass


_frames_cache: dict[str, list] = {}


def _frames(name: str) -> list:
    """(linktype, bytes, ts) of every frame of a capture."""
    got = _frames_cache.get(name)
    if got is None:
        from sctpscope.capture import open_capture
        got = _frames_cache[name] = [(f.linktype, bytes(f.data), f.ts) for f in open_capture(CAPTURES / name)]
    return got


def _sctp_offset(data: bytes, linktype: int) -> int | None:
    """Where the SCTP common header starts in an Ethernet/SLL/raw IPv4 or IPv6 frame (no tunnel), if found."""
    off = {1: 14, 113: 16, 276: 20, 101: 0, 228: 0, 229: 0, 0: 4}.get(linktype)
    if off is None:
        return None
    if linktype == 1:
        while data[off - 2:off] in (b"\x81\x00", b"\x88\xa8") and len(data) >= off + 4:
            off += 4
    if len(data) < off + 40:
        return None
    v = data[off] >> 4
    if v == 4:
        proto, off = data[off + 9], off + (data[off] & 15) * 4
        if proto == 17:
            off += 8
        elif proto != 132:
            return None
        return off
    if v == 6 and data[off + 6] == 132:
        return off + 40
    return None


def mutate_packet(rng: random.Random, data: bytes, linktype: int) -> bytes:
    """One frame mutated: random bytes, a length field at an edge value, a random chunk type, or a cut."""
    buf = bytearray(data)
    base = _sctp_offset(data, linktype)
    how = rng.randrange(6)
    if how == 0 or base is None:                  # random bytes anywhere
        for _ in range(rng.randint(1, 6)):
            if buf:
                buf[rng.randrange(len(buf))] = rng.randrange(256)
    elif how in (1, 2, 3):                         # walk the chunks; edit one chunk's (or its param's) fields
        off = base + 12
        chunks = []
        while off + 4 <= len(buf) and len(chunks) < 64:
            chunks.append(off)
            clen = struct.unpack_from("!H", buf, off + 2)[0]
            if clen < 4:
                break
            off += (clen + 3) & ~3
        if chunks:
            at = rng.choice(chunks)
            if how == 1:        # the chunk length at an edge value
                struct.pack_into("!H", buf, at + 2, rng.choice([0, 1, 3, 4, 5, 7, 8, 12, 15, 16, 17, 20, 0xFFFF,
                                                                0xFFFC, 0x8000, len(buf) - at, len(buf) - at + 1]))
            elif how == 2:      # a random chunk type (and flags)
                buf[at] = rng.choice([rng.randrange(256), 0, 1, 2, 3, 6, 9, 64, 128, 130, 192, 193, 194, 16, 129])
                buf[at + 1] = rng.randrange(256)
            else:               # a length field inside the chunk (a parameter's, a cause's) at an edge value
                clen = struct.unpack_from("!H", buf, at + 2)[0]
                end = min(len(buf), at + max(clen, 4))
                if end - at > 6:
                    p = at + 4 + 2 * rng.randrange((end - at - 6) // 2)
                    struct.pack_into("!H", buf, p, rng.choice([0, 1, 3, 4, 5, 8, 0xFFFF, 0x7FFF, 0xC004, 0xC001,
                                                               rng.randrange(65536)]))
    elif how == 4:                                 # cut short
        buf = buf[:rng.randrange(len(buf) + 1)]
    else:                                          # a 32-bit field (TSN, cum ack, tag, ...) at an edge
        if len(buf) >= base + 16:
            p = base + 4 * rng.randrange((len(buf) - base) // 4)
            if p + 4 <= len(buf):
                struct.pack_into("!I", buf, p, rng.choice([0, 1, 0x7FFFFFFF, 0x80000000, 0xFFFFFFFF,
                                                           rng.randrange(1 << 32)]))
    return bytes(buf)


class _Null(io.TextIOBase):
    def write(self, s: str) -> int:
        return len(s)


def _walk(node) -> int:
    n = 0
    stack = [node]
    while stack:
        x = stack.pop()
        n += len(str(x.label))
        stack.extend(x.children)
    return n


def single_packet(rng: random.Random) -> str:
    from sctpscope.analysis.follow import Follower
    from sctpscope.analysis.timeline import build
    from sctpscope.analysis.tracker import Analysis
    from sctpscope.decode.frame import FrameDecoder
    from sctpscope.decode.layout import frame_tree
    from sctpscope.export.ladder import ladder_lines
    from sctpscope.report.document import build_report
    from sctpscope.report.packets import frame_lines
    from sctpscope.report.summary import render_summary
    from sctpscope.analysis.totals import Totals
    from sctpscope.export.formats import write_report_json

    frames = _frames(rng.choice(SOURCES))
    k = rng.randrange(len(frames))
    lo = max(0, k - rng.choice([0, 3, 12, 40]))
    decoder = FrameDecoder(verify_checksum=rng.random() < 0.3)
    analysis = Analysis()
    totals = Totals()
    recs = []
    for n, i in enumerate(range(lo, min(len(frames), k + 1 + CONTEXT_AFTER)), 1):
        lt, data, ts = frames[i]
        if i == k:
            data = mutate_packet(rng, data, lt)
        d = decoder.decode(n, ts, lt, data)
        analysis.add(d)
        recs.extend((d, r, data) for r in d.sctp)
        if i == k:
            _walk(frame_tree(n, ts, lt, data, len(data), d))
            frame_lines(d, frames[lo][2])
    analysis.finish()
    dicts = analysis.association_dicts()
    doc = build_report([], totals, dicts, analysis.unassociated())
    write_report_json(doc, _Null())
    render_summary(doc)
    for a in dicts[:3]:
        fol = Follower.for_association(a)
        steps = []
        for d, r, data in recs:
            if r.packet.header_ok:
                side = fol.side_of(r)
                steps.append((d.number, d.ts, side, r))
                if r.offset >= 0:
                    fol.packet(r, data[r.offset:r.offset + r.packet.length])
        fol.finish()
        tl = build(steps)
        ladder_lines(a, tl, width=rng.choice([None, 80, 200]), fold=rng.random() < 0.5)
    return "ok"


def mutate_capture(rng: random.Random, raw: bytes) -> bytes:
    buf = bytearray(raw)
    how = rng.randrange(5)
    if how == 0:
        for _ in range(rng.randint(1, 20)):
            buf[rng.randrange(len(buf))] = rng.randrange(256)
    elif how == 1:          # a 32-bit field (record length, block length, ...) at an edge value
        for _ in range(rng.randint(1, 3)):
            p = rng.randrange(max(1, len(buf) - 4))
            struct.pack_into("<I", buf, p, rng.choice([0, 1, 0xFFFFFFFF, 0x7FFFFFFF, 1 << 24, rng.randrange(1 << 32)]))
    elif how == 2:
        buf = buf[:rng.randrange(len(buf) + 1)]
    else:                   # compressed, then cut (a download cut short), or corrupted
        packed = bytearray((gzip.compress if how == 3 else lzma.compress)(bytes(buf)))
        if rng.random() < 0.7:
            packed = packed[:rng.randrange(len(packed) + 1)]
        else:
            packed[rng.randrange(len(packed))] ^= 1 << rng.randrange(8)
        return bytes(packed)
    return bytes(buf)


def whole_capture(rng: random.Random) -> str:
    from sctpscope.cli import run_report
    from sctpscope.errors import SctpscopeError
    from sctpscope.export.extract import extract as extract_frames
    from sctpscope.export.follow import follow_messages
    from sctpscope.export.formats import write_report_json
    from sctpscope.export.ladder import file_timelines, ladder_text
    from sctpscope.pipeline import decode_files
    from sctpscope.report.packets import frame_lines

    raw = (CAPTURES / rng.choice(WHOLE)).read_bytes()
    data = mutate_capture(rng, raw)
    fd, path = tempfile.mkstemp(prefix="sctpscope-fuzz-", suffix=".pcap")
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
        try:
            doc = run_report([path], (9899,), rng.random() < 0.5, 1)
            write_report_json(doc, _Null())
            for frame in decode_files([path], []):
                frame_lines(frame, 0.0)
            if doc["associations"]:
                n = rng.randrange(len(doc["associations"])) + 1
                _, msgs = follow_messages([path], n)
                for _ in msgs:
                    pass
                ladder_text(file_timelines([path], [n]), width=100)
                extract_frames([path], [n], path + ".pcapng")
        except SctpscopeError:
            return "error"
        return "ok"
    finally:
        for p in (path, path + ".pcapng"):
            if os.path.exists(p):
                os.unlink(p)


def run_one(seed: int, limit: float = 20.0) -> str:
    """The outcome of input `seed` (see the module doc); never raises."""
    rng = random.Random(seed)
    whole = seed % WHOLE_SHARE == 0

    def alarm(signum, frame):
        raise Hang()
    old = signal.signal(signal.SIGALRM, alarm)
    signal.setitimer(signal.ITIMER_REAL, limit)
    try:
        return whole_capture(rng) if whole else single_packet(rng)
    except Hang:
        return "hang"
    except MemoryError:
        return "memory"
    except Exception as e:  # noqa: BLE001 - the point: any exception is a finding
        return f"traceback:{type(e).__name__}"
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, old)


def explain(seed: int) -> str:
    """The traceback of a failing seed, for a report."""
    import traceback
    rng = random.Random(seed)
    try:
        (whole_capture if seed % WHOLE_SHARE == 0 else single_packet)(rng)
    except Exception:  # noqa: BLE001
        return traceback.format_exc()
    return "ok"


def kind(seed: int) -> str:
    return "whole" if seed % WHOLE_SHARE == 0 else "packet"


__all__ = ["run_one", "explain", "kind", "mutate_packet", "mutate_capture", "json"]
