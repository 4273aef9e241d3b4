"""-z with a decompressing thread: the same chunks, counts and failures, and no thread left."""

from __future__ import annotations

import gzip
import importlib.util
import itertools
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import linetally
from linetally import Status, _decompress, _reader
from linetally._counting import NUMPY_MIN_CHUNK, LineCounter, count_lines
from linetally._decompress import Decompressed, detect
from linetally._reader import Job, ReadSettings, Stopped, count_file

from .test_decompress import (
    CODECS,
    MIXED,
    _modules_after,
    bombs,  # noqa: F401 - the fixture, shared
    compress,
    gzip_decoder,  # noqa: F401 - the fixture, shared
    test_decompressed_content_is_sniffed_for_binary_and_bom,
    test_each_codec_counts_as_the_uncompressed_file,
    test_encoding_errors_give_the_offset_in_the_decompressed_content,
    test_truncated_and_corrupt_archives_fail_with_the_codecs_own_types,
)

THREAD = "linetally-decompress"


def _decompressing() -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.name == THREAD]


@pytest.fixture
def always_ahead(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Every compressed file, however small and whatever its codec, decompressed in a
    thread of its own."""
    monkeypatch.setattr(_reader, "_AHEAD_MIN", 0)
    monkeypatch.setattr(_reader, "_AHEAD_CODECS", frozenset(CODECS))
    yield
    assert not _decompressing()


# -- the stream -----------------------------------------------------------------------------


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    raw=st.binary(max_size=3000)
    | st.lists(st.sampled_from([b"\n", b"\r", b"\r\n", b"ab"])).map(b"".join),
    codec=st.sampled_from(CODECS),
    members=st.integers(1, 3),
    cuts=st.lists(st.integers(0, 10_000), max_size=8),
    ahead=st.integers(1, 3),
)
def test_same_chunks_and_counts_with_a_decompressing_thread(
    raw: bytes, codec: str, members: int, cuts: list[int], ahead: int
) -> None:
    pieces = [raw[i * len(raw) // members : (i + 1) * len(raw) // members] for i in range(members)]
    data = b"".join(compress(codec, p) for p in pieces)
    bounds = sorted({0, len(data), *(c % (len(data) + 1) for c in cuts)})
    chunks = [data[a:b] for a, b in itertools.pairwise(bounds)]
    _, again = detect(iter(chunks))
    alone = list(Decompressed(codec, list(chunks), size=257))
    stream = Decompressed(codec, again, size=257, ahead=ahead)
    out = list(stream)
    assert out == alone
    assert (stream.compressed_bytes, stream.decompressed_bytes) == (len(data), len(raw))
    counter = LineCounter()
    for chunk in out:
        counter.feed(chunk)
    assert counter.lines == count_lines(raw)
    assert not _decompressing()


def _members(n: int) -> tuple[list[bytes], list[int]]:
    """``n`` gzip members of one full output chunk each, and a list that counts their reads."""
    member = gzip.compress(b"\n" * _decompress.OUT_SIZE, mtime=0)
    return [member] * n, []


def _reading(chunks: list[bytes], reads: list[int]) -> Iterator[bytes]:
    for chunk in chunks:
        reads.append(len(chunk))
        yield chunk


def test_the_thread_decompresses_at_most_ahead_chunks_ahead() -> None:
    chunks, reads = _members(64)
    stream = Decompressed("gzip", _reading(chunks, reads), ahead=3)
    it = iter(stream)
    next(it)
    time.sleep(0.3)  # the thread fills the queue, then waits
    # One chunk out, three waiting, one made and waiting for room: no more read.
    assert len(reads) == 5
    assert stream.decompressed_bytes == _decompress.OUT_SIZE
    assert sum(1 for _ in it) == 63
    assert len(reads) == 64
    assert not _decompressing()


def test_close_stops_the_thread_and_its_reads() -> None:
    chunks, reads = _members(64)
    stream = Decompressed("gzip", _reading(chunks, reads), ahead=2)
    it = iter(stream)
    next(it)
    assert _decompressing()
    stream.close()
    assert not _decompressing()
    done = len(reads)
    assert done <= 4
    stream.close()  # again: nothing to do
    it.close()
    assert len(reads) == done


def test_codec_failure_is_raised_as_it_is_with_how_far_it_got() -> None:
    data = compress("xz", MIXED)
    cut = data[: len(data) // 2]
    alone = Decompressed("xz", [cut], size=4096)
    with pytest.raises(EOFError) as expected:
        list(alone)
    stream = Decompressed("xz", [cut], size=4096, ahead=2)
    with pytest.raises(EOFError) as info:
        list(stream)
    assert type(info.value) is type(expected.value)
    assert info.value.compressed_bytes == len(cut)  # type: ignore[attr-defined]
    assert info.value.decompressed_bytes == alone.decompressed_bytes  # type: ignore[attr-defined]
    assert info.value.__notes__ == expected.value.__notes__
    assert not _decompressing()


def test_a_failing_read_is_raised_as_it_is() -> None:
    def failing() -> Iterator[bytes]:
        yield compress("gzip", MIXED)[:100]
        raise PermissionError(13, "Permission denied")

    stream = Decompressed("gzip", failing(), ahead=2)
    with pytest.raises(PermissionError) as info:
        list(stream)
    assert info.value.compressed_bytes == 100  # type: ignore[attr-defined]
    assert not _decompressing()


def test_check_failure_stops_the_thread_too() -> None:
    chunks, reads = _members(64)
    seen: list[int] = []

    def check() -> None:
        seen.append(1)
        if len(seen) == 3:
            raise TimeoutError("took longer than 1 s")

    stream = Decompressed("gzip", _reading(chunks, reads), check=check, ahead=2)
    with pytest.raises(TimeoutError) as info:
        for _ in stream:
            pass
    assert not _decompressing()
    assert stream.decompressed_bytes == 3 * _decompress.OUT_SIZE
    assert info.value.decompressed_bytes == 3 * _decompress.OUT_SIZE  # type: ignore[attr-defined]
    assert info.value.compressed_bytes == stream.compressed_bytes  # type: ignore[attr-defined]
    assert len(reads) < 64


def test_ctrl_c_in_the_consumer_stops_the_thread() -> None:
    chunks, reads = _members(64)

    def check() -> None:
        raise KeyboardInterrupt

    stream = Decompressed("gzip", _reading(chunks, reads), check=check, ahead=2)
    with pytest.raises(KeyboardInterrupt) as info:
        list(stream)
    assert not hasattr(info.value, "compressed_bytes")  # as without the thread
    assert not _decompressing()
    assert len(reads) < 64


# -- files ----------------------------------------------------------------------------------


@pytest.mark.usefixtures("always_ahead", "gzip_decoder")
@pytest.mark.parametrize("codec", CODECS)
def test_each_codec_counts_as_the_uncompressed_file_ahead(tmp_path: Path, codec: str) -> None:
    test_each_codec_counts_as_the_uncompressed_file(tmp_path, codec)


@pytest.mark.usefixtures("always_ahead", "gzip_decoder")
def test_truncated_and_corrupt_archives_ahead(tmp_path: Path) -> None:
    test_truncated_and_corrupt_archives_fail_with_the_codecs_own_types(tmp_path)


@pytest.mark.usefixtures("always_ahead")
def test_binary_and_bom_sniffed_on_the_first_chunk_ahead(tmp_path: Path) -> None:
    test_decompressed_content_is_sniffed_for_binary_and_bom(tmp_path)


@pytest.mark.usefixtures("always_ahead")
def test_encoding_errors_ahead(tmp_path: Path) -> None:
    test_encoding_errors_give_the_offset_in_the_decompressed_content(tmp_path)


@pytest.mark.usefixtures("always_ahead")
def test_a_binary_file_stops_the_thread_at_its_first_chunk(tmp_path: Path) -> None:
    (tmp_path / "zeros.gz").write_bytes(gzip.compress(b"\0" * (64 << 20), mtime=0))
    job = Job(0, str(tmp_path / "zeros.gz"))
    skipped = count_file(job, ReadSettings(decompress=True))
    assert isinstance(skipped, _reader.Skip) and skipped.reason == "binary"
    assert job.decompressed is not None and job.decompressed < 64 << 20


@pytest.mark.usefixtures("always_ahead")
def test_max_lines_stops_the_thread(bombs: Path) -> None:  # noqa: F811
    result = linetally.count([str(bombs / "ten-gib.gz")], decompress=True, max_lines=1000)
    (record,) = result.results
    assert record.status is Status.ERROR
    assert type(record.error).__name__ == "TooManyLines"
    assert record.error.decompressed_bytes <= 2 * _decompress.OUT_SIZE  # type: ignore[union-attr]


@pytest.mark.usefixtures("always_ahead")
def test_stop_request_stops_the_thread(bombs: Path) -> None:  # noqa: F811
    job = Job(0, str(bombs / "ten-gib.gz"))
    outcome: list[object] = []

    def read() -> None:
        try:
            outcome.append(count_file(job, ReadSettings(decompress=True)))
        except Stopped as exc:
            outcome.append(exc)
            outcome.append(list(_decompressing()))

    reader = threading.Thread(target=read)
    reader.start()
    while not job.lines and reader.is_alive():
        reader.join(0.01)
    assert _decompressing()  # decompressed in a thread of its own
    job.stop = True
    reader.join(60)
    stopped, left = outcome
    assert isinstance(stopped, Stopped)
    assert left == []
    assert not _decompressing()


# -- counting a decompressed stream -----------------------------------------------------------


@pytest.mark.parametrize("numpy_from", [0, NUMPY_MIN_CHUNK, 3 * NUMPY_MIN_CHUNK, 1 << 40])
def test_numpy_from_counts_the_same(numpy_from: int) -> None:
    data = b"ab\r\ncd\r\r\n\n\re" * (NUMPY_MIN_CHUNK // 4)
    counter = LineCounter(numpy_from=numpy_from)
    step = NUMPY_MIN_CHUNK + 3  # chunks big enough for numpy, CR LF pairs cut in two
    for i in range(0, len(data), step):
        counter.feed(data[i : i + step])
    assert counter.lines == count_lines(data)


def test_a_decompressed_stream_is_counted_without_numpy(tmp_path: Path) -> None:
    data = b"".join(b"line %d\n" % i for i in range(400_000))  # 5 MB, 7 chunks
    (tmp_path / "big.gz").write_bytes(gzip.compress(data, mtime=0))
    (tmp_path / "big.txt").write_bytes(data)
    for without in ((), ("stringzilla",)):
        gz = _modules_after("-z", "--format", "json", "big.gz", cwd=tmp_path, without=without)
        assert "numpy" not in gz
    # A big regular file: with numpy only when stringzilla (which counts faster) is missing.
    txt = _modules_after("--format", "json", "big.txt", cwd=tmp_path, without=("stringzilla",))
    assert "numpy" in txt
    if importlib.util.find_spec("stringzilla") is not None:
        assert "numpy" not in _modules_after("--format", "json", "big.txt", cwd=tmp_path)


@pytest.mark.parametrize("codec", CODECS)
def test_only_slow_codecs_get_a_decompressing_thread(tmp_path: Path, codec: str) -> None:
    """bzip2 and xz decode slowly enough for counting beside them to pay; gzip and zstd
    are decompressed in the reading thread (two threads would wait on each other)."""
    import random

    rng = random.Random(7)
    text = b"".join(b"%d %s\n" % (i, rng.randbytes(20).hex().encode()) for i in range(40_000))
    path = tmp_path / f"big.{codec}"
    path.write_bytes(compress(codec, text))
    assert path.stat().st_size >= _reader._AHEAD_MIN
    seen: list[bool] = []
    real = Decompressed.__iter__

    def spy(self: Decompressed) -> Iterator[bytes]:
        for chunk in real(self):
            seen.append(bool(_decompressing()))
            yield chunk

    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(Decompressed, "__iter__", spy)
        job = Job(0, str(path))
        assert count_file(job, ReadSettings(decompress=True)) == 40_000
    assert seen and any(seen) == (codec in ("bzip2", "xz", "lzma"))
    assert not _decompressing()
