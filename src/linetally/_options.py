"""A run's options, checked when made.

Apart from the engine, so that the command can read them, fork its counting
processes and hand them their first directories before it imports asyncio.
"""

from __future__ import annotations

import codecs
import os
import resource
from collections.abc import Mapping
from typing import Any, Literal

from ._frozen import frozen
from ._reader import ReadSettings

__all__ = ["BinaryPolicy", "Docstrings", "OnError", "Options", "default_jobs", "default_processes"]

OnError = Literal["continue", "cancel"]
BinaryPolicy = Literal["skip", "count", "error"]
Docstrings = Literal["code", "comment"]


def default_jobs() -> int:
    """Files in flight by default: enough to overlap I/O waits on this machine."""
    return min(32, (os.cpu_count() or 1) + 4)


def default_processes() -> int:
    """Counting processes by default: one per core, none on a single core."""
    try:
        cores = len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover - not Linux
        cores = os.cpu_count() or 1
    return cores if cores > 1 else 0


def _fd_budget(jobs: int) -> int:
    """Bound files in flight by the descriptors this process may still open."""
    soft, _ = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft == resource.RLIM_INFINITY:
        return jobs
    return max(1, min(jobs, (soft - 24) // 2))


@frozen
class Options:
    """How a run counts. See :func:`linetally.count` for what each option means."""

    jobs: int | None = None
    on_error: OnError = "continue"
    encoding: str | None = None
    binary: BinaryPolicy = "skip"
    timeout: float | None = None
    max_lines: int | None = None
    delay: float = 0.0
    keep_results: bool = True
    processes: int | None = None
    languages: bool = False
    docstrings: Docstrings = "code"
    scheduler: str | object | None = None
    """A Dask scheduler's address or a ``distributed.Client``: count on that cluster."""
    decompress: bool = False
    storage_options: Mapping[str, Any] | None = None

    def __post_init__(self) -> None:
        if self.jobs is not None and self.jobs < 1:
            raise ValueError(f"jobs must be at least 1, not {self.jobs}")
        if self.processes is not None and self.processes < 0:
            raise ValueError(f"processes must be 0 or more, not {self.processes}")
        if self.on_error not in ("continue", "cancel"):
            raise ValueError(f"on_error must be 'continue' or 'cancel', not {self.on_error!r}")
        if self.binary not in ("skip", "count", "error"):
            raise ValueError(f"binary must be 'skip', 'count' or 'error', not {self.binary!r}")
        if self.timeout is not None and not 0 < self.timeout < float("inf"):
            raise ValueError(f"timeout must be a positive number of seconds, not {self.timeout}")
        if self.max_lines is not None and self.max_lines < 0:
            raise ValueError(f"max_lines must be 0 or more, not {self.max_lines}")
        if self.docstrings not in ("code", "comment"):
            raise ValueError(f"docstrings must be 'code' or 'comment', not {self.docstrings!r}")
        if self.docstrings == "comment" and not self.languages:
            # as the command refuses --docstrings without --languages: never silently ignored
            raise ValueError("docstrings='comment' applies only with languages=True")
        if not 0 <= self.delay < float("inf"):
            raise ValueError(f"delay must be 0 or more seconds, not {self.delay}")
        # LookupError now, not once per file; bytes-to-bytes codecs (rot13, base64) decode no text.
        if self.encoding is not None and not _is_text(self.encoding):
            raise ValueError(f"not a text encoding: {self.encoding!r}")

    @property
    def effective_jobs(self) -> int:
        """Files in flight: the ``jobs`` asked for, within the descriptor limit."""
        return _fd_budget(self.jobs or default_jobs())

    @property
    def effective_processes(self) -> int:
        """Counting processes for this run: none when each file needs its own pacing or limit."""
        if self.delay or self.timeout is not None or self.scheduler is not None:
            return 0
        return default_processes() if self.processes is None else self.processes

    def read_settings(self) -> ReadSettings:
        """The part of the options that the reading threads apply."""
        return ReadSettings(
            self.encoding,
            self.binary,
            self.max_lines,
            self.delay,
            self.languages,
            self.docstrings,
            self.decompress,
        )


def _is_text(encoding: str) -> bool:
    return bool(getattr(codecs.lookup(encoding), "_is_text_encoding", True))
