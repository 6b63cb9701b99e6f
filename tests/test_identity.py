"""Association identity from any starting point (issue #11): many peers on ONE port pair, captured from the
start, with the handshakes cut away, and cut in the middle of the traffic.

Two scenario captures of real usrsctp peers (tests/peers/make_scenarios.sh, captures/README.md):

- ``scenario__ngap_many_gnbs``: one one-to-many echo server 198.18.38.1:38412 and four clients c1..c4 on four
  hosts, every one bound to port 38412 (port pair 38412 -> 38412 for all four associations); c4 is multihomed
  (198.18.38.14 + 198.18.39.14). Messages on streams 0..3 both ways (the server echoes).
- ``scenario__m3ua_pair``: one client and one server, both on port 2905, 4 streams, DATA both ways.

The truth is the peers' own log (``.log.jsonl``: each ``recv`` line carries sid, ssn and the TSN of the
message; every message is a single DATA chunk, well under the MTU) and tshark's decode of each cut file: a
message counts in a cut when its TSN is carried by a DATA chunk of that cut between the right addresses.
Nothing expected here comes from sctpscope's own output.

For every cut: per client (its address set, from its ``start`` line), exactly one association, whose two
endpoints are that client's addresses and the server's; per direction and stream the messages the receiving
peer logged and the cut carries; no ``unexpected_vtag``; both tags known (and equal to the tag tshark sees on
packets towards each endpoint) when both directions are in the cut; no RESTART no peer logged.

The second part is a property over every capture (captures/ and ../shared/captures/public): dropping the first
K frames never yields an association whose two single-homed directions use different address pairs
(tshark's (ports, tag) -> address pairs are the truth), as tests/tools/oracle-check checks.
"""
from __future__ import annotations

import atexit
import collections
import concurrent.futures
import functools
import json
import shutil
import subprocess
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from conftest import CAPTURES, PUBLIC, TSHARK, public_captures, repo_captures, run_sctpscope

EDITCAP = shutil.which("editcap")
pytestmark = [
    pytest.mark.tshark,
    pytest.mark.skipif(TSHARK is None or EDITCAP is None,
                       reason="tshark/editcap not on PATH (apt-get install tshark)"),
]

SCENARIOS = ("ngap_many_gnbs", "m3ua_pair")
# "start": the whole capture; "handshakes": every frame after the last COOKIE ACK; "N%": the first N % of the
# frames dropped.
CUTS = ("start", "handshakes", "10%", "25%", "33%", "50%", "60%", "80%")
I2R, R2I = "initiator_to_responder", "responder_to_initiator"
COOKIE_ACK = 11
T_BIT_CHUNKS = (6, 14)      # ABORT, SHUTDOWN COMPLETE: with the T bit they carry the sender's own tag

_TMP = Path(tempfile.mkdtemp(prefix="sctpscope-identity-"))      # the cut files; removed at exit
atexit.register(shutil.rmtree, _TMP, True)


def _run(cmd: list[str], timeout: float = 300) -> str:
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)
    if proc.returncode != 0:
        raise AssertionError(f"`{' '.join(cmd)}` exited {proc.returncode}: {proc.stderr[-500:]}")
    return proc.stdout


# ------------------------------------------------------------------------------------- tshark: the wire

@dataclass
class Packet:
    frame: int
    src: str
    dst: str
    sport: int
    dport: int
    vtag: int
    chunks: list[int]
    tsns: list[int]
    t_bit: bool


def _first_int(text: str) -> int | None:
    text = text.split(",")[0].strip()
    return int(text, 0) if text else None


@functools.cache
def _tshark_view(path: Path) -> tuple[int, tuple[Packet, ...]]:
    """One tshark pass: the number of frames, and every SCTP packet (`sctp && !icmp && !icmpv6`: the first SCTP
    header of a tunnelled packet, the innermost IP header) with its frame number and its DATA chunks'
    absolute TSNs (`sctp.data_tsn_raw`)."""
    out = _run(["tshark", "-n", "-o", "sctp.relative_tsns:FALSE", "-r", str(path), "-T", "fields",
                "-E", "separator=\t", "-E", "occurrence=a", "-E", "aggregator=,",
                "-e", "frame.number", "-e", "ip.src", "-e", "ip.dst", "-e", "ipv6.src", "-e", "ipv6.dst",
                "-e", "sctp.srcport", "-e", "sctp.dstport", "-e", "sctp.verification_tag",
                "-e", "sctp.chunk_type", "-e", "sctp.data_tsn_raw",
                "-e", "sctp.abort_t_bit", "-e", "sctp.shutdown_complete_t_bit", "-e", "icmp.type",
                "-e", "icmpv6.type"])
    frames, packets = 0, []
    for line in out.splitlines():
        if not line.strip():
            continue
        frames += 1
        cols = line.split("\t") + [""] * 14
        if not cols[5] or cols[12] or cols[13]:      # no SCTP, or SCTP quoted in an ICMP error
            continue
        v4 = [c.split(",")[-1] for c in cols[1:3] if c]
        v6 = [c.split(",")[-1] for c in cols[3:5] if c]
        pair = v4 if len(v4) == 2 else v6 if len(v6) == 2 else ["?", "?"]
        packets.append(Packet(
            frame=int(cols[0]), src=pair[0], dst=pair[1], sport=_first_int(cols[5]), dport=_first_int(cols[6]),
            vtag=_first_int(cols[7]), chunks=[int(c) for c in cols[8].split(",") if c],
            tsns=[int(c) for c in cols[9].split(",") if c],
            t_bit=any(c.split(",")[0] in ("1", "True") for c in cols[10:12] if c)))
    return frames, tuple(packets)


def wire(path: Path) -> tuple[Packet, ...]:
    return _tshark_view(path)[1]


def frame_count(path: Path) -> int:
    return _tshark_view(path)[0]


def keep_after(src: Path, first_dropped: int, out: Path) -> Path:
    """`editcap -r`: a copy of `src` without its first `first_dropped` frames."""
    n = frame_count(src)
    assert 0 <= first_dropped < n, f"{src.name}: cannot drop {first_dropped} of {n} frames"
    _run(["editcap", "-r", str(src), str(out), f"{first_dropped + 1}-{n}"])
    return out


# ------------------------------------------------------------------------------------- the peers' log

@dataclass
class Truth:
    name: str
    port: int
    server: frozenset[str]
    clients: dict[str, frozenset[str]]                      # role -> its addresses
    to_server: dict[str, list[tuple[int, int]]] = field(default_factory=dict)   # role -> [(sid, tsn)] received
    to_client: dict[str, list[tuple[int, int]]] = field(default_factory=dict)   # by the server / by the client
    restart_logged: bool = False
    longest: int = 0


def _pcap(name: str) -> Path:
    return CAPTURES / f"scenario__{name}.pcapng"


@functools.cache
def truth(name: str) -> Truth:
    rows = [json.loads(line) for line in
            (CAPTURES / f"scenario__{name}.log.jsonl").read_text(encoding="utf-8").splitlines() if line.strip()]
    starts = {r["role"]: r for r in rows if r["ev"] == "start"}
    servers = [r for r in starts.values() if r["server"]]
    assert len(servers) == 1, f"{name}: the log should have one server start line, has {len(servers)}"
    ports = {r["lport"] for r in starts.values()}
    assert len(ports) == 1, f"{name}: every peer should use one port (the well-known one), log has {ports}"
    t = Truth(name=name, port=ports.pop(), server=frozenset(servers[0]["local"].split(",")),
              clients={role: frozenset(r["local"].split(",")) for role, r in starts.items() if not r["server"]})
    owner = {addr: role for role, addrs in t.clients.items() for addr in addrs}
    t.to_server = {role: [] for role in t.clients}
    t.to_client = {role: [] for role in t.clients}
    for r in rows:
        if r["ev"] == "recv":
            t.longest = max(t.longest, r["len"])
            if r["role"] in t.clients:
                t.to_client[r["role"]].append((r["sid"], r["tsn"]))
            else:
                assert r["from"] in owner, f"{name}: the server received from {r['from']}, no client's address"
                t.to_server[owner[r["from"]]].append((r["sid"], r["tsn"]))
        if r["ev"] == "recv_part":
            pytest.fail(f"{name}: the log has a partially delivered message; these tests assume none")
        if r["ev"] == "notify" and r.get("type") == "ASSOC_CHANGE" and r.get("state") == "RESTART":
            t.restart_logged = True
    return t


# ------------------------------------------------------------------------------------- the cuts

def _cut_first_dropped(name: str, cut: str) -> int:
    src = _pcap(name)
    if cut == "start":
        return 0
    if cut == "handshakes":
        acks = [p.frame for p in wire(src) if COOKIE_ACK in p.chunks]
        assert acks, f"{name}: no COOKIE ACK in the capture"
        return max(acks)
    return frame_count(src) * int(cut.rstrip("%")) // 100


@functools.cache
def cut_file(name: str, cut: str) -> Path:
    dropped = _cut_first_dropped(name, cut)
    if dropped == 0:
        return _pcap(name)
    return keep_after(_pcap(name), dropped, _TMP / f"{name}.{cut.rstrip('%')}.pcapng")


@functools.cache
def report(path: Path) -> dict:
    return _report_uncached(path)


def _report_uncached(path: Path) -> dict:
    proc = run_sctpscope("report", "--json", path)
    assert proc.returncode == 0, f"`sctpscope report --json {path.name}` exited {proc.returncode}:\n" \
                                 f"{proc.stderr[-2000:]}"
    return json.loads(proc.stdout)


def describe(a: dict) -> str:
    ini, res = a["initiator"], a["responder"]

    def ep(e):
        tag = "null" if e.get("vtag") is None else f"0x{e['vtag']:08x}"
        return f"{','.join(e.get('addresses') or ['?'])}:{e.get('port')} (vtag {tag})"
    return f"association {a.get('id')}: {ep(ini)} <-> {ep(res)}"


@dataclass
class Seen:
    """What one client's traffic looks like in one cut, from tshark."""
    data_to_server: set = field(default_factory=set)     # TSNs of DATA from the client's addresses
    data_to_client: set = field(default_factory=set)
    tags_to_server: set = field(default_factory=set)     # vtags of packets client -> server (no T bit, not 0)
    tags_to_client: set = field(default_factory=set)
    packets_to_server: int = 0
    packets_to_client: int = 0


def seen(t: Truth, path: Path) -> dict[str, Seen]:
    out = {role: Seen() for role in t.clients}
    for p in wire(path):
        for role, addrs in t.clients.items():
            if p.src in addrs and p.dst in t.server:
                s = out[role]
                s.packets_to_server += 1
                s.data_to_server.update(p.tsns)
                if p.vtag and not p.t_bit and 1 not in p.chunks:
                    s.tags_to_server.add(p.vtag)
            elif p.src in t.server and p.dst in addrs:
                s = out[role]
                s.packets_to_client += 1
                s.data_to_client.update(p.tsns)
                if p.vtag and not p.t_bit and 1 not in p.chunks:
                    s.tags_to_client.add(p.vtag)
    return out


def client_association(t: Truth, rep: dict, role: str) -> tuple[dict | None, list[str]]:
    """The one association of a client, with what is wrong with its identity (empty when right)."""
    addrs = t.clients[role]
    mine = [a for a in rep.get("associations", [])
            if (set(a["initiator"].get("addresses") or []) | set(a["responder"].get("addresses") or [])) & addrs]
    who = f"client {role} ({', '.join(sorted(addrs))})"
    if len(mine) != 1:
        return None, [f"{who}: {len(mine)} associations carry its addresses, want exactly 1" +
                      "".join(f"\n      {describe(a)}" for a in mine)]
    a = mine[0]
    problems = []
    eps = {"initiator": a["initiator"], "responder": a["responder"]}
    client_side = [k for k, e in eps.items() if set(e.get("addresses") or []) & addrs]
    if len(client_side) != 1:
        return a, [f"{who}: both endpoints of {describe(a)} carry the client's addresses"]
    cs = client_side[0]
    ss = "responder" if cs == "initiator" else "initiator"
    c_addrs, s_addrs = set(eps[cs].get("addresses") or []), set(eps[ss].get("addresses") or [])
    if not c_addrs <= addrs:
        problems.append(f"{who}: {describe(a)}: the client endpoint also has {sorted(c_addrs - addrs)}, "
                        f"which are not the client's")
    if s_addrs != set(t.server):
        problems.append(f"{who}: {describe(a)}: the server endpoint has {sorted(s_addrs)}, want "
                        f"{sorted(t.server)}")
    for k in (cs, ss):
        if eps[k].get("port") != t.port:
            problems.append(f"{who}: {describe(a)}: the {k}'s port is {eps[k].get('port')}, want {t.port}")
    return a, problems


def well_identified(t: Truth, rep: dict, problems: list[str]):
    """(role, association) of every client whose association is identified right; what is wrong with the
    others goes to `problems`."""
    for role in sorted(t.clients):
        a, wrong = client_association(t, rep, role)
        if a is None or wrong:
            problems += wrong
            continue
        yield role, a


def client_side_of(a: dict, addrs: frozenset[str]) -> str:
    return "initiator" if set(a["initiator"].get("addresses") or []) & addrs else "responder"


@pytest.fixture
def scenario(request):
    name, cut = request.param
    if not (_pcap(name).is_file() and (CAPTURES / f"scenario__{name}.log.jsonl").is_file()):
        pytest.skip(f"captures/scenario__{name}.* absent (tests/peers/make_scenarios.sh makes it)")
    path = cut_file(name, cut)
    return truth(name), cut, path, report(path)


def scenario_params():
    return pytest.mark.parametrize("scenario", [(n, c) for n in SCENARIOS for c in CUTS],
                                   ids=[f"{n}-{c}" for n in SCENARIOS for c in CUTS], indirect=True)


# ------------------------------------------------------------------------------------- the tests

@scenario_params()
def test_cut_keeps_both_directions_of_every_client(scenario):
    """Sanity of the scenario itself (tshark only): every cut holds packets both ways for every client."""
    t, cut, path, _ = scenario
    for role, s in seen(t, path).items():
        assert s.packets_to_server and s.packets_to_client, (
            f"{t.name} cut {cut}: client {role} has {s.packets_to_server} packets to the server and "
            f"{s.packets_to_client} back: the scenario should keep both directions in every cut")
    assert t.longest < 1400, f"{t.name}: a message of {t.longest} bytes: these tests assume one DATA chunk each"


@scenario_params()
def test_one_association_per_client_address(scenario):
    """Per client address exactly one association, joining that client and the server, and nothing else."""
    t, cut, path, rep = scenario
    problems, claimed = [], set()
    for role in sorted(t.clients):
        a, wrong = client_association(t, rep, role)
        problems += wrong
        if a is not None:
            claimed.add(a.get("id"))
    everyone = set().union(*t.clients.values())
    strays = [a for a in rep.get("associations", []) if a.get("id") not in claimed and not
              (set(a["initiator"].get("addresses") or []) | set(a["responder"].get("addresses") or [])) & everyone]
    problems += [f"{describe(a)}: carries no client's address (every client has both directions in this cut)"
                 for a in strays]
    assert not problems, f"{t.name} cut {cut} ({path.name}):\n  " + "\n  ".join(problems)


@scenario_params()
def test_messages_per_stream_match_the_peers_logs(scenario):
    """Per client and direction, the messages per stream are those the receiving peer logged and the cut
    carries (their TSN in a DATA chunk between the right addresses); none incomplete."""
    t, cut, path, rep = scenario
    wire_seen = seen(t, path)
    problems = []
    for role, a in well_identified(t, rep, problems):
        s = wire_seen[role]
        want = {
            "client->server": collections.Counter(sid for sid, tsn in t.to_server[role] if tsn in s.data_to_server),
            "server->client": collections.Counter(sid for sid, tsn in t.to_client[role] if tsn in s.data_to_client),
        }
        cs = client_side_of(a, t.clients[role])
        direction = {"client->server": I2R if cs == "initiator" else R2I,
                     "server->client": R2I if cs == "initiator" else I2R}
        for way, d in direction.items():
            got = {st["sid"]: st.get("messages", 0) for st in a.get("streams", [])
                   if st.get("direction") == d and st.get("messages", 0)}
            if got != dict(want[way]):
                problems.append(f"client {role}: {describe(a)}: {way} ({d}) messages per stream "
                                f"{dict(sorted(got.items()))}, the log says {dict(sorted(want[way].items()))}")
            incomplete = {st["sid"]: st["incomplete_messages"] for st in a.get("streams", [])
                          if st.get("direction") == d and st.get("incomplete_messages")}
            if incomplete:
                problems.append(f"client {role}: {describe(a)}: {way} incomplete messages {incomplete}, "
                                f"want none (every message is one DATA chunk)")
    assert not problems, f"{t.name} cut {cut} ({path.name}):\n  " + "\n  ".join(problems)


@scenario_params()
def test_tags_known_and_no_unexpected_vtag(scenario):
    """No association carries `unexpected_vtag`; with both directions in the cut, both endpoints' vtags are
    known and are the tags tshark sees on the packets towards each endpoint."""
    t, cut, path, rep = scenario
    problems = [f"{describe(a)}: anomaly unexpected_vtag (frame {x.get('frame')}: {x.get('detail')})"
                for a in rep.get("associations", []) for x in a.get("anomalies", [])
                if x.get("kind") == "unexpected_vtag"]
    wire_seen = seen(t, path)
    for role, a in well_identified(t, rep, problems):
        s = wire_seen[role]
        cs = client_side_of(a, t.clients[role])
        ss = "responder" if cs == "initiator" else "initiator"
        for side, tags, what in ((cs, s.tags_to_client, "server->client"), (ss, s.tags_to_server, "client->server")):
            if not (s.packets_to_server and s.packets_to_client):
                continue
            vtag = a[side].get("vtag")
            if vtag is None:
                problems.append(f"client {role}: {describe(a)}: the {side}'s vtag is null, but both directions "
                                f"are in the cut ({what} packets carry {sorted(hex(x) for x in tags)})")
            elif len(tags) == 1 and vtag not in tags:
                problems.append(f"client {role}: {describe(a)}: the {side}'s vtag is 0x{vtag:08x}, the {what} "
                                f"packets carry {hex(next(iter(tags)))}")
    assert not problems, f"{t.name} cut {cut} ({path.name}):\n  " + "\n  ".join(problems)


@scenario_params()
def test_handshake_seen_only_where_the_cut_has_it(scenario):
    """`handshake_seen` is true exactly when the cut holds the client's INIT and the server's INIT ACK to it;
    without them `negotiated` is null each way."""
    t, cut, path, rep = scenario
    problems = []
    for role, a in well_identified(t, rep, problems):
        addrs = t.clients[role]
        init = any(1 in p.chunks and p.src in addrs and p.dst in t.server for p in wire(path))
        init_ack = any(2 in p.chunks and p.src in t.server and p.dst in addrs for p in wire(path))
        want = init and init_ack
        if a.get("handshake_seen") is not want:
            problems.append(f"client {role}: {describe(a)}: handshake_seen {a.get('handshake_seen')!r}, the cut "
                            f"has {'an' if init else 'no'} INIT and {'an' if init_ack else 'no'} INIT ACK")
        neg = a.get("negotiated") or {}
        if not want and any(neg.get(k) is not None for k in ("initiator_to_responder_streams",
                                                              "responder_to_initiator_streams")):
            problems.append(f"client {role}: {describe(a)}: negotiated {neg} without a handshake in the cut")
    assert not problems, f"{t.name} cut {cut} ({path.name}):\n  " + "\n  ".join(problems)


@scenario_params()
def test_no_restart_that_no_peer_saw(scenario):
    """Four handshakes on one port pair are four associations, not restarts of one: no RESTART event or
    `restart` anomaly unless a peer logged ASSOC_CHANGE RESTART."""
    t, cut, path, rep = scenario
    if t.restart_logged:
        pytest.skip("a peer logged a RESTART")
    problems = [f"{describe(a)}: anomaly restart (frame {x.get('frame')}: {x.get('detail')})"
                for a in rep.get("associations", []) for x in a.get("anomalies", []) if x.get("kind") == "restart"]
    problems += [f"{describe(a)}: event RESTART (frame {e.get('frame')})"
                 for a in rep.get("associations", []) for e in a.get("events", []) if e.get("type") == "RESTART"]
    assert not problems, f"{t.name} cut {cut} ({path.name}): no peer logged a RESTART:\n  " + "\n  ".join(problems)


@pytest.mark.parametrize("name", SCENARIOS)
@pytest.mark.parametrize("cut", ["handshakes", "33%"])
def test_parallel_workers_pair_the_same(name, cut):
    """`report -j 2` (workers split the associations by port pair, results merged) pairs exactly as one
    process does, on captures where every association shares one port pair and no handshake is seen."""
    if not _pcap(name).is_file():
        pytest.skip(f"captures/scenario__{name}.pcapng absent")
    path = cut_file(name, cut)
    proc = run_sctpscope("report", "--json", "-j", "2", path)
    assert proc.returncode == 0, f"`sctpscope report --json -j 2 {path.name}` exited {proc.returncode}:\n" \
                                 f"{proc.stderr[-2000:]}"
    one, two = report(path)["associations"], json.loads(proc.stdout)["associations"]
    assert [describe(a) for a in two] == [describe(a) for a in one], f"{name} cut {cut}: -j 2 pairs differently"
    assert two == one, f"{name} cut {cut}: `report -j 2` differs from `report` in some association's details"


# ------------------------------------------------------------------------------------- property: any K

def flow_pairs(packets) -> dict:
    """(sport, dport, vtag) -> {(src, dst)} over every packet of the WHOLE capture (no T-bit packets, whose tag
    is the sender's own; no vtag-0 INITs). A flow is judged single-homed only when the whole capture shows it
    on one address pair: a multihomed association whose cut happens to leave one pair each way (heartbeats
    to one address, answered from another) is not two peers."""
    out = collections.defaultdict(set)
    for p in packets:
        if not p.t_bit and p.vtag and p.sport is not None:
            out[(p.sport, p.dport, p.vtag)].add((p.src, p.dst))
    return out


def mispaired(pairs: dict, rep: dict) -> list[str]:
    """Associations whose two single-homed directions use different address pairs (tests/tools/oracle-check
    makes the same check)."""
    out = []
    for a in rep.get("associations", []):
        ini, res = a["initiator"], a["responder"]
        if ini.get("vtag") is None or res.get("vtag") is None:
            continue
        there = pairs.get((ini["port"], res["port"], res["vtag"]), set())          # initiator -> responder
        back = {(d, s) for s, d in pairs.get((res["port"], ini["port"], ini["vtag"]), set())}
        if len(there) == 1 and len(back) == 1 and there != back:
            (s1, d1), (s2, d2) = next(iter(there)), next(iter(back))
            out.append(f"{describe(a)}: initiator->responder flows {s1}->{d1}, responder->initiator flows "
                       f"{d2}->{s2}: two different address pairs joined")
    return out


def _property_captures() -> list:
    ours = repo_captures()
    names = {p.name for p in ours}
    params = [pytest.param(p, id=f"captures/{p.name}") for p in ours]
    params += [pytest.param(p, id=f"public/{p.name}") for p in public_captures() if p.name not in names]
    if not PUBLIC.is_dir():
        params.append(pytest.param(None, id="public/*", marks=pytest.mark.skip(
            reason=f"{PUBLIC} is absent (shared/ is not beside this clone)")))
    return params


PROPERTY_CAPTURES = _property_captures()


def _check_cuts(capture: Path, ks) -> None:
    packets = wire(capture)
    n = frame_count(capture)
    ks = sorted({k for k in ks if 0 < k < n})
    cuts = {k: keep_after(capture, k, _TMP / f"prop.{capture.name}.{k}.pcapng") for k in ks}
    try:
        with concurrent.futures.ThreadPoolExecutor(max_workers=2) as pool:   # the sctpscope runs, 2 at a time
            reports = dict(zip(ks, pool.map(lambda k: _report_uncached(cuts[k]), ks)))
    finally:
        for path in cuts.values():
            path.unlink(missing_ok=True)
    pairs = flow_pairs(packets)
    problems = [f"first {k} of {n} frames dropped: {p}" for k in ks for p in mispaired(pairs, reports[k])]
    assert not problems, f"{capture.parent.name}/{capture.name}:\n  " + "\n  ".join(problems[:20])


@pytest.mark.parametrize("capture", PROPERTY_CAPTURES)
def test_dropping_the_first_frames_never_joins_two_address_pairs(capture):
    """K = 1, 2, 3: the report of the capture without its first K frames joins no two address pairs."""
    _check_cuts(capture, (1, 2, 3))


@pytest.mark.slow
@pytest.mark.parametrize("capture", PROPERTY_CAPTURES)
def test_dropping_a_share_of_the_frames_never_joins_two_address_pairs(capture):
    """K at 1/4, 1/2 and 3/4 of the capture: the same property."""
    n = frame_count(capture)
    _check_cuts(capture, (n // 4, n // 2, 3 * n // 4))
