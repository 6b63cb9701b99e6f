"""Command palette entries (ctrl+p): open any association, switch tabs, jump in the timeline."""

from __future__ import annotations

from functools import partial

from textual.command import DiscoveryHit, Hit, Hits, Provider

from sctpscope.analysis.indexer import KEY
from sctpscope.tui.format import endpoint


class SctpscopeCommands(Provider):
    """What the current screen offers, as palette commands."""

    def _commands(self) -> list[tuple[str, object, str]]:
        from sctpscope.tui.screens.association import TABS, AssociationScreen

        app = self.app
        screen = app.screen
        out: list[tuple[str, object, str]] = []
        if isinstance(screen, AssociationScreen):
            for k, tab in enumerate(TABS, 1):
                out.append((f"Go to the {tab} tab", partial(screen.action_tab, tab), f"key {k}"))
            ladder = screen.query_one("#ladder")
            for what, key in (("handshake", "h"), ("retransmission", "r"), ("ending", "e")):
                label = {"handshake": "the handshake", "retransmission": "the first retransmission",
                         "ending": "the shutdown / abort"}[what]
                out.append((f"Timeline: jump to {label}", partial(self._jump, screen, ladder, what), f"key {key}"))
        for a in getattr(app.home, "associations", []):
            name = f"Open association {a['id']}: {endpoint(a['initiator'])} ⇄ {endpoint(a['responder'])}"
            out.append((name, partial(app.home.open_key, a[KEY]), a["state"]))
        return out

    @staticmethod
    def _jump(screen, ladder, what: str) -> None:
        screen.action_tab("timeline")
        ladder.action_jump(what)

    async def discover(self) -> Hits:
        for name, callback, help_text in self._commands()[:20]:
            yield DiscoveryHit(name, callback, help=help_text)

    async def search(self, query: str) -> Hits:
        matcher = self.matcher(query)
        for name, callback, help_text in self._commands():
            score = matcher.match(name)
            if score > 0:
                yield Hit(score, matcher.highlight(name), callback, help=help_text)
