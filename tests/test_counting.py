"""The definition of a line, checked against Python's own universal newlines."""

from __future__ import annotations

import io
import itertools
from array import array
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from linetally import _counting, _reader
from linetally._counting import LineCounter, count_lines, detect_bom, looks_binary
from linetally._reader import Job, ReadSettings, count_file

# Byte strings rich in line terminators, with some other bytes (no NUL: binary
# detection is a separate policy, tested below).
terminator_rich = st.lists(
    st.sampled_from([b"\r", b"\n", b"\r\n", b"a", b"xyz", b"\xe5", b"\x85", b" "]),
    max_size=200,
).map(b"".join)


def latin1_oracle(data: bytes) -> int:
    return sum(1 for _ in io.TextIOWrapper(io.BytesIO(data), encoding="latin-1", newline=None))


@pytest.mark.parametrize(
    ("data", "lines"),
    [
        (b"", 0),
        (b"a", 1),
        (b"a\n", 1),
        (b"a\nb", 2),
        (b"\n", 1),
        (b"\n\n", 2),
        (b"\r", 1),
        (b"\r\n", 1),
        (b"\n\r", 2),
        (b"a\r\rb", 3),
        (b"a\r\nb\r\n", 2),
    ],
)
def test_examples(data: bytes, lines: int) -> None:
    assert count_lines(data) == lines == latin1_oracle(data)


@settings(max_examples=3000, suppress_health_check=[HealthCheck.too_slow])
@given(data=terminator_rich, cuts=st.lists(st.integers(min_value=0, max_value=400), max_size=8))
def test_chunked_count_matches_oracle(data: bytes, cuts: list[int]) -> None:
    """Any split into chunks, terminators split across them included, counts the same."""
    counter = LineCounter()
    start = 0
    for cut in sorted(c for c in cuts if c <= len(data)):
        counter.feed(data[start:cut])
        start = cut
    counter.feed(data[start:])
    assert counter.lines == latin1_oracle(data)


@settings(max_examples=300)
@given(data=terminator_rich)
def test_text_count_matches_bytes_count(data: bytes) -> None:
    assert count_lines(data.decode("latin-1")) == count_lines(data)


@settings(max_examples=1000)
@given(
    data=st.lists(
        st.one_of(st.sampled_from([b"\r", b"\n", b"\r\n", b"\r\r", b"a", b"b", b"c"]), st.binary()),
        max_size=60,
    ).map(b"".join)
)
def test_breaks_match_the_standard_library(data: bytes) -> None:
    """The vectorised count (with stringzilla) is ``bytes.count``'s, for any bytes."""
    expected = data.count(b"\n") + data.count(b"\r") - data.count(b"\r\n")
    assert _counting.count_breaks(data) == expected == _counting._breaks_method(data)
    assert _counting.count_breaks(bytearray(data)) == expected
    crlf = data.replace(b"\r", b"").replace(b"\n", b"\r\n")  # the CR LF file's own path
    assert _counting.count_breaks(crlf) == crlf.count(b"\n")
    assert _counting.count_breaks(crlf + b"\r") == crlf.count(b"\n") + 1


@pytest.mark.parametrize(
    "data",
    [
        b"line\r" * 1000 + b"x\r\ny\r",  # old Mac text: the CR LF pairs are the few
        b"abc\r\ndef\rghi\n" * 500,  # as many LFs as CRs, some lone: the lone CRs counted
        b"a\r\n" * 1000 + b"\r",  # CR LF text: told by its marks
        b"\r" * 999,
    ],
)
def test_breaks_in_text_of_each_kind(data: bytes) -> None:
    expected = data.count(b"\n") + data.count(b"\r") - data.count(b"\r\n")
    assert _counting.count_breaks(data) == expected
    assert count_lines(data) == latin1_oracle(data)


@settings(max_examples=500, deadline=None)
@given(data=terminator_rich, chunk=st.integers(min_value=1, max_value=64))
def test_vectorised_path_matches_oracle(data: bytes, chunk: int) -> None:
    """The numpy path (for big chunks, without stringzilla) agrees with the plain one."""
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(_counting, "_vectorised", False)
        mp.setattr(_counting, "NUMPY_MIN_CHUNK", 1)
        counter = LineCounter()
        for i in range(0, len(data), chunk):
            counter.feed(data[i : i + chunk])
    assert counter.lines == latin1_oracle(data)


@settings(max_examples=500, deadline=None)
@given(
    data=terminator_rich,
    chunk=st.integers(min_value=1, max_value=64),
    slice_size=st.integers(min_value=1, max_value=9),
)
def test_vectorised_slices_match_oracle(data: bytes, chunk: int, slice_size: int) -> None:
    """numpy's slices of a chunk: terminators and CR LF pairs cut at every slice edge."""
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(_counting, "_vectorised", False)
        mp.setattr(_counting, "NUMPY_MIN_CHUNK", 1)
        mp.setattr(_counting, "_SLICE", slice_size)
        counter = LineCounter()
        for i in range(0, len(data), chunk):
            counter.feed(data[i : i + chunk])
    assert counter.lines == latin1_oracle(data)


@settings(
    max_examples=1000, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(data=terminator_rich, chunk=st.integers(min_value=1, max_value=32))
def test_file_count_across_read_boundaries(
    data: bytes, chunk: int, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Real files read in tiny chunks: terminators split across read() calls."""
    monkeypatch.setattr(_reader, "CHUNK_SIZE", chunk)
    path = tmp_path / "f.txt"
    path.write_bytes(data)
    assert count_file(Job(0, str(path)), ReadSettings()) == latin1_oracle(data)


def test_big_file_uses_fixed_memory_and_counts_right(tmp_path: Path) -> None:
    """Several read buffers' worth of data, numpy path included."""
    line = b"x" * 99 + b"\r\n"
    path = tmp_path / "big.txt"
    with open(path, "wb") as f:
        for _ in range(30):
            f.write(line * 10_000)
        f.write(b"last line without terminator")
    assert count_file(Job(0, str(path)), ReadSettings()) == 300_001


@pytest.mark.parametrize("codec", ["utf-16-le", "utf-16-be", "utf-32-le", "utf-32-be"])
def test_utf16_and_utf32_with_bom_count_code_units(tmp_path: Path, codec: str) -> None:
    text = "one\ntwo\r\nthree\u2028"  # U+2028 is not a line end in universal newlines
    bom = {
        "utf-16-le": b"\xff\xfe",
        "utf-16-be": b"\xfe\xff",
        "utf-32-le": b"\xff\xfe\x00\x00",
        "utf-32-be": b"\x00\x00\xfe\xff",
    }[codec]
    path = tmp_path / "wide.txt"
    path.write_bytes(bom + text.encode(codec))
    assert detect_bom(path.read_bytes()) is not None
    assert count_file(Job(0, str(path)), ReadSettings()) == 3


def test_binary_detection() -> None:
    assert looks_binary(b"abc\0def")
    assert not looks_binary(b"abc\ndef")
    assert not looks_binary(b"a" * 8192 + b"\0")  # only the first 8 KiB count


@settings(max_examples=1000)
@given(data=terminator_rich, cuts=st.lists(st.integers(min_value=0, max_value=400), max_size=6))
def test_merged_range_counters_match_oracle(data: bytes, cuts: list[int]) -> None:
    """Counting consecutive ranges separately, then merging, is exact (big-file path)."""
    bounds = [0, *sorted(c for c in cuts if c <= len(data)), len(data)]
    counters = []
    for a, b in itertools.pairwise(bounds):
        c = LineCounter()
        c.feed(data[a:b])
        counters.append(c)
    total = counters[0]
    for c in counters[1:]:
        total.merge(c)
    assert total.lines == latin1_oracle(data)


@settings(
    max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(data=terminator_rich, chunk=st.integers(min_value=1, max_value=16), cores=st.integers(2, 5))
def test_ranges_in_threads_match_oracle(
    data: bytes, chunk: int, cores: int, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The big-file path (ranges counted in threads), forced on small files."""
    monkeypatch.setattr(_reader, "PARALLEL_MIN", 0)
    monkeypatch.setattr(_reader, "_CORES", cores)
    monkeypatch.setattr(_reader, "CHUNK_SIZE", chunk)
    path = tmp_path / "f.txt"
    path.write_bytes(data)
    assert count_file(Job(0, str(path)), ReadSettings()) == latin1_oracle(data)


_medium_file = st.builds(
    lambda at, mid, tail, nul: (b"ab\n" * 22000)[: 65536 + at] + mid + tail + nul,
    st.integers(-2, 1),
    st.sampled_from([b"\r\n", b"\r", b"\n", b"\r\r\n", b"\n\r", b""]),
    terminator_rich,
    st.sampled_from([b"", b"\x00"]),  # a NUL past the first 8 KiB does not make it binary
)
"""Files of 64 KiB or more: a line break (CR LF, a lone CR...) where the first read ends."""

any_small_file = st.one_of(
    terminator_rich,
    st.binary(max_size=300),
    st.sampled_from([b"\xff\xfea\x00\n\x00", b"\xfe\xff\x00a", b"\xef\xbb\xbfa\nb", b"a\x00b\n"]),
    st.integers(min_value=0, max_value=3).map(lambda k: b"ab\r\n" * (16384 + k - 2)),
    _medium_file,
    _medium_file.map(lambda data: b"\x00" + data),
    _medium_file.map(lambda data: b"\xff\xfe" + data),
)


@settings(max_examples=300, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=any_small_file, max_lines=st.one_of(st.none(), st.integers(0, 5)))
def test_count_small_agrees_with_count_file_or_declines(
    tmp_path: Path, data: bytes, max_lines: int | None
) -> None:
    """The counting processes' fast path gives count_file's answer, or leaves it the file."""
    path = tmp_path / "f"
    path.write_bytes(data)
    got = _reader.count_small(str(path), max_lines)
    if got is None:
        return
    assert got == (count_lines(data), len(data))
    job = Job(0, str(path))
    settings = ReadSettings(max_lines=max_lines)
    assert count_file(job, settings, regular=True) == got[0]
    assert job.size == got[1]


def _write_run(tmp_path: Path, files: list[bytes]) -> tuple[Path, list[str]]:
    """The files of one run, in a folder of their own (Hypothesis calls share tmp_path)."""
    run = tmp_path / f"run{len(list(tmp_path.iterdir()))}"
    run.mkdir()
    names = [f"f{i}" for i in range(len(files))]
    for name, data in zip(names, files, strict=True):
        (run / name).write_bytes(data)
    return run, names


@settings(max_examples=150, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    files=st.lists(any_small_file, min_size=1, max_size=6),
    max_lines=st.one_of(st.none(), st.integers(0, 5)),
    start=st.integers(0, 2),
)
def test_count_run_counts_in_a_row_what_count_small_counts(
    tmp_path: Path, files: list[bytes], max_lines: int | None, start: int
) -> None:
    """A run of files counted in one loop: count_small's answers, up to the first it declines."""
    run, names = _write_run(tmp_path, files)
    start = min(start, len(names))
    got_names: list[str] = ["before"]
    got_lines, got_sizes = array("q", [7]), array("q", [8])
    stop = _reader.count_run(
        f"{run}/", names, start, len(names), max_lines, "sub/", got_names, got_lines, got_sizes
    )
    expected = []
    for name in names[start:]:
        small = _reader.count_small(str(run / name), max_lines)
        if small is None:
            break
        expected.append((f"sub/{name}", *small))
    assert stop == start + len(expected)
    got = list(zip(got_names, got_lines, got_sizes, strict=True))
    assert got == [("before", 7, 8), *expected]


_source_text = st.lists(
    st.sampled_from(
        ["x = 1", "# c", "", "  ", '"""doc', 'd"""', "'s#'", "/* a */", "// b", "\\", "#!/bin/sh"]
    ),
    max_size=12,
).map(lambda lines: "\n".join(lines).encode())


@settings(max_examples=300, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    data=st.one_of(
        any_small_file, _source_text, _source_text.map(lambda b: b.replace(b"\n", b"\r\n"))
    ),
    name=st.sampled_from(["f.py", "f.rs", "f.md", "f.html", "Makefile", "f", "f.unknownext"]),
    docstrings=st.sampled_from(["code", "comment"]),
    max_lines=st.one_of(st.none(), st.integers(0, 5)),
)
def test_classify_small_agrees_with_count_file_or_declines(
    tmp_path: Path, data: bytes, name: str, docstrings: str, max_lines: int | None
) -> None:
    """The counting processes' fast path with languages: count_file's answer, or none."""
    path = tmp_path / name
    path.write_bytes(data)
    got = _reader.classify_small(str(path), max_lines, docstrings)  # type: ignore[arg-type]
    if got is None:
        return
    job = Job(0, str(path))
    settings = ReadSettings(max_lines=max_lines, languages=True, docstrings=docstrings)  # type: ignore[arg-type]
    assert count_file(job, settings, regular=True) == got[0]
    assert (job.size, job.classified) == (got[1], got[2])


@settings(max_examples=150, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    files=st.lists(
        st.tuples(
            st.one_of(any_small_file, _source_text),
            st.sampled_from(["py", "rs", "md", "html", "unknownext"]),
        ),
        min_size=1,
        max_size=6,
    ),
    docstrings=st.sampled_from(["code", "comment"]),
    max_lines=st.one_of(st.none(), st.integers(0, 5)),
)
def test_classify_run_classifies_in_a_row_what_count_file_classifies(
    tmp_path: Path, files: list[tuple[bytes, str]], docstrings: str, max_lines: int | None
) -> None:
    """A run of files counted and classified in one loop: count_file's answers with
    languages, up to the first file count_small declines."""
    run = tmp_path / f"run{len(list(tmp_path.iterdir()))}"
    run.mkdir()
    names = [f"f{i}.{ext}" for i, (_, ext) in enumerate(files)]
    for name, (data, _) in zip(names, files, strict=True):
        (run / name).write_bytes(data)
    got_names: list[str] = []
    got_lines, got_sizes = array("q"), array("q")
    got_kinds: list[_reader.Classified | None] = []
    stop = _reader.classify_run(
        f"{run}/",
        names,
        0,
        len(names),
        max_lines,
        "sub/",
        got_names,
        got_lines,
        got_sizes,
        got_kinds,
        docstrings,  # type: ignore[arg-type]
    )
    declined = [_reader.count_small(str(run / name), max_lines) is None for name in names]
    assert stop == (declined.index(True) if True in declined else len(names))
    assert got_names == [f"sub/{name}" for name in names[:stop]]
    settings = ReadSettings(max_lines=max_lines, languages=True, docstrings=docstrings)  # type: ignore[arg-type]
    for i, name in enumerate(names[:stop]):
        job = Job(0, str(run / name))
        assert count_file(job, settings, regular=True) == got_lines[i]
        assert (job.size, job.classified) == (got_sizes[i], got_kinds[i])


def test_count_small_declines_what_count_file_must_decide(tmp_path: Path) -> None:
    cases = {
        "binary": b"a\x00b\n",
        "utf16": "a\nb\n".encode("utf-16"),
        "big": b"x\n" * (_reader.RUN_MAX // 2 + 1),  # counted in ranges by count_file
        "missing": None,
    }
    for name, data in cases.items():
        if data is not None:
            (tmp_path / name).write_bytes(data)
        assert _reader.count_small(str(tmp_path / name), None) is None, name
    (tmp_path / "many").write_bytes(b"a\nb\nc\n")
    assert _reader.count_small(str(tmp_path / "many"), 2) is None
    assert _reader.count_small(str(tmp_path / "many"), 3) == (3, 6)
    assert _reader.count_small(str(tmp_path / "many") + "/", None) is None
    assert (
        _reader.count_run(str(tmp_path), ["many"], 0, 1, None, "", [], array("q"), array("q")) == 0
    )
    assert _reader.plain(ReadSettings())
    assert _reader.classify_small(str(tmp_path / "many"), 2, "code") is None
    assert _reader.plain_classifying(ReadSettings(languages=True))
    assert not _reader.plain_classifying(ReadSettings(languages=True, decompress=True))
    for changed in ({"languages": True}, {"decompress": True}, {"encoding": "utf-8"}):
        assert not _reader.plain(ReadSettings(**changed))  # type: ignore[arg-type]


def test_counts_are_the_same_without_stringzilla(tmp_path: Path) -> None:
    """stringzilla (an optional extra) only speeds counting up: without it, the same counts."""
    import json
    import subprocess
    import sys

    pytest.importorskip("stringzilla")
    assert _counting.count_breaks is not _counting._breaks_method  # installed: used
    samples = [b"", b"a", b"a\n", b"a\r\nb\rc\n\r", b"\r\r\n\n", b"x\n" * 5000 + b"\r", b"\0\n"]
    samples += [b"a\r\r\rb\r\n", b"\rc\r" * 40_000, b"ab\r\n" * 30_000 + b"\r"]
    paths = []
    for i, data in enumerate(samples):
        path = tmp_path / f"s{i}"
        path.write_bytes(data)
        paths.append(str(path))
    code = (
        "import json, sys\n"
        "sys.modules['stringzilla'] = None\n"
        "from linetally import _counting, _reader\n"
        "assert _counting.count_breaks is _counting._breaks_method\n"
        "counter = _counting.LineCounter()\n"
        "for p in sys.argv[1:]:\n"
        "    counter.feed(bytearray(open(p, 'rb').read()))\n"
        "print(json.dumps([[_counting.count_lines(open(p, 'rb').read()),"
        " _reader.count_small(p, None)] for p in sys.argv[1:]] + [counter.lines]))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code, *paths], capture_output=True, text=True, check=True
    )
    counter = LineCounter()
    for data in samples:
        counter.feed(bytearray(data))
    here = [
        [count_lines(d), _reader.count_small(p, None)] for d, p in zip(samples, paths, strict=True)
    ]
    expected = json.loads(json.dumps([*here, counter.lines]))  # tuples as JSON lists
    assert json.loads(done.stdout) == expected
    assert [row[0] for row in here] == [len(d.decode("latin-1").splitlines()) for d in samples]


_BIG_PATTERNS = [b"ab\n", b"ab\r\n", b"a\r", b"abc\r\n\rd\n\n", b"abcdefg", b"\r\n\r"]


@settings(max_examples=120, deadline=None)
@given(
    pattern=st.sampled_from(_BIG_PATTERNS),
    size=st.sampled_from(
        [
            _counting.REUSE_MIN - 1,
            _counting.REUSE_MIN,
            150_001,
            _counting.REUSE_MAX,
            _counting.REUSE_MAX + 1,
        ]
    ),
    ends=st.tuples(terminator_rich, terminator_rich),
)
def test_breaks_of_big_data_match_the_standard_library(
    pattern: bytes, size: int, ends: tuple[bytes, bytes]
) -> None:
    """Big data (counted with marks in reused buffers) as bytes, bytearray or a view of one."""
    head, tail = ends
    data = head + (pattern * (size // len(pattern) + 1))[: size - len(head)] + tail
    expected = data.count(b"\n") + data.count(b"\r") - data.count(b"\r\n")
    assert _counting._breaks_method(data) == expected
    for form in (data, bytearray(data), memoryview(bytearray(b"x" + data + b"y"))[1:-1]):
        assert _counting.count_breaks(form) == expected
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(_counting, "reusing", False)  # as with a stringzilla before 5.3
        assert _counting.count_breaks(memoryview(data)) == expected


def _big_rest(pattern: bytes, rest: int, mid: bytes, tail: bytes) -> bytes:
    """A file whose first read (64 KiB) ends at ``mid``, with ``rest`` bytes after it."""
    body = pattern * ((65536 + rest) // len(pattern) + 2)
    return body[:65535] + mid + body[: rest + 1 - len(mid) - len(tail)] + tail


_big_rest_file = st.builds(
    _big_rest,
    st.sampled_from(_BIG_PATTERNS),
    st.sampled_from([_counting.REUSE_MIN - 1, _counting.REUSE_MIN, 100_003, 300_007]),
    st.sampled_from([b"\r\n", b"\r", b"\n", b"\n\r", b"a"]),
    st.sampled_from([b"", b"\r", b"\n", b"\r\n", b"z"]),
)
"""Files of 64 KiB and more, their rest read into a buffer reused from file to file."""


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(files=st.lists(_big_rest_file, min_size=1, max_size=4), reuse=st.booleans())
def test_count_run_reads_the_rest_of_each_file_into_one_buffer(
    tmp_path: Path, files: list[bytes], reuse: bool
) -> None:
    """Files of every size in a row, the buffers growing and reused: count_file's counts."""
    run, names = _write_run(tmp_path, files)
    got_names: list[str] = []
    got_lines, got_sizes = array("q"), array("q")
    with pytest.MonkeyPatch.context() as mp:
        if not reuse:
            mp.setattr(_counting, "reusing", False)
            mp.setattr(_reader, "reusing", False)
        stop = _reader.count_run(
            f"{run}/", names, 0, len(names), None, "", got_names, got_lines, got_sizes
        )
    assert stop == len(names)
    assert list(got_lines) == [latin1_oracle(data) for data in files]
    assert list(got_sizes) == [len(data) for data in files]
    for name, data in zip(names, files, strict=True):
        job = Job(0, str(run / name))
        assert count_file(job, ReadSettings(), regular=True) == latin1_oracle(data)


def test_the_buffers_of_big_reads_are_kept_and_reused(tmp_path: Path) -> None:
    """A file's rest and its marks go to buffers the thread keeps: no allocation per file."""
    pytest.importorskip("stringzilla")
    if not _counting.reusing:
        pytest.skip("this stringzilla cannot translate into a given buffer")
    big, small = tmp_path / "big", tmp_path / "small"
    big.write_bytes(b"ab\r\n" * 80_000)
    small.write_bytes(b"ab\n" * 50_000)
    assert _reader.count_small(str(big), None) == (80_000, 320_000)
    kept = _counting._scratch.buffers
    rest, marks = kept["rest"], [kept["lf"], kept["cr"]]
    assert len(rest) > 320_000 - 65536 and all(len(m) >= 320_000 - 65536 for m in marks)
    assert _reader.count_small(str(small), None) == (50_000, 150_000)
    assert kept["rest"] is rest
    assert [kept["lf"], kept["cr"]] == marks
    assert all(a is b for a, b in zip([kept["lf"], kept["cr"]], marks, strict=True))


@pytest.mark.parametrize(
    "data",
    [
        b"a" * 65535 + b"\r\nb\n",  # a CR LF split by the end of the first read
        b"a" * 65535 + b"\rb",  # a lone CR there
        b"a\r\n" * 21845 + b"a",  # exactly 64 KiB: the second read finds the end
        b"\n" * _reader.RUN_MAX,  # the largest file a run counts
        (b"x" * 9000 + b"\x00") * 10,  # a NUL after the first 8 KiB: text
    ],
    ids=["split-crlf", "split-cr", "64k", "run-max", "late-nul"],
)
def test_count_small_counts_files_of_64_kib_and_more_as_count_file(
    tmp_path: Path, data: bytes
) -> None:
    path = tmp_path / "f"
    path.write_bytes(data)
    job = Job(0, str(path))
    assert _reader.count_small(str(path), None) == (count_lines(data), len(data))
    assert count_file(job, ReadSettings(), regular=True) == count_lines(data)
    assert job.size == len(data)
