"""Packet detail: a frame as a tree (frame → link → IP → SCTP → chunks → parameters / causes) above its hex
dump, the selected field's bytes highlighted; `b` bookmarks the frame (the app keeps and saves bookmarks)."""

from __future__ import annotations

from collections.abc import Sequence

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.screen import Screen
from textual.widgets import Footer, Static, Tree

from sctpscope.decode.layout import Node, frame_tree
from sctpscope.export.walk import Rereader
from sctpscope.text import escape_text
from sctpscope.tui.widgets.hexview import HexView

_COLLAPSED = ("Ethernet", "802.1Q", "Linux cooked", "Null/Loopback", "OpenBSD", "Internet Protocol",
              "User Datagram", "IPv6 ", "Virtual eXtensible", "GPRS", "Generic")


class PacketScreen(Screen):
    """One frame in detail; `[` / `]` step through the association's frames, escape goes back."""

    BINDINGS = [
        Binding("escape", "app.pop_screen", "Back"),
        Binding("left_square_bracket", "step(-1)", "Prev frame"),
        Binding("right_square_bracket", "step(1)", "Next frame"),
        Binding("x", "expand_all", "Expand all"),
        Binding("b", "bookmark", "Bookmark", show=False),
        Binding("tab", "focus_next", "Tree/hex", show=False),
    ]

    def __init__(self, frame: int, *, frames: Sequence[int] | None = None, select: tuple | None = None,
                 title: str = "") -> None:
        super().__init__()
        self.frame = frame
        self.frames = frames if frames is not None and not isinstance(frames, (list, range)) else list(frames or [])
        self.select = select                 # ("chunk", record index, chunk index) to put the cursor on
        self.context = title
        self.root_node: Node | None = None
        self.size_line = ""                  # "frame N (k of n): B bytes", the title before the bookmark mark

    def compose(self) -> ComposeResult:
        yield Static("", id="packet-title", markup=False)
        yield Tree(Text("frame"), id="packet-tree")
        yield Static("", id="packet-span", markup=False)
        yield HexView(id="packet-hex")
        yield Footer()

    def on_mount(self) -> None:
        self.load(self.frame)
        self.query_one("#packet-tree", Tree).focus()

    # -- loading a frame --------------------------------------------------------------------------------
    def load(self, number: int) -> None:
        self.frame = number
        indexer = self.app.indexer
        tree = self.query_one("#packet-tree", Tree)
        hexv = self.query_one("#packet-hex", HexView)
        title = self.query_one("#packet-title", Static)
        try:
            raw = indexer.store.read(number)
        except (KeyError, OSError, ValueError) as exc:
            title.update(Text(f"frame {number} cannot be read back: {escape_text(str(exc))}", style="bold red"))
            self.size_line = ""
            tree.clear()
            hexv.show(b"")
            return
        # (an SCTP packet reassembled from IP fragments is rebuilt from the frames before: export.walk)
        decoded = Rereader(indexer.store, indexer.decoder()).read(number)[0]
        root = self.root_node = frame_tree(number, raw.ts, raw.linktype, raw.data, raw.orig_len, decoded,
                                           indexer.sctp_udp_ports)
        where = ""
        if self.frames and number in self.frames:
            where = f" ({self.frames.index(number) + 1} of {len(self.frames)})"
        context = f"{escape_text(self.context)}, " if self.context else ""
        self.size_line = f"{context}frame {number}{where}: {len(raw.data)} bytes"
        self._show_title()
        tree.clear()
        tree.root.set_label(Text(root.label))
        tree.root.data = root
        target = None
        for child in root.children:
            target = self._add(tree.root, child) or target
        tree.root.expand()
        hexv.show(raw.data)
        hexv.highlight(-1, 0)
        if target is not None:
            self.call_after_refresh(self._focus_node, target)

    def _add(self, parent, node: Node):
        """Add `node` under the tree node `parent`; returns the tree node to select, if it is below."""
        found = None
        if node.children:
            expand = not node.label.startswith(_COLLAPSED) and not node.label.endswith(" parameter") \
                and not node.label.endswith(" cause")
            tn = parent.add(Text(node.label), data=node, expand=expand)
            for c in node.children:
                found = self._add(tn, c) or found
        else:
            tn = parent.add_leaf(Text(node.label), data=node)
        if self.select is not None and node.ref == self.select:
            found = tn
        return found

    def _focus_node(self, tn) -> None:
        tree = self.query_one("#packet-tree", Tree)
        tree.move_cursor(tn)
        tree.scroll_to_node(tn, animate=False)

    # -- interaction ----------------------------------------------------------------------------------
    @on(Tree.NodeHighlighted, "#packet-tree")
    def highlighted(self, event: Tree.NodeHighlighted) -> None:
        node = event.node.data
        hexv = self.query_one("#packet-hex", HexView)
        span = self.query_one("#packet-span", Static)
        if node is None:
            return
        hexv.highlight(node.offset, node.length)
        if node.offset >= 0 and node.length > 0:
            span.update(Text(f"bytes {node.offset}–{node.offset + node.length - 1} ({node.length})"
                             + (f"  field {node.field}" if node.field else ""), style="dim"))
        else:
            span.update(Text("not in this frame's bytes" if node.offset < 0 else "", style="dim"))

    def action_step(self, delta: int) -> None:
        if self.frames:
            try:
                i = self.frames.index(self.frame) + delta
            except ValueError:
                return
            if 0 <= i < len(self.frames):
                self.select = None
                self.load(self.frames[i])
        else:
            n = self.frame + delta
            if n >= 1:
                self.select = None
                self.load(n)

    def action_expand_all(self) -> None:
        self.query_one("#packet-tree", Tree).root.expand_all()

    def action_bookmark(self) -> None:
        """b: bookmark this frame, or drop its bookmark (B lists them)."""
        marked = self.app.toggle_bookmark(self.frame)
        self.notify(f"frame {self.frame} " + ("bookmarked (B: the bookmarks)" if marked else "no longer bookmarked"),
                    timeout=3)
        self._show_title()

    def _show_title(self) -> None:
        if not self.size_line:               # the frame could not be read: its error line stays
            return
        title = Text(self.size_line, style="bold")
        if self.frame in self.app.bookmarks:
            title.append("  ★ bookmarked", style="bold yellow")
        self.query_one("#packet-title", Static).update(title)
