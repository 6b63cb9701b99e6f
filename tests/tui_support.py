"""Helpers shared by the terminal-UI tests: running Pilot tests, reading what the screen shows, and the
independent truths (scenario logs, tshark fields) the tests compare with."""
from __future__ import annotations

import asyncio
import functools
import html
import json
import re
import subprocess

from rich.text import Text

from conftest import CAPTURES, TSHARK

SIZE = (140, 40)


def pilot_test(fn):
    """Run an async Pilot test without an async pytest plugin (none is a dependency)."""
    @functools.wraps(fn)
    def run(*args, **kwargs):
        asyncio.run(fn(*args, **kwargs))
    return run


def scenario_log(name: str) -> list[dict]:
    """The usrsctp peers' own log of a scenario capture (captures/scenario__NAME.log.jsonl)."""
    with open(CAPTURES / f"scenario__{name}.log.jsonl", encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip()]


async def loaded(app, pilot):
    """Wait until the indexing worker has finished and the list shows its result."""
    await app.workers.wait_for_complete()
    await pilot.pause()
    return app.screen


async def settle(app, pilot):
    """Wait for every worker (the association's packets decoded again) and a repaint."""
    await pilot.pause()
    await app.workers.wait_for_complete()
    await pilot.pause()


def plain(widget) -> str:
    content = widget.content
    assert isinstance(content, Text), "packet-derived text must be a rich Text, never parsed as markup"
    return content.plain


def screen_text(app) -> str:
    """What the terminal shows, line by line, from the SVG screenshot (text only)."""
    svg = app.export_screenshot()
    lines: dict[float, list[tuple[float, str]]] = {}
    for m in re.finditer(r'<text[^>]*x="([\d.]+)" y="([\d.]+)"[^>]*>(.*?)</text>', svg):
        lines.setdefault(float(m[2]), []).append((float(m[1]), html.unescape(m[3]).replace("\xa0", " ")))
    return "\n".join("".join(t for _, t in sorted(parts)) for _, parts in sorted(lines.items()))


def tshark_fields(capture: str, display_filter: str, *fields: str, extra: tuple[str, ...] = ()) -> list[list[str]]:
    """`tshark -T fields` rows (one per frame matching the filter), each a list of the fields' values."""
    out = subprocess.run([TSHARK, "-n", "-r", str(CAPTURES / capture), *extra, "-Y", display_filter, "-T", "fields",
                          *[x for f in fields for x in ("-e", f)]], capture_output=True, text=True, check=True).stdout
    return [line.split("\t") for line in out.splitlines() if line.strip()]
