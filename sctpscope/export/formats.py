"""What the TUI's export dialog writes, and the checks it makes before: one entry point per format.

- pcapng: the associations' frames only (export.extract, as `sctpscope extract`);
- json: the report contract restricted to them, exactly `sctpscope report --json --filter 'association == 3 ||
  association == 5'` (filter.apply.filtered_report, the same text as the CLI writes: `report_json`);
- text / svg: their ladder diagrams (export.ladder, as `sctpscope ladder`).

Association ids are typed as "3, 5, 7-9" (`parse_ids`); the output path is checked before any work
(`check_output`) so that a dialog can show the problem and let the user fix it. No textual here.
"""

from __future__ import annotations

import io
import json
import os
import re
from collections.abc import Sequence
from dataclasses import dataclass

from sctpscope.errors import SctpscopeError

MAX_IDS = 10_000            # "1-99999999" is a typo, not a request


@dataclass(frozen=True, slots=True)
class Format:
    key: str
    label: str
    suffix: str


FORMATS = (Format("pcapng", "pcapng: only these associations' packets", ".pcapng"),
           Format("json", "JSON report (as report --json for these associations)", ".json"),
           Format("text", "ladder diagram as text", ".txt"),
           Format("svg", "ladder diagram as SVG", ".svg"))
BY_KEY = {f.key: f for f in FORMATS}


def parse_ids(text: str) -> list[int]:
    """ "3, 5, 7-9" -> [3, 5, 7, 8, 9] (order kept, duplicates dropped); ValueError with a readable reason."""
    ids: dict[int, None] = {}
    text = re.sub(r"\s*-\s*", "-", text)
    parts = [p.strip() for p in re.split(r"[,;\s]+", text)]
    for part in filter(None, parts):
        lo, sep, hi = part.partition("-")
        try:
            first, last = int(lo), int(hi if sep else lo)
        except ValueError:
            raise ValueError(f"not an association id or range: {part!r} (e.g. 3, 5, 7-9)") from None
        if first < 1 or last < first:
            raise ValueError(f"not an association id or range: {part!r} (ids start at 1, ranges go up)")
        if last - first + len(ids) >= MAX_IDS:
            raise ValueError(f"too many association ids (at most {MAX_IDS})")
        ids.update(dict.fromkeys(range(first, last + 1)))
    if not ids:
        raise ValueError("no association id given (e.g. 3, 5, 7-9)")
    return list(ids)


def unknown_ids(ids: Sequence[int], known: Sequence[int]) -> str | None:
    """The complaint about ids the capture does not have, or None."""
    have = set(known)
    missing = [i for i in ids if i not in have]
    if not missing:
        return None
    span = f"associations 1..{max(have)}" if have else "no association"
    return f"no association {', '.join(map(str, missing[:10]))}{'…' if len(missing) > 10 else ''} (this capture " \
           f"has {span})"


def default_name(inputs: Sequence[str], ids: Sequence[int], fmt: str) -> str:
    """`STEM-assoc3-5.pcapng` beside the working directory, STEM the first input's name."""
    stem = os.path.splitext(os.path.basename(inputs[0]))[0] if inputs else "capture"
    which = "-".join(map(str, ids)) if len(ids) <= 6 else f"{ids[0]}-and-{len(ids) - 1}-more"
    return f"{stem}-assoc{which}{BY_KEY[fmt].suffix}"


def check_output(path: str, inputs: Sequence[str]) -> str | None:
    """Why `path` cannot be written (None when it can): a directory, a missing or read-only directory, a
    read-only file, one of the inputs."""
    if not path:
        return "no output file given"
    full = os.path.abspath(os.path.expanduser(path))
    if os.path.isdir(full):
        return f"{path} is a directory: add a file name"
    parent = os.path.dirname(full)
    if not os.path.isdir(parent):
        return f"cannot write {path}: no directory {parent}"
    if os.path.exists(full):
        if any(_same_file(full, f) for f in inputs):
            return f"{path} is one of the capture files: write to another file"
        if not os.access(full, os.W_OK):
            return f"cannot write {path}: permission denied"
    elif not os.access(parent, os.W_OK | os.X_OK):
        return f"cannot write {path}: permission denied in {parent}"
    return None


def _same_file(a: str, b: str) -> bool:
    try:
        return os.path.samefile(a, b)
    except OSError:
        return False


def association_filter(ids: Sequence[int]) -> str:
    """The display filter selecting exactly these associations (report --filter)."""
    return " || ".join(f"association == {i}" for i in ids)


def report_json(doc: dict) -> str:
    """The report document as `sctpscope report --json` writes it."""
    out = io.StringIO()
    write_report_json(doc, out)
    return out.getvalue()


def write_report_json(doc: dict, out) -> None:
    """Write the report document to the text stream `out` as it is encoded, one list item (an association)
    at a time: the same text as json.dumps(doc, indent=1) + newline, without ever holding all of it (nor
    the encoder's pieces of all of it) in memory. `doc["associations"]` may be an iterable made once (a
    runner.OneByOne): each dict is then written and dropped, and `servers` computed from what it needs."""
    from sctpscope.analysis.servers import server_view, servers

    assocs = doc.get("associations")
    views: list[dict] | None = None
    if assocs is not None and not isinstance(assocs, list):
        views = []
        doc = dict(doc, associations=(views.append(server_view(a)) or a for a in assocs))
    out.write("{")
    for n, (key, value) in enumerate(doc.items()):
        out.write(("," if n else "") + "\n " + json.dumps(key) + ": ")
        if key == "servers" and views is not None:
            value = servers(views)
        if not isinstance(value, (list, dict, str, int, float, bool, type(None))):     # the one-by-one dicts
            first = True
            for item in value:
                out.write(("[" if first else ",") + "\n  " + json.dumps(item, indent=1).replace("\n", "\n  "))
                first = False
            out.write("[]" if first else "\n ]")
        elif isinstance(value, list) and value:
            out.write("[")
            for i, item in enumerate(value):
                # JSON strings hold no raw newline: every newline is the encoder's, indented one level more
                out.write(("," if i else "") + "\n  " + json.dumps(item, indent=1).replace("\n", "\n  "))
            out.write("\n ]")
        else:
            out.write(json.dumps(value, indent=1).replace("\n", "\n "))
    out.write("\n}\n" if doc else "}\n")


def write_text(path: str, text: str) -> None:
    try:
        with open(path, "w", encoding="utf-8") as f:
            f.write(text)
    except OSError as exc:
        raise SctpscopeError(f"cannot write {path}: {exc.strerror or exc}") from None


def write_export(fmt: str, files: Sequence[str], ids: Sequence[int], output: str, *, indexer=None,
                 sctp_udp_ports: tuple[int, ...] = (9899,), verify: bool = True) -> str:
    """Write associations `ids` of `files` to `output` as `fmt`; returns a line saying what was written.
    `indexer`: a finished analysis.indexer.Indexer of the same files (the TUI's), which the ladders reuse.
    Errors are SctpscopeError (one line)."""
    which = f"association{'s' if len(ids) > 1 else ''} {', '.join(map(str, ids))}"
    if fmt == "pcapng":
        from sctpscope.export.extract import extract

        done = extract(files, ids, output, sctp_udp_ports=sctp_udp_ports, verify=verify)
        return f"wrote {done.frames} frames of {which} to {output}"
    if fmt == "json":
        from sctpscope.filter import compile as compile_filter
        from sctpscope.filter.apply import filtered_report

        doc, _ = filtered_report(files, compile_filter(association_filter(ids)), sctp_udp_ports=sctp_udp_ports,
                                 verify=verify)
        write_text(output, report_json(doc))
        return f"wrote the JSON report of {which} to {output}"
    if fmt in ("text", "svg"):
        from sctpscope.export.ladder import file_timelines, indexed_timelines, ladder_svg, ladder_text

        items = indexed_timelines(indexer, ids, files) if indexer is not None else \
            file_timelines(files, ids, sctp_udp_ports=sctp_udp_ports, verify=verify)
        write_text(output, ladder_svg(items) if fmt == "svg" else ladder_text(items))
        chunks = sum(len(tl.steps) for _, tl in items)
        return f"wrote the ladder of {which} ({chunks} chunks, {fmt}) to {output}"
    raise SctpscopeError(f"unknown export format {fmt!r}")
