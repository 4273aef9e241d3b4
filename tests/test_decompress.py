"""-z/--decompress: gzip, bzip2, xz, lzma and zstd files counted as their decompressed content."""

from __future__ import annotations

import bz2
import csv
import gzip
import io
import itertools
import json
import lzma
import subprocess
import sys
import threading
import zlib
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import linetally
from linetally import CodecUnavailableError, Status, _decompress
from linetally._counting import count_lines
from linetally._decompress import Decompressed, detect, sniff
from linetally._output import json_record, json_text
from linetally._reader import Job, ReadSettings, Stopped, count_file

from .conftest import oracle, run_cli

try:
    from compression import zstd  # type: ignore[import-not-found, unused-ignore]
except ImportError:
    from backports import zstd  # type: ignore[no-redef, unused-ignore]

CODECS = ("gzip", "bzip2", "xz", "lzma", "zstd")
SUFFIX = {"gzip": ".gz", "bzip2": ".bz2", "xz": ".xz", "lzma": ".lzma", "zstd": ".zst"}

MIXED = (
    b"".join(b"line %d%s" % (i, (b"\n", b"\r\n", b"\r", b"\n\n")[i % 4]) for i in range(20_000))
    + b"last line, unterminated \xe5\xff"
)


def compress(codec: str, data: bytes) -> bytes:
    """``data`` compressed with ``codec``'s own library, as one member, stream or frame."""
    if codec == "gzip":
        return gzip.compress(data, mtime=0)
    if codec == "bzip2":
        return bz2.compress(data)
    if codec == "xz":
        return lzma.compress(data, preset=1)  # presets differ in speed, not in format
    if codec == "lzma":
        return lzma.compress(data, format=lzma.FORMAT_ALONE, preset=1)
    assert codec == "zstd"
    return bytes(zstd.compress(data))


@pytest.fixture(params=["isal", "zlib"])
def gzip_decoder(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    """Run a test with each gzip decoder: ISA-L's, and zlib (what runs without the extra)."""
    accelerators = _decompress._GZIP_ACCELERATORS if request.param == "isal" else ()
    monkeypatch.setattr(_decompress, "_GZIP_ACCELERATORS", accelerators)
    monkeypatch.setattr(_decompress, "_loaded", {})
    return str(request.param)


def decompressed(codec: str, chunks: list[bytes], **kw: Any) -> bytes:
    return b"".join(Decompressed(codec, chunks, **kw))


def one(path: Path | str, **options: Any) -> linetally.FileResult:
    (result,) = linetally.count([str(path)], **options).results
    return result


# -- recognising a format -------------------------------------------------------------


@pytest.mark.parametrize("codec", CODECS)
def test_sniff_knows_each_codec_by_its_magic(codec: str) -> None:
    assert sniff(compress(codec, MIXED)[:16]) == codec
    assert sniff(compress(codec, b"")[:16]) == codec


def test_sniff_zstd_starting_with_a_skippable_frame() -> None:
    skippable = (0x184D2A5E).to_bytes(4, "little") + (3).to_bytes(4, "little") + b"abc"
    assert sniff(skippable + compress("zstd", b"x\n")) == "zstd"


@pytest.mark.parametrize(
    "head",
    [
        b"",
        b"\x1f",
        b"plain text\n",
        b"BZh9 is how a bzip2 file starts, but not this one\n",
        b"]\x00\x00\x80\x00 almost an lzma header",
        b"\xfd7zX",
        MIXED[:16],
        "\ufeffUTF-8 with a BOM".encode(),
    ],
)
def test_sniff_leaves_text_and_partial_magic_alone(head: bytes) -> None:
    assert sniff(head) is None


def test_detect_gives_back_every_chunk_even_tiny_ones() -> None:
    data = compress("gzip", MIXED)
    codec, chunks = detect(iter([data[:1], data[1:3], data[3:20], data[20:]]))
    assert codec == "gzip"
    assert b"".join(chunks) == data
    codec, chunks = detect(iter([b"ab", b"c"]))
    assert (codec, b"".join(chunks)) == (None, b"abc")
    codec, chunks = detect(iter([]))
    assert (codec, list(chunks)) == (None, [])


# -- decompressing ----------------------------------------------------------------------


@pytest.mark.usefixtures("gzip_decoder")
@pytest.mark.parametrize("codec", CODECS)
def test_every_member_stream_and_frame_is_decompressed(codec: str) -> None:
    parts = [MIXED[:7001], b"", MIXED[7001:] + b"\r", b"\nstarts with the LF of a CRLF\n"]
    data = b"".join(compress(codec, part) for part in parts)
    assert decompressed(codec, [data]) == b"".join(parts)
    tiny = [data[i : i + 1] for i in range(len(data))]  # magic bytes split across chunks
    assert decompressed(codec, tiny) == b"".join(parts)


@pytest.mark.usefixtures("gzip_decoder")
@pytest.mark.parametrize("codec", ["gzip", "xz"])
def test_nul_padding_after_gzip_members_and_xz_streams(codec: str) -> None:
    data = compress(codec, b"a\n") + b"\0" * 8 + compress(codec, b"b\n") + b"\0" * 4
    assert decompressed(codec, [data[:5], data[5:]]) == b"a\nb\n"


def test_output_chunks_are_bounded() -> None:
    data = compress("zstd", b"\n" * (8 << 20))
    sizes = [len(c) for c in Decompressed("zstd", [data], size=1 << 16)]
    assert sum(sizes) == 8 << 20
    assert max(sizes) == 1 << 16


def test_zstd_makes_smaller_chunks_than_the_others() -> None:
    """zstd's chunks are counted while still in the CPU's cache; the others' are OUT_SIZE."""
    for codec, most in (("zstd", _decompress._ZSTD_OUT), ("gzip", _decompress.OUT_SIZE)):
        data = compress(codec, b"\n" * (4 << 20))
        sizes = [len(c) for c in Decompressed(codec, [data])]
        assert sum(sizes) == 4 << 20
        assert max(sizes) == most


def test_first_chunk_is_long_enough_to_sniff() -> None:
    data = compress("gzip", MIXED)
    chunks = list(Decompressed("gzip", [data[i : i + 50] for i in range(0, len(data), 50)]))
    assert len(chunks[0]) >= _decompress.FIRST_SIZE
    assert b"".join(chunks) == MIXED


def test_check_runs_between_chunks_and_stops_the_stream() -> None:
    data = compress("zstd", b"\n" * (64 << 20))
    seen: list[int] = []
    stream = Decompressed("zstd", [data], check=lambda: seen.append(1) or _stop_after(seen, 3))
    with pytest.raises(TimeoutError) as info:
        for _ in stream:
            pass
    assert len(seen) == 3
    chunk = _decompress._load("zstd").out_size  # zstd's chunks are smaller than OUT_SIZE
    assert chunk <= _decompress.OUT_SIZE
    assert stream.decompressed_bytes == 3 * chunk
    assert info.value.decompressed_bytes == 3 * chunk  # type: ignore[attr-defined]
    assert info.value.compressed_bytes == len(data)  # type: ignore[attr-defined]


def _stop_after(seen: list[int], n: int) -> None:
    if len(seen) >= n:
        raise TimeoutError("took longer than 1 s")


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    raw=st.binary(max_size=3000)
    | st.lists(st.sampled_from([b"\n", b"\r", b"\r\n", b"ab"])).map(b"".join),
    codec=st.sampled_from(CODECS),
    members=st.integers(1, 3),
    cuts=st.lists(st.integers(0, 10_000), max_size=8),
)
def test_random_bytes_compressed_and_randomly_chunked_count_as_the_raw_bytes(
    raw: bytes, codec: str, members: int, cuts: list[int]
) -> None:
    pieces = [raw[i * len(raw) // members : (i + 1) * len(raw) // members] for i in range(members)]
    data = b"".join(compress(codec, p) for p in pieces)
    bounds = sorted({0, len(data), *(c % (len(data) + 1) for c in cuts)})
    chunks = [data[a:b] for a, b in itertools.pairwise(bounds)]
    codec_seen, again = detect(iter(chunks))
    assert codec_seen == codec
    stream = Decompressed(codec, again, size=257)
    out = list(stream)
    assert b"".join(out) == raw
    assert (stream.compressed_bytes, stream.decompressed_bytes) == (len(data), len(raw))
    counter = linetally._counting.LineCounter()
    for chunk in out:
        counter.feed(chunk)
    assert counter.lines == count_lines(raw)


# -- counting files -----------------------------------------------------------------------


@pytest.mark.usefixtures("gzip_decoder")
@pytest.mark.parametrize("codec", CODECS)
def test_each_codec_counts_as_the_uncompressed_file(tmp_path: Path, codec: str) -> None:
    plain = tmp_path / "mixed.txt"
    plain.write_bytes(MIXED)
    packed = tmp_path / f"mixed.txt{SUFFIX[codec]}"
    packed.write_bytes(compress(codec, MIXED))
    result = one(packed, decompress=True)
    assert result.status is Status.OK
    assert result.lines == oracle(plain) == one(plain).lines
    assert result.bytes == packed.stat().st_size  # the size on disk
    assert (result.codec, result.decompressed_bytes) == (codec, len(MIXED))
    plain_again = one(plain, decompress=True)
    assert (plain_again.lines, plain_again.codec, plain_again.decompressed_bytes) == (
        result.lines,
        None,
        None,
    )


def test_big_file_in_chunks_and_processes(tmp_path: Path) -> None:
    raw = MIXED * 16  # 3.5 MB: several read chunks and decompressed chunks
    for codec in CODECS:
        (tmp_path / f"big{SUFFIX[codec]}").write_bytes(compress(codec, raw))
    # Enough small files for the counting processes to start, compressed in every way.
    for i in range(600):
        codec = CODECS[i % len(CODECS)]
        (tmp_path / f"small{i:03}{SUFFIX[codec]}").write_bytes(compress(codec, MIXED[: i * 7]))
    (tmp_path / "small999.gz").write_bytes(compress("gzip", MIXED)[:-9])  # truncated
    paths = sorted(str(p) for p in tmp_path.iterdir())
    in_threads = linetally.count(paths, decompress=True, processes=0)
    in_processes = linetally.count(paths, decompress=True, processes=2)
    expected = {p: count_lines(MIXED[: int(Path(p).name[5:8]) * 7]) for p in paths if "small" in p}
    expected[str(tmp_path / "small999.gz")] = None  # type: ignore[assignment]
    for report in (in_threads, in_processes):
        got = {r.path: r.lines for r in report.results}
        for codec in CODECS:
            assert got.pop(str(tmp_path / f"big{SUFFIX[codec]}")) == count_lines(raw)
        assert got == expected
    assert _comparable(in_threads) == _comparable(in_processes)
    bad = in_processes.results[-1]
    assert isinstance(bad.error, EOFError)
    assert bad.error.compressed_bytes == (tmp_path / "small999.gz").stat().st_size  # type: ignore[attr-defined]
    assert any("compressed bytes read" in n for n in bad.error.__notes__)


def _comparable(report: linetally.Report) -> list[tuple[Any, ...]]:
    return [
        (r.path, r.status, r.lines, r.bytes, r.codec, r.decompressed_bytes, type(r.error).__name__)
        for r in report.results
    ]


def test_magic_beats_suffix(tmp_path: Path) -> None:
    (tmp_path / "really-gzip.txt").write_bytes(compress("gzip", b"a\nb\nc\n"))
    (tmp_path / "really-text.gz").write_bytes(b"a\nb\n")
    report = linetally.count(
        [str(tmp_path / "really-gzip.txt"), str(tmp_path / "really-text.gz")], decompress=True
    )
    gz, text = report.results
    assert (gz.lines, gz.codec, gz.decompressed_bytes) == (3, "gzip", 6)
    assert (text.lines, text.codec, text.decompressed_bytes) == (2, None, None)


def test_without_decompress_nothing_changes(tmp_path: Path) -> None:
    (tmp_path / "a.gz").write_bytes(compress("gzip", b"a\nb\n"))
    result = one(tmp_path / "a.gz")
    assert (result.status, result.reason, result.codec) == (Status.SKIPPED, "binary", None)


def test_empty_file_and_compressed_empty_content(tmp_path: Path) -> None:
    (tmp_path / "empty.gz").write_bytes(b"")
    result = one(tmp_path / "empty.gz", decompress=True)
    assert (result.status, result.lines, result.bytes, result.codec) == (Status.OK, 0, 0, None)
    for codec in CODECS:
        path = tmp_path / f"nothing{SUFFIX[codec]}"
        path.write_bytes(compress(codec, b""))
        result = one(path, decompress=True)
        assert (result.status, result.lines, result.codec, result.decompressed_bytes) == (
            Status.OK,
            0,
            codec,
            0,
        )
        assert result.bytes == path.stat().st_size


def test_decompressed_content_is_sniffed_for_binary_and_bom(tmp_path: Path) -> None:
    (tmp_path / "zeros.gz").write_bytes(compress("gzip", b"\0" * 100_000))
    (tmp_path / "utf16.zst").write_bytes(compress("zstd", "a\nb\nc".encode("utf-16")))
    zeros = one(tmp_path / "zeros.gz", decompress=True)
    assert (zeros.status, zeros.reason, zeros.codec) == (Status.SKIPPED, "binary", "gzip")
    assert zeros.bytes == (tmp_path / "zeros.gz").stat().st_size
    assert one(tmp_path / "zeros.gz", decompress=True, binary="count").lines == 1
    assert one(tmp_path / "utf16.zst", decompress=True).lines == 3


def test_encoding_errors_give_the_offset_in_the_decompressed_content(tmp_path: Path) -> None:
    (tmp_path / "latin1.xz").write_bytes(compress("xz", b"ok\n" * 1000 + b"caf\xe9\n"))
    result = one(tmp_path / "latin1.xz", decompress=True, encoding="utf-8")
    assert isinstance(result.error, UnicodeDecodeError)
    assert result.error.byte_offset == 3003  # type: ignore[attr-defined]


def test_standard_input(tmp_path: Path) -> None:
    data = compress("bzip2", MIXED)
    ran = run_cli("-z", "--format", "jsonl", "-", input=data, cwd=tmp_path)
    assert ran.code == 0, ran.err
    record = json.loads(ran.out)
    assert (record["lines"], record["bytes"], record["codec"]) == (
        count_lines(MIXED),
        len(data),
        "bzip2",
    )
    assert record["decompressed_bytes"] == len(MIXED)
    assert ran.err == ""


# -- failures -------------------------------------------------------------------------------


def _corrupt(data: bytes, at: int, junk: bytes) -> bytes:
    return data[:at] + junk + data[at + len(junk) :]


@pytest.mark.usefixtures("gzip_decoder")
def test_truncated_and_corrupt_archives_fail_with_the_codecs_own_types(tmp_path: Path) -> None:
    files: dict[str, bytes] = {}
    for codec in CODECS:
        data = compress(codec, MIXED)
        files[f"truncated{SUFFIX[codec]}"] = data[: len(data) * 2 // 3]
    gz = compress("gzip", MIXED)
    files["bad-crc.gz"] = _corrupt(gz, len(gz) - 8, bytes([gz[-8] ^ 1]))
    files["trailing-junk.gz"] = gz + b"junk"
    bz = compress("bzip2", MIXED)
    files["corrupt.bz2"] = _corrupt(bz, len(bz) // 2, b"\0" * 16)
    xz = compress("xz", MIXED)
    files["corrupt.xz"] = _corrupt(xz, len(xz) // 2, b"\0" * 16)
    lz = compress("lzma", MIXED)
    files["corrupt.lzma"] = _corrupt(lz, len(lz) // 2, b"\0" * 16)
    zs = compress("zstd", MIXED)
    files["corrupt.zst"] = _corrupt(zs, len(zs) // 2, b"\0" * 16)
    for name, data in files.items():
        (tmp_path / name).write_bytes(data)
    paths = [str(tmp_path / name) for name in files]
    report = linetally.count(paths, decompress=True)
    assert report.totals.errors == len(files)
    with pytest.RaisesGroup(
        *[EOFError] * len(CODECS),
        zlib.error,
        gzip.BadGzipFile,
        OSError,
        lzma.LZMAError,
        lzma.LZMAError,
        zstd.ZstdError,
    ) as info:
        report.raise_for_errors()
    for exc, path, data in zip(info.value.exceptions, paths, files.values(), strict=True):
        assert exc.path == path  # type: ignore[attr-defined]
        assert 0 < exc.compressed_bytes <= len(data)  # type: ignore[attr-defined]
        assert exc.decompressed_bytes <= len(MIXED)  # type: ignore[attr-defined]
        assert any(n.endswith("bytes decompressed") for n in exc.__notes__)
    truncated = report.results[0].error
    assert isinstance(truncated, EOFError)
    assert truncated.compressed_bytes == len(files["truncated.gz"])  # type: ignore[attr-defined]
    assert report.results[0].codec == "gzip"
    assert report.results[0].bytes is None


@pytest.mark.usefixtures("gzip_decoder")
def test_a_failure_made_from_a_bare_message_keeps_it_with_the_path_attached(
    tmp_path: Path,
) -> None:
    # gzip.BadGzipFile("Not a gzipped file ...") is an OSError without errno or strerror:
    # given a filename, its str() would read "[Errno None] None: 'path'"
    path = tmp_path / "trailing-junk.gz"
    path.write_bytes(compress("gzip", MIXED) + b"junk")
    error = one(path, decompress=True).error
    assert isinstance(error, OSError)
    assert error.path == str(path)  # type: ignore[attr-defined]
    assert "Errno None" not in str(error)
    assert str(error).startswith(str(error.args[0]))
    r = run_cli("-z", "--format", "json", "--no-progress", str(path))
    assert r.code == 1
    message = json.loads(r.out)["files"][0]["error"]["message"]
    assert "None" not in message
    assert message.endswith(" bytes decompressed)")
    assert f"{path}: {message}" in r.err


def test_missing_zstd_library_is_a_clear_error_naming_the_extra(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(_decompress, "_loaded", {})
    monkeypatch.setitem(sys.modules, "compression.zstd", None)
    monkeypatch.setitem(sys.modules, "backports.zstd", None)
    (tmp_path / "a.zst").write_bytes(compress("zstd", b"x\n"))
    (tmp_path / "b.gz").write_bytes(compress("gzip", b"x\n"))
    report = linetally.count([str(tmp_path / "a.zst"), str(tmp_path / "b.gz")], decompress=True)
    zst, gz = report.results
    assert gz.lines == 1
    assert isinstance(zst.error, CodecUnavailableError)
    assert isinstance(zst.error, linetally.LinetallyError)
    assert (zst.error.codec, zst.error.extra) == ("zstd", "zstd")
    assert "pip install 'linetally[zstd]'" in str(zst.error)
    assert zst.error.path == str(tmp_path / "a.zst")
    assert zst.codec == "zstd"


# -- bombs and endless streams ----------------------------------------------------------------

GIB = 1 << 30


@pytest.fixture(scope="module")
def bombs(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """1 GiB of newlines: as gzip (16 members, 1 MB), as one zstd frame (32 KB); and 10 GiB."""
    folder = tmp_path_factory.mktemp("bombs")
    member = gzip.compress(b"\n" * (64 << 20), compresslevel=9, mtime=0)
    (folder / "newlines.gz").write_bytes(member * 16)
    (folder / "ten-gib.gz").write_bytes(member * 160)
    c = zstd.ZstdCompressor()
    block = b"\n" * (1 << 20)
    with open(folder / "newlines.zst", "wb") as f:
        for _ in range(1024):
            f.write(c.compress(block))
        f.write(c.flush())
    return folder


_LAUNCHER = """\
import os, sys
pid = os.posix_spawn(sys.executable, [sys.executable, "-m", "linetally", *sys.argv[1:]], os.environ)
_, status, usage = os.wait4(pid, 0)
sys.stderr.write(f"\\npeak-rss-kib={usage.ru_maxrss}\\n")
sys.exit(os.waitstatus_to_exitcode(status))
"""


def _measured(*args: str, cwd: Path) -> tuple[int, str, str, float]:
    """Run linetally; return exit status, stdout, stderr and its peak RSS in MB."""
    proc = subprocess.run(
        [sys.executable, "-c", _LAUNCHER, *args], cwd=cwd, capture_output=True, timeout=120
    )
    err = proc.stderr.decode()
    err, _, peak = err.rpartition("\npeak-rss-kib=")
    return proc.returncode, proc.stdout.decode(), err, int(peak) / 1024


@pytest.mark.slow
@pytest.mark.parametrize("name", ["newlines.gz", "newlines.zst"])
def test_bomb_counted_in_full_with_bounded_memory(bombs: Path, name: str) -> None:
    size = (bombs / name).stat().st_size
    assert size < 1.1e6
    code, out, err, peak_mb = _measured("-z", "--format", "json", "--no-progress", name, cwd=bombs)
    assert (code, err) == (0, "")
    (record,) = json.loads(out)["files"]
    assert (record["lines"], record["bytes"], record["decompressed_bytes"]) == (GIB, size, GIB)
    print(f"\n{name}: 1 GiB from {size:,} bytes, peak RSS {peak_mb:.0f} MB")
    assert peak_mb < 150  # a fraction of the gibibyte


def test_max_lines_stops_a_ten_gib_stream_early(bombs: Path) -> None:
    ran = run_cli("-z", "--max-lines", "1000", "--format", "json", "ten-gib.gz", cwd=bombs)
    assert ran.code == 1
    (record,) = json.loads(ran.out)["files"]
    assert record["error"]["type"] == "TooManyLines"
    assert 1000 < record["lines"] <= 2 * _decompress.OUT_SIZE
    assert record["bytes"] < (bombs / "ten-gib.gz").stat().st_size  # stopped early
    assert "bytes decompressed)" in record["error"]["message"]
    assert record["codec"] == "gzip"
    assert "over 1,000 lines" in ran.err


def test_timeout_stops_a_ten_gib_stream(bombs: Path) -> None:
    ran = run_cli("-z", "--timeout", "0.5", "--format", "json", "ten-gib.gz", cwd=bombs)
    assert ran.code == 1
    (record,) = json.loads(ran.out)["files"]
    assert record["error"]["type"] == "TimeoutError"
    assert "bytes decompressed)" in record["error"]["message"]
    assert "took longer than 0.5 s" in ran.err


def test_stop_request_ends_a_stream_between_chunks(bombs: Path) -> None:
    job = Job(0, str(bombs / "ten-gib.gz"))
    outcome: list[object] = []

    def read() -> None:
        try:
            outcome.append(count_file(job, ReadSettings(decompress=True)))
        except Stopped as exc:
            outcome.append(exc)

    reader = threading.Thread(target=read)
    reader.start()
    while not job.lines and reader.is_alive():
        reader.join(0.01)
    job.stop = True
    reader.join(60)
    assert not reader.is_alive()
    (stopped,) = outcome
    assert isinstance(stopped, Stopped)
    assert job.decompressed is not None and job.decompressed < 10 * GIB
    assert job.size < (bombs / "ten-gib.gz").stat().st_size


# -- the command line -----------------------------------------------------------------------


@pytest.fixture
def logs(tmp_path: Path) -> Path:
    """A rotated log folder: plain, gzip, zstd, a truncated gzip, a gzip named .log."""
    (tmp_path / "app.log").write_bytes(b"a\nb\nc\n")
    (tmp_path / "app.log.1.gz").write_bytes(compress("gzip", b"x\r\n" * 10))
    (tmp_path / "app.log.2.zst").write_bytes(compress("zstd", b"y\n" * 20))
    (tmp_path / "app.log.3.gz").write_bytes(compress("gzip", b"z\n" * 30)[:-4])
    (tmp_path / "odd.log").write_bytes(compress("gzip", b"w\n" * 5))
    return tmp_path


def test_cli_json_with_and_without_z(logs: Path) -> None:
    plain = run_cli("--format", "json", "--sort", "path", ".", cwd=logs)
    assert plain.code == 0
    doc = json.loads(plain.out)
    assert all(
        list(f) == ["path", "status", "lines", "bytes", "error", "reason"] for f in doc["files"]
    )
    assert [f["status"] for f in doc["files"]] == ["ok", "skipped", "skipped", "skipped", "skipped"]
    assert plain.err == "4 skipped: binary\n"

    ran = run_cli("-z", "--format", "json", "--sort", "path", ".", cwd=logs)
    assert ran.code == 1
    doc = json.loads(ran.out)
    files = {f["path"].removeprefix("./"): f for f in doc["files"]}
    assert list(files["app.log"]) == [
        "path",
        "status",
        "lines",
        "bytes",
        "error",
        "reason",
        "codec",
        "decompressed_bytes",
    ]
    assert [(f["lines"], f["codec"], f["decompressed_bytes"]) for f in files.values()] == [
        (3, None, None),
        (10, "gzip", 30),
        (20, "zstd", 40),
        (None, "gzip", None),
        (5, "gzip", 10),
    ]
    assert files["app.log.1.gz"]["bytes"] == (logs / "app.log.1.gz").stat().st_size
    assert files["app.log.3.gz"]["error"]["type"] == "EOFError"
    assert doc["totals"] == {
        "files": 5,
        "ok": 4,
        "errors": 1,
        "skipped": 0,
        "cancelled": 0,
        "lines": 38,
        "bytes": sum((logs / p).stat().st_size for p in files if p != "app.log.3.gz"),
    }
    assert "1 file failed with EOFError" in ran.err
    assert "app.log.3.gz: Compressed file ended before the end-of-stream marker" in ran.err
    assert "Traceback" not in ran.err


def test_cli_table_jsonl_and_csv(logs: Path) -> None:
    table = run_cli("-z", "--sort", "path", "app.log", "app.log.1.gz", cwd=logs)
    assert table.code == 0
    assert "app.log.1.gz" in table.out and "total: 2 files" in table.out
    assert table.err == ""

    jsonl = run_cli("-z", "--format", "jsonl", "app.log.2.zst", cwd=logs)
    assert jsonl.code == 0
    assert json.loads(jsonl.out)["codec"] == "zstd"
    assert jsonl.err == ""

    plain_csv = run_cli("--format", "csv", "app.log", cwd=logs)
    header = "path,status,lines,bytes,error_type,error_message,reason"  # the CSV of issue 10
    assert plain_csv.out.splitlines()[0] == header
    ran = run_cli("-z", "--format", "csv", "--sort", "path", "app.log", "app.log.1.gz", cwd=logs)
    assert ran.code == 0
    rows = list(csv.reader(io.StringIO(ran.out)))
    assert rows[0][-2:] == ["codec", "decompressed_bytes"]
    assert rows[1][-2:] == ["", ""]
    assert rows[2][-2:] == ["gzip", "30"]
    assert ran.err == ""


def test_cli_help_names_the_option() -> None:
    ran = run_cli("--help")
    assert ran.code == 0
    assert "-z, --decompress" in ran.out


def test_cli_missing_zstd_library(logs: Path) -> None:
    code = (
        "import sys; sys.modules['compression.zstd'] = None; sys.modules['backports.zstd'] = None; "
        "from linetally._cli import main; sys.exit(main())"
    )
    proc = subprocess.run(
        [sys.executable, "-c", code, "-z", "--format", "json", "app.log.2.zst", "app.log"],
        cwd=logs,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode == 1
    zst, plain = json.loads(proc.stdout)["files"]
    assert zst["error"]["type"] == "CodecUnavailableError"
    assert "pip install 'linetally[zstd]'" in zst["error"]["message"]
    assert plain["lines"] == 3
    assert "pip install 'linetally[zstd]'" in proc.stderr
    assert "Traceback" not in proc.stderr


# -- imported only when needed ---------------------------------------------------------------

_MODULES = """\
import json, sys
from linetally._cli import main
try:
    code = main(sys.argv[1:])
except SystemExit as exc:
    code = exc.code
sys.stdout.flush()
sys.stderr.write("\\nmodules=" + json.dumps(sorted(sys.modules)))
"""
_OPTIONAL = ("isal", "backports.zstd", "compression.zstd", "gzip", "linetally._decompress")


def _modules_after(*args: str, cwd: Path, without: tuple[str, ...] = ()) -> set[str]:
    """The modules imported by the command with ``args``; those in ``without`` made missing."""
    block = "".join(f"__import__('sys').modules[{name!r}] = None\n" for name in without)
    proc = subprocess.run(
        [sys.executable, "-c", block + _MODULES, *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=60,
    )
    return set(json.loads(proc.stderr.rpartition("\nmodules=")[2]))


def test_codecs_are_imported_only_for_compressed_files(logs: Path) -> None:
    for args in (["--version"], ["--format", "json", "."]):
        assert not _modules_after(*args, cwd=logs) & set(_OPTIONAL), args
    plain = _modules_after("-z", "--format", "json", "app.log", cwd=logs)
    assert not plain & {"isal", "backports.zstd", "compression.zstd", "gzip"}
    gz = _modules_after("-z", "--format", "json", "app.log.1.gz", cwd=logs)
    assert "isal" in gz and not gz & {"backports.zstd", "compression.zstd"}
    zst = _modules_after("-z", "--format", "json", "app.log.2.zst", cwd=logs)
    assert zst & {"backports.zstd", "compression.zstd"}


def _iter_exact(*chunks: bytes) -> Iterator[bytes]:
    yield from chunks


def test_decompressed_accepts_any_iterable() -> None:
    data = compress("xz", b"1\n2\n")
    make: Callable[[], Any]
    for make in (lambda: [data], lambda: (data,), lambda: _iter_exact(data[:3], data[3:])):
        assert b"".join(Decompressed("xz", make())) == b"1\n2\n"


@given(
    status=st.sampled_from(list(Status)),
    lines=st.none() | st.integers(min_value=0, max_value=10**12),
    codec=st.none() | st.sampled_from(CODECS),
    made=st.none() | st.integers(min_value=0, max_value=10**15),
    reason=st.none() | st.just("binary"),
    decompress=st.booleans(),
)
def test_json_text_with_the_new_keys_is_json_dumps(
    status: Status,
    lines: int | None,
    codec: str | None,
    made: int | None,
    reason: str | None,
    decompress: bool,
) -> None:
    r = linetally.FileResult(
        "a.gz", status, lines, 10, None, reason, codec=codec, decompressed_bytes=made
    )
    text = json_text(r, decompress=decompress)
    assert text == json.dumps(json_record(r, decompress=decompress), ensure_ascii=True)
    keys = list(json.loads(text))
    if decompress:
        assert keys[-2:] == ["codec", "decompressed_bytes"]
    else:
        assert keys == ["path", "status", "lines", "bytes", "error", "reason"]
