"""Performance-based sizing: the EC2 type from measured use instead of the Azure size.

As Azure Migrate does it: a percentile (default P95) of the hourly CPU and used memory, times a
comfort factor (default 1.3), then the smallest EC2 type that holds it, with the constraints of
the as-is sizing kept (GPU, architecture, local disk, vendor: ``migrate.sizing`` ranks the
candidates for a size of the same name and family with the needed vCPUs and memory). The
confidence (1-5) follows the share of expected data points present, in Azure Migrate's bands;
with too little history, or a confidence below the minimum, the workload stays as-is and the
rationale says why.
"""

from __future__ import annotations

import bisect
import dataclasses
import math
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache
from typing import Any

from migrate import catalog
from migrate.model import Utilization, VmSize
from migrate.sizing import SizingChoice, choose_instance_type
from migrate.sources.metrics import (
    AVAILABLE_MEMORY_BYTES,
    AVAILABLE_MEMORY_PERCENT,
    CPU,
    metric,
    share_present,
)

_SLACK = 0.98  # migrate.sizing's memory slack: a type fits if it has 98 % of the need
Hourly = Callable[[str], float | None]
PERCENTILE_CHOICES = (50, 90, 95, 99)
# Azure Migrate's confidence bands: share of data points present -> stars.
CONFIDENCE_BANDS = ((0.20, 1), (0.40, 2), (0.60, 3), (0.80, 4), (1.0, 5))
_GIB = 1024**3


@dataclass(frozen=True)
class PerformanceOptions:
    percentile: int = 95
    comfort_factor: float = 1.3
    min_history_days: float = 7.0  # days of data present, below which the workload stays as-is
    min_confidence: int = 3  # 1-5; below it the workload stays as-is

    def __post_init__(self) -> None:
        if self.percentile not in PERCENTILE_CHOICES:
            raise ValueError(f"percentile must be one of {PERCENTILE_CHOICES}")
        if not 1 <= self.min_confidence <= 5:
            raise ValueError("min_confidence must be 1-5")
        if self.comfort_factor <= 0 or self.min_history_days < 0:
            raise ValueError("comfort factor must be > 0 and minimum history >= 0")


@dataclass
class PerformanceResult:
    """What was measured, what it needs, and the EC2 type (None: stay as-is, see ``reason``)."""

    facts: dict[str, Any]
    choice: SizingChoice | None
    reason: str


def confidence(share: float) -> int:
    """Azure Migrate's rating: 0-20 % of the points present -> 1 ... 81-100 % -> 5."""
    for upper, stars in CONFIDENCE_BANDS:
        if share <= upper + 1e-9:
            return stars
    return 5


def combine(utils: list[Utilization]) -> Utilization | None:
    """The members of one workload as one: the busiest member's figures (the group runs on one
    type) and the fewest points (the confidence of the weakest)."""
    if not utils:
        return None
    if len(utils) == 1:
        return utils[0]

    def cpu_p95(u: Utilization) -> float:
        found = metric(u, CPU)
        return found.percentiles.get("p95", 0.0) if found else -1.0

    busiest = max(utils, key=cpu_p95)
    weakest = min(utils, key=share_present)
    return dataclasses.replace(
        busiest,
        points_expected=max(u.points_expected for u in utils),
        metrics=[
            dataclasses.replace(m, points=min(m.points, _points(weakest, m.name)))
            for m in busiest.metrics
        ],
    )


def _points(util: Utilization, name: str) -> int:
    found = metric(util, name)
    return found.points if found else 0


def _used_memory_gib(util: Utilization, size: VmSize, pct: int) -> float | None:
    """The ``pct`` percentile of used memory: total minus the matching low percentile of the
    available memory (P95 used = total - P5 available)."""
    low = f"p{100 - pct}" if 100 - pct in (1, 5, 50) else ("p1" if pct >= 99 else "p5")
    found = metric(util, AVAILABLE_MEMORY_BYTES)
    if found is not None and low in found.percentiles:
        return max(0.0, size.memory_gb - found.percentiles[low] / _GIB)
    found = metric(util, AVAILABLE_MEMORY_PERCENT)
    if found is not None and low in found.percentiles:
        return max(0.0, size.memory_gb * (100 - found.percentiles[low]) / 100)
    return None


def size_for_use(
    size: VmSize,
    util: Utilization | None,
    as_is: SizingChoice,
    options: PerformanceOptions,
    load_factor: float = 1.0,
    hourly: Hourly | None = None,
) -> PerformanceResult:
    """The EC2 type for ``size`` as measured. ``load_factor`` (>= 1) scales the CPU need for a
    group that may run with fewer instances than were measured (its autoscale minimum).
    ``hourly`` prices an EC2 type in the workload's region and OS (None: not in the cache)."""
    if util is None:
        return PerformanceResult({}, None, "no utilization data in the inventory: as-is")
    share = share_present(util)
    stars = confidence(share)
    cpu = metric(util, CPU)
    hours_present = cpu.points if cpu else 0
    facts: dict[str, Any] = {
        "percentile": options.percentile,
        "comfortFactor": options.comfort_factor,
        "pointsExpected": util.points_expected,
        "pointsPresent": hours_present,
        "confidence": stars,
        "period": f"{util.start}/{util.end}",
    }
    if cpu is None:
        return PerformanceResult(facts, None, "no Percentage CPU metric: as-is")
    key = f"p{options.percentile}"
    cpu_pct = cpu.percentiles[key]
    used = _used_memory_gib(util, size, options.percentile)
    facts["cpuPercent"] = cpu_pct
    facts["memoryUsedGiB"] = None if used is None else round(used, 2)
    facts["memoryPercent"] = None if used is None else round(100 * used / size.memory_gb, 1)
    facts["daily"] = {
        "cpuPercent": cpu.daily,
        "memoryPercent": _daily_memory_percent(util, size),
    }
    days_present = hours_present / 24
    if days_present < options.min_history_days:
        return PerformanceResult(
            facts,
            None,
            f"only {days_present:.1f} days of data (minimum {options.min_history_days:g}; "
            f"confidence {stars}/5): as-is",
        )
    if stars < options.min_confidence:
        return PerformanceResult(
            facts,
            None,
            f"confidence {stars}/5 ({share:.0%} of the hourly points present) is below the "
            f"minimum {options.min_confidence}: as-is",
        )
    if size.gpus:
        return PerformanceResult(facts, None, "GPU size: sized by its GPUs, as-is")
    need_cpu = cpu_pct / 100 * size.vcpus * options.comfort_factor * max(load_factor, 1.0)
    vcpus = max(1, math.ceil(need_cpu - 1e-9))
    # Rounded up to a quarter GiB: never below the need, and a key the candidate cache reuses.
    memory = (
        size.memory_gb
        if used is None
        else max(0.5, math.ceil(used * options.comfort_factor * 4) / 4)
    )
    facts["requiredVcpus"] = vcpus
    facts["requiredMemoryGiB"] = round(memory, 2)
    try:
        choice = _smallest_fit(size, vcpus, memory, as_is, hourly)
    except LookupError as exc:
        return PerformanceResult(facts, None, f"no EC2 type holds the measured need ({exc}): as-is")
    scaled = f" x {load_factor:.2g} (the autoscale minimum carries the load)" * (load_factor > 1)
    mem_text = (
        f"memory kept at {size.memory_gb:g} GiB (no memory metric)"
        if used is None
        else f"P{options.percentile} used memory {used:.1f} of {size.memory_gb:g} GiB x "
        f"{options.comfort_factor:g} = {memory:.1f} GiB"
    )
    reason = (
        f"performance: P{options.percentile} CPU {cpu_pct:g} % of {size.vcpus} vCPU x "
        f"{options.comfort_factor:g}{scaled} = {need_cpu:.2f} -> {vcpus} vCPU; {mem_text}; "
        f"confidence {stars}/5 ({share:.0%} of {util.points_expected} hourly points): "
        + (
            f"as-is {as_is.instance_type} kept (no smaller type holds it)"
            if choice.instance_type == as_is.instance_type
            else f"{choice.instance_type} instead of as-is {as_is.instance_type}"
        )
    )
    choice = dataclasses.replace(
        choice, rationale=reason, warnings=[w for w in choice.warnings if "exactly" not in w]
    )
    return PerformanceResult(facts, choice, reason)


def _gib_per_vcpu(name: str) -> float:
    found = catalog.ec2_type(name)
    return found.memory_gib / found.vcpus if found else 0.0


def _smallest_fit(
    size: VmSize, vcpus: int, memory: float, as_is: SizingChoice, hourly: Hourly | None
) -> SizingChoice:
    """The cheapest of two candidates that hold the need: the type ``migrate.sizing`` ranks
    first (fewest vCPUs, then the smallest memory class), and the first that stays within the
    as-is type's memory per vCPU (more vCPUs rather than a memory-optimised class). Without
    both prices, the second (the as-is memory class is what the workload was built for)."""
    # Rounded up to the next vCPU count and memory the catalog has: the same types fit (and
    # rank the same), and the candidates are computed once per distinct key.
    vcpus = int(_catalog_step(_vcpu_steps(), vcpus))
    memory = _catalog_step(_memory_steps(), memory * _SLACK) / _SLACK
    first, within = _candidates(_size_key(size), vcpus, memory, as_is.instance_type)
    if within is first or hourly is None:
        return within
    a, b = hourly(first.instance_type), hourly(within.instance_type)
    return first if a is not None and b is not None and a < b else within


@cache
def _vcpu_steps() -> list[float]:
    return sorted({float(t.vcpus) for t in catalog.ec2_types()})


@cache
def _memory_steps() -> list[float]:
    return sorted({t.memory_gib for t in catalog.ec2_types()})


def _catalog_step(steps: list[float], need: float) -> float:
    """The smallest catalog value >= ``need`` (``need`` itself beyond the largest)."""
    return steps[bisect.bisect_left(steps, need)] if need <= steps[-1] else need


def _size_key(size: VmSize) -> tuple[Any, ...]:
    return (size.name, size.vcpus, size.memory_gb, size.architecture, size.gpus,
            size.gpu_model, size.family, size.origin)  # fmt: skip


@cache
def _candidates(
    size_key: tuple[Any, ...], vcpus: int, memory: float, as_is_type: str
) -> tuple[SizingChoice, SizingChoice]:
    size = VmSize(*size_key)
    first = choose_instance_type(dataclasses.replace(size, vcpus=vcpus, memory_gb=memory))
    limit = _gib_per_vcpu(as_is_type) * 1.01
    within = first
    while True:
        found = catalog.ec2_type(within.instance_type)
        if found is None or found.vcpus >= size.vcpus or _gib_per_vcpu(found.name) <= limit:
            return first, within
        vcpus = found.vcpus + 1
        within = choose_instance_type(dataclasses.replace(size, vcpus=vcpus, memory_gb=memory))


def _daily_memory_percent(util: Utilization, size: VmSize) -> list[float | None]:
    found = metric(util, AVAILABLE_MEMORY_BYTES)
    if found is not None and size.memory_gb:
        return [
            None if v is None else round(max(0.0, 100 - 100 * v / _GIB / size.memory_gb), 1)
            for v in found.daily
        ]
    found = metric(util, AVAILABLE_MEMORY_PERCENT)
    if found is not None:
        return [None if v is None else round(100 - v, 1) for v in found.daily]
    return []
