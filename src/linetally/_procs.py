"""The counting processes, seen from the event loop: CPU parallelism for many small files.

Threads give I/O concurrency (``jobs``: files in flight); these processes give
CPU parallelism (``processes``: cores counting at once). Each one runs
:mod:`linetally._worker` and is lent to one caller at a time; a caller sends a
batch of paths and awaits the outcomes. They start in their own session, so a
Ctrl-C at the terminal reaches only linetally itself, which stops the run and
lets them finish their batch.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import pickle
import signal
import sys
from collections.abc import AsyncIterator, Callable

from ._reader import ReadSettings
from ._walk import Unit, WalkSettings
from ._worker import HEADER, UNIT, Chunk, frame

__all__ = ["ProcessPool"]


class ProcessPool:
    """``size`` counting processes, each lent to one batch at a time."""

    def __init__(self, size: int, settings: ReadSettings) -> None:
        self._size = size
        self._settings = settings
        self._procs: list[asyncio.subprocess.Process] = []
        self._ready: list[asyncio.subprocess.Process] = []
        self._idle: asyncio.Queue[asyncio.subprocess.Process] = asyncio.Queue()

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
            self._idle.put_nowait(proc)

    async def _spawn(self) -> asyncio.subprocess.Process:
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
        async with self._lent() as proc:
            await _send(proc, frame(paths))
            outcomes = await _answer(proc)
        assert isinstance(outcomes, list) and len(outcomes) == len(paths)
        return outcomes

    @contextlib.asynccontextmanager
    async def _lent(self) -> AsyncIterator[asyncio.subprocess.Process]:
        """The next free process, for one request; given back once it is answered."""
        proc = await self._idle.get()
        try:
            yield proc
        except asyncio.IncompleteReadError:
            raise RuntimeError(_died(await proc.wait())) from None
        except BaseException:
            # Cancelled mid-request: its answer would come to the next caller. Retire it.
            self._kill(proc)
            raise
        self._idle.put_nowait(proc)

    async def walk_dir(
        self,
        unit: Unit,
        walk_settings: WalkSettings,
        *,
        cancelled: bool,
        stop_early: bool,
        on_chunk: Callable[[Chunk], None],
    ) -> None:
        """Walk the directory ``unit`` and count its files in the next free process.

        Each chunk of results goes to ``on_chunk`` as it arrives (see _worker).
        With ``cancelled``, the files are listed but not read.
        """
        async with self._lent() as proc:
            await _send(proc, frame((UNIT, unit, walk_settings, cancelled, stop_early)))
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
    def _kill(proc: asyncio.subprocess.Process) -> None:
        with contextlib.suppress(ProcessLookupError):
            proc.kill()


def _died(code: int) -> str:
    return f"a linetally counting process died (exit status {code})"


async def _send(proc: asyncio.subprocess.Process, data: bytes) -> None:
    assert proc.stdin is not None
    proc.stdin.write(data)
    await proc.stdin.drain()


async def _answer(proc: asyncio.subprocess.Process) -> object:
    """One pickled frame from the process (see _worker)."""
    assert proc.stdout is not None
    header = await proc.stdout.readexactly(HEADER.size)
    (size,) = HEADER.unpack(header)
    answer: object = pickle.loads(await proc.stdout.readexactly(size))
    return answer
