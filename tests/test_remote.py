"""Objects behind URLs: S3 (moto's server), HTTP (http.server), memory://, zip://, tar://.

Every server runs on 127.0.0.1 on a free port, started and stopped by the
fixtures here. The same files are written locally and to the store, and the
results must agree: same lines, bytes and statuses, same failure types.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import http.server
import json
import logging
import os
import socket
import subprocess
import sys
import tarfile
import threading
import time
import urllib.error
import urllib.request
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

import linetally
from linetally import Status, walk
from linetally._engine import Options, Run

from .conftest import NOT_UTF8, run_cli

s3fs = pytest.importorskip("s3fs")
moto_server = pytest.importorskip("moto.server")

KEY, SECRET, REGION = "testing-key", "testing-secret", "us-east-1"
BUCKET = "linetally-test"

FILES: dict[str, bytes] = {
    "mixed.txt": b"unix\nwindows\r\nold mac\rlast\n",
    "empty.txt": b"",
    "unterminated.txt": b"one\ntwo\nno newline at the end",
    "crlf-split.txt": b"a\r\n" * 300_000,  # CRLF pairs across chunk boundaries
    "logs/app.log": b"".join(b"line %d\n" % i for i in range(1000)),
    "logs/old/app.log.1": b"x\r\n" * 10,
    "logs/big.log": b"".join(b"%07d some log text here\r\n" % i for i in range(200_000)),
    "bin/blob.bin": b"\x00\x01\x02binary" * 100,
    "utf16.txt": "één\ntwee\ndrie\n".encode("utf-16"),
    "bad-utf8.txt": NOT_UTF8 + b"\n",
}


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def _wait_until_up(url: str, deadline: float = 30.0) -> None:
    end = time.monotonic() + deadline
    while True:
        try:
            urllib.request.urlopen(url, timeout=2).close()
            return
        except urllib.error.HTTPError:
            return  # it answers
        except OSError:
            if time.monotonic() > end:
                raise
            time.sleep(0.05)


# -- servers ----------------------------------------------------------------------


@pytest.fixture(scope="session")
def s3_endpoint() -> Iterator[str]:
    """moto's S3 server in a thread of this process, as s3fs tests itself."""
    port = _free_port()
    server = moto_server.ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    werkzeug = logging.getLogger("werkzeug")
    level = werkzeug.level
    werkzeug.setLevel(logging.ERROR)  # not a line per request
    server.start()
    try:
        endpoint = f"http://127.0.0.1:{port}"
        _wait_until_up(endpoint + "/moto-api/")
        yield endpoint
    finally:
        server.stop()
        werkzeug.setLevel(level)


@pytest.fixture(scope="session")
def s3_auth_endpoint() -> Iterator[str]:
    """A moto server that checks credentials (its own process: the setting is process-wide)."""
    port = _free_port()
    env = {**os.environ, "INITIAL_NO_AUTH_ACTION_COUNT": "0"}
    cmd = [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)]
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        endpoint = f"http://127.0.0.1:{port}"
        _wait_until_up(endpoint + "/moto-api/")
        yield endpoint
    finally:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def _options(endpoint: str) -> dict[str, Any]:
    return {
        "key": KEY,
        "secret": SECRET,
        "endpoint_url": endpoint,
        "client_kwargs": {"region_name": REGION},
    }


@pytest.fixture(scope="session")
def local_tree(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("tree")
    for name, data in FILES.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
    return root


@pytest.fixture(scope="session")
def bucket(s3_endpoint: str, local_tree: Path) -> str:
    """The local tree under ``s3://BUCKET/tree/``, plus 1,100 small objects under ``many/``."""
    fs = s3fs.S3FileSystem(**_options(s3_endpoint), skip_instance_cache=True)
    fs.call_s3("create_bucket", Bucket=BUCKET)
    fs.pipe({f"{BUCKET}/tree/{name}": data for name, data in FILES.items()})
    fs.pipe({f"{BUCKET}/many/{i:05d}.txt": b"a\nb\n" * (i % 5) for i in range(1100)})
    return BUCKET


@pytest.fixture(scope="session")
def http_root(local_tree: Path) -> Iterator[str]:
    class Quiet(http.server.SimpleHTTPRequestHandler):
        def log_message(self, format: str, *args: Any) -> None:
            pass

    with _http_server(functools.partial(Quiet, directory=str(local_tree))) as url:
        yield url


@pytest.fixture(scope="session")
def dropping_http() -> Iterator[str]:
    """Promises 10 MB, sends 800 kB, then closes the connection."""

    class Drop(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self.send_response(200)
            self.send_header("Content-Length", "10000000")
            self.end_headers()
            self.wfile.write(b"x\n" * 400_000)
            self.wfile.flush()
            self.connection.shutdown(socket.SHUT_RDWR)

        def log_message(self, format: str, *args: Any) -> None:
            pass

    with _http_server(Drop) as url:
        yield url


@contextlib.contextmanager
def _http_server(handler: Any) -> Iterator[str]:
    """An HTTP server on 127.0.0.1 in a thread, for the duration of the block."""
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        server.server_close()


# -- helpers ----------------------------------------------------------------------


def _summary(report: linetally.Report, prefix: str) -> dict[str, tuple[Any, ...]]:
    out = {}
    for r in report.results:
        assert r.path.startswith(prefix), r.path
        error = None if r.error is None else type(r.error)
        out[r.path[len(prefix) :]] = (r.status, r.lines, r.bytes, error)
    return out


def _local(local_tree: Path, **options: Any) -> dict[str, tuple[Any, ...]]:
    report = linetally.count(walk([str(local_tree)], hidden=True, ignore=False), **options)
    return _summary(report, str(local_tree) + os.sep)


def _remote(url: str, storage: dict[str, Any] | None = None, **options: Any) -> linetally.Report:
    entries = walk([url], storage_options=storage)
    return linetally.count(entries, storage_options=storage, **options)


# -- S3 ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "options",
    [{}, {"jobs": 1}, {"encoding": "utf-8"}, {"binary": "count"}, {"max_lines": 20}],
    ids=["default", "jobs1", "encoding", "binary-count", "max-lines"],
)
def test_s3_prefix_counts_like_the_local_tree(
    s3_endpoint: str, bucket: str, local_tree: Path, options: dict[str, Any]
) -> None:
    prefix = f"s3://{bucket}/tree/"
    report = _remote(prefix, _options(s3_endpoint), **options)
    remote = _summary(report, prefix)
    assert set(remote) == set(FILES)  # every object, exactly once
    assert len(report.results) == len(FILES)
    assert remote == _local(local_tree, **options)


def test_s3_results_in_detail(s3_endpoint: str, bucket: str) -> None:
    prefix = f"s3://{bucket}/tree/"
    by_name = {r.path[len(prefix) :]: r for r in _remote(prefix, _options(s3_endpoint)).results}
    assert by_name["mixed.txt"].lines == 4
    assert by_name["empty.txt"].lines == 0
    assert by_name["unterminated.txt"].lines == 3
    assert by_name["crlf-split.txt"].lines == 300_000
    big = by_name["logs/big.log"]
    assert big.lines == 200_000
    assert big.bytes == len(FILES["logs/big.log"]) > 4 << 20  # several chunks, streamed
    blob = by_name["bin/blob.bin"]
    assert blob.status is Status.SKIPPED
    assert blob.bytes == len(FILES["bin/blob.bin"])


def test_s3_decode_error_keeps_its_type_and_offset(s3_endpoint: str, bucket: str) -> None:
    url = f"s3://{bucket}/tree/bad-utf8.txt"
    (result,) = _remote(url, _options(s3_endpoint), encoding="utf-8").results
    assert isinstance(result.error, UnicodeDecodeError)
    assert result.error.byte_offset == 2  # type: ignore[attr-defined]
    assert result.error.path == url  # type: ignore[attr-defined]


def test_s3_glob(s3_endpoint: str, bucket: str) -> None:
    report = _remote(f"s3://{bucket}/tree/**/*.log", _options(s3_endpoint))
    assert sorted(r.path for r in report.results) == [
        f"s3://{bucket}/tree/logs/app.log",
        f"s3://{bucket}/tree/logs/big.log",
    ]
    report = _remote(f"s3://{bucket}/tree/*.txt", _options(s3_endpoint))
    assert {r.path.rsplit("/", 1)[1] for r in report.results} == {
        n for n in FILES if "/" not in n and n.endswith(".txt")
    }


def test_s3_glob_matching_nothing_is_an_error(s3_endpoint: str, bucket: str) -> None:
    url = f"s3://{bucket}/tree/*.nothing"
    (result,) = _remote(url, _options(s3_endpoint)).results
    assert isinstance(result.error, FileNotFoundError)
    assert result.path == url


def test_s3_missing_object_and_missing_bucket(s3_endpoint: str, bucket: str) -> None:
    urls = [f"s3://{bucket}/tree/no-such-key.txt", "s3://no-such-bucket/key.txt"]
    storage = _options(s3_endpoint)
    report = linetally.count(walk(urls, storage_options=storage), storage_options=storage)
    assert [r.path for r in report.results] == urls
    for result, url in zip(report.results, urls, strict=True):
        assert result.status is Status.ERROR
        assert isinstance(result.error, FileNotFoundError)
        assert result.error.path == url  # type: ignore[attr-defined]
    # Named directly, without the walk: the same.
    report = linetally.count(urls, storage_options=storage)
    assert [type(r.error) for r in report.results] == [FileNotFoundError] * 2


def test_s3_wrong_credentials_are_a_permission_error(s3_auth_endpoint: str) -> None:
    storage = {**_options(s3_auth_endpoint), "key": "wrong-key", "secret": "wrong-secret"}
    urls = ["s3://some-bucket/a.txt", "s3://some-bucket/logs/"]
    report = linetally.count(walk(urls, storage_options=storage), storage_options=storage)
    assert [r.path for r in report.results] == urls
    for result in report.results:
        assert isinstance(result.error, PermissionError)
    with pytest.raises(ExceptionGroup) as info:
        report.raise_for_errors()
    assert info.value.subgroup(PermissionError) is not None


def test_s3_refused_connection_is_a_connection_error(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(s3fs.S3FileSystem, "retries", 1)
    storage = {
        **_options(f"http://127.0.0.1:{_free_port()}"),
        "config_kwargs": {"retries": {"max_attempts": 1}},
    }
    url = f"s3://{BUCKET}/a.txt"
    (result,) = linetally.count([url], storage_options=storage).results
    assert isinstance(result.error, ConnectionError)
    assert result.error.path == url  # type: ignore[attr-defined]
    assert result.error.__cause__ is not None  # botocore's own error, kept


def test_s3_listing_streams_and_every_object_gets_one_result(
    s3_endpoint: str, bucket: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls: list[str] = []
    original = s3fs.S3FileSystem._call_s3

    async def counting(self: Any, method: str, *args: Any, **kwargs: Any) -> Any:
        calls.append("page" if kwargs.get("Delimiter") == "" else method)
        return await original(self, method, *args, **kwargs)

    monkeypatch.setattr(s3fs.S3FileSystem, "_call_s3", counting)
    entries = walk([f"s3://{bucket}/many/"], storage_options=_options(s3_endpoint))
    first = next(entries)
    assert first.path == f"s3://{bucket}/many/00000.txt"
    # The first entry came from the first page: the second page is not asked for yet.
    assert calls.count("page") == 1, calls
    rest = list(entries)
    assert calls.count("page") == 2
    assert len(rest) + 1 == 1100
    report = linetally.count([first, *rest], storage_options=_options(s3_endpoint), jobs=8)
    assert report.totals.ok == 1100
    assert report.totals.lines == sum(2 * (i % 5) for i in range(1100))
    # One request per small object.
    assert calls.count("get_object") == 1100
    assert "head_object" not in calls[calls.index("get_object") :]


def test_stop_keeps_partial_results(s3_endpoint: str, bucket: str) -> None:
    storage = _options(s3_endpoint)

    async def main() -> tuple[linetally.Report, int]:
        run = Run(
            walk([f"s3://{bucket}/many/"], storage_options=storage),
            Options(jobs=2, storage_options=storage),
        )
        seen = 0
        async for _ in run:
            seen += 1
            if seen == 20:
                run.stop()
        return run.report(), seen

    report, seen = asyncio.run(main())
    assert report.interrupted
    counted = [r for r in report.results if r.status is Status.OK]
    assert 20 <= len(counted) < 1100
    assert seen == len(report.results)
    assert all(r.status in (Status.OK, Status.CANCELLED) for r in report.results)
    for r in counted:
        i = int(r.path.rsplit("/", 1)[1].split(".")[0])
        assert r.lines == 2 * (i % 5)


def test_on_error_cancel_with_objects(s3_endpoint: str, bucket: str) -> None:
    urls = [f"s3://{bucket}/tree/no-such-key.txt"] + [
        f"s3://{bucket}/many/{i:05d}.txt" for i in range(200)
    ]
    report = linetally.count(urls, storage_options=_options(s3_endpoint), on_error="cancel")
    assert len(report.results) == len(urls)
    assert report.results[0].status is Status.ERROR
    assert report.totals.cancelled > 0


def test_s3_timeout(s3_endpoint: str, bucket: str) -> None:
    url = f"s3://{bucket}/tree/mixed.txt"
    (result,) = linetally.count([url], storage_options=_options(s3_endpoint), timeout=30).results
    assert result.lines == 4
    (slow,) = linetally.count(
        [url], storage_options=_options(s3_endpoint), timeout=0.05, delay=0.05
    ).results
    assert isinstance(slow.error, TimeoutError)


# -- HTTP -------------------------------------------------------------------------


def test_http_counts_like_local(http_root: str, local_tree: Path) -> None:
    names = ["mixed.txt", "empty.txt", "unterminated.txt", "logs/big.log", "bin/blob.bin"]
    report = _remote_many([f"{http_root}/{n}" for n in names])
    remote = _summary(report, http_root + "/")
    local = _local(local_tree)
    assert remote == {n: local[n] for n in names}


def _remote_many(urls: list[str]) -> linetally.Report:
    return linetally.count(walk(urls))


def test_http_not_found_and_dropped_connection(http_root: str, dropping_http: str) -> None:
    report = _remote_many([f"{http_root}/nope.txt", f"{dropping_http}/x.txt"])
    missing, dropped = report.results
    assert isinstance(missing.error, FileNotFoundError)
    assert missing.path == f"{http_root}/nope.txt"
    assert isinstance(dropped.error, ConnectionError)
    assert dropped.error.path == f"{dropping_http}/x.txt"  # type: ignore[attr-defined]


def test_http_not_found_reads_like_a_missing_local_file(http_root: str) -> None:
    # fsspec's HTTP 404 is FileNotFoundError(url): only the name, shown beside it already
    url = f"{http_root}/nope.txt"
    (result,) = linetally.count([url]).results
    assert isinstance(result.error, FileNotFoundError)
    assert result.error.strerror == "No such file or directory"
    r = run_cli("--no-progress", url)
    assert r.code == 1
    assert f"{url}: No such file or directory" in r.err


def test_http_refused_connection_is_a_connection_error() -> None:
    # aiohttp's ClientConnectorError is an OSError but not a ConnectionError
    url = f"http://127.0.0.1:{_free_port()}/x.txt"
    (result,) = linetally.count([url]).results
    assert type(result.error) is ConnectionError
    assert result.error.path == url  # type: ignore[attr-defined]
    assert type(result.error.__cause__).__name__ == "ClientConnectorError"


# -- sync filesystems -------------------------------------------------------------


def test_memory_filesystem() -> None:
    import fsspec

    fs = fsspec.filesystem("memory")
    fs.pipe({"/lt-mem/a.txt": b"1\n2\n", "/lt-mem/sub/b.txt": b"1\r\n2\r3", "/lt-mem/c.bin": b"\0"})
    report = linetally.count(walk(["memory://lt-mem"]))
    assert [(r.path, r.status, r.lines, r.bytes) for r in report.results] == [
        ("memory://lt-mem/a.txt", Status.OK, 2, 4),
        ("memory://lt-mem/c.bin", Status.SKIPPED, None, 1),
        ("memory://lt-mem/sub/b.txt", Status.OK, 3, 6),
    ]
    (missing,) = linetally.count(walk(["memory://lt-mem/nope.txt"])).results
    assert isinstance(missing.error, FileNotFoundError)


def test_zip_and_tar_over_local_archives(tmp_path: Path, local_tree: Path) -> None:
    names = ["mixed.txt", "logs/app.log", "logs/big.log", "bin/blob.bin", "utf16.txt"]
    with zipfile.ZipFile(tmp_path / "t.zip", "w", zipfile.ZIP_DEFLATED) as z:
        for n in names:
            z.writestr(n, FILES[n])
    with tarfile.open(tmp_path / "t.tar", "w") as t:
        for n in names:
            t.add(local_tree / n, arcname=n)
    local = _local(local_tree)
    expected = {n: local[n] for n in names}
    for proto, archive in (("zip", "t.zip"), ("tar", "t.tar")):
        url = f"{proto}://::{tmp_path / archive}"
        report = linetally.count(walk([url]))
        got = {r.path.split("::")[0].removeprefix(f"{proto}://"): r for r in report.results}
        assert {n: (r.status, r.lines, r.bytes, None) for n, r in got.items()} == expected
        assert all(r.path.endswith(f"::{tmp_path / archive}") for r in report.results)
    glob = f"zip://**/*.log::{tmp_path / 't.zip'}"
    assert sorted(r.lines for r in linetally.count(walk([glob])).results) == [1000, 200_000]


def test_unknown_protocol_is_a_value_error() -> None:
    (result,) = linetally.count(walk(["nosuchproto://x/y"])).results
    assert isinstance(result.error, ValueError)
    assert "nosuchproto" in str(result.error)


# -- CLI --------------------------------------------------------------------------


def _cli_env(endpoint: str, tmp_path: Path) -> dict[str, str]:
    # Credentials the standard way (the environment), no config files of this machine.
    return {
        "AWS_ACCESS_KEY_ID": KEY,
        "AWS_SECRET_ACCESS_KEY": SECRET,
        "AWS_DEFAULT_REGION": REGION,
        "AWS_CONFIG_FILE": str(tmp_path / "none"),
        "AWS_SHARED_CREDENTIALS_FILE": str(tmp_path / "none"),
    }


def test_cli_counts_a_bucket(s3_endpoint: str, bucket: str, tmp_path: Path) -> None:
    env = _cli_env(s3_endpoint, tmp_path)
    prefix = f"s3://{bucket}/tree/logs/"
    r = run_cli("--format", "json", "-S", f"endpoint_url={s3_endpoint}", prefix, env=env)
    assert r.code == 0, r.err
    assert r.err == ""
    doc = json.loads(r.out)
    lines = {f["path"]: f["lines"] for f in doc["files"]}
    assert lines == {
        prefix + "app.log": 1000,
        prefix + "big.log": 200_000,
        prefix + "old/app.log.1": 10,
    }


def test_cli_failure_exit_1(s3_endpoint: str, bucket: str, tmp_path: Path) -> None:
    env = _cli_env(s3_endpoint, tmp_path)
    missing = f"s3://{bucket}/tree/no-such-key.txt"
    good = f"s3://{bucket}/tree/mixed.txt"
    # Options keyed by protocol apply to that protocol only.
    r = run_cli("--format", "csv", "-S", f"s3.endpoint_url={s3_endpoint}", good, missing, env=env)
    assert r.code == 1
    assert good in r.out
    assert "FileNotFoundError" in r.out  # csv: error_type
    assert f"{missing}: The specified key does not exist." in r.err
    assert "Traceback" not in r.err


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["nosuchproto://x"], "unknown protocol 'nosuchproto'"),
        (["-S", "novalue", "s3://b/k"], "storage option must be KEY=VALUE"),
    ],
)
def test_cli_usage_errors_exit_2(args: list[str], message: str) -> None:
    r = run_cli(*args)
    assert r.code == 2
    assert r.out == ""
    assert message in r.err
    assert len(r.err.strip().splitlines()) == 1


def test_storage_option_parsing() -> None:
    from linetally._remote import storage_options

    assert storage_options(
        ["anon=true", "client_kwargs.endpoint_url=http://h:1", "config_kwargs.x=3", 'key="12"']
    ) == {
        "anon": True,
        "client_kwargs": {"endpoint_url": "http://h:1"},
        "config_kwargs": {"x": 3},
        "key": "12",
    }


# -- lazy imports -----------------------------------------------------------------


def test_version_and_local_runs_do_not_import_fsspec(tmp_path: Path) -> None:
    (tmp_path / "a.txt").write_text("1\n2\n")
    code = (
        "import sys, contextlib, io\n"
        "from linetally._cli import main\n"
        "with contextlib.suppress(SystemExit), contextlib.redirect_stdout(io.StringIO()):\n"
        "    main(['--version'])\n"
        "with contextlib.redirect_stdout(io.StringIO()):\n"
        f"    assert main(['--no-progress', {str(tmp_path)!r}]) == 0\n"
        "heavy = [m for m in ('fsspec', 's3fs', 'aiohttp', 'botocore') if m in sys.modules]\n"
        "print(heavy)\n"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "[]"


def test_local_files_and_objects_in_one_run(
    s3_endpoint: str, bucket: str, local_tree: Path
) -> None:
    import fsspec

    fsspec.filesystem("memory").pipe("/lt-mixed/m.txt", b"m\n")
    paths = [
        str(local_tree / "mixed.txt"),
        f"s3://{bucket}/tree/mixed.txt",
        "memory://lt-mixed/m.txt",
        str(local_tree / "empty.txt"),
    ]
    report = linetally.count(
        walk(paths, storage_options=_options(s3_endpoint)), storage_options=_options(s3_endpoint)
    )
    assert [(r.path, r.lines) for r in report.results] == list(
        zip(paths, [4, 4, 1, 0], strict=True)
    )


def test_cli_unknown_protocol_from_a_file_list_is_that_paths_error(tmp_path: Path) -> None:
    (tmp_path / "a.txt").write_text("1\n")
    (tmp_path / "list").write_text("a.txt\nnosuchproto://x/y\n")
    r = run_cli("--format", "csv", "--files-from", "list", cwd=tmp_path)
    assert r.code == 1
    assert "a.txt,ok,1,2" in r.out
    assert "nosuchproto://x/y,error" in r.out
    assert "unknown protocol 'nosuchproto'" in r.err


def test_decompress_applies_to_objects(s3_endpoint: str) -> None:
    """-z: compressed objects count as their content, local files and objects alike."""
    import gzip

    content = b"one\r\ntwo\rthree\nfour"
    fs = s3fs.S3FileSystem(**_options(s3_endpoint), skip_instance_cache=True)
    fs.call_s3("create_bucket", Bucket="lt-gz")
    fs.pipe({"lt-gz/logs/app.log.1.gz": gzip.compress(content), "lt-gz/logs/app.log": content})
    report = linetally.count(
        walk(["s3://lt-gz/logs"], storage_options=_options(s3_endpoint)),
        decompress=True,
        storage_options=_options(s3_endpoint),
    )
    got = {r.path.rsplit("/", 1)[1]: (r.status, r.lines, r.codec) for r in report.results}
    assert got == {
        "app.log": (Status.OK, 4, None),
        "app.log.1.gz": (Status.OK, 4, "gzip"),
    }
    (gz,) = [r for r in report.results if r.codec]
    assert gz.decompressed_bytes == len(content)


def test_a_damaged_compressed_object_is_its_own_error() -> None:
    """-z on an object cut short: EOFError for that object, the others counted."""
    import gzip

    import fsspec

    whole = gzip.compress(b"a\nb\n" * 1000)
    fs = fsspec.filesystem("memory")
    fs.pipe({"/lt-cut/ok.gz": whole, "/lt-cut/cut.gz": whole[: len(whole) // 2]})
    report = linetally.count(walk(["memory://lt-cut"]), decompress=True)
    by_name = {r.path.rsplit("/", 1)[1]: r for r in report.results}
    assert (by_name["ok.gz"].status, by_name["ok.gz"].lines) == (Status.OK, 2000)
    assert by_name["cut.gz"].status is Status.ERROR
    assert isinstance(by_name["cut.gz"].error, EOFError)
    assert by_name["cut.gz"].error.path == "memory://lt-cut/cut.gz"  # type: ignore[attr-defined]


def test_s3_objects_on_a_dask_cluster_count_like_the_local_tree(
    s3_endpoint: str, bucket: str, local_tree: Path, tmp_path: Path
) -> None:
    """With a scheduler, the workers read the objects themselves, with the storage options."""
    distributed = pytest.importorskip("distributed")
    import logging

    prefix = f"s3://{bucket}/tree/"
    cluster = distributed.LocalCluster(
        n_workers=2,
        threads_per_worker=1,
        processes=True,
        host="127.0.0.1",
        dashboard_address="127.0.0.1:0",
        worker_dashboard_address="127.0.0.1:0",
        silence_logs=logging.ERROR,
        local_directory=str(tmp_path / "dask"),
    )
    try:
        with (
            distributed.Client(cluster) as client,
            distributed.get_task_stream(client) as stream,
        ):
            report = _remote(prefix, _options(s3_endpoint), scheduler=client)
        tasks = list(stream.data)  # collected when the block ends
    finally:
        cluster.close()
    assert _summary(report, prefix) == _local(local_tree)
    assert any(str(t["key"]).startswith("linetally-count-") for t in tasks)
