"""Turn the paths named on the command line into the files to count, the way ripgrep does.

:func:`walk` expands directories recursively and streams out one :class:`Entry` per
file found, honouring ripgrep's default filters: hidden names, ``.gitignore`` files
(inside a git work tree only), ``.git/info/exclude``, ``.ignore`` files (everywhere),
and ``-g``-style globs. What it decides not to count but the user should hear about
(symlinks it does not follow, FIFOs and devices, directories it cannot list) comes out
as an Entry too, so nothing disappears silently.

Ignore-file lines are compiled to pathspec's regexes (see _gitignore) and matched
per entry, the way git and ripgrep do: a pattern matches a path itself, and the
contents of an ignored directory are excluded simply because the directory is never
entered. (pathspec on its own would also match ``build/x`` against ``build/``; that
would wrongly empty a directory the user names explicitly, such as ``linetally build/``.)
"""

from __future__ import annotations

import errno
import os
import re
import stat
from array import array
from collections.abc import Container, Generator, Iterable, Iterator, Mapping, Sequence
from operator import attrgetter
from typing import Any, Final, NamedTuple, cast

from ._frozen import field, frozen
from ._gitignore import Rule, compile_glob, compile_lines
from ._urls import is_url

__all__ = ["Entry", "Unit", "Walk", "WalkSettings", "walk", "walk_unit"]

SKIP_SYMLINK: Final = "symlink"
SKIP_SPECIAL: Final = "special file"
SKIP_DUPLICATE: Final = "duplicate"

_RULE_FILES: Final = frozenset({".git", ".ignore", ".gitignore"})

# pathspec compiles each gitignore pattern to a regex in which this named group matches
# the "/" after a directory. When it matches before the end of the subject, the pattern
# matched a parent directory rather than the path itself.
_DIR_MARK: Final = "ps_d"
# The prefix pathspec gives patterns without a slash ("*.py", "build/"): "at any depth".
_ANY_DEPTH: Final = "^(?:.+/)?"
_NAMED_GROUP = re.compile(r"\(\?P<[A-Za-z_][A-Za-z0-9_]*>")

_FILE, _DIR, _LINK, _SPECIAL, _BROKEN = range(5)

_by_name = attrgetter("name")


@frozen
class Entry:
    """One path for the counter: a file to count, or a path to report as skipped or failed.

    An Entry with neither ``skip_reason`` nor ``error`` is a file to open and count.
    ``path`` is a display path: the root exactly as the user gave it, joined with the
    names below it by :func:`os.path.join`. It is a ``str``; bytes that are not UTF-8
    come through as surrogate escapes, so ``os.fsencode(path)`` gives the real name.
    """

    path: str
    skip_reason: str | None = None
    """Why the path is not counted (``"symlink"``, ``"special file"``), or None."""
    error: OSError | None = None
    """The OSError met while looking at the path (its ``filename`` is set), or None."""


def walk(
    roots: Iterable[str],
    *,
    hidden: bool = False,
    ignore: bool = True,
    globs: Sequence[str] = (),
    follow: bool = False,
    storage_options: Mapping[str, Any] | None = None,
) -> Iterator[Entry]:
    """Stream the entries for ``roots`` in a stable order, filtering like ripgrep.

    A root that is not a directory (a file, a FIFO, a missing path, ``-`` for stdin) is
    yielded as it is, whatever the filters say: a path the user names is always
    counted. A directory root (or a symlink to one) is walked depth first, each
    directory's entries sorted by name, listing one directory at a time, so memory
    follows the depth and width of the tree, never its file count.

    Inside a walk, ``hidden=False`` skips names starting with ``.``; ``ignore=True``
    applies ``.ignore`` files, plus ``.gitignore`` files and ``.git/info/exclude`` in
    a git work tree (from the directories above the root too); ``globs`` are
    gitignore-syntax patterns, relative to the walked root, that a file must match
    (one of them, if any are not negated) and must not match (the ``!`` ones). A
    glob or an ignore-file ``!`` rule that picks a path out beats the other filters,
    as in ripgrep. ``.git`` is never entered. Symlinks are reported as skipped unless
    ``follow=True``, which follows them and reports dangling links and loops as
    errors.

    The globs are compiled now, so an invalid one raises :class:`ValueError` here;
    everything else happens as the returned iterator is consumed. Entries are
    ``Entry(path)`` to count, ``skip_reason="symlink"`` or ``"special file"`` to
    report as skipped, or ``error=`` an OSError: a directory that cannot be listed,
    and with ``follow=True`` a dangling link (FileNotFoundError) or a link back to a
    directory being walked (errno ELOOP).
    """
    if isinstance(roots, str) or isinstance(globs, str):
        raise TypeError("roots and globs must be collections of str, not a single str")
    overrides = _Globs(globs) if globs else None
    return Walk(
        roots, WalkSettings(hidden, ignore, tuple(globs), follow), overrides, storage_options
    )


class Unit(NamedTuple):
    """A directory not yet entered, handed out whole: :func:`walk_unit` walks it elsewhere.

    ``path`` is its display path; ``prefix`` the key prefix of its entries and
    ``root_offset`` where the walked root's part of a key ends (see ``_key``).
    With ``start``, the unit is only the entries from that name on: the rest of
    a directory too big for one unit (see ``cut`` in :func:`walk_unit`).
    """

    path: str
    prefix: str
    root_offset: int
    start: str | None = None


class Files(NamedTuple):
    """Regular files of one directory, in walk order, that only need counting.

    What :func:`walk_unit` gives with ``batches`` for a run of files whose names
    no rule concerns: ``base`` joined to each of ``names`` is a path to count.
    One item for a whole run, so that a counting process loops over them
    without a generator's step per file.
    """

    base: str
    names: list[str]


class WalkSettings(NamedTuple):
    """The filters of a walk, as :func:`walk_unit` needs them in another process."""

    hidden: bool = False
    ignore: bool = True
    globs: tuple[str, ...] = ()
    follow: bool = False


class _Control:
    """How a walk in progress hands out its work (see :meth:`Walk.hand_out`).

    ``split``: directories not yet entered come out as units. ``plain``: files to
    count come out as path strings. ``budget``: when plain, files to yield
    before the walk hands out the rest of its work (negative: no limit):
    ``split`` turns on, and the rest of each directory it is in comes out as
    one unit (see :attr:`Unit.start`), a few units however many subdirectories
    are left. ``spent``: the budget just ran out. ``cut``: when
    positive, a directory that has yielded this many files hands out the rest
    of its entries as a unit. ``batches``: when plain, runs of files come out
    as :class:`Files` items.
    """

    __slots__ = ("batches", "budget", "cut", "plain", "spent", "split")

    def __init__(self) -> None:
        self.split = False
        self.plain = False
        self.budget = -1
        self.spent = False
        self.cut = 0
        self.batches = False


class Walk:
    """The iterator :func:`walk` returns: its entries, in walk order.

    :meth:`hand_out` lets a counting engine take over directories not yet
    entered, as :class:`Unit` items, to be walked elsewhere with :func:`walk_unit`
    (same rules, same order within each one).
    """

    __slots__ = ("_control", "_gen", "settings")

    def __init__(
        self,
        roots: Iterable[str],
        settings: WalkSettings,
        overrides: _Globs | None,
        storage_options: Mapping[str, Any] | None = None,
    ) -> None:
        self.settings = settings
        self._control = _Control()
        self._gen = _walk(
            roots,
            hidden=settings.hidden,
            ignore=settings.ignore,
            overrides=overrides,
            follow=settings.follow,
            control=self._control,
            storage_options=storage_options,
        )

    def __iter__(self) -> Walk:
        return self

    def __next__(self) -> Entry:
        item = next(self._gen)
        assert isinstance(item, Entry)  # units come out only after hand_out()
        return item

    def hand_out(self) -> Iterator[Entry | Unit | str] | None:
        """From now on, yield directories not yet entered as units; None if it cannot.

        Files to count then come out as plain path strings, not Entry objects.

        Not with ``follow``: a followed link's keys are not its real path.
        """
        if self.settings.follow:
            return None
        self._control.split = self._control.plain = True
        return self._gen

    @property
    def handed_out(self) -> bool:
        """Whether :meth:`hand_out` was called."""
        return self._control.split

    def walk_ahead(self, units: int, limit: int) -> list[Unit]:
        """:meth:`hand_out`, then walk ahead until ``units`` units or ``limit`` items came out.

        Returns those units, in walk order; the walk still yields every item,
        those first. The command forks its counting processes with them: they
        start on them at once, while it starts its event loop.
        """
        items = self.hand_out()
        if items is None:
            return []
        ahead: list[Entry | Unit | str] = []
        found: list[Unit] = []
        for item in items:
            ahead.append(item)
            if isinstance(item, Unit):
                found.append(item)
            if len(found) >= units or len(ahead) >= limit:
                break
        self._gen = _chain(ahead, items)
        return found


def _chain(
    first: list[Entry | Unit | str], rest: Iterator[Entry | Unit | str]
) -> Generator[Entry | Unit | str, None, None]:
    yield from first
    yield from rest


def walk_unit(
    unit: Unit,
    settings: WalkSettings,
    cache: dict[object, object],
    budget: int = 0,
    cut: int = 0,
    batches: bool = False,
) -> Iterator[Entry | Unit | Files | str]:
    """The entries below the directory ``unit``, as the whole walk would give them there.

    Its subdirectories are walked too until ``budget`` files have come out; the
    ones met after that come out as units in turn. With ``cut``, a directory
    that gave that many files gives the rest of its entries as a unit (see
    :attr:`Unit.start`), so that no unit is much bigger than another. Files to
    count come out as plain path strings, or with ``batches`` as :class:`Files`
    where a run of them needs nothing else. ``cache`` keeps the compiled
    globs and the ignore rules of the directories seen, from one call to the next.
    """
    try:
        listing = _list(unit.path)
    except OSError as exc:
        yield Entry(unit.path, error=exc)
        return
    entries = listing
    if unit.start is not None:
        start = unit.start
        entries = [entry for entry in listing if entry.name >= start]
    overrides: _Globs | None = None
    if settings.globs:
        compiled = cache.get(settings.globs)
        if compiled is None:
            compiled = cache[settings.globs] = _Globs(settings.globs)
        assert isinstance(compiled, _Globs)
        overrides = compiled
    rules = _NO_RULES
    if settings.ignore:
        real = "/" + unit.prefix[:-1].replace("\0", "\n")
        rule_cache: dict[str, _Rules] = cache.setdefault("rules", {})  # type: ignore[assignment]
        above = _rules_above(os.path.dirname(real), rule_cache)
        rules = above.enter(unit.path, len(unit.prefix), _present(listing))
        rule_cache[real] = rules
    control = _Control()
    control.plain = True
    control.budget = budget
    control.split = budget <= 0
    control.cut = cut
    control.batches = batches
    stack = [_Frame(unit.path, unit.prefix, rules, entries, (0, 0))]
    yield from _walk_frames(
        stack, set(), unit.root_offset, settings.hidden, settings.ignore, overrides, False, control
    )


# One compiled pattern: (position counted from the file's last line, regex, index of its
# directory-mark group, True for an ignore pattern / False for a "!" exception).
_Rule = tuple[int, re.Pattern[str], int | None, bool]


class _Patterns:
    """The patterns of one ignore file (or of one kind of glob), compiled once.

    ``match`` answers for one path, not its parents: True if the last pattern matching
    it ignores it, False if that pattern is a ``!`` exception, None if none matches.

    Patterns without a slash look at the name alone; the rest at the whole relative
    path. For each group one regex, the union of the group's patterns, quickly rules
    out the usual case of a path nothing matches, and for names tells which pattern to
    start from, so the per-pattern loop (needed to tell which pattern matched, and
    whether it matched the path itself or a parent) is short.
    """

    __slots__ = (
        "_any_file_path",
        "_any_name",
        "_any_path",
        "_file_names",
        "_file_path_rules",
        "_name_rules",
        "_path_rules",
    )

    def __init__(self, rules: Iterable[Rule]) -> None:
        compiled: list[tuple[re.Pattern[str], int | None, bool, bool]] = []
        for regex, include, text in rules:
            body = text[1:] if text.startswith("!") else text
            body = body.rstrip(" ").removesuffix("/")
            on_name = bool(body) and "/" not in body and regex.pattern.startswith(_ANY_DEPTH)
            compiled.append((regex, regex.groupindex.get(_DIR_MARK), include, on_name))
        compiled.reverse()  # the last matching pattern decides
        name_rules: list[_Rule] = []
        path_rules: list[_Rule] = []
        for order, (regex, mark, include, on_name) in enumerate(compiled):
            (name_rules if on_name else path_rules).append((order, regex, mark, include))
        self._name_rules = tuple(name_rules)
        self._path_rules = tuple(path_rules)
        # A name holds no "/", so the "any directories" prefix can only match nothing.
        self._any_name = _union([r[1].pattern.removeprefix(_ANY_DEPTH) for r in name_rules])
        # A file's name holds no "/": it never matches a directory-only rule itself.
        self._file_names = _union(
            [
                r[1].pattern.removeprefix(_ANY_DEPTH)
                for r in name_rules
                if not _dir_only(r[1].pattern)
            ]
        )
        # Matches of a path's parent (through the directory mark) are not of the path itself:
        # the mark must end the path. "bench/out/" then rules nothing out below bench/out.
        self._any_path = _union([_mark_at_end(r[1].pattern) for r in path_rules])
        # Directory-only patterns ("bench/out/") never match a file itself: skip them for files.
        file_rules = [r for r in path_rules if not _dir_only(r[1].pattern)]
        self._file_path_rules = tuple(file_rules)
        self._any_file_path = _union([_mark_at_end(r[1].pattern) for r in file_rules])

    def __bool__(self) -> bool:
        return bool(self._name_rules or self._path_rules)

    def match(self, name: str, rel: str, is_dir: bool) -> bool | None:
        """Judge the path ``rel`` (relative to the patterns' base; basename ``name``)."""
        best: _Rule | None = None
        first = self._first_name_candidate(name, is_dir)
        for rule in self._name_rules[first:]:
            if _hits(rule[1], rule[2], name, is_dir):
                best = rule
                break
        rules = self._path_rules if is_dir else self._file_path_rules
        if rules and self._may_match_path(rel, is_dir):
            for rule in rules:
                if best is not None and rule[0] > best[0]:
                    break
                if _hits(rule[1], rule[2], rel, is_dir):
                    best = rule
                    break
        return None if best is None else best[3]

    def file_names(self) -> re.Pattern[str] | None:
        """A regex that matches every file name some pattern here may match, if only the
        name decides for files; else None."""
        return None if self._file_path_rules else self._file_names

    def _first_name_candidate(self, name: str, is_dir: bool) -> int:
        """Index of the first name rule that can match; len(rules) when none can."""
        union = self._any_name
        if union is None:
            return 0
        first = len(self._name_rules)
        for subject in (name, name + "/") if is_dir else (name,):
            found = union.match(subject)
            if found is not None:
                group = found.lastgroup
                if group is None:
                    return 0
                first = min(first, int(group[1:]))
        return first

    def _may_match_path(self, rel: str, is_dir: bool) -> bool:
        union = self._any_path if is_dir else self._any_file_path
        if union is None or union.search(rel):
            return True
        return is_dir and union.search(rel + "/") is not None


def _mark_at_end(regex: str) -> str:
    """``regex`` matching only where its directory mark, if it uses it, ends the subject.

    What :func:`_hits` asks of a match: the mark absent, or (a directory's path
    with a slash added) ending it. Whatever a rule hits, this still matches.
    """
    return regex.replace(f"(?P<{_DIR_MARK}>/)", r"(?:/\Z)")


def _union(regexes: list[str]) -> re.Pattern[str] | None:
    """One regex matching where any of ``regexes`` does; None if that cannot be built.

    Each alternative is wrapped in a group named after its index (``_0``, ``_1``...),
    so ``lastgroup`` tells the first alternative that matched.
    """
    if not regexes:
        return _NEVER
    try:
        return re.compile(
            "|".join(f"(?P<_{i}>{_NAMED_GROUP.sub('(?:', r)})" for i, r in enumerate(regexes))
        )
    except re.error:
        return None


_NEVER: Final = re.compile(r"(?!)")


def _dir_only(regex: str) -> bool:
    """Whether every match of the pathspec ``regex`` ends in its directory mark: a "dir/" rule.

    Such a rule matches a file only through a parent directory, never the file itself.
    """
    return regex.endswith(f"(?P<{_DIR_MARK}>/)") and "|" not in regex


def _hits(regex: re.Pattern[str], mark: int | None, subject: str, is_dir: bool) -> bool:
    """Whether the pathspec ``regex`` matches ``subject`` itself (not just a parent dir)."""
    # Most regexes are anchored; a few ("*/" gives "(?P<ps_d>/)") are searched for, so
    # try each place they match until one matches the path itself.
    pos = 0
    while (found := regex.search(subject, pos)) is not None:
        if mark is None or found.start(mark) < 0:
            return True
        pos = found.start() + 1
    if not is_dir or mark is None:
        return False
    # Directory-only patterns ("build/") need the trailing slash, matched at the end.
    subject += "/"
    pos = 0
    while (found := regex.search(subject, pos)) is not None:
        if found.end(mark) == len(subject):
            return True
        pos = found.start() + 1
    return False


def _never_matches(glob: str, body: str) -> str:
    """Why gitignore syntax reads ``glob`` as no pattern at all."""
    if not body.strip():
        return f"empty glob {glob!r}"
    if body.startswith("#"):
        return (
            f"glob {glob!r} is a comment in gitignore syntax and matches nothing "
            "(write \\# for a literal #)"
        )
    if "[" in body:
        return f"invalid glob {glob!r}: a [ set that is not closed or is empty"
    return f"glob {glob!r} matches nothing"


class _Globs:
    """The ``-g`` globs: positive ones select files, ``!`` ones exclude files and dirs."""

    __slots__ = ("_exclude", "_include")

    def __init__(self, globs: Sequence[str]) -> None:
        include: list[Rule] = []
        exclude: list[Rule] = []
        for glob in globs:
            negated = glob.startswith("!")
            body = glob[1:] if negated else glob
            if negated and body.startswith("#"):
                body = "\\" + body  # "!#x" excludes "#x": no comment after the "!"
            try:
                usable = compile_glob(body)
            except (ValueError, re.error) as exc:
                raise ValueError(f"invalid glob {glob!r}: {exc}") from exc
            if not usable:
                raise ValueError(_never_matches(glob, body))
            (exclude if negated else include).extend(usable)
        self._include = _Patterns(include)
        self._exclude = _Patterns(exclude)

    def verdict(self, name: str, rel: str, is_dir: bool) -> bool | None:
        """True to keep the path whatever else says, False to drop it, None for no say."""
        if self._exclude and self._exclude.match(name, rel, is_dir):
            return False
        if self._include:
            if self._include.match(name, rel, is_dir):
                return True
            if not is_dir:
                return False
        return None


@frozen
class _Rules:
    """The ignore files in force in one directory, each as (offset, patterns), deepest first.

    The offset slices a path key (see ``_key``) down to the path relative to the
    directory holding that ignore file.
    """

    ignores: tuple[tuple[int, _Patterns], ...] = ()
    gitignores: tuple[tuple[int, _Patterns], ...] = ()
    exclude: tuple[tuple[int, _Patterns], ...] = ()
    in_git: bool = False
    # For files, when only their names can match: the regexes that may match a name.
    file_names: tuple[re.Pattern[str], ...] | None = field(default=None, init=False, compare=False)

    def __post_init__(self) -> None:
        found: list[re.Pattern[str]] = []
        for _, patterns in (*self.ignores, *self.gitignores, *self.exclude):
            rx = patterns.file_names()
            if rx is None:
                return
            if rx is not _NEVER:
                found.append(rx)
        object.__setattr__(self, "file_names", tuple(found))

    def verdict(self, name: str, key: str, is_dir: bool) -> bool | None:
        """True if ignored, False if whitelisted by a ``!`` rule, None if no rule applies."""
        quick = self.file_names
        if quick is not None and not is_dir:
            for rx in quick:
                if rx.match(name) is not None:
                    break
            else:
                return None
        # .ignore beats .gitignore beats info/exclude; within a kind the deepest file wins.
        for group in (self.ignores, self.gitignores, self.exclude):
            for offset, patterns in group:
                found = patterns.match(name, key[offset:], is_dir)
                if found is not None:
                    return found
        return None

    def enter(self, dirpath: str, offset: int, present: Container[str]) -> _Rules:
        """The rules for the directory ``dirpath``, which holds the names in ``present``."""
        has_git = ".git" in present
        in_git = self.in_git or has_git
        read_gitignore = in_git and ".gitignore" in present
        if not (has_git or read_gitignore or ".ignore" in present):
            return self
        ignores, gitignores, exclude = self.ignores, self.gitignores, self.exclude
        if ".ignore" in present:
            ignores = _prepend(offset, _load(os.path.join(dirpath, ".ignore")), ignores)
        if has_git:
            # A work-tree root: the .gitignore files above it belong to another repository.
            gitignores = ()
            git_dir = _git_dir(dirpath)
            excluded = _load(os.path.join(git_dir, "info", "exclude")) if git_dir else None
            exclude = _prepend(offset, excluded, ())
        if read_gitignore:
            gitignores = _prepend(offset, _load(os.path.join(dirpath, ".gitignore")), gitignores)
        return _Rules(ignores, gitignores, exclude, in_git)


_NO_RULES: Final = _Rules()


def _prepend(
    offset: int, patterns: _Patterns | None, rest: tuple[tuple[int, _Patterns], ...]
) -> tuple[tuple[int, _Patterns], ...]:
    return ((offset, patterns), *rest) if patterns else rest


def _read_regular(path: str) -> bytes | None:
    """The bytes of ``path`` if it is a readable regular file, else None.

    Opened non-blocking and checked after opening, so a FIFO named ``.gitignore``
    cannot hang the walk.
    """
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_CLOEXEC)
    except (OSError, ValueError):
        return None
    try:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            return None
        with os.fdopen(fd, "rb", closefd=False) as f:
            return f.read()
    except OSError:
        return None
    finally:
        os.close(fd)


def _load(path: str) -> _Patterns | None:
    """The compiled patterns of the ignore file at ``path``; None if absent or empty.

    Unreadable files and lines pathspec rejects are ignored, as ripgrep does.
    """
    data = _read_regular(path)
    if not data:
        return None
    text = data.removeprefix(b"\xef\xbb\xbf").decode("utf-8", "surrogateescape")
    lines = [line.removesuffix("\r") for line in text.split("\n")]
    patterns = _Patterns(compile_lines(lines))
    return patterns if patterns else None


def _git_dir(worktree: str) -> str | None:
    """The directory holding ``info/exclude`` for the work tree at ``worktree``.

    ``.git`` is that directory itself, or (in linked work trees and submodules) a file
    reading ``gitdir: <path>``, whose ``commondir`` file, if any, points further on.
    """
    dotgit = os.path.join(worktree, ".git")
    if os.path.isdir(dotgit):
        return dotgit
    data = _read_regular(dotgit)
    if data is None or not data.startswith(b"gitdir:"):
        return None
    git_dir = os.path.join(worktree, os.fsdecode(data[len(b"gitdir:") :].strip()))
    common = _read_regular(os.path.join(git_dir, "commondir"))
    if common:
        git_dir = os.path.join(git_dir, os.fsdecode(common.strip()))
    return git_dir


def _key(path: str) -> str:
    """A path as the ignore matchers see it.

    pathspec's regexes use ``.`` and ``$`` without DOTALL, so a newline in a name
    would stop them matching; NUL never occurs in names and every wildcard matches it.
    """
    return path.replace("\n", "\0") if "\n" in path else path


def _prefix(real_dir: str) -> str:
    """The key prefix of the entries of the absolute directory ``real_dir``."""
    stripped = real_dir.lstrip("/")
    return _key(stripped + "/") if stripped else ""


def _rules_above(real_dir: str, cache: dict[str, _Rules]) -> _Rules:
    """The rules in force in ``real_dir`` from it and every directory above it."""
    missing: list[str] = []
    path = real_dir
    while path not in cache:
        missing.append(path)
        parent = os.path.dirname(path)
        if parent == path:
            rules = _NO_RULES
            break
        path = parent
    else:
        rules = cache[path]
    for path in reversed(missing):
        present = {name for name in _RULE_FILES if os.path.lexists(os.path.join(path, name))}
        rules = rules.enter(path, len(_prefix(path)), present)
        cache[path] = rules
    return rules


class _Frame:
    """A directory being walked: what is left of its sorted listing, and its context."""

    __slots__ = ("base", "cut", "entries", "files", "ident", "path", "prefix", "rules")

    def __init__(
        self,
        path: str,
        prefix: str,
        rules: _Rules,
        entries: list[os.DirEntry[str]],
        ident: tuple[int, int],
    ) -> None:
        self.path = path
        self.base = os.path.join(path, "")  # base + name is os.path.join(path, name)
        self.prefix = prefix
        self.rules = rules
        self.entries = iter(entries)
        self.ident = ident
        self.files = 0  # yielded, counted only with a cut
        self.cut = False  # its remaining entries are to be handed out as a unit


def _list(path: str) -> list[os.DirEntry[str]]:
    with os.scandir(path) as it:
        return sorted(it, key=_by_name)


def _present(entries: list[os.DirEntry[str]]) -> set[str]:
    return {entry.name for entry in entries if entry.name in _RULE_FILES}


def _kind(mode: int) -> int:
    if stat.S_ISDIR(mode):
        return _DIR
    return _FILE if stat.S_ISREG(mode) else _SPECIAL


def _walk(
    roots: Iterable[str],
    *,
    hidden: bool,
    ignore: bool,
    overrides: _Globs | None,
    follow: bool,
    control: _Control,
    storage_options: Mapping[str, Any] | None = None,
) -> Iterator[Entry | Unit | str]:
    cache: dict[str, _Rules] = {}
    filters = _Filters(hidden, ignore, overrides, cache)
    seen = _Seen(filters)
    for root in roots:
        if root == "-":
            yield Entry(root)
            continue
        if is_url(root):
            from ._remote import list_objects

            yield from list_objects(root, storage_options)
            continue
        try:
            st = os.stat(root)
        except OSError:
            yield Entry(root)  # the counter will open it and report what is wrong
            continue
        except ValueError:  # an embedded NUL: no such file can exist
            yield Entry(root, error=OSError(errno.EINVAL, "embedded null byte", root))
            continue
        is_dir = stat.S_ISDIR(st.st_mode)
        # Overlapping roots: each file is counted once; a later mention is a duplicate.
        real = os.path.realpath(root) if is_dir or seen.dirs else ""
        if seen.dirs and seen.covered(real, is_dir, stat.S_ISREG(st.st_mode)):
            yield Entry(root, skip_reason=SKIP_DUPLICATE)
            continue
        if is_dir:
            tree = _Tree(real, seen.overlapping(real))
            yield from _walk_tree(
                root, st, hidden, ignore, overrides, follow, cache, control, tree, seen
            )
            seen.add_dir(_DirRoot(real))
        else:
            if stat.S_ISREG(st.st_mode):
                seen.add_file(st.st_dev, st.st_ino)
            yield Entry(root)


class _DirRoot:
    """A directory root already walked, by its real path."""

    __slots__ = ("key", "offset", "prefix", "real")

    def __init__(self, real: str) -> None:
        self.real = real
        self.prefix = _prefix(real)
        self.offset = len(self.prefix)
        self.key = self.prefix[:-1]  # what the walk's keys are for this directory

    def holds(self, real: str) -> bool:
        """Whether the real path ``real`` is this directory or below it."""
        return real == self.real or real.startswith(self.real.rstrip("/") + "/")


_MIX: Final = 0x9E3779B97F4A7C15
"""Multiplier that spreads inode numbers over the table (numbers made together are close)."""


class _Inodes:
    """The inode numbers of the file roots met so far, as an open-addressing hash table.

    One flat ``array`` of 8-byte slots (at most half full): 16 to 32 bytes per
    file root, and no Python object per number, so a long file list leaves no
    scattered small objects behind. Looked up with ``os.DirEntry.inode()``,
    which costs no system call, so a walk finds a file named before it without
    a stat per file. Slot value 0 is "empty"; inode 0 is kept apart.
    """

    __slots__ = ("_count", "_mask", "_slots", "_zero")

    def __init__(self) -> None:
        self._slots = array("Q", bytes(8 * 64))
        self._mask = 63
        self._count = 0
        self._zero = False

    def _find(self, ino: int) -> int:
        """The slot holding ``ino``, or the empty slot where it would go."""
        slots, mask = self._slots, self._mask
        at = ((ino * _MIX) >> 29) & mask
        while True:
            value = slots[at]
            if value == ino or value == 0:
                return at
            at = (at + 1) & mask

    def add(self, ino: int) -> None:
        if ino == 0:
            self._zero = True
            return
        at = self._find(ino)
        if self._slots[at] == 0:
            self._slots[at] = ino
            self._count += 1
            if self._count * 2 > self._mask:
                self._grow()

    def _grow(self) -> None:
        old = self._slots
        self._slots = array("Q", bytes(16 * len(old)))
        self._mask = len(self._slots) - 1
        for value in old:
            if value:
                self._slots[self._find(value)] = value

    def __contains__(self, ino: int) -> bool:
        if ino == 0:
            return self._zero
        return self._slots[self._find(ino)] == ino

    def __bool__(self) -> bool:
        return bool(self._count or self._zero)


class _Seen:
    """What the walk remembers of the roots it has met, to count each file once per run.

    Per directory root its real path; per regular file root its inode number.
    Nothing is kept per file found in a walk.
    """

    __slots__ = ("devices", "dirs", "filters", "inodes")

    def __init__(self, filters: _Filters) -> None:
        self.filters = filters
        self.dirs: list[_DirRoot] = []
        self.inodes = _Inodes()
        self.devices: set[int] = set()

    def add_dir(self, root: _DirRoot) -> None:
        self.dirs.append(root)

    def add_file(self, device: int, ino: int) -> None:
        self.devices.add(device)
        self.inodes.add(ino)

    def covered(self, real: str, is_dir: bool, regular: bool) -> bool:
        """Whether an earlier directory root's walk reached ``real``: a duplicate root.

        A directory root is covered only when the globs cannot tell the two
        walks apart (they match paths relative to each root); then the earlier
        walk found everything this one would. A file root is covered when the
        earlier walk counted it (a regular file its filters let through).
        """
        filters = self.filters
        if is_dir and filters.globs is not None:
            return False
        if not is_dir and not regular:
            return False  # met in a walk, a FIFO or device is skipped, never counted
        return any(root.holds(real) and filters.reaches(root, real, is_dir) for root in self.dirs)

    def overlapping(self, real: str) -> list[_DirRoot]:
        """The earlier directory roots that the walk of ``real`` may meet again."""
        here = _DirRoot(real)
        return [root for root in self.dirs if here.holds(root.real) or root.holds(real)]

    def known_file(self, entry: os.DirEntry[str]) -> bool:
        """Whether ``entry`` (a regular file in a walk) is a file root met before."""
        if entry.inode() not in self.inodes:
            return False
        try:
            return entry.stat(follow_symlinks=False).st_dev in self.devices
        except OSError:
            return False


class _Tree:
    """One directory root being walked, and the earlier roots it overlaps."""

    __slots__ = ("inner", "overlaps", "real")

    def __init__(self, real: str, overlaps: list[_DirRoot]) -> None:
        self.real = real
        self.overlaps = overlaps
        # Earlier roots below this one, by the key the walk gives their directory.
        self.inner = {root.key: root for root in overlaps if root.real != real}


class _Filters:
    """The walk's filters, to tell whether the walk of a root reached a given path."""

    __slots__ = ("cache", "globs", "hidden", "ignore")

    def __init__(
        self, hidden: bool, ignore: bool, globs: _Globs | None, cache: dict[str, _Rules]
    ) -> None:
        self.hidden = hidden
        self.ignore = ignore
        self.globs = globs
        self.cache = cache

    def reaches(self, root: _DirRoot, real: str, is_dir: bool) -> bool:
        """Whether walking ``root`` finds ``real`` (a real path at or below it).

        The path is followed down from the root, name by name, through the
        same filters as the walk (globs, ignore files, hidden names, ``.git``).
        """
        if real == root.real:
            return True
        parent = root.real
        names = real[len(root.real) :].strip("/").split("/")
        for depth, name in enumerate(names):
            last = depth == len(names) - 1
            entry_is_dir = is_dir or not last
            if name == ".git":
                return False
            name_key = _key(name)
            key = _prefix(parent) + name_key
            verdict = None
            if self.globs is not None:
                verdict = self.globs.verdict(name_key, key[root.offset :], entry_is_dir)
            if verdict is None and self.ignore:
                ignored = _rules_above(parent, self.cache).verdict(name_key, key, entry_is_dir)
                verdict = None if ignored is None else not ignored
            if verdict is False:
                return False
            if verdict is None and not self.hidden and name.startswith("."):
                return False
            parent = os.path.join(parent, name)
        return True


def _counted(
    entry: os.DirEntry[str], key: str, overlaps: list[_DirRoot], seen: _Seen | None
) -> bool:
    """Whether an earlier root counted this file: it was a file root, or another walk found it."""
    if seen is None:
        return False
    if seen.known_file(entry):
        return True
    if not overlaps:
        return False
    real = "/" + key.replace("\0", "\n")
    return any(root.holds(real) and seen.filters.reaches(root, real, False) for root in overlaps)


def _walk_tree(
    root: str,
    root_st: os.stat_result,
    hidden: bool,
    ignore: bool,
    overrides: _Globs | None,
    follow: bool,
    cache: dict[str, _Rules],
    control: _Control,
    tree: _Tree | None = None,
    seen: _Seen | None = None,
) -> Iterator[Entry | Unit | str]:
    """Walk the directory ``root`` depth first, one sorted listing at a time.

    With ``tree`` and ``seen``, files that earlier roots counted come out as
    duplicates: a directory that is an earlier root (its files, one by one,
    when globs are given), and a file that was a root itself. Such a walk
    hands out no directory (the duplicates are known here only).
    """
    try:
        listing = _list(root)
    except OSError as exc:
        yield Entry(root, error=exc)
        return
    # Matching works on "keys": absolute real paths, so that ignore files above the
    # root can be matched too (by slicing off their directory's part).
    overlaps = tree.overlaps if tree is not None else []
    inner = tree.inner if tree is not None else {}
    # Files to look up one by one: file roots met before, or other roots with globs.
    check_files = seen is not None and bool(seen.inodes or (overlaps and overrides is not None))
    # Keys are needed to match rules and globs, and to recognise an earlier root.
    matching = ignore or overrides is not None or bool(inner)
    root_real = (tree.real if tree is not None else os.path.realpath(root)) if matching else "/"
    root_prefix = _prefix(root_real)
    root_offset = len(root_prefix)
    rules = _NO_RULES
    if ignore:
        above = _rules_above(os.path.dirname(root_real), cache) if root_prefix else _NO_RULES
        rules = above.enter(root, root_offset, _present(listing))
    root_ident = (root_st.st_dev, root_st.st_ino)
    stack = [_Frame(root, root_prefix, rules, listing, root_ident)]
    on_path = {root_ident}  # the directories being walked, to catch followed loops
    dups = None
    if seen is not None and (check_files or inner):
        dups = _Dups(seen, overlaps, inner, check_files)
    frames = _walk_frames(
        stack, on_path, root_offset, hidden, ignore, overrides, follow, control, dups
    )
    yield from cast("Iterator[Entry | Unit | str]", frames)  # Files only from walk_unit


class _Dups:
    """How a walk tells the files that earlier roots counted (see :func:`_walk_tree`)."""

    __slots__ = ("check_files", "inner", "overlaps", "seen")

    def __init__(
        self,
        seen: _Seen,
        overlaps: list[_DirRoot],
        inner: dict[str, _DirRoot],
        check_files: bool,
    ) -> None:
        self.seen = seen
        self.overlaps = overlaps
        self.inner = inner
        self.check_files = check_files

    def counted(self, entry: os.DirEntry[str], key: str, overrides: _Globs | None) -> bool:
        return _counted(entry, key, self.overlaps if overrides else [], self.seen)


def _plain_files(
    frame: _Frame, quick: tuple[re.Pattern[str], ...], hidden: bool, control: _Control
) -> Generator[Files | str, None, os.DirEntry[str] | None]:
    """Yield the run of ``frame``'s next regular files that no rule can concern.

    What :func:`_walk_frames` gives for them, without its general steps: a file
    whose name none of the ``quick`` regexes matches has no ignore verdict (see
    :attr:`_Rules.file_names`), so only the hidden rule is left. The run comes
    out as one :class:`Files` item with ``control.batches``, else as one path
    each. Return the first entry that needs the general steps, or None at the
    end of the frame (or where it is cut).
    """
    names: list[str] = []
    room = control.cut - frame.files if control.cut else -1
    stop: os.DirEntry[str] | None = None
    for entry in frame.entries:
        name = entry.name
        try:
            regular = entry.is_file(follow_symlinks=False)
        except OSError:
            stop = entry
            break
        if not regular or "\n" in name or (name[:1] == "." and (not hidden or name == ".git")):
            stop = entry
            break
        for rx in quick:
            if rx.match(name) is not None:
                stop = entry
                break
        if stop is not None:
            break
        names.append(name)
        if len(names) == room:
            frame.cut = True
            break
    if names:
        if control.budget > 0:
            control.budget = max(0, control.budget - len(names))
            control.spent = control.split = not control.budget
        if control.cut:
            frame.files += len(names)
        if control.batches:
            yield Files(frame.base, names)
        else:
            base = frame.base
            for name in names:
                yield base + name
    return stop


def _walk_frames(
    stack: list[_Frame],
    on_path: set[tuple[int, int]],
    root_offset: int,
    hidden: bool,
    ignore: bool,
    overrides: _Globs | None,
    follow: bool,
    control: _Control,
    dups: _Dups | None = None,
) -> Iterator[Entry | Unit | Files | str]:
    """The walk proper, from the directories on ``stack`` (the last one first)."""
    matching = ignore or overrides is not None or (dups is not None and bool(dups.inner))
    # Handing out work with only ignore files in force (the counting processes' case):
    # plain files go by in a loop of their own as long as names alone decide.
    plain = control.plain and not follow and overrides is None and dups is None
    while stack:
        if control.spent:
            # The budget ran out: the rest of every directory being walked goes out
            # as a unit, deepest first (walk order); a directory met meanwhile went
            # out as a unit of its own (split).
            control.spent = False
            for frame in stack:
                frame.cut = True
        frame = stack[-1]
        if frame.cut:
            # Enough files from this directory: the rest of it goes out as a unit.
            stack.pop()
            rest = next(frame.entries, None)
            if rest is not None:
                yield Unit(frame.path, frame.prefix, root_offset, rest.name)
            continue
        quick = frame.rules.file_names if ignore else ()
        if plain and quick is not None:
            entry = yield from _plain_files(frame, quick, hidden, control)
        else:
            entry = next(frame.entries, None)
        if entry is None:
            if frame.cut:
                continue
            stack.pop()
            if follow:
                on_path.discard(frame.ident)
            continue
        name = entry.name
        if name == ".git":
            continue
        path = frame.base + name

        kind, error, ident = _FILE, None, (0, 0)
        try:
            if entry.is_symlink():
                if follow:
                    target = os.stat(path)
                    kind, ident = _kind(target.st_mode), (target.st_dev, target.st_ino)
                else:
                    kind = _LINK
            elif entry.is_dir(follow_symlinks=False):
                kind = _DIR
                if follow:
                    st = entry.stat(follow_symlinks=False)
                    ident = (st.st_dev, st.st_ino)
            elif not entry.is_file(follow_symlinks=False):
                kind = _SPECIAL
        except OSError as exc:  # a dangling link when following, a vanished entry...
            kind, error = _BROKEN, exc
        is_dir = kind == _DIR

        # Filtering: globs first, then ignore files, then hidden (unless whitelisted).
        key = ""
        if matching:
            name_key = _key(name)
            key = frame.prefix + name_key
            verdict = None
            if overrides is not None:
                verdict = overrides.verdict(name_key, key[root_offset:], is_dir)
            if verdict is None and ignore:
                ignored = frame.rules.verdict(name_key, key, is_dir)
                verdict = None if ignored is None else not ignored
            if verdict is False:
                continue
            if verdict is None and not hidden and name.startswith("."):
                continue
        elif not hidden and name.startswith("."):
            continue

        if kind == _FILE:
            if dups is not None and dups.check_files and dups.counted(entry, key, overrides):
                yield Entry(path, skip_reason=SKIP_DUPLICATE)
                continue
            if not control.plain:
                yield Entry(path)
                continue
            yield path  # no object per file when handing out work
            if control.budget > 0:
                control.budget -= 1
                control.spent = control.split = not control.budget
            if control.cut:
                frame.files += 1
                frame.cut = frame.files >= control.cut
        elif is_dir:
            if dups is not None and dups.inner and overrides is None and key in dups.inner:
                # An earlier root, walked with the same filters: its files are counted.
                yield Entry(path, skip_reason=SKIP_DUPLICATE)
                continue
            if control.split and dups is None:
                yield Unit(path, key + "/" if matching else "", root_offset)
                continue
            if follow and ident in on_path:
                yield Entry(path, error=OSError(errno.ELOOP, "symlink loop", path))
                continue
            try:
                listing = _list(path)
            except OSError as exc:
                yield Entry(path, error=exc)
                continue
            prefix = key + "/" if matching else ""
            rules = frame.rules.enter(path, len(prefix), _present(listing)) if ignore else _NO_RULES
            stack.append(_Frame(path, prefix, rules, listing, ident))
            if follow:
                on_path.add(ident)
        elif kind == _LINK:
            yield Entry(path, skip_reason=SKIP_SYMLINK)
        elif kind == _SPECIAL:
            yield Entry(path, skip_reason=SKIP_SPECIAL)
        else:
            yield Entry(path, error=error)
