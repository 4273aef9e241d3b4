#!/usr/bin/env python3
"""The floors under the benchmark's targets on this machine, measured next to ``wc -l``.

Run by hand after ``bench.py`` has built its corpora::

    python bench/floor.py [--runs 5]

Prints, as medians of ``--runs`` interleaved runs, page cache warm:

- start-up: ``python -c pass``, ``import asyncio``, ``import numpy``, the cost any
  Python run pays before counting, next to ``wc -l`` on the big file;
- the simplest Python that counts a tree on every core: this script in "walk" mode,
  forked processes each walking their share of the folders with ``os.scandir`` and
  counting ``\\n`` with ``open``/``read``/``close`` and stringzilla's ``count`` when it
  is installed, else ``bytes.count`` (no ignore rules, no results, no errors handled),
  next to ``wc -l --files0-from`` on tiny and src;
- the floor under ``--languages``: the same walk on src, each file also given to
  linetally's language detection and classifier as its counting processes call them
  (imported before the fork), next to tokei (``pytokei``) and ``linetally --languages``,
  round by round;
- the simplest Python that counts one big file on every core: this script in "big"
  mode, ``import numpy`` then one thread per core, each ``preadv`` into one reused
  512 KiB buffer and ``np.count_nonzero(a == 10)`` over its range (no ``\\r``, no
  results), next to ``wc -l`` on the big file; and, when stringzilla is installed
  (``pip install stringzilla``), the same with its ``count`` in one forked process per
  core (it holds the GIL) and 1 MiB buffers: a lighter import than numpy's;
- CRLF: the same threads over ``big-crlf.txt``, counting a break at each ``\\n`` and
  each ``\\r`` not followed by one with the fewest numpy passes found (two masks, the
  lone CRs, their union: the kernel linetally uses; the other formulations tried, in
  the README, were slower); the extra seconds over the LF count are what CRLF costs
  a numpy counter;
- zstd: the decompression alone, in one thread (``compression.zstd`` or its backport,
  128 KiB at a time, nothing counted), next to ``zstdcat FILE | wc -l``, on the
  ``bench/decompress.py`` corpus when it was built and ``zstdcat`` is on PATH;
- the live view: ``linetally --no-progress`` on src with rich's console and live display
  imported where the live view starts (once the counting processes are forked) and
  nothing drawn, next to ``linetally --no-progress`` alone, round by round: what drawing
  with rich would cost before its first frame (why linetally's view draws without it).

No Python program that does more (rules, per-file results, output) can be faster than
these, so a target below them cannot be met by linetally on this machine.
"""

from __future__ import annotations

import argparse
import os
import shlex
import shutil
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
CORPUS = HERE / ".corpus"


try:
    from stringzilla import count as _count  # as linetally counts when it is installed
except ImportError:

    def _count(data: bytes, sub: bytes) -> int:
        return data.count(sub)


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
    n = _count(data, b"\n")
    if _classify is not None:
        _classify(path, data, n)
    return n


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
                    data = os.read(fd, 1 << 20)
                    while chunk := os.read(fd, 1 << 20):
                        data += chunk
                    os.close(fd)
                    files += 1
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
            files, lines = _count_tree(units[i::procs])
            os.write(w, f"{files} {lines}".encode())
            os._exit(0)
        os.close(w)
        reads.append(r)
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
    buffer and counted by its own ``kernel()`` (numpy releases the GIL); print the sum."""
    import threading

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


_RICH_FIRST = """
import sys
sys.argv = ["linetally", *sys.argv[1:]]
import linetally._cli as cli
count = cli._count
def with_rich(args):
    import rich.console, rich.live  # where the live view starts: the processes are forked
    return count(args)
cli._count = with_rich
from linetally._stdio import console_main
console_main()
"""


def big_sz_mode(path: str, procs: int) -> None:
    """Count ``\\n`` in ``path`` with stringzilla, one forked process per range (it holds
    the GIL, so threads would not help); print the count."""
    import stringzilla as sz

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
            n += sz.count(buf if k == len(buf) else bytes(view[:k]), "\n")
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
    total = count(0)
    for r in reads:
        total += int(os.read(r, 100))
        os.wait()
    print(total)


def _tokei() -> list[str] | None:
    """tokei's command, as bench.py runs it: ``tokei --no-ignore``, or ``pytokei``."""
    for name, options in (("tokei", ["--no-ignore"]), ("pytokei", [])):
        for where in (None, str(Path(sys.executable).parent)):
            found = shutil.which(name, path=where)
            if found is not None:
                return [found, *options]
    return None


def _has(module: str) -> bool:
    import importlib.util

    return importlib.util.find_spec(module) is not None


def timed(argv: list[str], cwd: Path | None = None) -> float:
    start = time.perf_counter()
    subprocess.run(argv, cwd=cwd, stdout=subprocess.DEVNULL, check=True)
    return time.perf_counter() - start


def _by_rounds(a: list[float], b: list[float]) -> str:
    """``a`` ÷ ``b`` round by round: the median, and the quartiles."""
    r = sorted(x / y for x, y in zip(a, b, strict=True))
    q = statistics.quantiles(r, n=4) if len(r) > 1 else r * 3
    return f"{statistics.median(r):.2f} (quartiles {q[0]:.2f}-{q[-1]:.2f})"


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--runs", type=int, default=5)
    p.add_argument("--procs", type=int, default=len(os.sched_getaffinity(0)))
    args = p.parse_args()
    py = sys.executable
    here = str(Path(__file__).resolve())
    # linetally from this checkout, its bytecode cached (as bench.py runs it).
    src = str(HERE.parent / "src")
    os.environ["PYTHONPATH"] = os.pathsep.join(filter(None, [src, os.environ.get("PYTHONPATH")]))
    os.environ.pop("PYTHONDONTWRITEBYTECODE", None)
    commands: dict[str, tuple[list[str], Path | None]] = {
        "python -c pass": ([py, "-c", "pass"], None),
        "python -c 'import asyncio'": ([py, "-c", "import asyncio"], None),
        "python -c 'import numpy'": ([py, "-c", "import numpy"], None),
        "wc -l big": (["wc", "-l", str(CORPUS / "big.txt")], None),
        f"python floor big ({args.procs} threads)": (
            [py, str(Path(__file__).resolve()), "--big", str(CORPUS / "big.txt"), str(args.procs)],
            None,
        ),
    }
    commands[f"python floor big CRLF ({args.procs} threads)"] = (
        [py, here, "--big-crlf", str(CORPUS / "big-crlf.txt"), str(args.procs)],
        None,
    )
    if _has("stringzilla"):
        commands[f"python floor big, stringzilla ({args.procs} processes)"] = (
            [py, here, "--big-sz", str(CORPUS / "big.txt"), str(args.procs)],
            None,
        )
    for name in ("tiny", "src"):
        commands[f"wc -l {name}"] = (
            ["wc", "-l", f"--files0-from={CORPUS / (name + '.files0')}"],
            CORPUS / name,
        )
        commands[f"python floor walk {name} ({args.procs} processes)"] = (
            [py, str(Path(__file__).resolve()), "--walk", str(CORPUS / name), str(args.procs)],
            None,
        )
    src_tree = str(CORPUS / "src")
    commands[f"python floor walk and classify src ({args.procs} processes)"] = (
        [py, here, "--walk-classify", src_tree, str(args.procs)],
        None,
    )
    lt = [py, "-m", "linetally", "--no-progress", "--format", "json", src_tree]
    commands["linetally --languages --no-progress src"] = ([*lt[:3], "--languages", *lt[3:]], None)
    tokei = _tokei()
    if tokei is not None:
        commands["tokei src"] = ([*tokei, src_tree], None)
    commands["linetally --no-progress src"] = (lt, None)
    commands["linetally --no-progress src, rich imported"] = (
        [py, "-c", _RICH_FIRST, *lt[3:]],
        None,
    )
    zst = CORPUS / "decompress" / "log-200mb.txt.zst"
    zstd = zst.exists() and shutil.which("zstdcat") is not None
    if zstd:
        commands["zstdcat | wc -l"] = (
            ["sh", "-c", f"zstdcat {shlex.quote(str(zst))} | wc -l"],
            None,
        )
        commands["python floor zstd (decompress only)"] = ([py, here, "--zstd", str(zst)], None)
    times: dict[str, list[float]] = {k: [] for k in commands}
    for argv, cwd in commands.values():  # warm-up
        timed(argv, cwd)
    for _ in range(args.runs):
        for k, (argv, cwd) in commands.items():
            times[k].append(timed(argv, cwd))
    med = {k: statistics.median(v) for k, v in times.items()}
    print(f"| command | median of {args.runs} (s) |")
    print("|---|---|")
    for k, v in med.items():
        print(f"| `{k}` | {v:.3f} |")
    print()
    for name in ("tiny", "src"):
        walk = med[f"python floor walk {name} ({args.procs} processes)"]
        print(f"- {name}: floor walk ÷ wc -l = {walk / med[f'wc -l {name}']:.2f}")
    wc_big = med["wc -l big"]
    print(f"- big: `import numpy` ÷ wc -l = {med[commands_key(med, 'numpy')] / wc_big:.2f}")
    print(f"- big: floor count ÷ wc -l = {med[commands_key(med, 'floor big (')] / wc_big:.2f}")
    if _has("stringzilla"):
        sz_big = med[commands_key(med, "stringzilla")]
        print(f"- big: floor count with stringzilla ÷ wc -l = {sz_big / wc_big:.2f}")
    lf, crlf = times[commands_key(med, "floor big (")], times[commands_key(med, "CRLF")]
    extra = statistics.median(c - f for c, f in zip(crlf, lf, strict=True))
    ratio = _by_rounds(crlf, lf)
    print(f"- big-crlf: floor CRLF count ÷ floor LF count = {ratio}, {extra:.3f} s more")
    floor_lang = times[commands_key(med, "walk and classify")]
    lang = times["linetally --languages --no-progress src"]
    print(f"- src: linetally --languages ÷ floor classify = {_by_rounds(lang, floor_lang)}")
    if tokei is not None:
        tokei_times = times["tokei src"]
        print(f"- src: floor classify ÷ tokei = {_by_rounds(floor_lang, tokei_times)}")
        print(f"- src: linetally --languages ÷ tokei = {_by_rounds(lang, tokei_times)}")
    plain, rich = times["linetally --no-progress src"], times[commands_key(med, "rich imported")]
    print(
        f"- src: linetally with rich imported, nothing drawn ÷ without = {_by_rounds(rich, plain)}"
    )
    if zstd:
        dec, pipe = times[commands_key(med, "floor zstd")], times["zstdcat | wc -l"]
        print(f"- zstd: decompression alone ÷ zstdcat | wc -l = {_by_rounds(dec, pipe)}")
    return 0


def commands_key(med: dict[str, float], word: str) -> str:
    return next(k for k in med if word in k)


if __name__ == "__main__":
    if sys.argv[1:2] == ["--big"]:
        big_mode(sys.argv[2], int(sys.argv[3]))
        sys.exit(0)
    if sys.argv[1:2] == ["--big-crlf"]:
        big_crlf_mode(sys.argv[2], int(sys.argv[3]))
        sys.exit(0)
    if sys.argv[1:2] == ["--zstd"]:
        zstd_mode(sys.argv[2])
        sys.exit(0)
    if sys.argv[1:2] == ["--big-sz"]:
        big_sz_mode(sys.argv[2], int(sys.argv[3]))
        sys.exit(0)
    if sys.argv[1:2] == ["--walk"]:
        walk_mode(sys.argv[2], int(sys.argv[3]))
        sys.exit(0)
    if sys.argv[1:2] == ["--walk-classify"]:
        _classify = _classifier()  # imported before the fork, as linetally does
        walk_mode(sys.argv[2], int(sys.argv[3]))
        sys.exit(0)
    sys.exit(main())
