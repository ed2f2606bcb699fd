"""Scaling: CPU scale-out and scale-in for the group, by target tracking or by step policies
driven by CloudWatch alarms (the shape of the Azure autoscale rules being migrated)."""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

from stack.load import ScalingConfig, StepConfig


@dataclass
class ScalingArgs:
    scaling: ScalingConfig
    group_name: pulumi.Input[str]


class Scaling(pulumi.ComponentResource):
    """``targetTracking``: one policy that holds average CPU at ``targetCpu`` (it scales in as
    well as out). ``step``: a scale-out and a scale-in step policy, each fired by its alarm."""

    def __init__(self, name: str, args: ScalingArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("cutover:scaling:Scaling", name, None, opts)
        self._name, self._args = name, args
        if args.scaling.mode == "targetTracking":
            aws.autoscaling.Policy(
                f"{name}-cpu-target",
                autoscaling_group_name=args.group_name,
                policy_type="TargetTrackingScaling",
                target_tracking_configuration={
                    "predefined_metric_specification": {
                        "predefined_metric_type": "ASGAverageCPUUtilization"
                    },
                    "target_value": float(args.scaling.target_cpu),
                    "disable_scale_in": False,
                },
                opts=pulumi.ResourceOptions(parent=self),
            )
        else:
            self._step("out", args.scaling.scale_out, "GreaterThanOrEqualToThreshold")
            self._step("in", args.scaling.scale_in, "LessThanOrEqualToThreshold")
        self.register_outputs({})

    def _step(self, direction: str, step: StepConfig, comparison: str) -> None:
        """A single-step policy plus the alarm that fires it. Step policies have no cooldown;
        AWS applies ``cooldown`` as the policy's estimated instance warm-up."""
        name = f"{self._name}-cpu-{direction}"
        bound = (
            {"metric_interval_lower_bound": "0"}
            if direction == "out"
            else {"metric_interval_upper_bound": "0"}
        )
        policy = aws.autoscaling.Policy(
            name,
            autoscaling_group_name=self._args.group_name,
            policy_type="StepScaling",
            adjustment_type="ChangeInCapacity",
            metric_aggregation_type="Average",
            estimated_instance_warmup=step.cooldown,
            step_adjustments=[{"scaling_adjustment": step.adjustment, **bound}],
            opts=pulumi.ResourceOptions(parent=self),
        )
        aws.cloudwatch.MetricAlarm(
            name,
            alarm_description=f"CPU {comparison} {step.threshold}%: scale {direction}",
            namespace="AWS/EC2",
            metric_name="CPUUtilization",
            statistic="Average",
            dimensions={"AutoScalingGroupName": self._args.group_name},
            comparison_operator=comparison,
            threshold=float(step.threshold),
            period=step.period,
            evaluation_periods=step.evaluation_periods,
            alarm_actions=[policy.arn],
            opts=pulumi.ResourceOptions(parent=self),
        )
