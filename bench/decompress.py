#!/usr/bin/env python3
"""Benchmark ``linetally -z`` against ``zcat FILE | wc -l`` and its friends, in the same run.

Run by hand, never in CI::

    python bench/decompress.py [--size-mb 200] [--runs 5] [--codecs gzip,bzip2,xz,zstd]

Builds a corpus once in ``bench/.corpus/decompress/`` (git-ignored): about 200 MB of
log-like text (seeded), compressed with each codec by its own command-line tool when it
is on PATH (``gzip -6``, ``bzip2 -9``, ``xz -6``, ``zstd -3``), else by Python's module.
Then, page cache warm, one warm-up and the median of ``--runs`` for each command:

- ``linetally -z --format json --no-progress FILE``, as a user runs it (the fastest gzip
  decoder installed: ISA-L with ``linetally[isal]``); for gzip also with zlib alone;
- the codec's tool piped into ``wc -l``: ``zcat``, ``bzcat``, ``xzcat``, ``zstdcat``
  (a tool that is missing is skipped, and said so).

linetally runs from the ``src`` folder of this checkout (put first on ``PYTHONPATH``), with
its bytecode cached as an installed package's is: ``PYTHONDONTWRITEBYTECODE`` is dropped
for the commands, so the warm-up writes ``__pycache__`` (git-ignored) and no timed run
pays for compiling linetally's modules (0.1-0.2 s, more than zstd takes on the corpus).

Prints a Markdown table with the ratios linetally / tool and linetally's peak RSS, and
checks that every command counted the same lines. Standard library, plus the optional codec
packages linetally itself uses. Linux (``os.wait4``).
"""

from __future__ import annotations

import argparse
import bz2
import gzip
import importlib
import importlib.metadata
import json
import lzma
import os
import platform
import random
import re
import shlex
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import zlib
from dataclasses import dataclass, field
from pathlib import Path

HERE = Path(__file__).resolve().parent
CORPUS = HERE / ".corpus" / "decompress"
MB = 1000 * 1000

SUFFIX = {"gzip": ".gz", "bzip2": ".bz2", "xz": ".xz", "zstd": ".zst"}
COMPRESS_TOOL = {
    "gzip": ["gzip", "-6", "-c"],
    "bzip2": ["bzip2", "-9", "-c"],
    "xz": ["xz", "-6", "-T1", "-c"],
    "zstd": ["zstd", "-3", "-q", "-c"],
}
CAT_TOOL = {"gzip": "zcat", "bzip2": "bzcat", "xz": "xzcat", "zstd": "zstdcat"}

# linetally with ISA-L hidden: what a gzip file costs without the isal extra.
ZLIB_ONLY = (
    "import sys; sys.modules['isal'] = None; "
    "from linetally._cli import main; sys.exit(main(sys.argv[1:]))"
)


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


# -- the corpus -------------------------------------------------------------------------


def build_text(path: Path, size: int) -> None:
    """Log-like lines: timestamps, levels, services, requests, ids (seeded, compressible ~4-6x)."""
    rng = random.Random(20_261_202)
    levels = ["INFO"] * 6 + ["DEBUG"] * 3 + ["WARN", "ERROR"]
    routes = ["/api/v1/users", "/api/v1/orders", "/static/app.js", "/health", "/login"]
    words = [
        "request",
        "handled",
        "user",
        "session",
        "cache",
        "miss",
        "hit",
        "retry",
        "queue",
        "job",
        "done",
        "slow",
    ]
    t = 1_764_633_600.0
    written = 0
    with open(path, "w", encoding="ascii", newline="\n") as f:
        while written < size:
            lines = []
            for _ in range(1000):
                t += rng.random() / 10
                stamp = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(t))
                lines.append(
                    f"{stamp}.{int(t * 1000) % 1000:03d}Z {rng.choice(levels)} "
                    f"[{rng.choice(['web', 'db', 'auth', 'queue'])}-{rng.randrange(16)}] "
                    f"{rng.choice(['GET', 'POST', 'PUT'])} {rng.choice(routes)} "
                    f"{rng.choice([200, 200, 200, 201, 304, 404, 500])} {rng.randrange(1, 900)}ms "
                    f"{' '.join(rng.choices(words, k=rng.randrange(2, 8)))} "
                    f"id={rng.getrandbits(64):016x}\n"
                )
            block = "".join(lines)
            f.write(block)
            written += len(block)


def compress_file(codec: str, source: Path, target: Path) -> str:
    """Compress with the codec's tool when present, else Python's module; say which."""
    tool = COMPRESS_TOOL[codec]
    partial = target.with_name(target.name + ".part")
    if shutil.which(tool[0]):
        with open(source, "rb") as src, open(partial, "wb") as dst:
            subprocess.run([*tool], stdin=src, stdout=dst, check=True)
        made_by = " ".join(tool[:-1])
    else:
        data = source.read_bytes()
        if codec == "gzip":
            out = gzip.compress(data, 6, mtime=0)
        elif codec == "bzip2":
            out = bz2.compress(data, 9)
        elif codec == "xz":
            out = lzma.compress(data, preset=6)
        else:
            out = _zstd_module().compress(data, 3)
        partial.write_bytes(out)
        made_by = f"python {codec} module"
    partial.rename(target)
    return made_by


def _zstd_module() -> object:
    for name in ("compression.zstd", "backports.zstd"):
        try:
            return importlib.import_module(name)
        except ImportError:
            continue
    raise SystemExit("no zstd tool and no zstd module: pip install 'linetally[zstd]'")


def prepare(size: int, codecs: list[str]) -> tuple[Path, dict[str, Path], dict[str, str]]:
    CORPUS.mkdir(parents=True, exist_ok=True)
    text = CORPUS / f"log-{size // MB}mb.txt"
    if not text.exists():
        log(f"building {text.name} ...")
        partial = text.with_name(text.name + ".part")
        build_text(partial, size)
        partial.rename(text)
    files: dict[str, Path] = {}
    made: dict[str, str] = {}
    for codec in codecs:
        target = text.with_name(text.name + SUFFIX[codec])
        if not target.exists():
            log(f"compressing {target.name} ...")
            made[codec] = compress_file(codec, text, target)
        else:
            made[codec] = "cached"
        files[codec] = target
    return text, files, made


# -- timing -----------------------------------------------------------------------------


@dataclass
class Timed:
    label: str
    argv: list[str]
    seconds: list[float] = field(default_factory=list)
    cpu: list[float] = field(default_factory=list)
    peak_kib: int = 0
    output: bytes = b""

    @property
    def median(self) -> float:
        return statistics.median(self.seconds)

    @property
    def median_cpu(self) -> float:
        return statistics.median(self.cpu)


SRC = HERE.parent / "src"


def child_env() -> dict[str, str]:
    """The environment of the timed commands: this checkout's linetally, bytecode cached."""
    env = dict(os.environ)
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(SRC), env.get("PYTHONPATH")]))
    return env


ENV = child_env()


def run_once(argv: list[str]) -> tuple[float, float, int, bytes]:
    """Run ``argv``, stdout to a temporary file: wall time, CPU time, peak RSS (KiB), stdout.

    The CPU time (user + system) includes the children the command waited for: both
    sides of a pipeline. It says what a run costs when other work loads the machine.
    """
    with tempfile.TemporaryFile() as out:
        start = time.perf_counter()
        proc = subprocess.Popen(argv, stdout=out, stdin=subprocess.DEVNULL, env=ENV)
        _, status, usage = os.wait4(proc.pid, 0)
        seconds = time.perf_counter() - start
        proc.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        data = out.read()
    if proc.returncode != 0:
        raise SystemExit(f"failed ({proc.returncode}): {shlex.join(argv)}")
    return seconds, usage.ru_utime + usage.ru_stime, usage.ru_maxrss, data


def time_commands(cmds: list[Timed], runs: int) -> None:
    """Time ``cmds`` in turns, one run of each per round: load that comes and goes hits all."""
    for cmd in cmds:
        run_once(cmd.argv)  # warm-up: page cache, imports, bytecode
    for _ in range(runs):
        for cmd in cmds:
            seconds, cpu, peak, cmd.output = run_once(cmd.argv)
            cmd.seconds.append(seconds)
            cmd.cpu.append(cpu)
            cmd.peak_kib = max(cmd.peak_kib, peak)


def lines_of(cmd: Timed) -> int:
    text = cmd.output.decode()
    if text.lstrip().startswith("{"):
        return int(json.loads(text)["totals"]["lines"])
    return int(text.split()[0])


def linetally_argv() -> list[str]:
    exe = Path(sys.executable).with_name("linetally")
    return [str(exe)] if exe.exists() else [sys.executable, "-m", "linetally"]


def linetally_source() -> str:
    """Where the timed linetally is imported from, and its version: this checkout's, or say so."""
    code = "import linetally; print(linetally.__version__, linetally.__file__)"
    proc = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env=ENV, check=True
    )
    version, _, where = proc.stdout.strip().partition(" ")
    here = Path(where).resolve().is_relative_to(SRC.resolve())
    return f"linetally {version} from {'this checkout' if here else where}"


def versions() -> list[str]:
    found = [
        linetally_source(),
        f"Python {platform.python_version()}",
        f"zlib {zlib.ZLIB_RUNTIME_VERSION}",
    ]
    for name in ("isal", "backports.zstd"):
        try:
            found.append(f"{name} {importlib.metadata.version(name)}")
        except importlib.metadata.PackageNotFoundError:
            found.append(f"{name}: not installed")
    for tool in ("gzip", "bzip2", "xz", "zstd"):
        if shutil.which(tool):
            proc = subprocess.run([tool, "--version"], capture_output=True, text=True)
            number = re.search(r"\d+\.\d+(\.\d+)?", proc.stdout or proc.stderr)
            found.append(f"{tool} {number.group() if number else '?'}")
    return found


def machine() -> str:
    model = "unknown CPU"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    load = os.getloadavg()[0]
    return f"{os.cpu_count()} cores of {model}, load average {load:.1f} at the start"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--size-mb", type=int, default=200, help="uncompressed size (200)")
    parser.add_argument("--runs", type=int, default=5, help="timed runs per command (5)")
    parser.add_argument("--codecs", default="gzip,bzip2,xz,zstd", help="which codecs")
    args = parser.parse_args()
    codecs = [c for c in args.codecs.split(",") if c]
    text, files, made = prepare(args.size_mb * MB, codecs)
    lt = linetally_argv()
    flags = ["-z", "--format", "json", "--no-progress"]

    print(f"# linetally -z against the codecs' own tools, {time.strftime('%Y-%m-%d')}\n")
    print(f"- machine: {machine()}")
    print(f"- {'; '.join(versions())}")
    print(
        f"- corpus: {text.name}, {text.stat().st_size / MB:.0f} MB of log lines; "
        f"medians of {args.runs} runs after a warm-up, taken in turns, page cache warm\n"
    )
    print(
        "| file | size | tool | tool (s) | linetally (s) | linetally / tool | met? "
        "| CPU s: tool / linetally | linetally peak RSS |"
    )
    print("|---|---|---|---|---|---|---|---|---|")
    expected = None
    for codec in codecs:
        path = files[codec]
        cat = CAT_TOOL[codec]
        log(f"timing {path.name} ...")
        ours_all = [Timed("linetally -z", [*lt, *flags, str(path)])]
        if codec == "gzip":
            argv = [sys.executable, "-c", ZLIB_ONLY, *flags, str(path)]
            ours_all.append(Timed("linetally -z, zlib only", argv))
        tool = None
        if shutil.which(cat):
            pipeline = f"{cat} {shlex.quote(str(path))} | wc -l"
            tool = Timed(f"`{cat} \\| wc -l`", ["sh", "-c", pipeline])
        else:
            log(f"{cat} is not on PATH: skipped")
        time_commands([*ours_all, *([tool] if tool else [])], args.runs)
        rows = [(ours, tool) for ours in ours_all]
        for ours, theirs in rows:
            counted = lines_of(ours)
            expected = counted if expected is None else expected
            if counted != expected or (theirs is not None and lines_of(theirs) != counted):
                raise SystemExit(f"line counts differ on {path.name}")
            name = f"{path.name} ({made[codec]})" if made[codec] != "cached" else path.name
            if ours.label != "linetally -z":
                name += f", {ours.label.removeprefix('linetally -z, ')}"
            size = f"{path.stat().st_size / MB:.1f} MB"
            if theirs is None:
                print(
                    f"| {name} | {size} | {cat}: missing | — | {ours.median:.3f} | — | — "
                    f"| — / {ours.median_cpu:.2f} | {ours.peak_kib / 1024:.0f} MB |"
                )
                continue
            ratio = ours.median / theirs.median
            print(
                f"| {name} | {size} | {theirs.label} | {theirs.median:.3f} | {ours.median:.3f} "
                f"| {ratio:.2f} | {'met' if ratio <= 1 else 'missed'} "
                f"| {theirs.median_cpu:.2f} / {ours.median_cpu:.2f} "
                f"| {ours.peak_kib / 1024:.0f} MB |"
            )
    load = os.getloadavg()[0]
    print(f"\nEvery command counted {expected:,} lines; load average {load:.1f} at the end.")


if __name__ == "__main__":
    main()
