"""Protocol decoders: pure functions from bytes to records (see ``sctpscope.decode.sctp``)."""
