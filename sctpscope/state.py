"""What the terminal UI remembers between runs: the captures opened (most recent first) and bookmarked frames.

Kept as JSON in `$SCTPSCOPE_STATE_DIR`, else `$XDG_STATE_HOME/sctpscope/`, else `~/.local/state/sctpscope/`
(the XDG base directory spec's place for state that is not worth backing up): `recent.json` and
`bookmarks.json`. Each is written atomically (a temporary file in the same directory, then renamed over it),
so a crash or a second sctpscope never leaves half a file. A file that is not what this module writes is
ignored with a notice (and replaced on the next save); a directory that cannot be written gives a notice,
never an error: forgetting is never worth stopping the analysis for.

A capture is named by the absolute paths of its files (several files read as one are one capture).
"""

from __future__ import annotations

import json
import os
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from sctpscope.text import escape_text

ENV = "SCTPSCOPE_STATE_DIR"
VERSION = 1
MAX_RECENT = 30


def state_dir() -> Path:
    """Where the state files live (not created here)."""
    mine = os.environ.get(ENV)
    if mine:
        return Path(mine).expanduser()
    xdg = os.environ.get("XDG_STATE_HOME")
    base = Path(xdg).expanduser() if xdg and os.path.isabs(os.path.expanduser(xdg)) else \
        Path.home() / ".local" / "state"
    return base / "sctpscope"


def capture_paths(paths: Sequence[str]) -> list[str]:
    """The paths that name a capture: absolute, as typed otherwise (symlinks kept)."""
    return [os.path.abspath(os.path.expanduser(str(p))) for p in paths]


@dataclass(frozen=True, slots=True)
class Recent:
    """A capture opened before: its files and when (epoch seconds)."""

    paths: tuple[str, ...]
    opened: float

    @property
    def missing(self) -> list[str]:
        return [p for p in self.paths if not os.path.exists(p)]


class State:
    """The state files in one directory; `notices` collects what went wrong (corrupt files, unwritable
    directory), for the caller to show once."""

    def __init__(self, directory: Path | str | None = None) -> None:
        self.dir = Path(directory) if directory is not None else state_dir()
        self.notices: list[str] = []

    # -- files ----------------------------------------------------------------------------------------
    def _load(self, name: str, key: str) -> list | dict | None:
        """The `key` entry of state file `name` (None when there is no file, or it is corrupt: noticed)."""
        path = self.dir / name
        try:
            with open(path, encoding="utf-8") as f:
                doc = json.load(f)
        except (FileNotFoundError, NotADirectoryError):
            return None
        except (OSError, ValueError) as exc:
            self.notices.append(f"ignored the state file {escape_text(str(path))}: "
                                f"{escape_text(getattr(exc, 'strerror', None) or str(exc))}")
            return None
        value = doc.get(key) if isinstance(doc, dict) and doc.get("version") == VERSION else None
        if value is None:
            self.notices.append(f"ignored the state file {escape_text(str(path))}: not sctpscope's "
                                f"(version {VERSION}) state")
        return value

    def _save(self, name: str, key: str, value) -> bool:
        """Write state file `name` atomically; False (and a notice) when it cannot be written."""
        path = self.dir / name
        tmp = None
        try:
            self.dir.mkdir(parents=True, exist_ok=True, mode=0o700)
            fd, tmp = tempfile.mkstemp(prefix=f".{name}.", suffix=".tmp", dir=self.dir)
            with os.fdopen(fd, "w", encoding="utf-8") as f:
                json.dump({"version": VERSION, key: value}, f, indent=1)
                f.flush()
                os.fsync(f.fileno())
            os.replace(tmp, path)
            return True
        except OSError as exc:
            if tmp is not None:
                try:
                    os.unlink(tmp)
                except OSError:
                    pass
            self.notices.append(f"cannot save {escape_text(str(path))}: {escape_text(exc.strerror or str(exc))}")
            return False

    # -- recent captures ------------------------------------------------------------------------------
    def recent(self) -> list[Recent]:
        """The captures opened before, most recent first (entries not understood are skipped)."""
        raw = self._load("recent.json", "recent")
        out = []
        for e in raw if isinstance(raw, list) else []:
            paths = e.get("paths") if isinstance(e, dict) else None
            opened = e.get("opened") if isinstance(e, dict) else None
            if isinstance(paths, list) and paths and all(isinstance(p, str) for p in paths) \
                    and isinstance(opened, (int, float)):
                out.append(Recent(tuple(paths), float(opened)))
        return sorted(out, key=lambda r: -r.opened)

    def remember(self, paths: Sequence[str], when: float | None = None) -> bool:
        """Put the capture first in the recent list (once; the list keeps MAX_RECENT)."""
        mine = tuple(capture_paths(paths))
        entries = [Recent(mine, time.time() if when is None else when)]
        entries += [r for r in self.recent() if r.paths != mine][:MAX_RECENT - 1]
        return self._save("recent.json", "recent", [{"paths": list(r.paths), "opened": r.opened} for r in entries])

    # -- bookmarks ------------------------------------------------------------------------------------
    def _all_bookmarks(self) -> dict:
        raw = self._load("bookmarks.json", "captures")
        return raw if isinstance(raw, dict) else {}

    @staticmethod
    def _key(paths: Sequence[str]) -> str:
        return "\n".join(capture_paths(paths))

    def bookmarks(self, paths: Sequence[str]) -> list[int]:
        """The bookmarked frame numbers of this capture, ascending."""
        frames = self._all_bookmarks().get(self._key(paths))
        if not isinstance(frames, list):
            return []
        return sorted({f for f in frames if isinstance(f, int) and not isinstance(f, bool) and f > 0})

    def set_bookmarks(self, paths: Sequence[str], frames: Sequence[int]) -> bool:
        """Replace this capture's bookmarks (none: the capture is dropped from the file)."""
        every = self._all_bookmarks()
        key = self._key(paths)
        if frames:
            every[key] = sorted(set(frames))
        else:
            every.pop(key, None)
        return self._save("bookmarks.json", "captures", every)


def recent_lines(entries: Sequence[Recent]) -> list[str]:
    """The recent list as text (for `sctpscope` without a terminal): newest first, missing files marked."""
    lines = []
    for r in entries:
        when = time.strftime("%Y-%m-%d %H:%M", time.localtime(r.opened))
        files = " + ".join(escape_text(p) for p in r.paths)
        lines.append(f"{when}  {files}" + ("  [missing]" if r.missing else ""))
    return lines
