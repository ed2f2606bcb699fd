"""The `cutover` console script: one entry point that runs each command as `python -m` does."""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

from cutover import exitcodes
from cutover.cli import COMMANDS

ROOT = Path(__file__).resolve().parents[2]


def _cutover(*args: str, cwd: Path = ROOT) -> subprocess.CompletedProcess:
    # PYTHONPATH stands in for the editable install the Makefile makes (`pip install -e .`).
    return subprocess.run(
        [sys.executable, "-m", "cutover", *args],
        cwd=cwd,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_pyproject_installs_the_console_script() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())
    assert project["project"]["scripts"]["cutover"] == "cutover.cli:main"
    assert project["build-system"]["build-backend"] == "setuptools.build_meta"
    found = project["tool"]["setuptools"]["packages"]["find"]["include"]
    assert {"cutover*", "migrate*", "infra*", "hooks*", "policy*"} <= set(found)
    assert "pip install --quiet --no-deps -e ." in (ROOT / "Makefile").read_text()


@pytest.mark.parametrize("name", sorted(COMMANDS))
def test_every_command_is_a_module_that_exists(name: str) -> None:
    assert importlib.util.find_spec(COMMANDS[name][0]) is not None


def test_help_lists_the_commands_and_the_exit_codes() -> None:
    result = _cutover("--help")
    assert result.returncode == 0
    for name in COMMANDS:
        assert f"  {name} " in result.stdout
    assert "70 unexpected error" in result.stdout


def test_no_command_or_an_unknown_one_is_usage() -> None:
    assert _cutover().returncode == exitcodes.BAD_INPUT
    result = _cutover("deploy")
    assert result.returncode == exitcodes.BAD_INPUT
    assert "cutover: error: unknown command 'deploy'" in result.stderr


def test_a_command_runs_with_its_own_options_and_exit_codes(tmp_path: Path) -> None:
    result = _cutover("migrate", "report", "--help", cwd=tmp_path)  # works from any folder
    assert result.returncode == 0 and "usage: cutover migrate report" in result.stdout
    result = _cutover("migrate", "report", str(tmp_path / "none.json"), cwd=tmp_path)
    assert result.returncode == exitcodes.BAD_INPUT
    assert result.stderr == f"migrate: error: {tmp_path / 'none.json'}: no such file\n"


def test_pyproject_packages_every_top_level_package() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())
    found = set(project["tool"]["setuptools"]["packages"]["find"]["include"])
    packages = {p.parent.name for p in ROOT.glob("*/__init__.py")} - {"tests"}
    assert {f"{name}*" for name in packages} <= found
    linted = set(project["tool"]["importlinter"]["root_packages"])
    assert packages == linted, packages ^ linted


def _python(*args: str, cwd: Path = ROOT) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, *args],
        cwd=cwd,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        capture_output=True,
        text=True,
        timeout=120,
    )


@pytest.mark.parametrize(
    ("old", "new"),
    [
        (["-m", "infra.preview"], ["-m", "preview"]),
        (["-m", "infra.rehearse"], ["-m", "rehearsal"]),
        (["-m", "migrate", "shift"], ["-m", "shift"]),
        (["-m", "hooks", "bundle"], ["-m", "revision", "bundle"]),
    ],
    ids=lambda argv: " ".join(argv),
)
def test_the_old_command_names_still_work(old: list[str], new: list[str]) -> None:
    """The layout moved four commands; the names scripts were written for hand over."""
    before, after = _python(*old, "--help"), _python(*new, "--help")
    assert before.returncode == after.returncode == 0, before.stderr + after.stderr
    # Same options, same text (the usage lines differ by the program's name).
    assert before.stdout.split("\n\n", 1)[1] == after.stdout.split("\n\n", 1)[1]
    bad_before, bad_after = _python(*old, "--no-such-option"), _python(*new, "--no-such-option")
    assert bad_before.returncode == bad_after.returncode == exitcodes.BAD_INPUT


def test_the_old_preview_name_previews_a_stack() -> None:
    result = _python("-m", "infra.preview", "staging", "--json")
    assert result.returncode == 0, result.stderr
    assert '"aws:autoscaling/group:Group"' in result.stdout
