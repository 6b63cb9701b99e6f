"""Shared fixtures and helpers for sctpscope's tests.

- `CAPTURES`: the captures committed in this repo (permissive licences and our own usrsctp captures).
- `PUBLIC`: ../shared/captures/public beside the clone (GPL/AGPL/unlicensed captures stay there); tests
  that use it skip when it is absent.
- `tshark_required`: skip marker for tests that need tshark as the oracle.
- `run_sctpscope(*args)`: runs `python -m sctpscope ARGS` in a subprocess and returns the CompletedProcess.
"""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
CAPTURES = REPO / "captures"
PUBLIC = REPO.parent / "shared" / "captures" / "public"
CAPTURE_SUFFIXES = (".pcap", ".pcapng", ".cap")

TSHARK = shutil.which("tshark")
tshark_required = pytest.mark.skipif(TSHARK is None, reason="tshark not on PATH (apt-get install tshark)")

# Seconds one sctpscope run may take before the test fails instead of hanging.
SCTPSCOPE_TIMEOUT = float(os.environ.get("SCTPSCOPE_TEST_TIMEOUT", "300"))


def is_capture(path: Path) -> bool:
    """A capture file by name: *.pcap, *.pcapng, *.cap."""
    return path.is_file() and path.name.endswith(CAPTURE_SUFFIXES)


def repo_captures() -> list[Path]:
    """Every capture committed in captures/, sorted by name."""
    return sorted(p for p in CAPTURES.iterdir() if is_capture(p)) if CAPTURES.is_dir() else []


def public_captures() -> list[Path]:
    """Every capture in ../shared/captures/public, sorted by name; empty when shared/ is absent."""
    return sorted(p for p in PUBLIC.iterdir() if is_capture(p)) if PUBLIC.is_dir() else []


def all_captures() -> list[Path]:
    """captures/ plus the public captures not copied there (those stay in ../shared only)."""
    ours = repo_captures()
    names = {p.name for p in ours}
    return ours + [p for p in public_captures() if p.name not in names]


def public_capture(name: str) -> Path:
    """The path of one capture in ../shared/captures/public; skips the calling test when it is absent."""
    path = PUBLIC / name
    if not PUBLIC.is_dir():
        pytest.skip(f"{PUBLIC} is absent (shared/ is not beside this clone): {name} is kept only there")
    if not path.is_file():
        pytest.skip(f"{name} is not in {PUBLIC}")
    return path


def write_abort_capture(path: Path, reason: bytes) -> Path:
    """A one-frame Ethernet/IPv4 pcap (198.18.0.1:5000 -> 198.18.0.2:6000, correct CRC32c) holding an ABORT
    whose User-Initiated Abort cause (RFC 9260 §3.3.10.12) carries `reason`: for escaping tests."""
    import struct

    import crc32c

    cause = struct.pack("!HH", 12, 4 + len(reason)) + reason + b"\0" * (-len(reason) % 4)
    chunk = struct.pack("!BBH", 6, 0, 4 + len(cause)) + cause
    sctp = bytearray(struct.pack("!HHII", 5000, 6000, 0x11223344, 0) + chunk)
    struct.pack_into("<I", sctp, 8, crc32c.crc32c(bytes(sctp)))
    ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(sctp), 1, 0, 64, 132, 0,
                     bytes([198, 18, 0, 1]), bytes([198, 18, 0, 2])) + bytes(sctp)
    frame = b"\x02" * 6 + b"\x04" * 6 + b"\x08\x00" + ip
    path.write_bytes(struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 65535, 1)
                     + struct.pack("<IIII", 1, 0, len(frame), len(frame)) + frame)
    return path


def run_sctpscope(*args: str | os.PathLike, timeout: float = SCTPSCOPE_TIMEOUT,
                  check: bool = False) -> subprocess.CompletedProcess:
    """Run `python -m sctpscope ARGS` from the repo root; text output, captured; fails the test on a hang."""
    cmd = [sys.executable, "-m", "sctpscope", *map(str, args)]
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO), env.get("PYTHONPATH", "")]))
    try:
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, cwd=REPO, env=env,
                              stdin=subprocess.DEVNULL)
    except subprocess.TimeoutExpired as exc:
        pytest.fail(f"`{' '.join(cmd)}` did not finish within {timeout:g} s "
                    f"(stderr so far: {(exc.stderr or b'')[-500:]!r})")
    if check and proc.returncode != 0:
        pytest.fail(f"`{' '.join(cmd)}` exited {proc.returncode}\nstderr:\n{proc.stderr[-2000:]}")
    return proc


@pytest.fixture
def captures_dir() -> Path:
    return CAPTURES


@pytest.fixture
def public_dir() -> Path:
    if not PUBLIC.is_dir():
        pytest.skip(f"{PUBLIC} is absent (shared/ is not beside this clone)")
    return PUBLIC


@pytest.fixture(autouse=True)
def _state_dir(tmp_path_factory, monkeypatch):
    """The TUI remembers opened captures and bookmarks (sctpscope.state): keep the tests' out of the user's."""
    monkeypatch.setenv("SCTPSCOPE_STATE_DIR", str(tmp_path_factory.mktemp("state")))
