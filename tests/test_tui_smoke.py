"""Every tab of every association of a few awkward captures, in the real app (Textual's Pilot): nothing may
raise. The captures: a truncated DATA chunk header, the most chunks a packet can hold, RE-CONFIG, I-DATA with
I-FORWARD-TSN, and a multihomed failover (graphs with path changes). In each tab that lists packets the last
row is opened (its packet detail) and closed. A broader run of the same walk over every capture in
captures/ and ../shared/captures/public is in the closing notes (too slow for the suite)."""
from __future__ import annotations

import pytest

pytest.importorskip("textual")

from conftest import CAPTURES  # noqa: E402
from sctpscope.tui.app import make_app  # noqa: E402
from sctpscope.tui.screens.association import TABS, AssociationScreen  # noqa: E402
from tui_support import loaded, pilot_test, settle  # noqa: E402

AWKWARD = ["pcapflowlab__13_sctp_truncated_data_chunk_header.pcap", "suricata__sctp-max-chunks.pcap",
           "tcpdump__sctp-re-config.pcap", "scenario__partial_delivery_idata.pcapng",
           "scenario__multihoming_failover.pcapng"]
OPENS_PACKETS = {"timeline", "streams", "ending", "follow"}     # enter on a row leads further in


@pytest.mark.parametrize("name", AWKWARD)
@pilot_test
async def test_every_tab_of_every_association(name):
    app = make_app(CAPTURES / name)
    async with app.run_test(size=(140, 40)) as pilot:
        screen = await loaded(app, pilot)
        table = screen.query_one("#associations")
        count = table.row_count()
        assert count > 0
        for k in range(count):
            table.cursor = k
            await pilot.press("enter")
            await settle(app, pilot)
            assert isinstance(app.screen, AssociationScreen)
            for key, tab in enumerate(TABS, 1):
                await pilot.press(str(key))
                await settle(app, pilot)
                if tab in OPENS_PACKETS:
                    await pilot.press("end", "enter")
                    await settle(app, pilot)
                    while not isinstance(app.screen, AssociationScreen):
                        await pilot.press("escape")
                        await pilot.pause()
            await pilot.press("escape")
            await settle(app, pilot)
        assert app.screen is screen
