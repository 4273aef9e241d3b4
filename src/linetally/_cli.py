"""The ``linetally`` command: the only place that prints, draws or exits.

Exit status: 0 when no file failed (skipped files are fine), 1 when any file
failed or broke ``--max-lines`` (or the result could not be written), 2 for a
usage error, 130 after Ctrl-C.

A bad argument is a usage error: one line on stderr, no traceback, nothing
counted. An option is applied or refused, never silently ignored (see
``_refuse`` for the combinations refused, and why).
"""

from __future__ import annotations

import argparse
import contextlib
import functools
import os
import sys
from collections.abc import Callable, Iterable, Iterator, Sequence
from typing import TYPE_CHECKING, BinaryIO, NoReturn, TextIO

from ._version import __version__

if TYPE_CHECKING:
    from ._engine import Run
    from ._model import Report
    from ._options import Options
    from ._walk import Entry

__all__ = ["main"]

EXIT_OK = 0
EXIT_FAILED = 1
EXIT_USAGE = 2
EXIT_INTERRUPTED = 130

_REFRESH = 1 / 20
_HIDE_CURSOR = "\x1b[?25l"
_SHOW_CURSOR = "\x1b[?25h"
_AHEAD = 64
"""Entries the command walks ahead for its forked processes' first directories."""
_EARLY_UNITS = 4
"""Directories each forked process gets as it starts: enough to keep it busy until
the command's event loop is up (60-80 ms here) and hands out the next ones."""

EPILOG = """\
examples:
  linetally                          count every file below the current folder
  linetally src tests --sort lines   largest files last
  linetally --max-lines 500 src      fail (exit 1) when a file has more than 500 lines
  linetally -g '*.py' -g '!tests/' . only .py files, not under tests/
  git ls-files -z | linetally --files0-from -
  linetally --format json . | jq .totals
  linetally --demo                   watch the tutorial's files being counted

options and paths may come in any order; -- ends the options.
exit status: 0 no file failed, 1 a file failed, 2 usage error, 130 interrupted
"""


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        # One clear line on stderr, no usage dump, no traceback.
        self.exit(EXIT_USAGE, f"linetally: error: {message} (see linetally --help)\n")


class _Formatter(argparse.RawDescriptionHelpFormatter):
    """argparse's formatter, told the terminal's width as shutil would find it.

    argparse makes one for every option it adds, and without a width it imports
    shutil for it (with bz2, lzma and fnmatch): milliseconds of every start-up.
    """

    def __init__(self, prog: str) -> None:
        super().__init__(prog, width=_columns() - 2)


def _columns() -> int:
    """shutil.get_terminal_size().columns: $COLUMNS, else the terminal's, else 80."""
    with contextlib.suppress(ValueError):
        columns = int(os.environ.get("COLUMNS", "0"))
        if columns > 0:
            return columns
    try:
        columns = os.get_terminal_size(sys.__stdout__.fileno()).columns  # type: ignore[union-attr]
    except (AttributeError, ValueError, OSError):
        columns = 0
    return columns or 80


def _whole(least: int) -> Callable[[str], int]:
    """An argparse type: a whole number of at least ``least``."""

    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"not a whole number: {text!r}") from None
        if value < least:
            raise argparse.ArgumentTypeError(f"must be at least {least}: {text!r}")
        return value

    return parse


_positive_int = _whole(1)
_count_arg = _whole(0)


def _number(text: str) -> float:
    try:
        return float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number of seconds: {text!r}") from None


def _seconds(text: str) -> float:
    """An argparse type: 0 or more seconds (finite)."""
    value = _number(text)
    if not 0 <= value < float("inf"):
        raise argparse.ArgumentTypeError(f"must be a finite number, 0 or more seconds: {text!r}")
    return value


def _positive_seconds(text: str) -> float:
    """An argparse type: more than 0 seconds (finite), as the library's ``timeout``."""
    value = _number(text)
    if not 0 < value < float("inf"):
        raise argparse.ArgumentTypeError(f"must be a finite number, more than 0 seconds: {text!r}")
    return value


def _by(text: str) -> str:
    from ._output import parse_by

    try:
        return parse_by(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def build_parser() -> argparse.ArgumentParser:
    """The argument parser (also used to document the options)."""
    p = _Parser(
        prog="linetally",
        description=(
            "Count the lines of many files at once, show the work live, and report "
            "every failure together, grouped by kind. A line ends at \\n, \\r\\n or a "
            "lone \\r; a last line without one still counts."
        ),
        epilog=EPILOG,
        formatter_class=_Formatter,
    )
    p.add_argument(
        "paths", nargs="*", metavar="PATH", help="files or folders (default: .); - is stdin"
    )
    inp = p.add_argument_group("inputs")
    inp.add_argument(
        "--files-from", metavar="FILE", help="read paths from FILE, one a line (- for stdin)"
    )
    inp.add_argument(
        "--files0-from", metavar="FILE", help="read NUL-separated paths from FILE (- for stdin)"
    )
    inp.add_argument("--hidden", action="store_true", help="also walk hidden files and folders")
    inp.add_argument(
        "--no-ignore",
        action="store_true",
        help="don't honour .gitignore, .ignore, .git/info/exclude",
    )
    inp.add_argument(
        "-g",
        "--glob",
        action="append",
        default=[],
        metavar="PATTERN",
        help="only files matching PATTERN (gitignore syntax, !PATTERN excludes; repeatable)",
    )
    inp.add_argument("-L", "--follow", action="store_true", help="follow symbolic links")
    inp.add_argument(
        "-S",
        "--storage-option",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="option for the filesystem of URL paths (s3://, gs://, ...): VALUE as JSON if it "
        "parses, else a string; a.b=VALUE nests (repeatable)",
    )
    cnt = p.add_argument_group("counting")
    cnt.add_argument(
        "-j",
        "--jobs",
        type=_positive_int,
        metavar="N",
        help="files read at once (default: CPUs + 4, at most 32)",
    )
    cnt.add_argument(
        "--processes",
        type=_count_arg,
        metavar="N",
        help="processes counting small files in parallel on big runs (default: one per core)",
    )
    cnt.add_argument(
        "--on-error",
        choices=("continue", "cancel"),
        default=None,
        help="on a failure, go on with the other files (default) or cancel them",
    )
    cnt.add_argument("--fail-fast", action="store_true", help="same as --on-error cancel")
    cnt.add_argument(
        "--scheduler",
        metavar="ADDRESS",
        default=os.environ.get("DASK_SCHEDULER_ADDRESS") or None,
        help="count on this Dask cluster (default: $DASK_SCHEDULER_ADDRESS if set)",
    )
    cnt.add_argument(
        "--timeout",
        type=_positive_seconds,
        metavar="S",
        help="a file taking longer than S seconds fails",
    )
    cnt.add_argument(
        "--max-lines", type=_count_arg, metavar="N", help="a file with more than N lines fails"
    )
    cnt.add_argument(
        "--encoding", metavar="NAME", help="files must also decode strictly with this codec"
    )
    cnt.add_argument(
        "--binary",
        choices=("skip", "count", "error"),
        default="skip",
        help="files with a NUL byte in their first 8 KiB: skip (default), count, or fail",
    )
    cnt.add_argument(
        "-z",
        "--decompress",
        action="store_true",
        help="count the decompressed content of gzip, bzip2, xz, lzma and zstd files",
    )
    cnt.add_argument(
        "--delay",
        type=_seconds,
        default=None,
        metavar="S",
        help="pause S seconds per line, to watch (demo pacing)",
    )
    cnt.add_argument(
        "--languages",
        action="store_true",
        help="detect each file's language and count its code, comment and blank lines (as tokei)",
    )
    cnt.add_argument(
        "--docstrings",
        choices=("code", "comment"),
        help="with --languages: Python doc strings are code (default, as tokei) or comments",
    )
    out = p.add_argument_group("output")
    out.add_argument(
        "--format",
        choices=("table", "json", "jsonl", "csv"),
        default="table",
        help="output format (default: table)",
    )
    out.add_argument(
        "--sort",
        choices=("lines", "bytes", "path", "none"),
        default="none",
        help="order of the rows (default: input order)",
    )
    out.add_argument("-r", "--reverse", action="store_true", help="reverse the order")
    out.add_argument(
        "--top", type=_positive_int, metavar="N", help="only the N files with the most lines"
    )
    out.add_argument(
        "--summary", action="store_true", help="only totals and the distribution of lines per file"
    )
    out.add_argument(
        "--by",
        type=_by,
        metavar="KEY",
        help="totals per language, extension, directory or directory:DEPTH",
    )
    out.add_argument(
        "--files",
        action="store_true",
        help="with --languages or --by: list each file under its group",
    )
    out.add_argument(
        "-v",
        "--verbose",
        action="store_true",
        help="list skipped and cancelled files in the report",
    )
    out.add_argument(
        "--traceback",
        action="store_true",
        help="after the report, print the full exception-group traceback",
    )
    out.add_argument("--no-progress", action="store_true", help="no live view on stderr")
    out.add_argument(
        "-q",
        "--quiet",
        action="store_true",
        help="nothing on stderr: no live view, no failure report",
    )
    p.add_argument(
        "--demo",
        action="store_true",
        help="count the tutorial's sample files, slowly, to watch it work",
    )
    p.add_argument("-V", "--version", action="version", version=f"linetally {__version__}")
    return p


# -- inputs -------------------------------------------------------------------


def _open_list(parser: argparse.ArgumentParser, name: str, option: str) -> BinaryIO:
    """Open a file list now, so that a bad one is a usage error before anything is counted."""
    if name == "-":
        if sys.stdin is None:
            parser.error(f"standard input is closed: no file list to read ({option} -)")
        return sys.stdin.buffer
    try:
        stream = open(name, "rb")  # noqa: SIM115 - closed by _read_list
    except OSError as exc:
        parser.error(f"cannot read the file list of {option} {name!r}: {exc.strerror or exc}")
    return stream


class _ListFailed:
    """A file list that failed while it was read: the rest of its paths are unknown."""

    def __init__(self, option: str, name: str, error: OSError) -> None:
        self.message = (
            f"linetally: error: could not read the whole file list of {option} {name!r}: "
            f"{error.strerror or error}; the result covers the paths read before\n"
        )


def _read_list(
    stream: BinaryIO, sep: bytes, option: str, name: str, failures: list[_ListFailed]
) -> Iterator[str]:
    """Stream paths from a file list; names are bytes on disk, so decode like os does.

    A read error ends the list (recorded in ``failures``): what was counted is
    still reported, and the command says the list was cut short.
    """
    try:
        yield from _list_paths(stream, sep)
    except OSError as exc:
        failures.append(_ListFailed(option, name, exc))
    finally:
        if stream is not sys.stdin.buffer:
            stream.close()


def _list_paths(stream: BinaryIO, sep: bytes) -> Iterator[str]:
    """The paths in a list, separated by ``sep`` (with ``\\r\\n`` line ends too)."""
    pending = b""
    while chunk := stream.read1(1 << 16) if hasattr(stream, "read1") else stream.read(1 << 16):
        parts = (pending + chunk).split(sep)
        pending = parts.pop()
        for part in parts:
            if sep == b"\n":
                part = part.removesuffix(b"\r")
            if part:
                yield os.fsdecode(part)
    if pending.removesuffix(b"\r" if sep == b"\n" else b""):
        yield os.fsdecode(pending.removesuffix(b"\r") if sep == b"\n" else pending)


def _roots(args: argparse.Namespace) -> Iterable[str]:
    roots: list[Iterable[str]] = [args.paths]
    failures = args.list_failures
    if args.files_from is not None:
        stream = args.files_from_stream
        roots.append(_read_list(stream, b"\n", "--files-from", args.files_from, failures))
    if args.files0_from is not None:
        stream = args.files0_from_stream
        roots.append(_read_list(stream, b"\0", "--files0-from", args.files0_from, failures))
    if not args.paths and args.files_from is None and args.files0_from is None:
        roots = [["."]]
    return (root for group in roots for root in group)


def _parse(parser: argparse.ArgumentParser, argv: Sequence[str] | None) -> argparse.Namespace:
    """Options and paths in any order; ``--`` ends the options.

    parse_intermixed_args mishandles a ``--`` that comes before every path, so
    what follows the first ``--`` is taken as paths here.
    """
    argv = list(sys.argv[1:] if argv is None else argv)
    rest: list[str] = []
    if "--" in argv:
        at = argv.index("--")
        argv, rest = argv[:at], argv[at + 1 :]
    args = parser.parse_intermixed_args(argv)
    args.paths = [*args.paths, *rest]
    return args


def _refuse(parser: argparse.ArgumentParser, args: argparse.Namespace) -> None:
    """Options that would do nothing together: a usage error that says why."""
    given = {
        "--sort": args.sort != "none",
        "--top": args.top is not None,
        "--reverse": args.reverse,
        "--summary": args.summary,
        "--verbose": args.verbose,
        "--traceback": args.traceback,
    }
    if args.format == "jsonl":
        for flag in ("--sort", "--top", "--reverse", "--summary", "--verbose", "--traceback"):
            if given[flag]:
                parser.error(
                    f"{flag} does not apply to --format jsonl: it streams each file as it is "
                    "counted, in completion order, and keeps no results (use --format json)"
                )
    if args.summary:
        if args.format == "csv":
            parser.error("--summary has no csv form: csv is one row per file (use json or table)")
        for flag in ("--sort", "--top", "--reverse"):
            if given[flag] and args.format == "table":
                parser.error(
                    f"{flag} does not apply to --summary: the table then shows no rows, "
                    "only totals (with --format json it orders the files)"
                )
    classified = args.languages or (args.by or "").startswith("language")
    if args.docstrings is not None and not classified:
        parser.error("--docstrings applies only with --languages: nothing is classified without it")
    if args.files and args.by is None and not args.languages:
        parser.error("--files lists files under their group: it needs --languages or --by")
    if args.files and args.format != "table":
        parser.error(f"--files applies to the table: --format {args.format} lists every file")
    if args.by is not None and args.format in ("jsonl", "csv"):
        parser.error(
            f"--by has no {args.format} form: {args.format} is one record per file "
            "(use json or the table)"
        )
    if args.quiet:
        for flag in ("--verbose", "--traceback"):
            if given[flag]:
                parser.error(f"{flag} does not apply with --quiet: nothing is written on stderr")
    if args.fail_fast and args.on_error == "continue":
        parser.error("--fail-fast contradicts --on-error continue: give one of them")
    if args.demo and (args.paths or args.files_from is not None or args.files0_from is not None):
        parser.error("--demo counts its own sample files: give it no PATH or file list")
    paced = args.demo or args.delay or args.timeout is not None
    if args.processes and paced:
        parser.error(
            "--processes does not apply with --delay, --timeout or --demo: each file is then "
            "read in a thread of its own, to pace or time it"
        )


def _is_url(path: str) -> bool:
    from ._urls import is_url

    return is_url(path)


def _check_usage(parser: argparse.ArgumentParser, args: argparse.Namespace) -> None:
    if sys.stdout is None:
        parser.error("standard output is closed: nowhere to write the result")
    stdin_users = [args.files_from == "-", args.files0_from == "-", "-" in args.paths]
    if sum(stdin_users) > 1:
        parser.error(
            "standard input can be used only once (PATH -, --files-from -, --files0-from -)"
        )
    if args.paths.count("-") > 1:
        parser.error("standard input can be used only once (PATH -)")
    _refuse(parser, args)
    if args.glob:
        from ._walk import walk

        try:
            walk((), globs=tuple(args.glob))  # checks the patterns, walks nothing
        except ValueError as exc:
            parser.error(str(exc))
    urls = [path for path in args.paths if _is_url(path)]
    if args.storage_option or urls:
        from ._remote import check_url, storage_options

        try:
            args.storage_options = storage_options(args.storage_option)
        except ValueError as exc:
            parser.error(str(exc))
        for url in urls:
            if (problem := check_url(url)) is not None:
                parser.error(f"{url}: {problem}")
    if args.encoding is not None:
        import codecs

        try:
            codecs.lookup(args.encoding)
        except LookupError:
            parser.error(f"unknown encoding: {args.encoding!r}")
    try:
        args.options = _options(args)
    except (ValueError, LookupError) as exc:
        parser.error(str(exc))
    # Last: a file list that is opened must be closed, and a usage error above exits.
    args.files_from_stream = args.files0_from_stream = None
    args.list_failures = []
    if args.files_from is not None:
        args.files_from_stream = _open_list(parser, args.files_from, "--files-from")
    if args.files0_from is not None:
        args.files0_from_stream = _open_list(parser, args.files0_from, "--files0-from")


def _options(args: argparse.Namespace) -> Options:
    """The library's options for this command line (its checks are the library's)."""
    from ._options import Options

    delay, jobs = args.delay, args.jobs
    if args.demo:
        from ._demo import DEMO_DELAY, DEMO_FILES

        # Slow enough to watch, and every row grows at once.
        delay = DEMO_DELAY if delay is None else delay
        jobs = len(DEMO_FILES) if jobs is None else jobs
    return Options(
        jobs=jobs,
        on_error="cancel" if args.fail_fast else (args.on_error or "continue"),
        encoding=args.encoding if args.encoding is not None or not args.demo else "utf-8",
        binary=args.binary,
        timeout=args.timeout,
        max_lines=args.max_lines,
        delay=delay or 0.0,
        keep_results=args.format != "jsonl",
        processes=args.processes,
        languages=args.languages or (args.by or "").startswith("language"),
        docstrings=args.docstrings or "code",
        scheduler=args.scheduler,
        decompress=args.decompress,
        storage_options=getattr(args, "storage_options", None),
    )


# -- running ------------------------------------------------------------------


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``linetally`` command; returns the exit status."""
    import signal

    _ensure_stderr()
    parser = build_parser()
    args = _parse(parser, argv)
    _check_usage(parser, args)
    if args.by is not None and args.by.startswith("language"):
        args.languages = True
    previous = signal.getsignal(signal.SIGINT)
    try:
        return _main(args)
    except BrokenPipeError:
        # The reader went away (``| head``): end quietly.
        _drop(sys.stdout)
        return EXIT_OK
    except _OutputFailed as failed:
        _drop(sys.stdout)
        exc = failed.__cause__
        why = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
        _say(f"linetally: error: cannot write the result to standard output: {why}\n")
        return EXIT_FAILED
    finally:
        signal.signal(signal.SIGINT, previous)


class _OutputFailed(Exception):
    """Standard output could not be written (its OSError is the cause)."""


def _ensure_stderr() -> None:
    """With descriptor 2 closed, put /dev/null there: stdout still gets the whole result.

    Taking the descriptor also keeps a file opened later from landing on 2.
    """
    if sys.stderr is not None:
        return
    fd = os.open(os.devnull, os.O_WRONLY | os.O_CLOEXEC)
    if fd != 2:
        os.dup2(fd, 2, inheritable=False)
        os.close(fd)
    sys.stderr = open(2, "w", closefd=False)  # noqa: SIM115 - the process's stderr


def _drop(stream: TextIO) -> None:
    """Point ``stream`` at /dev/null so the interpreter's final flush doesn't complain."""
    with contextlib.suppress(OSError, ValueError, AttributeError):
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, stream.fileno())
        os.close(devnull)


def _say(text: str) -> None:
    """Write to stderr; if even that fails, there is no one left to tell."""
    with contextlib.suppress(OSError, ValueError):
        sys.stderr.write(text)
        sys.stderr.flush()


def _exit_now(signum: int, frame: object) -> None:
    """Ctrl-C once the count is over (the report is being written): out at once."""
    _restore_terminal()
    os._exit(EXIT_INTERRUPTED)


def _main(args: argparse.Namespace) -> int:
    from ._fork import release_spares

    try:
        _prefork(args)
        return _count(args)
    finally:
        release_spares()


def _prefork(args: argparse.Namespace) -> None:
    """Fork the counting processes now, on Linux, if the run may use them (see _fork).

    Before the event loop and its threads exist, with the modules they need
    imported: each starts in a millisecond, where a new interpreter costs 0.1 s
    of CPU, and on its first directory at once (see _fork.start_early).
    """
    import threading

    n = args.options.effective_processes
    if not n or sys.platform != "linux" or threading.active_count() != 1:
        return
    local_dirs = [p for p in args.paths or ["."] if not _is_url(p) and os.path.isdir(p)]
    if not local_dirs and args.files_from is None and args.files0_from is None:
        return
    # _fork brings the walk, the reader and the worker (not asyncio: the processes
    # start before this process imports it); what the processes would otherwise
    # each import on their own is imported here. (Not pathspec: _gitignore reads
    # the usual ignore lines itself, and leaves it to the rare line that needs it.)
    from ._fork import prefork

    if args.options.languages:
        from . import _classify, _languages  # noqa: F401

    # Directories only: walk into them far enough to find a few directories for
    # each process, which starts on them as it is forked, while the event loop
    # starts here. Walked before the fork: the ignore files above the folders are
    # compiled once, here, and the processes find the regexes in re's cache.
    from ._walk import Walk

    lists = args.files_from is not None or args.files0_from is not None
    walk = None
    if not (args.demo or args.follow or lists or len(local_dirs) != len(args.paths or ["."])):
        args.walk = _walk_of(args)
        walk = args.walk if isinstance(args.walk, Walk) else None
    units = walk.walk_ahead(n * _EARLY_UNITS, _AHEAD) if walk is not None else []
    prefork(n)
    if walk is not None:
        from ._fork import start_early

        options = args.options
        start_early(
            options.read_settings(), units, walk.settings, stop_early=options.on_error == "cancel"
        )


def _walk_of(args: argparse.Namespace) -> Iterator[Entry]:
    from ._walk import walk

    return walk(
        _roots(args),
        hidden=args.hidden,
        ignore=not args.no_ignore,
        globs=tuple(args.glob),
        follow=args.follow,
        storage_options=getattr(args, "storage_options", None),
    )


def _count(args: argparse.Namespace) -> int:
    from ._stdio import import_asyncio

    import_asyncio()  # first here: the counting processes are forked already
    import asyncio

    from ._engine import Run
    from ._output import json_renderer, prepare_streams

    prepare_streams(sys.stdout, sys.stderr)
    demo_dir = None
    if args.demo:
        from ._demo import write_demo

        demo_dir, demo_paths = write_demo()
        # Count from inside the folder, so the rows show the plain file names.
        previous = os.getcwd()
        os.chdir(demo_dir.name)
        args.paths = demo_paths
    try:
        entries = getattr(args, "walk", None) or _walk_of(args)
        run = Run(entries, args.options)
        run._on_columns = json_renderer(args)
        cluster_errors: tuple[type[Exception], ...] = ()
        if args.scheduler is not None:
            from ._cluster import ClusterError

            cluster_errors = (ClusterError,)
        try:
            report = asyncio.run(_drive(run, args))
        except cluster_errors as exc:  # unreachable, no workers, other versions: before counting
            sys.stderr.write(f"linetally: error: {exc}\n")
            return EXIT_USAGE
        return _finish(report, args)
    finally:
        if demo_dir is not None:
            os.chdir(previous)
            demo_dir.cleanup()


def _live_wanted(args: argparse.Namespace) -> bool:
    # Where rich would not draw one either: a dumb terminal, or one said not to be.
    term = os.environ.get("TERM", "").strip().lower()
    return (
        not (args.no_progress or args.quiet)
        and sys.stderr.isatty()
        and term not in ("dumb", "unknown")
        and os.environ.get("TTY_COMPATIBLE") != "0"
    )


async def _drive(run: Run, args: argparse.Namespace) -> Report:
    """Run the count, drawing the live view and handling Ctrl-C; return the report."""
    import asyncio
    import signal

    loop = asyncio.get_running_loop()

    def on_sigint() -> None:
        if run.interrupted:
            # A second Ctrl-C: out at once, leaving the terminal usable.
            _restore_terminal()
            os._exit(EXIT_INTERRUPTED)
        run.stop()

    loop.add_signal_handler(signal.SIGINT, on_sigint)
    live = _LiveView(run) if _live_wanted(args) else None
    try:
        # aclosing: whatever ends the loop (a closed pipe, a bug), the run is
        # stopped and awaited here, inside the event loop, before it closes.
        if args.format == "jsonl":
            from ._output import jsonl_line

            out = sys.stdout
            line = functools.partial(
                jsonl_line, languages=bool(args.languages), decompress=args.decompress
            )
            async with contextlib.aclosing(run.batches()) as batches:
                try:
                    async for batch in batches:
                        out.write("".join(map(line, batch)))
                        out.flush()  # streamed: each batch as soon as it is counted
                except BrokenPipeError:
                    raise
                except OSError as exc:
                    raise _OutputFailed from exc
        else:
            await run.complete()
    finally:
        if live is not None:
            await live.stop()
        loop.remove_signal_handler(signal.SIGINT)
        signal.signal(signal.SIGINT, _exit_now)
    return run.report()


class _LiveView:
    """The live view on stderr, redrawn by a task of the event loop at most 20 times a second.

    The snapshot is taken on the event loop's thread, between two steps of the
    run, so it is consistent; the reading threads and processes never wait for
    it. Each frame is written at once over the last one, as rich's ``Live``
    does: back up over the lines drawn before, erasing each; the cursor is
    hidden meanwhile, and at the end the view is erased and the cursor shown,
    leaving nothing behind. The frames are made by ``_render.live_frame``,
    without rich, whose import and rendering cost a short run more than the
    rest of the view.
    """

    def __init__(self, run: Run) -> None:
        import asyncio

        self._run = run
        self._drawn = 0
        self._task = asyncio.create_task(self._redraw())

    async def _redraw(self) -> None:
        import asyncio

        from ._render import live_frame

        color = not os.environ.get("NO_COLOR")
        out = sys.stderr
        out.write(_HIDE_CURSOR)
        while True:
            width, height = _terminal_size(out)
            lines = live_frame(
                self._run.snapshot(), width=width, height=max(3, height - 1), color=color
            )
            del lines[: max(0, len(lines) - height)]  # a terminal of a line or two: the last
            out.write(self._erase() + "\n".join(lines))
            out.flush()
            self._drawn = len(lines)
            await asyncio.sleep(_REFRESH)

    def _erase(self) -> str:
        """Back to the start of the frame drawn last, erasing its lines."""
        if not self._drawn:
            return ""
        return "\r\x1b[2K" + "\x1b[1A\x1b[2K" * (self._drawn - 1)

    async def stop(self) -> None:
        import asyncio

        self._task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self._task
        with contextlib.suppress(OSError):  # the terminal is gone: nothing to erase
            sys.stderr.write(self._erase() + _SHOW_CURSOR)
            sys.stderr.flush()
        self._drawn = 0


def _terminal_size(stream: TextIO) -> tuple[int, int]:
    """Columns and lines of the terminal behind ``stream`` (COLUMNS and LINES win, as in rich)."""
    try:
        width, height = os.get_terminal_size(stream.fileno())
    except (OSError, ValueError):
        width, height = 80, 25
    columns, lines = os.environ.get("COLUMNS", ""), os.environ.get("LINES", "")
    return (
        int(columns) if columns.isdigit() else width,
        int(lines) if lines.isdigit() else height,
    )


def _restore_terminal() -> None:
    if sys.stderr.isatty():
        with contextlib.suppress(OSError):
            os.write(sys.stderr.fileno(), b"\x1b[?25h\n")


def _finish(report: Report, args: argparse.Namespace) -> int:
    from ._output import write_output

    try:
        write_output(report, args, sys.stdout)
        sys.stdout.flush()
    except BrokenPipeError:
        raise
    except OSError as exc:
        raise _OutputFailed from exc
    if not args.quiet:
        # stderr may be full or gone: the result is out, and the status says the rest.
        try:
            _write_report(report, args, sys.stderr)
        except OSError:
            _drop(sys.stderr)
    for failed in args.list_failures:
        _say(failed.message)
    if report.interrupted:
        return EXIT_INTERRUPTED
    return EXIT_FAILED if report.totals.errors or args.list_failures else EXIT_OK


def _write_report(report: Report, args: argparse.Namespace, stream: TextIO) -> None:
    from ._output import write_failure_report

    write_failure_report(report, args, stream)
    if args.traceback and report.failures:
        import traceback

        try:
            report.raise_for_errors()
        except ExceptionGroup as group:
            stream.write("\n")
            stream.write("".join(traceback.format_exception(group)))
    if report.interrupted:
        stream.write("linetally: interrupted: the results above are partial\n")
