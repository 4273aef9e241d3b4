#!/usr/bin/env python3
"""The timed programs of ``floor.py``: the simplest counts, with nothing imported they do not use.

``python bench/floor_modes.py MODE ARGS``, run by ``floor.py``. Only ``os``,
``sys`` and stringzilla (about a millisecond, as linetally imports it) are
imported up front; each mode imports what else it uses. Its start-up is therefore Python's own,
as close to ``python -c pass`` as a program gets: a floor paying for
imports it does not need (argparse, pathlib, subprocess: 20-30 ms) would be no
floor.
"""

from __future__ import annotations

import os
import sys

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable
    from typing import Any

try:
    from stringzilla import bytesum, translate
except ImportError:

    def _count_lf(data: bytes | bytearray | memoryview) -> int:
        return bytes(data).count(b"\n")

else:
    _LF_ONES = bytes(b == 10 for b in range(256))
    _marks = bytearray()

    def _count_lf(data: bytes | bytearray | memoryview) -> int:
        """The ``\n`` in ``data``, as linetally counts them with stringzilla: its byte
        translation (``\n`` to 1, any other byte to 0) summed by its byte sum; from
        64 KiB on, translated into a buffer kept for the next one, as linetally does."""
        global _marks
        k = len(data)
        if k < _READ:
            n: int = bytesum(translate(data, _LF_ONES))
            return n
        if len(_marks) < k:
            _marks = bytearray(max(k, min(2 * len(_marks), _REST_MAX)))
        n = bytesum(memoryview(translate(data, _LF_ONES, out=_marks))[:k])
        return n


_READ = 1 << 16
_REST_MAX = (1 << 20) + 1
_rest = bytearray()


def _read_rest(fd: int) -> bytes | memoryview:
    """The rest of a file whose first 64 KiB read came back full: read as linetally
    reads it, an ``fstat`` and one read into a buffer kept for the next file."""
    global _rest
    want = max(os.fstat(fd).st_size - _READ, 0)
    if len(_rest) <= want:
        _rest = bytearray(max(want + 1, min(2 * len(_rest), _REST_MAX)))
    view = memoryview(_rest)
    got = os.readv(fd, [view[: want + 1]])
    if got <= want:
        return view[:got]
    more = bytes(view[:got])  # it grew
    while chunk := os.read(fd, _READ):
        more += chunk
    return more


def _classifier() -> Callable[[str, bytes, int], int]:
    """linetally's language detection and classifier, as its counting processes call them."""
    from linetally._classify import _classify_counted
    from linetally._languages import detect

    def classify(path: str, data: bytes, lines: int) -> int:
        language = detect(path, data)
        if language is None:
            return 0
        return _classify_counted(data, language, "code", lines).code

    return classify


_classify: Callable[[str, bytes, int], int] | None = None
"""Set in "walk-classify" mode: each file read is also classified."""


def _count_data(path: str, data: bytes) -> int:
    """A file's ``\n`` count (and, in "walk-classify" mode, its classification)."""
    n = _count_lf(data)
    if _classify is not None:
        _classify(path, data, n)
    return n


_with_asyncio = False
"""Set by the modes ending in "-asyncio": see :func:`_asyncio_now`."""


def _asyncio_now() -> None:
    """With ``_with_asyncio``: import asyncio and run an event loop, once the processes
    are forked, the least a command built on asyncio does while they count. asyncio is
    imported as the command imports it for local files: without ssl (10-20 ms)."""
    if _with_asyncio:
        blocked = "ssl" not in sys.modules  # never imported here: keep it out of asyncio
        if blocked:
            sys.modules["ssl"] = None  # type: ignore[assignment]
        try:
            import asyncio
        finally:
            if blocked:
                del sys.modules["ssl"]
        asyncio.run(asyncio.sleep(0))


def _count_tree(dirs: list[str]) -> tuple[int, int]:
    files = lines = 0
    stack = list(dirs)
    while stack:
        d = stack.pop()
        with os.scandir(d) as it:
            for e in it:
                if e.is_dir(follow_symlinks=False):
                    stack.append(e.path)
                elif e.is_file(follow_symlinks=False):
                    fd = os.open(e.path, os.O_RDONLY | os.O_CLOEXEC)
                    # 64 KiB reads, as linetally reads a small file: a 1 MiB read
                    # allocates 1 MiB for each file, which cost 1.6x this walk on src.
                    data = os.read(fd, _READ)
                    files += 1
                    if len(data) == _READ:
                        # 64 KiB or more: the rest in one read of its size, as linetally.
                        rest = _read_rest(fd)
                        if _classify is None:
                            os.close(fd)
                            lines += _count_lf(data) + _count_lf(rest)
                            continue
                        data += rest
                    os.close(fd)
                    lines += _count_data(e.path, data)
    return files, lines


def walk_mode(root: str, procs: int) -> None:
    """Fork ``procs`` processes over the folders two levels down; print files and lines."""
    units: list[str] = []
    top = [e.path for e in os.scandir(root) if e.is_dir(follow_symlinks=False)]
    for d in top:
        subs = [e.path for e in os.scandir(d) if e.is_dir(follow_symlinks=False)]
        units.extend(subs if len(top) < 8 * procs else [d])
    loose = [root] + ([] if len(top) >= 8 * procs else top)  # files not inside a unit
    reads = []
    for i in range(procs):
        r, w = os.pipe()
        if os.fork() == 0:
            os.close(r)
            os.nice(10)  # as linetally's counting processes: the parent first
            files, lines = _count_tree(units[i::procs])
            os.write(w, f"{files} {lines}".encode())
            os._exit(0)
        os.close(w)
        reads.append(r)
    _asyncio_now()
    files = lines = 0
    for d in loose:  # the files directly in the root (and top folders when split deeper)
        with os.scandir(d) as it:
            for e in it:
                if e.is_file(follow_symlinks=False):
                    with open(e.path, "rb") as f:
                        lines += _count_data(e.path, f.read())
                    files += 1
    for r in reads:
        counted, n = os.read(r, 100).split()
        files, lines = files + int(counted), lines + int(n)
        os.wait()
    print(files, lines)


def _numpy_ranges(path: str, threads: int, kernel: Callable[[], Callable[[Any], int]]) -> None:
    """Count ``path`` in one range per thread, each ``preadv`` into one reused 512 KiB
    buffer and counted by its own ``kernel()`` (numpy releases the GIL); print the sum.

    With ``_with_asyncio``, asyncio is imported and a loop run first, as linetally
    starts its event loop before it counts. OpenBLAS gets one thread, as linetally's
    command asks: its default, a spinning thread per core, costs 60-120 ms of CPU.
    """
    import threading

    os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
    _asyncio_now()
    import numpy as np

    fd = os.open(path, os.O_RDONLY)
    size = os.fstat(fd).st_size
    bounds = [size * i // threads for i in range(threads + 1)]
    counts = [0] * threads

    def count(i: int) -> None:
        buf = bytearray(1 << 19)
        a = np.frombuffer(buf, dtype=np.uint8)
        counter = kernel()
        pos, end, n = bounds[i], bounds[i + 1], 0
        while pos < end:
            k = os.preadv(fd, [memoryview(buf)[: min(len(buf), end - pos)]], pos)
            if not k:
                break
            n += counter(a[:k])
            pos += k
        counts[i] = n

    helpers = [threading.Thread(target=count, args=(i,)) for i in range(1, threads)]
    for t in helpers:
        t.start()
    count(0)
    for t in helpers:
        t.join()
    print(sum(counts))


def _lf_kernel() -> Callable[[Any], int]:
    import numpy as np

    return lambda a: int(np.count_nonzero(a == 10))


def _crlf_kernel() -> Callable[[Any], int]:
    """Breaks (LF, CR LF, lone CR) in 256 KiB slices, with the thread's own masks."""
    import numpy as np

    step = 1 << 18
    lf, cr, brk = (np.empty(step, dtype=np.bool_) for _ in range(3))

    def count(a: Any) -> int:
        n = 0
        for s in range(0, len(a), step):
            part = a[s : s + step]
            m = len(part)
            np.equal(part, 10, out=lf[:m])
            np.equal(part, 13, out=cr[:m])
            inner = brk[: m - 1]
            np.greater(cr[: m - 1], lf[1:m], out=inner)  # a CR not followed by a LF
            np.logical_or(inner, lf[: m - 1], out=inner)
            n += int(np.count_nonzero(inner)) + int(lf[m - 1])
            # A CR ending a slice before a LF is no break: the file has only CR LF pairs.
        return n

    return count


def big_mode(path: str, threads: int) -> None:
    """Count ``\\n`` in ``path`` with numpy, one thread per range; print the count."""
    _numpy_ranges(path, threads, _lf_kernel)


def big_crlf_mode(path: str, threads: int) -> None:
    """Count the breaks (LF, CR LF, lone CR) in ``path`` with numpy, one thread per range."""
    _numpy_ranges(path, threads, _crlf_kernel)


def zstd_mode(path: str) -> None:
    """Decompress ``path`` (zstd) 128 KiB at a time in one thread, counting nothing."""
    try:
        from compression.zstd import ZstdDecompressor  # type: ignore[import-not-found]
    except ImportError:
        from backports.zstd import ZstdDecompressor

    fd = os.open(path, os.O_RDONLY)
    d = ZstdDecompressor()
    total = 0
    while True:
        data = b""
        if d.needs_input:
            data = os.read(fd, 1 << 18)
            if not data:
                break
        total += len(d.decompress(data, 1 << 17))
        if d.eof:
            break
    print(total)


def big_sz_mode(path: str, procs: int) -> None:
    """Count ``\\n`` in ``path`` with stringzilla (as linetally counts it), one forked
    process per range; print the count. (linetally counts in threads: stringzilla holds
    the GIL, which processes do not share.)"""
    fd = os.open(path, os.O_RDONLY)
    size = os.fstat(fd).st_size
    bounds = [size * i // procs for i in range(procs + 1)]

    def count(i: int) -> int:
        buf = bytearray(1 << 20)
        view = memoryview(buf)
        pos, end, n = bounds[i], bounds[i + 1], 0
        while pos < end:
            k = os.preadv(fd, [view[: min(len(buf), end - pos)]], pos)
            if not k:
                break
            n += _count_lf(buf if k == len(buf) else view[:k])
            pos += k
        return n

    reads = []
    for i in range(1, procs):
        r, w = os.pipe()
        if os.fork() == 0:
            os.write(w, str(count(i)).encode())
            os._exit(0)
        os.close(w)
        reads.append(r)
    _asyncio_now()
    total = count(0)
    for r in reads:
        total += int(os.read(r, 100))
        os.wait()
    print(total)


if __name__ == "__main__":
    mode, args = sys.argv[1], sys.argv[2:]
    if mode.endswith("-asyncio"):
        _with_asyncio = True
        mode = mode.removesuffix("-asyncio")
    if mode == "--walk-classify":
        _classify = _classifier()  # imported before the fork, as linetally does
        mode = "--walk"
    if mode == "--zstd":
        zstd_mode(args[0])
    else:
        modes = {
            "--walk": walk_mode,
            "--big": big_mode,
            "--big-crlf": big_crlf_mode,
            "--big-sz": big_sz_mode,
        }
        modes[mode](args[0], int(args[1]))
    # Out without the interpreter's teardown, as linetally's command ends (os._exit once
    # its output is flushed): freeing the modules one by one took a run with asyncio
    # imported 10 ms longer, which no floor should pay.
    sys.stdout.flush()
    os._exit(0)
