"""Association, stream and capture-wide analysis of decoded SCTP packets; state is mergeable."""
