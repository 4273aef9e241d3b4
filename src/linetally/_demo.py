"""The files of ``linetally --demo``: the tutorial's samples, written to a temporary folder."""

from __future__ import annotations

import string
import tempfile
from pathlib import Path

__all__ = ["DEMO_DELAY", "DEMO_FILES", "write_demo"]

DEMO_DELAY = 0.15
"""Seconds per line in the demo: its longest file (17 lines) takes about 2.5 s to watch."""

_SCRIPT = """\
# count.py: count the lines of files, one after the other

import sys


def count_lines(name):
    with open(name, mode="rb") as file:
        return sum(1 for _ in file)


def main(names):
    for name in names:
        print(f"{name:<20} {count_lines(name)}")


if __name__ == "__main__":
    main(sys.argv[1:])
"""

_POEM = """\
Files come in many shapes:
some are long and some are short,
some end without a newline,
some are empty, some are binary,
some are not there at all.
A line counter that is worth its salt
counts every one it can,
and says why it could not count the rest,
all of them together, at the end,
grouped by what went wrong.
"""


def _rot13() -> str:
    chars = string.ascii_uppercase
    return "\n".join(a + b for a, b in zip(chars[:13], chars[13:], strict=True))


DEMO_FILES: dict[str, bytes | None] = {
    "count.py": _SCRIPT.encode(),
    "rot13.txt": _rot13().encode(),
    "empty_file.txt": b"",
    "not_utf8.txt": bytes([98, 108, 229, 98, 230, 114, 115, 121, 108, 116, 101, 116, 248, 121]),
    "poem.txt": _POEM.encode(),
    "windows.txt": _POEM.replace("\n", "\r\n").encode(),
    "wrong_name.txt": None,
}
"""Name -> content; None is a name that is deliberately not written (a missing file)."""


def write_demo() -> tuple[tempfile.TemporaryDirectory[str], list[str]]:
    """Write the demo files to a new temporary folder; return it and the paths to count."""
    folder = tempfile.TemporaryDirectory(prefix="linetally-demo-")
    root = Path(folder.name)
    for name, content in DEMO_FILES.items():
        if content is not None:
            (root / name).write_bytes(content)
    return folder, list(DEMO_FILES)
