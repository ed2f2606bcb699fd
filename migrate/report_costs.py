"""What the reports say about measured use and cost: the totals at the top, one table row and a
few lines per workload, the CSV columns, and the small inline SVG of CPU and memory per day.

Plain strings and tuples only (``migrate.report`` wraps them in its ``Line``), so every format
draws the same facts. Prices come with their source and date; a missing one is "unknown" with
the command that fetches it (``migrate.costs``).
"""

from __future__ import annotations

import html
from typing import Any

from migrate.costs import HOURS_PER_MONTH, amount, money, short, totals

TABLE_HEADERS = (
    "Workload", "As-is type", "Chosen type", "Basis", "P95 CPU", "P95 memory", "Confidence",
    "Azure / month", "AWS / month", "Right-sizing saving / month",
)  # fmt: skip
CSV_COLUMNS = (
    "asIsInstanceType", "sizingBasis", "cpuPercentile", "memoryPercentile", "confidence",
    "azureMonthly", "awsMonthly", "awsAsIsMonthly", "savingMonthly", "currency", "priceSources",
)  # fmt: skip


def _perf(w: dict[str, Any]) -> dict[str, Any]:
    return w["aws"].get("performance") or {}


def _pct(value: Any) -> str:
    return "n/a" if value is None else f"{round(value, 1):g} %"


def header_lines(plan: dict[str, Any]) -> list[tuple[str, str]]:
    """(label, text) lines for the top of the report: totals on both clouds and the saving."""
    t = totals(plan)
    if not t["priced"]:
        return [
            ("Monthly cost", "not priced (plan with --prices FILE; see migrate prices refresh)")
        ]

    def side(key: str) -> str:
        unknown = t["unknown"].get(key, 0)
        return amount(t[key]) + (f" (+{unknown} workload(s) unknown)" if unknown else "")

    lines = [
        (
            f"Monthly cost (on-demand, {HOURS_PER_MONTH} h, desired capacity)",
            f"Azure {side('azure')}; AWS {side('aws')} as planned, "
            f"{amount(t['awsAsIs'])} as-is; right-sizing saving {amount(t['saving'])}",
        )
    ]
    sources = sorted(
        {
            f"{e['source']} ({e['date']})"
            for w in plan["workloads"]
            for key in ("azure", "aws", "awsAsIs")
            for e in [(w.get("cost") or {}).get(key) or {}]
            if "monthly" in e
        }
    )
    if t["illustrative"]:
        lines.append(("Prices", "ILLUSTRATIVE figures (not quotes), marked * in the tables"))
    lines += [("Price source", s) for s in sources]
    return lines


def table_row(w: dict[str, Any]) -> list[str]:
    aws, perf, cost = w["aws"], _perf(w), w.get("cost") or {}
    as_is = (aws.get("sizing") or {}).get("asIs") or aws["instanceType"]
    confidence = f"{perf['confidence']}/5" if perf.get("confidence") else "no data"
    saving = cost.get("saving")
    return [
        w["name"],
        as_is,
        aws["instanceType"],
        perf.get("basis") or (aws.get("sizing") or {}).get("basis") or "as-is",
        _pct(perf.get("cpuPercent")),
        _pct(perf.get("memoryPercent")),
        confidence,
        short(cost.get("azure")),
        short(cost.get("aws")),
        _saving(cost, saving),
    ]


def _saving(cost: dict[str, Any], saving: float | None) -> str:
    if not cost:
        return ""
    if "awsAsIs" not in cost:
        return "none (as-is type)"
    return "unknown" if saving is None else amount(saving)


def workload_lines(w: dict[str, Any]) -> list[tuple[str, list[str]]]:
    """(text, sub-lines) for a workload's section."""
    perf, cost = _perf(w), w.get("cost")
    out: list[tuple[str, list[str]]] = []
    if perf:
        p = perf.get("percentile", 95)
        out.append(
            (
                f"Measured use ({perf.get('period', '?')}): P{p} CPU "
                f"{_pct(perf.get('cpuPercent'))}, P{p} memory {_pct(perf.get('memoryPercent'))}; "
                f"{perf['pointsPresent']} of {perf['pointsExpected']} hourly points, confidence "
                f"{perf['confidence']}/5; sized {perf['basis']}",
                [perf["reason"]],
            )
        )
    if cost:
        lines = [
            f"Azure {cost['azure']['sku']}: {money(cost['azure'])}",
            f"AWS {cost['aws']['sku']}: {money(cost['aws'])}",
        ]
        if "awsAsIs" in cost:
            lines.append(f"AWS as-is {cost['awsAsIs']['sku']}: {money(cost['awsAsIs'])}")
        saving = cost.get("saving")
        out.append(
            (
                f"Monthly cost ({cost['instances']} x {cost['os']}, {cost['hoursPerMonth']} h): "
                f"Azure {short(cost['azure'])}, AWS {short(cost['aws'])}; right-sizing saving "
                f"{'unknown' if saving is None else amount(saving)}",
                lines,
            )
        )
    return out


def csv_values(w: dict[str, Any]) -> dict[str, Any]:
    aws, perf, cost = w["aws"], _perf(w), w.get("cost") or {}

    def monthly(key: str) -> Any:
        entry = cost.get(key) or {}
        return entry.get("monthly", "unknown" if entry else "")

    sources = sorted(
        {
            f"{e['source']} ({e['date']})"
            for e in cost.values()
            if isinstance(e, dict) and "source" in e
        }
    )
    return {
        "asIsInstanceType": (aws.get("sizing") or {}).get("asIs") or aws["instanceType"],
        "sizingBasis": perf.get("basis", "as-is"),
        "cpuPercentile": perf.get("cpuPercent", ""),
        "memoryPercentile": perf.get("memoryPercent") if perf.get("memoryPercent") else "",
        "confidence": perf.get("confidence", ""),
        "azureMonthly": monthly("azure"),
        "awsMonthly": monthly("aws"),
        "awsAsIsMonthly": monthly("awsAsIs") if "awsAsIs" in cost else monthly("aws"),
        "savingMonthly": ""
        if not cost
        else ("unknown" if cost["saving"] is None else cost["saving"]),
        "currency": (cost.get("aws") or {}).get("currency", ""),
        "priceSources": " | ".join(sources),
    }


def svg(w: dict[str, Any], width: int = 240, height: int = 48) -> str:
    """CPU (blue) and memory (orange) per day, 0-100 %, as an inline SVG ('' without data)."""
    daily = _perf(w).get("daily") or {}
    series = [(daily.get("cpuPercent") or [], "#0969da", "CPU"),
              (daily.get("memoryPercent") or [], "#bc4c00", "memory")]  # fmt: skip
    if not any(any(v is not None for v in values) for values, _, _ in series):
        return ""
    parts = [
        f"<svg xmlns='http://www.w3.org/2000/svg' width='{width}' height='{height}' "
        f"viewBox='0 0 {width} {height}' role='img' aria-label='daily peak CPU and memory, %'>"
        f"<rect width='{width}' height='{height}' fill='#f6f8fa'/>"
    ]
    for values, colour, label in series:
        if len(values) < 1:
            continue
        step = width / max(len(values) - 1, 1)
        points = " ".join(
            f"{i * step:.1f},{height - v / 100 * height:.1f}"
            for i, v in enumerate(values)
            if v is not None
        )
        parts.append(
            f"<polyline fill='none' stroke='{colour}' stroke-width='1.5' points='{points}'>"
            f"<title>{html.escape(label)} daily peak %</title></polyline>"
        )
    parts.append("</svg>")
    return "".join(parts)
