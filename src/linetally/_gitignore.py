"""gitignore lines to regexes, the ones pathspec makes, without importing pathspec.

pathspec is the reference for what a gitignore line means, and the walk's
matchers are built on the shape of its regexes (see ``_Patterns`` in _walk).
Importing it costs 12-17 ms, a tenth of a run over a source tree, spent before
the counting processes can start. Ignore files are mostly lines like
``__pycache__/``, ``*.py[cod]`` or ``/build``: :func:`translate` turns such a
line into exactly the regex pathspec gives it (the tests check this against
pathspec itself), and :func:`compile_lines` leaves every other line (a
backslash, a line pathspec rejects) to pathspec, imported only then.
"""

from __future__ import annotations

import contextlib
import re

TYPE_CHECKING = False  # typing costs milliseconds before the counting processes start
if TYPE_CHECKING:
    from typing import Final

__all__ = ["Rule", "Unsupported", "compile_glob", "compile_lines", "translate"]

Rule = tuple["re.Pattern[str]", bool, str]
"""``(regex, include, line)``: a compiled line; ``include`` is False for a ``!`` line."""

_DIR_MARK: Final = "(?P<ps_d>/)"
"""The group pathspec puts where a directory's slash is: ``build/`` then matches
``build/x`` through the group, and the walk tells that from a match of the path."""


class Unsupported(Exception):
    """A line :func:`translate` leaves to pathspec."""


def translate(line: str) -> tuple[str, bool] | None:
    """``(regex, include)`` for ``line`` as pathspec's ``GitIgnoreSpec`` reads it.

    None for a line that matches nothing (blank, a comment, ``/``, a range that
    is not closed). Raises :class:`Unsupported` for a line with a backslash, or
    one pathspec would reject: :func:`compile_lines` asks pathspec about those.
    """
    if "\\" in line:
        raise Unsupported(line)  # escapes, and the trailing "\ " that keeps spaces
    text = line.rstrip()
    if not text or text[0] == "#" or text == "/":
        return None
    include = text[0] != "!"
    if not include:
        text = text[1:]
    segments = text.split("/")
    is_dir = not segments[-1]
    if not segments[0]:
        del segments[0]  # "/x": from the ignore file's directory only
    elif (len(segments) == 1 or (len(segments) == 2 and not segments[1])) and segments[0] != "**":
        segments.insert(0, "**")  # "x" and "x/": at any depth
    if not segments:
        raise Unsupported(line)  # pathspec rejects it
    if not segments[-1]:
        segments[-1] = "**"
    for i in range(len(segments) - 1, 0, -1):
        if segments[i - 1] == segments[i] == "**":
            del segments[i]
    shortcut = _shortcut(segments, is_dir)
    if shortcut is not None:
        return shortcut, include
    parts: list[str] = []
    need_slash = False
    end = len(segments) - 1
    for i, segment in enumerate(segments):
        if segment == "**":
            if i == 0:
                parts.append("^(?:.+/)?")
            elif i < end:
                parts.append("(?:/.+)?")
                need_slash = True
            else:
                parts.append(_DIR_MARK if is_dir else "/")
            continue
        if i == 0:
            parts.append("^")
        if need_slash:
            parts.append("/")
        if segment == "*":
            parts.append("[^/]+")
        else:
            glob = _glob(segment)
            if glob is None:
                return None  # git drops a line with a range that is not closed
            parts.append(glob)
        if i == end:
            parts.append(f"(?:{_DIR_MARK}|$)")
        need_slash = True
    return "".join(parts), include


def _shortcut(segments: list[str], is_dir: bool) -> str | None:
    """pathspec's own regexes for ``**``, ``**/``, ``*`` and ``*/``."""
    if segments == ["**"]:
        return _DIR_MARK if is_dir else "."
    if segments == ["**", "*"]:
        return "."
    if segments == ["**", "*", "**"]:
        return _DIR_MARK if is_dir else "/"
    return None


def _glob(segment: str) -> str | None:
    """The regex of one path segment's glob (no backslash in it); None for an open range."""
    out: list[str] = []
    i, end = 0, len(segment)
    while i < end:
        char = segment[i]
        i += 1
        if char == "*":
            out.append("[^/]*")
        elif char == "?":
            out.append("[^/]")
        elif char == "[":
            j = i
            if j < end and segment[j] in "!^":
                j += 1
            if j < end and segment[j] == "]":
                j += 1  # a "]" first in the set is one of its characters
            j = segment.find("]", j)
            if j < 0:
                return None
            j += 1
            negate = segment[i] in "!^"
            out.append("[^" + segment[i + 1 : j] if negate else "[" + segment[i:j])
            i = j
        else:
            out.append(re.escape(char))
    return "".join(out)


def compile_lines(lines: list[str]) -> list[Rule]:
    """The rules of ``lines`` in order, dropping lines that match nothing or that
    pathspec rejects (as git and ripgrep ignore a line they cannot read)."""
    rules: list[Rule] = []
    for line in lines:
        try:
            found = translate(line)
        except Unsupported:
            with contextlib.suppress(ValueError, re.error):
                rules.extend(_pathspec_rules(line))
            continue
        if found is not None:
            try:
                rules.append((re.compile(found[0]), found[1], line))
            except re.error:
                continue
    return rules


def compile_glob(line: str) -> list[Rule]:
    """The rules of one ``-g`` glob; ValueError (or re.error) if it is not a valid line."""
    try:
        found = translate(line)
    except Unsupported:
        return _pathspec_rules(line)
    return [] if found is None else [(re.compile(found[0]), found[1], line)]


def _pathspec_rules(line: str) -> list[Rule]:
    """pathspec's rules for ``line``; raises what pathspec raises for a line it rejects."""
    from pathspec import GitIgnoreSpec  # imported only for a line translate leaves

    patterns = GitIgnoreSpec.from_lines([line]).patterns
    return [r for p in patterns if (r := _rule(p)) is not None]


def _rule(pattern: object) -> Rule | None:
    regex = getattr(pattern, "regex", None)
    include = getattr(pattern, "include", None)
    text = getattr(pattern, "pattern", None)
    if regex is None or include is None or not isinstance(regex.pattern, str):
        return None
    return regex, bool(include), text if isinstance(text, str) else ""
