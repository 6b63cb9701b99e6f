"""Graphs of one association drawn with text cells (analysis.series): TSN vs time with the peer's SACK
cumulative ack and gap blocks (Wireshark's TSN graph), a_rwnd vs time, bytes in flight, user-data bytes per
stream and time bucket, and heartbeat round-trip times per path with the primary path's changes, per
direction; keyboard and mouse zoom and pan, a cursor on the points (keys or a click), enter or a double
click opens the point's frame. Everything shown is computed by analysis.series; this only draws it."""

from __future__ import annotations

from rich.text import Text
from textual import events
from textual.binding import Binding
from textual.message import Message
from textual.widget import Widget

from sctpscope.analysis.series import Bucket, Heartbeat, Path, Series, bucket_width, throughput
from sctpscope.tui.format import safe

KINDS = ("tsn", "rwnd", "flight", "throughput", "hbrtt")
TITLES = {"tsn": "TSN vs time", "rwnd": "a_rwnd vs time (advertised by the receiver)",
          "flight": "bytes in flight vs time (sent, not acked)",
          "throughput": "throughput: user-data bytes of {which} first transmissions",
          "hbrtt": "heartbeat RTT per path"}
LEGENDS = {"tsn": (("•", "cyan", "DATA"), ("✕", "bold red", "retransmission"), ("━", "green", "SACK cum ack"),
                   ("┃", "yellow", "gap block"), ("◉", "reverse", "cursor")),
           "rwnd": (("•", "magenta", "a_rwnd"), ("◉", "reverse", "cursor")),
           "flight": (("•", "bright_blue", "bytes in flight"), ("◉", "reverse", "cursor")),
           "throughput": (("█", "green", "user-data bytes of the bucket's first transmissions (retransmissions "
                                         "not counted)"), ("◉", "reverse", "cursor")),
           "hbrtt": (("✕", "bold red", "HEARTBEAT not answered"),
                     ("┊", "red", "primary path change (new DATA on another path)"), ("◉", "reverse", "cursor"))}
PATH_STYLES = ("cyan", "magenta", "green", "yellow", "bright_blue", "bright_red")
AXIS = 11                   # columns of the y axis labels
PLOT_TOP = 3                # lines above the plot: title, cursor, legend
SIDES = ("initiator → responder", "responder → initiator")
SENDERS = ("initiator", "responder")
CHUNK_NAMES = {0: "DATA", 64: "I-DATA"}
HINTS = {"throughput": "   ← → bucket · s S a stream · + - zoom (bucket size follows) · < > pan · 0 all · "
                       "d direction · g graph · click, wheel · enter frame",
         "hbrtt": "   ← → point · s S a path · n N path change · + - zoom · < > pan · 0 all · d direction · "
                  "g graph · click, wheel · enter frame"}


class _Scale:
    """Where a time falls among the plot's columns and a value among its rows (row 0 at the top)."""

    __slots__ = ("lo", "hi", "ylo", "yhi", "pw", "ph")

    def __init__(self, lo: float, hi: float, ylo: int, yhi: int, pw: int, ph: int) -> None:
        self.lo, self.hi, self.ylo, self.yhi, self.pw, self.ph = lo, hi, ylo, yhi, pw, ph

    def col(self, ts: float) -> int | None:
        if ts < self.lo or ts > self.hi:
            return None
        return min(self.pw - 1, int((ts - self.lo) / (self.hi - self.lo) * (self.pw - 1) + 0.5))

    def row(self, v: float) -> int | None:
        if v < self.ylo or v > self.yhi:
            return None
        return self.ph - 1 - min(self.ph - 1, int((v - self.ylo) / (self.yhi - self.ylo) * (self.ph - 1) + 0.5))

    def time(self, c: int) -> float:
        return self.lo + c / max(1, self.pw - 1) * (self.hi - self.lo)


def duration(seconds: float) -> str:
    """A bucket size as people write it: 2 ms, 500 µs, 1 s."""
    if seconds >= 1:
        return f"{seconds:g} s"
    if seconds >= 1e-3:
        return f"{seconds * 1e3:.4g} ms"
    return f"{seconds * 1e6:.4g} µs"


def rate(bytes_per_s: float) -> str:
    """A bucket's bytes over its duration, in B/s, kB/s or MB/s."""
    return f"{bytes_per_s / 1e6:.3g} MB/s" if bytes_per_s >= 1e6 else \
        f"{bytes_per_s / 1e3:.3g} kB/s" if bytes_per_s >= 1e3 else f"{bytes_per_s:.3g} B/s"


def path_text(path: Path) -> str:
    """A path's addresses, escaped: they come from the packets."""
    return f"{safe(path[0])} → {safe(path[1])}"


class Graph(Widget, can_focus=True):
    """One graph at a time: `g` the next kind, `d` the other direction, ← → the points, + - zoom, < > pan,
    s S a the stream (throughput) or path (heartbeats); a click selects a point, the wheel zooms."""

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
        Binding("s", "choose(1)", "Next stream / path", show=False),
        Binding("S", "choose(-1)", "Prev stream / path", show=False),
        Binding("a", "choose_all", "All streams / paths", show=False),
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
        self.stream: int | None = None                   # throughput: one stream, None every stream
        self.path: Path | None = None                    # heartbeats: one path, None every path
        self.mark: int | None = None                     # heartbeats: the path change under the cursor
        self._bucketed: tuple[tuple, list[Bucket]] | None = None   # (side, stream, width), buckets

    # -- data ------------------------------------------------------------------------------------------
    def show(self, series: Series, t0: float) -> None:
        self.series, self.t0 = series, t0
        d = series.directions
        self.side = 0 if d[0].data or not d[1].data else 1
        self.sel = 0
        self.stream = self.path = self.mark = self._bucketed = None
        self.view = self.full()
        self.refresh()

    def direction(self):
        return self.series.directions[self.side] if self.series is not None else None

    def points(self) -> list:
        d = self.direction()
        if d is None:
            return []
        if self.kind == "throughput":
            return self._buckets()
        if self.kind == "hbrtt":
            return sorted((h for h in d.heartbeats if h.ts is not None and self.path in (None, h.path)),
                          key=lambda h: h.ts)
        return {"tsn": d.data, "rwnd": d.rwnd, "flight": d.flight}[self.kind]

    def value(self, p) -> int:
        if self.kind == "tsn":
            return p.rel
        if self.kind == "throughput":
            return p.bytes
        if self.kind == "hbrtt":
            return round(p.rtt * 1e6)                    # µs
        return p.value

    def point(self):
        """The point under the cursor (a series.DataPoint, Sample, Bucket or Heartbeat), or None."""
        pts = self.points()
        return pts[self.sel] if 0 <= self.sel < len(pts) else None

    def full(self) -> tuple[float, float]:
        s = self.series
        if s is None or s.start is None:
            return (0.0, 1.0)
        lo, hi = s.start, s.end
        return (lo, hi) if hi > lo else (lo - 0.0005, lo + 0.0005)

    def bucket_size(self) -> float:
        """Seconds per throughput bucket: a round size giving each bucket about two columns of the view."""
        lo, hi = self.view or self.full()
        return bucket_width(hi - lo, self._plot_size()[0] // 2)

    def _buckets(self) -> list[Bucket]:
        """The throughput buckets for the view's bucket size, cached; a new size (zoom, resize) keeps the cursor
        on the bucket that holds the previous one's last DATA."""
        key = (self.side, self.stream, self.bucket_size())
        cached = self._bucketed
        if cached is None or cached[0] != key:
            hist = getattr(self.direction().data, "histogram", None)     # a large association (lazyassoc)
            if self.series.start is None:
                new = []
            elif hist is not None:
                new = hist.buckets(self.series.start, key[2], self.stream)
            else:
                new = throughput(self.direction(), self.series.start, key[2], self.stream)
            if cached is not None and cached[0][:2] == key[:2] and 0 <= self.sel < len(cached[1]):
                last = cached[1][self.sel].last
                self.sel = max((i for i, b in enumerate(new) if b.ts <= last), default=0)
            self._bucketed = cached = (key, new)
        return cached[1]

    def unanswered(self) -> list[Heartbeat]:
        """HEARTBEATs of this direction (on the chosen path) that no HEARTBEAT ACK answered."""
        d = self.direction()
        return [h for h in d.heartbeats if h.ts is None and self.path in (None, h.path)] if d else []

    def path_styles(self) -> dict[Path, str]:
        d = self.direction()
        return {p: PATH_STYLES[k % len(PATH_STYLES)] for k, p in enumerate(d.paths)} if d else {}

    # -- rendering -------------------------------------------------------------------------------------
    def _plot_size(self) -> tuple[int, int]:
        w, h = self.size.width - 1, self.size.height
        return max(10, w - AXIS - 1), max(3, h - 5)

    def label(self, v: float) -> str:
        return f"{v / 1000:.4g} ms" if self.kind == "hbrtt" else str(v)

    def render(self) -> Text:
        w = self.size.width - 1
        if self.series is None:
            return Text("decoding the packets…", style="italic")
        lines = [self.title_line(), self.cursor_line(), self.legend_line()]
        plot_w, plot_h = self._plot_size()
        grid, ylo, yhi = self.grid(plot_w, plot_h)
        for r in range(plot_h):
            label = ""
            if r == 0:
                label = self.label(yhi)
            elif r == plot_h - 1:
                label = self.label(ylo)
            elif r == plot_h // 2 and plot_h > 6:
                label = self.label(round((ylo + yhi) / 2))
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

    def legend_line(self) -> Text:
        items = LEGENDS[self.kind]
        if self.kind == "hbrtt":
            styles = self.path_styles()
            shown = [p for p in styles if self.path in (None, p)]
            items = tuple(("•", styles[p], path_text(p)) for p in shown) + items
        elif self.direction().path_changes:
            items = items[:-1] + (("┊", "red", "primary path change"),) + items[-1:]
        legend = Text(" " * AXIS)
        for k, (ch, style, what) in enumerate(items):
            legend.append("  " if k else "")
            legend.append(ch, style=style)
            legend.append(f" {what}")
        return legend

    def title_line(self) -> Text:
        d = self.direction()
        t = Text()
        if self.kind == "throughput":
            which = " + ".join(CHUNK_NAMES[t] for t in sorted(d.types)) or "DATA"
            streams = d.streams
            chosen = f"all {len(streams)} streams" if self.stream is None else \
                f"stream {self.stream} ({streams.index(self.stream) + 1}/{len(streams)})"
            t.append(f"{TITLES['throughput'].format(which=which)} per {duration(self.bucket_size())}, "
                     f"{SIDES[self.side]}, {chosen}", style="bold")
            t.append(f": {sum(d.sent.values()) if self.stream is None else d.sent[self.stream]} B")
        elif self.kind == "hbrtt":
            paths = d.paths
            chosen = f"all {len(paths)} paths" if self.path is None else \
                f"path {path_text(self.path)} ({paths.index(self.path) + 1}/{len(paths)})"
            t.append(f"{TITLES['hbrtt']}, HEARTBEATs from the {SENDERS[self.side]}, {chosen}", style="bold")
            t.append(f": {len(self.points())} answered, {len(self.unanswered())} not; "
                     f"{len(d.path_changes)} primary path change(s)")
        else:
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
        if self.kind == "hbrtt" and self.mark is not None:
            c = self.direction().path_changes[self.mark]
            t.append(f"┊ path change {self.mark + 1}/{len(self.direction().path_changes)}: frame {c.frame}, "
                     f"{c.ts - self.t0:.6f} s, new DATA TSN {c.tsn} on {path_text(c.new)}, before on "
                     f"{path_text(c.old)}", style="bold red")
            t.append(HINTS["hbrtt"], style="dim")
            return t
        p = self.point()
        if p is None:
            if self.kind == "hbrtt":
                t.append(f"no HEARTBEAT answered this way ({len(self.unanswered())} unanswered): d for the other "
                         "direction", style="italic")
            else:
                t.append("no points this way: d for the other direction", style="italic")
            return t
        n = len(self.points())
        if self.kind == "throughput":
            t.append(f"◉ {self.sel + 1}/{n}: {p.ts - self.t0:.6f}–{p.ts + p.width - self.t0:.6f} s, {p.bytes} B in "
                     f"{p.chunks} chunk(s) ({rate(p.bytes / p.width)}), last DATA in frame {p.frame}")
            t.append(HINTS["throughput"], style="dim")
            return t
        if self.kind == "hbrtt":
            t.append(f"◉ {self.sel + 1}/{n}: HEARTBEAT ACK frame {p.frame} (HEARTBEAT frame {p.sent_frame}), "
                     f"{p.ts - self.t0:.6f} s, {path_text(p.path)}, RTT {p.rtt * 1e3:.3f} ms")
            t.append(HINTS["hbrtt"], style="dim")
            return t
        t.append(f"◉ {self.sel + 1}/{n}: frame {p.frame}, {p.ts - self.t0:.6f} s, ")
        if self.kind == "tsn":
            t.append(f"TSN {p.tsn} SID {p.sid} {p.length} B")
            if p.retransmission:
                t.append(" RETRANSMISSION", style="bold red")
        else:
            t.append(f"{p.value} bytes")
        t.append("   ← → point · n N retransmission · + - zoom · < > pan · 0 all · d direction · g graph · "
                 "enter frame", style="dim")
        return t

    def _overlaps(self, p, lo: float, hi: float) -> bool:
        if self.kind == "throughput":
            return p.ts <= hi and p.ts + p.width >= lo
        return lo <= p.ts <= hi

    def _visible_range(self, lo: float, hi: float) -> tuple[int, int]:
        vals = [self.value(p) for p in self.points() if self._overlaps(p, lo, hi)]
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

    def _scale(self, pw: int, ph: int) -> _Scale:
        lo, hi = self.view
        return _Scale(lo, hi, *self._visible_range(lo, hi), pw, ph)

    def _cell(self, p, sc: _Scale) -> tuple[int, int] | None:
        """The plot cell (column, row) where point `p` is drawn, None outside the view."""
        if self.kind == "throughput":
            c = sc.col(max(p.ts, sc.lo)) if self._overlaps(p, sc.lo, sc.hi) else None
        else:
            c = sc.col(p.ts)
        r = sc.row(self.value(p))
        return None if c is None or r is None else (c, r)

    def grid(self, pw: int, ph: int) -> tuple[list[list[tuple[str, str]]], int, int]:
        """The plot as rows of (character, style) cells, and the y range shown."""
        sc = self._scale(pw, ph)
        grid = [[(" ", "")] * pw for _ in range(ph)]
        self._draw_path_changes(grid, sc)           # behind every graph's points
        {"tsn": self._draw_tsn, "throughput": self._draw_buckets, "hbrtt": self._draw_heartbeats}.get(
            self.kind, self._draw_samples)(grid, sc)
        p = self.point() if self.mark is None else None        # a marked path change holds the cursor
        cell = self._cell(p, sc) if p is not None else None
        if cell is not None:
            grid[cell[1]][cell[0]] = ("◉", "reverse bold")
        return grid, sc.ylo, sc.yhi

    @staticmethod
    def _put(grid, c: int | None, r: int | None, ch: str, style: str) -> None:
        if c is not None and r is not None:
            grid[r][c] = (ch, style)

    def _draw_tsn(self, grid, sc: _Scale) -> None:
        put, col, row, hi = self._put, sc.col, sc.row, sc.hi
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
            put(grid, c0, r, "━", "bold green")
            for a, b in s.gaps:
                ra, rb = row(max(a, sc.ylo)), row(min(b, sc.yhi))
                if c0 is None or ra is None or rb is None:
                    continue
                for rr in range(rb, ra + 1):
                    grid[rr][c0] = ("┃", "yellow")
        for p in self.points():
            put(grid, col(p.ts), row(p.rel), *(("✕", "bold red") if p.retransmission else ("•", "cyan")))
        for p in self.points():                   # retransmissions on top of DATA in the same cell
            if p.retransmission:
                put(grid, col(p.ts), row(p.rel), "✕", "bold red")

    def _draw_samples(self, grid, sc: _Scale) -> None:
        style = "magenta" if self.kind == "rwnd" else "bright_blue"
        pts = self.points()
        for k, p in enumerate(pts):
            r, c0 = sc.row(p.value), sc.col(p.ts)
            nxt = pts[k + 1].ts if k + 1 < len(pts) else p.ts
            c1 = sc.col(min(nxt, sc.hi))
            if r is not None and c0 is not None and c1 is not None:
                for c in range(c0 + 1, c1):
                    if grid[r][c][0] == " ":
                        grid[r][c] = ("─", style)
            self._put(grid, c0, r, "•", "bold " + style)

    def _bar(self, b: Bucket, sc: _Scale) -> range:
        """The columns of a bucket's bar (its last one left blank between bars three or more columns wide)."""
        c0 = sc.col(max(b.ts, sc.lo))
        c1 = sc.col(min(b.ts + b.width, sc.hi))
        return range(c0, max(c0 + 1, c1 - 1 if c1 - c0 >= 3 else c1))

    def _draw_buckets(self, grid, sc: _Scale) -> None:
        for b in self.points():
            top = sc.row(min(b.bytes, sc.yhi))
            if top is None or not self._overlaps(b, sc.lo, sc.hi):
                continue
            for c in self._bar(b, sc):
                for r in range(top, sc.ph):
                    grid[r][c] = ("█", "green")

    def _draw_path_changes(self, grid, sc: _Scale) -> None:
        """A column at each primary path change of this direction (the marked one lit, in the heartbeat graph)."""
        for k, ch in enumerate(self.direction().path_changes):
            c = sc.col(ch.ts)
            if c is None:
                continue
            style = "reverse bold red" if k == self.mark else "red"
            for r in range(sc.ph):
                grid[r][c] = ("┊", style)

    def _draw_heartbeats(self, grid, sc: _Scale) -> None:
        for h in self.unanswered():
            self._put(grid, sc.col(h.sent), sc.ph - 1, "✕", "bold red")
        styles = self.path_styles()
        for h in self.points():
            self._put(grid, sc.col(h.ts), sc.row(self.value(h)), "•", "bold " + styles[h.path])

    # -- the mouse -------------------------------------------------------------------------------------
    def point_offset(self, index: int) -> tuple[int, int] | None:
        """Where point `index` is drawn, as an offset in the widget's content (what a click there selects)."""
        pts = self.points()
        if self.view is None or not 0 <= index < len(pts):
            return None
        cell = self._cell(pts[index], self._scale(*self._plot_size()))
        return None if cell is None else (AXIS + 1 + cell[0], PLOT_TOP + cell[1])

    def point_at(self, x: int, y: int) -> int | None:
        """The point drawn at or nearest (within a few cells) the content offset (x, y); a throughput bucket
        anywhere in its bar's columns."""
        pw, ph = self._plot_size()
        c, r = x - AXIS - 1, y - PLOT_TOP
        if self.view is None or not (0 <= c < pw and 0 <= r < ph):
            return None
        sc = self._scale(pw, ph)
        pts = self.points()
        if self.kind == "throughput":
            return next((i for i, b in enumerate(pts) if self._overlaps(b, sc.lo, sc.hi) and c in self._bar(b, sc)),
                        None)
        best: tuple[int, int] | None = None
        for i, p in enumerate(pts):
            cell = self._cell(p, sc)
            if cell is not None:
                dist = (cell[0] - c) ** 2 + (2 * (cell[1] - r)) ** 2     # a cell is about twice as tall as wide
                if dist <= 16 and (best is None or dist < best[0]):
                    best = (dist, i)
        return best[1] if best else None

    def mark_at(self, x: int, y: int) -> int | None:
        """The path change drawn at content offset (x, y): its mark fills the plot's column (heartbeat graph)."""
        if self.kind != "hbrtt" or self.view is None or not 0 <= y - PLOT_TOP < self._plot_size()[1]:
            return None
        sc = self._scale(*self._plot_size())
        return next((k for k, ch in enumerate(self.direction().path_changes) if sc.col(ch.ts) == x - AXIS - 1),
                    None)

    def on_click(self, event: events.Click) -> None:
        """A click selects the point under it (or a path change's mark); a double click also opens its frame."""
        at = event.get_content_offset(self)
        if at is None or self.series is None:
            return
        i = self.point_at(at.x, at.y)
        if i is not None:
            self.select(i)
        else:
            k = self.mark_at(at.x, at.y)
            if k is None:
                return
            self.mark = k
            self.refresh()
        event.stop()
        if event.chain >= 2:
            self.action_open()

    def _wheel(self, event: events.MouseEvent, factor: float) -> None:
        """Wheel up zooms in, down out, keeping the time under the pointer in place; with shift it pans."""
        event.stop()
        event.prevent_default()
        if self.view is None:
            return
        if event.shift:
            self.action_pan(-1 if factor < 1 else 1)
            return
        lo, hi = self.view
        at = event.get_content_offset(self)
        pw, ph = self._plot_size()
        anchor = (lo + hi) / 2 if at is None else min(hi, max(lo, self._scale(pw, ph).time(at.x - AXIS - 1)))
        width = max((hi - lo) * factor, 1e-6)
        self._center(anchor - (anchor - lo) * width / (hi - lo) + width / 2, width)
        self.refresh()

    def on_mouse_scroll_up(self, event: events.MouseScrollUp) -> None:
        self._wheel(event, 0.5)

    def on_mouse_scroll_down(self, event: events.MouseScrollDown) -> None:
        self._wheel(event, 2)

    def on_mouse_scroll_left(self, event: events.MouseScrollLeft) -> None:
        event.stop()
        self.action_pan(-1)

    def on_mouse_scroll_right(self, event: events.MouseScrollRight) -> None:
        event.stop()
        self.action_pan(1)

    # -- keys ------------------------------------------------------------------------------------------
    def _follow(self) -> None:
        """Pan so that the cursor's point is in view (zoom kept)."""
        p = self.point()
        if p is not None:
            self._reveal(p.ts)
        self.refresh()

    def _reveal(self, ts: float) -> None:
        if self.view is not None:
            lo, hi = self.view
            if not lo <= ts <= hi:
                self._center(ts, hi - lo)

    def _center(self, ts: float, width: float) -> None:
        flo, fhi = self.full()
        width = min(width, fhi - flo)
        lo = min(max(flo, ts - width / 2), fhi - width)
        self.view = (lo, lo + width)

    def select(self, index: int) -> None:
        pts = self.points()
        if pts:
            self.sel = max(0, min(len(pts) - 1, index))
            self.mark = None
            self._follow()

    def action_point(self, delta: int) -> None:
        self.select(self.sel + delta)

    def action_edge(self, end: int) -> None:
        self.select(len(self.points()) - 1 if end else 0)

    def action_rtx(self, direction: int) -> None:
        if self.kind == "hbrtt":
            self._path_change(direction)
            return
        if self.kind != "tsn" or self.series is None:
            return
        rtx = self.direction().retransmissions
        after = [i for i in rtx if (i > self.sel if direction > 0 else i < self.sel)]
        if not after:
            self.notify("no further retransmission this way" if rtx else "no retransmission in this direction",
                        severity="warning")
            return
        self.select(after[0] if direction > 0 else after[-1])

    def _path_change(self, direction: int) -> None:
        """n / N in the heartbeat graph: the next / previous primary path change after the cursor."""
        if self.series is None:
            return
        changes = self.direction().path_changes
        if self.mark is not None:
            after = [k for k in range(len(changes)) if (k > self.mark if direction > 0 else k < self.mark)]
        else:
            p = self.point()
            ref = p.ts if p is not None else self.view[0] if direction > 0 else self.view[1]
            after = [k for k, c in enumerate(changes) if (c.ts > ref if direction > 0 else c.ts < ref)]
        if not after:
            self.notify("no further primary path change this way" if changes else
                        "no primary path change in this direction", severity="warning")
            return
        self.mark = after[0] if direction > 0 else after[-1]
        self._reveal(changes[self.mark].ts)
        self.refresh()

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
        """After a change of kind, direction, stream or path: the cursor on the point nearest the view's middle."""
        old = self.view
        self.mark = None
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
            self.stream = self.path = None
            self._switch()

    def action_kind(self) -> None:
        self.kind = KINDS[(KINDS.index(self.kind) + 1) % len(KINDS)]
        self._switch()

    def set_kind(self, kind: str) -> None:
        self.kind = kind
        self._switch()

    def action_choose(self, delta: int) -> None:
        """s / S: the next / previous stream (throughput) or path (heartbeats), "all" between the last and first."""
        d = self.direction()
        if d is None:
            return
        if self.kind not in ("throughput", "hbrtt"):
            self.notify("s S a choose the stream of the throughput graph, the path of the heartbeat graph (g)")
            return
        attr, options = ("stream", d.streams) if self.kind == "throughput" else ("path", d.paths)
        cycle = [None, *options]
        setattr(self, attr, cycle[(cycle.index(getattr(self, attr)) + delta) % len(cycle)])
        self._switch()

    def action_choose_all(self) -> None:
        if self.kind in ("throughput", "hbrtt"):
            self.stream = self.path = None
            self._switch()

    def action_open(self) -> None:
        if self.kind == "hbrtt" and self.mark is not None:
            c = self.direction().path_changes[self.mark]
            self.post_message(self.Selected(self, c.frame, (c.record, c.index)))
            return
        p = self.point()
        if p is not None:
            ref = (p.record, p.index) if self.kind in ("tsn", "throughput", "hbrtt") else None
            self.post_message(self.Selected(self, p.frame, ref))
