"""A live capture session: socket -> pcapng file -> decode -> Analysis, in two threads.

The capture thread does only what must keep pace with the wire: it takes the frames out of the source (the
kernel ring of sctpscope.capture.live, dumpcap's pipe, or pyshark's), writes every one of them to the pcapng file, hands
whole blocks to the file at least every 0.1 s, reads the kernel's drop counters, and stops on
``--duration``, ``--count`` (it counts SCTP packets itself, so the file ends exactly on the Nth), a
request, or an error.

The analysis thread follows the file(s) the capture writes, through its own read descriptors (a ring file
deleted meanwhile stays readable), parses the blocks as they are flushed (live.stream.PcapngStream), decodes
each frame with the same FrameDecoder as ``sctpscope report``, numbers frames on across files the same way
and feeds the same Analysis. The file is the queue between the two: when the analysis falls behind a fast
sender, nothing is lost and nothing grows in memory; it catches up after the burst (``backlog``). And the
report of the live session is by construction that of ``sctpscope report FILE...`` of the files it wrote.

Snapshots (``latest``) for live views are taken by the analysis thread between two frames, a few times a
second: ``Analysis.snapshot()`` (the associations as if the capture ended now), totals and per-file info.

``--filter`` (sctpscope.filter): as ``sctpscope report --filter``, the associations listed are those with at
least one SCTP packet matching the expression, each analysed in full; captures, totals and unassociated
describe everything captured. The file always holds every frame the kernel filter let through.
"""

from __future__ import annotations

import os
import threading
import time
from collections import Counter, deque
from dataclasses import dataclass, replace

from sctpscope.analysis.indexer import KEY
from sctpscope.analysis.runner import Result
from sctpscope.analysis.totals import Totals
from sctpscope.analysis.tracker import Analysis
from sctpscope.capture.linktypes import linktype_name
from sctpscope.capture.live import KernelStats, LiveCaptureError
from sctpscope.capture.writer import WriterError
from sctpscope.decode.frame import FrameDecoder
from sctpscope.errors import SctpscopeError
from sctpscope.live.index import LiveIndex
from sctpscope.live.output import OutputFile, OutputFiles
from sctpscope.live.stream import PcapngStream, StreamError
from sctpscope.pipeline import CaptureInfo
from sctpscope.problems import Problem

STATS_INTERVAL = 0.5
SNAPSHOT_INTERVAL = 0.25


@dataclass
class LiveStatus:
    """What a status bar shows; a consistent copy taken by ``LiveSession.status()``."""

    interface: str
    engine: str
    link_type: str
    started: float                    # wall clock
    elapsed: float
    packets: int                      # frames captured and written
    bytes: int                        # their captured bytes
    analysed: int                     # frames the analysis has read back
    sctp_packets: int                 # SCTP packets among them
    associations: int
    kernel: KernelStats
    rate_pps: float
    rate_bps: float
    file: str | None
    files: int
    running: bool
    stopped_by: str | None
    error: str | None

    @property
    def backlog(self) -> int:
        return self.packets - self.analysed


@dataclass
class LiveSnapshot:
    """The analysis as of one moment (``generation`` grows with each); ``result`` is an analysis.runner.Result
    of the associations as if the capture ended then (already filtered when a filter is set)."""

    generation: int
    result: Result
    matched_packets: int | None = None
    final: bool = False


def _copy_totals(t: Totals) -> Totals:
    return Totals(t.packets, t.sctp_packets, Counter(t.chunk_types), Counter(t.checksums), t.malformed,
                  Counter(t.problems), t.quoted, t.udp_encapsulated)


class LiveSession:
    """Run a capture from `source` into `output`, analysing as it goes (see the module docstring).

    `source`: an object with ``read(timeout) -> [(Frame, ts_ns)]``, ``drain()``, ``stats() -> KernelStats``,
    ``close()`` and the attributes ``name``, ``linktype`` (LiveSource, DumpcapSource, PysharkSource); counts
    a source does not know (yet) are None in its KernelStats. `output`: the OutputFiles, whose first file is
    opened by ``start()`` unless already open.
    """

    def __init__(self, source, output: OutputFiles, *, engine: str = "af_packet",
                 sctp_udp_ports: tuple[int, ...] = (9899,), verify: bool = True, path_max_retrans: int = 5,
                 flt=None, duration: float | None = None, count: int | None = None, snapshots: bool = False,
                 analyse: bool = True) -> None:
        self.source = source
        self.output = output
        self.engine = engine
        self.ports = tuple(sctp_udp_ports)
        self.verify = verify
        self.path_max_retrans = path_max_retrans
        self.flt = flt
        self.duration = duration
        self.count = count
        self.snapshots = snapshots
        self.analyse = analyse
        #: with snapshots (the terminal UI): each association's frames and where every frame is
        self.index = LiveIndex(self.ports, verify) if snapshots else None
        # set by the threads ------------------------------------------------------------------------------
        self.packets = 0
        self.bytes = 0
        self.counted_sctp = 0           # SCTP packets counted by the capture thread (--count only)
        self.kernel: KernelStats = source.stats()      # unknown (None) from the start for some sources
        self.rate_pps = 0.0
        self.rate_bps = 0.0
        self.started = time.time()
        self._t0 = time.monotonic()
        self._t_end: float | None = None
        self.stopped_by: str | None = None
        self.error: SctpscopeError | None = None
        self.analysed = 0
        self.sctp_packets = 0
        self.associations = 0
        self.matched_packets = 0
        self.infos: list[CaptureInfo] = []
        self.latest: LiveSnapshot | None = None
        self.document: dict | None = None
        # coordination --------------------------------------------------------------------------------------
        self._stop = threading.Event()
        self._abandon = threading.Event()
        self._capture_done = threading.Event()
        self._analysis_done = threading.Event()
        self._data = threading.Event()
        self._rotate = threading.Event()
        self._files: deque[OutputFile] = deque()
        self._lock = threading.Lock()
        self._threads: list[threading.Thread] = []
        self._generation = 0
        output.on_new_file = self._new_file
        for f in output.files:                   # opened before the session was made
            self._files.append(f)

    # -- control -------------------------------------------------------------------------------------------------
    def start(self) -> None:
        if not self.output.files:
            self.output.open()
        self.started = time.time()
        self._t0 = time.monotonic()
        cap = threading.Thread(target=self._capture_loop, name="sctpscope-capture", daemon=True)
        self._threads.append(cap)
        if self.analyse:
            ana = threading.Thread(target=self._analysis_loop, name="sctpscope-analysis", daemon=True)
            self._threads.append(ana)
        else:
            self._analysis_done.set()
        for t in self._threads:
            t.start()

    def stop(self, reason: str = "stopped", *, abandon_analysis: bool = False) -> None:
        """Stop capturing (the file is completed); the analysis reads what was written, unless abandoned."""
        if self.stopped_by is None:
            self.stopped_by = reason
        if abandon_analysis:
            self._abandon.set()
        self._stop.set()
        self._data.set()

    def rotate(self) -> None:
        """Close the current file and go on in a new one (done by the capture thread at its next turn)."""
        self._rotate.set()

    def wait(self, timeout: float | None = None) -> bool:
        """Wait until the capture and the analysis are both done; True when they are."""
        end = None if timeout is None else time.monotonic() + timeout
        for ev in (self._capture_done, self._analysis_done):
            left = None if end is None else max(0.0, end - time.monotonic())
            if not ev.wait(left):
                return False
        return True

    @property
    def started_threads(self) -> bool:
        """start() has been called."""
        return bool(self._threads)

    @property
    def capturing(self) -> bool:
        return not self._capture_done.is_set()

    @property
    def done(self) -> bool:
        return self._capture_done.is_set() and self._analysis_done.is_set()

    def status(self) -> LiveStatus:
        cur = self.output.current
        end = self._t_end if self._t_end is not None else time.monotonic()
        return LiveStatus(
            interface=self.source.name, engine=self.engine, link_type=linktype_name(self.source.linktype),
            started=self.started, elapsed=end - self._t0, packets=self.packets, bytes=self.bytes,
            analysed=self.analysed, sctp_packets=self.sctp_packets, associations=self.associations,
            kernel=replace(self.kernel), rate_pps=self.rate_pps, rate_bps=self.rate_bps,
            file=cur.path if cur else (self.output.files[-1].path if self.output.files else None),
            files=len(self.output.files), running=self.capturing, stopped_by=self.stopped_by,
            error=str(self.error) if self.error else None)

    # -- the capture thread ------------------------------------------------------------------------------------------
    def _new_file(self, f: OutputFile) -> None:
        with self._lock:
            self._files.append(f)
        self._data.set()

    def _capture_loop(self) -> None:
        src, out = self.source, self.output
        counter = FrameDecoder(self.ports, verify_checksum=False) if self.count else None
        last_stats = t_rate = time.monotonic()
        p_rate, b_rate = 0, 0
        try:
            while not self._stop.is_set():
                try:
                    batch = src.read(0.1)
                except LiveCaptureError as exc:
                    self.error = exc
                    self.stopped_by = self.stopped_by or "error"
                    break
                if self._write(batch, counter):
                    break
                if out.flush(force=not batch):
                    self._data.set()
                if self._rotate.is_set():
                    self._rotate.clear()
                    k = src.stats()
                    self.kernel = k
                    out.rotate((k.received, k.dropped))
                    self._data.set()
                now = time.monotonic()
                if now - last_stats >= STATS_INTERVAL:
                    self.kernel = src.stats()
                    last_stats = now
                    dt = now - t_rate
                    self.rate_pps = (self.packets - p_rate) / dt
                    self.rate_bps = 8 * (self.bytes - b_rate) / dt
                    t_rate, p_rate, b_rate = now, self.packets, self.bytes
                if self.duration is not None and now - self._t0 >= self.duration:
                    self.stopped_by = self.stopped_by or "duration"
                    break
            if self.error is None and not (self.count and self.counted_sctp >= self.count):
                # what the kernel already holds was captured too: into the file with the rest
                try:
                    self._write(src.drain(), counter)
                except LiveCaptureError:
                    pass
        except WriterError as exc:
            self.error = LiveCaptureError(str(exc))
            self.stopped_by = self.stopped_by or "write error"
            out.mark_failed(exc)
        except BaseException as exc:      # noqa: BLE001 - keep the file whatever happens, then report
            self.error = SctpscopeError(f"capture stopped: {type(exc).__name__}: {exc}")
            self.stopped_by = self.stopped_by or "error"
        finally:
            self._t_end = time.monotonic()
            try:
                self.kernel = src.stats()
            except Exception:             # noqa: BLE001
                pass
            src.close()
            try:
                if out.error is None:
                    out.close((self.kernel.received, self.kernel.dropped))
            except WriterError as exc:
                self.error = self.error or LiveCaptureError(str(exc))
            if out.error is not None and self.error is None:
                self.error = LiveCaptureError(str(out.error))
                self.stopped_by = self.stopped_by or "write error"
            self._capture_done.set()
            self._data.set()

    def _write(self, batch, counter) -> bool:
        """Write a batch; True when --count is reached (the file then ends on the Nth SCTP packet)."""
        out = self.output
        for frame, ns in batch:
            out.write(frame, ns)
            self.packets += 1
            self.bytes += len(frame.data)
            if counter is not None:
                d = counter.decode(frame.number, frame.ts, frame.linktype, frame.data, frame.orig_len)
                self.counted_sctp += sum(1 for r in d.sctp if r.packet.header_ok)
                if self.counted_sctp >= self.count:
                    self.stopped_by = self.stopped_by or "count"
                    out.flush(force=True)
                    return True
        return False

    # -- the analysis thread ----------------------------------------------------------------------------------------
    def _analysis_loop(self) -> None:
        try:
            self._analyse()
        except BaseException as exc:      # noqa: BLE001
            self.error = self.error or SctpscopeError(f"analysis stopped: {type(exc).__name__}: {exc}")
            self.stop("error")
        finally:
            self._analysis_done.set()

    def _analyse(self) -> None:
        decoder = FrameDecoder(self.ports, verify_checksum=self.verify)
        analysis = Analysis(self.path_max_retrans)
        index = self.index
        members = None
        file_index = 0
        ann = None
        matched: set = set()
        if self.flt is not None:
            from sctpscope.filter import Annotator

            ann = Annotator(analysis)
        elif index is not None:
            members = analysis.members = []
        flt = self.flt
        offset = 0
        cur: OutputFile | None = None
        stream = info = None
        got = 0
        next_snap = time.monotonic()
        snap_cost = 0.0
        while not self._abandon.is_set():
            if cur is None:
                with self._lock:
                    cur = self._files.popleft() if self._files else None
                if cur is None:
                    if self._capture_done.is_set():
                        break
                    self._data.wait(0.2)
                    self._data.clear()
                    continue
                stream = PcapngStream()
                info = CaptureInfo(path=cur.path, format="pcapng")
                self.infos.append(info)
                if index is not None:
                    file_index = index.add_file(cur.path)
                got = 0
                if cur.read_fd is None:
                    try:
                        cur.read_fd = os.open(cur.path, os.O_RDONLY)
                    except OSError as exc:
                        info.problems.append(Problem("capture.read_error", "pcapng", 0, detail=str(exc)))
                        cur = None
                        continue
            self._data.clear()
            try:
                data = os.read(cur.read_fd, 1 << 20)
            except OSError as exc:
                info.problems.append(Problem("capture.read_error", "pcapng", got, detail=str(exc)))
                data = b""
                cur.final_size = got
            if data:
                got += len(data)
                try:
                    frames = stream.feed(data)
                except StreamError as exc:
                    info.problems.append(Problem("capture.corrupt_block", "pcapng", stream.bytes, detail=str(exc)))
                    frames = []
                    cur.final_size = got
                for (frame, _ns), where in zip(frames, stream.offsets):
                    number = offset + frame.number
                    d = decoder.decode(number, frame.ts, frame.linktype, frame.data, frame.orig_len)
                    if index is not None:
                        index.add_frame(number, file_index, where, len(frame.data), frame.ts, frame.linktype,
                                        frame.orig_len)
                    info.packets += 1
                    for rec in d.sctp:
                        if rec.packet.header_ok:
                            info.sctp_packets += 1
                    if info.first_ts is None:
                        info.first_ts = frame.ts
                    info.last_ts = frame.ts
                    if ann is not None:
                        ctxs = ann.add(d)
                        for c in ctxs:
                            if not c.quoted and c.record.packet.header_ok and flt.match(c):
                                self.matched_packets += 1
                                if c.assoc is not None:
                                    matched.add(c.assoc)
                        if index is not None:
                            index.note_contexts(d, ctxs)
                    else:
                        analysis.add(d)
                        if members:
                            index.note(d, members)
                            members.clear()
                    self.analysed += 1
                    self.sctp_packets += sum(1 for r in d.sctp if r.packet.header_ok)
                self.associations = len(analysis.associations)
            else:
                size = cur.final_size
                if size is not None and got >= size:
                    # the file is complete: on to the next one
                    info.link_types = [linktype_name(lt) for lt in stream.link_types]
                    if stream.pending():
                        info.problems.append(Problem("capture.truncated_record", "pcapng", stream.bytes,
                                                     None, stream.pending(), "block cut short"))
                    offset += stream.number
                    try:
                        os.close(cur.read_fd)
                    except OSError:
                        pass
                    cur.read_fd = None
                    cur = None
                    continue
                if not self.snapshots:
                    self._data.wait(0.2)
                    continue
            if self.snapshots and time.monotonic() >= next_snap:
                t = time.monotonic()
                info.link_types = [linktype_name(lt) for lt in stream.link_types]
                self._publish(analysis, matched if ann is not None else None)
                snap_cost = time.monotonic() - t
                # at most a fifth of the time goes into snapshots, however many associations there are
                next_snap = time.monotonic() + max(SNAPSHOT_INTERVAL, 4 * snap_cost)
            if not data:
                self._data.wait(max(0.0, min(0.2, next_snap - time.monotonic())) if self.snapshots else 0.2)
        if self._abandon.is_set():
            return
        if cur is not None and cur.read_fd is not None:
            os.close(cur.read_fd)
        # the end: the same document as `sctpscope report [--filter EXPR] FILE...`
        from sctpscope.report.document import build_report

        if ann is not None:
            ann.finish()
            ids = {ann.report_id(a) for a in matched}
        else:
            analysis.finish()
        dicts = analysis.association_dicts()
        doc = build_report(self.infos, analysis.totals, dicts, analysis.unassociated())
        if index is not None:
            index.fold(analysis.associations, analysis.resolve)
            keyed = {d["id"]: dict(d, **{KEY: index.key(a)}) for a, d in zip(analysis.associations, dicts)}
        if ann is not None:
            doc["associations"] = [a for a in doc["associations"] if a["id"] in ids]
            doc["servers"] = [s for s in doc.get("servers", []) if ids.intersection(s["associations"])]
        self.associations = len(doc["associations"])
        self.document = doc
        self._generation += 1
        shown = [keyed[a["id"]] for a in doc["associations"]] if index is not None else doc["associations"]
        self.latest = LiveSnapshot(self._generation,
                                   Result([replace(i, problems=list(i.problems)) for i in self.infos],
                                          analysis.totals, shown, analysis.unassociated_packets,
                                          Counter(analysis.unassociated_chunks)),
                                   self.matched_packets if ann is not None else None, final=True)

    def _publish(self, analysis: Analysis, matched: set | None) -> None:
        index = self.index
        if index is not None:
            index.fold(analysis.associations, analysis.resolve)
        assocs = analysis.snapshot()
        if index is not None:
            for a, d in zip(analysis.associations, assocs):
                d[KEY] = index.key(a)
        if matched is not None:
            ids = {a.id for a in matched}
            assocs = [a for a in assocs if a["id"] in ids]
        infos = [replace(i, problems=list(i.problems)) for i in self.infos]
        if index is not None:
            index.infos = infos
        self._generation += 1
        self.latest = LiveSnapshot(self._generation,
                                   Result(infos,
                                          _copy_totals(analysis.totals), assocs, analysis.unassociated_packets,
                                          Counter(analysis.unassociated_chunks)),
                                   self.matched_packets if matched is not None else None)

    # -- the report ----------------------------------------------------------------------------------------------
    def report(self) -> dict:
        """The final document (after ``wait()``): the contract document of the files written, plus ``live``."""
        if self.document is None:
            raise RuntimeError("the session has not finished its analysis")
        doc = dict(self.document)
        doc["live"] = self.live_section()
        return doc

    def live_section(self) -> dict:
        st = self.status()
        return {
            "interface": st.interface,
            "engine": st.engine,
            "link_type": st.link_type,
            "started": self.started,
            "duration": round(st.elapsed, 6),
            "captured_packets": st.packets,
            "captured_bytes": st.bytes,
            "kernel": {"received": st.kernel.received, "dropped": st.kernel.dropped,
                       "ring_full": st.kernel.frozen},
            "files": [f.as_dict() for f in self.output.files],
            "filter": self.flt.expression if self.flt is not None else None,
            "matched_packets": self.matched_packets if self.flt is not None else None,
            "stopped_by": st.stopped_by,
            "error": st.error,
        }
