"""The stream ordering view (analysis.ordering, tui.widgets.ordering) and RE-CONFIG stream resets (RFC 6525).

After an Outgoing SSN Reset Request is answered "Success - Performed", the sender's SSNs on the streams it
named (all when none) start again at 0: the view shows a reset row there and restarts its SSN expectations,
so the new SSNs are neither a gap nor late.

Truths: tshark's RE-CONFIG parameters (`-T json`, every parameter with its own fields: request and response
sequence numbers, result, stream ids), the usrsctp peers' log of the stream_reset scenario (what the server
received, and when it was told its peer's streams were reset), tshark's DATA fields (SSNs per stream) of a
copy of that capture with one DATA frame left out, and the report's per-stream `ssn_gaps` / `out_of_order`
(themselves checked against tshark and the logs in test_scenarios / test_oracle).
"""
from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from conftest import CAPTURES, TSHARK, repo_captures, tshark_required
from sctpscope.analysis import ordering, timeline
from sctpscope.analysis.indexer import KEY, file_indexer, packets_of
from sctpscope.analysis.timeline import DataRef
from sctpscope.capture import open_capture
from sctpscope.capture.writer import PcapngWriter
from sctpscope.decode.sctp.chunks import ParamsChunk
from sctpscope.decode.sctp.params import OutgoingResetParam, ReconfigResponseParam, SsnTsnResetParam

RESET_CAPTURES = ["scenario__stream_reset.pcapng", "tcpdump__sctp-re-config.pcap"]
SIDES = {"initiator_to_responder": 0, "responder_to_initiator": 1}


def _analysed(path: Path):
    """(indexer, [(association dict, timeline, Resets)]) with the resets collected as the timeline is built."""
    ix = file_indexer([str(path)])
    while not ix.step(0.5):
        pass
    out = []
    for a in ix.result.associations:
        resets = ordering.Resets()
        tl = timeline.build(resets.watch(packets_of(ix.frames_of(a[KEY]), ix.store, ix.decoder())))
        out.append((a, tl, resets))
    return ix, out


def _pairs(obj, key: str) -> list:
    """Every value under `key` in tshark's JSON kept as lists of (key, value) pairs (keys repeat there)."""
    found = []
    if isinstance(obj, list):
        for item in obj:
            if isinstance(item, tuple):
                k, v = item
                if k == key:
                    found.append(v)
                found += _pairs(v, key)
            else:
                found += _pairs(item, key)
    return found


def _field(param: list, name: str) -> list[str]:
    return [v for k, v in param if k == name]


def tshark_performed(path: Path) -> list[tuple[int, str, tuple[int, ...]]]:
    """(frame of the response, address that sent the request, stream ids) of every Outgoing SSN Reset Request
    (0x000d) answered by the peer with result 1 (Success - Performed), from tshark's parameters."""
    out = subprocess.run([TSHARK, "-n", "-r", str(path), "-Y", "sctp.chunk_type == 130", "-T", "json"],
                         capture_output=True, text=True, check=True).stdout
    asked: dict[tuple[str, str], tuple[int, ...]] = {}
    done = []
    for pkt in json.loads(out, object_pairs_hook=list):
        layers = _pairs(pkt, "layers")[0]
        frame = int(_pairs(layers, "frame.number")[0])
        src = _pairs(layers, "ip.src")[0]
        for chunk in _pairs(layers, "RE_CONFIG chunk"):
            for _, param in chunk:
                if not isinstance(param, list) or not _field(param, "sctp.parameter_type"):
                    continue
                kind = _field(param, "sctp.parameter_type")[0]
                if kind == "0x000d":
                    seq = _field(param, "sctp.parameter_reconfig_request_sequence_number")[0]
                    asked[(src, seq)] = tuple(int(s) for s in _field(param, "sctp.parameter_reconfig_sid"))
                elif kind == "0x0010":
                    seq = _field(param, "sctp.parameter_reconfig_response_sequence_number")[0]
                    result = _field(param, "sctp.parameter_reconfig_response_result")[0]
                    req = next(((s, q) for s, q in asked if q == seq and s != src), None)
                    if req is not None and result == "1":
                        done.append((frame, req[0], asked.pop(req)))
    return done


# -- where the resets are ------------------------------------------------------------------------------------
@tshark_required
@pytest.mark.parametrize("name", RESET_CAPTURES)
def test_resets_are_where_tshark_shows_the_performed_response(name):
    """Every reset Resets finds is an Outgoing SSN Reset Request answered "Success - Performed", at the frame
    of that response, for the side that asked and the streams it named; and none other."""
    want = tshark_performed(CAPTURES / name)
    assert want
    _, analysed = _analysed(CAPTURES / name)
    got = []
    for a, _, resets in analysed:
        sides = {addr: 0 for addr in a["initiator"]["addresses"]} | {addr: 1 for addr in a["responder"]["addresses"]}
        for side, r in resets.done:
            assert not r.ssn_tsn
            got.append((r.frame, side, r.sids))
        want_here = [(f, sides[src], sids) for f, src, sids in want if src in sides]
        assert sorted(got) == sorted(want_here)
    assert len(got) == len(want)


@tshark_required
@pytest.mark.parametrize("name", RESET_CAPTURES)
def test_ordering_counts_are_the_reports(name):
    """For every stream of the report: the view's SSNs never seen (`missing`) are the report's `ssn_gaps`, its
    late messages its `out_of_order`; with the resets, no false gap or late arrival after one (both zero
    here: tshark's SSNs per stream only ever go up by one, each reset starting them again at 0)."""
    path = CAPTURES / name
    _, analysed = _analysed(path)
    resets_seen = 0
    for a, tl, resets in analysed:
        for s in a["streams"]:
            k = (SIDES[s["direction"]], s["sid"])
            so = ordering.stream_order(tl.data.get(k, ()), resets.of(*k))
            assert (so.missing, so.late) == (s["ssn_gaps"], s["out_of_order"]) == (0, 0)
            assert so.gaps == 0 and so.blocked == 0
            resets_seen += len(so.resets)
    assert resets_seen


@tshark_required
def test_stream_reset_scenario_rows_are_what_the_server_got():
    """stream_reset: the client resets its streams 1 and 2. Per stream, the view's rows are the server's
    `recv` lines (SSNs) in order, with one reset row where the server was told of the reset (its
    STREAM_RESET notification), at tshark's response frame; stream 0 was not reset and has no such row."""
    from tui_support import scenario_log

    log = scenario_log("stream_reset")
    told = next(e for e in log if e["role"] == "server" and e["ev"] == "notify" and e["type"] == "STREAM_RESET")
    ((frame, _, sids),) = tshark_performed(CAPTURES / "scenario__stream_reset.pcapng")
    assert sorted(sids) == sorted(told["streams"]) == [1, 2]
    _, ((a, tl, resets),) = _analysed(CAPTURES / "scenario__stream_reset.pcapng")
    recv = [e for e in log if e["role"] == "server" and e["ev"] == "recv"]
    for sid in sorted({e["sid"] for e in recv}):
        want: list = [e["ssn"] for e in recv if e["sid"] == sid and e["t"] < told["t"]]
        if sid in told["streams"]:
            want.append("RESET")
        want += [e["ssn"] for e in recv if e["sid"] == sid and e["t"] > told["t"]]
        rows = ordering.stream_order(tl.data[(0, sid)], resets.of(0, sid)).rows()
        assert ["RESET" if isinstance(r, ordering.Reset) else r.seq for r in rows] == want
        for i, r in enumerate(rows):
            if isinstance(r, ordering.Reset):
                assert r.frame == frame
                assert all(m.frame_last < frame for m in rows[:i]) and all(m.frame_first > frame for m in rows[i + 1:])


def _rewritten(src: Path, dst: Path, *, drop: int = 0, swap: tuple[int, ...] = ()) -> Path:
    """A copy of a capture without frame `drop` and with the bytes of each pair of frames in `swap` (a, b, c,
    d: a with b, c with d) exchanged, times kept in place; the other frames byte for byte."""
    with open_capture(src) as cap:
        frames = [fr for fr in cap if fr.number != drop]
    data = {fr.number: fr for fr in frames}
    pairs = dict(zip(swap[::2], swap[1::2]))
    pairs |= {b: a for a, b in pairs.items()}
    with PcapngWriter(dst) as w:
        ifaces: dict[int, int] = {}
        for fr in frames:
            body = data[pairs.get(fr.number, fr.number)]
            if body.linktype not in ifaces:
                ifaces[body.linktype] = w.add_interface(body.linktype, snaplen=0)
            w.write_packet(ifaces[body.linktype], fr.ts, body.data, body.orig_len)
    return dst


def _tshark_column(path: Path, display_filter: str, field: str) -> list[str]:
    return subprocess.run([TSHARK, "-n", "-r", str(path), "-Y", display_filter, "-T", "fields", "-e", field],
                          capture_output=True, text=True, check=True).stdout.split()


@tshark_required
def test_a_gap_before_the_reset_stays_before_it(tmp_path):
    """stream_reset without the frame of stream 1's SSN 1 (tshark: SSNs 0, 2, then 0, 1 after the reset
    response): SSN 2 comes after a gap and waits for SSN 1 for ever; after the reset SSNs 0 and 1 are in
    order, not late (without the reset, SSN 1 would look late and let the old SSN 2 through). The view's
    counts equal the report's for the copy: one SSN never seen, nothing out of order."""
    src = CAPTURES / "scenario__stream_reset.pcapng"
    drop = int(_tshark_column(src, "sctp.data_sid == 1 && sctp.data_ssn == 1", "frame.number")[0])
    path = _rewritten(src, tmp_path / "lost_ssn.pcapng", drop=drop)    # the SSN 1 before the reset
    assert _tshark_column(path, "sctp.data_sid == 1", "sctp.data_ssn") == ["0", "2", "0", "1"]
    ((frame, _, _),) = tshark_performed(path)
    _, ((a, tl, resets),) = _analysed(path)
    so = ordering.stream_order(tl.data[(0, 1)], resets.of(0, 1))
    shown = ["RESET" if isinstance(r, ordering.Reset) else r.seq for r in so.rows()]
    assert shown == [0, 2, "RESET", 0, 1] and so.resets[0][1].frame == frame
    old2, new0, new1 = so.messages[1], so.messages[2], so.messages[3]
    assert old2.missing_before == (1, 1) and old2.delivered is None and old2.blocked_by == 1
    assert not new0.late and not new1.late and new0.wait == 0 and new1.wait == 0
    (s1,) = [s for s in a["streams"] if s["direction"] == "initiator_to_responder" and s["sid"] == 1]
    assert (so.missing, so.late) == (s1["ssn_gaps"], s1["out_of_order"]) == (1, 0)
    blind = ordering.stream_order(tl.data[(0, 1)])                # the same stream with no reset known
    assert blind.messages[3].late and blind.messages[1].delivered is not None


@tshark_required
def test_late_arrivals_on_both_sides_of_the_reset(tmp_path):
    """stream_reset with stream 1's SSNs 1 and 2 swapped before the reset and its new SSNs 0 and 1 swapped
    after it (tshark: 0, 2, 1, then 1, 0): one late arrival on each side of the reset, no SSN missing, as
    the report counts them for the copy."""
    src = CAPTURES / "scenario__stream_reset.pcapng"
    frames = [int(f) for f in _tshark_column(src, "sctp.data_sid == 1", "frame.number")]
    assert len(frames) == 5
    path = _rewritten(src, tmp_path / "swapped.pcapng", swap=(frames[1], frames[2], frames[3], frames[4]))
    assert _tshark_column(path, "sctp.data_sid == 1", "sctp.data_ssn") == ["0", "2", "1", "1", "0"]
    _, ((a, tl, resets),) = _analysed(path)
    so = ordering.stream_order(tl.data[(0, 1)], resets.of(0, 1))
    assert [r.seq if isinstance(r, ordering.Message) else "RESET" for r in so.rows()] == [0, 2, 1, "RESET", 1, 0]
    assert [m.late for m in so.messages] == [False, False, True, False, True]
    (s1,) = [s for s in a["streams"] if s["direction"] == "initiator_to_responder" and s["sid"] == 1]
    assert (so.late, so.missing) == (s1["out_of_order"], s1["ssn_gaps"]) == (2, 0)


@pytest.mark.parametrize("path", repo_captures(), ids=lambda p: p.name)
def test_every_stream_agrees_with_the_report(path):
    """On every capture here: per stream, the view's `missing` and `late` are the report's `ssn_gaps` and
    `out_of_order` (the report counts them as it goes, the view from the messages in arrival order)."""
    _, analysed = _analysed(path)
    for a, tl, resets in analysed:
        for s in a["streams"]:
            k = (SIDES[s["direction"]], s["sid"])
            so = ordering.stream_order(tl.data.get(k, ()), resets.of(*k))
            assert (so.missing, so.late) == (s["ssn_gaps"], s["out_of_order"]), (a["id"], k)


# -- the rule, by hand ---------------------------------------------------------------------------------------
class _Rec:
    """Just what Resets reads of an SctpRecord: the packet's chunks."""

    def __init__(self, *params) -> None:
        self.packet = type("P", (), {"chunks": [ParamsChunk(130, 0, 0, 0, list(params))]})()


def _out(req: int, sids=()) -> OutgoingResetParam:
    return OutgoingResetParam(13, 16 + 2 * len(sids), 0, True, req, 0, 0, list(sids))


def _resp(seq: int, result: int) -> ReconfigResponseParam:
    return ReconfigResponseParam(16, 12, 0, True, seq, result)


def test_only_a_performed_response_resets():
    """RFC 6525 §4.4 results: "In progress" (6) keeps the request waiting (it is sent again), "Success -
    Performed" (1) performs it at that response; "Denied" (2) drops it; a response from the requester's own
    side answers nothing; an SSN/TSN Reset Request performed resets every stream both ways."""
    rs = ordering.Resets()
    rs.packet(10, 1.0, 0, _Rec(_out(100, [3])))
    rs.packet(11, 1.1, 1, _Rec(_resp(100, 6)))           # in progress
    rs.packet(12, 1.2, 0, _Rec(_resp(100, 1)))           # from the requester's own side: not an answer
    rs.packet(20, 2.0, 0, _Rec(_out(100, [3])))          # sent again
    rs.packet(21, 2.1, 1, _Rec(_resp(100, 1)))           # performed
    rs.packet(30, 3.0, 1, _Rec(_out(7)))                 # the responder asks for all its streams...
    rs.packet(31, 3.1, 0, _Rec(_resp(7, 2)))             # ...denied
    rs.packet(40, 4.0, 1, _Rec(SsnTsnResetParam(15, 8, 0, True, 8)))
    rs.packet(41, 4.1, 0, _Rec(_resp(8, 1)))
    assert [(r.frame, r.request_frame) for r in rs.of(0, 3)] == [(21, 20), (41, 40)]
    assert [r.frame for r in rs.of(0, 2)] == [41] and [r.frame for r in rs.of(1, 3)] == [41]
    assert rs.of(0, 3)[1].ssn_tsn and not rs.requests


def _ref(frame: int, tsn: int, ssn: int) -> DataRef:
    return DataRef(frame, float(frame), tsn, ssn, 0, 3, 46, 100, False, False)


def test_ssns_from_zero_after_a_high_ssn_are_no_gap():
    """SSNs 40000, 40001, a reset, then 0, 1: 0 is 25535 after 40001 in 16-bit serial arithmetic, a gap of
    25534 SSNs to a view that does not know of the reset; with it, no gap, nothing missing, nothing late."""
    refs = [_ref(1, 10, 40000), _ref(2, 11, 40001), _ref(4, 12, 0), _ref(5, 13, 1)]
    reset = ordering.Reset(3, 3.0, 2, 1, ())
    blind = ordering.stream_order(refs)
    assert blind.messages[2].missing_before == (40002, 65535) and blind.missing == 25534
    so = ordering.stream_order(refs, [reset])
    assert so.resets == [(2, reset)] and (so.gaps, so.late, so.missing, so.blocked) == (0, 0, 0, 0)
    assert [r if isinstance(r, ordering.Reset) else r.seq for r in so.rows()] == [40000, 40001, reset, 0, 1]


def test_gaps_of_earlier_resets_count_once():
    """SSNs 0, 2 (SSN 1 never seen), a reset, 0, 1, a reset: one SSN missing in all, for the view and for the
    report's per-stream counter alike."""
    from sctpscope.analysis.streams import StreamStats

    refs = [_ref(1, 10, 0), _ref(2, 11, 2), _ref(4, 12, 0), _ref(5, 13, 1)]
    so = ordering.stream_order(refs, [ordering.Reset(3, 3.0, 3, 1, ()), ordering.Reset(6, 6.0, 6, 2, ())])
    stats = StreamStats(0)
    for r in so.rows():
        if isinstance(r, ordering.Reset):
            stats.reset()
        else:
            stats.message(r.unordered, r.seq, r.ppid, r.chunks)
    assert so.missing == 1
    assert stats.ssn_gaps() == so.missing


# -- the view ------------------------------------------------------------------------------------------------
@tshark_required
def test_view_draws_the_reset_row():
    """The ordering widget alone (given the order): the reset row names tshark's response and request frames
    and the streams; a reset row is no message (enter opens none), the message rows stay as before."""
    pytest.importorskip("textual")
    import asyncio

    from textual.app import App

    from sctpscope.tui.widgets.ordering import OrderingView

    ((frame, _, sids),) = tshark_performed(CAPTURES / "scenario__stream_reset.pcapng")
    req = subprocess.run([TSHARK, "-n", "-r", str(CAPTURES / "scenario__stream_reset.pcapng"), "-Y",
                          "sctp.parameter_type == 0x000d", "-T", "fields", "-e", "frame.number"],
                         capture_output=True, text=True, check=True).stdout.split()
    _, ((a, tl, resets),) = _analysed(CAPTURES / "scenario__stream_reset.pcapng")
    so = ordering.stream_order(tl.data[(0, 2)], resets.of(0, 2))

    class One(App):
        def compose(self):
            yield OrderingView(id="ordering")

    async def run() -> list[str]:
        app = One()
        async with app.run_test(size=(160, 20)) as pilot:
            view = app.query_one(OrderingView)
            view.show(so, a["start"])
            await pilot.pause()
            texts = [view.render_row(i, 160).plain for i in range(view.row_count())]
            k = next(i for i, t in enumerate(texts) if "RESET" in t)
            assert view.message_at(k) is None and isinstance(view.row_at(k), ordering.Reset)
            assert view.message_at(k + 1) is so.messages[k]
            return texts

    texts = asyncio.run(run())
    (line,) = [t for t in texts if "RESET" in t]
    assert line.split()[1] == str(frame) and f"of frame {req[0]}," in line
    assert f"streams {','.join(map(str, sids))}" in line and "SSNs start again at 0" in line
    assert len(texts) == len(so.messages) + 1


@tshark_required
def test_streams_tab_shows_the_reset_and_opens_its_packet():
    """Pilot: Streams tab (3), stream I→R/1 of stream_reset, enter into its ordering view: the reset row sits
    between the old SSN 2 and the new SSN 0; enter on it opens tshark's response frame."""
    pytest.importorskip("textual")
    import asyncio

    from textual.widgets import DataTable

    from sctpscope.tui.app import make_app
    from sctpscope.tui.screens.packet import PacketScreen
    from tui_support import SIZE, loaded, settle

    ((frame, _, _),) = tshark_performed(CAPTURES / "scenario__stream_reset.pcapng")

    async def run() -> None:
        app = make_app(CAPTURES / "scenario__stream_reset.pcapng")
        async with app.run_test(size=SIZE) as pilot:
            await loaded(app, pilot)
            await pilot.press("enter", "3")
            await settle(app, pilot)
            table = app.screen.query_one("#streams-table", DataTable)
            while table.coordinate_to_cell_key(table.cursor_coordinate).row_key.value != "I→R/1":
                await pilot.press("down")
            await pilot.press("enter")
            await pilot.pause()
            view = app.screen.query_one("#ordering")
            cols = [view.render_row(i, 140).plain.split() for i in range(view.row_count())]
            assert [c[0] if c[0] == "RESET" else c[1] for c in cols] == ["0", "1", "2", "RESET", "0", "1"]
            await pilot.press("down", "down", "down", "enter")
            await pilot.pause()
            assert isinstance(app.screen, PacketScreen) and app.screen.frame == frame

    asyncio.run(run())
