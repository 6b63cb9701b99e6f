"""The catalogue of association anomalies: stable names that reports, filters and the TUI can count."""

ANOMALIES = {
    "bad_checksum": "a packet whose CRC32c is wrong while its sender's other packets are right (corruption)",
    "checksum_offload": "every packet from one sender has a wrong checksum: checksum offload at the capture point",
    "zero_checksum": "checksum 0 without the peer having announced Zero Checksum Acceptable (RFC 9653)",
    "malformed_chunk": "a chunk cut short or with an impossible length (see the decode problem)",
    "invalid_stream_id": "DATA on a stream id at or above the number negotiated for that direction",
    "bundling_violation": "INIT, INIT ACK or SHUTDOWN COMPLETE bundled with other chunks (RFC 9260 §6.10)",
    "unexpected_vtag": "a packet whose verification tag matches neither endpoint of the association",
    "tsn_gap": "TSNs never seen between the lowest and highest TSN of a direction",
    "ssn_gap": "ordered messages of a stream never seen between its first and last SSN",
    "out_of_order": "an ordered message first seen after a later one of the same stream",
    "retransmitted_more_than_twice": "a TSN sent more than three times",
    "zero_window": "the receiver advertised a_rwnd 0",
    "data_after_shutdown": "new DATA from an endpoint after it sent SHUTDOWN or SHUTDOWN ACK",
    "init_retransmitted": "the INIT was sent again (no INIT ACK in time)",
    "cookie_echo_retransmitted": "the COOKIE ECHO was sent again",
    "unanswered_init": "an INIT never answered by an INIT ACK in the capture",
    "incomplete_message": "fragments of a message still missing at the end of the capture",
    "error_chunk": "an ERROR chunk reported an error cause",
    "restart": "the association was restarted (new verification tags on the same ports)",
    "ambiguous_pairing": "a flow (one direction, no handshake) whose partner the wire does not single out among "
                         "several flows the other way on the same ports: left an association of its own",
    "init_collision": "both endpoints sent INIT at the same time (RFC 9260 §5.2.1); one association resulted",
}

MAX_PER_ASSOCIATION = 2000  # anomalies kept per association; beyond this they are only counted
