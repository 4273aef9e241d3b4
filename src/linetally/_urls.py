"""Whether a path names an object behind a URL: cheap, so every run can ask."""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Protocol

__all__ = ["has_url", "is_url"]

_SCHEME = re.compile(r"[A-Za-z][A-Za-z0-9+.\-]*(?:://|::)")


class _HasPath(Protocol):
    path: str


def is_url(path: str) -> bool:
    """True for a path with a scheme (``s3://...``) or an fsspec chain (``zip::...``)."""
    return _SCHEME.match(path) is not None


def has_url(jobs: Sequence[_HasPath]) -> bool:
    """True if any job of a batch is a URL: the batch is then read through fsspec."""
    return any(_SCHEME.match(job.path) is not None for job in jobs)
