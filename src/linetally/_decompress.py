"""Decompressing a stream of chunks: gzip, bzip2, xz, legacy lzma and zstd.

Pure of I/O: compressed chunks come in as any iterable (a file read in
chunks, a pipe, an object), decompressed chunks of at most :data:`OUT_SIZE`
bytes go out, so a 10 GiB stream or a decompression bomb never sits in
memory. A format is recognised by its magic bytes (:func:`sniff`), never by a
file's name. Every member of a multi-member gzip file, every frame of a zstd
file and every stream of a bzip2 or xz file is decompressed; NUL bytes
between or after gzip members and xz streams are padding (as gzip and xz
define them). Anything else after the last complete member must be another
valid member: data is never ignored.

The codecs are their own libraries, imported when the first file of their
format is met: zlib, bz2 and lzma from the standard library; for gzip,
ISA-L's decoder (package ``isal``, extra ``linetally[isal]``) when it is
installed, 2-4 times as fast as zlib; for zstd, ``compression.zstd`` on
Python 3.14+, else its backport ``backports.zstd`` (extra ``linetally[zstd]``).

Failures keep the codecs' own types: EOFError for a stream cut short,
``gzip.BadGzipFile`` or ``zlib.error`` for a damaged gzip file (``zlib.error``
whichever decoder read it: ISA-L's own error is its ``__cause__``), OSError
from bz2, ``lzma.LZMAError``, zstd's ``ZstdError``; and
:class:`~linetally.CodecUnavailableError` when the zstd library is missing.
Each failure met while decompressing says how far it got: the attributes
``compressed_bytes`` (read) and ``decompressed_bytes`` (produced), and a note.
"""

from __future__ import annotations

import collections
import functools
import importlib
import itertools
import threading
from collections.abc import Callable, Generator, Iterable, Iterator
from dataclasses import dataclass
from typing import Any, Protocol

from ._errors import CodecUnavailableError, expect

__all__ = ["CODECS", "HEAD_SIZE", "OUT_SIZE", "Decompressed", "detect", "sniff"]

CODECS = ("gzip", "bzip2", "xz", "lzma", "zstd")
"""The names :func:`sniff` gives, as they appear in results (``codec``)."""

OUT_SIZE = 1 << 19
"""Most bytes one decompressed chunk holds: memory per stream is bounded by it."""

_ZSTD_OUT = 1 << 17
"""zstd's chunks: counted right after it makes them, they are still in the CPU's cache
(zstd on 200 MB of logs took 0.9x the time of 512 KiB chunks; gzip the same time).
Not for bzip2: a corrupt block's output would come out before its check fails."""

HEAD_SIZE = 16
"""Bytes :func:`sniff` needs to tell every format apart (legacy lzma needs 13)."""

FIRST_SIZE = 8192
"""The first decompressed chunk is at least this long, when the content is: it is
what the binary and byte-order-mark checks look at."""

_GZIP_ACCELERATORS = ("isal.igzip_lib",)
"""Faster gzip decoders, tried in turn before zlib."""

_BZ2_BLOCK = b"\x31\x41\x59\x26\x53\x59"  # a block's magic (pi) ...
_BZ2_END = b"\x17\x72\x45\x38\x50\x90"  # ... or the end of an empty stream (sqrt(pi))


def sniff(head: bytes | bytearray) -> str | None:
    """The compression format that ``head`` (a file's first bytes) starts with, or None.

    Looks at :data:`HEAD_SIZE` bytes at most. Plain text never matches: every
    magic has a byte outside printable ASCII, or (bzip2) a binary block magic
    right after ``BZh1``-``BZh9``.
    """
    if head.startswith(b"\x1f\x8b\x08"):
        return "gzip"
    if head.startswith(b"\xfd7zXZ\x00"):
        return "xz"
    if head.startswith(b"\x28\xb5\x2f\xfd") or (
        # A skippable frame first (pzstd writes one): 0x184D2A50-5F, little-endian.
        len(head) >= 4 and head[0] & 0xF0 == 0x50 and head[1:4] == b"\x2a\x4d\x18"
    ):
        return "zstd"
    if (
        head.startswith(b"BZh")
        and len(head) >= 10
        and 0x31 <= head[3] <= 0x39
        and head[4:10] in (_BZ2_BLOCK, _BZ2_END)
    ):
        return "bzip2"
    if _lzma_alone(head):
        return "lzma"
    return None


def _lzma_alone(head: bytes | bytearray) -> bool:
    """The legacy ``.lzma`` header, checked as strictly as liblzma's own format detection.

    That format has no magic: a properties byte (0x5D, what every encoder
    writes by default), a dictionary size of 2^n or 2^n + 2^(n-1), and an
    uncompressed size that is unknown (all ones) or below 2^38.
    """
    if len(head) < 13 or head[0] != 0x5D:
        return False
    dict_size = int.from_bytes(head[1:5], "little")
    size = int.from_bytes(head[5:13], "little")
    if dict_size != 0xFFFF_FFFF:
        n = dict_size.bit_length() - 1
        if n < 1 or dict_size not in (1 << n, (1 << n) | (1 << (n - 1))):
            return False
    return size == (1 << 64) - 1 or size < 1 << 38


def detect(
    chunks: Iterable[bytes | bytearray],
) -> tuple[str | None, Iterator[bytes | bytearray]]:
    """Sniff the start of ``chunks``; return the format (or None) and all the chunks again.

    Reads only as many chunks as :func:`sniff` needs (one, unless they are
    tiny, as a pipe's may be). The chunks come back unchanged, the first one
    (or the first few, joined) included: nothing is lost or copied needlessly.
    """
    it = iter(chunks)
    head: bytes | bytearray = b""
    for chunk in it:
        head = bytes(head) + chunk if head else chunk
        if len(head) >= HEAD_SIZE:
            break
    if not head:
        return None, it
    return sniff(head), itertools.chain((head,), it)


class _Decoder(Protocol):
    """One member, stream or frame being decompressed: the interface of bz2's decompressor."""

    @property
    def eof(self) -> bool: ...

    @property
    def needs_input(self) -> bool: ...

    @property
    def unused_data(self) -> bytes: ...

    def decompress(self, data: bytes | bytearray, max_length: int) -> bytes: ...


class _ZlibMember:
    """zlib's ``decompressobj`` for one gzip member, behind the interface of bz2's decompressor."""

    __slots__ = ("_d", "_tail", "needs_input")

    def __init__(self, zlib: Any) -> None:
        self._d = zlib.decompressobj(wbits=31)  # 16 + 15: a gzip header and trailer
        self._tail = b""
        self.needs_input = True

    @property
    def eof(self) -> bool:
        return bool(self._d.eof)

    @property
    def unused_data(self) -> bytes:
        return bytes(self._d.unused_data)

    def decompress(self, data: bytes | bytearray, max_length: int) -> bytes:
        out: bytes = self._d.decompress(self._tail + data if self._tail else data, max_length)
        self._tail = self._d.unconsumed_tail
        # A full output may leave more to come even with all the input taken.
        self.needs_input = not self._tail and len(out) < max_length
        return out


@dataclass(frozen=True, slots=True)
class _Codec:
    """How to decompress one format with its library."""

    name: str
    new: Callable[[], _Decoder]
    """A decoder for one member (gzip), stream (bzip2, xz, lzma) or frame (zstd)."""
    errors: tuple[type[Exception], ...]
    """Its failures, besides EOFError: expected per-file failures from now on."""
    padding: bool = False
    """NUL bytes may follow a member (gzip, xz)."""
    magic: bytes | None = None
    """Every member must start with this (gzip): else ``gzip.BadGzipFile``, as Python's gzip."""
    foreign: tuple[type[Exception], ...] = ()
    """An accelerator's own errors, raised as the first of :attr:`errors` (its cause kept)."""
    out_size: int = OUT_SIZE
    """The most bytes of one decompressed chunk."""


def _gzip() -> _Codec:
    import zlib

    for name in _GZIP_ACCELERATORS:
        try:
            igzip_lib = importlib.import_module(name)
        except ImportError:
            continue
        new = functools.partial(igzip_lib.IgzipDecompressor, flag=igzip_lib.DECOMP_GZIP)
        foreign = (igzip_lib.IsalError,)
        return _Codec("gzip", new, (zlib.error,), True, b"\x1f\x8b", foreign)
    return _Codec("gzip", functools.partial(_ZlibMember, zlib), (zlib.error,), True, b"\x1f\x8b")


def _bzip2() -> _Codec:
    import bz2

    return _Codec("bzip2", bz2.BZ2Decompressor, (OSError,))


def _xz() -> _Codec:
    import lzma

    return _Codec(
        "xz", functools.partial(lzma.LZMADecompressor, lzma.FORMAT_XZ), (lzma.LZMAError,), True
    )


def _lzma() -> _Codec:
    import lzma

    new = functools.partial(lzma.LZMADecompressor, lzma.FORMAT_ALONE)
    return _Codec("lzma", new, (lzma.LZMAError,))


def _zstd() -> _Codec:
    missing: ImportError | None = None
    for name in ("compression.zstd", "backports.zstd"):
        try:
            zstd = importlib.import_module(name)
        except ImportError as exc:
            missing = exc
            continue
        return _Codec("zstd", zstd.ZstdDecompressor, (zstd.ZstdError,), out_size=_ZSTD_OUT)
    raise CodecUnavailableError("zstd", "zstd") from missing


_LOADERS: dict[str, Callable[[], _Codec]] = {
    "gzip": _gzip,
    "bzip2": _bzip2,
    "xz": _xz,
    "lzma": _lzma,
    "zstd": _zstd,
}
_loaded: dict[str, _Codec] = {}


def _load(name: str) -> _Codec:
    codec = _loaded.get(name)
    if codec is None:
        if not _loaded:
            _keep_freed_chunks()
        codec = _LOADERS[name]()
        expect(EOFError, *codec.errors)
        _loaded[name] = codec
    return codec


_HEAP_ROOM = 4 << 20


def _keep_freed_chunks() -> None:
    """Let the C allocator keep a few freed chunks for the next ones, instead of unmapping them.

    glibc gives a freed block of 128 KiB or more back to the kernel, unless
    a block that large was freed before (then it raises that threshold, and
    the one for trimming its heap to twice as much). A stream of 512 KiB
    chunks, a few alive at a time (zstd's output is made of several blocks;
    the decompressing thread makes chunks while others wait), then costs a
    page fault per 4 KiB: 30,000 for 200 MB, a sixth of the time of a fast
    codec. Freeing one 4 MiB block once, as Python's ``bytes`` allocates it
    (calloc: no page touched), sets both thresholds above what a stream keeps.
    Elsewhere it is an allocation and a free, nothing more.
    """
    block = bytes(_HEAP_ROOM)
    del block


class Decompressed:
    """The decompressed content of a compressed stream of chunks, as chunks.

    Iterate it once. ``compressed_bytes`` counts the compressed bytes taken
    from ``chunks`` so far, ``decompressed_bytes`` the bytes handed out.
    ``check`` is called between two decompressed chunks, once the consumer
    is done with the first: it may raise to stop the stream (a time-out, a
    stop request, a line limit), which one compressed chunk cannot delay.
    Creating one imports the codec; for zstd without its library, that
    raises :class:`~linetally.CodecUnavailableError`.

    With ``ahead`` (a number of chunks), a thread of its own reads ``chunks``
    and decompresses while the consumer works on the chunks already out, at
    most ``ahead`` of them waiting: decompressing and counting then take two
    cores, as ``zcat | wc -l`` does (the codecs release the GIL while they
    work). That thread ends before the iteration does, however it ends (the
    end of the stream, a failure on either side, :meth:`close`); the
    failures and the attributes are the same as without it. Only for
    ``chunks`` whose reads never wait long (a regular file's): the thread is
    joined, and it can end only between two reads.
    """

    def __init__(
        self,
        codec: str,
        chunks: Iterable[bytes | bytearray],
        *,
        check: Callable[[], None] | None = None,
        size: int | None = None,
        ahead: int = 0,
    ) -> None:
        self.codec = codec
        self.compressed_bytes = 0
        self.decompressed_bytes = 0
        self._spec = _load(codec)
        self._chunks = chunks
        self._check = check
        self._size = size or self._spec.out_size
        self._ahead = _Ahead(ahead) if ahead > 0 else None

    def __iter__(self) -> Iterator[bytes]:
        check = self._check
        ahead = self._ahead
        try:
            if ahead is None:
                chunks: Iterator[bytes] = self._decode()
            else:
                ahead.start(self._decode())
                chunks = iter(ahead)
            for chunk in _first_at_least(self._counted(chunks), FIRST_SIZE):
                yield chunk
                if check is not None:
                    check()
        except Exception as exc:
            self.close()  # the counts are final from here on
            self._annotate(exc)
            raise
        finally:
            self.close()

    def close(self) -> None:
        """Stop the decompressing thread, if any, and wait for it to end.

        Idempotent; a no-op without ``ahead``. Call it when the consumer stops
        early (returning from its loop does not end a generator at once):
        the thread takes no more input once it returns.
        """
        if self._ahead is not None:
            self._ahead.close()

    def _counted(self, chunks: Iterator[bytes]) -> Iterator[bytes]:
        for chunk in chunks:
            self.decompressed_bytes += len(chunk)
            yield chunk

    def _annotate(self, exc: Exception) -> None:
        if getattr(exc, "compressed_bytes", None) is not None:
            return
        exc.compressed_bytes = self.compressed_bytes  # type: ignore[attr-defined]
        exc.decompressed_bytes = self.decompressed_bytes  # type: ignore[attr-defined]
        exc.add_note(
            f"{self.codec} stream: stopped after {self.compressed_bytes:,} compressed bytes "
            f"read, {self.decompressed_bytes:,} bytes decompressed"
        )

    def _decode(self) -> Generator[bytes, None, None]:
        spec = self._spec
        decoder: _Decoder | None = None
        pending = b""  # the start of a next gzip member, too short to check yet
        for chunk in self._chunks:
            self.compressed_bytes += len(chunk)
            data: bytes | bytearray = pending + chunk if pending else chunk
            pending = b""
            while data:
                if decoder is None:
                    if spec.padding:
                        data = data.lstrip(b"\0")
                        if not data:
                            break
                    if spec.magic is not None:
                        if len(data) < len(spec.magic):
                            pending = bytes(data)
                            break
                        if not data.startswith(spec.magic):
                            raise _not_gzip(data)
                    decoder = spec.new()
                out = self._feed(decoder, data)
                data = b""
                while True:
                    if out:
                        yield out
                    if decoder.eof:
                        data = decoder.unused_data
                        decoder = None
                        break
                    if decoder.needs_input:
                        break
                    out = self._feed(decoder, b"")
        if pending:
            raise _not_gzip(pending)
        if decoder is not None:
            raise EOFError("Compressed file ended before the end-of-stream marker was reached")

    def _feed(self, decoder: _Decoder, data: bytes | bytearray) -> bytes:
        try:
            return decoder.decompress(data, self._size)
        except self._spec.foreign as exc:
            error = self._spec.errors[0](str(exc))
            cause = exc
        raise error from cause


class _Ahead:
    """Chunks made by a thread of their own, at most ``depth`` of them waiting for the consumer.

    The thread runs :meth:`start`'s iterator to its end, to its first failure
    (handed to the consumer, who raises it as it is) or until :meth:`close`.
    """

    def __init__(self, depth: int) -> None:
        self._depth = depth
        self._ready: collections.deque[bytes] = collections.deque()
        self._cond = threading.Condition(threading.Lock())
        self._closed = False  # the consumer is gone: make no more
        self._done = False  # the thread made its last chunk
        self._error: BaseException | None = None
        self._thread: threading.Thread | None = None

    def start(self, chunks: Generator[bytes, None, None]) -> None:
        self._thread = threading.Thread(
            target=self._make, args=(chunks,), name="linetally-decompress", daemon=True
        )
        self._thread.start()

    def _make(self, chunks: Generator[bytes, None, None]) -> None:
        cond = self._cond
        ready = self._ready
        try:
            for chunk in chunks:
                with cond:
                    while len(ready) >= self._depth and not self._closed:
                        cond.wait()
                    if self._closed:
                        return
                    ready.append(chunk)
                    if len(ready) == 1:
                        cond.notify()
        except BaseException as exc:  # raised again in the consumer's thread
            self._error = exc
        finally:
            try:
                chunks.close()  # stopped early: the reads end here, in this thread
            finally:
                with cond:
                    self._done = True
                    cond.notify()

    def __iter__(self) -> Iterator[bytes]:
        cond = self._cond
        ready = self._ready
        while True:
            with cond:
                while not ready and not self._done:
                    cond.wait()
                if not ready:
                    break
                chunk = ready.popleft()
                if len(ready) == self._depth - 1:
                    cond.notify()
            yield chunk
        error, self._error = self._error, None
        if error is not None:
            raise error

    def close(self) -> None:
        thread = self._thread
        if thread is None:
            return
        with self._cond:
            self._closed = True
            self._ready.clear()
            self._cond.notify()
        thread.join()
        self._thread = None


def _not_gzip(data: bytes | bytearray) -> Exception:
    import gzip

    return gzip.BadGzipFile(f"Not a gzipped file ({bytes(data[:2])!r})")


def _first_at_least(chunks: Iterator[bytes], n: int) -> Iterator[bytes]:
    """The same chunks, the first ones joined until they make ``n`` bytes (or the end)."""
    head = b""
    for chunk in chunks:
        head += chunk
        if len(head) >= n:
            break
    if head:
        yield head
    yield from chunks
