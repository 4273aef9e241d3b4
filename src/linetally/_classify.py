"""Code, comment and blank lines of a file's bytes, as tokei counts them. Pure: no I/O.

tokei decides line by line, and inside a line position by position: a string opens where a
quote starts (so a comment marker inside it is code), a block comment opens where its
start token is (nested where the language nests), a line comment ends the line, and a few
languages hand a part of the file to another one (Markdown code fences, Rust doc comments,
HTML ``<script>``/``<style>``). This module gives the same answers without a Python loop per
byte: per language one compiled regular expression consumes plain code, escapes, line
comments and the strings and comments that close on the line they open on, across many
lines at once; the lines it covers are classified in bulk with two more regular
expressions. Only a line where a construct stays open (or another language starts) is
scanned token by token, and the lines inside a construct cost nothing each: they are all
of one kind.

Languages made only of one-byte quotes, their tripled doc quotes and line comments (Python,
the shells, YAML, ...) take a faster road: the text is first translated so that plain code
is a run of a single-byte loop (see :meth:`_Syntax._fast_lexer`), a doc string is closed
with ``bytes.find``, and only blank and comment lines are counted, the rest being code.

Lines end at ``\\n``, ``\\r\\n`` or a lone ``\\r``, as :func:`linetally._counting.count_lines`
counts them, and ``code + comments + blanks`` always equals that count (see
:func:`classify` for the few places where tokei's own totals are not a file's lines).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Literal

from linetally._counting import count_lines
from linetally._langdata import BY_LOWER_NAME, EXTENSIONS, KEYS, MIMES, SPECS, Spec

__all__ = ["DOCSTRINGS", "Counts", "classify", "classify_detailed"]

DOCSTRINGS = ("code", "comment")
"""The values of ``docstrings``: how Python's doc strings count."""

Docstrings = Literal["code", "comment"]

_WS = b" \t\n\x0b\x0c\r"
_WS_CLASS = rb"[ \t\n\x0b\x0c\r]"
_HWS = rb"[ \t\x0b\x0c\r]"
_TEXT_AHEAD = rb"(?=[^\n]*[^ \t\n\x0b\x0c\r])"
_BLANK = re.compile(rb"^" + _HWS + rb"*\n", re.M)
_LINE_END = re.compile(rb"\n")

_MD_START = re.compile(rb"```\S+\s")
_MD_END = re.compile(rb"```\s?")
_SCRIPT_START = re.compile(rb'<script(?:.*type="(.*)")?.*?>')
_SCRIPT_END = re.compile(rb"</script>")
_STYLE_START = re.compile(rb'<style(?:.*lang="(.*)")?.*?>')
_STYLE_END = re.compile(rb"</style>")
_TEMPLATE_START = re.compile(rb'<template(?:.*lang="(.*)")?.*?>')
_TEMPLATE_END = re.compile(rb"</template>")
_LF_START = re.compile(rb"\{=")
_LF_END = re.compile(rb"=}")
_LF_TARGET = re.compile(rb"\btarget\s+(\w+)\s*($|;|\{)", re.M)
_RUST_DOC = {t: re.compile(_WS_CLASS + b"*" + re.escape(t)) for t in (b"///", b"//!")}

_HTML_LIKE = frozenset({"HTML", "Ruby HTML", "Svelte", "Vue", "Glimmer JS", "Glimmer TS"})
_MARKDOWN_LIKE = frozenset({"Markdown", "Unreal Markdown"})
_FORTRAN = frozenset({"FORTRAN Legacy", "FORTRAN Modern"})

_PLAIN, _STRING, _COMMENT = 0, 1, 2

# Kinds of the alternatives in the token-by-token scanner.
_ESC, _CTX, _QUOTE, _MULTI, _LINE = range(5)

_Token = tuple[int, bytes, bytes, bool, bool]
"""kind, start, end, is a doc string, is verbatim."""

_Fast = tuple[bytes, "re.Pattern[bytes]", dict[bytes, bytes]]
"""A fast lexer: translation table, regex over the translation, doc-quote closers."""


class Counts:
    """Code, comment and blank lines, with the part counted in embedded languages.

    ``children`` maps an embedded language to ``[code, comments, blanks]``, a part of the
    totals (not added to them).
    """

    __slots__ = ("blanks", "children", "code", "comments")

    def __init__(self) -> None:
        self.code = 0
        self.comments = 0
        self.blanks = 0
        self.children: dict[str, list[int]] = {}

    def __repr__(self) -> str:
        return (
            f"Counts(code={self.code}, comments={self.comments}, blanks={self.blanks}, "
            f"children={self.children})"
        )

    def add_child(self, language: str, child: Counts) -> None:
        """Add ``child``'s totals (its own children included) as lines of ``language``."""
        self.code += child.code
        self.comments += child.comments
        self.blanks += child.blanks
        mine = self.children.setdefault(language, [0, 0, 0])
        mine[0] += child.code - sum(v[0] for v in child.children.values())
        mine[1] += child.comments - sum(v[1] for v in child.children.values())
        mine[2] += child.blanks - sum(v[2] for v in child.children.values())
        for name, v in child.children.items():
            theirs = self.children.setdefault(name, [0, 0, 0])
            for i in range(3):
                theirs[i] += v[i]


def _alt(tokens: Iterable[bytes]) -> bytes:
    return b"|".join(re.escape(t) for t in tokens)


def _first_bytes(tokens: Iterable[bytes]) -> set[int]:
    return {t[0] for t in tokens if t}


def _class(chars: set[int], negate: bool = False) -> bytes:
    body = b"".join(re.escape(bytes([c])) for c in sorted(chars))
    return b"[" + (b"^" if negate else b"") + body + b"]"


class _Syntax:
    """One language's tokens compiled into the regular expressions the classifier runs."""

    def __init__(self, spec: Spec) -> None:
        self.name = spec.name
        self.literate = spec.literate
        self.fortran = spec.name in _FORTRAN
        self.line_comments = spec.line_comments
        self.multi = spec.multi_line_comments + spec.nested_comments
        self.doc_quotes = spec.doc_quotes
        self.quote_starts = tuple(s for s, _ in spec.quotes)
        self.pushable = frozenset(
            s for s, _ in (self.multi if spec.nested else spec.nested_comments)
        )
        if spec.name in _MARKDOWN_LIKE:
            self.family = "markdown"
            self.ctx: tuple[bytes, ...] = (b"```",)
        elif spec.name == "Rust":
            self.family = "rust"
            self.ctx = (b"///", b"//!")
        elif spec.name in _HTML_LIKE:
            self.family = "html"
            self.ctx = (b"<script", b"<style", b"<template")
        elif spec.name == "LinguaFranca":
            self.family = "lf"
            self.ctx = (b"{=",)
        else:
            self.family = ""
            self.ctx = ()
        # Plain-mode tokens in tokei's order of precedence at one position.
        quotes: list[_Token] = []
        quotes += [(_QUOTE, s, e, True, False) for s, e in spec.doc_quotes]
        quotes += [(_QUOTE, s, e, False, True) for s, e in spec.verbatim_quotes]
        quotes += [(_QUOTE, s, e, False, False) for s, e in spec.quotes]
        self.quotes = quotes
        important = [s for s, _ in spec.quotes] + [s for s, _ in spec.doc_quotes]
        important += [s for s, _ in self.multi] + list(spec.important_syntax)
        self.important = (
            re.compile(_alt(sorted(set(important), key=len, reverse=True))) if important else None
        )
        self._plain: dict[bool, re.Pattern[bytes]] = {}
        # Where the plain-code regex stops, the line has important syntax, unless the token
        # there ends in a space (trimmed away), is a tag HTML does not count as important,
        # or opens a verbatim string (tokei does not count those as important).
        self.check_full = (
            self.family == "html"
            or bool(spec.verbatim_quotes)
            or any(t[-1] in _WS for t in important)
        )
        self._scan: dict[bool, tuple[re.Pattern[bytes], list[_Token]]] = {}
        self._noctx: dict[bool, re.Pattern[bytes]] = {}
        self._string: dict[tuple[bytes, bool], re.Pattern[bytes]] = {}
        self._comment: dict[tuple[bytes, bool], re.Pattern[bytes]] = {}
        self._string_end: dict[tuple[bytes, bool], re.Pattern[bytes]] = {}
        self._comment_end: dict[tuple[bytes, bool], re.Pattern[bytes]] = {}
        self._kinds: dict[bool, tuple[re.Pattern[bytes], re.Pattern[bytes]]] = {}
        self.pairs = {s: e for s, e in self.multi[::-1]}
        self.multi_starts = tuple(s for s, _ in self.multi)
        self.multi_ends = {e: [s for s, e2 in self.multi if e2 == e] for _, e in self.multi}
        self.fast = self._fast_lexer(spec)

    # -- regular expressions -------------------------------------------------------------

    def _fast_lexer(self, spec: Spec) -> _Fast | None:
        """The plain-code lexer over a translated copy of the text, where it can be exact.

        For languages whose only constructs are one-byte quotes (at most two kinds), their
        tripled doc quotes and line comments, the text is translated byte for byte: the
        quotes to ``Q`` and ``q``, backslash and line feed to themselves, everything else to
        ``a``. Plain code is then a run of anything but ``Q``/``q``, a single-byte loop
        (case-insensitive) that ``re`` runs several times faster than the character class
        of :meth:`plain`. The lexer does not see line comments: a quote inside one may open
        a string that does not close on its line, where the lexer stops, so every line it
        consumes starts and ends in plain code, exactly as tokei has it. It stops at a quote
        preceded by two or more backslashes, at a string left open at the end of a line
        and at a doc string's start (handled by :meth:`_Run._fast`).
        """
        chars = [s for s, _ in spec.quotes]
        if (
            self.family
            or self.literate
            or self.fortran
            or self.multi
            or spec.verbatim_quotes
            or spec.important_syntax
            or self.check_full
            or not chars
            or len(chars) > 2
            or any(len(s) != 1 or e != s for s, e in spec.quotes)
            or len(set(chars)) != len(chars)
            or any(e != s or s != s[:1] * 3 or s[:1] not in chars for s, e in spec.doc_quotes)
            or any(not c or c[0] in b"\\\n" or c[:1] in chars for c in self.line_comments)
        ):
            return None
        letters = (b"Q", b"q")[: len(chars)]
        table = bytearray(b"a" * 256)
        for c, x in zip(chars, letters, strict=True):
            table[c[0]] = x[0]
        table[ord("\\")] = ord("\\")
        table[ord("\n")] = ord("\n")
        escapable = b"[\\\\" + b"".join(letters) + b"]"
        doc = {s[:1] for s, _ in spec.doc_quotes}
        run = rb"(?i:[^q])*+" if len(chars) == 2 else rb"[^Q]*+"
        alts: list[bytes] = []
        closers: dict[bytes, bytes] = {}
        for c, x in zip(chars, letters, strict=True):
            # inside a string: anything on the line but its own quote; an escape is ``\\``
            # followed by a backslash or a quote, or a lone backslash (not at the line's end)
            inner = rb"a++|" + b"".join(y + b"|" for y in letters if y != x)
            inner += b"\\\\" + escapable + rb"?+(?!\n)"
            # each alternative starts with its literal (``re`` skips the others at a glance);
            # the quote that opens a string is not escaped: no backslash before it
            # (checked once for all its forms); a one-line string first, the usual one
            opens = x + b"(?<!\\\\" + x + b")"
            single = b"a*+" + x + b"|(?:" + inner + b")*+" + x
            if c in doc:
                closers[x * 3] = c * 3
                triple = b"a*+" + x * 3 + b"|(?:" + inner + b"|" + x + b"(?!" + x * 2 + b"))*+"
                alts.append(
                    opens
                    + b"(?:(?!"
                    + x * 2
                    + b")(?:"
                    + single
                    + b")|"
                    + x * 2
                    + b"(?:"
                    + triple
                    + x * 3
                    + b"))"
                )
            else:
                alts.append(opens + b"(?:" + single + b")")
            alts.append(x + rb"(?<=\\" + x + rb")(?<!\\\\" + x + b")")  # escaped: plain code
        # one step: plain code up to a quote, then the string (or escaped quote) it starts
        rx = re.compile(b"(?:" + run + b"(?:" + b"|".join(alts) + b"))*+" + run)
        return bytes(table), rx, closers

    def _esc(self) -> bytes:
        """tokei skips ``\\\\`` and a backslash before a quote's start (two bytes)."""
        if not self.quote_starts:
            return rb"\\\\"
        return rb"\\\\|\\(?=" + _alt(self.quote_starts) + rb")[\s\S]"

    def _plain_tokens(self, vflag: bool) -> list[_Token]:
        toks: list[_Token] = []
        if not vflag:
            toks.append((_ESC, b"\\", b"", False, False))
        toks += [(_CTX, c, b"", False, False) for c in self.ctx]
        toks += self.quotes
        toks += [(_MULTI, s, e, False, False) for s, e in self.multi]
        toks += [(_LINE, c, b"", False, False) for c in self.line_comments]
        return toks

    def plain(self, vflag: bool) -> re.Pattern[bytes]:
        """Consumes plain code from a line start up to a construct that stays open."""
        rx = self._plain.get(vflag)
        if rx is None:
            rx = self._plain[vflag] = re.compile(self._plain_source(vflag))
        return rx

    def _plain_source(self, vflag: bool) -> bytes:
        # Tokens in precedence order: (first byte, rest of the token as a pattern, what to
        # consume after it, or None where the regex must stop: a construct left open).
        toks: list[tuple[int, bytes, bytes | None]] = []
        if not vflag:
            toks.append((ord("\\"), rb"\\", b""))
            if self.quote_starts:
                toks.append((ord("\\"), b"(?=" + _alt(self.quote_starts) + rb")[\s\S]", b""))
        toks += [(c[0], re.escape(c[1:]), None) for c in self.ctx]
        for _, s, e, _doc, verb in self.quotes:
            inline = self._inline_string(e, verb) if verb == vflag else None
            toks.append((s[0], re.escape(s[1:]), inline))
        for s, e in self.multi:
            toks.append((s[0], re.escape(s[1:]), self._inline_comment(e, vflag)))
        toks += [(c[0], re.escape(c[1:]), rb"[^\n]*+") for c in self.line_comments]
        if not toks:
            return rb"[\s\S]*+"
        groups: list[bytes] = []
        firsts = sorted({t[0] for t in toks})
        for first in firsts:
            mine = [t for t in toks if t[0] == first]
            alts: list[bytes] = []
            before: list[bytes] = []
            for _, rest, consume in mine:
                if consume is not None:
                    guard = b"(?!" + b"|".join(before) + b")" if before else b""
                    alts.append(guard + rest + consume)
                before.append(rest)
            alts.append(b"(?!" + b"|".join(before) + b")")  # not a token: a plain byte
            groups.append(re.escape(bytes([first])) + b"(?:" + b"|".join(alts) + b")")
        run = _class(set(firsts), negate=True) + b"++"
        return b"(?:" + b"|".join([run, *groups]) + b")*+"

    def _inline_string(self, end: bytes, verbatim: bool) -> bytes:
        stop = {end[0], ord("\n")}
        inner = [b"(?!" + re.escape(end) + b")"]
        if not verbatim:
            stop.add(ord("\\"))
            inner.append(b"(?:" + self._esc() + rb"|[^\n])")
        else:
            inner.append(rb"[^\n]")
        return (
            b"(?:" + _class(stop, negate=True) + b"++|" + b"".join(inner) + b")*+" + re.escape(end)
        )

    def _inline_comment(self, end: bytes, vflag: bool) -> bytes | None:
        starts = [s for s, _ in self.multi]
        pushable = [s for s in starts if s in self.pushable]
        skipped = [s for s in starts if s not in self.pushable]
        stop = {end[0], ord("\n")} | _first_bytes(starts)
        alts: list[bytes] = []
        if not vflag:
            stop.add(ord("\\"))
            alts.append(self._esc())
        tail = b"(?!" + re.escape(end) + b")(?:"
        if skipped:
            tail += _alt(skipped) + b"|"
        if pushable:
            tail += b"(?!" + _alt(pushable) + b")"
        tail += rb"[^\n])"
        alts.append(tail)
        return (
            b"(?:" + _class(stop, negate=True) + b"++|" + b"|".join(alts) + b")*+" + re.escape(end)
        )

    def line_kinds(self, treat: bool) -> tuple[re.Pattern[bytes], re.Pattern[bytes]]:
        """Blank lines (group 1 unset) and comment lines (group 1 non-empty), found by the line
        break before them (a literal first byte: the search runs at memchr speed), and the
        same for a line at the start of the buffer."""
        got = self._kinds.get(treat)
        if got is not None:
            return got
        end = _HWS + rb"*(?=\n)"
        multi = [
            re.escape(s) + rb"[^\n]*" + re.escape(e) + end
            for s, e in self.multi
            if e[-1] not in _WS  # a trimmed line never ends with it
        ]
        if treat:
            lc = b"(?:(?:" + _alt(self.line_comments) + rb")[^\n]*)?" if self.line_comments else b""
            multi += [
                re.escape(s)
                + b"(?:(?!"
                + re.escape(e)
                + rb")[^\n])*+"
                + re.escape(e)
                + _HWS
                + b"*"
                + lc
                + rb"(?=\n)"
                for s, e in self.doc_quotes
            ]
        # a token that ends in a space is inside the trimmed line only if text follows
        lcs = [re.escape(c) + (_TEXT_AHEAD if c[-1] in _WS else b"") for c in self.line_comments]
        if self.literate:
            body = _HWS + b"*+(?:(?=\n)|([^\n]))"
        elif not self.fortran:
            # The indentation: its run of spaces first (a single-byte loop, several times
            # faster in ``re`` than a character class); then most lines (code) show a byte
            # that neither more blanks nor a comment can start with, ruled out at one look.
            firsts = {ord(c) for c in "\t\n\x0b\x0c\r"} | {c[0] for c in self.line_comments}
            firsts |= {s[0] for s, _ in self.multi}
            firsts |= {s[0] for s, _ in self.doc_quotes} if treat else set()
            body = (
                rb" *+(?="
                + _class(firsts)
                + b")"
                + _HWS
                + b"*+(?:(?=\n)|("
                + b"|".join([*lcs, *multi] or [b"(?!)"])
                + b"))"
            )
        else:
            # Fortran: a line comment counts only from the first column, unless tokei looks
            # at the whole line (it has important syntax), which it trims first.
            imp = self.important.pattern if self.important else b"(?!)"
            alts = list(lcs)
            alts += [_HWS + b"+(?=[^\n]*(?:" + imp + b"))(?:" + c + b")" for c in lcs]
            alts += [_HWS + b"*" + c for c in multi]
            body = b"(?:" + _HWS + b"*(?=\n)|(" + b"|".join(alts or [b"(?!)"]) + b"))"
        got = self._kinds[treat] = (re.compile(b"\n" + body), re.compile(body))
        return got

    def scanner(self, vflag: bool) -> tuple[re.Pattern[bytes], list[_Token]]:
        """The next token in plain mode (one group per token, in tokei's precedence)."""
        got = self._scan.get(vflag)
        if got is None:
            toks = self._plain_tokens(vflag)
            parts: list[bytes] = []
            for kind, s, _e, _d, _v in toks:
                if kind == _ESC:
                    parts.append(b"(" + self._esc() + b")")
                elif kind == _CTX and self.family == "rust":
                    # tokei fires where the rest of the file, less leading whitespace, starts
                    # with the token: the first byte of a whitespace run (tokens never end in
                    # whitespace, so a scan never starts inside one), or a line's start
                    run = b"(?:(?<!" + _WS_CLASS + b")" + _WS_CLASS + b"*+|(?<![^\n])"
                    parts.append(b"(" + run + _HWS + b"*+)" + re.escape(s) + b")")
                else:
                    parts.append(b"(" + re.escape(s) + b")")
            got = self._scan[vflag] = (re.compile(b"|".join(parts)), toks)
        return got

    def no_context(self, vflag: bool) -> re.Pattern[bytes]:
        """A token other than a context switch starting right here."""
        rx = self._noctx.get(vflag)
        if rx is None:
            toks = [t for t in self._plain_tokens(vflag) if t[0] != _CTX]
            parts = [
                b"(" + (self._esc() if k == _ESC else re.escape(s)) + b")" for k, s, *_ in toks
            ]
            rx = self._noctx[vflag] = re.compile(b"|".join(parts) if parts else b"(?!)")
        return rx

    def string(self, end: bytes, verbatim: bool) -> re.Pattern[bytes]:
        """Inside a string: its end (group 1) or an escape (group 2)."""
        key = (end, verbatim)
        rx = self._string.get(key)
        if rx is None:
            src = b"(" + re.escape(end) + b")"
            if not verbatim:
                src += b"|(" + self._esc() + b")"
            rx = self._string[key] = re.compile(src)
        return rx

    def string_end(self, end: bytes, verbatim: bool) -> re.Pattern[bytes]:
        """From inside a string to just after its end, across lines (no match: it never
        ends)."""
        key = (end, verbatim)
        rx = self._string_end.get(key)
        if rx is None:
            stop = {end[0]} | (set() if verbatim else {ord("\\")})
            alts = [_class(stop, negate=True) + b"++"]
            if not verbatim:
                alts.append(self._esc())
            alts.append(b"(?!" + re.escape(end) + rb")[\s\S]")
            src = b"(?:" + b"|".join(alts) + b")*+" + re.escape(end)
            rx = self._string_end[key] = re.compile(src)
        return rx

    def comment_end(self, end: bytes, vflag: bool) -> re.Pattern[bytes]:
        """From inside a comment that does not nest to just after its end, across lines."""
        key = (end, vflag)
        rx = self._comment_end.get(key)
        if rx is None:
            stop = {end[0]} | _first_bytes(self.multi_starts) | (set() if vflag else {92})
            alts = [_class(stop, negate=True) + b"++"]
            if not vflag:
                alts.append(self._esc())
            alts.append(b"(?!" + re.escape(end) + b")(?:" + _alt(self.multi_starts) + rb"|[\s\S])")
            src = b"(?:" + b"|".join(alts) + b")*+" + re.escape(end)
            rx = self._comment_end[key] = re.compile(src)
        return rx

    def comment(self, end: bytes, vflag: bool) -> re.Pattern[bytes]:
        """Inside a block comment: an escape (1), the end (2), or a comment start (3...)."""
        key = (end, vflag)
        rx = self._comment.get(key)
        if rx is None:
            src = b"(" + (self._esc() if not vflag else b"(?!)") + b")"
            src += b"|(" + re.escape(end) + b")"
            for s, _ in self.multi:
                src += b"|(" + re.escape(s) + b")"
            rx = self._comment[key] = re.compile(src)
        return rx

    # -- line-level rules ----------------------------------------------------------------

    def is_full(self, data: bytes, ls: int, le: int) -> bool:
        """Whether tokei looks at this line position by position (important syntax)."""
        # tokei looks at the trimmed line: a token ending in a space (Forth's "( ") at the
        # end of a line does not count
        if self.important is None:
            return False
        return self.important.search(data[ls:le].strip(_WS)) is not None

    def simple_is_comment(self, line: bytes) -> bool:
        if self.literate:
            return True
        text = line if self.fortran else line.strip(_WS)
        return text.startswith(self.line_comments) if self.line_comments else False

    def line_is_comment(
        self,
        line: bytes,
        quote: bytes | None,
        qdoc: bool,
        stack: list[bytes],
        started: bool,
        treat: bool,
    ) -> bool:
        """tokei's verdict on a line it analysed in full."""
        if self.literate:
            return True
        if quote is not None:
            return qdoc and treat
        if started:  # whatever else tokei looks at, a line begun in a comment is one
            return True
        trimmed = line.strip(_WS)
        if trimmed.startswith(self.line_comments):
            return True
        if trimmed.startswith(self.multi_starts):
            for s, e in self.multi:
                if trimmed.startswith(s) and trimmed.endswith(e):
                    return True
        if stack:
            return any(trimmed.startswith(s) for s in self.multi_ends.get(stack[-1], ()))
        if treat and self.doc_quotes:
            # beyond tokei: a doc string opened and closed on its own line is a comment too
            m = self.line_kinds(True)[1].match(line if line.endswith(b"\n") else line + b"\n")
            return m is not None and m.group(1) is not None
        return False

    def bulk(
        self, data: bytes, a: int, b: int, out: Counts, treat: bool, code: bool = True
    ) -> None:
        """Classify whole lines ``[a, b)`` that start and end in plain mode (without
        ``code``, count only their blank and comment lines: the caller counts the rest)."""
        if a >= b:
            return
        after_break, at_start = self.line_kinds(treat)
        if a == 0:
            first = at_start.match(data, 0, b)
            kinds = [] if first is None else [first.group(1) or b""]
            kinds += after_break.findall(data, 0, b)
        else:
            kinds = after_break.findall(data, a - 1, b)
        blanks = kinds.count(b"")  # an unset group: a blank line
        comments = len(kinds) - blanks
        out.blanks += blanks
        out.comments += comments
        if code:
            out.code += data.count(b"\n", a, b) - blanks - comments


_SYNTAX: dict[str, _Syntax] = {}


def _syntax(language: str) -> _Syntax | None:
    syn = _SYNTAX.get(language)
    if syn is None:
        spec = SPECS.get(language)
        if spec is None:
            return None
        syn = _SYNTAX[language] = _Syntax(spec)
    return syn


def _trim_first_and_last_line(text: bytes) -> bytes:
    """tokei's trim of an embedded block (it drops the first byte of a non-blank start)."""
    n = len(text)
    start = 0
    for i, c in enumerate(text):
        if c == 10 or c not in _WS:
            start = min(i + 1, max(n - 1, 0))
            break
    end = max(n - 1, 0)
    for i in range(n - 1, -1, -1):
        c = text[i]
        if c == 10 or c not in _WS:
            end = i - 1 if (c == 10 and i > 0 and text[i - 1] == 13) else i
            break
    if not text[start:]:
        return b""
    return text[start : end + 1]


def _close(data: bytes, start: int, end: bytes) -> int:
    """Just after the first ``end`` from ``start`` that a backslash does not escape (an odd
    run of them right before it, as tokei pairs ``\\\\`` and skips ``\\"``), or -1."""
    j = data.find(end, start)
    while j >= 0:
        k = j
        while k > start and data[k - 1] == 92:
            k -= 1
        if not (j - k) & 1:
            return j + len(end)
        j = data.find(end, j + 1)
    return -1


def _parse(
    data: bytes, language: str, treat: bool, depth: int = 0, lines: int | None = None
) -> Counts:
    """tokei's counts for ``data`` (any bytes) as ``language``; totals may differ from lines.

    ``lines``, when known, is the number of lines of ``data`` (line feeds, plus one for a
    last line without one)."""
    if language == "Jupyter Notebooks":
        return _jupyter(data, treat, depth)
    if data and not data.endswith(b"\n"):
        data += b"\n"
    out = Counts()
    syn = _syntax(language)
    if syn is None:
        n = data.count(b"\n")
        blanks = len(_BLANK.findall(data))
        out.code, out.blanks = n - blanks, blanks
        return out
    run = _Run(syn, data, treat, depth, out)
    if syn.fast is not None and not treat:
        run._fast(syn.fast, data.count(b"\n") if lines is None else lines)
    else:
        run.run()
    return out


class _Run:
    """The state of one pass over a buffer (tokei's SyntaxCounter, driven by regexes)."""

    __slots__ = (
        "data",
        "depth",
        "first",
        "n",
        "out",
        "qdoc",
        "quote",
        "qverb",
        "stack",
        "syn",
        "treat",
    )

    def __init__(self, syn: _Syntax, data: bytes, treat: bool, depth: int, out: Counts) -> None:
        self.syn = syn
        self.data = data
        self.n = len(data)
        self.treat = treat
        self.depth = depth
        self.out = out
        self.quote: bytes | None = None
        self.qdoc = False
        self.qverb = False  # tokei's quote_is_verbatim: outlives the string, off = escapes
        self.stack: list[bytes] = []
        # the first match of a context regex on a line, as tokei computes once per line
        self.first: dict[tuple[re.Pattern[bytes], int, int], re.Match[bytes] | None] = {}

    def _first_match(
        self, rx: re.Pattern[bytes], ls: int, le: int, needs: bytes = b""
    ) -> re.Match[bytes] | None:
        """The first match of ``rx`` on the line: once per line (a line of many tags or
        fences would otherwise cost the line's length per tag)."""
        key = (rx, ls, le)
        if key not in self.first:
            # without ``needs`` on the line the regex cannot match
            found = not needs or self.data.find(needs, ls, le) >= 0
            self.first[key] = rx.search(self.data, ls, le) if found else None
        return self.first[key]

    def _fast(self, fast: _Fast, lines: int) -> None:
        """:meth:`run` for a language with a fast lexer (see :meth:`_Syntax._fast_lexer`).

        Only blank and comment lines are counted as they come: every other line of the
        ``lines`` is code. Where the lexer stops, a doc string's start (the common case,
        a multi-line doc string) or a comment line is settled here; any other line goes
        token by token through :meth:`_line` and :meth:`_inside`, as in :meth:`run`.
        """
        table, rx, closers = fast
        syn, data, n, out = self.syn, self.data, self.n, self.out
        lcs = syn.line_comments
        lc = lcs[0] if len(lcs) == 1 else None
        after_break, at_start = syn.line_kinds(False)
        # the lines the lexer consumed: b"" blank, a comment, None code (the first line)
        kinds: list[bytes | None] = []
        if n:
            first = at_start.match(data)
            kinds.append(None if first is None else first.group(1) or b"")
        findall = after_break.findall
        text = data.translate(table)
        match = rx.match
        pos = 0  # a line start in plain code
        while pos < n:
            m = match(text, pos)
            stop = m.end() if m is not None else pos  # it always matches
            if stop >= n:
                kinds += findall(data, pos - 1 if pos else 0, n)
                break
            ls = data.rfind(b"\n", pos, stop) + 1 or pos
            if pos < ls:
                kinds += findall(data, pos - 1 if pos else 0, ls)
            elif not pos:
                kinds.pop()  # the first line is not one the lexer consumed
            end = closers.get(text[stop : stop + 3])
            if (
                end is not None
                and (not stop or text[stop - 1] != 92)  # not after a backslash
                and (lc is None or data.find(lc, ls, stop) < 0)
                and (lc is not None or not any(data.find(c, ls, stop) >= 0 for c in lcs))
            ):
                # A doc string opens in plain code (no line comment before it).
                e = data.find(end, stop + 3)
                if e >= 0 and data[e - 1] == 92:
                    e = _close(data, stop + 3, end)  # a backslash before it: is it escaped?
                elif e >= 0:
                    e += len(end)
                k = data.rfind(b"\n", stop, e) if e >= 0 else -1
                if k >= 0:
                    # Its lines are code, the last one too unless it is a comment.
                    le = data.index(b"\n", e) + 1
                    if le == e + 1 or data[e:le].isspace():
                        if (lc is None or data.find(lc, k + 1, le) >= 0) and data[
                            k + 1 : le
                        ].lstrip(_WS).startswith(lcs):
                            out.comments += 1
                        pos = le  # in plain code again, as it was before the doc string
                        continue
                    pos = self._line(k + 1, le, e, started=False)
                    while pos < n and (self.quote is not None or self.stack):
                        pos = self._inside(pos)
                    continue
            le = data.index(b"\n", stop) + 1
            if data[ls:le].lstrip(_WS).startswith(lcs):
                # A comment line: the lexer stopped at a quote inside it.
                out.comments += 1
                pos = le
                continue
            pos = self._line(ls, le, ls, started=False)
            while pos < n and (self.quote is not None or self.stack):
                pos = self._inside(pos)
        blanks = kinds.count(b"")
        out.blanks += blanks
        out.comments += len(kinds) - blanks - kinds.count(None)
        out.code = lines - out.comments - out.blanks

    def run(self) -> None:
        syn, data, n, out = self.syn, self.data, self.n, self.out
        pos = 0
        while pos < n:
            if self.quote is not None or self.stack:
                pos = self._inside(pos)
                continue
            start = pos
            if pos == 0 or data[pos - 1] == 10:
                m = syn.plain(self.qverb).match(data, pos)
                stop = m.end() if m else pos  # it always matches
                if stop >= n:
                    syn.bulk(data, pos, n, out, self.treat)
                    return
                j = data.rfind(b"\n", pos, stop)
                ls = pos if j < 0 else j + 1
                # the line up to `stop` is plain code: scanning can start at `stop`
                start = stop
                if syn.family == "rust" and data.startswith((b"///", b"//!"), stop):
                    start = ls = self._rust_backup(pos, ls, stop)
                syn.bulk(data, pos, ls, out, self.treat)
                pos = ls
                le = data.index(b"\n", pos) + 1
                if not syn.check_full or syn.is_full(data, pos, le):
                    if start == stop and self._opens(ls, le, stop):
                        pos = le
                    else:
                        pos = self._line(pos, le, start, started=False)
                    continue
            le = data.index(b"\n", pos) + 1
            if not data[pos:le].strip(_WS):
                out.blanks += 1
                pos = le
            elif not syn.is_full(data, pos, le):
                if syn.simple_is_comment(data[pos:le]):
                    out.comments += 1
                else:
                    out.code += 1
                pos = le
            else:
                pos = self._line(pos, le, start, started=False)

    def _opens(self, ls: int, le: int, stop: int) -> bool:
        """If the plain-code regex stopped at a string or comment that it would have
        consumed had it closed on this line, enter it and count the line: True."""
        syn = self.syn
        rx, toks = syn.scanner(self.qverb)
        m = rx.match(self.data, stop)
        if m is None or m.lastindex is None:
            return False
        kind, _s, e, doc, verb = toks[m.lastindex - 1]
        if kind == _QUOTE and verb == self.qverb:
            self.quote, self.qdoc, self.qverb = e, doc, verb
        elif kind == _MULTI and not syn.pushable:
            self.stack.append(e)
        else:
            return False
        line = self.data[ls:le]
        if syn.line_is_comment(line, self.quote, self.qdoc, self.stack, False, self.treat):
            self.out.comments += 1
        else:
            self.out.code += 1
        return True

    def _rust_backup(self, pos: int, ls: int, stop: int) -> int:
        """Where tokei's Rust doc-comment check can fire first: the line before, if full."""
        data = self.data
        j = stop
        while j > pos and data[j - 1] in _WS:
            j -= 1
        if j >= ls:
            return ls
        k = data.rfind(b"\n", pos, j)
        ls0 = pos if k < 0 else k + 1
        le0 = data.index(b"\n", j) + 1
        return ls0 if self.syn.is_full(data, ls0, le0) else ls

    def _inside(self, ls: int) -> int:
        """At a line start inside a string or comment: skip to the line where it ends."""
        data, n, syn = self.data, self.n, self.syn
        comment_lines = bool(self.stack) or (self.treat and self.qdoc)
        e = n
        if self.quote is not None:
            m = syn.string_end(self.quote, self.qverb).match(data, ls)
            if m is not None:
                self.quote = None
                e = m.end()
        elif not syn.pushable:
            m = syn.comment_end(self.stack[-1], self.qverb).match(data, ls)
            if m is not None:
                self.stack.pop()
                e = m.end()
        else:
            pos = ls
            rx = syn.comment(self.stack[-1], self.qverb)
            while True:
                m = rx.search(data, pos)
                if m is None:
                    break
                pos = m.end()
                g = m.lastindex
                if g == 2:
                    self.stack.pop()
                    if not self.stack:
                        e = pos
                        break
                    rx = syn.comment(self.stack[-1], self.qverb)
                elif g is not None and g >= 3:
                    tok = m.group(g)
                    if tok in syn.pushable:
                        self.stack.append(syn.pairs[tok])
                        rx = syn.comment(self.stack[-1], self.qverb)
        k = data.rfind(b"\n", ls, e)
        me = ls if k < 0 else k + 1
        inner = data.count(b"\n", ls, n if e >= n else me)
        if comment_lines:
            self.out.comments += inner
        else:
            self.out.code += inner
        if e >= n:
            return n
        le = data.index(b"\n", e) + 1
        if data[e:le].isspace():  # nothing after the end: no need to scan
            line = data[me:le]
            if syn.line_is_comment(line, None, False, self.stack, comment_lines, self.treat):
                self.out.comments += 1
            else:
                self.out.code += 1
            return le
        return self._line(me, le, e, started=comment_lines)

    def _line(self, ls: int, le: int, pos: int, *, started: bool) -> int:
        """Scan one line from ``pos`` token by token; count it; return the next line start."""
        syn, data = self.syn, self.data
        endpos = min(self.n, le + 4096) if syn.family == "rust" else le
        while pos < le:
            if self.quote is not None:
                m = syn.string(self.quote, self.qverb).search(data, pos, le)
                if m is None:
                    break
                pos = m.end()
                if m.lastindex == 1:
                    self.quote = None
                continue
            if self.stack:
                m = syn.comment(self.stack[-1], self.qverb).search(data, pos, le)
                if m is None:
                    break
                pos = m.end()
                g = m.lastindex
                if g == 2:
                    self.stack.pop()
                elif g is not None and g >= 3:
                    tok = m.group(g)
                    if tok in syn.pushable:
                        self.stack.append(syn.pairs[tok])
                continue
            rx, toks = syn.scanner(self.qverb)
            m = rx.search(data, pos, endpos)
            if m is None or m.start() >= le:
                break
            g = m.lastindex
            assert g is not None
            kind, s, e, doc, verb = toks[g - 1]
            if kind == _CTX:
                restart = self._context(ls, le, m.start())
                if restart is not None:
                    return restart
                m2 = syn.no_context(self.qverb).match(data, m.start())
                if m2 is None:
                    pos = m.start() + 1
                    continue
                kind, s, e, doc, verb = [t for t in toks if t[0] != _CTX][(m2.lastindex or 1) - 1]
                m = m2
            if kind == _ESC:
                pos = m.end()
            elif kind == _QUOTE:
                self.quote = e
                self.qdoc = doc
                self.qverb = verb
                pos = m.start() + len(s)
            elif kind == _MULTI:
                self.stack.append(e)
                pos = m.start() + len(s)
            else:  # a line comment: the rest of the line is ignored
                break
        if syn.line_is_comment(data[ls:le], self.quote, self.qdoc, self.stack, started, self.treat):
            self.out.comments += 1
        else:
            self.out.code += 1
        return le

    # -- embedded languages --------------------------------------------------------------

    def _child(self, text: bytes, language: str) -> Counts:
        if self.depth > 20:  # a pathological nesting of fences: count the text flat
            return _parse(text, "", self.treat, self.depth + 1)
        return _parse(text, language, self.treat, self.depth + 1)

    def _context(self, ls: int, le: int, i: int) -> int | None:
        """tokei's switch to an embedded language at position ``i``; the restart position."""
        family = self.syn.family
        data, out = self.data, self.out
        if family == "rust":
            j = i
            while data[j] in _WS:
                j += 1
            more = _RUST_DOC[data[j : j + 3]]
            md: list[bytes] = []
            p = i
            end = self.n
            while p < self.n:
                q = data.find(b"\n", p)
                q = self.n if q < 0 else q + 1
                line = data[p:q]
                # tokei tests the rest of the file, so blank lines inside a block join it
                if more.match(data, p):
                    md.append(line.lstrip(_WS)[3:])
                    end = q
                    p = q
                else:
                    end = p
                    break
            out.add_child("Markdown", self._child(b"".join(md).strip(_WS), "Markdown"))
            return end
        if family == "markdown":
            m = self._first_match(_MD_START, ls, le)
            if m is None or m.start() != i:
                return None
            start = m.end()
            close = _MD_END.search(data, start)
            end_code = close.start() if close else self.n
            end_block = close.end() if close else self.n
            ident = m.group().strip(_WS)[3:]
            language = None
            for part in ident.split(b","):
                language = BY_LOWER_NAME.get(part.decode("utf-8", "replace").lower())
                if language is not None:
                    break
            if language is None:
                return None
            out.comments += 2 if close else 1
            out.add_child(language, self._child(data[start:end_code].strip(_WS), language))
            return end_block
        if family == "lf":
            m = self._first_match(_LF_START, ls, le)
            if m is None or m.start() != i:
                return None
            start = m.end()
            close = _LF_END.search(data, start)
            end_code = close.start() if close else self.n
            language = _lf_target(data)
            block = _trim_first_and_last_line(data[start:end_code])
            out.add_child(language, self._child(block, language))
            return end_code
        # HTML-like: <script>, then <style>, then <template>, each only where tokei's regex
        # first matches on the line.
        for opener, closer, default, by_mime in (
            (_SCRIPT_START, _SCRIPT_END, "JavaScript", True),
            (_STYLE_START, _STYLE_END, "CSS", False),
            (_TEMPLATE_START, _TEMPLATE_END, "HTML", False),
        ):
            m = self._first_match(opener, ls, le, b">")
            if m is None or m.start() != i:
                continue
            start = m.end()
            close = closer.search(data, start)
            if close is None:
                return None
            end_code = close.start()
            language = default
            if m.group(1) is not None:
                label = m.group(1).strip(_WS).decode("utf-8", "replace")
                found = MIMES.get(label) if by_mime else BY_LOWER_NAME.get(label.lower())
                language = found or default
            contents = data[start:end_code]
            if not contents.strip(_WS):
                return None
            out.code += 1
            out.add_child(language, self._child(_trim_first_and_last_line(contents), language))
            return end_code
        return None


def _lf_target(data: bytes) -> str:
    m = _LF_TARGET.search(data)
    if m is None:
        return "LinguaFranca"
    name = m.group(1).decode("utf-8", "replace")
    if name == "CCpp":
        return "C"
    if name in SPECS:
        return name
    return KEYS.get(name, "LinguaFranca")


def _jupyter(data: bytes, treat: bool, depth: int) -> Counts:
    """tokei's notebook counts: each cell's source as Markdown or the kernel's language."""
    import json  # only for notebooks

    out = Counts()
    try:
        nb = json.loads(data)
        cells = nb["cells"]
        meta = nb["metadata"]
        kernelspec, language_info = meta["kernelspec"], meta["language_info"]
        sources: list[tuple[bool, str]] = []
        for cell in cells:
            kind = cell["cell_type"]
            if kind not in ("markdown", "code"):
                return out
            src = cell["source"]
            if not isinstance(src, list) or not all(isinstance(s, str) for s in src):
                return out
            sources.append((kind == "markdown", "".join(src)))
    except (ValueError, KeyError, TypeError, RecursionError):
        return out
    language = None
    if isinstance(kernelspec, dict) and isinstance(kernelspec.get("language"), str):
        language = BY_LOWER_NAME.get(kernelspec["language"].lower())
    if language is None and isinstance(language_info, dict):
        ext = language_info.get("file_extension")
        if isinstance(ext, str):
            language = EXTENSIONS.get(ext)
    language = language or "Python"
    for markdown, text in sources:
        lang = "Markdown" if markdown else language
        raw = text.encode("utf-8", "surrogatepass")
        out.add_child(lang, _parse(raw, lang, treat, depth + 1))
    return out


def _normalise(data: bytes) -> bytes:
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    if b"\r" in data:
        data = data.replace(b"\r\n", b"\n").replace(b"\r", b"\n")
    return data


def classify_detailed(
    data: bytes | bytearray | memoryview | str,
    language: str | None,
    *,
    docstrings: Docstrings = "code",
) -> Counts:
    """:func:`classify`, with the lines counted in embedded languages broken out.

    ``Counts.children`` maps each embedded language (a Markdown fence's language, the
    JavaScript of an HTML ``<script>``, the Markdown of Rust doc comments, a notebook's
    cells) to the part of the totals counted as that language.
    """
    raw = data.encode("utf-8", "surrogatepass") if isinstance(data, str) else bytes(data)
    return _classify_counted(raw, language, docstrings, count_lines(raw))


def _classify_counted(
    raw: bytes, language: str | None, docstrings: Docstrings, lines: int
) -> Counts:
    """:func:`classify_detailed` of bytes whose :func:`count_lines` is already known."""
    if docstrings not in DOCSTRINGS:
        raise ValueError(f"docstrings must be 'code' or 'comment', not {docstrings!r}")
    if not lines:
        return Counts()
    text = _normalise(raw)
    # the normalised text has the same line breaks (one more line feed once terminated)
    counts = _parse(text, language or "", docstrings == "comment", lines=lines if text else None)
    _fit(counts, lines)
    return counts


def classify(
    data: bytes | bytearray | memoryview | str,
    language: str | None,
    *,
    docstrings: Docstrings = "code",
) -> tuple[int, int, int]:
    """``(code, comments, blanks)`` for a file's bytes in ``language``, as tokei counts them.

    ``language`` is a name from :func:`linetally._languages.detect` (tokei's display name);
    None or an unknown name counts every non-blank line as code. ``docstrings="comment"``
    counts Python-style doc strings (``\"\"\"...\"\"\"`` that start a line, one-line ones
    too) as comments; tokei and the default count them as code.

    ``data`` may be text (a file decoded from UTF-16, say): it is classified as UTF-8.
    The three always add up to the file's lines as :func:`count_lines` counts them. Lines
    in an embedded language (a Markdown fence, an HTML ``<script>``, a Rust doc comment, a
    notebook's cells) are included in the file's totals, as tokei's summary does. Where
    tokei's own totals are not the file's lines the difference is settled here: a line it
    leaves out (a blank line trimmed from an embedded block; a notebook's JSON lines
    outside its cells' sources) counts as blank, and a line it counts twice
    (a ``<script>`` and ``</script>`` on one line) is taken off the code. A lone ``\\r`` ends
    a line here, where tokei only splits at ``\\n``. Never raises for any bytes.
    """
    c = classify_detailed(data, language, docstrings=docstrings)
    return c.code, c.comments, c.blanks


def _fit(counts: Counts, lines: int) -> None:
    diff = lines - (counts.code + counts.comments + counts.blanks)
    if diff > 0:
        counts.blanks += diff
    elif diff < 0:
        extra = -diff
        for attr in ("code", "blanks", "comments"):
            take = min(extra, getattr(counts, attr))
            setattr(counts, attr, getattr(counts, attr) - take)
            extra -= take
