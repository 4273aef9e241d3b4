"""Without an optional extra installed: a usage error that names what to install, never a
traceback (the command), and the documented error types (the library)."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

import linetally
from linetally._cluster import ClusterError

from .conftest import run_cli


def _without(tmp_path: Path, *names: str) -> dict[str, str]:
    """An environment where importing each of ``names`` fails as for a package not installed."""
    stubs = tmp_path / "not-installed"
    for name in names:
        package = stubs / name
        package.mkdir(parents=True)
        (package / "__init__.py").write_text(
            f"raise ModuleNotFoundError({f'No module named {name!r}'!r}, name={name!r})\n"
        )
    path = [str(stubs), *filter(None, [os.environ.get("PYTHONPATH")])]
    return {"PYTHONPATH": os.pathsep.join(path)}


@pytest.mark.parametrize(
    ("url", "hint"),
    [
        ("s3://bucket/key.txt", "pip install 'linetally[s3]'"),
        ("gs://bucket/key.txt", "pip install 'linetally[gcs]'"),
        ("http://127.0.0.1:1/x.txt", "pip install 'linetally[http]'"),
        ("foo://bar", "pip install fsspec"),
    ],
)
def test_a_url_without_fsspec_is_a_usage_error(tmp_path: Path, url: str, hint: str) -> None:
    result = run_cli("--no-progress", url, env=_without(tmp_path, "fsspec"))
    assert result.code == 2
    assert result.out == ""
    assert result.err.count("\n") == 1
    assert result.err.startswith(f"linetally: error: {url}: ")
    assert "fsspec, which is not installed" in result.err
    assert hint in result.err
    assert "Traceback" not in result.err


def test_a_listed_url_without_fsspec_is_that_paths_error(tmp_path: Path) -> None:
    result = run_cli(
        "--format", "json", "--no-progress", "--files-from", "-",
        input=b"s3://bucket/key.txt\n", env=_without(tmp_path, "fsspec"),
    )  # fmt: skip
    assert result.code == 1
    assert '"type": "ValueError"' in result.out
    assert "pip install 'linetally[s3]'" in result.out
    assert "Traceback" not in result.err


def test_the_library_reports_a_url_without_fsspec_as_a_value_error(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setitem(sys.modules, "fsspec", None)
    (result,) = linetally.count(["s3://bucket/key.txt"]).results
    assert type(result.error) is ValueError
    assert "pip install 'linetally[s3]'" in str(result.error)


@pytest.mark.parametrize("how", ["option", "environment"])
def test_a_scheduler_without_dask_is_a_usage_error(tmp_path: Path, how: str) -> None:
    (tmp_path / "a.txt").write_text("1\n")
    env = _without(tmp_path, "distributed")
    args = ["--no-progress", str(tmp_path / "a.txt")]
    if how == "option":
        args = ["--scheduler", "tcp://127.0.0.1:1", *args]
    else:
        env["DASK_SCHEDULER_ADDRESS"] = "tcp://127.0.0.1:1"
    result = run_cli(*args, env=env)
    assert result.code == 2
    assert result.out == ""
    assert result.err == (
        "linetally: error: counting on a Dask cluster needs Dask distributed, which is not"
        " installed (pip install 'linetally[dask]')\n"
    )


def test_the_library_raises_cluster_error_without_dask(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "a.txt").write_text("1\n")
    monkeypatch.setitem(sys.modules, "distributed", None)
    with pytest.raises(ClusterError, match=r"pip install 'linetally\[dask\]'"):
        linetally.count([tmp_path / "a.txt"], scheduler="tcp://127.0.0.1:1")
