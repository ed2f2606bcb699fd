"""The health gates checked after each step of the shift, on the AWS side.

* ``healthy targets``: the target group keeps at least the fleet's floor healthy
  (elbv2 DescribeTargetHealth);
* ``5xx ratio``: (HTTPCode_ELB_5XX_Count + HTTPCode_Target_5XX_Count) / RequestCount of the
  load balancer since the step's weights were set (CloudWatch GetMetricData, sums over one
  period of whole minutes: ALB metrics have one-minute resolution);
* ``health check``: the AWS record's Route 53 health check is healthy (GetHealthCheckStatus: as
  Route 53 decides, healthy when more than 18% of its checkers report success);
* ``alarm``: a CloudWatch alarm the user names is not in ALARM (optional).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from botocore.exceptions import ClientError

from cutover.exitcodes import BAD_INPUT, ENVIRONMENT
from shift.access import aws_errors, error_code
from shift.errors import ShiftError

# Route 53 considers an endpoint healthy when more than this share of its checkers say so.
HEALTHY_CHECKER_SHARE = 0.18
_ELB_METRICS = ("HTTPCode_ELB_5XX_Count", "HTTPCode_Target_5XX_Count", "RequestCount")


@dataclass(frozen=True)
class GateResult:
    name: str
    ok: bool
    value: str  # what was measured, for the screen and the log
    limit: str

    def __str__(self) -> str:
        return f"{self.name} {self.value} ({self.limit}) {'ok' if self.ok else 'BREACHED'}"


@dataclass(frozen=True)
class GateSettings:
    target_group_arn: str
    load_balancer_arn: str
    health_check_id: str | None
    min_healthy: int
    max_5xx_ratio: float
    alarm: str | None = None


def load_balancer_dimension(arn: str) -> str:
    """CloudWatch's ``LoadBalancer`` dimension: the ARN's ``app/<name>/<id>`` part."""
    _, _, suffix = arn.partition(":loadbalancer/")
    if not suffix.startswith("app/"):
        raise ShiftError(
            f"load balancer {arn}: not an Application Load Balancer ARN "
            "(arn:aws:elasticloadbalancing:...:loadbalancer/app/NAME/ID); "
            "check --load-balancer-arn",
            BAD_INPUT,
        )
    return suffix


def _minute(moment: datetime) -> datetime:
    return moment.replace(second=0, microsecond=0)


class Gates:
    """Reads every gate; ``check`` never changes anything."""

    def __init__(self, settings: GateSettings, elbv2: Any, cloudwatch: Any, route53: Any) -> None:
        self.settings = settings
        self.elbv2, self.cloudwatch, self.route53 = elbv2, cloudwatch, route53
        self.dimension = load_balancer_dimension(settings.load_balancer_arn)

    def check(self, since: datetime, now: datetime) -> list[GateResult]:
        results = [self.targets(), self.error_ratio(since, now)]
        if self.settings.health_check_id:
            results.append(self.health_check())
        if self.settings.alarm:
            results.append(self.alarm())
        return results

    def targets(self) -> GateResult:
        arn = self.settings.target_group_arn
        with aws_errors("elasticloadbalancing:DescribeTargetHealth", f"target group {arn}"):
            try:
                answer = self.elbv2.describe_target_health(TargetGroupArn=arn)
            except ClientError as error:
                if error_code(error) in ("TargetGroupNotFound", "ValidationError"):
                    raise ShiftError(
                        f"target group {arn}: not found; check --target-group-arn "
                        "(pulumi stack output targetGroupArns)",
                        ENVIRONMENT,
                    ) from None
                raise
        states = [d["TargetHealth"]["State"] for d in answer["TargetHealthDescriptions"]]
        healthy = states.count("healthy")
        floor = self.settings.min_healthy
        return GateResult(
            "healthy targets", healthy >= floor, f"{healthy}/{len(states)}", f"at least {floor}"
        )

    def error_ratio(self, since: datetime, now: datetime) -> GateResult:
        # Whole minutes covering [since, now]; CloudWatch needs start < end.
        start = _minute(since)
        end = _minute(now) + timedelta(minutes=1)
        period = int((end - start).total_seconds())
        queries = [
            {
                "Id": f"m{i}",
                "MetricStat": {
                    "Metric": {
                        "Namespace": "AWS/ApplicationELB",
                        "MetricName": name,
                        "Dimensions": [{"Name": "LoadBalancer", "Value": self.dimension}],
                    },
                    "Period": period,
                    "Stat": "Sum",
                },
                "ReturnData": True,
            }
            for i, name in enumerate(_ELB_METRICS)
        ]
        with aws_errors("cloudwatch:GetMetricData", f"load balancer {self.dimension}"):
            sums = sums_by_id(
                self.cloudwatch.get_paginator("get_metric_data").paginate(
                    MetricDataQueries=queries, StartTime=start, EndTime=end
                )
            )
        errors = sums.get("m0", 0.0) + sums.get("m1", 0.0)
        return error_ratio_gate(errors, sums.get("m2", 0.0), self.settings.max_5xx_ratio)

    def health_check(self) -> GateResult:
        check_id = self.settings.health_check_id
        with aws_errors("route53:GetHealthCheckStatus", f"health check {check_id}"):
            try:
                answer = self.route53.get_health_check_status(HealthCheckId=check_id)
            except ClientError as error:
                if error_code(error) == "NoSuchHealthCheck":
                    raise ShiftError(
                        f"health check {check_id}: not found; check --health-check-id "
                        "(pulumi stack output trafficHealthCheckIds)",
                        ENVIRONMENT,
                    ) from None
                raise
        observations = answer.get("HealthCheckObservations", [])
        good = sum(
            1
            for o in observations
            if str(o.get("StatusReport", {}).get("Status", "")).startswith("Success")
        )
        total = len(observations)
        healthy = total > 0 and good / total > HEALTHY_CHECKER_SHARE
        return GateResult(
            "health check",
            healthy,
            f"{good}/{total} checkers healthy",
            f"more than {HEALTHY_CHECKER_SHARE:.0%}",
        )

    def alarm(self) -> GateResult:
        name = self.settings.alarm or ""
        with aws_errors("cloudwatch:DescribeAlarms", f"alarm {name}"):
            answer = self.cloudwatch.describe_alarms(AlarmNames=[name])
        alarms = answer.get("MetricAlarms", []) + answer.get("CompositeAlarms", [])
        if not alarms:
            raise ShiftError(
                f"alarm {name}: no such CloudWatch alarm in this region; check --alarm", BAD_INPUT
            )
        state = alarms[0]["StateValue"]
        return GateResult(f"alarm {name}", state != "ALARM", state, "not ALARM")


def sums_by_id(pages: Iterable[Mapping[str, Any]]) -> dict[str, float]:
    """GetMetricData pages -> the sum of each query's values, by query id."""
    sums: dict[str, float] = {}
    for page in pages:
        for result in page["MetricDataResults"]:
            sums[result["Id"]] = sums.get(result["Id"], 0.0) + sum(result.get("Values", []))
    return sums


def error_ratio_gate(errors: float, requests: float, limit: float) -> GateResult:
    """The 5xx gate: errors over requests at most ``limit``. No traffic yet is no evidence of
    errors; 5xx without requests is (a broken load balancer)."""
    if requests <= 0:
        return GateResult(
            "5xx ratio", errors == 0, f"{int(errors)} 5xx / 0 requests", f"at most {limit:g}"
        )
    ratio = errors / requests
    return GateResult(
        "5xx ratio",
        ratio <= limit,
        f"{ratio:.4f} ({int(errors)}/{int(requests)})",
        f"at most {limit:g}",
    )
