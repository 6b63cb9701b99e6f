"""LINKTYPE_* numbers (as stored in pcap / pcapng files) and the short names sctpscope uses for them."""

from __future__ import annotations

LINKTYPE_NULL = 0
LINKTYPE_ETHERNET = 1
LINKTYPE_RAW_12 = 12  # DLT_RAW on most BSDs/Linux when written by old libpcap
LINKTYPE_RAW_14 = 14  # DLT_RAW on OpenBSD
LINKTYPE_RAW = 101
LINKTYPE_LOOP = 108
LINKTYPE_LINUX_SLL = 113
LINKTYPE_IPV4 = 228
LINKTYPE_IPV6 = 229
LINKTYPE_LINUX_SLL2 = 276

LINKTYPE_NAMES: dict[int, str] = {
    0: "null",
    1: "ether",
    6: "ieee802_5",
    8: "slip",
    9: "ppp",
    10: "fddi",
    12: "raw",
    14: "raw",
    50: "ppp-hdlc",
    51: "pppoe",
    101: "raw",
    104: "c-hdlc",
    105: "ieee802_11",
    108: "loop",
    113: "linux-sll",
    119: "prism",
    127: "ieee802_11-radiotap",
    147: "user0",
    192: "ppi",
    228: "ipv4",
    229: "ipv6",
    252: "wireshark-upper-pdu",
    276: "linux-sll2",
}

#: Link types the network decoder understands (sctpscope.decode.net).
DECODED_LINKTYPES = frozenset({0, 1, 12, 14, 101, 108, 113, 228, 229, 276})


def linktype_name(linktype: int) -> str:
    """Short name for a LINKTYPE number; ``linktype-N`` when unknown."""
    name = LINKTYPE_NAMES.get(linktype)
    return name if name is not None else f"linktype-{linktype}"
