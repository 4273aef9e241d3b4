"""Turn linetally's data (snapshots, results, totals) into rich renderables and plain lines.

This is the only module of linetally that imports rich, and it is pure: every
function maps data to something printable, and the caller (the CLI) owns the
console, the live display and all I/O. rich is imported only when a renderable
is drawn: the live view's frames (:func:`live_frame`) are made without it.

Every file name and every exception message goes through :func:`display_path`
before it is shown, and never through rich's markup parser: a name is data,
so ``[bold red]`` in a name prints as those eleven characters and an ESC in a
name prints as ``\\x1b``, leaving the terminal alone.

The big outputs (a table of 100,000 files) are built as lines of pre-aligned
``(text, style)`` pieces rather than rich ``Table`` objects, which would take
seconds; the same lines serve the styled renderable and the plain ``*_lines``
variants, so both show the same thing.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from typing import TYPE_CHECKING, Final

from ._errors import BinaryFileError, TooManyLines, describe
from ._model import FileResult, LanguageTotals, Row, Snapshot, Status, Totals

if TYPE_CHECKING:
    from rich.console import Console, ConsoleOptions, RenderableType, RenderResult
    from rich.style import Style

__all__ = [
    "display_path",
    "failure_report",
    "failure_report_lines",
    "groups_lines",
    "groups_table",
    "human_bytes",
    "human_count",
    "live_frame",
    "live_view",
    "results_lines",
    "results_table",
    "summary",
    "summary_lines",
]

BAR: Final = "□"
"""The cell that bars are made of, as in the tutorial's animation."""

_ELLIPSIS: Final = "…"

# Styles (rich style strings, resolved once per render).
_S_HEAD: Final = "bold"
_S_BAR: Final = "cyan"
_S_BAR_DONE: Final = "green"
_S_FAIL: Final = "bold red"
_S_FAIL_BAR: Final = "red"
_S_WARN: Final = "yellow"
_S_WARN_HEAD: Final = "bold yellow"
_S_DIM: Final = "dim"

_SGR: Final = {
    _S_HEAD: "1",
    _S_BAR: "36",
    _S_BAR_DONE: "32",
    _S_FAIL: "1;31",
    _S_FAIL_BAR: "31",
    _S_WARN: "33",
    _S_WARN_HEAD: "1;33",
    _S_DIM: "2",
}
"""The live view's styles as ANSI SGR parameters, as rich writes them on a colour
terminal (basic colours have these codes in all of its colour systems); a test
holds them to rich's."""
_SGR_NO_COLOR: Final = {
    style: ";".join([p for p in code.split(";") if not p.startswith("3")])  # 30-37: colours
    for style, code in _SGR.items()
}
"""The same without colours (bold and dim stay), as rich writes them when NO_COLOR is set."""

_ONE_CELL: Final = frozenset(map(chr, range(0x20, 0x7F))) | frozenset(BAR + _ELLIPSIS + "·✓✗")
"""Characters one cell wide whatever the terminal: printable ASCII and this module's glyphs."""


def cell_len(text: str) -> int:
    """Terminal cells taken by ``text``, as rich counts them.

    Names and numbers are nearly always printable ASCII: for those (and this
    module's own glyphs) it is the length, without importing rich's width
    tables, which the live view would otherwise load in its first frame.
    """
    if _ONE_CELL.issuperset(text):
        return len(text)
    from rich.cells import cell_len as rich_cell_len

    return rich_cell_len(text)


# -- safe text -----------------------------------------------------------------


@functools.cache
def _escapes() -> dict[int, str]:
    """The translate table of :func:`display_path`, built on first need (it has 2,000+ keys)."""
    named = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}
    table: dict[int, str] = {}
    # C0, DEL and C1 controls: terminal state changers.
    for code in (*range(0x20), *range(0x7F, 0xA0)):
        table[code] = named.get(chr(code), f"\\x{code:02x}")
    # Lone surrogates: surrogateescape'd bytes show as the byte, others as themselves.
    for code in range(0xD800, 0xE000):
        table[code] = f"\\x{code - 0xDC00:02x}" if 0xDC80 <= code <= 0xDCFF else f"\\u{code:04x}"
    # Bidi controls (they reorder what follows: "Trojan Source"), line and
    # paragraph separators, and invisible format characters that would make
    # two different names look the same.
    for code in (
        0x061C,
        0x200B,
        0x200E,
        0x200F,
        *range(0x2028, 0x202F),
        *range(0x2060, 0x2065),
        *range(0x2066, 0x2070),
        0xFEFF,
        *range(0xFFF9, 0xFFFC),
    ):
        table[code] = f"\\u{code:04x}"
    return table


def display_path(path: str) -> str:
    r"""Return ``path`` as safe, visible text: what to print for a file name.

    Control characters (C0, DEL, C1) become escapes such as ``\n``, ``\r``,
    ``\t``, ``\x1b``, ``\x07``, ``\x7f``, ``\x9b``; lone surrogates (bytes
    that were not UTF-8, decoded with surrogateescape) become ``\xNN`` with
    the original byte; bidi controls and invisible separators become
    ``\uNNNN``. Everything else, backslashes included, is kept as it is, so
    ordinary names read as they are. The result holds no character that can
    change a terminal's state or encode badly, and it is meant to be shown as
    plain text, never parsed as markup. Exception messages go through it too.
    """
    if path.isprintable():
        # Every escaped character is non-printable, so this is the common fast path.
        return path
    return path.translate(_escapes())


def _safe_reason(exc: BaseException) -> str:
    return display_path(describe(exc))


# -- numbers -------------------------------------------------------------------


def human_count(n: int) -> str:
    """Format a count with thousands separators (``1,234,567``): exact, and easy to read."""
    return f"{n:,}"


def human_bytes(n: int) -> str:
    """Format a size in bytes with binary units (``512 B``, ``3.1 KiB``, ``12.0 MiB``)."""
    if abs(n) < 1024:
        return f"{n} B"
    value = float(n)
    for unit in ("KiB", "MiB", "GiB", "TiB", "PiB"):
        value /= 1024
        if abs(round(value, 1)) < 1024 or unit == "PiB":
            return f"{value:.1f} {unit}"
    raise AssertionError("unreachable")  # pragma: no cover


def _compact(n: float) -> str:
    """A short approximate count for rates: 987, 12.3k, 4.5M."""
    for limit, suffix in ((1e9, "G"), (1e6, "M"), (1e3, "k")):
        if n >= limit:
            return f"{n / limit:.1f}{suffix}"
    return f"{n:.0f}"


def _duration(seconds: float) -> str:
    if seconds < 60:
        return f"{seconds:.1f} s"
    whole = int(seconds)
    hours, rest = divmod(whole, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"


def _plural(n: int, one: str, many: str) -> str:
    return f"{human_count(n)} {one if n == 1 else many}"


# -- cell-aware cutting and padding ---------------------------------------------


def _cut_left(text: str, width: int, cells: int | None = None) -> str:
    """Fit ``text`` into ``width`` cells keeping its end (``…/module.py``)."""
    if cells is None:
        cells = cell_len(text)
    if cells <= width:
        return text
    if width <= 1:
        return _ELLIPSIS[:width]
    room = width - 1
    if cells == len(text):
        return _ELLIPSIS + text[len(text) - room :]
    # Wide characters: find the longest suffix that fits (suffix width only grows).
    lo, hi = 0, len(text)  # cell_len(text[hi:]) == 0 fits; find the smallest start that fits
    while lo < hi:
        mid = (lo + hi) // 2
        if cell_len(text[mid:]) <= room:
            hi = mid
        else:
            lo = mid + 1
    return _ELLIPSIS + text[lo:]


def _cut_right(text: str, width: int) -> str:
    """Fit ``text`` into ``width`` cells keeping its start (``a long reas…``)."""
    cells = cell_len(text)
    if cells <= width:
        return text
    if width <= 1:
        return _ELLIPSIS[:width]
    room = width - 1
    if cells == len(text):
        return text[:room] + _ELLIPSIS
    lo, hi = 0, len(text)
    while lo < hi:
        mid = (lo + hi + 1) // 2
        if cell_len(text[:mid]) <= room:
            lo = mid
        else:
            hi = mid - 1
    return text[:lo] + _ELLIPSIS


def _fit(text: str, width: int, cells: int) -> str:
    """``text`` cut from the left or padded with spaces to exactly ``width`` cells."""
    if cells <= width:
        return text + " " * (width - cells)
    cut = _cut_left(text, width, cells)
    return cut + " " * (width - cell_len(cut))


def _bar(value: int, top: int, width: int) -> str:
    """A bar of ``width * value / top`` cells, at least one for a nonzero value."""
    if value <= 0 or top <= 0 or width <= 0:
        return ""
    return BAR * max(1, min(width, (value * width + top // 2) // top))


# -- the renderable ----------------------------------------------------------------

_Piece = tuple[str, str]
"""Some text and its rich style string ("" for none)."""
_Line = Sequence[_Piece]


def _plain(lines: Iterable[_Line]) -> Iterator[str]:
    for line in lines:
        yield "".join([text for text, _ in line]).rstrip()


class _Lines:
    """A renderable made of prebuilt lines of styled pieces.

    ``build(width)`` lays its lines out for ``width`` cells (the one asked
    for, or the console's if narrower, or the console's if none was asked
    for), and they are emitted as segments directly: much faster than rich's
    ``Table`` or ``Text`` for big outputs. With ``wrap``, a line wider than
    that is wrapped by rich (for prose such as reasons); without, the lines
    are known to fit.
    """

    __slots__ = ("_build", "_width", "_wrap")

    def __init__(
        self, build: Callable[[int], Iterable[_Line]], width: int | None, *, wrap: bool = False
    ) -> None:
        self._build = build
        self._width = width
        self._wrap = wrap

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        from rich.segment import Segment
        from rich.text import Text

        wrap = self._wrap
        width = options.max_width if self._width is None else min(self._width, options.max_width)
        styles: dict[str, Style] = {}

        def style_of(name: str) -> Style:
            style = styles.get(name)
            if style is None:
                style = styles[name] = console.get_style(name)
            return style

        newline = Segment.line()
        for line in self._build(width):
            if wrap and sum(cell_len(text) for text, _ in line) > width:
                wrapped = Text(end="\n")
                for text, style in line:
                    wrapped.append(text, style or None)
                yield wrapped
                continue
            for text, style in line:
                yield Segment(text, style_of(style)) if style else Segment(text)
            yield newline


# -- live view -------------------------------------------------------------------


def _pick_rows(snap: Snapshot, room: int) -> list[Row]:
    """Rows in flight first, then recent and largest finished ones, no path twice."""
    rows = list(snap.active[:room])
    free = room - len(rows)
    if free <= 0:
        return rows
    seen = {row.path for row in rows}

    def fresh(candidates: Iterable[Row]) -> list[Row]:
        out: list[Row] = []
        for row in candidates:
            if len(out) >= free:
                break
            if row.path not in seen:
                seen.add(row.path)
                out.append(row)
        return out

    recent = fresh(snap.recent)
    largest = fresh(snap.largest)
    # Share the free rows between the two lists; one's unused rows go to the other.
    take_largest = min(len(largest), free // 2)
    take_recent = min(len(recent), free - take_largest)
    take_largest = min(len(largest), free - take_recent)
    return rows + recent[:take_recent] + largest[:take_largest]


def _row_tag(row: Row) -> tuple[str, str]:
    if not row.done:
        return "", ""
    if row.status is Status.ERROR:
        return f"✗ {row.error or 'error'}", _S_FAIL
    if row.status is Status.SKIPPED:
        return "skipped", _S_WARN
    if row.status is Status.CANCELLED:
        return "cancelled", _S_WARN
    return "✓", _S_BAR_DONE


def _overall(snap: Snapshot) -> list[_Piece]:
    totals = snap.totals
    found = human_count(snap.found) + ("" if snap.walk_done else "+")
    # Finished files plus what is counted so far of those in flight.
    lines = totals.lines + sum(row.lines for row in snap.active)
    size = totals.bytes + sum(row.bytes for row in snap.active)
    rate = lines / snap.elapsed if snap.elapsed > 0 else 0.0
    sep = (" · ", _S_DIM)
    pieces: list[_Piece] = [
        (f"{human_count(snap.done)}/{found} files", _S_HEAD),
        sep,
        (f"{human_count(lines)} lines", ""),
        sep,
        (human_bytes(size), ""),
        sep,
        (f"{_compact(rate)} lines/s", ""),
        sep,
        (_duration(snap.elapsed), ""),
    ]
    if totals.errors:
        pieces += [sep, (f"{human_count(totals.errors)} failed", _S_FAIL)]
    if snap.interrupted:
        pieces += [sep, ("interrupted", _S_WARN_HEAD)]
    return pieces


def _fit_pieces(pieces: list[_Piece], width: int) -> list[_Piece]:
    """Cut a line of pieces to ``width`` cells, ending it with ``…`` if cut."""
    out: list[_Piece] = []
    left = width
    for text, style in pieces:
        cells = cell_len(text)
        if cells > left:
            out.append((_cut_right(text, left), style))
            break
        out.append((text, style))
        left -= cells
    return out


def live_view(snap: Snapshot, *, width: int, height: int) -> RenderableType:
    """The live progress view as a rich renderable (see :func:`live_frame`)."""
    lines = _live_lines(snap, width, height)
    return _Lines(lambda _width: lines, width)


def live_frame(snap: Snapshot, *, width: int, height: int, color: bool = True) -> list[str]:
    """The live progress view as the lines a terminal shows, styled with ANSI codes.

    The same lines as :func:`live_view`, in the styles rich would write (only
    bold and dim without ``color``, as for NO_COLOR), but made without rich: the
    view is drawn 20 times a second while both cores count, and rich's import
    and rendering took more of a short run than the rest of the view.
    """
    sgr = _SGR if color else _SGR_NO_COLOR
    return [
        "".join([_styled(text, sgr[style]) if style else text for text, style in line])
        for line in _live_lines(snap, width, height)
    ]


def _styled(text: str, code: str) -> str:
    return f"\x1b[{code}m{text}\x1b[0m" if code and text else text


def _live_lines(snap: Snapshot, width: int, height: int) -> list[_Line]:
    """The live view's lines: a growing bar of □ per file, and an overall line.

    Shows the files in flight first, then, if there is room, the latest
    finished and the largest finished ones, at most ``height - 2`` rows so a
    live display never scrolls. As in the tutorial, a bar grows one □ per
    line; once the largest count on screen no longer fits the bar area of
    ``width``, every bar scales down so that it does. The last line sums up the run so
    far: files done of found (``+`` while still walking), lines, bytes, rate,
    elapsed time and failures. Only the rows that fit are built, so it stays
    cheap with thousands of files in flight, 20 times a second.
    """
    rows = _pick_rows(snap, max(0, height - (3 if snap.languages else 2)))
    names = [display_path(row.path) for row in rows]
    cells = [cell_len(name) for name in names]
    counts = [
        human_count(row.lines) if row.lines or row.status in (None, Status.OK) else ""
        for row in rows
    ]
    tags = [_row_tag(row) for row in rows]
    top = max((row.lines for row in rows), default=0)

    count_w = max(map(len, counts), default=0)
    tag_w = max((len(tag) for tag, _ in tags), default=0)
    tail_w = count_w + (tag_w + 1 if tag_w else 0)
    avail = max(0, width - tail_w - 2)
    name_w = min(max(cells, default=0), max(avail // 2, min(20, avail)))
    bar_w = max(0, avail - name_w)

    scale_top = max(top, bar_w)
    lines: list[_Line] = []
    for row, name, name_cells, count, (tag, tag_style) in zip(
        rows, names, cells, counts, tags, strict=True
    ):
        bar = _bar(row.lines, scale_top, bar_w)
        if not row.done:
            bar_style = _S_BAR
        elif row.status is Status.ERROR:
            bar_style = _S_FAIL_BAR
        else:
            bar_style = _S_BAR_DONE
        line: list[_Piece] = [
            (_fit(name, name_w, name_cells) + " ", ""),
            (bar, bar_style),
            (" " * (bar_w - len(bar)) + " " + count.rjust(count_w), ""),
        ]
        if tag:
            line += [(" ", ""), (tag, tag_style)]
        lines.append(line)
    if snap.languages:
        lines.append(_fit_pieces(_languages_line(snap.languages), width))
    lines.append(_fit_pieces(_overall(snap), width))
    return lines


def _languages_line(languages: Sequence[tuple[str, LanguageTotals]]) -> list[_Piece]:
    """The running totals per language, most lines first: ``Python 1,234 (987 code) · ...``."""
    pieces: list[_Piece] = []
    for i, (name, t) in enumerate(languages):
        if i:
            pieces.append((" · ", _S_DIM))
        pieces.append((display_path(name), _S_HEAD))
        pieces.append((f" {human_count(t.lines)}", ""))
        if t.code is not None:
            pieces.append((f" ({human_count(t.code)} code)", _S_DIM))
    return pieces


# -- results table ---------------------------------------------------------------

_STATUS_WORD: Final = {
    Status.ERROR: ("error", _S_FAIL),
    Status.SKIPPED: ("skipped", _S_WARN),
    Status.CANCELLED: ("cancelled", _S_WARN),
}


def _others(totals: Totals) -> list[_Piece]:
    parts: list[_Piece] = []
    for n, word, style in (
        (totals.errors, "failed", _S_FAIL),
        (totals.skipped, "skipped", _S_WARN),
        (totals.cancelled, "cancelled", _S_WARN),
    ):
        if n:
            if parts:
                parts.append((", ", ""))
            parts.append((f"{human_count(n)} {word}", style))
    return parts


def _result_reason(result: FileResult) -> str:
    if result.error is not None:
        return _safe_reason(result.error)
    return display_path(result.reason or result.status.value)


def _over_limit(r: FileResult) -> TooManyLines | None:
    """The failure of a file over ``max_lines``, whose count is known and shown."""
    return r.error if isinstance(r.error, TooManyLines) and r.lines is not None else None


def _table(
    results: Sequence[FileResult], totals: Totals, width: int, cut: bool = True
) -> Iterator[_Line]:
    names = [display_path(r.path) for r in results]
    cells = [cell_len(name) for name in names]
    sizes = [human_bytes(r.bytes) if r.bytes is not None else "" for r in results]
    top = max((r.lines or 0 for r in results if r.status is Status.OK), default=0)
    words = {r.status for r in results if _over_limit(r) is None} - {Status.OK}
    over = max((r.lines or 0 for r in results if _over_limit(r) is not None), default=0)

    label = f"total: {_plural(totals.files, 'file', 'files')}"
    total_bytes = human_bytes(totals.bytes)
    lines_w = max(
        len("lines"),
        len(human_count(max(top, over, totals.lines))),
        *(len(_STATUS_WORD[s][0]) for s in words),
    )
    bytes_w = max(len("bytes"), len(total_bytes), max(map(len, sizes), default=0))
    fixed = 2 + lines_w + 2 + bytes_w
    name_w = max(len("path"), len(label), max(cells, default=0))
    if cut:
        name_w = min(name_w, max(8, width - fixed - 2 - 20))
    bar_w = max(0, width - name_w - fixed - 2)

    yield [(f"{'path':<{name_w}}  {'lines':>{lines_w}}  {'bytes':>{bytes_w}}", _S_HEAD)]
    for r, name, name_cells, size in zip(results, names, cells, sizes, strict=True):
        name = _fit(name, name_w, name_cells) if name_cells != name_w else name
        if r.status is Status.OK:
            lines = r.lines or 0
            bar = _bar(lines, top, bar_w)
            left = f"{name}  {human_count(lines):>{lines_w}}  {size:>{bytes_w}}"
            yield [(left + "  ", ""), (bar, _S_BAR)] if bar else [(left, "")]
        elif (limit := _over_limit(r)) is not None:
            # The count is known: show it, marked as over the limit.
            yield [
                (name + "  ", ""),
                (f"{human_count(r.lines or 0):>{lines_w}}", _S_FAIL),
                (f"  {size:>{bytes_w}}  ", ""),
                (f"error: over the limit of {human_count(limit.limit)} lines", _S_FAIL),
            ]
        else:
            word, style = _STATUS_WORD[r.status]
            reason = _result_reason(r)
            if cut:
                reason = _cut_right(reason, bar_w)
            yield [
                (name + "  " + " " * (lines_w - len(word)), ""),
                (word, style),
                (f"  {size:>{bytes_w}}" + ("  " if reason else ""), ""),
                (reason, _S_DIM),
            ]
    total = f"{label:<{name_w}}  {human_count(totals.lines):>{lines_w}}  {total_bytes:>{bytes_w}}"
    others = _others(totals)
    if not others:
        yield [(total, _S_HEAD)]
    elif sum(cell_len(text) for text, _ in others) <= bar_w or not cut:
        yield [(total, _S_HEAD), ("  ", ""), *others]
    else:
        yield [(total, _S_HEAD)]
        yield _fit_pieces([("  ", ""), *others], width)


def results_table(results: Sequence[FileResult], totals: Totals, *, width: int) -> RenderableType:
    """The default output: a row per file (path, lines, bytes, a bar of □), then a total.

    Bars scale so that the file with the most lines fills the bar column of
    ``width``; failed, skipped and cancelled files show their status and why
    in place of a count. The rows are laid out once and emitted as plain
    segments, so 100,000 files render in well under a second.
    """
    return _Lines(lambda w: _table(results, totals, w), width)


def results_lines(
    results: Sequence[FileResult], totals: Totals, *, width: int, cut: bool = True
) -> Iterator[str]:
    """The same table as :func:`results_table`, as plain safe strings without newlines.

    For output that is not a terminal: no styles, no rich console needed.
    With ``cut`` false (what a pipe gets), paths and reasons are never cut:
    ``width`` then only sizes the bars, and a long path leaves no room for one.
    """
    return _plain(_table(results, totals, width, cut))


# -- summary ---------------------------------------------------------------------


def _totals_line(totals: Totals) -> list[_Piece]:
    pieces: list[_Piece] = [
        (_plural(totals.files, "file", "files"), _S_HEAD),
        (": ", ""),
        (f"{human_count(totals.ok)} ok", ""),
    ]
    others = _others(totals)
    if others:
        pieces += [(", ", ""), *others]
    pieces += [
        (" · ", _S_DIM),
        (f"{human_count(totals.lines)} lines", ""),
        (" · ", _S_DIM),
        (human_bytes(totals.bytes), ""),
    ]
    return pieces


def _bucket(lines: int) -> int:
    """Histogram bucket: 0 for 0 lines, k for 2**(k-1) <= lines < 2**k."""
    return lines.bit_length()


def _bucket_label(k: int) -> str:
    if k <= 1:
        return str(k)
    return f"{human_count(1 << (k - 1))}-{human_count((1 << k) - 1)}"


def _summary(results: Sequence[FileResult], totals: Totals, width: int) -> Iterator[_Line]:
    yield _totals_line(totals)
    counts = sorted(r.lines or 0 for r in results if r.status is Status.OK)
    n = len(counts)
    if not n:
        yield [("no file was counted", _S_DIM)]
        return

    def rank(q: float) -> int:
        # Nearest-rank percentile: always one of the actual counts.
        return counts[max(0, math.ceil(q * n) - 1)]

    stats = (
        ("min", counts[0]),
        ("median", rank(0.5)),
        ("p90", rank(0.9)),
        ("max", counts[-1]),
    )
    line: list[_Piece] = [(f"lines per counted file ({human_count(n)}): ", "")]
    for i, (name, value) in enumerate(stats):
        line += [(" · ", _S_DIM)] if i else []
        line += [(f"{name} ", _S_DIM), (human_count(value), _S_HEAD)]
    yield line

    buckets = [0] * (_bucket(counts[-1]) + 1)
    for value in counts:
        buckets[_bucket(value)] += 1
    first = _bucket(counts[0])
    labels = [_bucket_label(k) for k in range(first, len(buckets))]
    label_w = max(len("lines"), *map(len, labels))
    count_w = max(len("files"), len(human_count(max(buckets))))
    bar_w = max(0, width - label_w - count_w - 4)
    top = max(buckets)
    yield [(f"{'lines':>{label_w}}  {'files':>{count_w}}", _S_DIM)]
    for label, count in zip(labels, buckets[first:], strict=True):
        bar = _bar(count, top, bar_w)
        left = f"{label:>{label_w}}  {human_count(count):>{count_w}}"
        yield [(left + "  ", ""), (bar, _S_BAR)] if bar else [(left, "")]


def summary(results: Sequence[FileResult], totals: Totals, *, width: int) -> RenderableType:
    """For ``--summary``: the totals, then how lines are spread over the counted files.

    Gives the count, min, median, p90 and max of lines per ``ok`` file
    (nearest-rank percentiles, so each is a real file's count), and a
    histogram in powers of two (0, 1, 2-3, 4-7, ...) with a bar per bucket.
    """
    return _Lines(lambda w: _summary(results, totals, w), width, wrap=True)


def summary_lines(results: Sequence[FileResult], totals: Totals, *, width: int) -> Iterator[str]:
    """The same as :func:`summary`, as plain strings without newlines."""
    return _plain(_summary(results, totals, width))


# -- failure report --------------------------------------------------------------


def _files(n: int) -> str:
    return _plural(n, "file", "files")


def _common(values: Iterable[object]) -> object | None:
    distinct = set(values)
    return distinct.pop() if len(distinct) == 1 else None


def _heading(kind: type[BaseException] | None, errors: list[BaseException]) -> str:
    """What a group of failures of one type is, in plain words with its count."""
    n = len(errors)
    are = "is" if n == 1 else "are"
    if kind is None:
        return f"{_files(n)} failed"
    if issubclass(kind, FileNotFoundError):
        return f"{_files(n)} not found"
    if issubclass(kind, UnicodeDecodeError):
        codec = _common(getattr(e, "encoding", None) for e in errors)
        if isinstance(codec, str):
            return f"{_files(n)} {are} not valid {display_path(codec.upper())}"
        return f"{_files(n)} could not be decoded"
    if issubclass(kind, TimeoutError):
        message = _common(str(e) for e in errors)
        if isinstance(message, str) and message.startswith("took longer than"):
            return f"{_files(n)} {display_path(message)}"
        return f"{_files(n)} timed out"
    if issubclass(kind, TooManyLines):
        limit = _common(getattr(e, "limit", None) for e in errors)
        if isinstance(limit, int):
            return f"{_files(n)} over {human_count(limit)} lines"
        return f"{_files(n)} over the line limit"
    if issubclass(kind, IsADirectoryError):
        return "1 file is a directory" if n == 1 else f"{human_count(n)} files are directories"
    if issubclass(kind, PermissionError):
        return f"{_files(n)} could not be read: permission denied"
    if issubclass(kind, BinaryFileError):
        return _plural(n, "binary file", "binary files")
    return f"{_files(n)} failed with {display_path(_type_name(kind))}"


def _type_name(kind: type[BaseException], qualified: bool = False) -> str:
    """A failure's type as a reader knows it: ``OSError``; ``zlib.error``, not ``error``.

    ``qualified`` names the module of any type but the builtins and linetally's own.
    """
    name = kind.__qualname__
    module = ".".join(part.lstrip("_") for part in kind.__module__.split("."))
    if module == "builtins" or module.split(".")[0] == "linetally":
        return name
    return f"{module}.{name}" if qualified or name[:1].islower() else name


def _failure_reason(result: FileResult, heading: str) -> str:
    """One line on what went wrong with this file, not repeating its heading."""
    exc = result.error
    if exc is None:
        return display_path(result.reason or "")
    if isinstance(exc, TooManyLines):
        return f"{human_count(exc.lines)} lines (limit {human_count(exc.limit)})"
    reason = _safe_reason(exc)
    if isinstance(exc, UnicodeDecodeError):
        prefix = f"not valid {display_path(exc.encoding)}: "
        if reason.startswith(prefix):
            reason = reason[len(prefix) :]
    elif isinstance(exc, TimeoutError) and heading.endswith(reason):
        return ""
    return reason


def _group_key(kind: type[BaseException] | None) -> str:
    return "" if kind is None else kind.__name__


def _failures(results: Sequence[FileResult], verbose: bool) -> Iterator[_Line]:
    groups: dict[type[BaseException] | None, list[FileResult]] = {}
    cancelled: dict[str, list[FileResult]] = {}
    skipped: dict[str, list[FileResult]] = {}
    for r in results:
        if r.status is Status.ERROR:
            groups.setdefault(type(r.error) if r.error is not None else None, []).append(r)
        elif r.status is Status.CANCELLED:
            cancelled.setdefault(r.reason or "", []).append(r)
        elif r.status is Status.SKIPPED:
            skipped.setdefault(r.reason or "", []).append(r)

    for kind, members in sorted(groups.items(), key=lambda g: (-len(g[1]), _group_key(g[0]))):
        heading = _heading(kind, [r.error for r in members if r.error is not None])
        head: list[_Piece] = [(heading, _S_FAIL)]
        if verbose and kind is not None:
            full = display_path(_type_name(kind, qualified=True))
            if not heading.endswith(f" {full}"):  # not said already
                head.append((f" ({full})", _S_DIM))
        yield head
        for r in members:
            reason = _failure_reason(r, heading)
            line: list[_Piece] = [("  " + display_path(r.path), "")]
            if reason:
                line += [(": ", ""), (reason, _S_DIM)]
            yield line

    def by_reason(table: dict[str, list[FileResult]]) -> list[tuple[str, list[FileResult]]]:
        return sorted(table.items(), key=lambda g: (-len(g[1]), g[0]))

    for reason, members in by_reason(cancelled):
        n = len(members)
        why = display_path(reason)
        if why.startswith("cancelled"):
            heading = f"{_files(n)} {why}"
        else:
            heading = f"{_files(n)} cancelled" + (f": {why}" if why else "")
        yield [(heading, _S_WARN_HEAD)]
        if verbose:
            yield from ([("  " + display_path(r.path), "")] for r in members)
    for reason, members in by_reason(skipped):
        heading = f"{human_count(len(members))} skipped" + (
            f": {display_path(reason)}" if reason else ""
        )
        yield [(heading, _S_WARN_HEAD)]
        if verbose:
            yield from ([("  " + display_path(r.path), "")] for r in members)


def failure_report(results: Sequence[FileResult], *, verbose: bool = False) -> RenderableType:
    """The failures grouped by exception type, as ``except*`` would sort them.

    A heading per type with its count in plain words ("2 files not found",
    "1 file is not valid UTF-8", "3 files over 500 lines", ...), biggest group
    first, then each of its files with a one-line reason, in input order.
    Cancelled and skipped files follow, counted by reason, and listed only
    when ``verbose`` (which also names each failure's exception type).
    Renders nothing when every file was counted.
    """
    return _Lines(lambda _w: _failures(results, verbose), None, wrap=True)


def failure_report_lines(results: Sequence[FileResult], *, verbose: bool = False) -> Iterator[str]:
    """The same as :func:`failure_report`, as plain strings without newlines."""
    return _plain(_failures(results, verbose))


# -- groups (languages, directories, extensions) ------------------------------------


def _group_table(
    groups: Sequence[tuple[str, LanguageTotals]],
    members: Callable[[str], Sequence[FileResult]] | None,
    title: str,
    classified: bool,
    width: int,
    total: LanguageTotals,
) -> Iterator[_Line]:
    numbers = ("files", "lines", "code", "comments", "blanks") if classified else ("files", "lines")

    def cells(t: LanguageTotals) -> list[str]:
        values = (t.files, t.lines, t.code, t.comments, t.blanks)[: len(numbers)]
        return ["" if v is None else human_count(v) for v in values]

    rows = [(display_path(name), cells(t)) for name, t in groups]
    file_rows: dict[str, list[tuple[str, list[str]]]] = {}
    if members is not None:
        for name, _ in groups:
            file_rows[name] = [
                (
                    "  " + display_path(r.path),
                    [
                        "",
                        human_count(r.lines or 0),
                        *(
                            ("" if v is None else human_count(v))
                            for v in (r.code, r.comments, r.blanks)[: len(numbers) - 2]
                        ),
                    ],
                )
                for r in members(name)
            ]
    total_cells = cells(total)
    widths = [
        max(len(head), len(total_cells[i]), *(len(c[i]) for _, c in rows), 0)
        for i, head in enumerate(numbers)
    ]
    for listed in file_rows.values():
        for _, c in listed:
            widths = [max(w, len(x)) for w, x in zip(widths, c, strict=True)]
    fixed = sum(w + 2 for w in widths)
    names = [cell_len(n) for n, _ in rows] + [
        cell_len(n) for listed in file_rows.values() for n, _ in listed
    ]
    name_w = max(len(title), len("total"), *names, 0)
    name_w = min(name_w, max(8, width - fixed))

    def line(name: str, values: Sequence[str], style: str = "") -> _Line:
        text = _fit(name, name_w, cell_len(name)) + "".join(
            f"  {v:>{w}}" for v, w in zip(values, widths, strict=True)
        )
        return [(text, style)]

    yield line(title, numbers, _S_HEAD)
    for name, values in rows:
        yield line(name, values)
        for file_name, file_values in file_rows.get(name, ()):
            yield line(file_name, file_values, _S_DIM)
    yield line("total", total_cells, _S_HEAD)


def groups_table(
    groups: Mapping[str, LanguageTotals],
    *,
    title: str,
    classified: bool,
    width: int,
    total: LanguageTotals,
    members: Callable[[str], Sequence[FileResult]] | None = None,
) -> RenderableType:
    """Totals per group (language, directory or extension), like tokei's table.

    A row per group (files, lines, and with ``classified`` code, comments and
    blanks), in the order given, then the ``total`` row (every file's, also when
    the rows are only the top groups); ``members``, when given, lists each
    group's files under its row.
    """
    items = list(groups.items())
    return _Lines(lambda w: _group_table(items, members, title, classified, w, total), width)


def groups_lines(
    groups: Mapping[str, LanguageTotals],
    *,
    title: str,
    classified: bool,
    width: int,
    total: LanguageTotals,
    members: Callable[[str], Sequence[FileResult]] | None = None,
) -> Iterator[str]:
    """The same as :func:`groups_table`, as plain strings without newlines."""
    items = list(groups.items())
    return _plain(_group_table(items, members, title, classified, width, total))
