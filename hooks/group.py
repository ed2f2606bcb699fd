"""The Auto Scaling group as the hooks see it: capacity, lifecycle states, suspended processes,
and the hooks' one group-level record (tag `cutover:capacity`, see hooks/state.py)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from hooks.errors import HookError
from hooks.state import (
    ENTRY_TAG,  # noqa: F401 - the per-instance entry, an EC2 tag; named here for infra/policy
    LEGACY_BASELINE_TAG,
    LEGACY_STANDBY_PREFIX,
    RECORD_TAG,
    CapacityRecord,
)

ALLOW_DOWNTIME_TAG = "cutover:allow-downtime"
# The names earlier versions used for their group tags (still read, and migrated): a stack must
# not declare them, nor RECORD_TAG, on its group.
BASELINE_TAG = LEGACY_BASELINE_TAG
STANDBY_TAG_PREFIX = LEGACY_STANDBY_PREFIX
# Every group tag key (or key prefix) that is the hooks' state, not configuration.
STATE_TAGS: tuple[str, ...] = (RECORD_TAG, BASELINE_TAG, STANDBY_TAG_PREFIX)


@dataclass(frozen=True)
class Capacity:
    min_size: int
    max_size: int
    desired: int

    def __str__(self) -> str:
        return f"{self.min_size}/{self.max_size}/{self.desired} (min/max/desired)"


@dataclass(frozen=True)
class GroupSnapshot:
    """One DescribeAutoScalingGroups answer: capacity and tags read together, atomically."""

    name: str
    capacity: Capacity
    tags: dict[str, str]
    lifecycle: dict[str, str]
    target_group_arns: tuple[str, ...]
    load_balancer_names: tuple[str, ...]
    suspended: tuple[str, ...] = ()

    @property
    def record(self) -> CapacityRecord | None:
        value = self.tags.get(RECORD_TAG)
        return CapacityRecord.parse(self.name, value) if value is not None else None

    @property
    def legacy_tags(self) -> dict[str, str]:
        """Tags written by earlier versions of the hooks (migrated on first sight)."""
        return {
            key: value
            for key, value in self.tags.items()
            if key == LEGACY_BASELINE_TAG or key.startswith(LEGACY_STANDBY_PREFIX)
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
            suspended=tuple(p["ProcessName"] for p in g.get("SuspendedProcesses", [])),
        )

    def write_record(self, record: CapacityRecord) -> None:
        self.client.create_or_update_tags(
            Tags=[
                {
                    "ResourceId": self.name,
                    "ResourceType": "auto-scaling-group",
                    "Key": RECORD_TAG,
                    "Value": record.value(),
                    "PropagateAtLaunch": False,
                }
            ]
        )

    def delete_tags(self, keys: list[str]) -> None:
        # AWS takes at most 25 tags per call.
        for start in range(0, len(keys), 25):
            self.client.delete_tags(
                Tags=[
                    {"ResourceId": self.name, "ResourceType": "auto-scaling-group", "Key": key}
                    for key in keys[start : start + 25]
                ]
            )

    def set_bounds(
        self, min_size: int | None = None, max_size: int | None = None, desired: int | None = None
    ) -> None:
        """Write MinSize and/or MaxSize. DesiredCapacity only for the restore's give-back of an
        instance lost in Standby (a value read earlier could be stale and launch or terminate
        an instance, so nothing else writes it)."""
        params: dict[str, Any] = {"AutoScalingGroupName": self.name}
        if desired is not None:
            params["DesiredCapacity"] = desired
        if min_size is not None:
            params["MinSize"] = min_size
        if max_size is not None:
            params["MaxSize"] = max_size
        if len(params) > 1:
            self.client.update_auto_scaling_group(**params)

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
