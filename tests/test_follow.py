"""Following an association: reassembled user messages, checked against what the applications received (the
usrsctp scenario logs, `recv` events: sid, ssn, first TSN, PPID, length, unordered flag) and against tshark's
own reassembly of the payload bytes (`tshark -o sctp.ulp_dissection:FALSE -T fields -e frame.number -e
data.data`: every reassembled message's bytes, in the frame that completed it)."""
from __future__ import annotations

import json
import subprocess
from collections import defaultdict

import pytest

from conftest import CAPTURES, run_sctpscope, tshark_required
from sctpscope.cli import run_report
from sctpscope.analysis.follow import preview
from sctpscope.export.follow import follow_messages

SCENARIOS = ["abort_reason", "eof_one_of_many", "init_streams", "loss_retransmit", "many_assocs",
             "multihoming_failover", "sendall_chat", "stream_reset", "streams_mixed", "udp_encap"]


def _report(path) -> dict:
    """The report as `sctpscope report --json` gives it (in process)."""
    return json.loads(json.dumps(run_report([str(path)], (9899,), True, 1)))


def _received(log: list[dict], src_port: int, dst_port: int) -> list[tuple]:
    lport = {e["role"]: e["lport"] for e in log if e["ev"] == "start"}
    return sorted((e["tsn"], e["sid"], e["ssn"], e["ppid"], e["len"], "unordered" in e["flags"]) for e in log
                  if e["ev"] == "recv" and lport[e["role"]] == dst_port and e["from_port"] == src_port)


def _messages(path, association: int, **kw) -> list:
    sel, msgs = follow_messages([str(path)], association, **kw)
    return list(msgs)


@pytest.mark.parametrize("name", SCENARIOS)
def test_messages_are_what_the_application_received(name):
    path = CAPTURES / f"scenario__{name}.pcapng"
    log = [json.loads(line) for line in (CAPTURES / f"scenario__{name}.log.jsonl").read_text().splitlines()]
    total = 0
    for a in _report(path)["associations"]:
        msgs = _messages(path, a["id"])
        # in arrival order: by the frame of the last fragment
        done = [m for m in msgs if m.complete]
        assert [max(m.frames) for m in done] == sorted(max(m.frames) for m in done)
        ports = (a["initiator"]["port"], a["responder"]["port"])
        for d, (src, dst) in enumerate((ports, ports[::-1])):
            got = sorted((m.tsn, m.sid, m.ssn, m.ppid, m.size, m.unordered) for m in done if m.direction == d)
            assert got == _received(log, src, dst), (a["id"], d)
            total += len(got)
    assert total


def test_abandoned_messages_are_on_the_wire_but_not_received():
    """PR-SCTP: every message the receiver got is followed; five more crossed the wire and were abandoned
    (FORWARD-TSN) before delivery: the sends the receiver's log lacks."""
    path = CAPTURES / "scenario__prsctp_forward_tsn.pcapng"
    log = [json.loads(line) for line in
           (CAPTURES / "scenario__prsctp_forward_tsn.log.jsonl").read_text().splitlines()]
    a = _report(path)["associations"][0]
    got = sorted((m.tsn, m.sid, m.ssn, m.ppid, m.size, m.unordered) for m in _messages(path, a["id"])
                 if m.direction == 0)
    want = _received(log, a["initiator"]["port"], a["responder"]["port"])
    assert set(want) < set(got)
    # the log's sends, numbered per stream as SSNs are: those never received are the extra ones
    sent: dict[int, int] = defaultdict(int)
    lost = []
    received = {(x[1], x[2]) for x in want}
    for e in log:
        if e["ev"] == "send" and e["role"] == "c1":
            ssn = 0 if "unordered" in e["flags"] else sent[e["sid"]]
            sent[e["sid"]] += "unordered" not in e["flags"]
            if (e["sid"], ssn) not in received:
                lost.append((e["sid"], ssn))
    assert sorted((x[1], x[2]) for x in set(got) - set(want)) == sorted(lost)
    assert lost == [(0, 2), (0, 3), (0, 4), (0, 5), (1, 0)]


def _tshark_payloads(path) -> dict[int, list[bytes]]:
    out = subprocess.run(["tshark", "-n", "-r", str(path), "-o", "sctp.ulp_dissection:FALSE", "-Y",
                          "sctp && data", "-T", "fields", "-e", "frame.number", "-e", "data.data"],
                         capture_output=True, text=True, check=True).stdout
    frames: dict[int, list[bytes]] = {}
    for line in out.splitlines():
        num, _, hexes = line.partition("\t")
        frames[int(num)] = [bytes.fromhex(h) for h in hexes.split(",")]
    return frames


@tshark_required
@pytest.mark.parametrize("name", ["scenario__streams_mixed.pcapng", "scenario__loss_retransmit.pcapng",
                                  "usrsctp__tsctp_unordered_ipv4.pcapng", "usrsctp__tsctp_ipfrag_udpencap.pcapng"])
def test_message_bytes_are_tsharks_reassembly(name):
    """Every byte of every message (fragmented, unordered, retransmitted fragments used once) as tshark
    reassembles it, in the frame that completed it."""
    path = CAPTURES / name
    ours: dict[int, list[bytes]] = defaultdict(list)
    for a in _report(path)["associations"]:
        for m in _messages(path, a["id"], keep_bytes=None):
            assert m.complete and not m.truncated and len(m.data) == m.size
            ours[max(m.frames)].append(m.data)
    want = _tshark_payloads(path)
    assert want and dict(ours) == want


def test_preview_is_bounded_and_escaped():
    """The default keeps PREVIEW_BYTES of a 4000-byte message; previews never carry raw control bytes."""
    path = CAPTURES / "scenario__streams_mixed.pcapng"
    big = [m for m in _messages(path, 1) if m.size == 4000]
    assert big and all(len(m.data) == 4000 and not m.truncated for m in big)       # 4000 <= 4096
    small = [m for m in _messages(path, 1, keep_bytes=100) if m.size == 4000]
    assert all(len(m.data) == 100 and m.truncated for m in small)
    text = preview(small[0].data)
    assert "\x00" not in text and "\\x00" in text and text.isprintable()


@tshark_required
def test_i_data_messages_by_mid_and_fsn():
    """I-DATA (RFC 8260): messages by MID; sizes are the sum of each first-seen TSN's chunk length minus the
    20-byte header, from tshark's chunk lengths; retransmitted fragments are counted, not reused."""
    path = CAPTURES / "tcpdump__sctp-i-forward.pcap"
    out = subprocess.run(["tshark", "-n", "-r", str(path), "-Y", "sctp.chunk_type == 64", "-T", "fields", "-E",
                          "separator=;", "-e", "sctp.chunk_type", "-e", "sctp.chunk_length", "-e",
                          "sctp.data_tsn_raw", "-e", "sctp.data_mid"], capture_output=True, text=True,
                         check=True).stdout
    size: dict[int, int] = defaultdict(int)
    seen: set[int] = set()
    chunks = 0
    for line in out.splitlines():
        types, lengths, tsns, mids = (col.split(",") for col in line.split(";"))
        lengths = [int(n) for t, n in zip(types, lengths) if t == "64"]
        for n, tsn, mid in zip(lengths, tsns, mids):
            chunks += 1
            if int(tsn) not in seen:
                seen.add(int(tsn))
                size[int(mid)] += n - 20
    msgs = _messages(path, 1)
    assert {m.mid: m.size for m in msgs} == dict(size) and all(m.complete and m.idata for m in msgs)
    assert sum(m.fragments for m in msgs) == len(seen) < chunks      # each TSN once, retransmissions not reused


def test_cli_follow_stream_and_save(tmp_path):
    """`follow --stream 0 --save`: the stream's messages, listed and saved byte for byte (tshark oracle above
    covers the bytes; here: the file is the listed messages' bytes in order, sizes from the scenario log)."""
    path = CAPTURES / "scenario__streams_mixed.pcapng"
    out = tmp_path / "s0.bin"
    proc = run_sctpscope("follow", path, "--association", "1", "--stream", "0", "--save", out, check=True)
    lines = proc.stdout.splitlines()
    # the scenario's peers both ask for 8 streams each way (make_scenarios.sh: --os 8 --mis 8)
    assert lines[0] == ("association 1: 198.18.1.1:5001 ⇄ 198.18.1.2:5000 [closed], streams 0 "
                        "(negotiated I→R 8, R→I 8)")
    heads = [x for x in lines if x.startswith("#")]
    log = [json.loads(line) for line in (CAPTURES / "scenario__streams_mixed.log.jsonl").read_text().splitlines()]
    sizes = [e["len"] for e in log if e["ev"] == "recv" and e["sid"] == 0]
    assert len(heads) == len(sizes) and all(" sid 0 " in h for h in heads)
    assert lines[-1] == f"{len(sizes)} message(s), saved to {out}"
    assert len(out.read_bytes()) == sum(sizes)
    assert all("\x00" not in x for x in lines)
    one = run_sctpscope("follow", path, "-a", "1", "-s", "0", "-m", "2", check=True).stdout.splitlines()
    assert one[1].startswith("#2 ") and one[-1] == f"1 message(s) of {len(sizes)}"


def test_cli_follow_errors_are_one_line():
    path = CAPTURES / "scenario__streams_mixed.pcapng"
    proc = run_sctpscope("follow", path, "--association", "7")
    assert proc.returncode == 2 and "Traceback" not in proc.stderr
    assert proc.stderr.strip() == f"sctpscope: error: no association 7 in {path} (it has associations 1..1)"


# -- SCTP packets that crossed the path in several IP fragments ----------------------------------------------
# usrsctp__tsctp_ipfrag_udpencap: `tsctp -n 4 -l 4000` over UDP encapsulation with a route MTU of 1280 locked in
# both namespaces: usrsctp sends 1500-byte packets, the kernel splits those into two IP fragments.
IPFRAG = CAPTURES / "usrsctp__tsctp_ipfrag_udpencap.pcapng"
IPFRAG_SINK_LOG = CAPTURES / "usrsctp__tsctp_ipfrag_udpencap.server.log"


def _tshark(path, display_filter: str, *fields: str, extra: tuple[str, ...] = ()) -> list[list[str]]:
    out = subprocess.run(["tshark", "-n", "-r", str(path), *extra, "-Y", display_filter, "-T", "fields",
                          *[x for f in fields for x in ("-e", f)]], capture_output=True, text=True, check=True).stdout
    return [line.split("\t") for line in out.splitlines() if line.strip()]


def _tshark_sctp_messages(path) -> dict[int, tuple[list[int], int]]:
    """tshark's SCTP reassembly: frame that completed a message -> (frames of its fragments, its length)."""
    rows = _tshark(path, "sctp.fragments", "frame.number", "sctp.fragment", "data.len",
                   extra=("-o", "sctp.reassembly:TRUE"))
    return {int(f): ([int(x) for x in frags.split(",")], int(n)) for f, frags, n in rows}


def _sink_summary(path) -> tuple[int, int]:
    """(messages, bytes) from the tsctp sink's summary line `first_length, messages, recv_calls, bytes, ...`."""
    line = next(x for x in path.read_text().splitlines() if x.count(",") == 6 and not x.startswith(("#", "[")))
    _first, messages, _calls, total = (int(v) for v in line.split(",")[:4])
    return messages, total


@tshark_required
def test_ip_fragmented_packets_are_read_back_whole_by_frame_number():
    """Read back by frame number, as the TUI reads an association's frames, each SCTP packet tshark
    reassembles from two IP fragments (the frame of its last fragment, `sctp && ip.frag_offset > 0`) is
    whole again: the same records and bytes as the sequential walk (decoded alone, the frame carries no SCTP
    packet). The messages followed from them are tshark's SCTP reassembly, fragment frames and bytes, and
    the sink's 4 messages of 4000 bytes."""
    from sctpscope.analysis.follow import Follower
    from sctpscope.analysis.indexer import KEY, file_indexer, unpack_entry
    from sctpscope.export.walk import Rereader, walk

    fragmented = {int(f) for (f,) in _tshark(IPFRAG, "sctp && ip.frag_offset > 0", "frame.number")}
    assert len(fragmented) == 8
    walked = {rf.number: rf for rf in walk([str(IPFRAG)])}
    ix = file_indexer([str(IPFRAG)])
    while not ix.step(0.5):
        pass
    (a,) = ix.result.associations
    reader = Rereader(ix.store, ix.decoder())
    follower = Follower.for_association(a, keep_bytes=None)
    msgs, rebuilt = [], set()
    for e in ix.frames_of(a[KEY]):
        number, index, _ = unpack_entry(e)
        frame, payloads = reader.read(number)
        want = walked[number]
        assert [bytes(p) for p in payloads] == [bytes(p) for p in want.sctp_bytes]
        assert [[(c.type, getattr(c, "tsn", None)) for c in r.packet.chunks] for r in frame.sctp] == \
               [[(c.type, getattr(c, "tsn", None)) for c in r.packet.chunks] for r in want.decoded.sctp]
        if any(r.fragmented for r in frame.sctp):
            rebuilt.add(number)
            raw = ix.store.read(number)
            assert not ix.decoder().decode(number, raw.ts, raw.linktype, raw.data, raw.orig_len).sctp
        msgs += follower.packet(frame.sctp[index], payloads[index])
    msgs += follower.finish()
    assert rebuilt == fragmented
    want_msgs = _tshark_sctp_messages(IPFRAG)
    assert {max(m.frames): (m.frames, m.size) for m in msgs} == want_msgs
    assert all(m.complete for m in msgs)
    assert {max(m.frames): [m.data] for m in msgs} == _tshark_payloads(IPFRAG)
    assert (len(msgs), sum(m.size for m in msgs)) == _sink_summary(IPFRAG_SINK_LOG)


@tshark_required
def test_cli_follow_of_ip_fragmented_packets():
    """`sctpscope follow FILE -a 1` on the IP-fragmented capture: each message in tshark's reassembly, with
    its size and fragment frames."""
    lines = run_sctpscope("follow", IPFRAG, "-a", "1", check=True).stdout.splitlines()
    heads = [x for x in lines if x.startswith("#")]
    want = _tshark_sctp_messages(IPFRAG)
    assert len(heads) == len(want) == 4
    for head, (frames, size) in zip(heads, (want[k] for k in sorted(want))):
        assert f" {size} bytes in {len(frames)} chunks, frames {','.join(map(str, frames))}," in head
    assert lines[-1] == "4 message(s)"


@tshark_required
def test_tui_follow_of_ip_fragmented_packets(tmp_path):
    """Pilot: Follow tab (7) of the IP-fragmented capture: tshark's 4 messages whole (sizes, fragment frames),
    no packet left unread; W saves the stream: the sink's byte count."""
    pytest.importorskip("textual")
    import asyncio

    from sctpscope.tui.app import make_app
    from sctpscope.tui.dialogs.prompt import PromptScreen
    from tui_support import SIZE, loaded, settle

    want = _tshark_sctp_messages(IPFRAG)
    out = tmp_path / "stream.bin"

    async def run() -> None:
        app = make_app(IPFRAG)
        async with app.run_test(size=SIZE) as pilot:
            await loaded(app, pilot)
            await pilot.press("enter", "7")
            await settle(app, pilot)
            view = app.screen.query_one("#follow-list")
            assert [(m.frames, m.size, m.complete) for m in view.messages] == \
                   [(*want[k], True) for k in sorted(want)]
            assert not any("not read" in n.message for n in app._notifications)
            await pilot.press("W")
            await pilot.pause()
            assert isinstance(app.screen, PromptScreen)
            app.screen.query_one("#prompt-input").value = str(out)
            await pilot.press("enter")
            await settle(app, pilot)

    asyncio.run(run())
    assert out.stat().st_size == _sink_summary(IPFRAG_SINK_LOG)[1]
