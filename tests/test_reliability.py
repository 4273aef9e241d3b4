"""Reliability: every input path ends in exactly one result, whatever the file system throws.

Each path ends ok, error (with the original exception and the path), skipped (with a
reason) or cancelled; the totals add up; nothing is dropped, and nothing but a bug
stops a run. These tests build hostile inputs on real files (FIFOs, endless devices,
files that change while they are read, sparse files past 4 GiB, descriptor limits,
Ctrl-C, a reader that goes away) and check the accounting file by file.

Linux only: they use FIFOs, /dev/zero, /proc/PID/fd and capabilities.
"""

from __future__ import annotations

import contextlib
import ctypes
import errno
import json
import os
import resource
import select
import signal
import socket
import stat
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

import linetally
from linetally import Status
from linetally._errors import describe

from .conftest import NOT_UTF8, oracle, run_cli

pytestmark = pytest.mark.skipif(sys.platform != "linux", reason="Linux only (FIFOs, /proc)")

CLI = [sys.executable, "-m", "linetally"]
TRACEBACK = "Traceback (most recent call last)"

# -- running the command ------------------------------------------------------------------


@dataclass
class Ran:
    """How a child ended: exit status, output, wall time and peak memory."""

    code: int
    out: str
    err: str
    seconds: float
    peak_rss_mb: float | None
    """With ``measure_rss``: the peak RSS of linetally (or of its largest descendant)."""

    def doc(self) -> dict[str, Any]:
        document: dict[str, Any] = json.loads(self.out)
        return document


# A child's peak RSS as wait4() reports it includes its parent's RSS at the fork (or
# vfork) before exec: pytest's own memory. So a run to be measured is started by this
# small launcher, which reports the peak of what it starts, and passes its exit status on.
_LAUNCHER = """\
import os, sys
pid = os.posix_spawn(sys.argv[2], sys.argv[2:], os.environ)
_, status, usage = os.wait4(pid, 0)
with open(sys.argv[1], "w") as f:
    f.write(str(usage.ru_maxrss))
code = os.waitstatus_to_exitcode(status)
sys.exit(code if code >= 0 else 128 - code)
"""


class Child:
    """The linetally command in a subprocess, its stdout and stderr drained as they come.

    With ``measure_rss``, the command runs under :data:`_LAUNCHER` (then ``pid`` is the
    launcher's: no signals for such runs).
    """

    def __init__(
        self,
        *args: str,
        cwd: Path,
        input: bytes | None = None,
        measure_rss: bool = False,
        **popen: Any,
    ) -> None:
        env = {**os.environ, "COLUMNS": "100"}
        command = [*CLI, *args]
        self._rss_file: str | None = None
        if measure_rss:
            fd, self._rss_file = tempfile.mkstemp(prefix="linetally-rss-")
            os.close(fd)
            command = [sys.executable, "-c", _LAUNCHER, self._rss_file, *command]
        self.started = time.monotonic()
        stdin = subprocess.PIPE if input is not None else popen.pop("stdin", subprocess.DEVNULL)
        self.proc = subprocess.Popen(
            command,
            cwd=cwd,
            env=env,
            stdin=stdin,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            bufsize=0,
            **popen,
        )
        self.pid = self.proc.pid
        self._out: list[bytes] = []
        self._err: list[bytes] = []
        assert self.proc.stdout is not None and self.proc.stderr is not None
        self._threads = [
            threading.Thread(target=_drain, args=(self.proc.stdout, self._out), daemon=True),
            threading.Thread(target=_drain, args=(self.proc.stderr, self._err), daemon=True),
        ]
        if input is not None:
            self._threads.append(
                threading.Thread(target=_feed, args=(self.proc.stdin, input), daemon=True)
            )
        for t in self._threads:
            t.start()

    def out_so_far(self) -> bytes:
        return b"".join(self._out)

    def wait(self, timeout: float = 60) -> Ran:
        """Reap the child with its resource usage; fail (killing it) if it outlives ``timeout``."""
        deadline = time.monotonic() + timeout
        while True:
            pid, status = os.waitpid(self.pid, os.WNOHANG)
            if pid:
                break
            if time.monotonic() > deadline:
                self.proc.kill()
                self.proc.wait()
                for t in self._threads:
                    t.join(5)
                err = b"".join(self._err).decode("utf-8", "replace")
                pytest.fail(f"linetally still running after {timeout} s (hung); stderr:\n{err}")
            time.sleep(0.005)
        seconds = time.monotonic() - self.started
        self.proc.returncode = os.waitstatus_to_exitcode(status)
        for t in self._threads:
            t.join(10)
        peak = None
        if self._rss_file is not None:
            peak = int(Path(self._rss_file).read_text()) / 1024  # ru_maxrss is in KiB
            os.unlink(self._rss_file)
        return Ran(
            self.proc.returncode,
            b"".join(self._out).decode("utf-8", "surrogateescape"),
            b"".join(self._err).decode("utf-8", "surrogateescape"),
            seconds,
            peak,
        )


def _drain(stream: Any, into: list[bytes]) -> None:
    while chunk := os.read(stream.fileno(), 1 << 16):
        into.append(chunk)
    stream.close()


def _feed(stream: Any, data: bytes) -> None:
    with contextlib.suppress(BrokenPipeError):
        stream.write(data)
    with contextlib.suppress(BrokenPipeError):
        stream.close()


def cli(*args: str, cwd: Path, timeout: float = 60, **kw: Any) -> Ran:
    """Run ``linetally ARGS`` to its end (see :class:`Child`)."""
    return Child(*args, cwd=cwd, **kw).wait(timeout)


def wait_until_open(pid: int, path: Path, timeout: float = 10) -> None:
    """Wait until process ``pid`` holds ``path`` open: its read is then in flight."""
    target = os.path.realpath(path)
    fds = f"/proc/{pid}/fd"
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with contextlib.suppress(OSError):
            for fd in os.listdir(fds):
                with contextlib.suppress(OSError):
                    if os.readlink(f"{fds}/{fd}") == target:
                        return
        time.sleep(0.002)
    pytest.fail(f"linetally never opened {path}")


# -- the accounting -----------------------------------------------------------------------


@dataclass(frozen=True)
class Expect:
    """What one input must end as. ``detail``: the error type, or the skip reason."""

    status: str
    detail: str | None = None
    lines: int | None = None
    """For ok files whose count the oracle can't give (stdin); else ``oracle()``."""
    message: str | None = None
    """A part of the error message, when it matters."""


def check_accounting(
    files: Sequence[dict[str, Any]],
    totals: dict[str, int],
    expected: dict[str, Expect],
    root: Path,
    sizes: dict[str, int] | None = None,
) -> None:
    """Every expected path once, with its status and details; totals that add up."""
    paths = [f["path"] for f in files]
    twice = sorted(p for p, n in Counter(paths).items() if n > 1)
    assert twice == [], f"reported more than once: {twice}"
    assert sorted(set(expected) - set(paths)) == [], "dropped"
    assert sorted(set(paths) - set(expected)) == [], "unexpected"
    by = {f["path"]: f for f in files}
    for path, exp in expected.items():
        f = by[path]
        assert f["status"] == exp.status, (path, f)
        if exp.status == "ok":
            assert f["error"] is None and f["reason"] is None, (path, f)
            lines = exp.lines if exp.lines is not None else oracle(root / path)
            assert f["lines"] == lines, (path, f)
            size = (sizes or {}).get(path)
            assert f["bytes"] == (size if size is not None else os.stat(root / path).st_size)
        elif exp.status == "error":
            assert f["error"] is not None, (path, f)
            assert f["error"]["type"] == exp.detail, (path, f)
            assert f["error"]["message"], (path, f)
            if exp.message is not None:
                assert exp.message in f["error"]["message"], (path, f)
            assert f["reason"] is None, (path, f)
        else:
            assert f["reason"] == exp.detail, (path, f)
            assert f["error"] is None, (path, f)
    check_totals(files, totals)


def check_totals(files: Sequence[dict[str, Any]], totals: dict[str, int]) -> None:
    """The totals are the counts by status, and the sums over the ok files."""
    by_status = Counter(f["status"] for f in files)
    ok = [f for f in files if f["status"] == "ok"]
    assert totals == {
        "files": len(files),
        "ok": by_status["ok"],
        "errors": by_status["error"],
        "skipped": by_status["skipped"],
        "cancelled": by_status["cancelled"],
        "lines": sum(f["lines"] for f in ok),
        "bytes": sum(f["bytes"] for f in ok),
    }


# -- dropping root's privileges -------------------------------------------------------------

_LIBC = ctypes.CDLL(None, use_errno=True)
_PR_CAPBSET_DROP = 24
_CAP_DAC_OVERRIDE = 1
_CAP_DAC_READ_SEARCH = 2


def _drop_dac_capabilities() -> None:
    """In the child, before exec: root loses its power to ignore file permissions.

    Dropped from the bounding set, the capabilities are not regained by the
    exec'd interpreter. The child stays uid 0, so it can still run a Python that
    lives in root's private home (where user 65534 could not even start it).
    """
    for cap in (_CAP_DAC_OVERRIDE, _CAP_DAC_READ_SEARCH):
        if _LIBC.prctl(_PR_CAPBSET_DROP, cap, 0, 0, 0) != 0:
            raise OSError(ctypes.get_errno(), "prctl(PR_CAPBSET_DROP)")


_NOBODY: dict[str, Any] = {"user": 65534, "group": 65534, "extra_groups": []}

_PROBE = """\
import sys
import linetally
try:
    open(sys.argv[1], "rb")
except PermissionError:
    sys.exit(0)
sys.exit(3)
"""


@contextlib.contextmanager
def _traversable(path: Path) -> Iterator[None]:
    """Let other users list ``path`` and reach it (pytest makes its temp dirs 0700)."""
    changed: list[tuple[Path, int]] = []
    try:
        for p in (path, *path.parents):
            mode = stat.S_IMODE(p.stat().st_mode)
            want = mode | (0o055 if p == path else 0o011)
            if want != mode:
                changed.append((p, mode))
                p.chmod(want)
        yield
    finally:
        for p, mode in reversed(changed):
            p.chmod(mode)


@pytest.fixture(scope="session")
def _unprivileged_kwargs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any] | None:
    """Popen arguments that make the child unable to read a mode-000 file; None if impossible."""
    base = tmp_path_factory.mktemp("privileges")
    locked = base / "locked"
    locked.write_text("secret\n")
    locked.chmod(0)
    for kwargs in ({}, {"preexec_fn": _drop_dac_capabilities}, _NOBODY):
        with _traversable(base) if "user" in kwargs else contextlib.nullcontext():
            try:
                probe = subprocess.run(
                    [sys.executable, "-c", _PROBE, str(locked)],
                    cwd=base,
                    capture_output=True,
                    timeout=60,
                    **kwargs,
                )
            except (OSError, subprocess.SubprocessError):
                continue
        if probe.returncode == 0:
            return kwargs
    return None


@pytest.fixture
def unprivileged(
    _unprivileged_kwargs: dict[str, Any] | None, tmp_path: Path
) -> Iterator[dict[str, Any] | None]:
    """Popen arguments for a child that gets EACCES on a file with mode 000, or None."""
    kwargs = _unprivileged_kwargs
    if kwargs is not None and "user" in kwargs:
        with _traversable(tmp_path):
            yield kwargs
    else:
        yield kwargs


# -- 1. a tree full of trouble -------------------------------------------------------------

ODD_NAMES = [
    "new\nline.txt",
    "tab\there.txt",
    "esc\x1b[31mred\x1b[0m.txt",
    "[bold red]alarm[blink].txt",  # rich markup (a name cannot hold the closing "/")
]
BAD_NAME = b"bad\xff\xfe.txt"
LONG_NAME = "n" * 300  # NAME_MAX is 255 on Linux file systems


def make_trouble(root: Path, *, unreadable: bool) -> None:
    """tree/ (walked), explicit_dir/ (a directory named explicitly), outside.txt."""
    tree = root / "tree"
    (tree / "sub").mkdir(parents=True)
    (tree / "a.txt").write_text("one\ntwo\nthree\n")
    (tree / "crlf.txt").write_bytes(b"a\r\nb\rc\n\rd")
    (tree / "empty.txt").touch()
    (tree / "latin1.txt").write_bytes(NOT_UTF8 + b"\ncaf\xe9\r\n")
    (tree / "blob.bin").write_bytes(b"\x00\x01\x02\n" * 10)
    os.mkfifo(tree / "pipe")
    for where in (tree / "sock", root / "lone.sock"):
        with socket.socket(socket.AF_UNIX) as sock:
            sock.bind(os.fspath(where))  # the socket file outlives the socket
    (tree / "dangling").symlink_to("nowhere")
    (tree / "self_loop").symlink_to("self_loop")
    (tree / "link_to_a").symlink_to("a.txt")
    (tree / "sub" / "deep.txt").write_text("1\n2\n")
    (tree / "sub" / "up").symlink_to("..")  # a directory loop, once links are followed
    for i, name in enumerate(ODD_NAMES):
        (tree / name).write_text("x\n" * (i + 1))
    with open(os.path.join(os.fsencode(tree), BAD_NAME), "wb") as f:
        f.write(b"1\n2\n3\n4\n5\n")
    if unreadable:
        (tree / "locked.txt").write_text("secret\n")
        (tree / "locked.txt").chmod(0)
        (tree / "locked_dir").mkdir()
        (tree / "locked_dir" / "inside.txt").write_text("x\n")
        (tree / "locked_dir").chmod(0)
    (root / "explicit_dir").mkdir()
    (root / "explicit_dir" / "e.txt").write_text("e\n")
    (root / "outside.txt").write_text("out\nside\n")


def expected_tree(*, unreadable: bool, encoding: str | None = None) -> dict[str, Expect]:
    """What walking tree/ with symlinks followed must give."""
    ok = Expect("ok")
    exp = {
        "tree/a.txt": ok,
        "tree/crlf.txt": ok,
        "tree/empty.txt": ok,
        "tree/latin1.txt": ok if encoding is None else Expect("error", "UnicodeDecodeError"),
        "tree/blob.bin": Expect("skipped", "binary"),
        "tree/pipe": Expect("skipped", "special file"),
        "tree/sock": Expect("skipped", "special file"),
        "tree/dangling": Expect("error", "FileNotFoundError", message="No such file"),
        "tree/self_loop": Expect("error", "OSError", message="symbolic links"),
        "tree/link_to_a": ok,
        "tree/sub/deep.txt": ok,
        "tree/sub/up": Expect("error", "OSError", message="symlink loop"),
        "tree/" + os.fsdecode(BAD_NAME): ok,
    }
    exp.update({"tree/" + name: ok for name in ODD_NAMES})
    if unreadable:
        exp["tree/locked.txt"] = Expect("error", "PermissionError", message="Permission denied")
        exp["tree/locked_dir"] = Expect("error", "PermissionError", message="Permission denied")
    return exp


def test_tree_full_of_trouble_cli(tmp_path: Path, unprivileged: dict[str, Any] | None) -> None:
    make_trouble(tmp_path, unreadable=unprivileged is not None)
    ran = cli(
        "--format", "json", "--follow",
        "tree", "explicit_dir", "missing.txt", LONG_NAME, "outside.txt/child", "lone.sock",
        "outside.txt", "-",
        cwd=tmp_path,
        input=b"from\nstdin\n",
        **(unprivileged or {}),
    )  # fmt: skip
    assert ran.code == 1, ran.err
    assert TRACEBACK not in ran.err
    doc = ran.doc()
    assert set(doc) == {"files", "totals", "interrupted"}
    assert doc["interrupted"] is False
    expected = expected_tree(unreadable=unprivileged is not None)
    expected.update(
        {
            "explicit_dir/e.txt": Expect("ok"),
            "missing.txt": Expect("error", "FileNotFoundError", message="No such file"),
            LONG_NAME: Expect("error", "OSError", message="File name too long"),
            "outside.txt/child": Expect("error", "NotADirectoryError"),
            "lone.sock": Expect("error", "OSError", message="No such device or address"),
            "outside.txt": Expect("ok"),
            "-": Expect("ok", lines=2),
        }
    )
    check_accounting(doc["files"], doc["totals"], expected, tmp_path, sizes={"-": 11})
    # Inputs keep their order: the walk of tree/ first (sorted), then the others as given.
    paths = [f["path"] for f in doc["files"]]
    explicit = ["explicit_dir/e.txt", "missing.txt", LONG_NAME, "outside.txt/child"]
    explicit += ["lone.sock", "outside.txt", "-"]
    assert paths[-7:] == explicit
    assert paths[:-7] == sorted(paths[:-7])
    # The failure report names the failures, and prints no raw control character.
    assert "missing.txt" in ran.err
    assert "\x1b" not in ran.err


_API_SCRIPT = """\
import json, sys
import linetally
from linetally._errors import describe

spec = json.loads(sys.argv[1])
inputs = [*linetally.walk(spec["walk"], follow=True), *spec["paths"]]
report = linetally.count(inputs, encoding=spec["encoding"])
members = []
try:
    report.raise_for_errors()
except ExceptionGroup as group:
    members = [[type(e).__name__, e.path] for e in group.exceptions]
records = []
for r in report.results:
    e = r.error
    records.append({
        "path": r.path, "status": r.status.value, "lines": r.lines, "bytes": r.bytes,
        "reason": r.reason,
        "error": None if e is None else {
            "type": type(e).__name__,
            "message": describe(e),
            "path": getattr(e, "path", None),
            "noted": f"file: {r.path!r}" in getattr(e, "__notes__", []),
            "errno": getattr(e, "errno", None),
        },
    })
t = report.totals
print(json.dumps({
    "files": records,
    "totals": {k: getattr(t, k) for k in
               ("files", "ok", "errors", "skipped", "cancelled", "lines", "bytes")},
    "members": members,
    "ok": report.ok,
    "interrupted": report.interrupted,
}))
"""


def test_tree_full_of_trouble_api(tmp_path: Path, unprivileged: dict[str, Any] | None) -> None:
    # In a child process, so that it can run without root's privileges.
    make_trouble(tmp_path, unreadable=unprivileged is not None)
    spec = {
        "walk": ["tree"],
        "paths": [
            "explicit_dir",
            "missing.txt",
            LONG_NAME,
            "nul\0byte",
            "outside.txt/child",
            "outside.txt",
        ],
        "encoding": "utf-8",
    }
    proc = subprocess.run(
        [sys.executable, "-c", _API_SCRIPT, json.dumps(spec)],
        cwd=tmp_path,
        capture_output=True,
        timeout=60,
        **(unprivileged or {}),
    )
    assert proc.returncode == 0, proc.stderr.decode()
    doc = json.loads(proc.stdout)
    expected = expected_tree(unreadable=unprivileged is not None, encoding="utf-8")
    expected.update(
        {
            "explicit_dir": Expect("error", "IsADirectoryError"),
            "missing.txt": Expect("error", "FileNotFoundError"),
            LONG_NAME: Expect("error", "OSError", message="File name too long"),
            "nul\0byte": Expect("error", "ValueError", message="null byte"),
            "outside.txt/child": Expect("error", "NotADirectoryError"),
            "outside.txt": Expect("ok"),
        }
    )
    check_accounting(doc["files"], doc["totals"], expected, tmp_path)
    assert doc["ok"] is False and doc["interrupted"] is False
    errnos = {
        "tree/dangling": errno.ENOENT,
        "tree/self_loop": errno.ELOOP,
        "tree/sub/up": errno.ELOOP,
        "explicit_dir": errno.EISDIR,
        "missing.txt": errno.ENOENT,
        LONG_NAME: errno.ENAMETOOLONG,
        "outside.txt/child": errno.ENOTDIR,
        "tree/locked.txt": errno.EACCES,
        "tree/locked_dir": errno.EACCES,
    }
    failures = [f for f in doc["files"] if f["status"] == "error"]
    for f in failures:
        # The original exception, with the path on it as an attribute and as a note.
        assert f["error"]["path"] == f["path"], f
        assert f["error"]["noted"], f
        if f["path"] in errnos:
            assert f["error"]["errno"] == errnos[f["path"]], f
    # raise_for_errors groups exactly the failures, in input order.
    assert doc["members"] == [[f["error"]["type"], f["path"]] for f in failures]


# -- 2. permission denied ------------------------------------------------------------------


def test_permission_denied_without_root(
    tmp_path: Path, unprivileged: dict[str, Any] | None
) -> None:
    if unprivileged is None:
        pytest.skip("could not drop root's privileges (no CAP_SETPCAP, and user 65534 failed)")
    (tmp_path / "readable.txt").write_text("1\n2\n")
    locked = tmp_path / "locked.txt"
    locked.write_text("secret\n")
    locked.chmod(0)
    tree = tmp_path / "tree"
    (tree / "closed").mkdir(parents=True)
    (tree / "closed" / "hidden.txt").write_text("x\n")
    (tree / "closed").chmod(0)
    (tree / "open.txt").write_text("x\n")
    ran = cli(
        "--format", "json", "locked.txt", "readable.txt", "tree", cwd=tmp_path, **unprivileged
    )
    assert ran.code == 1
    assert TRACEBACK not in ran.err
    doc = ran.doc()
    expected = {
        "locked.txt": Expect("error", "PermissionError", message="Permission denied"),
        "readable.txt": Expect("ok"),
        "tree/closed": Expect("error", "PermissionError", message="Permission denied"),
        "tree/open.txt": Expect("ok"),
    }
    check_accounting(doc["files"], doc["totals"], expected, tmp_path)
    assert "locked.txt" in ran.err and "tree/closed" in ran.err


# -- 3. FIFOs ------------------------------------------------------------------------------


class FifoWriter(threading.Thread):
    """Writes ``chunks`` into a FIFO once a reader has opened it, then ``forever`` until stopped.

    Never blocks for good: opening is retried while no reader is there (ENXIO),
    writes wait in short polls, and a reader that closes ends the writer (EPIPE).
    """

    def __init__(
        self, path: Path, chunks: Sequence[bytes] = (), forever: bytes = b"", pause: float = 0
    ) -> None:
        super().__init__(daemon=True)
        self.path = path
        self.chunks = chunks
        self.forever = forever
        self.pause = pause
        self.halt = threading.Event()
        self.written = 0
        self.error: BaseException | None = None

    def __enter__(self) -> FifoWriter:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.halt.set()
        self.join(5)
        assert not self.is_alive()

    def run(self) -> None:
        try:
            self._run()
        except BaseException as exc:
            self.error = exc

    def _run(self) -> None:
        fd = None
        while fd is None:
            if self.halt.is_set():
                return
            try:
                fd = os.open(self.path, os.O_WRONLY | os.O_NONBLOCK)
            except OSError as exc:
                if exc.errno != errno.ENXIO:  # ENXIO: no reader yet
                    raise
                time.sleep(0.005)
        try:
            for chunk in self.chunks:
                self._write(fd, chunk)
                time.sleep(self.pause)
            while self.forever and not self.halt.is_set():
                self._write(fd, self.forever)
        except BrokenPipeError:
            pass  # the reader is gone
        finally:
            os.close(fd)

    def _write(self, fd: int, data: bytes) -> None:
        view = memoryview(data)
        while view and not self.halt.is_set():
            try:
                n = os.write(fd, view)
            except BlockingIOError:
                select.select([], [fd], [], 0.05)
                continue
            view = view[n:]
            self.written += n


def test_fifo_named_explicitly_with_a_writer(tmp_path: Path) -> None:
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    (tmp_path / "a.txt").write_text("a\n")
    with FifoWriter(fifo, [b"one\n", b"two\n", b"three\n"], pause=0.05) as writer:
        ran = cli("--format", "json", "pipe", "a.txt", cwd=tmp_path, timeout=20)
    assert writer.error is None
    assert ran.code == 0, ran.err
    expected = {"pipe": Expect("ok", lines=3), "a.txt": Expect("ok")}
    doc = ran.doc()
    check_accounting(doc["files"], doc["totals"], expected, tmp_path, sizes={"pipe": 14})


def test_fifo_with_no_writer_times_out_and_the_rest_is_counted(tmp_path: Path) -> None:
    os.mkfifo(tmp_path / "pipe")
    (tmp_path / "a.txt").write_text("a\nb\n")
    (tmp_path / "b.txt").write_text("c\n")
    ran = cli("--format", "json", "--timeout", "1", "a.txt", "pipe", "b.txt", cwd=tmp_path)
    print(f"\nFIFO, no writer, --timeout 1: {ran.seconds:.2f} s")
    assert ran.code == 1
    expected = {
        "a.txt": Expect("ok"),
        "pipe": Expect("error", "TimeoutError", message="took longer than 1 s"),
        "b.txt": Expect("ok"),
    }
    doc = ran.doc()
    check_accounting(doc["files"], doc["totals"], expected, tmp_path)


class _Inotify:
    """Just enough inotify to tell whether anyone opened a file (IN_OPEN)."""

    IN_OPEN = 0x20
    IN_NONBLOCK = os.O_NONBLOCK

    def __init__(self, path: Path) -> None:
        self.fd = _LIBC.inotify_init1(self.IN_NONBLOCK | os.O_CLOEXEC)
        if self.fd < 0:
            raise OSError(ctypes.get_errno(), "inotify_init1")
        if _LIBC.inotify_add_watch(self.fd, os.fsencode(path), self.IN_OPEN) < 0:
            os.close(self.fd)
            raise OSError(ctypes.get_errno(), "inotify_add_watch")

    def opened(self) -> bool:
        try:
            return bool(os.read(self.fd, 4096))
        except BlockingIOError:
            return False
        finally:
            os.close(self.fd)


def test_fifo_met_in_a_walk_is_skipped_never_opened(tmp_path: Path) -> None:
    tree = tmp_path / "tree"
    tree.mkdir()
    os.mkfifo(tree / "pipe")
    os.mkfifo(tree / ".ignore")  # an ignore file the walk looks at: must not hang it either
    (tree / "a.txt").write_text("a\n")
    watch = _Inotify(tree / "pipe")
    # No --timeout: a read of the FIFO would wait forever for a writer.
    ran = cli("--format", "json", "tree", cwd=tmp_path, timeout=20)
    assert not watch.opened()
    assert ran.code == 0
    expected = {"tree/pipe": Expect("skipped", "special file"), "tree/a.txt": Expect("ok")}
    doc = ran.doc()
    check_accounting(doc["files"], doc["totals"], expected, tmp_path)


def test_a_fifo_waiting_for_a_writer_does_not_hold_back_other_files(tmp_path: Path) -> None:
    os.mkfifo(tmp_path / "pipe")
    (tmp_path / "a.txt").write_text("a\n")
    child = Child("--format", "jsonl", "pipe", "a.txt", cwd=tmp_path)
    try:
        deadline = time.monotonic() + 3
        while b'"a.txt"' not in child.out_so_far() and time.monotonic() < deadline:
            time.sleep(0.01)
        streamed = child.out_so_far()
    finally:
        child.proc.send_signal(signal.SIGINT)
        ran = child.wait(10)
    assert ran.code == 130
    assert b'"a.txt", "status": "ok"' in streamed


# -- 4. endless input ----------------------------------------------------------------------


def test_dev_zero_counted_as_binary_times_out(tmp_path: Path) -> None:
    (tmp_path / "a.txt").write_text("a\n")
    ran = cli(
        "--format", "json", "--timeout", "1", "--binary", "count", "/dev/zero", "a.txt",
        cwd=tmp_path,
    )  # fmt: skip
    print(f"\n/dev/zero --binary count --timeout 1: {ran.seconds:.2f} s")
    assert ran.code == 1
    expected = {
        "/dev/zero": Expect("error", "TimeoutError", message="took longer than 1 s"),
        "a.txt": Expect("ok"),
    }
    doc = ran.doc()
    check_accounting(doc["files"], doc["totals"], expected, tmp_path)


def test_dev_zero_is_skipped_as_binary_at_once(tmp_path: Path) -> None:
    (tmp_path / "a.txt").write_text("a\n")
    ran = cli("--format", "json", "/dev/zero", "a.txt", cwd=tmp_path, timeout=20)
    print(f"\n/dev/zero skipped: {ran.seconds:.2f} s")
    assert ran.code == 0
    expected = {"/dev/zero": Expect("skipped", "binary"), "a.txt": Expect("ok")}
    doc = ran.doc()
    check_accounting(doc["files"], doc["totals"], expected, tmp_path)


def test_endless_text_stream_times_out(tmp_path: Path) -> None:
    fifo = tmp_path / "yes"
    os.mkfifo(fifo)
    (tmp_path / "a.txt").write_text("a\n")
    with FifoWriter(fifo, forever=b"y\n" * 4096) as writer:
        ran = cli("--format", "json", "--timeout", "1", "yes", "a.txt", cwd=tmp_path, timeout=20)
    assert writer.error is None
    assert writer.written > 0
    print(f"\nendless y-stream --timeout 1: {ran.seconds:.2f} s, {writer.written} bytes fed")
    assert ran.code == 1
    expected = {"yes": Expect("error", "TimeoutError"), "a.txt": Expect("ok")}
    doc = ran.doc()
    check_accounting(doc["files"], doc["totals"], expected, tmp_path)


# -- 5. files that change while they are counted ---------------------------------------------


def _lines_file(path: Path, n: int, width: int = 1024) -> None:
    with open(path, "wb") as f:
        f.write((b"x" * (width - 1) + b"\n") * n)


def _one_result(ran: Ran, path: str) -> dict[str, Any]:
    assert ran.code in (0, 1), ran.err
    assert TRACEBACK not in ran.err
    doc = ran.doc()
    assert [f["path"] for f in doc["files"]] == [path]
    (f,) = doc["files"]
    assert f["status"] in ("ok", "error"), f
    assert (f["error"] is None) == (f["status"] == "ok"), f
    check_totals(doc["files"], doc["totals"])
    return f  # type: ignore[no-any-return]


def _chunk() -> int:
    from linetally import _reader

    return _reader.CHUNK_SIZE


def test_growing_file(tmp_path: Path) -> None:
    path = tmp_path / "growing.log"
    initial = 4 * _chunk() // 1024  # lines of 1 KiB: several chunks, so reads go on
    _lines_file(path, initial)
    child = Child("--format", "json", "--delay", "0.0005", "growing.log", cwd=tmp_path)
    wait_until_open(child.pid, path)
    with open(path, "ab", buffering=0) as log:
        for _ in range(200):
            log.write(b"y" * 1023 + b"\n")
            time.sleep(0.002)
    final = oracle(path)
    ran = child.wait(60)
    f = _one_result(ran, "growing.log")
    if f["status"] == "ok":
        assert initial <= f["lines"] <= final, (initial, f, final)


def test_truncated_while_counted(tmp_path: Path) -> None:
    path = tmp_path / "shrinking.log"
    initial = 4 * _chunk() // 1024
    _lines_file(path, initial)
    child = Child("--format", "json", "--delay", "0.0005", "shrinking.log", cwd=tmp_path)
    wait_until_open(child.pid, path)
    time.sleep(0.1)
    os.truncate(path, 0)
    ran = child.wait(60)
    f = _one_result(ran, "shrinking.log")
    if f["status"] == "ok":
        assert 0 <= f["lines"] <= initial


def test_deleted_while_counted(tmp_path: Path) -> None:
    path = tmp_path / "doomed.log"
    initial = 4 * _chunk() // 1024
    _lines_file(path, initial)
    child = Child("--format", "json", "--delay", "0.0005", "doomed.log", cwd=tmp_path)
    wait_until_open(child.pid, path)
    path.unlink()
    ran = child.wait(60)
    f = _one_result(ran, "doomed.log")
    # The open descriptor keeps the file alive: counted in full.
    assert f["status"] == "ok"
    assert f["lines"] == initial
    assert f["bytes"] == initial * 1024


# -- 6. a sparse file past 4 GiB -----------------------------------------------------------


@pytest.mark.slow
def test_sparse_file_over_4_gib_counted_with_flat_memory(tmp_path: Path) -> None:
    size = 5 * 2**30
    pieces = {
        0: b"head\n",
        2**31 + 5: b"past 2 GiB\n",
        size // 2 - 1: b"\r",  # a CRLF split where two cores' ranges meet
        size // 2: b"\n",
        2**32 - 1: b"\r",  # and one split across 4 GiB, a chunk boundary
        2**32: b"\n",
        3 * 2**30: b"lone\rcr",
        size - 4: b"tail",  # a last line with no line end
    }
    path = tmp_path / "sparse.bin"
    with open(path, "wb") as f:
        f.truncate(size)
        for offset, data in pieces.items():
            f.seek(offset)
            f.write(data)
    if os.stat(path).st_blocks * 512 > 64 << 20:
        pytest.skip("this file system does not keep files sparse")
    # The count: zeros are no line ends, so it is the pieces' count with a NUL in each gap.
    squeezed = bytearray()
    end = 0
    for offset, data in sorted(pieces.items()):
        squeezed += b"\0" if offset > end else b""
        squeezed += data
        end = offset + len(data)
    (tmp_path / "squeezed").write_bytes(squeezed)
    lines = oracle(tmp_path / "squeezed")
    assert lines == 6
    try:
        # Binary by the NUL rule: skipped after a look at its first 8 KiB.
        ran = cli("--format", "json", "sparse.bin", cwd=tmp_path, timeout=30)
        check_accounting(
            ran.doc()["files"],
            ran.doc()["totals"],
            {"sparse.bin": Expect("skipped", "binary")},
            tmp_path,
        )
        ran = cli(
            "--format", "json", "--binary", "count", "sparse.bin",
            cwd=tmp_path, timeout=300, measure_rss=True,
        )  # fmt: skip
        assert ran.peak_rss_mb is not None
        print(f"\nsparse 5 GiB: {ran.seconds:.1f} s, peak RSS {ran.peak_rss_mb:.0f} MB")
        assert ran.code == 0, ran.err
        doc = ran.doc()
        check_accounting(
            doc["files"], doc["totals"], {"sparse.bin": Expect("ok", lines=lines)}, tmp_path
        )
        assert ran.peak_rss_mb < 150
    finally:
        with open(path, "rb") as f:  # leave no 5 GiB of zeros in the page cache
            os.posix_fadvise(f.fileno(), 0, 0, os.POSIX_FADV_DONTNEED)


# -- 7. few file descriptors, many jobs ----------------------------------------------------


def _limit_fds() -> None:
    resource.setrlimit(resource.RLIMIT_NOFILE, (64, 64))


@pytest.fixture(scope="module")
def ten_thousand(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("many")
    for i in range(10_000):
        (root / f"f{i:05}.txt").write_bytes(b"x\n" * (i % 5))
    return root


@pytest.mark.parametrize(
    "extra",
    [
        pytest.param([], id="default"),
        pytest.param(["--timeout", "30"], id="one-file-per-thread-call"),
    ],
)
def test_ulimit_64_with_500_jobs(ten_thousand: Path, extra: list[str]) -> None:
    ran = cli(
        "--format", "json", "--jobs", "500", *extra, ".",
        cwd=ten_thousand, preexec_fn=_limit_fds, timeout=120,
    )  # fmt: skip
    print(f"\nulimit -n 64, 10,000 files {extra}: {ran.seconds:.2f} s")
    assert ran.code == 0, ran.err[-2000:]
    assert ran.err == ""
    doc = ran.doc()
    expected = {f"./f{i:05}.txt": Expect("ok", lines=i % 5) for i in range(10_000)}
    sizes = {path: 2 * exp.lines for path, exp in expected.items() if exp.lines is not None}
    check_accounting(doc["files"], doc["totals"], expected, ten_thousand, sizes=sizes)
    assert doc["totals"]["ok"] == 10_000


# -- 8. Ctrl-C -------------------------------------------------------------------------------


def _slow_tree(root: Path) -> None:
    for i in range(4):
        (root / f"a{i}.txt").write_text("quick\n")
    for i in range(8):
        (root / f"b{i}.txt").write_text("slow\n" * 300)


def test_ctrl_c_stops_within_a_second_with_partial_json(tmp_path: Path) -> None:
    _slow_tree(tmp_path)
    child = Child("--format", "json", "--delay", "0.01", ".", cwd=tmp_path)
    wait_until_open(child.pid, tmp_path / "b0.txt")
    time.sleep(0.2)
    sent = time.monotonic()
    child.proc.send_signal(signal.SIGINT)
    ran = child.wait(10)
    print(f"\nCtrl-C to exit: {time.monotonic() - sent:.2f} s")
    assert ran.code == 130
    assert TRACEBACK not in ran.err
    assert "interrupted" in ran.err
    doc = ran.doc()
    assert doc["interrupted"] is True
    expected = {f"./a{i}.txt": Expect("ok") for i in range(4)}
    expected.update({f"./b{i}.txt": Expect("cancelled", "interrupted") for i in range(8)})
    check_accounting(doc["files"], doc["totals"], expected, tmp_path)


def test_second_ctrl_c_right_after_the_first_exits_at_once(tmp_path: Path) -> None:
    _slow_tree(tmp_path)
    child = Child("--format", "json", "--delay", "0.01", ".", cwd=tmp_path)
    wait_until_open(child.pid, tmp_path / "b0.txt")
    sent = time.monotonic()
    child.proc.send_signal(signal.SIGINT)
    child.proc.send_signal(signal.SIGINT)
    ran = child.wait(10)
    print(f"\ntwo Ctrl-C to exit: {time.monotonic() - sent:.2f} s")
    assert ran.code == 130
    assert TRACEBACK not in ran.err
    assert "KeyboardInterrupt" not in ran.err


def test_second_ctrl_c_while_the_partial_report_is_written(tmp_path: Path) -> None:
    for i in range(3000):  # done at once, and a partial report bigger than a pipe holds
        (tmp_path / f"{i:04}.txt").touch()
    (tmp_path / "zzzz.txt").write_text("slow\n" * 10_000)
    proc = subprocess.Popen(
        [*CLI, "--format", "json", "--delay", "0.01", "."],
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        bufsize=0,
    )
    try:
        wait_until_open(proc.pid, tmp_path / "zzzz.txt")
        proc.send_signal(signal.SIGINT)
        assert proc.stdout is not None
        assert proc.stdout.read(1) == b"{"  # the report has begun; the full pipe now holds it
        time.sleep(0.2)
        proc.send_signal(signal.SIGINT)
        _, err = proc.communicate(timeout=10)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert TRACEBACK not in err.decode()
    assert proc.returncode == 130


def test_ctrl_c_while_blocked_on_a_fifo_with_no_writer(tmp_path: Path) -> None:
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    child = Child("--format", "json", "pipe", cwd=tmp_path)  # no --timeout: it would wait forever
    wait_until_open(child.pid, fifo)
    time.sleep(0.3)
    sent = time.monotonic()
    child.proc.send_signal(signal.SIGINT)
    ran = child.wait(10)
    print(f"\nCtrl-C while blocked on a FIFO to exit: {time.monotonic() - sent:.2f} s")
    assert ran.code == 130
    assert TRACEBACK not in ran.err
    doc = ran.doc()
    assert doc["interrupted"] is True
    expected = {"pipe": Expect("cancelled", "interrupted")}
    check_accounting(doc["files"], doc["totals"], expected, tmp_path)


# -- 9. the reader of the output goes away ---------------------------------------------------


@pytest.fixture(scope="module")
def big_tree(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("big")
    # Enough files for the counting processes to start, and long enough names that
    # every format's output is far bigger than a pipe holds: the writer must meet EPIPE.
    for i in range(3000):
        (root / f"{i:04}-{'x' * 40}.txt").write_text("x\n" * (i % 7))
    (root / "binary.bin").write_bytes(b"\0")
    return root


@pytest.mark.parametrize("fmt", ["jsonl", "table", "json", "csv"])
def test_head_1_ends_quietly(big_tree: Path, fmt: str) -> None:
    linetally_proc = subprocess.Popen(
        [*CLI, "--format", fmt, ".", "missing.txt"],
        cwd=big_tree,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    assert linetally_proc.stdout is not None
    head = subprocess.Popen(["head", "-1"], stdin=linetally_proc.stdout, stdout=subprocess.PIPE)
    linetally_proc.stdout.close()  # head holds the only reading end
    first, _ = head.communicate(timeout=60)
    try:
        _, err = linetally_proc.communicate(timeout=30)
    except subprocess.TimeoutExpired:
        linetally_proc.kill()
        linetally_proc.wait()
        pytest.fail("linetally hung after its reader went away")
    assert len(first.splitlines()) == 1
    assert err == b""
    assert linetally_proc.returncode in (0, 1)


# -- 10. streaming: memory does not grow with the number of paths -----------------------------


def _stream(root: Path, n: int) -> Ran:
    gen = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import sys\n"
            "w = sys.stdout.write\n"
            f"for i in range({n}):\n"
            "    w(f'f{i % 10}.txt\\n')\n",
        ],
        stdout=subprocess.PIPE,
    )
    try:
        ran = cli(
            "--format", "jsonl", "--files-from", "-",
            cwd=root, stdin=gen.stdout, timeout=120, measure_rss=True,
        )  # fmt: skip
    finally:
        assert gen.stdout is not None
        gen.stdout.close()
        gen.wait(10)
    assert ran.code == 0, ran.err[-2000:]
    assert ran.err == ""
    counts: Counter[str] = Counter()
    for line in ran.out.splitlines():
        record = json.loads(line)
        assert record["status"] == "ok", record
        assert record["lines"] == int(record["path"][1]), record
        counts[record["path"]] += 1
    assert counts == {f"f{i}.txt": n // 10 for i in range(10)}
    return ran


@pytest.mark.slow
def test_streaming_memory_does_not_grow_with_the_paths(tmp_path: Path) -> None:
    for i in range(10):
        (tmp_path / f"f{i}.txt").write_text("x\n" * i)
    small = _stream(tmp_path, 50_000)
    large = _stream(tmp_path, 200_000)
    assert small.peak_rss_mb is not None and large.peak_rss_mb is not None
    print(
        f"\nstreaming: 50,000 paths {small.seconds:.1f} s, {small.peak_rss_mb:.1f} MB; "
        f"200,000 paths {large.seconds:.1f} s, {large.peak_rss_mb:.1f} MB"
    )
    assert large.peak_rss_mb - small.peak_rss_mb < 20
    assert large.peak_rss_mb < 150


# -- more trouble: closed stdin, bugs, decode failures --------------------------------------


def _close_stdin() -> None:
    os.close(0)


def test_dash_with_stdin_closed_is_an_error_not_a_crash(tmp_path: Path) -> None:
    (tmp_path / "a.txt").write_text("a\n")
    ran = cli("--format", "json", "-", "a.txt", cwd=tmp_path, preexec_fn=_close_stdin)
    assert ran.code == 1
    assert TRACEBACK not in ran.err
    doc = ran.doc()
    expected = {
        "-": Expect("error", "OSError", message="standard input is closed"),
        "a.txt": Expect("ok"),
    }
    check_accounting(doc["files"], doc["totals"], expected, tmp_path)


def test_files_from_stdin_with_stdin_closed_is_a_usage_error(tmp_path: Path) -> None:
    ran = cli("--files-from", "-", cwd=tmp_path, preexec_fn=_close_stdin)
    assert TRACEBACK not in ran.err
    assert ran.code == 2
    assert ran.err.startswith("linetally: error:")


_BUG_SCRIPT = """\
import sys
import linetally
from linetally import _engine

real = _engine.count_file

def count_file(job, *args, **kwargs):
    if job.path == sys.argv[1]:
        raise RuntimeError("a bug in the reader")
    return real(job, *args, **kwargs)

_engine.count_file = count_file
paths = [f"{i}.txt" for i in range(200)]
try:
    linetally.count(paths, jobs=2, delay=0.005)
except* RuntimeError:
    sys.exit(42)
"""


def test_a_bug_propagates_instead_of_hanging(tmp_path: Path) -> None:
    for i in range(200):
        (tmp_path / f"{i}.txt").write_text("x\n" * 3)
    try:
        proc = subprocess.run(
            [sys.executable, "-c", _BUG_SCRIPT, "30.txt"],
            cwd=tmp_path,
            capture_output=True,
            timeout=5,  # it takes 0.3 s when it does not hang
        )
    except subprocess.TimeoutExpired:
        pytest.fail("the run hung after a bug in a worker")
    assert proc.returncode == 42, proc.stderr.decode()


def test_decode_failures_keep_no_chunk_of_the_file(tmp_path: Path) -> None:
    # Failures are kept until the run ends: each must cost bytes, not a read chunk.
    chunk = _chunk()
    bad_at = 2 * chunk + 1000
    data = bytearray(b"abc\n" * ((3 * chunk) // 4))
    data[bad_at] = 0xFF
    paths = []
    for i in range(20):
        path = tmp_path / f"{i}.txt"
        path.write_bytes(data)
        paths.append(path)
    report = linetally.count(paths, encoding="utf-8", processes=0)
    assert report.totals.errors == 20
    for result in report.results:
        assert result.status is Status.ERROR
        error = result.error
        assert isinstance(error, UnicodeDecodeError)
        assert error.byte_offset == bad_at  # type: ignore[attr-defined]
        assert error.object[error.start : error.end] == b"\xff"
        assert len(error.object) <= 64
        assert error.__context__ is None
        assert "can't decode byte ff at byte offset" in describe(error)


def test_big_file_truncated_while_counted_in_ranges(tmp_path: Path) -> None:
    path = tmp_path / "big.txt"
    with open(path, "wb") as f:
        for _ in range(64):
            f.write((b"x" * 99 + b"\n") * 10_000)  # 64 MB: counted in ranges, in threads

    def truncate_soon() -> None:
        time.sleep(0.25)
        os.truncate(path, 1000)

    t = threading.Thread(target=truncate_soon)
    t.start()
    r = run_cli("--format", "json", "big.txt", cwd=tmp_path)
    t.join()
    assert TRACEBACK not in r.err
    (f,) = json.loads(r.out)["files"]
    assert f["status"] in ("ok", "error")
    assert r.code in (0, 1)


def test_dev_stdin_named_explicitly(tmp_path: Path) -> None:
    r = run_cli(
        "--format", "json", "--timeout", "5", "/dev/stdin", cwd=tmp_path, input=b"a\nb\r\nc"
    )
    assert r.code == 0, r.err
    assert json.loads(r.out)["files"][0]["lines"] == 3
