"""Tests for linetally._walk: which paths a walk yields, in which order, and why."""

from __future__ import annotations

import errno
import json
import os
import signal
import subprocess
import tracemalloc
from collections.abc import Iterator, Mapping
from pathlib import Path
from types import FrameType

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from linetally import _walk
from linetally._gitignore import compile_lines
from linetally._walk import Entry, walk

GIT_ENV = {
    **os.environ,
    "GIT_CONFIG_GLOBAL": os.devnull,
    "GIT_CONFIG_NOSYSTEM": "1",
}

Tree = Mapping[str, "str | bytes | Tree"]


def make(base: Path, tree: Tree) -> None:
    """Create ``tree`` under ``base``: str/bytes values are file contents, dicts are dirs."""
    base.mkdir(parents=True, exist_ok=True)
    for name, content in tree.items():
        if isinstance(content, str):
            (base / name).write_text(content)
        elif isinstance(content, bytes):
            (base / name).write_bytes(content)
        else:
            make(base / name, content)


def git_init(path: Path) -> None:
    path.mkdir(parents=True, exist_ok=True)
    subprocess.run(["git", "init", "-q", str(path)], check=True, env=GIT_ENV)


def paths(*roots: str | Path, **options: object) -> list[str]:
    """The paths a walk yields to be counted (neither skipped nor failed)."""
    entries = list(walk([str(r) for r in roots], **options))  # type: ignore[arg-type]
    assert all(e.skip_reason is None and e.error is None for e in entries), entries
    return [e.path for e in entries]


def rel(base: Path, found: list[str]) -> list[str]:
    return [os.path.relpath(p, base) for p in found]


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    """A git work tree with nested ignore rules of every kind, and hidden names."""
    root = tmp_path / "repo"
    git_init(root)
    with open(root / ".git" / "info" / "exclude", "a") as f:
        f.write("excluded.md\n")
    make(
        root,
        {
            ".gitignore": "*.log\nbuild/\n/rootonly.py\n# a comment\n\n",
            ".ignore": "!keep.log\nsecret.py\n",
            ".hidden.py": "",
            ".hiddendir": {"x.py": ""},
            "a.py": "",
            "a.log": "",
            "keep.log": "",
            "excluded.md": "",
            "rootonly.py": "",
            "secret.py": "",
            "build": {"out.py": "", "deep": {"x.py": ""}},
            "sub": {
                ".gitignore": "!important.log\n*.tmp\n",
                "build": "a file, so the directory-only build/ does not match it",
                "important.log": "",
                "other.log": "",
                "rootonly.py": "",
                "x.tmp": "",
                "z.py": "",
            },
        },
    )
    return root


REPO_DEFAULT = [
    "a.py",
    "keep.log",  # .ignore's !keep.log beats .gitignore's *.log
    "sub/build",
    "sub/important.log",  # the child .gitignore re-includes it
    "sub/rootonly.py",  # /rootonly.py is anchored to the top .gitignore
    "sub/z.py",
]


def test_git_repo_rules_exact_order(repo: Path) -> None:
    assert paths(repo) == [str(repo / p) for p in REPO_DEFAULT]


def test_ignored_directory_is_not_descended(repo: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    listed: list[str] = []
    real_scandir = os.scandir

    def recording_scandir(path: str) -> object:
        listed.append(path)
        return real_scandir(path)

    monkeypatch.setattr("linetally._walk.os.scandir", recording_scandir)
    list(walk([str(repo)]))
    assert listed == [str(repo), str(repo / "sub")]


def test_parent_rules_apply_to_a_subdirectory_root(repo: Path) -> None:
    # The top .gitignore (*.log) and .git/info/exclude apply from above the root.
    (repo / "sub" / "excluded.md").touch()
    assert paths(repo / "sub") == [
        str(repo / "sub" / p) for p in ["build", "important.log", "rootonly.py", "z.py"]
    ]


def test_ignored_directory_named_as_root_is_walked(repo: Path) -> None:
    # As in ripgrep: rules apply to what is inside, not to the directory the user names.
    assert paths(repo / "build") == [str(repo / "build/deep/x.py"), str(repo / "build/out.py")]
    (repo / "build" / "noise.log").touch()
    assert paths(repo / "build") == [str(repo / "build/deep/x.py"), str(repo / "build/out.py")]


def test_display_paths_keep_the_root_as_given(repo: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(repo)
    assert paths(".") == ["./" + p for p in REPO_DEFAULT]
    assert paths("sub/") == ["sub/build", "sub/important.log", "sub/rootonly.py", "sub/z.py"]
    assert paths("sub") == ["sub/build", "sub/important.log", "sub/rootonly.py", "sub/z.py"]
    monkeypatch.chdir(repo / "sub")
    assert paths("..") == ["../" + p for p in REPO_DEFAULT]


def test_hidden_true_shows_hidden_but_never_dot_git(repo: Path) -> None:
    (repo / ".git" / "looks_like_source.py").touch()
    assert rel(repo, paths(repo, hidden=True)) == [
        ".gitignore",
        ".hidden.py",
        ".hiddendir/x.py",
        ".ignore",
        *REPO_DEFAULT[:2],
        "sub/.gitignore",
        *REPO_DEFAULT[2:],
    ]


def test_ignore_false_shows_ignored_files_but_not_hidden(repo: Path) -> None:
    assert rel(repo, paths(repo, ignore=False)) == [
        "a.log",
        "a.py",
        "build/deep/x.py",
        "build/out.py",
        "excluded.md",
        "keep.log",
        "rootonly.py",
        "secret.py",
        "sub/build",
        "sub/important.log",
        "sub/other.log",
        "sub/rootonly.py",
        "sub/x.tmp",
        "sub/z.py",
    ]
    assert len(paths(repo, ignore=False, hidden=True)) == 14 + 5


def test_explicit_hidden_and_ignored_files_are_always_yielded(repo: Path) -> None:
    named = [repo / ".hidden.py", repo / "a.log", repo / "build/out.py", repo / "excluded.md"]
    assert paths(*named) == [str(p) for p in named]
    assert paths(*named, globs=["!*"]) == [str(p) for p in named]


def test_gitignore_outside_a_git_tree_has_no_effect(tmp_path: Path) -> None:
    if any((parent / ".git").exists() for parent in tmp_path.parents):
        pytest.skip(f"{tmp_path} is itself inside a git work tree")
    outside = tmp_path / "outside"
    make(outside, {".gitignore": "*.txt\n", "a.txt": "", "b.py": "", "d": {"c.txt": ""}})
    assert rel(outside, paths(outside)) == ["a.txt", "b.py", "d/c.txt"]


def test_ignore_file_applies_outside_git(tmp_path: Path) -> None:
    outside = tmp_path / "outside"
    make(outside, {".ignore": "*.txt\n", "a.txt": "", "b.py": "", "d": {"c.txt": ""}})
    assert rel(outside, paths(outside)) == ["b.py"]
    assert rel(outside / "d", paths(outside / "d")) == []


def test_precedence_between_ignore_files(tmp_path: Path) -> None:
    root = tmp_path / "r"
    git_init(root)
    (root / ".git" / "info" / "exclude").write_text("*.md\n*.c\n")
    make(
        root,
        {
            ".gitignore": "!README.md\n*.c\n!main.c\n",  # .gitignore beats exclude
            ".ignore": "main.c\n",  # .ignore beats .gitignore
            "README.md": "",
            "NOTES.md": "",
            "main.c": "",
            "util.c": "",
            "d": {
                ".gitignore": "!util.c\n",  # deeper beats shallower
                "util.c": "",
                "other.c": "",
                ".ignore": "!main.c\n",
                "main.c": "",
            },
        },
    )
    assert rel(root, paths(root)) == ["README.md", "d/main.c", "d/util.c"]


def test_ignore_whitelist_beats_hidden_like_ripgrep(tmp_path: Path) -> None:
    root = tmp_path / "r"
    make(
        root, {".ignore": "!.env\n!.github/\n", ".env": "", ".other": "", ".github": {"w.yml": ""}}
    )
    assert rel(root, paths(root)) == [".env", ".github/w.yml"]


def test_nested_repository_ignores_outer_gitignore(tmp_path: Path) -> None:
    outer = tmp_path / "outer"
    git_init(outer)
    (outer / ".gitignore").write_text("*.log\n")
    git_init(outer / "inner")
    make(outer, {"a.log": "", "inner": {"b.log": "", "c.py": ""}})
    assert rel(outer, paths(outer)) == ["inner/b.log", "inner/c.py"]
    assert rel(outer, paths(outer / "inner")) == ["inner/b.log", "inner/c.py"]


def test_git_file_work_tree_uses_its_gitdir_exclude(tmp_path: Path) -> None:
    gitdir = tmp_path / "store" / "worktrees" / "w"
    common = tmp_path / "store"
    make(common, {"info": {"exclude": "*.tmp\n"}})
    gitdir.mkdir(parents=True)
    (gitdir / "commondir").write_text("../..\n")
    root = tmp_path / "w"
    make(root, {".git": f"gitdir: {gitdir}\n", ".gitignore": "*.log\n", "a.log": "", "b.tmp": ""})
    (root / "c.py").touch()
    assert rel(root, paths(root)) == ["c.py"]


def test_ignore_file_quirks(tmp_path: Path) -> None:
    root = tmp_path / "r"
    git_init(root)
    make(
        root,
        {
            # A BOM, CRLF line ends, an invalid pattern and a non-UTF-8 name.
            ".gitignore": b"\xef\xbb\xbf*.log\r\n[z-a]\r\nbad\xff.txt\r\n\\#hash\r\n",
            "a.log": "",
            "#hash": "",
            "b.txt": "",
        },
    )
    (root / os.fsdecode(b"bad\xff.txt")).touch()
    assert rel(root, paths(root)) == ["b.txt"]


def test_fifo_named_gitignore_does_not_hang(tmp_path: Path) -> None:
    root = tmp_path / "r"
    git_init(root)
    os.mkfifo(root / ".gitignore")
    os.mkfifo(root / ".ignore")
    (root / "a.py").touch()

    def give_up(signum: int, frame: FrameType | None) -> None:
        raise TimeoutError("walk blocked on a FIFO")

    previous = signal.signal(signal.SIGALRM, give_up)
    signal.alarm(20)
    try:
        assert rel(root, paths(root)) == ["a.py"]
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)


# -- globs ---------------------------------------------------------------------------

GLOB_TREE: Tree = {
    "a.py": "",
    "b.txt": "",
    "docs": {"x.md": "", "y.py": ""},
    "tests": {"helper.py": "", "test_a.py": "", "data.txt": ""},
}


@pytest.mark.parametrize(
    ("globs", "expected"),
    [
        (["*.py"], ["a.py", "docs/y.py", "tests/helper.py", "tests/test_a.py"]),
        (
            ["*.py", "*.md"],
            ["a.py", "docs/x.md", "docs/y.py", "tests/helper.py", "tests/test_a.py"],
        ),
        (["!tests"], ["a.py", "b.txt", "docs/x.md", "docs/y.py"]),
        (["!*.py"], ["b.txt", "docs/x.md", "tests/data.txt"]),
        (["*.py", "!test_*"], ["a.py", "docs/y.py", "tests/helper.py"]),
        (["!test_*", "*.py"], ["a.py", "docs/y.py", "tests/helper.py"]),  # order-free
        (["*.py", "!tests/"], ["a.py", "docs/y.py"]),
        (["/*.py"], ["a.py"]),  # anchored at the walked root
        (["tests/*.py"], ["tests/helper.py", "tests/test_a.py"]),
        (["docs/**"], ["docs/x.md", "docs/y.py"]),
    ],
)
def test_globs(tmp_path: Path, globs: list[str], expected: list[str]) -> None:
    make(tmp_path / "g", GLOB_TREE)
    assert rel(tmp_path / "g", paths(tmp_path / "g", globs=globs)) == expected


def test_globs_are_relative_to_each_walked_root(tmp_path: Path) -> None:
    make(tmp_path / "g", GLOB_TREE)
    assert paths(tmp_path / "g" / "tests", globs=["/helper.py"]) == [
        str(tmp_path / "g/tests/helper.py")
    ]


def test_globs_override_ignore_files_and_hidden(repo: Path) -> None:
    assert rel(repo, paths(repo, globs=["*.log"])) == [
        "a.log",
        "keep.log",
        "sub/important.log",
        "sub/other.log",
    ]
    # A negated glob beats a whitelist in an ignore file.
    assert rel(repo, paths(repo, globs=["!keep.log"])) == [
        p for p in REPO_DEFAULT if p != "keep.log"
    ]
    # As in ripgrep, a file picked by a glob is counted even if hidden.
    assert rel(repo, paths(repo, globs=["*.py"])) == [
        ".hidden.py",
        "a.py",
        "rootonly.py",
        "secret.py",
        "sub/rootonly.py",
        "sub/z.py",
    ]


def test_globs_do_not_filter_named_roots(tmp_path: Path) -> None:
    make(tmp_path / "g", GLOB_TREE)
    named = tmp_path / "g" / "b.txt"
    assert paths(named, tmp_path / "g" / "docs", globs=["*.py"]) == [
        str(named),
        str(tmp_path / "g/docs/y.py"),
    ]


def test_invalid_arguments_raise_at_call_time() -> None:
    with pytest.raises(ValueError, match="invalid glob"):
        walk(["."], globs=["a\\"])
    with pytest.raises(TypeError):
        walk(".")
    with pytest.raises(TypeError):
        walk(["."], globs="*.py")


# -- symlinks ------------------------------------------------------------------------


@pytest.fixture
def links(tmp_path: Path) -> Path:
    root = tmp_path / "l"
    make(root, {"d": {"f.txt": "", "sub": {"g.txt": ""}}, "file.txt": ""})
    os.symlink("file.txt", root / "to_file")
    os.symlink("d", root / "to_dir")
    os.symlink("nowhere", root / "dangling")
    os.symlink("..", root / "d" / "sub" / "loop")
    os.symlink("file.txt", root / ".hidden_link")
    return root


def test_symlinks_are_reported_not_followed_by_default(links: Path) -> None:
    entries = list(walk([str(links)]))
    assert entries == [
        Entry(str(links / "d/f.txt")),
        Entry(str(links / "d/sub/g.txt")),
        Entry(str(links / "d/sub/loop"), skip_reason="symlink"),
        Entry(str(links / "dangling"), skip_reason="symlink"),
        Entry(str(links / "file.txt")),
        Entry(str(links / "to_dir"), skip_reason="symlink"),
        Entry(str(links / "to_file"), skip_reason="symlink"),
    ]


def test_follow_symlinks(links: Path) -> None:
    entries = list(walk([str(links)], follow=True))
    found = [(os.path.relpath(e.path, links), e.skip_reason, type(e.error)) for e in entries]
    assert found == [
        ("d/f.txt", None, type(None)),
        ("d/sub/g.txt", None, type(None)),
        ("d/sub/loop", None, OSError),
        ("dangling", None, FileNotFoundError),
        ("file.txt", None, type(None)),
        ("to_dir/f.txt", None, type(None)),
        ("to_dir/sub/g.txt", None, type(None)),
        ("to_dir/sub/loop", None, OSError),
        ("to_file", None, type(None)),
    ]
    errors = {os.path.relpath(e.path, links): e.error for e in entries if e.error}
    assert errors["dangling"].errno == errno.ENOENT
    assert errors["dangling"].filename == str(links / "dangling")
    for name in ("d/sub/loop", "to_dir/sub/loop"):
        assert errors[name].errno == errno.ELOOP
        assert errors[name].filename == str(links / name)


def test_follow_self_link_chain_is_an_error_not_a_hang(tmp_path: Path) -> None:
    os.symlink("a", tmp_path / "b")
    os.symlink("b", tmp_path / "a")
    entries = list(walk([str(tmp_path)], follow=True))
    assert [(e.path, e.error.errno) for e in entries if e.error] == [
        (str(tmp_path / "a"), errno.ELOOP),
        (str(tmp_path / "b"), errno.ELOOP),
    ]


def test_root_symlink_to_directory_is_walked(links: Path) -> None:
    assert paths(links / "to_dir", globs=["*.txt"]) == [
        str(links / "to_dir/f.txt"),
        str(links / "to_dir/sub/g.txt"),
    ]
    assert paths(links / "to_file") == [str(links / "to_file")]


# -- special files, odd names, roots -------------------------------------------------


def test_fifo_inside_walk_is_skipped_but_counted_when_named(tmp_path: Path) -> None:
    os.mkfifo(tmp_path / "pipe")
    os.mkfifo(tmp_path / ".hidden_pipe")
    (tmp_path / "a.txt").touch()
    assert list(walk([str(tmp_path)])) == [
        Entry(str(tmp_path / "a.txt")),
        Entry(str(tmp_path / "pipe"), skip_reason="special file"),
    ]
    # Named explicitly: yielded for counting (walk itself never opens it).
    assert list(walk([str(tmp_path / "pipe")])) == [Entry(str(tmp_path / "pipe"))]


def test_stdin_missing_and_empty_roots(tmp_path: Path) -> None:
    missing = str(tmp_path / "missing")
    assert list(walk(["-", missing])) == [Entry("-"), Entry(missing)]


ODD_NAMES = [
    "new\nline.txt",
    "tab\there.txt",
    "\x1b[31mred\x1b[0m.txt",
    "[bold red].txt",
    "trailing newline.log\n",
    " space .txt",
    os.fsdecode(b"latin1-\xe5\xe6\xf8.txt"),
    os.fsdecode(b"\xff\xfe-not-utf8.txt"),
]


def test_odd_names_are_yielded_and_round_trip(tmp_path: Path) -> None:
    root = tmp_path / "odd"
    git_init(root)
    # "**/deep.log" compiles to a regex with ".+", which a newline in a name would stop.
    (root / ".gitignore").write_text("*.log\n**/deep.log\n")
    odd_dir = b"dir\n\xff\x1b"
    os.mkdir(os.fsencode(root) + b"/" + odd_dir)
    created = [os.fsencode(n) for n in ODD_NAMES]
    created += [odd_dir + b"/" + n for n in (b"inner.log", b"deep.log", b"inner.txt", b"x.log\n")]
    for name in created:
        os.close(os.open(os.fsencode(root) + b"/" + name, os.O_CREAT | os.O_WRONLY))

    found = paths(root)
    expected = [
        *ODD_NAMES,
        os.fsdecode(odd_dir + b"/inner.txt"),
        os.fsdecode(odd_dir + b"/x.log\n"),
    ]
    assert sorted(os.path.relpath(p, root) for p in found) == sorted(expected)
    for path in found:
        assert isinstance(path, str)
        assert os.path.exists(os.fsencode(path))
        assert os.fsdecode(os.fsencode(path)) == path


# -- streaming -----------------------------------------------------------------------


@pytest.fixture(scope="module")
def big_tree(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """100,000 empty files in 100 folders (plus a .gitignore, so matching runs too)."""
    root = tmp_path_factory.mktemp("big")
    git_init(root)
    (root / ".gitignore").write_text("*.log\n__pycache__/\nbuild/\n")
    base = os.fsencode(root)
    for d in range(100):
        folder = base + b"/d%03d" % d
        os.mkdir(folder)
        for f in range(1000):
            os.close(os.open(folder + b"/f%04d.py" % f, os.O_CREAT | os.O_WRONLY, 0o644))
    return root


@pytest.mark.slow
def test_walk_streams_first_entry_before_listing_everything(
    big_tree: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    events: list[str] = []
    real_scandir = os.scandir

    def recording_scandir(path: str) -> object:
        events.append("list")
        return real_scandir(path)

    monkeypatch.setattr("linetally._walk.os.scandir", recording_scandir)
    entries = walk([str(big_tree)])
    assert events == []  # nothing happens before the first next()
    count = 0
    for _entry in entries:
        if count == 0:
            events.append("entry")
        count += 1
    assert count == 100_000
    # The root and the first folder are listed, then entries flow; 99 folders later.
    assert events[:3] == ["list", "list", "entry"]
    assert events.count("list") == 101


@pytest.mark.slow
def test_walk_memory_stays_bounded(big_tree: Path) -> None:
    tracemalloc.start()
    try:
        count = sum(1 for _ in walk([str(big_tree)]))
        _current, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert count == 100_000
    # Holding 100,000 Entry objects and their paths would take well over 10 MB;
    # one folder's sorted listing (1,000 DirEntry) is a few hundred KB.
    assert peak < 3_000_000, peak


# -- permissions ---------------------------------------------------------------------


def _walk_here() -> list[tuple[str, str | None, int | None]]:
    return [
        (e.path, type(e.error).__name__, e.error.errno) if e.error else (e.path, None, None)
        for e in walk(["."])
    ]


def test_unlistable_directory_gives_an_error_entry(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = tmp_path / "perm"
    make(root, {"a.txt": "", "locked": {"secret.txt": ""}, "z.txt": ""})
    (root / "locked").chmod(0)
    expected = [
        ["./a.txt", None, None],
        ["./locked", "PermissionError", errno.EACCES],
        ["./z.txt", None, None],
    ]
    try:
        if os.geteuid() != 0:
            monkeypatch.chdir(root)
            assert [list(r) for r in _walk_here()] == expected
            return
        # Root may list anything, so walk in a child process that has become "nobody".
        # The child enters the tree before dropping privileges: tmp_path's parents are
        # closed to other users, but relative paths never go through them.
        read_end, write_end = os.pipe()
        pid = os.fork()
        if pid == 0:  # pragma: no cover - runs in the child
            code = 1
            try:
                os.close(read_end)
                os.chdir(root)
                try:
                    os.setgroups([])
                    os.setgid(65534)
                    os.setuid(65534)
                except OSError as exc:
                    os.write(write_end, f"cannot drop privileges: {exc}".encode())
                    code = 2
                else:
                    os.write(write_end, json.dumps(_walk_here()).encode())
                    code = 0
            finally:
                os._exit(code)
        os.close(write_end)
        with os.fdopen(read_end, "rb") as pipe:
            output = pipe.read()
        _, status = os.waitpid(pid, 0)
        if os.waitstatus_to_exitcode(status) == 2:
            pytest.skip(f"running as root and {output.decode()}")
        assert os.waitstatus_to_exitcode(status) == 0, output
        assert json.loads(output) == expected
    finally:
        (root / "locked").chmod(0o755)


# -- matching semantics, against git itself ------------------------------------------


def test_pathspec_still_marks_directory_matches() -> None:
    # _walk relies on pathspec naming this group; if pathspec renames it, fail here.
    from pathspec import GitIgnoreSpec

    (pattern,) = GitIgnoreSpec.from_lines(["build/"]).patterns
    assert pattern.regex is not None
    assert _walk._DIR_MARK in pattern.regex.groupindex


PATTERNS = [
    "*.log",
    "!keep.log",
    "build/",
    "/a",
    "a/b",
    "**/c",
    "b/**",
    "!b/keep.log",
    "*.py",
    "!d.py",
    "[ab]",
    "?.log",
    "a/**/c",
    "!a",
    "c/",
    "!c/",
    "b/*",
    "!build",
    "*/",  # pathspec: an unanchored regex
    "/*",
    "!/*/",
    "a**",
    "[!a]",
    "!*.log",
    "**/n*/x*",
    "x*.log",
]
NAMES = ["a", "b", "c", "d.py", "e.py", "keep.log", "x.log", "build", "n\nd", "x\n.log", "y.log\n"]


@st.composite
def trees(draw: st.DrawFn, depth: int = 0) -> dict[str, object]:
    tree: dict[str, object] = {}
    for name in draw(st.lists(st.sampled_from(NAMES), max_size=5, unique=True)):
        if depth < 3 and draw(st.booleans()):
            tree[name] = draw(trees(depth + 1))
        else:
            tree[name] = ""
    if draw(st.booleans()):
        tree[".gitignore"] = "\n".join(draw(st.lists(st.sampled_from(PATTERNS), max_size=5)))
    return tree


def _git_untracked(root: Path) -> list[str]:
    out = subprocess.run(
        ["git", "ls-files", "-z", "--others", "--exclude-standard"],
        cwd=root,
        env=GIT_ENV,
        check=True,
        capture_output=True,
    ).stdout
    return sorted(os.fsdecode(p) for p in out.split(b"\0") if p)


@settings(
    max_examples=100,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(tree=trees())
def test_gitignore_matching_agrees_with_git(tmp_path: Path, tree: dict[str, object]) -> None:
    root = tmp_path / f"case{len(os.listdir(tmp_path))}"
    git_init(root)
    make(root, tree)  # type: ignore[arg-type]
    assert sorted(rel(root, paths(root, hidden=True))) == _git_untracked(root)


_DIR_RULES = ["a/b/", "/a/", "a/**/c/", "b/c", "/build/", "a/*/d.py", "*/", "!a/b/"]


def _itself(lines: list[str], rel: str, is_dir: bool) -> bool | None:
    """The verdict of the last rule that matches ``rel`` itself, not only a parent of it."""
    for regex, include, _ in reversed(compile_lines(lines)):
        if _walk._hits(regex, regex.groupindex.get(_walk._DIR_MARK), rel, is_dir):
            return include
    return None


@settings(max_examples=400, deadline=None)
@given(
    lines=st.lists(st.sampled_from(PATTERNS + _DIR_RULES), max_size=6),
    parts=st.lists(
        st.sampled_from(["a", "b", "c", "build", "d.py", "x.log", "n\0d"]), min_size=1, max_size=4
    ),
    is_dir=st.booleans(),
)
def test_the_quick_checks_never_miss_a_rule(
    lines: list[str], parts: list[str], is_dir: bool
) -> None:
    """A path below a directory a rule names (the walk started inside it) is not that
    directory: the regexes that rule out most paths at once skip such matches, and
    never a rule that matches the path itself. (Paths as the matchers see them: a
    newline in a name is a NUL there, see _key.)"""
    rel = "/".join(parts)
    patterns = _walk._Patterns(compile_lines(lines))
    assert patterns.match(parts[-1], rel, is_dir) == _itself(lines, rel, is_dir)


def _iter_tree(root: Path) -> Iterator[str]:
    for dirpath, _dirs, files in os.walk(root):
        for f in files:
            yield os.path.join(dirpath, f)


def test_walk_without_filters_finds_what_os_walk_finds(tmp_path: Path) -> None:
    make(tmp_path / "t", {"a": {"b": {"c.txt": ""}, ".h": ""}, ".x": {"y": ""}, "z": ""})
    found = paths(tmp_path / "t", hidden=True, ignore=False)
    assert found == sorted(_iter_tree(tmp_path / "t"))
