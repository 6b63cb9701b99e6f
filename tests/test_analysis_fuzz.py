"""The analysis never raises, whatever the packets: real frames with random bytes changed, fed in order."""
from __future__ import annotations

import json

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from conftest import CAPTURES
from sctpscope.analysis.tracker import Analysis
from sctpscope.capture import open_capture
from sctpscope.decode.frame import FrameDecoder

# Frames of captures rich in chunk types: ASCONF, RE-CONFIG, I-DATA/I-FORWARD-TSN, INIT collision, ABORT.
SOURCES = ["tcpdump__sctp-asconf.pcap", "tcpdump__sctp-re-config.pcap", "tcpdump__sctp-i-forward.pcap",
           "pkts__sctp_init_collision.cap", "scenario__abort_reason.pcapng", "scenario__stream_reset.pcapng"]
FRAMES = [(f.linktype, bytes(f.data)) for name in SOURCES for f in open_capture(CAPTURES / name)]


@settings(max_examples=1000, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.tuples(st.integers(0, len(FRAMES) - 1),
                          st.lists(st.tuples(st.integers(34, 1600), st.integers(0, 255)), max_size=6)),
                min_size=1, max_size=40))
def test_mutated_packets_never_raise(plan):
    decoder = FrameDecoder(verify_checksum=False)
    analysis = Analysis()
    for number, (index, edits) in enumerate(plan, 1):
        linktype, data = FRAMES[index]
        buf = bytearray(data)
        for offset, value in edits:
            if offset < len(buf):
                buf[offset] = value
        analysis.add(decoder.decode(number, float(number), linktype, bytes(buf)))
    analysis.finish()
    json.dumps(analysis.association_dicts())       # the report of it serialises
