"""The counting processes, seen from the event loop: CPU parallelism for many small files.

Threads give I/O concurrency (``jobs``: files in flight); these processes give
CPU parallelism (``processes``: cores counting at once). Each one runs
:mod:`linetally._worker` and answers its requests in the order they came (a
batch of paths, or a directory to walk), with up to :data:`QUEUED` of them
waiting in its pipe. They start in a process group of their own (forked) or a
session of their own (started as new interpreters), so a Ctrl-C at the
terminal reaches only linetally itself, which stops the run and lets them
finish their batch.

On Linux the command forks them as it starts (see :mod:`linetally._fork`); a
pool takes those first, else it starts new interpreters.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import pickle
import signal
import sys
from collections.abc import AsyncIterator, Callable
from typing import Protocol

from ._fork import _spares, prefork, release_spares, spares_ready, start_early
from ._reader import ReadSettings
from ._walk import Unit, WalkSettings
from ._worker import HEADER, UNIT, Chunk, frame

# prefork and the rest live in _fork (no asyncio there), re-exported here.
__all__ = ["QUEUED", "ProcessPool", "prefork", "release_spares", "spares_ready", "start_early"]

QUEUED = 2
"""Requests queued in each counting process at most: the one it works on and the next."""


class _Process(Protocol):
    """What the pool uses of a process: :class:`asyncio.subprocess.Process` or a forked one."""

    @property
    def pid(self) -> int: ...
    @property
    def stdin(self) -> asyncio.StreamWriter | None: ...
    @property
    def stdout(self) -> asyncio.StreamReader | None: ...
    @property
    def returncode(self) -> int | None: ...
    async def wait(self) -> int: ...
    def kill(self) -> None: ...


class _Forked:
    """A process from :func:`prefork`, seen as an :class:`asyncio.subprocess.Process`."""

    def __init__(self, pid: int, stdin: asyncio.StreamWriter, stdout: asyncio.StreamReader) -> None:
        self.pid = pid
        self.stdin: asyncio.StreamWriter | None = stdin
        self.stdout: asyncio.StreamReader | None = stdout
        self.returncode: int | None = None

    @classmethod
    async def adopt(cls, pid: int, answers: int, requests: int) -> _Forked:
        loop = asyncio.get_running_loop()
        reader = asyncio.StreamReader()
        # Each pipe's transport owns its file from now on, and closes it.
        answers_pipe = open(answers, "rb", buffering=0)  # noqa: SIM115
        await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(reader), answers_pipe)
        requests_pipe = open(requests, "wb", buffering=0)  # noqa: SIM115
        transport, protocol = await loop.connect_write_pipe(
            asyncio.streams.FlowControlMixin, requests_pipe
        )
        return cls(pid, asyncio.StreamWriter(transport, protocol, None, loop), reader)

    async def wait(self) -> int:
        """Its exit status, once it ended (as asyncio's: minus the signal that killed it).

        Told by a pidfd the moment it ends (Linux 5.3 and later), as asyncio's own
        ``PidfdChildWatcher`` is: polling every few milliseconds kept the end of
        every run waiting for the next poll. Else polled.
        """
        if self.returncode is None:
            with contextlib.suppress(OSError, AttributeError):
                await _ended(os.pidfd_open(self.pid))
        while self.returncode is None:
            pid, status = os.waitpid(self.pid, os.WNOHANG)
            if pid:
                self.returncode = os.waitstatus_to_exitcode(status)
            else:
                await asyncio.sleep(0.005)
        return self.returncode

    def kill(self) -> None:
        if self.returncode is None:
            os.kill(self.pid, signal.SIGKILL)


class ProcessPool:
    """``size`` counting processes, each answering its requests in order (see :meth:`_lent`)."""

    def __init__(self, size: int, settings: ReadSettings) -> None:
        self._size = size
        self._settings = settings
        self._procs: list[_Process] = []
        self._ready: list[_Process] = []
        # Requests sent to each ready process and not yet answered; a process
        # reads the next one as soon as it has answered the last.
        self._queued: dict[int, int] = {}
        self._turns: dict[int, asyncio.Lock] = {}
        self._freed = asyncio.Event()
        # Units forked processes were given before the pool took them (see
        # start_early), and how many each has whose callers did not come yet: a
        # process takes no other request before them (answers come in order).
        self._early: dict[Unit, _Process] = {}
        self._early_left: dict[int, int] = {}

    async def start(self) -> None:
        """Start the processes and send them the settings."""
        procs = await asyncio.gather(*(self._spawn() for _ in range(self._size)))
        # Each answers one byte once its SIGUSR1 handler is in place (see stop_reading).
        for proc in procs:
            assert proc.stdout is not None
            try:
                await proc.stdout.readexactly(1)
            except asyncio.IncompleteReadError:
                code = await proc.wait()
                raise RuntimeError(
                    f"a linetally counting process died (exit status {code})"
                ) from None
            self._ready.append(proc)
            self._queued[proc.pid] = self._early_left.get(proc.pid, 0)
            self._turns[proc.pid] = asyncio.Lock()
        self._freed.set()

    async def _spawn(self) -> _Process:
        proc: _Process
        spare = _spares.pop() if _spares else None
        if spare is not None and spare.settings not in (None, self._settings):
            # Sent other settings (start_early sends all of them the same): not for
            # this pool. None of them is; new interpreters instead.
            _spares.append(spare)
            release_spares()
            spare = None
        if spare is not None:
            try:
                proc = await _Forked.adopt(spare.pid, spare.answers, spare.requests)
            except BaseException:
                with contextlib.suppress(ProcessLookupError):
                    os.kill(spare.pid, signal.SIGKILL)  # its pipes may already be a transport's
                raise
            if spare.settings is not None:
                self._procs.append(proc)
                self._early.update(dict.fromkeys(spare.units, proc))
                self._early_left[proc.pid] = len(spare.units)
                return proc
        else:
            proc = await asyncio.create_subprocess_exec(
                sys.executable,
                "-c",  # not -m: runpy and what it imports cost a counting process 5-10 ms
                "from linetally._worker import main; main()",
                stdin=asyncio.subprocess.PIPE,
                stdout=asyncio.subprocess.PIPE,
                start_new_session=True,
            )
        self._procs.append(proc)  # from now on, close() ends it
        assert proc.stdin is not None
        proc.stdin.write(frame(self._settings))
        return proc

    async def run(self, paths: list[str]) -> list[object]:
        """Count ``paths`` in the next free process; one outcome per path (see _worker)."""
        async with self._lent(frame(paths)) as proc:
            outcomes = await _answer(proc)
        assert isinstance(outcomes, list) and len(outcomes) == len(paths)
        return outcomes

    @contextlib.asynccontextmanager
    async def _lent(
        self,
        request: bytes,
        queue_behind: Callable[[], bool] | None = None,
        unit: Unit | None = None,
    ) -> AsyncIterator[_Process]:
        """Send ``request`` to a process; lend it to the caller once the answer is next.

        Up to :data:`QUEUED` requests wait in each process's pipe, so that it
        starts the next one without waiting for the event loop to send it; the
        answers come back in the order the requests went, and so do the turns.
        A request goes behind another only if ``queue_behind()`` says so (e.g.
        more work waits): else it could wait there while another process idles.
        The request for a ``unit`` a process was given before the pool took it
        (see :func:`start_early`) is not sent again: that process answers it first.
        """
        proc = self._early.pop(unit, None) if unit is not None else None
        if proc is not None:
            self._early_left[proc.pid] -= 1  # sent already, and counted in _queued
            self._freed.set()
        else:
            proc = await self._least_busy(queue_behind)
            assert proc.stdin is not None
            proc.stdin.write(request)  # now, in turn order: each answer comes back in this order
        assert proc.stdin is not None
        try:
            async with self._turns[proc.pid]:
                await proc.stdin.drain()
                yield proc
        except asyncio.IncompleteReadError:
            self._queued.pop(proc.pid, None)
            raise RuntimeError(_died(await proc.wait())) from None
        except BaseException:
            # Cancelled mid-request: its answer would come to the next caller. Retire it.
            self._retire(proc)
            raise
        self._queued[proc.pid] -= 1
        self._freed.set()

    async def _least_busy(self, queue_behind: Callable[[], bool] | None) -> _Process:
        """The process with the fewest requests queued, once one has room for another."""
        while True:
            left = self._early_left
            queued = {pid: n for pid, n in self._queued.items() if not left.get(pid)}
            if queued:
                pid = min(queued, key=queued.__getitem__)
                if not queued[pid] or (
                    queued[pid] < QUEUED and (queue_behind is None or queue_behind())
                ):
                    self._queued[pid] += 1
                    return next(proc for proc in self._ready if proc.pid == pid)
            self._freed.clear()
            await self._freed.wait()

    def _retire(self, proc: _Process) -> None:
        self._queued.pop(proc.pid, None)
        self._kill(proc)

    async def walk_dir(
        self,
        unit: Unit,
        walk_settings: WalkSettings,
        *,
        cancelled: bool,
        stop_early: bool,
        on_chunk: Callable[[Chunk], None],
        queue_behind: Callable[[], bool] | None = None,
    ) -> None:
        """Walk the directory ``unit`` and count its files in the next free process.

        Each chunk of results goes to ``on_chunk`` as it arrives (see _worker).
        With ``cancelled``, the files are listed but not read. ``queue_behind``:
        see :meth:`_lent`.
        """
        request = frame((UNIT, unit, walk_settings, cancelled, stop_early))
        async with self._lent(request, queue_behind, unit) as proc:
            while True:
                chunk = await _answer(proc)
                assert isinstance(chunk, tuple)
                on_chunk(chunk)
                if chunk[-1]:
                    break

    def stop_reading(self) -> None:
        """Ask every process to read no more files: the rest come back cancelled."""
        for proc in self._ready:
            if proc.returncode is None:
                with contextlib.suppress(ProcessLookupError):
                    os.kill(proc.pid, signal.SIGUSR1)

    async def close(self) -> None:
        """Let every process end (end of input), killing any that lingers."""
        for proc in set(self._early.values()):
            self._kill(proc)  # walking units whose answers nobody will read
        self._early.clear()
        for proc in self._procs:
            if proc.stdin is not None:
                proc.stdin.close()
        try:
            for proc in self._procs:
                try:
                    await asyncio.wait_for(proc.wait(), 2)
                except TimeoutError:
                    self._kill(proc)
                    await proc.wait()
        except BaseException:
            # Cancelled while waiting: none of them may outlive the run.
            for proc in self._procs:
                self._kill(proc)
            raise

    @staticmethod
    def _kill(proc: _Process) -> None:
        with contextlib.suppress(ProcessLookupError):
            proc.kill()


async def _ended(pidfd: int) -> None:
    """Wait until the process of ``pidfd`` ends (its pidfd turns readable), and close it."""
    loop = asyncio.get_running_loop()
    ended: asyncio.Future[None] = loop.create_future()

    def readable() -> None:
        if not ended.done():
            ended.set_result(None)

    try:
        loop.add_reader(pidfd, readable)
        await ended
    finally:
        loop.remove_reader(pidfd)
        os.close(pidfd)


def _died(code: int) -> str:
    return f"a linetally counting process died (exit status {code})"


async def _answer(proc: _Process) -> object:
    """One pickled frame from the process (see _worker)."""
    assert proc.stdout is not None
    header = await proc.stdout.readexactly(HEADER.size)
    (size,) = HEADER.unpack(header)
    answer: object = pickle.loads(await proc.stdout.readexactly(size))
    return answer
