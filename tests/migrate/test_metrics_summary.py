"""The metric summary (migrate/sources/metrics.py) against a plain reference on random series.

The summary is written for speed (columns read in C, one slice per day); the reference here is
the rule as the README states it, point by point: the first aggregation a point has (Maximum,
else Average; Minimum, else Average for available memory), a timestamp in several series keeps
the busier value, nearest-rank percentiles, the mean, each day's busiest value.
"""

from __future__ import annotations

import json
import math
import random
from dataclasses import asdict
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from migrate.sources.metrics import METRIC_NAMES, PERCENTILES, summarize, summarize_batch

START = datetime(2026, 11, 1, tzinfo=UTC)


def _reference(metric: dict[str, Any], days: int) -> dict[str, Any] | None:
    name = metric["name"]["value"]
    low = name.startswith("Available Memory")
    keys = (("minimum", "Minimum"), ("average", "Average"))
    if not low:
        keys = (("maximum", "Maximum"), ("average", "Average"))
    pick = min if low else max
    by_time: dict[str, float] = {}
    labels = []
    for series in metric["timeseries"]:
        for point in series.get("data", []):
            found = [(point[k], label) for k, label in keys if point.get(k) is not None]
            if not found:
                continue
            value, label = found[0]
            labels.append(label)
            stamp = point.get("timeStamp") or point.get("timestamp")
            by_time[stamp] = pick(by_time[stamp], value) if stamp in by_time else value
    if not by_time:
        return None
    values = sorted(by_time.values())
    count = len(values)
    daily: list[float | None] = [None] * days
    for stamp, value in by_time.items():
        day = (datetime.fromisoformat(stamp.replace("Z", "+00:00")) - START) // timedelta(days=1)
        daily[day] = value if daily[day] is None else pick(daily[day], value)
    return {
        "name": name,
        "aggregation": labels[0],
        "points": count,
        "percentiles": {
            f"p{p}": round(values[max(1, math.ceil(p / 100 * count)) - 1], 4) for p in PERCENTILES
        },
        "maximum": round(values[-1], 4),
        "minimum": round(values[0], 4),
        "mean": round(sum(values) / count, 4),
        "daily": [None if v is None else round(v, 2) for v in daily],
    }


def _value(rng: random.Random) -> float | int:
    return rng.choice([rng.randint(0, 100), rng.uniform(0, 100), rng.uniform(0, 1e10)])


def _metric(rng: random.Random, days: int) -> dict[str, Any]:
    """A metric as Azure could answer it: one series or several, gaps, repeated or unordered
    timestamps, points with only some aggregations, a resource off for its first hours (points
    with a timestamp only), an aggregation null on every point, integers. Half the series have
    the same timestamps as every other such series (as the metrics of one answer have)."""
    hours = list(range(days * 24))
    series = []
    for _ in range(rng.choice([1, 1, 1, 2, 3])):
        stamps = [h for h in hours if rng.random() < 0.8] if rng.random() < 0.3 else hours[:]
        if rng.random() < 0.1:
            rng.shuffle(stamps)
        if rng.random() < 0.1:
            stamps += stamps[:3]
        every = rng.random() < 0.5  # the usual answer: every aggregation on every point
        aggregations = ["maximum", "average", "minimum"]
        if not every:
            aggregations = rng.sample(aggregations, rng.randint(0, 3))
        zones = ["Z"] if rng.random() < 0.5 else ["Z", "+00:00"]
        off = rng.randrange(len(stamps) + 1) if rng.random() < 0.2 else 0
        nulled = rng.choice(aggregations) if aggregations and rng.random() < 0.1 else ""
        data = []
        for i, h in enumerate(stamps):
            stamp = (START + timedelta(hours=h)).isoformat()
            point: dict[str, Any] = {"timeStamp": stamp.replace("+00:00", rng.choice(zones))}
            if not every and rng.random() < 0.05:
                point = {"timestamp": point["timeStamp"]}  # an older spelling
            for key in aggregations if i >= off else ():
                if key == nulled:
                    point[key] = None
                elif every or rng.random() < 0.9:
                    point[key] = _value(rng) if every or rng.random() < 0.95 else None
            data.append(point)
        series.append({"data": data})
    return {"id": "x", "name": {"value": rng.choice(METRIC_NAMES)}, "unit": "Count",
            "timeseries": series}  # fmt: skip


@pytest.mark.parametrize("seed", range(4))
def test_the_summary_equals_the_rule_point_by_point_on_random_series(seed: int) -> None:
    rng = random.Random(seed)
    for _ in range(150):
        days = rng.choice([1, 2, 7, 30])
        metrics = [_metric(rng, days) for _ in range(rng.randint(1, 6))]
        timespan = f"{START.isoformat()}/{(START + timedelta(days=days)).isoformat()}"

        summary = summarize("r", metrics, timespan, "PT1H", "test")

        expected = [r for r in (_reference(m, days) for m in metrics) if r is not None]
        got = [
            {k: v for k, v in asdict(m).items() if k != "unit"} for m in summary.metrics
        ]  # fmt: skip
        assert got == expected  # floats compare exactly: the same values, bit for bit


def test_a_batch_answer_as_bytes_summarises_as_parsed() -> None:
    rng = random.Random(23)
    ids = ("/subscriptions/s/resourceGroups/rg/providers/Microsoft.Compute/virtualMachines/a",)
    metric = _metric(rng, 2)
    metric["id"] = f"{ids[0]}/providers/Microsoft.Insights/metrics/x"
    answer = {"values": [{"value": [metric]}]}
    timespan = f"{START.isoformat()}/{(START + timedelta(days=2)).isoformat()}"

    parsed = summarize_batch(answer, ids, timespan)
    raw = summarize_batch(json.dumps(answer).encode(), ids, timespan)

    assert repr(raw) == repr(parsed) and raw[0].metrics


def test_the_same_hours_in_a_longer_period_fill_its_later_days() -> None:
    # The hours of a series are read once per period; two days of points summarised over the
    # first day, then over both, must give the second day its own peak.
    data = [
        {"timeStamp": (START + timedelta(hours=h)).isoformat(), "maximum": float(h)}
        for h in range(48)
    ]
    metric = {"name": {"value": "Percentage CPU"}, "timeseries": [{"data": data}]}
    dailies = []
    for days in (1, 2):
        timespan = f"{START.isoformat()}/{(START + timedelta(days=days)).isoformat()}"
        dailies.append(summarize("r", [metric], timespan, "PT1H", "test").metrics[0].daily)

    assert dailies == [[23.0], [23.0, 47.0]]


def test_a_day_whose_peak_is_tied_keeps_the_first_of_the_tied_points() -> None:
    # An integer and a float of the same value: the day keeps the first, as max() does.
    values = [7, 1.5, 7.0, 0.0, -0.0]
    data = [
        {"timeStamp": (START + timedelta(hours=h)).isoformat(), "maximum": v, "minimum": v}
        for h, v in enumerate(values)
    ]
    timespan = f"{START.isoformat()}/{(START + timedelta(days=1)).isoformat()}"
    metrics = [
        {"name": {"value": name}, "timeseries": [{"data": data}]}
        for name in ("Percentage CPU", "Available Memory Bytes")
    ]

    summary = summarize("r", metrics, timespan, "PT1H", "test")

    assert [repr(m.daily) for m in summary.metrics] == ["[7]", "[0.0]"]
    assert [m.daily for m in summary.metrics] == [
        r["daily"] for r in map(_reference, metrics, [1, 1])
    ]
