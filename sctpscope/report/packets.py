"""`sctpscope packets`: one line per SCTP packet, in the spirit of tshark's summary line."""

from __future__ import annotations

from collections.abc import Callable

from sctpscope.decode.frame import DecodedFrame, SctpRecord
from sctpscope.decode.sctp import ShortChunk, ppid_name
from sctpscope.text import cause_detail, escape_text


def _flags(c, letters: str = "IUBE") -> str:
    bits = {"I": 0x08, "U": 0x04, "B": 0x02, "E": 0x01}
    s = "".join(ch for ch in letters if c.flags & bits[ch])
    return s or "-"


def _data(c) -> str:
    ppid = f"{c.ppid}"
    name = ppid_name(c.ppid) if c.ppid is not None else None
    if name:
        ppid += f"/{name}"
    return f"DATA(TSN={c.tsn} SID={c.sid} SSN={c.ssn} PPID={ppid} len={c.payload_length} {_flags(c)})"


def _idata(c) -> str:
    tail = f"PPID={c.ppid}" if c.ppid is not None else f"FSN={c.fsn}"
    return f"I_DATA(TSN={c.tsn} SID={c.sid} MID={c.mid} {tail} len={c.payload_length} {_flags(c)})"


def _init(c) -> str:
    return (f"{c.name}(itag=0x{c.initiate_tag:08x} a_rwnd={c.a_rwnd} OS={c.outbound_streams} "
            f"MIS={c.inbound_streams} TSN={c.initial_tsn})")


def _gaps(blocks) -> str:
    return ",".join(f"{s}-{e}" for s, e in blocks)


def _sack(c) -> str:
    s = f"{c.name}(cum={c.cum_tsn_ack} a_rwnd={c.a_rwnd}"
    if c.gap_blocks:
        s += f" gaps={_gaps(c.gap_blocks)}"
    if getattr(c, "nr_gap_blocks", None):
        s += f" nr_gaps={_gaps(c.nr_gap_blocks)}"
    if c.dup_tsns:
        s += f" dups={','.join(map(str, c.dup_tsns))}"
    return s + ")"


def _causes(c) -> str:
    parts = []
    for cause in c.causes:
        detail = cause_detail(cause)
        parts.append(f"{cause.name}: {detail}" if detail else cause.name)
    inner = "; ".join(parts)
    t = " T" if c.flags & 1 and c.type == 6 else ""
    return f"{c.name}({inner}{t})" if inner or t else c.name


def _cum(c) -> str:
    return f"{c.name}(cum={c.cum_tsn_ack})"


def _fwd(c) -> str:
    return f"{c.name}(new_cum={c.new_cum_tsn})"


def _param(p) -> str:
    """A parameter in a few words: ASCONF address changes with their address, RE-CONFIG requests with streams."""
    inner = getattr(p, "address", None)
    if inner is not None and not isinstance(inner, str):          # ASCONF: Add/Delete IP, Set Primary
        # the address parameter it carries, or whatever parameter sits there instead (named, nested)
        return f"{p.name} {_param(inner)}" if not isinstance(getattr(inner, "address", None), str) \
            else f"{p.name} {inner.address}"
    if isinstance(inner, str):
        return f"{p.name} {inner}"
    sids = getattr(p, "sids", None)
    if sids is not None:
        return f"{p.name} req={p.req_seq} streams={','.join(map(str, sids)) or 'all'}"
    if hasattr(p, "result"):
        return f"{p.name} resp={p.resp_seq} result={p.result}"
    if hasattr(p, "new_streams"):
        return f"{p.name} +{p.new_streams}"
    return p.name


def _params(c) -> str:
    serial = f"serial={c.serial}" if getattr(c, "serial", None) is not None else ""
    items = [_param(p) for p in c.params]
    inner = "; ".join(x for x in [serial, *items] if x)
    return f"{c.name}({inner})" if inner else c.name


def _lowest(c) -> str:
    return f"{c.name}(lowest_tsn={c.lowest_tsn})"


def _auth(c) -> str:
    return f"{c.name}(key={c.shared_key_id} hmac={c.hmac_id})"


def _pad(c) -> str:
    return f"{c.name}(len={c.pad_length})"


_SUMMARY: dict[int, Callable] = {0: _data, 64: _idata, 1: _init, 2: _init, 3: _sack, 16: _sack, 6: _causes,
                                 9: _causes, 7: _cum, 192: _fwd, 194: _fwd,
                                 193: _params, 128: _params, 130: _params, 12: _lowest, 13: _lowest,
                                 15: _auth, 132: _pad}


def chunk_summary(c) -> str:
    fn = _SUMMARY.get(c.type)
    if fn is None or c.__class__ is ShortChunk:       # a chunk cut short: its name, the problem follows
        return c.name
    return fn(c)            # numbers, addresses and names; packet text is escaped where it is read (causes)


def _endpoint(addr: str, port: int | None, v6: bool) -> str:
    return f"[{addr}]:{port}" if v6 else f"{addr}:{port}"


def record_line(rec: SctpRecord, t0: float) -> str:
    pkt = rec.packet
    v6 = rec.ip_version == 6
    head = (f"{rec.frame:>7} {rec.ts - t0:11.6f} {_endpoint(rec.src, pkt.src_port, v6)} → "
            f"{_endpoint(rec.dst, pkt.dst_port, v6)}")
    if not pkt.header_ok:
        return head + " SCTP header cut short"
    parts = [head, f"vtag=0x{pkt.vtag:08x}"]
    if rec.udp_encapsulated:
        parts.append("[UDP-encap]")
    parts.append(" ".join(chunk_summary(c) for c in pkt.chunks) or "(no chunks)")
    if pkt.checksum_status in ("bad", "zero"):
        parts.append(f"[checksum {pkt.checksum_status}: 0x{pkt.checksum:08x}]")
    elif pkt.checksum_status == "adler32":
        parts.append("[Adler-32]")
    return " ".join(parts)


def frame_lines(frame: DecodedFrame, t0: float) -> list[str]:
    lines = [record_line(r, t0) for r in frame.sctp]
    lines += [record_line(r, t0) + " [quoted in ICMP error]" for r in frame.quotes]
    for p in frame.problems:
        lines.append(f"{frame.number:>7} {'':11} ! {escape_text(str(p))}")
    return lines
