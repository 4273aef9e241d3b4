"""What the command writes: table, json, jsonl and csv on stdout, the failure report on stderr.

Part of the command line: the library never writes anything. The JSON
document and the exit codes are a public contract (see the README).
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Iterator, Sequence
from json.encoder import encode_basestring_ascii as _quote
from typing import Any, TextIO

from ._errors import describe
from ._model import FileResult, Report, Status

__all__ = [
    "json_record",
    "json_text",
    "jsonl_line",
    "ordered",
    "write_failure_report",
    "write_output",
]


def json_record(r: FileResult, decompress: bool = False) -> dict[str, Any]:
    """One file as the ``files`` entries of ``--format json`` and the lines of jsonl.

    With ``decompress`` (``-z``), two more keys: ``codec`` and ``decompressed_bytes``.
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
    if decompress:
        record["codec"] = r.codec
        record["decompressed_bytes"] = r.decompressed_bytes
    return record


def _dumps(obj: object) -> str:
    # ensure_ascii: names that are not UTF-8 are lone surrogates (surrogateescape);
    # as \udcXX escapes they survive any output encoding and round-trip exactly.
    return json.dumps(obj, ensure_ascii=True)


def json_text(r: FileResult, decompress: bool = False) -> str:
    """``json_record(r, decompress)`` as JSON text, written out directly for the common case.

    Byte for byte what ``json.dumps`` gives, several times faster for a result
    with no error and no reason: that matters with 100,000 files.
    """
    if r.error is None and r.reason is None:
        lines = "null" if r.lines is None else int(r.lines)
        size = "null" if r.bytes is None else int(r.bytes)
        text = (
            f'{{"path": {_quote(r.path)}, "status": "{r.status.value}", "lines": {lines}, '
            f'"bytes": {size}, "error": null, "reason": null'
        )
        if decompress:
            codec = "null" if r.codec is None else _quote(r.codec)
            made = "null" if r.decompressed_bytes is None else int(r.decompressed_bytes)
            text += f', "codec": {codec}, "decompressed_bytes": {made}'
        return text + "}"
    return _dumps(json_record(r, decompress))


def jsonl_line(r: FileResult, decompress: bool = False) -> str:
    """One ``--format jsonl`` line, newline included."""
    return json_text(r, decompress) + "\n"


def ordered(results: Sequence[FileResult], args: argparse.Namespace) -> Sequence[FileResult]:
    """Apply ``--top``, ``--sort`` and ``--reverse`` to the rows."""
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


def write_output(report: Report, args: argparse.Namespace, out: TextIO) -> None:
    """Write the report to stdout in the format asked for."""
    fmt = args.format
    if fmt == "jsonl":
        return  # already streamed, one line per file
    decompress = getattr(args, "decompress", False)
    if fmt == "json":
        _write_json(report, ordered(report.results, args), out, decompress)
    elif fmt == "csv":
        _write_csv(ordered(report.results, args), out, decompress)
    else:
        _write_table(report, args, out)
    out.flush()


def _write_json(
    report: Report, rows: Sequence[FileResult], out: TextIO, decompress: bool = False
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
    out.write('{"files": [')
    sep = "\n  "
    for r in rows:
        out.write(sep)
        out.write(json_text(r, decompress))
        sep = ",\n  "
    out.write(f'\n], "totals": {_dumps(totals)}, "interrupted": {_dumps(report.interrupted)}}}\n')


def _write_csv(rows: Sequence[FileResult], out: TextIO, decompress: bool = False) -> None:
    import csv

    w = csv.writer(out, lineterminator="\n")
    extra: list[str | int] = ["codec", "decompressed_bytes"] if decompress else []
    w.writerow(["path", "status", "lines", "bytes", "error_type", "error_message", *extra])
    for r in rows:
        e = r.error
        if decompress:
            extra = [r.codec or "", "" if r.decompressed_bytes is None else r.decompressed_bytes]
        w.writerow(
            [
                r.path,
                r.status.value,
                "" if r.lines is None else r.lines,
                "" if r.bytes is None else r.bytes,
                "" if e is None else type(e).__name__,
                "" if e is None else describe(e),
                *extra,
            ]
        )


def _width(out: TextIO) -> int:
    import shutil

    return shutil.get_terminal_size((100, 24)).columns if out.isatty() else 100


def _write_table(report: Report, args: argparse.Namespace, out: TextIO) -> None:
    from . import _render

    rows = ordered(report.results, args)
    width = _width(out)
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
        lines = _render.results_lines(rows, report.totals, width=width)
    for line in lines:
        out.write(line)
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
    if not any(r.status is not Status.OK for r in results):
        return
    from . import _render

    if err.isatty():
        from rich.console import Console

        console = Console(file=err, highlight=False)
        console.print(_render.failure_report(results, verbose=args.verbose))
    else:
        for line in _render.failure_report_lines(results, verbose=args.verbose):
            err.write(line)
            err.write("\n")
    err.flush()
