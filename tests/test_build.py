"""The optional compiled build (hatch_build.py, sctpscope/_build.py): which code runs, and that an edited
source is never shadowed by its stale compiled module."""
from __future__ import annotations

import hashlib
import json
import os
import sys

import pytest

import sctpscope
from sctpscope import _build


def test_status_matches_the_modules_loaded():
    """`sctpscope --version` tells the truth: compiled modules are loaded exactly when it says compiled."""
    import sctpscope.analysis.tracker as tracker

    compiled = not tracker.__file__.endswith(".py")
    assert _build.status.startswith("compiled" if compiled else "pure")
    if os.path.exists(_build.MANIFEST):        # an editable compiled install (the README's set-up)
        assert compiled, _build.status


@pytest.mark.skipif(not os.environ.get("SCTPSCOPE_EXPECT_COMPILED"),
                    reason="SCTPSCOPE_EXPECT_COMPILED unset (.ci/run sets it: CI must test the compiled build)")
def test_ci_runs_the_compiled_build():
    """The README's install compiles the per-packet modules when gcc and Python's headers are there; CI
    installs both, so a pure-Python fallback there is a broken build (a mypy error in a compiled module)."""
    assert _build.status == "compiled", _build.status


def test_an_edited_source_wins_over_its_compiled_module(tmp_path, monkeypatch):
    """A manifest whose recorded hash differs from the source: every recorded module loads from .py."""
    pkg = tmp_path / "fakepkg"
    pkg.mkdir()
    (pkg / "__init__.py").write_text("")
    (pkg / "hot.py").write_text("WHERE = 'source'\n")
    (pkg / "cold.py").write_text("WHERE = 'source'\n")
    manifest = tmp_path / "manifest.json"
    manifest.write_text(json.dumps({
        "fakepkg/hot.py": hashlib.sha256(b"WHERE = 'compiled'\n").hexdigest(),     # edited since
        "fakepkg/cold.py": hashlib.sha256(b"WHERE = 'source'\n").hexdigest(),      # unchanged
    }))
    monkeypatch.setattr(_build, "MANIFEST", str(manifest))
    monkeypatch.setattr(_build, "_ROOT", str(tmp_path))
    before = list(sys.meta_path)
    try:
        _build.check()
        finder = sys.meta_path[0]
        assert isinstance(finder, _build._SourceFirst)
        assert finder.paths == {"fakepkg.hot": str(pkg / "hot.py"), "fakepkg.cold": str(pkg / "cold.py")}
        assert _build.status.startswith("pure (1 compiled module(s)") and "fakepkg/hot.py" in _build.status
        spec = finder.find_spec("fakepkg.cold")
        assert spec.origin == str(pkg / "cold.py")
        assert finder.find_spec("sctpscope.cli") is None
    finally:
        sys.meta_path[:] = before
        _build.status = "compiled" if _build._compiled_loaded() else "pure"
    assert sctpscope.__version__
