"""`sctpscope live` and `sctpscope interfaces`: option checking, opening, the headless run, the final lines.

Everything that can fail is tried before the first frame is taken, in this order, each failure one line and
exit status 2: the filter expression, the options, the interface and the socket (privilege, interface down),
the output file, the privilege drop. During capture, the interface going down or the disk filling up stops
the capture with one line and status 2, after the file has been completed with everything captured.
"""

from __future__ import annotations

import json
import os
import signal
import sys

from sctpscope.capture.live import DEFAULT_BUFFER, KernelStats, LiveCaptureError, list_interfaces
from sctpscope.capture.writer import WriterError
from sctpscope.errors import SctpscopeError
from sctpscope.live.output import OutputFiles, default_name
from sctpscope.live.session import LiveSession, LiveStatus
from sctpscope.text import escape_text


def _fail(msg: str) -> SctpscopeError:
    return LiveCaptureError(msg)


def open_session(args, *, ports: tuple[int, ...], snapshots: bool, err=sys.stderr) -> LiveSession:
    """Check the options, open the source and the first file, drop privileges; the session is not started."""
    flt = None
    if getattr(args, "filter", None):
        from sctpscope.filter import compile as compile_filter

        flt = compile_filter(args.filter)
    if args.duration is not None and not args.duration > 0:
        raise _fail("--duration must be more than 0 seconds")
    if args.count is not None and args.count < 1:
        raise _fail("--count must be at least 1")
    if args.ring_files is not None and args.ring_files < 1:
        raise _fail("--ring-files must be at least 1")
    if args.ring_size is not None and not args.ring_size > 0:
        raise _fail("--ring-size must be more than 0 MB")
    if args.ring_files is not None and args.ring_size is None:
        raise _fail("--ring-files needs --ring-size (the size at which a new file begins)")
    if not 0 < args.buffer_size <= 4096:
        raise _fail("--buffer-size must be between 1 and 4096 MiB")
    if not 64 <= args.snaplen <= 262144:
        raise _fail("--snaplen must be between 64 and 262144 bytes")
    if args.user and args.engine != "af_packet":
        raise _fail(f"--user works with --engine af_packet only (dumpcap holds the capture privilege itself, "
                    f"and the processes --engine {args.engine} starts must stay within sctpscope's reach)")
    owner = None
    if args.user:
        from sctpscope.live.privileges import lookup_user

        uid, gid, _ = lookup_user(args.user)
        owner = (uid, gid)
    buffer_size = int(args.buffer_size * (1 << 20))
    if args.engine == "tshark":
        from sctpscope.live.pyshark_source import PysharkSource as Source
    elif args.engine == "dumpcap":
        from sctpscope.live.dumpcap import DumpcapSource as Source
    else:
        from sctpscope.capture.live import LiveSource as Source
    source = Source(args.interface, snaplen=args.snaplen, buffer_size=buffer_size, promisc=args.promisc,
                    sctp_udp_ports=ports)
    try:
        path = args.write or default_name(args.interface)
        output = OutputFiles(path, source.linktype, args.interface, args.snaplen,
                             ring_size=int(args.ring_size * 1_000_000) if args.ring_size else None,
                             ring_files=args.ring_files, owner=owner)
        try:
            output.open()
        except WriterError as exc:
            raise LiveCaptureError(str(exc)) from None
        if args.user:
            from sctpscope.live.privileges import drop_privileges

            # Everything the analysis imports late is imported now: once the user changes, modules (the
            # standard library's among them) may lie where that user cannot read.
            import sctpscope.report.document  # noqa: F401
            import sctpscope.report.summary  # noqa: F401
            drop_privileges(args.user)
            if output.ring and not os.access(os.path.dirname(os.path.abspath(path)), os.W_OK):
                raise _fail(f"--user {args.user} cannot create the next ring files in "
                            f"{escape_text(os.path.dirname(os.path.abspath(path)))}")
    except BaseException:
        source.close()
        raise
    return LiveSession(source, output, engine=args.engine, sctp_udp_ports=ports, verify=not args.no_checksum,
                       path_max_retrans=args.path_max_retrans, flt=flt, duration=args.duration, count=args.count,
                       snapshots=snapshots)


def announce(session: LiveSession, err) -> None:
    src = session.source
    size = getattr(src, "buffer_size", None)
    buf = f", {size >> 20} MiB buffer" if size else ""
    print(f"sctpscope: capturing SCTP on {escape_text(src.name)} ({session.engine}, "
          f"{escape_text(session.status().link_type)}{buf}); writing {escape_text(session.output.files[0].path)}",
          file=err, flush=True)


def _drops(k: KernelStats) -> str:
    """The kernel's drop count, or that it is not known (yet): tshark and dumpcap tell theirs at the end."""
    return "drops unknown" if k.dropped is None else f"{k.dropped} dropped"


def status_line(st: LiveStatus) -> str:
    s = (f"{st.packets} packets ({st.sctp_packets} SCTP analysed), {st.bytes} bytes, "
         f"{_drops(st.kernel)} by the kernel, {st.rate_pps:.0f} pkt/s, {st.associations} associations")
    if st.backlog > 0:
        s += f", analysis {st.backlog} behind"
    return s


def _received(k: KernelStats) -> str:
    return "" if k.received is None else f"{k.received} received, "


def final_line(session: LiveSession) -> str:
    st = session.status()
    files = [f for f in session.output.files]
    where = escape_text(files[0].path) if len(files) == 1 else f"{len(files)} files ({escape_text(files[0].path)} …)"
    k = st.kernel
    return (f"sctpscope: {st.packets} packets captured on {escape_text(st.interface)} in {st.elapsed:.1f} s "
            f"({st.sctp_packets} SCTP packets); kernel: {_received(k)}{_drops(k)}; written to {where}")


def run_headless(session: LiveSession, args, out, err) -> int:
    def on_signal(signum, frame):
        session.stop("signal")

    old = {s: signal.signal(s, on_signal) for s in (signal.SIGINT, signal.SIGTERM)}
    tty = err.isatty()
    try:
        session.start()
        while not session.wait(0.5):
            if tty:
                err.write("\r" + status_line(session.status())[:200] + "\x1b[K")
                err.flush()
    finally:
        for s, h in old.items():
            signal.signal(s, h)
    if tty:
        err.write("\r\x1b[K")
    if session.document is None:
        # the analysis stopped before its report (what it captured is in the files, complete)
        raise SctpscopeError(str(session.error) if session.error else "the analysis ended without a report")
    doc = session.report()
    if args.json:
        out.write(json.dumps(doc, indent=1) + "\n")
    else:
        from sctpscope.report.summary import render_summary

        out.write(render_summary(doc))
    out.flush()
    print(final_line(session), file=err, flush=True)
    if session.error is not None:
        print(f"sctpscope: {session.error}", file=err, flush=True)
        return 2
    return 0


def cmd_live(args, out, ports: tuple[int, ...]) -> int:
    err = sys.stderr
    headless = args.json or args.headless or args.duration is not None or args.count is not None \
        or not out.isatty()
    session = open_session(args, ports=ports, snapshots=not headless, err=err)
    announce(session, err)
    if headless:
        return run_headless(session, args, out, err)
    from sctpscope.tui.live import run_live_tui          # textual only now

    run_live_tui(session)
    session.stop("quit", abandon_analysis=True)
    session.wait(15)
    print(final_line(session), file=err, flush=True)
    if session.error is not None:
        print(f"sctpscope: {session.error}", file=err, flush=True)
        return 2
    return 0


def cmd_interfaces(args, out) -> int:
    ifs = list_interfaces()
    if args.json:
        out.write(json.dumps([i.as_dict() for i in ifs], indent=1) + "\n")
        return 0
    rows = [("INDEX", "NAME", "LINK", "STATE", "MTU", "ADDRESSES")]
    for i in ifs:
        state = "down" if i.up is False else i.state
        link = {"ether": "ethernet", "cooked": "cooked (SLL)"}[i.link]
        if i.name == "any":
            rows.append(("-", "any", link, "-", "-", "every interface at once"))
            continue
        rows.append((str(i.index), escape_text(i.name), link, state, str(i.mtu or "-"), " ".join(i.addresses)))
    widths = [max(len(r[k]) for r in rows) for k in range(5)]
    for r in rows:
        out.write("  ".join(c.ljust(w) for c, w in zip(r, widths)) + "  " + r[5] + "\n")
    return 0


__all__ = ["cmd_live", "cmd_interfaces", "open_session", "run_headless", "DEFAULT_BUFFER"]
