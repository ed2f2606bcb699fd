"""The gates of each step, on the new colour only: its targets healthy, the 5xx ratio of its
own target groups, an optional alarm. Healthy targets and the alarm are the shift's own gates
(``shift.gates``); the ratio is per target group here, so the old colour's errors never hide
or blame the new one."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from release.access import aws_errors
from shift.gates import (
    GateResult,
    Gates,
    GateSettings,
    error_ratio_gate,
    load_balancer_dimension,
    sums_by_id,
)

_METRICS = ("HTTPCode_Target_5XX_Count", "RequestCount")


@dataclass(frozen=True)
class ReleaseGateSettings:
    load_balancer_arn: str
    target_group_arns: tuple[str, ...]
    max_5xx_ratio: float
    alarm: str | None = None


def _minute(moment: datetime) -> datetime:
    return moment.replace(second=0, microsecond=0)


def target_group_dimension(arn: str) -> str:
    """CloudWatch's ``TargetGroup`` dimension: the ARN's ``targetgroup/<name>/<id>`` part."""
    return arn[arn.index("targetgroup/") :] if "targetgroup/" in arn else arn


class ReleaseGates:
    def __init__(self, settings: ReleaseGateSettings, elbv2: Any, cloudwatch: Any) -> None:
        self.settings, self.elbv2, self.cloudwatch = settings, elbv2, cloudwatch
        self.dimension = load_balancer_dimension(settings.load_balancer_arn)

    def _shift_gates(self, target_group_arn: str, min_healthy: int) -> Gates:
        return Gates(
            GateSettings(
                target_group_arn=target_group_arn,
                load_balancer_arn=self.settings.load_balancer_arn,
                health_check_id=None,
                min_healthy=min_healthy,
                max_5xx_ratio=self.settings.max_5xx_ratio,
                alarm=self.settings.alarm,
            ),
            self.elbv2,
            self.cloudwatch,
            None,
        )

    def healthy(self, min_healthy: int) -> list[GateResult]:
        return [
            self._shift_gates(arn, min_healthy).targets() for arn in self.settings.target_group_arns
        ]

    def check(self, min_healthy: int, since: datetime, now: datetime) -> list[GateResult]:
        results = self.healthy(min_healthy)
        results.append(self.error_ratio(since, now))
        if self.settings.alarm:
            first = self.settings.target_group_arns[0]
            results.append(self._shift_gates(first, min_healthy).alarm())
        return results

    def error_ratio(self, since: datetime, now: datetime) -> GateResult:
        """Target 5xx / requests of the new colour's target groups since the step began."""
        start = _minute(since)
        end = _minute(now) + timedelta(minutes=1)
        period = int((end - start).total_seconds())
        queries = []
        for g, arn in enumerate(self.settings.target_group_arns):
            dimensions = [
                {"Name": "LoadBalancer", "Value": self.dimension},
                {"Name": "TargetGroup", "Value": target_group_dimension(arn)},
            ]
            for m, metric in enumerate(_METRICS):
                queries.append(
                    {
                        "Id": f"m{m}g{g}",
                        "MetricStat": {
                            "Metric": {
                                "Namespace": "AWS/ApplicationELB",
                                "MetricName": metric,
                                "Dimensions": dimensions,
                            },
                            "Period": period,
                            "Stat": "Sum",
                        },
                        "ReturnData": True,
                    }
                )
        with aws_errors("cloudwatch:GetMetricData", "the new colour's target groups"):
            sums = sums_by_id(
                self.cloudwatch.get_paginator("get_metric_data").paginate(
                    MetricDataQueries=queries, StartTime=start, EndTime=end
                )
            )
        # Query ids are m<metric>g<group>: m0 the 5xx count, m1 the requests.
        errors = sum(v for query, v in sums.items() if query.startswith("m0"))
        requests = sum(v for query, v in sums.items() if query.startswith("m1"))
        return error_ratio_gate(errors, requests, self.settings.max_5xx_ratio)
