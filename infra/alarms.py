"""Rollback alarms: CloudWatch alarms on the load balancer that stop a deployment and roll it
back (CodeDeploy's alarm configuration) when the new revision answers 5xx or turns targets
unhealthy."""

from __future__ import annotations

from dataclasses import dataclass, field

import pulumi
import pulumi_aws as aws

# One-minute periods: the load balancers publish these metrics every 60 s.
PERIOD = 60
# 5xx answers in one minute, two minutes running, before a deployment is stopped.
HTTP_5XX_THRESHOLD = 10
EVALUATION_PERIODS = 2


@dataclass
class RollbackAlarmsArgs:
    type: str  # application | network | classic
    load_balancer_arn_suffix: pulumi.Input[str] | None = None
    target_group_arn_suffixes: list[pulumi.Input[str]] = field(default_factory=list)
    classic_name: pulumi.Input[str] | None = None
    tags: dict[str, str] = field(default_factory=dict)


class RollbackAlarms(pulumi.ComponentResource):
    """ALB: target 5xx, load-balancer 5xx, unhealthy hosts per target group. NLB: unhealthy
    hosts per target group. Classic: backend 5xx and unhealthy hosts. ``names`` feeds the
    deployment group's alarm configuration."""

    names: list[pulumi.Output[str]]

    def __init__(
        self, name: str, args: RollbackAlarmsArgs, opts: pulumi.ResourceOptions | None = None
    ):
        super().__init__("cutover:alarms:RollbackAlarms", name, None, opts)
        self._name, self._args = name, args
        self.names = []
        if args.type == "classic":
            dims = {"LoadBalancerName": args.classic_name}
            self._alarm("backend-5xx", "AWS/ELB", "HTTPCode_Backend_5XX", dims, "Sum")
            self._alarm("unhealthy", "AWS/ELB", "UnHealthyHostCount", dims, "Maximum", 1)
        else:
            namespace = "AWS/ApplicationELB" if args.type == "application" else "AWS/NetworkELB"
            lb = {"LoadBalancer": args.load_balancer_arn_suffix}
            if args.type == "application":
                self._alarm("target-5xx", namespace, "HTTPCode_Target_5XX_Count", lb, "Sum")
                self._alarm("elb-5xx", namespace, "HTTPCode_ELB_5XX_Count", lb, "Sum")
            for i, suffix in enumerate(args.target_group_arn_suffixes):
                dims = {**lb, "TargetGroup": suffix}
                self._alarm(f"unhealthy-{i}", namespace, "UnHealthyHostCount", dims, "Maximum", 1)
        self.register_outputs({"names": self.names})

    def _alarm(
        self,
        label: str,
        namespace: str,
        metric: str,
        dimensions: dict[str, pulumi.Input[str] | None],
        statistic: str,
        threshold: int = HTTP_5XX_THRESHOLD,
    ) -> None:
        alarm = aws.cloudwatch.MetricAlarm(
            f"{self._name}-{label}",
            alarm_description=f"Deployment rollback: {metric} >= {threshold}",
            namespace=namespace,
            metric_name=metric,
            dimensions=dimensions,
            statistic=statistic,
            comparison_operator="GreaterThanOrEqualToThreshold",
            threshold=float(threshold),
            period=PERIOD,
            evaluation_periods=EVALUATION_PERIODS,
            # No traffic, no data: not a reason to roll back.
            treat_missing_data="notBreaching",
            tags={**self._args.tags, "Name": f"{self._name}-{label}"},
            opts=pulumi.ResourceOptions(parent=self),
        )
        self.names.append(alarm.name)
