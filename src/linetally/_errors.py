"""The library's own failure types, and how a file's path is put on any failure."""

from __future__ import annotations

import builtins

__all__ = [
    "CANCELLED_AFTER_FAILURE",
    "BinaryFileError",
    "CodecUnavailableError",
    "LinetallyError",
    "TooManyLines",
    "UnicodeDecodeError",
    "attach_path",
    "describe",
    "expect",
    "expected_errors",
]

CANCELLED_AFTER_FAILURE = "cancelled after a failure"
"""The reason of every file cancelled because another one failed (``on_error="cancel"``)."""


class LinetallyError(Exception):
    """Base class of every failure that linetally itself decides on.

    Failures that come from the operating system or a codec keep their own
    types (FileNotFoundError, UnicodeDecodeError, TimeoutError, ...), so that
    ``except*`` can sort them; this base class covers the rest.
    """

    path: str

    def __init__(self, path: str, message: str) -> None:
        super().__init__(message)
        self.path = path


class TooManyLines(LinetallyError):
    """A file has more lines than the ``max_lines`` limit: a CI gate on file length."""

    def __init__(self, path: str, lines: int, limit: int) -> None:
        super().__init__(path, f"{lines} lines, more than the limit of {limit}")
        self.lines = lines
        self.limit = limit

    def __reduce__(self) -> tuple[object, ...]:
        return (type(self), (self.path, self.lines, self.limit), self.__dict__)


class BinaryFileError(LinetallyError):
    """A file looks binary (a NUL byte near its start) and ``binary="error"`` was asked for."""

    def __init__(self, path: str) -> None:
        super().__init__(path, "binary file (a NUL byte in its first 8 KiB)")

    def __reduce__(self) -> tuple[object, ...]:
        return (type(self), (self.path,), self.__dict__)


class CodecUnavailableError(LinetallyError):
    """A compressed file needs a codec whose library is not installed (zstd before Python 3.14).

    ``codec`` names the format, ``extra`` the package extra that brings the
    library (``pip install 'linetally[zstd]'``).
    """

    def __init__(self, codec: str, extra: str, path: str = "") -> None:
        super().__init__(
            path,
            f"{codec}-compressed, and the {codec} codec is not installed: "
            f"pip install 'linetally[{extra}]'",
        )
        self.codec = codec
        self.extra = extra

    def __reduce__(self) -> tuple[object, ...]:
        return (type(self), (self.codec, self.extra, self.path), self.__dict__)


_EXPECTED: tuple[type[Exception], ...] = (OSError, ValueError, LinetallyError)


def expected_errors() -> tuple[type[Exception], ...]:
    """The exception types that are a file's own failure, not a bug: they become results.

    OSError (and so ``gzip.BadGzipFile`` and bz2's errors), ValueError (decode
    errors), :class:`LinetallyError`, and the error types of the codecs loaded
    so far (EOFError for a truncated stream, ``zlib.error``,
    ``lzma.LZMAError``, zstd's ``ZstdError``), added by :func:`expect`.
    """
    return _EXPECTED


def expect(*types: type[Exception]) -> None:
    """Count ``types`` as per-file failures from now on (a codec adds its errors when loaded)."""
    global _EXPECTED
    _EXPECTED = (*_EXPECTED, *(t for t in types if t not in _EXPECTED))


class UnicodeDecodeError(builtins.UnicodeDecodeError):
    """A decode error that keeps only the bad bytes and a few around them, with their offset.

    ``object`` is that short excerpt (``start`` and ``end`` index it) and
    ``byte_offset`` is the place of the first bad byte in the whole file. It is
    still a :class:`UnicodeDecodeError` (same name, caught by the same
    ``except``); only ``str()`` differs, giving the offset in the file rather
    than a position inside the excerpt.
    """

    byte_offset: int

    def __init__(
        self, encoding: str, excerpt: bytes, start: int, end: int, reason: str, byte_offset: int
    ) -> None:
        super().__init__(encoding, excerpt, start, end, reason)
        self.byte_offset = byte_offset

    def __reduce__(self) -> tuple[object, ...]:
        args = (self.encoding, self.object, self.start, self.end, self.reason, self.byte_offset)
        return (type(self), args, self.__dict__)

    def __str__(self) -> str:
        bad = self.object[self.start : self.end]
        if len(bad) == 1:
            what = f"byte 0x{bad[0]:02x} in position {self.byte_offset}"
        else:
            what = f"bytes in position {self.byte_offset}-{self.byte_offset + len(bad) - 1}"
        return f"{self.encoding!r} codec can't decode {what}: {self.reason}"


def attach_path(exc: BaseException, path: str) -> BaseException:
    """Put ``path`` on ``exc`` as the attribute ``path`` and as a note, once.

    The exception keeps its type, so callers can still write
    ``except* FileNotFoundError``; the note makes the path show in any
    traceback, the attribute makes it available to code.
    """
    if getattr(exc, "path", None) != path or not any(
        n.startswith("file: ") for n in getattr(exc, "__notes__", ())
    ):
        exc.path = path  # type: ignore[attr-defined]
        exc.add_note(f"file: {path!r}")
    if (
        isinstance(exc, OSError)
        and exc.filename is None
        and exc.strerror is not None  # not OSError("message"): its str() would lose it
        and not isinstance(exc, TimeoutError)
    ):
        exc.filename = path
    return exc


def describe(exc: BaseException) -> str:
    """One line saying what went wrong, without repeating the path (shown beside it)."""
    if isinstance(exc, builtins.UnicodeDecodeError):
        where = getattr(exc, "byte_offset", exc.start)
        bad = exc.object[exc.start : exc.end]
        return (
            f"not valid {exc.encoding}: can't decode byte{'s' if len(bad) > 1 else ''} "
            f"{bad.hex(' ')} at byte offset {where} ({exc.reason})"
        )
    if isinstance(exc, OSError) and exc.strerror:
        text = exc.strerror
    else:
        text = str(exc) or type(exc).__name__
    read = getattr(exc, "compressed_bytes", None)
    if isinstance(read, int):
        # Set on failures met while decompressing (see linetally._decompress).
        made = getattr(exc, "decompressed_bytes", None)
        text += f" (after {read:,} compressed bytes, {made:,} bytes decompressed)"
    return text
