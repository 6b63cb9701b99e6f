"""Command line: `sctpscope packets|report|verify FILE...`, `sctpscope [open] FILE` (the terminal UI);
errors are one line, never a traceback."""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Sequence

from sctpscope import __version__, _build
from sctpscope.errors import SctpscopeError
from sctpscope.text import escape_text


def _add_input_options(p: argparse.ArgumentParser, many: bool = True) -> None:
    p.add_argument("files", nargs="+" if many else 1, metavar="FILE",
                   help="pcap or pcapng capture (gzip-compressed too)" + ("; several are read in order as one"
                                                                         if many else ""))
    p.add_argument("--sctp-udp-port", type=int, action="append", metavar="PORT",
                   help="UDP port carrying SCTP (RFC 6951); repeatable; default 9899")
    p.add_argument("--no-checksum", action="store_true", help="do not verify CRC32c checksums")


def build_parser() -> argparse.ArgumentParser:
    ap = argparse.ArgumentParser(prog="sctpscope", description="SCTP capture analyzer.")
    ap.add_argument("--version", action="version", version=f"sctpscope {__version__} ({_build.status})")
    sub = ap.add_subparsers(dest="command", metavar="COMMAND")

    p = sub.add_parser("packets", help="one line per SCTP packet, like tshark's summary")
    _add_input_options(p)
    p.add_argument("--all-problems", action="store_true",
                   help="also list decode problems of frames that carry no SCTP")

    p = sub.add_parser("report", help="association report (human summary, or the JSON contract with --json)")
    _add_input_options(p)
    p.add_argument("--json", action="store_true", help="write the JSON document of the report contract")
    p.add_argument("-o", "--output", metavar="OUT", help="write to OUT instead of standard output")
    p.add_argument("--path-max-retrans", type=int, default=5, metavar="N",
                   help="the endpoints' Path.Max.Retrans: an address whose heartbeats go unanswered more than N "
                        "times in a row is reported unreachable (default 5, RFC 9260)")
    p.add_argument("-j", "--jobs", type=int, metavar="N",
                   help="worker processes (default: one per core, up to 4, for captures over 16 MiB)")

    p = sub.add_parser("open", help="the terminal UI (the default for `sctpscope FILE`); the packet list "
                                    "when standard output is not a terminal")
    _add_input_options(p)

    p = sub.add_parser("verify", help="decode with tshark too and list every field where the two disagree")
    _add_input_options(p, many=False)
    p.add_argument("--max", type=int, default=200, metavar="N", help="list at most N disagreements (default 200)")
    return ap


def _ports(args: argparse.Namespace) -> tuple[int, ...]:
    return tuple(args.sctp_udp_port) if args.sctp_udp_port else (9899,)


def cmd_packets(args: argparse.Namespace, out) -> int:
    from sctpscope.pipeline import decode_files
    from sctpscope.report.packets import frame_lines

    infos: list = []
    t0 = None
    for frame in decode_files(args.files, infos, sctp_udp_ports=_ports(args), verify_checksum=not args.no_checksum):
        if t0 is None:
            t0 = frame.ts
        if frame.sctp or frame.quotes or (getattr(args, "all_problems", False) and frame.problems):
            for line in frame_lines(frame, t0):
                out.write(line + "\n")
    for info in infos:
        for p in info.problems:
            out.write(f"{escape_text(info.path)}: {escape_text(str(p))}\n")
    return 0


def run_report(files: Sequence[str], ports: tuple[int, ...], verify: bool, jobs: int | None = None,
               path_max_retrans: int = 5) -> dict:
    """Stream the files once (per worker) and build the contract document."""
    from sctpscope.analysis.runner import analyse
    from sctpscope.report.document import build_report

    res = analyse(files, sctp_udp_ports=ports, verify=verify, jobs=jobs, path_max_retrans=path_max_retrans)
    return build_report(res.infos, res.totals, res.associations, res.unassociated())


def cmd_report(args: argparse.Namespace, out) -> int:
    doc = run_report(args.files, _ports(args), not args.no_checksum, args.jobs, args.path_max_retrans)
    if args.json:
        text = json.dumps(doc, indent=1) + "\n"
    else:
        from sctpscope.report.summary import render_summary
        text = render_summary(doc)
    if args.output:
        try:
            with open(args.output, "w", encoding="utf-8") as f:
                f.write(text)
        except OSError as exc:
            raise SctpscopeError(f"cannot write {args.output}: {exc.strerror}") from None
    else:
        out.write(text)
    return 0


def cmd_verify(args: argparse.Namespace, out) -> int:
    from sctpscope.oracle.verify import verify_file

    return verify_file(args.files[0], out, sctp_udp_ports=_ports(args), limit=args.max)


def cmd_open(args: argparse.Namespace) -> int:
    """The terminal UI; a missing file or a non-capture fails here, as one line, before the app starts."""
    from sctpscope.pipeline import check_inputs

    check_inputs(args.files)
    from sctpscope.tui import run   # textual is imported only now

    run(args.files, sctp_udp_ports=_ports(args), verify=not args.no_checksum)
    return 0


COMMANDS = {"packets": cmd_packets, "report": cmd_report, "verify": cmd_verify}


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    parser = build_parser()
    # `sctpscope FILE` is `sctpscope open FILE`: the terminal UI when standard output is a terminal, the
    # packet list when it is not (pipes, scripts, tests).
    if argv and argv[0] not in (*COMMANDS, "open") and not argv[0].startswith("-"):
        argv = ["open", *argv]
    args = parser.parse_args(argv)
    if not args.command:
        parser.print_help()
        return 2
    out = sys.stdout
    try:
        if args.command == "open":
            return cmd_open(args) if out.isatty() else cmd_packets(args, out)
        return COMMANDS[args.command](args, out)
    except SctpscopeError as exc:
        print(f"sctpscope: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        # The reader went away (e.g. `| head`): stop quietly.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return 0
