"""linetally: count the lines of many files at once, and report every failure together.

>>> import linetally
>>> report = linetally.count(["setup.cfg", "missing.txt"])        # doctest: +SKIP
>>> try:                                                         # doctest: +SKIP
...     report.raise_for_errors()
... except* FileNotFoundError as group:
...     print([e.path for e in group.exceptions])
['missing.txt']

The names below are imported on first use, so that ``import linetally`` (and
``linetally --version``) stays fast.
"""

from __future__ import annotations

import importlib

from ._version import __version__

TYPE_CHECKING = False  # not from typing: importing it would cost a few milliseconds
if TYPE_CHECKING:
    from typing import Any

    from ._api import CountOptions, count, count_async, iter_results
    from ._cluster import ClusterError, ClusterVersionError, WorkerLost
    from ._engine import Run
    from ._errors import BinaryFileError, CodecUnavailableError, LinetallyError, TooManyLines
    from ._model import FileResult, LanguageTotals, Report, Row, Snapshot, Status, Totals
    from ._options import Options
    from ._walk import Entry, walk

__all__ = [
    "BinaryFileError",
    "ClusterError",
    "ClusterVersionError",
    "CodecUnavailableError",
    "CountOptions",
    "Entry",
    "FileResult",
    "LanguageTotals",
    "LinetallyError",
    "Options",
    "Report",
    "Row",
    "Run",
    "Snapshot",
    "Status",
    "TooManyLines",
    "Totals",
    "WorkerLost",
    "__version__",
    "count",
    "count_async",
    "iter_results",
    "walk",
]

_WHERE = {
    "CountOptions": "_api",
    "count": "_api",
    "count_async": "_api",
    "iter_results": "_api",
    "ClusterError": "_cluster",
    "ClusterVersionError": "_cluster",
    "WorkerLost": "_cluster",
    "Options": "_options",
    "Run": "_engine",
    "BinaryFileError": "_errors",
    "CodecUnavailableError": "_errors",
    "LinetallyError": "_errors",
    "TooManyLines": "_errors",
    "FileResult": "_model",
    "LanguageTotals": "_model",
    "Report": "_model",
    "Row": "_model",
    "Snapshot": "_model",
    "Status": "_model",
    "Totals": "_model",
    "Entry": "_walk",
    "walk": "_walk",
}


def __getattr__(name: str) -> Any:
    module = _WHERE.get(name)
    if module is None:
        raise AttributeError(f"module 'linetally' has no attribute {name!r}")
    value = getattr(importlib.import_module(f".{module}", __name__), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(__all__)
