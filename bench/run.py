#!/usr/bin/env python3
"""Benchmark `sctpscope report --json` against tshark on synthetic captures.

    python bench/run.py [--packets 1000000] [--keep] [--cmd "python -m sctpscope"] [--repeat 3]

Builds (or reuses) captures of N/4 and N packets in /tmp with bench/make_capture.py, then, in the
same run, times every command `--repeat` times on both (median wall time) and records the peak
RSS of each child process (ru_maxrss from os.wait4, per child, not a RUSAGE_CHILDREN aggregate):

  sctpscope  <cmd> report --json FILE > /dev/null                  (decode + count, CRC32c on)
  tshark     tshark -n -q -r FILE -z sctp,stat
  tshark -2  tshark -2 -n -q -r FILE -o sctp.association_index:TRUE -z sctp,stat

Prints a Markdown table, the tshark/sctpscope time ratios and sctpscope's RSS at N/4 vs N (it
must stay flat: the report streams), and writes everything to bench/results/latest.json.
Commands run with cwd = the repository root, so `python -m sctpscope` imports the working tree.
If sctpscope does not run (yet), that is reported and tshark is still timed.
"""

from __future__ import annotations

import argparse
import datetime as _dt
import json
import os
import platform
import shlex
import statistics
import subprocess
import sys
import tempfile
import time

BENCH = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(BENCH)
MAKE_CAPTURE = os.path.join(BENCH, "make_capture.py")
RESULTS = os.path.join(BENCH, "results", "latest.json")


def log(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


# ----------------------------------------------------------------------------------------------
# captures
# ----------------------------------------------------------------------------------------------

def capture(packets: int, seed: int, associations: int, tmpdir: str) -> tuple[str, dict, bool]:
    """-> (pcap path, generator stats, reused).  Reuses a capture made with the same parameters."""
    base = os.path.join(tmpdir, f"sctpscope-bench-{packets}-a{associations}-s{seed}")
    pcap, stats = base + ".pcap", base + ".stats.json"
    gen_mtime = os.path.getmtime(MAKE_CAPTURE)
    if os.path.exists(pcap) and os.path.exists(stats) and os.path.getmtime(pcap) >= gen_mtime:
        with open(stats) as f:
            st = json.load(f)
        if st.get("packets") == packets and st.get("file_bytes") == os.path.getsize(pcap):
            return pcap, st, True
    log(f"building {pcap} ({packets:,} packets)...")
    subprocess.run([sys.executable, MAKE_CAPTURE, "-n", str(packets), "-o", pcap, "--seed", str(seed),
                    "--associations", str(associations), "--stats-json", stats, "-q"], check=True)
    with open(stats) as f:
        return pcap, json.load(f), False


# ----------------------------------------------------------------------------------------------
# measuring one child
# ----------------------------------------------------------------------------------------------

def run_once(argv: list[str], timeout: float, stdout=subprocess.DEVNULL) -> dict:
    """Run argv (cwd=REPO); wall seconds, peak RSS (KiB, ru_maxrss of that child), exit status."""
    with tempfile.TemporaryFile() as err:
        t0 = time.perf_counter()
        p = subprocess.Popen(argv, cwd=REPO, stdin=subprocess.DEVNULL, stdout=stdout, stderr=err)
        deadline = t0 + timeout
        while True:
            pid, status, ru = os.wait4(p.pid, os.WNOHANG)
            if pid:
                break
            if time.perf_counter() > deadline:
                p.kill()
                pid, status, ru = os.wait4(p.pid, 0)
                status = -1
                break
            time.sleep(0.005)
        wall = time.perf_counter() - t0
        p.returncode = os.waitstatus_to_exitcode(status) if status != -1 else -9   # keep Popen quiet
        err.seek(0)
        tail = err.read()[-4000:].decode(errors="replace")
    return {"seconds": wall, "maxrss_kib": ru.ru_maxrss, "rc": p.returncode, "timed_out": status == -1,
            "stderr_tail": tail}


def preflight_sctpscope(cmd: list[str], pcap: str, timeout: float) -> tuple[bool, str]:
    """Does `<cmd> report --json FILE` run and print JSON?"""
    try:
        with tempfile.TemporaryFile() as out:
            r = run_once(cmd + ["report", "--json", pcap], timeout, stdout=out)
            out.seek(0)
            text = out.read()
    except OSError as e:
        return False, f"cannot start {shlex.join(cmd)}: {e}"
    if r["timed_out"]:
        return False, f"timed out after {timeout:.0f} s on {pcap}"
    if r["rc"] != 0:
        return False, f"exit status {r['rc']}: {r['stderr_tail'].strip()[-1500:]}"
    try:
        json.loads(text)
    except ValueError as e:
        return False, f"exit 0 but stdout is not JSON ({e}): {text[:300]!r}"
    return True, "ok"


def median_run(name: str, argv: list[str], repeat: int, timeout: float) -> dict:
    runs = []
    for i in range(repeat):
        r = run_once(argv, timeout)
        runs.append(r)
        log(f"  {name:10s} run {i + 1}/{repeat}: {r['seconds']:7.2f} s  {r['maxrss_kib'] / 1024:7.1f} MiB"
            + ("" if r["rc"] == 0 else f"  exit {r['rc']}") + ("  TIMEOUT" if r["timed_out"] else ""))
        if r["rc"] != 0:
            break
    ok = all(r["rc"] == 0 for r in runs)
    secs = [r["seconds"] for r in runs]
    return {
        "argv": argv,
        "ok": ok,
        "runs_seconds": [round(s, 3) for s in secs],
        "median_seconds": round(statistics.median(secs), 3),
        "runs_maxrss_mib": [round(r["maxrss_kib"] / 1024, 1) for r in runs],
        "peak_rss_mib": round(max(r["maxrss_kib"] for r in runs) / 1024, 1),
        "error": None if ok else (runs[-1]["stderr_tail"].strip()[-1500:] or f"exit {runs[-1]['rc']}"),
    }


# ----------------------------------------------------------------------------------------------
# host description
# ----------------------------------------------------------------------------------------------

def host_info(tshark: str) -> dict:
    cpu = platform.processor() or ""
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    cpu = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    mem = None
    try:
        with open("/proc/meminfo") as f:
            mem = round(int(f.readline().split()[1]) / 2**20, 1)
    except (OSError, ValueError, IndexError):
        pass
    try:
        tv = subprocess.run([tshark, "--version"], capture_output=True, text=True).stdout.splitlines()[0]
    except (OSError, IndexError):
        tv = None
    return {"cpu": cpu, "cpus": os.cpu_count(), "affinity_cpus": len(os.sched_getaffinity(0)),
            "mem_gib": mem, "python": sys.version.split()[0], "platform": platform.platform(),
            "tshark": tv}


# ----------------------------------------------------------------------------------------------

def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--packets", type=int, default=1_000_000, help="N: captures of N/4 and N packets")
    ap.add_argument("--keep", action="store_true", help="keep the captures in --tmpdir for the next run")
    ap.add_argument("--cmd", default="python -m sctpscope",
                    help='sctpscope command prefix (default "python -m sctpscope"; "python" = this interpreter)')
    ap.add_argument("--tshark", default="tshark")
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--associations", type=int, default=50)
    ap.add_argument("--tmpdir", default="/tmp")
    ap.add_argument("--timeout", type=float, default=1800, help="per-run timeout, seconds")
    ap.add_argument("--no-tshark", action="store_true", help="time sctpscope only")
    ap.add_argument("--output", default=RESULTS, help="results JSON (default bench/results/latest.json)")
    args = ap.parse_args(argv)

    cmd = shlex.split(args.cmd)
    if cmd and cmd[0] in ("python", "python3"):
        cmd[0] = sys.executable
    sizes = [max(40, args.packets // 4), args.packets]

    caps = []
    made = []
    for n in sizes:
        path, st, reused = capture(n, args.seed, args.associations, args.tmpdir)
        caps.append((n, path, st))
        if not reused:
            made.append(path)
        log(f"{'reusing' if reused else 'built'} {path}: {st['packets']:,} packets, "
            f"{st['file_bytes'] / 2**20:.1f} MiB, {st['associations']} associations")

    # Is sctpscope there?  Try it on a small capture first, so a missing CLI costs seconds.
    probe, _, probe_reused = capture(1000, args.seed, args.associations, args.tmpdir)
    sctp_ok, sctp_msg = preflight_sctpscope(cmd, probe, min(args.timeout, 120))
    if not probe_reused:
        made.append(probe)
    if sctp_ok:
        log(f"sctpscope: {shlex.join(cmd)} report --json works")
    else:
        log(f"*** sctpscope does not run: {shlex.join(cmd)} report --json {probe}\n*** {sctp_msg}\n"
            f"*** timing tshark only")

    commands = []
    if sctp_ok:
        commands.append(("sctpscope", lambda f: cmd + ["report", "--json", f]))
    if not args.no_tshark:
        commands.append(("tshark", lambda f: [args.tshark, "-n", "-q", "-r", f, "-z", "sctp,stat"]))
        commands.append(("tshark -2", lambda f: [args.tshark, "-2", "-n", "-q", "-r", f, "-o",
                                                  "sctp.association_index:TRUE", "-z", "sctp,stat"]))

    results = []
    for n, path, st in caps:
        with open(path, "rb") as f:          # warm the page cache: measure decoding, not the disk
            while f.read(1 << 24):
                pass
        for name, mk in commands:
            log(f"{name} on {n:,} packets:")
            r = median_run(name, mk(path), args.repeat, args.timeout)
            r.update(name=name, packets=n, capture=path,
                     packets_per_second=round(n / r["median_seconds"]) if r["ok"] else None)
            results.append(r)

    def get(name, n):
        return next((r for r in results if r["name"] == name and r["packets"] == n and r["ok"]), None)

    ratios = {}
    for n in sizes:
        s = get("sctpscope", n)
        for t in ("tshark", "tshark -2"):
            tr = get(t, n)
            if s and tr:
                ratios[f"{t} / sctpscope @ {n}"] = round(tr["median_seconds"] / s["median_seconds"], 2)
    rss = None
    s_small, s_big = get("sctpscope", sizes[0]), get("sctpscope", sizes[1])
    if s_small and s_big:
        rss = {"packets": sizes, "peak_rss_mib": [s_small["peak_rss_mib"], s_big["peak_rss_mib"]],
               "ratio_N_over_N4": round(s_big["peak_rss_mib"] / s_small["peak_rss_mib"], 2)}

    # ---- report --------------------------------------------------------------------------------
    lines = ["| command | packets | median s | packets/s | peak RSS MiB | runs (s) |",
             "|---|---:|---:|---:|---:|---|"]
    for r in results:
        if r["ok"]:
            lines.append(f"| {r['name']} | {r['packets']:,} | {r['median_seconds']:.2f} | "
                         f"{r['packets_per_second']:,} | {r['peak_rss_mib']:.1f} | "
                         f"{', '.join(f'{x:.2f}' for x in r['runs_seconds'])} |")
        else:
            lines.append(f"| {r['name']} | {r['packets']:,} | FAILED | | | {r['error'][:80]!r} |")
    out = ["", "\n".join(lines), ""]
    if not sctp_ok:
        out.append(f"**sctpscope not measured**: `{shlex.join(cmd)} report --json FILE` failed: {sctp_msg[:500]}")
        out.append("")
    if ratios:
        out.append("Speed ratio (tshark time / sctpscope time; > 1 means sctpscope is faster):")
        out += [f"- {k}: {v:.2f}x" for k, v in ratios.items()]
        out.append("")
    if rss:
        out.append(f"sctpscope peak RSS: {rss['peak_rss_mib'][0]:.1f} MiB at {sizes[0]:,} packets vs "
                   f"{rss['peak_rss_mib'][1]:.1f} MiB at {sizes[1]:,} packets "
                   f"(x{rss['ratio_N_over_N4']:.2f}; flat means ~1.0)")
        out.append("")
    host = host_info(args.tshark)
    out.append(f"Host: {host['cpu']}, {host['affinity_cpus']} CPUs usable, {host['mem_gib']} GiB; "
               f"Python {host['python']}; {host['tshark']}")
    print("\n".join(out))

    doc = {
        "when": _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"),
        "host": host,
        "params": {"packets": args.packets, "sizes": sizes, "repeat": args.repeat, "seed": args.seed,
                   "associations": args.associations, "cmd": cmd},
        "sctpscope": {"ok": sctp_ok, "message": sctp_msg},
        "captures": [{"packets": n, "path": p, "generator": st} for n, p, st in caps],
        "results": results,
        "ratios_tshark_over_sctpscope": ratios,
        "sctpscope_rss": rss,
    }
    os.makedirs(os.path.dirname(os.path.abspath(args.output)), exist_ok=True)
    with open(args.output, "w") as f:
        json.dump(doc, f, indent=1)
        f.write("\n")
    log(f"wrote {args.output}")

    if not args.keep:
        for p in made:
            for q in (p, p[:-5] + ".stats.json"):
                try:
                    os.remove(q)
                except OSError:
                    pass
    failed = [r for r in results if not r["ok"]]
    return 1 if failed else (0 if sctp_ok else 2)


if __name__ == "__main__":
    sys.exit(main())
