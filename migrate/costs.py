"""Monthly on-demand cost of each workload on both clouds, from the price cache (``prices``).

Pay-as-you-go, 730 hours a month (Azure Migrate's convention), for the planned desired capacity,
in each side's region, Linux and Windows priced apart. The right-sizing saving is the AWS cost of
the as-is type minus that of the chosen one. A price the cache lacks is ``unknown`` with the
command that fetches it; nothing is estimated.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from migrate import catalog
from migrate.prices import Price, PriceCache, fetch_command

HOURS_PER_MONTH = 730


def aws_region(location: str) -> str:
    """The AWS region an Azure location maps to (catalog/mapping.json; '' when unmapped)."""
    return catalog.mapping().get("regions", {}).get(str(location).lower(), "")


def hourly_lookup(cache: PriceCache) -> Callable[[str, str, str], float | None]:
    """(EC2 type, Azure location, OS) -> the cached on-demand hourly price in the mapped region."""

    def hourly(instance_type: str, location: str, os_type: str) -> float | None:
        os_name = "Windows" if str(os_type).lower() == "windows" else "Linux"
        found = cache.get("aws", aws_region(location), instance_type, os_name)
        return found.hourly if found else None

    return hourly


def _side(
    cache: PriceCache, cloud: str, region: str, sku: str, os_name: str, count: int, fetch: str
) -> dict[str, Any]:
    price: Price | None = cache.get(cloud, region, sku, os_name) if region and sku else None
    if price is None:
        return {"sku": sku, "region": region or "unmapped", "os": os_name, "unknown": True,
                "fetch": fetch}  # fmt: skip
    return {
        "sku": sku,
        "region": region,
        "os": os_name,
        "hourly": price.hourly,
        "monthly": round(price.hourly * HOURS_PER_MONTH * count, 2),
        "currency": price.currency,
        "source": price.source,
        "date": price.fetched_at,
        "illustrative": price.illustrative,
    }


def workload_cost(workload: dict[str, Any], cache: PriceCache) -> dict[str, Any]:
    """The ``cost`` block of one planned workload."""
    azure, aws = workload["azure"], workload["aws"]
    os_name = "Windows" if str(azure.get("osType", "")).lower() == "windows" else "Linux"
    count = int(aws["desiredCapacity"])
    az_region, aws_reg = str(azure.get("location", "")), aws_region(azure.get("location", ""))
    fetch = fetch_command(az_region, aws_reg)
    as_is = (aws.get("sizing") or {}).get("asIs") or aws["instanceType"]
    out: dict[str, Any] = {
        "hoursPerMonth": HOURS_PER_MONTH,
        "instances": count,
        "os": os_name,
        "azure": _side(cache, "azure", az_region, azure["vmSize"], os_name, count, fetch),
        "aws": _side(cache, "aws", aws_reg, aws["instanceType"], os_name, count, fetch),
    }
    if as_is != aws["instanceType"]:
        out["awsAsIs"] = _side(cache, "aws", aws_reg, as_is, os_name, count, fetch)
        known = "monthly" in out["awsAsIs"] and "monthly" in out["aws"]
        out["saving"] = (
            round(out["awsAsIs"]["monthly"] - out["aws"]["monthly"], 2) if known else None
        )
    else:
        out["saving"] = 0.0
    return out


def cost_plan(plan: dict[str, Any], cache: PriceCache) -> dict[str, Any]:
    """``plan`` with a ``cost`` block on every workload (in place; also returned)."""
    for workload in plan["workloads"]:
        workload["cost"] = workload_cost(workload, cache)
    return plan


def totals(plan: dict[str, Any]) -> dict[str, Any]:
    """Monthly totals over the workloads: per side the sum of the known prices and the number of
    workloads whose price is unknown; the saving of right-sizing; whether any is illustrative."""
    out: dict[str, Any] = {"azure": 0.0, "aws": 0.0, "awsAsIs": 0.0, "saving": 0.0,
                           "unknown": {"azure": 0, "aws": 0}, "illustrative": False,
                           "priced": False}  # fmt: skip
    for w in plan["workloads"]:
        cost = w.get("cost")
        if not cost:
            continue
        out["priced"] = True
        for side in ("azure", "aws"):
            entry = cost[side]
            if "monthly" in entry:
                out[side] += entry["monthly"]
                out["illustrative"] = out["illustrative"] or entry.get("illustrative", False)
            else:
                out["unknown"][side] += 1
        as_is = cost.get("awsAsIs", cost["aws"])
        if "monthly" in as_is:
            out["awsAsIs"] += as_is["monthly"]
        if cost.get("saving"):
            out["saving"] += cost["saving"]
    for key in ("azure", "aws", "awsAsIs", "saving"):
        out[key] = round(out[key], 2)
    return out


def money(entry: dict[str, Any] | None) -> str:
    """'$1,234.56/month (source, date)' or 'unknown (fetch: command)'."""
    if not entry:
        return "not priced (plan with --prices)"
    if "monthly" not in entry:
        return f"unknown (fetch: {entry['fetch']})"
    illustrative = entry.get("illustrative") and "illustrative" not in entry["source"].lower()
    tag = "illustrative, " if illustrative else ""
    return (
        f"{_amount(entry['monthly'], entry['currency'])}/month ({tag}{entry['source']}, "
        f"{entry['date']})"
    )


def _amount(value: float, currency: str = "USD") -> str:
    sign = "-" if value < 0 else ""
    symbol = "$" if currency == "USD" else f"{currency} "
    return f"{sign}{symbol}{abs(value):,.2f}"


def short(entry: dict[str, Any] | None) -> str:
    """'$1,234.56' or 'unknown' (tables)."""
    if not entry or "monthly" not in entry:
        return "unknown"
    return _amount(entry["monthly"], entry["currency"]) + ("*" if entry.get("illustrative") else "")


def amount(value: float | None) -> str:
    return "unknown" if value is None else _amount(value)
