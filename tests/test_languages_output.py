"""``--languages``, ``--docstrings``, ``--by`` and ``--files``: library, CLI, every format."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

import linetally

from .conftest import run_cli

PLAIN_KEYS = ["path", "status", "lines", "bytes", "error", "reason"]
LANGUAGE_KEYS = ["language", "code", "comments", "blanks"]


@pytest.fixture
def tree(tmp_path: Path) -> Path:
    """A small tree of known languages, an unknown one and a failure."""
    (tmp_path / "pkg" / "sub").mkdir(parents=True)
    (tmp_path / "pkg" / "a.py").write_text("# a comment\nx = 1\n\ny = 2\n")
    (tmp_path / "pkg" / "doc.py").write_text('def f():\n    """Doc\n    string."""\n    return 1\n')
    (tmp_path / "pkg" / "sub" / "b.c").write_text("int x;\n/* a\n   b */\n\nint y;\n")
    (tmp_path / "pkg" / "sub" / "c.rs").write_text("fn main() {}\n// c\n")
    (tmp_path / "pkg" / "LICENSE").write_text("no language\nat all\n")
    return tmp_path


def _by_path(records: list[dict[str, object]]) -> dict[str, dict[str, object]]:
    return {str(r["path"]).replace("\\", "/"): r for r in records}


def test_library_fields_and_totals(tree: Path) -> None:
    report = linetally.count(linetally.walk([str(tree / "pkg")]), languages=True)
    by_name = {Path(r.path).name: r for r in report.results}
    a = by_name["a.py"]
    assert (a.language, a.lines, a.code, a.comments, a.blanks) == ("Python", 4, 2, 1, 1)
    b = by_name["b.c"]
    assert (b.language, b.code, b.comments, b.blanks) == ("C", 2, 2, 1)
    lic = by_name["LICENSE"]
    assert (lic.language, lic.lines, lic.code) == (None, 2, None)
    assert (lic.comments, lic.blanks) == (None, None)
    for r in report.results:
        if r.code is not None:
            assert r.code + (r.comments or 0) + (r.blanks or 0) == r.lines
    langs = report.languages
    assert set(langs) == {"Python", "C", "Rust", "unknown"}
    assert langs["Python"].files == 2
    assert langs["unknown"] == linetally.LanguageTotals(1, 2, None, None, None)
    assert sum(t.files for t in langs.values()) == report.totals.ok
    assert sum(t.lines for t in langs.values()) == report.totals.lines
    # Most lines first.
    assert next(iter(langs)) == "Python"


def test_without_languages_nothing_is_classified(tree: Path) -> None:
    report = linetally.count(linetally.walk([str(tree / "pkg")]))
    assert all(r.language is None and r.code is None for r in report.results)


def test_docstrings_as_comments(tree: Path) -> None:
    path = str(tree / "pkg" / "doc.py")
    (as_code,) = linetally.count([path], languages=True).results
    (as_comment,) = linetally.count([path], languages=True, docstrings="comment").results
    assert (as_code.code, as_code.comments) == (4, 0)
    assert (as_comment.code, as_comment.comments) == (2, 2)
    with pytest.raises(ValueError, match="docstrings"):
        linetally.count([path], languages=True, docstrings="prose")  # type: ignore[typeddict-item]


def test_processes_classify_like_threads(tmp_path: Path) -> None:
    # Enough files for the counting processes to start: they classify too.
    for i in range(700):
        sub = tmp_path / f"d{i % 7}"
        sub.mkdir(exist_ok=True)
        (sub / f"f{i}.py").write_text("# c\n" * (i % 3) + "x = 1\n" * (i % 5) + "\n" * (i % 2))
    paths = list(linetally.walk([str(tmp_path)]))
    threads = linetally.count(paths, languages=True, processes=0)
    procs = linetally.count(paths, languages=True, processes=2)
    assert threads.results == procs.results
    assert threads.languages == procs.languages
    assert threads.languages["Python"].files == 700


def test_live_snapshot_has_running_language_totals(tree: Path) -> None:
    async def main() -> linetally.Snapshot:
        run = linetally.Run(linetally.walk([str(tree / "pkg")]), linetally.Options(languages=True))
        async for _ in run:
            pass
        return run.snapshot()

    import asyncio

    snap = asyncio.run(main())
    names = [name for name, _ in snap.languages]
    assert names[0] == "Python"
    assert set(names) == {"Python", "C", "Rust", "unknown"}


def test_json_keys_only_with_languages(tree: Path) -> None:
    plain = run_cli("--format", "json", "pkg", cwd=tree)
    assert plain.code == 0, plain.err
    doc = json.loads(plain.out)
    assert list(doc) == ["files", "totals", "interrupted"]
    assert all(list(f) == PLAIN_KEYS for f in doc["files"])

    r = run_cli("--languages", "--format", "json", "pkg", cwd=tree)
    assert r.code == 0, r.err
    assert r.err == ""
    doc = json.loads(r.out)
    assert list(doc) == ["files", "totals", "interrupted", "languages"]
    assert all(list(f) == PLAIN_KEYS + LANGUAGE_KEYS for f in doc["files"])
    files = _by_path(doc["files"])
    assert files["pkg/a.py"] | {} == {
        "path": "pkg/a.py",
        "status": "ok",
        "lines": 4,
        "bytes": 25,
        "error": None,
        "reason": None,
        "language": "Python",
        "code": 2,
        "comments": 1,
        "blanks": 1,
    }
    assert files["pkg/LICENSE"]["language"] is None
    assert files["pkg/LICENSE"]["code"] is None
    assert doc["languages"]["Python"] == {
        "files": 2,
        "lines": 8,
        "code": 6,
        "comments": 1,
        "blanks": 1,
    }
    assert doc["languages"]["unknown"] == {
        "files": 1,
        "lines": 2,
        "code": None,
        "comments": None,
        "blanks": None,
    }


def test_jsonl_and_csv_fields(tree: Path) -> None:
    r = run_cli("--languages", "--format", "jsonl", "pkg", cwd=tree)
    assert r.code == 0, r.err
    records = [json.loads(line) for line in r.out.splitlines()]
    assert all(list(rec) == PLAIN_KEYS + LANGUAGE_KEYS for rec in records)
    assert _by_path(records)["pkg/sub/c.rs"]["language"] == "Rust"

    r = run_cli("--languages", "--format", "csv", "pkg", cwd=tree)
    assert r.code == 0, r.err
    rows = list(csv.reader(io.StringIO(r.out)))
    header = rows[0]
    assert header[-4:] == LANGUAGE_KEYS
    by_path = {row[0]: dict(zip(header, row, strict=True)) for row in rows[1:]}
    assert by_path["pkg/sub/b.c"]["language"] == "C"
    assert by_path["pkg/sub/b.c"]["comments"] == "2"
    assert by_path["pkg/LICENSE"]["code"] == ""

    plain = run_cli("--format", "csv", "pkg", cwd=tree)
    assert "language" not in plain.out.splitlines()[0]


def test_table_groups_by_language(tree: Path) -> None:
    r = run_cli("--languages", "pkg", cwd=tree)
    assert r.code == 0, r.err
    lines = r.out.splitlines()
    assert lines[0].split() == ["language", "files", "lines", "code", "comments", "blanks"]
    rows = {line.split()[0]: line.split()[1:] for line in lines[1:]}
    assert rows["Python"] == ["2", "8", "6", "1", "1"]
    assert rows["C"] == ["1", "5", "2", "2", "1"]
    assert rows["unknown"] == ["1", "2"]
    assert rows["total"] == ["5", "17", "9", "4", "2"]
    # Most lines first, the total last.
    assert [line.split()[0] for line in lines[1:]] == ["Python", "C", "Rust", "unknown", "total"]


def test_table_files_under_their_language(tree: Path) -> None:
    r = run_cli("--languages", "--files", "--sort", "path", "pkg", cwd=tree)
    assert r.code == 0, r.err
    names = [line.split()[0] for line in r.out.splitlines()[1:]]
    assert names == [
        "C",
        "pkg/sub/b.c",
        "Python",
        "pkg/a.py",
        "pkg/doc.py",
        "Rust",
        "pkg/sub/c.rs",
        "unknown",
        "pkg/LICENSE",
        "total",
    ]


def test_by_directory_and_extension(tree: Path) -> None:
    r = run_cli("--by", "directory", "pkg", cwd=tree)
    assert r.code == 0, r.err
    rows = {line.split()[0]: line.split()[1:] for line in r.out.splitlines()[1:]}
    assert rows == {"pkg": ["3", "10"], "pkg/sub": ["2", "7"], "total": ["5", "17"]}

    r = run_cli("--by", "directory:1", "--languages", "pkg", cwd=tree)
    rows = {line.split()[0]: line.split()[1:] for line in r.out.splitlines()[1:]}
    assert rows["pkg"] == ["5", "17", "9", "4", "2"]

    r = run_cli("--by", "extension", "--format", "json", "pkg", cwd=tree)
    doc = json.loads(r.out)
    assert doc["by"] == "extension"
    assert doc["groups"] == {
        ".py": {"files": 2, "lines": 8},
        ".c": {"files": 1, "lines": 5},
        ".rs": {"files": 1, "lines": 2},
        "(none)": {"files": 1, "lines": 2},
    }
    assert "languages" not in doc


@pytest.mark.parametrize(
    ("args", "cwd", "groups"),
    [
        ((), "tree", {"./pkg": [5, 17]}),
        ((".",), "tree", {"./pkg": [5, 17]}),
        (("..",), "pkg", {"../pkg": [5, 17]}),
        (("../pkg",), "pkg", {"../pkg": [5, 17]}),
        (("./pkg",), "tree", {"./pkg": [5, 17]}),
    ],
)
def test_by_directory_depth_does_not_count_dot_folders(
    tree: Path, args: tuple[str, ...], cwd: str, groups: dict[str, list[int]]
) -> None:
    # "." and ".." in front of the paths shown are not a level of the tree
    where = tree if cwd == "tree" else tree / cwd
    r = run_cli("--by", "directory:1", "--format", "json", *args, cwd=where)
    assert r.code == 0, r.err
    got = json.loads(r.out)["groups"]
    assert {k: [v["files"], v["lines"]] for k, v in got.items()} == groups


@pytest.mark.parametrize("by", ["language", "directory", "extension"])
def test_top_groups_keep_the_total_of_every_file(tree: Path, by: str) -> None:
    # as the file table's total row with --top counts every file, not the rows shown
    whole = run_cli("--by", by, "pkg", cwd=tree)
    top = run_cli("--by", by, "--top", "1", "pkg", cwd=tree)
    assert whole.code == top.code == 0, whole.err + top.err
    assert len(top.out.splitlines()) == 3  # header, one group, total
    assert top.out.splitlines()[-1].split() == whole.out.splitlines()[-1].split()
    assert top.out.splitlines()[-1].split()[1] == "5"


def test_by_language_implies_languages(tree: Path) -> None:
    r = run_cli("--by", "language", "--format", "json", "pkg", cwd=tree)
    doc = json.loads(r.out)
    assert doc["groups"] == doc["languages"]


@pytest.mark.parametrize("value", ["lang", "directory:0", "directory:x", "extension:2", ""])
def test_bad_by_is_a_usage_error(tree: Path, value: str) -> None:
    r = run_cli("--by", value, "pkg", cwd=tree)
    assert r.code == 2
    assert r.out == ""
    assert "--by" in r.err
    assert len(r.err.splitlines()) == 1


def test_live_view_shows_running_language_totals() -> None:
    from linetally._render import live_view

    from .test_render import lines_of, snapshot

    languages = (
        ("Python", linetally.LanguageTotals(3, 1200, 900, 200, 100)),
        ("unknown", linetally.LanguageTotals(1, 40)),
    )
    snap = snapshot(active=(linetally.Row("a.py", 10, 1),), languages=languages)
    out = lines_of(live_view(snap, width=100, height=4), width=100)
    # One row, the language line and the overall line: the rows give way first.
    assert len(out) == 3
    assert out[0].startswith("a.py")
    assert out[1] == "Python 1,200 (900 code) · unknown 40"
    assert "files" in out[2]
    plain = lines_of(live_view(snapshot(), width=100, height=3), width=100)
    assert not any("code" in line for line in plain)


@pytest.mark.parametrize(
    ("args", "words"),
    [
        (["--files"], "--files"),
        (["--files", "--languages", "--format", "json"], "--files"),
        (["--files", "--by", "extension", "--format", "csv"], "--files"),
        (["--docstrings", "comment"], "--docstrings"),
        (["--by", "directory", "--format", "csv"], "--by"),
        (["--by", "directory", "--format", "jsonl"], "--by"),
    ],
)
def test_combinations_refused(tree: Path, args: list[str], words: str) -> None:
    r = run_cli(*args, "pkg", cwd=tree)
    assert r.code == 2
    assert r.out == ""
    assert words in r.err
    assert len(r.err.splitlines()) == 1


def test_summary_with_languages_shows_both(tree: Path) -> None:
    r = run_cli("--languages", "--summary", "pkg", cwd=tree)
    assert r.code == 0, r.err
    out = r.out.splitlines()
    assert out[0].startswith("5 files: 5 ok")
    assert any(line.split()[:1] == ["language"] for line in out)
    r = run_cli("--languages", "--summary", "--format", "json", "pkg", cwd=tree)
    doc = json.loads(r.out)
    assert list(doc) == ["files", "totals", "interrupted", "languages", "summary"]
    assert doc["summary"]["files"] == 5


def test_docstrings_option_on_the_command_line(tree: Path) -> None:
    def counts(*extra: str) -> tuple[int, int]:
        r = run_cli("--languages", *extra, "--format", "json", "pkg/doc.py", cwd=tree)
        (f,) = json.loads(r.out)["files"]
        return f["code"], f["comments"]

    assert counts() == (4, 0)
    assert counts("--docstrings", "code") == (4, 0)
    assert counts("--docstrings", "comment") == (2, 2)


def test_compressed_source_keeps_its_language(tmp_path: Path) -> None:
    import gzip

    (tmp_path / "app.py.gz").write_bytes(gzip.compress(b"# c\nx = 1\n\n"))
    r = run_cli("-z", "--languages", "--format", "json", "app.py.gz", cwd=tmp_path)
    assert r.code == 0, r.err
    (f,) = json.loads(r.out)["files"]
    assert (f["language"], f["code"], f["comments"], f["blanks"]) == ("Python", 1, 1, 1)
    assert (f["codec"], f["decompressed_bytes"]) == ("gzip", 11)
    assert list(f)[-6:] == [*LANGUAGE_KEYS, "codec", "decompressed_bytes"]


_LANGUAGE_NAMES = st.sampled_from([None, "Python", "Rust", "unknown", "Émoji ✓"])


@st.composite
def _results(draw: st.DrawFn) -> linetally.FileResult:
    status = draw(st.sampled_from(list(linetally.Status)))
    lines = draw(st.none() | st.integers(0, 10**9))
    classified = draw(st.booleans())
    numbers = st.integers(0, 10**6)
    return linetally.FileResult(
        draw(st.text(max_size=5)),
        status,
        lines,
        draw(st.none() | numbers),
        language=draw(_LANGUAGE_NAMES),
        code=draw(numbers) if classified else None,
        comments=draw(st.none() | numbers) if classified else None,
        blanks=draw(st.none() | numbers) if classified else None,
    )


@given(st.lists(_results(), max_size=40))
def test_group_totals_add_up_as_language_totals_do(results: list[linetally.FileResult]) -> None:
    """The report's per-language totals (added up in place) are LanguageTotals.add's, in order."""
    from linetally._model import group_totals, language_of

    expected: dict[str, linetally.LanguageTotals] = {}
    for r in results:
        if r.status is linetally.Status.OK:
            name = language_of(r)
            expected[name] = expected.get(name, linetally.LanguageTotals()).add(r)
    order = sorted(expected, key=lambda k: (-expected[k].lines, k))
    got = group_totals(results, language_of)
    assert list(got) == order
    assert got == expected


def test_the_live_totals_per_language_are_the_reports(tmp_path: Path) -> None:
    for i in range(30):
        (tmp_path / f"f{i}.py").write_text("# c\n\nx = 1\n" * i)
        (tmp_path / f"f{i}.rs").write_text("// c\nfn x() {}\n" * (i % 4))
        (tmp_path / f"f{i}.txt").write_text("text\n" * i)
    run = linetally.Run(linetally.walk([str(tmp_path)]), linetally.Options(languages=True))
    import asyncio

    asyncio.run(run.complete())
    from linetally._model import group_totals, language_of

    report = run.report()
    assert len(report.languages) == 3
    assert dict(run.snapshot().languages) == report.languages
    assert report.languages == group_totals(list(report.results), language_of)
