#!/usr/bin/env python3
"""The floors under the benchmark's targets on this machine, measured next to ``wc -l``.

Run by hand after ``bench.py`` has built its corpora::

    python bench/floor.py [--runs 5]

Prints, as medians of ``--runs`` interleaved runs, page cache warm:

- start-up: ``python -c pass``, ``import asyncio``, ``import numpy``, the cost any
  Python run pays before counting, next to ``wc -l`` on the big file;
- the simplest Python that counts a tree on every core: ``floor_modes.py --walk``,
  forked processes each walking their share of the folders with ``os.scandir`` and
  counting ``\\n`` with ``open``/``read``/``close`` (64 KiB at a time, as linetally
  reads) and stringzilla's translation and byte sum when it is installed (as linetally
  counts), else ``bytes.count`` (no
  ignore rules, no results, no errors handled; every mode ends with ``os._exit``, as
  linetally's command does), next to ``wc -l --files0-from`` on tiny
  and src;
- the same walk on src, and the stringzilla count of the big file, with one thing
  more: once the processes are forked, the main one imports asyncio (without ssl, as
  linetally's command imports it for local files) and runs an event
  loop (``--walk-asyncio``, ``--big-sz-asyncio``), the least that a command built on
  asyncio, as linetally is, does while they count (``bench.py`` also runs the first in
  src's rounds); and the numpy count of the big file
  with asyncio imported and a loop run first (``--big-asyncio``), as linetally does;
- the floor under ``--languages``: the same walk on src, each file also given to
  linetally's language detection and classifier as its counting processes call them
  (imported before the fork), next to tokei (``pytokei``) and ``linetally --languages``,
  round by round;
- the simplest Python that counts one big file on every core: ``floor_modes.py --big``,
  ``import numpy`` (one OpenBLAS thread, as linetally's command asks) then one
  thread per core, each ``preadv`` into one reused 512 KiB buffer and
  ``np.count_nonzero(a == 10)`` over its range (no ``\\r``, no results),
  next to ``wc -l`` on the big file; and, when stringzilla is installed
  (``pip install stringzilla``), the same with its translation and byte sum (as
  linetally counts) in one forked process per core (it holds the GIL; linetally counts
  in threads) and 1 MiB buffers: a lighter import than numpy's;
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

The timed programs run from ``floor_modes.py``, which imports nothing they do not use
(this script's own imports would add 20-30 ms to each). A program that does more
(rules, per-file results, output) is unlikely to be faster than these, so a target
below them cannot be met by linetally on this machine; a target above them can, by a
program this simple.
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
from pathlib import Path

HERE = Path(__file__).resolve().parent
CORPUS = HERE / ".corpus"

SZ = "python floor big, stringzilla ({} processes)"
WALK_ASYNCIO = "python floor walk src, then asyncio ({} processes)"
SZ_ASYNCIO = "python floor big, then asyncio, stringzilla ({} processes)"
BIG_ASYNCIO = "python floor big, asyncio first ({} threads)"


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
    modes = str(HERE / "floor_modes.py")
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
            [py, modes, "--big", str(CORPUS / "big.txt"), str(args.procs)],
            None,
        ),
    }
    commands[BIG_ASYNCIO.format(args.procs)] = (
        [py, modes, "--big-asyncio", str(CORPUS / "big.txt"), str(args.procs)],
        None,
    )
    commands[f"python floor big CRLF ({args.procs} threads)"] = (
        [py, modes, "--big-crlf", str(CORPUS / "big-crlf.txt"), str(args.procs)],
        None,
    )
    if _has("stringzilla"):
        commands[SZ.format(args.procs)] = (
            [py, modes, "--big-sz", str(CORPUS / "big.txt"), str(args.procs)],
            None,
        )
        commands[SZ_ASYNCIO.format(args.procs)] = (
            [py, modes, "--big-sz-asyncio", str(CORPUS / "big.txt"), str(args.procs)],
            None,
        )
    for name in ("tiny", "src"):
        commands[f"wc -l {name}"] = (
            ["wc", "-l", f"--files0-from={CORPUS / (name + '.files0')}"],
            CORPUS / name,
        )
        commands[f"python floor walk {name} ({args.procs} processes)"] = (
            [py, modes, "--walk", str(CORPUS / name), str(args.procs)],
            None,
        )
    src_tree = str(CORPUS / "src")
    commands[WALK_ASYNCIO.format(args.procs)] = (
        [py, modes, "--walk-asyncio", src_tree, str(args.procs)],
        None,
    )
    commands[f"python floor walk and classify src ({args.procs} processes)"] = (
        [py, modes, "--walk-classify", src_tree, str(args.procs)],
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
        commands["python floor zstd (decompress only)"] = ([py, modes, "--zstd", str(zst)], None)
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
    with_asyncio = _by_rounds(times[WALK_ASYNCIO.format(args.procs)], times["wc -l src"])
    print(f"- src: floor walk, then asyncio ÷ wc -l = {with_asyncio}")
    over = _by_rounds(times["linetally --no-progress src"], times[WALK_ASYNCIO.format(args.procs)])
    print(f"- src: linetally ÷ floor walk, then asyncio = {over}")
    wc_big = med["wc -l big"]
    print(f"- big: `import numpy` ÷ wc -l = {med[commands_key(med, 'numpy')] / wc_big:.2f}")
    print(f"- big: floor count ÷ wc -l = {med[commands_key(med, 'floor big (')] / wc_big:.2f}")
    big_asyncio = times[BIG_ASYNCIO.format(args.procs)]
    print(
        f"- big: floor count, asyncio first ÷ wc -l = {_by_rounds(big_asyncio, times['wc -l big'])}"
    )
    if _has("stringzilla"):
        sz_big = med[SZ.format(args.procs)]
        print(f"- big: floor count with stringzilla ÷ wc -l = {sz_big / wc_big:.2f}")
        sz_asyncio = times[SZ_ASYNCIO.format(args.procs)]
        print(
            "- big: floor count with stringzilla, then asyncio ÷ wc -l = "
            f"{_by_rounds(sz_asyncio, times['wc -l big'])}"
        )
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
    sys.exit(main())
