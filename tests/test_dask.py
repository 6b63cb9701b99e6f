"""`report --dask ADDRESS` on a real dask.distributed cluster started here: a `dask scheduler` and two
`dask worker` processes on localhost (stopped by their PIDs at the end, whatever happens). The cluster's
report equals the one-process report; an unreachable scheduler and a file the workers cannot read are one
line each and a non-zero exit, never a traceback and never a local run."""
from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from conftest import CAPTURES, run_sctpscope

pytest.importorskip("distributed", reason="dask.distributed is not installed (pip install -e '.[test]')")

DASK = Path(sys.executable).with_name("dask")
if not DASK.exists():
    DASK = Path(shutil.which("dask") or DASK)


def _stop(procs: list[subprocess.Popen]) -> None:
    for p in procs:
        if p.poll() is None:
            p.send_signal(signal.SIGTERM)
    deadline = time.monotonic() + 10
    for p in procs:
        try:
            p.wait(timeout=max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            p.kill()
            p.wait()


@pytest.fixture(scope="module")
def cluster(tmp_path_factory):
    """(address, [scheduler, worker, worker] processes): two single-thread workers."""
    if not DASK.exists():
        pytest.skip("the `dask` command is not installed")
    tmp = tmp_path_factory.mktemp("dask")
    sched_file = tmp / "scheduler.json"
    procs: list[subprocess.Popen] = []
    env = {**os.environ, "DASK_DISTRIBUTED__WORKER__DAEMON": "False"}
    try:
        procs.append(subprocess.Popen([str(DASK), "scheduler", "--host", "127.0.0.1", "--port", "0",
                                       "--no-dashboard", "--scheduler-file", str(sched_file)],
                                      stdout=subprocess.DEVNULL, stderr=(tmp / "scheduler.log").open("w"),
                                      env=env, cwd=tmp))
        deadline = time.monotonic() + 60
        while not sched_file.exists() or not sched_file.read_text().strip():
            assert procs[0].poll() is None, (tmp / "scheduler.log").read_text()
            assert time.monotonic() < deadline, "the dask scheduler did not start"
            time.sleep(0.2)
        time.sleep(0.2)
        address = json.loads(sched_file.read_text())["address"]
        for k in range(2):
            procs.append(subprocess.Popen([str(DASK), "worker", address, "--nthreads", "1", "--no-nanny",
                                           "--no-dashboard", "--local-directory", str(tmp / f"w{k}")],
                                          stdout=subprocess.DEVNULL, stderr=(tmp / f"worker{k}.log").open("w"),
                                          env=env, cwd=tmp))
        from distributed import Client

        with Client(address, timeout=30, set_as_default=False) as client:
            client.wait_for_workers(2, timeout=90)
            assert sum(client.nthreads().values()) == 2
        yield address, procs
    finally:
        _stop(procs)


def _json(proc) -> dict:
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout)


CASES = ["scenario__many_assocs.pcapng", "scenario__ngap_many_gnbs.pcapng", "scenario__m3ua_pair.pcapng",
         "pkts__sctp-www.cap", "usrsctp__tsctp_ipfrag_udpencap.pcapng", "pkts__sctp_init_collision.cap",
         "scenario__multihoming_failover.pcapng", "usrsctp__tsctp_ipv4.pcapng"]


@pytest.mark.parametrize("name", CASES)
def test_cluster_report_equals_one_process(cluster, name):
    address, _ = cluster
    path = CAPTURES / name
    local = _json(run_sctpscope("report", path, "-j", "1", "--json"))
    proc = run_sctpscope("report", path, "--dask", address, "--json", "-v")
    remote = _json(proc)
    assert remote == local          # captures[] too: the workers read the same files
    note = proc.stderr.strip()
    assert note.startswith(f"sctpscope: dask {address}: 2 worker thread(s);"), proc.stderr
    if name == "scenario__many_assocs.pcapng":
        assert "; 2 workers:" in note       # both workers had a share: the results were merged
    if name == "usrsctp__tsctp_ipv4.pcapng":   # one association: one task, the other thread would only read
        assert "; 1 worker(s) of 2 worker threads: the busiest port pair carries 100 %" in note


def test_cluster_report_of_a_set_and_with_jobs(cluster):
    """Several files read on the cluster as one capture; -j 3 asks for three shares of two threads."""
    address, _ = cluster
    files = [CAPTURES / "scenario__many_assocs.pcapng", CAPTURES / "scenario__ngap_many_gnbs.pcapng"]
    local = _json(run_sctpscope("report", *files, "-j", "1", "--json"))
    proc = run_sctpscope("report", *files, "--dask", address, "-j", "3", "--json", "-v")
    assert _json(proc) == local
    assert "3 workers as asked" in proc.stderr


def test_worker_that_cannot_read_a_file_is_one_error(cluster, tmp_path):
    address, _ = cluster
    missing = tmp_path / "nowhere.pcapng"
    proc = run_sctpscope("report", missing, "--dask", address, "--json")
    assert proc.returncode == 2 and proc.stdout == ""
    assert proc.stderr == f"sctpscope: dask: a worker could not read the capture: capture: {missing}: no such file\n"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_unreachable_scheduler_is_one_line_and_no_local_run():
    address = f"tcp://127.0.0.1:{_free_port()}"
    t0 = time.monotonic()
    proc = run_sctpscope("report", CAPTURES / "pkts__sctp-test.cap", "--dask", address, "--json")
    assert time.monotonic() - t0 < 30
    assert proc.returncode == 2 and proc.stdout == ""       # no report: nothing ran locally instead
    lines = proc.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith(f"sctpscope: dask: cannot reach the scheduler at {address}: ")
    bad = run_sctpscope("report", CAPTURES / "pkts__sctp-test.cap", "--dask", "nonsense")
    assert bad.returncode == 2 and bad.stdout == "" and "Traceback" not in bad.stderr
    assert bad.stderr.splitlines() == ["sctpscope: dask: 'nonsense' is not a scheduler address (tcp://HOST:PORT): "
                                       "missing port number in address 'nonsense'"]


def test_a_pipe_is_refused_before_connecting():
    """Workers read files by path: standard input or a device is an error at once (no scheduler asked)."""
    proc = run_sctpscope("report", "/dev/null", "--dask", "tcp://127.0.0.1:9")
    assert proc.returncode == 2 and proc.stdout == ""
    assert proc.stderr == "sctpscope: dask: /dev/null: the workers read files by path: not a pipe or a device\n"
