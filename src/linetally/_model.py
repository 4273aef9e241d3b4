"""What a run produces: one result per input path, and the report that holds them."""

from __future__ import annotations

import enum
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from typing import overload

from ._frozen import field, frozen

__all__ = ["FileResult", "LanguageTotals", "Report", "Row", "Snapshot", "Status", "Totals"]


class Status(enum.StrEnum):
    """How a file ended. Every input path ends in exactly one of these."""

    OK = "ok"
    ERROR = "error"
    SKIPPED = "skipped"
    CANCELLED = "cancelled"


@frozen
class FileResult:
    """The outcome for one input path.

    ``lines`` and ``bytes`` are set for ``ok`` files, and also where they are
    known for others (a file over ``max_lines`` has its count; a skipped binary
    file has its size). ``error`` holds the original exception of a failure,
    with the path on it as ``error.path`` and as a note. ``reason`` says why a
    file was skipped or cancelled.

    With ``languages=True``, a counted file also has its ``language`` (tokei's
    name, None when unknown) and, for a known language, how its lines split
    into ``code``, ``comments`` and ``blanks`` (they add up to ``lines``).
    A file read with ``decompress`` that turned out to be compressed has its
    format in ``codec`` (``"gzip"``, ``"bzip2"``, ``"xz"``, ``"lzma"``,
    ``"zstd"``) and, wherever ``lines`` is set, its decompressed size in
    ``decompressed_bytes``; ``bytes`` stays its size on disk.
    """

    path: str
    status: Status
    lines: int | None = None
    bytes: int | None = None
    error: Exception | None = None
    reason: str | None = None
    language: str | None = None
    code: int | None = None
    comments: int | None = None
    blanks: int | None = None
    codec: str | None = None
    decompressed_bytes: int | None = None

    @property
    def ok(self) -> bool:
        """True when the file was counted without a failure."""
        return self.status is Status.OK


class _Counted:
    """A counted file's :class:`FileResult`, built without the frozen ``__init__``.

    A frozen record's ``__init__`` (see _frozen) sets each of its twelve fields through
    ``object.__setattr__``, about 4 µs a result; a run over a million small files
    builds a million of them. This class has the same slots, so plain (fast) slot
    stores fill them and the object then takes :class:`FileResult` as its class
    (CPython allows that between classes of the same layout); the result is
    indistinguishable from one built by ``FileResult(...)`` and as frozen.
    """

    __slots__ = FileResult.__slots__  # type: ignore[attr-defined]  # made by frozen

    def __init__(
        self,
        path: str,
        lines: int,
        size: int,
        language: str | None = None,
        code: int | None = None,
        comments: int | None = None,
        blanks: int | None = None,
        codec: str | None = None,
        decompressed_bytes: int | None = None,
    ) -> None:
        self.path = path
        self.status = Status.OK
        self.lines = lines
        self.bytes = size
        self.error = None
        self.reason = None
        self.language = language
        self.code = code
        self.comments = comments
        self.blanks = blanks
        self.codec = codec
        self.decompressed_bytes = decompressed_bytes
        self.__class__ = FileResult  # type: ignore[assignment]


counted_result: Callable[..., FileResult] = _Counted  # type: ignore[assignment]
"""``counted_result(path, lines, size, language, code, comments, blanks, codec,
decompressed_bytes)`` (all after ``size`` optional): a counted file's :class:`FileResult`,
with ``status`` OK and no error or reason, quicker than ``FileResult(...)``."""


Classified = tuple[str | None, int | None, int | None, int | None]
"""A classified file's ``(language, code, comments, blanks)``; all None for an unknown language."""


class Columns:
    """Counted files of one directory, as columns: the results of a walked chunk.

    ``base`` joined to each of ``names`` is the file's path; ``lines`` and
    ``sizes`` are its counts; with ``classified`` (a run with languages), its
    language and line kinds. Every one of them is ``ok`` with nothing else
    known (no error, reason or codec). A run keeps these instead of
    one :class:`FileResult` per file when nobody asks for results as they
    come (see :meth:`Run.complete`); :meth:`results` builds them.
    ``rendered`` is free for a writer: its text of these rows, made while the
    run was still counting, with what it depends on (None until then).
    """

    __slots__ = ("base", "classified", "lines", "names", "rendered", "sizes")

    def __init__(
        self,
        base: str,
        names: Sequence[str],
        lines: Sequence[int],
        sizes: Sequence[int],
        classified: Sequence[Classified] | None = None,
    ) -> None:
        self.base = base
        self.names = names
        self.lines = lines
        self.sizes = sizes
        self.classified = classified
        self.rendered: tuple[str, str] | None = None

    def __len__(self) -> int:
        return len(self.names)

    def result(self, i: int) -> FileResult:
        """The :class:`FileResult` of the ``i``-th file."""
        kind = () if self.classified is None else self.classified[i]
        return counted_result(self.base + self.names[i], self.lines[i], self.sizes[i], *kind)

    def results(self, start: int = 0) -> list[FileResult]:
        """The :class:`FileResult` of each file from ``start`` on."""
        base = self.base
        columns = zip(self.names[start:], self.lines[start:], self.sizes[start:], strict=True)
        if self.classified is None:
            return [counted_result(base + name, n, size) for name, n, size in columns]
        kinds = self.classified[start:]
        return [
            counted_result(base + name, n, size, *kind)
            for (name, n, size), kind in zip(columns, kinds, strict=True)
        ]


class Results(Sequence[FileResult]):
    """A report's results in input order, read-only; counted files kept as :class:`Columns`.

    Behaves as a sequence of :class:`FileResult` (and equals any sequence of
    the same results): those of a chunk of columns are built when first
    asked for. Writers that can use the columns as they are read
    :meth:`parts` instead.
    """

    __slots__ = ("_built", "_languages", "_len", "_parts")

    def __init__(
        self,
        parts: list[FileResult | Columns],
        languages: dict[str, LanguageTotals] | None = None,
    ) -> None:
        self._parts = parts
        self._len = len(parts) + sum(len(p) - 1 for p in parts if type(p) is Columns)
        self._built: list[FileResult] | None = None
        self._languages = languages

    def languages(self) -> dict[str, LanguageTotals] | None:
        """Totals per language of the ``ok`` results, if the run added them up as it went."""
        return None if self._languages is None else dict(self._languages)

    def parts(self) -> list[FileResult | Columns]:
        """The results as they are held: single results and chunks of columns, in order."""
        return self._parts

    def _list(self) -> list[FileResult]:
        if self._built is None:
            self._built = list(self)
        return self._built

    def __len__(self) -> int:
        return self._len

    def __iter__(self) -> Iterator[FileResult]:
        if self._built is not None:
            yield from self._built
            return
        for part in self._parts:
            if isinstance(part, Columns):
                yield from part.results()
            else:
                yield part

    @overload
    def __getitem__(self, index: int) -> FileResult: ...
    @overload
    def __getitem__(self, index: slice) -> list[FileResult]: ...
    def __getitem__(self, index: int | slice) -> FileResult | list[FileResult]:
        return self._list()[index]

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Sequence) or isinstance(other, str | bytes):
            return NotImplemented
        return len(self) == len(other) and all(a == b for a, b in zip(self, other, strict=True))

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return f"Results({self._list()!r})"

    def __reduce__(self) -> tuple[object, ...]:
        return (list, (self._list(),))


@frozen
class Totals:
    """Counts over a run; ``lines`` and ``bytes`` add up the ``ok`` files only."""

    files: int = 0
    ok: int = 0
    errors: int = 0
    skipped: int = 0
    cancelled: int = 0
    lines: int = 0
    bytes: int = 0

    @classmethod
    def of(cls, results: Iterable[FileResult]) -> Totals:
        """Add up ``results``."""
        counts = dict.fromkeys(Status, 0)
        lines = size = 0
        for r in results:
            counts[r.status] += 1
            if r.status is Status.OK:
                lines += r.lines or 0
                size += r.bytes or 0
        return cls.from_counts(counts, lines, size)

    @classmethod
    def from_counts(cls, counts: Mapping[Status, int], lines: int, size: int) -> Totals:
        """Totals from how many files ended in each status, and the ok files' sums."""
        return cls(
            files=sum(counts.values()),
            ok=counts[Status.OK],
            errors=counts[Status.ERROR],
            skipped=counts[Status.SKIPPED],
            cancelled=counts[Status.CANCELLED],
            lines=lines,
            bytes=size,
        )


UNKNOWN_LANGUAGE = "unknown"
"""The group that counted files of no known language are listed under."""


@frozen
class LanguageTotals:
    """Counts over the counted files of one language (or of any other group).

    ``code``, ``comments`` and ``blanks`` add up the files whose language is
    known; they are None for a group with none (such as ``unknown``), whose
    lines are counted but not classified.
    """

    files: int = 0
    lines: int = 0
    code: int | None = None
    comments: int | None = None
    blanks: int | None = None

    def add(self, other: FileResult | LanguageTotals) -> LanguageTotals:
        """These totals with an ``ok`` file's counts, or another group's totals, added."""
        files = other.files if isinstance(other, LanguageTotals) else 1
        lines = self.lines + (other.lines or 0)
        if other.code is None:
            return LanguageTotals(self.files + files, lines, self.code, self.comments, self.blanks)
        return LanguageTotals(
            self.files + files,
            lines,
            (self.code or 0) + other.code,
            (self.comments or 0) + (other.comments or 0),
            (self.blanks or 0) + (other.blanks or 0),
        )


class Tally:
    """:class:`LanguageTotals` being added up, one ``ok`` file at a time.

    Mutable: a new frozen LanguageTotals per file costs several microseconds,
    and a run with languages adds up every file twice (live, and in its report).
    """

    __slots__ = ("blanks", "code", "comments", "files", "lines")

    def __init__(self) -> None:
        self.files = 0
        self.lines = 0
        self.code: int | None = None
        self.comments: int | None = None
        self.blanks: int | None = None

    def add(self, result: FileResult) -> None:
        """Add an ``ok`` file's counts, as :meth:`LanguageTotals.add` does."""
        self.add_counts(result.lines or 0, result.code, result.comments, result.blanks)

    def add_counts(
        self, lines: int, code: int | None, comments: int | None, blanks: int | None
    ) -> None:
        """:meth:`add` for a file known by its counts."""
        self.files += 1
        self.lines += lines
        if code is not None:
            self.code = (self.code or 0) + code
            self.comments = (self.comments or 0) + (comments or 0)
            self.blanks = (self.blanks or 0) + (blanks or 0)

    def add_run(self, classified: Sequence[Classified], lines: Sequence[int]) -> None:
        """:meth:`add_counts` for each of a run of files, all in this tally's language."""
        self.files += len(classified)
        self.lines += sum(lines)
        if classified[0][1] is not None:
            self.code = (self.code or 0) + sum([k[1] or 0 for k in classified])
            self.comments = (self.comments or 0) + sum([k[2] or 0 for k in classified])
            self.blanks = (self.blanks or 0) + sum([k[3] or 0 for k in classified])

    def totals(self) -> LanguageTotals:
        """The totals so far."""
        return LanguageTotals(self.files, self.lines, self.code, self.comments, self.blanks)


def sorted_totals(tallies: Mapping[str, Tally]) -> dict[str, LanguageTotals]:
    """Each group's totals, most lines first (then by name)."""
    groups = sorted(tallies.items(), key=lambda g: (-g[1].lines, g[0]))
    return {name: tally.totals() for name, tally in groups}


def group_totals(
    results: Iterable[FileResult], key: Callable[[FileResult], str]
) -> dict[str, LanguageTotals]:
    """Add up the ``ok`` files of ``results`` by ``key``, most lines first."""
    tallies: dict[str, Tally] = {}
    ok = Status.OK
    for r in results:
        if r.status is ok:
            name = key(r)
            tally = tallies.get(name)
            if tally is None:
                tally = tallies[name] = Tally()
            tally.add(r)
    return sorted_totals(tallies)


def language_of(result: FileResult) -> str:
    """The group a file's language puts it in (``unknown`` when none was recognised)."""
    return result.language or UNKNOWN_LANGUAGE


@frozen
class Report:
    """All results of a run, in input order (then walk order), with totals.

    ``interrupted`` is true when the run was stopped from outside (Ctrl-C)
    before every input was counted; the results then cover what was found.
    """

    results: Sequence[FileResult]
    interrupted: bool = False
    totals: Totals = field(default=Totals())

    def __repr__(self) -> str:
        # Short on purpose: a report may hold a million results, and asyncio
        # formats the repr of a task's result when it shuts down.
        t = self.totals
        return (
            f"Report(files={t.files}, ok={t.ok}, errors={t.errors}, skipped={t.skipped}, "
            f"cancelled={t.cancelled}, lines={t.lines}, interrupted={self.interrupted})"
        )

    @property
    def failures(self) -> list[FileResult]:
        """The results whose status is ``error``, in input order."""
        results = self.results
        if isinstance(results, Results) and not self.totals.errors:
            return []  # a run's own totals: no need to build every result to know
        return [r for r in results if r.status is Status.ERROR]

    @property
    def languages(self) -> dict[str, LanguageTotals]:
        """Totals per language over the ``ok`` files, most lines first.

        Files of no known language are under ``"unknown"``. Meaningful for a
        run with ``languages=True``; otherwise every file is ``unknown``.
        """
        results = self.results
        if isinstance(results, Results) and (known := results.languages()) is not None:
            return known  # added up by the run as its files came
        return group_totals(results, language_of)

    @property
    def ok(self) -> bool:
        """True when no file failed and the run was not interrupted."""
        return self.totals.errors == 0 and not self.interrupted

    def raise_for_errors(self) -> None:
        """Raise one ExceptionGroup holding every per-file failure, if there was any.

        The members are the original exceptions (FileNotFoundError,
        UnicodeDecodeError, TimeoutError, :class:`~linetally.TooManyLines`, ...),
        each with the file's path as ``.path`` and in a note, so callers can
        handle them with ``except*`` by type.
        """
        failures = self.failures
        if failures:
            errors = [r.error for r in failures if r.error is not None]
            n = len(errors)
            raise ExceptionGroup(
                f"{n} of {self.totals.files} file{'s' if self.totals.files != 1 else ''} failed",
                errors,
            )


@frozen
class Row:
    """One file as the live view sees it: in flight (``done`` false) or finished.

    ``error`` is the failure's exception type name, for a finished failed file.
    """

    path: str
    lines: int
    bytes: int
    done: bool = False
    status: Status | None = None
    error: str | None = None


@frozen
class Snapshot:
    """The state of a run at one instant, for whoever draws it.

    ``found`` counts the inputs discovered so far (the walk may still be going
    on: ``walk_done``), ``done`` those that have a result. ``active`` are the
    files being read now, ``recent`` the last ones finished, ``largest`` the
    finished files with the most lines so far, most first.
    """

    found: int
    done: int
    walk_done: bool
    totals: Totals
    elapsed: float
    active: tuple[Row, ...] = ()
    recent: tuple[Row, ...] = ()
    largest: tuple[Row, ...] = ()
    interrupted: bool = False
    languages: tuple[tuple[str, LanguageTotals], ...] = ()
    """Running totals per language of the files finished so far, most lines first
    (empty unless the run classifies languages)."""
