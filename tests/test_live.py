"""The live view and the report, in a real pty (pexpect) read back as a screen (pyte)."""

from __future__ import annotations

import json
import os
import re
import shlex
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pexpect
import pyte
import pytest

ROWS, COLS = 30, 110


class Terminal:
    """linetally running in a pseudo-terminal, its output fed to a terminal emulator."""

    def __init__(
        self,
        args: list[str],
        cwd: Path,
        command: str | None = None,
        env: dict[str, str] | None = None,
    ) -> None:
        self.screen = pyte.Screen(COLS, ROWS)
        self.stream = pyte.ByteStream(self.screen)
        self.raw = b""
        base = {**os.environ, "TERM": "xterm-256color", "COLUMNS": str(COLS), "LINES": str(ROWS)}
        base.pop("NO_COLOR", None)
        env = {**base, **(env or {})}
        if command is None:
            self.child = pexpect.spawn(
                sys.executable,
                ["-m", "linetally", *args],
                cwd=str(cwd),
                dimensions=(ROWS, COLS),
                env=env,
            )
        else:
            self.child = pexpect.spawn(
                "/bin/sh", ["-c", command], cwd=str(cwd), dimensions=(ROWS, COLS), env=env
            )
        self.ended = False

    def pump(self, seconds: float) -> None:
        """Feed what the program draws for ``seconds`` (or until it exits)."""
        end = time.monotonic() + seconds
        while time.monotonic() < end and not self.ended:
            try:
                data = self.child.read_nonblocking(65536, timeout=0.05)
            except pexpect.TIMEOUT:
                continue
            except pexpect.EOF:
                self.ended = True
                break
            self.raw += data
            self.stream.feed(data)

    def until(self, predicate: Callable[[list[str]], bool], timeout: float = 15) -> list[str]:
        """Feed output until the screen satisfies ``predicate``; return that screen."""
        end = time.monotonic() + timeout
        while time.monotonic() < end and not self.ended:
            self.pump(0.02)
            if predicate(self.lines()):
                return self.lines()
        raise AssertionError("screen never matched:\n" + self.text())

    def wait(self, timeout: float = 30) -> int:
        end = time.monotonic() + timeout
        while not self.ended and time.monotonic() < end:
            self.pump(0.2)
        self.child.close()
        assert self.ended, "linetally did not finish"
        return int(self.child.exitstatus if self.child.exitstatus is not None else -1)

    def lines(self) -> list[str]:
        return [line.rstrip() for line in self.screen.display]

    def text(self) -> str:
        return "\n".join(self.lines()).rstrip()


def bar_rows(lines: list[str]) -> dict[str, int]:
    """Rows of the live view: file name -> number of □ drawn."""
    rows = {}
    for line in lines:
        if "□" in line:
            rows[line.split()[0]] = line.count("□")
    return rows


@pytest.fixture
def slow_files(tmp_path: Path) -> Path:
    for i in range(4):
        (tmp_path / f"file{i}.txt").write_text("line\n" * 150)
    return tmp_path


def test_several_rows_grow_at_once(slow_files: Path) -> None:
    term = Terminal(["--delay", "0.02", "--jobs", "4", "--format", "json", "."], slow_files)
    # all four files are on screen at once...
    first = bar_rows(term.until(lambda lines: len(bar_rows(lines)) == 4))
    # ...and every one of them grows (a screen read in the middle of a redraw can
    # miss a row for an instant: wait for one that shows all four, grown)
    second = bar_rows(
        term.until(
            lambda lines: (
                set(bar_rows(lines)) == set(first)
                and all(n > first[k] for k, n in bar_rows(lines).items())
            )
        )
    )
    assert term.wait() == 0
    assert set(second) == set(first)
    assert all(n < 150 for n in first.values())  # seen mid-run, not at the end


def test_overall_line_while_running(slow_files: Path) -> None:
    term = Terminal(["--delay", "0.02", "--format", "json", "."], slow_files)
    screen = term.until(lambda lines: any("/4 files" in line for line in lines))
    term.wait()
    overall = next(line for line in screen if "/4 files" in line)
    assert "lines/s" in overall
    assert "lines ·" in overall


def test_bars_are_coloured_unless_no_color(slow_files: Path) -> None:
    for env, coloured in (({}, True), ({"NO_COLOR": "1"}, False)):
        term = Terminal(["--delay", "0.01", "--format", "json", "."], slow_files, env=env)
        term.until(lambda lines: len(bar_rows(lines)) > 0)
        assert term.wait() == 0
        assert (b"\x1b[36m" in term.raw) is coloured  # bars in flight: cyan
        assert b"\x1b[1m" in term.raw  # the overall line's head: bold either way


def test_a_terminal_of_one_line_shows_the_overall_line_only(slow_files: Path) -> None:
    term = Terminal(["--delay", "0.01", "--format", "json", "."], slow_files, env={"LINES": "1"})
    term.until(lambda lines: any("/4 files" in line for line in lines))
    assert term.wait() == 0
    assert "□" not in term.raw.decode()  # no row: it would scroll the line away


def test_a_dumb_terminal_gets_no_live_view(slow_files: Path) -> None:
    term = Terminal(["--delay", "0.01", "--format", "json", "."], slow_files, env={"TERM": "dumb"})
    assert term.wait() == 0
    assert "□" not in term.raw.decode()
    assert b"\x1b[" not in term.raw
    assert json.loads(term.raw.decode())["totals"]["files"] == 4


def test_the_live_view_does_not_import_rich(slow_files: Path) -> None:
    """rich's import and rendering cost more than the rest of the view: a run draws without it."""
    env = {"PYTHONPROFILEIMPORTTIME": "1"}  # each import's time, on stderr
    term = Terminal(["--delay", "0.01", "--format", "json", "."], slow_files, env=env)
    term.until(lambda lines: len(bar_rows(lines)) > 0)
    assert term.wait() == 0
    imported = re.findall(rb"\|\s*(rich[\w.]*)\s*$", term.raw, re.MULTILINE)
    assert b"linetally._render" in term.raw  # the import times are there...
    assert imported == []  # ...and none of rich's


def test_end_leaves_table_and_report_and_nothing_else(tmp_path: Path) -> None:
    (tmp_path / "good.txt").write_text("a\n" * 30)
    term = Terminal(["--delay", "0.01", "good.txt", "missing.txt"], tmp_path)
    assert term.wait() == 1
    lines = [line for line in term.lines() if line]
    assert lines[0].split() == ["path", "lines", "bytes"]
    assert lines[1].startswith("good.txt") and "30" in lines[1]
    assert lines[2].startswith("missing.txt") and "error" in lines[2]
    assert lines[3].startswith("total: 2 files")
    assert "1 file not found" in lines
    assert "  missing.txt: No such file or directory" in lines
    # the live view is gone: no overall progress line, no duplicated rows
    assert not any("lines/s" in line for line in lines), lines
    assert sum(line.startswith("good.txt") for line in lines) == 1
    # and the cursor is visible again
    assert b"\x1b[?25h" in term.raw


def test_demo_looks_like_the_tutorial(tmp_path: Path) -> None:
    term = Terminal(["--demo", "--delay", "0.05"], tmp_path)
    mid = term.until(lambda lines: len([n for n in bar_rows(lines).values() if n < 10]) >= 3)
    assert term.wait() == 1
    assert len(bar_rows(mid)) >= 3  # several rows growing at once
    end = term.text()
    for name in ("count.py", "rot13.txt", "empty_file.txt", "not_utf8.txt", "wrong_name.txt"):
        assert name in end
    assert "1 file not found" in end
    assert "1 file is not valid UTF-8" in end


HOSTILE = "\x1b[31mred\x07[bold red]x\rz.txt"


def test_hostile_name_is_shown_escaped_everywhere(tmp_path: Path) -> None:
    (tmp_path / HOSTILE).write_text("a\n" * 40)
    (tmp_path / "bad\x1b]0;pwned\x07.txt").write_bytes(b"\xff")
    term = Terminal(
        ["--delay", "0.02", "--encoding", "utf-8", HOSTILE, "bad\x1b]0;pwned\x07.txt"], tmp_path
    )
    shown = "\\x1b[31mred\\x07[bold red]x\\rz.txt"
    mid = "\n".join(term.until(lambda lines: any(shown in line and "□" in line for line in lines)))
    code = term.wait()
    end = term.text()
    assert code == 1
    assert shown in mid  # the live view
    assert shown in end  # the table
    assert "bad\\x1b]0;pwned\\x07.txt" in end  # the report
    # the names changed neither the colours nor the title
    for y, line in enumerate(term.lines()):
        x = line.find(shown)
        if x >= 0:
            cells = [term.screen.buffer[y][x + i] for i in range(len(shown))]
            assert {c.fg for c in cells} == {"default"}, line
    assert term.screen.title == ""


def test_stdout_not_a_terminal_gets_nothing_animated(
    slow_files: Path, tmp_path_factory: pytest.TempPathFactory
) -> None:
    out = tmp_path_factory.mktemp("out") / "out.json"
    command = (
        f"{shlex.quote(sys.executable)} -m linetally --delay 0.01 --format json "
        f"{shlex.quote(str(slow_files))} > {shlex.quote(str(out))}"
    )
    term = Terminal([], slow_files, command=command)
    term.until(lambda lines: any("□" in line for line in lines))  # the live view, on stderr
    assert term.wait() == 0
    data = out.read_bytes()
    assert b"\x1b" not in data
    assert json.loads(data)["totals"]["files"] == 4


def test_no_progress_and_quiet_draw_nothing(slow_files: Path) -> None:
    for flag in ("--no-progress", "--quiet"):
        term = Terminal([flag, "--delay", "0.01", "--format", "json", "."], slow_files)
        term.pump(0.4)
        assert "□" not in term.text()
        assert term.wait() == 0
