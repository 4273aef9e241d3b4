"""The functions most callers need: count files, synchronously or not."""

from __future__ import annotations

import asyncio
import os
from collections.abc import AsyncIterator, Collection, Iterable, Iterator, Mapping
from typing import Any, TypedDict, Unpack

from ._engine import Input, Run
from ._model import FileResult, Report
from ._options import BinaryPolicy, Docstrings, OnError, Options
from ._walk import Entry

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
    - ``languages``: also detect each file's language (as tokei does) and split
      its lines into code, comments and blanks (``FileResult.language``,
      ``code``, ``comments``, ``blanks``; ``Report.languages``).
    - ``docstrings``: with ``languages``, Python doc strings count as
      ``"code"`` (the default, as in tokei) or as ``"comment"`` (as in cloc and scc).
    - ``scheduler``: a Dask scheduler's address or a ``distributed.Client``:
      the files are counted on that cluster's workers (``linetally[dask]``).
    - ``decompress``: count the decompressed content of gzip, bzip2, xz, lzma
      and zstd files, recognised by their magic bytes; their results get
      ``codec`` and ``decompressed_bytes`` (``bytes`` stays the size on disk).
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
    languages: bool
    docstrings: Docstrings
    scheduler: str | object | None
    decompress: bool
    storage_options: Mapping[str, Any] | None


def _not_a_path(item: object) -> TypeError:
    return TypeError(
        f"a path must be a str or os.PathLike (or a linetally.Entry), not {type(item).__name__}: "
        f"{item!r:.80}"
    )


def _is_input(item: object) -> bool:
    return isinstance(item, str | os.PathLike | Entry)


class _Inputs:
    """The paths of one call, checked: a bad one is a TypeError, never a failed run.

    A collection is checked whole before anything is counted. A lazy iterable
    is checked as it is consumed: at the first bad item the input ends there
    (the run finishes what it started) and :meth:`check` raises.
    """

    def __init__(self, paths: Paths) -> None:
        self.bad: list[object] = []
        # A lone path is one input, not an iterable of characters.
        if isinstance(paths, str | os.PathLike):
            self._paths: Iterable[object] = [paths]
        elif isinstance(paths, bytes):
            raise _not_a_path(paths)
        else:
            if isinstance(paths, Collection):
                for item in paths:
                    if not _is_input(item):
                        raise _not_a_path(item)
            self._paths = paths

    def __iter__(self) -> Iterator[Input]:
        for item in self._paths:
            if not _is_input(item):
                self.bad.append(item)
                return
            yield item  # type: ignore[misc]

    def check(self) -> None:
        """Raise the TypeError for the first bad item met, if any."""
        if self.bad:
            raise _not_a_path(self.bad[0])


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
    inputs = _Inputs(paths)
    run = Run(inputs, Options(**options))
    report = await run.complete()
    inputs.check()
    if raise_errors:
        report.raise_for_errors()
    return report


def count(paths: Paths, *, raise_errors: bool = False, **options: Unpack[CountOptions]) -> Report:
    """Count lines like :func:`count_async`, from synchronous code.

    Runs its own event loop (``asyncio.run``), so it cannot be called from
    inside a running loop: there it raises RuntimeError; ``await count_async(...)``.
    """
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        pass
    else:
        # Checked before the coroutine exists, so none is left never awaited.
        raise RuntimeError(
            "linetally.count() cannot be called from a running event loop: "
            "use 'await linetally.count_async(...)' there"
        )
    return asyncio.run(count_async(paths, raise_errors=raise_errors, **options))


async def iter_results(paths: Paths, **options: Unpack[CountOptions]) -> AsyncIterator[FileResult]:
    """Yield each file's :class:`FileResult` as soon as it is known (completion order).

    For live consumers. Results are not kept, so memory stays flat however
    many files flow through. Leaving the loop early stops the run.
    """
    inputs = _Inputs(paths)
    async for result in Run(inputs, Options(**options, keep_results=False)):
        yield result
    inputs.check()
