"""What the command writes: table, json, jsonl and csv on stdout, the failure report on stderr.

Part of the command line: the library never writes anything. The JSON
document and the exit codes are a public contract (see the README).
"""

from __future__ import annotations

import argparse
import codecs
import io
import json
import math
import os
import sys
from collections.abc import Callable, Iterator, Sequence
from json.encoder import encode_basestring_ascii as _quote
from typing import Any, TextIO

from ._errors import describe
from ._model import (
    Classified,
    Columns,
    FileResult,
    LanguageTotals,
    Report,
    Results,
    Status,
    group_totals,
    language_of,
)

__all__ = [
    "CSV_HEADER",
    "distribution",
    "json_record",
    "json_text",
    "jsonl_line",
    "ordered",
    "prepare_streams",
    "write_failure_report",
    "write_output",
]

CSV_HEADER = ("path", "status", "lines", "bytes", "error_type", "error_message", "reason")
LANGUAGE_COLUMNS = ("language", "code", "comments", "blanks")
DECOMPRESS_COLUMNS = ("codec", "decompressed_bytes")

_RAW = "linetally-raw"


def _raw_bytes(exc: UnicodeError) -> tuple[bytes, int]:
    """Encoding error handler: a name's own bytes back (surrogateescape), else ``\\uXXXX``."""
    if not isinstance(exc, UnicodeEncodeError):
        raise exc
    out = bytearray()
    for char in exc.object[exc.start : exc.end]:
        code = ord(char)
        if 0xDC80 <= code <= 0xDCFF:
            out.append(code - 0xDC00)
        else:
            out += char.encode("ascii", "backslashreplace")
    return bytes(out), exc.end


codecs.register_error(_RAW, _raw_bytes)

# What the table and the report draw with, for an output that cannot encode it.
_ASCII = str.maketrans({"□": "#", "…": "...", "·": "-", "✓": "ok", "✗": "x"})


def _fallback(stream: object) -> dict[int, str] | None:
    """The ASCII translation for ``stream`` if its encoding lacks the drawing characters."""
    encoding = getattr(stream, "encoding", None)
    if not isinstance(encoding, str):
        return None
    try:
        "□…·✓✗".encode(encoding)
    except (UnicodeError, LookupError):
        return _ASCII
    return None


def prepare_streams(*streams: object) -> None:
    """Make text that an output's encoding cannot hold come out escaped, never crash.

    Everything written as text is display text (names through ``display_path``,
    JSON as ASCII), so ``backslashreplace`` only ever meets characters the
    locale lacks (``é`` on an ASCII output becomes ``\\xe9``).
    """
    for stream in streams:
        if isinstance(stream, io.TextIOWrapper) and stream.errors != "backslashreplace":
            stream.reconfigure(errors="backslashreplace")


def json_record(r: FileResult, languages: bool = False, decompress: bool = False) -> dict[str, Any]:
    """One file as the ``files`` entries of ``--format json`` and the lines of jsonl.

    With ``languages`` (``--languages``), also its language and its code,
    comment and blank lines; with ``decompress`` (``-z``), ``codec`` and
    ``decompressed_bytes``.
    """
    error = None
    if r.error is not None:
        error = {"type": type(r.error).__name__, "message": describe(r.error)}
    record = {
        "path": r.path,
        "status": r.status.value,
        "lines": r.lines,
        "bytes": r.bytes,
        "error": error,
        "reason": r.reason,
    }
    if languages:
        record.update(_language_fields(r))
    if decompress:
        record["codec"] = r.codec
        record["decompressed_bytes"] = r.decompressed_bytes
    return record


def _language_fields(r: FileResult) -> dict[str, Any]:
    return {"language": r.language, "code": r.code, "comments": r.comments, "blanks": r.blanks}


def group_record(t: LanguageTotals, classified: bool) -> dict[str, int | None]:
    """A group's totals as JSON: files and lines, and with ``classified`` the split."""
    record: dict[str, int | None] = {"files": t.files, "lines": t.lines}
    if classified:
        record.update(code=t.code, comments=t.comments, blanks=t.blanks)
    return record


def _dumps(obj: object) -> str:
    # ensure_ascii: names that are not UTF-8 are lone surrogates (surrogateescape);
    # as \udcXX escapes they survive any output encoding and round-trip exactly.
    return json.dumps(obj, ensure_ascii=True)


_JSON_ROWS = 4096
"""Rows of ``--format json`` joined into one write."""


def json_text(r: FileResult, languages: bool = False, decompress: bool = False) -> str:
    """``json_record(r, ...)`` as JSON text, written out directly for the common case.

    Byte for byte what ``json.dumps`` gives, several times faster for a result
    with no error and no reason: that matters with 100,000 files.
    """
    if r.error is not None or r.reason is not None:
        return _dumps(json_record(r, languages, decompress))
    lines = "null" if r.lines is None else int(r.lines)
    size = "null" if r.bytes is None else int(r.bytes)
    # _value_ is the member's own attribute: Enum.value is a property, slower.
    text = (
        f'{{"path": {_quote(r.path)}, "status": "{r.status._value_}", "lines": {lines}, '
        f'"bytes": {size}, "error": null, "reason": null'
    )
    if languages:
        text += _kinds_text((r.language, r.code, r.comments, r.blanks))
    if decompress:
        codec = "null" if r.codec is None else _quote(r.codec)
        text += f', "codec": {codec}, "decompressed_bytes": {_number(r.decompressed_bytes)}'
    return text + "}"


def _number(n: int | None) -> str:
    return "null" if n is None else str(int(n))


def jsonl_line(r: FileResult, languages: bool = False, decompress: bool = False) -> str:
    """One ``--format jsonl`` line, newline included."""
    return json_text(r, languages, decompress) + "\n"


def ordered(results: Sequence[FileResult], args: argparse.Namespace) -> Sequence[FileResult]:
    """Apply ``--top``, ``--sort`` and ``--reverse`` to the rows."""
    if _in_input_order(args):
        return results
    rows: Sequence[FileResult] = results
    if args.top is not None:
        rows = sorted(rows, key=lambda r: r.lines or 0, reverse=True)[: args.top]
    if args.sort == "lines":
        rows = sorted(rows, key=lambda r: (r.lines is None, r.lines or 0))
    elif args.sort == "bytes":
        rows = sorted(rows, key=lambda r: (r.bytes is None, r.bytes or 0))
    elif args.sort == "path":
        rows = sorted(rows, key=lambda r: r.path)
    if args.reverse:
        rows = list(reversed(rows))
    return rows


def _in_input_order(args: argparse.Namespace) -> bool:
    """Whether the rows are written as the run reports them (no ``--top``, ``--sort``, ``-r``)."""
    return args.top is None and args.sort in (None, "none") and not args.reverse


def write_output(report: Report, args: argparse.Namespace, out: TextIO) -> None:
    """Write the report to stdout in the format asked for."""
    fmt = args.format
    if fmt == "jsonl":
        return  # already streamed, one line per file
    if fmt == "json":
        summary = distribution(report.results) if getattr(args, "summary", False) else None
        _write_json(report, ordered(report.results, args), out, args, summary)
    elif fmt == "csv":
        _write_csv(
            ordered(report.results, args), out, args.languages, getattr(args, "decompress", False)
        )
    elif args.languages or args.by is not None:
        if args.summary:
            _write_table(report, args, out)
            out.write("\n")
        _write_groups(report, args, out)
    else:
        _write_table(report, args, out)
    out.flush()


def distribution(results: Sequence[FileResult]) -> dict[str, object]:
    """``--summary`` in JSON: lines per ok file (nearest-rank percentiles), and a histogram.

    The histogram has the table's buckets, powers of two: 0, 1, 2-3, 4-7, ...
    from the smallest count's bucket to the largest's.
    """
    counts = sorted(r.lines or 0 for r in results if r.status is Status.OK)
    n = len(counts)
    if not n:
        return {"files": 0, "min": None, "median": None, "p90": None, "max": None, "histogram": []}

    def rank(q: float) -> int:
        return counts[max(0, math.ceil(q * n) - 1)]

    buckets = [0] * (counts[-1].bit_length() + 1)
    for value in counts:
        buckets[value.bit_length()] += 1
    first = counts[0].bit_length()
    histogram = [
        {"min": 0 if k == 0 else 1 << (k - 1), "max": 0 if k == 0 else (1 << k) - 1, "files": f}
        for k, f in enumerate(buckets)
        if k >= first
    ]
    return {
        "files": n,
        "min": counts[0],
        "median": rank(0.5),
        "p90": rank(0.9),
        "max": counts[-1],
        "histogram": histogram,
    }


def _write_json(
    report: Report,
    rows: Sequence[FileResult],
    out: TextIO,
    args: argparse.Namespace,
    summary: dict[str, object] | None = None,
) -> None:
    t = report.totals
    totals = {
        "files": t.files,
        "ok": t.ok,
        "errors": t.errors,
        "skipped": t.skipped,
        "cancelled": t.cancelled,
        "lines": t.lines,
        "bytes": t.bytes,
    }
    languages = bool(args.languages)
    decompress = bool(getattr(args, "decompress", False))
    out.write('{"files": [')
    sep = "\n  "
    for block in _json_blocks(rows, languages, decompress):
        out.write(sep + block)
        sep = ",\n  "
    out.write(f'\n], "totals": {_dumps(totals)}, "interrupted": {_dumps(report.interrupted)}')
    if languages:
        by_language = {k: group_record(v, True) for k, v in report.languages.items()}
        out.write(f', "languages": {_dumps(by_language)}')
    if args.by is not None:
        groups = {k: group_record(v, languages) for k, v in grouped(report, args.by).items()}
        out.write(f', "by": {_dumps(args.by)}, "groups": {_dumps(groups)}')
    if summary is not None:
        out.write(f', "summary": {_dumps(summary)}')
    out.write("}\n")


def _json_blocks(rows: Sequence[FileResult], languages: bool, decompress: bool) -> Iterator[str]:
    """The rows' JSON texts joined in blocks: one write per row costs as much as the text.

    Counted files a report holds as :class:`Columns` are written from the
    columns, without a FileResult each.
    """
    if not isinstance(rows, Results):
        for start in range(0, len(rows), _JSON_ROWS):
            block = rows[start : start + _JSON_ROWS]
            yield ",\n  ".join([json_text(r, languages, decompress) for r in block])
        return
    tail = _columns_tail(languages, decompress)
    pending: list[str] = []
    for part in rows.parts():
        if isinstance(part, Columns):
            if pending:
                yield ",\n  ".join(pending)
                pending = []
            rendered = part.rendered
            if rendered is not None and rendered[0] == tail:
                yield rendered[1]
            else:
                yield _rows(part, languages, decompress)
            continue
        pending.append(json_text(part, languages, decompress))
        if len(pending) >= _JSON_ROWS:
            yield ",\n  ".join(pending)
            pending = []
    if pending:
        yield ",\n  ".join(pending)


def _columns_tail(languages: bool, decompress: bool) -> str:
    """What ends the JSON row of a file counted in columns (all its other keys are null)."""
    tail = ', "error": null, "reason": null'
    if languages:
        tail += ', "language": null, "code": null, "comments": null, "blanks": null'
    if decompress:
        tail += ', "codec": null, "decompressed_bytes": null'
    return tail + "}"


def _rows(part: Columns, languages: bool, decompress: bool) -> str:
    """The JSON rows of counted files kept as columns, joined."""
    head = '{"path": ' + _quote(part.base)[:-1]
    each = zip(_quoted_names(part.names), part.lines, part.sizes, strict=True)
    if not languages or part.classified is None:
        tail = _columns_tail(languages, decompress)
        return ",\n  ".join(
            [
                f'{head}{name}", "status": "ok", "lines": {n}, "bytes": {size}{tail}'
                for name, n, size in each
            ]
        )
    end = ', "codec": null, "decompressed_bytes": null}' if decompress else "}"
    kinds = map(_kinds_text, part.classified)
    return ",\n  ".join(
        [
            f'{head}{name}", "status": "ok", "lines": {n}, "bytes": {size}, '
            f'"error": null, "reason": null{kind}{end}'
            for (name, n, size), kind in zip(each, kinds, strict=True)
        ]
    )


def _kinds_text(classified: Classified) -> str:
    """A classified file's language and line kinds as its JSON row has them."""
    language, code, comments, blanks = classified
    name = _LANGUAGE_TEXT.get(language)
    if name is None:
        name = _LANGUAGE_TEXT[language] = "null" if language is None else _quote(language)
    if type(code) is int and type(comments) is int and type(blanks) is int:
        return f', "language": {name}, "code": {code}, "comments": {comments}, "blanks": {blanks}'
    return (
        f', "language": {name}, "code": {_number(code)}, '
        f'"comments": {_number(comments)}, "blanks": {_number(blanks)}'
    )


_LANGUAGE_TEXT: dict[str | None, str] = {}
"""Language names as JSON text, escaped once each."""


def json_renderer(args: argparse.Namespace) -> Callable[[Columns], None] | None:
    """For ``--format json`` in input order: render a chunk's rows as it is counted.

    The rows of counted files then cost nothing once the count is over (0.07 s
    for 100,000 files, written while both cores were busy with the count).
    """
    if args.format != "json" or not _in_input_order(args):
        return None
    languages, decompress = bool(args.languages), bool(getattr(args, "decompress", False))
    tail = _columns_tail(languages, decompress)

    def render(part: Columns) -> None:
        part.rendered = (tail, _rows(part, languages, decompress))

    return render


def _quoted_names(names: Sequence[str]) -> list[str]:
    """Each name as JSON escapes it, without the quotes: one escaping call for them all.

    JSON escapes character by character, so the names are escaped joined by a
    NUL (no name has one) and split at its escape; a name holding the text of
    that escape (``\\u0000``) shows up in the count, and then each is escaped alone.
    """
    quoted = _quote("\0".join(names))[1:-1]
    if quoted.count("\\u0000") == len(names) - 1:
        return quoted.split("\\u0000")
    return [_quote(name)[1:-1] for name in names]


def _write_csv(
    rows: Sequence[FileResult], out: TextIO, languages: bool = False, decompress: bool = False
) -> None:
    """The CSV rows; on a real stdout, names go out as their raw bytes, whatever the locale."""
    import csv

    buffer = getattr(out, "buffer", None)
    text = io.StringIO() if buffer is not None else out
    w = csv.writer(text, lineterminator="\n")
    header = CSV_HEADER + (LANGUAGE_COLUMNS if languages else ())
    w.writerow(header + (DECOMPRESS_COLUMNS if decompress else ()))
    encoding = sys.getfilesystemencoding()
    for i, r in enumerate(rows):
        e = r.error
        row: list[object] = [
            r.path,
            r.status.value,
            "" if r.lines is None else r.lines,
            "" if r.bytes is None else r.bytes,
            "" if e is None else type(e).__name__,
            "" if e is None else describe(e),
            r.reason or "",
        ]
        if languages:
            row += ["" if v is None else v for v in (r.language, r.code, r.comments, r.blanks)]
        if decompress:
            row += [r.codec or "", "" if r.decompressed_bytes is None else r.decompressed_bytes]
        w.writerow(row)
        if buffer is not None and (i % 1024 == 1023 or i == len(rows) - 1):
            assert isinstance(text, io.StringIO)
            _flush_text(text, out, buffer, encoding)
    if buffer is not None and not rows:
        assert isinstance(text, io.StringIO)
        _flush_text(text, out, buffer, encoding)


def parse_by(text: str) -> str:
    """Check a ``--by`` value: ``language``, ``extension``, ``directory`` or ``directory:N``."""
    key, _, depth = text.partition(":")
    if key not in ("language", "extension", "directory") or (
        depth and (key != "directory" or not depth.isdigit() or int(depth) < 1)
    ):
        raise ValueError(
            f"--by takes language, extension, directory or directory:DEPTH, not {text!r}"
        )
    return text


def _group_key(by: str) -> Callable[[FileResult], str]:
    key, _, depth = by.partition(":")
    if key == "language":
        return language_of
    if key == "extension":
        return _extension
    n = int(depth) if depth else None

    def directory(r: FileResult) -> str:
        parent = os.path.dirname(r.path)
        if not parent:
            return "."
        if n is not None:
            parts = parent.split(os.sep)
            # A leading "/" (an absolute path), "." or ".." stays in the group name
            # but is not a level: "./src/pkg" at depth 1 is "./src".
            lead = 1 if parts[0] == "" else 0
            while lead < len(parts) and parts[lead] in (".", ".."):
                lead += 1
            parent = os.sep.join(parts[: lead + n]) or os.sep
        return parent

    return directory


def _extension(r: FileResult) -> str:
    name = os.path.basename(r.path)
    stem, dot, ext = name.rpartition(".")
    return f".{ext}" if dot and stem.strip(".") else "(none)"


def grouped(report: Report, by: str) -> dict[str, LanguageTotals]:
    """Totals of the report's ``ok`` files per group of ``--by``, most lines first."""
    if by == "language":
        return report.languages  # the same grouping, added up already by a run
    return group_totals(report.results, _group_key(by))


def _write_groups(report: Report, args: argparse.Namespace, out: TextIO) -> None:
    """The table of ``--languages`` / ``--by``: a row per group, with ``--files`` its files."""
    from . import _render

    by = args.by or "language"
    key = _group_key(by)
    groups = grouped(report, by)
    items = list(groups.items())
    if args.sort == "path":
        items.sort(key=lambda g: g[0])
    elif args.sort in ("lines", "bytes"):
        items.sort(key=lambda g: (g[1].lines, g[0]))
    if args.reverse:
        items.reverse()
    if args.top is not None and not args.files:
        items = sorted(items, key=lambda g: -g[1].lines)[: args.top]
    # The total row is every group's (with --top too), as the file table's is every file's.
    total = LanguageTotals()
    for t in groups.values():
        total = total.add(t)
    shown = dict(items)
    members = None
    if args.files:
        by_group: dict[str, list[FileResult]] = {}
        for r in ordered([r for r in report.results if r.ok], args):
            by_group.setdefault(key(r), []).append(r)
        members = lambda name: by_group.get(name, [])  # noqa: E731
    title = by.partition(":")[0]
    classified = bool(args.languages)
    if out.isatty():
        from rich.console import Console

        width = _width()
        console = Console(file=out, width=width, highlight=False)
        console.print(
            _render.groups_table(
                shown,
                title=title,
                classified=classified,
                width=width,
                members=members,
                total=total,
            )
        )
        return
    # Not a terminal: a script may read it, so names are never cut.
    lines = _render.groups_lines(
        shown, title=title, classified=classified, width=1 << 30, members=members, total=total
    )
    table = _fallback(out)
    for line in lines:
        out.write(line if table is None else line.translate(table))
        out.write("\n")


def _flush_text(text: io.StringIO, out: TextIO, buffer: io.BufferedIOBase, encoding: str) -> None:
    out.flush()
    buffer.write(text.getvalue().encode(encoding, _RAW))
    text.seek(0)
    text.truncate()


def _width() -> int:
    """The width to lay out for: the terminal's, or ``COLUMNS``, or 100."""
    import shutil

    return shutil.get_terminal_size((100, 24)).columns


def _write_table(report: Report, args: argparse.Namespace, out: TextIO) -> None:
    from . import _render

    rows = ordered(report.results, args)
    width = _width()
    if out.isatty():
        from rich.console import Console

        console = Console(file=out, width=width, highlight=False)
        if args.summary:
            console.print(_render.summary(report.results, report.totals, width=width))
        else:
            console.print(_render.results_table(rows, report.totals, width=width))
        return
    lines: Iterator[str]
    if args.summary:
        lines = _render.summary_lines(report.results, report.totals, width=width)
    else:
        # Not a terminal: a script may read it, so paths and reasons are never cut.
        lines = _render.results_lines(rows, report.totals, width=width, cut=False)
    table = _fallback(out)
    for line in lines:
        out.write(line if table is None else line.translate(table))
        out.write("\n")


def write_failure_report(report: Report, args: argparse.Namespace, err: TextIO) -> None:
    """The grouped failure report, on stderr, after the output."""
    results = report.results
    t = report.totals
    if not results and t.files != t.ok:
        # jsonl keeps no results (each is already on stdout): sum them up.
        parts = [
            f"{n} {word}"
            for n, word in (
                (t.errors, "failed"),
                (t.skipped, "skipped"),
                (t.cancelled, "cancelled"),
            )
            if n
        ]
        err.write(f"linetally: {t.files} files: {', '.join(parts)} (see the records above)\n")
        return
    if t.files == t.ok and not report.interrupted:
        return  # nothing but counted files: no need to look at each
    if not any(r.status is not Status.OK for r in results):
        return
    from . import _render

    if err.isatty():
        from rich.console import Console

        console = Console(file=err, highlight=False)
        console.print(_render.failure_report(results, verbose=args.verbose))
    else:
        table = _fallback(err)
        for line in _render.failure_report_lines(results, verbose=args.verbose):
            err.write(line if table is None else line.translate(table))
            err.write("\n")
    err.flush()
