"""The READMEs' commands work as typed, and the exit-code table covers every command."""

from __future__ import annotations

import os
import re
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from migrate.cli import parser

ROOT = Path(__file__).resolve().parents[2]
# The project's READMEs, not a tool's (pathlib's glob matches .pytest_cache/README.md too).
READMES = sorted(
    [
        ROOT / "README.md",
        *(p for p in ROOT.glob("*/README.md") if not p.parent.name.startswith(".")),
    ]
)


def _shell_lines(path: Path) -> list[str]:
    text = path.read_text()
    blocks = re.findall(r"```sh\n(.*?)```", text, re.DOTALL)
    return [line.strip() for block in blocks for line in block.splitlines() if line.strip()]


@pytest.mark.parametrize("readme", READMES, ids=lambda p: str(p.relative_to(ROOT)))
def test_no_bare_python_that_needs_an_activated_virtualenv(readme: Path) -> None:
    laptop = r"python3? -m (migrate|shift|infra|preview|rehearsal|revision)\b"
    bare = [line for line in _shell_lines(readme) if re.match(laptop, line)]
    assert not bare, f"{readme.name}: use .venv/bin/python (or .venv/bin/cutover): {bare}"


def test_the_migrate_steps_by_hand_run_as_typed(tmp_path: Path) -> None:
    text = (ROOT / "migrate" / "README.md").read_text()
    block = text.split("The same steps by hand", 1)[1].split("```sh\n", 1)[1].split("```", 1)[0]
    (tmp_path / "migrate").mkdir()
    (tmp_path / "migrate" / "sample").symlink_to(ROOT / "migrate" / "sample")
    shutil.copy(ROOT / "Pulumi.staging.yaml", tmp_path)
    (tmp_path / "out").mkdir()
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    commands = [line.split("#", 1)[0] for line in block.splitlines() if line.strip()]
    assert len(commands) >= 5
    for command in commands:
        argv = shlex.split(command)
        if argv[0] == ".venv/bin/python":
            argv[0] = sys.executable
        result = subprocess.run(
            argv, cwd=tmp_path, env=env, capture_output=True, text=True, timeout=180
        )
        assert result.returncode == 0, f"{command}: {result.stderr}"
    assert (tmp_path / "out" / "report.html").read_text().startswith("<!DOCTYPE html>")


def test_the_exit_code_table_covers_every_command() -> None:
    text = (ROOT / "cutover" / "README.md").read_text()
    table = text.split("## Exit codes", 1)[1].split("\n## ", 1)[0]
    for code in ("| 0 |", "| 1 |", "| 2 |", "| 3 |", "| 70 |"):
        assert code in table
    migrate = parser()._subparsers._group_actions[0].choices  # noqa: SLF001
    for name in migrate:
        if name not in ("catalog", "prices"):
            assert f"`migrate {name}`" in table, name
    assert "`migrate catalog refresh-ec2`" in table
    assert "`migrate prices refresh`" in table
    for command in (
        "`shift`",
        "`preview`",
        "`rehearsal`",
        "--policy-pack policy",
        "`revision bundle`",
    ):
        assert command in table
    assert "| refused by the zero-downtime floor | 4 | 1 the check failed |" in table


def test_the_readme_leads_with_the_two_commands_and_stays_short() -> None:
    text = (ROOT / "README.md").read_text()
    first_screen = "\n".join(text.splitlines()[:40])
    assert "make demo" in first_screen and "make test" in first_screen
    assert "out/report.html" in first_screen
    assert len(text.splitlines()) <= 175  # half of the 350 lines it had


def test_the_readme_names_every_package_of_the_tree() -> None:
    text = (ROOT / "README.md").read_text()
    packages = sorted(p.parent.name for p in ROOT.glob("*/__init__.py") if p.parent.name != "tests")
    missing = [name for name in packages if f"`{name}/`" not in text]
    assert not missing, missing
    for name in packages:
        assert (ROOT / name / "README.md").exists() or name == "policy", name


@pytest.mark.parametrize("readme", READMES, ids=lambda p: str(p.relative_to(ROOT)))
def test_every_relative_link_resolves(readme: Path) -> None:
    """Files moved in the layout: a README link to a file that is not there is a dead end."""
    text = readme.read_text()
    links = re.findall(r"\]\(([^)#\s]+)(?:#[^)]*)?\)", text)
    local = [link for link in links if not re.match(r"[a-z]+:", link)]
    missing = [link for link in local if not (readme.parent / link).exists()]
    assert not missing, missing
