#!/usr/bin/env python3
"""Benchmark a count on a Dask LocalCluster against the same count on this machine alone.

Run by hand, never in CI (needs ``pip install -e '.[dask]'``)::

    python bench/cluster.py [--corpus DIR] [--workers 2] [--threads 1] [--runs 3]

The corpus defaults to the benchmark's src corpus (``bench/.corpus/src``, built by
``python bench/bench.py --corpus src``), else this Python's standard library. A
LocalCluster of ``--workers`` processes (127.0.0.1 only) counts the tree through
``linetally.count(..., scheduler=ADDRESS)`` and through the ``linetally --scheduler``
command; the same counts without a scheduler are the baseline. Each timing is the
median of ``--runs`` after one warm-up (page cache warm). Also measured: the round
trip of an empty Dask task (the scheduler's cost per batch) and the effect of the
batch size (files per Dask task). Prints a Markdown report on stdout.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import platform
import statistics
import subprocess
import sys
import sysconfig
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

HERE = Path(__file__).resolve().parent


def median_time(fn: Callable[[], object], runs: int) -> tuple[float, object]:
    result = fn()  # warm-up
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times), result


def noop() -> None:
    return None


async def task_round_trip(address: str, n: int) -> tuple[float, float]:
    """Seconds per empty task: one at a time (latency), and n at once (throughput)."""
    from distributed import Client

    async with Client(address, asynchronous=True) as client:
        await client.submit(noop, pure=False)
        start = time.perf_counter()
        for _ in range(n):
            await client.submit(noop, pure=False)
        serial = (time.perf_counter() - start) / n
        start = time.perf_counter()
        await client.gather([client.submit(noop, pure=False) for _ in range(n)])
        bulk = (time.perf_counter() - start) / n
    return serial, bulk


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--corpus", type=Path, help="folder to count")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--threads", type=int, default=1, help="threads per worker")
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()

    from distributed import LocalCluster

    import linetally
    import linetally._cluster as cluster_module

    corpus = args.corpus
    if corpus is None:
        corpus = HERE / ".corpus" / "src"
        if not corpus.is_dir():
            corpus = Path(sysconfig.get_paths()["stdlib"])
    corpus = corpus.resolve()
    print(f"corpus: {corpus}", file=sys.stderr)

    def walk() -> object:
        return linetally.walk([str(corpus)], ignore=False)

    rows: list[tuple[str, float, str]] = []
    with tempfile.TemporaryDirectory() as scratch:
        cluster = LocalCluster(
            n_workers=args.workers,
            threads_per_worker=args.threads,
            processes=True,
            host="127.0.0.1",
            dashboard_address="127.0.0.1:0",
            worker_dashboard_address="127.0.0.1:0",
            silence_logs=logging.ERROR,
            local_directory=scratch,
        )
        address = cluster.scheduler_address
        try:
            local, here = median_time(lambda: linetally.count(walk()), args.runs)
            remote, there = median_time(
                lambda: linetally.count(walk(), scheduler=address), args.runs
            )
            assert isinstance(here, linetally.Report) and isinstance(there, linetally.Report)
            if here.totals != there.totals:
                raise SystemExit(f"totals differ: {here.totals} != {there.totals}")
            files = here.totals.files
            rows.append(("count(), local (threads + counting processes)", local, ""))
            name = f"count(), LocalCluster, {cluster_module._BATCH_FILES} files a batch"
            rows.append((name, remote, f"{remote / local:.2f}"))
            for batch in (16, 64):
                saved = cluster_module._BATCH_FILES
                cluster_module._BATCH_FILES = batch
                try:
                    t, _ = median_time(
                        lambda: linetally.count(walk(), scheduler=address), args.runs
                    )
                finally:
                    cluster_module._BATCH_FILES = saved
                name = f"count(), LocalCluster, {batch} files a batch"
                rows.append((name, t, f"{t / local:.2f}"))

            def cli(*extra: str) -> object:
                cmd = [sys.executable, "-m", "linetally", "--format", "json", "--no-progress"]
                cmd += ["--no-ignore", *extra, str(corpus)]
                return subprocess.run(cmd, stdout=subprocess.DEVNULL, check=False).returncode

            cli_local, _ = median_time(lambda: cli(), args.runs)
            cli_remote, _ = median_time(lambda: cli("--scheduler", address), args.runs)
            rows.append(("linetally command, local", cli_local, ""))
            rows.append(("linetally --scheduler", cli_remote, f"{cli_remote / cli_local:.2f}"))
            serial, bulk = asyncio.run(task_round_trip(address, 500))
        finally:
            cluster.close()

    size = here.totals.bytes
    threads = args.workers * args.threads
    print(
        f"{platform.node() and 'machine'}: {os.cpu_count()} CPUs, Python "
        f"{platform.python_version()}, {platform.platform()}"
    )
    print(
        f"corpus: {files:,} files, {size / 2**20:.0f} MiB; LocalCluster: {args.workers} "
        f"workers × {args.threads} thread(s) on 127.0.0.1; median of {args.runs}\n"
    )
    print("| run | seconds | ÷ local |")
    print("|---|---|---|")
    for name, seconds, ratio in rows:
        print(f"| {name} | {seconds:.3f} | {ratio} |")
    print()
    per_thread = files / remote / threads
    print(f"files/s on the cluster: {files / remote:,.0f} ({per_thread:,.0f} per worker thread)")
    print(f"files/s locally: {files / local:,.0f}")
    print(f"empty Dask task: {serial * 1e3:.2f} ms alone, {bulk * 1e3:.2f} ms each, 500 at once")
    per = cluster_module._BATCH_FILES
    batches = -(-files // per)
    print(f"batches of {per}: {batches:,}; at {bulk * 1e3:.2f} ms each: {batches * bulk:.2f} s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
