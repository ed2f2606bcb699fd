"""Report renderers: Markdown, self-contained HTML, CSV (one row per VM / scale set), JSON."""

from __future__ import annotations

import csv
import html
import io
import json
import re
import shutil
import subprocess
from html.parser import HTMLParser

import pytest

from migrate.model import Inventory
from migrate.plan import build_plan
from migrate.render import render
from migrate.report import CSV_COLUMNS, Context
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
        "2 / 3 / 10 | network (TCP:80) | 0 / 2 / 1 |" in text
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
        assert "AWS loadBalancerChoice: type: application; reason: HTTP probe /health" in text
        assert "AWS runnerUp: m6i.xlarge" in text


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


class _Filterable(HTMLParser):
    """The page's filterable elements (``data-f``): tag, attributes and text content."""

    def __init__(self) -> None:
        super().__init__()
        self.found: list[dict] = []
        self._open: list[tuple[str, dict, int]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if self._open and self._open[-1][0] == tag:
            self._open[-1] = (tag, self._open[-1][1], self._open[-1][2] + 1)
        if "data-f" in dict(attrs):
            record = {"tag": tag, "attrs": {k: v or "" for k, v in attrs}, "text": ""}
            self.found.append(record)
            self._open.append((tag, record, 0))

    def handle_endtag(self, tag: str) -> None:
        if self._open and self._open[-1][0] == tag:
            name, record, depth = self._open[-1]
            if depth:
                self._open[-1] = (name, record, depth - 1)
            else:
                self._open.pop()

    def handle_data(self, data: str) -> None:
        for _, record, _ in self._open:
            record["text"] += data


# A minimal DOM for the page's own script: the elements it filters and its three controls.
_DOM = """
const els = JSON.parse(process.argv[1]).map(e => ({
  tag: e.tag, textContent: e.text, hidden: false,
  getAttribute: k => (k in e.attrs ? e.attrs[k] : null)}));
const control = () => ({value: '', on: {}, textContent: '',
  addEventListener(kind, f) { this.on[kind] = f; }});
const controls = {q: control(), status: control(), severity: control(), shown: control()};
global.document = {
  querySelectorAll: s => s === '[data-f]' ? els
    : els.filter(e => e.tag === 'tr' && e.getAttribute('data-w') !== null),
  getElementById: id => controls[id]};
new Function(process.argv[2])();
const [q, status, severity] = JSON.parse(process.argv[3]);
controls.q.value = q; controls.status.value = status; controls.severity.value = severity;
controls.q.on.input(); controls.status.on.change();
setTimeout(() => console.log(JSON.stringify({
  shown: controls.shown.textContent,
  visible: els.filter(e => !e.hidden).map(e => [e.textContent, e.getAttribute('data-sev')])
})), 300);
"""


@pytest.mark.skipif(shutil.which("node") is None, reason="needs node to run the page's script")
@pytest.mark.parametrize(
    ("query", "state", "severity", "expect"),
    [
        ("web", "", "", {"workloads": 1, "must": ["web"]}),
        ("", "blocked", "", {"workloads": 2, "must": ["gpu-01", "reporting"]}),
        ("nat rule", "", "action", {"workloads": 0, "must": ["inbound NAT rule"]}),
        ("", "", "", {"workloads": 7, "must": ["worker"]}),
    ],
)
def test_the_page_search_and_filters_select_what_they_say(
    plan: dict, query: str, state: str, severity: str, expect: dict
) -> None:
    page = render(plan, "html", CONTEXT)
    parser = _Filterable()
    parser.feed(page)
    script = page.split("<script>", 1)[1].split("</script>", 1)[0]
    done = subprocess.run(
        [
            "node",
            "-e",
            _DOM,
            json.dumps(parser.found),
            script,
            json.dumps([query, state, severity]),
        ],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    result = json.loads(done.stdout)
    assert result["shown"] == f"{expect['workloads']} of 7 workloads shown"
    for needle in expect["must"]:
        assert any(needle in text for text, _ in result["visible"]), needle
    for text, sev in result["visible"]:
        assert all(word in text.lower() for word in query.split())
        assert not severity or sev in (None, severity)
