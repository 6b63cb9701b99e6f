"""Which build of sctpscope runs: the per-packet modules compiled with mypyc, or pure Python.

An editable install compiles in place (hatch_build.py) and records the hashes of the compiled sources in
_mypyc_sources.json. A compiled module would shadow its .py file even after the source is edited, so at
import (`check()`, called from sctpscope/__init__) an edited source makes every compiled module load from
its .py instead: all or none, since compiled modules call each other natively. `sctpscope --version`
says which build runs.
"""

from __future__ import annotations

import hashlib
import importlib.abc
import importlib.util
import json
import os
import sys

_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
MANIFEST = os.path.join(os.path.dirname(os.path.abspath(__file__)), "_mypyc_sources.json")

#: what runs: "compiled", "pure", or "pure (N compiled modules are stale: ...)"
status = "pure"


class _SourceFirst(importlib.abc.MetaPathFinder):
    """Loads the named modules from their .py files, ahead of the compiled extensions."""

    def __init__(self, paths: dict[str, str]) -> None:
        self.paths = paths

    def find_spec(self, fullname, path=None, target=None):
        source = self.paths.get(fullname)
        if source is None:
            return None
        return importlib.util.spec_from_file_location(fullname, source)


def check() -> None:
    global status
    try:
        with open(MANIFEST, encoding="utf-8") as f:
            recorded: dict[str, str] = json.load(f)
    except (OSError, ValueError):
        recorded = {}
    if not recorded:
        status = "compiled" if _compiled_loaded() else "pure"
        return
    stale = []
    for rel, digest in recorded.items():
        try:
            with open(os.path.join(_ROOT, rel), "rb") as f:
                if hashlib.sha256(f.read()).hexdigest() != digest:
                    stale.append(rel)
        except OSError:
            stale.append(rel)
    if not stale:
        status = "compiled"
        return
    modules = {rel[:-3].replace("/", "."): os.path.join(_ROOT, rel) for rel in recorded}
    sys.meta_path.insert(0, _SourceFirst(modules))
    status = (f"pure ({len(stale)} compiled module(s) older than their sources, e.g. {stale[0]}: "
              "`pip install -e .` compiles again)")


def _compiled_loaded() -> bool:
    spec = importlib.util.find_spec("sctpscope.analysis.tracker")
    return spec is not None and spec.origin is not None and not spec.origin.endswith(".py")
