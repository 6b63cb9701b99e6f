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
from dataclasses import dataclass, field, fields

import crc32c as _crc32c

from .chunks import CHUNK_DECODERS, DataChunk, PktDropChunk, SackChunk, ShortChunk, _unknown
from .causes import UnrecognizedChunkCause
from .names import chunk_name
from ._util import HDR, U32, Ctx, pad4  # noqa: F401 (pad4: kept importable from here)


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


def _checksum(buf, field_be: int, field_le: int, c: int | None = None):
    """Returns (status, computed crc32c in the field's big-endian representation). ``c``: the CRC32c of
    the packet with the field zeroed, when already computed."""
    if c is None:
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
_HEAD = struct.Struct(">HHIIBBHIHHI")       # common header + a chunk's first 16 bytes (as _CHUNK16)
_CHUNK16 = struct.Struct(">BBHIHHI")         # a chunk's first 16 bytes read as DATA: type, flags, length,
                                             # TSN, SID, SSN, PPID. For a SACK: cum TSN ack, a_rwnd (the
                                             # SID and SSN fields), #gap blocks and #dup TSNs (the PPID)
_PAD_MASK = (0, 0xFFFFFF, 0xFFFF, 0xFF)     # by length & 3: the pad bytes at the end of the last word
_unpack_header = _HEADER.unpack_from
_unpack_head = _HEAD.unpack_from
_unpack_chunk16 = _CHUNK16.unpack_from
_unpack_le32 = _LE32.unpack_from
_unpack_u32 = U32.unpack_from
_new = object.__new__

# The hot path builds SctpPacket, DataChunk and SackChunk records with object.__new__ and slot stores
# (half the cost of the dataclass __init__). It must set every field: checked here at import.
for _cls, _names in (
    (SctpPacket, ("src_port", "dst_port", "vtag", "checksum", "header_ok", "checksum_status", "computed_crc32c",
                  "chunks", "problems", "length")),
    (DataChunk, ("type", "flags", "length", "offset", "tsn", "sid", "ssn", "ppid", "payload_offset",
                 "payload_length", "padding_ok")),
    (SackChunk, ("type", "flags", "length", "offset", "cum_tsn_ack", "a_rwnd", "gap_blocks", "dup_tsns",
                 "nr_gap_blocks", "padding_ok")),
):
    if tuple(f.name for f in fields(_cls)) != _names:  # pragma: no cover - a field was added or renamed
        raise ImportError(f"sctpscope.decode.sctp.packet: update the fast path for {_cls.__name__}")
del _cls, _names


def _decode(buf, base: int, verify: bool, depth: int = 0):
    """Decode; returns (SctpPacket, fatal) where fatal means tshark would have abandoned the packet."""
    n = len(buf)
    problems: list = []
    if n < 12:
        ctx = Ctx(problems, base, verify, depth)
        ctx.add("sctp.too_short", "sctp", 0, 12, n, "shorter than the SCTP common header")
        return SctpPacket(None, None, None, None, False, "unchecked", None, [], problems, n), True
    pkt = _new(SctpPacket)
    if n >= 28:
        # The common header and the first 16 bytes of the first chunk in one go.
        pkt.src_port, pkt.dst_port, pkt.vtag, csum, t, f, L, tsn, sid, ssn, ppid = _unpack_head(buf, 0)
        ahead = True
    else:
        pkt.src_port, pkt.dst_port, pkt.vtag, csum = _unpack_header(buf, 0)
        ahead = False
    pkt.checksum = csum
    pkt.header_ok = True
    if verify:
        # One CRC over a copy with the checksum field zeroed: cheaper than three chained calls over
        # slices, even over memoryviews.
        c = _crc(_ZERO4.join((buf[:8], buf[12:])))
        field_le = _unpack_le32(buf, 8)[0]
        if c == field_le:
            pkt.checksum_status = "crc32c"
            pkt.computed_crc32c = csum  # the CRC matches the field: same big-endian representation
        else:
            pkt.checksum_status, pkt.computed_crc32c = _checksum(buf, csum, field_le, c)
    else:
        pkt.checksum_status = "unchecked"
        pkt.computed_crc32c = None
    pkt.chunks = chunks = []
    pkt.problems = problems
    pkt.length = n
    ctx = None                          # created on first need (a problem, or a non-inlined decoder)
    off = 12
    fatal = False
    if n == 12:
        ctx = Ctx(problems, base, verify, depth)
        ctx.add("sctp.no_chunks", "sctp", 12, None, None, "common header only")
    while off < n:
        rem = n - off
        # Fast paths: a DATA chunk, or a SACK without gap blocks or duplicate TSNs, wholly inside the
        # packet with its padding present and zero. Anything else (problems included) goes the general
        # way below, which decodes these too.
        if ahead or rem >= 16:
            if ahead:
                ahead = False
            else:
                t, f, L, tsn, sid, ssn, ppid = _unpack_chunk16(buf, off)
            if L >= 16 and L <= rem and L <= 65532:
                q = L & 3
                if q:
                    total = L + 4 - q
                    if total > rem or _unpack_u32(buf, off + total - 4)[0] & _PAD_MASK[q]:
                        t = -1                      # padding missing or not zero: the general way reports it
                else:
                    total = L
                if t == 0:
                    rec = _new(DataChunk)
                    rec.type = 0
                    rec.flags = f
                    rec.length = L
                    rec.offset = off
                    rec.tsn = tsn
                    rec.sid = sid
                    rec.ssn = ssn
                    rec.ppid = ppid
                    rec.payload_offset = off + 16
                    rec.payload_length = L - 16
                    rec.padding_ok = True
                    chunks.append(rec)
                    off += total
                    continue
                if t == 3 and not ppid:               # no gap blocks, no duplicate TSNs
                    rec = _new(SackChunk)
                    rec.type = 3
                    rec.flags = f
                    rec.length = L
                    rec.offset = off
                    rec.cum_tsn_ack = tsn
                    rec.a_rwnd = sid << 16 | ssn
                    rec.gap_blocks = []
                    rec.dup_tsns = []
                    rec.nr_gap_blocks = None
                    rec.padding_ok = True
                    chunks.append(rec)
                    off += total
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
            chunks.append(ShortChunk(t, f, L, off))
            off += 4
            continue
        total = (L + 3) & ~3
        if total > rem:
            total = rem
            if L > rem:
                ctx.add("chunk.bad_length", f"chunk:{chunk_name(t)}", off, L, rem, "chunk length beyond the packet")
        rec, fatal = CHUNK_DECODERS.get(t, _unknown)(buf, off, f, L, off + total, ctx)
        chunks.append(rec)
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
