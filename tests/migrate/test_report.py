"""Report renderers: Markdown, self-contained HTML, CSV (one row per VM / scale set), JSON."""

from __future__ import annotations

import csv
import html
import io
import json
import re

import pytest

from migrate.model import Inventory
from migrate.plan import build_plan
from migrate.report import CSV_COLUMNS, Context, render
from tests.migrate.conftest import LEGACY, PROD


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
    assert " src=" not in page and "@import" not in page and "url(" not in page
    assert "<script>alert(1)</script>" not in page and "&lt;script&gt;alert(1)" in page
    assert page.count("<script>") == 1  # the page's own inline filter, nothing else
    assert "m7i.xlarge" in page and "lb-internal-old" in page


def test_markdown_lists_workloads_warnings_and_skipped(plan: dict) -> None:
    text = render(plan, "md")
    assert text.startswith("# Cutover migration plan")
    assert (
        "| web | action needed | scaleSet Standard_D4s_v5 | 3 | m7i.xlarge | eu-west-1 | "
        "2 / 3 / 10 | application (HTTP:80) | 0 / 2 / 1 |" in text
    )
    assert "CPU > 70% for 5 x 60s -> +1 (ChangeInCapacity), cooldown 300s" in text
    assert "## Skipped" in text and "autoscale-api-plan" in text


def test_json_report_carries_summary_plan_rows_and_findings(plan: dict) -> None:
    body = json.loads(render(plan, "json"))
    assert body["summary"]["workloads"] == 7 and body["summary"]["skipped"] == 2
    assert body["workloads"] == plan["workloads"]
    assert len(body["rows"]) == 9 + 2
    severities = [f["severity"] for f in body["findings"]]
    assert severities == sorted(severities, key=("blocker", "action", "note").index)


# -- the report a migration engineer acts on -----------------------------------------------------

CONTEXT = Context(plan_file="out/plan.json", generated_at="2026-12-01T04:00:00Z")


def _page_text(page: str) -> str:
    """The HTML page as the reader sees it: tags dropped, entities decoded, spaces collapsed."""
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", page)).split())


def _md_bullets(text: str) -> list[str]:
    """Every bullet of the Markdown, without its Markdown (bold, backquotes, escapes)."""
    out = []
    for line in text.splitlines():
        stripped = line.strip()
        if stripped.startswith("- "):
            plain = re.sub(r"\*\*|`", "", stripped[2:]).replace("\\|", "|")
            out.append(" ".join(plain.split()))
    return out


@pytest.mark.parametrize("fmt", ["md", "html"])
def test_report_heads_with_time_plan_source_subscriptions_and_target_region(
    plan: dict, fmt: str
) -> None:
    plan["source"] = {
        "kind": "export",
        "path": "migrate/sample",
        "inventory": "out/inventory.json",
        "inventoriedAt": "2026-12-01T03:59:00Z",
        "subscriptions": [
            {"id": PROD, "name": "Contoso Production", "status": "ok"},
            {"id": LEGACY, "status": "ok"},
        ],
    }
    text = render(plan, fmt, CONTEXT)
    text = _page_text(text) if fmt == "html" else text
    assert "Generated: 2026-12-01T04:00:00Z" in text or "Generated 2026-12-01T04:00:00Z" in text
    assert "out/plan.json" in text
    assert "exported JSON migrate/sample, inventory out/inventory.json" in text
    assert f"Contoso Production ({PROD}); {LEGACY}" in text
    assert "eu-central-1 (from Azure germanywestcentral); eu-west-1 (from Azure westeurope)" in text


@pytest.mark.parametrize("fmt", ["md", "html"])
def test_findings_have_a_severity_and_blockers_come_first(plan: dict, fmt: str) -> None:
    text = render(plan, fmt, CONTEXT)
    text = _page_text(text) if fmt == "html" else text
    findings = text[text.index("Findings (blockers first)") :]
    windows = findings.index("Windows image: set fleet.ami")  # the default AMI is Linux
    nat = findings.index("inbound NAT rule")
    zones = findings.index("AWS zone names do not map")
    assert windows < nat < zones
    assert re.search(r"blocker \|? ?reporting \|? ?Windows image", findings, re.IGNORECASE)


def test_every_workload_has_a_status_and_its_next_command(plan: dict) -> None:
    text = render(plan, "md", CONTEXT)
    page = _page_text(render(plan, "html", CONTEXT))
    for w in plan["workloads"]:
        command = (
            f".venv/bin/python -m migrate stack-config out/plan.json --workload {w['name']} "
            "--stack STACK -o Pulumi.STACK.yaml"
        )
        assert command in text and command in page
    assert "- Status: blocked (1 blocker, " in text  # reporting: the Windows image
    assert "--workload shop --stack STACK -o Pulumi.STACK.yaml --certificate-arn ARN" in text


def test_html_has_every_line_the_markdown_has(plan: dict) -> None:
    page = _page_text(render(plan, "html", CONTEXT))
    bullets = _md_bullets(render(plan, "md", CONTEXT))
    assert any(
        b.startswith("Target port: 8080; deregistration delay (drain): 60s") for b in bullets
    )
    assert len(bullets) > 60
    missing = [
        b
        for b in bullets
        if b.replace("ACTION ", "action ").replace("BLOCKER ", "blocker ").replace("NOTE ", "note ")
        not in page
    ]
    assert not missing


def test_plan_fields_the_report_does_not_know_are_shown(plan: dict) -> None:
    web = next(w for w in plan["workloads"] if w["name"] == "web")
    web["aws"]["scheme"] = "internet-facing"
    web["aws"]["loadBalancerChoice"] = {"type": "application", "reason": "HTTP probe /health"}
    web["aws"]["runnerUp"] = "m6i.xlarge"
    for fmt in ("md", "html"):
        text = render(plan, fmt, CONTEXT)
        text = _page_text(text) if fmt == "html" else text
        assert "AWS scheme: internet-facing" in text
        assert "HTTP probe /health" in text and "AWS runnerUp: m6i.xlarge" in text


def test_html_has_an_offline_search_and_filters(plan: dict) -> None:
    page = render(plan, "html", CONTEXT)
    assert "<input id='q' type='search'" in page
    assert "<select id='status'>" in page and "<select id='severity'>" in page
    assert page.count("data-w ") == len(plan["workloads"])  # one filterable row per workload
    assert "<details id='w-web'" in page


def test_csv_has_vcpus_memory_and_types_for_both_clouds(plan: dict) -> None:
    rows = {r["name"]: r for r in csv.DictReader(io.StringIO(render(plan, "csv")))}
    web = rows["vmss-web"]
    assert (web["azureSize"], web["azureVcpus"], web["azureMemoryGiB"]) == (
        "Standard_D4s_v5",
        "4",
        "16.0",
    )
    assert (web["awsInstanceType"], web["awsVcpus"], web["awsMemoryGiB"]) == (
        "m7i.xlarge",
        "4",
        "16.0",
    )
    assert web["targetRegion"] == "eu-west-1" and web["severity"] == "action"
    assert rows["lb-internal-old"]["severity"] == "note"
