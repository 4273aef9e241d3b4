"""Language detection and code/comment/blank classification (tokei's rules)."""

from __future__ import annotations

import json
import os
import sys
import sysconfig
import tempfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from linetally._classify import classify, classify_detailed
from linetally._counting import count_lines
from linetally._langdata import SPECS
from linetally._languages import detect, language_names, needs_head

# -- detection --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("path", "head", "language"),
    [
        ("src/main.py", b"", "Python"),
        ("SRC/MAIN.PY", b"", "Python"),  # extensions are compared lower-cased
        ("lib.rs", b"", "Rust"),
        ("a/Dockerfile", b"", "Dockerfile"),
        ("Makefile", b"", "Makefile"),
        ("GNUmakefile", b"", "Makefile"),
        ("CMakeLists.txt", b"", "CMake"),
        ("views/home.blade.php", b"", "Blade"),  # a file-name suffix beats the extension
        ("page.php", b"", "PHP"),
        ("notebook.ipynb", b"", "Jupyter Notebooks"),
        ("run", b"#!/usr/bin/env python3\nprint(1)\n", "Python"),
        ("run", b"#!/usr/bin/env python3.12 -u\n", "Python"),
        ("run", b"#!/bin/bash\necho\n", "BASH"),
        ("run", b"#!/bin/sh\n", "Shell"),
        ("run", b"#! /bin/sh\n", None),  # tokei looks at the first word only
        ("run", b"#!/usr/bin/env\n", None),
        ("run", b"#!/usr/bin/env nosuchtool\n", None),
        ("run", b"plain text\n", None),
        ("run", b"", None),
        ("run", b"#!/usr/bin/env pyth\xffon\n", None),  # not UTF-8
        (".bashrc", b"#!/bin/bash\n", "BASH"),  # a leading dot is not an extension
        ("script.unknownext", b"#!/usr/bin/env python\n", None),  # not looked into
        ("notes.", b"#!/bin/bash\n", None),  # an empty extension is still one
        ("x.sh", b"#!/usr/bin/env python\n", "Shell"),  # the extension wins
    ],
)
def test_detect(path: str, head: bytes, language: str | None) -> None:
    assert detect(path, head) == language


def test_needs_head_only_without_extension() -> None:
    assert needs_head("bin/run")
    assert needs_head(".bashrc")
    assert not needs_head("main.py")
    assert not needs_head("Dockerfile")
    assert not needs_head("x.unknownext")


def test_language_names_are_the_table() -> None:
    names = language_names()
    assert names == sorted(SPECS)
    assert {"Python", "C", "C++", "Rust", "Markdown", "HTML", "Jupyter Notebooks"} <= set(names)


# -- classification: own fixtures -------------------------------------------------------

C_COMMENTS = b"""// line comment
int x = 1; // trailing
/* block
   spans */
int y; /* inline */
/* whole */

"""

PY_DOC = b'''def f():
    """Summary.

    More.
    """
    return 1  # done

x = 1
'''

MD_FENCE = b"""# Title

```python
x = 1
# comment
```

Text.
"""

HTML_EMBED = b"""<html>
<script>
  var x = 1; // c
  // only comment
</script>
<style>
  p { color: red; }
</style>
</html>
"""

RUST_DOC = b"""/// Adds one.
///
/// ```rust
/// assert_eq!(add(1), 2);
/// ```
fn add(x: i32) -> i32 { x + 1 }
"""

NOTEBOOK = b"""{
 "cells": [
  {"cell_type": "markdown", "metadata": {}, "source": ["# Title\\n", "\\n", "Text"]},
  {"cell_type": "code", "metadata": {}, "source": ["x = 1\\n", "# note"], "outputs": []}
 ],
 "metadata": {"kernelspec": {"language": "python"}, "language_info": {}},
 "nbformat": 4, "nbformat_minor": 5
}
"""


@pytest.mark.parametrize(
    ("language", "text", "expected"),
    [
        pytest.param("C", C_COMMENTS, (2, 4, 1), id="line-and-block-comments"),
        # tokei: a line that starts inside a block comment is a comment, code after it or not
        pytest.param("C", b"/* a\n*/ int z;\n", (0, 2, 0), id="close-then-code"),
        pytest.param("C", b"int a; /* b\nc */\n", (1, 1, 0), id="code-then-open"),
        pytest.param(
            "C",
            b'char *s = "/* not a comment";\nint t;\nchar *u = "// nope";\n',
            (3, 0, 0),
            id="markers-in-strings",
        ),
        pytest.param("C", b'char *s = "a \\" /* still";\nint t;\n', (2, 0, 0), id="escaped-quote"),
        pytest.param("C", b's = "\\\\";\n/* c */\n', (1, 1, 0), id="escaped-backslash"),
        pytest.param("C", b's = "one\nstill string // x\n";\n', (3, 0, 0), id="multi-line-string"),
        pytest.param(
            "Rust", b"/* a /* b */\nstill comment\n*/\nfn main() {}\n", (1, 3, 0), id="nested"
        ),
        pytest.param(
            "C", b"/* a /* b */\nnot comment\n*/\nint main;\n", (3, 1, 0), id="not-nested"
        ),
        pytest.param("Haskell", b"{- a {- b -}\nc\n-}\nmain = 1\n", (1, 3, 0), id="haskell"),
        pytest.param("C#", b'var p = @"C:\\dir\\";\n// comment\n', (1, 1, 0), id="verbatim-csharp"),
        pytest.param("Rust", b'let s = r#"a " /* b"#;\n// c\n', (1, 1, 0), id="verbatim-rust-raw"),
        pytest.param("Python", PY_DOC, (7, 0, 1), id="docstring-is-code"),
        pytest.param("Python", b"x = '''\n# not\n'''\n", (3, 0, 0), id="comment-in-string"),
        pytest.param("Markdown", MD_FENCE, (1, 5, 2), id="markdown-fence"),
        pytest.param("Markdown", b"```\nplain\n```\n", (0, 3, 0), id="fence-no-language"),
        pytest.param("Markdown", b"Text\n\n  more\n", (0, 2, 1), id="literate"),
        pytest.param("HTML", HTML_EMBED, (8, 1, 0), id="html-script-style"),
        pytest.param("Rust", RUST_DOC, (2, 3, 1), id="rust-doc-markdown"),
        pytest.param("Jupyter Notebooks", NOTEBOOK, (1, 3, 4), id="notebook"),
        pytest.param("FORTRAN Legacy", b"! one\n  ! two\n", (1, 1, 0), id="fortran-column"),
        # tokei trims a line before it looks for comment tokens: "# " alone is not Org's "# "
        pytest.param("Org", b"# \n# note\n", (1, 1, 0), id="token-ending-in-space"),
        pytest.param("Forth", b"( \n\nx\n", (2, 0, 1), id="opener-ending-in-space"),
        # a verbatim opener alone does not make tokei look at the line: nothing opens
        pytest.param("Cangjie", b"x = #'abc\nfoo\n// c\n", (2, 1, 0), id="verbatim-not-important"),
        pytest.param("Cangjie", b'x = "a" #\'abc\nfoo\n// c\n', (3, 0, 0), id="verbatim-opens"),
        pytest.param(None, b"a\n\n b\n", (2, 0, 1), id="unknown"),
        pytest.param("No Such Language", b"// a\n", (1, 0, 0), id="unknown-name"),
        pytest.param("C", b"", (0, 0, 0), id="empty"),
        pytest.param("C", b"// no newline at end", (0, 1, 0), id="unterminated"),
    ],
)
def test_classify(language: str | None, text: bytes, expected: tuple[int, int, int]) -> None:
    assert classify(text, language) == expected
    assert sum(expected) == count_lines(text)


def test_docstrings_as_comments() -> None:
    assert classify(PY_DOC, "Python", docstrings="comment") == (3, 4, 1)
    one_line = b'def g():\n    """One line."""\n    pass\n'
    assert classify(one_line, "Python") == (3, 0, 0)
    assert classify(one_line, "Python", docstrings="comment") == (2, 1, 0)
    # a triple-quoted string that is not a statement's start stays code
    assert classify(b'x = """a"""\n', "Python", docstrings="comment") == (1, 0, 0)


def test_docstrings_option_is_checked() -> None:
    with pytest.raises(ValueError, match="docstrings"):
        classify(b"x\n", "Python", docstrings="both")  # type: ignore[arg-type]


def test_embedded_languages_broken_out() -> None:
    html = classify_detailed(HTML_EMBED, "HTML")
    assert html.children == {"JavaScript": [1, 1, 0], "CSS": [1, 0, 0]}
    md = classify_detailed(MD_FENCE, "Markdown")
    assert md.children == {"Python": [1, 1, 0]}
    rust = classify_detailed(RUST_DOC, "Rust")
    assert rust.children == {"Markdown": [0, 3, 1], "Rust": [1, 0, 0]}
    nb = classify_detailed(NOTEBOOK, "Jupyter Notebooks")
    assert nb.children == {"Markdown": [0, 2, 1], "Python": [1, 1, 0]}


def test_one_line_script_counts_one_line() -> None:
    # tokei counts this line twice (the tag line, then again from </script>)
    text = b"<p>a</p>\n<script>let a = 1; let b = 2;</script>\n"
    assert sum(classify(text, "HTML")) == 2


@pytest.mark.parametrize("language", ["C", "Python", "Rust", "HTML", "Markdown"])
def test_line_endings(language: str) -> None:
    lf = {
        "C": C_COMMENTS,
        "Python": PY_DOC,
        "Rust": RUST_DOC,
        "HTML": HTML_EMBED,
        "Markdown": MD_FENCE,
    }[language]
    crlf = lf.replace(b"\n", b"\r\n")
    cr = lf.replace(b"\n", b"\r")
    assert classify(crlf, language) == classify(lf, language)
    assert classify(cr, language) == classify(lf, language)  # a lone CR ends a line too
    assert classify(crlf.decode(), language) == classify(lf, language)


def test_bom_and_undecodable_bytes() -> None:
    assert classify(b"\xef\xbb\xbf// c\nint x;\n", "C") == (1, 1, 0)
    assert classify(b"// \xff\xfe \xc3(\nint \x80x;\n", "C") == (1, 1, 0)


# -- properties -------------------------------------------------------------------------

TOKENS = [
    b"\n", b"\r", b"\r\n", b" ", b"\t", b"x", b"=", b"1", b'"', b"'", b"`", b"\\", b"/",
    b"*", b"#", b"-", b"!", b"<", b">", b"{", b"}", b"(", b")", b";", b"%", b"@",
    b"```", b"```rust\n", b"```python\n", b"///", b"//!", b"<script>", b"</script>",
    b"<style>", b"</style>", b"<template>", b"<!--", b"-->", b'"""', b"'''", b'r#"', b'"#',
    b'@"', b"{-", b"-}", b"/+", b"+/", b"(*", b"*)", b"{=", b"=}", b"target C;", b"\xff",
    b"\xef\xbb\xbf",
]  # fmt: skip

LANGUAGES = st.one_of(st.sampled_from(sorted(SPECS)), st.none(), st.text(max_size=8))
TEXTS = st.one_of(
    st.binary(max_size=300),
    st.lists(st.sampled_from(TOKENS), max_size=80).map(b"".join),
)


@settings(max_examples=600, deadline=None)
@given(data=TEXTS, language=LANGUAGES, docstrings=st.sampled_from(["code", "comment"]))
def test_counts_add_up_to_lines(data: bytes, language: str | None, docstrings: str) -> None:
    counts = classify(data, language, docstrings=docstrings)  # type: ignore[arg-type]
    assert sum(counts) == count_lines(data)
    assert min(counts) >= 0


# -- tokei itself as an oracle, where its Python binding is installed -------------------

_ORACLE_LANGUAGES = {"Python": "py", "C": "c", "JavaScript": "js", "Go": "go", "Java": "java"}
_ORACLE_TOKENS = [
    b"\n", b"\n\n", b" ", b"  ", b"a", b"x = 1", b'"', b"'", b"`", b"/", b"*", b"#",
    b"//", b"/*", b"*/", b'"""', b"'''",
]  # fmt: skip


@settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    language=st.sampled_from(sorted(_ORACLE_LANGUAGES)),
    data=st.lists(st.sampled_from(_ORACLE_TOKENS), min_size=1, max_size=30).map(b"".join),
)
def test_same_as_tokei(language: str, data: bytes) -> None:
    # No backslashes: the packaged tokei predates its rule that `\\` is an escape.
    pytokei = pytest.importorskip("pytokei")
    with tempfile.TemporaryDirectory() as tmp:
        Path(tmp, "f." + _ORACLE_LANGUAGES[language]).write_bytes(data)
        langs = pytokei.Languages()
        langs.get_statistics([tmp], [], pytokei.Config())
        got = [(s.code, s.comments, s.blanks) for s in langs.get_languages().values()]
    assert classify(data, language) == (got[0] if got else (0, 0, 0))


# -- the standard library ---------------------------------------------------------------


def _stdlib_files() -> list[Path]:
    root = Path(sysconfig.get_paths()["stdlib"])
    files: list[Path] = []
    for top, dirs, names in os.walk(root):
        dirs[:] = [d for d in dirs if d not in ("site-packages", "__pycache__")]
        files += [Path(top, n) for n in names]
    return files


def test_stdlib_counts_add_up_file_by_file() -> None:
    checked = 0
    for path in _stdlib_files():
        try:
            data = path.read_bytes()
        except OSError:
            continue
        language = detect(str(path), data[:128])
        if language is None and not path.name.endswith(".py"):
            continue
        counts = classify(data, language)
        assert sum(counts) == count_lines(data), path
        checked += 1
    assert checked > 500 or sys.platform == "win32"


def test_notebook_that_is_not_json() -> None:
    assert classify(b"{ not json\n\n", "Jupyter Notebooks") == (0, 0, 2)
    bad = json.dumps({"cells": [{"cell_type": "raw", "source": ["x"]}], "metadata": {}})
    assert classify(bad.encode(), "Jupyter Notebooks") == (0, 0, 1)
