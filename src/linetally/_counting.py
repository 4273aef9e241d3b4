"""Pure line counting: bytes (or text) in, a line count out. No I/O, no asyncio.

A line ends at ``\\n``, ``\\r\\n`` or a lone ``\\r`` (Python's universal
newlines), and a last line without a terminator still counts, so for any bytes
the count equals ``sum(1 for _ in open(path, encoding="latin-1", newline=None))``.

The count of line *breaks* in a chunk is ``#LF + #CR - #CRLF``; a ``\\r`` at
the end of one chunk and a ``\\n`` at the start of the next are one break,
which :class:`LineCounter` corrects for. A final unterminated line adds one.
"""

from __future__ import annotations

import codecs
import threading
from collections.abc import Callable
from typing import Any

__all__ = [
    "NUMPY_LATE",
    "NUMPY_MIN_CHUNK",
    "REUSE_MAX",
    "REUSE_MIN",
    "SNIFF_SIZE",
    "LineCounter",
    "count_breaks",
    "count_lines",
    "detect_bom",
    "kept_buffer",
    "looks_binary",
    "reusing",
    "without_numpy",
]

SNIFF_SIZE = 8192
"""How much of a file's start is looked at to decide whether it is binary."""

NUMPY_MIN_CHUNK = 1 << 18
"""Without stringzilla, chunks at least this large are counted with numpy (when installed)."""

NUMPY_LATE = 512 << 20
"""Bytes of a decompressed stream counted before numpy is imported to count the rest.

``bytes.count`` takes about 0.85 ms per MB, numpy 0.5 ms plus 0.1-0.2 s to
import: numpy pays off only on streams of a gigabyte or so, and the counting
of a decompressed stream overlaps its decompression (another thread) anyway.
"""

_CR = 13
_LF = 10


_LF_ONES = bytes(b == _LF for b in range(256))
"""A translation table: 1 for ``\\n``, 0 for every other byte."""

_CR_ONES = bytes(b == _CR for b in range(256))
"""A translation table: 1 for ``\\r``, 0 for every other byte."""

_CLASSES = bytes(97 if b == _CR else 98 if b == _LF else 99 for b in range(256))
"""A translation table: ``a`` for ``\\r``, ``b`` for ``\\n``, ``c`` for every other byte."""


def _breaks_method(data: bytes | bytearray | memoryview) -> int:
    if type(data) is memoryview:
        data = bytes(data)
    lf = data.count(b"\n")
    if b"\r" not in data:  # memchr: far cheaper than counting
        return lf
    return lf + data.count(b"\r") - data.count(b"\r\n")


count_breaks: Callable[[bytes | bytearray | memoryview], int]
"""``count_breaks(data)``: the line breaks in ``data``, ``#LF + #CR - #CR LF``.

A ``\\r`` ending ``data`` counts: :class:`LineCounter` takes one back when the
next chunk starts with ``\\n``. With stringzilla (the extra
``linetally[stringzilla]``) the ``\\n`` are counted as its byte translation
(``\\n`` to 1, any other byte to 0) summed by its byte sum, both vectorised:
40 GB/s on source code, where counting ``\\n`` finds each one in turn
(stringzilla's count, 5 GB/s; numpy's mask and count, 15 GB/s; the standard
library's loop, 2 GB/s), and as quick to call for a 200-byte file. Its import
takes about a millisecond; without it, the standard library's loops.

With a ``\\r`` in ``data``, the marks of CRs are compared with those of LFs one
byte on: equal, every CR but a last one is followed by a LF (the usual CR LF
file). That takes 20 us per 512 KiB, where counting the CR LF pairs takes 125 us
(a count stops at every line). Otherwise, with fewer than half as many LFs as
CRs (old Mac text, lines ending in a lone CR), the CR LF pairs are the rare ones
and are counted; else the lone CRs are, as the pairs CR CR and CR other in the
bytes translated to three classes (CR, LF, any other).

From :data:`REUSE_MIN` bytes to :data:`REUSE_MAX`, with a stringzilla that
translates into a given buffer (5.3 and later: :data:`reusing`), the marks go
to two buffers kept by each thread instead of new ones (see ``_breaks_reusing``).
"""

REUSE_MIN = 1 << 16
"""Data at least this large is counted without allocating: see :func:`count_breaks`."""

REUSE_MAX = (1 << 20) + 1
"""Larger data is counted allocating: never a read of linetally's own (1 MiB at most),
only a caller's buffer given to :func:`count_lines`."""

_scratch = threading.local()


def kept_buffer(name: str, size: int) -> bytearray:
    """This thread's buffer ``name``, at least ``size`` bytes long.

    Kept for the thread's next call: the marks of :func:`count_breaks` ("lf",
    "cr") and the rest of a file read by the counting loop ("rest").
    """
    buffers: dict[str, bytearray] | None = getattr(_scratch, "buffers", None)
    if buffers is None:
        buffers = _scratch.buffers = {}
    buf = buffers.get(name)
    if buf is None or len(buf) < size:
        # Sized as needed, not to the most: its pages fault in as it is filled.
        grown = 2 * len(buf) if buf is not None else 0
        buf = buffers[name] = bytearray(max(size, min(grown, REUSE_MAX)))
    return buf


reusing: bool
"""Whether :func:`count_breaks` counts big data without allocating (stringzilla 5.3 or later)."""

try:
    from stringzilla import bytesum as _bytesum
    from stringzilla import count as _sz_count
    from stringzilla import equal as _equal
    from stringzilla import find as _find
    from stringzilla import translate as _translate
except ImportError:
    count_breaks = _breaks_method
    _vectorised = False
    reusing = False
else:
    _vectorised = True
    try:  # ``out=``, the translation into a buffer of ours, came with stringzilla 5.3
        _translate(b"\n", _LF_ONES, out=bytearray(1))
    except (TypeError, SystemError):
        reusing = False
    else:
        reusing = True

    def count_breaks(data: bytes | bytearray | memoryview) -> int:
        if REUSE_MIN <= len(data) <= REUSE_MAX and reusing:
            return _breaks_reusing(data)
        if type(data) is memoryview:
            data = bytes(data)  # ``in`` below would look for an item, not a byte
        lf_marks = _translate(data, _LF_ONES)
        n: int = _bytesum(lf_marks)
        if b"\r" not in data:
            return n
        cr_marks = _translate(data, _CR_ONES)
        if not _equal(memoryview(cr_marks)[:-1], memoryview(lf_marks)[1:]):
            return _lone_crs(data, n, _bytesum(cr_marks))
        return n + (data[-1] == _CR)

    def _breaks_reusing(data: bytes | bytearray | memoryview) -> int:
        """:func:`count_breaks` with the byte marks in buffers of this thread's, reused.

        A new buffer for each mark of a big chunk is a big allocation, which the
        C library maps, or trims its heap after, and whose pages fault in again
        when the next one comes (chunks of varying sizes, as files are: the big
        file's chunks, all of one size, did not): counting the CR LF text of a
        200 KB file took 160 us that way, 10 us this way, and files of 64 KiB to
        1 MiB were read and counted 2.5-3x (LF) and 3-4x (CR LF) as slowly.
        """
        k = len(data)
        lf_marks = memoryview(_translate(data, _LF_ONES, out=kept_buffer("lf", k)))[:k]
        n: int = _bytesum(lf_marks)
        if _find(data, b"\r") < 0:
            return n
        cr_marks = memoryview(_translate(data, _CR_ONES, out=kept_buffer("cr", k)))[:k]
        if not _equal(cr_marks[:-1], lf_marks[1:]):
            return _lone_crs(data, n, _bytesum(cr_marks))
        return n + (data[-1] == _CR)

    def _lone_crs(data: bytes | bytearray | memoryview, n: int, cr: int) -> int:
        """The breaks of ``data``, with ``n`` LFs and ``cr`` CRs not all in CR LF pairs."""
        if 2 * n < cr:  # mostly lone CRs (old Mac text): the CR LF pairs are the few
            crlf: int = _sz_count(data, b"\r\n")
            return n + cr - crlf
        classes = _translate(data, _CLASSES)
        n += _sz_count(classes, b"aa", allowoverlap=True) + _sz_count(classes, b"ac")
        return n + (data[-1] == _CR)


_np: Any = None


def _numpy() -> Any:
    """Import numpy on first use: it costs ~50 ms, worth it only for big chunks."""
    global _np
    if _np is None:
        try:
            import numpy
        except ImportError:  # pragma: no cover - numpy is a dependency
            _np = False
        else:
            _np = numpy
    return _np


def without_numpy() -> None:
    """Count with :data:`count_breaks` only, never importing numpy in this process.

    For the counting processes: they count files up to 1 MiB, where numpy's
    import (50-80 ms) costs more than it saves (``bytes.count``: about 0.6 ms
    per MiB of source code; stringzilla, which never needs numpy, 0.03 ms).
    """
    global _np
    _np = False


def _breaks_bytes(chunk: bytes | bytearray, vector: bool = True) -> int:
    if vector and not _vectorised and len(chunk) >= NUMPY_MIN_CHUNK and (np := _numpy()):
        return _breaks_numpy(np, chunk)
    return count_breaks(chunk)


_SLICE = 1 << 18
"""numpy counts a big chunk in slices this large: its masks stay in the CPU's cache."""


def _breaks_numpy(np: Any, chunk: bytes | bytearray) -> int:
    """The breaks in ``chunk`` with numpy's vectorised comparisons (they release the GIL).

    Without a CR, one count of the LFs: about 4x ``bytes.count``. With CRs, a
    break is a LF, or a CR whose next byte is not a LF: per slice, one mask of
    each byte, one of the lone CRs (``CR > next LF``), and one count of their
    union, 1.7x the LF-only count (three whole-chunk counts of LF, CR and CR LF
    pairs took 3x).
    """
    a = np.frombuffer(chunk, dtype=np.uint8)
    if b"\r" not in chunk:  # memchr: far cheaper than a second mask
        return int(np.count_nonzero(a == _LF))
    masks = getattr(_scratch, "masks", None)
    if masks is None or len(masks[0]) != _SLICE:
        masks = _scratch.masks = tuple(np.empty(_SLICE, dtype=np.bool_) for _ in range(3))
    lf, cr, breaks = masks
    equal, count = np.equal, np.count_nonzero
    m = len(a)
    n = 0
    for start in range(0, m, _SLICE):
        part = a[start : start + _SLICE]
        k = len(part)
        equal(part, _LF, out=lf[:k])
        equal(part, _CR, out=cr[:k])
        inner = breaks[: k - 1]
        np.greater(cr[: k - 1], lf[1:k], out=inner)  # a CR not followed by a LF
        np.logical_or(inner, lf[: k - 1], out=inner)
        n += count(inner) + lf[k - 1]
        end = start + k
        if cr[k - 1] and (end == m or a[end] != _LF):
            n += 1  # a CR ending the slice; ending the chunk, LineCounter sees the next
    return int(n)


def _breaks_text(chunk: str) -> int:
    lf = chunk.count("\n")
    if "\r" not in chunk:
        return lf
    return lf + chunk.count("\r") - chunk.count("\r\n")


class LineCounter:
    """Counts lines over a stream of chunks, all bytes or all text.

    Feed the chunks in order with :meth:`feed`; :attr:`lines` is the count
    so far (a final unterminated line included), exact at any chunk boundary.
    Without stringzilla, with ``numpy_from``, big chunks are counted with
    ``bytes.count`` until that many bytes were fed, numpy only after: for a
    stream of unknown length (a decompressed one), where numpy's import
    (0.1-0.2 s of CPU) pays off only after several hundred megabytes. With
    stringzilla, numpy is never needed.
    """

    __slots__ = ("_breaks", "_first", "_last", "_numpy_from", "size")

    def __init__(self, *, numpy_from: int = 0) -> None:
        self._numpy_from = numpy_from
        self._breaks = 0
        self._first = -1
        self._last = -1
        self.size = 0
        """How many bytes (or characters, for text) were fed."""

    def feed(self, chunk: bytes | bytearray | str) -> int:
        """Count the breaks in ``chunk``; return how many it added."""
        if not chunk:
            return 0
        if isinstance(chunk, str):
            n = _breaks_text(chunk)
            first, last = ord(chunk[0]), ord(chunk[-1])
        else:
            n = _breaks_bytes(chunk, self.size >= self._numpy_from)
            first, last = chunk[0], chunk[-1]
        if self._last == _CR and first == _LF:
            n -= 1
        if not self.size:
            self._first = first
        self._breaks += n
        self._last = last
        self.size += len(chunk)
        return n

    def merge(self, following: LineCounter) -> None:
        """Add the counts of ``following``, fed with the data right after this one's.

        Lets separate threads count consecutive ranges of one big file.
        """
        if not following.size:
            return
        n = following._breaks
        if self._last == _CR and following._first == _LF:
            n -= 1
        if not self.size:
            self._first = following._first
        self._breaks += n
        self._last = following._last
        self.size += following.size

    @property
    def lines(self) -> int:
        """Lines so far: the breaks, plus one for a last line with no terminator."""
        tail = self.size and self._last != _CR and self._last != _LF
        return self._breaks + (1 if tail else 0)


def count_lines(data: bytes | bytearray | str) -> int:
    """Count the lines of a whole buffer (see the module docstring for what a line is)."""
    counter = LineCounter()
    counter.feed(data)
    return counter.lines


_BOMS: tuple[tuple[bytes, str], ...] = (
    (codecs.BOM_UTF32_LE, "utf-32"),
    (codecs.BOM_UTF32_BE, "utf-32"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
)


def detect_bom(head: bytes | bytearray) -> str | None:
    """The codec for a UTF-16 or UTF-32 byte-order mark at the start of ``head``, or None."""
    for bom, codec in _BOMS:
        if head.startswith(bom):
            return codec
    return None


def looks_binary(head: bytes | bytearray) -> bool:
    """A NUL byte in the first 8 KiB makes a file binary (what grep and ripgrep do)."""
    return b"\0" in head[:SNIFF_SIZE]
