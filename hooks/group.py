"""The Auto Scaling group as the hooks see it: capacity, lifecycle states, and the state the
hooks keep on the group itself as tags (the baseline capacity and one tag per instance in flight).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from hooks.errors import HookError

BASELINE_TAG = "cutover:baseline"
STANDBY_TAG_PREFIX = "cutover:standby:"
ALLOW_DOWNTIME_TAG = "cutover:allow-downtime"
# AWS limits tag values to 256 characters; a deployment id (d-XXXXXXXXX) is far shorter.
MAX_DEPLOYMENT_ID = 64


@dataclass(frozen=True)
class Capacity:
    min_size: int
    max_size: int
    desired: int

    def __str__(self) -> str:
        return f"{self.min_size}/{self.max_size}/{self.desired} (min/max/desired)"


@dataclass(frozen=True)
class Baseline:
    """The group's capacity before the first deregister of a deployment."""

    capacity: Capacity
    deployment: str

    def tag_value(self) -> str:
        c = self.capacity
        body = {"min": c.min_size, "max": c.max_size, "desired": c.desired, "d": self.deployment}
        return json.dumps(body, separators=(",", ":"))

    @classmethod
    def parse(cls, group: str, value: str) -> Baseline:
        try:
            body = json.loads(value)
            capacity = Capacity(int(body["min"]), int(body["max"]), int(body["desired"]))
            return cls(capacity, str(body.get("d", "")))
        except (ValueError, KeyError, TypeError):
            raise HookError(
                f"group {group}: tag {BASELINE_TAG} is not valid ({value!r}); set it to the "
                'group\'s intended capacity, e.g. {"min":1,"max":2,"desired":1}'
            ) from None


@dataclass(frozen=True)
class InFlight:
    """One instance between deregister and the end of register."""

    instance_id: str
    deployment: str
    since: str

    @property
    def tag_key(self) -> str:
        return STANDBY_TAG_PREFIX + self.instance_id

    def tag_value(self) -> str:
        return json.dumps({"d": self.deployment, "t": self.since}, separators=(",", ":"))

    @classmethod
    def parse(cls, instance_id: str, value: str) -> InFlight:
        try:
            body = json.loads(value)
            return cls(instance_id, str(body.get("d", "")), str(body.get("t", "")))
        except (ValueError, AttributeError):
            # A hand-edited tag still marks the instance as in flight: that is the safe reading.
            return cls(instance_id, value, "")


@dataclass(frozen=True)
class GroupSnapshot:
    """One DescribeAutoScalingGroups answer: capacity and tags read together, atomically."""

    name: str
    capacity: Capacity
    tags: dict[str, str]
    lifecycle: dict[str, str]
    target_group_arns: tuple[str, ...]
    load_balancer_names: tuple[str, ...]

    @property
    def baseline(self) -> Baseline | None:
        value = self.tags.get(BASELINE_TAG)
        return Baseline.parse(self.name, value) if value is not None else None

    @property
    def in_flight(self) -> dict[str, InFlight]:
        n = len(STANDBY_TAG_PREFIX)
        return {
            key[n:]: InFlight.parse(key[n:], value)
            for key, value in self.tags.items()
            if key.startswith(STANDBY_TAG_PREFIX)
        }

    @property
    def allows_downtime(self) -> bool:
        return self.tags.get(ALLOW_DOWNTIME_TAG, "").strip().lower() == "true"


class AutoScalingGroup:
    """The calls the hooks make on one group."""

    def __init__(self, client: Any, name: str) -> None:
        self.client = client
        self.name = name

    def describe(self) -> GroupSnapshot:
        groups = self.client.describe_auto_scaling_groups(AutoScalingGroupNames=[self.name])
        found = groups.get("AutoScalingGroups", [])
        if not found:
            raise HookError(f"Auto Scaling group {self.name} not found")
        g = found[0]
        return GroupSnapshot(
            name=self.name,
            capacity=Capacity(g["MinSize"], g["MaxSize"], g["DesiredCapacity"]),
            tags={t["Key"]: t.get("Value", "") for t in g.get("Tags", [])},
            lifecycle={i["InstanceId"]: i["LifecycleState"] for i in g.get("Instances", [])},
            target_group_arns=tuple(g.get("TargetGroupARNs", [])),
            load_balancer_names=tuple(g.get("LoadBalancerNames", [])),
        )

    def set_tags(self, tags: dict[str, str]) -> None:
        self.client.create_or_update_tags(
            Tags=[
                {
                    "ResourceId": self.name,
                    "ResourceType": "auto-scaling-group",
                    "Key": key,
                    "Value": value,
                    "PropagateAtLaunch": False,
                }
                for key, value in tags.items()
            ]
        )

    def delete_tags(self, keys: list[str]) -> None:
        if keys:
            self.client.delete_tags(
                Tags=[
                    {"ResourceId": self.name, "ResourceType": "auto-scaling-group", "Key": key}
                    for key in keys
                ]
            )

    def update_capacity(self, capacity: Capacity) -> None:
        self.client.update_auto_scaling_group(
            AutoScalingGroupName=self.name,
            MinSize=capacity.min_size,
            MaxSize=capacity.max_size,
            DesiredCapacity=capacity.desired,
        )

    def set_min_size(self, min_size: int) -> None:
        self.client.update_auto_scaling_group(AutoScalingGroupName=self.name, MinSize=min_size)

    def enter_standby(self, instance_id: str) -> None:
        self.client.enter_standby(
            AutoScalingGroupName=self.name,
            InstanceIds=[instance_id],
            ShouldDecrementDesiredCapacity=True,
        )

    def exit_standby(self, instance_id: str) -> None:
        self.client.exit_standby(AutoScalingGroupName=self.name, InstanceIds=[instance_id])


def find_group_of(client: Any, instance_id: str) -> tuple[str, str] | None:
    """(group name, lifecycle state) of the instance, or None when it is in no group.

    Only a successful, empty answer means "not in a group": any API error propagates."""
    answer = client.describe_auto_scaling_instances(InstanceIds=[instance_id])
    for item in answer.get("AutoScalingInstances", []):
        if item["InstanceId"] == instance_id:
            return item["AutoScalingGroupName"], item["LifecycleState"]
    return None


def restore_target(current: Capacity, baseline: Capacity) -> Capacity:
    """The capacity to restore when no instance is in flight any more.

    MinSize and MaxSize come back exactly. Every EnterStandby the hooks make decrements
    DesiredCapacity and every ExitStandby increments it, so with nobody in flight the current
    DesiredCapacity equals the baseline unless the group's own scaling (a policy, a scheduled
    action, an operator) changed it meanwhile: then that decision is kept, within Min..Max."""
    desired = current.desired
    desired = max(baseline.min_size, min(baseline.max_size, desired))
    return Capacity(baseline.min_size, baseline.max_size, desired)
