"""A counting process: reads batches of small files so that counting uses every core.

Threads cannot count small files in parallel (``bytes.count`` and the Python
around each file hold the GIL), so a run over many files also starts a few of
these. Each one reads length-prefixed pickled frames on stdin: first the
:class:`~linetally._reader.ReadSettings` (answered with one byte once the
process is ready), then requests:

- a list of paths, answered with one list of outcomes, one per path:
  ``(lines, size, extras)`` counted; ``(skip, size, extras)`` a
  :class:`~linetally._reader.Skip`; ``(exception, size, extras)`` the failure
  (OSError, ValueError, LinetallyError, a codec's error), with the bytes read
  before it; ``None`` not for a worker (not a regular file, or a big one): the
  parent counts it in a thread, with progress and the vectorised path.
  ``extras`` is :func:`~linetally._reader.job_extras`: the codec and the
  decompressed size of a file read with ``decompress``, and its language and
  code/comment/blank lines with ``languages`` (None where they do not apply).
- ``(UNIT, unit, walk_settings, cancelled, stop_early)``: walk the directory
  ``unit`` (see :func:`linetally._walk.walk_unit`) and count its files,
  answered with one or more :data:`Chunk` frames, the last one marked.

A chunk is columns, not one object per file: the names relative to the unit,
a status code per entry, line counts and sizes (arrays), and a dict of
objects only for the entries that need one (failures with their original
exception, skips, subdirectories as units, and the extras of counted files
that have any). SIGUSR1 asks the process to stop reading: the rest of the
unit's files come back as cancelled.

Kept light on purpose: no asyncio, no numpy, no rich.
"""

from __future__ import annotations

import gc
import os
import pickle
import signal
import struct
import sys
import time
from array import array
from collections.abc import Callable
from typing import BinaryIO, NoReturn

from ._counting import without_numpy
from ._errors import expected_errors
from ._reader import (
    Job,
    NotRegular,
    ReadSettings,
    Skip,
    Stopped,
    classify_small,
    count_file,
    count_small,
    job_extras,
    plain,
    plain_classifying,
)

__all__ = [
    "CANCELLED",
    "ENTRY",
    "FAILED",
    "HANDED_BACK",
    "HEADER",
    "MAX_SIZE",
    "OK",
    "SKIPPED",
    "SUBDIR",
    "UNIT",
    "Chunk",
    "frame",
    "main",
    "read_frame",
]

MAX_SIZE = 1 << 20
"""Files larger than this are handed back to the parent's threads."""

HEADER = struct.Struct("<I")
"""A frame is this header (the payload's length), then a pickle."""

UNIT = "unit"
"""First item of a request to walk and count one directory."""

# Status codes of a chunk's entries.
OK = ord("o")
"""Counted: ``lines`` and ``sizes`` hold the result."""
SKIPPED = ord("s")
"""Not counted on purpose: ``extras`` holds the :class:`Skip`."""
FAILED = ord("e")
"""``extras`` holds ``(exception, bytes read)``."""
CANCELLED = ord("c")
"""Not read: the run was stopping (or an earlier file failed, under stop_early)."""
HANDED_BACK = ord("h")
"""Not read: big, or no longer a regular file; the parent reads it in a thread."""
ENTRY = ord("x")
"""What the walk reported (a skip reason or an error): ``extras`` holds the Entry."""
SUBDIR = ord("d")
"""A subdirectory: ``extras`` holds its Unit, to be walked in turn."""

Chunk = tuple[list[str], bytes, "array[int]", "array[int]", dict[int, object], bool]
"""``(names, codes, lines, sizes, extras, last)``; names are relative to the unit."""

_CHUNK_ENTRIES = 1024
_CHUNK_SECONDS = 0.05
"""A chunk goes out after this many entries or this long: the live view keeps moving."""

_UNIT_FILES = 1024
"""A unit's subdirectories are walked here too until this many files came out: fewer
round trips than one directory per request, and what is left is still handed out."""
_UNIT_CUT = 4096
"""A directory that gave this many files hands out the rest of its entries: a huge
flat directory (a log folder) is shared between the processes, not left to one."""
_CLASSIFYING_FILES = 64
"""Both of the above when files are classified (``languages``): a file costs ten
times more, and a process left with a big unit at the end would keep the other idle."""

_stop = False


def frame(obj: object) -> bytes:
    """One pickled, length-prefixed frame."""
    data = pickle.dumps(obj, protocol=pickle.HIGHEST_PROTOCOL)
    return HEADER.pack(len(data)) + data


def read_frame(stream: BinaryIO) -> object | None:
    """Read one frame; None at end of input."""
    header = stream.read(HEADER.size)
    if len(header) < HEADER.size:
        return None
    (size,) = HEADER.unpack(header)
    obj: object = pickle.loads(stream.read(size))
    return obj


def _outcome(path: str, settings: ReadSettings) -> object:
    job = Job(0, path)
    try:
        # open, fstat, read, close: no stat first, count_file tells what is not ours.
        result = count_file(job, settings, regular_only=True, max_size=MAX_SIZE)
    except NotRegular:
        return None
    except expected_errors() as exc:
        exc.__traceback__ = None
        return (exc, job.size, job_extras(job))
    return (result, job.size, job_extras(job))


def _on_stop(signum: int, frame: object) -> None:
    global _stop
    _stop = True


def _walk_and_count(
    request: tuple[object, ...], settings: ReadSettings, cache: dict[object, object], out: BinaryIO
) -> None:
    """Answer a UNIT request: walk one directory, count its files, send chunks."""
    from ._walk import Unit, walk_unit

    _, unit, walk_settings, cancelled, stop_early = request
    assert isinstance(unit, Unit)
    cut = len(os.path.join(unit.path, ""))
    stopped = bool(cancelled)
    names: list[str] = []
    codes = bytearray()
    lines = array("q")
    sizes = array("q")
    extras: dict[int, object] = {}
    sent = time.monotonic()
    fast, max_lines = plain(settings), settings.max_lines
    classifying, docstrings = plain_classifying(settings), settings.docstrings
    budget, most = (_CLASSIFYING_FILES,) * 2 if settings.languages else (_UNIT_FILES, _UNIT_CUT)
    for item in walk_unit(unit, walk_settings, cache, budget, most):  # type: ignore[arg-type]
        if type(item) is str and fast and not (stopped or _stop):
            # The usual entry: a small file counted here, in place.
            counted = count_small(item, max_lines)
            if counted is not None:
                names.append(item[cut:])
                codes.append(OK)
                lines.append(counted[0])
                sizes.append(counted[1])
                if len(names) & 15 == 0 and (
                    len(names) >= _CHUNK_ENTRIES or time.monotonic() - sent >= _CHUNK_SECONDS
                ):
                    out.write(frame((names, bytes(codes), lines, sizes, extras, False)))
                    out.flush()
                    names, codes, lines, sizes, extras = [], bytearray(), array("q"), array("q"), {}
                    sent = time.monotonic()
                continue
        i = len(names)
        if isinstance(item, Unit):
            names.append("")
            codes.append(SUBDIR)
            extras[i] = item
            lines.append(0)
            sizes.append(0)
        elif not isinstance(item, str):  # a skip reason or an error from the walk
            names.append("")
            codes.append(ENTRY)
            extras[i] = item
            lines.append(0)
            sizes.append(0)
        else:
            path = item
            names.append(path[cut:])
            n = size = 0
            if stopped or _stop:
                code = CANCELLED
            elif classifying and (small := classify_small(path, max_lines, docstrings)):
                # With languages, a small file classified here, without the general steps.
                code = OK
                n, size = small[0], small[1]
                extras[i] = (None, None, small[2])
            else:  # count_small or classify_small, if one applies, said no: the general reader
                job = Job(0, path)
                try:
                    result = count_file(
                        job, settings, regular_only=True, max_size=MAX_SIZE, regular=True
                    )
                except (NotRegular, Stopped):
                    code = HANDED_BACK
                except expected_errors() as exc:
                    exc.__traceback__ = None
                    code = FAILED
                    extras[i] = (exc, job.size, job_extras(job))
                    stopped = bool(stop_early)
                else:
                    if isinstance(result, Skip):
                        code = SKIPPED
                        extras[i] = result
                    else:
                        code = OK
                        n, size = result, job.size
                        if job.classified is not None or job.codec is not None:
                            extras[i] = job_extras(job)
            codes.append(code)
            lines.append(n)
            sizes.append(size)
        if len(names) >= _CHUNK_ENTRIES or time.monotonic() - sent >= _CHUNK_SECONDS:
            out.write(frame((names, bytes(codes), lines, sizes, extras, False)))
            out.flush()
            names, codes, lines, sizes, extras = [], bytearray(), array("q"), array("q"), {}
            sent = time.monotonic()
    out.write(frame((names, bytes(codes), lines, sizes, extras, True)))
    out.flush()


def main() -> None:
    """Serve requests on stdin and stdout until stdin closes, then exit."""
    serve(sys.stdin.buffer, sys.stdout.buffer)


def serve(
    stdin: BinaryIO, stdout: BinaryIO, on_settings: Callable[[], object] | None = None
) -> NoReturn:
    """Serve requests read from ``stdin``, answers on ``stdout``, until ``stdin`` closes.

    ``on_settings`` is called once the settings came and the process said it is
    ready, before the first request.
    Ends the process (a forked one too: it must never return to its parent's code).
    """
    # Ctrl-C is the parent's business: it stops the run and lets us finish.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGUSR1, _on_stop)
    # Nothing here makes reference cycles worth collecting: no GC pauses.
    gc.disable()
    without_numpy()
    settings = read_frame(stdin)
    if settings is None:
        os._exit(0)  # never needed (a forked spare that no run took)
    if not isinstance(settings, ReadSettings):
        raise SystemExit("linetally worker: expected the settings first")
    stdout.write(b"R")  # ready: the SIGUSR1 handler is in place
    stdout.flush()
    if on_settings is not None:
        on_settings()
    cache: dict[object, object] = {}
    while (request := read_frame(stdin)) is not None:
        if isinstance(request, tuple) and request and request[0] == UNIT:
            _walk_and_count(request, settings, cache, stdout)
            continue
        assert isinstance(request, list)
        stdout.write(frame([_outcome(path, settings) for path in request]))
        stdout.flush()
    stdout.flush()
    os._exit(0)  # nothing left to tear down


if __name__ == "__main__":
    main()
