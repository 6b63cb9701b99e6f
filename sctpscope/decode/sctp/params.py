"""SCTP parameters (INIT, INIT ACK, ASCONF, ASCONF ACK, RE-CONFIG, HEARTBEAT, nested in causes).

Every decoder here returns ``(record, fatal)``. ``fatal`` is True when tshark's SCTP dissector would
have thrown a bounds exception while dissecting this parameter (it reads past the parameter's bytes):
tshark then stops the whole packet, so the chunk loop stops too and chunk counts stay equal to tshark's.
The rules mirror epan/dissectors/packet-sctp.c (dissect_parameters / dissect_parameter): a parameter's
"view" is its length rounded up to 4, clipped to what is left of its container; a parameter is read
from that view (so fixed fields may extend into the padding), and a length beyond the view is fatal.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass, field

from .names import ACTION_NAMES, param_name
from ._util import MAX_DEPTH, TLV, U16, U32, Ctx, pad4, safe_bytes


@dataclass(slots=True)
class Param:
    """Base of all parameter records. Offsets are relative to the start of the SCTP packet."""

    type: int
    length: int
    offset: int
    padding_ok: bool

    @property
    def name(self) -> str:
        return param_name(self.type)

    @property
    def action(self) -> str:
        """What a receiver that does not know the type does (RFC 9260 §3.2.1): top two bits."""
        return ACTION_NAMES[(self.type >> 14) & 3]


@dataclass(slots=True)
class UnknownParam(Param):
    value: bytes = b""


@dataclass(slots=True)
class HeartbeatInfoParam(Param):
    info: bytes = b""


@dataclass(slots=True)
class AddressParam(Param):
    address: str = ""


@dataclass(slots=True)
class StateCookieParam(Param):
    cookie_length: int = 0


@dataclass(slots=True)
class UnrecognizedParam(Param):
    params: list = field(default_factory=list)


@dataclass(slots=True)
class CookiePreservativeParam(Param):
    increment_ms: int = 0


@dataclass(slots=True)
class HostNameParam(Param):
    hostname: bytes = b""     # raw: never decode to str for display, use safe_bytes()


@dataclass(slots=True)
class SupportedAddressTypesParam(Param):
    address_types: list = field(default_factory=list)


@dataclass(slots=True)
class FlagParam(Param):
    """ECN Capable (0x8000), Forward-TSN Supported (0xC000): no value."""


@dataclass(slots=True)
class ZeroChecksumParam(Param):
    edmid: int | None = None


@dataclass(slots=True)
class RandomParam(Param):
    random: bytes = b""


@dataclass(slots=True)
class ChunkListParam(Param):
    """Chunk List (0x8003) and Supported Extensions (0x8008): a list of chunk types."""

    chunk_types: list = field(default_factory=list)


@dataclass(slots=True)
class HmacAlgoParam(Param):
    hmac_ids: list = field(default_factory=list)


@dataclass(slots=True)
class PaddingParam(Param):
    pad_length: int = 0


@dataclass(slots=True)
class AsconfAddressParam(Param):
    """Add IP (0xC001), Delete IP (0xC002), Set Primary Address (0xC004): correlation id + address."""

    correlation_id: int | None = None
    address: Param | None = None


@dataclass(slots=True)
class ErrorCauseIndicationParam(Param):
    correlation_id: int | None = None
    causes: list = field(default_factory=list)


@dataclass(slots=True)
class SuccessIndicationParam(Param):
    correlation_id: int | None = None


@dataclass(slots=True)
class AdaptationLayerParam(Param):
    indication: int | None = None


@dataclass(slots=True)
class OutgoingResetParam(Param):
    req_seq: int = 0
    resp_seq: int = 0
    last_tsn: int = 0
    sids: list = field(default_factory=list)


@dataclass(slots=True)
class IncomingResetParam(Param):
    req_seq: int = 0
    sids: list = field(default_factory=list)


@dataclass(slots=True)
class SsnTsnResetParam(Param):
    req_seq: int = 0


@dataclass(slots=True)
class ReconfigResponseParam(Param):
    resp_seq: int = 0
    result: int = 0
    sender_next_tsn: int | None = None
    receiver_next_tsn: int | None = None


@dataclass(slots=True)
class AddStreamsParam(Param):
    """Add Outgoing (17) / Add Incoming (18) Streams Request."""

    req_seq: int = 0
    new_streams: int = 0


# ---- decoders: fn(buf, off, end, ptype, plen, ctx) -> (record, fatal) -------------------------------
# [off, end) is the parameter's view (rounded length clipped to the container), plen <= end - off here.

def _p_unknown(buf, off, end, t, plen, ctx):
    return UnknownParam(t, plen, off, True, bytes(buf[off + 4:off + plen])), plen < 4


def _p_heartbeat(buf, off, end, t, plen, ctx):
    return HeartbeatInfoParam(t, plen, off, True, bytes(buf[off + 4:off + plen])), plen < 4


def _p_ipv4(buf, off, end, t, plen, ctx):
    if end - off < 8:
        return UnknownParam(t, plen, off, True, bytes(buf[off + 4:off + plen])), True
    return AddressParam(t, plen, off, True, str(ipaddress.IPv4Address(bytes(buf[off + 4:off + 8])))), False


def _p_ipv6(buf, off, end, t, plen, ctx):
    if end - off < 20:
        return UnknownParam(t, plen, off, True, bytes(buf[off + 4:off + plen])), True
    return AddressParam(t, plen, off, True, str(ipaddress.IPv6Address(bytes(buf[off + 4:off + 20])))), False


def _p_cookie(buf, off, end, t, plen, ctx):
    return StateCookieParam(t, plen, off, True, max(plen - 4, 0)), plen < 4


def _p_unrec(buf, off, end, t, plen, ctx):
    # tshark dissects ONE parameter from the rest of the view (its padding included).
    rec = UnrecognizedParam(t, plen, off, True, [])
    if ctx.depth >= MAX_DEPTH:
        return rec, False
    ctx.depth += 1
    try:
        inner, fatal = decode_param(buf, off + 4, end, ctx)
    finally:
        ctx.depth -= 1
    if inner is not None:
        rec.params.append(inner)
    return rec, fatal


def _p_preservative(buf, off, end, t, plen, ctx):
    if end - off < 8:
        return UnknownParam(t, plen, off, True, bytes(buf[off + 4:off + plen])), True
    return CookiePreservativeParam(t, plen, off, True, U32.unpack_from(buf, off + 4)[0]), False


def _p_hostname(buf, off, end, t, plen, ctx):
    return HostNameParam(t, plen, off, True, bytes(buf[off + 4:off + plen])), plen < 4


def _p_addr_types(buf, off, end, t, plen, ctx):
    n = (plen - 4) // 2
    types = [U16.unpack_from(buf, off + 4 + 2 * i)[0] for i in range(max(n, 0))]
    return SupportedAddressTypesParam(t, plen, off, True, types), plen < 4


def _p_flag(buf, off, end, t, plen, ctx):
    return FlagParam(t, plen, off, True), False


def _p_zero_checksum(buf, off, end, t, plen, ctx):
    # tshark 4.0 does not know 0x8001 (RFC 9653): it dissects it as an unknown parameter.
    edmid = U32.unpack_from(buf, off + 4)[0] if plen >= 8 else None
    return ZeroChecksumParam(t, plen, off, True, edmid), plen < 4


def _p_random(buf, off, end, t, plen, ctx):
    return RandomParam(t, plen, off, True, bytes(buf[off + 4:off + plen])), False


def _p_chunk_list(buf, off, end, t, plen, ctx):
    return ChunkListParam(t, plen, off, True, list(buf[off + 4:off + plen])), plen < 4


def _p_hmac_algo(buf, off, end, t, plen, ctx):
    n = (plen - 4) // 2
    ids = [U16.unpack_from(buf, off + 4 + 2 * i)[0] for i in range(max(n, 0))]
    return HmacAlgoParam(t, plen, off, True, ids), plen < 4


def _p_padding(buf, off, end, t, plen, ctx):
    return PaddingParam(t, plen, off, True, max(plen - 4, 0)), plen < 4


def _p_asconf_addr(buf, off, end, t, plen, ctx):
    if end - off < 8:
        return AsconfAddressParam(t, plen, off, True), True
    rec = AsconfAddressParam(t, plen, off, True, U32.unpack_from(buf, off + 4)[0], None)
    inner_len = (plen - 8) & 0xFFFF      # tshark: guint16 arithmetic, wraps when plen < 8
    inner_end = off + 8 + min(inner_len, end - off - 8)
    if ctx.depth >= MAX_DEPTH:
        return rec, False
    ctx.depth += 1
    try:
        rec.address, fatal = decode_param(buf, off + 8, inner_end, ctx)
    finally:
        ctx.depth -= 1
    return rec, fatal


def _p_error_ind(buf, off, end, t, plen, ctx):
    from .causes import decode_causes
    if end - off < 8:
        return ErrorCauseIndicationParam(t, plen, off, True), True
    rec = ErrorCauseIndicationParam(t, plen, off, True, U32.unpack_from(buf, off + 4)[0], [])
    inner_len = (plen - 8) & 0xFFFF
    inner_end = off + 8 + min(inner_len, end - off - 8)
    if ctx.depth >= MAX_DEPTH:
        return rec, False
    ctx.depth += 1
    try:
        rec.causes, fatal = decode_causes(buf, off + 8, inner_end, ctx, "param:Error Cause Indication")
    finally:
        ctx.depth -= 1
    return rec, fatal


def _p_success(buf, off, end, t, plen, ctx):
    if end - off < 8:
        return SuccessIndicationParam(t, plen, off, True), True
    return SuccessIndicationParam(t, plen, off, True, U32.unpack_from(buf, off + 4)[0]), False


def _p_adaptation(buf, off, end, t, plen, ctx):
    if end - off < 8:
        return AdaptationLayerParam(t, plen, off, True), True
    return AdaptationLayerParam(t, plen, off, True, U32.unpack_from(buf, off + 4)[0]), False


def _p_out_reset(buf, off, end, t, plen, ctx):
    if end - off < 16:
        return OutgoingResetParam(t, plen, off, True), True
    req, resp, last = U32.unpack_from(buf, off + 4)[0], U32.unpack_from(buf, off + 8)[0], U32.unpack_from(buf, off + 12)[0]
    n = (plen - 16) // 2 if plen > 16 else 0
    sids = [U16.unpack_from(buf, off + 16 + 2 * i)[0] for i in range(n)]
    return OutgoingResetParam(t, plen, off, True, req, resp, last, sids), False


def _p_in_reset(buf, off, end, t, plen, ctx):
    if end - off < 8:
        return IncomingResetParam(t, plen, off, True), True
    n = (plen - 8) // 2 if plen > 8 else 0
    sids = [U16.unpack_from(buf, off + 8 + 2 * i)[0] for i in range(n)]
    return IncomingResetParam(t, plen, off, True, U32.unpack_from(buf, off + 4)[0], sids), False


def _p_ssn_tsn_reset(buf, off, end, t, plen, ctx):
    if end - off < 8:
        return SsnTsnResetParam(t, plen, off, True), True
    return SsnTsnResetParam(t, plen, off, True, U32.unpack_from(buf, off + 4)[0]), False


def _p_reconf_resp(buf, off, end, t, plen, ctx):
    if end - off < 12:
        return ReconfigResponseParam(t, plen, off, True), True
    rec = ReconfigResponseParam(t, plen, off, True, U32.unpack_from(buf, off + 4)[0], U32.unpack_from(buf, off + 8)[0])
    if plen >= 16:
        rec.sender_next_tsn = U32.unpack_from(buf, off + 12)[0]
    if plen >= 20:
        rec.receiver_next_tsn = U32.unpack_from(buf, off + 16)[0]
    return rec, False


def _p_add_streams(buf, off, end, t, plen, ctx):
    if end - off < 12:
        return AddStreamsParam(t, plen, off, True), True
    return AddStreamsParam(t, plen, off, True, U32.unpack_from(buf, off + 4)[0], U16.unpack_from(buf, off + 8)[0]), False


PARAM_DECODERS = {
    0x0001: _p_heartbeat,
    0x0005: _p_ipv4,
    0x0006: _p_ipv6,
    0x0007: _p_cookie,
    0x0008: _p_unrec,
    0x0009: _p_preservative,
    0x000B: _p_hostname,
    0x000C: _p_addr_types,
    0x000D: _p_out_reset,
    0x000E: _p_in_reset,
    0x000F: _p_ssn_tsn_reset,
    0x0010: _p_reconf_resp,
    0x0011: _p_add_streams,
    0x0012: _p_add_streams,
    0x8000: _p_flag,
    0x8001: _p_zero_checksum,
    0x8002: _p_random,
    0x8003: _p_chunk_list,
    0x8004: _p_hmac_algo,
    0x8005: _p_padding,
    0x8008: _p_chunk_list,
    0xC000: _p_flag,
    0xC001: _p_asconf_addr,
    0xC002: _p_asconf_addr,
    0xC003: _p_error_ind,
    0xC004: _p_asconf_addr,
    0xC005: _p_success,
    0xC006: _p_adaptation,
}


def decode_param(buf, off: int, end: int, ctx: Ctx, layer: str = "param"):
    """Decode the single parameter whose view is [off, end). Returns (record or None, fatal)."""
    avail = end - off
    if avail < 4:
        ctx.add("param.truncated", layer, off, 4, max(avail, 0), "parameter header cut short")
        return None, True
    t, plen = TLV.unpack_from(buf, off)
    if plen < 4:
        ctx.add("param.bad_length", f"param:{param_name(t)}", off, 4, plen, "parameter length below 4")
    if plen > avail:
        ctx.add("param.bad_length", f"param:{param_name(t)}", off, plen, avail, "parameter length beyond its chunk")
        # decode what is there, then report fatal (tshark's padding item overruns the view)
        rec, _ = PARAM_DECODERS.get(t, _p_unknown)(buf, off, end, t, avail if avail >= 4 else 4, ctx)
        rec.length = plen
        return rec, True
    n0 = len(ctx.problems)
    rec, fatal = PARAM_DECODERS.get(t, _p_unknown)(buf, off, end, t, plen, ctx)
    if fatal and len(ctx.problems) == n0:
        ctx.add("param.truncated", f"param:{param_name(t)}", off, None, None,
                "parameter too short for its fixed fields")
    return rec, fatal


def decode_params(buf, start: int, stop: int, ctx: Ctx, layer: str = "param"):
    """Decode a parameter list in [start, stop) as tshark's dissect_parameters does.

    Returns (params, fatal). The last parameter's missing padding is tolerated (padding_ok=False).
    """
    out: list = []
    off = start
    while off < stop:
        rem = stop - off
        if rem < 4:
            ctx.add("param.truncated", layer, off, 4, rem, "bytes after the last parameter")
            return out, True
        plen = U16.unpack_from(buf, off + 2)[0]
        total = min(pad4(plen), rem)
        if total == 0:
            t = U16.unpack_from(buf, off)[0]
            ctx.add("param.bad_length", f"param:{param_name(t)}", off, 4, 0, "parameter length 0")
            return out, True
        rec, fatal = decode_param(buf, off, off + total, ctx, layer)
        if rec is not None:
            if plen & 3 and (total < pad4(plen) or any(buf[off + plen:off + total])):
                rec.padding_ok = False
            out.append(rec)
        if fatal:
            return out, True
        off += total
    return out, False


def describe_param(p: Param) -> str:
    """Short human text for a parameter; packet bytes are escaped."""
    if isinstance(p, AddressParam):
        return f"{p.name} {p.address}"
    if isinstance(p, HostNameParam):
        return f"{p.name} '{safe_bytes(p.hostname)}'"
    if isinstance(p, UnknownParam):
        return f"{p.name} ({len(p.value)} bytes)"
    return p.name
