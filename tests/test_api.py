"""The library: the tutorial's scenarios, policies, and the except*-ready failures."""

from __future__ import annotations

import asyncio
import contextlib
import os
import subprocess
import sys
import sysconfig
from pathlib import Path

import pytest

import linetally
from linetally import FileResult, LinetallyError, Status, TooManyLines

from .conftest import oracle, paths_of

TUTORIAL = ["rot13.txt", "empty_file.txt", "not_utf8.txt", "wrong_name.txt"]


def by_path(report: linetally.Report) -> dict[str, FileResult]:
    return {r.path: r for r in report.results}


def test_tutorial_files_counted(tutorial: Path) -> None:
    report = linetally.count(["rot13.txt", "empty_file.txt", "not_utf8.txt"])
    assert [(r.path, r.status, r.lines) for r in report.results] == [
        ("rot13.txt", Status.OK, 13),
        ("empty_file.txt", Status.OK, 0),
        ("not_utf8.txt", Status.OK, 1),  # not UTF-8, still one line
    ]
    assert report.totals.lines == 14
    assert report.totals.bytes == 38 + 0 + 14
    assert report.ok
    report.raise_for_errors()  # nothing to raise


def test_not_utf8_under_strict_encoding_fails_with_offset(tutorial: Path) -> None:
    report = linetally.count(["not_utf8.txt"], encoding="utf-8")
    (result,) = report.results
    assert result.status is Status.ERROR
    assert isinstance(result.error, UnicodeDecodeError)
    assert result.error.byte_offset == 2  # type: ignore[attr-defined]
    assert result.error.path == "not_utf8.txt"  # type: ignore[attr-defined]
    assert "file: 'not_utf8.txt'" in result.error.__notes__


def test_decode_error_offset_is_absolute_across_chunks(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from linetally import _reader

    monkeypatch.setattr(_reader, "CHUNK_SIZE", 5)
    path = tmp_path / "late.txt"
    path.write_bytes("héllo wörld\n".encode() + b"abc\xff")
    (result,) = linetally.count([path], encoding="utf-8").results
    assert isinstance(result.error, UnicodeDecodeError)
    assert result.error.byte_offset == len("héllo wörld\n".encode()) + 3  # type: ignore[attr-defined]


def test_missing_file_is_file_not_found(tutorial: Path) -> None:
    (result,) = linetally.count(["wrong_name.txt"]).results
    assert result.status is Status.ERROR
    assert isinstance(result.error, FileNotFoundError)
    assert result.error.filename == "wrong_name.txt"
    assert result.error.path == "wrong_name.txt"  # type: ignore[attr-defined]


def test_all_together_every_good_file_counted_every_failure_grouped(tutorial: Path) -> None:
    report = linetally.count(TUTORIAL, encoding="utf-8")
    results = by_path(report)
    assert paths_of(report.results) == TUTORIAL  # input order
    assert results["rot13.txt"].lines == 13
    assert results["empty_file.txt"].lines == 0
    assert report.totals.errors == 2
    with pytest.RaisesGroup(UnicodeDecodeError, FileNotFoundError) as info:
        report.raise_for_errors()
    assert {e.path for e in info.value.exceptions} == {"not_utf8.txt", "wrong_name.txt"}


def test_except_star_catches_each_type(tutorial: Path) -> None:
    Path("long.txt").write_text("x\n" * 20)
    report = linetally.count([*TUTORIAL, "long.txt"], encoding="utf-8", max_lines=13)
    caught: dict[str, list[str]] = {}
    try:
        report.raise_for_errors()
    except* FileNotFoundError as group:
        caught["missing"] = [e.path for e in group.exceptions]  # type: ignore[attr-defined]
    except* UnicodeDecodeError as group:
        caught["encoding"] = [e.path for e in group.exceptions]  # type: ignore[attr-defined]
    except* TooManyLines as group:
        caught["long"] = [e.path for e in group.exceptions]  # type: ignore[attr-defined]
    assert caught == {
        "missing": ["wrong_name.txt"],
        "encoding": ["not_utf8.txt"],
        "long": ["long.txt"],  # rot13.txt has exactly 13: not over the limit
    }


def test_raise_errors_flag(tutorial: Path) -> None:
    with pytest.RaisesGroup(FileNotFoundError):
        linetally.count(TUTORIAL, raise_errors=True)


def test_too_many_lines_is_a_linetally_error_and_every_offender_reported(tutorial: Path) -> None:
    for i in range(5):
        Path(f"long{i}.txt").write_text("x\n" * (20 + i))
    report = linetally.count([f"long{i}.txt" for i in range(5)], max_lines=13)
    assert report.totals.errors == 5
    with pytest.RaisesGroup(TooManyLines, TooManyLines, TooManyLines, TooManyLines, TooManyLines):
        report.raise_for_errors()
    err = report.results[4].error
    assert isinstance(err, LinetallyError)
    assert isinstance(err, TooManyLines)
    assert (err.lines, err.limit) == (24, 13)
    assert report.results[4].lines == 24


def test_on_error_cancel_reports_failure_and_cancelled(tutorial: Path) -> None:
    report = linetally.count(
        ["wrong_name.txt", "rot13.txt", "empty_file.txt"], on_error="cancel", delay=0.05, jobs=1
    )
    statuses = {r.path: r.status for r in report.results}
    assert statuses == {
        "wrong_name.txt": Status.ERROR,
        "rot13.txt": Status.CANCELLED,
        "empty_file.txt": Status.CANCELLED,
    }
    assert report.totals.files == 3
    assert report.totals.cancelled == 2
    assert all(r.reason == "cancelled after a failure" for r in report.results[1:])
    with pytest.RaisesGroup(FileNotFoundError):
        report.raise_for_errors()


def test_on_error_cancel_stops_reads_in_flight(tutorial: Path) -> None:
    Path("slow.txt").write_text("x\n" * 1000)
    report = linetally.count(["slow.txt", "wrong_name.txt"], on_error="cancel", delay=0.01)
    # 1000 lines at 10 ms: the failure stopped the read long before its end
    assert by_path(report)["slow.txt"].status is Status.CANCELLED


def test_on_error_continue_never_stops_others(tutorial: Path) -> None:
    report = linetally.count(["wrong_name.txt", "rot13.txt"], delay=0.01)
    assert by_path(report)["rot13.txt"].lines == 13


def test_timeout_is_timeout_error(tutorial: Path) -> None:
    Path("slow.txt").write_text("x\n" * 100)
    report = linetally.count(["slow.txt", "rot13.txt"], timeout=0.2, delay=0.01)
    slow = by_path(report)["slow.txt"]
    assert slow.status is Status.ERROR
    assert isinstance(slow.error, TimeoutError)
    assert "0.2" in str(slow.error)
    with pytest.RaisesGroup(TimeoutError):
        report.raise_for_errors()


def test_directory_is_is_a_directory_error(tmp_path: Path) -> None:
    (result,) = linetally.count([tmp_path]).results
    assert isinstance(result.error, IsADirectoryError)


def test_binary_policies(tmp_path: Path) -> None:
    path = tmp_path / "blob.bin"
    path.write_bytes(b"\x00\x01\n\x02\n")
    (skipped,) = linetally.count([path]).results
    assert (skipped.status, skipped.reason, skipped.bytes) == (Status.SKIPPED, "binary", 5)
    (counted,) = linetally.count([path], binary="count").results
    assert (counted.status, counted.lines) == (Status.OK, 2)
    (failed,) = linetally.count([path], binary="error").results
    assert isinstance(failed.error, linetally.BinaryFileError)


def test_bad_options_are_rejected_up_front() -> None:
    with pytest.raises(ValueError, match="jobs"):
        linetally.count([], jobs=0)
    with pytest.raises(LookupError):
        linetally.count([], encoding="no-such-codec")
    with pytest.raises(ValueError, match="on_error"):
        linetally.count([], on_error="explode")  # type: ignore[arg-type]


def test_lone_path_is_one_input(tutorial: Path) -> None:
    (result,) = linetally.count("rot13.txt").results
    assert result.lines == 13


def test_count_async_and_iter_results(tutorial: Path) -> None:
    async def main() -> tuple[linetally.Report, list[FileResult]]:
        report = await linetally.count_async(TUTORIAL)
        streamed = [r async for r in linetally.iter_results(TUTORIAL)]
        return report, streamed

    report, streamed = asyncio.run(main())
    assert sorted(paths_of(streamed)) == sorted(TUTORIAL)
    assert report.totals.files == 4


def test_run_snapshot_and_stop(tutorial: Path) -> None:
    Path("slow.txt").write_text("x\n" * 1000)

    async def main() -> linetally.Report:
        run = linetally.Run(["slow.txt", "rot13.txt"], linetally.Options(delay=0.01))
        async with contextlib.aclosing(run.results()) as results:
            async for first in results:
                # rot13 finishes first; the slow one is still being read
                assert first.path == "rot13.txt"
                snap = run.snapshot()
                assert [row.path for row in snap.active] == ["slow.txt"]
                assert snap.active[0].lines > 0
                assert (snap.found, snap.done, snap.walk_done) == (2, 1, True)
                break
        # leaving the loop early stops the run; nothing is lost
        return run.report()

    report = asyncio.run(main())
    slow = by_path(report)["slow.txt"]
    assert (slow.status, slow.reason) == (Status.CANCELLED, "stopped")
    assert report.totals.files == 2


def test_many_files_bounded_and_in_order(tmp_path: Path) -> None:
    names = []
    for i in range(3000):
        p = tmp_path / f"f{i:05}.txt"
        p.write_bytes(b"x\n" * (i % 7))
        names.append(str(p))
    report = linetally.count(names, jobs=4)
    assert paths_of(report.results) == names
    assert [r.lines for r in report.results] == [i % 7 for i in range(3000)]


def test_standard_library_matches_oracle_file_by_file() -> None:
    stdlib = sysconfig.get_paths()["stdlib"]
    report = linetally.count(linetally.walk([stdlib], hidden=True, ignore=False), binary="count")
    checked = 0
    for r in report.results:
        if r.status is Status.OK:
            assert r.lines == oracle(r.path), r.path
            checked += 1
        else:
            assert r.status is Status.SKIPPED and r.reason in {"symlink", "special file"}, r
    assert checked > 1000
    assert report.totals.files == len(report.results)
    assert os.path.isdir(stdlib)


def _mixed_tree(root: Path, n: int) -> list[str]:
    names = []
    for i in range(n):
        p = root / f"f{i:05}.txt"
        p.write_bytes(b"x\r\n" * (i % 5) + (b"tail" if i % 3 else b""))
        names.append(str(p))
    (root / "blob.bin").write_bytes(b"\0" * 10)
    (root / "big.txt").write_bytes(b"line\n" * 300_000)  # over the workers' size limit
    (root / "latin.txt").write_bytes(b"caf\xe9\n")
    names[10:10] = [str(root / "missing.txt"), str(root / "blob.bin"), str(root)]
    names[100:100] = [str(root / "big.txt"), str(root / "latin.txt")]
    return names


def test_processes_give_the_same_results_as_threads(tmp_path: Path) -> None:
    names = _mixed_tree(tmp_path, 1500)
    with_procs = linetally.count(names, processes=2, encoding="utf-8", max_lines=3)
    threads_only = linetally.count(names, processes=0, encoding="utf-8", max_lines=3)

    def key(r: FileResult) -> tuple[object, ...]:
        return (r.path, r.status, r.lines, r.bytes, r.reason, type(r.error).__name__)

    assert [key(r) for r in with_procs.results] == [key(r) for r in threads_only.results]
    assert with_procs.totals == threads_only.totals
    assert by_path(with_procs)[str(tmp_path / "big.txt")].lines == 300_000
    # failures that came from a worker process keep their type, path and note
    errors = {type(r.error).__name__ for r in with_procs.failures}
    assert errors == {
        "FileNotFoundError",
        "IsADirectoryError",
        "UnicodeDecodeError",
        "TooManyLines",
    }
    for r in with_procs.failures:
        assert r.error is not None
        assert r.error.path == r.path  # type: ignore[attr-defined]
        assert f"file: {r.path!r}" in r.error.__notes__


def test_library_never_imports_rich_nor_prints(tutorial: Path) -> None:
    code = (
        "import sys, linetally\n"
        "r = linetally.count(['rot13.txt', 'wrong_name.txt', 'not_utf8.txt'], encoding='utf-8')\n"
        "assert not [m for m in sys.modules if m == 'rich' or m.startswith('rich.')]\n"
        "assert 'linetally._render' not in sys.modules and 'linetally._cli' not in sys.modules\n"
        "print(r.totals.errors)\n"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout == "2\n"  # only what the caller printed
    assert proc.stderr == ""
