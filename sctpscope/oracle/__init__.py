"""tshark as the reference decoder: field-by-field comparison with our decode."""
