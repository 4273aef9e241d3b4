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
