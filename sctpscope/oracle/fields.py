"""The SCTP fields compared with tshark, as flat per-packet lists named after tshark's field names."""

from __future__ import annotations

from collections.abc import Callable

# tshark field (without the "sctp." prefix) -> (chunk types it comes from, attribute on our chunk record).
# A packet's value of a field is the list, in chunk order, of that attribute over the chunks of those types.
CHUNK_FIELDS: dict[str, tuple[tuple[int, ...], str]] = {
    "data_tsn_raw": ((0, 64), "tsn"),   # absolute TSN (tshark: sctp.relative_tsns FALSE)
    "data_sid": ((0, 64), "sid"),
    "data_ssn": ((0,), "ssn"),
    "data_mid": ((64,), "mid"),
    "data_payload_proto_id": ((0, 64), "ppid"),
    "sack_cumulative_tsn_ack_raw": ((3,), "cum_tsn_ack"),
    "sack_a_rwnd": ((3,), "a_rwnd"),
    "nr_sack_cumulative_tsn_ack": ((16,), "cum_tsn_ack"),
    "init_initiate_tag": ((1,), "initiate_tag"),
    "init_credit": ((1,), "a_rwnd"),
    "init_nr_out_streams": ((1,), "outbound_streams"),
    "init_nr_in_streams": ((1,), "inbound_streams"),
    "init_initial_tsn": ((1,), "initial_tsn"),
    "initack_initiate_tag": ((2,), "initiate_tag"),
    "initack_credit": ((2,), "a_rwnd"),
    "initack_nr_out_streams": ((2,), "outbound_streams"),
    "initack_nr_in_streams": ((2,), "inbound_streams"),
    "initack_initial_tsn": ((2,), "initial_tsn"),
    "shutdown_cumulative_tsn_ack": ((7,), "cum_tsn_ack"),
    "forward_tsn_tsn": ((192,), "new_cum_tsn"),
}


def _list_field(types: tuple[int, ...], fn: Callable) -> Callable:
    def get(chunks) -> list[int]:
        out: list[int] = []
        for c in chunks:
            if c.type in types:
                out.extend(fn(c))
        return out
    return get


# Fields with several values per chunk.
MULTI_FIELDS: dict[str, Callable] = {
    "sack_gap_block_start": _list_field((3,), lambda c: [s for s, _ in c.gap_blocks]),
    "sack_gap_block_end": _list_field((3,), lambda c: [e for _, e in c.gap_blocks]),
    "sack_duplicate_tsn": _list_field((3,), lambda c: list(c.dup_tsns)),
    "cause_code": _list_field((6, 9), lambda c: [x.code for x in c.causes]),
}

HEADER_FIELDS = ("srcport", "dstport", "verification_tag", "checksum")
ALL_FIELDS = (*HEADER_FIELDS, "chunk_type", "chunk_flags", "chunk_length", *CHUNK_FIELDS, *MULTI_FIELDS)


def our_fields(pkt) -> dict[str, list[int]]:
    """Our decode of one SCTP packet, as lists of ints keyed like tshark's fields."""
    out: dict[str, list[int]] = {
        "srcport": [pkt.src_port], "dstport": [pkt.dst_port], "verification_tag": [pkt.vtag],
        "checksum": [pkt.checksum],
        "chunk_type": [c.type for c in pkt.chunks],
        "chunk_flags": [c.flags for c in pkt.chunks],
        "chunk_length": [c.length for c in pkt.chunks],
    }
    for name, (types, attr) in CHUNK_FIELDS.items():
        vals = [getattr(c, attr, None) for c in pkt.chunks if c.type in types]
        out[name] = [v for v in vals if v is not None]
    for name, fn in MULTI_FIELDS.items():
        try:
            out[name] = fn(pkt.chunks)
        except AttributeError:
            out[name] = []
    return out


def differences(ours: dict[str, list[int]], theirs: dict[str, list[int]]) -> list[tuple[str, list, list]]:
    """(field, ours, tshark's) for every field whose value lists differ."""
    return [(f, ours.get(f, []), theirs.get(f, [])) for f in ALL_FIELDS if ours.get(f, []) != theirs.get(f, [])]
