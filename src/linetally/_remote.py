"""Objects behind URLs (``s3://``, ``gs://``, ``https://``, ``zip://``, ...), through fsspec.

A PATH with a scheme is an object store location. :func:`list_objects` turns one
into :class:`~linetally.Entry` values as the listing streams in (pages of keys,
or one "directory" level at a time), so counting starts with the first page
however many keys there are. :class:`Objects` reads them for a run: on the run's
own event loop for async filesystems (s3fs, gcsfs, HTTP), at most ``jobs``
objects at once, a small object in one request, a big one streamed in chunks
while a reading thread counts them; sync filesystems (zip, tar, memory, local)
are read in the reading threads. Either way the bytes go through
:func:`linetally._reader.count_chunks`, so every counting policy applies.

This module imports only the standard library at import time: fsspec and its
filesystems are imported when a URL is met, so local runs never load them.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import errno
import inspect
import json
import os
import re
import time
from collections.abc import Awaitable, Callable, Iterator, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from ._errors import LinetallyError, expected_errors
from ._reader import CHUNK_SIZE, Job, ReadSettings, Skip, Stopped, count_chunks
from ._urls import has_url, is_url

if TYPE_CHECKING:
    from ._pool import ThreadPool
    from ._walk import Entry

__all__ = [
    "Objects",
    "check_url",
    "has_url",
    "is_url",
    "list_objects",
    "parse_storage_option",
    "read_url",
]

_MAGIC = re.compile(r"[*?\[]")

_ON_LOOP = 64 << 10
"""A whole object up to this size is counted on the event loop: a thread hop costs more."""

_POLL = 0.1
"""Seconds between stop checks while a counting thread waits for the next chunk."""

EXPECTED: tuple[type[Exception], ...] = (OSError, ValueError, LinetallyError)

_EXTRAS = {"s3": "s3", "s3a": "s3", "gs": "gcs", "gcs": "gcs", "http": "http", "https": "http"}


def parse_storage_option(text: str) -> tuple[list[str], Any]:
    """Parse ``KEY=VALUE`` (``-S``): the dotted key as a list, the value as JSON if it parses.

    ``anon=true`` gives True, ``config_kwargs.max_pool_connections=64`` an int
    under a nested key, ``key=abc`` the string ``"abc"`` (quote a value to keep
    it a string: ``key='"123"'``). Raises ValueError for text without ``=``.
    """
    key, sep, value = text.partition("=")
    if not sep or not key or any(not part for part in key.split(".")):
        raise ValueError(f"storage option must be KEY=VALUE, not {text!r}")
    try:
        parsed: Any = json.loads(value)
    except ValueError:
        parsed = value
    return key.split("."), parsed


def storage_options(items: Sequence[str]) -> dict[str, Any]:
    """Build the nested options dict from ``KEY=VALUE`` strings (later ones win)."""
    options: dict[str, Any] = {}
    for item in items:
        keys, value = parse_storage_option(item)
        here = options
        for key in keys[:-1]:
            nested = here.get(key)
            if not isinstance(nested, dict):
                nested = here[key] = {}
            here = nested
        here[keys[-1]] = value
    return options


def _protocol(url: str) -> str:
    return url.split("::", 1)[0].split("://", 1)[0]


def check_url(url: str) -> str | None:
    """Why ``url`` cannot be read here (unknown protocol, missing package), or None."""
    try:
        _filesystem_class(_protocol(url))
    except ValueError as exc:
        return str(exc)
    return None


def _filesystem_class(protocol: str) -> type[Any]:
    """The fsspec class for ``protocol``; ValueError (with what to install) if there is none."""
    try:
        import fsspec
    except ImportError:
        extra = _EXTRAS.get(protocol)
        hint = (
            f"pip install 'linetally[{extra}]'"
            if extra
            else "pip install fsspec, or one of linetally's extras: s3, gcs, http"
        )
        raise ValueError(
            f"reading {protocol}:// URLs needs fsspec, which is not installed ({hint})"
        ) from None

    try:
        return fsspec.get_filesystem_class(protocol)  # type: ignore[no-any-return]
    except ImportError as exc:
        extra = _EXTRAS.get(protocol)
        hint = f" (pip install 'linetally[{extra}]')" if extra else ""
        raise ValueError(f"{exc}{hint}") from exc
    except ValueError as exc:
        raise ValueError(f"unknown protocol {protocol!r} ({exc})") from None


def _known_protocols() -> set[str]:
    from fsspec.registry import known_implementations, registry

    return set(known_implementations) | set(registry)


def _options_for(protocol: str, options: Mapping[str, Any]) -> dict[str, Any]:
    """The options of one filesystem: the plain ones, then those keyed by its protocol."""
    if not options:
        return {}
    known = _known_protocols()
    own = options.get(protocol)
    plain = {k: v for k, v in options.items() if not (k in known and isinstance(v, dict))}
    return {**plain, **own} if isinstance(own, dict) else plain


def _as_oserror(exc: Exception) -> OSError:
    """A storage library's own failure as an OSError, the original kept as its cause.

    botocore, aiohttp and google-auth raise types of their own for a refused or
    dropped connection or bad credentials; a per-object failure must be an
    OSError (ConnectionError for the network kind) so that the run keeps it as
    that object's result.
    """
    kind: type[OSError] = ConnectionError if _network(exc) else OSError
    new = kind(errno.EIO, f"{type(exc).__name__}: {exc}")
    new.__cause__ = exc
    return new


def _network(exc: Exception) -> bool:
    names = " ".join(t.__name__ for t in type(exc).__mro__)
    return any(word in names for word in ("Connect", "Payload", "Disconnect"))


def _tidy(exc: Exception) -> Exception:
    """An OSError made from a bare message (s3fs, gcsfs, HTTP), given an errno and strerror.

    So that it reads like the local one ("The specified key does not exist.")
    once its path is attached. Same type; the store's error is its cause.
    """
    if not isinstance(exc, OSError) or exc.errno is not None or len(exc.args) != 1:
        return exc
    code = errno.ENOENT if isinstance(exc, FileNotFoundError) else errno.EIO
    code = errno.EACCES if isinstance(exc, PermissionError) else code
    message = str(exc.args[0])
    if not message.split(maxsplit=1)[1:]:
        # Only the name (fsspec's HTTP 404): the path is shown beside it already.
        message = os.strerror(code)
    try:
        new = type(exc)(code, message)
    except Exception:
        return exc
    new.__cause__ = exc.__cause__ or exc
    new.__traceback__ = exc.__traceback__
    return new


def _storage_errors(exc: Exception) -> Exception:
    """``exc`` as an object's failure: as it is if the run expects it, else an OSError.

    A client library's network error that is an OSError but not a
    ConnectionError (aiohttp's ``ClientConnectorError`` for a refused
    connection) becomes a ConnectionError too, as the README promises.
    """
    if isinstance(exc, EXPECTED) and not (
        isinstance(exc, OSError) and not isinstance(exc, ConnectionError) and _network(exc)
    ):
        return exc
    return _as_oserror(exc)


@contextlib.contextmanager
def _storage_call() -> Iterator[None]:
    """Around a call into a storage library: its failures leave as :func:`_storage_errors`."""
    try:
        yield
    except Exception as exc:
        new = _storage_errors(exc)
        if new is exc:
            raise
        raise new from exc


# -- listing ----------------------------------------------------------------------


def list_objects(url: str, options: Mapping[str, Any] | None = None) -> Iterator[Entry]:
    """Stream one :class:`Entry` per object for the URL ``url`` (blocking; run it in a thread).

    An object is yielded as it is; a prefix ("directory") is listed below it,
    and a URL with ``*``, ``?`` or ``[`` is a glob (``**`` crosses levels),
    listed from its fixed part and filtered as keys come in. Paths are URLs:
    the root as given joined with the rest of each key. A glob that matches
    nothing and a listing that fails are one error entry for the root; a URL
    that cannot be read at all (unknown protocol) is yielded as it is, and
    reading it reports why.
    """
    from ._walk import Entry

    options = options or {}
    head, sep, rest = url.partition("::")
    chain = sep + rest
    protocol = _protocol(url)
    try:
        if protocol in ("http", "https") and not chain and not _MAGIC.search(head):
            yield Entry(url)  # one GET when read; HTTP has no listing to ask for
            return
        fs, path = _sync_filesystem(url, protocol, options)
    except (ValueError, ImportError):
        yield Entry(url)  # read_objects reports it, as the ValueError it is
        return
    except Exception as exc:
        yield Entry(url, error=_with_name(_storage_errors(exc), url))
        return
    found = False
    try:
        match = _MAGIC.search(path)
        keep = None
        if match is None:
            try:
                info = fs.info(path)
            except FileNotFoundError:
                yield Entry(url)  # reading it reports the missing object or bucket
                return
            if info.get("type") != "directory":
                yield Entry(url)
                return
            root, start = head, path
        else:
            from fsspec.utils import glob_translate

            after = head.find("://") + 3 if "://" in head else 0
            magic = _MAGIC.search(head, after)
            cut = magic.start() if magic is not None else len(head)
            root = head[: head.rfind("/", 0, cut) + 1]
            start = path[: path.rfind("/", 0, match.start()) + 1]
            keep = re.compile(glob_translate(path)).match
        root = root if root.endswith("/") else root + "/"
        start = start if not start or start.endswith("/") else start + "/"
        for key in _iter_keys(fs, start):
            if keep is not None and not keep(key):
                continue
            found = True
            rel = key[len(start) :] if key.startswith(start) else key.lstrip("/")
            yield Entry(root + rel + chain)
    except Exception as exc:
        yield Entry(url, error=_with_name(_storage_errors(exc), url))
        return
    if keep is not None and not found:
        missing = FileNotFoundError(errno.ENOENT, "no object matches this pattern", url)
        yield Entry(url, error=missing)


def _with_name(exc: Exception, url: str) -> OSError:
    exc = _tidy(exc)
    if not isinstance(exc, OSError):
        new = OSError(errno.EINVAL, f"{type(exc).__name__}: {exc}")
        new.__cause__ = exc
        exc = new
    if exc.filename is None:
        exc.filename = url
    return exc


def _sync_filesystem(url: str, protocol: str, options: Mapping[str, Any]) -> tuple[Any, str]:
    _filesystem_class(protocol)  # a clear ValueError for an unknown protocol
    from fsspec.core import url_to_fs

    if "::" in url:
        return url_to_fs(url, **options)  # type: ignore[no-any-return]
    return url_to_fs(url, **_options_for(protocol, options))  # type: ignore[no-any-return]


def _iter_keys(fs: Any, base: str) -> Iterator[str]:
    """Every object path below ``base``, as the store hands them out (never all at once)."""
    if type(fs).__name__ == "S3FileSystem" and hasattr(fs, "_iterdir"):
        yield from _iter_s3(fs, base)
        return
    yield from _iter_levels(fs, base)


def _iter_s3(fs: Any, base: str) -> Iterator[str]:
    """S3: one flat listing (no delimiter), a page of up to 1,000 keys per request."""
    from fsspec.asyn import sync

    bucket, key, _ = fs.split_path(base)
    prefix = key.rstrip("/") + "/" if key else ""
    pages = fs._iterdir(bucket, delimiter="", prefix=prefix)
    try:
        while True:
            try:
                info = sync(fs.loop, pages.__anext__)
            except StopAsyncIteration:
                return
            name = info["name"]
            if info.get("type") == "file" and not name.endswith("/"):
                yield name
    finally:
        sync(fs.loop, pages.aclose)


def _iter_levels(fs: Any, base: str) -> Iterator[str]:
    """Any other store: depth first, one sorted "directory" listing at a time."""
    stack = [iter(sorted(fs.ls(base, detail=True), key=lambda i: str(i["name"])))]
    while stack:
        info = next(stack[-1], None)
        if info is None:
            stack.pop()
            continue
        name = str(info["name"])
        if info.get("type") == "directory":
            if name.rstrip("/") != base.rstrip("/"):
                listing = fs.ls(name, detail=True)
                stack.append(iter(sorted(listing, key=lambda i: str(i["name"]))))
        else:
            yield name


# -- reading ----------------------------------------------------------------------

LocalReader = Callable[[list[Job]], Awaitable[list[object]]]


class Objects:
    """Reads a run's objects: async filesystems on the run's loop, the rest in its threads.

    One per run, made on first use and closed (:meth:`close`) when the run
    ends: it holds one async filesystem per protocol, each created with
    ``asynchronous=True`` on the running loop, and a semaphore of ``jobs`` so
    that no more than ``jobs`` objects are in flight in the whole run.
    """

    def __init__(
        self,
        settings: ReadSettings,
        pool: ThreadPool,
        *,
        jobs: int,
        timeout: float | None = None,
        stop_early: bool = False,
        options: Mapping[str, Any] | None = None,
    ) -> None:
        self._settings = settings
        self._pool = pool
        self._jobs = jobs
        self._timeout = timeout
        self._stop_early = stop_early
        self._options: Mapping[str, Any] = options or {}
        self._slots = asyncio.Semaphore(jobs)
        self._async: dict[str, Any] = {}
        self._sync: dict[str, Any] = {}

    async def read(self, group: list[Job], local: LocalReader) -> list[object]:
        """Read ``group``: one outcome per job, as the engine's ``_read_batch`` gives them.

        An outcome is a line count, a :class:`Skip`, a :class:`Stopped`, or the
        failure (OSError and the rest of the expected kinds, with their own
        types). Jobs that are not URLs go to ``local``.
        """
        urls = [job for job in group if is_url(job.path)]
        here = [job for job in group if not is_url(job.path)]
        outcomes: dict[int, object] = {}
        tasks = [asyncio.ensure_future(self._read_one(job, urls)) for job in urls]
        try:
            if here:
                outcomes.update(zip((j.index for j in here), await local(here), strict=True))
            for job, outcome in zip(urls, await asyncio.gather(*tasks), strict=True):
                outcomes[job.index] = outcome
        finally:
            for task in tasks:
                task.cancel()
        return [outcomes[job.index] for job in group]

    async def _read_one(self, job: Job, group: list[Job]) -> object:
        async with self._slots:
            if job.stop:
                return Stopped()
            job.started = time.monotonic()
            timeout = self._timeout
            try:
                if timeout is None:
                    return await self._count(job)
                job.timeout = timeout
                job.deadline = time.monotonic() + timeout
                try:
                    async with asyncio.timeout(timeout):
                        return await self._count(job)
                except TimeoutError:
                    if job.deadline is not None and time.monotonic() >= job.deadline:
                        return TimeoutError(f"took longer than {timeout:g} s")
                    raise
            except Stopped as stopped:
                return stopped
            except expected_errors() as exc:  # codec errors too, with -z
                if self._stop_early:
                    for other in group:
                        other.stop = True
                return _tidy(exc)
            finally:
                job.stop = True  # a counting thread still running ends at its next chunk

    async def _count(self, job: Job) -> int | Skip:
        url = job.path
        fs = self._async_filesystem(url)
        if fs is None:
            read = _read_sync
            return await self._pool.submit(
                read, url, self._options, self._sync, job, self._settings
            )
        path = fs._strip_protocol(url)
        with _storage_call():
            try:
                stream = await (
                    fs.open_async(path, "rb", size=0) if _is_http(fs) else fs.open_async(path, "rb")
                )
            except (NotImplementedError, ValueError):
                stream = None
        if stream is None:
            return await self._count_whole(fs, path, job)
        try:
            return await self._count_stream(stream, job)
        finally:
            await _close(stream)

    async def _count_whole(self, fs: Any, path: str, job: Job) -> int | Skip:
        """A filesystem without streamed reads: the object in one request."""
        with _storage_call():
            data = await fs._cat_file(path)
        return await self._count_data(iter([data] if data else []), job, len(data), len(data))

    async def _count_stream(self, stream: Any, job: Job) -> int | Skip:
        first = await _fill(stream, CHUNK_SIZE, job)
        size = _size_of(stream)
        if len(first) < CHUNK_SIZE:  # the whole object, in one request
            return await self._count_data(iter([first] if first else []), job, len(first), size)
        loop = asyncio.get_running_loop()

        def chunks() -> Iterator[bytes]:
            yield first
            while True:
                future = asyncio.run_coroutine_threadsafe(_fill(stream, CHUNK_SIZE, job), loop)
                data = _wait(future, job)
                if not data:
                    return
                yield data

        return await self._count_data(chunks(), job, None, size)

    async def _count_data(
        self, chunks: Iterator[bytes], job: Job, length: int | None, size: int | None
    ) -> int | Skip:
        settings = self._settings
        if length is not None and length <= _ON_LOOP and not settings.delay:
            result = count_chunks(chunks, job, settings)
        else:
            result = await self._pool.submit(count_chunks, chunks, job, settings)
        if isinstance(result, Skip):
            return Skip(result.reason, size)
        return result

    def _async_filesystem(self, url: str) -> Any | None:
        """The run's async filesystem for ``url``, or None when it is read in a thread."""
        if "::" in url:
            return None  # chains (zip over s3, caches) are read through fsspec's own loop
        protocol = _protocol(url)
        if protocol in self._async:
            return self._async[protocol]
        cls = _filesystem_class(protocol)
        fs = None
        if getattr(cls, "async_impl", False):
            options = _options_for(protocol, self._options)
            if cls.__name__ == "S3FileSystem":
                config = dict(options.get("config_kwargs") or {})
                config.setdefault("max_pool_connections", self._jobs)
                options["config_kwargs"] = config
            loop = asyncio.get_running_loop()
            fs = cls(asynchronous=True, loop=loop, skip_instance_cache=True, **options)
        self._async[protocol] = fs
        return fs

    async def close(self) -> None:
        """Close the network sessions this run opened (on its loop, before it ends)."""
        filesystems = [fs for fs in self._async.values() if fs is not None]
        self._async.clear()
        for fs in filesystems:
            try:
                creator = getattr(fs, "_s3creator", None)
                if creator is not None:
                    await creator.__aexit__(None, None, None)
                session = getattr(fs, "_session", None)
                if session is not None and hasattr(session, "close"):
                    closing = session.close()
                    if inspect.isawaitable(closing):
                        await closing
            except Exception:  # a session that fails to close loses nothing
                pass


def _is_http(fs: Any) -> bool:
    # HTTP's open_async asks for the size first (a HEAD) unless given one: skip it.
    return type(fs).__name__ == "HTTPFileSystem"


def _size_of(stream: Any) -> int | None:
    size = getattr(stream, "size", None)
    if isinstance(size, int) and size > 0:
        return size
    response = getattr(stream, "r", None)
    length = getattr(response, "content_length", None)
    return length if isinstance(length, int) else size if isinstance(size, int) else None


async def _fill(stream: Any, n: int, job: Job) -> bytes:
    """Read up to ``n`` bytes, fewer only at the end: network reads come in smaller pieces."""
    parts: list[bytes] = []
    got = 0
    while got < n:
        job.check()
        with _storage_call():
            data = await stream.read(n - got)
        if not data:
            break
        parts.append(data)
        got += len(data)
    return parts[0] if len(parts) == 1 else b"".join(parts)


def _wait(future: concurrent.futures.Future[bytes], job: Job) -> bytes:
    """Wait in a counting thread for a chunk read on the loop, seeing a stop request."""
    while True:
        try:
            return future.result(_POLL)
        except concurrent.futures.TimeoutError:
            try:
                job.check()
            except BaseException:
                future.cancel()
                raise


async def _close(stream: Any) -> None:
    try:
        response = getattr(stream, "r", None)
        if response is not None and hasattr(response, "close"):
            closing = response.close()
            if inspect.isawaitable(closing):
                await closing
        closing = stream.close()
        if inspect.isawaitable(closing):
            await closing
    except Exception:  # the count is known: a failed close changes nothing
        pass


def read_url(
    url: str, options: Mapping[str, Any], made: dict[str, Any], job: Job, settings: ReadSettings
) -> int | Skip:
    """Count the object ``url`` with blocking reads (a Dask worker, a thread).

    ``made`` keeps the filesystems made so far, one per protocol, from one
    call to the next. Failures are as for every object (see the module).
    """
    return _read_sync(url, options, made, job, settings)


def _read_sync(
    url: str, options: Mapping[str, Any], made: dict[str, Any], job: Job, settings: ReadSettings
) -> int | Skip:
    """Count one object of a sync filesystem (zip, tar, memory, local) in a reading thread.

    ``made`` keeps one filesystem per protocol for plain URLs (chains are made
    by fsspec, which caches them itself).
    """
    job.check()
    with _storage_call():
        protocol = _protocol(url)
        fs = made.get(protocol) if "::" not in url else None
        if fs is None:
            fs, path = _sync_filesystem(url, protocol, options)
            if "::" not in url:
                made[protocol] = fs
        else:
            path = fs._strip_protocol(url)
        handle = fs.open(path, "rb")
    with handle:

        def chunks() -> Iterator[bytes]:
            while True:
                job.check()
                with _storage_call():  # zipfile.BadZipFile, tarfile.ReadError, ...
                    data = handle.read(CHUNK_SIZE)
                if not data:
                    return
                yield data

        result = count_chunks(chunks(), job, settings)
    if isinstance(result, Skip):
        size = fs.size(path)
        return Skip(result.reason, size if isinstance(size, int) else None)
    return result
