"""Acknowledgement accounting checked against tshark on captures with loss (usrsctp peers)."""
from __future__ import annotations

import json
import subprocess

import pytest

from conftest import CAPTURES, run_sctpscope, tshark_required

pytestmark = [pytest.mark.tshark, tshark_required]

LOSSY = ["scenario__loss_retransmit.pcapng", "usrsctp__echo_rtx_ipv4.pcapng", "scenario__multihoming_failover.pcapng"]


def _tshark_counts(path, port: int, field: str) -> int:
    """How many `field` values tshark decodes in SACKs sent from `port`."""
    out = subprocess.run(["tshark", "-n", "-r", str(path), "-Y", f"sctp.srcport == {port} && sctp.chunk_type == 3",
                          "-T", "fields", "-e", field], capture_output=True, text=True, check=True).stdout
    return sum(len([v for v in line.split(",") if v]) for line in out.splitlines())


@pytest.mark.parametrize("name", LOSSY)
def test_sack_statistics_equal_tshark(name):
    path = CAPTURES / name
    doc = json.loads(run_sctpscope("report", "--json", path, check=True).stdout)
    for a in doc["associations"]:
        for side, other in (("initiator", "responder"), ("responder", "initiator")):
            acks = a["acknowledgements"][side]          # SACKs come from the other side
            port = a[other]["port"]
            assert acks["sacks"] == a["chunks"][other].get("SACK", 0)
            assert acks["gap_blocks"] == _tshark_counts(path, port, "sctp.sack_gap_block_start")
            assert acks["duplicate_tsns_reported"] == _tshark_counts(path, port, "sctp.sack_duplicate_tsn")


def test_karn_rule_on_loss_capture():
    """20 messages, 4 of them retransmitted (tshark's sctp.retransmission): 20 TSNs acked, 16 RTT samples."""
    doc = json.loads(run_sctpscope("report", "--json", CAPTURES / "scenario__loss_retransmit.pcapng",
                                   check=True).stdout)
    (a,) = doc["associations"]
    retx = a["retransmissions"]["initiator"]
    acks = a["acknowledgements"]["initiator"]
    assert acks["tsns_acked"] == 20
    assert acks["ack_rtt"]["count"] == 20 - retx
    assert 0 < acks["ack_rtt"]["min"] <= acks["ack_rtt"]["mean"] <= acks["ack_rtt"]["max"]
