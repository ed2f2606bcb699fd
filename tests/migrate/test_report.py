"""Report renderers: Markdown, self-contained HTML, CSV (one row per VM / scale set), JSON."""

from __future__ import annotations

import csv
import io
import json
import re

import pytest

from migrate.model import Inventory
from migrate.plan import build_plan
from migrate.report import CSV_COLUMNS, render


@pytest.fixture
def plan(sample_inventory: Inventory) -> dict:
    return build_plan(sample_inventory)


def test_csv_has_one_row_per_vm_and_scale_set(sample_inventory: Inventory, plan: dict) -> None:
    rows = list(csv.DictReader(io.StringIO(render(plan, "csv"))))
    assert tuple(rows[0]) == CSV_COLUMNS
    compute = [r for r in rows if r["kind"] in ("virtualMachine", "scaleSet")]
    assert sorted(r["id"] for r in compute) == sorted(
        r.id for r in [*sample_inventory.vms, *sample_inventory.scale_sets]
    )
    web = next(r for r in compute if r["name"] == "vmss-web")
    assert (web["status"], web["workload"], web["awsInstanceType"], web["minSize"]) == (
        "planned",
        "web",
        "m7i.xlarge",
        "2",
    )
    skipped = [r for r in rows if r["status"] == "skipped"]
    assert {r["name"] for r in skipped} == {"lb-internal-old", "autoscale-api-plan"} and all(
        r["reason"] for r in skipped
    )


def test_html_is_self_contained_and_escaped(plan: dict) -> None:
    plan["workloads"][0]["warnings"].append("<script>alert(1)</script>")
    page = render(plan, "html")
    assert page.startswith("<!DOCTYPE html>") and "<style>" in page
    assert not re.search(r"""(src|href)=['"]?(https?:)?//""", page)  # no external resources
    assert "<script>" not in page and "&lt;script&gt;" in page
    assert "m7i.xlarge" in page and "lb-internal-old" in page


def test_markdown_lists_workloads_warnings_and_skipped(plan: dict) -> None:
    text = render(plan, "md")
    assert text.startswith("# Cutover migration plan")
    assert (
        "| web | scaleSet Standard_D4s_v5 | 3 | m7i.xlarge | 2 / 3 / 10 | network (TCP:80) |"
        in text
    )
    assert "CPU > 70% for 5 x 60s -> +1 (ChangeInCapacity), cooldown 300s" in text
    assert "## Skipped" in text and "autoscale-api-plan" in text


def test_json_report_carries_summary_plan_and_rows(plan: dict) -> None:
    body = json.loads(render(plan, "json"))
    assert body["summary"]["workloads"] == 7 and body["summary"]["skipped"] == 2
    assert body["workloads"] == plan["workloads"]
    assert len(body["rows"]) == 9 + 2
