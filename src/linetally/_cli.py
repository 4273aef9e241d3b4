"""The ``linetally`` command: the only place that prints, draws or exits.

Exit status: 0 when no file failed (skipped files are fine), 1 when any file
failed or broke ``--max-lines``, 2 for a usage error, 130 after Ctrl-C.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import sys
from collections.abc import Callable, Iterable, Iterator, Sequence
from typing import TYPE_CHECKING, NoReturn, TextIO

from ._version import __version__

if TYPE_CHECKING:
    from ._engine import Run
    from ._model import Report

__all__ = ["main"]

EXIT_OK = 0
EXIT_FAILED = 1
EXIT_USAGE = 2
EXIT_INTERRUPTED = 130

_REFRESH = 1 / 20

EPILOG = """\
examples:
  linetally                          count every file below the current folder
  linetally src tests --sort lines   largest files last
  linetally --max-lines 500 src      fail (exit 1) when a file has more than 500 lines
  linetally -g '*.py' -g '!tests/' . only .py files, not under tests/
  git ls-files -z | linetally --files0-from -
  linetally --format json . | jq .totals
  linetally --demo                   watch the tutorial's files being counted

exit status: 0 no file failed, 1 a file failed, 2 usage error, 130 interrupted
"""


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        # One clear line on stderr, no usage dump, no traceback.
        self.exit(EXIT_USAGE, f"linetally: error: {message} (see linetally --help)\n")


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


def _seconds(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number of seconds: {text!r}") from None
    if not value >= 0 or value == float("inf"):
        raise argparse.ArgumentTypeError(f"must be 0 or more seconds: {text!r}")
    return value


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
        formatter_class=argparse.RawDescriptionHelpFormatter,
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
        default="continue",
        help="on a failure, go on with the other files (default) or cancel them",
    )
    cnt.add_argument(
        "--fail-fast",
        action="store_const",
        const="cancel",
        dest="on_error",
        help="same as --on-error cancel",
    )
    cnt.add_argument(
        "--timeout", type=_seconds, metavar="S", help="a file taking longer than S seconds fails"
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
        "--delay",
        type=_seconds,
        default=None,
        metavar="S",
        help="pause S seconds per line, to watch (demo pacing)",
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


def _read_list(name: str, sep: bytes) -> Iterator[str]:
    """Stream paths from a file list; names are bytes on disk, so decode like os does."""
    stream = sys.stdin.buffer if name == "-" else open(name, "rb")  # noqa: SIM115
    try:
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
    finally:
        if stream is not sys.stdin.buffer:
            stream.close()


def _roots(args: argparse.Namespace) -> Iterable[str]:
    roots: list[Iterable[str]] = [args.paths]
    if args.files_from is not None:
        roots.append(_read_list(args.files_from, b"\n"))
    if args.files0_from is not None:
        roots.append(_read_list(args.files0_from, b"\0"))
    if not args.paths and args.files_from is None and args.files0_from is None:
        roots = [["."]]
    return (root for group in roots for root in group)


def _check_usage(parser: argparse.ArgumentParser, args: argparse.Namespace) -> None:
    stdin_users = [args.files_from == "-", args.files0_from == "-", "-" in args.paths]
    if sum(stdin_users) > 1:
        parser.error(
            "standard input can be used only once (PATH -, --files-from -, --files0-from -)"
        )
    if args.paths.count("-") > 1:
        parser.error("standard input can be used only once (PATH -)")
    if sys.stdin is None and "-" in (args.files_from, args.files0_from):
        parser.error("standard input is closed: no file list to read")
    for name in (args.files_from, args.files0_from):
        if name is not None and name != "-" and not os.path.exists(name):
            parser.error(f"no such file list: {name!r}")
    if args.glob:
        from ._walk import walk

        try:
            walk((), globs=tuple(args.glob))  # checks the patterns, walks nothing
        except ValueError as exc:
            parser.error(str(exc))
    if args.encoding is not None:
        import codecs

        try:
            codecs.lookup(args.encoding)
        except LookupError:
            parser.error(f"unknown encoding: {args.encoding!r}")


# -- running ------------------------------------------------------------------


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``linetally`` command; returns the exit status."""
    import signal

    parser = build_parser()
    args = parser.parse_args(argv)
    _check_usage(parser, args)
    previous = signal.getsignal(signal.SIGINT)
    try:
        return _main(args)
    except BrokenPipeError:
        # The reader went away (``| head``): end quietly. Point stdout at
        # /dev/null so the interpreter's final flush doesn't complain.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return EXIT_OK
    finally:
        signal.signal(signal.SIGINT, previous)


def _exit_now(signum: int, frame: object) -> None:
    """Ctrl-C once the count is over (the report is being written): out at once."""
    _restore_terminal()
    os._exit(EXIT_INTERRUPTED)


def _main(args: argparse.Namespace) -> int:
    import asyncio

    from ._engine import Options, Run
    from ._walk import walk

    demo_dir = None
    if args.demo:
        from ._demo import write_demo

        demo_dir, demo_paths = write_demo()
        # Count from inside the folder, so the rows show the plain file names.
        previous = os.getcwd()
        os.chdir(demo_dir.name)
        args.paths = demo_paths
        if args.delay is None:
            args.delay = 0.03
        if args.jobs is None:
            args.jobs = len(demo_paths)  # every row grows at once
        if args.encoding is None:
            args.encoding = "utf-8"
    try:
        options = Options(
            jobs=args.jobs,
            on_error=args.on_error,
            encoding=args.encoding,
            binary=args.binary,
            timeout=args.timeout or None,
            max_lines=args.max_lines,
            delay=args.delay or 0.0,
            keep_results=args.format != "jsonl",
            processes=args.processes,
        )
        entries = walk(
            _roots(args),
            hidden=args.hidden,
            ignore=not args.no_ignore,
            globs=tuple(args.glob),
            follow=args.follow,
        )
        run = Run(entries, options)
        report = asyncio.run(_drive(run, args))
        return _finish(report, args)
    finally:
        if demo_dir is not None:
            os.chdir(previous)
            demo_dir.cleanup()


def _live_wanted(args: argparse.Namespace) -> bool:
    return not (args.no_progress or args.quiet) and sys.stderr.isatty()


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
        async with contextlib.aclosing(run.batches()) as batches:
            if args.format == "jsonl":
                from ._output import jsonl_line

                out = sys.stdout
                async for batch in batches:
                    out.write("".join(map(jsonl_line, batch)))
                    out.flush()  # streamed: each batch as soon as it is counted
            else:
                async for _ in batches:
                    pass
    finally:
        if live is not None:
            await live.stop()
        loop.remove_signal_handler(signal.SIGINT)
        signal.signal(signal.SIGINT, _exit_now)
    return run.report()


class _LiveView:
    """The live view on stderr, redrawn by a task of the event loop at most 20 times a second.

    The snapshot is taken on the event loop's thread, between two steps of the
    run, so it is consistent; the reading threads and processes never wait for it.
    """

    def __init__(self, run: Run) -> None:
        import asyncio

        from rich.console import Console
        from rich.live import Live

        self._run = run
        self._console = Console(file=sys.stderr, highlight=False)
        self._live = Live(
            console=self._console,
            auto_refresh=False,
            transient=True,
            redirect_stdout=False,
            redirect_stderr=False,
        )
        self._live.start()
        self._task = asyncio.create_task(self._redraw())

    async def _redraw(self) -> None:
        import asyncio

        from ._render import live_view

        while True:
            size = self._console.size
            view = live_view(self._run.snapshot(), width=size.width, height=max(3, size.height - 1))
            self._live.update(view, refresh=True)
            await asyncio.sleep(_REFRESH)

    async def stop(self) -> None:
        import asyncio

        self._task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self._task
        self._live.stop()


def _restore_terminal() -> None:
    if sys.stderr.isatty():
        with contextlib.suppress(OSError):
            os.write(sys.stderr.fileno(), b"\x1b[?25h\n")


def _finish(report: Report, args: argparse.Namespace) -> int:
    from ._output import write_output

    write_output(report, args, sys.stdout)
    if not args.quiet:
        _write_report(report, args, sys.stderr)
    if report.interrupted:
        return EXIT_INTERRUPTED
    return EXIT_FAILED if report.totals.errors else EXIT_OK


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
