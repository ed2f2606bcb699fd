"""``python -m migrate``: the whole chain on the sample, and one-line errors with exit codes."""

from __future__ import annotations

import csv
import json
import shutil
import subprocess
import sys
from pathlib import Path

import yaml

from tests.migrate.conftest import REPO, SAMPLE


def _migrate(*args: str, cwd: Path = REPO) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "migrate", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_the_chain_runs_on_the_sample_estate(tmp_path: Path) -> None:
    inventory, plan = tmp_path / "inventory.json", tmp_path / "plan.json"
    assert _migrate("inventory", "--from-export", str(SAMPLE), "-o", str(inventory)).returncode == 0
    result = _migrate("plan", str(inventory), "-o", str(plan))
    assert result.returncode == 0 and "7 workloads, 2 skipped" in result.stderr
    for fmt in ("md", "html", "csv", "json"):
        assert (
            _migrate(
                "report", str(plan), "--format", fmt, "-o", str(tmp_path / f"report.{fmt}")
            ).returncode
            == 0
        )
    assert len(list(csv.DictReader((tmp_path / "report.csv").open()))) == 11
    report = (tmp_path / "report.md").read_text()
    assert f"- Source: exported JSON {SAMPLE}, inventory {inventory}, inventoried 20" in report
    assert f"- Plan: {plan}" in report and "- Generated: 20" in report
    target = tmp_path / "Pulumi.staging.yaml"
    shutil.copy(REPO / "Pulumi.staging.yaml", target)
    result = _migrate(
        "stack-config", str(plan), "--workload", "web", "--stack", "staging", "-o", str(target)
    )
    assert result.returncode == 0, result.stderr
    assert (
        yaml.safe_load(target.read_text())["config"]["cutover:fleet"]["instanceType"]
        == "m7i.xlarge"
    )
    assert json.loads(plan.read_text())["schemaVersion"] == 1


def test_report_accepts_an_inventory_directly(tmp_path: Path) -> None:
    inventory = tmp_path / "inventory.json"
    _migrate("inventory", "--from-export", str(SAMPLE), "-o", str(inventory))
    result = _migrate("report", str(inventory), "--format", "md")
    assert result.returncode == 0 and "# Cutover migration plan" in result.stdout


def test_bad_input_is_one_line_and_a_non_zero_exit(tmp_path: Path) -> None:
    broken = tmp_path / "vms.json"
    broken.write_text("[{")
    result = _migrate("inventory", "--from-export", str(broken), "-o", str(tmp_path / "out.json"))
    assert result.returncode == 2
    assert (
        result.stderr.count("\n") == 1
        and result.stderr.startswith("migrate: error: ")
        and "vms.json" in result.stderr
    )
    assert "Traceback" not in result.stderr

    result = _migrate("report", str(tmp_path / "nothing.json"), "--format", "pdf")
    assert result.returncode == 2 and "invalid choice: 'pdf'" in result.stderr


def test_unknown_workload_names_the_known_ones(tmp_path: Path) -> None:
    inventory = tmp_path / "inventory.json"
    _migrate("inventory", "--from-export", str(SAMPLE), "-o", str(inventory))
    result = _migrate(
        "stack-config",
        str(inventory),
        "--workload",
        "nope",
        "--stack",
        "staging",
        "-o",
        str(tmp_path / "p.yaml"),
    )
    assert result.returncode == 2 and "workloads: batch, gpu-01" in result.stderr


def test_plan_prefer_alb_flag_upgrades_http_probed_balancers(tmp_path: Path) -> None:
    inventory = tmp_path / "inventory.json"
    assert _migrate("inventory", "--from-export", str(SAMPLE), "-o", str(inventory)).returncode == 0
    types = {}
    for flag in ([], ["--prefer-alb"]):
        plan = tmp_path / "plan.json"
        assert _migrate("plan", str(inventory), "-o", str(plan), *flag).returncode == 0
        web = next(w for w in json.loads(plan.read_text())["workloads"] if w["name"] == "web")
        types[bool(flag)] = web["aws"]["loadBalancerType"]
    assert types == {False: "network", True: "application"}
