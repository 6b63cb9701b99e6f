"""Build hook (hatchling's `custom` hook, see pyproject.toml): compile the hot modules with mypyc.

The modules in COMPILED are ordinary Python; mypyc turns them into C extensions that run the same code
~1.5x faster. Compiling is best effort: without mypy, a C compiler or Python's headers (Debian: gcc,
python3-dev), or with SCTPSCOPE_COMPILE=0 in the environment, the wheel is the pure-Python one and works the
same, only slower. A compiled module shadows its .py file (Python imports the extension first).

* `pip install .` (wheel): built in a temporary directory; the extensions go into the wheel only.
* `pip install -e .` (editable): built in place, next to the sources, since the sources are what is
  imported. Editing a compiled module then needs a rebuild (`pip install -e .` again), or
  `python hatch_build.py --clean` to go back to pure Python.
"""

from __future__ import annotations

import glob
import os
import shutil
import subprocess
import sys
import sysconfig
import tempfile

try:
    from hatchling.builders.hooks.plugin.interface import BuildHookInterface
except ImportError:  # run as a script (--clean) without hatchling
    BuildHookInterface = object  # type: ignore[assignment,misc]

#: The per-packet path: capture frames -> link/IP -> SCTP -> association analysis.
COMPILED = [
    "sctpscope/capture/reader.py",
    "sctpscope/pipeline.py",
    "sctpscope/decode/frame.py",
    "sctpscope/decode/net.py",
    "sctpscope/decode/sctp/packet.py",
    "sctpscope/decode/sctp/chunks.py",
    "sctpscope/analysis/tracker.py",
    "sctpscope/analysis/association.py",
    "sctpscope/analysis/streams.py",
    "sctpscope/analysis/reliability.py",
    "sctpscope/analysis/serial.py",
]
GROUP = "sctpscope"          # the shared library: sctpscope__mypyc.<ext> at the top level
_EXT = sysconfig.get_config_var("EXT_SUFFIX") or ".so"

_SETUP = """
import sys
from setuptools import setup
from mypyc.build import mypycify
setup(name="sctpscope-mypyc", packages=[], py_modules=[],
      ext_modules=mypycify(sys.argv.pop(1).split(","), target_dir=sys.argv.pop(1), opt_level="3", group_name=%r))
""" % GROUP


def _outputs(root: str) -> list[str]:
    """The extension files a build leaves under root (relative paths)."""
    found = [os.path.splitext(m)[0] + _EXT for m in COMPILED] + [GROUP + "__mypyc" + _EXT]
    return [p for p in found if os.path.exists(os.path.join(root, p))]


MANIFEST = "sctpscope/_mypyc_sources.json"   # editable builds: hashes of the sources compiled (see sctpscope/_build.py)


def clean(root: str) -> None:
    for p in _outputs(root) + ([MANIFEST] if os.path.exists(os.path.join(root, MANIFEST)) else []):
        os.remove(os.path.join(root, p))


def write_manifest(root: str) -> None:
    """Record what was compiled in place, so that an edited source is noticed (and used) at import."""
    import hashlib
    import json

    digests = {}
    for rel in COMPILED:
        with open(os.path.join(root, rel), "rb") as f:
            digests[rel] = hashlib.sha256(f.read()).hexdigest()
    with open(os.path.join(root, MANIFEST), "w") as f:
        json.dump(digests, f, indent=1)


def compile_modules(root: str, inplace: bool) -> tuple[str | None, str]:
    """Build the extensions; returns (directory holding them, or None on failure; the build's output)."""
    tmp = tempfile.mkdtemp(prefix="sctpscope-mypyc-")
    out = root if inplace else os.path.join(tmp, "lib")
    args = ["--cache-dir=" + os.path.join(tmp, "mypy_cache")] + COMPILED   # mypy options may go with the paths
    cmd = [sys.executable, "-c", _SETUP, ",".join(args), os.path.join(tmp, "c"), "build_ext", "--build-temp", os.path.join(tmp, "tmp")]
    cmd += ["--build-lib", os.path.join(tmp, "lib")] + (["--inplace"] if inplace else [])
    try:
        proc = subprocess.run(cmd, cwd=root, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    except OSError as e:
        return None, str(e)
    finally:
        shutil.rmtree(os.path.join(tmp, "tmp"), ignore_errors=True)
        shutil.rmtree(os.path.join(tmp, "mypy_cache"), ignore_errors=True)
        shutil.rmtree(os.path.join(tmp, "c"), ignore_errors=True)
    if proc.returncode or len(_outputs(out)) != len(COMPILED) + 1:
        if inplace:
            clean(root)
        shutil.rmtree(tmp, ignore_errors=True)
        return None, proc.stdout
    if inplace:
        shutil.rmtree(tmp, ignore_errors=True)
        write_manifest(root)
    return out, proc.stdout


class MypycHook(BuildHookInterface):
    PLUGIN_NAME = "custom"

    def initialize(self, version: str, build_data: dict) -> None:
        if self.target_name != "wheel":
            return
        root = self.root
        clean(root)          # never ship or keep extensions of an earlier build
        if os.environ.get("SCTPSCOPE_COMPILE", "") == "0":
            self.app.display_info("sctpscope: pure-Python build (SCTPSCOPE_COMPILE=0)")
            return
        try:
            import mypyc.build  # noqa: F401
        except ImportError:
            self.app.display_warning("sctpscope: mypy (mypyc) not installed: pure-Python build")
            return
        inplace = version == "editable"
        out, log = compile_modules(root, inplace)
        if out is None:
            tail = "\n".join(log.strip().splitlines()[-15:])
            self.app.display_warning("sctpscope: mypyc compilation failed; pure-Python build (same behaviour, "
                                     f"slower). Last lines of the build:\n{tail}")
            return
        self.app.display_info(f"sctpscope: compiled {len(COMPILED)} modules with mypyc")
        build_data["pure_python"] = False
        build_data["infer_tag"] = True
        if not inplace:
            self._tmp = os.path.dirname(out)
            for rel in _outputs(out):
                build_data["force_include"][os.path.join(out, rel)] = rel

    def finalize(self, version: str, build_data: dict, artifact_path: str) -> None:
        tmp = getattr(self, "_tmp", None)
        if tmp:
            shutil.rmtree(tmp, ignore_errors=True)

    def clean(self, versions: list[str]) -> None:   # `hatch clean`
        clean(self.root)


if __name__ == "__main__":
    if sys.argv[1:] == ["--clean"]:
        clean(os.path.dirname(os.path.abspath(__file__)))
    elif sys.argv[1:] == ["--inplace"]:
        d, log = compile_modules(os.path.dirname(os.path.abspath(__file__)), True)
        print(log if d is None else "compiled in place")
        sys.exit(d is None)
    else:
        sys.exit("usage: python hatch_build.py --clean | --inplace")
