"""Tests of linetally._render: pure functions from data to text, checked on captured output."""

from __future__ import annotations

import errno
import io
import os
import re
import unicodedata
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st
from rich.cells import cell_len
from rich.console import Console, RenderableType

from linetally import _render
from linetally._errors import BinaryFileError, TooManyLines, attach_path
from linetally._model import FileResult, Row, Snapshot, Status, Totals
from linetally._render import (
    display_path,
    failure_report,
    failure_report_lines,
    human_bytes,
    human_count,
    live_frame,
    live_view,
    results_lines,
    results_table,
    summary,
    summary_lines,
)

EVIL = "\x1b[31mred\x07[bold red]x\n"
SGR = re.compile(r"\x1b\[[0-9;]*m")


def render(
    renderable: RenderableType, *, width: int = 80, color: bool = False, height: int = 25
) -> str:
    console = Console(
        file=io.StringIO(),
        width=width,
        height=height,
        force_terminal=color,
        color_system="truecolor" if color else None,
        legacy_windows=False,
    )
    console.print(renderable)
    out = console.file.getvalue()  # type: ignore[attr-defined]
    assert isinstance(out, str)
    return out


def lines_of(renderable: RenderableType, *, width: int = 80) -> list[str]:
    return [line.rstrip() for line in render(renderable, width=width).splitlines()]


def fail(path: str, exc: Exception) -> FileResult:
    attach_path(exc, path)
    return FileResult(path, Status.ERROR, error=exc)


def decode_error(path: str, *, offset: int, encoding: str = "utf-8") -> FileResult:
    try:
        b"abc\xffdef".decode(encoding)
    except UnicodeDecodeError as exc:
        exc.byte_offset = offset  # type: ignore[attr-defined]
        return fail(path, exc)
    raise AssertionError("decoding should have failed")


def not_found(tmp_path: Path, name: str) -> FileResult:
    path = str(tmp_path / name)
    try:
        open(path, "rb").close()
    except FileNotFoundError as exc:
        return fail(name, exc)
    raise AssertionError("the file should not exist")


def bars(line: str) -> int:
    return line.count(_render.BAR)


# -- display_path --------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "shown"),
    [
        ("\n", "\\n"),
        ("\r", "\\r"),
        ("\t", "\\t"),
        ("\x1b", "\\x1b"),
        ("\x07", "\\x07"),
        ("\x00", "\\x00"),
        ("\x08", "\\x08"),
        ("\x7f", "\\x7f"),
        ("\x85", "\\x85"),
        ("\x9b", "\\x9b"),
        ("\x9d", "\\x9d"),
        ("\u202e", "\\u202e"),
        ("\u2028", "\\u2028"),
        ("\ufeff", "\\ufeff"),
        ("\udc80", "\\x80"),
        ("\udcff", "\\xff"),
        ("\ud800", "\\ud800"),
    ],
)
def test_display_path_escapes_each_control_char(raw: str, shown: str) -> None:
    assert display_path(f"a{raw}b.txt") == f"a{shown}b.txt"


def test_display_path_escapes_terminal_sequences() -> None:
    assert display_path("\x1b[31mred\x1b]0;title\x07") == "\\x1b[31mred\\x1b]0;title\\x07"
    assert display_path("\x9b2J") == "\\x9b2J"


@pytest.mark.parametrize(
    "name",
    ["[bold red]x[/]", "a\\b\\n.txt", "日本語/café.py", "with space", "full\u3000width", "💥.txt"],
)
def test_display_path_keeps_ordinary_names(name: str) -> None:
    assert display_path(name) == name


def test_display_path_shows_undecodable_bytes_as_hex() -> None:
    name = b"caf\xe9-\x80\xff.txt".decode("utf-8", "surrogateescape")
    assert display_path(name) == "caf\\xe9-\\x80\\xff.txt"


def _is_unsafe(ch: str) -> bool:
    code = ord(ch)
    return (
        code < 0x20
        or 0x7F <= code < 0xA0
        or 0xD800 <= code < 0xE000
        or unicodedata.bidirectional(ch) in {"LRE", "RLE", "LRO", "RLO", "PDF", "LRI", "RLI"}
        or unicodedata.bidirectional(ch) in {"FSI", "PDI"}
        or ch in "\u2028\u2029\u200e\u200f\u061c"
    )


nasty = st.sampled_from("\x1b\x07\r\n\t\x00\x7f\x85\x9b\udc80\udcff\ud800\u202e\u2066[]\\/")
any_text = st.text(st.one_of(st.characters(exclude_categories=[]), nasty))


@given(any_text)
def test_display_path_output_is_always_safe(name: str) -> None:
    shown = display_path(name)
    assert not any(_is_unsafe(ch) for ch in shown)
    shown.encode("utf-8")  # no lone surrogate left: strict encoding works


simple = st.text(st.one_of(st.characters(categories=["L", "N"]), st.sampled_from("._-/ ")))


@given(simple, simple)
def test_display_path_keeps_simple_names_distinct(a: str, b: str) -> None:
    assert (display_path(a) == display_path(b)) == (a == b)


@given(st.binary().filter(lambda b: b"\\" not in b), st.binary().filter(lambda b: b"\\" not in b))
def test_display_path_is_injective_on_raw_names_without_backslash(a: bytes, b: bytes) -> None:
    def shown(raw: bytes) -> str:
        return display_path(raw.decode("utf-8", "surrogateescape"))

    assert (shown(a) == shown(b)) == (a == b)


# -- helpers ----------------------------------------------------------------------


def test_human_bytes() -> None:
    assert human_bytes(0) == "0 B"
    assert human_bytes(1023) == "1023 B"
    assert human_bytes(1024) == "1.0 KiB"
    assert human_bytes(1536) == "1.5 KiB"
    assert human_bytes(1024 * 1024 - 1) == "1.0 MiB"
    assert human_bytes(5 * 1024**3) == "5.0 GiB"


def test_human_count() -> None:
    assert human_count(0) == "0"
    assert human_count(1234567) == "1,234,567"


# -- live view ----------------------------------------------------------------------


def snapshot(**changes: object) -> Snapshot:
    values: dict[str, object] = {
        "found": 40,
        "done": 12,
        "walk_done": False,
        "totals": Totals(files=12, ok=10, errors=2, lines=12345, bytes=456789),
        "elapsed": 2.5,
    }
    values.update(changes)
    return Snapshot(**values)  # type: ignore[arg-type]


def test_live_view_bars_are_proportional_to_counts() -> None:
    active = (Row("a.py", 400, 10), Row("b.py", 200, 10), Row("c.py", 100, 10), Row("d.py", 0, 0))
    out = lines_of(live_view(snapshot(active=active), width=80, height=20), width=80)
    assert len(out) == 5
    a, b, c, d, _ = out
    assert a.startswith("a.py")
    assert a.endswith(" 400")
    assert b.startswith("b.py")
    assert b.endswith(" 200")
    assert d.startswith("d.py")
    assert d.endswith(" 0")
    full = bars(a)
    assert full > 40  # the longest count fills the bar area of 80 columns
    assert abs(bars(b) - full / 2) <= 1
    assert abs(bars(c) - full / 4) <= 1
    assert bars(d) == 0


def test_live_view_bars_grow_one_per_line_then_scale_with_width() -> None:
    # As in the tutorial: one □ per line while it fits...
    snap = snapshot(active=(Row("a.py", 10, 1),))
    assert bars(lines_of(live_view(snap, width=40, height=10), width=40)[0]) == 10
    assert bars(lines_of(live_view(snap, width=160, height=10), width=160)[0]) == 10
    # ...and scaled to the terminal's width once the count no longer fits.
    snap = snapshot(active=(Row("a.py", 10_000, 1),))
    narrow = lines_of(live_view(snap, width=40, height=10), width=40)[0]
    wide = lines_of(live_view(snap, width=160, height=10), width=160)[0]
    assert len(narrow) <= 40
    assert len(wide) <= 160
    assert bars(wide) > bars(narrow) + 100


def test_live_view_overall_line() -> None:
    last = lines_of(live_view(snapshot(), width=120, height=10), width=120)[-1]
    assert "12/40+ files" in last
    assert "12,345 lines" in last
    assert "446.1 KiB" in last
    assert "4.9k lines/s" in last
    assert "2.5 s" in last
    assert "2 failed" in last
    done = snapshot(walk_done=True, totals=Totals(files=40, ok=40, lines=10), done=40)
    last = lines_of(live_view(done, width=120, height=10), width=120)[-1]
    assert "40/40 files" in last
    assert "failed" not in last


def test_live_view_finished_rows_after_active_without_duplicates() -> None:
    snap = snapshot(
        active=(Row("busy.py", 10, 1),),
        recent=(
            Row("ok.py", 30, 1, True, Status.OK),
            Row("bad.txt", 0, 0, True, Status.ERROR),
            Row("empty.txt", 0, 0, True, Status.OK),
        ),
        largest=(Row("huge.py", 90, 1, True, Status.OK), Row("ok.py", 30, 1, True, Status.OK)),
    )
    out = lines_of(live_view(snap, width=80, height=20), width=80)
    names = [line.split()[0] for line in out[:-1]]
    assert names == ["busy.py", "ok.py", "bad.txt", "empty.txt", "huge.py"]
    assert out[1].endswith("30 ✓")
    assert out[2].endswith("✗ error")
    assert bars(out[2]) == 0
    assert out[3].endswith(" 0 ✓")
    assert bars(out[4]) > bars(out[1]) > bars(out[0]) > 0


def test_live_view_shares_spare_rows_between_recent_and_largest() -> None:
    recent = tuple(Row(f"r{i}", i, 1, True, Status.OK) for i in range(10))
    largest = tuple(Row(f"l{i}", 100 - i, 1, True, Status.OK) for i in range(10))
    snap = snapshot(active=(Row("busy", 1, 1),), recent=recent, largest=largest)
    out = lines_of(live_view(snap, width=80, height=7), width=80)
    names = [line.split()[0] for line in out[:-1]]
    assert names == ["busy", "r0", "r1", "l0", "l1"]


def test_live_view_respects_height_with_5000_active(monkeypatch: pytest.MonkeyPatch) -> None:
    active = tuple(Row(f"src/pkg/module_{i}.py", i, i) for i in range(5000))
    calls = 0
    real = _render.display_path

    def counting(path: str) -> str:
        nonlocal calls
        calls += 1
        return real(path)

    monkeypatch.setattr(_render, "display_path", counting)
    view = live_view(snapshot(active=active), width=100, height=30)
    assert calls <= 28  # only the rows that fit were built
    out = render(view, width=100, height=30).splitlines()
    assert len(out) == 29  # 28 rows, then the overall line
    assert out[0].startswith("src/pkg/module_0.py")
    assert out[27].startswith("src/pkg/module_27.py")
    assert all(cell_len(line) <= 100 for line in out)


@pytest.mark.parametrize("height", [0, 1, 2])
def test_live_view_tiny_height_shows_only_the_overall_line(height: int) -> None:
    snap = snapshot(active=(Row("a", 1, 1),))
    out = lines_of(live_view(snap, width=80, height=height), width=80)
    assert len(out) == 1
    assert "files" in out[0]


@pytest.mark.parametrize("width", [30, 50, 80, 200])
def test_live_view_lines_fit_the_width(width: int) -> None:
    snap = snapshot(
        active=(
            Row("a/very/long/path/" * 10 + "end.py", 5, 1),
            Row("日本語のファイル名/" * 6 + "終わり.txt", 3, 1),
        ),
        recent=(Row("bad", 0, 0, True, Status.CANCELLED),),
    )
    out = render(live_view(snap, width=width, height=10), width=width).splitlines()
    assert len(out) == 4
    assert all(cell_len(line) <= width for line in out)
    assert out[0].startswith("…")
    assert out[0].split()[0].endswith("end.py")
    assert out[2].endswith("cancelled")


def every_style_snapshot() -> Snapshot:
    """A snapshot whose view uses every style: in flight, done, failed, skipped, cancelled..."""
    from linetally import LanguageTotals

    return snapshot(
        active=(Row("src/in_flight.py", 40, 400), Row("日本語.txt", 3, 30)),
        recent=(
            Row("done.py", 25, 250, True, Status.OK),
            Row("bad.bin", 0, 0, True, Status.ERROR, "UnicodeDecodeError"),
            Row("skipped.bin", 0, 0, True, Status.SKIPPED),
            Row("late.txt", 2, 20, True, Status.CANCELLED),
        ),
        languages=(("Python", LanguageTotals(3, 1200, 900, 200, 100)),),
        interrupted=True,
    )


@pytest.mark.parametrize("color_system", ["standard", "256", "truecolor"])
@pytest.mark.parametrize("no_color", [False, True])
@pytest.mark.parametrize("width", [30, 80, 200])
def test_live_frame_is_what_rich_draws_of_the_live_view(
    color_system: str, no_color: bool, width: int
) -> None:
    snap = every_style_snapshot()
    console = Console(
        file=io.StringIO(),
        width=width,
        force_terminal=True,
        color_system=color_system,  # type: ignore[arg-type]
        no_color=no_color,
        legacy_windows=False,
    )
    console.print(live_view(snap, width=width, height=12))
    drawn = console.file.getvalue()  # type: ignore[attr-defined]
    frame = live_frame(snap, width=width, height=12, color=not no_color)
    assert "\n".join(frame) + "\n" == drawn
    assert len(frame) == 8  # six rows, the languages, the overall line
    if width >= 80:  # room for bars
        assert ("\x1b[36m" in drawn) is not no_color  # a bar in flight is cyan...
    assert "\x1b[1m" in drawn  # ...and bold stays without colours


def test_live_frame_styles_nothing_but_its_own_codes() -> None:
    snap = snapshot(active=(Row(EVIL, 3, 1),), recent=(Row(EVIL + "x", 1, 1, True, Status.ERROR),))
    for color in (True, False):
        out = SGR.sub("", "\n".join(live_frame(snap, width=80, height=10, color=color)))
        assert "\x1b" not in out
        assert "\x07" not in out
        assert "\r" not in out
        assert "[bold red]" in out


@given(st.text())
def test_cell_len_is_rich_s(text: str) -> None:
    assert _render.cell_len(text) == cell_len(text)


@pytest.mark.parametrize(
    "text", ["", "a.py", "□□□ 12", "…/x.py", " · ", "✓", "✗ failed", "日本", "é"]
)
def test_cell_len_is_rich_s_for_the_view_s_glyphs(text: str) -> None:
    assert _render.cell_len(text) == cell_len(text)


# -- hostile names everywhere -------------------------------------------------------


def hostile_results() -> list[FileResult]:
    return [
        FileResult(EVIL, Status.OK, 3, 30),
        fail(EVIL, ValueError(f"could not handle {EVIL}")),
        FileResult(EVIL + "2", Status.SKIPPED, reason="binary"),
    ]


def hostile_renderables() -> list[RenderableType]:
    results = hostile_results()
    snap = snapshot(active=(Row(EVIL, 3, 1),), recent=(Row(EVIL + "x", 1, 1, True, Status.ERROR),))
    return [
        live_view(snap, width=80, height=10),
        results_table(results, Totals.of(results), width=80),
        failure_report(results, verbose=True),
    ]


@pytest.mark.parametrize("index", range(3))
def test_hostile_name_is_shown_escaped_without_color(index: int) -> None:
    out = render(hostile_renderables()[index], width=80)
    assert "\x1b" not in out
    assert "\x07" not in out
    assert "\r" not in out
    assert "[bold red]" in out
    assert "\\x1b[31mred\\x07[bold red]x\\n" in out


@pytest.mark.parametrize("index", range(3))
def test_hostile_name_cannot_change_terminal_state_in_color(index: int) -> None:
    raw = render(hostile_renderables()[index], width=80, color=True)
    assert "\x1b[" in raw  # rich's own styles are there...
    out = SGR.sub("", raw)
    assert "\x1b" not in out  # ...and nothing else escapes
    assert "\x07" not in out
    assert "\r" not in out
    assert "[bold red]" in out


def test_hostile_name_does_not_add_lines() -> None:
    results = hostile_results()
    plain = list(results_lines(results, Totals.of(results), width=80))
    assert len(plain) == 1 + 3 + 1  # header, three files, total
    report = list(failure_report_lines(results, verbose=True))
    assert len(report) == 4
    assert (
        report[1]
        == "  \\x1b[31mred\\x07[bold red]x\\n: could not handle \\x1b[31mred\\x07[bold red]x\\n"
    )


# -- results table ---------------------------------------------------------------


def mixed_results(tmp_path: Path) -> list[FileResult]:
    return [
        FileResult("src/big.py", Status.OK, 400, 14000),
        FileResult("src/small.py", Status.OK, 100, 3000),
        FileResult("empty.txt", Status.OK, 0, 0),
        not_found(tmp_path, "missing.txt"),
        FileResult("a.bin", Status.SKIPPED, None, 2048, reason="binary"),
        FileResult("later.py", Status.CANCELLED, reason="cancelled after a failure"),
    ]


def test_results_table_rows(tmp_path: Path) -> None:
    results = mixed_results(tmp_path)
    out = lines_of(results_table(results, Totals.of(results), width=80), width=80)
    assert len(out) == 8
    assert out[0].split() == ["path", "lines", "bytes"]
    big, small, empty, missing, binary, later, total = out[1:]
    assert big.startswith("src/big.py")
    assert "400  13.7 KiB" in big
    assert small.startswith("src/small.py")
    assert "100   2.9 KiB" in small
    assert bars(big) == 80 - big.index(_render.BAR)  # the largest file's bar fills the line
    assert abs(bars(small) - bars(big) / 4) <= 1
    assert empty.endswith(" 0 B")
    assert missing.split()[:2] == ["missing.txt", "error"]
    assert missing.endswith("No such file or directory")
    assert binary.split() == ["a.bin", "skipped", "2.0", "KiB", "binary"]
    assert later.split()[:2] == ["later.py", "cancelled"]
    assert total.split()[:5] == ["total:", "6", "files", "500", "16.6"]
    assert total.endswith("1 failed, 1 skipped, 1 cancelled")


def test_results_lines_match_the_rendered_table(tmp_path: Path) -> None:
    results = mixed_results(tmp_path)
    totals = Totals.of(results)
    for width in (40, 80, 132):
        plain = list(results_lines(results, totals, width=width))
        assert plain == lines_of(results_table(results, totals, width=width), width=width)
        assert all(line == line.rstrip() for line in plain)


def test_results_table_colors_in_a_terminal(tmp_path: Path) -> None:
    results = mixed_results(tmp_path)
    out = render(results_table(results, Totals.of(results), width=80), color=True)
    assert "\x1b[1;31merror" in out
    assert "\x1b[33mskipped" in out


def test_results_table_cuts_long_paths_from_the_left() -> None:
    long = "deep/" * 30 + "name.py"
    results = [FileResult(long, Status.OK, 10, 10)]
    out = list(results_lines(results, Totals.of(results), width=60))
    assert out[1].startswith("…")
    assert "/name.py " in out[1]
    assert all(cell_len(line) <= 60 for line in out)


def test_results_table_empty() -> None:
    out = list(results_lines([], Totals(), width=80))
    assert len(out) == 2
    assert out[1].split() == ["total:", "0", "files", "0", "0", "B"]


def test_results_100k_rows() -> None:
    n = 100_000
    results = [
        FileResult(f"src/pkg{i % 97}/module_{i}.py", Status.OK, i % 1000, i) for i in range(n)
    ]
    results[777] = FileResult("the/largest/file.txt", Status.OK, 5000, 123)
    totals = Totals.of(results)
    width = 100
    out = list(results_lines(results, totals, width=width))
    assert len(out) == n + 2
    total = out[-1].split()
    assert total[:3] == ["total:", "100,000", "files"]
    assert total[3] == human_count(totals.lines)
    assert " ".join(total[4:]) == human_bytes(totals.bytes)
    assert all(cell_len(line) <= width for line in out)
    largest = out[1 + 777]
    assert largest.startswith("the/largest/file.txt")
    assert largest.endswith(_render.BAR)
    assert cell_len(largest) == width  # its bar reaches the right edge
    assert max(bars(line) for line in out) == bars(largest)
    rendered = render(results_table(results, totals, width=width), width=width).splitlines()
    assert rendered[-1].rstrip() == out[-1]
    assert rendered[1 + 777].rstrip() == largest


# -- summary ----------------------------------------------------------------------


def test_summary_distribution(tmp_path: Path) -> None:
    counts = [0, 1, 2, 3, 5, 8, 13, 21, 34, 55]
    results = [FileResult(f"f{i}", Status.OK, n, n * 10) for i, n in enumerate(counts)]
    results.append(not_found(tmp_path, "gone"))
    totals = Totals.of(results)
    out = list(summary_lines(results, totals, width=60))
    assert out[0] == "11 files: 10 ok, 1 failed · 142 lines · 1.4 KiB"
    assert out[1] == "lines per counted file (10): min 0 · median 5 · p90 34 · max 55"
    assert out[2].split() == ["lines", "files"]
    histogram = {line.split()[0]: int(line.split()[1]) for line in out[3:]}
    assert histogram == {
        "0": 1,
        "1": 1,
        "2-3": 2,
        "4-7": 1,
        "8-15": 2,
        "16-31": 1,
        "32-63": 2,
    }
    widest = max(out[3:], key=bars)
    assert cell_len(widest) == 60  # the biggest bucket's bar fills the width
    assert all(cell_len(line) <= 60 for line in out[2:])
    assert lines_of(summary(results, totals, width=60), width=80) == out


def test_summary_without_counted_files() -> None:
    results = [FileResult("a", Status.SKIPPED, reason="binary")]
    out = list(summary_lines(results, Totals.of(results), width=60))
    assert out == ["1 file: 0 ok, 1 skipped · 0 lines · 0 B", "no file was counted"]


def test_summary_wraps_long_lines_in_a_narrow_console() -> None:
    results = [FileResult("a", Status.OK, 10**9, 1)]
    out = lines_of(summary(results, Totals.of(results), width=30), width=30)
    assert all(cell_len(line) <= 30 for line in out)
    assert "1,000,000,000" in "\n".join(out)


# -- failure report ----------------------------------------------------------------


class WeirdError(Exception):
    pass


def many_failures(tmp_path: Path) -> list[FileResult]:
    return [
        not_found(tmp_path, "missing-1.txt"),
        decode_error("latin1.txt", offset=1234),
        fail("slow.log", TimeoutError("took longer than 5 s")),
        fail("long-1.py", TooManyLines("long-1.py", 812, 500)),
        FileResult("later-1", Status.CANCELLED, reason="cancelled after a failure"),
        fail("secret", PermissionError(errno.EACCES, os.strerror(errno.EACCES), "secret")),
        not_found(tmp_path, "missing-2.txt"),
        fail("long-2.py", TooManyLines("long-2.py", 1001, 500)),
        fail("odd", WeirdError("something odd")),
        FileResult("pic.png", Status.SKIPPED, None, 10, reason="binary"),
        FileResult("link", Status.SKIPPED, reason="symlink"),
        FileResult("blob.bin", Status.SKIPPED, None, 10, reason="binary"),
        FileResult("later-2", Status.CANCELLED, reason="cancelled after a failure"),
        fail("long-3.py", TooManyLines("long-3.py", 600, 500)),
        FileResult("ok.py", Status.OK, 3, 3),
        fail("dir", IsADirectoryError(errno.EISDIR, os.strerror(errno.EISDIR), "dir")),
        fail("img.raw", BinaryFileError("img.raw")),
    ]


def test_failure_report_groups_by_type(tmp_path: Path) -> None:
    out = list(failure_report_lines(many_failures(tmp_path)))
    assert out == [
        "3 files over 500 lines",
        "  long-1.py: 812 lines (limit 500)",
        "  long-2.py: 1,001 lines (limit 500)",
        "  long-3.py: 600 lines (limit 500)",
        "2 files not found",
        "  missing-1.txt: No such file or directory",
        "  missing-2.txt: No such file or directory",
        "1 binary file",
        "  img.raw: binary file (a NUL byte in its first 8 KiB)",
        "1 file is a directory",
        "  dir: Is a directory",
        "1 file could not be read: permission denied",
        "  secret: Permission denied",
        "1 file took longer than 5 s",
        "  slow.log",
        "1 file is not valid UTF-8",
        "  latin1.txt: can't decode byte ff at byte offset 1234 (invalid start byte)",
        "1 file failed with WeirdError",
        "  odd: something odd",
        "2 files cancelled after a failure",
        "2 skipped: binary",
        "1 skipped: symlink",
    ]


def test_failure_report_verbose_lists_skipped_and_cancelled(tmp_path: Path) -> None:
    out = list(failure_report_lines(many_failures(tmp_path), verbose=True))
    assert out[0] == "3 files over 500 lines (TooManyLines)"
    tail = out[out.index("2 files cancelled after a failure") :]
    assert tail == [
        "2 files cancelled after a failure",
        "  later-1",
        "  later-2",
        "2 skipped: binary",
        "  pic.png",
        "  blob.bin",
        "1 skipped: symlink",
        "  link",
    ]


def test_failure_report_names_types_as_a_reader_knows_them(tmp_path: Path) -> None:
    import gzip
    import zlib

    results = [
        fail("a.gz", zlib.error("Error -3 while decompressing data")),
        fail("b.gz", gzip.BadGzipFile("Not a gzipped file (b'ju')")),
        fail("c.bz2", OSError("Invalid data stream")),
        not_found(tmp_path, "gone"),
    ]
    assert [line for line in failure_report_lines(results) if not line.startswith(" ")] == [
        "1 file failed with BadGzipFile",
        "1 file not found",
        "1 file failed with OSError",
        "1 file failed with zlib.error",  # not "with error"
    ]
    verbose = [line for line in failure_report_lines(results, verbose=True) if line[0] != " "]
    assert verbose == [
        "1 file failed with BadGzipFile (gzip.BadGzipFile)",
        "1 file not found (FileNotFoundError)",
        "1 file failed with OSError",  # not "with OSError (OSError)"
        "1 file failed with zlib.error",
    ]


def test_failure_report_rendered_matches_lines_and_is_styled(tmp_path: Path) -> None:
    results = many_failures(tmp_path)
    plain = list(failure_report_lines(results, verbose=True))
    assert lines_of(failure_report(results, verbose=True), width=120) == plain
    colored = render(failure_report(results), width=120, color=True)
    assert "\x1b[1;31m3 files over 500 lines" in colored
    assert "\x1b[1;33m2 skipped: binary" in colored


def test_failure_report_plurals_and_other_wordings(tmp_path: Path) -> None:
    results = [
        not_found(tmp_path, "gone"),
        decode_error("a.txt", offset=3, encoding="ascii"),
        decode_error("b.txt", offset=4, encoding="ascii"),
        fail("d1", IsADirectoryError(errno.EISDIR, "Is a directory", "d1")),
        fail("d2", IsADirectoryError(errno.EISDIR, "Is a directory", "d2")),
        fail("t1", TimeoutError("took longer than 1 s")),
        fail("t2", TimeoutError("took longer than 2 s")),
        fail("x1", BinaryFileError("x1")),
        fail("x2", BinaryFileError("x2")),
        FileResult("c", Status.CANCELLED, reason="interrupted"),
        FileResult("s", Status.SKIPPED),
    ]
    headings = [line for line in failure_report_lines(results) if not line.startswith(" ")]
    assert headings == [
        "2 binary files",
        "2 files are directories",
        "2 files timed out",
        "2 files are not valid ASCII",
        "1 file not found",
        "1 file cancelled: interrupted",
        "1 skipped",
    ]
    lines = list(failure_report_lines(results))
    assert "  a.txt: can't decode byte ff at byte offset 3 (ordinal not in range(128))" in lines
    assert "  t1: took longer than 1 s" in lines


def test_failure_report_is_empty_without_failures() -> None:
    results = [FileResult("a", Status.OK, 1, 1)]
    assert list(failure_report_lines(results)) == []
    assert render(failure_report(results)) == ""
    assert render(failure_report([], verbose=True)) == ""


def test_failure_report_wraps_long_reasons_instead_of_cutting() -> None:
    reason = " ".join(f"word{i}" for i in range(30))
    results = [fail("some/file.txt", WeirdError(reason))]
    out = lines_of(failure_report(results), width=40)
    assert len(out) > 3
    assert all(cell_len(line) <= 40 for line in out)
    assert " ".join(out).count("word") == 30


def test_live_view_overall_line_counts_files_in_flight() -> None:
    active = (Row("a.py", 7, 70), Row("b.py", 5, 50))
    snap = snapshot(active=active, totals=Totals(files=1, ok=1, lines=10, bytes=100))
    last = lines_of(live_view(snap, width=120, height=10), width=120)[-1]
    assert "22 lines" in last
    assert "220 B" in last
