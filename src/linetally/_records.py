"""Per-file failures as plain records, and back: how a failure crosses a process boundary.

A failure met on a Dask worker travels to the client as a record, a ``dict``
of plain values (``str``, ``int``, ``bytes``, ``None``, lists of those),
never as a pickled exception: importing ``distributed`` changes how some
exceptions pickle (a ``UnicodeDecodeError`` loses its message), and a
record says exactly what is kept. :func:`to_record` and :func:`from_record`
round-trip every failure linetally produces to the same type, ``str()``,
``args``, ``errno``, ``strerror``, ``filename``, notes and plain attributes
(``byte_offset`` of a decode error, ``lines`` and ``limit`` of
:class:`~linetally.TooManyLines`, ``path``, ...).

Where the type comes from: builtins, the standard library and linetally are
looked up by module and name (a standard module is imported if needed); any
other module only if the client has already imported it. A type that cannot
be found (a third-party library installed on the workers only) is rebuilt as
the closest builtin class it derives from (``OSError`` for an ``IOError``
subclass, else ``Exception``), with the same message and attributes, the
attribute ``remote_type`` (``"module.Name"``) and a note saying what it was.

Pure: no I/O, no Dask.
"""

from __future__ import annotations

import builtins
import contextlib
import importlib
import sys
from typing import Any

__all__ = ["Record", "from_record", "to_record"]

Record = dict[str, Any]
"""A failure as plain values: see :func:`to_record` for the keys."""

_PLAIN = (str, int, float, bool, bytes, type(None))


def _plain(value: object) -> bool:
    if isinstance(value, _PLAIN):
        return True
    if isinstance(value, tuple | list):
        return all(isinstance(v, _PLAIN) for v in value)
    return False


def to_record(exc: BaseException) -> Record:
    """``exc`` as a record of plain values.

    Keys: ``type`` and ``module`` (the class), ``bases`` (the builtin classes
    in its MRO, nearest first, for the fallback), ``message`` (``str(exc)``),
    ``args`` (when all plain, else None), ``errno``, ``strerror``,
    ``filename``, ``filename2`` (OSError, else None), ``notes`` and
    ``attrs`` (the instance attributes with plain values).
    """
    cls = type(exc)
    oserror = exc if isinstance(exc, OSError) else None
    attrs = {
        k: list(v) if isinstance(v, tuple) else v
        for k, v in vars(exc).items()
        if k != "__notes__" and _plain(v)
    }
    return {
        "type": cls.__qualname__,
        "module": cls.__module__,
        "bases": [c.__name__ for c in cls.__mro__ if c.__module__ == "builtins"],
        "message": str(exc),
        "args": list(exc.args) if _plain(exc.args) else None,
        "errno": oserror.errno if oserror else None,
        "strerror": oserror.strerror if oserror else None,
        "filename": _name(oserror.filename) if oserror else None,
        "filename2": _name(oserror.filename2) if oserror else None,
        "notes": [str(n) for n in getattr(exc, "__notes__", ())],
        "attrs": attrs,
    }


def _name(value: object) -> str | bytes | int | None:
    if value is None or isinstance(value, str | bytes | int):
        return value
    return str(value)


def from_record(record: Record) -> Exception:
    """The exception that :func:`to_record` described, as close to the original as known."""
    cls = _find(record["module"], record["type"])
    remote = None
    if cls is None:
        remote = f"{record['module']}.{record['type']}"
        cls = _closest_builtin(record["bases"])
    exc = _construct(cls, record)
    if isinstance(exc, OSError):
        if record["filename"] is not None:
            exc.filename = record["filename"]
        if record["filename2"] is not None:
            exc.filename2 = record["filename2"]
    for key, value in record["attrs"].items():
        with contextlib.suppress(AttributeError, TypeError):  # read-only: set by the constructor
            setattr(exc, key, value)
    for note in record["notes"]:
        exc.add_note(note)
    if remote is not None:
        exc.remote_type = remote  # type: ignore[attr-defined]
        exc.add_note(f"raised as {remote} (not importable here)")
    return exc


def _find(module: str, qualname: str) -> type[Exception] | None:
    """The exception class ``module.qualname``, if it can be had without surprises."""
    top = module.partition(".")[0]
    mod = sys.modules.get(module)
    if mod is None and (top in sys.stdlib_module_names or top == "linetally"):
        try:
            mod = importlib.import_module(module)
        except ImportError:
            return None
    if mod is None:
        return None
    obj: object = mod
    for part in qualname.split("."):
        obj = getattr(obj, part, None)
    if isinstance(obj, type) and issubclass(obj, Exception):
        return obj
    return None


def _closest_builtin(bases: list[str]) -> type[Exception]:
    for name in bases:
        obj = getattr(builtins, name, None)
        if isinstance(obj, type) and issubclass(obj, Exception):
            return obj
    return Exception


def _construct(cls: type[Exception], record: Record) -> Exception:
    """An instance of ``cls`` whose ``args`` (hence ``str()``) are the original's."""
    args = record["args"]
    if args is None:
        args = [record["message"]]
    if issubclass(cls, OSError) and record["errno"] is not None:
        # OSError(errno, strerror) would pick a subclass by errno; ask for cls itself.
        exc: Exception = cls(record["errno"], record["strerror"])
        if list(exc.args) != list(args):
            exc.args = tuple(args)
        return exc
    if cls.__module__ in ("builtins", *sys.stdlib_module_names):
        try:
            return cls(*args)
        except TypeError:
            pass
    # A class with its own constructor (TooManyLines(path, lines, limit), ...):
    # build it without calling __init__; its attributes come from the record.
    exc = cls.__new__(cls, *args)
    if isinstance(exc, UnicodeError):
        # Its fields (encoding, object, start, ...) are set by the builtin's __init__.
        base = next(c for c in cls.__mro__ if c.__module__ == "builtins")
        with contextlib.suppress(TypeError):
            base.__init__(exc, *args)  # type: ignore[misc]
    exc.args = tuple(args)
    try:
        same = str(exc) == record["message"]
    except Exception:  # a __str__ that reads attributes restored later, from the record
        same = True
    if not same:
        # A custom __str__ that reads attributes not restored yet: keep the message.
        exc.args = (record["message"],)
    return exc
