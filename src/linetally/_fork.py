"""The command's counting processes, forked as it starts (Linux), before asyncio is imported.

A new interpreter costs each counting process about 0.1 s of CPU (start-up
and imports) before its first file. The command avoids it: before its event
loop and threads exist, :func:`prefork` forks the processes a run may need
from the command itself, its modules already imported, and :func:`start_early`
gives each one its first directory at once; a :class:`~linetally._procs.ProcessPool`
takes them first. The library never forks (its caller may have threads).
"""

from __future__ import annotations

import contextlib
import os
import signal

from ._reader import ReadSettings
from ._walk import Unit, WalkSettings
from ._worker import UNIT, frame

__all__ = ["NICE", "prefork", "release_spares", "spares_ready", "start_early"]

NICE = 10
"""How much lower the counting processes' priority is than the command's.

On two cores, the command and its two processes are three to run: started at
the same priority, the command took 30-50 ms to import asyncio and its engine
after the fork, and a process that had walked its first directories waited
for the next ones (up to 9 ms). The command now gets a core when it needs one,
and the processes have both whenever it waits. With Linux's autogroups (one
per session, on in most distributions) the priority weighs only against the
command itself, as between the threads of one process; without them, also
against other programs. By rounds on a tree of 9,000 source files: 0.95x as long.
"""


class _Spare:
    """A forked counting process no pool took yet, and what was sent to it already."""

    __slots__ = ("answers", "pid", "requests", "settings", "units")

    def __init__(self, pid: int, answers: int, requests: int) -> None:
        self.pid = pid
        self.answers = answers
        self.requests = requests
        self.settings: ReadSettings | None = None
        self.units: list[Unit] = []


_spares: list[_Spare] = []
"""Forked counting processes not yet taken by a pool."""


def prefork(n: int) -> None:
    """Fork ``n`` counting processes now, for the pools of this process to take.

    Only for a process with one thread (a fork copies no other thread, and
    whatever lock one held stays held in the child). Each child serves
    :func:`linetally._worker.serve` on two pipes, in a process group of its own,
    at a lower priority than the command's (see :data:`NICE`).
    """
    from ._worker import serve

    for _ in range(n):
        requests_r, requests_w = map(_above_stdio, os.pipe())
        answers_r, answers_w = map(_above_stdio, os.pipe())
        pid = os.fork()
        if pid == 0:  # pragma: no cover - the child (coverage does not follow a fork)
            try:
                # A process group of its own: a Ctrl-C at the terminal reaches the
                # command alone, which stops the run. In the command's session, so in
                # its autogroup, where the lower priority makes room for the command.
                os.setpgid(0, 0)
                with contextlib.suppress(OSError):
                    os.nice(NICE)
                for fd in (requests_w, answers_r, *_spare_fds()):
                    os.close(fd)
                null = os.open(os.devnull, os.O_RDWR)
                os.dup2(null, 0)
                os.dup2(null, 1)
                os.close(null)
                with open(requests_r, "rb") as requests, open(answers_w, "wb") as answers:
                    serve(requests, answers, lambda: _retitle(b"linetally._worker"))
            except BrokenPipeError:
                pass  # the parent is gone
            except BaseException:
                import traceback

                traceback.print_exc()
            finally:
                os._exit(1)
        os.close(requests_r)
        os.close(answers_w)
        _spares.append(_Spare(pid, answers_r, requests_w))


def start_early(
    settings: ReadSettings, units: list[Unit], walk_settings: WalkSettings, *, stop_early: bool
) -> None:
    """Send the forked processes their settings and ``units`` to walk (in turns), now.

    They start on them before this process has imported asyncio, and go on to
    the next while its event loop starts; a pool takes the processes with that
    work under way (see :meth:`~linetally._procs.ProcessPool.walk_dir`).
    """
    spares = list(reversed(_spares))  # in the order pools take them
    for i, spare in enumerate(spares):
        spare.settings, spare.units = settings, units[i :: len(spares)]
        requests = [frame((UNIT, unit, walk_settings, False, stop_early)) for unit in spare.units]
        _write_all(spare.requests, b"".join([frame(settings), *requests]))


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view) :]


def _above_stdio(fd: int) -> int:
    """``fd``, moved above 2 if it is not: with stdin or stdout closed, a pipe
    may take its number, which the child then points at /dev/null."""
    if fd > 2:
        return fd
    import fcntl

    moved = fcntl.fcntl(fd, fcntl.F_DUPFD_CLOEXEC, 3)
    os.close(fd)
    return moved


def _retitle(title: bytes) -> None:  # pragma: no cover - runs in a forked child
    """Show ``title`` as this process's command line (``ps``, ``/proc/PID/cmdline``).

    A forked process keeps its parent's command line; this writes over it, in
    place, as setproctitle does on Linux (the kernel reads it from the process's
    memory, between ``arg_start`` and ``arg_end`` of ``/proc/self/stat``), through
    ``/proc/self/mem``: 0.1 ms, where importing ctypes to do it costs 6 ms.
    """
    try:
        with open("/proc/self/stat", "rb") as f:
            fields = f.read().rsplit(b")", 1)[1].split()
        start, end = int(fields[45]), int(fields[46])  # fields 48 and 49
        if end <= start:
            return
        with open("/proc/self/mem", "r+b", buffering=0) as mem:
            mem.seek(start)
            mem.write(title[: end - start - 1].ljust(end - start, b"\0"))
    except (OSError, ValueError, IndexError):
        pass  # the parent's command line, then


def spares_ready() -> bool:
    """Whether forked processes are waiting for a pool (see :func:`prefork`)."""
    return bool(_spares)


def _spare_fds() -> list[int]:
    return [fd for spare in _spares for fd in (spare.answers, spare.requests)]


def release_spares() -> None:
    """End the forked processes no pool took: they exit at the end of their input."""
    while _spares:
        spare = _spares.pop()
        if spare.units:  # walking for nobody: no need to wait for it
            with contextlib.suppress(ProcessLookupError):
                os.kill(spare.pid, signal.SIGKILL)
        os.close(spare.requests)
        os.close(spare.answers)
        with contextlib.suppress(ChildProcessError):
            os.waitpid(spare.pid, 0)
