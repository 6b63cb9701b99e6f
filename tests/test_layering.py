"""The layers stay apart: capture -> decode -> analysis -> report | tui.

- Importing the headless modules (capture, decode, cli) loads neither textual nor pyshark.
- By the source (AST scan): sctpscope/capture imports nothing from decode/analysis/report/tui;
  sctpscope/decode imports nothing from analysis/report/tui; only sctpscope/tui imports textual.
"""
from __future__ import annotations

import ast
import json
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import REPO

PACKAGE = REPO / "sctpscope"
HEADLESS = ["sctpscope.decode", "sctpscope.capture", "sctpscope.cli",
            "sctpscope.decode.sctp", "sctpscope.decode.net", "sctpscope.pipeline",
            "sctpscope.analysis.runner", "sctpscope.report.document", "sctpscope.report.summary"]
HEAVY = ["textual", "pyshark"]

# layer directory -> sctpscope subpackages it must never import
FORBIDDEN = {
    "capture": ["sctpscope.decode", "sctpscope.analysis", "sctpscope.report", "sctpscope.tui"],
    "decode": ["sctpscope.analysis", "sctpscope.report", "sctpscope.tui"],
    "analysis": ["sctpscope.report", "sctpscope.tui"],
    "report": ["sctpscope.tui"],
}


def _exists(module: str) -> bool:
    """Whether a module can be found, without importing it in this process."""
    parts = module.split(".")
    path = REPO.joinpath(*parts)
    return path.with_suffix(".py").is_file() or (path / "__init__.py").is_file()


def test_headless_imports_load_no_ui_or_tshark_wrapper():
    """Importing decode/capture/cli (and decode.sctp, decode.net) leaves textual and pyshark unloaded."""
    present = [m for m in HEADLESS if _exists(m)]
    if not present:
        pytest.skip("none of the headless modules exists yet")
    script = (
        "import importlib, json, sys\n"
        f"for m in {present!r}:\n"
        "    importlib.import_module(m)\n"
        f"print(json.dumps(sorted(h for h in {HEAVY!r} if h in sys.modules or "
        "any(k.startswith(h + '.') for k in sys.modules))))\n"
    )
    proc = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120,
                          cwd=REPO)
    assert proc.returncode == 0, f"importing {present} failed:\n{proc.stderr[-3000:]}"
    loaded = json.loads(proc.stdout.strip().splitlines()[-1])
    assert not loaded, f"importing {present} also loaded {loaded}: only sctpscope.tui (textual) and the " \
                       f"tshark oracle (pyshark) may, and only lazily"


def _imports(path: Path, root: Path = REPO) -> list[tuple[int, str]]:
    """(line, absolute module name) of every import in one source file; relative imports resolved."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    package = list(path.relative_to(root).parts[:-1])    # a module's package; an __init__'s own package
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package[: len(package) - (node.level - 1)] if node.level > 1 else package
                mod = ".".join(base + ([node.module] if node.module else []))
            else:
                mod = node.module or ""
            found.append((node.lineno, mod))
            # `from sctpscope import report` imports the subpackage too
            found += [(node.lineno, f"{mod}.{alias.name}") for alias in node.names]
    return found


def _sources(subdir: str | None = None) -> list[Path]:
    root = PACKAGE / subdir if subdir else PACKAGE
    return sorted(root.rglob("*.py")) if root.is_dir() else []


def _is_under(module: str, prefix: str) -> bool:
    return module == prefix or module.startswith(prefix + ".")


@pytest.mark.parametrize("layer", sorted(FORBIDDEN))
def test_lower_layer_does_not_import_higher(layer: str):
    """capture imports no decode/analysis/report/tui; decode imports no analysis/report/tui."""
    files = _sources(layer)
    if not files:
        pytest.skip(f"sctpscope/{layer} does not exist yet")
    bad = [f"{f.relative_to(REPO)}:{line}: imports {mod}"
           for f in files for line, mod in _imports(f)
           if any(_is_under(mod, forbidden) for forbidden in FORBIDDEN[layer])]
    assert not bad, f"sctpscope/{layer} reaches up the layers:\n  " + "\n  ".join(bad)


def test_only_tui_imports_textual():
    """textual is imported only inside sctpscope/tui."""
    files = [f for f in _sources() if "tui" not in f.relative_to(PACKAGE).parts[:1]]
    if not files:
        pytest.skip("no sctpscope sources yet")
    bad = [f"{f.relative_to(REPO)}:{line}: imports {mod}"
           for f in files for line, mod in _imports(f) if _is_under(mod, "textual")]
    assert not bad, "textual imported outside sctpscope/tui:\n  " + "\n  ".join(bad)


def test_import_scanner_sees_relative_imports(tmp_path: Path):
    """The AST scan resolves `from ..x import y` the way Python does (guards the checks above)."""
    probe = tmp_path / "sctpscope" / "capture" / "probe.py"
    probe.parent.mkdir(parents=True)
    probe.write_text("from ..decode import frame\nfrom . import reader\nimport textual.app\n")
    mods = {m for _, m in _imports(probe, root=tmp_path)}
    assert {"sctpscope.decode", "sctpscope.decode.frame", "sctpscope.capture.reader", "textual.app"} <= mods, mods
    init = tmp_path / "sctpscope" / "decode" / "__init__.py"
    init.parent.mkdir(parents=True)
    init.write_text("from .sctp import packet\nfrom .. import tui\n")
    mods = {m for _, m in _imports(init, root=tmp_path)}
    assert {"sctpscope.decode.sctp", "sctpscope.decode.sctp.packet", "sctpscope.tui"} <= mods, mods
