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
from typing import Any

__all__ = [
    "NUMPY_LATE",
    "NUMPY_MIN_CHUNK",
    "SNIFF_SIZE",
    "LineCounter",
    "count_lines",
    "detect_bom",
    "looks_binary",
    "without_numpy",
]

SNIFF_SIZE = 8192
"""How much of a file's start is looked at to decide whether it is binary."""

NUMPY_MIN_CHUNK = 1 << 18
"""Chunks at least this large are counted with numpy, when it is available."""

NUMPY_LATE = 512 << 20
"""Bytes of a decompressed stream counted before numpy is imported to count the rest.

``bytes.count`` takes about 0.85 ms per MB, numpy 0.5 ms plus 0.1-0.2 s to
import: numpy pays off only on streams of a gigabyte or so, and the counting
of a decompressed stream overlaps its decompression (another thread) anyway.
"""

_CR = 13
_LF = 10

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
    """Count with ``bytes.count`` only, never importing numpy in this process.

    For the counting processes: they count files up to 1 MiB, where numpy's
    import (50-80 ms) costs more than it saves (``bytes.count``: about 0.6 ms
    per MiB of source code).
    """
    global _np
    _np = False


def _breaks_bytes(chunk: bytes | bytearray, vector: bool = True) -> int:
    if vector and len(chunk) >= NUMPY_MIN_CHUNK and (np := _numpy()):
        # numpy's comparisons are vectorised and release the GIL: ~5x bytes.count,
        # and ~10x bytes.count(b"\r\n") for the CR LF pairs.
        a = np.frombuffer(chunk, dtype=np.uint8)
        n = int(np.count_nonzero(a == _LF))
        if b"\r" not in chunk:
            return n
        return n + int(np.count_nonzero(a == _CR)) - _crlf_pairs(np, a)
    lf = chunk.count(b"\n")
    if b"\r" not in chunk:  # memchr: far cheaper than counting
        return lf
    return lf + chunk.count(b"\r") - chunk.count(b"\r\n")


def _crlf_pairs(np: Any, a: Any) -> int:
    """CR LF pairs in the byte array ``a``, as 16-bit values at even and at odd offsets.

    Comparing shifted byte masks (``cr[:-1] & lf[1:]``) is 4x slower: unaligned.
    """
    pair = np.frombuffer(b"\r\n", dtype=np.uint16)[0]
    m = len(a)
    even = a[: m - (m & 1)].view(np.uint16)
    odd = a[1 : m - ((m - 1) & 1)].view(np.uint16) if m > 1 else a[:0].view(np.uint16)
    return int(np.count_nonzero(even == pair)) + int(np.count_nonzero(odd == pair))


def _breaks_text(chunk: str) -> int:
    lf = chunk.count("\n")
    if "\r" not in chunk:
        return lf
    return lf + chunk.count("\r") - chunk.count("\r\n")


class LineCounter:
    """Counts lines over a stream of chunks, all bytes or all text.

    Feed the chunks in order with :meth:`feed`; :attr:`lines` is the count
    so far (a final unterminated line included), exact at any chunk boundary.
    With ``numpy_from``, big chunks are counted with ``bytes.count`` until
    that many bytes were fed, numpy only after: for a stream of unknown
    length (a decompressed one), where numpy's import (0.1-0.2 s of CPU)
    pays off only after several hundred megabytes.
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
