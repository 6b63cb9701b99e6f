"""SCTP decoder (RFC 9260 and extensions): bytes in, records out, never raises.

    from sctpscope.decode.sctp import decode_sctp
    pkt = decode_sctp(ip_payload, base=offset_in_frame)
"""

from .names import CHUNK_NAMES, CAUSE_NAMES, PARAM_NAMES, PPID_NAMES, cause_name, chunk_name, param_name, ppid_name
from .packet import SctpPacket, decode_sctp, iter_tshark_chunks, tshark_chunk_types
from .chunks import (
    AsconfChunk, AuthChunk, CausesChunk, Chunk, CookieEchoChunk, DataChunk, EmptyChunk, ForwardTsnChunk,
    IDataChunk, IForwardTsnChunk, InitChunk, PadChunk, ParamsChunk, PktDropChunk, SackChunk, ShortChunk,
    ShutdownChunk, TsnChunk, UnknownChunk,
)
from .params import Param
from .causes import Cause

__all__ = [
    "decode_sctp", "SctpPacket", "chunk_name", "ppid_name", "param_name", "cause_name", "CHUNK_NAMES",
    "PARAM_NAMES", "CAUSE_NAMES", "PPID_NAMES", "tshark_chunk_types", "iter_tshark_chunks", "Chunk",
    "DataChunk", "IDataChunk", "InitChunk", "SackChunk", "ParamsChunk", "CausesChunk", "ShutdownChunk",
    "EmptyChunk", "CookieEchoChunk", "TsnChunk", "AuthChunk", "AsconfChunk", "PadChunk", "ForwardTsnChunk",
    "IForwardTsnChunk", "PktDropChunk", "UnknownChunk", "ShortChunk", "Param", "Cause",
]
