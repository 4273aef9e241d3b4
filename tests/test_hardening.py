"""Hardening: a bad argument is a usage error, an output that cannot be written ends in one
clear line, no option is silently ignored, and no result is lost or counted twice."""

from __future__ import annotations

import asyncio
import csv
import gc
import io
import json
import os
import pickle
import subprocess
import sys
import warnings
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

import linetally
from linetally import Status

from .conftest import Result, run_cli

TRACEBACK = "Traceback"


def usage_error(r: Result) -> str:
    """Check ``r`` is a usage error (exit 2, nothing on stdout, one line); return the line."""
    assert r.code == 2, (r.code, r.out, r.err)
    assert r.out == ""
    assert len(r.err.splitlines()) == 1, r.err
    assert r.err.startswith("linetally: error: ")
    assert TRACEBACK not in r.err
    return r.err


def doc(r: Result) -> dict[str, Any]:
    return json.loads(r.out)  # type: ignore[no-any-return]


@pytest.fixture
def tree(tmp_path: Path) -> Path:
    """src/a.py (1 line), src/pkg/b.py (2), src/pkg/sub/c.py (3), hidden src/.env (1)."""
    (tmp_path / "src" / "pkg" / "sub").mkdir(parents=True)
    (tmp_path / "src" / "a.py").write_text("1\n")
    (tmp_path / "src" / "pkg" / "b.py").write_text("1\n2\n")
    (tmp_path / "src" / "pkg" / "sub" / "c.py").write_text("1\n2\n3\n")
    (tmp_path / "src" / ".env").write_text("1\n")
    return tmp_path


# -- arguments --------------------------------------------------------------------------


@pytest.mark.parametrize("glob", ["*.py[", "[", "", " ", "#*.py", "a[]b", "!#*.py["])
def test_a_glob_that_selects_nothing_is_a_usage_error_naming_it(tree: Path, glob: str) -> None:
    err = usage_error(run_cli("-g", glob, "src", cwd=tree))
    assert repr(glob) in err


def test_a_negated_glob_starting_with_hash_excludes_that_name(tree: Path) -> None:
    (tree / "src" / "#notes").write_text("x\n")
    r = run_cli("--format", "json", "-g", "!#notes", "src", cwd=tree)
    assert r.code == 0
    assert "src/#notes" not in {f["path"] for f in doc(r)["files"]}
    assert doc(r)["totals"]["files"] == 3


def test_options_and_paths_in_any_order(tree: Path) -> None:
    r = run_cli("src/pkg", "--format", "json", "src/a.py", "--sort", "lines", cwd=tree)
    assert r.code == 0, r.err
    assert [f["path"] for f in doc(r)["files"]] == ["src/a.py", "src/pkg/b.py", "src/pkg/sub/c.py"]


def test_double_dash_ends_the_options(tree: Path) -> None:
    (tree / "--sort").write_text("a\nb\n")
    (tree / "-v").write_text("a\n")
    r = run_cli("--format", "json", "--", "--sort", "-v", cwd=tree)
    assert r.code == 0, r.err
    assert [(f["path"], f["lines"]) for f in doc(r)["files"]] == [("--sort", 2), ("-v", 1)]
    r = run_cli("src/a.py", "--format", "json", "--", "-v", cwd=tree)
    assert [f["path"] for f in doc(r)["files"]] == ["src/a.py", "-v"]


@pytest.mark.parametrize("option", ["--files-from", "--files0-from"])
@pytest.mark.parametrize("target", ["a-folder", "missing-list"])
def test_a_bad_file_list_is_a_usage_error(tree: Path, option: str, target: str) -> None:
    (tree / "a-folder").mkdir()
    err = usage_error(run_cli(option, target, "src", cwd=tree))
    assert option in err and target in err


@pytest.mark.skipif(os.geteuid() == 0, reason="root reads any file")
@pytest.mark.parametrize("option", ["--files-from", "--files0-from"])
def test_an_unreadable_file_list_is_a_usage_error(tree: Path, option: str) -> None:
    secret = tree / "list.txt"
    secret.write_text("src/a.py\n")
    secret.chmod(0)
    err = usage_error(run_cli(option, "list.txt", cwd=tree))
    assert "Permission denied" in err


@pytest.mark.skipif(not os.path.exists("/proc/self/mem"), reason="needs /proc")
def test_a_file_list_that_fails_while_read_keeps_the_results(tree: Path) -> None:
    # /proc/self/mem opens, and reading it from offset 0 fails with EIO.
    r = run_cli("--format", "json", "src/a.py", "--files-from", "/proc/self/mem", cwd=tree)
    assert r.code == 1
    assert [(f["path"], f["status"]) for f in doc(r)["files"]] == [("src/a.py", "ok")]
    assert r.err.startswith("linetally: error: could not read the whole file list of --files-from")
    assert len(r.err.splitlines()) == 1 and TRACEBACK not in r.err


@pytest.mark.parametrize("codec", ["rot13", "base64", "hex", "zlib"])
def test_only_text_encodings(tree: Path, codec: str) -> None:
    err = usage_error(run_cli("--encoding", codec, "src", cwd=tree))
    assert f"not a text encoding: {codec!r}" in err
    with pytest.raises(ValueError, match="not a text encoding"):
        linetally.count([tree / "src" / "a.py"], encoding=codec)


@pytest.mark.parametrize(
    "args",
    [
        ["--timeout", "0"],
        ["--timeout", "-1"],
        ["--timeout", "nan"],
        ["--timeout", "inf"],
        ["--jobs", "0"],
        ["--jobs", "-3"],
        ["--processes", "-1"],
        ["--max-lines", "-1"],
        ["--max-lines", "nan"],
        ["--top", "0"],
        ["--delay", "nan"],
        ["--delay", "-0.5"],
        ["--delay", "inf"],
    ],
)
def test_bad_numbers_are_usage_errors(tree: Path, args: list[str]) -> None:
    err = usage_error(run_cli(*args, "src", cwd=tree))
    assert args[0] in err


def test_the_library_refuses_docstrings_without_languages(tree: Path) -> None:
    with pytest.raises(ValueError, match="applies only with languages=True"):
        linetally.count([tree / "src" / "a.py"], docstrings="comment")
    report = linetally.count([tree / "src" / "a.py"], docstrings="comment", languages=True)
    assert report.totals.ok == 1


@pytest.mark.parametrize(
    ("args", "why"),
    [
        (["--timeout", "inf"], "must be a finite number, more than 0 seconds: 'inf'"),
        (["--timeout", "0"], "must be a finite number, more than 0 seconds: '0'"),
        (["--delay", "inf"], "must be a finite number, 0 or more seconds: 'inf'"),
    ],
)
def test_bad_seconds_say_what_is_wanted(tree: Path, args: list[str], why: str) -> None:
    err = usage_error(run_cli(*args, "src", cwd=tree))
    assert f"argument {args[0]}: {why}" in err


@pytest.mark.parametrize(
    "options",
    [
        {"timeout": 0},
        {"timeout": -1.0},
        {"timeout": float("nan")},
        {"timeout": float("inf")},
        {"jobs": 0},
        {"processes": -1},
        {"max_lines": -1},
        {"delay": float("nan")},
        {"delay": float("inf")},
        {"delay": -1.0},
    ],
)
def test_the_library_refuses_the_same_numbers(options: dict[str, Any]) -> None:
    with pytest.raises(ValueError):  # noqa: PT011 - each option has its own message
        linetally.count([], **options)


# -- output that cannot be written ------------------------------------------------------------


def _run(
    *args: str, cwd: Path, stdout: Any = subprocess.PIPE, stderr: Any = subprocess.PIPE, **kw: Any
) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run(
        [sys.executable, "-m", "linetally", *args],
        cwd=cwd,
        stdin=subprocess.DEVNULL,
        stdout=stdout,
        stderr=stderr,
        timeout=60,
        check=False,
        **kw,
    )


@pytest.mark.skipif(not os.path.exists("/dev/full"), reason="needs /dev/full")
@pytest.mark.parametrize("fmt", ["table", "json", "jsonl", "csv"])
def test_a_full_disk_on_stdout_is_one_line_and_status_1(tree: Path, fmt: str) -> None:
    with open("/dev/full", "w") as full:
        ran = _run("--format", fmt, "src", cwd=tree, stdout=full)
    err = ran.stderr.decode()
    assert ran.returncode == 1
    assert err.startswith("linetally: error: cannot write the result to standard output")
    assert len(err.splitlines()) == 1, err


def _close_stdout() -> None:
    os.close(1)


def _close_stderr() -> None:
    os.close(2)


@pytest.mark.parametrize("fmt", ["table", "json", "jsonl", "csv"])
def test_a_closed_stdout_is_one_line_and_nothing_counted(tree: Path, fmt: str) -> None:
    ran = _run("--format", fmt, "src", cwd=tree, preexec_fn=_close_stdout)
    err = ran.stderr.decode()
    assert ran.returncode == 2
    assert err.startswith("linetally: error: standard output is closed")
    assert len(err.splitlines()) == 1, err


@pytest.mark.parametrize("fmt", ["table", "json", "jsonl", "csv"])
@pytest.mark.parametrize("fail", [False, True])
def test_a_closed_stderr_leaves_the_whole_result_and_the_status(
    tree: Path, fmt: str, fail: bool
) -> None:
    args = ["--format", fmt, "-v", "src", *(["missing.txt"] if fail else [])]
    if fmt == "jsonl":
        args.remove("-v")
    full = _run(*args, cwd=tree)
    closed = _run(*args, cwd=tree, preexec_fn=_close_stderr)
    assert closed.returncode == full.returncode == (1 if fail else 0)
    if fmt == "jsonl":  # completion order
        assert sorted(closed.stdout.splitlines()) == sorted(full.stdout.splitlines())
    else:
        assert closed.stdout == full.stdout
    assert closed.stdout.count(b"src/pkg/sub/c.py") == 1


@pytest.fixture
def odd_names(tmp_path: Path) -> Path:
    """A file with a non-ASCII name, one whose name is not UTF-8, and a failure."""
    (tmp_path / "café.txt").write_text("x\ny\n")
    with open(os.path.join(os.fsencode(tmp_path), b"bad\xff.txt"), "wb") as f:
        f.write(b"z\n")
    return tmp_path


@pytest.mark.parametrize(
    "env",
    [{"PYTHONIOENCODING": "ascii"}, {"LC_ALL": "C", "PYTHONUTF8": "0"}, {"LC_ALL": "C"}],
    ids=["ascii", "C-no-utf8-mode", "C"],
)
@pytest.mark.parametrize("fmt", ["table", "json", "jsonl", "csv"])
def test_any_locale_any_name_every_format(odd_names: Path, env: dict[str, str], fmt: str) -> None:
    extra = [] if fmt == "jsonl" else ["-v", "--max-lines", "1"]
    r = run_cli("--format", fmt, *extra, ".", "missing.txt", cwd=odd_names, env=env)
    assert r.code == 1
    assert TRACEBACK not in r.err
    assert "Error" not in r.err.replace("FileNotFoundError", "").replace("TooManyLines", "")
    if fmt == "table":
        assert "caf" in r.out and "bad\\xff.txt" in r.out
        if env.get("PYTHONIOENCODING") == "ascii":
            assert "./caf\\xe9.txt" in r.out  # escaped for an ASCII output
            assert r.out.isascii() and r.err.isascii()
    elif fmt in ("json", "jsonl"):
        text = r.out if fmt == "jsonl" else "\n".join(r.out.splitlines()[1:-1])
        paths = {json.loads(line.strip().rstrip(","))["path"] for line in text.splitlines()}
        # The exact bytes of each name, whatever the locale decoded them as.
        raw = {p.encode("utf-8", "surrogateescape") for p in paths}
        assert {"./café.txt".encode(), b"./bad\xff.txt", b"missing.txt"} == raw
    else:  # csv: names as their raw bytes, whatever the locale
        rows = list(csv.reader(io.StringIO(r.out)))
        assert {"./café.txt", "./bad\udcff.txt", "missing.txt"} == {row[0] for row in rows[1:]}


# -- options that were ignored: each is applied or refused ----------------------------------

REFUSED = [
    (["--format", "jsonl", "--sort", "lines"], "--sort"),
    (["--format", "jsonl", "--top", "2"], "--top"),
    (["--format", "jsonl", "--reverse"], "--reverse"),
    (["--format", "jsonl", "--summary"], "--summary"),
    (["--format", "jsonl", "-v"], "--verbose"),
    (["--format", "jsonl", "--traceback"], "--traceback"),
    (["--summary", "--format", "csv"], "--summary"),
    (["--summary", "--top", "2"], "--top"),
    (["--summary", "--sort", "lines"], "--sort"),
    (["--summary", "--reverse"], "--reverse"),
    (["-q", "-v"], "--verbose"),
    (["-q", "--traceback"], "--traceback"),
    (["--fail-fast", "--on-error", "continue"], "--fail-fast"),
    (["--demo", "src"], "--demo"),
    (["--demo", "--files-from", "list.txt"], "--demo"),
    (["--processes", "2", "--delay", "0.01"], "--processes"),
    (["--processes", "2", "--timeout", "5"], "--processes"),
    (["--processes", "2", "--demo"], "--processes"),
]


@pytest.mark.parametrize(("args", "flag"), REFUSED, ids=[" ".join(a) for a, _ in REFUSED])
def test_a_combination_that_would_be_ignored_is_refused_saying_why(
    tree: Path, args: list[str], flag: str
) -> None:
    (tree / "list.txt").write_text("src/a.py\n")
    err = usage_error(run_cli(*args, *([] if "--demo" in args else ["src"]), cwd=tree))
    assert flag in err
    assert ":" in err.removeprefix("linetally: error: ")  # says why


def test_summary_adds_a_summary_object_to_json(tmp_path: Path) -> None:
    for i in range(10):
        (tmp_path / f"{i}.txt").write_text("x\n" * i)
    (tmp_path / "blob.bin").write_bytes(b"\0")
    plain = doc(run_cli("--format", "json", ".", cwd=tmp_path))
    r = run_cli("--format", "json", "--summary", ".", cwd=tmp_path)
    assert r.code == 0
    d = doc(r)
    assert list(d) == ["files", "totals", "interrupted", "summary"]
    assert {k: d[k] for k in plain} == plain  # the rest of the document is as without it
    assert d["summary"] == {
        "files": 10,
        "min": 0,
        "median": 4,
        "p90": 8,
        "max": 9,
        "histogram": [
            {"min": 0, "max": 0, "files": 1},
            {"min": 1, "max": 1, "files": 1},
            {"min": 2, "max": 3, "files": 2},
            {"min": 4, "max": 7, "files": 4},
            {"min": 8, "max": 15, "files": 2},
        ],
    }


def test_summary_in_json_with_sort_and_top(tmp_path: Path) -> None:
    for i in range(1, 4):
        (tmp_path / f"{i}.txt").write_text("x\n" * i)
    r = run_cli("--format", "json", "--summary", "--top", "2", "--sort", "path", ".", cwd=tmp_path)
    d = doc(r)
    assert [f["path"] for f in d["files"]] == ["./2.txt", "./3.txt"]
    assert (d["summary"]["files"], d["summary"]["max"]) == (3, 3)  # over every file


def test_summary_of_nothing_counted(tmp_path: Path) -> None:
    r = run_cli("--format", "json", "--summary", "missing.txt", cwd=tmp_path)
    assert doc(r)["summary"] == {
        "files": 0,
        "min": None,
        "median": None,
        "p90": None,
        "max": None,
        "histogram": [],
    }


def test_sort_top_and_reverse_order_csv(tmp_path: Path) -> None:
    for name, n in [("b.txt", 5), ("a.txt", 9), ("c.txt", 1)]:
        (tmp_path / name).write_text("x\n" * n)

    def order(*args: str) -> list[str]:
        r = run_cli("--format", "csv", *args, "b.txt", "a.txt", "c.txt", cwd=tmp_path)
        return [row[0] for row in list(csv.reader(io.StringIO(r.out)))[1:]]

    assert order("--sort", "lines") == ["c.txt", "b.txt", "a.txt"]
    assert order("--top", "2") == ["a.txt", "b.txt"]
    assert order("--top", "2", "--sort", "lines", "--reverse") == ["a.txt", "b.txt"]
    assert order("--reverse") == ["c.txt", "a.txt", "b.txt"]


@pytest.mark.parametrize("fmt", ["table", "json", "csv"])
def test_verbose_and_traceback_apply_to_every_kept_format(tree: Path, fmt: str) -> None:
    (tree / "blob.bin").write_bytes(b"\0\1")
    r = run_cli("--format", fmt, "-v", "--traceback", "blob.bin", "missing.txt", cwd=tree)
    assert r.code == 1
    assert "1 skipped: binary\n  blob.bin" in r.err  # -v lists it
    assert "FileNotFoundError" in r.err and TRACEBACK in r.err  # --traceback


def test_quiet_with_jsonl_writes_nothing_on_stderr(tree: Path) -> None:
    r = run_cli("--format", "jsonl", "-q", "missing.txt", cwd=tree)
    assert (r.code, r.err) == (1, "")


def test_fail_fast_with_on_error_cancel_agrees(tree: Path) -> None:
    r = run_cli("--fail-fast", "--on-error", "cancel", "--format", "json", "src", cwd=tree)
    assert r.code == 0


def test_the_table_on_a_pipe_never_cuts_paths_or_messages(tmp_path: Path) -> None:
    deep = tmp_path.joinpath(*[f"folder-number-{i}" for i in range(8)])
    deep.mkdir(parents=True)
    (deep / "a-file-with-a-long-name.txt").write_text("x\n" * 3)
    (tmp_path / "bad.txt").write_bytes(b"ok\n" * 40 + b"\xff")
    long_path = os.path.relpath(deep / "a-file-with-a-long-name.txt", tmp_path)
    r = run_cli("--encoding", "utf-8", ".", cwd=tmp_path, env={"COLUMNS": "40"})
    assert r.code == 1
    assert f"./{long_path}" in r.out
    assert "…" not in r.out
    row = next(line for line in r.out.splitlines() if line.startswith("./bad.txt"))
    assert row.endswith("at byte offset 120 (invalid start byte)")


def test_columns_sizes_the_bars_on_a_pipe(tmp_path: Path) -> None:
    (tmp_path / "a.txt").write_text("x\n" * 50)
    narrow = run_cli("a.txt", cwd=tmp_path, env={"COLUMNS": "40"}).out.splitlines()[1]
    wide = run_cli("a.txt", cwd=tmp_path, env={"COLUMNS": "120"}).out.splitlines()[1]
    assert len(narrow) == 40 and len(wide) == 120


# -- results that read wrong ---------------------------------------------------------------------


def test_csv_has_a_reason_column(tmp_path: Path) -> None:
    (tmp_path / "blob.bin").write_bytes(b"\0\1")
    (tmp_path / "a.txt").write_text("a\n")
    r = run_cli("--format", "csv", "blob.bin", "a.txt", "missing.txt", cwd=tmp_path)
    rows = list(csv.reader(io.StringIO(r.out)))
    assert rows[0][-1] == "reason" and len(rows[0]) == 7
    assert rows[1] == ["blob.bin", "skipped", "", "2", "", "", "binary"]
    assert rows[2] == ["a.txt", "ok", "1", "2", "", "", ""]
    assert rows[3][-1] == ""


def test_fail_fast_gives_one_reason_for_every_file_it_cancelled(tmp_path: Path) -> None:
    names = [f"f{i:03}.txt" for i in range(200)]
    for name in names:
        (tmp_path / name).write_text("x\n")
    r = run_cli("--fail-fast", "--format", "csv", "missing.txt", *names, cwd=tmp_path)
    assert r.code == 1
    rows = list(csv.DictReader(io.StringIO(r.out)))
    reasons = Counter(row["reason"] for row in rows if row["status"] == "cancelled")
    assert set(reasons) == {"cancelled after a failure"}, reasons
    assert "stopped" not in r.err


def test_fail_fast_reason_in_the_library(tmp_path: Path) -> None:
    names = [tmp_path / f"f{i:03}.txt" for i in range(100)]
    for name in names:
        name.write_text("x\n")
    report = linetally.count([tmp_path / "missing.txt", *names], on_error="cancel", jobs=1)
    cancelled = [r for r in report.results if r.status is Status.CANCELLED]
    assert cancelled
    assert {r.reason for r in cancelled} == {"cancelled after a failure"}


def test_max_lines_offenders_show_their_count_in_the_table(tmp_path: Path) -> None:
    (tmp_path / "ok.txt").write_text("x\n" * 3)
    (tmp_path / "long.txt").write_text("x\n" * 12)
    r = run_cli("--max-lines", "5", "ok.txt", "long.txt", cwd=tmp_path)
    assert r.code == 1
    row = next(line for line in r.out.splitlines() if line.startswith("long.txt"))
    assert row.split()[:2] == ["long.txt", "12"]
    assert row.endswith("error: over the limit of 5 lines")
    total = r.out.splitlines()[-1]
    assert total.split()[:4] == ["total:", "2", "files", "3"]  # the ok files only
    f = {x["path"]: x for x in doc(run_cli("--format", "json", "--max-lines", "5", "long.txt",
                                           cwd=tmp_path))["files"]}  # fmt: skip
    assert (f["long.txt"]["status"], f["long.txt"]["lines"]) == ("error", 12)


def _by_path(r: Result) -> dict[str, tuple[str, str | None]]:
    """Each path's (status, reason); a path given twice (a root and a duplicate) as a pair."""
    out: dict[str, Any] = {}
    for f in doc(r)["files"]:
        row = (f["status"], f["reason"])
        out[f["path"]] = (out[f["path"]], row) if f["path"] in out else row
    return out


OK = ("ok", None)
DUP = ("skipped", "duplicate")


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (
            ["src", "src/pkg", "./src"],
            {"src/a.py": OK, "src/pkg/b.py": OK, "src/pkg/sub/c.py": OK, "src/pkg": DUP,
             "./src": DUP},
        ),
        (
            ["src/pkg", "src"],
            {"src/pkg/b.py": OK, "src/pkg/sub/c.py": OK, "src/a.py": OK, "src/pkg": DUP},
        ),
        (
            ["src", "src/pkg/b.py"],
            {"src/a.py": OK, "src/pkg/b.py": (OK, DUP), "src/pkg/sub/c.py": OK},
        ),
        (
            ["src/pkg/sub/c.py", "src"],
            {"src/pkg/sub/c.py": (OK, DUP), "src/a.py": OK, "src/pkg/b.py": OK},
        ),
        (  # a name hidden from the walk is counted when named, once
            ["src", "src/.env"],
            {"src/a.py": OK, "src/pkg/b.py": OK, "src/pkg/sub/c.py": OK, "src/.env": OK},
        ),
        (  # globs are relative to each root: what the first walk left out, the second finds
            ["-g", "pkg/*.py", "src", "src/pkg"],
            {"src/pkg/b.py": OK},
        ),
        (
            ["-g", "*.py", "src/pkg", "src"],
            {"src/pkg/b.py": (OK, DUP), "src/pkg/sub/c.py": (OK, DUP), "src/a.py": OK},
        ),
    ],
    ids=lambda v: " ".join(v) if isinstance(v, list) else "",
)  # fmt: skip
def test_overlapping_roots_count_each_file_once(
    tree: Path, args: list[str], expected: dict[str, Any]
) -> None:
    r = run_cli("--format", "json", *args, cwd=tree)
    assert r.code == 0, r.err
    assert _by_path(r) == expected
    got = doc(r)
    ok_paths = [f["path"] for f in got["files"] if f["status"] == "ok"]
    assert len({os.path.realpath(tree / p) for p in ok_paths}) == len(ok_paths)
    assert got["totals"]["lines"] == sum(f["lines"] for f in got["files"] if f["status"] == "ok")


def test_overlapping_roots_total_as_tokei(tree: Path) -> None:
    once = doc(run_cli("--format", "json", "src", cwd=tree))["totals"]
    r = run_cli("--format", "json", "src", "src/pkg", "./src", "src/a.py", cwd=tree)
    totals = doc(r)["totals"]
    assert (totals["lines"], totals["ok"]) == (once["lines"], once["ok"]) == (6, 3)
    assert totals["skipped"] == 3
    assert "3 skipped: duplicate" in r.err


def test_overlap_through_a_symlinked_root(tree: Path) -> None:
    (tree / "link").symlink_to("src/pkg")
    r = run_cli("--format", "json", "src", "link", "link/b.py", cwd=tree)
    got = _by_path(r)
    assert got["link"] == DUP and got["link/b.py"] == DUP
    assert doc(r)["totals"]["ok"] == 3


def test_walk_reports_duplicates_lazily_and_keeps_going(
    tree: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tree)
    entries = list(linetally.walk(["src/pkg", "src", "src/pkg/b.py", "src/a.py"]))
    assert [(e.path, e.skip_reason) for e in entries] == [
        ("src/pkg/b.py", None),
        ("src/pkg/sub/c.py", None),
        ("src/a.py", None),
        ("src/pkg", "duplicate"),
        ("src/pkg/b.py", "duplicate"),
        ("src/a.py", "duplicate"),
    ]


def test_many_file_roots_then_their_folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    names = [f"f{i:05}.txt" for i in range(1500)]
    for name in names:
        (tmp_path / name).write_text("x\n")
    (tmp_path / "other.txt").write_text("y\n")
    monkeypatch.chdir(tmp_path)
    entries = list(linetally.walk([*names, "."]))
    assert Counter(e.skip_reason for e in entries) == {None: 1501, "duplicate": 1500}
    assert [e.path for e in entries if e.skip_reason is None][-1] == "./other.txt"


def test_demo_lasts_long_enough_to_watch(tmp_path: Path) -> None:
    from linetally._cli import _options, build_parser
    from linetally._demo import DEMO_FILES

    args = build_parser().parse_args(["--demo"])
    options = _options(args)
    longest = max(content.count(b"\n") + 1 for content in DEMO_FILES.values() if content)
    assert longest * options.delay >= 2  # seconds to watch the longest row grow
    assert options.jobs == len(DEMO_FILES)  # every row grows at once
    # Behaviour: the longest file cannot be counted within a second.
    r = run_cli("--demo", "--timeout", "1", "--format", "json", cwd=tmp_path)
    counted = {f["path"]: f for f in doc(r)["files"]}
    assert counted["count.py"]["error"]["type"] == "TimeoutError"


# -- library ----------------------------------------------------------------------------------


@pytest.mark.parametrize("bad", [None, 3, b"name.txt", 2.5])
def test_a_path_that_is_not_a_path_is_a_type_error_before_counting(
    tmp_path: Path, bad: object, monkeypatch: pytest.MonkeyPatch
) -> None:
    from linetally import _engine

    good = tmp_path / "a.txt"
    good.write_text("a\n")
    calls: list[str] = []
    real = _engine.count_file

    def spy(job: Any, *args: Any, **kwargs: Any) -> Any:
        calls.append(job.path)
        return real(job, *args, **kwargs)

    monkeypatch.setattr(_engine, "count_file", spy)
    with pytest.raises(TypeError, match=type(bad).__name__) as caught:
        linetally.count([good, bad])
    assert repr(bad)[:10] in str(caught.value)
    assert calls == []


def test_a_lazy_input_with_a_bad_item_is_a_type_error(tmp_path: Path) -> None:
    good = tmp_path / "a.txt"
    good.write_text("a\n")

    def paths() -> Iterator[object]:
        yield good
        yield None

    with pytest.raises(TypeError, match="NoneType"):
        linetally.count(paths())  # type: ignore[arg-type]

    async def stream() -> list[linetally.FileResult]:
        return [r async for r in linetally.iter_results(paths())]  # type: ignore[arg-type]

    with pytest.raises(TypeError, match="NoneType"):
        asyncio.run(stream())


def test_count_inside_a_running_loop_says_to_await_count_async(tmp_path: Path) -> None:
    async def main() -> None:
        linetally.count([tmp_path])

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        with pytest.raises(RuntimeError, match=r"await linetally\.count_async"):
            asyncio.run(main())
        gc.collect()
    assert not [w for w in caught if "never awaited" in str(w.message)]


def test_a_decode_error_gives_the_position_in_the_file(tmp_path: Path) -> None:
    path = tmp_path / "late.txt"
    path.write_bytes(b"a" * 400_000 + b"\xe5z")
    (result,) = linetally.count([path], encoding="utf-8").results
    error = result.error
    assert isinstance(error, UnicodeDecodeError)
    assert type(error).__name__ == "UnicodeDecodeError"
    assert error.byte_offset == 400_000  # type: ignore[attr-defined]
    assert "in position 400000:" in str(error)
    assert error.object[error.start : error.end] == b"\xe5"
    again = pickle.loads(pickle.dumps(error))
    assert (str(again), again.byte_offset, again.path) == (str(error), 400_000, str(path))


def test_decode_errors_from_counting_processes(tmp_path: Path) -> None:
    paths = []
    for i in range(600):
        p = tmp_path / f"{i:03}.txt"
        p.write_bytes(b"x\n" * 10 + (b"\xff" if i % 100 == 0 else b""))
        paths.append(p)
    report = linetally.count(paths, encoding="utf-8", processes=2)
    failures = report.failures
    assert len(failures) == 6
    for r in failures:
        assert isinstance(r.error, UnicodeDecodeError)
        assert "in position 20:" in str(r.error)


@given(
    added=st.lists(st.integers(min_value=0, max_value=2**64 - 1), max_size=300),
    probes=st.lists(st.integers(min_value=0, max_value=2**64 - 1), max_size=50),
)
def test_the_inode_table_is_a_set(added: list[int], probes: list[int]) -> None:
    from linetally._walk import _Inodes

    table = _Inodes()
    for ino in added:
        table.add(ino)
    assert bool(table) == bool(added)
    for ino in [*added, *probes, *(i + 1 for i in added if i < 2**64 - 1)]:
        assert (ino in table) == (ino in set(added))
