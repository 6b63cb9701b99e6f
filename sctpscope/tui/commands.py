"""Command palette entries (ctrl+p): open any association, switch tabs, jump or search in the timeline,
bookmarks."""

from __future__ import annotations

from functools import partial

from textual.command import DiscoveryHit, Hit, Hits, Provider

from sctpscope.analysis.indexer import KEY
from sctpscope.tui.format import endpoint


class SctpscopeCommands(Provider):
    """What the current screen offers, as palette commands."""

    def _commands(self) -> list[tuple[str, object, str]]:
        from sctpscope.tui.screens.association import TABS, AssociationScreen
        from sctpscope.tui.screens.packet import PacketScreen

        app = self.app
        screen = app.screen
        out: list[tuple[str, object, str]] = []
        if app.indexer is not None:
            out.append(("Bookmarks: the bookmarked frames", app.action_bookmarks, "key B"))
        if isinstance(screen, PacketScreen):
            what = "Remove the bookmark of" if screen.frame in app.bookmarks else "Bookmark"
            out.append((f"{what} frame {screen.frame}", screen.action_bookmark, "key b"))
        if isinstance(screen, AssociationScreen):
            for k, tab in enumerate(TABS, 1):
                out.append((f"Go to the {tab} tab", partial(screen.action_tab, tab), f"key {k}"))
            ladder = screen.query_one("#ladder")
            for what, key in (("handshake", "h"), ("retransmission", "r"), ("ending", "e")):
                label = {"handshake": "the handshake", "retransmission": "the first retransmission",
                         "ending": "the shutdown / abort"}[what]
                out.append((f"Timeline: jump to {label}", partial(self._jump, screen, ladder, what), f"key {key}"))
            out.append(("Timeline: search the chunk labels", partial(self._open_search, screen, ladder), "key /"))
        for a in getattr(app.home, "associations", []):
            name = f"Open association {a['id']}: {endpoint(a['initiator'])} ⇄ {endpoint(a['responder'])}"
            out.append((name, partial(app.home.open_key, a[KEY]), a["state"]))
        return out

    @staticmethod
    def _jump(screen, ladder, what: str) -> None:
        screen.action_tab("timeline")
        ladder.action_jump(what)

    @staticmethod
    def _open_search(screen, ladder) -> None:
        screen.action_tab("timeline")
        ladder.action_search()

    async def discover(self) -> Hits:
        for name, callback, help_text in self._commands()[:20]:
            yield DiscoveryHit(name, callback, help=help_text)

    async def search(self, query: str) -> Hits:
        matcher = self.matcher(query)
        for name, callback, help_text in self._commands():
            score = matcher.match(name)
            if score > 0:
                yield Hit(score, matcher.highlight(name), callback, help=help_text)
