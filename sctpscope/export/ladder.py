"""The ladder diagram (the Timeline tab) outside the terminal: `sctpscope ladder`, and the TUI's export.

One layout for every output: `step_row` / `run_row` lay a chunk (or a folded DATA/SACK run) out as styled
segments, which the Timeline tab's widget draws (tui.widgets.ladder) and `ladder_text` writes as plain text,
so the text export has exactly the rows the tab shows. `ladder_svg` draws the same steps as a sequence
diagram: two lifelines, one arrow per chunk with its label, coloured by chunk family, time on the left.

The timeline itself is analysis.timeline's, built from the association's frames decoded again
(analysis.indexer.packets_of), as the TUI builds it. Labels are terminal-safe already; the SVG escapes every
string for XML too. No textual (nor rich) here.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from xml.sax.saxutils import escape, quoteattr

from sctpscope.analysis.indexer import KEY, Indexer, file_indexer, packets_of
from sctpscope.analysis.timeline import MAX_STEPS, Run, Step, Timeline, build
from sctpscope.errors import SctpscopeError
from sctpscope.text import escape_text

MAX_LADDER_ROWS = MAX_STEPS  # text ladder: rows (chunks) per association; the timeline counts the others
MAX_SVG_ROWS = 20_000        # SVG: arrows per association; the others are counted in a note
LADDER_LEFT = 19            # frame (7), space, time (10), space
# rich style names per chunk family (the terminal), and colours (SVG); retransmissions are red in both
FAMILY_STYLES = {"data": "cyan", "sack": "blue", "handshake": "green", "heartbeat": "magenta",
                 "shutdown": "yellow", "abort": "bold red", "error": "red", "forward": "bright_magenta",
                 "reconfig": "bright_magenta", "asconf": "bright_magenta", "other": "white"}
FAMILY_COLOURS = {"data": "#0e7c86", "sack": "#1f4fbf", "handshake": "#2e8b2e", "heartbeat": "#a0309a",
                  "shutdown": "#b07800", "abort": "#c01818", "error": "#d04040", "forward": "#8a3ab9",
                  "reconfig": "#8a3ab9", "asconf": "#8a3ab9", "other": "#555555"}
RETRANSMISSION_COLOUR = "#e00000"


def _safe(s: str) -> str:
    """Terminal-safe: labels are escaped by the analysis already, so only text still holding a control
    character is escaped (again, as tui.format.safe does)."""
    if any(ord(ch) < 0x20 or ord(ch) == 0x7F or 0x80 <= ord(ch) < 0xA0 for ch in s):
        return escape_text(s)
    return s


@dataclass(slots=True)
class Row:
    """One ladder line as (text, style) segments over a base style; `plain` is what it reads."""

    segments: list[tuple[str, str]] = field(default_factory=list)
    base: str = ""

    @property
    def plain(self) -> str:
        return "".join(t for t, _ in self.segments)


def step_label(step: Step) -> str:
    """The label an arrow carries: the chunk's, with the retransmission and packet-problem marks."""
    label = _safe(step.label)
    if step.retransmission:
        label = "⟲ " + label
    if step.packet_problem:
        label = f"⚠ {label} [{_safe(step.packet_problem)}]"
    return label


def step_row(step: Step, t0: float, width: int) -> Row:
    """One chunk as an arrow between the two lanes: initiator on the left, responder on the right."""
    lane = max(12, width - LADDER_LEFT)
    inner = lane - 2
    style = "bold red" if step.retransmission else FAMILY_STYLES.get(step.family, "")
    label = step_label(step)
    body = f"─ {label} " if step.side == 0 else f" {label} ─"
    if len(body) > inner - 1:
        body = body[:inner - 2] + "…"
    fill = "─" * max(0, inner - 1 - len(body))
    row = Row([(f"{step.frame:>7} {step.ts - t0:10.6f} ", ""), ("│", "bold")], base="dim")
    if step.side == 0:
        row.segments += [(body + fill, style), ("▶", "bold " + style)]
    else:
        row.segments += [("◀", "bold " + style), (fill + body, style)]
    row.segments.append(("│", "bold"))
    return row


def run_row(run: Run, collapsed: bool, hint: bool = True) -> Row:
    """A run of DATA/SACK steps folded into one line (or its header when unfolded); `hint`: the key hint."""
    mark = "▸" if collapsed else "▾"
    parts = []
    for side, arrow in ((0, "I→R"), (1, "R→I")):
        d, s = run.data[side], run.sacks[side]
        bits = []
        if d:
            rng = run.tsn_ranges[side]
            bits.append(f"{d} DATA TSN {rng[0]}…{rng[1]}" if rng else f"{d} DATA")
        if s:
            bits.append(f"{s} SACK")
        if bits:
            parts.append(f"{arrow} " + ", ".join(bits))
    row = Row([(" " * LADDER_LEFT, ""), (f"{mark} {run.length} DATA/SACK chunks: " + "; ".join(parts), "italic")])
    if run.retransmissions:
        row.segments.append((f"  ⟲ {run.retransmissions} retransmission(s)", "bold red"))
    if hint:
        row.segments.append(("   (enter: " + ("unfold" if collapsed else "fold") + ")", "dim"))
    return row


def endpoint(ep: dict) -> str:
    """`addr:port`, with `+N` when the endpoint used or announced N more addresses (terminal-safe)."""
    addrs = ep["addresses"]
    more = f" +{len(addrs) - 1}" if len(addrs) > 1 else ""
    return f"{_safe(addrs[0]) if addrs else '?'}:{ep['port']}{more}"


def title(a: dict) -> str:
    return (f"association {a['id']}: {endpoint(a['initiator'])} ⇄ {endpoint(a['responder'])} [{_safe(a['state'])}] "
            f"frames {a['first_frame']}–{a['last_frame']}, {a['packets']} packets")


def header_line(a: dict, width: int) -> str:
    """The two lanes' names above the ladder."""
    left = f"{'frame':>7} {'time s':>10} initiator {endpoint(a['initiator'])}"
    right = f"responder {endpoint(a['responder'])}"
    return left + " " * max(1, width - len(left) - len(right)) + right


def fitting_width(tl: Timeline) -> int:
    """A width at which no label is cut (at least 100 columns)."""
    longest = max((len(step_label(s)) for s in tl.steps), default=0)
    return max(100, LADDER_LEFT + longest + 10)


def ladder_lines(a: dict, tl: Timeline, *, width: int | None = None, fold: bool = False) -> list[str]:
    """An association's ladder as text: a title, the lanes' header, then one line per chunk, as the
    Timeline tab draws them (`fold`: DATA/SACK runs folded into one line each, as the tab first shows)."""
    w = width or fitting_width(tl)
    lines = [title(a), header_line(a, w)]
    runs = {r.start: r for r in tl.runs} if fold else {}
    i, n = 0, len(tl.steps)
    while i < n:
        r = runs.get(i)
        if r is not None:
            lines.append(run_row(r, True, hint=False).plain.rstrip())
            i = r.end + 1
            continue
        lines.append(step_row(tl.steps[i], a["start"], w).plain)
        i += 1
    if tl.unreadable:
        lines.append(f"({tl.unreadable} frame(s) could not be decoded again)")
    if tl.steps_dropped:
        lines.append(f"({tl.steps_dropped} more chunk(s) not drawn: the ladder keeps {MAX_LADDER_ROWS} rows)")
    return lines


def ladder_text(items: Sequence[tuple[dict, Timeline]], *, width: int | None = None, fold: bool = False) -> str:
    """Several associations' ladders, one after the other, separated by an empty line."""
    return "\n\n".join("\n".join(ladder_lines(a, tl, width=width, fold=fold)) for a, tl in items) + "\n"


# -- SVG --------------------------------------------------------------------------------------------------------
ROW = 24                  # px per chunk
CHAR = 7.3                # px per character of the 12 px monospace font (wide enough for the usual fonts)
TIME_COLUMN = 170         # frame and time, left of the initiator's lifeline
HEAD = 64                 # title and lane names above the first arrow


def _x(text: str) -> str:
    """XML character data: escaped, and any control character still there written as \\xNN."""
    return escape(_safe(text))


def _attr(text: str) -> str:
    return quoteattr(_safe(text))


def _svg_section(a: dict, tl: Timeline, lane: float, y0: float) -> list[str]:
    """One association's diagram, its top at y0: header, two lifelines, one <g class="chunk"> per step."""
    xi, xr = TIME_COLUMN + 20, TIME_COLUMN + 20 + lane
    steps = tl.steps[:MAX_SVG_ROWS]
    more = len(tl.steps) - len(steps) + tl.steps_dropped
    bottom = y0 + HEAD + ROW * len(steps) + 10
    out = [f'<g class="association" data-id="{a["id"]}">',
           f'<text class="title" x="10" y="{y0 + 18}">{_x(title(a))}</text>',
           f'<text class="lane" x="{xi}" y="{y0 + 44}" text-anchor="middle">initiator '
           f'{_x(endpoint(a["initiator"]))}</text>',
           f'<text class="lane" x="{xr}" y="{y0 + 44}" text-anchor="middle">responder '
           f'{_x(endpoint(a["responder"]))}</text>',
           f'<text class="head" x="10" y="{y0 + 44}">frame    time s</text>',
           f'<line class="lifeline" x1="{xi}" y1="{y0 + 50}" x2="{xi}" y2="{bottom}"/>',
           f'<line class="lifeline" x1="{xr}" y1="{y0 + 50}" x2="{xr}" y2="{bottom}"/>']
    t0 = a["start"]
    for k, s in enumerate(steps):
        y = y0 + HEAD + ROW * k + 12
        colour = RETRANSMISSION_COLOUR if s.retransmission else FAMILY_COLOURS.get(s.family, "#555555")
        x1, x2 = (xi, xr) if s.side == 0 else (xr, xi)
        tip = x2 - 9 if s.side == 0 else x2 + 9
        classes = f"chunk {s.family}" + (" retransmission" if s.retransmission else "")
        dash = ' stroke-dasharray="5 3"' if s.retransmission else ""
        out.append(f'<g class="{classes}" data-frame="{s.frame}" data-type="{s.type}" data-side="{s.side}">'
                   f'<text class="time" x="10" y="{y + 4}">{s.frame:>7} {s.ts - t0:10.6f}</text>'
                   f'<line x1="{x1}" y1="{y}" x2="{tip}" y2="{y}" stroke="{colour}"{dash}/>'
                   f'<polygon points="{x2},{y} {tip},{y - 4} {tip},{y + 4}" fill="{colour}"/>'
                   f'<text class="label" x="{(xi + xr) / 2}" y="{y - 4}" text-anchor="middle" fill="{colour}">'
                   f'{_x(step_label(s))}</text></g>')
    if tl.unreadable:
        out.append(f'<text class="note" x="10" y="{bottom + 14}">{tl.unreadable} frame(s) could not be decoded '
                   f'again</text>')
    if more:
        out.append(f'<text class="note" x="10" y="{bottom + 28}">{more} more chunk(s) not drawn: the diagram '
                   f'keeps {MAX_SVG_ROWS} arrows</text>')
    out.append("</g>")
    return out


def ladder_svg(items: Sequence[tuple[dict, Timeline]]) -> str:
    """The associations' ladders as one SVG document, one sequence diagram under the other."""
    longest = max((len(step_label(s)) for _, tl in items for s in tl.steps[:MAX_SVG_ROWS]), default=0)
    lane = max(440.0, longest * CHAR + 60)
    width = TIME_COLUMN + 40 + lane
    body: list[str] = []
    y = 0.0
    for a, tl in items:
        body += _svg_section(a, tl, lane, y)
        y += HEAD + ROW * min(len(tl.steps), MAX_SVG_ROWS) + 50
    names = ", ".join(f"association {a['id']}" for a, _ in items)
    head = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width:.0f}" height="{y:.0f}" '
            f'viewBox="0 0 {width:.0f} {y:.0f}">',
            f"<title>sctpscope ladder: {names}</title>",
            "<style>text { font-family: monospace; font-size: 12px; } .title { font-weight: bold; font-size: 14px; } "
            ".lane, .head { font-weight: bold; } .time { fill: #666; } "
            ".lifeline { stroke: #333; stroke-width: 2; } .chunk line { stroke-width: 1.5; }</style>",
            '<rect width="100%" height="100%" fill="white"/>']
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + "\n".join(head + body + ["</svg>"]) + "\n"


# -- the timelines ----------------------------------------------------------------------------------------------
def association_timeline(indexer: Indexer, a: dict) -> Timeline:
    """The association's Timeline as the Timeline tab builds it (its frames decoded again)."""
    return build(packets_of(indexer.frames_of(a[KEY]), indexer.store, indexer.decoder()))


def indexed_timelines(indexer: Indexer, ids: Sequence[int], files: Sequence[str]) -> list[tuple[dict, Timeline]]:
    """(association dict, Timeline) of each id, in the order asked, from a finished Indexer."""
    from sctpscope.export.select import Selection

    dicts = indexer.result.associations
    sel = Selection(tuple(dict.fromkeys(ids)), {a["id"]: a for a in dicts if a["id"] in ids}, len(dicts))
    sel.check(files)
    return [(sel.associations[i], association_timeline(indexer, sel.associations[i])) for i in sel.ids]


def file_timelines(files: Sequence[str], ids: Sequence[int], *, sctp_udp_ports: tuple[int, ...] = (9899,),
                   verify: bool = True) -> list[tuple[dict, Timeline]]:
    """Index the files (as the TUI does) and return the timelines of associations `ids`."""
    pipes = [f for f in files if os.path.exists(f) and not os.path.isfile(f)]
    if pipes:
        raise SctpscopeError(f"{escape_text(pipes[0])}: the ladder reads frames back, give a capture file, not a "
                             f"pipe")
    ix = file_indexer(files, sctp_udp_ports=sctp_udp_ports, verify=verify)
    try:
        while not ix.step(1.0):
            pass
        return indexed_timelines(ix, ids, files)
    finally:
        ix.close()
