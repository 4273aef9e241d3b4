"""Counting on a Dask cluster: a LocalCluster of two worker processes on 127.0.0.1."""

from __future__ import annotations

import asyncio
import json
import logging
import os
import re
import signal
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from linetally import Options, Run, Status, __version__, count, walk
from linetally._errors import describe
from tests.conftest import NOT_UTF8, run_cli

distributed = pytest.importorskip("distributed")
dask = pytest.importorskip("dask")

from linetally._cluster import (  # noqa: E402
    _BATCH_FILES,
    ClusterError,
    ClusterVersionError,
    WorkerLost,
)


def _local_cluster(scratch: Path, threads: int = 2) -> Any:
    """Two worker processes; everything (scheduler, workers, their HTTP servers) on 127.0.0.1."""
    return distributed.LocalCluster(
        n_workers=2,
        threads_per_worker=threads,
        processes=True,
        host="127.0.0.1",
        dashboard_address="127.0.0.1:0",
        worker_dashboard_address="127.0.0.1:0",
        silence_logs=logging.ERROR,
        local_directory=str(scratch),
    )


@pytest.fixture(scope="module")
def address(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    cluster = _local_cluster(tmp_path_factory.mktemp("dask"))
    try:
        yield cluster.scheduler_address
    finally:
        cluster.close()


@pytest.fixture
def tree(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A folder with every kind of outcome; also the working directory (relative paths)."""
    root = tmp_path / "tree"
    (root / "sub").mkdir(parents=True)
    (root / "ok.txt").write_bytes(b"one\ntwo\nthree\n")
    (root / "empty.txt").touch()
    (root / "unterminated.txt").write_bytes(b"a\nb")
    (root / "crlf.txt").write_bytes(b"a\r\nb\r\nc\r\n")
    (root / "cr.txt").write_bytes(b"a\rb\rc")
    (root / "not_utf8.txt").write_bytes(NOT_UTF8)
    (root / "utf16.txt").write_bytes("x\ny\nz\n".encode("utf-16"))
    (root / "binary.bin").write_bytes(b"ab\0cd\nef\n")
    (root / "sub" / "long.txt").write_bytes(b"line\n" * 50)
    (root / "sub" / "big.txt").write_bytes(b"0123456789abcde\n" * 200_000)  # 3.2 MB
    (root / "sub" / "na\xefve-\udce9.txt").write_bytes(b"name not utf-8\n")
    (root / "link").symlink_to("ok.txt")
    monkeypatch.chdir(tmp_path)
    return Path("tree")


def _inputs(tree: Path) -> list[Any]:
    # A walk, plus explicit paths: a missing file, a directory, a file below a file.
    return [*walk([str(tree)]), "tree/missing.txt", "tree/sub", "tree/ok.txt/x"]


def _facts(results: list[Any]) -> list[tuple[object, ...]]:
    facts = []
    for r in results:
        e = r.error
        facts.append(
            (
                r.path,
                r.status,
                r.lines,
                r.bytes,
                r.reason,
                (r.language, r.code, r.comments, r.blanks),
                None if e is None else type(e),
                None if e is None else describe(e),
                getattr(e, "errno", None),
                getattr(e, "filename", None),
                getattr(e, "path", None),
                getattr(e, "byte_offset", None),
                getattr(e, "lines", None),
                getattr(e, "limit", None),
                getattr(e, "__notes__", None),
            )
        )
    return facts


OPTIONS: list[dict[str, Any]] = [
    {},
    {"encoding": "utf-8"},
    {"binary": "count"},
    {"binary": "error", "max_lines": 2},
    {"languages": True, "docstrings": "comment"},
]


@pytest.mark.parametrize("options", OPTIONS, ids=lambda o: ",".join(o) or "defaults")
def test_results_are_the_same_as_a_local_run(
    address: str, tree: Path, options: dict[str, Any]
) -> None:
    here = count(_inputs(tree), **options)
    there = count(_inputs(tree), scheduler=address, **options)
    assert _facts(there.results) == _facts(here.results)
    assert there.totals == here.totals
    statuses = {r.status for r in there.results}
    assert Status.OK in statuses and Status.ERROR in statuses


def test_a_client_can_be_passed_instead_of_an_address(address: str, tree: Path) -> None:
    here = count(_inputs(tree))
    with distributed.Client(address, set_as_default=False) as client:
        there = count(_inputs(tree), scheduler=client)
        assert _facts(there.results) == _facts(here.results)
        assert client.status == "running"  # the caller's client is left open


def test_an_asynchronous_client_on_the_same_loop_is_used_as_is(address: str, tree: Path) -> None:
    from linetally import count_async

    async def main() -> list[Any]:
        async with distributed.Client(address, asynchronous=True) as client:
            report = await count_async(_inputs(tree), scheduler=client)
            assert client.status == "running"
            return report.results

    assert _facts(asyncio.run(main())) == _facts(count(_inputs(tree)).results)


def test_fail_fast_cancels_the_rest(address: str, tmp_path: Path) -> None:
    for i in range(3000):
        (tmp_path / f"f{i:04}.txt").write_bytes(b"x\n" * (i % 7))
    paths = [str(tmp_path / "missing.txt"), *sorted(str(p) for p in tmp_path.iterdir())]
    report = count(paths, scheduler=address, on_error="cancel")
    assert len(report.results) == len(paths)
    assert [r.path for r in report.results] == paths
    first = report.results[0]
    assert first.status is Status.ERROR and isinstance(first.error, FileNotFoundError)
    cancelled = [r for r in report.results if r.status is Status.CANCELLED]
    assert cancelled
    assert {r.reason for r in cancelled} == {"cancelled after a failure"}
    t = report.totals
    assert t.ok + t.errors + t.skipped + t.cancelled == t.files == len(paths)


def _fifo_and_files(tmp_path: Path, n: int = _BATCH_FILES) -> tuple[list[str], str]:
    """``n`` small files, then a FIFO: by default a batch of files, then the FIFO alone."""
    files = []
    for i in range(n):
        p = tmp_path / f"f{i:03}.txt"
        p.write_bytes(b"a\n" * (i + 1))
        files.append(str(p))
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)  # no writer: a worker reading it waits until stopped
    return files, str(fifo)


def test_stop_keeps_partial_results_and_ends_the_blocked_read(address: str, tmp_path: Path) -> None:
    files, fifo = _fifo_and_files(tmp_path)

    async def main() -> Any:
        # Stop once the files are in (a batch of their own, the FIFO alone), or
        # after a few seconds if a batch holds both: the worker counted the files first.
        run = Run([*files, fifo], Options(scheduler=address))
        seen = 0
        later = asyncio.get_running_loop().call_later(5, run.stop)
        async with asyncio.timeout(60):  # a hang guard, not a measurement
            async for _ in run:
                seen += 1
                if seen == len(files):
                    run.stop()
        later.cancel()
        return run.report()

    report = asyncio.run(main())
    assert report.interrupted
    by_path = {r.path: r for r in report.results}
    assert [by_path[f].lines for f in files] == list(range(1, len(files) + 1))
    assert by_path[fifo].status is Status.CANCELLED
    assert by_path[fifo].reason == "interrupted"


def test_ctrl_c_prints_partial_results_and_exits_130(address: str, tmp_path: Path) -> None:
    files, fifo = _fifo_and_files(tmp_path)
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "linetally",
            "--format",
            "jsonl",
            "--scheduler",
            address,
            *files,
            fifo,
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    assert proc.stdout is not None
    # Ctrl-C once the files are in, or after a few seconds if a batch holds the FIFO too.
    once = threading.Lock()  # a second Ctrl-C would exit at once, without the results

    def ctrl_c() -> None:
        if once.acquire(blocking=False):
            proc.send_signal(signal.SIGINT)

    later = threading.Timer(5, ctrl_c)
    later.start()
    lines = [proc.stdout.readline() for _ in files]
    later.cancel()
    ctrl_c()
    rest, err = proc.communicate(timeout=30)
    assert proc.returncode == 130
    docs = [json.loads(line) for line in [*lines, *rest.splitlines()]]
    assert [d["path"] for d in docs] == [*files, fifo]
    assert all(d["status"] == "ok" for d in docs[:-1])
    assert docs[-1]["status"] == "cancelled" and docs[-1]["reason"] == "interrupted"
    assert err.decode().endswith("linetally: interrupted: the results above are partial\n")


@pytest.mark.parametrize("allowed_failures", [3, 0])
def test_a_worker_killed_mid_run_loses_no_file(tmp_path: Path, allowed_failures: int) -> None:
    """Dask runs a dead worker's batch again elsewhere; past its allowed failures, errors."""
    paths = []
    for i in range(8):
        p = tmp_path / f"slow{i}.txt"
        p.write_bytes(b"x\n" * 10)
        paths.append(str(p))

    async def main(address: str) -> Any:
        # --delay paces each line, so every batch is still running when a worker dies.
        run = Run(paths, Options(scheduler=address, delay=0.05))
        consume = asyncio.create_task(_drain(run))
        async with distributed.Client(address, asynchronous=True) as client:
            async with asyncio.timeout(60):
                while not any((await client.processing()).values()):
                    await asyncio.sleep(0.05)
                busy = next(w for w, keys in (await client.processing()).items() if keys)
                pids = await client.run(os.getpid)
                os.kill(pids[busy], signal.SIGKILL)
                await consume
        return run.report()

    with dask.config.set({"distributed.scheduler.allowed-failures": allowed_failures}):
        cluster = _local_cluster(tmp_path / "dask", threads=1)
    try:
        report = asyncio.run(main(cluster.scheduler_address))
    finally:
        cluster.close()
    assert [r.path for r in report.results] == paths
    for r in report.results:
        # Retried on the other worker (counted), or reported: never lost.
        assert (r.status, r.lines) == (Status.OK, 10) or isinstance(r.error, WorkerLost)
    assert report.totals.cancelled == 0
    lost = [r for r in report.results if isinstance(r.error, WorkerLost)]
    if allowed_failures == 0:
        assert lost
        assert all(r.error.path == r.path for r in lost)  # type: ignore[union-attr]
    else:
        assert not lost
    print(f"\nworker killed, allowed failures {allowed_failures}: {len(lost)} files WorkerLost")


def test_losing_the_scheduler_mid_run_loses_no_file(tmp_path: Path) -> None:
    paths = []
    for i in range(300):
        p = tmp_path / f"f{i:03}.txt"
        p.write_bytes(b"x\n" * 10)
        paths.append(str(p))
    cluster = _local_cluster(tmp_path / "dask", threads=1)

    async def main() -> Any:
        # --delay paces each line (and sends one file a batch): the run is still going
        # when the scheduler and its workers go away.
        run = Run(paths, Options(scheduler=cluster.scheduler_address, delay=0.001))
        seen = 0
        async with asyncio.timeout(60):  # a hang guard, not a measurement
            async for _ in run:
                seen += 1
                if seen == 5:
                    await asyncio.to_thread(cluster.close)
        return run.report()

    try:
        report = asyncio.run(main())
    finally:
        cluster.close()
    assert [r.path for r in report.results] == paths
    lost = [r for r in report.results if r.status is Status.ERROR]
    assert lost
    for r in report.results:
        assert (r.status, r.lines) == (Status.OK, 10) or isinstance(r.error, ConnectionError)
    assert all(r.error.path == r.path for r in lost)  # type: ignore[union-attr]
    assert report.totals.ok + report.totals.errors == len(paths)


async def _drain(run: Run) -> None:
    async for _ in run:
        pass


def test_a_different_linetally_version_is_refused_before_counting(
    address: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import linetally._cluster

    (tmp_path / "a.txt").write_text("a\n")
    monkeypatch.setattr(linetally._cluster, "__version__", "0.0.0-other")
    with pytest.raises(
        ClusterVersionError,
        match=re.escape(f"runs linetally {__version__}, this is linetally 0.0.0-other"),
    ):
        count([str(tmp_path / "a.txt")], scheduler=address)


def test_an_unreachable_scheduler_is_one_error(tmp_path: Path) -> None:
    (tmp_path / "a.txt").write_text("a\n")
    with pytest.raises(
        ClusterError, match=r"^cannot reach the Dask scheduler at tcp://127\.0\.0\.1:9: "
    ):
        count([str(tmp_path / "a.txt")], scheduler="tcp://127.0.0.1:9")


def test_timeout_is_enforced_on_the_workers(address: str, tmp_path: Path) -> None:
    files, fifo = _fifo_and_files(tmp_path, n=3)
    here = count([*files, fifo], timeout=1)
    there = count([*files, fifo], timeout=1, scheduler=address)
    assert _facts(there.results) == _facts(here.results)
    assert isinstance(there.results[-1].error, TimeoutError)
    assert str(there.results[-1].error) == "took longer than 1 s"


# -- the command line -----------------------------------------------------------


@pytest.mark.parametrize(
    "args",
    [
        ["--format", "json", "--encoding", "utf-8", "--max-lines", "20"],
        ["--format", "csv", "--binary", "error", "--sort", "lines"],
        ["--summary", "-v"],
        ["--languages", "--format", "json"],
    ],
)
def test_cli_output_is_the_same_as_a_local_run(address: str, tree: Path, args: list[str]) -> None:
    paths = ["tree", "tree/missing.txt", "-"]
    here = run_cli(*args, *paths, input=b"a\nb\n")
    there = run_cli(*args, "--scheduler", address, *paths, input=b"a\nb\n")
    assert here.code == 1
    assert there.code == here.code
    assert there.out == here.out
    assert there.err == here.err


def test_cli_takes_the_scheduler_from_the_environment(address: str, tree: Path) -> None:
    here = run_cli("--format", "json", "tree")
    there = run_cli("--format", "json", "tree", env={"DASK_SCHEDULER_ADDRESS": address})
    assert (there.code, there.out, there.err) == (here.code, here.out, here.err)
    assert json.loads(there.out)["totals"]["files"] == 12


def test_cli_unreachable_scheduler_is_a_usage_error(tmp_path: Path) -> None:
    (tmp_path / "a.txt").write_text("a\n")
    ran = run_cli("--scheduler", "tcp://127.0.0.1:9", "a.txt", cwd=tmp_path)
    assert ran.code == 2
    assert ran.out == ""
    assert ran.err.startswith("linetally: error: cannot reach the Dask scheduler at tcp://127.0")
    assert ran.err.count("\n") == 1


def test_cli_version_mismatch_is_a_usage_error(address: str, tmp_path: Path) -> None:
    (tmp_path / "a.txt").write_text("a\n")
    other = (
        "import sys, linetally._cluster as c; c.__version__ = '9.9.9'; "
        "from linetally._cli import main; sys.exit(main(sys.argv[1:]))"
    )
    proc = subprocess.run(
        [sys.executable, "-c", other, "--scheduler", address, "a.txt"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode == 2
    assert proc.stdout == ""
    assert proc.stderr.startswith("linetally: error: the Dask worker tcp://127.0.0.1:")
    assert proc.stderr.endswith(
        f" runs linetally {__version__}, this is linetally 9.9.9: "
        "install the same version on every worker\n"
    )
    assert proc.stderr.count("\n") == 1


def test_cli_bad_scheduler_address_is_a_usage_error(tmp_path: Path) -> None:
    ran = run_cli("--scheduler", "nonsense://x", "a.txt", cwd=tmp_path)
    assert ran.code == 2
    assert ran.out == ""
    assert ran.err.startswith("linetally: error: cannot reach the Dask scheduler at nonsense://x")
    assert ran.err.count("\n") == 1


# -- imports --------------------------------------------------------------------

_PROBE = """
import sys
from linetally._cli import main
try:
    code = main(sys.argv[1:])
except SystemExit as exc:
    code = exc.code
heavy = sorted(m for m in ("dask", "distributed", "tornado") if m in sys.modules)
print(code, heavy)
"""


@pytest.mark.parametrize("args", [["--version"], ["--format", "json", "a.txt"]])
def test_version_and_a_local_run_do_not_import_dask(tmp_path: Path, args: list[str]) -> None:
    (tmp_path / "a.txt").write_text("a\n")
    proc = subprocess.run(
        [sys.executable, "-c", _PROBE, *args],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        env={k: v for k, v in os.environ.items() if k != "DASK_SCHEDULER_ADDRESS"},
        timeout=60,
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.splitlines()[-1] == "0 []"


def test_urls_are_read_by_the_workers(address: str, tmp_path: Path) -> None:
    """file:// and zip:// objects go to the cluster, counted there as locally."""
    import zipfile

    (tmp_path / "a.txt").write_bytes(b"1\n2\r\n3")
    (tmp_path / "b.log").write_bytes(b"x\n" * 100)
    with zipfile.ZipFile(tmp_path / "t.zip", "w") as z:
        z.writestr("in/c.txt", b"c\rd\re\n")
    urls = [
        (tmp_path / "a.txt").as_uri(),
        (tmp_path / "b.log").as_uri(),
        f"zip://in/c.txt::{(tmp_path / 't.zip').as_uri()}",
        (tmp_path / "missing.txt").as_uri(),
    ]
    here = count(urls)
    with distributed.Client(address) as client, distributed.get_task_stream(client) as stream:
        there = count(urls, scheduler=client)
    assert _facts(there.results) == _facts(here.results)
    assert [r.lines for r in there.results] == [3, 100, 3, None]
    assert isinstance(there.results[-1].error, FileNotFoundError)
    # The objects were counted in Dask tasks, not by this process.
    assert any(str(t["key"]).startswith("linetally-count-") for t in stream.data)
