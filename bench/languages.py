#!/usr/bin/env python3
"""Language classification: speed against tokei, and a check of tokei-style fixtures.

Run by hand, never in CI::

    python bench/languages.py speed [DIR ...]     # default: the running interpreter's stdlib
    python bench/languages.py fixtures DIR [...]  # files whose first line states tokei's counts

``speed`` classifies every file linetally recognises under the folders (read into memory
first, so only classification is timed; CPU time, best of ``--runs``) and prints MB/s per
language; with ``pytokei`` installed it also times tokei on the same ``.py`` files (walk,
read and count: tokei's whole job), one thread and all threads.

``fixtures`` reads files like tokei's ``tests/data``, whose first line says e.g.
``// 50 lines 33 code 8 comments 9 blanks``, and reports every file that linetally counts
differently. Exit status 1 if any does.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
import sysconfig
import tempfile
import time
from collections import defaultdict
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

from linetally._classify import classify
from linetally._counting import count_lines
from linetally._languages import HEAD_SIZE, detect

_HEADER = re.compile(rb"(\d+) lines (\d+) code (\d+) comments (\d+) blanks")


def _files(roots: list[Path]) -> list[Path]:
    out: list[Path] = []
    for root in roots:
        for top, dirs, names in os.walk(root):
            dirs[:] = [d for d in dirs if d not in ("site-packages", "__pycache__")]
            out += [Path(top, n) for n in names if Path(top, n).is_file()]
    return out


def speed(roots: list[Path], runs: int) -> None:
    by_language: dict[str, list[bytes]] = defaultdict(list)
    py_files: list[Path] = []
    for path in _files(roots):
        data = path.read_bytes()
        language = detect(str(path), data[:HEAD_SIZE])
        if language is not None and b"\0" not in data[:8192]:
            by_language[language].append(data)
            if language == "Python":
                py_files.append(path)
    print("| language | files | MB | CPU s | MB/s |\n|---|---:|---:|---:|---:|")
    total_mb = total_s = 0.0
    for language, datas in sorted(by_language.items(), key=lambda kv: -sum(map(len, kv[1]))):
        mb = sum(map(len, datas)) / 1e6
        best = min(
            _cpu(lambda ds=datas, lang=language: [classify(d, lang) for d in ds])
            for _ in range(runs)
        )
        total_mb += mb
        total_s += best
        if mb >= 0.5:
            print(f"| {language} | {len(datas)} | {mb:.1f} | {best:.2f} | {mb / best:.0f} |")
    print(
        f"| all | {sum(map(len, by_language.values()))} | {total_mb:.1f} | {total_s:.2f} | "
        f"{total_mb / total_s:.0f} |"
    )
    _tokei(py_files, runs)


def _cpu(fn: object) -> float:
    start = time.process_time()
    fn()  # type: ignore[operator]
    return time.process_time() - start


def _tokei(py_files: list[Path], runs: int) -> None:
    try:
        import pytokei  # noqa: F401
    except ImportError:
        print("\npytokei not installed: no tokei figures")
        return
    with tempfile.TemporaryDirectory() as tmp:
        for i, path in enumerate(py_files):
            shutil.copyfile(path, Path(tmp, f"{i}.py"))
        code = (
            "import pytokei, sys, time\n"
            "c, w = time.process_time(), time.perf_counter()\n"
            "l = pytokei.Languages(); l.get_statistics([sys.argv[1]], [], pytokei.Config())\n"
            "print(time.process_time() - c, time.perf_counter() - w)\n"
        )
        for threads in ("1", ""):
            env = dict(os.environ, RAYON_NUM_THREADS=threads) if threads else dict(os.environ)
            best = min(
                (
                    tuple(
                        map(
                            float,
                            subprocess.run(
                                [sys.executable, "-c", code, tmp],
                                env=env,
                                capture_output=True,
                                text=True,
                                check=True,
                            ).stdout.split(),
                        )
                    )
                    for _ in range(runs)
                ),
            )
            label = "1 thread" if threads else "all threads"
            print(
                f"\ntokei (pytokei) on the {len(py_files)} .py files, {label}: "
                f"CPU {best[0]:.2f} s, wall {best[1]:.2f} s"
            )


def fixtures(roots: list[Path]) -> int:
    bad = checked = 0
    for path in sorted(_files(roots)):
        data = path.read_bytes()
        m = _HEADER.search(data.split(b"\n", 1)[0])
        if m is None:
            continue
        checked += 1
        language = detect(str(path), data[:HEAD_SIZE])
        want = tuple(int(x) for x in m.groups())
        code, comments, blanks = classify(data, language)
        got = (count_lines(data), code, comments, blanks)
        if got != want:
            bad += 1
            print(f"{path}: {language}: got {got}, tokei {want} (lines, code, comments, blanks)")
    print(f"{checked - bad} of {checked} fixtures as tokei counts them")
    return 1 if bad else 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    sp = sub.add_parser("speed")
    sp.add_argument("dirs", nargs="*", type=Path)
    sp.add_argument("--runs", type=int, default=3)
    fx = sub.add_parser("fixtures")
    fx.add_argument("dirs", nargs="+", type=Path)
    args = parser.parse_args()
    if args.command == "speed":
        speed(args.dirs or [Path(sysconfig.get_paths()["stdlib"])], args.runs)
        return 0
    return fixtures(args.dirs)


if __name__ == "__main__":
    sys.exit(main())
