"""Display filters: a small expression language over SCTP packets, in the spirit of tshark's.

API::

    from sctpscope.filter import compile, FilterError, PacketContext
    flt = compile("chunk == DATA && sid == 3")     # FilterError (a SctpscopeError) if it does not compile
    flt.match(PacketContext(record, association=4, retransmission=False, anomaly=False))
    flt.match_any(contexts)                         # a frame: any of its SCTP packets
    flt.uses("association")                         # the fields it reads (flt.fields)

``str(FilterError)`` is the reason, then the expression and a caret line under the fault; the parts are
``reason``, ``expression``, ``position``, ``length``. A blank expression is an error: callers treat an empty
filter bar as "no filter". To get contexts from frames: ``Annotator().add(decoded_frame)`` (one pass,
associations numbered in order of first appearance), ``Replay(first_pass(files)).add(decoded_frame)``
(second reading, the report's association ids), or ``Plain().add(decoded_frame)`` when the filter reads
none of association / retransmission / anomaly (no analysis); ``annotator_for(files, flt)`` picks one.
See sctpscope.filter.context.

Language::

    expr  := expr '||' expr | expr '&&' expr | '!' expr | '(' expr ')' | test      (also: or, and, not)
    test  := FIELD                          the field is present (flags: the flag is set)
           | FIELD OP VALUE                 OP: == != < <= > >=  (also: eq ne lt le gt ge)
           | FIELD 'in' '{' VALUE... '}'    values separated by spaces or commas; LO..HI ranges for numbers

Precedence: ``!`` binds tighter than ``&&``, which binds tighter than ``||``. Keywords are case-insensitive.

Fields (one SCTP packet; several values where a packet bundles several chunks):

    chunk                 type of any chunk: DATA, init_ack, I-DATA ... (any case; '-' or '_') or a number
    sid tsn               stream id / TSN of any DATA or I-DATA chunk
    ssn / mid             SSN of any DATA chunk / MID of any I-DATA chunk
    ppid                  PPID of any DATA chunk or first I-DATA fragment: number or IANA name
                          (Diameter, M3UA, S1AP, NGAP, "WebRTC DCEP"; any case, punctuation ignored)
    vtag                  verification tag
    sport dport port      source / destination / either port
    src dst addr          source / destination / either IP address (IPv4, IPv6; a network a.b.c.d/n
                          with == != in)
    frame                 frame number (numbered on across several files, as tshark after mergecap -a)
    association           the association's id in the report
    retransmission        flag: a DATA/I-DATA chunk whose TSN had been sent before
    anomaly               flag: accounting this packet raised an anomaly of its association
    bad_checksum          flag: neither a correct CRC32c nor Adler-32 (a zero checksum too, as the report)
    malformed             flag: a decode problem in the SCTP packet

Numbers are decimal or 0x hexadecimal, checked against the field's width (sid 16 bits, ...).

"Any occurrence" semantics, as tshark 4.0: ``sid == 3`` is true when ANY DATA/I-DATA chunk of the packet is on
stream 3; ``<``, ``<=``, ``>``, ``>=`` and ``in`` likewise. ``sid != 3`` is true when the packet HAS a stream
id and NONE of them is 3 (tshark's "all not equal"): a packet without DATA matches neither ``sid == 3`` nor
``sid != 3``; ``!(sid == 3)`` matches it. ``port == 2905`` is either port, ``addr == X`` either address.
A frame matches when any SCTP packet in it matches (SCTP quoted in ICMP errors included; they belong to no
association).
"""

from sctpscope.filter.context import (Annotator, Membership, PacketContext, Plain, Replay, annotator_for,
                                      first_pass, rereadable)
from sctpscope.filter.fields import FIELDS
from sctpscope.filter.lexer import FilterError
from sctpscope.filter.parser import Filter, compile

__all__ = ["compile", "Filter", "FilterError", "PacketContext", "Annotator", "Replay", "Plain", "Membership",
           "first_pass", "annotator_for", "rereadable", "FIELDS"]
