"""The process around the ``linetally`` command: buffered stdout, light GC, a quick exit.

Part of the command line only; the library never calls this. Three costs that
have nothing to do with counting, measured on 100,000 files:

- with ``PYTHONUNBUFFERED`` (or ``-u``) every ``write`` of the output is a
  system call: 201,191 of them for one ``--format json``. stdout here is
  block-buffered whatever the environment says, and flushed at the end (the
  live view and the failure report on stderr are not affected);
- the cyclic GC walks every result again and again as they pile up: the
  command raises its thresholds (it still runs, so memory stays flat with
  ``--format jsonl``);
- at exit the interpreter frees every object one by one: once stdout and
  stderr are flushed there is nothing left to do, so the command ends with
  ``os._exit``.

And two of start-up: asyncio imports ssl, which only a run over URLs or on a
cluster needs; a command line that cannot mean either keeps it out. numpy (a
big file's count) starts OpenBLAS, which starts a thread per core that spins
for a while: 60-120 ms of CPU taken from the counting on two cores, for linear
algebra the command never does. It is told one thread is enough, unless the
environment says otherwise (the library leaves its caller's BLAS alone).
"""

from __future__ import annotations

import contextlib
import gc
import io
import os
import sys

TYPE_CHECKING = False  # typing itself costs a few milliseconds of start-up
if TYPE_CHECKING:
    from typing import NoReturn

__all__ = ["console_main", "import_asyncio", "quiet_blas"]

_BUFFER = 1 << 16


def _buffer_stdout() -> None:
    stream = sys.stdout
    if not isinstance(stream, io.TextIOWrapper) or not isinstance(stream.buffer, io.FileIO):
        return  # already buffered (the usual case), or not a real file: leave it alone
    sys.stdout = io.TextIOWrapper(
        io.BufferedWriter(stream.buffer, _BUFFER),
        encoding=stream.encoding,
        errors=stream.errors,
        newline=None,
        line_buffering=stream.isatty(),
    )


def _local_only(args: list[str]) -> bool:
    """Whether a command line can only mean local files: no URL, no cluster, no list of paths.

    Erring on the safe side: any colon (every URL and scheduler address has
    one), any option starting like ``--files-from`` or ``--scheduler``, or a
    scheduler in the environment says no.
    """
    if os.environ.get("DASK_SCHEDULER_ADDRESS"):
        return False
    return not any(":" in arg or arg.startswith(("--fi", "--sc")) for arg in args)


_local = False
"""Whether the command line can only mean local files (see :func:`_local_only`)."""


def import_asyncio() -> None:
    """Import asyncio; for a command line that can only mean local files, without ssl.

    asyncio imports ssl for TLS, which a run over local files never uses: 10-20 ms
    of every start-up. Kept out of asyncio only, not of the process. The command
    calls this once it has forked its counting processes, which need no asyncio.
    """
    if not _local or "asyncio" in sys.modules or "ssl" in sys.modules:
        import asyncio

        return
    sys.modules["ssl"] = None  # type: ignore[assignment]
    try:
        import asyncio  # noqa: F401
    finally:
        del sys.modules["ssl"]


def quiet_blas() -> None:
    """One OpenBLAS thread for this process's numpy, if the environment sets no number."""
    if "numpy" not in sys.modules:
        os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")


def console_main() -> NoReturn:
    """Entry point of the ``linetally`` command and of ``python -m linetally``."""
    quiet_blas()
    if sys.argv[1:] in (["--version"], ["-V"]):
        # What argparse would print, without importing it (and re, enum...): half the time.
        from ._version import __version__

        sys.stdout.write(f"linetally {__version__}\n")
        sys.stdout.flush()
        os._exit(0)
    global _local
    _buffer_stdout()
    gc.set_threshold(100_000, 50, 50)
    _local = _local_only(sys.argv[1:])
    from ._cli import main

    code = main()
    try:
        sys.stdout.flush()
    except BrokenPipeError:
        code = 0  # the reader went away (``| head``): quietly, as the command does
    with contextlib.suppress(OSError):
        sys.stderr.flush()
    os._exit(code)
