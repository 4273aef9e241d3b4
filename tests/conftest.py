from __future__ import annotations

import os
import string
import subprocess
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import pytest

NOT_UTF8 = bytes([98, 108, 229, 98, 230, 114, 115, 121, 108, 116, 101, 116, 248, 121])


def rot13_text() -> str:
    chars = string.ascii_uppercase
    return "\n".join(a + b for a, b in zip(chars[:13], chars[13:], strict=True))


@pytest.fixture
def tutorial(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The tutorial's sample files, in a folder that is also the working directory."""
    (tmp_path / "rot13.txt").write_text(rot13_text())
    (tmp_path / "empty_file.txt").touch()
    (tmp_path / "not_utf8.txt").write_bytes(NOT_UTF8)
    monkeypatch.chdir(tmp_path)
    return tmp_path


@dataclass
class Result:
    code: int
    out: str
    err: str


def run_cli(
    *args: str,
    cwd: Path | str | None = None,
    input: bytes | None = None,
    env: dict[str, str] | None = None,
    timeout: float = 60,
) -> Result:
    """Run the real ``linetally`` command in a subprocess (stdout/stderr are pipes)."""
    full_env = {**os.environ, "COLUMNS": "100", **(env or {})}
    proc = subprocess.run(
        [sys.executable, "-m", "linetally", *args],
        cwd=cwd,
        input=input if input is not None else b"",
        capture_output=True,
        env=full_env,
        timeout=timeout,
    )
    return Result(
        proc.returncode,
        proc.stdout.decode("utf-8", "surrogateescape"),
        proc.stderr.decode("utf-8", "surrogateescape"),
    )


def oracle(path: str | os.PathLike[str]) -> int:
    """The definition of a line: Python's universal newlines over latin-1 (any bytes)."""
    with open(path, "rb") as f:
        head = f.read(4)
    encoding = "latin-1"
    if head.startswith((b"\xff\xfe\x00\x00", b"\x00\x00\xfe\xff")):
        encoding = "utf-32"
    elif head.startswith((b"\xff\xfe", b"\xfe\xff")):
        encoding = "utf-16"
    with open(path, encoding=encoding, errors="replace", newline=None) as f:
        return sum(1 for _ in f)


def paths_of(results: Sequence[object]) -> list[str]:
    return [r.path for r in results]  # type: ignore[attr-defined]
