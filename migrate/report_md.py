"""The Markdown report: the same facts and lines as the HTML page (``migrate.report``)."""

from __future__ import annotations

from typing import Any

from migrate import report_costs
from migrate.findings import (
    SEVERITIES,
    all_findings,
    counts,
    skipped_severity,
    status,
    workload_findings,
)
from migrate.report import (
    Context,
    Line,
    capacity,
    front,
    header_facts,
    summary,
    summary_sentence,
    target_region,
    workload_lines,
)


def _md_escape(text: str) -> str:
    return str(text).replace("|", "\\|").replace("\n", " ")


def _md_line(line: Line, depth: int = 0) -> list[str]:
    text = _md_escape(line.text)
    if line.severity:
        text = f"**{line.severity.upper()}** {text}"
    if line.code:
        text = f"{text} `{line.code}`".strip()
    out = [f"{'  ' * depth}- {text}"]
    for child in line.children:
        out += _md_line(child, depth + 1)
    return out


def markdown(plan: dict[str, Any], context: Context) -> str:
    """The report as Markdown: header, summary, workload table, findings, sections, skipped."""
    s = summary(plan)
    lines = ["# Cutover migration plan", ""]
    lines += [f"- {label}: {_md_escape(text)}" for label, text in header_facts(plan, context)]
    lines += [
        "",
        summary_sentence(s),
        "",
        "| Workload | Status | Azure | Instances | AWS type | Region | Min / Desired / Max | "
        "Load balancer | Blockers / actions / notes |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for w in plan["workloads"]:
        az, aws = w["azure"], w["aws"]
        found = workload_findings(w)
        tally = counts(found)
        lines.append(
            f"| {w['name']} | {status(found)} | {az['kind']} {az['vmSize']} | {az['instances']} | "
            f"{aws['instanceType']} | {target_region(az.get('location', '')) or 'unmapped'} | "
            f"{capacity(aws)} | {_md_escape(front(aws))} | "
            f"{tally['blocker']} / {tally['action']} / {tally['note']} |"
        )
    lines += ["", "## Measured use and monthly cost", ""]
    lines += ["| " + " | ".join(report_costs.TABLE_HEADERS) + " |",
              "|" + "---|" * len(report_costs.TABLE_HEADERS)]  # fmt: skip
    lines += [
        "| " + " | ".join(_md_escape(c) for c in report_costs.table_row(w)) + " |"
        for w in plan["workloads"]
    ]
    findings = all_findings(plan)
    lines += ["", "## Findings (blockers first)", ""]
    if findings:
        lines += ["| Severity | Workload or resource | Finding |", "|---|---|---|"]
        lines += [
            f"| {f.severity} | {_md_escape(f.subject)} | {_md_escape(f.text)} |" for f in findings
        ]
    else:
        lines.append("None.")
    for w in plan["workloads"]:
        lines += ["", f"## {w['name']}", ""]
        for line in workload_lines(w, context):
            lines += _md_line(line)
    lines += ["", "## Skipped", ""]
    if plan["skipped"]:
        lines += ["| Severity | Resource | Reason |", "|---|---|---|"]
        lines += [
            f"| {skipped_severity(x['reason'])} | `{x['id']}` | {_md_escape(x['reason'])} |"
            for x in sorted(
                plan["skipped"],
                key=lambda x: SEVERITIES.index(skipped_severity(x["reason"])),
            )
        ]
    else:
        lines.append("Nothing skipped.")
    if plan.get("notes"):
        lines += ["", "## Notes", ""] + [f"- {_md_escape(n)}" for n in plan["notes"]]
    return "\n".join(lines) + "\n"
