"""Capture input: streaming pcap / pcapng readers (plain or gzip, files or pipes); the pcapng writer
(``writer.PcapngWriter``); live capture on Linux (``live.LiveSource``, AF_PACKET with the kernel filter of
``bpf``; imported on demand, not from here).

This package must not import sctpscope.decode.
"""

from sctpscope.capture.linktypes import DECODED_LINKTYPES, LINKTYPE_NAMES, linktype_name
from sctpscope.capture.reader import Capture, Frame, Interface, RecordSkip, open_capture
from sctpscope.capture.writer import PcapngWriter, WriterError

__all__ = [
    "Capture",
    "DECODED_LINKTYPES",
    "Frame",
    "Interface",
    "LINKTYPE_NAMES",
    "RecordSkip",
    "linktype_name",
    "open_capture",
    "PcapngWriter",
    "WriterError",
]
