"""Reading one file and counting its lines: the blocking part, run in worker threads.

Nothing here touches asyncio. A :class:`Job` is the state a reading thread
shares with the event loop: progress goes out (``lines``, ``bytes``), a stop
request and a deadline come in, checked between chunks, so a timed-out or
cancelled read ends within one chunk or one poll interval.
"""

from __future__ import annotations

import codecs
import errno
import os
import select
import stat
import sys
import threading
import time
from array import array
from collections.abc import Callable, Iterator, Sequence
from typing import TYPE_CHECKING, Literal

from ._counting import (
    NUMPY_LATE,
    REUSE_MIN,
    SNIFF_SIZE,
    LineCounter,
    count_breaks,
    count_lines,
    detect_bom,
    kept_buffer,
    looks_binary,
    reusing,
)
from ._errors import BinaryFileError, TooManyLines
from ._errors import UnicodeDecodeError as OffsetDecodeError
from ._frozen import frozen

if TYPE_CHECKING:
    from ._classify import Counts
    from ._decompress import Decompressed

__all__ = [
    "AHEAD",
    "CHUNK_SIZE",
    "PARALLEL_MIN",
    "Extras",
    "Job",
    "NotRegular",
    "ReadSettings",
    "Skip",
    "Stopped",
    "count_chunks",
    "count_file",
    "count_run",
    "count_small",
    "job_extras",
    "plain",
    "restore_extras",
]

CHUNK_SIZE = 1 << 19
"""Bytes read at a time: memory per file in flight is bounded by this.

Measured on the 1 GiB benchmark file, two threads: 0.15 s with 512 KiB
chunks, 0.18 s with 256 KiB or 1 MiB (cache misses against per-chunk cost).
"""

AHEAD = 4
"""Decompressed chunks a compressed file's decoding thread may make ahead of the counting."""

_AHEAD_MIN = 1 << 18
"""Compressed files at least this large are decompressed in a thread of their own..."""

_AHEAD_CODECS = frozenset({"bzip2", "xz", "lzma"})
"""...when their codec is this slow. The decoding thread needs the GIL between two
chunks, and the counting thread holds it while it counts (``bytes.count``): for gzip
and zstd, which decode a chunk in about the time it takes to count it, the two threads
wait on each other more than they overlap (200 MB of zstd: 1.70 s with the thread,
0.92 s without; gzip with ISA-L 1.17 s against 0.70 s). bzip2 and xz decode ten times
slower, so counting beside them hides behind the decoding."""

PARALLEL_MIN = 32 << 20
"""Regular files at least this large are counted in ranges, one thread per core."""

try:
    _CORES = len(os.sched_getaffinity(0))
except AttributeError:  # pragma: no cover - not Linux
    _CORES = os.cpu_count() or 1

_local = threading.local()


def _buffer() -> bytearray:
    """A read buffer per thread, reused for every big file that thread reads."""
    buf: bytearray | None = getattr(_local, "buf", None)
    if buf is None or len(buf) != CHUNK_SIZE:
        buf = _local.buf = bytearray(CHUNK_SIZE)
    return buf


_POLL_MS = 100

_SMALL = 1 << 16
"""With ``regular``, files shorter than this are read in one call."""


class Stopped(Exception):
    """Raised inside a reading thread when the run asked the read to stop."""


class NotRegular(Exception):
    """Raised, before reading, for a pipe or device when only regular files were asked for."""


@frozen
class Skip:
    """A file that is deliberately not counted, with the reason and its size."""

    reason: str
    size: int | None = None


@frozen
class ReadSettings:
    """The per-file policies that the reading thread applies."""

    encoding: str | None = None
    binary: str = "skip"
    max_lines: int | None = None
    delay: float = 0.0
    languages: bool = False
    docstrings: Literal["code", "comment"] = "code"
    decompress: bool = False


class Job:
    """One file in flight, shared between the event loop and a reading thread."""

    __slots__ = (
        "classified",
        "codec",
        "deadline",
        "decompressed",
        "index",
        "lines",
        "path",
        "size",
        "started",
        "stop",
        "timeout",
    )

    def __init__(self, index: int, path: str) -> None:
        self.index = index
        self.path = path
        self.lines = 0
        self.size = 0
        self.stop = False
        self.deadline: float | None = None
        self.timeout = 0.0
        self.started = 0.0
        self.classified: Classified | None = None
        """With ``languages``: (language, code, comments, blanks) once counted."""
        self.codec: str | None = None
        """The compression format of a file read with ``decompress``, else None."""
        self.decompressed: int | None = None
        """Bytes decompressed from it; then ``size`` counts the compressed bytes read."""

    def check(self) -> None:
        """Raise if the run asked this read to stop or its time is up."""
        if self.stop:
            raise Stopped
        if self.deadline is not None and time.monotonic() > self.deadline:
            raise TimeoutError(f"took longer than {self.timeout:g} s")


def _open(path: str) -> tuple[int, bool]:
    """Open without ever blocking (a FIFO with no writer would block a plain open)."""
    if path == "-":
        if sys.stdin is None:
            # Started with descriptor 0 closed: whatever holds fd 0 now is not stdin.
            raise OSError(errno.EBADF, "standard input is closed", path)
        return sys.stdin.fileno(), False
    fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC | os.O_NONBLOCK)
    return fd, True


def _chunks_regular(fd: int, size_hint: int, job: Job) -> Iterator[bytes | bytearray]:
    # A short read from a regular file means end of file once we have at least
    # st_size bytes; files that report size 0 (procfs) are read until b"".
    want = max(size_hint + 1, SNIFF_SIZE)
    if want < CHUNK_SIZE:
        # Most files: one read of exactly their size.
        job.check()
        data = os.read(fd, want)
        if not data:
            return
        yield data
        if len(data) < want and size_hint and len(data) >= size_hint:
            return
    # Big (or growing) files: reuse one buffer; a full one is handed out as is
    # and must be consumed before the next iteration.
    buf = _buffer()
    while True:
        job.check()
        n = os.readv(fd, [buf])
        if not n:
            return
        yield buf if n == len(buf) else bytes(buf[:n])


def _chunks_special(fd: int, job: Job) -> Iterator[bytes]:
    # Pipes, FIFOs, terminals, devices: wait in short polls so that a stop
    # request or the deadline is seen even when no data ever comes.
    poller = select.poll()
    poller.register(fd, select.POLLIN | select.POLLPRI)
    while True:
        job.check()
        if not poller.poll(_POLL_MS):
            continue
        try:
            data = os.read(fd, CHUNK_SIZE)
        except BlockingIOError:
            continue
        if not data:
            return
        yield data


def count_file(
    job: Job,
    settings: ReadSettings,
    *,
    regular_only: bool = False,
    max_size: int | None = None,
    regular: bool = False,
) -> int | Skip:
    """Count the lines of ``job.path``; return the count, or a :class:`Skip`.

    Failures raise their original exception (OSError subclasses,
    UnicodeDecodeError, TimeoutError, :class:`TooManyLines`,
    :class:`BinaryFileError`); a stop request raises :class:`Stopped`. With
    ``regular_only``, a file that is not a regular one (it could make the
    caller wait for a writer) raises :class:`NotRegular` without being read;
    so does a regular file larger than ``max_size``, when given. With
    ``regular`` (the caller's directory listing said so), a small file is read
    without an fstat: open, one read, close.
    """
    job.started = time.monotonic()
    job.check()
    fd, owned = _open(job.path)
    try:
        if regular:
            head = os.read(fd, _SMALL)
            if len(head) < _SMALL:
                # A short read of a regular file: its end.
                result = _count_chunks(iter((head,) if head else ()), job, settings)
                return Skip(result.reason, len(head)) if isinstance(result, Skip) else result
            os.lseek(fd, 0, os.SEEK_SET)
        st = os.fstat(fd)
        if stat.S_ISDIR(st.st_mode):
            raise IsADirectoryError(errno.EISDIR, os.strerror(errno.EISDIR), job.path)
        if regular_only and not stat.S_ISREG(st.st_mode):
            raise NotRegular
        if max_size is not None and st.st_size > max_size:
            raise NotRegular
        if stat.S_ISREG(st.st_mode):
            if _in_ranges(fd, st.st_size, settings):
                return _count_ranges(fd, st.st_size, job, settings)
            chunks = _chunks_regular(fd, st.st_size, job)
        else:
            chunks = _chunks_special(fd, job)
        background = stat.S_ISREG(st.st_mode) and st.st_size >= _AHEAD_MIN
        result = count_chunks(chunks, job, settings, background=background)
        if isinstance(result, Skip) and stat.S_ISREG(st.st_mode):
            return Skip(result.reason, st.st_size)
        return result
    finally:
        if owned:
            os.close(fd)


def plain(settings: ReadSettings) -> bool:
    """Whether ``settings`` let :func:`count_small` count a file (nothing to decode or classify)."""
    return not (settings.encoding or settings.delay or settings.languages or settings.decompress)


def plain_classifying(settings: ReadSettings) -> bool:
    """Whether ``settings`` let :func:`classify_small` count a file (classify, decode nothing)."""
    return settings.languages and not (settings.encoding or settings.delay or settings.decompress)


def count_small(path: str, max_lines: int | None) -> tuple[int, int] | None:
    """``(lines, size)`` of a regular file up to :data:`RUN_MAX`, read with the fewest calls.

    The counting processes' fast path (see :func:`count_run`), for one file:
    None whenever :func:`count_file` must decide (a failure to report, a file
    over 1 MiB or changing as it is read, a possible binary file or byte-order
    mark, more lines than ``max_lines``), and it gives the same answer as
    count_file for every file this one counts.
    """
    small = _read_small(path, max_lines)
    return None if small is None else (small[1], len(small[0]))


def count_run(
    base: str,
    names: Sequence[str],
    start: int,
    end: int,
    max_lines: int | None,
    rel: str,
    out_names: list[str],
    out_lines: array[int],
    out_sizes: array[int],
    kept: list[bytes] | None = None,
) -> int:
    """Count the files ``base + names[start:end]`` in a row, as :func:`count_small` would.

    Each one counted appends ``rel + name``, its lines and its size to the
    three columns (and its bytes to ``kept``, if given). Stops at the first
    file count_small would decline and returns its index (``end`` when all
    were counted): that one goes to :func:`count_file`. One loop for a
    directory's files, none of count_small's steps per file but its open,
    read and close; a file of 64 KiB or more (its first read full) also
    takes an fstat and a read of the rest, where count_file would read it
    all again.
    """
    open_, read, close, flags, breaks = os.open, os.read, os.close, _SMALL_FLAGS, count_breaks
    for i in range(start, end):
        name = names[i]
        try:
            fd = open_(base + name, flags)
        except OSError:
            return i
        rest: bytes | memoryview = b""
        try:
            data = read(fd, _SMALL)
            size = len(data)
            if size and (data[0] in _BOM_FIRST or data.find(0, 0, SNIFF_SIZE) >= 0):
                return i
            if size == _SMALL:
                more = _rest(fd, size)
                if more is None:
                    return i
                rest = more
        except OSError:
            return i
        finally:
            close(fd)
        if rest:
            n = breaks(data) + breaks(rest) - (data[-1] == 13 and rest[0] == 10)  # a split CR LF
            last = rest[-1]
            size += len(rest)
        else:
            n = breaks(data)
            last = data[-1] if size else 10
        if last != 10 and last != 13:
            n += 1
        if max_lines is not None and n > max_lines:
            return i
        out_names.append(rel + name)
        out_lines.append(n)
        out_sizes.append(size)
        if kept is not None:
            kept.append(data + rest if rest else data)
    return end


def _rest(fd: int, head: int) -> bytes | memoryview | None:
    """The rest of a regular file whose first read gave ``head`` bytes, or None.

    None leaves the file to :func:`count_file`: larger than :data:`RUN_MAX`, or
    not as long as its size says (growing or shrinking as it is read, or a size
    that a file system does not keep). A rest of :data:`REUSE_MIN` bytes or
    more is read into a buffer of the thread's, reused for every file (a view
    of it, good until the thread's next file): a new one for each file is a
    big allocation that the C library maps, faults in page by page and unmaps
    again: 40 page faults a file of 64 KiB to 1 MiB (60 with the marks of CR LF
    text, see :func:`count_breaks`).
    """
    size = os.fstat(fd).st_size
    if not head <= size <= RUN_MAX:
        return None
    want = size - head
    if want < REUSE_MIN or not reusing:
        rest = os.read(fd, want + 1)  # one byte more: a file that grew says so
        return rest if len(rest) == want else None
    view = memoryview(kept_buffer("rest", want + 1))
    got = os.readv(fd, [view[: want + 1]])  # one byte more, as above
    return view[:got] if got == want else None


RUN_MAX = 1 << 20
"""The largest file :func:`count_run` counts; a larger one is counted in ranges (see
``_in_ranges``). Files between 64 KiB and this take one open, read, fstat, read and
close each; in the benchmark's tree of source files they are 566 of 9,000, and 41 % of
its bytes."""

_SMALL_FLAGS = os.O_RDONLY | os.O_CLOEXEC | os.O_NONBLOCK


def classify_small(
    path: str, max_lines: int | None, docstrings: Literal["code", "comment"]
) -> tuple[int, int, Classified] | None:
    """:func:`count_small` with ``languages``: ``(lines, size, classified)``, or None.

    The same answer as :func:`count_file` with ``languages`` (and no decoding)
    for every file it answers for, without its general steps.
    """
    small = _read_small(path, max_lines)
    if small is None:
        return None
    data, lines = small
    return lines, len(data), _kind(path, data, lines, docstrings)


def classify_run(
    base: str,
    names: Sequence[str],
    start: int,
    end: int,
    max_lines: int | None,
    rel: str,
    out_names: list[str],
    out_lines: array[int],
    out_sizes: array[int],
    out_kinds: list[Classified | None],
    docstrings: Literal["code", "comment"],
) -> int:
    """:func:`count_run` with ``languages``: each file counted is also classified.

    Its language and line kinds go to ``out_kinds`` (as :func:`classify_small`
    gives them); the rest is count_run's, stopping at the same file.
    """
    kept: list[bytes] = []
    stop = count_run(base, names, start, end, max_lines, rel, out_names, out_lines, out_sizes, kept)
    first = len(out_lines) - len(kept)
    for i, data in enumerate(kept):
        out_kinds.append(_kind(base + names[start + i], data, out_lines[first + i], docstrings))
    return stop


def _kind(path: str, data: bytes, lines: int, docstrings: Literal["code", "comment"]) -> Classified:
    """The language and line kinds of a small file read whole (no decoding)."""
    language = _language_tools()[0](path, data)
    kept = [data] if language is not None else None
    return _classify(kept, language, None, docstrings, lines)


_tools: tuple[Callable[[str, bytes], str | None], Callable[..., Counts]] | None = None


def _language_tools() -> tuple[Callable[[str, bytes], str | None], Callable[..., Counts]]:
    """``(detect, classify_counted)``, imported on first use (the language table is big),
    then kept: an import statement per file costs more than the lookup."""
    global _tools
    if _tools is None:
        from ._classify import _classify_counted
        from ._languages import detect

        _tools = (detect, _classify_counted)
    return _tools


def _read_small(path: str, max_lines: int | None) -> tuple[bytes, int] | None:
    """A small regular file's bytes and lines (see :func:`count_small`), or None."""
    base, name = os.path.split(path)
    names: list[str] = []
    lines, sizes = array("q"), array("q")
    kept: list[bytes] = []
    if name and count_run(
        os.path.join(base, ""), [name], 0, 1, max_lines, "", names, lines, sizes, kept
    ):
        return kept[0], lines[0]
    return None


_BOM_FIRST = frozenset(b"\x00\xfe\xff")
"""First bytes of the byte-order marks that :func:`detect_bom` knows."""


def _in_ranges(fd: int, size: int, settings: ReadSettings) -> bool:
    if (
        _CORES < 2
        or size < PARALLEL_MIN
        or settings.encoding
        or settings.delay
        or settings.languages
    ):
        return False
    head = os.pread(fd, SNIFF_SIZE, 0)
    if settings.decompress:
        from ._decompress import sniff

        if sniff(head):
            return False  # counted as its decompressed stream
    # BOM files are decoded, binary ones may be skipped: the sequential path knows how.
    return detect_bom(head) is None and (settings.binary == "count" or not looks_binary(head))


def _decompressing(
    chunks: Iterator[bytes | bytearray], job: Job, settings: ReadSettings, background: bool
) -> tuple[Iterator[bytes | bytearray], Decompressed | None]:
    """The decompressed chunks when ``chunks`` start with a compression format's magic.

    Between two decompressed chunks, the stream checks the stop request and
    the deadline, and stops at ``max_lines`` (a compressed file's count can
    grow far beyond its size), so a 10 GiB stream ends early when it must.
    While it runs, ``job.size`` follows the compressed bytes read. With
    ``background`` and a slow codec (:data:`_AHEAD_CODECS`), a thread of the
    stream's own reads and decompresses :data:`AHEAD` chunks ahead of the
    counting (see :class:`Decompressed`).
    """
    from ._decompress import Decompressed, detect

    codec, chunks = detect(chunks)
    if codec is None:
        return chunks, None
    job.codec = codec
    limit = settings.max_lines

    def check() -> None:
        job.check()
        job.size = stream.compressed_bytes
        if limit is not None and job.lines > limit:
            exc = TooManyLines(job.path, job.lines, limit)
            exc.add_note("counting stopped at the limit: the file has at least this many lines")
            raise exc

    ahead = AHEAD if background and codec in _AHEAD_CODECS else 0
    stream = Decompressed(codec, chunks, check=check, ahead=ahead)
    return iter(stream), stream


def _count_ranges(fd: int, size: int, job: Job, settings: ReadSettings) -> int:
    """Count a big file as consecutive ranges, one thread each (numpy releases the GIL).

    Measured on the 1 GiB benchmark file: 0.14 s on two cores, 0.22 s on one.
    """
    bounds = [size * i // _CORES for i in range(_CORES)] + [-1]  # the last reads to EOF
    counters = [LineCounter() for _ in range(_CORES)]
    errors: list[BaseException] = []

    def count(i: int) -> None:
        try:
            _count_range(fd, bounds[i], bounds[i + 1], counters[i], job)
        except BaseException as exc:  # re-raised below, in the calling thread
            errors.append(exc)
            job.stop = True

    helpers = [threading.Thread(target=count, args=(i,), daemon=True) for i in range(1, _CORES)]
    for t in helpers:
        t.start()
    count(0)
    for t in helpers:
        t.join()
    if errors:
        raise errors[0]
    total = counters[0]
    for following in counters[1:]:
        total.merge(following)
    job.size = total.size
    job.lines = lines = total.lines
    if settings.max_lines is not None and lines > settings.max_lines:
        raise TooManyLines(job.path, lines, settings.max_lines)
    return lines


def _count_range(fd: int, start: int, end: int, counter: LineCounter, job: Job) -> None:
    buf = _buffer()
    view = memoryview(buf)
    pos = start
    while end < 0 or pos < end:
        job.check()
        want = len(buf) if end < 0 else min(len(buf), end - pos)
        n = os.preadv(fd, [view[:want]], pos)
        if not n:
            return
        # Progress only: threads may race on these sums; the result is set after.
        job.lines += counter.feed(buf if n == len(buf) else bytes(view[:n]))
        job.size += n
        pos += n


def count_chunks(
    chunks: Iterator[bytes | bytearray],
    job: Job,
    settings: ReadSettings,
    *,
    background: bool = False,
) -> int | Skip:
    """Count a stream of chunks: a local file's, or an object store's.

    The one counting path, so every policy applies (decompression with
    ``decompress``, binary sniffing on the first chunk, BOM, ``encoding``,
    ``max_lines``, stop and deadline checks); a Skip carries no size, the
    caller knows it. With ``background``, a compressed stream is read and
    decompressed in a thread of its own while this one counts: only for
    chunks whose reads never wait long (a regular file's), since that thread
    is always joined before this returns or raises.
    """
    stream = None
    if settings.decompress:
        chunks, stream = _decompressing(chunks, job, settings, background)
    try:
        return _count_chunks(chunks, job, settings)
    finally:
        if stream is not None:
            stream.close()
            job.size, job.decompressed = stream.compressed_bytes, stream.decompressed_bytes


def _count_chunks(
    chunks: Iterator[bytes | bytearray], job: Job, settings: ReadSettings
) -> int | Skip:
    counter = LineCounter(numpy_from=0 if job.codec is None else NUMPY_LATE)
    decoder: codecs.IncrementalDecoder | None = None
    first = True
    offset = 0
    language: str | None = None
    kept: list[bytes] | None = None  # the file's bytes, for classifying its lines
    text_codec: str | None = None
    for data in chunks:
        if first:
            first = False
            if settings.languages:
                language = _language_tools()[0](_named(job), bytes(data[:SNIFF_SIZE]))
                kept = [] if language is not None else None
            bom = detect_bom(data)
            if bom is None and looks_binary(data):
                if settings.binary == "skip":
                    return Skip("binary")
                if settings.binary == "error":
                    raise BinaryFileError(job.path)
            text_codec = settings.encoding or bom
            if settings.encoding is not None:
                decoder = codecs.getincrementaldecoder(settings.encoding)("strict")
            elif bom is not None:
                # UTF-16/32 text is counted in its own code units.
                decoder = codecs.getincrementaldecoder(bom)("replace")
        before = counter.lines
        offset += len(data)
        if kept is not None:
            kept.append(bytes(data))
        counter.feed(data if decoder is None else _decode(decoder, data, offset))
        _progress(job, counter.lines - before, offset, settings.delay)
    if decoder is not None:
        counter.feed(_decode(decoder, b"", offset, final=True))
    lines = counter.lines
    job.lines = lines
    if settings.languages:
        if first:  # an empty file still has a language
            language = _language_tools()[0](_named(job), b"")
            kept = [] if language is not None else None
        job.classified = _classify(kept, language, text_codec, settings.docstrings, lines)
    if settings.max_lines is not None and lines > settings.max_lines:
        raise TooManyLines(job.path, lines, settings.max_lines)
    return lines


_COMPRESSED_SUFFIXES = (".gz", ".bz2", ".xz", ".lzma", ".zst", ".z")


def _named(job: Job) -> str:
    """The name that tells a file's language: ``app.py.gz`` read decompressed is ``app.py``."""
    if job.codec is not None:
        stem, dot, suffix = job.path.rpartition(".")
        if dot and f".{suffix.lower()}" in _COMPRESSED_SUFFIXES:
            return stem
    return job.path


Classified = tuple[str | None, int | None, int | None, int | None]
"""A file's language and its code, comment and blank lines (None when the language is unknown)."""

Extras = tuple[str | None, int | None, Classified | None]
"""What a count knows besides lines and size: codec, decompressed bytes, classification."""


def job_extras(job: Job) -> Extras:
    """The extras of a finished ``job``, to send from a counting process."""
    return (job.codec, job.decompressed, job.classified)


def restore_extras(job: Job, extras: Extras) -> None:
    """Put the extras a counting process sent back on the parent's ``job``."""
    job.codec, job.decompressed, job.classified = extras


def _classify(
    kept: list[bytes] | None,
    language: str | None,
    text_codec: str | None,
    docstrings: Literal["code", "comment"],
    lines: int,
) -> Classified:
    if kept is None or language is None:
        return (None, None, None, None)
    _classify_counted = _language_tools()[1]
    data = b"".join(kept)
    known: int | None = lines  # counted here already, in the same units
    if text_codec is not None and codecs.lookup(text_codec).name not in ("utf-8", "ascii"):
        # UTF-16/32 (a BOM) or another --encoding: classify the text, as UTF-8.
        data = data.decode(text_codec, "replace").encode("utf-8", "surrogatepass")
        known = None
    counts = _classify_counted(
        data, language, docstrings, count_lines(data) if known is None else known
    )
    code, comments, blanks = counts.code, counts.comments, counts.blanks
    if code + comments + blanks != lines:
        # Counted in other units (UTF-16 code units): keep the sums true.
        code = lines - comments - blanks
    return (language, code, comments, blanks)


def _progress(job: Job, added: int, offset: int, delay: float) -> None:
    job.size = offset
    if not delay:
        job.lines += added
        return
    # Demo pacing: reveal the lines one at a time, as the tutorial's animation does.
    for _ in range(added):
        job.check()
        job.lines += 1
        time.sleep(delay)


def _decode(
    decoder: codecs.IncrementalDecoder, data: bytes | bytearray, end: int, final: bool = False
) -> str:
    """Decode the next chunk, which ends at file offset ``end``.

    A failure is raised as :func:`_at_offset` makes it, outside the ``except``
    block, so that it carries no ``__context__``: the codec's own error and its
    traceback hold the whole chunk, and failures are kept until the run ends.
    """
    try:
        return decoder.decode(data, final)
    except UnicodeDecodeError as exc:
        error = _at_offset(exc, end)
    raise error


_CONTEXT = 16
"""Bytes kept on each side of the undecodable ones in a decode error's ``object``."""


def _at_offset(exc: UnicodeDecodeError, end: int) -> OffsetDecodeError:
    """The same decode error, with ``byte_offset``: its place in the whole file.

    ``exc.object`` is what the decoder held (bytes left over from earlier
    chunks, then the current one), ending at file offset ``end``. The new
    error keeps only the undecodable bytes and a few around them (``start``
    and ``end`` index that excerpt), so a failure costs bytes, not a chunk.
    """
    where = end - len(exc.object) + exc.start
    lo = max(0, exc.start - _CONTEXT)
    hi = min(len(exc.object), exc.end + _CONTEXT)
    excerpt = bytes(exc.object[lo:hi])
    new = OffsetDecodeError(exc.encoding, excerpt, exc.start - lo, exc.end - lo, exc.reason, where)
    new.add_note(f"at byte offset {where}")
    return new
