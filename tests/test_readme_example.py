"""The README's first library example runs as shown and passes ``mypy --strict``."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

import linetally

README = Path(__file__).parent.parent / "README.md"


def _library_example() -> str:
    text = README.read_text(encoding="utf-8")
    section = text[text.index("\n## Library\n") :]
    match = re.search(r"```python\n(.*?)```", section, re.S)
    assert match is not None
    return match.group(1)


def test_the_library_example_prints_what_the_readme_says(tutorial: Path) -> None:
    (tutorial / "example.py").write_text(_library_example())
    ran = subprocess.run(
        [sys.executable, "example.py"], cwd=tutorial, capture_output=True, text=True, timeout=60
    )
    assert ran.returncode == 0, ran.stderr
    assert ran.stdout.splitlines() == [
        "13",
        "missing: wrong_name.txt",
        "not UTF-8: not_utf8.txt at byte 2",
        "not_utf8.txt UnicodeDecodeError",
        "wrong_name.txt FileNotFoundError",
    ]


def test_the_library_example_passes_mypy_strict(tmp_path: Path) -> None:
    if shutil.which("mypy", path=str(Path(sys.executable).parent)) is None:
        pytest.skip("mypy is not installed")
    (tmp_path / "example.py").write_text(_library_example())
    root = Path(linetally.__file__).parent.parent  # a source tree (src/), unless installed
    env = {"PATH": "/usr/bin:/bin"}
    if root.name != "site-packages":  # mypy finds an installed package by itself
        env["MYPYPATH"] = str(root)
    ran = subprocess.run(
        [sys.executable, "-m", "mypy", "--strict", "--cache-dir", str(tmp_path / "cache"),
         "example.py"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=300,
        env=env,
    )  # fmt: skip
    assert ran.returncode == 0, ran.stdout + ran.stderr
