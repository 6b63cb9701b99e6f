"""SCTP error causes (ABORT, ERROR, Error Cause Indication parameter of ASCONF ACK).

Decoders return ``(record, fatal)`` like the parameter decoders (see params.py): ``fatal`` means
tshark's dissect_error_cause would have read past the cause's bytes and abandoned the packet.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from .names import cause_name, chunk_name, param_name
from .params import Param, decode_param, decode_params, describe_param
from ._util import MAX_DEPTH, HDR, TLV, U16, U32, Ctx, pad4, safe_bytes


@dataclass(slots=True)
class Cause:
    """Base of all cause records. Offsets are relative to the start of the SCTP packet."""

    code: int
    length: int
    offset: int
    padding_ok: bool

    @property
    def name(self) -> str:
        return cause_name(self.code)

    def detail(self) -> str:
        return self.name


@dataclass(slots=True)
class UnknownCause(Cause):
    info: bytes = b""

    def detail(self) -> str:
        return f"{self.name}: {safe_bytes(self.info)}" if self.info else self.name


@dataclass(slots=True)
class InvalidStreamCause(Cause):
    sid: int | None = None

    def detail(self) -> str:
        return f"{self.name}: stream {self.sid}"


@dataclass(slots=True)
class MissingParamsCause(Cause):
    param_types: list = field(default_factory=list)

    def detail(self) -> str:
        return f"{self.name}: " + ", ".join(param_name(t) for t in self.param_types)


@dataclass(slots=True)
class StaleCookieCause(Cause):
    staleness_us: int | None = None

    def detail(self) -> str:
        return f"{self.name}: {self.staleness_us} us"


@dataclass(slots=True)
class EmptyCause(Cause):
    """Out of Resource (4), Invalid Mandatory Parameter (7), Cookie Received While Shutting Down (10)."""


@dataclass(slots=True)
class ParamCause(Cause):
    """Causes carrying parameters: 5 (one address), 8 and 11 (a list), 160/161/162/164 (one parameter)."""

    params: list = field(default_factory=list)

    def detail(self) -> str:
        if not self.params:
            return self.name
        return f"{self.name}: " + ", ".join(describe_param(p) for p in self.params)


@dataclass(slots=True)
class UnrecognizedChunkCause(Cause):
    chunk_type: int | None = None
    chunk_flags: int | None = None
    chunk_length: int | None = None
    chunk: object = None          # the nested chunk record (tshark dissects it and lists its type)

    def detail(self) -> str:
        if self.chunk_type is None:
            return self.name
        return f"{self.name}: {chunk_name(self.chunk_type)} (flags 0x{self.chunk_flags:02x}, length {self.chunk_length})"


@dataclass(slots=True)
class NoUserDataCause(Cause):
    tsn: int | None = None

    def detail(self) -> str:
        return f"{self.name}: TSN {self.tsn}"


@dataclass(slots=True)
class UserAbortCause(Cause):
    reason: bytes = b""

    def detail(self) -> str:
        return f"{self.name}: '{safe_bytes(self.reason)}'" if self.reason else self.name


@dataclass(slots=True)
class ProtocolViolationCause(Cause):
    info: bytes = b""

    def detail(self) -> str:
        return f"{self.name}: '{safe_bytes(self.info)}'" if self.info else self.name


@dataclass(slots=True)
class UnsupportedHmacCause(Cause):
    hmac_id: int | None = None

    def detail(self) -> str:
        return f"{self.name}: {self.hmac_id}"


# ---- decoders: fn(buf, off, end, code, clen, ctx) -> (record, fatal); [off, end) is the cause's view

def _c_unknown(buf, off, end, c, clen, ctx):
    return UnknownCause(c, clen, off, True, bytes(buf[off + 4:off + clen])), clen < 4


def _c_sid(buf, off, end, c, clen, ctx):
    if end - off < 8:
        return InvalidStreamCause(c, clen, off, True), True
    return InvalidStreamCause(c, clen, off, True, U16.unpack_from(buf, off + 4)[0]), False


def _c_missing(buf, off, end, c, clen, ctx):
    if end - off < 8:
        return MissingParamsCause(c, clen, off, True), True
    n = U32.unpack_from(buf, off + 4)[0]
    room = (end - off - 8) // 2
    k = min(n, room)
    types = [U16.unpack_from(buf, off + 8 + 2 * i)[0] for i in range(k)]
    return MissingParamsCause(c, clen, off, True, types), n > room


def _c_stale(buf, off, end, c, clen, ctx):
    if end - off < 8:
        return StaleCookieCause(c, clen, off, True), True
    return StaleCookieCause(c, clen, off, True, U32.unpack_from(buf, off + 4)[0]), False


def _c_empty(buf, off, end, c, clen, ctx):
    return EmptyCause(c, clen, off, True), False


def _inner_end(off, end, clen):
    return off + 4 + min((clen - 4) & 0xFFFF, end - off - 4)


def _c_one_param(buf, off, end, c, clen, ctx):
    rec = ParamCause(c, clen, off, True, [])
    if ctx.depth >= MAX_DEPTH:
        return rec, False
    ctx.depth += 1
    try:
        p, fatal = decode_param(buf, off + 4, _inner_end(off, end, clen), ctx, f"cause:{cause_name(c)}")
    finally:
        ctx.depth -= 1
    if p is not None:
        rec.params.append(p)
    return rec, fatal


def _c_param_list(buf, off, end, c, clen, ctx):
    rec = ParamCause(c, clen, off, True, [])
    if ctx.depth >= MAX_DEPTH:
        return rec, False
    ctx.depth += 1
    try:
        rec.params, fatal = decode_params(buf, off + 4, _inner_end(off, end, clen), ctx, f"cause:{cause_name(c)}")
    finally:
        ctx.depth -= 1
    return rec, fatal


def _c_unrec_chunk(buf, off, end, c, clen, ctx):
    from .chunks import decode_nested_chunk
    rec = UnrecognizedChunkCause(c, clen, off, True)
    iend = _inner_end(off, end, clen)
    if iend - (off + 4) < 4:
        ctx.add("cause.truncated", f"cause:{cause_name(c)}", off + 4, 4, iend - off - 4,
                "unrecognized chunk header cut short")
        return rec, True
    rec.chunk_type, rec.chunk_flags, rec.chunk_length = HDR.unpack_from(buf, off + 4)
    if ctx.depth >= MAX_DEPTH:
        return rec, False
    ctx.depth += 1
    try:
        rec.chunk, fatal = decode_nested_chunk(buf, off + 4, iend, ctx)
    finally:
        ctx.depth -= 1
    return rec, fatal


def _c_tsn(buf, off, end, c, clen, ctx):
    if end - off < 8:
        return NoUserDataCause(c, clen, off, True), True
    return NoUserDataCause(c, clen, off, True, U32.unpack_from(buf, off + 4)[0]), False


def _c_user_abort(buf, off, end, c, clen, ctx):
    return UserAbortCause(c, clen, off, True, bytes(buf[off + 4:off + clen])), clen < 4


def _c_violation(buf, off, end, c, clen, ctx):
    return ProtocolViolationCause(c, clen, off, True, bytes(buf[off + 4:off + clen])), clen < 4


def _c_hmac(buf, off, end, c, clen, ctx):
    if end - off < 6:
        return UnsupportedHmacCause(c, clen, off, True), True
    return UnsupportedHmacCause(c, clen, off, True, U16.unpack_from(buf, off + 4)[0]), False


CAUSE_DECODERS = {
    1: _c_sid,
    2: _c_missing,
    3: _c_stale,
    4: _c_empty,
    5: _c_one_param,
    6: _c_unrec_chunk,
    7: _c_empty,
    8: _c_param_list,
    9: _c_tsn,
    10: _c_empty,
    11: _c_param_list,
    12: _c_user_abort,
    13: _c_violation,
    160: _c_one_param,
    161: _c_one_param,
    162: _c_one_param,
    # 163 (illegal ASCONF-ACK) has no body: tshark 4.0 treats it as an unknown cause (raw info).
    164: _c_one_param,
    261: _c_hmac,
}


def decode_causes(buf, start: int, stop: int, ctx: Ctx, layer: str = "cause"):
    """Decode the causes in [start, stop) as tshark's dissect_error_causes does. Returns (causes, fatal)."""
    out: list = []
    off = start
    while off < stop:
        rem = stop - off
        if rem < 4:
            ctx.add("cause.truncated", layer, off, 4, rem, "bytes after the last cause")
            return out, True
        code, clen = TLV.unpack_from(buf, off)
        total = min(pad4(clen), rem)
        lay = f"cause:{cause_name(code)}"
        if total == 0:
            ctx.add("cause.bad_length", lay, off, 4, 0, "cause length 0")
            return out, True
        if clen < 4:
            ctx.add("cause.bad_length", lay, off, 4, clen, "cause length below 4")
        if clen > total:
            ctx.add("cause.bad_length", lay, off, clen, total, "cause length beyond its chunk")
            rec, _ = CAUSE_DECODERS.get(code, _c_unknown)(buf, off, off + total, code, total, ctx)
            rec.length = clen
            out.append(rec)
            return out, True
        n0 = len(ctx.problems)
        rec, fatal = CAUSE_DECODERS.get(code, _c_unknown)(buf, off, off + total, code, clen, ctx)
        if clen & 3 and (total < pad4(clen) or any(buf[off + clen:off + total])):
            rec.padding_ok = False
        out.append(rec)
        if fatal:
            if len(ctx.problems) == n0:
                ctx.add("cause.truncated", lay, off, None, None, "cause too short for its fields")
            return out, True
        off += total
    return out, False
