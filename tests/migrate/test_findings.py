"""One table of finding kinds and severities (migrate/catalog/findings.json), used by every
report format (issue 22: an unknown size was an "action" while the README calls it a blocker)."""

from __future__ import annotations

import csv
import io
import json
import re

import pytest

from migrate import findings
from migrate.model import Inventory
from migrate.plan import build_plan
from migrate.render import render
from tests.migrate.conftest import REPO


@pytest.fixture
def plan(sample_inventory: Inventory) -> dict:
    legacy = next(vm for vm in sample_inventory.vms if vm.name == "vm-legacy-01")
    legacy.vm_size = "Standard_D8s_v7"  # not in the catalog, and its name does not resolve
    return build_plan(sample_inventory)


def test_an_unknown_size_is_a_blocker_in_every_report_format(plan: dict) -> None:
    reason = next(s["reason"] for s in plan["skipped"] if "Standard_D8s_v7" in s["reason"])
    assert findings.classify(reason, "skipped") == ("size-not-planned", findings.BLOCKER)
    expected = sum(1 for s in plan["skipped"] if "Standard_D8s_v7" in s["reason"])
    blockers = findings.counts(findings.all_findings(plan))[findings.BLOCKER]
    assert blockers >= expected >= 1
    body = json.loads(render(plan, "json"))
    assert body["summary"]["findings"]["blocker"] == blockers
    assert f"Findings: {blockers} blockers" in render(plan, "md")
    assert f"Findings: {blockers} blockers" in render(plan, "html")
    rows = list(csv.DictReader(io.StringIO(render(plan, "csv"))))
    row = next(r for r in rows if "Standard_D8s_v7" in r["reason"])
    assert (row["status"], row["severity"]) == ("skipped", "blocker")


def test_the_table_is_data_with_one_severity_per_kind() -> None:
    data = json.loads(findings.FINDINGS_FILE.read_text())
    for table in ("warnings", "skipped"):
        kinds = [row["kind"] for row in data[table]]
        assert len(kinds) == len(set(kinds)), table
        assert {row["severity"] for row in data[table]} <= set(findings.SEVERITIES)
        assert len(findings.rules(table)) == len(kinds)
    source = (REPO / "migrate" / "findings.py").read_text()
    assert not re.search(r'\((BLOCKER|ACTION|NOTE), r"', source)  # no second table in code


def test_the_readme_names_the_table_and_calls_an_unknown_size_a_blocker() -> None:
    readme = (REPO / "migrate" / "README.md").read_text()
    assert "migrate/catalog/findings.json" in readme
    blocker_row = next(line for line in readme.splitlines() if line.startswith("| blocker |"))
    assert "size is not in the catalog" in blocker_row
