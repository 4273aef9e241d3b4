"""The functions most callers need: count files, synchronously or not."""

from __future__ import annotations

import asyncio
import os
from collections.abc import AsyncIterator, Iterable

from ._engine import BinaryPolicy, Input, OnError, Options, Run
from ._model import FileResult, Report

__all__ = ["count", "count_async", "iter_results"]


def _inputs(paths: Iterable[Input] | str | os.PathLike[str]) -> Iterable[Input]:
    # A lone path is one input, not an iterable of characters.
    if isinstance(paths, str | os.PathLike):
        return [paths]
    return paths


async def count_async(
    paths: Iterable[Input] | str | os.PathLike[str],
    *,
    jobs: int | None = None,
    on_error: OnError = "continue",
    encoding: str | None = None,
    binary: BinaryPolicy = "skip",
    timeout: float | None = None,
    max_lines: int | None = None,
    delay: float = 0.0,
    processes: int | None = None,
    raise_errors: bool = False,
) -> Report:
    """Count the lines of every path in ``paths`` concurrently; return a :class:`Report`.

    ``paths`` is any iterable of file paths (or the entries of
    :func:`linetally.walk`, to count directory trees); it is consumed lazily,
    so a generator of a million paths never sits in memory at once.

    - ``jobs``: how many files are read at once (default: CPU count + 4, at
      most 32, and never more than open-file limits allow).
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
    - ``processes``: how many processes count small files in parallel once a
      run has found 500 files (default: one per core; 0: threads only).
      ``jobs`` is I/O concurrency, ``processes`` CPU parallelism.
    - ``raise_errors``: raise the report's ExceptionGroup of failures
      (see :meth:`Report.raise_for_errors`) instead of returning it.
    """
    options = Options(
        jobs, on_error, encoding, binary, timeout, max_lines, delay, processes=processes
    )
    run = Run(_inputs(paths), options)
    async for _ in run:
        pass
    report = run.report()
    if raise_errors:
        report.raise_for_errors()
    return report


def count(
    paths: Iterable[Input] | str | os.PathLike[str],
    *,
    jobs: int | None = None,
    on_error: OnError = "continue",
    encoding: str | None = None,
    binary: BinaryPolicy = "skip",
    timeout: float | None = None,
    max_lines: int | None = None,
    delay: float = 0.0,
    processes: int | None = None,
    raise_errors: bool = False,
) -> Report:
    """Count lines like :func:`count_async`, from synchronous code.

    Runs its own event loop (``asyncio.run``), so it cannot be called from
    inside a running loop: there, ``await count_async(...)``.
    """
    return asyncio.run(
        count_async(
            paths,
            jobs=jobs,
            on_error=on_error,
            encoding=encoding,
            binary=binary,
            timeout=timeout,
            max_lines=max_lines,
            delay=delay,
            processes=processes,
            raise_errors=raise_errors,
        )
    )


async def iter_results(
    paths: Iterable[Input] | str | os.PathLike[str],
    *,
    jobs: int | None = None,
    on_error: OnError = "continue",
    encoding: str | None = None,
    binary: BinaryPolicy = "skip",
    timeout: float | None = None,
    max_lines: int | None = None,
    delay: float = 0.0,
    processes: int | None = None,
) -> AsyncIterator[FileResult]:
    """Yield each file's :class:`FileResult` as soon as it is known (completion order).

    For live consumers. Results are not kept, so memory stays flat however
    many files flow through. Leaving the loop early stops the run.
    """
    options = Options(jobs, on_error, encoding, binary, timeout, max_lines, delay, False, processes)
    async for result in Run(_inputs(paths), options):
        yield result
