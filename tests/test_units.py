"""Directories walked and counted by the counting processes give what the threads give.

Once a run has found enough files, the counting processes take over the
directories not yet entered: each walks and counts one directory and sends
back compact columns. Results, order, failures and the accounting must not
change with that.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable, Iterator
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import linetally
from linetally import FileResult, Status
from linetally._walk import Entry, Files, Unit, Walk, WalkSettings, walk_unit

_FILES_PER_DIR = 60


def _tree(root: Path) -> Path:
    """A git work tree of about 1,500 files in nested folders, with trouble in them."""
    top = root / "tree"
    (top / ".git" / "info").mkdir(parents=True)
    (top / ".git" / "info" / "exclude").write_text("*.excluded\n")
    (top / ".gitignore").write_text("*.log\nbuild/\n!keep.log\n")
    for a in range(5):
        for b in range(5):
            d = top / f"a{a}" / f"b{b}"
            d.mkdir(parents=True)
            for i in range(_FILES_PER_DIR):
                tail = b"end" if i % 4 else b""
                (d / f"f{i:03}.txt").write_bytes(b"x\r\n" * (i % 7) + b"y\r" * (i % 3) + tail)
            (d / "x.log").write_text("ignored\n")
            (d / "keep.log").write_text("kept\n")
            (d / "y.excluded").write_text("excluded\n")
            (d / ".hidden").write_text("hidden\n")
            (d / "build").mkdir()
            (d / "build" / "out.txt").write_text("ignored\n")
        (top / f"a{a}" / ".ignore").write_text("b4/f00*\n")
    deep = top / "a1" / "b1"
    for level in range(30):
        deep = deep / f"d{level}"
    deep.mkdir(parents=True)
    (deep / "deep.txt").write_text("deep\n")
    (top / "a2" / "b2" / "bin.dat").write_bytes(b"\0\1\2")
    (top / "a2" / "b3" / "latin.txt").write_bytes(b"caf\xe9\n")
    (top / "a3" / "b0" / "big.txt").write_bytes(b"line\n" * 300_000)  # handed back
    (top / "a3" / "b1" / "link").symlink_to("../b0")
    os.mkfifo(top / "a3" / "b2" / "fifo")
    (top / "a4" / "empty").mkdir()
    (top / "a4" / "nl\nname.txt").write_text("odd name\n")
    return top


@pytest.fixture(scope="module")
def tree(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return _tree(tmp_path_factory.mktemp("units"))


def _key(r: FileResult) -> tuple[object, ...]:
    error = None if r.error is None else type(r.error).__name__
    return (r.path, r.status, r.lines, r.bytes, r.reason, error)


@pytest.mark.parametrize(
    "walk_options",
    [
        {},
        {"hidden": True},
        {"ignore": False},
        {"globs": ("*.txt", "!a1/")},
        {"globs": ("!*.log",), "hidden": True},
    ],
)
def test_same_results_in_the_same_order(tree: Path, walk_options: dict[str, object]) -> None:
    def run(processes: int) -> linetally.Report:
        entries = linetally.walk([str(tree)], **walk_options)  # type: ignore[arg-type]
        return linetally.count(entries, processes=processes, encoding="utf-8", max_lines=5)

    with_procs, threads_only = run(2), run(0)
    assert [_key(r) for r in with_procs.results] == [_key(r) for r in threads_only.results]
    assert with_procs.totals == threads_only.totals
    assert with_procs.totals.files > 1000


def test_failures_from_walked_directories_keep_type_and_path(tree: Path) -> None:
    report = linetally.count(linetally.walk([str(tree)]), processes=2, encoding="utf-8")
    failures = {type(r.error).__name__: r for r in report.failures}
    assert set(failures) == {"UnicodeDecodeError"}
    bad = failures["UnicodeDecodeError"]
    assert bad.path == str(tree / "a2" / "b3" / "latin.txt")
    assert bad.error is not None
    assert bad.error.path == bad.path  # type: ignore[attr-defined]
    assert f"file: {bad.path!r}" in bad.error.__notes__
    assert bad.error.byte_offset == 3  # type: ignore[attr-defined]
    by_path = {r.path: r for r in report.results}
    assert by_path[str(tree / "a3" / "b0" / "big.txt")].lines == 300_000
    assert by_path[str(tree / "a3" / "b2" / "fifo")].reason == "special file"
    assert by_path[str(tree / "a3" / "b1" / "link")].reason == "symlink"
    assert by_path[str(tree / "a2" / "b2" / "bin.dat")].reason == "binary"


def test_fail_fast_accounts_for_every_file(tree: Path) -> None:
    everything = linetally.count(linetally.walk([str(tree)]), processes=0)
    report = linetally.count(
        linetally.walk([str(tree)]), processes=2, encoding="utf-8", on_error="cancel"
    )
    assert [r.path for r in report.results] == [r.path for r in everything.results]
    statuses = {r.status for r in report.results}
    assert Status.ERROR in statuses
    assert Status.CANCELLED in statuses
    for r in report.results:
        if r.status is Status.CANCELLED:
            assert r.reason == "cancelled after a failure"
    t = report.totals
    assert t.files == t.ok + t.errors + t.skipped + t.cancelled == len(report.results)


@pytest.fixture(scope="module")
def wide(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Enough folders that the counting processes walk most of them (about 6,000 files)."""
    top = tmp_path_factory.mktemp("wide") / "wide"
    for a in range(150):
        d = top / f"d{a:03}"
        (d / "sub").mkdir(parents=True)
        for i in range(36):
            (d / f"f{i:02}.txt").write_bytes(b"x\n" * (i % 9) + b"y\r" * (i % 2))
        for i in range(4):
            (d / "sub" / f"g{i}.txt").write_text("g\n")
    (top / "d040" / "bin.dat").write_bytes(b"\0\1")
    (top / "d090" / "latin.txt").write_bytes(b"caf\xe9\n")
    (top / "d120" / "sub" / "big.txt").write_bytes(b"line\n" * 300_000)
    for a in (50, 60, 70):
        d = top / f"d{a:03}"
        (d / ".git").write_text("gitdir: elsewhere\n")  # a linked work tree's: never counted
        (d / ".hidden.txt").write_text("h\n")
        (d / "nl\nname.txt").write_text("odd\n")
        (d / "skip.log").write_text("ignored\n")
        (d / ".gitignore").write_text("*.log\n")
    return top


@pytest.mark.parametrize(
    "walk_options", [{}, {"hidden": True}, {"ignore": False}, {"hidden": True, "ignore": False}]
)
def test_walked_by_processes_as_by_threads(wide: Path, walk_options: dict[str, object]) -> None:
    def run(processes: int) -> linetally.Report:
        entries = linetally.walk([str(wide)], **walk_options)  # type: ignore[arg-type]
        return linetally.count(entries, processes=processes)

    with_procs, threads_only = run(2), run(0)
    assert [_key(r) for r in with_procs.results] == [_key(r) for r in threads_only.results]
    paths = {os.path.basename(r.path) for r in with_procs.results}
    assert ".git" not in paths
    assert ("skip.log" in paths) == (walk_options.get("ignore") is False)
    assert (".hidden.txt" in paths) == bool(walk_options.get("hidden"))
    assert "nl\nname.txt" in paths


def test_a_completed_run_keeps_counted_files_as_columns_and_reports_the_same(
    wide: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import asyncio
    import pickle

    from linetally import _engine
    from linetally._model import Columns, Results

    # The run waits for its counting processes after 50 files, as it does for
    # the command's forked ones: on a slow machine, the threads could otherwise
    # count the whole tree before the new interpreters are up, and no walked
    # directory would come back as columns.
    monkeypatch.setattr(_engine, "spares_ready", lambda: True)

    def complete(**options: object) -> linetally.Report:
        run = linetally.Run(
            linetally.walk([str(wide)]),
            linetally.Options(processes=2, **options),  # type: ignore[arg-type]
        )
        return asyncio.run(run.complete())

    for options in ({}, {"encoding": "utf-8", "max_lines": 5}):
        report = complete(**options)
        listed = linetally.count(linetally.walk([str(wide)]), processes=0, **options)
        results = report.results
        assert isinstance(results, Results)
        assert any(isinstance(p, Columns) for p in results.parts())
        assert len(results) == len(listed.results) == report.totals.files > 5000
        assert [_key(r) for r in results] == [_key(r) for r in listed.results]
        assert results == list(results) and list(results) == results
        assert [_key(r) for r in results[-3:]] == [_key(r) for r in listed.results[-3:]]
        if not listed.failures:  # exceptions compare by identity
            assert results == listed.results and listed.results == results
            assert results[7] == listed.results[7]
        assert all(type(r) is FileResult for r in results)
        assert report.totals == listed.totals
        assert [_key(r) for r in report.failures] == [_key(r) for r in listed.failures]
        again = pickle.loads(pickle.dumps(report)).results
        assert [_key(r) for r in again] == [_key(r) for r in listed.results]
        assert dict(report.languages) == dict(listed.languages)


def test_the_command_writes_the_same_languages_from_columns(
    wide: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """With --languages, classified files kept as columns: the same output as threads give."""
    import asyncio

    from linetally import _engine
    from linetally._model import Columns, Results

    from .conftest import run_cli

    tree = tmp_path / "code"
    for a in range(40):
        d = tree / f"p{a:02}"
        d.mkdir(parents=True)
        for i in range(30):
            (d / f"m{i:02}.py").write_text('"""Doc."""\n\n# c\nx = 1\n' * (i % 4))
        (d / "notes").write_text("no language\n")
        (d / "Makefile").write_text("all:\n\t# c\n")
    (tree / "p07" / "big.py").write_bytes(b"# c\nx = 1\n\n" * 30_000)
    (tree / "p08" / "bin.py").write_bytes(b"\0\1")
    for args in (
        ["--languages", "--format", "json"],
        ["--languages", "--format", "json", "-z"],
        ["--languages", "--format", "csv"],
        ["--by", "language", "--format", "json"],
        ["--languages", "--files"],
    ):
        for root in (tree, wide):
            procs = run_cli(*args, str(root))
            threads = run_cli(*args, "--processes", "0", str(root))
            assert procs == threads
            assert procs.out
    monkeypatch.setattr(_engine, "spares_ready", lambda: True)
    run = linetally.Run(linetally.walk([str(tree)]), linetally.Options(processes=2, languages=True))
    report = asyncio.run(run.complete())
    assert isinstance(report.results, Results)
    assert any(isinstance(p, Columns) and p.classified is not None for p in report.results.parts())
    listed = linetally.count(linetally.walk([str(tree)]), processes=0, languages=True)
    assert report.results == listed.results
    assert dict(report.languages) == dict(listed.languages)


def test_the_command_writes_the_same_json_from_columns(wide: Path) -> None:
    from .conftest import run_cli

    tree = wide
    with_procs = run_cli("--format", "json", "--encoding", "utf-8", str(tree))
    threads_only = run_cli("--format", "json", "--encoding", "utf-8", "--processes", "0", str(tree))
    assert with_procs == threads_only
    assert with_procs.code == 1  # the latin-1 file
    assert len(json.loads(with_procs.out)["files"]) > 5000
    for args in (
        ["-z", "--format", "json"],
        ["--summary", "--format", "json"],
        ["--format", "csv"],
        ["--sort", "lines"],
        [],
    ):
        procs = run_cli(*args, str(tree))
        threads = run_cli(*args, "--processes", "0", str(tree))
        assert procs == threads
        assert procs.code == 0 and procs.out


async def _stream(tree: Path) -> list[FileResult]:
    return [r async for r in linetally.iter_results(linetally.walk([str(tree)]), processes=2)]


def test_streamed_results_are_the_same_set(tree: Path) -> None:
    import asyncio

    streamed = asyncio.run(_stream(tree))
    kept = linetally.count(linetally.walk([str(tree)]), processes=2)
    assert sorted(map(_key, streamed)) == sorted(map(_key, kept.results))


def _expand(
    items: Iterable[Entry | Unit | str],
    settings: WalkSettings,
    budget: int,
    cut: int = 0,
    units: list[Unit] | None = None,
    batches: bool = False,
) -> Iterator[tuple[str, str | None, str | None]]:
    """What walking each unit in turn gives (``units`` collects them).

    With ``batches``, the units give runs of files as Files items, each file
    checked to be a run's base joined to its name.
    """
    cache: dict[object, object] = {}
    for item in items:
        if isinstance(item, Unit):
            if units is not None:
                units.append(item)
            inner = walk_unit(item, settings, cache, budget, cut, batches)
            yield from _expand(inner, settings, budget, cut, units, batches)
        elif isinstance(item, Files):
            assert batches and item.names
            assert item.base == os.path.join(os.path.dirname(item.base + item.names[0]), "")
            yield from ((item.base + name, None, None) for name in item.names)
        elif isinstance(item, str):
            yield (item, None, None)
        else:
            error = None if item.error is None else type(item.error).__name__
            yield (item.path, item.skip_reason, error)


def _walked_and_handed_out(
    tree: Path, walk_options: dict[str, object]
) -> tuple[list[tuple[str, str | None, str | None]], Iterator[Entry | Unit | str], WalkSettings]:
    """The whole walk of ``tree``, and the same walk handed out from its start."""
    whole = [
        (e.path, e.skip_reason, None if e.error is None else type(e.error).__name__)
        for e in linetally.walk([str(tree)], **walk_options)  # type: ignore[arg-type]
    ]
    split = linetally.walk([str(tree)], **walk_options)  # type: ignore[arg-type]
    assert isinstance(split, Walk)
    handed = split.hand_out()
    assert handed is not None
    return whole, handed, split.settings


@pytest.mark.parametrize("batches", [False, True])
@pytest.mark.parametrize("budget", [0, 1, 7, 100, 10_000])
@pytest.mark.parametrize(
    "walk_options", [{}, {"hidden": True, "ignore": False}, {"globs": ("*.txt", "!a1/b2/")}]
)
def test_walking_in_units_gives_the_walk(
    tree: Path, budget: int, walk_options: dict[str, object], batches: bool
) -> None:
    whole, handed, settings = _walked_and_handed_out(tree, walk_options)
    assert list(_expand(handed, settings, budget, batches=batches)) == whole


def test_requests_queued_in_one_process_come_back_to_their_senders(tmp_path: Path) -> None:
    """A process holds the next request while it answers one: each answer reaches its sender."""
    import asyncio

    from linetally._procs import QUEUED, ProcessPool
    from linetally._reader import ReadSettings

    files = []
    for i in range(40):
        path = tmp_path / f"{i}.txt"
        path.write_bytes(b"x\n" * i)
        files.append(str(path))
    units = []
    for d in range(4):
        sub = tmp_path / f"dir{d}"
        sub.mkdir()
        for i in range(d * 50):
            (sub / f"{i}.txt").write_bytes(b"y\n" * d)
        units.append(sub)

    async def main() -> None:
        pool = ProcessPool(1, ReadSettings())
        await pool.start()
        try:
            batches = [files[i : i + 7] for i in range(0, len(files), 7)]
            most = 0

            async def batch(paths: list[str]) -> list[object]:
                nonlocal most
                task = asyncio.ensure_future(pool.run(paths))
                await asyncio.sleep(0)
                most = max(most, *pool._queued.values())
                return await task

            answers = await asyncio.gather(*(batch(b) for b in batches))
            for paths, outcomes in zip(batches, answers, strict=True):
                assert [o[0] for o in outcomes] == [int(Path(p).stem) for p in paths]  # type: ignore[index]
            assert most == QUEUED

            walked: dict[str, list[int]] = {}

            async def walk(path: Path) -> None:
                unit = Unit(str(path), "", 0)
                lines: list[int] = []
                await pool.walk_dir(
                    unit,
                    WalkSettings(),
                    cancelled=False,
                    stop_early=False,
                    on_chunk=lambda chunk: lines.extend(chunk[2]),
                )
                walked[path.name] = lines

            await asyncio.gather(*(walk(u) for u in units))
            assert walked == {f"dir{d}": [d] * (d * 50) for d in range(4)}
        finally:
            await pool.close()

    asyncio.run(main())


@pytest.mark.parametrize("batches", [False, True])
@pytest.mark.parametrize(("budget", "cut"), [(0, 1), (0, 7), (7, 7), (100, 13), (10_000, 50)])
@pytest.mark.parametrize(
    "walk_options", [{}, {"hidden": True, "ignore": False}, {"globs": ("*.txt", "!a1/b2/")}]
)
def test_directories_cut_into_units_give_the_walk(
    tree: Path, budget: int, cut: int, walk_options: dict[str, object], batches: bool
) -> None:
    """A directory handing out the rest of its entries after ``cut`` files: same walk."""
    whole, handed, settings = _walked_and_handed_out(tree, walk_options)
    units: list[Unit] = []
    assert list(_expand(handed, settings, budget, cut, units, batches)) == whole
    assert any(u.start is not None for u in units)  # directories were cut


def test_the_counting_processes_cut_big_directories(tmp_path: Path) -> None:
    """With languages, a directory of 300 files is counted by both processes, in order."""
    for d in ("a", "b"):
        sub = tmp_path / d
        sub.mkdir()
        for i in range(300):
            (sub / f"{i:03}.py").write_text("# c\n\nx = 1\n" * (i % 5))
    with_procs = linetally.count(linetally.walk([str(tmp_path)]), processes=2, languages=True)
    threads = linetally.count(linetally.walk([str(tmp_path)]), processes=0, languages=True)
    assert list(with_procs.results) == list(threads.results)
    assert with_procs.totals.files == 600


@settings(max_examples=100)
@given(
    parts=st.lists(
        st.one_of(
            st.integers(0, 3).map(lambda k: [f"x{k}"]),  # a result of its own
            st.lists(st.integers(0, 9), min_size=1, max_size=150),  # a chunk kept as columns
        ),
        max_size=8,
    )
)
def test_recent_rows_from_columns_are_those_of_their_results(parts: list[list[object]]) -> None:
    """The live view's last rows, built from chunks kept as columns only when a snapshot asks."""
    import collections

    from linetally._engine import _KEEP_ROWS, _recent_rows, _row
    from linetally._model import Columns, counted_result

    recent: collections.deque[FileResult | Columns] = collections.deque(maxlen=_KEEP_ROWS)
    every: list[FileResult] = []
    for n, part in enumerate(parts):
        if isinstance(part[0], str):
            result = counted_result(f"alone/{part[0]}", n, n + 1)
            recent.append(result)
            every.append(result)
        else:
            names = [f"f{i}" for i in range(len(part))]
            columns = Columns(f"d{n}/", names, part, [2 * x for x in part])  # type: ignore[arg-type]
            recent.append(columns)
            every.extend(columns.results())
    expected = tuple(_row(r) for r in reversed(every[-_KEEP_ROWS:]))
    assert _recent_rows(recent) == expected


_entry_kinds = st.sampled_from(["ok", "classified", "codec", "subdir", "failed"])


@settings(max_examples=300)
@given(kinds=st.lists(_entry_kinds, max_size=40), languages=st.booleans())
def test_chunks_are_cut_into_runs_of_columns_and_entries(kinds: list[str], languages: bool) -> None:
    """A chunk's counted files in runs of columns; the rest one by one; nothing lost, in order."""
    from linetally._engine import _MIN_RUN, _segments
    from linetally._worker import FAILED, OK, SUBDIR

    codes = bytes(SUBDIR if k == "subdir" else FAILED if k == "failed" else OK for k in kinds)
    extras: dict[int, object] = {}
    for i, kind in enumerate(kinds):
        if kind == "classified":
            extras[i] = (None, None, ("Python", i, 0, 0))
        elif kind == "codec":
            extras[i] = ("gzip", 10, None)
        elif kind in ("subdir", "failed"):
            extras[i] = object()
    segments = _segments(codes, extras, languages)
    covered = [i for start, end, _ in segments for i in range(start, end)]
    assert covered == list(range(len(kinds)))
    fits = "classified" if languages else "ok"
    for start, end, run in segments:
        if run is False:
            continue
        assert end - start >= _MIN_RUN or (start, end) == (0, len(kinds))
        assert all(k == fits for k in kinds[start:end])
        expected = [extras[i][2] for i in range(start, end)] if languages else None  # type: ignore[index]
        assert run == expected
    # No run of columns was left to go one by one.
    for start, end, run in segments:
        if run is False:
            streak = 0
            for k in kinds[start:end]:
                streak = streak + 1 if k == fits else 0
                assert streak < _MIN_RUN


@settings(max_examples=300)
@given(kinds=st.lists(st.sampled_from(["column", "classified", "codec", "subdir"]), max_size=40))
def test_classifications_in_the_kinds_column_make_runs_as_extras_do(kinds: list[str]) -> None:
    """With languages, a file classified in a run (its kind in the chunk's column) and one
    classified alone (in its extras) are kept as columns alike, in order."""
    from linetally._engine import _MIN_RUN, _segments
    from linetally._worker import OK, SUBDIR

    codes = bytes(SUBDIR if k == "subdir" else OK for k in kinds)
    extras: dict[int, object] = {}
    column: list[tuple[str | None, int | None, int | None, int | None] | None] = []
    for i, kind in enumerate(kinds):
        column.append(("Rust", i, 1, 2) if kind == "column" else None)
        if kind == "classified":
            extras[i] = (None, None, ("Python", i, 0, 0))
        elif kind == "codec":
            extras[i] = ("gzip", 10, None)
        elif kind == "subdir":
            extras[i] = object()
    segments = _segments(codes, extras, True, column)
    covered = [i for start, end, _ in segments for i in range(start, end)]
    assert covered == list(range(len(kinds)))
    fits = ("column", "classified")
    for start, end, run in segments:
        if run is False:
            streak = 0
            for k in kinds[start:end]:
                streak = streak + 1 if k in fits else 0
                assert streak < _MIN_RUN
            continue
        assert end - start >= _MIN_RUN or (start, end) == (0, len(kinds))
        assert all(k in fits for k in kinds[start:end])
        expected = [column[i] or extras[i][2] for i in range(start, end)]  # type: ignore[index]
        assert run == expected


def test_a_classifying_walk_sends_its_files_kinds_as_a_column(tmp_path: Path) -> None:
    """With languages, the files of a walked directory come back classified in the
    chunk's kinds column (up to 1 MiB: d.py is 117 KiB); one counted by the general
    steps (a UTF-16 file, decoded) in its extras."""
    import io

    from linetally import _worker
    from linetally._reader import ReadSettings

    (tmp_path / "a.py").write_text("# c\n\nx = 1\n")
    (tmp_path / "b.rs").write_text("// c\nfn main() {}\n")
    (tmp_path / "c.txt").write_text("plain\n")
    (tmp_path / "d.py").write_text("x = 1\n" * 20000)
    (tmp_path / "e.py").write_text("x = 1\n" * 20000, encoding="utf-16")
    out = io.BytesIO()
    request = ("unit", Unit(str(tmp_path), "", 0), WalkSettings(ignore=False), False, False)
    _worker._walk_and_count(request, ReadSettings(languages=True), {}, out)
    out.seek(0)
    rows = {}
    while (chunk := _worker.read_frame(out)) is not None:
        names, codes, lines, _, extras, kinds, _ = chunk  # type: ignore[misc]
        assert kinds is not None and len(kinds) == len(names)
        for i, name in enumerate(names):
            assert codes[i] == _worker.OK
            rows[name] = (lines[i], kinds[i], extras.get(i))
    assert rows == {
        "a.py": (3, ("Python", 1, 1, 1), None),
        "b.rs": (2, ("Rust", 1, 1, 0), None),
        "c.txt": (1, ("Plain Text", 0, 1, 0), None),
        "d.py": (20000, ("Python", 20000, 0, 0), None),
        "e.py": (20000, None, (None, None, ("Python", 20000, 0, 0))),
    }


def test_a_stop_is_seen_within_a_few_files_of_a_directory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A stop request (Ctrl-C, fail-fast) waits for a few files, not a directory's run of them."""
    import io

    from linetally import _worker
    from linetally._reader import ReadSettings

    for i in range(300):
        (tmp_path / f"{i:03}.txt").write_text("a\n")
    real = _worker.count_run
    calls = 0

    def count_then_stop(*args: object) -> int:
        nonlocal calls
        calls += 1
        done = real(*args)  # type: ignore[arg-type]
        monkeypatch.setattr(_worker, "_stop", True)  # as SIGTERM's handler does
        return done

    monkeypatch.setattr(_worker, "count_run", count_then_stop)
    out = io.BytesIO()
    unit = Unit(str(tmp_path), "", 0)
    request = ("unit", unit, WalkSettings(ignore=False), False, False)
    _worker._walk_and_count(request, ReadSettings(), {}, out)
    out.seek(0)
    codes = b""
    while (got := _worker.read_frame(out)) is not None:
        codes += got[1]  # type: ignore[index]
    assert calls == 1
    assert len(codes) == 300
    assert 0 < codes.count(_worker.OK) <= _worker._RUN_FILES
    assert codes.count(_worker.CANCELLED) == 300 - codes.count(_worker.OK)


@settings(max_examples=200)
@given(
    language=st.sampled_from(["Python", None]),
    counts=st.lists(
        st.tuples(st.integers(0, 50), st.integers(0, 50), st.integers(0, 50)), min_size=1
    ),
)
def test_a_tally_adds_a_run_of_one_language_as_file_by_file(
    language: str | None, counts: list[tuple[int, int, int]]
) -> None:
    from linetally._model import Tally

    kinds = [
        (language, *c) if language else (None, None, None, None)  # type: ignore[misc]
        for c in counts
    ]
    lines = [sum(c) for c in counts]
    by_file, by_run = Tally(), Tally()
    for (_, code, comments, blanks), n in zip(kinds, lines, strict=True):
        by_file.add_counts(n, code, comments, blanks)
    by_run.add_run(kinds, lines)  # type: ignore[arg-type]
    assert by_run.totals() == by_file.totals()
