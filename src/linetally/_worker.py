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
    Classified,
    Job,
    NotRegular,
    ReadSettings,
    Skip,
    Stopped,
    classify_run,
    classify_small,
    count_file,
    count_run,
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

Chunk = tuple[
    list[str],
    bytes,
    "array[int]",
    "array[int]",
    dict[int, object],
    "list[Classified | None] | None",
    bool,
]
"""``(names, codes, lines, sizes, extras, kinds, last)``; names are relative to the unit.

``kinds`` (with ``languages``, else None) holds the language and line kinds of each
file counted and classified in a run (see :func:`~linetally._reader.classify_run`),
None for the other entries: the file's extras have them if it has any."""

_CHUNK_ENTRIES = 1024
_CHUNK_SECONDS = 0.05
"""A chunk goes out after this many entries or this long: the live view keeps moving."""

_UNIT_FILES = 1024
"""A unit's subdirectories are walked here too until this many files came out: fewer
round trips than one directory per request; then the rest of each directory being
walked is handed out (a unit each), to whichever process is free."""
_UNIT_CUT = 4096
"""A directory that gave this many files hands out the rest of its entries: a huge
flat directory (a log folder) is shared between the processes, not left to one."""
_CLASSIFYING_FILES = 64
"""Both of the above when files are classified (``languages``): a file costs ten
times more, and a process left with a big unit at the end would keep the other idle."""

_RUN_FILES = 32
"""Files counted in a row between two looks at the stop flag and the clock: a read can
be slow (a cold disk, a network file system), and a stop must not wait for many."""

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


class _Chunk:
    """The columns of the chunk being filled (see :data:`Chunk`), and when to send it."""

    __slots__ = (
        "classifying",
        "codes",
        "extras",
        "kinds",
        "lines",
        "names",
        "out",
        "sent",
        "sizes",
    )

    def __init__(self, out: BinaryIO, classifying: bool) -> None:
        self.out = out
        self.classifying = classifying
        self._start()

    def _start(self) -> None:
        self.names: list[str] = []
        self.codes = bytearray()
        self.lines = array("q")
        self.sizes = array("q")
        self.extras: dict[int, object] = {}
        self.kinds: list[Classified | None] | None = [] if self.classifying else None
        self.sent = time.monotonic()

    def add(
        self, name: str, code: int, lines: int = 0, size: int = 0, extra: object = None
    ) -> None:
        if extra is not None:
            self.extras[len(self.names)] = extra
        if self.kinds is not None:
            self.kinds.append(None)
        self.names.append(name)
        self.codes.append(code)
        self.lines.append(lines)
        self.sizes.append(size)

    def send(self, last: bool = False) -> None:
        """Send the chunk if it is full or due (or ``last``), and start the next one."""
        if (
            last
            or len(self.names) >= _CHUNK_ENTRIES
            or time.monotonic() - self.sent >= _CHUNK_SECONDS
        ):
            chunk = (
                self.names,
                bytes(self.codes),
                self.lines,
                self.sizes,
                self.extras,
                self.kinds,
                last,
            )
            self.out.write(frame(chunk))
            self.out.flush()
            self._start()


def _walk_and_count(
    request: tuple[object, ...], settings: ReadSettings, cache: dict[object, object], out: BinaryIO
) -> None:
    """Answer a UNIT request: walk one directory, count its files, send chunks."""
    from ._walk import Files, Unit, walk_unit

    _, unit, walk_settings, cancelled, stop_early = request
    assert isinstance(unit, Unit)
    cut = len(os.path.join(unit.path, ""))
    stopped = bool(cancelled)
    fast, max_lines = plain(settings), settings.max_lines
    classifying, docstrings = plain_classifying(settings), settings.docstrings
    chunk = _Chunk(out, classifying)
    budget, most = (_CLASSIFYING_FILES,) * 2 if settings.languages else (_UNIT_FILES, _UNIT_CUT)
    items = walk_unit(unit, walk_settings, cache, budget, most, batches=True)  # type: ignore[arg-type]
    for item in items:
        if isinstance(item, Unit):
            chunk.add("", SUBDIR, extra=item)
        elif type(item) is Files:
            base, batch = item
            rel = base[cut:]
            i = 0
            while i < len(batch):
                ran = False
                if (fast or classifying) and not (stopped or _stop):
                    # The usual files: small ones counted (and classified) in a row, in place.
                    end = min(len(batch), i + _RUN_FILES, i + _CHUNK_ENTRIES - len(chunk.names))
                    run = (
                        base,
                        batch,
                        i,
                        end,
                        max_lines,
                        rel,
                        chunk.names,
                        chunk.lines,
                        chunk.sizes,
                    )
                    if chunk.kinds is None:
                        counted = count_run(*run)
                    else:
                        counted = classify_run(*run, chunk.kinds, docstrings)
                    chunk.codes += _OKS[: counted - i]
                    i = counted
                    chunk.send()
                    if i == end:
                        continue
                    ran = True
                # One that the run declined: the general steps.
                name = batch[i]
                code, n, size, extra = _count_one(
                    base + name, settings, stopped, classifying and not ran, docstrings
                )
                stopped = stopped or (code == FAILED and bool(stop_early))
                chunk.add(rel + name, code, n, size, extra)
                chunk.send()
                i += 1
            continue
        elif not isinstance(item, str):  # a skip reason or an error from the walk
            chunk.add("", ENTRY, extra=item)
        elif not (fast and not (stopped or _stop) and _count_alone(item, cut, max_lines, chunk)):
            code, n, size, extra = _count_one(item, settings, stopped, classifying, docstrings)
            stopped = stopped or (code == FAILED and bool(stop_early))
            chunk.add(item[cut:], code, n, size, extra)
        chunk.send()
    chunk.send(last=True)


_OKS = bytes((OK,)) * _CHUNK_ENTRIES


def _count_alone(path: str, cut: int, max_lines: int | None, chunk: _Chunk) -> bool:
    """Count a small file the walk gave alone (its name met a rule) as :func:`count_run` does."""
    if count_run(
        path[:cut], [path[cut:]], 0, 1, max_lines, "", chunk.names, chunk.lines, chunk.sizes
    ):
        chunk.codes.append(OK)
        return True
    return False


def _count_one(
    path: str, settings: ReadSettings, stopped: bool, classifying: bool, docstrings: str
) -> tuple[int, int, int, object]:
    """A file to count by the general steps: ``(code, lines, size, extra or None)``."""
    if stopped or _stop:
        return CANCELLED, 0, 0, None
    if classifying and (small := classify_small(path, settings.max_lines, docstrings)):  # type: ignore[arg-type]
        # With languages, a small file classified here, without the general steps.
        return OK, small[0], small[1], (None, None, small[2])
    job = Job(0, path)
    try:
        result = count_file(job, settings, regular_only=True, max_size=MAX_SIZE, regular=True)
    except (NotRegular, Stopped):
        return HANDED_BACK, 0, 0, None
    except expected_errors() as exc:
        exc.__traceback__ = None
        return FAILED, 0, 0, (exc, job.size, job_extras(job))
    if isinstance(result, Skip):
        return SKIPPED, 0, 0, result
    extra = job_extras(job) if job.classified is not None or job.codec is not None else None
    return OK, result, job.size, extra


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
