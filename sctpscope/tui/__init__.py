"""The terminal UI (Textual): the only package of sctpscope that imports textual; `run` opens a capture."""

from __future__ import annotations

from collections.abc import Sequence


def run(paths: str | Sequence[str], *, sctp_udp_ports: tuple[int, ...] = (9899,), verify: bool = True) -> bool:
    """Open the capture(s) in the terminal UI and return True when the user quits (the command line then
    leaves at once: cli._exit_now)."""
    from sctpscope.tui.app import make_app

    make_app(paths, sctp_udp_ports=sctp_udp_ports, verify=verify).run()
    return True
