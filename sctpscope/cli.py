"""Command line: `sctpscope packets|report|ladder|verify FILE...`, `sctpscope [open] FILE` (the terminal UI),
`sctpscope` alone (the captures opened before); errors are one line, never a traceback."""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence

from sctpscope import __version__, _build
from sctpscope.errors import SctpscopeError
from sctpscope.text import escape_text


def port(text: str) -> int:
    """argparse type of a port number: an integer 1-65535 (0 is no port on the wire to match)."""
    try:
        n = int(text, 0)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a port number (1-65535)") from None
    if not 1 <= n <= 65535:
        raise argparse.ArgumentTypeError(f"{n} is not a port number: ports are 1-65535")
    return n


def _bounded(lo: int, hi: int | None = None, what: str = "a number"):
    """argparse type of an integer in lo..hi (hi None: no upper bound)."""
    def check(text: str) -> int:
        try:
            n = int(text, 0)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r} is not {what}") from None
        if n < lo or (hi is not None and n > hi):
            raise argparse.ArgumentTypeError(f"{n}: {what} must be " +
                                             (f"{lo}-{hi}" if hi is not None else f"at least {lo}"))
        return n
    check.__name__ = what
    return check


def _add_input_options(p: argparse.ArgumentParser, many: bool = True) -> None:
    p.add_argument("files", nargs="+" if many else 1, metavar="FILE",
                   help="pcap or pcapng capture (gzip-compressed too)" + (
                       "; several files, a directory or a glob are read as one capture, in the order of "
                       "their first timestamps (a ring buffer set)" if many else ""))
    p.add_argument("--sctp-udp-port", type=port, action="append", metavar="PORT",
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
    _add_filter_option(p, "list only the frames with an SCTP packet matching EXPR")

    p = sub.add_parser("report", help="association report (human summary, or the JSON contract with --json)")
    _add_input_options(p)
    p.add_argument("--json", action="store_true", help="write the JSON document of the report contract")
    p.add_argument("-o", "--output", metavar="OUT", help="write to OUT instead of standard output")
    p.add_argument("--path-max-retrans", type=_bounded(0, 65535, "a retransmission count"), default=5, metavar="N",
                   help="the endpoints' Path.Max.Retrans: an address whose heartbeats go unanswered more than N "
                        "times in a row is reported unreachable (default 5, RFC 9260)")
    p.add_argument("-j", "--jobs", type=_bounded(1, 256, "a number of workers"), metavar="N",
                   help="worker processes (default: one per core for captures over 16 MiB); never more than the "
                        "sampled port pairs can use: an association is not split (-v says why)")
    p.add_argument("--dask", metavar="ADDRESS", help="run the workers' shares as tasks on the dask.distributed "
                   "cluster whose scheduler is at ADDRESS (tcp://HOST:PORT); the workers read the files under "
                   "the same paths; as many shares as the cluster has threads, or -j N")
    p.add_argument("-v", "--verbose", action="store_true", help="say on standard error how the work is split")
    _add_filter_option(p, "list only the associations with at least one SCTP packet matching EXPR, each analysed "
                          "in full with its unfiltered id; servers that include one of them are kept; captures, "
                          "totals and unassociated stay the whole capture's (runs in one process)")

    p = sub.add_parser("follow", help="the user messages of one association, reassembled, in arrival order")
    _add_input_options(p)
    p.add_argument("-a", "--association", type=_bounded(1, None, "an association id"), required=True, metavar="N", help="association id (as in report)")
    p.add_argument("-s", "--stream", type=_bounded(0, 65535, "a stream id"), action="append", metavar="S",
                   help="only stream S (repeatable; default: every stream)")
    p.add_argument("-m", "--message", type=_bounded(1, None, "a message number"), metavar="K", help="only the K-th message listed (1-based)")
    p.add_argument("--save", metavar="OUT", help="also write the raw bytes of every message listed to OUT, one "
                                                 "after the other")

    p = sub.add_parser("extract", help="write the frames of some associations to a pcapng")
    _add_input_options(p)
    p.add_argument("-a", "--association", type=_bounded(1, None, "an association id"), nargs="+", required=True, metavar="N",
                   help="association id(s), as in report")
    p.add_argument("-w", "--write", required=True, metavar="OUT", help="the pcapng to write ('-': standard output)")

    p = sub.add_parser("ladder", help="the ladder diagram of some associations (the Timeline tab) as text, or "
                                      "as an SVG sequence diagram")
    _add_input_options(p)
    p.add_argument("-a", "--association", type=_bounded(1, None, "an association id"), nargs="+", required=True, metavar="N",
                   help="association id(s), as in report; several are drawn one after the other")
    p.add_argument("--svg", action="store_true", help="write an SVG sequence diagram instead of text")
    p.add_argument("-o", "--output", metavar="OUT", help="write to OUT instead of standard output")
    p.add_argument("--fold", action="store_true", help="text: fold each run of DATA/SACK chunks into one line, "
                                                       "as the Timeline tab first shows it")
    p.add_argument("--width", type=_bounded(20, 100000, "a line width"), metavar="COLUMNS", help="text: line width (default: wide enough for "
                                                                "every label)")

    p = sub.add_parser("open", help="the terminal UI (the default for `sctpscope FILE`; `sctpscope` alone picks "
                                    "one of the captures opened before); the packet list when standard output "
                                    "is not a terminal")
    _add_input_options(p)

    p = sub.add_parser("verify", help="decode with tshark too and list every field where the two disagree")
    _add_input_options(p, many=False)
    p.add_argument("--max", type=_bounded(0, None, "a count"), default=200, metavar="N", help="list at most N disagreements (default 200)")
    _add_live_parsers(sub)
    return ap


def _add_filter_option(p: argparse.ArgumentParser, what: str) -> None:
    p.add_argument("-Y", "--filter", metavar="EXPR", help=what + "; e.g. 'chunk == DATA && sid == 3', "
                   "'ppid == Diameter', 'addr == 198.18.0.1 || port == 2905', 'retransmission', 'association == 4' "
                   "(README: Filters)")


def _compile_filter(args: argparse.Namespace):
    """The compiled --filter, or None; a bad expression is a FilterError (shown with a caret)."""
    expr = getattr(args, "filter", None)
    if expr is None:
        return None
    from sctpscope.filter import compile as compile_filter

    return compile_filter(expr)


def _ports(args: argparse.Namespace) -> tuple[int, ...]:
    return tuple(args.sctp_udp_port) if args.sctp_udp_port else (9899,)


def cmd_packets(args: argparse.Namespace, out) -> int:
    from sctpscope.pipeline import decode_files
    from sctpscope.report.packets import frame_lines

    infos: list = []
    t0 = None
    flt = _compile_filter(args)
    if flt is not None:
        from sctpscope.filter.apply import filtered_frames

        frames = (f for f, _ in filtered_frames(args.files, flt, infos, sctp_udp_ports=_ports(args),
                                                verify=not args.no_checksum))
    else:
        frames = decode_files(args.files, infos, sctp_udp_ports=_ports(args), verify_checksum=not args.no_checksum)
    for frame in frames:
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
               path_max_retrans: int = 5, dask: str | None = None, verbose: bool = False,
               stream: bool = False) -> dict:
    """Stream the files once (per worker) and build the contract document. `stream`: in one process, the
    associations are a runner.OneByOne, for export.formats.write_report_json only (written once)."""
    from sctpscope.report.document import build_report

    notes: list[str] = []
    if dask:
        from sctpscope.analysis.cluster import analyse_dask

        res = analyse_dask(files, dask, sctp_udp_ports=ports, verify=verify, jobs=jobs,
                           path_max_retrans=path_max_retrans, notes=notes)
    else:
        from sctpscope.analysis.runner import analyse

        res = analyse(files, sctp_udp_ports=ports, verify=verify, jobs=jobs, path_max_retrans=path_max_retrans,
                      notes=notes, stream=stream)
    if verbose:
        for note in notes:
            print(f"sctpscope: {note}", file=sys.stderr)
    return build_report(res.infos, res.totals, res.associations, res.unassociated())


def cmd_report(args: argparse.Namespace, out) -> int:
    flt = _compile_filter(args)
    outcome = None
    if flt is not None and args.dask:
        raise SctpscopeError("--dask with --filter: a filtered report runs in one process, here")
    if flt is not None:
        from sctpscope.filter.apply import filtered_report

        doc, outcome = filtered_report(args.files, flt, sctp_udp_ports=_ports(args), verify=not args.no_checksum,
                                       path_max_retrans=args.path_max_retrans)
    else:
        doc = run_report(args.files, _ports(args), not args.no_checksum, args.jobs, args.path_max_retrans,
                         args.dask, args.verbose, stream=bool(args.json))
    if args.json:
        from sctpscope.export.formats import write_report_json

        if args.output:         # written as it is encoded (a report of 100,000 associations is never one string)
            try:
                with open(args.output, "w", encoding="utf-8") as f:
                    write_report_json(doc, f)
            except OSError as exc:
                raise SctpscopeError(f"cannot write {args.output}: {exc.strerror}") from None
        else:
            write_report_json(doc, out)
        return 0
    else:
        from sctpscope.report.summary import render_summary
        text = render_summary(doc)
        if outcome is not None:
            text = outcome.line() + "\n" + text
    if args.output:
        try:
            with open(args.output, "w", encoding="utf-8") as f:
                f.write(text)
        except OSError as exc:
            raise SctpscopeError(f"cannot write {args.output}: {exc.strerror}") from None
    else:
        out.write(text)
    return 0


def cmd_follow(args: argparse.Namespace, out) -> int:
    from sctpscope.export.follow import association_line, follow_messages, message_lines, streams_note

    save = None
    keep = 4096
    if args.save:
        keep = None                       # every byte of every message (written, then dropped)
        if any(os.path.exists(args.save) and os.path.exists(f) and os.path.samefile(args.save, f)
               for f in args.files):
            raise SctpscopeError(f"{escape_text(args.save)} is also an input: save to another file")
        try:
            save = open(args.save, "wb")
        except OSError as exc:
            raise SctpscopeError(f"cannot write {args.save}: {exc.strerror}") from None
    try:
        sel, messages = follow_messages(args.files, args.association, streams=args.stream, keep_bytes=keep,
                                        sctp_udp_ports=_ports(args), verify=not args.no_checksum)
        a = sel.associations.get(args.association)
        if a:
            out.write(association_line(a) + (f", streams {', '.join(map(str, args.stream))}" if args.stream else "")
                      + streams_note(a) + "\n")
        t0 = a["start"] if a else 0.0
        n = shown = 0
        for m in messages:
            n += 1
            if args.message is not None and n != args.message:
                continue
            shown += 1
            for line in message_lines(m, n, t0):
                out.write(line + "\n")
            if save is not None:
                save.write(m.data)
        if args.message is not None and not shown:
            raise SctpscopeError(f"association {args.association} has {n} message(s) here: no message {args.message}")
        incomplete = sum(s.get("incomplete_messages", 0) for s in (a or {}).get("streams", ())
                         if not args.stream or s["sid"] in args.stream)
        out.write(f"{shown} message(s)" + (f" of {n}" if shown != n else "")
                  + (f"; {incomplete} begun and never finished (report: incomplete_messages)" if incomplete else "")
                  + (f", saved to {escape_text(args.save)}" if save is not None else "") + "\n")
    finally:
        if save is not None:
            save.close()
    return 0


def cmd_extract(args: argparse.Namespace, out) -> int:
    from sctpscope.export.extract import extract

    res = extract(args.files, args.association, args.write, sctp_udp_ports=_ports(args),
                  verify=not args.no_checksum)
    if args.write != "-":
        ids = ", ".join(map(str, res.selection.ids))
        out.write(f"{res.frames} frames of association {ids} written to {escape_text(args.write)}\n")
    return 0


def cmd_ladder(args: argparse.Namespace, out) -> int:
    from sctpscope.export.formats import write_text
    from sctpscope.export.ladder import file_timelines, ladder_svg, ladder_text

    if args.width is not None and args.width < 40:
        raise SctpscopeError("--width: at least 40 columns")
    items = file_timelines(args.files, args.association, sctp_udp_ports=_ports(args), verify=not args.no_checksum)
    text = ladder_svg(items) if args.svg else ladder_text(items, width=args.width, fold=args.fold)
    if args.output and args.output != "-":
        write_text(args.output, text)
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

    if run(args.files, sctp_udp_ports=_ports(args), verify=not args.no_checksum) is True:
        _exit_now(0)            # the app ran and was quit
    return 0


def _exit_now(code: int) -> None:
    """After the terminal UI: leave at once. The terminal is restored and the state files are written by now;
    freeing the analysis of a big capture object by object would make `q` take seconds (a worker still
    decoding is abandoned too)."""
    for f in (sys.stdout, sys.stderr):
        try:
            f.flush()
        except (OSError, ValueError, AttributeError):
            pass
    os._exit(code)


def cmd_recent(out) -> int:
    """`sctpscope` alone: the recent-files picker on a terminal; else the list of captures opened before
    (usage when there is none)."""
    from sctpscope.state import State, recent_lines

    state = State()
    entries = state.recent()
    for notice in state.notices:
        print(f"sctpscope: {notice}", file=sys.stderr)
    if not entries:
        build_parser().print_help()
        return 2
    if out.isatty():
        from sctpscope.tui import run   # textual is imported only now

        if run([]) is True:
            _exit_now(0)
        return 0
    for line in recent_lines(entries):
        out.write(line + "\n")
    return 0


COMMANDS = {"packets": cmd_packets, "report": cmd_report, "verify": cmd_verify, "follow": cmd_follow,
            "extract": cmd_extract, "ladder": cmd_ladder}


def _add_live_parsers(sub) -> None:
    """`live` and `interfaces` (sctpscope.live.command does the work)."""
    p = sub.add_parser("live", help="capture SCTP from an interface (AF_PACKET, or dumpcap/tshark: --engine), "
                                    "write pcapng, analyse as it arrives: the terminal UI, or the report with "
                                    "--json/--duration/--count")
    p.add_argument("-i", "--interface", required=True, metavar="IFACE",
                   help="interface to capture on, or 'any' (`sctpscope interfaces` lists them)")
    p.add_argument("-w", "--write", metavar="FILE",
                   help="pcapng file to write (default: sctpscope_IFACE_DATE-TIME.pcapng here)")
    p.add_argument("--ring-size", type=float, metavar="MB", help="begin a new file when this one passes MB "
                                                                 "megabytes (files FILE_NNNNN_DATETIME.pcapng)")
    p.add_argument("--ring-files", type=int, metavar="N", help="with --ring-size: keep only the N newest files")
    p.add_argument("--duration", type=float, metavar="S", help="stop after S seconds (headless)")
    p.add_argument("-c", "--count", type=int, metavar="N", help="stop after N SCTP packets (headless)")
    p.add_argument("--json", action="store_true", help="headless: print the JSON report at the end")
    p.add_argument("--headless", action="store_true", help="no terminal UI: print the report at the end")
    _add_filter_option(p, "list only the associations with an SCTP packet matching EXPR (the file keeps "
                          "everything)")
    p.add_argument("-B", "--buffer-size", type=float, default=64, metavar="MiB",
                   help="kernel capture buffer (default 64 MiB)")
    p.add_argument("-s", "--snaplen", type=int, default=262144, metavar="BYTES",
                   help="bytes kept of each frame (default 262144)")
    p.add_argument("--promisc", action="store_true", help="put the interface in promiscuous mode")
    p.add_argument("--user", metavar="USER", help="after opening the socket (as root), continue as USER "
                                                  "(--engine af_packet only)")
    p.add_argument("--engine", choices=("af_packet", "tshark", "dumpcap"), default="af_packet",
                   help="af_packet (default): sctpscope's own packet socket (Linux, root or CAP_NET_RAW); "
                        "tshark: pyshark's LiveCapture (dumpcap into tshark), where only Wireshark's tools may "
                        "capture; slower (~10,000 packets/s), drop counts known at the end; dumpcap: dumpcap's "
                        "pcapng read from a pipe, as fast as af_packet, drop counts known at the end")
    p.add_argument("--sctp-udp-port", type=port, action="append", metavar="PORT",
                   help="UDP port carrying SCTP (RFC 6951); repeatable; default 9899")
    p.add_argument("--no-checksum", action="store_true", help="do not verify CRC32c checksums")
    p.add_argument("--path-max-retrans", type=_bounded(0, 65535, "a retransmission count"), default=5, metavar="N",
                   help="the endpoints' Path.Max.Retrans (see report; default 5)")

    p = sub.add_parser("interfaces", help="list the interfaces live capture can use")
    p.add_argument("--json", action="store_true", help="as JSON")


def cmd_live(args: argparse.Namespace, out) -> int:
    from sctpscope.live.command import cmd_live as run

    return run(args, out, _ports(args))


def cmd_interfaces(args: argparse.Namespace, out) -> int:
    from sctpscope.live.command import cmd_interfaces as run

    return run(args, out)


COMMANDS["live"] = cmd_live
COMMANDS["interfaces"] = cmd_interfaces


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    parser = build_parser()
    # `sctpscope FILE` is `sctpscope open FILE`: the terminal UI when standard output is a terminal, the
    # packet list when it is not (pipes, scripts, tests).
    if argv and argv[0] not in (*COMMANDS, "open") and not argv[0].startswith("-"):
        argv = ["open", *argv]
    args = parser.parse_args(argv)
    out = sys.stdout
    try:
        if getattr(args, "files", None) and args.command != "verify":
            from sctpscope.capture.inputs import order_inputs

            args.files = order_inputs(args.files)     # a directory, globs, a ring set: in time order
        if not args.command:
            return cmd_recent(out)
        if args.command == "open":
            return cmd_open(args) if out.isatty() else cmd_packets(args, out)
        if args.command in ("report", "extract", "follow"):
            from sctpscope.progress import reading_progress

            with reading_progress(args.command):    # a bar on standard error, when it is a terminal
                return COMMANDS[args.command](args, out)
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
