"""Frozen records: the classes ``@dataclass(frozen=True, slots=True)`` makes, at less cost.

dataclasses writes each class's methods out as source text and compiles them one
at a time (``__init__``, ``__repr__``, ``__eq__``, ``__hash__``, ``__setattr__``,
``__delattr__``): 0.3-1.2 ms a class, and it imports inspect. For the command's
eleven classes that was 12 ms of every start-up's CPU, most of it before the
counting processes can start; by rounds on a tree of 9,000 source files the
command took 0.96x as long without it. :func:`frozen` compiles one ``__init__``
a class and shares the other methods between the classes; what they do is what
the dataclass's do (the tests compare them with real dataclasses).

They stay dataclasses to whoever asks: ``dataclasses.fields``, ``asdict``,
``astuple``, ``replace`` and ``is_dataclass`` work on them, through a
``__dataclass_fields__`` made on first use by dataclasses itself (it is imported
then, not before), from a dataclass of the same fields.
"""

from __future__ import annotations

import reprlib
from operator import attrgetter

TYPE_CHECKING = False  # typing costs milliseconds before the counting processes start
if TYPE_CHECKING:
    from typing import Any, NoReturn, TypeVar, dataclass_transform, overload

    _T = TypeVar("_T")

__all__ = ["field", "frozen"]

_MISSING: Any = object()


class _Field:
    """What :func:`field` gives: a field's default and whether ``__init__`` and ``==`` use it."""

    __slots__ = ("compare", "default", "init")

    def __init__(self, default: object, init: bool, compare: bool) -> None:
        self.default = default
        self.init = init
        self.compare = compare


if TYPE_CHECKING:

    @overload
    def field(*, default: _T, init: bool = True, compare: bool = True) -> _T: ...

    @overload
    def field(*, init: bool = True, compare: bool = True) -> Any: ...


def field(*, default: Any = _MISSING, init: bool = True, compare: bool = True) -> Any:
    """A field of a :func:`frozen` class, as ``dataclasses.field`` says it (these options only)."""
    return _Field(default, init, compare)


if TYPE_CHECKING:

    @dataclass_transform(frozen_default=True, field_specifiers=(field,))
    def frozen(cls: type[_T]) -> type[_T]:
        """Make ``cls`` what ``@dataclass(frozen=True, slots=True)`` makes of it."""
        ...

else:

    def frozen(cls):
        """Make ``cls`` what ``@dataclass(frozen=True, slots=True)`` makes of it.

        A method the class defines itself (``__repr__``, ``__post_init__``...)
        is kept, as dataclasses keeps it.
        """
        body = dict(cls.__dict__)
        annotations = body.get("__annotations__", {})
        names, params, lines, defaults, compared, init_names = [], [], [], {}, [], []
        for name in annotations:
            value = body.pop(name, _MISSING)
            init = compare = True
            if isinstance(value, _Field):
                value, init, compare = value.default, value.init, value.compare
            names.append(name)
            if compare:
                compared.append(name)
            if value is not _MISSING:
                defaults[name] = value
            if init:
                init_names.append(name)
                params.append(name if value is _MISSING else f"{name}=_d[{name!r}]")
                lines.append(f" _set(self, {name!r}, {name})")
            elif value is not _MISSING:
                lines.append(f" _set(self, {name!r}, _d[{name!r}])")
        if "__post_init__" in body:
            lines.append(" self.__post_init__()")
        body.pop("__dict__", None)
        body.pop("__weakref__", None)
        body["__qualname__"] = cls.__qualname__
        body["__slots__"] = tuple(names)
        body["__match_args__"] = tuple(init_names)
        body["__init__"] = init = _init(cls.__qualname__, params, lines, defaults)
        init.__annotations__ = {**{n: annotations[n] for n in init_names}, "return": None}
        body["_frozen_fields"] = (tuple(names), defaults, tuple(compared))
        body["_frozen_key"] = _key(compared)
        for method in _METHODS:
            body.setdefault(method.__name__, method)
        body["__dataclass_fields__"] = _Dataclass("__dataclass_fields__")
        body["__dataclass_params__"] = _Dataclass("__dataclass_params__")
        return type(cls)(cls.__name__, cls.__bases__, body)


def _init(qualname: str, params: list[str], lines: list[str], defaults: dict[str, object]) -> Any:
    """The class's ``__init__``, compiled from its fields (the one method that differs)."""
    source = f"def __init__(self, {', '.join(params)}):\n" + ("\n".join(lines) or " pass") + "\n"
    namespace: dict[str, Any] = {"_set": object.__setattr__, "_d": defaults}
    exec(source, namespace)
    init = namespace["__init__"]
    init.__qualname__ = f"{qualname}.__init__"
    return init


def _key(compared: list[str]) -> Any:
    """A function of an object giving the tuple of its ``compared`` fields."""
    if len(compared) >= 2:
        return attrgetter(*compared)
    if compared:
        one = attrgetter(compared[0])
        return lambda obj: (one(obj),)
    return lambda obj: ()


def __eq__(self: Any, other: object) -> bool:
    key = self._frozen_key
    if other.__class__ is self.__class__:
        return bool(key(self) == key(other))
    return NotImplemented


def __hash__(self: Any) -> int:
    return hash(self._frozen_key(self))


@reprlib.recursive_repr()
def __repr__(self: Any) -> str:
    fields = ", ".join(f"{name}={getattr(self, name)!r}" for name in self._frozen_fields[0])
    return f"{self.__class__.__qualname__}({fields})"


def __setattr__(self: Any, name: str, value: object) -> NoReturn:
    from dataclasses import FrozenInstanceError

    raise FrozenInstanceError(f"cannot assign to field {name!r}")


def __delattr__(self: Any, name: str) -> NoReturn:
    from dataclasses import FrozenInstanceError

    raise FrozenInstanceError(f"cannot delete field {name!r}")


def __getstate__(self: Any) -> list[object]:
    return [getattr(self, name) for name in self._frozen_fields[0]]


def __setstate__(self: Any, state: list[object]) -> None:
    for name, value in zip(self._frozen_fields[0], state, strict=True):
        object.__setattr__(self, name, value)


def __replace__(self: Any, /, **changes: object) -> Any:
    from dataclasses import replace

    return replace(self, **changes)


class _Dataclass:
    """``__dataclass_fields__`` or ``__dataclass_params__``, made by dataclasses on first use."""

    def __init__(self, attribute: str) -> None:
        self.attribute = attribute

    def __get__(self, obj: object, owner: type) -> Any:
        import dataclasses

        names, defaults, compared = owner._frozen_fields  # type: ignore[attr-defined]
        init = owner.__match_args__  # type: ignore[attr-defined]
        annotations = owner.__annotations__
        body: dict[str, Any] = {
            name: dataclasses.field(
                default=defaults.get(name, dataclasses.MISSING),
                init=name in init,
                compare=name in compared,
            )
            for name in names
        }
        body.update(__annotations__={name: annotations[name] for name in names})
        body.update(__module__=owner.__module__, __qualname__=owner.__qualname__)
        shown = owner.__repr__ is __repr__  # type: ignore[comparison-overlap]
        twin: Any = dataclasses.dataclass(frozen=True, slots=True, repr=shown)(
            type(owner.__name__, (), body)
        )
        for attribute in ("__dataclass_fields__", "__dataclass_params__"):
            setattr(owner, attribute, getattr(twin, attribute))
        return getattr(twin, self.attribute)


_METHODS = (
    __eq__,
    __hash__,
    __repr__,
    __setattr__,
    __delattr__,
    __getstate__,
    __setstate__,
    __replace__,
)
