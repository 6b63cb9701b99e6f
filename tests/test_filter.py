"""The display-filter language: errors pointed at with a caret, and matches checked against tshark.

Truth: the frames tshark 4.0 lists for the equivalent display filter (`tshark -r F -Y EXPR -T fields -e
frame.number`, same "any occurrence" and "all not equal" semantics); for `association == N` the report's own
association records (the filter must agree with the report's ids), for `anomaly` the report's anomaly frames.
"""
from __future__ import annotations

import json
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor

import pytest

from conftest import CAPTURES, run_sctpscope, tshark_required
from sctpscope.cli import run_report
from sctpscope.errors import SctpscopeError
from sctpscope.filter import FilterError, compile
from sctpscope.filter.apply import filtered_frames


def ours(path, expr: str) -> list[int]:
    return [f.number for f, _ in filtered_frames([str(path)], compile(expr), [])]


# -- errors ---------------------------------------------------------------------------------------------

ERRORS = [
    # expression, words of the reason, position of the caret, carets
    ("sid = 3", "'=' is not an operator", 4, 1),
    ("sid == 3 &&", "a test is missing after '&&'", 11, 1),
    ("(sid == 3", "missing ')'", 9, 1),
    ("sid == 3)", "closes no '('", 8, 1),
    ("sid == 70000", "out of range for sid (0..65535)", 7, 5),
    ("chunk == FOO", "unknown chunk type 'FOO'", 9, 3),
    ("ppid == diametr", "did you mean 'Diameter'?", 8, 7),
    ("sctp.data_sid == 3", "did you mean 'sid'?", 0, 13),
    ("sidd == 3", "did you mean 'sid'?", 0, 4),
    ("bogus == 3", "unknown field 'bogus' (fields: chunk, sid", 0, 5),
    ("3 == sid", "expected a field name, found the value '3'", 0, 1),
    ("retransmission == 1", "is a flag, it takes no value", 15, 2),
    ("sid 3", "expected an operator", 4, 1),
    ("addr == 10.0.0.300", "takes an IPv4 or IPv6 address", 8, 10),
    ("src < 10.0.0.0/8", "a network can only be compared with == or !=", 4, 1),
    ("port == 5000 & sid == 1", "a single '&'", 13, 1),
    ("sid in {1, 2", "is not closed", 12, 1),
    ("sid in {}", "an empty set matches nothing", 7, 1),
    ("sid in {5..2}", "empty range", 8, 4),
    ("()", "empty parentheses", 1, 1),
    ("!", "a test is missing after '!'", 1, 1),
    ('ppid == "WebRTC DCEP', "string is not closed", 8, 12),
    ("port == 5000 sid == 1", "expected '&&', '||' or the end", 13, 3),
    ("vtag == 0x1g", "is not a number", 8, 4),
    ("   ", "empty filter expression", 0, 1),
]


@pytest.mark.parametrize("expr,reason,pos,width", ERRORS)
def test_errors_point_at_the_fault(expr, reason, pos, width):
    with pytest.raises(FilterError) as info:
        compile(expr)
    err = info.value
    assert isinstance(err, SctpscopeError)
    assert reason in err.reason, err.reason
    assert (err.position, err.length) == (pos, width), str(err)
    title, shown, marks = str(err).split("\n")
    assert title == f"filter: {err.reason}"
    assert shown == "  " + expr
    assert marks == "  " + " " * pos + "^" * width


def test_error_with_a_control_character_is_escaped_and_the_caret_follows():
    with pytest.raises(FilterError) as info:
        compile("sid == 1 \x1b[31m")
    _, shown, marks = str(info.value).split("\n")
    assert "\x1b" not in str(info.value) and shown == "  sid == 1 \\x1b[31m"
    assert marks.index("^") == shown.index("\\x1b")


def test_cli_error_is_the_reason_and_a_caret_never_a_traceback():
    proc = run_sctpscope("packets", "--filter", "ppid == 46 ||", CAPTURES / "pkts__sctp-test.cap")
    assert proc.returncode == 2 and proc.stdout == "" and "Traceback" not in proc.stderr
    assert proc.stderr.splitlines() == ["sctpscope: filter: a test is missing after '||'",
                                        "  ppid == 46 ||", "               ^"]


def test_deep_nesting_is_an_error_and_long_chains_evaluate():
    with pytest.raises(FilterError) as info:
        compile("(" * 65 + "sid == 0" + ")" * 65)
    assert info.value.position == 64 and "nested more than 64 deep" in info.value.reason
    # thousands of terms neither overflow the parser nor the evaluation: same frames as one term
    assert ours(WIRE, " && ".join(["sid != 0"] * 3000)) == ours(WIRE, "sid != 0") != []
    assert ours(WIRE, " || ".join(["!!!(sid == 0)"] * 3000)) == ours(WIRE, "!(sid == 0)") != []


def test_fields_used_are_known():
    f = compile("(chunk == data and not sid in {1, 2}) or association == 4")
    assert f.fields == {"chunk", "sid", "association"} and f.uses("association") and not f.uses("ppid")


# -- against tshark -------------------------------------------------------------------------------------

MIXED = CAPTURES / "scenario__streams_mixed.pcapng"
WIRE = CAPTURES / "pkts__sctp-test.cap"
M3UA = CAPTURES / "suricata__sctp-keywords.pcap"
I_DATA = CAPTURES / "tcpdump__sctp-i-forward.pcap"
V6 = CAPTURES / "usrsctp__echo_ipv6.pcapng"
MANY = CAPTURES / "scenario__many_assocs.pcapng"

ORACLE = [
    # our expression, tshark's, capture, tshark options
    ("ppid == 46", "sctp.data_payload_proto_id == 46", MIXED, ()),
    ("ppid == diameter || ppid == NGAP", "sctp.data_payload_proto_id in {46, 60}", MIXED, ()),
    ("ppid == M3UA", "sctp.data_payload_proto_id == 3", M3UA, ()),
    ("chunk == DATA && sid == 3", "sctp.chunk_type == 0 && sctp.data_sid == 3", WIRE, ()),
    ("sid != 0", "sctp.data_sid != 0", WIRE, ()),                                # all not equal
    ("!(sid == 0)", "sctp && !(sctp.data_sid == 0)", WIRE, ()),
    ("not sid == 0 and chunk == sack", "sctp && !(sctp.data_sid == 0) && sctp.chunk_type == 3", WIRE, ()),
    ("sid >= 2 && ssn in {1..3}", "sctp.data_sid >= 2 && sctp.data_ssn in {1..3}", MIXED, ()),
    # && binds tighter than ||, as in tshark; parentheses change it
    ("sport == 5001 || dport == 5001 && chunk == SACK",
     "sctp.srcport == 5001 || sctp.dstport == 5001 && sctp.chunk_type == 3", MIXED, ()),
    ("(sport == 5001 || dport == 5001) && chunk == SACK",
     "(sctp.srcport == 5001 || sctp.dstport == 5001) && sctp.chunk_type == 3", MIXED, ()),
    ("chunk in {INIT, init-ack} or chunk == 14", "sctp.chunk_type in {1, 2} || sctp.chunk_type == 14", MANY, ()),
    ("vtag == 0x00000eb0", "sctp.verification_tag == 0x00000eb0", WIRE, ()),
    ("port == 5103 and addr == 198.18.1.1", "sctp.port == 5103 && ip.addr == 198.18.1.1", MANY, ()),
    ("src == 192.168.170.8 && chunk == DATA", "ip.src == 192.168.170.8 && sctp.chunk_type == 0", WIRE, ()),
    ("dst != 198.18.1.2", "ip.dst != 198.18.1.2", MANY, ()),
    ("addr == fd00::/8 && src != fd00:5c7:5c7::2", "sctp && ipv6.addr == fd00::/8 && ipv6.src != fd00:5c7:5c7::2",
     V6, ()),
    ("tsn > 1534646460", "sctp.data_tsn_raw > 1534646460", MIXED, ()),
    ("mid == 1 || mid == 2", "sctp.data_mid in {1, 2}", I_DATA, ()),
    ("retransmission", "sctp.retransmission", I_DATA, ("-o", "sctp.tsn_analysis:TRUE")),
    ("retransmission", "sctp.retransmission", CAPTURES / "scenario__loss_retransmit.pcapng",
     ("-o", "sctp.tsn_analysis:TRUE")),
    ("bad_checksum", "sctp.checksum.status == 0", CAPTURES / "pkts__sctp001.pcap", ("-o", "sctp.checksum:Automatic")),
    ("!bad_checksum", "sctp.checksum.status == 1", MIXED, ("-o", "sctp.checksum:Automatic")),
]
#: cases where tshark lists no frame, and neither must we: a correct Adler-32 is no bad checksum
EMPTY = [("bad_checksum", "sctp.checksum.status == 0", CAPTURES / "pkts__sctp.cap", ("-o", "sctp.checksum:Automatic"))]


def _tshark(expr: str, path, opts) -> list[int]:
    out = subprocess.run(["tshark", "-n", *opts, "-r", str(path), "-Y", expr, "-T", "fields", "-e", "frame.number"],
                         capture_output=True, text=True, check=True).stdout
    return [int(x) for x in out.split()]


@pytest.fixture(scope="module")
def tshark_frames():
    with ThreadPoolExecutor(4) as pool:
        return list(pool.map(lambda case: _tshark(case[1], case[2], case[3]), ORACLE + EMPTY))


@tshark_required
@pytest.mark.parametrize("case", range(len(ORACLE)), ids=[c[0] for c in ORACLE])
def test_matches_like_tshark(case, tshark_frames):
    expr, _, path, _ = ORACLE[case]
    want = tshark_frames[case]
    assert want, "an oracle case that matches nothing tests nothing"
    assert ours(path, expr) == want


@tshark_required
@pytest.mark.parametrize("case", range(len(EMPTY)), ids=[c[0] for c in EMPTY])
def test_matches_nothing_like_tshark(case, tshark_frames):
    expr, _, path, _ = EMPTY[case]
    assert tshark_frames[len(ORACLE) + case] == [] == ours(path, expr)
    assert ours(path, "!" + expr)           # the capture has packets the negation matches


@tshark_required
def test_packets_filter_one_ppid_like_tshark():
    """The CLI: `packets --filter 'ppid == 46'` lists exactly tshark's frames for PPID 46."""
    out = run_sctpscope("packets", "--filter", "ppid == Diameter", CAPTURES / "arkime__diameter_synthetic.pcap",
                        check=True).stdout.splitlines()
    assert [int(line.split()[0]) for line in out] == \
        _tshark("sctp.data_payload_proto_id == 46", CAPTURES / "arkime__diameter_synthetic.pcap", ())


# -- association ids, anomalies: agree with the report ---------------------------------------------------

def _report(path) -> dict:
    """The report as `sctpscope report --json` gives it (in process)."""
    return json.loads(json.dumps(run_report([str(path)], (9899,), True, 1)))


@pytest.mark.parametrize("name", ["pkts__sctp_init_collision.cap", "scenario__many_assocs.pcapng"])
def test_association_ids_are_the_reports(name):
    """Every association's frames through `association == N`: its first and last frame and its packet count as
    the report gives them, also where an INIT collision folded two associations (ids change at finish)."""
    path = CAPTURES / name
    doc = _report(path)
    assert len(doc["associations"]) > 3
    for a in doc["associations"]:
        got = list(filtered_frames([str(path)], compile(f"association == {a['id']}"), []))
        frames = [f.number for f, _ in got]
        packets = sum(1 for _, ctxs in got for c in ctxs if c.association == a["id"])
        assert (frames[0], frames[-1], packets) == (a["first_frame"], a["last_frame"], a["packets"]), a["id"]


def test_association_from_a_pipe_is_read_once_in_order_of_appearance():
    """From a pipe (one reading) the numbering is by first appearance: equal to the report's here."""
    path = CAPTURES / "scenario__sendall_chat.pcapng"
    want = run_sctpscope("packets", "--filter", "association == 2", path, check=True).stdout
    cat = subprocess.Popen(["cat", str(path)], stdout=subprocess.PIPE)
    proc = subprocess.run([sys.executable, "-m", "sctpscope", "packets", "--filter", "association == 2", "/dev/stdin"],
                          stdin=cat.stdout, capture_output=True, text=True, cwd=CAPTURES.parent, timeout=60)
    cat.wait()
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout == want and len(want.splitlines()) > 5


ADD_TIME = {"malformed_chunk", "out_of_order", "retransmitted_more_than_twice", "error_chunk", "bundling_violation",
            "unexpected_vtag", "zero_window", "data_after_shutdown", "init_retransmitted", "cookie_echo_retransmitted",
            "invalid_stream_id"}


@pytest.mark.parametrize("name", ["arkime__m3ua_synthetic.pcap", "pkts__sctp-www.cap",
                                  "pcapflowlab__13_sctp_truncated_data_chunk_header.pcap"])
def test_anomaly_flags_the_frames_the_report_names(name):
    """`anomaly`: the packets whose accounting raised an anomaly, i.e. the frames of the report's anomalies
    found packet by packet (those judged at the end of the capture, such as tsn_gap, name no packet)."""
    doc = _report(CAPTURES / name)
    want = sorted({x["frame"] for a in doc["associations"] for x in a["anomalies"] if x["kind"] in ADD_TIME})
    assert want and ours(CAPTURES / name, "anomaly") == want


def test_report_filter_lists_matching_associations_whole():
    """`report --filter`: only associations with a matching packet, each with its full figures and unfiltered
    id; totals are the whole capture's."""
    path = CAPTURES / "scenario__eof_one_of_many.pcapng"
    full = _report(path)
    doc = json.loads(run_sctpscope("report", "--json", "--filter", "port == 5002 && chunk == DATA", path,
                                   check=True).stdout)
    keep = [a for a in full["associations"] if 5002 in (a["initiator"]["port"], a["responder"]["port"])]
    assert len(keep) == 1 < len(full["associations"])
    assert doc["associations"] == keep
    assert doc["totals"] == full["totals"] and doc["unassociated"] == full["unassociated"]
    assert doc["servers"] == full["servers"]       # the shared endpoint association 2 belongs to, whole
    jsonschema = pytest.importorskip("jsonschema")
    jsonschema.validate(doc, json.loads((CAPTURES.parent / "sctpscope" / "report" / "schema.json").read_text()))
    human = run_sctpscope("report", "--filter", "association == 99", path, check=True).stdout
    assert human.splitlines()[0].startswith("filter association == 99: 0 SCTP packets match, in 0 of 2 associations")
