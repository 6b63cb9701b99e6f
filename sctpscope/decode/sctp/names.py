"""IANA name tables for SCTP: chunk types, parameter types, error causes, payload protocol identifiers.

Chunk names are sctpscope's contract names (RFC 9260 §3.2 and the extension RFCs, spelled with
underscores as tshark prints them). Parameter and cause names follow the RFC titles.
"""

from __future__ import annotations

# Chunk types (IANA "Chunk Types" registry; RFC 9260 §3.2, RFC 4895, RFC 5061, RFC 6525, RFC 3758,
# RFC 8260, RFC 4820, draft-stewart-sctp-pktdrprep, draft-tuexen-tsvwg-sctp-multipath (NR-SACK)).
CHUNK_NAMES: dict[int, str] = {
    0: "DATA",
    1: "INIT",
    2: "INIT_ACK",
    3: "SACK",
    4: "HEARTBEAT",
    5: "HEARTBEAT_ACK",
    6: "ABORT",
    7: "SHUTDOWN",
    8: "SHUTDOWN_ACK",
    9: "ERROR",
    10: "COOKIE_ECHO",
    11: "COOKIE_ACK",
    12: "ECNE",
    13: "CWR",
    14: "SHUTDOWN_COMPLETE",
    15: "AUTH",
    16: "NR_SACK",
    64: "I_DATA",
    128: "ASCONF_ACK",
    129: "PKTDROP",
    130: "RE_CONFIG",
    132: "PAD",
    192: "FORWARD_TSN",
    193: "ASCONF",
    194: "I_FORWARD_TSN",
}

_UNKNOWN_CHUNK_NAMES = {t: f"UNKNOWN_{t}" for t in range(256)}
_UNKNOWN_CHUNK_NAMES.update(CHUNK_NAMES)


def chunk_name(code: int) -> str:
    """Contract name of a chunk type; ``UNKNOWN_<code>`` for unassigned ones."""
    try:
        return _UNKNOWN_CHUNK_NAMES[code]
    except (KeyError, TypeError):
        return f"UNKNOWN_{code}"


# Unrecognized chunk / parameter handling from the two high bits of the type (RFC 9260 §3.2, §3.2.1).
ACTION_NAMES = ("stop", "stop_report", "skip", "skip_report")

# Parameter types (RFC 9260 §3.3.2.1 and §3.3.3.1, RFC 5061, RFC 6525, RFC 4895, RFC 3758, RFC 4820,
# RFC 9653). One table: the numbering space is shared by INIT/INIT ACK/ASCONF/RE-CONFIG parameters.
PARAM_NAMES: dict[int, str] = {
    0x0001: "Heartbeat Info",
    0x0005: "IPv4 Address",
    0x0006: "IPv6 Address",
    0x0007: "State Cookie",
    0x0008: "Unrecognized Parameter",
    0x0009: "Cookie Preservative",
    0x000B: "Host Name Address",
    0x000C: "Supported Address Types",
    0x000D: "Outgoing SSN Reset Request",
    0x000E: "Incoming SSN Reset Request",
    0x000F: "SSN/TSN Reset Request",
    0x0010: "Re-configuration Response",
    0x0011: "Add Outgoing Streams Request",
    0x0012: "Add Incoming Streams Request",
    0x8000: "ECN Capable",
    0x8001: "Zero Checksum Acceptable",
    0x8002: "Random",
    0x8003: "Chunk List",
    0x8004: "Requested HMAC Algorithm",
    0x8005: "Padding",
    0x8008: "Supported Extensions",
    0xC000: "Forward-TSN Supported",
    0xC001: "Add IP Address",
    0xC002: "Delete IP Address",
    0xC003: "Error Cause Indication",
    0xC004: "Set Primary Address",
    0xC005: "Success Indication",
    0xC006: "Adaptation Layer Indication",
}


def param_name(code: int) -> str:
    return PARAM_NAMES.get(code) or f"Unknown parameter 0x{code:04x}"


# Error cause codes (RFC 9260 §3.3.10, RFC 5061 §5.1, RFC 4895 §6.1).
CAUSE_NAMES: dict[int, str] = {
    1: "Invalid Stream Identifier",
    2: "Missing Mandatory Parameter",
    3: "Stale Cookie Error",
    4: "Out of Resource",
    5: "Unresolvable Address",
    6: "Unrecognized Chunk Type",
    7: "Invalid Mandatory Parameter",
    8: "Unrecognized Parameters",
    9: "No User Data",
    10: "Cookie Received While Shutting Down",
    11: "Restart of an Association with New Addresses",
    12: "User-Initiated Abort",
    13: "Protocol Violation",
    160: "Request to Delete Last Remaining IP Address",
    161: "Operation Refused Due to Resource Shortage",
    162: "Request to Delete Source IP Address",
    163: "Association Aborted due to Illegal ASCONF-ACK",
    164: "Request refused - no authorization",
    261: "Unsupported HMAC Identifier",
}


def cause_name(code: int) -> str:
    return CAUSE_NAMES.get(code) or f"Unknown cause {code}"


# IANA "SCTP Payload Protocol Identifiers" registry.
PPID_NAMES: dict[int, str] = {
    0: "Reserved by SCTP",
    1: "IUA",
    2: "M2UA",
    3: "M3UA",
    4: "SUA",
    5: "M2PA",
    6: "V5UA",
    7: "H.248",
    8: "BICC/Q.2150.3",
    9: "TALI",
    10: "DUA",
    11: "ASAP",
    12: "ENRP",
    13: "H.323",
    14: "Q.IPC/Q.2150.3",
    15: "SIMCO",
    16: "DDP Segment Chunk",
    17: "DDP Stream Session Control",
    18: "S1AP",
    19: "RUA",
    20: "HNBAP",
    21: "ForCES-HP",
    22: "ForCES-MP",
    23: "ForCES-LP",
    24: "SBc-AP",
    25: "NBAP",
    27: "X2AP",
    28: "IRCP",
    29: "LCS-AP",
    30: "MPICH2",
    31: "SABP",
    32: "Fractal Generator Protocol",
    33: "Ping Pong Protocol",
    34: "CalcApp Protocol",
    35: "Scripting Service Protocol",
    36: "NetPerfMeter Control",
    37: "NetPerfMeter Data",
    38: "Echo",
    39: "Discard",
    40: "Daytime",
    41: "Character Generator",
    42: "3GPP RNA",
    43: "3GPP M2AP",
    44: "3GPP M3AP",
    45: "SSH over SCTP",
    46: "Diameter",
    47: "Diameter DTLS",
    48: "R14P",
    49: "Generic Data Transfer Protocol",
    50: "WebRTC DCEP",
    51: "WebRTC String",
    52: "WebRTC Binary Partial (deprecated)",
    53: "WebRTC Binary",
    54: "WebRTC String Partial (deprecated)",
    55: "3GPP PUA",
    56: "WebRTC String Empty",
    57: "WebRTC Binary Empty",
    58: "3GPP XwAP",
    59: "3GPP Xw-Control Plane",
    60: "NGAP",
    61: "XnAP",
    62: "F1AP",
    63: "HTTP SCTP",
    64: "E1AP",
    65: "ELE2 Lawful Interception",
    66: "NGAP over DTLS",
    67: "XnAP over DTLS",
    68: "F1AP over DTLS",
    69: "E1AP over DTLS",
    70: "E2-CP",
    71: "E2-UP",
    72: "E2-DU",
    73: "W1AP",
}


def ppid_name(n: int) -> str | None:
    """Registry name of a payload protocol identifier, or None when unassigned."""
    return PPID_NAMES.get(n)
