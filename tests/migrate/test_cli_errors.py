"""Every bad input of issue 12 that reaches ``python -m migrate``: one line, the convention's exit
code, the file named, never a traceback; and outputs that are never left half-written."""

from __future__ import annotations

import codecs
import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from cutover import exitcodes
from tests.migrate.conftest import REPO, SAMPLE


def _migrate(*args: str, cwd: Path = REPO, preexec: str = "") -> subprocess.CompletedProcess:
    """``python -m migrate ARGS`` in a child process (``preexec``: Python run first in it)."""
    command = [sys.executable, "-m", "migrate", *args]
    if preexec:
        code = f"{preexec}\nimport runpy, sys\nsys.argv = {['migrate', *args]!r}\n"
        code += "runpy.run_module('migrate', run_name='__main__', alter_sys=True)"
        command = [sys.executable, "-c", code]
    return subprocess.run(command, cwd=cwd, capture_output=True, text=True, timeout=120)


# A file-size limit makes write() fail (EFBIG) the way a full disk (ENOSPC) does: a real failure
# from the kernel, in the child only.
FULL_DISK = """
import resource, signal
signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
resource.setrlimit(resource.RLIMIT_FSIZE, (512, 512))
"""


def _one_line(result: subprocess.CompletedProcess, code: int, *needles: str) -> str:
    assert result.returncode == code, result.stderr
    assert "Traceback" not in result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    for needle in needles:
        assert needle in lines[0], lines[0]
    return lines[0]


@pytest.fixture(scope="module")
def inventory_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("chain") / "inventory.json"
    assert _migrate("inventory", "--from-export", str(SAMPLE), "-o", str(path)).returncode == 0
    return path


@pytest.fixture(scope="module")
def plan_file(inventory_file: Path) -> Path:
    path = inventory_file.parent / "plan.json"
    assert _migrate("plan", str(inventory_file), "-o", str(path)).returncode == 0
    return path


# -- -o is atomic and checked ----------------------------------------------------------------


def test_plan_on_a_full_disk_keeps_the_old_plan(inventory_file: Path, tmp_path: Path) -> None:
    target = tmp_path / "plan.json"
    target.write_text('{"old": true}\n')
    result = _migrate("plan", str(inventory_file), "-o", str(target), preexec=FULL_DISK)
    _one_line(result, exitcodes.ENVIRONMENT, str(target), "cannot write", "unchanged")
    assert target.read_text() == '{"old": true}\n'
    assert [p.name for p in tmp_path.iterdir()] == ["plan.json"]


def test_stack_config_on_a_full_disk_keeps_the_hand_edited_file(
    plan_file: Path, tmp_path: Path
) -> None:
    target = tmp_path / "Pulumi.production.yaml"
    shutil.copy(REPO / "Pulumi.production.yaml", target)
    original = target.read_bytes()
    result = _migrate(
        "stack-config",
        str(plan_file),
        "--workload",
        "web",
        "--stack",
        "production",
        "-o",
        str(target),
        preexec=FULL_DISK,
    )
    _one_line(result, exitcodes.ENVIRONMENT, str(target), "cannot write")
    assert target.read_bytes() == original


@pytest.mark.parametrize("command", ["inventory", "plan", "report", "stack-config"])
def test_an_unwritable_output_is_an_environment_error_before_any_work(
    command: str, inventory_file: Path, plan_file: Path, tmp_path: Path
) -> None:
    # Tests run as root, so a mode does not deny: a path under a regular file cannot be created.
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("")
    out = blocker / "out.file"
    args = {
        "inventory": ["--from-export", str(SAMPLE)],
        "plan": [str(inventory_file)],
        "report": [str(plan_file), "--format", "html"],
        "stack-config": [str(plan_file), "--workload", "web", "--stack", "staging"],
    }[command]
    result = _migrate(command, *args, "-o", str(out))
    _one_line(result, exitcodes.ENVIRONMENT, str(out), "cannot write", "is a file, not a folder")


def test_writability_is_checked_before_reading_the_estate(tmp_path: Path) -> None:
    # The export does not exist: the unwritable output is reported first, before any listing.
    blocker = tmp_path / "file"
    blocker.write_text("")
    result = _migrate(
        "inventory", "--from-export", str(tmp_path / "missing"), "-o", str(blocker / "i.json")
    )
    _one_line(result, exitcodes.ENVIRONMENT, "cannot write")


def test_output_naming_a_folder_is_bad_usage(inventory_file: Path, tmp_path: Path) -> None:
    result = _migrate("plan", str(inventory_file), "-o", str(tmp_path))
    _one_line(result, exitcodes.BAD_INPUT, str(tmp_path), "folder")


# -- encodings --------------------------------------------------------------------------------


def _reencode(source: Path, target: Path, bom: bytes, codec: str) -> None:
    target.write_bytes(bom + source.read_text(encoding="utf-8").encode(codec))


@pytest.mark.parametrize(
    ("bom", "codec"),
    [
        (codecs.BOM_UTF16_LE, "utf-16-le"),
        (codecs.BOM_UTF8, "utf-8"),
        (codecs.BOM_UTF32_BE, "utf-32-be"),
    ],
    ids=["utf16le-powershell", "utf8-bom", "utf32be"],
)
def test_every_reader_accepts_unicode_with_a_byte_order_mark(
    bom: bytes, codec: str, inventory_file: Path, plan_file: Path, tmp_path: Path
) -> None:
    exports = tmp_path / "exports"
    exports.mkdir()
    for file in (SAMPLE / "contoso-prod").iterdir():
        _reencode(file, exports / file.name, bom, codec)
    inventory = tmp_path / "inventory.json"
    assert (
        _migrate("inventory", "--from-export", str(exports), "-o", str(inventory)).returncode == 0
    )
    assert "vmss-web" in inventory.read_text()

    _reencode(inventory_file, tmp_path / "inv16.json", bom, codec)
    _reencode(plan_file, tmp_path / "plan16.json", bom, codec)
    assert (
        _migrate("plan", str(tmp_path / "inv16.json"), "-o", str(tmp_path / "p.json")).returncode
        == 0
    )
    assert _migrate("report", str(tmp_path / "plan16.json"), "--format", "csv").returncode == 0

    stack = tmp_path / "Pulumi.staging.yaml"
    _reencode(REPO / "Pulumi.staging.yaml", stack, bom, codec)
    result = _migrate(
        "stack-config",
        str(tmp_path / "plan16.json"),
        "--workload",
        "web",
        "--stack",
        "staging",
        "-o",
        str(stack),
    )
    assert result.returncode == 0, result.stderr
    assert "team: platform" in stack.read_text(encoding="utf-8")  # merged, written as UTF-8


@pytest.mark.parametrize("which", ["export", "inventory", "plan", "stack"])
def test_other_encodings_are_a_clear_error_naming_the_file(
    which: str, inventory_file: Path, plan_file: Path, tmp_path: Path
) -> None:
    bad = tmp_path / "latin1.json"
    source = {
        "export": SAMPLE / "contoso-prod" / "az-vm-list.json",
        "inventory": inventory_file,
        "plan": plan_file,
        "stack": REPO / "Pulumi.staging.yaml",
    }[which]
    text = source.read_text(encoding="utf-8")
    token = "platform" if which == "stack" else "westeurope"
    assert token in text
    bad.write_bytes(text.replace(token, token + "-\u00e9").encode("latin-1"))
    args = {
        "export": ["inventory", "--from-export", str(bad), "-o", str(tmp_path / "i.json")],
        "inventory": ["plan", str(bad), "-o", str(tmp_path / "p.json")],
        "plan": ["report", str(bad)],
        "stack": [
            "stack-config",
            str(plan_file),
            "--workload",
            "web",
            "--stack",
            "staging",
            "-o",
            str(bad),
        ],
    }[which]
    result = _migrate(*args)
    _one_line(result, exitcodes.BAD_INPUT, str(bad), "UTF-8")


# -- shapes and schema versions ----------------------------------------------------------------


def test_inventory_vm_with_null_size_names_the_json_path(
    inventory_file: Path, tmp_path: Path
) -> None:
    body = json.loads(inventory_file.read_text())
    body["vms"][1]["vmSize"] = None
    bad = tmp_path / "inventory.json"
    bad.write_text(json.dumps(body))
    result = _migrate("plan", str(bad), "-o", str(tmp_path / "plan.json"))
    _one_line(result, exitcodes.BAD_INPUT, str(bad), "$.vms[1].vmSize")
    assert not (tmp_path / "plan.json").exists()


def test_plan_workload_without_aws_names_the_json_path(plan_file: Path, tmp_path: Path) -> None:
    body = json.loads(plan_file.read_text())
    del body["workloads"][2]["aws"]
    bad = tmp_path / "plan.json"
    bad.write_text(json.dumps(body))
    for args in (
        ["report", str(bad), "--format", "html"],
        ["stack-config", str(bad), "--workload", "web", "--stack", "staging", "-o", "-"],
    ):
        result = _migrate(*args)
        _one_line(result, exitcodes.BAD_INPUT, str(bad), "$.workloads[2]", "'aws'")


@pytest.mark.parametrize("kind", ["inventory", "plan"])
def test_an_unknown_schema_version_is_refused(
    kind: str, inventory_file: Path, plan_file: Path, tmp_path: Path
) -> None:
    source = inventory_file if kind == "inventory" else plan_file
    body = json.loads(source.read_text())
    body["schemaVersion"] = 99
    bad = tmp_path / f"{kind}.json"
    bad.write_text(json.dumps(body))
    result = _migrate("report", str(bad))
    _one_line(result, exitcodes.BAD_INPUT, str(bad), "schemaVersion", "99")


def test_a_json_file_that_is_neither_is_named(tmp_path: Path) -> None:
    bad = tmp_path / "compose.json"
    bad.write_text('{"services": {}}')
    result = _migrate("report", str(bad))
    _one_line(result, exitcodes.BAD_INPUT, str(bad), "plan.json", "inventory.json")


# -- usage -----------------------------------------------------------------------------------


def test_format_is_a_choice_list(plan_file: Path) -> None:
    result = _migrate("report", str(plan_file), "--format", "pdf")
    assert result.returncode == exitcodes.BAD_INPUT
    assert (
        "invalid choice: 'pdf'" in result.stderr and "'md', 'html', 'csv', 'json'" in result.stderr
    )
    assert "Traceback" not in result.stderr


@pytest.mark.parametrize(
    "command", [[], ["inventory"], ["plan"], ["report"], ["stack-config"], ["catalog"]]
)
def test_help_is_plain_and_lists_choices(command: list[str]) -> None:
    result = _migrate(*command, "--help")
    assert result.returncode == 0, result.stderr
    text = result.stdout
    assert "``" not in text and "<bool>" not in text and "usage: python -m migrate" in text
    if command == ["report"]:
        assert "{md,html,csv,json}" in text


def test_no_arguments_prints_usage_and_exits_2() -> None:
    result = _migrate()
    assert result.returncode == exitcodes.BAD_INPUT and "usage:" in result.stderr


def test_a_missing_input_is_bad_input(tmp_path: Path) -> None:
    result = _migrate("plan", str(tmp_path / "nope.json"), "-o", str(tmp_path / "p.json"))
    _one_line(result, exitcodes.BAD_INPUT, "nope.json", "no such file")


def test_debug_is_accepted_everywhere(plan_file: Path) -> None:
    result = _migrate("report", str(plan_file), "--format", "csv", "--debug")
    assert result.returncode == 0 and result.stdout.startswith("status,")


def test_an_output_that_is_the_input_is_refused(
    inventory_file: Path, plan_file: Path, tmp_path: Path
) -> None:
    for args, kept in (
        (["plan", str(inventory_file), "-o", str(inventory_file)], inventory_file),
        (["report", str(plan_file), "--format", "md", "-o", str(plan_file)], plan_file),
    ):
        before = kept.read_bytes()
        result = _migrate(*args)
        _one_line(result, exitcodes.BAD_INPUT, str(kept), "is also the input")
        assert kept.read_bytes() == before
