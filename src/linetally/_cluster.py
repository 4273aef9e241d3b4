"""Counting on a Dask distributed cluster: the counting processes' seam, on many machines.

:class:`DaskPool` has the contract of :class:`~linetally._procs.ProcessPool`
(``start()``, ``await run(paths) -> outcomes``, ``close()``), so the engine
keeps one code path. Each batch of paths becomes one Dask task, submitted
with the asynchronous ``distributed.Client`` on the run's own event loop; at
most twice the workers' threads are in flight. On the cluster, workers open
the files themselves (paths are made absolute: they must name the same files
there, on a shared file system) and count every file, big ones included.

Failures travel back as plain records (:mod:`linetally._records`) and are
rebuilt on the client with their original types. A stop (fail-fast, Ctrl-C)
cancels the tasks still queued on the scheduler and sets a ``distributed.Event``
that running tasks check between files and between chunks, every 0.2 s once
a task has run that long: the files they did not count come back stopped, and
a task still running after a grace period is cancelled. When a worker
dies mid-batch the scheduler runs the batch again on another worker; if that
keeps failing (``KilledWorker``), each file of the batch is an error.

``distributed`` is imported only here, and only when a pool is started.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import threading
import time
from collections.abc import Callable, Mapping
from typing import Any

from ._errors import LinetallyError, expected_errors
from ._pool import ThreadPool
from ._reader import Job, ReadSettings, Skip, Stopped, count_file, job_extras
from ._records import Record, from_record, to_record
from ._urls import is_url
from ._version import __version__

__all__ = ["ClusterError", "ClusterVersionError", "DaskPool", "WorkerLost"]

_CONNECT_TIMEOUT = 5.0
"""Seconds to reach the scheduler, and to wait for a first worker."""
_POLL = 0.2
"""Seconds between two looks at the stop flag, on the client and on each worker."""
_GRACE = 1.0
"""Seconds a task may go on after a stop before it is cancelled and its files reported stopped."""
_BATCH_BYTES = 64 << 20
"""A task gets at most this many bytes of files (a bigger file goes alone)."""
_BATCH_FILES = 256
"""Files per batch on a cluster: a Dask task costs milliseconds, a small file microseconds."""


class ClusterError(LinetallyError):
    """The Dask cluster cannot be used: the scheduler is unreachable or has no workers."""

    def __init__(self, message: str) -> None:
        super().__init__("", message)

    def __reduce__(self) -> tuple[object, ...]:
        return (type(self), (str(self),))


class ClusterVersionError(ClusterError):
    """linetally (or Dask) on the workers differs from this one: counts might differ too."""


class WorkerLost(LinetallyError):
    """A file's batch could not be counted: its Dask workers kept dying (``KilledWorker``)."""


def _location(path: str) -> str:
    """Where a worker finds ``path``: URLs as they are, local paths made absolute."""
    return path if is_url(path) else os.path.abspath(path)


def _sizes(paths: list[str]) -> list[int]:
    """Sizes of the local files among ``paths`` (0 when unknown), to size the tasks."""
    sizes = []
    for path in paths:
        try:
            sizes.append(0 if is_url(path) else os.stat(path).st_size)
        except (OSError, ValueError):
            sizes.append(0)
    return sizes


def _split(n: int, sizes: list[int]) -> list[tuple[int, int]]:
    """Cut ``range(n)`` into consecutive ``(start, stop)`` groups of at most _BATCH_BYTES."""
    groups = []
    start = total = 0
    for i, size in enumerate(sizes):
        if i > start and total + size > _BATCH_BYTES:
            groups.append((start, i))
            start, total = i, 0
        total += size
    if start < n:
        groups.append((start, n))
    return groups


class DaskPool:
    """Batches of files counted by a Dask cluster's workers, one task per batch.

    ``scheduler`` is an address (``tcp://host:8786``) or a ``distributed.Client``;
    a client that is asynchronous on the running loop is used as is (and not
    closed), otherwise the pool connects its own client to the same scheduler.
    ``stopped`` is polled on the event loop: once it returns true, no batch is
    sent any more and the workers stop between files.
    """

    reads_urls = True
    """The workers read URLs themselves (each has fsspec and the store's package)."""

    def __init__(
        self,
        scheduler: object,
        settings: ReadSettings,
        *,
        timeout: float | None = None,
        stop_early: bool = False,
        stopped: Callable[[], bool] = lambda: False,
        storage_options: Mapping[str, Any] | None = None,
    ) -> None:
        self._scheduler = scheduler
        self._settings = settings
        self._storage_options = dict(storage_options or {})
        self._timeout = timeout
        self._stop_early = stop_early
        self._stopped = stopped
        self._client: Any = None
        self._owned = False
        self._event: Any = None
        self._slots = asyncio.Semaphore(1)
        self._stop_seen = asyncio.Event()
        self._lost = asyncio.Event()
        self._watcher: asyncio.Task[None] | None = None
        self._futures: set[Any] = set()
        self._threads = ThreadPool(2, "linetally-stat")
        self.in_flight = 1
        """Tasks in flight at most: twice the workers' threads when the pool started."""
        self.batch_size = _BATCH_FILES
        """Files per batch the engine should send (fewer when they add up to 64 MiB)."""

    async def start(self) -> None:
        """Connect, check versions, size the flight window; raise ClusterError when unusable."""
        try:
            from distributed import Client
        except ImportError:
            raise ClusterError(
                "counting on a Dask cluster needs Dask distributed, which is not installed"
                " (pip install 'linetally[dask]')"
            ) from None

        self._client, self._owned = await _connect(self._scheduler, Client)
        try:
            await _check_versions(self._client)
            threads = sum((await self._client.nthreads()).values())
        except BaseException:
            await self.close()
            raise
        self.in_flight = max(1, 2 * threads)
        self._slots = asyncio.Semaphore(self.in_flight)
        self._event = _event(f"linetally-stop-{os.urandom(16).hex()}", self._client)
        self._watcher = asyncio.create_task(self._watch())

    async def _watch(self) -> None:
        while not self._stopped():
            if self._client.status in ("closing", "closed"):
                # The scheduler is gone (the client gave up reconnecting): what is in
                # flight will never finish. Every file still to do becomes an error.
                self._lost.set()
                return
            await asyncio.sleep(_POLL)
        with contextlib.suppress(OSError):
            await self._event.set()
        self._stop_seen.set()
        # Tasks still queued on the scheduler are cancelled now; running ones see the flag.
        with contextlib.suppress(OSError):
            processing = await self._client.processing()
            running = {key for keys in processing.values() for key in keys}
            queued = [f for f in self._futures if f.key not in running and not f.done()]
            if queued:
                await self._client.cancel(queued)

    async def run(self, paths: list[str]) -> list[object]:
        """Count ``paths`` on the cluster; one outcome per path, as the counting processes give.

        ``(lines, size)``, a :class:`Skip`, ``(exception, size)`` or
        :class:`Stopped`; never None: the workers count every file.
        """
        sent = [_location(p) for p in paths]
        sizes = await self._threads.submit(_sizes, sent)
        parts = await asyncio.gather(
            *(self._run_group(paths[a:b], sent[a:b]) for a, b in _split(len(paths), sizes))
        )
        return [outcome for part in parts for outcome in part]

    async def _run_group(self, paths: list[str], sent: list[str]) -> list[object]:
        async with self._slots:
            if self._stop_seen.is_set():
                return [Stopped() for _ in paths]
            if self._lost.is_set() or self._client.status in ("closing", "closed"):
                return [(_lost_connection(), None) for _ in paths]
            future = self._client.submit(
                _count_batch,
                sent,
                self._settings,
                self._timeout,
                self._stop_early,
                self._event.name,
                __version__,
                self._storage_options,
                key=f"linetally-count-{os.urandom(16).hex()}",
                pure=False,
            )
            self._futures.add(future)
            try:
                encoded = await self._wait(future)
            except Exception as exc:
                from distributed import KilledWorker
                from distributed.client import ClosedClientError

                if isinstance(exc, ClosedClientError):
                    return [(_lost_connection(), None) for _ in paths]
                if isinstance(exc, KilledWorker):
                    lost = "the Dask workers counting it died on every attempt (KilledWorker)"
                    return [(WorkerLost(p, lost), None) for p in paths]
                if isinstance(exc, OSError):  # the connection to the cluster broke
                    record = to_record(exc)  # one exception per file: each gets its own path
                    return [(from_record(record), None) for _ in paths]
                raise
            finally:
                if future.done():
                    self._futures.discard(future)
        if encoded is None:
            return [Stopped() for _ in paths]
        assert len(encoded) == len(paths)
        return [_decode(o, p, s) for o, p, s in zip(encoded, paths, sent, strict=True)]

    async def _wait(self, future: Any) -> list[tuple[Any, ...]] | None:
        """The task's result; None when it was stopped and did not end within the grace period."""
        from distributed.client import FutureCancelledError

        waiter = asyncio.ensure_future(future.result())
        stop = asyncio.ensure_future(self._stop_seen.wait())
        lost = asyncio.ensure_future(self._lost.wait())
        try:
            await asyncio.wait({waiter, stop, lost}, return_when=asyncio.FIRST_COMPLETED)
            if not waiter.done() and lost.done():
                raise _lost_connection()
            if not waiter.done():
                await asyncio.wait({waiter}, timeout=_GRACE)
            if not waiter.done():
                with contextlib.suppress(OSError):
                    await self._client.cancel([future])
                return None
            try:
                result: list[tuple[Any, ...]] = waiter.result()
            except FutureCancelledError as exc:
                if self._stop_seen.is_set():
                    return None
                # Not ours: the client lost the scheduler, or another client cancelled it.
                raise ConnectionError(
                    f"the Dask cluster cancelled the batch: {exc.reason}"
                ) from None
            return result
        finally:
            for waiting in (waiter, stop, lost):
                waiting.cancel()

    async def close(self) -> None:
        """Cancel what is still queued, clear the stop flag, close the client if ours."""
        if self._watcher is not None:
            self._watcher.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._watcher
        self._threads.shutdown()
        client, self._client = self._client, None
        if client is None:
            return
        try:
            with contextlib.suppress(OSError):
                if client.status in ("closing", "closed"):
                    return
                if self._futures:
                    await client.cancel(list(self._futures))
                if self._event is not None:
                    await self._event.clear()
        finally:
            self._futures.clear()
            if self._owned:
                await client.close()


def _lost_connection() -> ConnectionError:
    return ConnectionError("lost the connection to the Dask scheduler")


async def _connect(scheduler: object, client_type: type[Any]) -> tuple[Any, bool]:
    """An asynchronous client on this loop, and whether it is ours to close."""
    loop = asyncio.get_running_loop()
    if isinstance(scheduler, client_type):
        client: Any = scheduler
        if client.asynchronous and getattr(client.loop, "asyncio_loop", None) is loop:
            return client, False
        address = client.scheduler.address
    elif isinstance(scheduler, str):
        address = scheduler
    else:
        raise TypeError(f"scheduler must be an address or a distributed.Client, not {scheduler!r}")
    try:
        from distributed.comm.addressing import parse_address
        from distributed.comm.registry import get_backend

        get_backend(parse_address(address)[0])  # a bad scheme, before a Client half exists
        client = await client_type(
            address, asynchronous=True, timeout=_CONNECT_TIMEOUT, set_as_default=False
        )
    except (OSError, ValueError) as exc:
        why = " ".join(str(exc).split()) or type(exc).__name__
        raise ClusterError(f"cannot reach the Dask scheduler at {address}: {why}") from None
    try:
        await client.wait_for_workers(1, timeout=_CONNECT_TIMEOUT)
    except (OSError, ValueError):
        await client.close()
        raise ClusterError(
            f"the Dask scheduler at {address} has no workers (waited {_CONNECT_TIMEOUT:g} s)"
        ) from None
    return client, True


async def _check_versions(client: Any) -> None:
    """Raise ClusterVersionError unless every worker runs this linetally, with matching Dask."""
    found = await client.run(_worker_version, on_error="return")
    for worker, version in sorted(found.items()):
        if isinstance(version, BaseException):
            raise ClusterVersionError(
                f"linetally is not usable on the Dask worker {worker}: "
                f"{type(version).__name__}: {version}"
            )
        if version != __version__:
            raise ClusterVersionError(
                f"the Dask worker {worker} runs linetally {version}, this is linetally "
                f"{__version__}: install the same version on every worker"
            )
    try:
        import warnings

        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # optional packages may differ: fine
            await client.get_versions(check=True)
    except ValueError as exc:
        why = " ".join(str(exc).split())
        raise ClusterVersionError(
            f"Dask packages differ between here and the cluster: {why}"
        ) from None


def _worker_version() -> str:
    """Runs on each worker at connect time."""
    from ._version import __version__ as here

    return here


def _event(name: str, client: Any) -> Any:
    """The ``distributed.Event`` that is the run's stop flag (client None: the worker's)."""
    from distributed import Event

    factory: Any = Event
    return factory(name, client=client)


# -- on the workers -------------------------------------------------------------


class _Flag:
    """The run's stop flag as a worker sees it: asks the scheduler at most every _POLL s."""

    def __init__(self, name: str) -> None:
        self._event = _event(name, None)
        self._thread = threading.get_ident()
        self._next = time.monotonic() + _POLL  # short batches never ask
        self.is_set = False

    def __call__(self) -> bool:
        # Only the task's own thread asks: the helper threads that count a big
        # file in ranges have no Dask client of their own.
        if self.is_set or threading.get_ident() != self._thread:
            return self.is_set
        now = time.monotonic()
        if now >= self._next:
            self._next = now + _POLL
            with contextlib.suppress(OSError):
                self.is_set = bool(self._event.is_set())
        return self.is_set

    def set(self) -> None:
        """Stop every task of the run (fail-fast: this batch met a failure)."""
        self.is_set = True
        with contextlib.suppress(OSError):
            self._event.set()


class _ClusterJob(Job):
    """A Job that also stops when the run's flag is set."""

    __slots__ = ("_flag",)

    def __init__(self, path: str, flag: _Flag) -> None:
        super().__init__(0, path)
        self._flag = flag

    def check(self) -> None:
        """Raise if the run was stopped, or as :meth:`Job.check` does."""
        if self._flag():
            self.stop = True
        super().check()


def _count_batch(
    paths: list[str],
    settings: ReadSettings,
    timeout: float | None,
    stop_early: bool,
    flag_name: str,
    version: str,
    storage_options: Mapping[str, Any] | None = None,
) -> list[tuple[Any, ...]]:
    """Count ``paths`` on a worker; one plain tuple per path.

    ``("ok", lines, size, extras)``, ``("skip", reason, size)``, ``("error",
    record, size, extras)`` or ``("stopped",)``. Plain values only: no
    exception is pickled. URLs are read here, through fsspec, with
    ``storage_options``: the worker reaches the store itself.
    """
    if version != __version__:
        error = ClusterVersionError(
            f"this Dask worker runs linetally {__version__}, the client {version}"
        )
        return [("error", to_record(error), None) for _ in paths]
    flag = _Flag(flag_name)
    made: dict[str, Any] = {}  # one filesystem per protocol for this batch
    out: list[tuple[Any, ...]] = []
    for path in paths:
        if flag():
            out.append(("stopped",))
            continue
        job = _ClusterJob(path, flag)
        if timeout is not None:
            job.timeout = timeout
            job.deadline = time.monotonic() + timeout
        try:
            if is_url(path):
                from ._remote import read_url

                result = read_url(path, storage_options or {}, made, job, settings)
            else:
                result = count_file(job, settings)
        except Stopped:
            out.append(("stopped",))
            continue
        except expected_errors() as exc:
            exc.__traceback__ = None
            out.append(("error", to_record(exc), job.size, job_extras(job)))
            if stop_early:
                flag.set()
            continue
        if isinstance(result, Skip):
            out.append(("skip", result.reason, result.size))
        else:
            out.append(("ok", result, job.size, job_extras(job)))
    return out


def _decode(outcome: tuple[Any, ...], path: str, sent: str) -> object:
    """A worker's tuple as the engine's outcome, with the path as the user gave it."""
    kind = outcome[0]
    if kind == "ok":
        return (outcome[1], outcome[2], outcome[3])
    if kind == "skip":
        return Skip(outcome[1], outcome[2])
    if kind == "stopped":
        return Stopped()
    record: Record = outcome[1]
    if path != sent:
        record = _renamed(record, sent, path)
    return (from_record(record), outcome[2], outcome[3])


def _renamed(record: Record, old: str, new: str) -> Record:
    """``record`` with the worker's absolute path put back as the user's path."""

    def swap(value: Any) -> Any:
        return new if value == old else value

    record = dict(record)
    record["filename"] = swap(record["filename"])
    record["filename2"] = swap(record["filename2"])
    record["attrs"] = {k: swap(v) for k, v in record["attrs"].items()}
    record["args"] = None if record["args"] is None else [swap(a) for a in record["args"]]
    return record
