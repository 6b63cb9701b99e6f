"""Run the analysis over capture files, on several cores when the capture is large, and merge the parts.

Each worker reads the whole capture but decodes and analyses only the SCTP packets whose port pair it owns
(decode.frame.Partition): whole associations land in one worker, so the parts merge exactly, by adding
counters and concatenating associations in order of their first frame. The busiest port pairs of a sample
of the capture are dealt out so that the workers' loads balance (`plan`): a hash alone leaves one worker
with most of the work when a few port pairs carry most packets (SIGTRAN peers on 2905-2905, say).
"""

from __future__ import annotations

import os
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field

from sctpscope.analysis.association import restart_detail
from sctpscope.analysis.totals import Totals
from sctpscope.analysis.tracker import Analysis
from sctpscope.decode.sctp import chunk_name
from sctpscope.decode.frame import Partition
from sctpscope.pipeline import CaptureInfo, check_inputs, decode_files, sample_port_keys

PARALLEL_MIN_BYTES = 16 * 1024 * 1024   # below this, starting workers costs more than it saves
PLAN_SAMPLE_FRAMES = 65536               # frames sampled to balance the workers' shares


@dataclass
class Result:
    """What a (partial) analysis yields: per-file info, totals, finished associations, out-of-the-blue counts."""

    infos: list[CaptureInfo]
    totals: Totals
    associations: list[dict]
    unassociated_packets: int = 0
    unassociated_chunks: Counter = field(default_factory=Counter)

    def unassociated(self) -> dict:
        return {"packets": self.unassociated_packets,
                "chunks": {chunk_name(t): n for t, n in sorted(self.unassociated_chunks.items())}}


def analyse_part(files: Sequence[str], sctp_udp_ports: tuple[int, ...], verify: bool,
                 partition: tuple[int, int, dict[int, int]] | None = None, path_max_retrans: int = 5,
                 stream: bool = False) -> Result:
    """One worker's share: `partition` = (this worker, workers, planned owners of port pairs); None: all.
    (A plain tuple crosses to the worker process: compiled classes do not pickle.)"""
    infos: list[CaptureInfo] = []
    analysis = Analysis(path_max_retrans)
    part = Partition(*partition) if partition is not None else None
    analysis.add_all(decode_files(files, infos, sctp_udp_ports=sctp_udp_ports, verify_checksum=verify,
                                  partition=part))
    analysis.totals.packets += sum(i.skipped for i in infos)     # frames another worker owns, counted unread
    analysis.finish()
    totals, packets, chunks = analysis.totals, analysis.unassociated_packets, analysis.unassociated_chunks
    # Each association's state is let go once its dict is built (the analysis and its maps first): the peak
    # is then the larger of the two, not their sum (100,000 associations: README, Memory).
    assocs = analysis.associations
    del analysis
    dicts = OneByOne(assocs)
    if not stream:
        dicts = list(dicts)             # type: ignore[assignment]
    return Result(infos, totals, dicts, packets, chunks)


class OneByOne:
    """The association dicts of a finished analysis, built one at a time as they are iterated (once), each
    association's state let go as its dict is made: `report --json` writes them as they come
    (export.formats.write_report_json), so neither all dicts nor all states are ever held with the other."""

    def __init__(self, associations: list) -> None:
        self.n = len(associations)
        associations.reverse()
        self._left = associations

    def __len__(self) -> int:
        return self.n

    def __iter__(self):
        left = self._left
        while left:
            yield left.pop().as_dict()


def merge(parts: Sequence[Result]) -> Result:
    """Combine the results of workers that split the SCTP packets of one capture by port pair.

    Part 0 also holds the frame-level counts (every frame, link/IP problems, ICMP quotes); the other parts
    contribute only their own SCTP packets.
    """
    lead = parts[0]
    totals = lead.totals
    infos = lead.infos
    entries = []
    for k, part in enumerate(parts):
        if k:
            part.totals.packets = 0
            totals.merge(part.totals)
            for mine, theirs in zip(infos, part.infos):
                mine.sctp_packets += theirs.sctp_packets
        entries.extend((a["first_frame"], k, a["id"], a) for a in part.associations)
    entries.sort(key=lambda e: e[:3])
    new_id = {(k, old): i for i, (_, k, old, _) in enumerate(entries, 1)}
    associations = []
    for _, k, old, a in entries:
        a["id"] = new_id[(k, old)]
        if a.get("restart_of") is not None:
            a["restart_of"] = new_id.get((k, a["restart_of"]))
            for x in a["anomalies"]:
                if x["kind"] == "restart":
                    x["detail"] = restart_detail(a["restart_of"])
        for ev in a["events"]:
            if "new_association" in ev:
                ev["new_association"] = new_id.get((k, ev["new_association"]))
        associations.append(a)
    unassoc = Counter()
    for part in parts:
        unassoc.update(part.unassociated_chunks)
    return Result(infos, totals, associations, sum(p.unassociated_packets for p in parts), unassoc)


def plan(counts: dict[int, int], parts: int) -> dict[int, int]:
    """Deal the sampled port pairs out to `parts` workers, busiest first, each to the least loaded worker
    (longest-processing-time first); pairs not in the sample are hashed (Partition.owner)."""
    loads = [0] * parts
    owners: dict[int, int] = {}
    for key, n in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0])):
        w = min(range(parts), key=lambda i: (loads[i], i))
        owners[key] = w
        loads[w] += n
    return owners


def cores() -> int:
    """The cores this process may run on."""
    return max(1, len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1)


def default_jobs(files: Sequence[str]) -> int:
    """One worker per core for large regular files; one for small files, pipes and stdin (the planner,
    `usable_workers`, may then use fewer)."""
    size = 0
    for f in files:
        try:
            st = os.stat(f)
        except OSError:
            return 1
        if not os.path.isfile(f):
            return 1
        size += st.st_size
    if size < PARALLEL_MIN_BYTES:
        return 1
    return cores()


#: a worker is worth starting while the busiest port pair carries at most about 1/N of the packets: with
#: this slack, a pair of 36 % still lets 3 workers run (each worker reads the whole capture, so a worker
#: that would wait on the busiest pair's worker only adds reading)
PLAN_SLACK = 1.1


def usable_workers(counts: dict[int, int], requested: int, explicit: bool, unit: str = "cores") -> tuple[int, str]:
    """How many of `requested` workers the sampled port-pair loads (`counts`, sample_port_keys) can use,
    and why, in words. Port pairs are never split, so the busiest pair's worker sets the pace: the
    default uses N workers only when that pair carries at most about 1/N of the sampled packets (down to
    one). An explicit -j N is honoured, capped to the number of port pairs found (a worker with no pair
    would only read the capture). `unit`: what `requested` counts, in the words of the reason."""
    total = sum(counts.values())
    pairs = len(counts)
    if requested <= 1:
        return 1, "one worker"
    if not total:
        return 1, f"one worker (of {requested}): no SCTP port pair in the sample"
    if explicit:
        n = max(1, min(requested, pairs))
        if n < requested:
            return n, (f"{n} worker(s) of the {requested} asked: the sample has {pairs} port pair(s), and a "
                       "port pair is never split")
        return n, f"{n} workers as asked ({pairs} port pairs in the sample)"
    busiest = max(counts.values())
    share = busiest / total
    n = max(1, min(requested, pairs, int(PLAN_SLACK * total / busiest)))
    why = (f"the busiest port pair carries {100 * share:.0f} % of the {total} sampled SCTP packets "
           f"({pairs} port pair(s))")
    if n < requested:
        return n, f"{n} worker(s) of {requested} {unit}: {why}, and a port pair is never split"
    return n, f"{n} workers: {why}"


def analyse(files: Sequence[str], *, sctp_udp_ports: tuple[int, ...] = (9899,), verify: bool = True,
            jobs: int | None = None, path_max_retrans: int = 5, notes: list[str] | None = None,
            stream: bool = False) -> Result:
    """Analyse the files as one capture, with `jobs` worker processes (default: see default_jobs), fewer
    when the sampled port-pair loads cannot use them (usable_workers; the reason is appended to `notes`).
    `stream`: in one process, `associations` is a OneByOne (dicts made as iterated, once) instead of a list."""
    check_inputs(files)
    n = default_jobs(files) if jobs is None else max(1, jobs)
    if n > 1:
        n, owners = plan_workers(files, n, jobs is not None, sctp_udp_ports, notes)
    elif notes is not None:
        notes.append("one worker" + (" (a small capture)" if jobs is None else ""))
    if n == 1:
        return analyse_part(files, sctp_udp_ports, verify, None, path_max_retrans, stream)
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    ctx = multiprocessing.get_context("fork")
    with ProcessPoolExecutor(max_workers=n - 1, mp_context=ctx) as pool:
        futures = [pool.submit(analyse_part, files, sctp_udp_ports, verify, (k, n, owners), path_max_retrans)
                   for k in range(1, n)]
        parts = [analyse_part(files, sctp_udp_ports, verify, (0, n, owners), path_max_retrans)]
        parts.extend(f.result() for f in futures)
    return merge(parts)


def plan_workers(files: Sequence[str], requested: int, explicit: bool, sctp_udp_ports: tuple[int, ...],
                 notes: list[str] | None = None) -> tuple[int, dict[int, int]]:
    """(workers, owners of the sampled port pairs) for `requested` workers over the files."""
    counts = sample_port_keys(files, PLAN_SAMPLE_FRAMES, sctp_udp_ports)
    n, why = usable_workers(counts, requested, explicit)
    if notes is not None:
        notes.append(why)
    return n, (plan(counts, n) if n > 1 else {})
