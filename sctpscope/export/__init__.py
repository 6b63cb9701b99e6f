"""Reading captures with their raw bytes (frames and SCTP packet bytes) and writing selections of them:
`walk` (raw frames beside their decode) and `extract` (an association's frames to a pcapng)."""
