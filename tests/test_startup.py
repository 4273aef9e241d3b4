"""What the command imports to start: a run over local files keeps ssl out of asyncio."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from linetally._stdio import _local_only


def _imports(*args: str, cwd: Path) -> tuple[set[str], str]:
    proc = subprocess.run(
        [sys.executable, "-X", "importtime", "-m", "linetally", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=60,
        env={k: v for k, v in os.environ.items() if k != "DASK_SCHEDULER_ADDRESS"},
    )
    assert proc.returncode == 0, proc.stderr
    names = {
        line.rsplit("|", 1)[1].strip()
        for line in proc.stderr.splitlines()
        if line.startswith("import time:")
    }
    return names, proc.stdout


def test_a_local_run_does_not_load_ssl(tmp_path: Path) -> None:
    (tmp_path / "a.txt").write_text("1\n2\n")
    names, out = _imports("--format", "json", ".", cwd=tmp_path)
    assert "asyncio" in names
    assert "_ssl" not in names
    assert json.loads(out)["totals"]["lines"] == 2


@pytest.mark.parametrize(
    ("args", "local"),
    [
        (["src", "--format", "json", "-j", "4"], True),
        ([], True),
        (["s3://bucket/logs/"], False),
        (["zip://a.txt::data.zip"], False),
        (["--scheduler", "127.0.0.1:8786", "src"], False),
        (["--sched", "x", "src"], False),
        (["--files-from", "list.txt"], False),
        (["--files0-from=list"], False),
        (["C:odd-name"], False),
    ],
)
def test_which_command_lines_are_local_only(args: list[str], local: bool) -> None:
    assert _local_only(args) is local


def test_a_scheduler_in_the_environment_is_not_local(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DASK_SCHEDULER_ADDRESS", "tcp://127.0.0.1:8786")
    assert not _local_only(["src"])


@pytest.mark.skipif(sys.platform != "linux", reason="forks only on Linux")
def test_the_command_forks_before_it_imports_asyncio(tmp_path: Path) -> None:
    """The counting processes need no asyncio: they start on their directories meanwhile."""
    for d in ("a", "b"):
        (tmp_path / d).mkdir()
        (tmp_path / d / "f.txt").write_text("1\n")
    proc = subprocess.run(
        [sys.executable, "-X", "importtime", "-m", "linetally", "--processes", "2", "."],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode == 0, proc.stderr
    order = [
        line.rsplit("|", 1)[1].strip()
        for line in proc.stderr.splitlines()
        if line.startswith("import time:")
    ]
    assert order.index("linetally._fork") < order.index("asyncio")


def test_a_local_run_does_not_load_shutil_for_argparse(tmp_path: Path) -> None:
    """argparse would import shutil (and bz2, lzma) for the terminal's width at every
    option added: the command tells it the width, and shutil is not loaded at all."""
    (tmp_path / "a.txt").write_text("1\n")
    names, out = _imports("--format", "json", ".", cwd=tmp_path)
    assert json.loads(out)["totals"]["lines"] == 1
    assert not {"shutil", "bz2", "lzma"} & names


def _usage(columns: str) -> list[str]:
    proc = subprocess.run(
        [sys.executable, "-m", "linetally", "--help"],
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, "COLUMNS": columns},
    )
    assert proc.returncode == 0
    return proc.stdout.split("\n\n", 1)[0].splitlines()  # the usage block, wrapped by argparse


def test_help_is_wrapped_to_the_columns_shutil_would_give() -> None:
    narrow, wide = _usage("50"), _usage("200")
    assert max(map(len, narrow)) <= 50
    assert max(map(len, wide)) <= 200
    assert len(wide) < len(narrow)


class _Exit(Exception):
    pass


def _console_main_version(monkeypatch: pytest.MonkeyPatch) -> None:
    from linetally import _stdio

    def exit_(code: int) -> None:
        raise _Exit(code)

    monkeypatch.setattr(sys, "argv", ["linetally", "--version"])
    monkeypatch.setattr(_stdio.os, "_exit", exit_)
    monkeypatch.delitem(sys.modules, "numpy", raising=False)
    with pytest.raises(_Exit):
        _stdio.console_main()


def test_the_command_asks_openblas_for_one_thread(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    # numpy's OpenBLAS would start a spinning thread per core: CPU the counting needs.
    monkeypatch.delenv("OPENBLAS_NUM_THREADS", raising=False)
    _console_main_version(monkeypatch)
    assert os.environ["OPENBLAS_NUM_THREADS"] == "1"
    assert capsys.readouterr().out.startswith("linetally ")


def test_the_command_keeps_the_users_openblas_threads(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("OPENBLAS_NUM_THREADS", "4")
    _console_main_version(monkeypatch)
    assert os.environ["OPENBLAS_NUM_THREADS"] == "4"


def test_the_library_leaves_openblas_alone(tmp_path: Path) -> None:
    big = tmp_path / "big.txt"
    big.write_bytes(b"x\n" * (3 << 20))  # 6 MiB: counted with numpy (stringzilla missing)
    code = (
        "import sys; sys.modules['stringzilla'] = None\n"
        "import os, linetally; r = linetally.count([os.environ['F']]);"
        "print(r.totals.lines, 'numpy' in __import__('sys').modules,"
        " os.environ.get('OPENBLAS_NUM_THREADS'))"
    )
    env = {k: v for k, v in os.environ.items() if k != "OPENBLAS_NUM_THREADS"}
    out = subprocess.run(
        [sys.executable, "-c", code], env={**env, "F": str(big)}, capture_output=True, text=True
    )
    assert out.stdout.split() == [str(3 << 20), "True", "None"], out.stderr
