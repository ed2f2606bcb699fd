"""stack-config writes only into a new file or a Pulumi stack file, keeps a stack's character
(a one-instance staging that accepts downtime) and says what it changed."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from cutover import exitcodes
from migrate.errors import MigrateError
from migrate.model import Inventory
from migrate.plan import build_plan
from migrate.stackconfig import write_stack_config
from tests.migrate.conftest import REPO, SAMPLE

COMPOSE = "services:\n  web:\n    image: nginx  # the front\n"


@pytest.fixture
def plan(sample_inventory: Inventory) -> dict:
    return build_plan(sample_inventory)


def _config(path: Path) -> dict:
    return yaml.safe_load(path.read_text())["config"]


@pytest.mark.parametrize(
    ("name", "content", "why"),
    [
        ("plan.json", '{"schemaVersion": 1, "workloads": []}\n', "without config:"),
        ("compose.yml", COMPOSE, "without config:"),
        ("list.yaml", "- a\n- b\n", "not a mapping"),
        ("broken.yaml", "config:\n  cutover:fleet: [unclosed\n", "not valid YAML"),
        ("odd.yaml", "config: [1, 2]\n", "config: is not a mapping"),
        ("two.yaml", "config: {}\n---\nconfig: {}\n", "not valid YAML"),
    ],
)
def test_a_file_that_is_not_a_stack_file_is_refused_and_left_alone(
    plan: dict, tmp_path: Path, name: str, content: str, why: str
) -> None:
    target = tmp_path / name
    target.write_text(content)
    with pytest.raises(MigrateError) as caught:
        write_stack_config(plan, "web", "staging", target)
    message = str(caught.value)
    assert str(target) in message and why in message and "--force" in message
    assert caught.value.exit_code == exitcodes.BAD_INPUT
    assert target.read_text() == content


def test_force_replaces_a_file_that_is_not_a_stack_file(plan: dict, tmp_path: Path) -> None:
    target = tmp_path / "compose.yml"
    target.write_text(COMPOSE)
    merged = write_stack_config(plan, "web", "staging", target, force=True)
    assert "services" not in target.read_text()
    assert _config(target)["cutover:fleet"]["instanceType"] == "m7i.xlarge"
    assert any("replaced (--force)" in n for n in merged.notes)


@pytest.mark.parametrize(
    "content",
    ["", "\n", "# nothing yet\n", "config:\n", "secretsprovider: passphrase\nencryptionsalt: x\n"],
    ids=["empty", "blank", "comment-only", "config-null", "pulumi-keys-only"],
)
def test_an_empty_or_bare_stack_file_is_written(plan: dict, tmp_path: Path, content: str) -> None:
    target = tmp_path / "Pulumi.staging.yaml"
    target.write_text(content)
    write_stack_config(plan, "web", "staging", target)
    config = _config(target)
    assert config["cutover:fleet"]["instanceType"] == "m7i.xlarge"
    if "secretsprovider" in content:
        assert yaml.safe_load(target.read_text())["secretsprovider"] == "passphrase"


def test_staging_that_accepts_downtime_keeps_its_character_and_says_so(
    plan: dict, tmp_path: Path
) -> None:
    target = tmp_path / "Pulumi.staging.yaml"
    shutil.copy(REPO / "Pulumi.staging.yaml", target)
    header = [line for line in target.read_text().splitlines() if line.startswith("#")]

    merged = write_stack_config(plan, "web", "staging", target)

    fleet = _config(target)["cutover:fleet"]
    assert (fleet["minSize"], fleet["desiredCapacity"], fleet["maxSize"]) == (1, 1, 2)
    assert fleet["allowDowntime"] is True
    text = target.read_text()
    assert [line for line in text.splitlines() if line.startswith("#")] == header  # still true
    assert any("kept the stack's Min/Desired/Max 1/1/2" in n for n in merged.notes)
    assert any("the plan says 2/3/10" in n and "--plan-capacity" in n for n in merged.notes)
    summary = merged.summary()
    assert 'changed cutover:fleet.instanceType: "t3.small" -> "m7i.xlarge"' in summary
    assert not any("minSize" in line and line.startswith("changed") for line in summary)


def test_plan_capacity_applies_the_plan_and_flags_the_header(plan: dict, tmp_path: Path) -> None:
    target = tmp_path / "Pulumi.staging.yaml"
    shutil.copy(REPO / "Pulumi.staging.yaml", target)

    merged = write_stack_config(plan, "web", "staging", target, plan_capacity=True)

    fleet = _config(target)["cutover:fleet"]
    assert (fleet["minSize"], fleet["desiredCapacity"], fleet["maxSize"]) == (2, 3, 10)
    assert fleet["allowDowntime"] is False
    assert "changed cutover:fleet.allowDowntime: true -> false" in merged.summary()
    assert "changed cutover:fleet.maxSize: 2 -> 10" in merged.summary()
    header = target.read_text().split("\nconfig:")[0]
    assert "capacity and allowDowntime now" in header and "come from the plan" in header
    write_stack_config(plan, "web", "staging", target, plan_capacity=True)
    assert target.read_text().count("--plan-capacity (workload web)") == 1  # once, on re-runs too


def test_production_takes_the_plan_and_lists_every_change(plan: dict, tmp_path: Path) -> None:
    target = tmp_path / "Pulumi.production.yaml"
    shutil.copy(REPO / "Pulumi.production.yaml", target)
    merged = write_stack_config(plan, "web", "production", target)
    fleet = _config(target)["cutover:fleet"]
    assert (fleet["minSize"], fleet["desiredCapacity"], fleet["maxSize"]) == (2, 3, 10)
    assert "changed cutover:fleet.maxSize: 6 -> 10" in merged.summary()
    assert any(line.startswith("added cutover:scaling.scaleOut: {") for line in merged.summary())


def test_a_new_file_says_it_is_new(plan: dict, tmp_path: Path) -> None:
    merged = write_stack_config(plan, "web", "staging", tmp_path / "Pulumi.staging.yaml")
    assert merged.created and any("new stack file" in line for line in merged.summary())


def test_cli_refuses_the_plan_itself_as_output_and_keeps_it(tmp_path: Path) -> None:
    inventory, plan_file = tmp_path / "inventory.json", tmp_path / "plan.json"
    run = [sys.executable, "-m", "migrate"]
    subprocess.run(
        [*run, "inventory", "--from-export", str(SAMPLE), "-o", str(inventory)],
        cwd=REPO,
        check=True,
        capture_output=True,
    )
    subprocess.run(
        [*run, "plan", str(inventory), "-o", str(plan_file)],
        cwd=REPO,
        check=True,
        capture_output=True,
    )
    before = plan_file.read_text()
    result = subprocess.run(
        [*run, "stack-config", str(plan_file), "--workload", "web", "--stack", "staging"]
        + ["-o", str(plan_file)],
        cwd=REPO,
        capture_output=True,
        text=True,
    )
    assert result.returncode == exitcodes.BAD_INPUT
    assert result.stderr.count("\n") == 1 and "not a Pulumi stack file" in result.stderr
    assert plan_file.read_text() == before and json.loads(before)["schemaVersion"] == 1

    result = subprocess.run(
        [*run, "stack-config", str(plan_file), "--workload", "web", "--stack", "staging"]
        + ["-o", "-"],
        cwd=REPO,
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0 and yaml.safe_load(result.stdout)["config"]["aws:region"]


def test_production_header_is_left_alone(plan: dict, tmp_path: Path) -> None:
    target = tmp_path / "Pulumi.production.yaml"
    shutil.copy(REPO / "Pulumi.production.yaml", target)
    write_stack_config(plan, "web", "production", target)
    assert "Changed by migrate" not in target.read_text()  # Max 6 -> 10 keeps "at least two"
