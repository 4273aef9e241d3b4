"""The command's counting processes forked up front (Linux): same results, none left behind."""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

import linetally
from linetally import _cli, _fork, _procs

from .conftest import run_cli

pytestmark = pytest.mark.skipif(sys.platform != "linux", reason="forks only on Linux")


def _workers() -> set[int]:
    out = subprocess.run(["ps", "-eo", "pid,args"], capture_output=True, text=True).stdout
    return {int(line.split()[0]) for line in out.splitlines() if "linetally._worker" in line}


def _tree(root: Path, dirs: int, files: int) -> Path:
    for d in range(dirs):
        sub = root / f"d{d:02}"
        sub.mkdir(parents=True)
        for i in range(files):
            (sub / f"{i}.txt").write_bytes(b"x\n" * (i % 7) + b"\r\nend" * (i % 3))
    return root


def test_forked_processes_count_as_threads_do(tmp_path: Path) -> None:
    tree = _tree(tmp_path / "tree", 8, 300)
    got = run_cli("--format", "json", "--processes", "2", str(tree))
    assert got.code == 0, got.err
    threads = linetally.count(linetally.walk([str(tree)]), processes=0)
    files = json.loads(got.out)["files"]
    assert [(f["path"], f["lines"], f["bytes"]) for f in files] == [
        (r.path, r.lines, r.bytes) for r in threads.results
    ]


def test_a_small_run_ends_its_unused_processes(tmp_path: Path) -> None:
    (tmp_path / "a.txt").write_text("1\n2\n")
    before = _workers()
    got = run_cli("--format", "json", "--processes", "2", str(tmp_path))
    assert got.code == 0, got.err
    assert json.loads(got.out)["totals"]["lines"] == 2
    assert _workers() - before == set()


def test_the_library_never_forks(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def no_fork() -> int:
        raise AssertionError("the library forked")

    _tree(tmp_path, 4, 300)
    monkeypatch.setattr(os, "fork", no_fork)
    report = linetally.count(linetally.walk([str(tmp_path)]), processes=2)
    assert report.totals.files == report.totals.ok == 1200
    assert _procs._spares == []


def test_no_fork_while_another_thread_runs(tmp_path: Path) -> None:
    parser = _cli.build_parser()
    args = _cli._parse(parser, ["--processes", "2", str(tmp_path)])
    _cli._check_usage(parser, args)
    release = threading.Event()
    other = threading.Thread(target=release.wait)
    other.start()
    try:
        _cli._prefork(args)
        assert _procs._spares == []
    finally:
        release.set()
        other.join()


def _release_and_check_reaped() -> int:
    """Release the spares; check that each one ended and was reaped; how many there were."""
    pids = [spare.pid for spare in _procs._spares]
    _procs.release_spares()
    assert _procs._spares == []
    for pid in pids:
        with pytest.raises(ChildProcessError):
            os.waitpid(pid, os.WNOHANG)  # reaped
    return len(pids)


def test_spares_are_released_when_no_pool_takes_them() -> None:
    _procs.prefork(2)
    assert _release_and_check_reaped() == 2


@pytest.mark.parametrize("closed", ["<&-", "2>&-"])
def test_forked_processes_with_stdin_or_stderr_closed(tmp_path: Path, closed: str) -> None:
    # A pipe may then take descriptor 0 (or 2): the processes must still get theirs.
    tree = _tree(tmp_path / "tree", 4, 300)
    proc = subprocess.run(
        f"{sys.executable} -m linetally --format json --processes 2 tree {closed}",
        shell=True,
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        stderr=None if closed == "2>&-" else subprocess.PIPE,
        timeout=60,
    )
    assert proc.returncode == 0, proc.stderr
    threads = linetally.count(linetally.walk([str(tree)]), processes=0)
    assert json.loads(proc.stdout)["totals"]["lines"] == threads.totals.lines


def _early_run(
    monkeypatch: pytest.MonkeyPatch, tree: Path, *argv: str
) -> tuple[argparse.Namespace, list[object]]:
    """The command's start, in this process: fork, walk ahead, hand each process a directory.

    The command forks only with one thread; earlier tests may have left daemon
    threads here, idle (the forked processes only serve their pipes).
    """
    monkeypatch.setattr(threading, "active_count", lambda: 1)
    parser = _cli.build_parser()
    args = _cli._parse(parser, ["--processes", "2", *argv, str(tree)])
    _cli._check_usage(parser, args)
    _cli._prefork(args)
    return args, [unit for spare in _procs._spares for unit in spare.units]


def test_forked_processes_start_on_their_first_directories_at_once(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    tree = _tree(tmp_path / "tree", 6, 200)
    args, units = _early_run(monkeypatch, tree, "--format", "json")
    try:
        # a few each: here all six directories (four a process at most)
        assert sorted(u.path for u in units) == [str(tree / f"d{i:02}") for i in range(6)]  # type: ignore[attr-defined]
        report = linetally.Run(args.walk, args.options)

        async def main() -> linetally.Report:
            return await report.complete()

        got = asyncio.run(main())
        assert _procs._spares == []  # the run took them, with their work under way
    finally:
        _procs.release_spares()
    threads = linetally.count(linetally.walk([str(tree)]), processes=0)
    assert [(r.path, r.lines, r.bytes) for r in got.results] == [
        (r.path, r.lines, r.bytes) for r in threads.results
    ]


def test_a_run_stopped_before_it_takes_the_first_directories_leaves_no_process(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    tree = _tree(tmp_path / "tree", 6, 200)
    before = _workers()
    args, units = _early_run(monkeypatch, tree)
    assert len(units) == 6
    run = linetally.Run(args.walk, args.options)
    run.stop()  # before it starts: the processes' directories are input not taken

    report = asyncio.run(run.complete())
    assert report.interrupted
    assert not any(r.path.startswith(str(tree / "d0")) for r in report.results)
    assert _procs._spares == []
    assert _workers() - before == set()


def test_forked_processes_given_work_and_never_taken_are_ended(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    tree = _tree(tmp_path / "tree", 4, 200)
    _, units = _early_run(monkeypatch, tree)
    assert len(units) == 4
    assert _release_and_check_reaped() == 2


@pytest.mark.parametrize("pidfd", [True, False], ids=["pidfd", "polled"])
def test_a_forked_process_s_exit_status_as_asyncio_gives_it(
    pidfd: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    if not pidfd:
        monkeypatch.delattr(os, "pidfd_open", raising=False)

    def child(how: str) -> int:
        pid = os.fork()
        if pid == 0:  # pragma: no cover - the child
            if how == "signal":
                os.kill(os.getpid(), 9)
            os._exit(3)
        return pid

    async def statuses() -> list[int]:
        exited, killed = child("exit"), child("signal")
        got = []
        for pid in (exited, killed):
            forked = _procs._Forked(pid, None, None)  # type: ignore[arg-type]
            got.append(await forked.wait())
            assert await forked.wait() == got[-1]  # asked again: the same, not waited twice
        return got

    assert asyncio.run(statuses()) == [3, -9]


def test_forked_processes_leave_the_terminal_and_the_cores_to_the_command() -> None:
    """Their own process group (a Ctrl-C reaches the command alone), the command's session
    (its autogroup), and a lower priority, so the command gets a core when it needs one."""
    _procs.prefork(2)
    try:
        ours = os.getpriority(os.PRIO_PROCESS, 0)
        for pid in [spare.pid for spare in _procs._spares]:
            deadline = time.monotonic() + 10
            while os.getpgid(pid) != pid and time.monotonic() < deadline:
                time.sleep(0.01)  # until the child has left our group
            assert os.getpgid(pid) == pid != os.getpgid(0)
            assert os.getsid(pid) == os.getsid(0)
            while os.getpriority(os.PRIO_PROCESS, pid) == ours and time.monotonic() < deadline:
                time.sleep(0.01)
            assert os.getpriority(os.PRIO_PROCESS, pid) == min(19, ours + _fork.NICE)
    finally:
        assert _release_and_check_reaped() == 2
