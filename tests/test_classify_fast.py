"""The fast lexer of simple languages counts exactly what the token-by-token path counts."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from linetally._classify import Counts, _parse, _Run, _syntax, classify
from linetally._langdata import SPECS

FAST = sorted(name for name in SPECS if _syntax(name) is not None and _syntax(name).fast)  # type: ignore[union-attr]

TOKENS = [
    b"\n", b"\n\n", b" ", b"    ", b"\t", b"x", b"= 1", b'"', b"'", b"`", b"\\", b"\\\\",
    b"#", b"# it's", b"//", b"--", b";", b'"""', b"'''", b'""', b"''", b'"a"', b"'b'",
    b'\\"', b"\\'", b"\\\n", b"\r\n", b"\xff", b"\x0b", b"\x0c",
]  # fmt: skip


def _token_by_token(data: bytes, language: str) -> tuple[int, int, int]:
    if data and not data.endswith(b"\n"):
        data += b"\n"
    syn = _syntax(language)
    assert syn is not None
    out = Counts()
    _Run(syn, data, False, 0, out).run()
    return out.code, out.comments, out.blanks


def _fast(data: bytes, language: str) -> tuple[int, int, int]:
    out = _parse(data, language, False)
    return out.code, out.comments, out.blanks


def test_python_has_the_fast_lexer() -> None:
    assert "Python" in FAST


@pytest.mark.parametrize(
    "text",
    [
        b'def f():\n    """Doc\n\n    # not a comment\n    """\n    return 1\n',
        b'x = """one line"""  # and a comment\n# it\'s a comment\n\n',
        b"x = 1  # it's \"quoted\ny = 2\n",
        b's = """a\n# """ tail\n',  # a doc string ends on a line that starts with #
        b's = """a\nb""" + """c\nd"""\n',  # one closes, the next opens on the same line
        b"s = '''a\\''' b\n'''\n",
        b's = "a\\\nb"\n',  # a string continued over a line break
        b'x = \\"\ny = \\\\"a"\n',
        b's = """never closed\n\n',
        b'"""\n"""\n\n\n   \n\t# c\n',
    ],
)
def test_fast_same_as_token_by_token(text: bytes) -> None:
    assert _fast(text, "Python") == _token_by_token(text, "Python")


@settings(max_examples=400, deadline=None)
@given(
    language=st.sampled_from(FAST),
    data=st.lists(st.sampled_from(TOKENS), max_size=60).map(b"".join),
)
def test_fast_lexer_is_exact(language: str, data: bytes) -> None:
    data = data.replace(b"\r\n", b"\n")  # _parse sees normalised text
    assert _fast(data, language) == _token_by_token(data, language)


@settings(max_examples=200, deadline=None)
@given(data=st.binary(max_size=200))
def test_fast_lexer_is_exact_on_any_bytes(data: bytes) -> None:
    data = data.replace(b"\r\n", b"\n").replace(b"\r", b"\n")
    assert _fast(data, "Python") == _token_by_token(data, "Python")


def test_docstrings_as_comments_do_not_use_it() -> None:
    text = b'def f():\n    """Doc\n\n    more\n    """\n'
    assert classify(text, "Python", docstrings="comment") == (1, 4, 0)
    assert classify(text, "Python") == (5, 0, 0)
