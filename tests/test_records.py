"""Failures as plain records and back: every type linetally produces keeps what it carries."""

from __future__ import annotations

import bz2
import errno
import gzip
import lzma
import pickle
import zlib

import pytest
from hypothesis import given
from hypothesis import strategies as st

from linetally._errors import BinaryFileError, LinetallyError, TooManyLines, attach_path, describe
from linetally._reader import _at_offset
from linetally._records import from_record, to_record


def _decode_error() -> UnicodeDecodeError:
    try:
        b"abc\xe5\xe6xyz".decode("utf-8")
    except UnicodeDecodeError as exc:
        return _at_offset(exc, 1000)
    raise AssertionError("decoded")


def _bz2_error() -> OSError:
    try:
        bz2.decompress(b"BZh9 not really")
    except OSError as exc:
        return exc
    raise AssertionError("decompressed")


FAILURES: list[Exception] = [
    FileNotFoundError(errno.ENOENT, "No such file or directory", "a/b.txt"),
    IsADirectoryError(errno.EISDIR, "Is a directory", "src"),
    NotADirectoryError(errno.ENOTDIR, "Not a directory", "a.txt/b"),
    PermissionError(errno.EACCES, "Permission denied", "secret"),
    OSError(errno.ENAMETOOLONG, "File name too long", "x" * 300),
    OSError(errno.ELOOP, "symlink loop", "loop"),
    OSError(errno.EBADF, "standard input is closed", "-"),
    TimeoutError("took longer than 1 s"),
    _decode_error(),
    TooManyLines("big.py", 501, 500),
    BinaryFileError("image.png"),
    LinetallyError("x", "something linetally decided"),
    EOFError("Compressed file ended before the end-of-stream marker was reached"),
    zlib.error("Error -3 while decompressing data: invalid stored block lengths"),
    gzip.BadGzipFile("Not a gzipped file (b'ab')"),
    lzma.LZMAError("Input format not supported by decoder"),
    _bz2_error(),
    ValueError("a plain value error"),
]


def _same(a: BaseException, b: BaseException) -> None:
    assert type(b) is type(a)
    assert str(b) == str(a)
    assert b.args == a.args
    assert describe(b) == describe(a)
    assert {k: v for k, v in vars(b).items()} == {k: v for k, v in vars(a).items()}
    if isinstance(a, OSError):
        assert isinstance(b, OSError)
        assert (b.errno, b.strerror, b.filename, b.filename2) == (
            a.errno,
            a.strerror,
            a.filename,
            a.filename2,
        )


@pytest.mark.parametrize("exc", FAILURES, ids=lambda e: type(e).__name__)
def test_every_failure_round_trips_through_pickle(exc: Exception) -> None:
    import distributed  # noqa: F401  - changes how some exceptions pickle; records must not care

    record = pickle.loads(pickle.dumps(to_record(exc)))
    _same(exc, from_record(record))


def test_a_decode_error_keeps_its_offset_and_bad_bytes() -> None:
    back = from_record(to_record(_decode_error()))
    assert isinstance(back, UnicodeDecodeError)
    assert back.byte_offset == 995  # type: ignore[attr-defined]
    assert back.object[back.start : back.end] == b"\xe5"
    assert back.__notes__ == ["at byte offset 995"]


def test_too_many_lines_keeps_its_count_and_limit() -> None:
    back = from_record(to_record(TooManyLines("big.py", 501, 500)))
    assert isinstance(back, TooManyLines)
    assert (back.path, back.lines, back.limit) == ("big.py", 501, 500)


def test_notes_and_path_survive_and_attach_path_adds_none_twice() -> None:
    exc = attach_path(FileNotFoundError(errno.ENOENT, "No such file or directory"), "a.txt")
    back = from_record(to_record(exc))
    assert back.__notes__ == ["file: 'a.txt'"]
    attach_path(back, "a.txt")
    assert back.__notes__ == ["file: 'a.txt'"]
    assert back.path == "a.txt"  # type: ignore[attr-defined]


def test_a_record_is_plain_data() -> None:
    plain = (str, int, bytes, type(None), list, dict, bool, float)

    def check(value: object) -> None:
        assert isinstance(value, plain), value
        if isinstance(value, list):
            for v in value:
                check(v)
        if isinstance(value, dict):
            for k, v in value.items():
                assert isinstance(k, str)
                check(v)

    for exc in FAILURES:
        check(to_record(exc))


class _Custom(OSError):
    """Stands for a failure type of a library the workers have and the client does not."""


class _Odd(Exception):
    pass


def test_an_unknown_type_becomes_the_closest_builtin_with_a_note() -> None:
    record = to_record(_Custom(errno.EIO, "Input/output error", "obj"))
    record["module"] = "somelib.errors"  # not imported here: never imported on the client
    back = from_record(record)
    assert type(back) is OSError
    assert (back.errno, back.strerror, back.filename) == (errno.EIO, "Input/output error", "obj")
    assert back.remote_type == "somelib.errors._Custom"  # type: ignore[attr-defined]
    assert back.__notes__ == ["raised as somelib.errors._Custom (not importable here)"]

    record = to_record(_Odd("odd", 3))
    record["module"] = "somelib"
    back = from_record(record)
    assert type(back) is Exception
    assert back.args == ("odd", 3)


@given(
    st.sampled_from([errno.ENOENT, errno.EACCES, errno.EISDIR, errno.EIO, errno.ENAMETOOLONG]),
    st.text(),
    st.text() | st.binary() | st.none(),
)
def test_os_errors_round_trip(code: int, strerror: str, filename: str | bytes | None) -> None:
    exc = OSError(code, strerror, filename)
    _same(exc, from_record(pickle.loads(pickle.dumps(to_record(exc)))))


@given(st.binary(min_size=1, max_size=64), st.integers(0, 10**12))
def test_decode_errors_round_trip(data: bytes, offset: int) -> None:
    try:
        (data + b"\xff").decode("utf-8")
    except UnicodeDecodeError as raw:
        exc = _at_offset(raw, offset + len(data) + 1)
    _same(exc, from_record(pickle.loads(pickle.dumps(to_record(exc)))))
