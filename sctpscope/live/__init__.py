"""Live capture: the session that takes frames from a capture source (sctpscope.capture.live's AF_PACKET ring,
or dumpcap), writes them to pcapng (live.output) and analyses them as `sctpscope report` does (live.session);
`live.command` holds the `sctpscope live` / `sctpscope interfaces` commands.

Sits beside sctpscope.pipeline in the flow: capture -> [live] -> decode -> analysis -> report | tui.
"""
