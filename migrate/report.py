"""Renderers of a plan: Markdown (``report_md``), self-contained HTML (``report_html``), CSV, JSON.

Markdown and HTML are drawn from the same facts (``header_facts``, ``workload_lines``), so the
page has every line the Markdown has. Severities come from ``migrate.findings``; vCPUs and
memory from the embedded catalogs; plan fields this module does not know (a newer plan's
decisions and rationale) are shown generically, never dropped.
"""

from __future__ import annotations

import csv
import io
import json
from collections import Counter
from dataclasses import dataclass, field
from functools import cache
from typing import Any

from migrate import catalog, report_costs
from migrate.findings import (
    Finding,
    all_findings,
    counts,
    skipped_severity,
    status,
    workload_findings,
)

FORMATS = ("md", "html", "csv", "json")
CSV_COLUMNS = (
    "status",
    "severity",
    "subscription",
    "resourceGroup",
    "kind",
    "name",
    "id",
    "workload",
    "azureSize",
    "azureVcpus",
    "azureMemoryGiB",
    "awsInstanceType",
    "awsVcpus",
    "awsMemoryGiB",
    "targetRegion",
    "minSize",
    "maxSize",
    "desiredCapacity",
    "loadBalancerType",
    "warnings",
    "reason",
    "findings",  # each finding as "severity: text", blockers first
    *report_costs.CSV_COLUMNS,  # measured use and monthly cost
)
# Plan keys the renderers show in their own words; any other key is listed as it is.
KNOWN_WORKLOAD_KEYS = frozenset({"name", "azure", "aws", "warnings", "cost"})
KNOWN_AZURE_KEYS = frozenset(
    {"kind", "ids", "vmSize", "instances", "location", "zones", "loadBalancers",
     "autoscaleSettings"}
)  # fmt: skip
KNOWN_AWS_KEYS = frozenset(
    {"instanceType", "alternatives", "sizingRationale", "minSize", "maxSize", "desiredCapacity",
     "scalingPolicies", "healthCheck", "listeners", "loadBalancerType", "targetPort",
     "deregistrationDelay", "performance"}
)  # fmt: skip
RUN = ".venv/bin/python -m migrate"


@dataclass(frozen=True)
class Context:
    """What the report knows besides the plan: the file it was read from, and when."""

    plan_file: str = "plan.json"
    generated_at: str = ""


# -- facts shared by every format ---------------------------------------------------------------


def _segment(resource_id: str, name: str) -> str:
    parts = resource_id.split("/")
    for i, part in enumerate(parts[:-1]):
        if part.lower() == name:
            return parts[i + 1]
    return ""


def _kind(resource_id: str) -> str:
    rid = resource_id.lower()
    for marker, kind in (
        ("/virtualmachinescalesets/", "scaleSet"),
        ("/virtualmachines/", "virtualMachine"),
        ("/loadbalancers/", "loadBalancer"),
        ("/applicationgateways/", "applicationGateway"),
        ("/autoscalesettings/", "autoscaleSetting"),
    ):
        if marker in rid:
            return kind
    return "subscription" if rid.count("/") == 2 else "other"


@cache
def _azure_sizes() -> dict[str, Any]:
    return catalog.azure_sizes()


@cache
def _ec2_types() -> dict[str, Any]:
    return {t.name: t for t in catalog.ec2_types()}


def azure_shape(size_name: str) -> tuple[int | None, float | None]:
    """(vCPUs, memory GiB) of an Azure size, from the embedded catalog (None: unknown)."""
    size = _azure_sizes().get(str(size_name).lower())
    return (size.vcpus, size.memory_gb) if size else (None, None)


def aws_shape(instance_type: str) -> tuple[int | None, float | None]:
    """(vCPUs, memory GiB) of an EC2 instance type, from the embedded catalog (None: unknown)."""
    found = _ec2_types().get(instance_type)
    return (found.vcpus, round(found.memory_mib / 1024, 2)) if found else (None, None)


def target_region(location: str) -> str:
    """The AWS region stack-config maps an Azure location to ('' when none is mapped)."""
    return catalog.mapping().get("regions", {}).get(str(location).lower(), "")


def _shape(vcpus: int | None, memory: float | None) -> str:
    return "size unknown" if vcpus is None else f"{vcpus} vCPU, {memory:g} GiB"


def next_command(plan_file: str, workload: dict[str, Any]) -> str:
    """The command that turns this workload into a stack file."""
    https = any(x.get("protocol") == "HTTPS" for x in workload["aws"].get("listeners") or [])
    return (
        f"{RUN} stack-config {plan_file} --workload {workload['name']} --stack STACK "
        f"-o Pulumi.STACK.yaml" + (" --certificate-arn ARN" if https else "")
    )


def subscriptions(plan: dict[str, Any]) -> list[dict[str, str]]:
    """The subscriptions the plan covers: from its source block, else from its resource ids."""
    listed = (plan.get("source") or {}).get("subscriptions") or []
    out = [
        {
            "id": str(s.get("id", "")),
            "name": str(s.get("name") or s.get("displayName") or ""),
            "status": str(s.get("status", "ok")),
        }
        for s in listed
        if isinstance(s, dict)
    ]
    if out:
        return out
    ids = [rid for w in plan["workloads"] for rid in w["azure"]["ids"]]
    ids += [s["id"] for s in plan["skipped"]]
    found = sorted({_segment(rid, "subscriptions") for rid in ids} - {""})
    return [{"id": s, "name": "", "status": "ok"} for s in found]


def header_facts(plan: dict[str, Any], context: Context) -> list[tuple[str, str]]:
    """(label, text) lines at the top of every human-readable report."""
    source = plan.get("source") or {}
    facts = [("Generated", context.generated_at or "unknown"), ("Plan", context.plan_file)]
    if source.get("plannedAt"):
        facts.append(("Planned", source["plannedAt"]))
    origin = {"export": "exported JSON", "live": "live Azure (SDK)"}.get(source.get("kind"), "")
    where = source.get("path") or ""
    inventory = source.get("inventory") or ""
    text = ", ".join(
        x
        for x in (
            f"{origin} {where}".strip(),
            f"inventory {inventory}" if inventory else "",
            f"inventoried {source['inventoriedAt']}" if source.get("inventoriedAt") else "",
        )
        if x
    )
    facts.append(("Source", text or "not recorded in the plan"))
    subs = subscriptions(plan)
    facts.append(
        (
            "Subscriptions",
            "; ".join(
                (f"{s['name']} ({s['id']})" if s["name"] else s["id"])
                + ("" if s["status"] == "ok" else f" [{s['status']}]")
                for s in subs
            )
            or "none",
        )
    )
    regions: dict[str, set[str]] = {}
    for w in plan["workloads"]:
        location = w["azure"].get("location", "")
        regions.setdefault(target_region(location) or "unmapped", set()).add(location)
    facts += report_costs.header_lines(plan)
    facts.append(
        (
            "Target AWS region",
            "; ".join(
                f"{r} (from Azure {', '.join(sorted(locs))})" for r, locs in sorted(regions.items())
            )
            or "none",
        )
    )
    return facts


def summary(plan: dict[str, Any]) -> dict[str, Any]:
    kinds = Counter(r["kind"] for r in rows(plan) if r["status"] == "planned")
    statuses = Counter(status(workload_findings(w)) for w in plan["workloads"])
    findings = all_findings(plan)
    return {
        "workloads": len(plan["workloads"]),
        "scaleSets": kinds["scaleSet"],
        "virtualMachines": kinds["virtualMachine"],
        "skipped": len(plan["skipped"]),
        "warnings": sum(len(w["warnings"]) for w in plan["workloads"]),
        "findings": counts(findings),
        "status": {s: statuses[s] for s in ("blocked", "action needed", "ready")},
        "instanceTypes": dict(Counter(w["aws"]["instanceType"] for w in plan["workloads"])),
    }


def summary_sentence(s: dict[str, Any]) -> str:
    f, st = s["findings"], s["status"]
    return (
        f"{s['workloads']} workloads ({s['scaleSets']} scale sets, {s['virtualMachines']} VMs): "
        f"{st['blocked']} blocked, {st['action needed']} need action, {st['ready']} ready. "
        f"{s['skipped']} skipped resources. Findings: {f['blocker']} blockers, "
        f"{f['action']} actions, {f['note']} notes."
    )


# -- one workload, as lines ---------------------------------------------------------------------


@dataclass
class Line:
    """One bullet of a workload's section: text, optional code, sub-bullets, a severity."""

    text: str
    code: str = ""
    children: list[Line] = field(default_factory=list)
    severity: str = ""


def capacity(aws: dict[str, Any]) -> str:
    return f"{aws['minSize']} / {aws['desiredCapacity']} / {aws['maxSize']}"


def front(aws: dict[str, Any]) -> str:
    if not aws.get("loadBalancerType"):
        return "none"
    listeners = ", ".join(f"{x['protocol']}:{x['port']}" for x in aws.get("listeners") or [])
    return f"{aws['loadBalancerType']} ({listeners})"


def policy_text(p: dict[str, Any]) -> str:
    sign = ">" if p["direction"] == "out" else "<"
    return (
        f"CPU {sign} {p['threshold']:g}% for {p['evaluationPeriods']} x {p['period']}s -> "
        f"{p['adjustment']:+d} ({p['adjustmentType']}), cooldown {p['cooldown']}s"
    )


def health_text(check: dict[str, Any] | None) -> str:
    if not check:
        return "AWS default"
    path = f" {check['path']}" if check.get("path") else ""
    port = f" on {check['port']}" if check.get("port") else ""
    timing = ", ".join(
        f"{label} {check[key]}{unit}"
        for key, label, unit in (
            ("interval", "every", "s"),
            ("timeout", "timeout", "s"),
            ("healthyThreshold", "healthy", ""),
            ("unhealthyThreshold", "unhealthy", ""),
        )
        if check.get(key) is not None
    )
    return f"{check['protocol']}{path}{port}" + (f", {timing}" if timing else "")


def value_text(value: Any) -> str:
    """A plan value of unknown meaning, readable: scalars as they are, structures as JSON."""
    if isinstance(value, str):
        return value
    if isinstance(value, list) and all(isinstance(v, (str, int, float)) for v in value):
        return ", ".join(str(v) for v in value) or "none"
    if isinstance(value, dict) and all(
        isinstance(v, (str, int, float, bool)) for v in value.values()
    ):
        return "; ".join(f"{k}: {value_text(v)}" for k, v in value.items())
    return json.dumps(value, sort_keys=True, default=str)


def _extra(section: dict[str, Any], known: frozenset[str], prefix: str) -> list[Line]:
    return [
        Line(f"{prefix}{key}: {value_text(value)}")
        for key, value in section.items()
        if key not in known and value not in (None, "", [], {})
    ]


def workload_lines(w: dict[str, Any], context: Context) -> list[Line]:
    """Everything a report says about one workload, in order."""
    az, aws = w["azure"], w["aws"]
    findings = workload_findings(w)
    state = status(findings)
    tally = Counter(f.severity for f in findings)
    lines = [
        Line(
            f"Status: {state}"
            + (
                f" ({', '.join(f'{n} {s}' for s, n in tally.items())})"
                if findings
                else " (no findings)"
            )
        ),
        Line(
            "Next: resolve the blockers below, re-plan, then" if state == "blocked" else "Next:",
            code=next_command(context.plan_file, w),
        ),
        Line(
            f"Target region: {target_region(az.get('location', '')) or 'unmapped (pass --region)'}"
            f" (Azure {az.get('location', '?')})"
        ),
        Line(
            f"Azure: {az['kind']} in {az.get('location', '?')}, {az['instances']} instance(s)"
            + (f", zones {', '.join(az['zones'])}" if az.get("zones") else ""),
            children=[Line("", code=rid) for rid in az["ids"]],
        ),
        Line(
            f"Size: {az['vmSize']} ({_shape(*azure_shape(az['vmSize']))}) -> "
            f"{aws['instanceType']} ({_shape(*aws_shape(aws['instanceType']))}); alternatives: "
            f"{', '.join(aws.get('alternatives') or []) or 'none'}",
            children=[Line(aws["sizingRationale"])] if aws.get("sizingRationale") else [],
        ),
        Line(f"Capacity (Min / Desired / Max): {capacity(aws)}"),
    ]
    lines += [Line(f"Scaling policy: {policy_text(p)}") for p in aws.get("scalingPolicies") or []]
    lines.append(
        Line(f"Load balancer: {front(aws)}; health check: {health_text(aws.get('healthCheck'))}")
    )
    if aws.get("targetPort") or aws.get("deregistrationDelay") is not None:
        delay = aws.get("deregistrationDelay")
        lines.append(
            Line(
                f"Target port: {aws.get('targetPort') or 'default'}; deregistration delay "
                f"(drain): {f'{delay}s' if delay is not None else 'default'}"
            )
        )
    lines += [
        Line(text, children=[Line(c) for c in children])
        for text, children in report_costs.workload_lines(w)
    ]
    lines += _extra(aws, KNOWN_AWS_KEYS, "AWS ")
    lines += _extra(az, KNOWN_AZURE_KEYS, "Azure ")
    lines += _extra(w, KNOWN_WORKLOAD_KEYS, "")
    lines += [Line(f.text, severity=f.severity) for f in findings]
    return lines


# -- CSV and JSON ---------------------------------------------------------------------------------


def _worst(findings: list[Finding]) -> str:
    return min(findings, key=lambda f: f.rank).severity if findings else ""


def rows(plan: dict[str, Any]) -> list[dict[str, Any]]:
    """One row per source VM or scale set (planned or skipped), then other skipped resources."""
    out = []
    for w in plan["workloads"]:
        az, aws = w["azure"], w["aws"]
        azure_vcpus, azure_memory = azure_shape(az["vmSize"])
        aws_vcpus, aws_memory = aws_shape(aws["instanceType"])
        found = workload_findings(w)
        listed = " | ".join(f"{f.severity}: {f.text}" for f in found)
        for rid in az["ids"]:
            out.append(
                {
                    "status": "planned",
                    "severity": _worst(found),
                    "subscription": _segment(rid, "subscriptions"),
                    "resourceGroup": _segment(rid, "resourcegroups"),
                    "kind": _kind(rid),
                    "name": rid.rsplit("/", 1)[-1],
                    "id": rid,
                    "workload": w["name"],
                    "azureSize": az["vmSize"],
                    "azureVcpus": azure_vcpus if azure_vcpus is not None else "",
                    "azureMemoryGiB": azure_memory if azure_memory is not None else "",
                    "awsInstanceType": aws["instanceType"],
                    "awsVcpus": aws_vcpus if aws_vcpus is not None else "",
                    "awsMemoryGiB": aws_memory if aws_memory is not None else "",
                    "targetRegion": target_region(az.get("location", "")),
                    "minSize": aws["minSize"],
                    "maxSize": aws["maxSize"],
                    "desiredCapacity": aws["desiredCapacity"],
                    "loadBalancerType": aws.get("loadBalancerType") or "",
                    "warnings": " | ".join(w["warnings"]),
                    "reason": "",
                    "findings": listed,
                    **report_costs.csv_values(w),
                }
            )
    for s in plan["skipped"]:
        rid = s["id"]
        out.append(
            {
                **dict.fromkeys(CSV_COLUMNS, ""),
                "status": "skipped",
                "severity": skipped_severity(s["reason"]),
                "subscription": _segment(rid, "subscriptions"),
                "resourceGroup": _segment(rid, "resourcegroups"),
                "kind": _kind(rid),
                "name": rid.rsplit("/", 1)[-1],
                "id": rid,
                "reason": s["reason"],
                "findings": f"{skipped_severity(s['reason'])}: {s['reason']}",
            }
        )
    return out


def as_json(plan: dict[str, Any]) -> str:
    body = {
        "summary": summary(plan),
        **plan,
        "rows": rows(plan),
        "findings": [
            {"severity": f.severity, "subject": f.subject, "text": f.text}
            for f in all_findings(plan)
        ],
    }
    return json.dumps(body, indent=2) + "\n"


def as_csv(plan: dict[str, Any]) -> str:
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=CSV_COLUMNS, lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows(plan))
    return buffer.getvalue()
