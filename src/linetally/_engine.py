"""The async engine: a bounded set of workers in one TaskGroup, reading in threads.

Shape of a run::

    producer ──(bounded queue)──> N workers ──> thread pool (blocking reads)
        │                             │
        └── pulls the input (a walk) in batches, in a thread
                                      └── results, in completion order

Every input gets exactly one :class:`~linetally.FileResult`. Expected per-file
failures (OSError and its subclasses, decode errors, linetally's own) are
caught per file and kept as results, so one bad file never cancels the others;
anything else is a bug and propagates out of the TaskGroup.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import functools
import heapq
import os
import time
import traceback
from collections.abc import AsyncGenerator, AsyncIterator, Callable, Iterable, Iterator
from typing import TYPE_CHECKING, Literal, cast

from ._errors import (
    CANCELLED_AFTER_FAILURE,
    TooManyLines,
    attach_path,
    expected_errors,
)
from ._model import (
    UNKNOWN_LANGUAGE,
    Classified,
    Columns,
    FileResult,
    Report,
    Results,
    Row,
    Snapshot,
    Status,
    Tally,
    Totals,
    counted_result,
    language_of,
    sorted_totals,
)
from ._options import Options, default_jobs
from ._pool import ThreadPool
from ._procs import QUEUED, ProcessPool, spares_ready
from ._reader import (
    Extras,
    Job,
    NotRegular,
    ReadSettings,
    Skip,
    Stopped,
    count_file,
    restore_extras,
)
from ._urls import has_url
from ._walk import Entry, Unit, Walk
from ._worker import (
    CANCELLED,
    ENTRY,
    FAILED,
    HANDED_BACK,
    OK,
    SKIPPED,
    SUBDIR,
    Chunk,
)

if TYPE_CHECKING:
    from ._cluster import DaskPool
    from ._remote import Objects

__all__ = ["Options", "Run", "default_jobs"]

PathLike = str | os.PathLike[str]
Input = PathLike | Entry

_BATCH = 64
_PULL = 256
_PROCESSES_AFTER = 500
"""Counting processes start once a run has found this many files: below, not worth it."""
_PROCESSES_AFTER_FORKED = 50
"""The same, when the command forked them already (see _fork.prefork): nothing to start."""
_PULL_FORKED = 64
"""Entries pulled from the walk at a time until forked processes are taken (then ``_PULL``)."""
_PROCESSES_AFTER_CLASSIFYING = 50
"""The same with ``languages``: classifying a file costs about ten times counting it."""
_KEEP_ROWS = 64
_LANGUAGES = 8
"""Languages shown in the live view's running totals."""
_GRACE = 0.5


class _Tree:
    """The results of a directory walked by a counting process, in walk order.

    Its items are results, subtrees (its subdirectories) and, until they are
    counted, None for files handed back to the threads.
    """

    __slots__ = ("items",)

    def __init__(self) -> None:
        self.items: list[_Item] = []


_Item = FileResult | Columns | _Tree | None
"""What a run keeps in input order: results, columns of counted files, walked directories."""


def _flatten(items: list[_Item]) -> list[FileResult | Columns]:
    """The results in ``items``, subtrees expanded in place (no recursion: trees can be deep).

    A tree without subtrees (most of them) is copied in one step.
    """
    out: list[FileResult | Columns] = []
    stack = [iter(items)]
    while stack:
        for item in stack[-1]:
            if type(item) is _Tree:
                sub = item.items
                if _Tree in map(type, sub):
                    stack.append(iter(sub))
                    break
                out.extend(filter(None, sub))  # type: ignore[arg-type]  # None: never counted
            elif item is not None:
                out.append(item)  # type: ignore[arg-type]
        else:
            stack.pop()
    return out


class Run:
    """One counting run over ``inputs``: its results as they come, its live state, a way to stop.

    Iterate it with ``async for`` to get each :class:`FileResult` as it
    completes; :meth:`report` gives them all in input order afterwards (unless
    ``keep_results`` is false, for streaming huge inputs: then only totals).
    Or await :meth:`complete` to run it to the end without the results as
    they come: the cheapest way to a report.
    :meth:`snapshot` may be called at any time from the event loop to draw
    progress; :meth:`stop` ends the run early, keeping what was counted.
    """

    def __init__(self, inputs: Iterable[Input], options: Options | None = None) -> None:
        self.options = options or Options()
        self._inputs = inputs
        self._settings = self.options.read_settings()
        # The command's writer, given each chunk of counted files kept as columns:
        # it renders their rows while the processes count (see Columns.rendered).
        self._on_columns: Callable[[Columns], None] | None = None
        self._results: list[_Item] = []
        self._next = 0
        """Index of the next input: a place in ``_results`` when results are kept."""
        self._placed: dict[int, tuple[list[_Item], int]] = {}
        """Files of walked directories being read in threads (negative indexes): where."""
        self._units: asyncio.Queue[tuple[Unit, _Tree] | None] = asyncio.Queue()
        self._pending_units = 0
        self._units_idle = asyncio.Event()
        self._units_idle.set()
        self._seq = 1 << 62
        """Tie-breakers for the live rows of walked directories' files (after any index)."""
        self._next_placed = 0
        self._active: dict[int, Job] = {}
        # The last results, or chunks of them kept as columns: rows built only for a snapshot.
        self._recent: collections.deque[FileResult | Columns] = collections.deque(maxlen=_KEEP_ROWS)
        self._largest: list[tuple[int, int, FileResult]] = []
        self._out: asyncio.Queue[list[FileResult] | None] = asyncio.Queue()
        self._counts = dict.fromkeys(Status, 0)
        self._lines = 0
        self._bytes = 0
        self._found = 0
        self._walk_done = False
        self._cancel_reason: str | None = None
        self._interrupted = False
        self._input_closed = False
        self._started = time.monotonic()
        self._finished: float | None = None
        self._used = False
        self._publish = True
        """Whether results are passed on as they come (not when run by :meth:`complete`)."""
        self._languages: dict[str, Tally] = {}
        self._procs: ProcessPool | DaskPool | None = None
        self._batch = _BATCH
        self._objects: Objects | None = None

    # -- live state ---------------------------------------------------------

    @property
    def interrupted(self) -> bool:
        """True once :meth:`stop` was called with ``interrupted=True``."""
        return self._interrupted

    def totals(self) -> Totals:
        """Totals of the results so far."""
        return Totals.from_counts(self._counts, self._lines, self._bytes)

    def snapshot(self) -> Snapshot:
        """The state of the run now: cheap, call it from the event loop at any time."""
        end = self._finished or time.monotonic()
        active = tuple(
            Row(j.path, j.lines, j.size) for j in list(self._active.values()) if j.started
        )
        return Snapshot(
            found=self._found,
            done=sum(self._counts.values()),
            walk_done=self._walk_done,
            totals=self.totals(),
            elapsed=end - self._started,
            active=active,
            recent=_recent_rows(self._recent),
            largest=tuple(_row(r) for _, _, r in sorted(self._largest, reverse=True)),
            interrupted=self._interrupted,
            languages=tuple(sorted_totals(self._languages).items())[:_LANGUAGES],
        )

    def stop(self, *, interrupted: bool = True) -> None:
        """End the run early: reads in flight stop, inputs not finished are cancelled.

        No further input is taken from the input iterable. With ``interrupted``
        (the default, what Ctrl-C does) the report says ``interrupted``.
        """
        self._interrupted = self._interrupted or interrupted
        self._input_closed = True
        self._cancel("interrupted" if interrupted else "stopped")

    def report(self) -> Report:
        """Every result so far, in input order, with totals.

        After :meth:`complete`, the results are a :class:`Results` sequence
        that builds those of counted files when they are first asked for.
        """
        if not self.options.keep_results:
            return Report([], self._interrupted, self.totals())
        parts = _flatten(self._results)
        if self._publish:
            return Report(cast("list[FileResult]", parts), self._interrupted, self.totals())
        languages = sorted_totals(self._languages) if self.options.languages else None
        return Report(Results(parts, languages), self._interrupted, self.totals())

    async def complete(self) -> Report:
        """Run to the end (or until stopped) and return :meth:`report`.

        The results are not passed on as they come, so a directory walked by
        the counting processes is kept as columns rather than one
        :class:`FileResult` per file (see :class:`Results`). Like iterating,
        a run can be completed once.
        """
        self._publish = False
        async with contextlib.aclosing(self.batches()) as batches:
            async for _ in batches:
                pass
        return self.report()

    # -- running ------------------------------------------------------------

    def __aiter__(self) -> AsyncIterator[FileResult]:
        return self.results()

    async def results(self) -> AsyncGenerator[FileResult, None]:
        """Each file's result as it completes. A run can be iterated once."""
        async with contextlib.aclosing(self.batches()) as batches:
            async for batch in batches:
                for result in batch:
                    yield result

    async def batches(self) -> AsyncGenerator[list[FileResult], None]:
        """The results as they complete, in the batches they come in (a run is iterated once).

        For consumers that handle results together, such as an output writer:
        one write per batch instead of one per file.
        """
        if self._used:
            raise RuntimeError("a Run can be iterated only once")
        self._used = True
        out: asyncio.Queue[list[FileResult] | None] = asyncio.Queue()
        self._out = out
        # The TaskGroup lives in a task of its own (see gh-116720 on 3.11/3.12).
        runner = asyncio.create_task(self._run())
        try:
            while (batch := await out.get()) is not None:
                yield batch
            await runner
        finally:
            if not runner.done():
                self.stop(interrupted=False)
                await asyncio.shield(runner)

    async def _run(self) -> None:
        jobs = self.options.effective_jobs
        pool = ThreadPool(jobs + 1)
        try:
            if self.options.scheduler is not None:
                jobs = await self._start_cluster(jobs)
            queue: asyncio.Queue[list[tuple[int, str]] | None] = asyncio.Queue(maxsize=jobs * 2)
            async with asyncio.TaskGroup() as tg:
                tg.create_task(self._produce(queue, pool, jobs, tg))
                for _ in range(jobs):
                    tg.create_task(self._work(queue, pool))
        finally:
            self._finished = time.monotonic()
            pool.shutdown()
            try:
                if self._objects is not None:
                    await self._objects.close()
                if self._procs is not None:
                    await self._procs.close()
            finally:
                self._out.put_nowait(None)

    async def _start_processes(self, n: int, pool: ThreadPool, tg: asyncio.TaskGroup) -> None:
        procs = ProcessPool(n, self._settings)
        try:
            await procs.start()
        except BaseException:
            await procs.close()
            raise
        self._procs = procs
        if self._walks_dirs():  # directories to hand out, the next one queued in each process
            for _ in range(n * QUEUED):
                tg.create_task(self._walk_units(procs, pool))

    async def _start_cluster(self, jobs: int) -> int:
        """Count every file on the Dask cluster; return the batches to keep in flight."""
        from ._cluster import DaskPool

        procs = DaskPool(
            self.options.scheduler,
            self._settings,
            timeout=self.options.timeout,
            stop_early=self.options.on_error == "cancel",
            stopped=lambda: self._cancel_reason is not None,
            storage_options=self.options.storage_options,
        )
        await procs.start()
        self._procs = procs
        self._batch = procs.batch_size
        return jobs if self.options.jobs is not None else max(jobs, procs.in_flight)

    async def _produce(
        self,
        queue: asyncio.Queue[list[tuple[int, str]] | None],
        pool: ThreadPool,
        jobs: int,
        tg: asyncio.TaskGroup,
    ) -> None:
        """Number the inputs, settle what needs no reading, queue the rest in batches."""
        source = iter(self._inputs)
        # Small files cost less to count than a thread hop: hand them out in
        # batches, unless each file needs its own pacing or time limit.
        size = 1 if self._settings.delay or self.options.timeout is not None else self._batch
        keep = self.options.keep_results
        processes = self.options.effective_processes
        start_after = _PROCESSES_AFTER_CLASSIFYING if self.options.languages else _PROCESSES_AFTER
        pull = _PULL
        forked = bool(processes) and spares_ready()
        if forked:
            # Forked already (see _fork.prefork): up in a millisecond. Small pulls
            # until then, so that few files go to the threads before they are.
            start_after = min(start_after, _PROCESSES_AFTER_FORKED)
            pull = _PULL_FORKED
        walk = self._inputs if isinstance(self._inputs, Walk) else None
        units: Iterator[Input | Unit | str] | None = None
        if walk is not None and walk.handed_out and processes:
            # Handed out already (Walk.walk_ahead): processes walk its directories from the start.
            await self._start_processes(processes, pool, tg)
            processes = 0
            pull = _PULL
        try:
            while not self._input_closed:
                if walk is not None and self._walks_dirs():
                    # The counting processes are up: from now on they walk the
                    # directories not yet entered, each as a whole.
                    units = walk.hand_out()
                    walk = None
                # The input may be a directory walk: pull it in a thread, in batches.
                items = await pool.submit(_take, units or source, pull)
                if not items:
                    break
                todo: list[tuple[int, str]] = []
                done: list[tuple[int, FileResult]] = []
                for item in items:
                    if isinstance(item, Unit):
                        self._queue_unit(item, self._place_tree(self._results))
                        self._next += 1  # its place in _results
                        continue
                    index = self._next
                    self._next += 1
                    self._found += 1
                    if keep:
                        self._results.append(None)
                    if isinstance(item, Entry):
                        path = item.path
                        if item.error is not None:
                            done.append((index, _failure(path, item.error, None)))
                            continue
                        if item.skip_reason is not None:
                            skipped = FileResult(path, Status.SKIPPED, reason=item.skip_reason)
                            done.append((index, skipped))
                            continue
                    else:
                        path = os.fspath(item)
                    if self._cancel_reason is not None:
                        done.append((index, _cancelled(path, self._cancel_reason)))
                    else:
                        todo.append((index, path))
                self._deliver(done)
                if processes and self._found >= start_after:
                    if forked:
                        await self._start_processes(processes, pool, tg)
                    else:
                        tg.create_task(self._start_processes(processes, pool, tg))
                    processes = 0
                    pull = _PULL
                for i in range(0, len(todo), size):
                    await queue.put(todo[i : i + size])
            await self._units_idle.wait()
        finally:
            self._walk_done = True
        # Not in the finally: when the TaskGroup is being cancelled the workers
        # are gone, and a put on a full queue would wait for them forever.
        for _ in range(jobs):
            await queue.put(None)
        for _ in range(self.options.effective_processes * QUEUED):
            self._units.put_nowait(None)

    # -- directories walked by the counting processes ------------------------

    def _walks_dirs(self) -> bool:
        """Whether the input is a walk and the pool can walk directories (``walk_dir``)."""
        return isinstance(self._inputs, Walk) and hasattr(self._procs, "walk_dir")

    def _place_tree(self, items: list[_Item]) -> _Tree:
        tree = _Tree()
        if self.options.keep_results:
            items.append(tree)
        return tree

    def _queue_unit(self, unit: Unit, tree: _Tree) -> None:
        self._pending_units += 1
        self._units_idle.clear()
        self._units.put_nowait((unit, tree))

    def _more_units(self) -> bool:
        return not self._units.empty()

    async def _walk_units(self, procs: ProcessPool, pool: ThreadPool) -> None:
        """Hand queued directories to a counting process, one at a time, until the end."""
        walk = self._inputs
        assert isinstance(walk, Walk)
        stop_early = self.options.on_error == "cancel"
        while (queued := await self._units.get()) is not None:
            unit, tree = queued
            later: list[tuple[int, str]] = []
            try:
                # After stop(), directories not yet walked are input not taken.
                if not self._input_closed:
                    await procs.walk_dir(
                        unit,
                        walk.settings,
                        cancelled=self._cancel_reason is not None,
                        stop_early=stop_early,
                        on_chunk=functools.partial(self._deliver_chunk, unit, tree, later),
                        # Behind a busy process only if more directories wait for
                        # the others: the last ones go to whichever process is free.
                        queue_behind=self._more_units,
                    )
                # Big files and files that stopped being regular: in threads, as usual.
                for index, path in later:
                    if self._cancel_reason is not None:
                        self._deliver([(index, _cancelled(path, self._cancel_reason))])
                    else:
                        await self._read_and_deliver([Job(index, path)], pool)
            finally:
                self._pending_units -= 1
                if not self._pending_units:
                    self._units_idle.set()

    def _deliver_chunk(
        self, unit: Unit, tree: _Tree, later: list[tuple[int, str]], chunk: Chunk
    ) -> None:
        """Turn a chunk of a walked directory's results into results, in walk order.

        The counted files (most of them) are accounted for from the columns, a
        run of them at once (see :func:`_segments`); only the other entries go
        through :meth:`_account` one by one.
        """
        names, codes, lines, sizes, extras, kinds, _ = chunk
        keep = self.options.keep_results
        tally: list[FileResult] | None = [] if self.options.languages else None
        items = tree.items
        base = os.path.join(unit.path, "")
        results: list[FileResult] = []
        others: list[tuple[int, FileResult]] = []
        largest = self._largest
        floor = largest[0][0] if len(largest) >= _KEEP_ROWS else -1
        status_ok = Status.OK
        counted = 0
        segments: list[_Segment]
        if not self._publish:
            # Nobody waits for results as they come: runs of counted files with
            # nothing else to tell are kept as they came, as columns.
            segments = _segments(codes, extras, tally is not None, kinds)
        elif not extras and names and codes.count(OK) == len(codes) and None not in (kinds or ()):
            # The usual chunk, with each file's result passed on.
            each = zip(names, lines, sizes, strict=True)
            if kinds is None:
                results = [counted_result(base + name, n, size) for name, n, size in each]
            else:
                results = [
                    counted_result(base + name, n, size, *kind)
                    for (name, n, size), kind in zip(
                        each, cast("list[Classified]", kinds), strict=True
                    )
                ]
                if tally is not None:
                    tally += results
            if max(lines) > floor:
                for result in results:
                    self._keep_largest(result)
            if keep:
                items.extend(results)
            segments = []
        else:
            segments = [(0, len(codes), False)]
        whole = len(codes)
        for start, end, run in segments:
            if run is not False:
                columns = (
                    Columns(base, names, lines, sizes, run)
                    if end - start == whole
                    else Columns(base, names[start:end], lines[start:end], sizes[start:end], run)
                )
                floor = self._keep_columns(columns, floor, items if keep else None)
                counted += end - start
                continue
            for i in range(start, end):
                code = codes[i]
                if code == OK:
                    n = lines[i]
                    extra = extras.get(i)
                    kind = None if kinds is None or extra is not None else kinds[i]
                    if kind is not None:
                        result = counted_result(base + names[i], n, sizes[i], *kind)
                        if tally is not None:
                            tally.append(result)
                    elif extra is None:
                        result = counted_result(base + names[i], n, sizes[i])
                    else:
                        assert isinstance(extra, tuple)
                        result = _counted(base + names[i], n, sizes[i], extra)
                        if tally is not None:
                            tally.append(result)
                    if n > floor:
                        floor = self._keep_largest(result)
                    results.append(result)
                    if keep:
                        items.append(result)
                    continue
                if code == SUBDIR:
                    sub = extras[i]
                    assert isinstance(sub, Unit)
                    self._queue_unit(sub, self._place_tree(items))
                    continue
                if code == HANDED_BACK:
                    self._found += 1
                    self._next_placed = index = self._next_placed - 1
                    if keep:
                        self._placed[index] = (items, len(items))
                        items.append(None)
                    later.append((index, base + names[i]))
                    continue
                if code == ENTRY:
                    entry = extras[i]
                    assert isinstance(entry, Entry)
                    if entry.error is not None:
                        result = _failure(entry.path, entry.error, None)
                    else:
                        result = FileResult(entry.path, Status.SKIPPED, reason=entry.skip_reason)
                elif code == SKIPPED:
                    skip = extras[i]
                    assert isinstance(skip, Skip)
                    path = base + names[i]
                    result = FileResult(path, Status.SKIPPED, None, skip.size, reason=skip.reason)
                elif code == FAILED:
                    failure = extras[i]
                    assert isinstance(failure, tuple)
                    exc, size = failure[0], failure[1]
                    assert isinstance(exc, Exception)
                    if isinstance(exc, TooManyLines):
                        result = _failure(base + names[i], exc, exc.lines, size)
                    else:
                        result = _failure(base + names[i], exc, None)
                    if self.options.on_error == "cancel":  # the worker cancels the rest already
                        self._cancel(CANCELLED_AFTER_FAILURE)
                else:
                    assert code == CANCELLED
                    result = _cancelled(base + names[i], self._cancel_reason or "stopped")
                results.append(result)
                if keep:
                    items.append(result)
                others.append((0, result))
        # Counted files have their lines and sizes in the columns; the others hold zeros.
        counted += len(results) - len(others)
        self._counts[status_ok] += counted
        self._lines += sum(lines)
        self._bytes += sum(sizes)
        self._found += counted + len(others)
        self._account(others, publish=False)
        for result in tally or ():
            name = language_of(result)
            self._tally(name).add(result)
        if results:
            self._recent.extend(results[-_KEEP_ROWS:])
            self._out.put_nowait(results)

    def _keep_columns(self, columns: Columns, floor: int, items: list[_Item] | None) -> int:
        """Account for counted files kept as columns (in ``items``, when results are kept).

        Returns the live view's new floor for its largest files.
        """
        if self._on_columns is not None:
            self._on_columns(columns)
        lines = columns.lines
        if max(lines) > floor:
            for i, n in enumerate(lines):
                if n > floor:
                    floor = self._keep_largest(columns.result(i))
        if items is not None:
            items.append(columns)
        self._recent.append(columns)
        classified = columns.classified
        if classified:
            languages = [kind[0] for kind in classified]
            if languages.count(languages[0]) == len(languages):  # the usual: one language
                self._tally(languages[0] or UNKNOWN_LANGUAGE).add_run(classified, lines)
            else:
                for (language, code, comments, blanks), n in zip(classified, lines, strict=True):
                    self._tally(language or UNKNOWN_LANGUAGE).add_counts(n, code, comments, blanks)
        return floor

    def _tally(self, language: str) -> Tally:
        tally = self._languages.get(language)
        if tally is None:
            tally = self._languages[language] = Tally()
        return tally

    def _keep_largest(self, result: FileResult) -> int:
        """Keep ``result`` among the live view's largest files if it is one; the new floor."""
        largest = self._largest
        n = result.lines or 0
        if len(largest) < _KEEP_ROWS or n > largest[0][0]:
            self._seq += 1
            if len(largest) < _KEEP_ROWS:
                heapq.heappush(largest, (n, -self._seq, result))
            else:
                heapq.heapreplace(largest, (n, -self._seq, result))
        return largest[0][0] if len(largest) >= _KEEP_ROWS else -1

    async def _work(
        self, queue: asyncio.Queue[list[tuple[int, str]] | None], pool: ThreadPool
    ) -> None:
        while (batch := await queue.get()) is not None:
            if self._cancel_reason is not None:
                reason = self._cancel_reason
                self._deliver([(index, _cancelled(path, reason)) for index, path in batch])
                continue
            group = [Job(index, path) for index, path in batch]
            later = await self._read_and_deliver(group, pool)
            # Pipes and devices handed back by a batch: each on its own, after
            # the rest was delivered, so that one waiting for a writer holds
            # back no other file.
            for job in later:
                if self._cancel_reason is not None:
                    self._deliver([(job.index, _cancelled(job.path, self._cancel_reason))])
                else:
                    await self._read_and_deliver([Job(job.index, job.path)], pool)

    async def _read_and_deliver(self, group: list[Job], pool: ThreadPool) -> list[Job]:
        """Read ``group`` and deliver its results; return the files it handed back."""
        for job in group:
            self._active[job.index] = job
        try:
            if has_url(group) and not getattr(self._procs, "reads_urls", False):
                # Objects behind URLs are read here, unless the pool's workers read them.
                outcomes = await self._read_objects(group, pool)
            elif self._procs is not None:
                outcomes = await self._read_in_processes(group, pool, self._procs)
            else:
                outcomes = await self._read(group, pool)
        finally:
            for job in group:
                job.stop = True
                self._active.pop(job.index, None)
        failed = expected_errors()
        if self.options.on_error == "cancel" and any(isinstance(o, failed) for o in outcomes):
            # Before the results are made: the files the batch stopped at are cancelled by it.
            self._cancel(CANCELLED_AFTER_FAILURE)
        later = [job for job, o in zip(group, outcomes, strict=True) if isinstance(o, NotRegular)]
        self._deliver(
            [
                (job.index, _with_codec(job, self._result(job, outcome)))
                for job, outcome in zip(group, outcomes, strict=True)
                if not isinstance(outcome, NotRegular)
            ]
        )
        return later

    async def _read(self, group: list[Job], pool: ThreadPool) -> list[object]:
        timeout = self.options.timeout
        if timeout is None:
            stop_early = self.options.on_error == "cancel"
            return await pool.submit(_read_batch, group, self._settings, None, stop_early)
        # One file per call here. The reading thread enforces the deadline
        # between chunks; asyncio.timeout covers a read stuck in the kernel.
        (job,) = group
        try:
            async with asyncio.timeout(timeout + _GRACE):
                return await pool.submit(_read_batch, group, self._settings, timeout, False)
        except TimeoutError:
            job.stop = True
            pool.abandon()
            return [_timeout_error(timeout)]

    async def _read_objects(self, group: list[Job], pool: ThreadPool) -> list[object]:
        if self._objects is None:
            from ._remote import Objects

            opts = self.options
            self._objects = Objects(
                self._settings,
                pool,
                jobs=opts.effective_jobs,
                timeout=opts.timeout,
                stop_early=opts.on_error == "cancel",
                options=opts.storage_options,
            )
        return await self._objects.read(group, lambda local: self._read(local, pool))

    async def _read_in_processes(
        self, group: list[Job], pool: ThreadPool, procs: ProcessPool | DaskPool
    ) -> list[object]:
        """Small regular files in a counting process; the rest come back to the threads."""
        send = [job for job in group if job.path != "-"]  # stdin is ours, not a worker's
        outcomes: dict[Job, object] = {}
        here = [job for job in group if job.path == "-"]
        for job, outcome in zip(send, await procs.run([j.path for j in send]), strict=True):
            if outcome is None:
                here.append(job)
            elif isinstance(outcome, tuple):
                # (result, size, extras): see _worker.
                outcomes[job], job.size = outcome[0], outcome[1]
                if len(outcome) > 2 and outcome[2] is not None:
                    restore_extras(job, outcome[2])
            else:
                outcomes[job] = outcome
        if here:
            outcomes.update(zip(here, await self._read(here, pool), strict=True))
        return [outcomes[job] for job in group]

    def _result(self, job: Job, outcome: object) -> FileResult:
        if isinstance(outcome, int):
            if job.classified is None:
                return counted_result(job.path, outcome, job.size)
            language, code, comments, blanks = job.classified
            return FileResult(
                job.path,
                Status.OK,
                outcome,
                job.size,
                language=language,
                code=code,
                comments=comments,
                blanks=blanks,
            )
        if isinstance(outcome, Skip):
            return FileResult(job.path, Status.SKIPPED, None, outcome.size, reason=outcome.reason)
        if isinstance(outcome, Stopped):
            # No reason yet: a failure earlier in the same batch stopped this read.
            return _cancelled(job.path, self._cancel_reason or CANCELLED_AFTER_FAILURE)
        assert isinstance(outcome, Exception)
        lines = outcome.lines if isinstance(outcome, TooManyLines) else None
        size = job.size if isinstance(outcome, TooManyLines) else None
        return _failure(job.path, outcome, lines, size)

    def _deliver(self, done: list[tuple[int, FileResult]]) -> None:
        """Record finished files (``(index, result)`` pairs) and pass them to the consumer."""
        if not done:
            return
        if self.options.keep_results:
            results = self._results
            for index, result in done:
                if index < 0:
                    items, at = self._placed.pop(index)
                    items[at] = result
                else:
                    results[index] = result
        self._account(done)

    def _account(self, done: list[tuple[int, FileResult]], *, publish: bool = True) -> None:
        """Add finished files to the totals and the live rows; pass them to the consumer.

        ``publish=False``: the caller does the live rows and the passing on itself.
        """
        if not done:
            return
        counts = self._counts
        largest = self._largest
        for index, result in done:
            status = result.status
            counts[status] += 1
            if status is Status.OK:
                lines = result.lines or 0
                self._lines += lines
                self._bytes += result.bytes or 0
                if self.options.languages:
                    name = language_of(result)
                    self._tally(name).add(result)
                if len(largest) < _KEEP_ROWS:
                    heapq.heappush(largest, (lines, -index, result))
                elif lines > largest[0][0]:
                    heapq.heapreplace(largest, (lines, -index, result))
            elif status is Status.ERROR and self.options.on_error == "cancel":
                self._cancel(CANCELLED_AFTER_FAILURE)
        if publish:
            self._recent.extend(result for _, result in done[-_KEEP_ROWS:])
            self._out.put_nowait([result for _, result in done])

    def _cancel(self, reason: str) -> None:
        if self._cancel_reason is None:
            self._cancel_reason = reason
            stop_reading = getattr(self._procs, "stop_reading", None)
            if stop_reading is not None:
                stop_reading()
        for job in list(self._active.values()):
            job.stop = True


def _take(source: Iterator[Input | Unit | str], n: int) -> list[Input | Unit | str]:
    batch: list[Input | Unit | str] = []
    for item in source:
        batch.append(item)
        if len(batch) >= n:
            break
    return batch


def _read_batch(
    group: list[Job], settings: ReadSettings, timeout: float | None, stop_early: bool
) -> list[object]:
    """Count each file of ``group`` in turn (runs in a pool thread).

    With ``stop_early`` (``on_error="cancel"``), the files after a failure are
    not read: they come back as stopped, and the run reports them cancelled.
    In a batch of several, a file that is not a regular one comes back as
    :class:`NotRegular`, unread.
    """
    outcomes: list[object] = []
    failed = False
    regular_only = len(group) > 1  # a pipe could block the files after it
    for job in group:
        if failed:
            job.stop = True
        if timeout is not None:
            job.timeout = timeout
            job.deadline = time.monotonic() + timeout
        try:
            outcomes.append(count_file(job, settings, regular_only=regular_only))
        except (Stopped, NotRegular) as handed_back:
            outcomes.append(handed_back)
        except expected_errors() as exc:
            outcomes.append(exc)
            failed = stop_early
    return outcomes


_Segment = tuple[int, int, "list[Classified] | Literal[False] | None"]
"""Entries ``start`` to ``end`` of a chunk, and how to take them (see :func:`_segments`)."""

_MIN_RUN = 4
"""Fewer counted files in a row than this go one by one: a result each is as cheap."""


def _segments(
    codes: bytes,
    extras: dict[int, object],
    languages: bool,
    kinds: list[Classified | None] | None = None,
) -> list[_Segment]:
    """A chunk's entries as runs ``(start, end, how)``, in order: ``how`` is False for
    entries to take one by one, else the run is of counted files with nothing more to
    tell than their counts, to keep as columns (None, or with ``languages`` their
    classifications, from ``kinds`` or their extras, and no codec)."""
    if not extras and codes.count(OK) == len(codes):
        # the usual chunk, at once
        if not codes:
            return []
        if not languages:
            return [(0, len(codes), None)]
        if kinds is not None and None not in kinds:
            return [(0, len(codes), kinds)]  # type: ignore[list-item]
    segments: list[_Segment] = []
    done = 0  # the entries before it are in segments
    start = -1  # where the run of counted files being read started
    run: list[Classified] = []
    for i in range(len(codes) + 1):
        if i < len(codes) and codes[i] == OK:
            extra = extras.get(i)
            if not languages and extra is None:
                if start < 0:
                    start = i
                continue
            if languages:
                if extra is None:
                    kind = None if kinds is None else kinds[i]
                elif type(extra) is tuple and extra[0] is None:
                    kind = extra[2]
                else:
                    kind = None
                if kind is not None:
                    if start < 0:
                        start, run = i, []
                    run.append(kind)
                    continue
        if start >= 0 and i - start >= _MIN_RUN:
            if done < start:
                segments.append((done, start, False))
            segments.append((start, i, run if languages else None))
            done = i
        start = -1
    if done < len(codes):
        segments.append((done, len(codes), False))
    return segments


def _counted(path: str, lines: int, size: int, extras: Extras) -> FileResult:
    """A counted file's result with what its count found besides lines (see ``job_extras``)."""
    codec, decompressed, classified = extras
    language, code, comments, blanks = classified or (None, None, None, None)
    return counted_result(
        path,
        lines,
        size,
        language,
        code,
        comments,
        blanks,
        codec,
        decompressed if codec is not None else None,
    )


def _with_codec(job: Job, result: FileResult) -> FileResult:
    """Add what the reading found of a compressed file: its format, its decompressed size."""
    if job.codec is None:
        return result
    import dataclasses  # only here: the command's start-up does without it (see _frozen)

    size = job.decompressed if result.lines is not None else None
    return dataclasses.replace(result, codec=job.codec, decompressed_bytes=size)


def _recent_rows(recent: collections.deque[FileResult | Columns]) -> tuple[Row, ...]:
    """The rows of the last results, the last first (at most _KEEP_ROWS)."""
    rows: list[Row] = []
    for part in reversed(recent):
        if isinstance(part, Columns):
            base, names, lines, sizes = part.base, part.names, part.lines, part.sizes
            for k in range(len(names) - 1, max(-1, len(names) - 1 - _KEEP_ROWS + len(rows)), -1):
                rows.append(Row(base + names[k], lines[k], sizes[k], True, Status.OK))
        else:
            rows.append(_row(part))
        if len(rows) >= _KEEP_ROWS:
            break
    return tuple(rows)


def _row(result: FileResult) -> Row:
    error = None if result.error is None else type(result.error).__name__
    return Row(result.path, result.lines or 0, result.bytes or 0, True, result.status, error)


def _timeout_error(timeout: float) -> TimeoutError:
    return TimeoutError(f"took longer than {timeout:g} s")


def _cancelled(path: str, reason: str) -> FileResult:
    return FileResult(path, Status.CANCELLED, reason=reason)


def _failure(path: str, exc: Exception, lines: int | None, size: int | None = None) -> FileResult:
    if exc.__traceback__ is not None:
        # Keep the traceback for --traceback, but not the frames' locals (read buffers).
        traceback.clear_frames(exc.__traceback__)
    attach_path(exc, path)
    return FileResult(path, Status.ERROR, lines, size, error=exc)
