"""An export folder as people have them: unrelated JSON beside the exports, several broken
files, paths with ``~`` (issue 22)."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from migrate.cli import main
from migrate.errors import MigrateError
from migrate.sources.export import load_export
from tests.migrate.conftest import REPO, SAMPLE


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    exports = tmp_path / "exports"
    shutil.copytree(SAMPLE, exports)
    (exports / "package.json").write_text(json.dumps({"name": "site", "version": "1.0.0"}))
    (exports / ".vscode").mkdir()
    (exports / ".vscode" / "settings.json").write_text('{"editor.tabSize": 2}')
    (exports / ".vscode" / "extensions.json").write_text('{"recommendations": []}')
    return exports


def test_json_that_is_plainly_not_azure_is_skipped_with_a_note(folder: Path) -> None:
    inventory = load_export(folder)
    assert len(inventory.vms) == len(load_export(SAMPLE).vms)
    skipped = [n for n in inventory.notes if "not Azure JSON" in n]
    assert len(skipped) == 3 and any("package.json" in n for n in skipped)


def test_every_unusable_file_is_reported_in_one_run(folder: Path) -> None:
    (folder / "a-broken.json").write_text('[{"id": "/subscriptions/x",')
    (folder / "b-broken.json").write_text('[{"name": "vm", "type": "Microsoft.Compute/x"}]')
    with pytest.raises(MigrateError) as caught:
        load_export(folder)
    message = str(caught.value)
    assert message.startswith("2 of ") and "--exclude" in message
    assert "a-broken.json: malformed JSON" in message and "b-broken.json[0]" in message


def test_exclude_leaves_out_files_and_folders(folder: Path) -> None:
    (folder / "tools").mkdir()
    (folder / "tools" / "broken.json").write_text("{")
    inventory = load_export(folder, exclude=["tools", "package*.json", ".vscode"])
    assert not [n for n in inventory.notes if "not Azure JSON" in n]


def test_cli_exclude_and_the_skip_notes(
    folder: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "inventory.json"
    args = ["inventory", "--from-export", str(folder), "-o", str(out)]
    assert main([*args, "--exclude", ".vscode"]) == 0
    err = capsys.readouterr().err
    assert "package.json: skipped, not Azure JSON" in err and "settings.json" not in err


def test_a_quoted_tilde_is_the_home_folder(tmp_path: Path) -> None:
    home = tmp_path / "home"
    home.mkdir()
    work = tmp_path / "work"
    work.mkdir()
    result = subprocess.run(
        [sys.executable, "-m", "migrate", "inventory", "--from-export", str(SAMPLE)]
        + ["-o", "~/inv.json"],
        cwd=work,
        env={"HOME": str(home), "PATH": "/usr/bin:/bin", "PYTHONPATH": str(REPO)},
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stderr
    assert (home / "inv.json").is_file() and not (work / "~").exists()


def test_the_programs_output_folder_is_git_ignored() -> None:
    result = subprocess.run(
        ["git", "check-ignore", "-q", "infra/out/plan.json"], cwd=REPO, check=False
    )
    assert result.returncode == 0
