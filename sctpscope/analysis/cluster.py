"""`report --dask ADDRESS`: the port-pair partitions of the local runner (analysis.runner) run as tasks on
an existing dask.distributed cluster, and their results merge exactly as the local workers' do
(runner.merge).

The files are read by path on the workers (a shared filesystem: the same paths everywhere); the client
reads none of them. The first task checks the inputs and samples the port pairs on a worker, to plan the
partitions (runner.plan_workers' rules); then one task per partition runs runner.analyse_part. There are
as many partitions as the cluster has worker threads (or -j N), fewer when the sampled port-pair loads
cannot use them (runner.usable_workers). An unreachable scheduler, a cluster without workers, a worker
that cannot read a file: one SctpscopeError each, never a local run instead.
"""

from __future__ import annotations

import os
from collections.abc import Sequence

from sctpscope.analysis.runner import (PLAN_SAMPLE_FRAMES, Result, analyse_part, merge, plan, usable_workers)
from sctpscope.errors import SctpscopeError
from sctpscope.pipeline import check_inputs, sample_port_keys
from sctpscope.text import escape_text

#: seconds to reach the scheduler before giving up (an unreachable one is an error, not a hang)
CONNECT_TIMEOUT = 5.0


class ClusterError(SctpscopeError):
    title = "dask"


def _sample_on_worker(files: Sequence[str], limit: int, ports: tuple[int, ...]) -> dict[int, int]:
    """Task: check the inputs where they are read and count the sampled port pairs."""
    check_inputs(files)
    return sample_port_keys(files, limit, ports)


def _task_error(exc: BaseException, what: str) -> ClusterError:
    """One line for a task that failed on a worker: its own message for sctpscope's errors (a file the
    worker cannot read), the exception's type and message otherwise."""
    if isinstance(exc, SctpscopeError):
        return ClusterError(f"a worker could not {what}: {escape_text(str(exc))}")
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
    return ClusterError(f"a worker could not {what}: {type(exc).__name__}" + (f": {escape_text(text)}" if text else ""))


def connect(address: str, timeout: float = CONNECT_TIMEOUT):
    """A distributed.Client on the scheduler at `address`; ClusterError when dask is missing or the
    scheduler cannot be reached within `timeout` seconds."""
    try:
        import logging

        from distributed import Client
    except ImportError:
        raise ClusterError("--dask needs dask.distributed: pip install 'sctpscope[dask]'") from None
    # a failed connection is reported once, by us: distributed's own log lines would repeat it
    for name in ("distributed", "distributed.client", "distributed.comm", "distributed.core"):
        logging.getLogger(name).setLevel(logging.CRITICAL)
    try:
        from distributed.comm import parse_address, parse_host_port

        scheme, where = parse_address(address)     # a bad address fails here, before any Client exists
        if scheme in ("tcp", "tls", "ws", "wss"):
            parse_host_port(where)
    except Exception as exc:  # noqa: BLE001
        raise ClusterError(f"{escape_text(repr(address))} is not a scheduler address (tcp://HOST:PORT): "
                           f"{escape_text(str(exc))}") from None
    try:
        return Client(address, timeout=timeout, set_as_default=False)
    except Exception as exc:  # noqa: BLE001 - OSError, TimeoutError, ValueError (a bad address) ...
        reason = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise ClusterError(f"cannot reach the scheduler at {escape_text(address)}: {escape_text(reason)}") from None


def analyse_dask(files: Sequence[str], address: str, *, sctp_udp_ports: tuple[int, ...] = (9899,),
                 verify: bool = True, jobs: int | None = None, path_max_retrans: int = 5,
                 notes: list[str] | None = None, timeout: float = CONNECT_TIMEOUT) -> Result:
    """The report's Result, computed by the cluster at `address` (see the module's description)."""
    for f in files:
        if os.path.exists(f) and not os.path.isfile(f):
            raise ClusterError(f"{escape_text(str(f))}: the workers read files by path: not a pipe or a device")
    paths = [os.path.abspath(f) for f in files]
    client = connect(address, timeout)
    try:
        threads = sum(client.nthreads().values())
        if not threads:
            raise ClusterError(f"the cluster at {address} has no worker")
        requested = jobs if jobs is not None else threads
        try:
            counts = client.submit(_sample_on_worker, paths, PLAN_SAMPLE_FRAMES, sctp_udp_ports,
                                   pure=False).result()
        except Exception as exc:  # noqa: BLE001 - whatever the task raised, on the worker
            raise _task_error(exc, "read the capture") from None
        n, why = usable_workers(counts, max(1, requested), jobs is not None, "worker threads")
        if notes is not None:
            notes.append(f"dask {address}: {threads} worker thread(s); {why}")
        owners = plan(counts, n) if n > 1 else {}
        futures = [client.submit(analyse_part, paths, sctp_udp_ports, verify, (k, n, owners) if n > 1 else None,
                                 path_max_retrans, pure=False) for k in range(n)]
        try:
            parts = client.gather(futures)
        except Exception as exc:  # noqa: BLE001
            raise _task_error(exc, "analyse the capture") from None
    finally:
        try:
            client.close(timeout=timeout)
        except Exception:  # noqa: BLE001 - closing a client of a cluster that went away
            pass
    res = merge(parts) if len(parts) > 1 else parts[0]
    for info, given in zip(res.infos, files):    # the paths as given, as the local runner reports them
        info.path = str(given)
    return res
