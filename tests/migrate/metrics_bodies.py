"""Synthetic Azure Monitor metrics in the shape `az monitor metrics list` prints (and the
per-resource REST API returns): hourly Maximum and Minimum (the aggregations the inventory asks
for; Average too on request), with chosen P95 CPU and used memory.

Used by the tests, the fake metrics servers and, run as a module, to write the sample estate's
metrics (``python -m tests.migrate.metrics_bodies``): the sample's figures are synthetic.
"""

from __future__ import annotations

import json
import math
import random
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from migrate.sources.metrics import percentile

START = datetime(2026, 11, 1, tzinfo=UTC)
GIB = 1024**3


def _shaped(rng: random.Random, hours: int, p95: float, cap: float) -> list[float]:
    """A daily-cycle series whose nearest-rank P95 is ``p95`` (capped at ``cap``)."""
    raw = [
        (0.55 + 0.45 * math.sin(2 * math.pi * (h % 24) / 24)) * rng.uniform(0.6, 1.0)
        for h in range(hours)
    ]
    scale = p95 / percentile(sorted(raw), 95)
    return [min(cap, v * scale) for v in raw]


# What `--aggregation Maximum Minimum` gives (the README's export command, and what the live
# inventory asks for); the issue's `--aggregation Average Maximum` is the other usual one.
AGGREGATIONS = ("maximum", "minimum")
# Each aggregation as a share of the value the summary reads: for available memory the hourly
# Minimum (the busiest moment), else Average when the export has no Minimum; for every other
# metric the hourly Maximum (else Average).
_BUSY_LOW = {"minimum": 1.0, "average": 1.0, "maximum": 1.15}
_BUSY_HIGH = {"maximum": 1.0, "average": 0.7, "minimum": 0.35}


def metric(
    resource_id: str,
    name: str,
    unit: str,
    values: list[float | None],
    start: datetime,
    aggregations: tuple[str, ...] = AGGREGATIONS,
) -> dict[str, Any]:
    """One metric object: a point per hour with ``aggregations`` (lower case, as in the JSON),
    only the timestamp where ``values`` has None (no data that hour)."""
    shares = _BUSY_LOW if name.startswith("Available Memory") else _BUSY_HIGH
    data = []
    for h, value in enumerate(values):
        point: dict[str, Any] = {"timeStamp": (start + timedelta(hours=h)).isoformat()}
        if value is not None:
            for key in aggregations:
                point[key] = round(value * shares[key], 4)
        data.append(point)
    return {
        "displayDescription": f"{name} (synthetic)",
        "errorCode": "Success",
        "id": f"{resource_id}/providers/Microsoft.Insights/metrics/{name}",
        "name": {"localizedValue": name, "value": name},
        "resourceGroup": resource_id.split("/")[4],
        "timeseries": [{"data": data, "metadatavalues": []}],
        "type": "Microsoft.Insights/metrics",
        "unit": unit,
    }


def az_metrics_body(
    resource_id: str,
    *,
    cpu_p95: float,
    memory_gib: float | None = None,
    used_memory_p95: float = 0.5,
    days: int = 30,
    days_present: float | None = None,
    region: str = "westeurope",
    seed: int = 1,
    start: datetime = START,
    aggregations: tuple[str, ...] = AGGREGATIONS,
) -> dict[str, Any]:
    """`az monitor metrics list --resource ID --metric ... --interval PT1H --aggregation Maximum
    Minimum` (or the ``aggregations`` given) for ``days`` days, with data in the last
    ``days_present`` days only."""
    rng = random.Random(seed)
    hours = days * 24
    present = hours if days_present is None else int(days_present * 24)

    def window(values: list[float]) -> list[float | None]:
        return [None if h < hours - present else v for h, v in enumerate(values)]

    def series(name: str, unit: str, values: list[float | None]) -> dict[str, Any]:
        return metric(resource_id, name, unit, values, start, aggregations)

    cpu = window(_shaped(rng, hours, cpu_p95, 100.0))
    metrics = [series("Percentage CPU", "Percent", cpu)]
    if memory_gib is not None:
        used = _shaped(rng, hours, used_memory_p95, 0.99)
        available = [memory_gib * GIB * (1 - u) for u in used]
        metrics.append(series("Available Memory Bytes", "Bytes", window(available)))
    for name, unit, level in (
        ("Network In Total", "Bytes", 4e8),
        ("Network Out Total", "Bytes", 2e8),
        ("Disk Read Operations/Sec", "CountPerSecond", 40.0),
        ("Disk Write Operations/Sec", "CountPerSecond", 25.0),
    ):
        metrics.append(series(name, unit, window(_shaped(rng, hours, level, 1e12))))
    end = start + timedelta(days=days)
    return {
        "cost": hours * len(metrics),
        "interval": "PT1H",
        "namespace": "Microsoft.Compute/virtualMachines"
        if "/virtualMachines/" in resource_id
        else "Microsoft.Compute/virtualMachineScaleSets",
        "resourceregion": region,
        "timespan": f"{start.isoformat().replace('+00:00', 'Z')}/"
        f"{end.isoformat().replace('+00:00', 'Z')}",
        "value": metrics,
    }


# The sample estate's synthetic use: (folder, resource id, P95 CPU %, memory GiB, P95 used
# memory share, days present of 14, region).
_SUB_PROD = "/subscriptions/6d1f3c2a-8b4e-4f7a-9c3d-1a2b3c4d5e6f/resourceGroups"
_SUB_LEGACY = "/subscriptions/9e8d7c6b-5a4f-4e3d-8c2b-1f0e9d8c7b6a/resourceGroups"
_CS = "providers/Microsoft.Compute"
SAMPLE = [
    ("contoso-prod", f"{_SUB_PROD}/rg-web-prod/{_CS}/virtualMachineScaleSets/vmss-web",
     45.0, 16, 0.55, None, "westeurope"),
    ("contoso-prod", f"{_SUB_PROD}/rg-worker-prod/{_CS}/virtualMachineScaleSets/vmss-worker",
     22.0, 16, 0.40, None, "westeurope"),
    ("contoso-prod", f"{_SUB_PROD}/rg-reporting-prod/{_CS}/virtualMachines/vm-report-01",
     12.0, 8, 0.50, 2, "westeurope"),
    ("contoso-legacy", f"{_SUB_LEGACY}/rg-shop-legacy/{_CS}/virtualMachines/vm-shop-1",
     8.0, 32, 0.35, None, "germanywestcentral"),
    ("contoso-legacy", f"{_SUB_LEGACY}/rg-shop-legacy/{_CS}/virtualMachines/vm-shop-2",
     7.0, 32, 0.33, None, "germanywestcentral"),
    ("contoso-legacy", f"{_SUB_LEGACY}/rg-batch/{_CS}/virtualMachines/vm-batch-1",
     15.0, 16, 0.25, None, "germanywestcentral"),
    ("contoso-legacy", f"{_SUB_LEGACY}/rg-batch/{_CS}/virtualMachines/vm-batch-2",
     14.0, 16, 0.25, None, "germanywestcentral"),
    ("contoso-legacy", f"{_SUB_LEGACY}/rg-ml/{_CS}/virtualMachines/vm-gpu-01",
     60.0, 112, 0.50, None, "germanywestcentral"),
]  # fmt: skip


def write_sample(root: Path) -> list[Path]:
    written = []
    for seed, (folder, rid, cpu, memory, used, present, region) in enumerate(SAMPLE, 1):
        body = az_metrics_body(
            rid, cpu_p95=cpu, memory_gib=memory, used_memory_p95=used, days=14,
            days_present=present, region=region, seed=seed,
        )  # fmt: skip
        path = root / folder / f"az-monitor-metrics-{rid.rsplit('/', 1)[-1]}.json"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(body, separators=(",", ":")) + "\n", encoding="utf-8")
        written.append(path)
    return written


if __name__ == "__main__":
    for written_path in write_sample(Path("migrate/sample")):
        print(written_path)
