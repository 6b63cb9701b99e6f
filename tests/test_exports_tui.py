"""The export dialog (x) driven with Pilot: pcapng of several associations, the JSON report, the ladder as text
and SVG, and the errors it shows instead of writing.

Truths: tshark (frames on the clients' ports, chunk types), the original capture's report for the same
associations (the pcapng read back must give the same figures), `sctpscope report --json --filter
'association == 1 || association == 3'` run as a separate process (the JSON export must be that, byte for
byte) and the report's JSON Schema; the Timeline tab's own rows (the text export must be those rows).
"""
from __future__ import annotations

import json
import subprocess
import xml.etree.ElementTree as ET
from collections import Counter
from importlib import resources

import pytest

pytest.importorskip("textual")

import jsonschema  # noqa: E402
from textual.widgets import Input, Static  # noqa: E402

from conftest import CAPTURES, TSHARK, run_sctpscope, tshark_required  # noqa: E402
from sctpscope.decode.sctp import chunk_name  # noqa: E402
from sctpscope.export.ladder import fitting_width  # noqa: E402
from sctpscope.tui.app import make_app  # noqa: E402
from sctpscope.tui.dialogs.export import ExportDialog  # noqa: E402
from sctpscope.tui.screens.association import AssociationScreen  # noqa: E402
from tui_support import SIZE, loaded, pilot_test, plain, scenario_log, settle, tshark_fields  # noqa: E402

CHAT = "scenario__sendall_chat.pcapng"
SCHEMA = json.loads(resources.files("sctpscope.report").joinpath("schema.json").read_text())


@pytest.fixture(autouse=True)
def _own_state(tmp_path, monkeypatch):
    """Recent files and bookmarks go to a directory of this test, never to the user's."""
    monkeypatch.setenv("SCTPSCOPE_STATE_DIR", str(tmp_path / "state"))


def client_ports(*roles: str) -> list[int]:
    starts = {r["role"]: r for r in scenario_log("sendall_chat") if r["ev"] == "start"}
    return [starts[r]["lport"] for r in roles]


async def retype(pilot, selector: str, text: str) -> None:
    """Click the input, empty it and type `text` key by key."""
    await pilot.click(selector)
    await pilot.press("ctrl+a", "ctrl+k", *text)


async def export(app, pilot, *, fmt: str | None = None, ids: str | None = None, path=None) -> ExportDialog:
    """x on the current screen, then choose the format (a click on its radio button), ids and path; enter.
    Returns the dialog (still open when it shows an error)."""
    await pilot.press("x")
    await pilot.pause()
    dialog = app.screen
    assert isinstance(dialog, ExportDialog)
    if fmt is not None:
        await pilot.click(f"#format-{fmt}")
    if ids is not None:
        await retype(pilot, "#export-ids", ids)
    if path is not None:
        await retype(pilot, "#export-path", str(path))
    await pilot.press("enter")
    await settle(app, pilot)
    return dialog


def error_of(dialog) -> str:
    box = dialog.query_one("#export-error", Static)
    return plain(box) if box.display else ""


def _tshark_count(path, display_filter: str | None = None) -> int:
    args = [TSHARK, "-n", "-r", str(path), "-T", "fields", "-e", "frame.number"]
    if display_filter:
        args += ["-Y", display_filter]
    return len(subprocess.run(args, capture_output=True, text=True, check=True).stdout.split())


def _report(path) -> dict:
    return json.loads(run_sctpscope("report", "--json", path, check=True).stdout)


def _figures(a: dict) -> dict:
    """What an association is, without its frame numbers and id (which an extract renumbers)."""
    return {"ports": (a["initiator"]["port"], a["responder"]["port"]), "tags": (a["initiator"]["vtag"],
            a["responder"]["vtag"]), **{k: a.get(k) for k in ("state", "packets", "chunks")}}


@tshark_required
@pilot_test
async def test_export_two_associations_to_pcapng(tmp_path):
    """ids "1, 3" typed in the dialog: tshark reads exactly the frames of c1's and c3's ports from the file,
    and `sctpscope report` on it gives the original's two associations (ports, tags, state, packets, chunks)."""
    p1, p3 = client_ports("c1", "c3")
    out = tmp_path / "two.pcapng"
    app = make_app(CAPTURES / CHAT)
    async with app.run_test(size=SIZE) as pilot:
        await loaded(app, pilot)
        await export(app, pilot, ids="1, 3", path=out)
        assert not isinstance(app.screen, ExportDialog)          # no error: the dialog closed
        assert app.last_export == f"wrote {_tshark_count(out)} frames of associations 1, 3 to {out}"
    assert _tshark_count(out) == _tshark_count(CAPTURES / CHAT, f"sctp.port == {p1} || sctp.port == {p3}") > 0
    original = [a for a in _report(CAPTURES / CHAT)["associations"] if a["id"] in (1, 3)]
    again = _report(out)["associations"]
    assert [a["initiator"]["port"] for a in original] == [p1, p3]
    assert [_figures(a) for a in again] == [_figures(a) for a in original]


@pilot_test
async def test_export_json_is_the_filtered_report(tmp_path):
    """JSON of associations 1 and 3: the same text `report --json --filter 'association == 1 || association
    == 3'` prints, valid against the report schema, holding exactly c1's and c3's associations."""
    out = tmp_path / "two.json"
    app = make_app(CAPTURES / CHAT)
    async with app.run_test(size=SIZE) as pilot:
        await loaded(app, pilot)
        await export(app, pilot, fmt="json", ids="1,3", path=out)
        assert app.last_export == f"wrote the JSON report of associations 1, 3 to {out}"
    cli = run_sctpscope("report", "--json", "--filter", "association == 1 || association == 3", CAPTURES / CHAT,
                        check=True).stdout
    mine = out.read_text(encoding="utf-8")
    assert mine == cli
    doc = json.loads(mine)
    jsonschema.Draft202012Validator(SCHEMA).validate(doc)
    assert [a["initiator"]["port"] for a in doc["associations"]] == client_ports("c1", "c3")


@tshark_required
@pilot_test
async def test_export_ladder_text_is_the_timeline_tabs_rows(tmp_path):
    """From the association screen (x prefills its id): the text ladder's arrow lines are the Timeline tab's
    rows, every run unfolded, at the same width; one per chunk tshark sees on c2's port."""
    (port,) = client_ports("c2")
    out = tmp_path / "c2.txt"
    app = make_app(CAPTURES / CHAT)
    async with app.run_test(size=SIZE) as pilot:
        await loaded(app, pilot)
        await pilot.press("down", "enter", "2")
        await settle(app, pilot)
        screen = app.screen
        assert isinstance(screen, AssociationScreen) and screen.association["initiator"]["port"] == port
        await pilot.press("c")                                   # unfold every DATA/SACK run
        ladder = screen.query_one("#ladder")
        width = fitting_width(ladder.timeline)
        shown = [ladder.render_row(i, width).plain for i in range(ladder.row_count()) if ladder.rows[i] >= 0]
        await pilot.press("x")
        await pilot.pause()
        assert app.screen.query_one("#export-ids", Input).value == "2"       # prefilled with this association
        await pilot.click("#format-text")
        await retype(pilot, "#export-path", str(out))
        await pilot.press("enter")
        await settle(app, pilot)
    lines = out.read_text(encoding="utf-8").splitlines()
    assert lines[0].startswith(f"association 2: 198.18.1.1:{port} ⇄")
    assert lines[2:] == shown
    types = [t for (ts,) in tshark_fields(CHAT, f"sctp.port == {port}", "sctp.chunk_type") for t in ts.split(",")]
    assert len(shown) == len(types)
    assert Counter(line.split("│")[1].strip("─▶◀ ").split()[0] for line in shown) == \
        Counter(chunk_name(int(t)) for t in types)


@tshark_required
@pilot_test
async def test_export_ladder_svg(tmp_path, monkeypatch):
    """SVG of associations 2-3 under the default name (which follows the format and the ids): valid XML,
    one arrow group per chunk tshark sees on c2's and c3's ports, in frame order."""
    monkeypatch.chdir(tmp_path)                   # the default name is relative to the working directory
    ports = client_ports("c2", "c3")
    app = make_app(CAPTURES / CHAT)
    async with app.run_test(size=SIZE) as pilot:
        await loaded(app, pilot)
        await pilot.press("x")
        await pilot.pause()
        await pilot.click("#format-svg")
        await retype(pilot, "#export-ids", "2-3")
        assert app.screen.query_one("#export-path", Input).value == "scenario__sendall_chat-assoc2-3.svg"
        await pilot.press("enter")
        await settle(app, pilot)
    written = tmp_path / "scenario__sendall_chat-assoc2-3.svg"
    assert app.last_export.startswith("wrote the ladder of associations 2, 3 (")
    assert app.last_export.endswith(f"chunks, svg) to {written.name}")
    root = ET.parse(written).getroot()
    sections = [g for g in root.iter("{http://www.w3.org/2000/svg}g") if g.get("class") == "association"]
    assert [g.get("data-id") for g in sections] == ["2", "3"]
    for port, section in zip(ports, sections):
        types = [int(t) for (ts,) in tshark_fields(CHAT, f"sctp.port == {port}", "sctp.chunk_type")
                 for t in ts.split(",")]
        chunks = [int(g.get("data-type")) for g in section.iter("{http://www.w3.org/2000/svg}g")
                  if "chunk" in g.get("class", "").split()]
        assert chunks == types


@pilot_test
async def test_dialog_shows_errors_and_asks_before_overwriting(tmp_path):
    """Bad ids, an id the capture lacks, a missing directory, a directory, the capture itself: each is one
    line in the dialog, which stays open; an existing file is overwritten only on a second enter."""
    app = make_app(CAPTURES / CHAT)
    async with app.run_test(size=SIZE) as pilot:
        await loaded(app, pilot)
        dialog = await export(app, pilot, ids="2-1")
        assert app.screen is dialog and "not an association id or range: '2-1'" in error_of(dialog)
        await retype(pilot, "#export-ids", "1, x")
        await pilot.press("enter")
        assert "not an association id or range: 'x'" in error_of(dialog)
        await retype(pilot, "#export-ids", "3, 7")
        await pilot.press("enter")
        assert error_of(dialog) == "no association 7 (this capture has associations 1..3)"
        await retype(pilot, "#export-ids", "3")
        await retype(pilot, "#export-path", str(tmp_path / "no" / "x.pcapng"))
        await pilot.press("enter")
        assert error_of(dialog) == f"cannot write {tmp_path / 'no' / 'x.pcapng'}: no directory {tmp_path / 'no'}"
        await retype(pilot, "#export-path", str(tmp_path))
        await pilot.press("enter")
        assert error_of(dialog) == f"{tmp_path} is a directory: add a file name"
        await retype(pilot, "#export-path", str(CAPTURES / CHAT))
        await pilot.press("enter")
        assert "is one of the capture files" in error_of(dialog)
        old = tmp_path / "old.json"
        old.write_text("keep?")
        await pilot.click("#format-json")
        await retype(pilot, "#export-path", str(old))
        await pilot.press("enter")
        assert error_of(dialog) == f"{old} exists: enter again to overwrite it" and app.screen is dialog
        assert old.read_text() == "keep?"
        await pilot.press("enter")
        await settle(app, pilot)
        assert app.screen is not dialog
    assert json.loads(old.read_text())["associations"][0]["initiator"]["port"] == client_ports("c3")[0]


@pilot_test
async def test_escape_cancels_and_writes_nothing(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    app = make_app(CAPTURES / CHAT)
    async with app.run_test(size=SIZE) as pilot:
        await loaded(app, pilot)
        await pilot.press("x")
        await pilot.pause()
        assert isinstance(app.screen, ExportDialog)
        await pilot.press("escape")
        await settle(app, pilot)
        assert not isinstance(app.screen, ExportDialog) and app.last_export is None
    assert sorted(p.name for p in tmp_path.iterdir()) in ([], ["state"])
