"""Issue 15: hostile and pathological captures give a report or one clear error, in time linear in packets
and memory bounded by what is shown. Each capture is built by tests/hostile.py (bytes explained there)."""
from __future__ import annotations

import bz2
import gzip
import lzma
import time

import pytest

import hostile as h
from conftest import CAPTURES, run_sctpscope
from sctpscope.cli import main, run_report
from sctpscope.analysis.association import MAX_EVENTS, MAX_PATH_CHANGES
from sctpscope.analysis.anomalies import MAX_PER_ASSOCIATION


def report(path):
    return run_report([str(path)], (9899,), True)


def only(doc):
    assert len(doc["associations"]) == 1
    return doc["associations"][0]


def test_asconf_set_primary_nesting_add_ip(tmp_path, capsys):
    """Item 1: the nested Add IP is no address of the sender; every command works; packets names it."""
    path = h.asconf_nested(tmp_path / "asconf.pcap")
    a = only(report(path))
    assert a["initiator"]["addresses"] == ["198.18.0.1"]
    assert a["chunks"]["initiator"]["ASCONF"] == 1
    for argv in (["packets", str(path)], ["report", str(path)], ["follow", str(path), "-a", "1"],
                 ["ladder", str(path), "-a", "1"], ["extract", str(path), "-a", "1", "-w", str(tmp_path / "x.pcapng")]):
        assert main(argv) == 0, argv
    out = capsys.readouterr().out
    assert "Set Primary Address Add IP Address 198.18.0.11" in out
    assert "AddressParam(" not in out


def test_init_collision_with_bad_checksum(tmp_path):
    """Item 2: the bad CRC32c of the INIT ACK in the association folded in by the collision is reported at
    its frame (3)."""
    frames = [h.a_to_b(h.init(1, h.TAG_A, 1000), vtag=0), h.b_to_a(h.init(1, h.TAG_B, 5000), vtag=0),
              h.b_to_a(h.init(2, h.TAG_B, 5000), vtag=h.TAG_A, good_crc=False),
              h.a_to_b(h.init(2, h.TAG_A, 1000), vtag=h.TAG_B),
              h.a_to_b(h.chunk(10, 0, b"cookie!!")), h.b_to_a(h.chunk(11, 0, b""))]
    a = only(report(h.write_pcap(tmp_path / "coll.pcap", frames)))
    assert a["init_collision"]
    bad = [x for x in a["anomalies"] if x["kind"] == "bad_checksum"]
    assert [x["frame"] for x in bad] == [3]
    assert report(h.collision_bad_checksum(tmp_path / "coll2.pcap"))["totals"]["bad_checksums"] == 1


@pytest.mark.parametrize("compress", [gzip.compress, lzma.compress], ids=["gzip", "xz"])
def test_truncated_compressed_capture_ladder(tmp_path, compress, capsys):
    """Item 3: a compressed capture cut short: ladder (the frame index) reads the frames before the cut,
    as report does."""
    raw = h.write_pcap(tmp_path / "plain.pcap", h.handshake() + [h.a_to_b(h.data(1000 + i, 0, i, 0, b"x" * 600, 3))
                                                                  for i in range(200)]).read_bytes()
    packed = compress(raw)
    cut = tmp_path / "cut.pcap.z"
    cut.write_bytes(packed[: len(packed) * 2 // 3])
    n = report(cut)["captures"][0]["packets"]
    assert 4 < n < 204
    assert main(["ladder", str(cut), "-a", "1"]) == 0
    lines = [ln for ln in capsys.readouterr().out.splitlines() if "DATA TSN=" in ln]
    assert 0 < len(lines) <= n - 4
    from sctpscope.capture.index import CaptureIndex
    with CaptureIndex(cut) as idx:
        idx.extend()
        assert idx.count >= len(lines) + 4 and idx.fault


def test_ladder_label_cut_to_width(tmp_path):
    """Item 4: one ABORT of 8,000 causes: every ladder line stays within the width; small output."""
    path = h.abort_causes(tmp_path / "abort.pcap", 8000)
    proc = run_sctpscope("ladder", path, "-a", "1", "--width", "120", timeout=60)
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.splitlines()
    assert any("ABORT" in ln for ln in lines)
    assert max(len(ln) for ln in lines) <= 120
    proc = run_sctpscope("ladder", path, "-a", "1", timeout=60)
    assert proc.returncode == 0 and len(proc.stdout) < 100_000


def test_ladder_rows_capped(tmp_path):
    """Item 5: 40 packets of 2,000 ABORT chunks: the ladder's rows are capped and the rest counted."""
    from sctpscope.export.ladder import MAX_SVG_ROWS
    path = h.abort_causes(tmp_path / "aborts.pcap", 1, packets=40, chunks_per_packet=2000)
    proc = run_sctpscope("ladder", path, "-a", "1", "--svg", timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.count("ABORT") <= MAX_SVG_ROWS + 5
    total = 4 + 40 * 2000           # the handshake's four chunks, then the ABORTs
    assert f"{total - MAX_SVG_ROWS} more chunk(s) not drawn" in proc.stdout


def test_forward_tsn_jumps_are_cheap(tmp_path):
    """Item 6: 105 FORWARD-TSN chunks each jumping 2^31 - 1: seconds, not minutes."""
    path = h.forward_tsn_jumps(tmp_path / "fwd.pcap", 105)
    t0 = time.monotonic()
    a = only(report(path))
    assert time.monotonic() - t0 < 10
    assert a["chunks"]["initiator"]["FORWARD_TSN"] == 105


@pytest.mark.parametrize("i_data", [False, True], ids=["DATA", "I-DATA"])
def test_message_that_never_ends(tmp_path, i_data):
    """Items 7 and 8: a first fragment then 59,999 middle fragments: linear time, and the message stays one
    incomplete message of 60,000 fragments (past the 8,192 cap of waiting runs)."""
    n = 60_000
    path = h.endless_message(tmp_path / "frag.pcap", n, i_data=i_data)
    t0 = time.monotonic()
    a = only(report(path))
    assert time.monotonic() - t0 < 20
    st = [s for s in a["streams"] if s["sid"] == 1 and s["direction"] == "initiator_to_responder"][0]
    assert st["data_chunks"] == n and st["bytes"] == 4 * n and st["messages"] == 0
    inc = [x for x in a["anomalies"] if x["kind"] == "incomplete_message"]
    assert len(inc) == 1 and inc[0]["detail"].startswith("1 message(s)")
    assert a["truncated"]["pending_fragments"] == 0
    from sctpscope.export.follow import follow_messages
    _, msgs = follow_messages([str(path)], 1)
    msgs = list(msgs)
    assert len(msgs) == 1 and not msgs[0].complete and msgs[0].fragments == n and msgs[0].size == 4 * n


def test_error_chunks_capped(tmp_path):
    """Item 9: 3,000 ERROR chunks of 20 causes: 60,000 REMOTE_ERROR events and error_chunk anomalies, kept up
    to the caps, the rest counted."""
    a = only(report(h.error_chunks(tmp_path / "err.pcap", 3000)))
    events = 2 + 3000 * 20          # COMM_UP twice, then one REMOTE_ERROR per cause
    assert len(a["events"]) == MAX_EVENTS and a["truncated"]["events"] == events - MAX_EVENTS
    assert len(a["anomalies"]) == MAX_PER_ASSOCIATION and a["anomaly_count"] == 60_000
    assert a["truncated"]["anomalies"] == 60_000 - MAX_PER_ASSOCIATION


def test_alternating_paths_capped(tmp_path):
    """Item 10: 5,000 DATA alternating between two source addresses: 4,999 primary path changes."""
    a = only(report(h.alternating_paths(tmp_path / "alt.pcap", 5000)))
    assert len(a["primary_path_changes"]) == MAX_PATH_CHANGES
    assert a["truncated"]["primary_path_changes"] == 4999 - MAX_PATH_CHANGES
    assert {p["src"] for p in a["paths"] if p["dst"] == "198.18.0.2"} == {"198.18.0.1", "198.18.0.11"}


@pytest.mark.parametrize("command", ["report", "packets", "follow", "ladder", "extract", "live"])
@pytest.mark.parametrize("value", ["70000", "0", "-1", "65536", "x"])
def test_udp_port_checked_by_argparse(command, value, capsys):
    """Item 12: ports 1-65535 for every command, one usage error (exit 2), no traceback."""
    extra = {"follow": ["-a", "1"], "ladder": ["-a", "1"], "extract": ["-a", "1", "-w", "/dev/null"],
             "live": ["-i", "lo"]}.get(command, [])
    args = [command] + ([] if command == "live" else [str(CAPTURES / "pkts__sctp.cap")]) + extra
    with pytest.raises(SystemExit) as e:
        main(args + ["--sctp-udp-port", value])
    assert e.value.code == 2
    err = capsys.readouterr().err
    assert "argument --sctp-udp-port" in err and "1-65535" in err and "Traceback" not in err


def test_many_associations_one_server(tmp_path, capsys):
    """Item 11: 3,000 associations one after the other to 198.18.0.2:6000: one server of 3,000 associations,
    never two up at once (the generator closes each before the next begins), in seconds; the JSON written
    one association at a time is the text of the whole document encoded at once."""
    import json
    path = h.many_associations(tmp_path / "many.pcap", 3000)
    t0 = time.monotonic()
    assert main(["report", "--json", "-j", "1", str(path)]) == 0
    assert time.monotonic() - t0 < 30
    text = capsys.readouterr().out
    doc = json.loads(text)
    assert len(doc["associations"]) == doc["totals"]["associations"] == 3000
    assert [(s["port"], len(s["associations"]), s["max_concurrent"], s["closed_while_others_open"])
            for s in doc["servers"]] == [(6000, 3000, 1, 0)]
    assert all(a["state"] == "closed" and a["truncated"] == {"events": 0, "anomalies": 0, "primary_path_changes": 0,
                                                             "abort_causes": 0, "pending_fragments": 0}
               for a in doc["associations"])
    assert text == json.dumps(report(path), indent=1) + "\n"


def test_closed_while_others_open_matches_the_definition():
    """servers' O(n log n) count: a span counts when another one, begun before its end, ends after it."""
    import random
    from sctpscope.analysis.servers import _ended_early
    rng = random.Random(15)
    for _ in range(2000):
        spans = []
        for _ in range(rng.randint(0, 9)):
            a = rng.randint(0, 6)
            spans.append((float(a), float(a + rng.randint(0, 4))))
        expected = sum(1 for i, s in enumerate(spans)
                       if any(o[1] > s[1] and o[0] < s[1] for j, o in enumerate(spans) if j != i))
        assert _ended_early(spans) == expected, spans
