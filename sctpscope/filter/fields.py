"""The fields of the display-filter language: their types, how literals are read, how values are taken.

A field yields the values one SCTP packet has for it (a list: a packet may bundle several DATA chunks, so
``sid`` can have several values; a packet without DATA has none). Flags (``retransmission`` ...) are
true or false. Values are taken from a PacketContext (sctpscope.filter.context): the decoded SctpRecord,
the association it was accounted to and what accounting it did.
"""

from __future__ import annotations

import difflib
import ipaddress
import re
from collections.abc import Callable
from dataclasses import dataclass

from sctpscope.decode.sctp import CHUNK_NAMES, PPID_NAMES
from sctpscope.decode.sctp.chunks import DataChunk, IDataChunk

UINT, ADDR, FLAG = "uint", "addr", "flag"


def _norm(name: str) -> str:
    return re.sub(r"[^a-z0-9]", "", name.lower())


CHUNK_BY_NAME = {_norm(v): k for k, v in CHUNK_NAMES.items()}
PPID_BY_NAME = {_norm(v): k for k, v in PPID_NAMES.items()}


# -- value getters --------------------------------------------------------------------------------------

def _chunks(ctx) -> list[int]:
    return [c.type for c in ctx.record.packet.chunks]


def _data(ctx):
    return [c for c in ctx.record.packet.chunks if isinstance(c, (DataChunk, IDataChunk))]


def _sid(ctx) -> list[int]:
    return [c.sid for c in _data(ctx)]


def _tsn(ctx) -> list[int]:
    return [c.tsn for c in _data(ctx)]


def _ssn(ctx) -> list[int]:
    return [c.ssn for c in ctx.record.packet.chunks if isinstance(c, DataChunk)]


def _mid(ctx) -> list[int]:
    return [c.mid for c in ctx.record.packet.chunks if isinstance(c, IDataChunk)]


def _ppid(ctx) -> list[int]:
    return [c.ppid for c in _data(ctx) if c.ppid is not None]


def _one(value) -> list:
    return [] if value is None else [value]


def _vtag(ctx) -> list[int]:
    return _one(ctx.record.packet.vtag)


def _sport(ctx) -> list[int]:
    return _one(ctx.record.packet.src_port)


def _dport(ctx) -> list[int]:
    return _one(ctx.record.packet.dst_port)


def _port(ctx) -> list[int]:
    p = ctx.record.packet
    return [x for x in (p.src_port, p.dst_port) if x is not None]


def _src(ctx) -> list[str]:
    return [ctx.record.src]


def _dst(ctx) -> list[str]:
    return [ctx.record.dst]


def _addr(ctx) -> list[str]:
    r = ctx.record
    return [r.src, r.dst]


def _frame(ctx) -> list[int]:
    return [ctx.record.frame]


def _association(ctx) -> list[int]:
    return _one(ctx.association)


def _retransmission(ctx) -> bool:
    return bool(ctx.retransmission)


def _anomaly(ctx) -> bool:
    return bool(ctx.anomaly)


def _bad_checksum(ctx) -> bool:
    return ctx.record.packet.checksum_status in ("bad", "zero")


def _malformed(ctx) -> bool:
    return bool(ctx.record.packet.problems)


@dataclass(frozen=True, slots=True)
class Field:
    name: str
    kind: str                           # UINT, ADDR or FLAG
    get: Callable                       # ctx -> list of values (FLAG: ctx -> bool)
    help: str
    bits: int = 32                      # UINT: values are 0 .. 2**bits - 1
    names: dict[str, int] | None = None  # UINT: symbolic values, keyed by their normalised name
    names_what: str = ""                # what a symbolic value names ("chunk type", "PPID")


FIELDS: dict[str, Field] = {f.name: f for f in (
    Field("chunk", UINT, _chunks, "the type of any chunk of the packet: a name (DATA, init_ack, I-DATA; any "
          "case, '-' or '_') or a number", 8, CHUNK_BY_NAME, "chunk type"),
    Field("sid", UINT, _sid, "stream identifier of any DATA or I-DATA chunk", 16),
    Field("ssn", UINT, _ssn, "stream sequence number of any DATA chunk", 16),
    Field("mid", UINT, _mid, "message identifier of any I-DATA chunk", 32),
    Field("tsn", UINT, _tsn, "TSN of any DATA or I-DATA chunk (absolute, as on the wire)", 32),
    Field("ppid", UINT, _ppid, "payload protocol identifier of any DATA chunk or first I-DATA fragment: a "
          "number or its IANA name (Diameter, M3UA, S1AP, NGAP, \"WebRTC DCEP\"; any case)", 32,
          PPID_BY_NAME, "PPID"),
    Field("vtag", UINT, _vtag, "verification tag of the common header", 32),
    Field("sport", UINT, _sport, "source port", 16),
    Field("dport", UINT, _dport, "destination port", 16),
    Field("port", UINT, _port, "source or destination port", 16),
    Field("src", ADDR, _src, "source IP address (IPv4 or IPv6; a network such as 10.0.0.0/8 with == != in)"),
    Field("dst", ADDR, _dst, "destination IP address"),
    Field("addr", ADDR, _addr, "source or destination IP address"),
    Field("frame", UINT, _frame, "frame number (as tshark numbers frames, on across several files)", 64),
    Field("association", UINT, _association, "the association's id in the report (none for out-of-the-blue "
          "packets)", 32),
    Field("retransmission", FLAG, _retransmission, "the packet carried a DATA or I-DATA chunk whose TSN had "
          "been sent before"),
    Field("anomaly", FLAG, _anomaly, "accounting the packet raised an anomaly of its association (see the "
          "report's anomalies)"),
    Field("bad_checksum", FLAG, _bad_checksum, "the checksum is neither a correct CRC32c nor a correct Adler-32 "
          "(0 included, as the report counts bad checksums)"),
    Field("malformed", FLAG, _malformed, "the SCTP packet has a decode problem"),
)}

#: tshark field names people will type, and ours
TSHARK_HINTS = {
    "sctp.chunk_type": "chunk", "sctp.data_sid": "sid", "sctp.data_ssn": "ssn", "sctp.data_tsn": "tsn",
    "sctp.data_tsn_raw": "tsn", "sctp.data_payload_proto_id": "ppid", "sctp.verification_tag": "vtag",
    "sctp.srcport": "sport", "sctp.dstport": "dport", "sctp.port": "port", "ip.src": "src", "ip.dst": "dst",
    "ip.addr": "addr", "ipv6.src": "src", "ipv6.dst": "dst", "ipv6.addr": "addr", "frame.number": "frame",
    "sctp.assoc_index": "association", "sctp.retransmission": "retransmission", "sctp.data_mid": "mid",
    "sctp.checksum.status": "bad_checksum", "_ws.malformed": "malformed",
}


# -- literals -------------------------------------------------------------------------------------------

class LiteralError(ValueError):
    """A literal that does not fit its field (the parser adds the position)."""


_INT = re.compile(r"(0[xX][0-9a-fA-F]+|[0-9]+)\Z")


def parse_uint(field: Field, text: str, quoted: bool) -> int:
    """A number (decimal or 0x hex) or, for chunk and ppid, a name."""
    if not quoted and _INT.match(text):
        v = int(text, 0) if text[:2].lower() == "0x" else int(text, 10)
        hi = (1 << field.bits) - 1
        if v > hi:
            raise LiteralError(f"{text} is out of range for {field.name} (0..{hi})")
        return v
    if field.names is not None:
        v = field.names.get(_norm(text))
        if v is not None:
            return v
        close = difflib.get_close_matches(_norm(text), list(field.names), n=1, cutoff=0.7)
        if field.name == "chunk":
            hint = f"; did you mean {CHUNK_NAMES[field.names[close[0]]]!r}?" if close else \
                f" (a number or one of {', '.join(CHUNK_NAMES.values())})"
            raise LiteralError(f"unknown chunk type {text!r}{hint}")
        hint = f"; did you mean {PPID_NAMES[field.names[close[0]]]!r}?" if close else \
            " (a number, or an IANA name such as Diameter, M3UA, S1AP, NGAP)"
        raise LiteralError(f"unknown {field.names_what} name {text!r}{hint}")
    if text[:1].isdigit():
        raise LiteralError(f"{text!r} is not a number (decimal, or hexadecimal with 0x)")
    raise LiteralError(f"{field.name} takes a number, not {text!r}")


def parse_addr(field: Field, text: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | ipaddress.IPv4Network \
        | ipaddress.IPv6Network:
    """An IPv4/IPv6 address, or a network with a prefix length (host bits must be zero)."""
    try:
        if "/" in text:
            return ipaddress.ip_network(text)
        return ipaddress.ip_address(text)
    except ValueError as exc:
        raise LiteralError(f"{field.name} takes an IPv4 or IPv6 address or network: {exc}") from None


_ADDR_CACHE: dict[str, object] = {}


def as_ip(text: str):
    """The ipaddress object of an address string from a packet (cached), None if it is not one."""
    v = _ADDR_CACHE.get(text)
    if v is None:
        if len(_ADDR_CACHE) > 65536:
            _ADDR_CACHE.clear()
        try:
            v = ipaddress.ip_address(text)
        except ValueError:
            v = False
        _ADDR_CACHE[text] = v
    return v or None
