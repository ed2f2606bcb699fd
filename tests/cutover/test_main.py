"""cutover.main.run: every error becomes one line and the convention's exit code."""

from __future__ import annotations

import pytest

from cutover.exitcodes import ENVIRONMENT, UNEXPECTED
from cutover.main import run


def _import(name: str) -> None:
    raise ModuleNotFoundError(f"No module named '{name}'", name=name)


def test_a_missing_third_party_package_is_the_environment_with_the_pip_command(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert run("migrate", lambda: _import("ruamel.yaml"), []) == ENVIRONMENT
    err = capsys.readouterr().err
    assert "'ruamel'" in err and "pip install -r requirements.txt" in err
    assert err.count("\n") == 1


def test_an_import_error_naming_a_third_party_module_is_the_environment() -> None:
    def broken() -> None:
        raise ImportError("cannot import name 'x' from 'yaml'", name="yaml")

    assert run("migrate", broken, []) == ENVIRONMENT


def test_a_missing_module_of_the_project_itself_is_a_bug(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert run("migrate", lambda: _import("migrate.nonexistent"), []) == UNEXPECTED
    assert "a bug" in capsys.readouterr().err


def test_a_reader_that_goes_away_is_not_a_bug() -> None:
    """`python -m preview production --check | head -2`: the reader closes the pipe before the
    table is written; the command stops as a Unix tool killed by SIGPIPE would (141), without
    'unexpected error' or 'Exception ignored' on stderr."""
    import subprocess
    import sys
    from pathlib import Path

    root = Path(__file__).resolve().parents[2]
    code = (
        "import sys; from cutover.main import run\n"
        "def main():\n"
        "    for n in range(100000):\n"
        "        print('a line of the table', n)\n"
        "sys.exit(run('preview', main))\n"
    )
    child = subprocess.Popen(
        [sys.executable, "-c", code],
        cwd=root,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    assert child.stdout is not None and child.stderr is not None
    child.stdout.readline()
    child.stdout.close()  # as `head -1` does once it has its line
    err = child.stderr.read().decode()
    assert child.wait(timeout=60) == 141, err
    assert err == ""
