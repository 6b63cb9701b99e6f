"""SCTP common header, checksum and the chunk loop (RFC 9260 §3).

Chunk framing follows tshark 4.0 (epan/dissectors/packet-sctp.c, dissect_sctp_chunks) so that
``pkt.chunks`` lists exactly the chunks tshark lists (``-e sctp.chunk_type``), malformed packets
included. Behaviours matched, each checked against tshark 4.0.17 with crafted packets:

* 1..3 bytes left after the last chunk: no chunk (tshark throws reading the length) -> chunk.truncated.
* chunk length 0, or 65533..65535 (rounded up to 65536 in a 16-bit variable: 0): no chunk (the
  chunk's view is empty) -> chunk.bad_length, stop.
* chunk length 1..3: the chunk IS listed (type only), decoding moves on by 4 bytes -> chunk.bad_length.
* length beyond the packet: the chunk IS listed, decoded as far as the bytes go, and is the last one.
* length below the type's fixed fields: listed; for types tshark checks (DATA, I-DATA, INIT, INIT ACK,
  FORWARD TSN, I-FORWARD-TSN, ASCONF, ASCONF ACK, PKTDROP) decoding goes on; for the others (SACK,
  NR-SACK, SHUTDOWN, ECNE, CWR, AUTH, HEARTBEAT without parameter, bad parameters/causes) tshark throws
  and lists no later chunk, so we stop there too (see chunks.py).
* the last chunk's padding may be missing (chunk.bad_padding); a chunk's view is its length rounded up
  to 4 and clipped to the packet, so a missing pad in the middle shifts the next chunk as in tshark.
* chunks nested in an Unrecognized Chunk Type cause and in a PKTDROP's dropped packet are listed by
  tshark too: they are NOT in ``pkt.chunks`` but ``tshark_chunk_types(pkt)`` lists them in tshark order.
"""

from __future__ import annotations

import struct
import zlib
from dataclasses import dataclass, field

import crc32c as _crc32c

from .chunks import CHUNK_DECODERS, DataChunk, PktDropChunk, SackChunk, ShortChunk, _unknown
from .causes import UnrecognizedChunkCause
from .names import chunk_name
from ._util import HDR, U32, Ctx, pad4  # noqa: F401 (pad4: kept importable from here)

_U32 = U32

_crc = _crc32c.crc32c
_ZERO4 = b"\0\0\0\0"
_LE32 = struct.Struct("<I")


@dataclass(slots=True)
class SctpPacket:
    """One decoded SCTP packet.

    checksum: the field as tshark shows it (network byte order read as big-endian).
    computed_crc32c: the CRC32c of the packet, in the same representation (equal to ``checksum``
    when correct), None when not computed. checksum_status: "crc32c" (correct), "adler32" (RFC 2960
    Adler-32 correct), "zero" (field 0: RFC 9653 zero checksum or offload), "bad", "unchecked".
    """

    src_port: int | None
    dst_port: int | None
    vtag: int | None
    checksum: int | None
    header_ok: bool
    checksum_status: str
    computed_crc32c: int | None
    chunks: list = field(default_factory=list)
    problems: list = field(default_factory=list)
    length: int = 0

    @property
    def malformed(self) -> bool:
        return bool(self.problems)


def _checksum(buf, field_be: int, field_le: int):
    """Returns (status, computed crc32c in the field's big-endian representation)."""
    c = _crc(_ZERO4.join((buf[:8], buf[12:])))
    computed_be = int.from_bytes(c.to_bytes(4, "little"), "big")
    if c == field_le:
        return "crc32c", computed_be
    if field_be == 0:
        return "zero", computed_be
    a = zlib.adler32(buf[12:], zlib.adler32(_ZERO4, zlib.adler32(buf[:8])))
    if a == field_be:
        return "adler32", computed_be
    return "bad", computed_be


_HEADER = struct.Struct(">HHII")
_DATA_FULL = struct.Struct(">xBHIHHI")       # DATA chunk: flags, length, TSN, SID, SSN, PPID
_SACK_FULL = struct.Struct(">xBHIIHH")       # SACK chunk: flags, length, cum TSN ack, a_rwnd, #gaps, #dups
_PAD_MASK = (0, 0xFFFFFF, 0xFFFF, 0xFF)     # by length & 3: the pad bytes at the end of the last word


def _decode(buf, base: int, verify: bool, depth: int = 0):
    """Decode; returns (SctpPacket, fatal) where fatal means tshark would have abandoned the packet."""
    n = len(buf)
    problems: list = []
    if n < 12:
        ctx = Ctx(problems, base, verify, depth)
        ctx.add("sctp.too_short", "sctp", 0, 12, n, "shorter than the SCTP common header")
        return SctpPacket(None, None, None, None, False, "unchecked", None, [], problems, n), True
    sport, dport, vtag, csum = _HEADER.unpack_from(buf, 0)
    if verify:
        # One CRC over a copy with the checksum field zeroed (cheaper than three chained calls).
        c = _crc(_ZERO4.join((buf[:8], buf[12:])))
        if c == _LE32.unpack_from(buf, 8)[0]:
            status = "crc32c"
            computed = csum             # the CRC matches the field: same big-endian representation
        else:
            status, computed = _checksum(buf, csum, _LE32.unpack_from(buf, 8)[0])
    else:
        status, computed = "unchecked", None
    chunks: list = []
    pkt = SctpPacket(sport, dport, vtag, csum, True, status, computed, chunks, problems, n)
    ctx = None                          # created on first need (a problem, or a non-inlined decoder)
    append = chunks.append
    off = 12
    fatal = False
    if n == 12:
        ctx = Ctx(problems, base, verify, depth)
        ctx.add("sctp.no_chunks", "sctp", 12, None, None, "common header only")
    while off < n:
        rem = n - off
        t = buf[off]
        # Fast paths: a well-formed DATA chunk, a SACK without gap blocks or duplicate TSNs, each
        # wholly inside the packet. Anything else goes the general way below.
        if t == 0:
            if rem >= 16:
                f, L, tsn, sid, ssn, ppid = _DATA_FULL.unpack_from(buf, off)
                if 16 <= L <= rem and L <= 65532:
                    rec = DataChunk(0, f, L, off, tsn, sid, ssn, ppid, off + 16, L - 16)
                    append(rec)
                    q = L & 3
                    if q:
                        total = L + 4 - q
                        if total > rem:
                            rec.padding_ok = False
                            if ctx is None:
                                ctx = Ctx(problems, base, verify, depth)
                            ctx.add("chunk.bad_padding", "chunk:DATA", off + L, 4 - q, rem - L, "padding missing")
                            break
                        if _U32.unpack_from(buf, off + total - 4)[0] & _PAD_MASK[q]:
                            rec.padding_ok = False
                            if ctx is None:
                                ctx = Ctx(problems, base, verify, depth)
                            ctx.add("chunk.bad_padding", "chunk:DATA", off + L, None, None, "padding not zero")
                        off += total
                    else:
                        off += L
                    continue
        elif t == 3:
            if rem >= 16:
                f, L, cum, rwnd, ngap, ndup = _SACK_FULL.unpack_from(buf, off)
                if 16 <= L <= rem and L <= 65532 and not (ngap or ndup):
                    rec = SackChunk(3, f, L, off, cum, rwnd, [], [])
                    append(rec)
                    q = L & 3
                    if q:
                        total = L + 4 - q
                        if total > rem:
                            rec.padding_ok = False
                            if ctx is None:
                                ctx = Ctx(problems, base, verify, depth)
                            ctx.add("chunk.bad_padding", "chunk:SACK", off + L, 4 - q, rem - L, "padding missing")
                            break
                        if _U32.unpack_from(buf, off + total - 4)[0] & _PAD_MASK[q]:
                            rec.padding_ok = False
                            if ctx is None:
                                ctx = Ctx(problems, base, verify, depth)
                            ctx.add("chunk.bad_padding", "chunk:SACK", off + L, None, None, "padding not zero")
                        off += total
                    else:
                        off += L
                    continue
        if ctx is None:
            ctx = Ctx(problems, base, verify, depth)
        if rem < 4:
            ctx.add("chunk.truncated", "sctp", off, 4, rem, "bytes after the last chunk")
            fatal = True
            break
        t, f, L = HDR.unpack_from(buf, off)
        if L < 4 or L > 65532:
            if L == 0 or L > 65532:
                # tshark: the chunk's view is empty and the chunk is not listed; stop. (Lengths above
                # 65532 round up to 65536, which tshark keeps in a 16-bit variable: 0 again.)
                ctx.add("chunk.bad_length", f"chunk:{chunk_name(t)}", off, 4 if L == 0 else L, rem,
                        f"chunk length {L}")
                fatal = True
                break
            ctx.add("chunk.bad_length", f"chunk:{chunk_name(t)}", off, 4, L, "chunk length below 4")
            append(ShortChunk(t, f, L, off))
            off += 4
            continue
        total = (L + 3) & ~3
        if total > rem:
            total = rem
            if L > rem:
                ctx.add("chunk.bad_length", f"chunk:{chunk_name(t)}", off, L, rem, "chunk length beyond the packet")
        rec, fatal = CHUNK_DECODERS.get(t, _unknown)(buf, off, f, L, off + total, ctx)
        append(rec)
        if L & 3 and L <= rem:
            if total - L != (-L) & 3:
                rec.padding_ok = False
                ctx.add("chunk.bad_padding", f"chunk:{chunk_name(t)}", off + L, (-L) & 3, total - L, "padding missing")
            elif buf[off + L:off + total] != _ZERO4[:total - L]:
                rec.padding_ok = False
                ctx.add("chunk.bad_padding", f"chunk:{chunk_name(t)}", off + L, None, None, "padding not zero")
        if fatal or L > rem:
            fatal = True
            break
        off += total
    return pkt, fatal


def decode_sctp(buf, base: int = 0, verify: bool = True) -> SctpPacket:
    """Decode one SCTP packet (the IP payload). Pure; never raises; offsets in Problems are base+offset."""
    try:
        return _decode(buf, base, verify)[0]
    except Exception as e:  # pragma: no cover - a decoder bug must not take the caller down
        from sctpscope.problems import Problem
        pkt = SctpPacket(None, None, None, None, False, "unchecked", None, [], [], len(buf) if buf is not None else 0)
        try:
            pkt = _decode(buf, base, False)[0]
        except Exception:
            pass
        pkt.problems.append(Problem("sctp.decoder_error", "sctp", base, None, None, f"{type(e).__name__}: {e}"))
        return pkt


def iter_tshark_chunks(pkt: SctpPacket):
    """Yield chunk records in the order tshark lists ``sctp.chunk_type``: each top-level chunk, then the
    chunks nested in its Unrecognized Chunk Type causes or its PKTDROP's dropped packet."""
    for c in pkt.chunks:
        yield c
        yield from _nested(c)


def _nested(c):
    causes = getattr(c, "causes", None)
    if causes:
        for cause in causes:
            if isinstance(cause, UnrecognizedChunkCause) and cause.chunk is not None:
                yield cause.chunk
                yield from _nested(cause.chunk)
    if isinstance(c, PktDropChunk) and c.packet is not None:
        yield from iter_tshark_chunks(c.packet)


def tshark_chunk_types(pkt: SctpPacket) -> list[int]:
    """The list tshark prints for ``-e sctp.chunk_type`` on this packet."""
    return [c.type for c in iter_tshark_chunks(pkt)]
