"""The functions most callers need: count files, synchronously or not."""

from __future__ import annotations

import asyncio
import os
from collections.abc import AsyncIterator, Iterable, Mapping
from typing import Any, TypedDict, Unpack

from ._engine import BinaryPolicy, Input, OnError, Options, Run
from ._model import FileResult, Report

__all__ = ["CountOptions", "count", "count_async", "iter_results"]

Paths = Iterable[Input] | str | os.PathLike[str]


class CountOptions(TypedDict, total=False):
    """The keyword options of :func:`count`, :func:`count_async` and :func:`iter_results`.

    - ``jobs``: how many files are read at once: I/O concurrency (default:
      CPU count + 4, at most 32, and never more than open-file limits allow).
    - ``processes``: how many processes count small files in parallel once a
      run has found 500 files: CPU parallelism (default: one per core; 0:
      threads only).
    - ``on_error``: ``"continue"`` (a failure never stops the other files) or
      ``"cancel"`` (the first failure cancels the rest: they are reported as
      cancelled).
    - ``encoding``: when given, each file must also decode strictly with it;
      one that does not fails with a UnicodeDecodeError (``byte_offset`` says where).
    - ``binary``: a file with a NUL byte in its first 8 KiB is ``"skip"``-ped
      (the default), ``"count"``-ed anyway, or an ``"error"``.
    - ``timeout``: seconds per file; a slower file fails with TimeoutError.
    - ``max_lines``: a file with more lines fails with :class:`TooManyLines`.
    - ``delay``: seconds per line, to slow the count down to watchable speed.
    - ``storage_options``: options for the filesystems of URL paths (``s3://``,
      ...), passed to fsspec: the plain keys to every URL's filesystem, a key
      named after a protocol (``{"s3": {...}}``) to that one only.
    """

    jobs: int | None
    processes: int | None
    on_error: OnError
    encoding: str | None
    binary: BinaryPolicy
    timeout: float | None
    max_lines: int | None
    delay: float
    storage_options: Mapping[str, Any] | None


def _inputs(paths: Paths) -> Iterable[Input]:
    # A lone path is one input, not an iterable of characters.
    if isinstance(paths, str | os.PathLike):
        return [paths]
    return paths


async def count_async(
    paths: Paths, *, raise_errors: bool = False, **options: Unpack[CountOptions]
) -> Report:
    """Count the lines of every path in ``paths`` concurrently; return a :class:`Report`.

    ``paths`` is any iterable of file paths (or the entries of
    :func:`linetally.walk`, to count directory trees); it is consumed lazily,
    so a generator of a million paths never sits in memory at once. The
    options are those of :class:`CountOptions`. With ``raise_errors``, the
    report's ExceptionGroup of failures is raised (see
    :meth:`Report.raise_for_errors`) instead of the report returned.
    """
    run = Run(_inputs(paths), Options(**options))
    async for _ in run:
        pass
    report = run.report()
    if raise_errors:
        report.raise_for_errors()
    return report


def count(paths: Paths, *, raise_errors: bool = False, **options: Unpack[CountOptions]) -> Report:
    """Count lines like :func:`count_async`, from synchronous code.

    Runs its own event loop (``asyncio.run``), so it cannot be called from
    inside a running loop: there, ``await count_async(...)``.
    """
    return asyncio.run(count_async(paths, raise_errors=raise_errors, **options))


async def iter_results(paths: Paths, **options: Unpack[CountOptions]) -> AsyncIterator[FileResult]:
    """Yield each file's :class:`FileResult` as soon as it is known (completion order).

    For live consumers. Results are not kept, so memory stays flat however
    many files flow through. Leaving the loop early stops the run.
    """
    async for result in Run(_inputs(paths), Options(**options, keep_results=False)):
        yield result
