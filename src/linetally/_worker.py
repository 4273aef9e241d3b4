"""A counting process: reads batches of small files so that counting uses every core.

Threads cannot count small files in parallel (``bytes.count`` and the Python
around each file hold the GIL), so a run over many files also starts a few of
these. Each one reads length-prefixed pickled frames on stdin: first the
:class:`~linetally._reader.ReadSettings`, then lists of paths; for each list
it answers with a list of outcomes, one per path:

- ``(lines, size, extras)``: counted;
- ``(skip, size, extras)``: a :class:`~linetally._reader.Skip`;
- ``(exception, size, extras)``: the failure (OSError, ValueError,
  LinetallyError, a codec's error), with the bytes read before it;

``extras`` is :func:`~linetally._reader.job_extras`: the codec and the
decompressed size of a file read with ``decompress``, and its language and
code/comment/blank lines with ``languages`` (None where they do not apply).
- ``None``: not for a worker (not a regular file, or a big one): the parent
  counts it in a thread, with progress and the vectorised path.

Kept light on purpose: no asyncio, no numpy, no rich.
"""

from __future__ import annotations

import os
import pickle
import signal
import stat
import struct
import sys
from typing import BinaryIO

from ._errors import expected_errors
from ._reader import Job, ReadSettings, count_file, job_extras

__all__ = ["HEADER", "MAX_SIZE", "frame", "main", "read_frame"]

MAX_SIZE = 1 << 20
"""Files larger than this are handed back to the parent's threads."""

HEADER = struct.Struct("<I")
"""A frame is this header (the payload's length), then a pickle."""


def frame(obj: object) -> bytes:
    """One pickled, length-prefixed frame."""
    data = pickle.dumps(obj, protocol=pickle.HIGHEST_PROTOCOL)
    return HEADER.pack(len(data)) + data


def read_frame(stream: BinaryIO) -> object | None:
    """Read one frame; None at end of input."""
    header = stream.read(HEADER.size)
    if len(header) < HEADER.size:
        return None
    (size,) = HEADER.unpack(header)
    obj: object = pickle.loads(stream.read(size))
    return obj


def _outcome(path: str, settings: ReadSettings) -> object:
    job = Job(0, path)
    try:
        st = os.stat(path)
        if not stat.S_ISREG(st.st_mode) or st.st_size > MAX_SIZE:
            return None
        result = count_file(job, settings)
    except expected_errors() as exc:
        exc.__traceback__ = None
        return (exc, job.size, job_extras(job))
    return (result, job.size, job_extras(job))


def main() -> None:
    """Serve batches until stdin closes."""
    # Ctrl-C is the parent's business: it stops the run and lets us finish.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    stdin, stdout = sys.stdin.buffer, sys.stdout.buffer
    settings = read_frame(stdin)
    if not isinstance(settings, ReadSettings):
        raise SystemExit("linetally worker: expected the settings first")
    while (paths := read_frame(stdin)) is not None:
        assert isinstance(paths, list)
        stdout.write(frame([_outcome(path, settings) for path in paths]))
        stdout.flush()


if __name__ == "__main__":
    main()
