"""Every path accounted for: bad inputs, files changing under us, limits, interrupts."""

from __future__ import annotations

import json
import os
import resource
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from pathlib import Path

import pytest

import linetally
from linetally import Status

from .conftest import NOT_UTF8, oracle, run_cli


def cli_json(*args: str, cwd: Path, **kw: object) -> tuple[int, dict, str]:  # type: ignore[type-arg]
    r = run_cli("--format", "json", *args, cwd=cwd, **kw)  # type: ignore[arg-type]
    assert "Traceback" not in r.err, r.err
    return r.code, json.loads(r.out), r.err


_MEASURE = """\
import resource, subprocess, sys
p = subprocess.run([sys.executable, "-m", "linetally", *sys.argv[1:]], stdout=subprocess.PIPE)
sys.stderr.buffer.write(p.stdout)
print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)
"""


def run_measured(args: list[str], cwd: Path, stdin: bytes = b"") -> tuple[bytes, int]:
    """Run linetally in a fresh wrapper; return its stdout and its peak RSS in KiB."""
    proc = subprocess.run(
        [sys.executable, "-c", _MEASURE, *args],
        cwd=cwd,
        input=stdin,
        capture_output=True,
        timeout=600,
    )
    return proc.stderr, int(proc.stdout)


def build_trouble(root: Path) -> dict[str, tuple[str, str | None]]:
    """A tree full of trouble; returns path -> (status, error type or reason) as expected."""
    tree = root / "tree"
    tree.mkdir()
    expected: dict[str, tuple[str, str | None]] = {}

    def put(name: str, data: bytes, status: str = "ok", what: str | None = None) -> None:
        with open(os.path.join(os.fsencode(tree), os.fsencode(name)), "wb") as f:
            f.write(data)
        expected["tree/" + name] = (status, what)

    put("plain.txt", b"one\ntwo\n")
    put("empty.txt", b"")
    put("no_final_newline.txt", b"a\nb")
    put("old_mac.txt", b"a\rb\rc\r")
    put("windows.txt", b"a\r\nb\r\n")
    put("not_utf8.txt", NOT_UTF8)
    put("blob.bin", b"\x00\x01\x02\n", "skipped", "binary")
    put("new\nline.txt", b"1\n")
    put("tab\there.txt", b"1\n2\n")
    put("esc\x1b[31mred.txt", b"x\n")
    put("[bold red]markup.txt", b"x\n")
    put(b"latin\xe9.txt".decode("utf-8", "surrogateescape"), b"x\ny\n")
    (tree / "sub").mkdir()
    put("sub/deep.txt", b"deep\n")
    os.symlink("plain.txt", tree / "link.txt")
    expected["tree/link.txt"] = ("skipped", "symlink")
    os.symlink("nowhere.txt", tree / "dangling.txt")
    expected["tree/dangling.txt"] = ("skipped", "symlink")
    os.mkfifo(tree / "fifo")
    expected["tree/fifo"] = ("skipped", "special file")
    return expected


def test_tree_full_of_trouble_every_path_accounted_for(tmp_path: Path) -> None:
    expected = build_trouble(tmp_path)
    long_name = "x" * 300
    explicit = {
        "missing.txt": ("error", "FileNotFoundError"),
        "tree/plain.txt/": ("error", "NotADirectoryError"),
        long_name: ("error", "OSError"),  # ENAMETOOLONG
    }
    code, doc, err = cli_json("tree", *explicit, cwd=tmp_path)
    assert code == 1
    got = [f["path"] for f in doc["files"]]
    assert len(got) == len(set(got))  # nothing twice
    assert set(got) == set(expected) | set(explicit)  # nothing dropped
    for f in doc["files"]:
        status, what = {**expected, **explicit}[f["path"]]
        assert f["status"] == status, f
        if status == "error":
            assert f["error"]["type"] == what, f
        elif status == "skipped":
            assert f["reason"] == what, f
        else:
            assert f["lines"] == oracle(
                tmp_path / os.fsencode(f["path"]).decode("utf-8", "surrogateescape")
            ), f
    t = doc["totals"]
    statuses = Counter(f["status"] for f in doc["files"])
    assert t["files"] == len(doc["files"])
    assert (t["ok"], t["errors"], t["skipped"], t["cancelled"]) == (
        statuses["ok"],
        statuses["error"],
        statuses["skipped"],
        statuses["cancelled"],
    )
    assert t["lines"] == sum(f["lines"] for f in doc["files"] if f["status"] == "ok")
    assert t["bytes"] == sum(f["bytes"] for f in doc["files"] if f["status"] == "ok")
    assert "File name too long" in err


def test_tree_full_of_trouble_through_the_library(tmp_path: Path) -> None:
    expected = build_trouble(tmp_path)
    os.chdir(tmp_path)
    report = linetally.count(linetally.walk(["tree"]))
    assert {r.path for r in report.results} == set(expected)
    for r in report.results:
        status, what = expected[r.path]
        assert r.status.value == status
        if r.status is Status.SKIPPED:
            assert r.reason == what
    assert report.totals.files == len(expected)


def test_follow_reports_loop_and_dangling_link(tmp_path: Path) -> None:
    (tmp_path / "a").mkdir()
    (tmp_path / "a" / "f.txt").write_text("1\n")
    os.symlink("..", tmp_path / "a" / "loop")
    os.symlink("gone", tmp_path / "a" / "dangling")
    code, doc, _ = cli_json("--follow", "a", cwd=tmp_path)
    by = {f["path"]: f for f in doc["files"]}
    assert by["a/f.txt"]["lines"] == 1
    assert by["a/dangling"]["error"]["type"] == "FileNotFoundError"
    # the link leads back to "a", which is being walked: reported once, never followed
    assert by["a/loop/a"]["error"] == {"type": "OSError", "message": "symlink loop"}
    assert len(doc["files"]) == 3
    assert code == 1


def test_permission_denied() -> None:
    """Run as another user (the tests run as root, who may read anything)."""
    with tempfile.TemporaryDirectory() as folder:  # pytest's own are private to root
        os.chmod(folder, 0o777)
        _permission_denied(Path(folder))


def _permission_denied(tmp_path: Path) -> None:
    secret = tmp_path / "secret.txt"
    secret.write_text("x\n")
    secret.chmod(0)
    (tmp_path / "open.txt").write_text("x\n")
    out, err = tmp_path / "out.json", tmp_path / "err.txt"
    # The other user may not read the interpreter's own files: import all first.
    import asyncio  # noqa: F401
    import csv  # noqa: F401

    import linetally._cli
    import linetally._engine
    import linetally._output
    import linetally._render
    import linetally._walk

    pid = os.fork()
    if pid == 0:  # the child: drop privileges, run the command, report through files
        code = 3
        try:
            os.setgid(65534)
            os.setuid(65534)
            os.chdir(tmp_path)
            with open(out, "w") as o, open(err, "w") as e:
                os.dup2(o.fileno(), 1)
                os.dup2(e.fileno(), 2)
                sys.stdout, sys.stderr = o, e
                code = linetally._cli.main(
                    ["--format", "json", "--no-progress", "secret.txt", "open.txt"]
                )
                o.flush()
                e.flush()
        finally:
            os._exit(code)
    _, status = os.waitpid(pid, 0)
    code = os.waitstatus_to_exitcode(status)
    if code == 3:  # pragma: no cover
        pytest.skip(f"could not run as another user: {err.read_text()[-500:]}")
    doc = json.loads(out.read_text())
    by = {f["path"]: f for f in doc["files"]}
    assert by["secret.txt"]["error"] == {"type": "PermissionError", "message": "Permission denied"}
    assert by["open.txt"]["lines"] == 1
    assert code == 1
    assert "1 file could not be read: permission denied" in err.read_text()


def test_fifo_named_explicitly_is_read(tmp_path: Path) -> None:
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)

    def writer() -> None:
        with open(fifo, "wb") as f:
            f.write(b"1\n2\n3\n")

    t = threading.Thread(target=writer)
    t.start()
    code, doc, _ = cli_json("fifo", cwd=tmp_path)
    t.join(5)
    assert (code, doc["files"][0]["lines"]) == (0, 3)


def test_fifo_without_writer_times_out_and_the_rest_is_counted(tmp_path: Path) -> None:
    os.mkfifo(tmp_path / "fifo")
    (tmp_path / "ok.txt").write_text("1\n")
    code, doc, _ = cli_json("--timeout", "1", "fifo", "ok.txt", cwd=tmp_path)
    by = {f["path"]: f for f in doc["files"]}
    assert by["fifo"]["error"]["type"] == "TimeoutError"
    assert by["ok.txt"]["lines"] == 1
    assert code == 1


def test_endless_input_times_out(tmp_path: Path) -> None:
    (tmp_path / "ok.txt").write_text("1\n")
    code, doc, _ = cli_json(
        "--timeout", "1", "--binary", "count", "/dev/zero", "ok.txt", cwd=tmp_path
    )
    by = {f["path"]: f for f in doc["files"]}
    assert by["/dev/zero"]["error"]["type"] == "TimeoutError"
    assert by["ok.txt"]["lines"] == 1
    # without --binary count, /dev/zero is binary: skipped at once
    code, doc, _ = cli_json("/dev/zero", cwd=tmp_path)
    assert (code, doc["files"][0]["reason"]) == (0, "binary")


def test_endless_text_stream_times_out(tmp_path: Path) -> None:
    fifo = tmp_path / "yes"
    os.mkfifo(fifo)
    done = threading.Event()

    def writer() -> None:
        with open(fifo, "wb") as f:
            while not done.is_set():
                try:
                    f.write(b"y\n" * 4096)
                except BrokenPipeError:
                    return

    t = threading.Thread(target=writer, daemon=True)
    t.start()
    code, doc, _ = cli_json("--timeout", "1", "yes", cwd=tmp_path)
    done.set()
    assert doc["files"][0]["error"]["type"] == "TimeoutError"
    assert code == 1


@pytest.mark.parametrize("change", ["grow", "truncate", "delete"])
def test_file_changing_while_counted(tmp_path: Path, change: str) -> None:
    path = tmp_path / "moving.txt"
    path.write_text("x\n" * 100)
    proc = subprocess.Popen(
        [sys.executable, "-m", "linetally", "--format", "json", "--delay", "0.005", "moving.txt"],
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    time.sleep(0.4)  # start-up, then mid-count
    if change == "grow":
        with open(path, "a") as f:
            f.write("x\n" * 1000)
    elif change == "truncate":
        os.truncate(path, 0)
    else:
        path.unlink()
    out, err = proc.communicate(timeout=30)
    assert b"Traceback" not in err
    assert proc.returncode in (0, 1)
    (f,) = json.loads(out)["files"]
    assert f["status"] in ("ok", "error")
    if f["status"] == "ok":
        assert f["lines"] >= 0


def test_big_file_truncated_while_counted(tmp_path: Path) -> None:
    path = tmp_path / "big.txt"
    with open(path, "wb") as f:
        for _ in range(64):
            f.write((b"x" * 99 + b"\n") * 10_000)  # 64 MB: counted in ranges, in threads

    def truncate_soon() -> None:
        time.sleep(0.25)
        os.truncate(path, 1000)

    t = threading.Thread(target=truncate_soon)
    t.start()
    code, doc, _ = cli_json("big.txt", cwd=tmp_path)
    t.join()
    (f,) = doc["files"]
    assert f["status"] in ("ok", "error")
    assert code in (0, 1)


def test_sparse_file_over_4_gib_with_fixed_memory(tmp_path: Path) -> None:
    path = tmp_path / "sparse.bin"
    with open(path, "wb") as f:
        f.truncate(5 * 2**30)
        for offset in (0, 2**32 - 1, 2**32 + 7, 5 * 2**30 - 3):
            f.seek(offset)
            f.write(b"\n")
    out, peak = run_measured(["--format", "json", "--binary", "count", "sparse.bin"], tmp_path)
    (f,) = json.loads(out)["files"]
    # 4 line ends, and the zeros after the last one make a last, unterminated line
    assert (f["lines"], f["bytes"]) == (5, 5 * 2**30)
    assert peak < 150 * 1024  # KiB: memory does not grow with the file


def test_descriptor_limit_with_many_jobs(tmp_path: Path) -> None:
    tree = tmp_path / "tree"
    tree.mkdir()
    for i in range(10_000):
        fd = os.open(tree / f"{i}.txt", os.O_WRONLY | os.O_CREAT)
        os.write(fd, b"x\n")
        os.close(fd)

    def limit() -> None:
        resource.setrlimit(resource.RLIMIT_NOFILE, (64, 64))

    for processes in ("0", "2"):
        proc = subprocess.run(
            [
                sys.executable,
                "-m",
                "linetally",
                "--format",
                "json",
                "--jobs",
                "500",
                "--processes",
                processes,
                "tree",
            ],
            cwd=tmp_path,
            capture_output=True,
            preexec_fn=limit,
            timeout=120,
        )
        assert proc.returncode == 0, proc.stderr[-2000:]
        doc = json.loads(proc.stdout)
        assert doc["totals"]["ok"] == 10_000
        assert doc["totals"]["lines"] == 10_000


def _blocked_on_a_fifo(tmp_path: Path) -> subprocess.Popen[bytes]:
    """linetally waiting on a FIFO with no writer and no timeout, a second in."""
    os.mkfifo(tmp_path / "fifo")
    proc = subprocess.Popen(
        [sys.executable, "-m", "linetally", "--format", "json", "fifo"],
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    time.sleep(1.0)
    return proc


def test_second_ctrl_c_exits_at_once(tmp_path: Path) -> None:
    proc = _blocked_on_a_fifo(tmp_path)
    proc.send_signal(signal.SIGINT)
    proc.send_signal(signal.SIGINT)
    proc.communicate(timeout=10)
    assert proc.returncode == 130


def test_ctrl_c_on_a_blocked_read_exits_and_leaves_no_thread_behind(tmp_path: Path) -> None:
    proc = _blocked_on_a_fifo(tmp_path)
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=10)
    assert proc.returncode == 130
    assert json.loads(out)["files"][0]["status"] == "cancelled"
    assert b"Traceback" not in err


@pytest.mark.slow
def test_jsonl_streams_with_flat_memory(tmp_path: Path) -> None:
    """50,000 then 200,000 paths through --files-from: memory does not grow per file."""
    (tmp_path / "a.txt").write_text("x\n")

    def peak(n: int) -> int:
        listing = (str(tmp_path / "a.txt") + "\n").encode() * n
        args = ["--format", "jsonl", "--files-from", "-"]
        out, kib = run_measured(args, tmp_path, stdin=listing)
        assert out.count(b"\n") == n
        return kib

    small, large = peak(50_000), peak(200_000)
    assert large - small < 20 * 1024, (small, large)  # KiB


def test_dev_stdin_named_explicitly(tmp_path: Path) -> None:
    r = run_cli(
        "--format", "json", "--timeout", "5", "/dev/stdin", cwd=tmp_path, input=b"a\nb\r\nc"
    )
    assert r.code == 0, r.err
    assert json.loads(r.out)["files"][0]["lines"] == 3
