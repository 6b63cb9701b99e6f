"""`sctpscope verify FILE`: tshark (through pyshark) decodes the same file; every disagreement is listed."""

from __future__ import annotations

import shutil

from sctpscope.errors import OracleError
from sctpscope.oracle.fields import ALL_FIELDS, HEADER_FIELDS, differences, our_fields
from sctpscope.text import escape_text

TSHARK_PREFS = {"sctp.relative_tsns": "FALSE", "sctp.checksum": "Automatic"}
DISPLAY_FILTER = "sctp && !icmp && !icmpv6"


def _ints(field) -> list[int]:
    out = []
    for f in field.all_fields:
        try:
            out.append(int(f.raw_value, 16) if f.raw_value is not None else int(f.show, 0))
        except (TypeError, ValueError):
            try:
                out.append(int(f.show, 0))
            except (TypeError, ValueError):
                pass
    return out


def tshark_packets(path: str, sctp_udp_ports: tuple[int, ...] = (9899,)):
    """Yield (frame number, {field: [ints]}, checksum good?) for each SCTP packet tshark decodes."""
    if shutil.which("tshark") is None:
        raise OracleError("tshark is not installed (Debian: apt-get install tshark)")
    import pyshark  # only here: the decoder never needs it

    decode_as = {f"udp.port=={p}": "sctp" for p in sctp_udp_ports if p != 9899}
    cap = pyshark.FileCapture(path, display_filter=DISPLAY_FILTER, keep_packets=False,
                              override_prefs=TSHARK_PREFS, decode_as=decode_as or None)
    try:
        for p in cap:
            # pyshark splits one SCTP header into several layers when payload dissectors interleave
            layers = p.get_multiple_layers("sctp")
            fields: dict[str, list[int]] = {name: [] for name in ALL_FIELDS}
            for layer in layers:
                for name in ALL_FIELDS:
                    f = layer.get_field(name)
                    if f is not None:
                        fields[name].extend(_ints(f))
            for name in HEADER_FIELDS:      # tshark repeats header fields in each part and under expert items
                fields[name] = fields[name][:1]
            status = layers[0].get_field("checksum_status")
            good = None if status is None else status.show == "1"
            yield int(p.number), fields, good
    except Exception as exc:  # pyshark surfaces tshark failures as assorted exceptions
        if isinstance(exc, OracleError):
            raise
        raise OracleError(f"tshark failed on {path}: {exc}") from None
    finally:
        cap.close()


def verify_file(path: str, out, *, sctp_udp_ports: tuple[int, ...] = (9899,), limit: int = 200) -> int:
    """Compare both decodes packet by packet; exit status 0 when they agree everywhere, 1 otherwise."""
    from sctpscope.pipeline import decode_files

    ours: dict[int, object] = {}
    infos: list = []
    for frame in decode_files([path], infos, sctp_udp_ports=sctp_udp_ports):
        for rec in frame.sctp:
            if rec.packet.header_ok:
                ours[frame.number] = rec.packet
    shown = compared = disagreeing = 0

    def say(line: str) -> None:
        nonlocal shown
        if shown < limit:
            out.write(line + "\n")
        shown += 1

    seen: set[int] = set()
    for number, theirs, good in tshark_packets(path, sctp_udp_ports):
        seen.add(number)
        pkt = ours.get(number)
        if pkt is None:
            say(f"frame {number}: tshark decodes SCTP here, sctpscope does not")
            disagreeing += 1
            continue
        compared += 1
        diffs = differences(our_fields(pkt), theirs)
        mine_good = pkt.checksum_status in ("crc32c", "adler32")
        if good is not None and good != mine_good:
            diffs.append(("checksum.status", [pkt.checksum_status], ["good" if good else "bad"]))
        if diffs:
            disagreeing += 1
        for name, a, b in diffs:
            say(f"frame {number}: sctp.{name}: sctpscope {a} tshark {b}")
    for number in sorted(set(ours) - seen):
        say(f"frame {number}: sctpscope decodes SCTP here, tshark does not")
        disagreeing += 1
    if shown > limit:
        out.write(f"... {shown - limit} more disagreements not shown\n")
    out.write(f"{escape_text(path)}: {compared} SCTP packets compared, {disagreeing} with disagreements\n")
    return 0 if disagreeing == 0 else 1
