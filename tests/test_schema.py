"""The shipped JSON Schema (sctpscope/report/schema.json) validates the report of every capture."""
from __future__ import annotations

import json
from importlib import resources

import jsonschema
import pytest

from conftest import all_captures
from sctpscope.analysis.runner import analyse
from sctpscope.report.document import build_report

SCHEMA = json.loads(resources.files("sctpscope.report").joinpath("schema.json").read_text())


@pytest.mark.parametrize("path", all_captures(), ids=lambda p: p.name)
def test_report_validates(path):
    res = analyse([str(path)], jobs=1)
    doc = json.loads(json.dumps(build_report(res.infos, res.totals, res.associations, res.unassociated())))
    jsonschema.Draft202012Validator(SCHEMA).validate(doc)


def test_schema_rejects_a_broken_report():
    """The schema has teeth: a report missing a contract key, or with an unknown state, fails."""
    res = analyse([str(next(p for p in all_captures() if p.name == "pkts__sctp-www.cap"))], jobs=1)
    doc = json.loads(json.dumps(build_report(res.infos, res.totals, res.associations, res.unassociated())))
    v = jsonschema.Draft202012Validator(SCHEMA)
    broken = json.loads(json.dumps(doc))
    del broken["associations"][0]["ending"]
    assert not v.is_valid(broken)
    broken = json.loads(json.dumps(doc))
    broken["associations"][0]["state"] = "happy"
    assert not v.is_valid(broken)
