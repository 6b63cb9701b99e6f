"""SCTP chunk records and per-type decoders (dispatch table keyed by chunk type).

Each decoder is ``fn(buf, off, flags, length, end, ctx) -> (record, fatal)`` where [off, end) is the
chunk's view: its length rounded up to 4 and clipped to the bytes left in the packet (so ``length`` may
exceed ``end - off`` for the last chunk). ``fatal`` is True when tshark's dissector throws a bounds
exception inside this chunk (it reads past the view): tshark then lists no later chunk of the packet,
so decode_sctp stops there too. Which chunks throw mirrors epan/dissectors/packet-sctp.c (tshark 4.0):

* types with an explicit minimum-length check (DATA 16, I-DATA 20, INIT/INIT ACK 20, FORWARD TSN and
  I-FORWARD-TSN 8, ASCONF/ASCONF ACK 8, PKTDROP 16) are listed, flagged "bogus", and decoding goes on;
* SACK, NR-SACK, SHUTDOWN, ECNE, CWR and AUTH read their fixed fields unchecked: too short -> fatal;
* SACK/NR-SACK gap blocks and duplicate TSNs are read as counted: beyond the view -> fatal;
* HEARTBEAT/ACK with no complete parameter, ABORT/ERROR with a bad cause, INIT/ASCONF/RE-CONFIG with a
  bad parameter -> fatal (see params.py and causes.py).
"""

from __future__ import annotations

import struct
from dataclasses import dataclass, field

from .names import ACTION_NAMES, chunk_name
from .params import decode_param, decode_params
from .causes import decode_causes
from ._util import HDR, U16, U32, Ctx

_DATA = struct.Struct(">IHHI")        # TSN, SID, SSN, PPID
_IDATA = struct.Struct(">IHHII")      # TSN, SID, reserved, MID, PPID/FSN
_INIT = struct.Struct(">IIHHI")       # initiate tag, a_rwnd, OS, MIS, initial TSN
_SACK = struct.Struct(">IIHH")        # cum TSN ack, a_rwnd, #gap blocks, #dup TSNs
_NRSACK = struct.Struct(">IIHHHH")    # cum TSN ack, a_rwnd, #gaps, #nr-gaps, #dups, reserved
_PKTDROP = struct.Struct(">IIHH")     # link MTU (bandwidth), queue size, truncated length, reserved
_AUTH = struct.Struct(">HH")          # shared key id, HMAC id
_GAP = struct.Struct(">HH")           # gap block start, end


@dataclass(slots=True)
class Chunk:
    """Base of all chunk records. ``offset`` is relative to the start of the SCTP packet."""

    type: int
    flags: int
    length: int
    offset: int

    @property
    def name(self) -> str:
        return chunk_name(self.type)


@dataclass(slots=True)
class ShortChunk(Chunk):
    """A chunk tshark lists but whose fixed fields are missing (length below the type's minimum, or
    the packet ends inside them). Its problem is in SctpPacket.problems."""

    padding_ok: bool = True


@dataclass(slots=True)
class UnknownChunk(Chunk):
    padding_ok: bool = True

    @property
    def action(self) -> str:
        """RFC 9260 §3.2: 00 stop, 01 stop and report, 10 skip, 11 skip and report."""
        return ACTION_NAMES[self.type >> 6]


@dataclass(slots=True)
class DataChunk(Chunk):
    tsn: int
    sid: int
    ssn: int
    ppid: int
    payload_offset: int
    payload_length: int
    padding_ok: bool = True

    @property
    def unordered(self) -> bool:
        return bool(self.flags & 0x04)

    @property
    def beginning(self) -> bool:
        return bool(self.flags & 0x02)

    @property
    def ending(self) -> bool:
        return bool(self.flags & 0x01)

    @property
    def immediate(self) -> bool:
        return bool(self.flags & 0x08)


@dataclass(slots=True)
class IDataChunk(Chunk):
    tsn: int
    sid: int
    mid: int
    ppid: int | None
    fsn: int
    payload_offset: int
    payload_length: int
    padding_ok: bool = True

    unordered = DataChunk.unordered
    beginning = DataChunk.beginning
    ending = DataChunk.ending
    immediate = DataChunk.immediate


@dataclass(slots=True)
class InitChunk(Chunk):
    """INIT (1) and INIT ACK (2)."""

    initiate_tag: int
    a_rwnd: int
    outbound_streams: int
    inbound_streams: int
    initial_tsn: int
    params: list = field(default_factory=list)
    padding_ok: bool = True


@dataclass(slots=True)
class SackChunk(Chunk):
    """SACK (3) and NR-SACK (16; nr_gap_blocks only there)."""

    cum_tsn_ack: int
    a_rwnd: int
    gap_blocks: list
    dup_tsns: list
    nr_gap_blocks: list | None = None
    padding_ok: bool = True

    @property
    def all_non_renegable(self) -> bool:
        return self.type == 16 and bool(self.flags & 0x01)


@dataclass(slots=True)
class ParamsChunk(Chunk):
    """HEARTBEAT (4), HEARTBEAT ACK (5), RE-CONFIG (130)."""

    params: list = field(default_factory=list)
    padding_ok: bool = True


@dataclass(slots=True)
class CausesChunk(Chunk):
    """ABORT (6) and ERROR (9)."""

    causes: list = field(default_factory=list)
    padding_ok: bool = True

    @property
    def t_bit(self) -> bool:
        return self.type == 6 and bool(self.flags & 0x01)


@dataclass(slots=True)
class ShutdownChunk(Chunk):
    cum_tsn_ack: int = 0
    padding_ok: bool = True


@dataclass(slots=True)
class EmptyChunk(Chunk):
    """SHUTDOWN ACK (8), COOKIE ACK (11), SHUTDOWN COMPLETE (14)."""

    padding_ok: bool = True

    @property
    def t_bit(self) -> bool:
        return self.type == 14 and bool(self.flags & 0x01)


@dataclass(slots=True)
class CookieEchoChunk(Chunk):
    cookie_length: int = 0
    padding_ok: bool = True


@dataclass(slots=True)
class TsnChunk(Chunk):
    """ECNE (12) and CWR (13): lowest TSN; ECNE of length >= 12 also carries the CE packet count."""

    lowest_tsn: int = 0
    ce_packets: int | None = None
    padding_ok: bool = True


@dataclass(slots=True)
class AuthChunk(Chunk):
    shared_key_id: int = 0
    hmac_id: int = 0
    hmac: bytes = b""
    padding_ok: bool = True


@dataclass(slots=True)
class AsconfChunk(Chunk):
    """ASCONF (193) and ASCONF ACK (128)."""

    serial: int = 0
    params: list = field(default_factory=list)
    padding_ok: bool = True


@dataclass(slots=True)
class PadChunk(Chunk):
    pad_length: int = 0
    padding_ok: bool = True


@dataclass(slots=True)
class ForwardTsnChunk(Chunk):
    new_cum_tsn: int = 0
    streams: list = field(default_factory=list)        # [(sid, ssn)]
    padding_ok: bool = True


@dataclass(slots=True)
class IForwardTsnChunk(Chunk):
    new_cum_tsn: int = 0
    entries: list = field(default_factory=list)        # [(sid, unordered, mid)]
    padding_ok: bool = True


@dataclass(slots=True)
class PktDropChunk(Chunk):
    link_mtu: int = 0            # tshark: "bandwidth"
    queue_size: int = 0
    truncated_length: int = 0
    reserved: int = 0
    dropped_offset: int = 0
    dropped_length: int = 0
    packet: object = None        # nested SctpPacket when the dropped bytes were decoded (T bit clear)
    padding_ok: bool = True

    @property
    def m_bit(self) -> bool:
        return bool(self.flags & 0x01)

    @property
    def b_bit(self) -> bool:
        return bool(self.flags & 0x02)

    @property
    def t_bit(self) -> bool:
        return bool(self.flags & 0x04)


# ---- decoders --------------------------------------------------------------------------------------

def _short(ctx, t, f, L, off, code, need, avail, fatal):
    ctx.add(code, f"chunk:{chunk_name(t)}", off, need, avail,
            "fixed fields missing" + ("; later chunks not decoded (tshark stops here too)" if fatal else ""))
    return ShortChunk(t, f, L, off), fatal


def _data(buf, off, f, L, end, ctx):
    if L < 16:
        return _short(ctx, 0, f, L, off, "chunk.bad_length", 16, L, False)
    if end - off < 16:
        return _short(ctx, 0, f, L, off, "chunk.truncated", 16, end - off, True)
    tsn, sid, ssn, ppid = _DATA.unpack_from(buf, off + 4)
    plen = (L if L <= end - off else end - off) - 16
    return DataChunk(0, f, L, off, tsn, sid, ssn, ppid, off + 16, plen), False


def _idata(buf, off, f, L, end, ctx):
    if L < 20:
        return _short(ctx, 64, f, L, off, "chunk.bad_length", 20, L, False)
    if end - off < 20:
        return _short(ctx, 64, f, L, off, "chunk.truncated", 20, end - off, True)
    tsn, sid, _res, mid, x = _IDATA.unpack_from(buf, off + 4)
    plen = min(L, end - off) - 20
    if f & 0x02:
        return IDataChunk(64, f, L, off, tsn, sid, mid, x, 0, off + 20, plen), False
    return IDataChunk(64, f, L, off, tsn, sid, mid, None, x, off + 20, plen), False


def _init(buf, off, f, L, end, ctx, t=1):
    if L < 20:
        return _short(ctx, t, f, L, off, "chunk.bad_length", 20, L, False)
    if end - off < 20:
        return _short(ctx, t, f, L, off, "chunk.truncated", 20, end - off, True)
    rec = InitChunk(t, f, L, off, *_INIT.unpack_from(buf, off + 4))
    rec.params, fatal = decode_params(buf, off + 20, min(off + L, end), ctx, f"chunk:{chunk_name(t)}")
    return rec, fatal


def _init_ack(buf, off, f, L, end, ctx):
    return _init(buf, off, f, L, end, ctx, 2)


def _sack(buf, off, f, L, end, ctx):
    if end - off < 16:
        return _short(ctx, 3, f, L, off, "chunk.truncated", 16, end - off, True)
    cum, rwnd, ngap, ndup = _SACK.unpack_from(buf, off + 4)
    p = off + 16
    room = (end - p) >> 2
    k = ngap if ngap <= room else room
    gaps = [_GAP.unpack_from(buf, p + 4 * i) for i in range(k)]
    p += 4 * k
    room -= k
    d = ndup if ndup <= room else room
    dups = list(struct.unpack_from(f">{d}I", buf, p)) if (d and k == ngap) else []
    rec = SackChunk(3, f, L, off, cum, rwnd, gaps, dups)
    if k < ngap or d < ndup:
        ctx.add("chunk.bad_length", "chunk:SACK", off, 16 + 4 * (ngap + ndup), end - off,
                "gap blocks / duplicate TSNs beyond the chunk; later chunks not decoded (tshark stops here too)")
        return rec, True
    return rec, False


def _nr_sack(buf, off, f, L, end, ctx):
    if end - off < 20:
        return _short(ctx, 16, f, L, off, "chunk.truncated", 20, end - off, True)
    cum, rwnd, ngap, nnr, ndup, _res = _NRSACK.unpack_from(buf, off + 4)
    p = off + 20
    need = 20 + 4 * (ngap + nnr + ndup)
    if need > end - off:
        ctx.add("chunk.bad_length", "chunk:NR_SACK", off, need, end - off,
                "gap blocks / duplicate TSNs beyond the chunk; later chunks not decoded (tshark stops here too)")
        return SackChunk(16, f, L, off, cum, rwnd, [], [], []), True
    gaps = [_GAP.unpack_from(buf, p + 4 * i) for i in range(ngap)]
    p += 4 * ngap
    nrg = [_GAP.unpack_from(buf, p + 4 * i) for i in range(nnr)]
    p += 4 * nnr
    dups = list(struct.unpack_from(f">{ndup}I", buf, p))
    return SackChunk(16, f, L, off, cum, rwnd, gaps, dups, nrg), False


def _heartbeat(buf, off, f, L, end, ctx, t=4):
    rec = ParamsChunk(t, f, L, off, [])
    p, fatal = decode_param(buf, off + 4, min(off + L, end), ctx, f"chunk:{chunk_name(t)}")
    if p is not None:
        rec.params.append(p)
    return rec, fatal


def _heartbeat_ack(buf, off, f, L, end, ctx):
    return _heartbeat(buf, off, f, L, end, ctx, 5)


def _causes_chunk(buf, off, f, L, end, ctx, t):
    rec = CausesChunk(t, f, L, off, [])
    rec.causes, fatal = decode_causes(buf, off + 4, min(off + L, end), ctx, f"chunk:{chunk_name(t)}")
    return rec, fatal


def _abort(buf, off, f, L, end, ctx):
    return _causes_chunk(buf, off, f, L, end, ctx, 6)


def _error(buf, off, f, L, end, ctx):
    return _causes_chunk(buf, off, f, L, end, ctx, 9)


def _shutdown(buf, off, f, L, end, ctx):
    if end - off < 8:
        return _short(ctx, 7, f, L, off, "chunk.truncated", 8, end - off, True)
    return ShutdownChunk(7, f, L, off, U32.unpack_from(buf, off + 4)[0]), False


def _empty(t):
    def dec(buf, off, f, L, end, ctx):
        return EmptyChunk(t, f, L, off), False
    return dec


def _cookie_echo(buf, off, f, L, end, ctx):
    return CookieEchoChunk(10, f, L, off, L - 4), False


def _tsn_chunk(t):
    def dec(buf, off, f, L, end, ctx):
        if end - off < 8:
            return _short(ctx, t, f, L, off, "chunk.truncated", 8, end - off, True)
        ce = U32.unpack_from(buf, off + 8)[0] if (t == 12 and L >= 12 and end - off >= 12) else None
        return TsnChunk(t, f, L, off, U32.unpack_from(buf, off + 4)[0], ce), False
    return dec


def _auth(buf, off, f, L, end, ctx):
    if L < 8 or end - off < 8:
        return _short(ctx, 15, f, L, off, "chunk.bad_length" if L < 8 else "chunk.truncated", 8,
                      min(L, end - off), True)
    key, hid = _AUTH.unpack_from(buf, off + 4)
    return AuthChunk(15, f, L, off, key, hid, bytes(buf[off + 8:min(off + L, end)])), False


def _asconf(t):
    def dec(buf, off, f, L, end, ctx):
        if L < 8:
            return _short(ctx, t, f, L, off, "chunk.bad_length", 8, L, False)
        if end - off < 8:
            return _short(ctx, t, f, L, off, "chunk.truncated", 8, end - off, True)
        rec = AsconfChunk(t, f, L, off, U32.unpack_from(buf, off + 4)[0], [])
        rec.params, fatal = decode_params(buf, off + 8, min(off + L, end), ctx, f"chunk:{chunk_name(t)}")
        return rec, fatal
    return dec


def _reconfig(buf, off, f, L, end, ctx):
    rec = ParamsChunk(130, f, L, off, [])
    rec.params, fatal = decode_params(buf, off + 4, min(off + L, end), ctx, "chunk:RE_CONFIG")
    return rec, fatal


def _pad(buf, off, f, L, end, ctx):
    return PadChunk(132, f, L, off, L - 4), False


def _fwd_tsn(buf, off, f, L, end, ctx):
    if L < 8:
        return _short(ctx, 192, f, L, off, "chunk.bad_length", 8, L, False)
    if end - off < 8:
        return _short(ctx, 192, f, L, off, "chunk.truncated", 8, end - off, True)
    n = (min(L, end - off) - 8) >> 2
    streams = [_GAP.unpack_from(buf, off + 8 + 4 * i) for i in range(n)]
    return ForwardTsnChunk(192, f, L, off, U32.unpack_from(buf, off + 4)[0], streams), False


def _ifwd_tsn(buf, off, f, L, end, ctx):
    if L < 8:
        return _short(ctx, 194, f, L, off, "chunk.bad_length", 8, L, False)
    if end - off < 8:
        return _short(ctx, 194, f, L, off, "chunk.truncated", 8, end - off, True)
    n = (min(L, end - off) - 8) >> 3
    entries = []
    for i in range(n):
        sid, fl, mid = struct.unpack_from(">HHI", buf, off + 8 + 8 * i)
        entries.append((sid, bool(fl & 1), mid))
    return IForwardTsnChunk(194, f, L, off, U32.unpack_from(buf, off + 4)[0], entries), False


def _pktdrop(buf, off, f, L, end, ctx):
    if L < 16:
        return _short(ctx, 129, f, L, off, "chunk.bad_length", 16, L, False)
    if end - off < 16:
        return _short(ctx, 129, f, L, off, "chunk.truncated", 16, end - off, True)
    mtu, qs, trunc, res = _PKTDROP.unpack_from(buf, off + 4)
    dend = min(off + L, end)
    rec = PktDropChunk(129, f, L, off, mtu, qs, trunc, res, off + 16, dend - off - 16)
    fatal = False
    if dend > off + 16 and not (f & 0x04) and ctx.depth < 4:
        from .packet import _decode
        ctx.depth += 1
        try:
            rec.packet, fatal = _decode(memoryview(buf)[off + 16:dend], ctx.base + off + 16, ctx.verify, ctx.depth)
        finally:
            ctx.depth -= 1
        if rec.packet.problems:
            ctx.add("chunk.bad_length" if fatal else "chunk.bad_padding", "chunk:PKTDROP", off + 16, None, None,
                    "dropped packet: " + "; ".join(str(p) for p in rec.packet.problems[:3]))
    return rec, fatal


def _unknown(buf, off, f, L, end, ctx):
    return UnknownChunk(buf[off], f, L, off), False


CHUNK_DECODERS = {
    0: _data,
    1: _init,
    2: _init_ack,
    3: _sack,
    4: _heartbeat,
    5: _heartbeat_ack,
    6: _abort,
    7: _shutdown,
    8: _empty(8),
    9: _error,
    10: _cookie_echo,
    11: _empty(11),
    12: _tsn_chunk(12),
    13: _tsn_chunk(13),
    14: _empty(14),
    15: _auth,
    16: _nr_sack,
    64: _idata,
    128: _asconf(128),
    129: _pktdrop,
    130: _reconfig,
    132: _pad,
    192: _fwd_tsn,
    193: _asconf(193),
    194: _ifwd_tsn,
}


def decode_nested_chunk(buf, off: int, end: int, ctx: Ctx):
    """The chunk inside an Unrecognized Chunk Type cause: [off, end) is its whole view (not rounded).

    Caller guarantees 4 header bytes. tshark lists it (sctp.chunk_type) and dissects it like any chunk.
    """
    t, f, L = HDR.unpack_from(buf, off)
    if L < 4:
        return ShortChunk(t, f, L, off), False
    rec, fatal = CHUNK_DECODERS.get(t, _unknown)(buf, off, f, L, end, ctx)
    return rec, fatal or L > end - off
