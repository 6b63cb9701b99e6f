"""Upper-layer one-line summaries (Diameter, M3UA, S1AP, NGAP) checked against tshark's dissection of the same
messages (`tshark -r F -Y 'sctp && PROTO' -T fields -e frame.number -e diameter.cmd.code ...`, one frame per
line, a field's values in message order) and the name tables against tshark's own (`tshark -G values`, the
Diameter dictionary tshark ships in /usr/share/wireshark/diameter)."""
from __future__ import annotations

import re
import subprocess
from collections import defaultdict
from pathlib import Path

import pytest

from conftest import CAPTURES, public_capture, tshark_required
from sctpscope.cli import run_report
from sctpscope.decode.upper import (DIAMETER_APPLICATIONS, DIAMETER_COMMANDS, M3UA_TYPES, NGAP_PROCEDURES,
                                    S1AP_PROCEDURES, summarize)
from sctpscope.export.follow import follow_messages

DICTIONARY = Path("/usr/share/wireshark/diameter")


def _norm(name: str) -> str:
    return re.sub(r"[^a-z0-9]", "", name.lower())


@tshark_required
def test_procedure_tables_are_3gpps_as_tshark_has_them():
    out = subprocess.run(["tshark", "-G", "values"], capture_output=True, text=True, check=True).stdout
    theirs: dict[str, dict[int, str]] = defaultdict(dict)
    for line in out.splitlines():
        cols = line.split("\t")
        if len(cols) == 4 and cols[0] == "V" and cols[1] in ("s1ap.procedureCode", "ngap.procedureCode"):
            theirs[cols[1]][int(cols[2])] = cols[3]
    for field, ours in (("s1ap.procedureCode", S1AP_PROCEDURES), ("ngap.procedureCode", NGAP_PROCEDURES)):
        table = theirs[field]
        assert set(ours) == set(table), field
        assert {k: _norm(v) for k, v in ours.items()} == {k: _norm(v.removeprefix("id-")) for k, v in table.items()}


@pytest.mark.skipif(not DICTIONARY.is_dir(), reason="tshark's Diameter dictionary is not installed")
def test_diameter_names_agree_with_tsharks_dictionary():
    commands: dict[int, set[str]] = defaultdict(set)
    apps: dict[int, set[str]] = defaultdict(set)
    for xml in DICTIONARY.glob("*.xml"):
        text = xml.read_text(errors="replace")
        for name, code in re.findall(r'<command\s+name="([^"]+)"\s+code="(\d+)"', text):
            commands[int(code)].add(_norm(name.removeprefix("3GPP-")))
        for code, name in re.findall(r'<application\s+id="(\d+)"\s+name="([^"]+)"', text):
            apps[int(code)].add(name)
    for code, name in DIAMETER_COMMANDS.items():
        assert _norm(name) in commands[code], (code, name, commands[code])
    for code, name in DIAMETER_APPLICATIONS.items():
        words = set(re.findall(r"[a-z0-9]+", name.lower()))
        assert any(words <= set(re.findall(r"[a-z0-9]+", t.lower())) for t in apps[code]), (code, name, apps[code])


def _ours(path) -> dict[int, list[dict]]:
    """Frame that completed a message -> the summaries' fields of the messages it completed, in order."""
    doc = run_report([str(path)], (9899,), True, 1)
    frames: dict[int, list[dict]] = defaultdict(list)
    for a in doc["associations"]:
        sel, msgs = follow_messages([str(path)], a["id"])
        for m in msgs:
            up = summarize(m.ppid, m.data, m.sport, m.dport)
            if up is not None:
                frames[max(m.frames)].append(up.fields | {"_text": up.text})
    return dict(frames)


def _tshark(path, display: str, fields: list[str]) -> dict[int, list[tuple]]:
    out = subprocess.run(["tshark", "-n", "-r", str(path), "-Y", display, "-T", "fields", "-E", "separator=;",
                          "-e", "frame.number", *[x for f in fields for x in ("-e", f)]],
                         capture_output=True, text=True, check=True).stdout
    rows = {}
    for line in out.splitlines():
        num, *cols = line.split(";")
        values = [c.split(",") if c else [] for c in cols]
        n = max(len(v) for v in values)
        rows[int(num)] = [tuple(v[i] if i < len(v) else "" for v in values) for i in range(n)]
    return rows


def _compare(ours: dict, theirs: dict, keys: list, convert=str) -> int:
    """Every frame we summarise, tshark dissects with the same values (frames we do not follow are those
    outside any association)."""
    assert ours, "no message summarised"
    for frame, ups in ours.items():
        assert frame in theirs, frame
        assert [tuple(convert(u.get(k)) for k in keys) for u in ups] == theirs[frame], frame
    return len(ours)


@tshark_required
def test_diameter_summaries_like_tshark():
    path = CAPTURES / "arkime__diameter_synthetic.pcap"
    ours = _ours(path)
    theirs = _tshark(path, "sctp && diameter",
                     ["diameter.cmd.code", "diameter.flags.request", "diameter.applicationId"])
    conv = {True: "1", False: "0"}
    assert _compare(ours, theirs, ["command_code", "request", "application_id"],
                    lambda v: conv.get(v, str(v)) if isinstance(v, bool) else str(v)) == len(theirs) == 4
    texts = sorted(u["_text"] for ups in ours.values() for u in ups)
    assert texts[0] == "Diameter Accounting Answer (271), application Diameter Base Accounting (3)"
    assert "Diameter Update-Location Request (316), application 3GPP S6a/S6d (16777251)" in texts


@tshark_required
@pytest.mark.parametrize("name", ["suricata__sctp-keywords.pcap", "arkime__m3ua_synthetic.pcap"])
def test_m3ua_summaries_like_tshark(name):
    path = CAPTURES / name
    ours = _ours(path)
    theirs = _tshark(path, "sctp && m3ua", ["m3ua.message_class", "m3ua.message_type"])
    _compare(ours, theirs, ["message_class", "message_type"])
    data = _tshark(path, "sctp && m3ua.protocol_data_opc", ["m3ua.protocol_data_opc", "m3ua.protocol_data_dpc",
                                                             "m3ua.protocol_data_si"])
    with_pd = {f: [u for u in ups if "opc" in u] for f, ups in ours.items()}
    assert _compare({f: u for f, u in with_pd.items() if u}, data, ["opc", "dpc", "si"]) >= 3
    # names: tshark's Info column names non-DATA messages (ASPUP, DAUD, ...)
    out = subprocess.run(["tshark", "-n", "-r", str(path), "-Y", "sctp && m3ua", "-T", "fields", "-e", "frame.number",
                          "-e", "_ws.col.Info"], capture_output=True, text=True, check=True).stdout
    info = {int(n): text for n, _, text in (line.partition("\t") for line in out.splitlines())}
    named = 0
    for frame, ups in ours.items():
        for u in ups:
            if u["message_class"] != 1:
                assert re.search(rf"\b{M3UA_TYPES[(u['message_class'], u['message_type'])]}\b", info[frame])
                named += 1
    assert named >= 2


@tshark_required
def test_s1ap_summary_like_tshark():
    path = CAPTURES / "pcapflowlab__16_sctp_vlan_ipv4_data_s1ap.pcap"
    ours = _ours(path)
    theirs = _tshark(path, "s1ap", ["s1ap.procedureCode"])
    assert _compare(ours, theirs, ["procedure_code"]) == 1


@tshark_required
@pytest.mark.parametrize("name,proto", [("open5gs__testattach.pcapng", "s1ap"), ("umakant__sctpnw.pcap", "ngap")])
def test_s1ap_ngap_summaries_like_tshark(name, proto):
    """Public captures (kept in ../shared only): S1AP by PPID 18, NGAP by port 38412 with PPID 0."""
    path = public_capture(name)
    ours = {f: [u for u in ups if "procedure_code" in u] for f, ups in _ours(path).items()}
    ours = {f: u for f, u in ours.items() if u}
    pdu = "s1ap.S1AP_PDU" if proto == "s1ap" else "ngap.NGAP_PDU"
    theirs = _tshark(path, f"sctp && {proto}", [f"{proto}.procedureCode", pdu])
    assert _compare(ours, theirs, ["procedure_code", "pdu"]) == len(theirs) >= 3


def test_not_what_the_ppid_says_gives_no_summary():
    """The scenario peers send text under PPIDs 46, 60 and 18: no Diameter version byte 1, no valid PER PDU
    choice, so no summary rather than a wrong one."""
    path = CAPTURES / "scenario__streams_mixed.pcapng"
    sel, msgs = follow_messages([str(path)], 1)
    msgs = [m for m in msgs if m.ppid in (46, 60, 18)]
    assert len({m.ppid for m in msgs}) == 3 and all(m.data.startswith(b"c1#") for m in msgs)
    assert [summarize(m.ppid, m.data, m.sport, m.dport) for m in msgs] == [None] * len(msgs)
