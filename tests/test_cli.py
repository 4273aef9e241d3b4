"""The command line: each option, each exit status, stdout and stderr apart."""

from __future__ import annotations

import csv
import io
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from .conftest import NOT_UTF8, run_cli

TUTORIAL = ["rot13.txt", "empty_file.txt", "not_utf8.txt", "wrong_name.txt"]


def doc(out: str) -> dict:  # type: ignore[type-arg]
    return json.loads(out)  # type: ignore[no-any-return]


def files(out: str) -> dict[str, dict]:  # type: ignore[type-arg]
    return {f["path"]: f for f in doc(out)["files"]}


# -- exit status -----------------------------------------------------------------


def test_exit_0_when_nothing_failed(tutorial: Path) -> None:
    r = run_cli("rot13.txt", "empty_file.txt", "not_utf8.txt", cwd=tutorial)
    assert r.code == 0
    assert "rot13.txt" in r.out and "13" in r.out
    assert r.err == ""


def test_exit_1_when_a_file_failed_and_report_on_stderr(tutorial: Path) -> None:
    r = run_cli(*TUTORIAL, cwd=tutorial)
    assert r.code == 1
    assert "wrong_name.txt" in r.out  # its row in the table
    assert "1 file not found" in r.err
    assert "wrong_name.txt" in r.err


def test_skipped_files_are_fine(tmp_path: Path) -> None:
    (tmp_path / "blob.bin").write_bytes(b"\0\1\2")
    r = run_cli("--format", "json", "blob.bin", cwd=tmp_path)
    assert r.code == 0
    assert files(r.out)["blob.bin"]["status"] == "skipped"
    assert files(r.out)["blob.bin"]["reason"] == "binary"
    assert "1 skipped: binary" in r.err


@pytest.mark.parametrize(
    "args",
    [
        ["--jobs", "0"],
        ["--jobs", "many"],
        ["--on-error", "explode"],
        ["--format", "xml"],
        ["--timeout", "soon"],
        ["--max-lines", "-1"],
        ["--encoding", "no-such-codec", "x"],
        ["--files-from", "no-such-list"],
        ["--no-such-option"],
        ["--sort", "size"],
        ["--files-from", "-", "-"],
        ["-g", "a\\"],
        ["-g", "[z-a]"],
    ],
)
def test_exit_2_on_usage_error_one_line_no_traceback(tmp_path: Path, args: list[str]) -> None:
    r = run_cli(*args, cwd=tmp_path)
    assert r.code == 2
    assert r.out == ""
    assert len(r.err.strip().splitlines()) == 1, r.err
    assert r.err.startswith("linetally: error:")
    assert "Traceback" not in r.err


def test_version_and_help() -> None:
    r = run_cli("--version")
    assert r.code == 0
    assert r.out.startswith("linetally ")
    r = run_cli("--help")
    assert r.code == 0
    for option in (
        "--jobs",
        "--on-error",
        "--fail-fast",
        "--timeout",
        "--max-lines",
        "--encoding",
        "--binary",
        "--delay",
        "--traceback",
        "--no-progress",
        "--quiet",
        "--glob",
        "--hidden",
        "--no-ignore",
        "--follow",
        "--files-from",
        "--files0-from",
        "--sort",
        "--reverse",
        "--top",
        "--summary",
        "--format",
        "examples:",
    ):
        assert option in r.out, option


def test_exit_130_after_ctrl_c_with_partial_results(tmp_path: Path) -> None:
    for i in range(3):
        (tmp_path / f"f{i}.txt").write_text("x\n" * 500)
    proc = subprocess.Popen(
        [sys.executable, "-m", "linetally", "--format", "json", "--delay", "0.01", "."],
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    time.sleep(1.0)
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=10)
    assert proc.returncode == 130
    document = json.loads(out)
    assert document["interrupted"] is True
    assert {f["status"] for f in document["files"]} == {"cancelled"}
    assert all(f["reason"] == "interrupted" for f in document["files"])
    assert b"interrupted" in err
    assert b"Traceback" not in err


# -- formats -----------------------------------------------------------------------


def test_json_schema(tutorial: Path) -> None:
    r = run_cli("--format", "json", "--encoding", "utf-8", *TUTORIAL, cwd=tutorial)
    assert r.code == 1
    d = doc(r.out)
    assert set(d) == {"files", "totals", "interrupted"}
    assert d["interrupted"] is False
    assert d["totals"] == {
        "files": 4,
        "ok": 2,
        "errors": 2,
        "skipped": 0,
        "cancelled": 0,
        "lines": 13,
        "bytes": 38,
    }
    assert [f["path"] for f in d["files"]] == TUTORIAL
    for f in d["files"]:
        assert set(f) == {"path", "status", "lines", "bytes", "error", "reason"}
    by = {f["path"]: f for f in d["files"]}
    assert by["rot13.txt"] == {
        "path": "rot13.txt",
        "status": "ok",
        "lines": 13,
        "bytes": 38,
        "error": None,
        "reason": None,
    }
    assert by["not_utf8.txt"]["error"]["type"] == "UnicodeDecodeError"
    assert "byte offset 2" in by["not_utf8.txt"]["error"]["message"]
    assert by["wrong_name.txt"]["error"] == {
        "type": "FileNotFoundError",
        "message": "No such file or directory",
    }
    assert by["wrong_name.txt"]["lines"] is None


def test_jsonl_one_object_per_file(tutorial: Path) -> None:
    r = run_cli("--format", "jsonl", *TUTORIAL, cwd=tutorial)
    assert r.code == 1
    records = [json.loads(line) for line in r.out.splitlines()]
    assert sorted(x["path"] for x in records) == sorted(TUTORIAL)
    assert r.err == "linetally: 4 files: 1 failed (see the records above)\n"
    for x in records:
        assert set(x) == {"path", "status", "lines", "bytes", "error", "reason"}


def test_csv(tutorial: Path) -> None:
    r = run_cli("--format", "csv", *TUTORIAL, cwd=tutorial)
    rows = list(csv.reader(io.StringIO(r.out)))
    assert rows[0] == ["path", "status", "lines", "bytes", "error_type", "error_message", "reason"]
    assert rows[1] == ["rot13.txt", "ok", "13", "38", "", "", ""]
    assert rows[4][:5] == ["wrong_name.txt", "error", "", "", "FileNotFoundError"]


def test_table_has_rows_bars_and_total(tutorial: Path) -> None:
    r = run_cli("rot13.txt", "empty_file.txt", "not_utf8.txt", cwd=tutorial)
    lines = r.out.splitlines()
    row = next(line for line in lines if line.startswith("rot13.txt"))
    assert "□" in row
    assert any("total" in line and "14" in line for line in lines)


def test_sort_reverse_top(tmp_path: Path) -> None:
    for name, n in [("b.txt", 5), ("a.txt", 9), ("c.txt", 1)]:
        (tmp_path / name).write_text("x\n" * n)

    def order(*args: str) -> list[str]:
        r = run_cli("--format", "json", *args, "b.txt", "a.txt", "c.txt", cwd=tmp_path)
        return [f["path"] for f in doc(r.out)["files"]]

    assert order() == ["b.txt", "a.txt", "c.txt"]
    assert order("--sort", "lines") == ["c.txt", "b.txt", "a.txt"]
    assert order("--sort", "lines", "--reverse") == ["a.txt", "b.txt", "c.txt"]
    assert order("--sort", "path") == ["a.txt", "b.txt", "c.txt"]
    assert order("--sort", "bytes") == ["c.txt", "b.txt", "a.txt"]
    assert order("--top", "2") == ["a.txt", "b.txt"]
    r = run_cli("--top", "1", "b.txt", "a.txt", "c.txt", cwd=tmp_path)
    assert "a.txt" in r.out and "b.txt" not in r.out


def test_summary(tmp_path: Path) -> None:
    for i in range(10):
        (tmp_path / f"{i}.txt").write_text("x\n" * i)
    r = run_cli("--summary", ".", cwd=tmp_path)
    assert r.code == 0
    for word in ("min", "median", "p90", "max"):
        assert word in r.out
    assert "45" in r.out  # total lines
    assert "0.txt" not in r.out  # no per-file rows


# -- counting options -----------------------------------------------------------------


def test_max_lines_fails_every_offender(tmp_path: Path) -> None:
    for name, n in [("ok.txt", 3), ("long1.txt", 8), ("long2.txt", 9)]:
        (tmp_path / name).write_text("x\n" * n)
    r = run_cli("--max-lines", "5", "--format", "json", ".", cwd=tmp_path)
    assert r.code == 1
    f = files(r.out)
    assert f["./ok.txt"]["status"] == "ok"
    for name in ("./long1.txt", "./long2.txt"):
        assert f[name]["status"] == "error"
        assert f[name]["error"]["type"] == "TooManyLines"
    assert "2 files over 5 lines" in r.err


def test_encoding(tutorial: Path) -> None:
    r = run_cli("--encoding", "utf-8", "not_utf8.txt", cwd=tutorial)
    assert r.code == 1
    assert "not valid UTF-8" in r.err or "not valid utf-8" in r.err
    assert "byte offset 2" in r.err
    assert run_cli("--encoding", "latin-1", "not_utf8.txt", cwd=tutorial).code == 0


def test_binary_option(tmp_path: Path) -> None:
    (tmp_path / "blob.bin").write_bytes(b"\0\n\n")
    assert (
        files(run_cli("--format", "json", "--binary", "count", "blob.bin", cwd=tmp_path).out)[
            "blob.bin"
        ]["lines"]
        == 2
    )
    r = run_cli("--format", "json", "--binary", "error", "blob.bin", cwd=tmp_path)
    assert r.code == 1
    assert files(r.out)["blob.bin"]["error"]["type"] == "BinaryFileError"


def test_fail_fast_and_on_error_cancel(tutorial: Path) -> None:
    Path("slow.txt").write_text("x\n" * 300)
    for flag in (["--fail-fast"], ["--on-error", "cancel"]):
        r = run_cli(
            *flag,
            "--format",
            "json",
            "--delay",
            "0.01",
            "--jobs",
            "1",
            "wrong_name.txt",
            "slow.txt",
            "rot13.txt",
            cwd=tutorial,
        )
        assert r.code == 1
        f = files(r.out)
        assert f["wrong_name.txt"]["status"] == "error"
        assert f["slow.txt"]["status"] == "cancelled"
        assert f["rot13.txt"]["status"] == "cancelled"
        assert doc(r.out)["totals"]["cancelled"] == 2
        assert "2 files cancelled after a failure" in r.err


def test_on_error_continue_counts_the_rest(tutorial: Path) -> None:
    r = run_cli(
        "--on-error", "continue", "--format", "json", "wrong_name.txt", "rot13.txt", cwd=tutorial
    )
    assert files(r.out)["rot13.txt"]["lines"] == 13


def test_timeout(tutorial: Path) -> None:
    Path("slow.txt").write_text("x\n" * 300)
    r = run_cli(
        "--timeout",
        "0.3",
        "--delay",
        "0.01",
        "--format",
        "json",
        "slow.txt",
        "rot13.txt",
        cwd=tutorial,
    )
    assert r.code == 1
    f = files(r.out)
    assert f["slow.txt"]["error"]["type"] == "TimeoutError"  # 300 lines at 10 ms: 3 s
    assert f["rot13.txt"]["lines"] == 13
    assert "1 file took longer than 0.3 s" in r.err


def test_delay_paces_the_count(tutorial: Path) -> None:
    # 13 lines at 20 ms each cannot finish within 0.1 s; without --delay they do
    r = run_cli(
        "--delay", "0.02", "--timeout", "0.1", "--format", "json", "rot13.txt", cwd=tutorial
    )
    assert files(r.out)["rot13.txt"]["error"]["type"] == "TimeoutError"
    r = run_cli("--timeout", "0.1", "--format", "json", "rot13.txt", cwd=tutorial)
    assert files(r.out)["rot13.txt"]["lines"] == 13


def test_jobs(tmp_path: Path) -> None:
    for i in range(50):
        (tmp_path / f"{i}.txt").write_text("x\n")
    r = run_cli("--jobs", "1", "--format", "json", ".", cwd=tmp_path)
    assert doc(r.out)["totals"]["lines"] == 50


def test_traceback_prints_the_exception_group(tutorial: Path) -> None:
    r = run_cli("--traceback", "--encoding", "utf-8", *TUTORIAL, cwd=tutorial)
    assert r.code == 1
    assert "Exception Group Traceback" in r.err
    assert "FileNotFoundError" in r.err
    assert "UnicodeDecodeError" in r.err
    assert "file: 'wrong_name.txt'" in r.err  # the note


def test_quiet_and_no_progress(tutorial: Path) -> None:
    r = run_cli("--quiet", *TUTORIAL, cwd=tutorial)
    assert r.code == 1
    assert r.err == ""
    assert "rot13.txt" in r.out
    r = run_cli("--no-progress", *TUTORIAL, cwd=tutorial)
    assert "1 file not found" in r.err


def test_verbose_lists_skipped(tmp_path: Path) -> None:
    (tmp_path / "blob.bin").write_bytes(b"\0")
    assert "  blob.bin" not in run_cli("blob.bin", cwd=tmp_path).err
    assert "blob.bin" in run_cli("--verbose", "blob.bin", cwd=tmp_path).err


def test_demo(tmp_path: Path) -> None:
    r = run_cli("--demo", "--delay", "0", cwd=tmp_path)
    assert r.code == 1
    for name in ("rot13.txt", "empty_file.txt", "not_utf8.txt", "wrong_name.txt"):
        assert name in r.out
    assert "1 file not found" in r.err
    assert "1 file is not valid UTF-8" in r.err
    assert list(tmp_path.iterdir()) == []  # nothing left behind


# -- inputs ----------------------------------------------------------------------------


def test_no_path_means_current_folder(tmp_path: Path) -> None:
    (tmp_path / "a.txt").write_text("1\n2\n")
    r = run_cli("--format", "json", cwd=tmp_path)
    assert [f["path"] for f in doc(r.out)["files"]] == ["./a.txt"]


def test_stdin_as_dash() -> None:
    r = run_cli("--format", "json", "-", input=b"one\ntwo\r\nthree")
    assert files(r.out)["-"]["lines"] == 3


def test_files_from_and_files0_from(tmp_path: Path) -> None:
    (tmp_path / "a.txt").write_text("1\n")
    (tmp_path / "b c.txt").write_text("1\n2\n")
    (tmp_path / "list.txt").write_text("a.txt\nb c.txt\n")
    r = run_cli("--format", "json", "--files-from", "list.txt", cwd=tmp_path)
    assert doc(r.out)["totals"]["lines"] == 3
    r = run_cli("--format", "json", "--files0-from", "-", cwd=tmp_path, input=b"a.txt\0b c.txt\0")
    assert [f["path"] for f in doc(r.out)["files"]] == ["a.txt", "b c.txt"]


def test_hidden_ignore_glob_follow(tmp_path: Path) -> None:
    subprocess.run(["git", "init", "-q"], cwd=tmp_path, check=True)
    (tmp_path / ".gitignore").write_text("*.log\n")
    (tmp_path / "a.py").write_text("1\n")
    (tmp_path / "b.log").write_text("1\n")
    (tmp_path / ".hidden.py").write_text("1\n")
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "c.py").write_text("1\n")
    (tmp_path / "link.py").symlink_to("a.py")

    def walked(*args: str) -> set[str]:
        r = run_cli("--format", "json", *args, ".", cwd=tmp_path)
        return {f["path"] for f in doc(r.out)["files"] if f["status"] == "ok"}

    assert walked() == {"./a.py", "./sub/c.py"}
    assert "./b.log" in walked("--no-ignore")
    assert "./.hidden.py" in walked("--hidden")
    # as in ripgrep, a matching -g glob overrides the hidden and ignore rules
    assert walked("-g", "*.py", "-g", "!sub/") == {"./a.py", "./.hidden.py"}
    assert walked("-g", "!sub/") == {"./a.py"}
    assert "./link.py" in walked("--follow")
    r = run_cli("--format", "json", ".", cwd=tmp_path)
    assert files(r.out)["./link.py"]["reason"] == "symlink"
    # named explicitly, an ignored file is counted
    assert files(run_cli("--format", "json", "b.log", cwd=tmp_path).out)["b.log"]["lines"] == 1


def test_odd_names_round_trip_in_json(tmp_path: Path) -> None:
    names = ["new\nline.txt", "tab\there.txt", "esc\x1b[31m.txt", "[bold red]x.txt"]
    raw = b"latin\xe9.txt"
    for n in names:
        (tmp_path / n).write_text("1\n")
    with open(os.path.join(os.fsencode(tmp_path), raw), "wb") as f:
        f.write(b"1\n2\n")
    r = run_cli("--format", "json", ".", cwd=tmp_path)
    assert r.code == 0
    got = {os.fsencode(f["path"]): f["lines"] for f in doc(r.out)["files"]}
    for n in names:
        assert got[os.fsencode("./" + n)] == 1
    assert got[b"./" + raw] == 2
    # and the table shows them escaped, never raw
    r = run_cli(".", cwd=tmp_path)
    assert "\x1b" not in r.out
    assert "\\x1b[31m" in r.out
    assert "[bold red]x.txt" in r.out
    assert "\\xe9" in r.out


@pytest.mark.parametrize(("fmt", "first"), [("jsonl", b'{"path": '), ("table", b"path")])
def test_broken_pipe_is_quiet(tmp_path: Path, fmt: str, first: bytes) -> None:
    for i in range(2000):  # enough to start the counting processes too
        (tmp_path / f"{i}.txt").write_text("x\n")
    proc = subprocess.run(
        f"{sys.executable} -m linetally --format {fmt} . | head -1",
        shell=True,
        cwd=tmp_path,
        capture_output=True,
        timeout=60,
    )
    assert len(proc.stdout.splitlines()) == 1
    assert proc.stdout.startswith(first)
    assert proc.stderr == b""


def test_not_utf8_fixture_bytes() -> None:
    assert len(NOT_UTF8) == 14


def _worker_pids() -> set[int]:
    out = subprocess.run(["ps", "-eo", "pid,args"], capture_output=True, text=True).stdout
    return {int(line.split()[0]) for line in out.splitlines() if "linetally._worker" in line}


def test_ctrl_c_with_worker_processes_leaves_none_behind(tmp_path: Path) -> None:
    tree = tmp_path / "tree"
    tree.mkdir()
    for i in range(600):  # enough files for the counting processes to start
        (tree / f"{i}.txt").write_text("x\n" * i)
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)  # no writer: the run waits on it until Ctrl-C
    before = _worker_pids()
    proc = subprocess.Popen(
        [sys.executable, "-m", "linetally", "--format", "json", "--processes", "2", "tree", "fifo"],
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    time.sleep(1.5)
    assert len(_worker_pids() - before) == 2  # the workers are up
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=10)
    assert proc.returncode == 130, err
    document = json.loads(out)
    assert document["interrupted"] is True
    assert document["totals"]["ok"] == 600
    assert {f["path"]: f["status"] for f in document["files"]}["fifo"] == "cancelled"
    assert b"Traceback" not in err
    time.sleep(0.2)
    assert _worker_pids() - before == set()


def test_processes_option(tmp_path: Path) -> None:
    for i in range(700):
        (tmp_path / f"{i}.txt").write_bytes(b"x\r\n" * (i % 9) + b"end")
    (tmp_path / "bad.txt").write_bytes(b"\xff\n")
    outs = []
    for n in ("0", "1", "2"):
        r = run_cli("--format", "json", "--encoding", "utf-8", "--processes", n, ".", cwd=tmp_path)
        assert r.code == 1
        outs.append(doc(r.out))
    assert outs[0] == outs[1] == outs[2]
    assert outs[0]["totals"]["ok"] == 700
    assert run_cli("--processes", "-1").code == 2
