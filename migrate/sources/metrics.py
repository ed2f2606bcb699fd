"""Azure Monitor platform metrics -> ``Utilization`` summaries (no raw points are kept).

The same metric objects arrive three ways: `az monitor metrics list --resource ID --metric ...
--interval PT1H --aggregation Maximum Minimum` (or ``Average Maximum``; one file per resource),
the per-resource REST API (azure-mgmt-monitor, ``{"timespan", "interval", "value":
[metric...]}``) and the batch API
(azure-monitor-querymetrics, one such body per resource). Each metric has ``name.value``,
``unit`` and ``timeseries[].data[]`` with ``timeStamp`` and the aggregations asked for.
"""

from __future__ import annotations

import bisect
import functools
import math
import operator
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from itertools import repeat
from typing import Any

import orjson

from migrate.errors import MigrateError
from migrate.model import MetricSummary, Utilization, id_key

# The metrics sizing and the report read (Azure Monitor's names for VMs and scale sets).
CPU = "Percentage CPU"
AVAILABLE_MEMORY_BYTES = "Available Memory Bytes"
AVAILABLE_MEMORY_PERCENT = "Available Memory Percentage"
METRIC_NAMES = (
    CPU,
    AVAILABLE_MEMORY_BYTES,
    AVAILABLE_MEMORY_PERCENT,
    "Network In Total",
    "Network Out Total",
    "Disk Read Operations/Sec",
    "Disk Write Operations/Sec",
)
PERCENTILES = (1, 5, 50, 90, 95, 99)
_HIGH_KEYS = (("maximum", "Maximum"), ("average", "Average"))
_LOW_KEYS = (("minimum", "Minimum"), ("average", "Average"))
_DAY = timedelta(days=1)
_METRICS_PROVIDER = "/providers/microsoft.insights/metrics/"


def is_metrics_body(body: Any) -> bool:
    """True for an `az monitor metrics list` / metrics REST body (a list of metric objects)."""
    return (
        isinstance(body, dict)
        and "timespan" in body
        and isinstance(body.get("value"), list)
        and all(isinstance(m, dict) and "timeseries" in m for m in body["value"])
    )


def parse_time(text: str, source: str) -> datetime:
    try:
        value = datetime.fromisoformat(str(text).replace("Z", "+00:00"))
    except ValueError as exc:
        raise MigrateError(f"{source}: '{text}' is not an ISO 8601 time") from exc
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def interval_hours(text: str, source: str) -> float:
    """``PT1H`` (REST, az 2.x) or ``1:00:00`` (older az) -> hours."""
    raw = str(text).strip().upper()
    if raw.startswith("PT"):
        number, unit = raw[2:-1], raw[-1:]
        scale = {"H": 1.0, "M": 1 / 60, "S": 1 / 3600}.get(unit)
        if scale is not None and number.replace(".", "", 1).isdigit():
            return float(number) * scale
    elif raw.count(":") == 2:
        h, m, s = raw.split(":")
        return int(h) + int(m) / 60 + float(s) / 3600
    raise MigrateError(
        f"{source}: interval '{text}' is not understood; export with `--interval PT1H`"
    )


def resource_of(metric_id: str) -> str:
    """``<resource id>/providers/Microsoft.Insights/metrics/<name>`` -> the resource id."""
    cut = metric_id.lower().find(_METRICS_PROVIDER)
    return metric_id[:cut] if cut > 0 else ""


def percentile(ordered: list[float], p: float) -> float:
    """Nearest-rank percentile of an ascending list (Azure Migrate's convention)."""
    return ordered[_rank(p, len(ordered))]


def _rank(p: float, count: int) -> int:
    return max(1, math.ceil(p / 100 * count)) - 1


_Getter = Callable[[Any], tuple[Any, ...]]


@functools.lru_cache(maxsize=1024)
def _figures(count: int) -> tuple[_Getter, _Getter]:
    """For an ascending list of ``count`` values: a getter of the distinct values the summary
    shows (PERCENTILES' ranks, the maximum, the minimum: P1 is the minimum below 100 points, so
    each is rounded once), and one of the eight figures, in that order, from those."""
    wanted = [_rank(p, count) for p in PERCENTILES] + [count - 1, 0]
    distinct = sorted(set(wanted))
    if len(distinct) == 1:
        only = distinct[0]
        pick: _Getter = lambda values: (values[only],)  # noqa: E731 (itemgetter of one: no tuple)
    else:
        pick = operator.itemgetter(*distinct)
    return pick, operator.itemgetter(*(distinct.index(i) for i in wanted))


_PERCENTILE_KEYS = tuple(f"p{p}" for p in PERCENTILES)


@dataclass(frozen=True, slots=True)
class _Hours:
    """A series' distinct timestamps (in the answer's order) and the day of each; ``slices``:
    (day, first, end) of each day within the period, when they are in time order."""

    stamps: list[str]
    days: list[int]
    slices: tuple[tuple[int, int, int], ...] | None


# The timestamps already read, per period (start, days), first timestamp and count: every
# metric of every resource of a batch answer has the same hours, so each list is parsed once
# and then recognised by one comparison of lists (in C).
_HOURS: dict[tuple[datetime, int, str, int], _Hours] = {}
# Day index of a timestamp string from a period's start, per start.
_DAY_TABLES: dict[datetime, dict[str, int]] = {}


def _known_hours(stamps: list[str], start: datetime, days: int) -> _Hours | None:
    known = _HOURS.get((start, days, stamps[0], len(stamps)))
    return known if known is not None and known.stamps == stamps else None


def _hours(stamps: list[str], start: datetime, days: int, source: str) -> _Hours:
    """The days of distinct ``stamps`` (parsed once per distinct list, see _HOURS)."""
    known = _known_hours(stamps, start, days)
    if known is not None:
        return known
    day_of = _DAY_TABLES.get(start)
    if day_of is None:
        if len(_DAY_TABLES) > 64:
            _DAY_TABLES.clear()
        day_of = _DAY_TABLES.setdefault(start, {})
    numbers = list(map(day_of.get, stamps))
    if None in numbers:
        for i, (stamp, day) in enumerate(zip(stamps, numbers, strict=True)):
            if day is None:
                numbers[i] = day_of[stamp] = int((parse_time(stamp, source) - start) / _DAY)
    hours = _Hours(stamps, numbers, _day_slices(numbers, days))  # type: ignore[arg-type]
    if len(_HOURS) > 1024:
        _HOURS.clear()
    _HOURS[(start, days, stamps[0], len(stamps))] = hours
    return hours


def _day_slices(numbers: list[int], days: int) -> tuple[tuple[int, int, int], ...] | None:
    """(day, first, end) of each day in ``range(days)`` that has points; None unless the
    points are in time order."""
    if numbers != sorted(numbers):
        return None
    out = []
    lo = bisect.bisect_left(numbers, 0)
    for day in range(days):
        hi = bisect.bisect_left(numbers, day + 1, lo)
        if hi > lo:
            out.append((day, lo, hi))
        lo = hi
    return tuple(out)


_STAMP = operator.itemgetter("timeStamp")
_AGGREGATION = {key: operator.itemgetter(key) for key in ("maximum", "average", "minimum")}


def _points(series: list[dict[str, Any]], low: bool) -> tuple[list[str], list[float], str]:
    """The metric's hourly timestamps and values (in the answer's order), and the aggregation
    they come from, point by point (what ``_one_series`` does not read).

    A point counts with the first aggregation it has (Maximum, else Average; Minimum, else
    Average for available memory); a timestamp in several time series keeps the busier value.
    """
    (first, first_label), (second, second_label) = _LOW_KEYS if low else _HIGH_KEYS
    pick = min if low else max
    by_time: dict[str, float] = {}
    aggregation = ""
    for each in series:
        for point in each.get("data") or []:
            value = point.get(first)
            label = first_label
            if value is None:
                value = point.get(second)
                if value is None:
                    continue
                label = second_label
            stamp = str(point.get("timeStamp") or point.get("timestamp"))
            seen = by_time.get(stamp)
            by_time[stamp] = value if seen is None else pick(seen, float(value))
            if not aggregation:
                aggregation = label
    return list(by_time), list(by_time.values()), aggregation


def _one_series(
    data: list[dict[str, Any]], low: bool, start: datetime, days: int
) -> tuple[list[str], list[float], str, _Hours | None] | None:
    """The usual answer: one series whose points all have the first aggregation (else all the
    second), each timestamp once. Its columns, read in C (``itemgetter``), and its hours if
    already known; None for anything else. Written for speed: a 30-day inventory of 10,000 VMs
    reads 43 million points."""
    if not data:
        return None
    try:
        stamps = list(map(_STAMP, data))
    except KeyError:
        return None  # an older spelling (timestamp) somewhere
    known = _known_hours(stamps, start, days)
    if known is None and len(set(stamps)) != len(stamps):
        return None
    for key, label in _LOW_KEYS if low else _HIGH_KEYS:
        try:
            values = list(map(_AGGREGATION[key], data))
        except KeyError:
            if any(map(dict.__contains__, data, repeat(key))):
                return None  # some points have the first aggregation, some only the second
            continue  # no point has it (available memory: Average, no Minimum)
        if None not in values:
            return stamps, values, label, known
        if any(v is not None for v in values):
            return None
    return None


def summarize_metric(
    metric: dict[str, Any], start: datetime, days: int, source: str
) -> MetricSummary | None:
    """One metric object -> its summary; None when it has no point at all."""
    name = metric.get("name")
    name = name.get("value") if isinstance(name, dict) else name
    if not isinstance(name, str):
        raise MigrateError(f"{source}: a metric without name.value")
    # Lower available memory is the busier hour: its hourly Minimum (else Average) is read and
    # combined by the minimum; every other metric by its Maximum (else Average).
    low = name.startswith("Available Memory")
    series = metric.get("timeseries") or []
    days = max(days, 1)
    read = None
    if len(series) == 1:
        read = _one_series(series[0].get("data") or [], low, start, days)
    stamps, in_time, aggregation, hours = read or (*_points(series, low), None)
    if not stamps:
        return None
    hours = hours or _hours(stamps, start, days, source)
    values = sorted(in_time)
    count = len(values)
    pick = min if low else max
    daily: list[float | None] = [None] * days
    if hours.slices is not None:
        for day, lo, hi in hours.slices:
            daily[day] = round(pick(in_time[lo:hi]), 2)
    else:
        for day, value in zip(hours.days, in_time, strict=True):
            if 0 <= day < len(daily):
                seen = daily[day]
                daily[day] = value if seen is None else pick(seen, value)
        daily = [None if v is None else round(v, 2) for v in daily]
    distinct, figures = _figures(count)
    rounded = figures(tuple(map(round, distinct(values), repeat(4))))
    return MetricSummary(
        name,
        str(metric.get("unit") or ""),
        aggregation,
        count,
        dict(zip(_PERCENTILE_KEYS, rounded)),  # noqa: B905 (the first six figures)
        rounded[6],
        rounded[7],
        round(sum(values) / count, 4),
        daily,
    )


@dataclass(frozen=True)
class _Period:
    start: datetime
    end: datetime
    hours: float
    expected: int
    days: int


@functools.lru_cache(maxsize=64)
def _period(timespan: str, interval: str) -> _Period:
    """``start/end`` and the interval, parsed once per period (every resource shares it). The
    errors name no source (they are cached per period): ``summarize`` puts it in front."""
    if "/" not in timespan:
        raise MigrateError(f": timespan '{timespan}' is not 'start/end'")
    first, last = timespan.split("/", 1)
    start, end = parse_time(first, ""), parse_time(last, "")
    if end <= start:
        raise MigrateError(f": timespan '{timespan}' ends before it starts")
    hours = interval_hours(interval, "")
    expected = int(round((end - start) / timedelta(hours=hours)))
    return _Period(start, end, hours, expected, math.ceil((end - start) / timedelta(days=1)))


def summarize(
    resource_id: str,
    metrics: Iterable[dict[str, Any]],
    timespan: str,
    interval: str,
    source: str,
) -> Utilization:
    """The metric objects of one resource over ``timespan`` (``start/end``) -> a Utilization."""
    try:
        period = _period(str(timespan), str(interval))
    except MigrateError as exc:
        raise MigrateError(f"{source}{exc}") from None
    summaries = [summarize_metric(m, period.start, period.days, source) for m in metrics]
    return Utilization(
        resource_id=resource_id,
        source=source,
        start=_iso(period.start),
        end=_iso(period.end),
        points_expected=period.expected,
        interval="PT1H" if period.hours == 1 else str(interval),
        metrics=[s for s in summaries if s is not None],
    )


@functools.lru_cache(maxsize=64)
def _iso(value: datetime) -> str:
    return value.isoformat().replace("+00:00", "Z")


def summarize_batch(
    answer: bytes | memoryview | dict[str, Any], resource_ids: tuple[str, ...], timespan: str
) -> list[Utilization]:
    """A metrics batch answer (``{"values": [{"value": [metric...]}, ...]}``, JSON or parsed)
    -> the Utilization of each resource in it.

    An entry belongs to the resource its metric ids name, else to the one asked for at its
    position. Run in worker processes by ``metrics_live``: it takes and returns plain data.
    The JSON is parsed with orjson: ~3x the standard library's speed on these answers, which
    was the largest share of an inventory's CPU.
    """
    body = orjson.loads(answer) if isinstance(answer, bytes | bytearray | memoryview) else answer
    values = body.get("values") if isinstance(body, dict) else None
    by_id = {id_key(r).lstrip("/"): r for r in resource_ids}
    out: list[Utilization] = []
    for position, entry in enumerate(values if isinstance(values, list) else []):
        metrics = entry.get("value") or []
        owner = next((resource_of(m.get("id") or "") for m in metrics if m.get("id")), "")
        rid = by_id.get(id_key(owner).lstrip("/")) or (
            resource_ids[position] if position < len(resource_ids) else ""
        )
        if rid:
            out.append(summarize(rid, metrics, timespan, "PT1H", f"azure-monitor-batch:{rid}"))
    return out


def from_export(body: dict[str, Any], source: str) -> Utilization:
    """An `az monitor metrics list` body (one resource) -> its Utilization."""
    ids = {resource_of(str(m.get("id") or "")) for m in body["value"]} - {""}
    if len(ids) != 1:
        raise MigrateError(
            f"{source}: metrics of {len(ids) or 'no'} resources; export one resource per file "
            "(`az monitor metrics list --resource ID ...`)"
        )
    return summarize(
        ids.pop(), body["value"], body["timespan"], body.get("interval") or "PT1H", source
    )


def share_present(util: Utilization) -> float:
    """The share of expected hourly points present for CPU (and memory, when read)."""
    if util.points_expected <= 0:
        return 0.0
    wanted = [m for m in util.metrics if m.name in (CPU, *_MEMORY)]
    if not any(m.name == CPU for m in wanted):
        return 0.0
    return min(1.0, min(m.points for m in wanted) / util.points_expected)


_MEMORY = (AVAILABLE_MEMORY_BYTES, AVAILABLE_MEMORY_PERCENT)


def metric(util: Utilization, *names: str) -> MetricSummary | None:
    """The first of ``names`` that ``util`` has."""
    found = {m.name: m for m in util.metrics}
    return next((found[n] for n in names if n in found), None)
