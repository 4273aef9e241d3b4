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
import pickle
import sys

from ._reader import ReadSettings
from ._worker import HEADER, frame

__all__ = ["ProcessPool"]


class ProcessPool:
    """``size`` counting processes, each lent to one batch at a time."""

    def __init__(self, size: int, settings: ReadSettings) -> None:
        self._size = size
        self._settings = settings
        self._procs: list[asyncio.subprocess.Process] = []
        self._idle: asyncio.Queue[asyncio.subprocess.Process] = asyncio.Queue()

    async def start(self) -> None:
        """Start the processes and send them the settings."""
        procs = await asyncio.gather(*(self._spawn() for _ in range(self._size)))
        for proc in procs:
            self._procs.append(proc)
            self._idle.put_nowait(proc)

    async def _spawn(self) -> asyncio.subprocess.Process:
        proc = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "linetally._worker",
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
            start_new_session=True,
        )
        assert proc.stdin is not None
        proc.stdin.write(frame(self._settings))
        return proc

    async def run(self, paths: list[str]) -> list[object]:
        """Count ``paths`` in the next free process; one outcome per path (see _worker)."""
        proc = await self._idle.get()
        assert proc.stdin is not None and proc.stdout is not None
        try:
            proc.stdin.write(frame(paths))
            await proc.stdin.drain()
            header = await proc.stdout.readexactly(HEADER.size)
            (size,) = HEADER.unpack(header)
            outcomes = pickle.loads(await proc.stdout.readexactly(size))
        except asyncio.IncompleteReadError:
            code = await proc.wait()
            raise RuntimeError(f"a linetally counting process died (exit status {code})") from None
        except BaseException:
            # Cancelled mid-batch: its answer would come to the next caller. Retire it.
            self._kill(proc)
            raise
        self._idle.put_nowait(proc)
        assert isinstance(outcomes, list) and len(outcomes) == len(paths)
        return outcomes

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
