"""Renderers of a plan: Markdown, self-contained HTML, CSV (one row per VM / scale set), JSON."""

from __future__ import annotations

import csv
import html
import io
import json
from collections import Counter
from typing import Any

FORMATS = ("md", "html", "csv", "json")
CSV_COLUMNS = (
    "status",
    "subscription",
    "resourceGroup",
    "kind",
    "name",
    "id",
    "workload",
    "azureSize",
    "awsInstanceType",
    "minSize",
    "maxSize",
    "desiredCapacity",
    "loadBalancerType",
    "warnings",
    "reason",
)


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


def rows(plan: dict[str, Any]) -> list[dict[str, Any]]:
    """One row per source VM or scale set (planned or skipped), then other skipped resources."""
    out = []
    for w in plan["workloads"]:
        aws = w["aws"]
        for rid in w["azure"]["ids"]:
            out.append(
                {
                    "status": "planned",
                    "subscription": _segment(rid, "subscriptions"),
                    "resourceGroup": _segment(rid, "resourcegroups"),
                    "kind": _kind(rid),
                    "name": rid.rsplit("/", 1)[-1],
                    "id": rid,
                    "workload": w["name"],
                    "azureSize": w["azure"]["vmSize"],
                    "awsInstanceType": aws["instanceType"],
                    "minSize": aws["minSize"],
                    "maxSize": aws["maxSize"],
                    "desiredCapacity": aws["desiredCapacity"],
                    "loadBalancerType": aws.get("loadBalancerType") or "",
                    "warnings": " | ".join(w["warnings"]),
                    "reason": "",
                }
            )
    for s in plan["skipped"]:
        rid = s["id"]
        out.append(
            {
                **dict.fromkeys(CSV_COLUMNS, ""),
                "status": "skipped",
                "subscription": _segment(rid, "subscriptions"),
                "resourceGroup": _segment(rid, "resourcegroups"),
                "kind": _kind(rid),
                "name": rid.rsplit("/", 1)[-1],
                "id": rid,
                "reason": s["reason"],
            }
        )
    return out


def summary(plan: dict[str, Any]) -> dict[str, Any]:
    kinds = Counter(r["kind"] for r in rows(plan) if r["status"] == "planned")
    return {
        "workloads": len(plan["workloads"]),
        "scaleSets": kinds["scaleSet"],
        "virtualMachines": kinds["virtualMachine"],
        "skipped": len(plan["skipped"]),
        "warnings": sum(len(w["warnings"]) for w in plan["workloads"]),
        "instanceTypes": dict(Counter(w["aws"]["instanceType"] for w in plan["workloads"])),
    }


def render(plan: dict[str, Any], fmt: str) -> str:
    if fmt == "json":
        return json.dumps({"summary": summary(plan), **plan, "rows": rows(plan)}, indent=2) + "\n"
    if fmt == "csv":
        buffer = io.StringIO()
        writer = csv.DictWriter(buffer, fieldnames=CSV_COLUMNS, lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows(plan))
        return buffer.getvalue()
    if fmt == "md":
        return _markdown(plan)
    if fmt == "html":
        return _html(plan)
    raise ValueError(f"unknown format {fmt!r} (choose {', '.join(FORMATS)})")


def _capacity(aws: dict[str, Any]) -> str:
    return f"{aws['minSize']} / {aws['desiredCapacity']} / {aws['maxSize']}"


def _front(aws: dict[str, Any]) -> str:
    if not aws.get("loadBalancerType"):
        return "none"
    listeners = ", ".join(f"{x['protocol']}:{x['port']}" for x in aws["listeners"])
    return f"{aws['loadBalancerType']} ({listeners})"


def _policy(p: dict[str, Any]) -> str:
    sign = ">" if p["direction"] == "out" else "<"
    return (
        f"CPU {sign} {p['threshold']:g}% for {p['evaluationPeriods']} x {p['period']}s -> "
        f"{p['adjustment']:+d} ({p['adjustmentType']}), cooldown {p['cooldown']}s"
    )


def _health(check: dict[str, Any] | None) -> str:
    if not check:
        return "AWS default"
    path = f" {check['path']}" if check.get("path") else ""
    return (
        f"{check['protocol']}{path} on {check['port']}, every {check['interval']}s, timeout "
        f"{check['timeout']}s, healthy {check['healthyThreshold']}, unhealthy "
        f"{check['unhealthyThreshold']}"
    )


def _md_escape(text: str) -> str:
    return str(text).replace("|", "\\|").replace("\n", " ")


def _markdown(plan: dict[str, Any]) -> str:
    s = summary(plan)
    lines = [
        "# Cutover migration plan",
        "",
        f"{s['workloads']} workloads ({s['scaleSets']} scale sets, {s['virtualMachines']} VMs), "
        f"{s['skipped']} skipped resources, {s['warnings']} warnings.",
        "",
        "| Workload | Azure | Instances | AWS type | Min / Desired / Max | Load balancer | "
        "Warnings |",
        "|---|---|---|---|---|---|---|",
    ]
    for w in plan["workloads"]:
        az, aws = w["azure"], w["aws"]
        lines.append(
            f"| {w['name']} | {az['kind']} {az['vmSize']} | {az['instances']} | "
            f"{aws['instanceType']} | "
            f"{_capacity(aws)} | {_md_escape(_front(aws))} | {len(w['warnings'])} |"
        )
    for w in plan["workloads"]:
        az, aws = w["azure"], w["aws"]
        lines += ["", f"## {w['name']}", ""]
        lines.append(
            f"- Azure: {az['kind']} in {az['location']}"
            + (f", zones {', '.join(az['zones'])}" if az["zones"] else "")
        )
        lines += [f"  - `{rid}`" for rid in az["ids"]]
        lines.append(
            f"- Instance type: **{aws['instanceType']}** (alternatives: "
            f"{', '.join(aws['alternatives']) or 'none'})"
        )
        lines.append(f"  - {aws.get('sizingRationale', '')}")
        lines.append(f"- Capacity (Min / Desired / Max): {_capacity(aws)}")
        for p in aws["scalingPolicies"]:
            lines.append(f"- Scaling policy: {_policy(p)}")
        lines.append(
            f"- Load balancer: {_front(aws)}; health check: {_health(aws.get('healthCheck'))}"
        )
        if aws.get("targetPort"):
            lines.append(
                f"- Target port: {aws['targetPort']}; deregistration delay: "
                f"{aws.get('deregistrationDelay') or 'default'}"
            )
        if w["warnings"]:
            lines += ["- Warnings:"] + [f"  - {_md_escape(x)}" for x in w["warnings"]]
    lines += ["", "## Skipped", ""]
    if plan["skipped"]:
        lines += ["| Resource | Reason |", "|---|---|"]
        lines += [f"| `{s['id']}` | {_md_escape(s['reason'])} |" for s in plan["skipped"]]
    else:
        lines.append("Nothing skipped.")
    if plan.get("notes"):
        lines += ["", "## Notes", ""] + [f"- {_md_escape(n)}" for n in plan["notes"]]
    return "\n".join(lines) + "\n"


_CSS = """
body{font-family:system-ui,-apple-system,Segoe UI,sans-serif;margin:2rem;color:#1b1f24;
max-width:1200px}table{border-collapse:collapse;width:100%;margin:1rem 0}
th,td{border:1px solid #d0d7de;padding:.35rem .5rem;
text-align:left;vertical-align:top;font-size:.9rem}th{background:#f6f8fa}code{font-size:.8rem;word-break:break-all}
.warn{color:#9a6700}.skip{color:#82071e}section{border-top:2px solid #d0d7de;margin-top:1.5rem}
"""


def _html(plan: dict[str, Any]) -> str:
    e = html.escape
    s = summary(plan)
    parts = [
        "<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'>",
        "<title>Cutover migration plan</title>",
        f"<style>{_CSS}</style></head><body>",
        "<h1>Cutover migration plan</h1>",
        f"<p>{s['workloads']} workloads ({s['scaleSets']} scale sets, {s['virtualMachines']} VMs), "
        f"{s['skipped']} skipped resources, {s['warnings']} warnings.</p>",
        "<table><tr><th>Workload</th><th>Azure</th><th>Instances</th><th>AWS type</th>"
        "<th>Min / Desired / Max</th><th>Load balancer</th><th>Warnings</th></tr>",
    ]
    for w in plan["workloads"]:
        az, aws = w["azure"], w["aws"]
        parts.append(
            f"<tr><td><a href='#w-{e(w['name'])}'>{e(w['name'])}</a></td>"
            f"<td>{e(az['kind'])} {e(az['vmSize'])}</td>"
            f"<td>{az['instances']}</td><td>{e(aws['instanceType'])}</td><td>{_capacity(aws)}</td>"
            f"<td>{e(_front(aws))}</td><td>{len(w['warnings'])}</td></tr>"
        )
    parts.append("</table>")
    for w in plan["workloads"]:
        az, aws = w["azure"], w["aws"]
        parts.append(f"<section id='w-{e(w['name'])}'><h2>{e(w['name'])}</h2><ul>")
        parts.append(
            f"<li>Azure {e(az['kind'])} in {e(az['location'])}: "
            + ", ".join(f"<code>{e(i)}</code>" for i in az["ids"])
            + "</li>"
        )
        parts.append(
            f"<li>Instance type <b>{e(aws['instanceType'])}</b> (alternatives: "
            f"{e(', '.join(aws['alternatives']) or 'none')})"
            f"<br>{e(aws.get('sizingRationale', ''))}</li>"
        )
        parts.append(f"<li>Capacity (Min / Desired / Max): {_capacity(aws)}</li>")
        parts += [f"<li>Scaling policy: {e(_policy(p))}</li>" for p in aws["scalingPolicies"]]
        parts.append(
            f"<li>Load balancer: {e(_front(aws))}; health check: "
            f"{e(_health(aws.get('healthCheck')))}</li>"
        )
        parts += [f"<li class='warn'>&#9888; {e(x)}</li>" for x in w["warnings"]]
        parts.append("</ul></section>")
    parts.append("<section><h2>Skipped</h2>")
    if plan["skipped"]:
        parts.append("<table><tr><th>Resource</th><th>Reason</th></tr>")
        parts += [
            f"<tr><td><code>{e(x['id'])}</code></td><td class='skip'>{e(x['reason'])}</td></tr>"
            for x in plan["skipped"]
        ]
        parts.append("</table>")
    else:
        parts.append("<p>Nothing skipped.</p>")
    parts.append("</section>")
    if plan.get("notes"):
        parts.append(
            "<section><h2>Notes</h2><ul>"
            + "".join(f"<li>{e(n)}</li>" for n in plan["notes"])
            + "</ul></section>"
        )
    parts.append("</body></html>\n")
    return "\n".join(parts)
