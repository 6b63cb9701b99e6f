"""tshark as the oracle: `sctpscope report --json` must count what tshark decodes, capture by capture.

The comparison is the one `../shared/tools/oracle-check` makes (keep the two in step):
  - totals.packets       = number of frames tshark reads;
  - totals.sctp_packets  = number of frames matching `sctp && !icmp && !icmpv6`;
  - totals.chunks        = `sctp.chunk_type` of those frames, counted by contract name
                           (DATA, INIT_ACK, ..., UNKNOWN_<n>); zero counts in the report are ignored;
  - per association, each side's DATA/I_DATA/SACK/HEARTBEAT/HEARTBEAT_ACK/SHUTDOWN/ABORT counts equal
    tshark's for the same (source port, destination port, verification tag);
  - per association, its two directions, when each is single-homed (one address pair in tshark's packets of
    that (ports, tag) flow, T-bit packets and vtag-0 INITs left out), use the same address pair reversed:
    flows of two different peers on one port pair are never joined (issue #11; `mispaired()` in
    oracle-check, and tests/tools/oracle-check).
It runs over every capture in captures/ and every capture in ../shared/captures/public (those not also in
captures/ under the same name; the public ones skip when shared/ is absent).
"""
from __future__ import annotations

import collections
import functools
import json
import subprocess
from pathlib import Path

import pytest

from conftest import CAPTURES, PUBLIC, public_captures, repo_captures, run_sctpscope, tshark_required

pytestmark = [pytest.mark.tshark, tshark_required]

# Contract chunk names (../shared/report-contract.md), as oracle-check maps them.
CHUNK_NAMES = {
    0: "DATA", 1: "INIT", 2: "INIT_ACK", 3: "SACK", 4: "HEARTBEAT", 5: "HEARTBEAT_ACK", 6: "ABORT",
    7: "SHUTDOWN", 8: "SHUTDOWN_ACK", 9: "ERROR", 10: "COOKIE_ECHO", 11: "COOKIE_ACK", 12: "ECNE",
    13: "CWR", 14: "SHUTDOWN_COMPLETE", 15: "AUTH", 16: "NR_SACK", 64: "I_DATA", 128: "ASCONF_ACK",
    129: "PKTDROP", 130: "RE_CONFIG", 132: "PAD", 192: "FORWARD_TSN", 193: "ASCONF", 194: "I_FORWARD_TSN",
}
SCTP_FILTER = "sctp && !icmp && !icmpv6"
FLOW_CHUNKS = ("DATA", "I_DATA", "SACK", "HEARTBEAT", "HEARTBEAT_ACK", "SHUTDOWN", "ABORT")
TSHARK_TIMEOUT = 600
TS_TOLERANCE = 1e-6


def chunk_name(code: int) -> str:
    return CHUNK_NAMES.get(code, f"UNKNOWN_{code}")


def _capture_params() -> list:
    params = [pytest.param(p, id=f"captures/{p.name}") for p in repo_captures()]
    ours = {p.name for p in repo_captures()}
    public = [p for p in public_captures() if p.name not in ours]
    if public:
        params += [pytest.param(p, id=f"public/{p.name}") for p in public]
    elif not PUBLIC.is_dir():
        params.append(pytest.param(None, id="public/*", marks=pytest.mark.skip(
            reason=f"{PUBLIC} is absent (shared/ is not beside this clone): its captures are not checked")))
    return params


CAPTURE_PARAMS = _capture_params()


def _tshark(*args: str) -> str:
    proc = subprocess.run(["tshark", "-n", *args], capture_output=True, text=True, timeout=TSHARK_TIMEOUT)
    if proc.returncode != 0 and not proc.stdout:
        raise AssertionError(f"tshark {' '.join(args)} failed ({proc.returncode}): {proc.stderr[-500:]}")
    return proc.stdout


@functools.cache
def tshark_view(path: str) -> dict:
    """What tshark sees in one capture, computed as oracle-check computes it."""
    frames = [line.split("\t") for line in
              _tshark("-r", path, "-T", "fields", "-E", "separator=\t",
                      "-e", "frame.number", "-e", "frame.time_epoch").splitlines() if line.strip()]
    chunks: collections.Counter = collections.Counter()
    by_flow: dict = collections.defaultdict(collections.Counter)
    sctp_packets = 0
    out = _tshark("-r", path, "-Y", SCTP_FILTER, "-T", "fields", "-E", "separator=\t",
                  "-e", "sctp.srcport", "-e", "sctp.dstport", "-e", "sctp.verification_tag",
                  "-e", "sctp.chunk_type")
    for line in out.splitlines():
        cols = line.split("\t")
        if len(cols) < 4 or not cols[0]:
            continue
        sctp_packets += 1
        # SCTP inside a tunnel is listed after the outer header's fields: use the first, as oracle-check does.
        src, dst, vtag = cols[0].split(",")[0], cols[1].split(",")[0], cols[2].split(",")[0]
        for code in filter(None, cols[3].split(",")):
            name = chunk_name(int(code))
            chunks[name] += 1
            by_flow[(int(src), int(dst), int(vtag, 0))][name] += 1
    times = [float(f[1]) for f in frames if len(f) > 1 and f[1]]
    return {"packets": len(frames), "sctp_packets": sctp_packets, "chunks": dict(chunks),
            "by_flow": {k: dict(v) for k, v in by_flow.items()},
            "first_ts": times[0] if times else None, "last_ts": times[-1] if times else None}


@functools.cache
def sctpscope_report(path: str) -> dict:
    proc = run_sctpscope("report", "--json", path)
    assert proc.returncode == 0, (
        f"`sctpscope report --json {path}` exited {proc.returncode}\nstderr (last 2000 chars):\n"
        f"{proc.stderr[-2000:]}")
    try:
        return json.loads(proc.stdout)
    except json.JSONDecodeError as exc:
        raise AssertionError(f"`sctpscope report --json {path}` printed no JSON document ({exc}); "
                             f"stdout starts: {proc.stdout[:300]!r}") from None


def association_flows(report: dict) -> dict:
    """(src port, dst port, vtag) -> (association id, side, chunk counts), as oracle-check derives them."""
    flows = {}
    for assoc in report.get("associations", []):
        ini, res = assoc["initiator"], assoc["responder"]
        # Packets sent by the initiator travel to the responder and carry the responder's tag.
        flows[(ini["port"], res["port"], res.get("vtag"))] = (assoc.get("id"), "initiator",
                                                               assoc["chunks"].get("initiator", {}))
        flows[(res["port"], ini["port"], ini.get("vtag"))] = (assoc.get("id"), "responder",
                                                               assoc["chunks"].get("responder", {}))
    return flows


def _name(path: Path) -> str:
    return f"{path.parent.name}/{path.name}"


@pytest.mark.parametrize("capture", CAPTURE_PARAMS)
def test_packet_totals_match_tshark(capture: Path):
    """totals.packets and totals.sctp_packets equal tshark's frame and SCTP-frame counts."""
    theirs, mine = tshark_view(str(capture)), sctpscope_report(str(capture))
    totals = mine.get("totals", {})
    problems = [f"totals.{key}: sctpscope {totals.get(key)!r}, tshark {theirs[key]}"
                for key in ("packets", "sctp_packets") if totals.get(key) != theirs[key]]
    assert not problems, f"{_name(capture)}:\n  " + "\n  ".join(problems)


@pytest.mark.parametrize("capture", CAPTURE_PARAMS)
def test_chunk_totals_match_tshark(capture: Path):
    """totals.chunks counts every chunk of every SCTP packet by type, as tshark does."""
    theirs, mine = tshark_view(str(capture)), sctpscope_report(str(capture))
    counted = {k: v for k, v in mine.get("totals", {}).get("chunks", {}).items() if v}
    if counted != theirs["chunks"]:
        diff = {k: (counted.get(k, 0), theirs["chunks"].get(k, 0))
                for k in sorted(set(counted) | set(theirs["chunks"]))
                if counted.get(k, 0) != theirs["chunks"].get(k, 0)}
        lines = [f"{k}: sctpscope {a}, tshark {b}" for k, (a, b) in diff.items()]
        pytest.fail(f"{_name(capture)}: totals.chunks differ from tshark's sctp.chunk_type counts:\n  "
                    + "\n  ".join(lines))


@pytest.mark.parametrize("capture", CAPTURE_PARAMS)
def test_association_chunks_match_tshark(capture: Path):
    """Each side of each association carries the chunks tshark finds under its ports and verification tag."""
    theirs, mine = tshark_view(str(capture)), sctpscope_report(str(capture))
    problems = []
    for flow, (assoc_id, side, counts) in association_flows(mine).items():
        ref = theirs["by_flow"].get(flow)
        if ref is None:     # e.g. the vtag-0 INIT: tshark files it under the packet's own tag
            continue
        for name in FLOW_CHUNKS:
            if counts.get(name, 0) != ref.get(name, 0):
                problems.append(f"association {assoc_id} {side} (ports {flow[0]}->{flow[1]}, vtag "
                                f"0x{flow[2]:08x}): {name} sctpscope {counts.get(name, 0)}, "
                                f"tshark {ref.get(name, 0)}")
    assert not problems, f"{_name(capture)}:\n  " + "\n  ".join(problems[:20])


def _file_format(path: Path) -> str:
    with open(path, "rb") as f:
        return "pcapng" if f.read(4) == b"\x0a\x0d\x0d\x0a" else "pcap"


@pytest.mark.parametrize("capture", CAPTURE_PARAMS)
def test_report_has_contract_keys(capture: Path):
    """The report has the contract's top-level keys, and captures[0] agrees with tshark on counts and times."""
    theirs, rep = tshark_view(str(capture)), sctpscope_report(str(capture))
    where = _name(capture)
    missing = [k for k in ("schema", "generator", "captures", "totals", "associations", "unassociated")
               if k not in rep]
    assert not missing, f"{where}: report lacks top-level keys {missing}; has {sorted(rep)}"
    assert rep["schema"] == "sctpscope.report/1", f"{where}: schema is {rep['schema']!r}"
    gen = rep["generator"]
    assert isinstance(gen, dict) and gen.get("name") == "sctpscope" and isinstance(gen.get("version"), str), \
        f"{where}: generator should be {{'name': 'sctpscope', 'version': str}}, is {gen!r}"

    assert isinstance(rep["captures"], list) and len(rep["captures"]) == 1, \
        f"{where}: captures should list the one file given, is {rep['captures']!r}"
    cap = rep["captures"][0]
    missing = [k for k in ("path", "format", "link_types", "packets", "sctp_packets", "first_ts", "last_ts")
               if k not in cap]
    assert not missing, f"{where}: captures[0] lacks {missing}; has {sorted(cap)}"
    assert Path(cap["path"]).name == capture.name, f"{where}: captures[0].path is {cap['path']!r}"
    assert cap["format"] == _file_format(capture), \
        f"{where}: captures[0].format is {cap['format']!r}, the file is {_file_format(capture)}"
    assert isinstance(cap["link_types"], list) and cap["link_types"] and \
        all(isinstance(t, str) for t in cap["link_types"]), \
        f"{where}: captures[0].link_types should be a non-empty list of names, is {cap['link_types']!r}"
    for key in ("packets", "sctp_packets"):
        assert cap[key] == theirs[key], f"{where}: captures[0].{key} is {cap[key]!r}, tshark {theirs[key]}"
    for key in ("first_ts", "last_ts"):
        want = theirs[key]
        got = cap[key]
        assert isinstance(got, (int, float)) and abs(got - want) <= TS_TOLERANCE, \
            f"{where}: captures[0].{key} is {got!r}, tshark frame.time_epoch {want!r} " \
            f"(tolerance {TS_TOLERANCE})"

    totals = rep["totals"]
    missing = [k for k in ("packets", "sctp_packets", "associations", "chunks", "bad_checksums", "malformed")
               if k not in totals]
    assert not missing, f"{where}: totals lacks {missing}; has {sorted(totals)}"
    assert isinstance(rep["associations"], list), f"{where}: associations is not a list"
    assert totals["associations"] == len(rep["associations"]), \
        f"{where}: totals.associations {totals['associations']} but {len(rep['associations'])} listed"
    un = rep["unassociated"]
    assert isinstance(un, dict) and isinstance(un.get("packets"), int) and isinstance(un.get("chunks"), dict), \
        f"{where}: unassociated should be {{'packets': int, 'chunks': {{...}}}}, is {un!r}"


def test_captures_dir_is_not_empty():
    """captures/ holds the committed corpus (a clone without it would make the oracle tests vacuous)."""
    assert repo_captures(), f"no capture files in {CAPTURES}"


@functools.cache
def tshark_flow_addresses(path: str) -> dict:
    """(src port, dst port, vtag) -> {(source address, destination address)}, as oracle-check's `mispaired()`
    derives it: the innermost IP header, the first SCTP header; ABORT / SHUTDOWN COMPLETE with the T bit
    (the sender's own tag) kept under their own key, so they never count as a direction's address pair."""
    out = _tshark("-r", path, "-Y", SCTP_FILTER, "-T", "fields", "-E", "separator=\t",
                  "-e", "sctp.srcport", "-e", "sctp.dstport", "-e", "sctp.verification_tag",
                  "-e", "sctp.abort_t_bit", "-e", "sctp.shutdown_complete_t_bit",
                  "-e", "ip.src", "-e", "ip.dst", "-e", "ipv6.src", "-e", "ipv6.dst")
    addrs: dict = collections.defaultdict(set)
    for line in out.splitlines():
        cols = line.split("\t") + [""] * 9
        if not cols[0]:
            continue
        src, dst, vtag = cols[0].split(",")[0], cols[1].split(",")[0], cols[2].split(",")[0]
        t_bit = any(c.split(",")[0] in ("1", "True") for c in cols[3:5] if c)
        key = (int(src), int(dst), ("T", int(vtag, 0)) if t_bit else int(vtag, 0))
        v4 = [x for x in cols[5:7] if x]
        v6 = [x for x in cols[7:9] if x]
        pair = v4 if len(v4) == 2 else v6
        if len(pair) == 2:
            addrs[key].add((pair[0].split(",")[-1], pair[1].split(",")[-1]))
    return dict(addrs)


def mispaired(addrs: dict, report: dict) -> list[str]:
    """Associations whose two single-homed directions use different address pairs (oracle-check's check)."""
    out = []
    for assoc in report.get("associations", []):
        ini, res = assoc["initiator"], assoc["responder"]
        there = addrs.get((ini["port"], res["port"], res.get("vtag")), set())     # initiator -> responder
        back = {(d, s) for s, d in addrs.get((res["port"], ini["port"], ini.get("vtag")), set())}
        # Only single-homed flows are judged: a multihomed peer may answer from another address.
        if len(there) == 1 and len(back) == 1 and not there & back:
            (s1, d1), (s2, d2) = sorted(there)[0], sorted(back)[0]
            out.append(f"association {assoc.get('id')} (ports {ini['port']}->{res['port']}): its directions join "
                       f"different peers: initiator->responder {s1}->{d1} (vtag {res.get('vtag')}), "
                       f"responder->initiator {d2}->{s2} (vtag {ini.get('vtag')})")
    return out


@pytest.mark.parametrize("capture", CAPTURE_PARAMS)
def test_no_association_joins_two_address_pairs(capture: Path):
    """An association's two directions, when each is single-homed, use one address pair (one reversed):
    sctpscope never joins the flows of two different peers that share a port pair."""
    problems = mispaired(tshark_flow_addresses(str(capture)), sctpscope_report(str(capture)))
    assert not problems, f"{_name(capture)}:\n  " + "\n  ".join(problems[:20])
