"""tokei's own test files (a reference copy beside the repository): every one must come out
as tokei counts it, language and the four numbers. Skipped where the copy is absent."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from linetally._classify import classify
from linetally._counting import count_lines
from linetally._languages import HEAD_SIZE, detect, from_tokei_key

REFERENCE = Path(__file__).resolve().parents[2] / "shared" / "reference" / "tokei"


def _fixtures() -> list[Any]:
    listing = REFERENCE / "fixtures.json"
    if not listing.is_file():
        return [pytest.param(None, marks=pytest.mark.skip(reason=f"no {listing}"))]
    entries = json.loads(listing.read_text(encoding="utf-8"))
    return [pytest.param(e, id=Path(e["path"]).name) for e in entries]


@pytest.mark.parametrize("entry", _fixtures())
def test_tokei_fixture(entry: dict[str, Any]) -> None:
    path = REFERENCE / "fixtures" / Path(entry["path"]).name
    data = path.read_bytes()
    language = detect(path.name, data[:HEAD_SIZE])
    assert language == from_tokei_key(entry["language"])
    code, comments, blanks = classify(data, language)
    assert (entry["lines"], code, comments, blanks) == (
        count_lines(data),
        entry["code"],
        entry["comments"],
        entry["blanks"],
    )
