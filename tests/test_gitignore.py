"""Tests for linetally._gitignore: its regexes are pathspec's, line for line."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st
from pathspec import GitIgnoreSpec

from linetally._gitignore import Unsupported, compile_glob, compile_lines, translate


def _pathspec(line: str) -> tuple[str, bool] | None:
    """What pathspec makes of ``line``: (regex, include), None for a no-op.

    Raises what pathspec raises for a line it rejects."""
    patterns = GitIgnoreSpec.from_lines([line]).patterns
    if not patterns:  # a blank line
        return None
    (pattern,) = patterns
    if pattern.include is None:
        return None
    assert pattern.regex is not None
    return pattern.regex.pattern, pattern.include


# Every character with a meaning in gitignore lines or in regexes, and some without.
_ALPHABET = "ab.*?[]!^-/# \t\\$()+{}|~&:\u00e9"


@pytest.mark.filterwarnings("ignore::FutureWarning")  # "[[]": pathspec and re, as they are
@settings(max_examples=3000, deadline=None)
@given(st.text(alphabet=_ALPHABET, max_size=12))
@example("**/")
@example("*/")
@example("!/")
@example("!")
@example("[]a]")
@example("[!]a-]")
@example("[^a]")
@example("a[")
@example("a//b")
@example("**/**/x/**/**")
@example("x  ")
@example("\\#x")
@example("x\\ ")
def test_translate_is_what_pathspec_makes(line: str) -> None:
    try:
        found = translate(line)
    except Unsupported:
        assert "\\" in line or line.rstrip() == "!", line
        return
    try:
        expected = _pathspec(line)
    except re.error:
        # pathspec made a regex that does not compile ("[?-:]"): so is ours, and
        # compile_lines drops the line as pathspec's callers did.
        assert found is not None
        with pytest.raises(re.error):
            re.compile(found[0])
        assert compile_lines([line]) == []
        return
    except ValueError:
        pytest.fail(f"pathspec rejects {line!r}; translate gave {found!r}")
    assert found == expected


@pytest.mark.parametrize(
    "line",
    [
        "__pycache__/",
        "*.py[cod]",
        "*$py.class",
        "/build",
        "node_modules/",
        "!important.log",
        "docs/_build/",
        "**/*.min.js",
        ".venv",
        "*.egg-info/",
        "# a comment",
        "",
    ],
)
def test_common_lines_need_no_pathspec(line: str) -> None:
    assert translate(line) == _pathspec(line)  # and no Unsupported raised


def test_compile_lines_keeps_order_and_drops_what_matches_nothing() -> None:
    lines = ["# c", "*.log", "", "a\\ ", "!keep.log", "[x", "\\!b", "\\"]
    rules = compile_lines(lines)
    assert [(rx.pattern, include, text) for rx, include, text in rules] == [
        (*_pathspec_pair("*.log"), "*.log"),
        (*_pathspec_pair("a\\ "), "a\\ "),
        (*_pathspec_pair("!keep.log"), "!keep.log"),
        (*_pathspec_pair("\\!b"), "\\!b"),
    ]
    assert all(isinstance(rx, re.Pattern) for rx, _, _ in rules)


def _pathspec_pair(line: str) -> tuple[str, bool]:
    found = _pathspec(line)
    assert found is not None
    return found


def test_compile_glob_raises_for_what_pathspec_rejects() -> None:
    with pytest.raises(ValueError, match="Invalid git pattern"):
        compile_glob("a\\")
    assert compile_glob("[a") == []  # an open range: a line that matches nothing
    ((rx, include, text),) = compile_glob("*.py")
    assert (rx.pattern, include, text) == (*_pathspec_pair("*.py"), "*.py")


def _imports_pathspec(root: Path, *args: str) -> tuple[bool, list[str]]:
    code = (
        "import sys, json; from linetally._walk import walk;"
        f"found = [e.path for e in walk([{str(root)!r}], globs={list(args)!r})];"
        "print(json.dumps(['pathspec' in sys.modules, found]))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], check=True, capture_output=True, text=True
    ).stdout
    imported, found = json.loads(out)
    return imported, sorted(found)


def test_pathspec_is_imported_only_for_a_line_that_needs_it(tmp_path: Path) -> None:
    root = tmp_path / "r"
    (root / "__pycache__").mkdir(parents=True)
    (root / "__pycache__" / "x.pyc").write_text("")
    for name in ("a.py", "b.pyc", "#c", "d.py"):
        (root / name).write_text("x\n")
    (root / ".ignore").write_text("__pycache__/\n*.py[cod]\n")
    assert _imports_pathspec(root, "*.py") == (False, [str(root / "a.py"), str(root / "d.py")])
    (root / ".ignore").write_text("__pycache__/\n*.py[cod]\n\\#c\n")
    assert _imports_pathspec(root) == (True, [str(root / "a.py"), str(root / "d.py")])
