"""The JSON records: the fast writer agrees with json.dumps byte for byte."""

from __future__ import annotations

import json

from hypothesis import given
from hypothesis import strategies as st

from linetally import FileResult, Status
from linetally._output import json_record, json_text

names = st.text(alphabet=st.characters(codec=None, exclude_categories=()), max_size=30) | st.binary(
    max_size=20
).map(lambda b: b.decode("utf-8", "surrogateescape"))


@given(
    path=names,
    status=st.sampled_from(list(Status)),
    lines=st.none() | st.integers(min_value=0, max_value=10**12),
    size=st.none() | st.integers(min_value=0, max_value=10**15),
    reason=st.none() | st.sampled_from(["binary", "symlink", "interrupted"]),
    error=st.none() | st.sampled_from([FileNotFoundError(2, "No such file or directory")]),
)
def test_json_text_is_json_dumps(
    path: str,
    status: Status,
    lines: int | None,
    size: int | None,
    reason: str | None,
    error: Exception | None,
) -> None:
    r = FileResult(path, status, lines, size, error, reason)
    assert json_text(r) == json.dumps(json_record(r), ensure_ascii=True)
    assert json.loads(json_text(r))["path"] == path


@given(
    path=names,
    status=st.sampled_from(list(Status)),
    lines=st.none() | st.integers(min_value=0, max_value=10**12),
    reason=st.none() | st.just("binary"),
    language=st.none() | st.sampled_from(["Python", "C++", "Plain Text", 'Odd "name"\\é']),
    split=st.none() | st.tuples(*[st.integers(min_value=0, max_value=10**9)] * 3),
    codec=st.none() | st.sampled_from(["gzip", "zstd"]),
    made=st.none() | st.integers(min_value=0, max_value=10**15),
    languages=st.booleans(),
    decompress=st.booleans(),
)
def test_json_text_with_languages_and_codecs_is_json_dumps(
    path: str,
    status: Status,
    lines: int | None,
    reason: str | None,
    language: str | None,
    split: tuple[int, int, int] | None,
    codec: str | None,
    made: int | None,
    languages: bool,
    decompress: bool,
) -> None:
    code, comments, blanks = split or (None, None, None)
    r = FileResult(
        path,
        status,
        lines,
        10,
        None,
        reason,
        language=language,
        code=code,
        comments=comments,
        blanks=blanks,
        codec=codec,
        decompressed_bytes=made,
    )
    text = json_text(r, languages, decompress)
    assert text == json.dumps(json_record(r, languages, decompress), ensure_ascii=True)


def test_a_quickly_built_result_is_a_file_result_like_any_other() -> None:
    import copy
    import dataclasses
    import pickle

    import pytest

    from linetally._model import counted_result

    for args, kwargs in [
        (("a/b.txt", 3, 10), {}),
        (
            ("c.py.gz", 5, 7, "Python", 3, 1, 1, "gzip", 99),
            dict(language="Python", code=3, comments=1, blanks=1, codec="gzip"),
        ),
    ]:
        quick = counted_result(*args)
        plain = FileResult(args[0], Status.OK, args[1], args[2], **kwargs)
        if "codec" in kwargs:
            plain = dataclasses.replace(plain, decompressed_bytes=99)
        assert type(quick) is FileResult
        assert quick == plain and hash(quick) == hash(plain) and repr(quick) == repr(plain)
        assert quick.ok and dataclasses.asdict(quick) == dataclasses.asdict(plain)
        assert pickle.loads(pickle.dumps(quick)) == plain == copy.copy(quick)
        with pytest.raises(dataclasses.FrozenInstanceError):
            quick.lines = 0  # type: ignore[misc]


@given(
    st.lists(
        st.text(
            st.characters(blacklist_characters="\0/", blacklist_categories=()),
            min_size=1,
        )
        | st.sampled_from(["\\u0000", "a\\u0000b", "\\", '"', "\udcff", "\U0001f600"]),
        max_size=20,
    )
)
def test_names_escaped_together_as_each_alone(names: list[str]) -> None:
    from linetally._output import _quoted_names

    assert _quoted_names(names) == [json.dumps(n)[1:-1] for n in names]


def test_rows_rendered_during_the_run_are_the_rows_rendered_after() -> None:
    """The command renders counted files' rows as they come; the JSON is the same."""
    import argparse

    from linetally._model import Columns, Results
    from linetally._output import _json_blocks, json_renderer

    def parts() -> list[FileResult | Columns]:
        return [
            Columns("d/", ["a", 'q"uote', "ü"], [1, 2, 3], [4, 5, 6]),
            FileResult("x", Status.OK, 7, 8),
            Columns("e/", ["b"], [0], [0]),
            Columns("f/", ["c.py", "d"], [3, 1], [9, 2], [("Python", 1, 1, 1), (None,) * 4]),
        ]

    for languages, decompress in [(False, False), (True, False), (False, True)]:
        args = argparse.Namespace(
            format="json",
            top=None,
            sort="none",
            reverse=False,
            languages=languages,
            decompress=decompress,
        )
        render = json_renderer(args)
        assert render is not None
        plain, early = parts(), parts()
        for part in early:
            if isinstance(part, Columns):
                render(part)
                assert part.rendered is not None
        want = list(_json_blocks(Results(plain), languages, decompress))
        assert list(_json_blocks(Results(early), languages, decompress)) == want
        # rendered for other options: not used
        assert list(_json_blocks(Results(early), not languages, decompress)) == list(
            _json_blocks(Results(parts()), not languages, decompress)
        )
    for other in ({"sort": "lines"}, {"top": 3}, {"reverse": True}, {"format": "csv"}):
        fields = {"format": "json", "top": None, "sort": "none", "reverse": False, **other}
        assert json_renderer(argparse.Namespace(languages=False, **fields)) is None


_classified = st.one_of(
    st.just((None, None, None, None)),
    st.tuples(
        st.sampled_from(["Python", "C++", 'Q"uoted', "Ünï"]),
        st.integers(0, 10**6),
        st.integers(0, 10**6),
        st.integers(0, 10**6),
    ),
)


@given(
    rows=st.lists(
        st.tuples(st.text(min_size=1, max_size=8), st.integers(0, 10**9), _classified),
        min_size=1,
        max_size=12,
    ),
    decompress=st.booleans(),
)
def test_classified_columns_are_written_as_their_results(
    rows: list[tuple[str, int, tuple[object, ...]]], decompress: bool
) -> None:
    """Counted files kept as columns with their languages: the rows of their FileResults."""
    from linetally._model import Columns, Results
    from linetally._output import _json_blocks, json_text

    names = [name for name, _, _ in rows]
    lines = [n for _, n, _ in rows]
    classified = [kind for _, _, kind in rows]
    columns = Columns("top/d\\/", names, lines, [2 * n for n in lines], classified)  # type: ignore[arg-type]
    results = columns.results()
    assert [(r.language, r.code, r.comments, r.blanks) for r in results] == classified
    for languages in (True, False):
        want = ",\n  ".join(json_text(r, languages, decompress) for r in results)
        assert "".join(_json_blocks(Results([columns]), languages, decompress)) == want
