"""linetally's frozen records behave as ``@dataclass(frozen=True, slots=True)`` classes do.

Each behaviour is compared with a real dataclass of the same body: construction,
defaults, ``__post_init__``, repr, equality, hashing, frozenness, pickling and
copying, ``match``, and the dataclasses API (fields, asdict, astuple, replace).
"""

from __future__ import annotations

import copy
import dataclasses
import inspect
import pickle
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

import linetally
from linetally._frozen import field, frozen
from linetally._reader import ReadSettings, Skip
from linetally._walk import _Rules


def _pair() -> tuple[type[Any], type[Any]]:
    """The same class body, made by :func:`frozen` and by dataclasses."""

    def body(make: Any, make_field: Any) -> type[Any]:
        @make
        class Sample:
            """A sample."""

            name: str
            size: int | None = None
            tags: tuple[str, ...] = ()
            seen: int = make_field(default=0, compare=False)
            derived: int = make_field(default=-1, init=False)

            def __post_init__(self) -> None:
                if self.size is not None and self.size < 0:
                    raise ValueError("negative")
                object.__setattr__(self, "derived", len(self.name))

            @property
            def big(self) -> bool:
                return (self.size or 0) > 10

        return Sample

    return body(frozen, field), body(
        dataclasses.dataclass(frozen=True, slots=True), dataclasses.field
    )


OURS, THEIRS = _pair()
INIT_NAMES = (OURS.__init__.__qualname__, THEIRS.__init__.__qualname__)
# Found by pickle under these names (a class made in a function is not).
OURS.__qualname__ = OURS.__name__ = "OURS"
THEIRS.__qualname__ = THEIRS.__name__ = "THEIRS"

values = st.tuples(
    st.text(max_size=5),
    st.none() | st.integers(min_value=0, max_value=20),
    st.lists(st.text(max_size=3), max_size=3).map(tuple),
    st.integers(min_value=0, max_value=3),
)


def _both(name: str, size: int | None, tags: tuple[str, ...], seen: int) -> tuple[Any, Any]:
    return OURS(name, size, tags, seen), THEIRS(name, size=size, tags=tags, seen=seen)


@given(values, values)
def test_a_frozen_record_behaves_as_the_dataclass(a: Any, b: Any) -> None:
    ours_a, theirs_a = _both(*a)
    ours_b, theirs_b = _both(*b)
    assert repr(ours_a).removeprefix("OURS(") == repr(theirs_a).removeprefix("THEIRS(")
    assert (ours_a == ours_b) is (theirs_a == theirs_b)
    assert (ours_a != ours_b) is (theirs_a != theirs_b)
    assert hash(ours_a) == hash(theirs_a)
    assert ours_a.derived == theirs_a.derived == len(a[0])
    assert ours_a.big is theirs_a.big
    assert dataclasses.asdict(ours_a) == dataclasses.asdict(theirs_a)
    assert dataclasses.astuple(ours_a) == dataclasses.astuple(theirs_a)
    for other in (pickle.loads(pickle.dumps(ours_a)), copy.copy(ours_a), copy.deepcopy(ours_a)):
        assert other == ours_a
        assert other is not ours_a
        assert dataclasses.astuple(other) == dataclasses.astuple(ours_a)
    changed = dataclasses.replace(ours_a, size=b[1], name=b[0])
    assert dataclasses.astuple(changed) == dataclasses.astuple(
        dataclasses.replace(theirs_a, size=b[1], name=b[0])
    )


def test_a_frozen_record_has_the_dataclass_class_attributes() -> None:
    assert OURS.__slots__ == THEIRS.__slots__
    assert OURS.__match_args__ == THEIRS.__match_args__
    assert OURS.__doc__ == THEIRS.__doc__
    assert str(inspect.signature(OURS)) == str(inspect.signature(THEIRS))
    assert INIT_NAMES[0] == INIT_NAMES[1]
    assert dataclasses.is_dataclass(OURS) and dataclasses.is_dataclass(OURS("x"))
    ours = [(f.name, f.type, f.default, f.init, f.compare) for f in dataclasses.fields(OURS)]
    theirs = [(f.name, f.type, f.default, f.init, f.compare) for f in dataclasses.fields(THEIRS)]
    assert ours == theirs
    assert OURS.__dataclass_params__.frozen
    assert not hasattr(OURS("x"), "__dict__")


def test_a_frozen_record_refuses_changes_as_the_dataclass() -> None:
    record = OURS("x", 1)
    with pytest.raises(dataclasses.FrozenInstanceError, match="cannot assign to field 'size'"):
        record.size = 2  # type: ignore[misc]
    with pytest.raises(dataclasses.FrozenInstanceError, match="cannot delete field 'size'"):
        del record.size  # type: ignore[misc]
    with pytest.raises(ValueError, match="negative"):
        OURS("x", -1)  # __post_init__ ran
    with pytest.raises(TypeError):
        OURS("x", derived=3)  # type: ignore[call-arg]  # not an argument of __init__
    with pytest.raises(Exception, match="init=False") as ours:
        dataclasses.replace(record, derived=3)
    with pytest.raises(Exception, match="init=False") as theirs:
        dataclasses.replace(THEIRS("x", 1), derived=3)
    assert ours.type is theirs.type  # ValueError, TypeError from Python 3.13
    assert record.__eq__(("x", 1)) is NotImplemented
    assert record != THEIRS("x", 1)  # another class, as between two dataclasses


def test_a_frozen_record_matches_by_position_and_keyword() -> None:
    match OURS("x", 3, ("t",)):
        case OURS("y", _):
            raise AssertionError("matched the wrong name")
        case OURS("x", 3, tags=("t",)):
            pass
        case _:
            raise AssertionError("did not match")


def test_a_class_of_its_own_repr_keeps_it() -> None:
    report = linetally.Report([])
    assert repr(report).startswith("Report(files=0,")


def _samples() -> list[Any]:
    ok = linetally.Status.OK
    row = linetally.Row("a.txt", 3, 10)
    return [
        linetally.FileResult("a.txt", ok, 3, 10),
        linetally.Totals(files=1, ok=1, lines=3, bytes=10),
        linetally.LanguageTotals(1, 3, 2, 1, 0),
        linetally.Report([linetally.FileResult("a.txt", ok, 3, 10)]),
        row,
        linetally.Snapshot(1, 1, True, linetally.Totals(), 0.5, recent=(row,)),
        linetally.Options(jobs=4, languages=True),
        linetally.Entry("a.txt"),
        ReadSettings(max_lines=5),
        Skip("binary", 3),
        _Rules(in_git=True),
    ]


@pytest.mark.parametrize("record", _samples(), ids=lambda r: type(r).__name__)
def test_linetallys_records_are_frozen_dataclasses(record: Any) -> None:
    cls = type(record)
    names = [f.name for f in dataclasses.fields(cls)]
    assert dataclasses.is_dataclass(cls)
    assert list(cls.__slots__) == names == list(cls.__annotations__)
    assert pickle.loads(pickle.dumps(record)) == record
    assert copy.copy(record) == record
    assert dataclasses.replace(record) == record
    if cls is not linetally.Report:  # its results are a list, as unhashable as a dataclass's
        assert hash(record) == hash(dataclasses.replace(record))
    with pytest.raises(dataclasses.FrozenInstanceError):
        setattr(record, names[0], None)
    init = [p for p in inspect.signature(cls).parameters]
    assert init == [f.name for f in dataclasses.fields(cls) if f.init]
    assert cls.__match_args__ == tuple(init)


def test_the_command_starts_without_dataclasses() -> None:
    """dataclasses and the inspect it imports cost milliseconds of every start-up."""
    import subprocess
    import sys

    code = (
        "import sys, linetally._cli, linetally._fork, linetally._options, linetally._engine, "
        "linetally._output; print('dataclasses' in sys.modules)"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60
    ).stdout
    assert out.strip() == "False"  # imported on first use of the dataclasses API only
