"""Tally: the counter of the per-packet path.

collections.Counter defines ``__delitem__`` in Python, which makes every ``counter[key] += 1`` go through a
Python-level ``__setitem__`` dispatch (about 1,000 machine instructions, several times per packet). A dict
subclass that defines only ``__missing__`` keeps dict's own C slots: stores cost what a dict's do. It reads
like a Counter where the analysis needs it: a missing key is 0 (and is not inserted), and ``update`` adds.

Not compiled with mypyc on purpose (hatch_build.COMPILED): a plain Python subclass of dict.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping


class Tally(dict):
    """key -> count; a missing key counts 0."""

    __slots__ = ()

    def __missing__(self, key):
        return 0

    def update(self, other: Mapping | Iterable = (), /, **kw) -> None:  # type: ignore[override]
        """Add counts, like Counter.update (dict.update would replace them)."""
        items = other.items() if isinstance(other, Mapping) else other
        for key, n in items:
            self[key] = self.get(key, 0) + n
        for key, n in kw.items():
            self[key] = self.get(key, 0) + n

    def __repr__(self) -> str:
        return f"Tally({dict.__repr__(self)})"
