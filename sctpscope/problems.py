"""Decode problems: malformed input is data, reported with a stable code, never raised."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(slots=True, frozen=True)
class Problem:
    """One fault found while decoding.

    code: stable dotted name, e.g. ``chunk.truncated`` (see PROBLEM_CODES).
    layer: where it was found: ``pcap``, ``pcapng``, ``ethernet``, ``ipv4``, ``sctp``, ``chunk:DATA`` ...
    offset: byte offset of the fault, relative to the start of the frame (or the file, for capture layers).
    needed / available: for length faults, how many bytes the trusted length asked for and how many were there.
    """

    code: str
    layer: str
    offset: int
    needed: int | None = None
    available: int | None = None
    detail: str = ""

    def __str__(self) -> str:
        s = f"{self.code} in {self.layer} at offset {self.offset}"
        if self.needed is not None:
            s += f": needed {self.needed} bytes, {self.available} there"
        if self.detail:
            s += f" ({self.detail})"
        return s


PROBLEM_CODES = {
    # capture layer
    "capture.truncated_record": "the last record is cut short by the end of the file",
    "capture.corrupt_block": "a block's length or type is impossible; reading stopped there",
    "capture.unknown_interface": "a packet block names an interface that was never described",
    "capture.unsupported_link_type": "frames of this link type are counted but not decoded",
    "capture.decompress_error": "the compressed (gzip, bzip2, xz) stream is corrupt or cut short; reading stopped there",
    "capture.read_error": "reading the file failed (I/O error); reading stopped there",
    # link and IP layers
    "link.truncated": "the frame ends inside a link-layer header",
    "ip.truncated": "the frame ends inside an IP header or before the IP total length",
    "ip.bad_header": "an IP header field is impossible (version, header length)",
    "ip.fragment_overflow": "fragment reassembly buffers were full; the oldest datagram was dropped",
    "ip.fragment_overlap": "a fragment overlaps an earlier one with different bytes",
    "udp.truncated": "the frame ends inside a UDP header",
    "tunnel.truncated": "the frame ends inside a tunnel header (VXLAN, GTP-U, Geneve)",
    # SCTP
    "sctp.too_short": "fewer than the 12 bytes of the SCTP common header",
    "sctp.no_chunks": "an SCTP packet with a common header and no chunk",
    "chunk.truncated": "the packet ends inside a chunk header or the chunk's fixed fields",
    "chunk.bad_length": "a chunk length below the chunk's minimum or beyond the packet",
    "chunk.bad_padding": "a chunk's padding is missing or not zero",
    "param.truncated": "the chunk ends inside a parameter",
    "param.bad_length": "a parameter length below 4 or beyond its chunk",
    "cause.truncated": "the chunk ends inside an error cause",
    "cause.bad_length": "an error cause length below 4 or beyond its chunk",
    "sctp.decoder_error": "the SCTP decoder hit an internal error on this packet (a bug); partial result kept",
}
