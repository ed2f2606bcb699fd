"""Azure autoscale settings -> the AWS group's scaling: the profile that sets the capacity and
the CPU rules that become step scaling policies; every rule or profile not mapped is a warning
that says why."""

from __future__ import annotations

from typing import Any

from migrate.errors import MigrateError
from migrate.model import AutoscaleProfile, AutoscaleSetting, ScaleSet, id_key

CPU_METRIC = "percentage cpu"
_COMPARISON = {
    "greaterthan": "GreaterThanThreshold",
    "greaterthanorequal": "GreaterThanOrEqualToThreshold",
    "lessthan": "LessThanThreshold",
    "lessthanorequal": "LessThanOrEqualToThreshold",
}
_ADJUSTMENT = {
    "changecount": "ChangeInCapacity",
    "percentchangecount": "PercentChangeInCapacity",
    "exactcount": "ExactCapacity",
}


def default_profile(setting: AutoscaleSetting, warnings: list[str]) -> AutoscaleProfile:
    if not setting.profiles:
        raise MigrateError(f"{setting.source}: autoscale setting {setting.id}: has no profile")
    defaults = [p for p in setting.profiles if not p.recurrence and not p.fixed_date]
    chosen = defaults[0] if defaults else setting.profiles[0]
    if not defaults:
        warnings.append(f"autoscale {setting.name}: no default profile; used '{chosen.name}'")
    for p in setting.profiles:
        if p is chosen:
            continue
        when = "recurrence" if p.recurrence else "fixed date"
        schedule = p.recurrence or p.fixed_date or {}
        warnings.append(
            f"autoscale {setting.name}: {when} profile '{p.name}' (min {p.minimum}, max "
            f"{p.maximum}, "
            f"default {p.default}, {_schedule_text(schedule)}) not mapped: add an ASG "
            "scheduled action"
        )
    return chosen


def scaling_policies(
    setting: AutoscaleSetting, profile: AutoscaleProfile, ss: ScaleSet, warnings: list[str]
) -> list[dict[str, Any]]:
    out = []
    for rule in profile.rules:
        what = (
            f"autoscale {setting.name}: rule '{rule.metric_name} {rule.operator} "
            f"{rule.threshold:g}'"
        )
        if rule.metric_name.lower() != CPU_METRIC:
            warnings.append(
                f"{what} ({rule.direction} {rule.change_value}) not mapped: only CPU "
                "rules become policies"
            )
            continue
        if rule.metric_resource_id and id_key(rule.metric_resource_id) != id_key(ss.id):
            warnings.append(
                f"{what} watches another resource ({rule.metric_resource_id}): not mapped"
            )
            continue
        direction = {"increase": "out", "decrease": "in"}.get(rule.direction.lower())
        comparison = _COMPARISON.get(rule.operator.lower())
        adjustment_type = _ADJUSTMENT.get(rule.change_type.lower())
        if direction is None or comparison is None or adjustment_type is None:
            warnings.append(f"{what} ({rule.direction} {rule.change_type}) not mapped: unsupported")
            continue
        if (direction == "out") != comparison.startswith("Greater"):
            warnings.append(f"{what} scales {direction} on the opposite threshold: not mapped")
            continue
        if rule.statistic.lower() != "average" or rule.time_aggregation.lower() != "average":
            warnings.append(
                f"{what} uses {rule.statistic}/{rule.time_aggregation}: mapped as an Average alarm"
            )
        period = max(60, rule.time_grain_s)
        sign = 1 if direction == "out" or adjustment_type == "ExactCapacity" else -1
        out.append(
            {
                "name": f"scale-{direction}-cpu-{rule.threshold:g}",
                "direction": direction,
                "metric": "CPUUtilization",
                "statistic": "Average",
                "comparison": comparison,
                "threshold": rule.threshold,
                "adjustmentType": adjustment_type,
                "adjustment": sign * abs(rule.change_value),
                "cooldown": rule.cooldown_s,
                "period": period,
                "evaluationPeriods": max(1, round(rule.time_window_s / period)),
            }
        )
    return out


def _schedule_text(schedule: dict[str, Any]) -> str:
    sched = schedule.get("schedule") if isinstance(schedule.get("schedule"), dict) else schedule
    if "days" in sched:
        minutes = sched.get("minutes") or [0]
        times = ",".join(f"{int(h):02d}:{int(minutes[0]):02d}" for h in sched.get("hours", []))
        return f"{'/'.join(sched['days'])} at {times} {sched.get('timeZone', '')}".strip()
    if "start" in sched:
        return f"{sched.get('start')} to {sched.get('end')} {sched.get('timeZone', '')}".strip()
    return "schedule"
