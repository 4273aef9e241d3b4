"""Which language a file is in, decided as tokei decides it. Pure: the caller reads the head.

In order: the whole file name (``Dockerfile``, ``Makefile``, ``CMakeLists.txt``, compared
lower-cased), a file-name suffix (``.blade.php``), then the extension (the text after the
last dot, lower-cased; ``.bashrc`` has none). Only a file with no extension at all is
recognised by its first line: ``#!/bin/bash`` and the other shebangs in tokei's table, or
``#!/usr/bin/env NAME`` where NAME starts with a known program (``python3.12``). An
unknown extension is not looked into: like tokei, ``notes.txt1`` stays unknown.
"""

from __future__ import annotations

import os

from linetally._langdata import ENV, EXTENSIONS, FILENAMES, KEYS, PATH_SUFFIXES, SHEBANGS, SPECS

__all__ = ["HEAD_SIZE", "detect", "from_tokei_key", "language_names", "needs_head"]

HEAD_SIZE = 128
"""How much of a file's start :func:`detect` looks at (tokei reads 128 bytes)."""


def _extension(name: str) -> str | None:
    """Rust's ``Path::extension``: None for ``.bashrc`` and for a name without a dot."""
    dot = name.rfind(".")
    if dot <= 0:
        return None
    return name[dot + 1 :]


def needs_head(path: str) -> bool:
    """Whether :func:`detect` would look at the file's first bytes (it has no extension
    and no known file name), so a caller can skip reading them for every other file."""
    name = os.path.basename(path).lower()
    if name in FILENAMES or any(name.endswith(s) for s, _ in PATH_SUFFIXES):
        return False
    return _extension(name) is None


def detect(path: str, head: bytes = b"") -> str | None:
    """The language of the file at ``path`` (tokei's display name), or None if unknown.

    ``head`` is the start of the file (at least :data:`HEAD_SIZE` bytes when there are that
    many); it is used only for a file without an extension, for its shebang line.
    """
    name = os.path.basename(path).lower()
    lang = FILENAMES.get(name)
    if lang is not None:
        return lang
    for suffix, lang in PATH_SUFFIXES:
        if name.endswith(suffix):
            return lang
    ext = _extension(name)
    if ext is not None:
        return EXTENSIONS.get(ext)
    return _from_shebang(head)


def _from_shebang(head: bytes) -> str | None:
    first = bytes(head[:HEAD_SIZE]).split(b"\n", 1)[0]
    try:
        text = first.decode("utf-8")
    except UnicodeDecodeError:
        return None
    words = text.split()
    if not words:
        return None
    lang = SHEBANGS.get(words[0])
    if lang is not None:
        return lang
    if words[0] == "#!/usr/bin/env" and len(words) > 1:
        for prefix, lang in ENV:
            if words[1].startswith(prefix):
                return lang
    return None


def language_names() -> list[str]:
    """Every language name :func:`detect` can return, sorted."""
    return sorted(SPECS)


def from_tokei_key(key: str) -> str | None:
    """The display name for tokei's identifier of a language (``Cpp`` -> ``C++``)."""
    return KEYS.get(key)
