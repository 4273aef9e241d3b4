"""Objects per second against a local S3 server (moto, on 127.0.0.1): linetally vs plain s3fs.

Run by hand (never in CI)::

    python bench/remote.py [--objects 20000] [--jobs 32]

Uploads N small objects (a few lines each) to a fresh bucket, then counts them
with ``linetally.count(walk(["s3://bucket/"]))`` and with a baseline: s3fs's
own async API on one event loop (``_find`` the keys, then ``_cat_file`` each,
``--jobs`` at a time, lines counted with ``bytes.count``). Both are bounded by
the same server; the difference is linetally's own overhead per object.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import socket
import time
from typing import Any

import s3fs
from moto.server import ThreadedMotoServer

import linetally
from linetally import walk


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def _options(endpoint: str) -> dict[str, Any]:
    return {"key": "k", "secret": "s", "endpoint_url": endpoint}


async def _baseline(options: dict[str, Any], bucket: str, jobs: int) -> tuple[int, int]:
    fs = s3fs.S3FileSystem(
        asynchronous=True,
        skip_instance_cache=True,
        config_kwargs={"max_pool_connections": jobs},
        **options,
    )
    session = await fs.set_session()
    keys = await fs._find(bucket)
    slots = asyncio.Semaphore(jobs)

    async def one(key: str) -> int:
        async with slots:
            data = await fs._cat_file(key)
        return data.count(b"\n")

    lines = sum(await asyncio.gather(*(one(k) for k in keys)))
    await session.close()
    return len(keys), lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--objects", type=int, default=20_000)
    parser.add_argument("--jobs", type=int, default=32)
    args = parser.parse_args()
    os.environ.setdefault("AWS_DEFAULT_REGION", "us-east-1")
    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    port = _free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    try:
        endpoint = f"http://127.0.0.1:{port}"
        options = _options(endpoint)
        fs = s3fs.S3FileSystem(skip_instance_cache=True, **options)
        bucket = "bench"
        fs.call_s3("create_bucket", Bucket=bucket)
        start = time.perf_counter()
        fs.pipe({f"{bucket}/o/{i:07d}.log": b"a line\n" * (1 + i % 7) for i in range(args.objects)})
        print(f"uploaded {args.objects} objects in {time.perf_counter() - start:.1f} s")

        start = time.perf_counter()
        n, lines = asyncio.run(_baseline(options, bucket, args.jobs))
        base = time.perf_counter() - start
        print(f"s3fs loop:  {n} objects, {lines} lines, {base:.2f} s, {n / base:,.0f} objects/s")

        start = time.perf_counter()
        report = linetally.count(
            walk([f"s3://{bucket}/"], storage_options=options),
            storage_options=options,
            jobs=args.jobs,
        )
        took = time.perf_counter() - start
        t = report.totals
        rate = t.ok / took
        print(f"linetally:  {t.ok} objects, {t.lines} lines, {took:.2f} s, {rate:,.0f} objects/s")
        assert t.ok == n and t.lines == lines
    finally:
        server.stop()


if __name__ == "__main__":
    main()
