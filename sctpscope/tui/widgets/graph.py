"""Graphs of one association drawn with text cells (analysis.series): TSN vs time with the peer's SACK
cumulative ack and gap blocks (Wireshark's TSN graph), a_rwnd vs time and bytes in flight, per direction;
keyboard zoom and pan, a cursor on the points, enter opens the point's frame."""

from __future__ import annotations

from rich.text import Text
from textual.binding import Binding
from textual.message import Message
from textual.widget import Widget

from sctpscope.analysis.series import Series

KINDS = ("tsn", "rwnd", "flight")
TITLES = {"tsn": "TSN vs time", "rwnd": "a_rwnd vs time (advertised by the receiver)",
          "flight": "bytes in flight vs time (sent, not acked)"}
LEGENDS = {"tsn": (("•", "cyan", "DATA"), ("✕", "bold red", "retransmission"), ("━", "green", "SACK cum ack"),
                   ("┃", "yellow", "gap block"), ("◉", "reverse", "cursor")),
           "rwnd": (("•", "magenta", "a_rwnd"), ("◉", "reverse", "cursor")),
           "flight": (("•", "bright_blue", "bytes in flight"), ("◉", "reverse", "cursor"))}
AXIS = 11                   # columns of the y axis labels
SIDES = ("initiator → responder", "responder → initiator")


class Graph(Widget, can_focus=True):
    """One graph at a time: `g` the next kind, `d` the other direction, ← → the points, + - zoom, < > pan."""

    DEFAULT_CSS = """
    Graph { height: 1fr; }
    Graph:focus { border-left: outer $accent; }
    """
    BINDINGS = [
        Binding("left", "point(-1)", "Prev point", show=False),
        Binding("right", "point(1)", "Next point", show=False),
        Binding("home", "edge(0)", "First point", show=False),
        Binding("end", "edge(1)", "Last point", show=False),
        Binding("n", "rtx(1)", "Next rtx"),
        Binding("N", "rtx(-1)", "Prev rtx", show=False),
        Binding("plus,equals_sign", "zoom(0.5)", "Zoom in"),
        Binding("minus", "zoom(2)", "Zoom out"),
        Binding("0", "reset", "Whole", show=False),
        Binding("less_than_sign,comma", "pan(-1)", "Pan ←", show=False),
        Binding("greater_than_sign,full_stop", "pan(1)", "Pan →", show=False),
        Binding("d", "direction", "Direction"),
        Binding("g", "kind", "Graph kind"),
        Binding("enter", "open", "Open frame"),
    ]

    class Selected(Message):
        """Enter on a point: handled as `on_graph_selected`; `ref` is (record, chunk index) or None."""

        def __init__(self, graph: "Graph", frame: int, ref: tuple[int, int] | None) -> None:
            super().__init__()
            self.graph = graph
            self.frame = frame
            self.ref = ref

        @property
        def control(self) -> "Graph":
            return self.graph

    def __init__(self, **kwargs) -> None:
        super().__init__(**kwargs)
        self.series: Series | None = None
        self.t0 = 0.0
        self.side = 0
        self.kind = "tsn"
        self.view: tuple[float, float] | None = None     # visible time range; None before show()
        self.sel = 0

    # -- data ------------------------------------------------------------------------------------------
    def show(self, series: Series, t0: float) -> None:
        self.series, self.t0 = series, t0
        d = series.directions
        self.side = 0 if d[0].data or not d[1].data else 1
        self.sel = 0
        self.view = self.full()
        self.refresh()

    def direction(self):
        return self.series.directions[self.side] if self.series is not None else None

    def points(self) -> list:
        d = self.direction()
        if d is None:
            return []
        return {"tsn": d.data, "rwnd": d.rwnd, "flight": d.flight}[self.kind]

    def value(self, p) -> int:
        return p.rel if self.kind == "tsn" else p.value

    def point(self):
        """The point under the cursor (a series.DataPoint or Sample), or None."""
        pts = self.points()
        return pts[self.sel] if 0 <= self.sel < len(pts) else None

    def full(self) -> tuple[float, float]:
        s = self.series
        if s is None or s.start is None:
            return (0.0, 1.0)
        lo, hi = s.start, s.end
        return (lo, hi) if hi > lo else (lo - 0.0005, lo + 0.0005)

    # -- rendering -------------------------------------------------------------------------------------
    def render(self) -> Text:
        w, h = self.size.width - 1, self.size.height
        if self.series is None:
            return Text("decoding the packets…", style="italic")
        lines = [self.title_line(), self.cursor_line()]
        legend = Text(" " * AXIS)
        for k, (ch, style, what) in enumerate(LEGENDS[self.kind]):
            legend.append("  " if k else "")
            legend.append(ch, style=style)
            legend.append(f" {what}")
        lines.append(legend)
        plot_h = max(3, h - 5)
        plot_w = max(10, w - AXIS - 1)
        grid, ylo, yhi = self.grid(plot_w, plot_h)
        for r in range(plot_h):
            label = ""
            if r == 0:
                label = str(yhi)
            elif r == plot_h - 1:
                label = str(ylo)
            elif r == plot_h // 2 and plot_h > 6:
                label = str(round((ylo + yhi) / 2))
            line = Text(f"{label[:AXIS - 1]:>{AXIS - 1}} ┤", style="dim")
            for ch, style in grid[r]:
                line.append(ch, style=style)
            lines.append(line)
        lo, hi = self.view
        lines.append(Text(" " * (AXIS - 1) + " └" + "─" * plot_w, style="dim"))
        left, right = f"{lo - self.t0:.6f} s", f"{hi - self.t0:.6f} s"
        mid = f"{(lo + hi) / 2 - self.t0:.6f}"
        room = plot_w - len(left) - len(right) - len(mid)
        lines.append(Text(" " * (AXIS + 1) + left + " " * max(1, room // 2) + mid + " " * max(1, room - room // 2)
                          + right, style="dim"))
        out = Text(no_wrap=True, overflow="crop")
        for k, line in enumerate(lines):
            line.truncate(max(1, w), overflow="ellipsis")
            if k:
                out.append("\n")
            out.append_text(line)
        return out

    def title_line(self) -> Text:
        d = self.direction()
        t = Text()
        t.append(f"{TITLES[self.kind]}, DATA {SIDES[self.side]}", style="bold")
        if self.kind == "tsn":
            t.append(f" (TSN − {d.base if d.base is not None else 0}): {len(d.data)} DATA, "
                     f"{len(d.retransmissions)} retransmitted, {len(d.sacks)} SACKs")
        lo, hi = self.view
        flo, fhi = self.full()
        zoom = (fhi - flo) / (hi - lo) if hi > lo else 1.0
        t.append(f"  zoom ×{zoom:.3g}", style="dim")
        return t

    def cursor_line(self) -> Text:
        t = Text()
        p = self.point()
        if p is None:
            t.append("no points this way: d for the other direction", style="italic")
            return t
        t.append(f"◉ {self.sel + 1}/{len(self.points())}: frame {p.frame}, {p.ts - self.t0:.6f} s, ")
        if self.kind == "tsn":
            t.append(f"TSN {p.tsn} SID {p.sid} {p.length} B")
            if p.retransmission:
                t.append(" RETRANSMISSION", style="bold red")
        else:
            t.append(f"{p.value} bytes")
        t.append("   ← → point · n N retransmission · + - zoom · < > pan · 0 all · d direction · g graph · "
                 "enter frame", style="dim")
        return t

    def _visible_range(self, lo: float, hi: float) -> tuple[int, int]:
        vals = [self.value(p) for p in self.points() if lo <= p.ts <= hi]
        if self.kind == "tsn":
            for s in self.direction().sacks:
                if lo <= s.ts <= hi:
                    vals.append(s.cum_rel)
                    vals.extend(b for g in s.gaps for b in g)
        if not vals:
            vals = [self.value(p) for p in self.points()] or [0]
        a, b = min(vals), max(vals)
        if self.kind != "tsn":
            a = min(a, 0)
        return (a, b if b > a else a + 1)

    def grid(self, pw: int, ph: int) -> tuple[list[list[tuple[str, str]]], int, int]:
        """The plot as rows of (character, style) cells, and the y range shown."""
        lo, hi = self.view
        ylo, yhi = self._visible_range(lo, hi)
        grid = [[(" ", "")] * pw for _ in range(ph)]
        tspan, vspan = hi - lo, yhi - ylo

        def col(ts: float) -> int | None:
            if ts < lo or ts > hi:
                return None
            return min(pw - 1, int((ts - lo) / tspan * (pw - 1) + 0.5))

        def row(v: float) -> int | None:
            if v < ylo or v > yhi:
                return None
            return ph - 1 - min(ph - 1, int((v - ylo) / vspan * (ph - 1) + 0.5))

        def put(c, r, ch, style) -> None:
            if c is not None and r is not None:
                grid[r][c] = (ch, style)

        if self.kind == "tsn":
            sacks = self.direction().sacks
            for k, s in enumerate(sacks):
                r = row(s.cum_rel)
                c0 = col(s.ts)
                nxt = sacks[k + 1].ts if k + 1 < len(sacks) else hi
                c1 = col(min(nxt, hi))
                if r is not None and c0 is not None and c1 is not None:
                    for c in range(c0, c1):
                        if grid[r][c][0] == " ":
                            grid[r][c] = ("─", "green")
                put(c0, r, "━", "bold green")
                for a, b in s.gaps:
                    ra, rb = row(max(a, ylo)), row(min(b, yhi))
                    if c0 is None or ra is None or rb is None:
                        continue
                    for rr in range(rb, ra + 1):
                        grid[rr][c0] = ("┃", "yellow")
            for p in self.points():
                put(col(p.ts), row(p.rel), *(("✕", "bold red") if p.retransmission else ("•", "cyan")))
            for p in self.points():                   # retransmissions on top of DATA in the same cell
                if p.retransmission:
                    put(col(p.ts), row(p.rel), "✕", "bold red")
        else:
            style = "magenta" if self.kind == "rwnd" else "bright_blue"
            pts = self.points()
            for k, p in enumerate(pts):
                r, c0 = row(p.value), col(p.ts)
                nxt = pts[k + 1].ts if k + 1 < len(pts) else p.ts
                c1 = col(min(nxt, hi))
                if r is not None and c0 is not None and c1 is not None:
                    for c in range(c0 + 1, c1):
                        if grid[r][c][0] == " ":
                            grid[r][c] = ("─", style)
                put(c0, r, "•", "bold " + style)
        p = self.point()
        if p is not None:
            c, r = col(p.ts), row(self.value(p))
            if c is not None and r is not None:
                grid[r][c] = ("◉", "reverse bold")
        return grid, ylo, yhi

    # -- keys ------------------------------------------------------------------------------------------
    def _follow(self) -> None:
        """Pan so that the cursor's point is in view (zoom kept)."""
        p = self.point()
        if p is not None and self.view is not None:
            lo, hi = self.view
            if not lo <= p.ts <= hi:
                self._center(p.ts, hi - lo)
        self.refresh()

    def _center(self, ts: float, width: float) -> None:
        flo, fhi = self.full()
        width = min(width, fhi - flo)
        lo = min(max(flo, ts - width / 2), fhi - width)
        self.view = (lo, lo + width)

    def select(self, index: int) -> None:
        pts = self.points()
        if pts:
            self.sel = max(0, min(len(pts) - 1, index))
            self._follow()

    def action_point(self, delta: int) -> None:
        self.select(self.sel + delta)

    def action_edge(self, end: int) -> None:
        self.select(len(self.points()) - 1 if end else 0)

    def action_rtx(self, direction: int) -> None:
        if self.kind != "tsn" or self.series is None:
            return
        rtx = self.direction().retransmissions
        after = [i for i in rtx if (i > self.sel if direction > 0 else i < self.sel)]
        if not after:
            self.notify("no further retransmission this way" if rtx else "no retransmission in this direction",
                        severity="warning")
            return
        self.select(after[0] if direction > 0 else after[-1])

    def action_zoom(self, factor: float) -> None:
        if self.view is None:
            return
        lo, hi = self.view
        p = self.point()
        centre = p.ts if p is not None and lo <= p.ts <= hi else (lo + hi) / 2
        self._center(centre, max((hi - lo) * factor, 1e-6))
        self.refresh()

    def action_reset(self) -> None:
        self.view = self.full()
        self.refresh()

    def action_pan(self, direction: int) -> None:
        if self.view is None:
            return
        lo, hi = self.view
        w = hi - lo
        self._center((lo + hi) / 2 + direction * w / 2, w)
        self.refresh()

    def _switch(self) -> None:
        """After a change of kind or direction: the cursor on the point nearest the old one's time."""
        old = self.view
        pts = self.points()
        if pts and old is not None:
            mid = (old[0] + old[1]) / 2
            self.sel = min(range(len(pts)), key=lambda i: abs(pts[i].ts - mid))
        else:
            self.sel = 0
        self.refresh()

    def action_direction(self) -> None:
        if self.series is not None:
            self.side = 1 - self.side
            self._switch()

    def action_kind(self) -> None:
        self.kind = KINDS[(KINDS.index(self.kind) + 1) % len(KINDS)]
        self._switch()

    def set_kind(self, kind: str) -> None:
        self.kind = kind
        self._switch()

    def action_open(self) -> None:
        p = self.point()
        if p is not None:
            ref = (p.record, p.index) if self.kind == "tsn" else None
            self.post_message(self.Selected(self, p.frame, ref))
