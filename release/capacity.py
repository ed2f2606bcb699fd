"""Each colour's Auto Scaling group: its capacity, the release's mark on the colour it
releases into (the group tag ``cutover:release`` = the revision), and, while the release deploys
to that colour, the hooks' ``cutover:idle`` tag (``hooks/idle.py``: no Standby, no drain)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from hooks.idle import IDLE_TAG
from release.access import aws_errors
from release.errors import ReleaseError
from release.stack import BlueGreenStack

# On the colour a release moves the users to (and only on it): the revision it carries. Read
# back by a resumed release and by --rollback, so both know which colour is the new one.
RELEASE_TAG = "cutover:release"


@dataclass(frozen=True)
class Capacity:
    min_size: int
    desired: int
    max_size: int

    def __str__(self) -> str:
        return f"{self.min_size}/{self.desired}/{self.max_size}"

    @property
    def empty(self) -> bool:
        return self.desired == 0 and self.min_size == 0

    def at_least(self, other: Capacity) -> Capacity:
        """This capacity raised to ``other`` wherever ``other`` is larger."""
        return Capacity(
            max(self.min_size, other.min_size),
            max(self.desired, other.desired),
            max(self.max_size, other.max_size),
        )


@dataclass(frozen=True)
class GroupState:
    colour: str
    name: str
    capacity: Capacity
    release: str | None  # the RELEASE_TAG value, when the group carries it
    idle: str | None = None  # the IDLE_TAG value (a deployment id), when the group carries it


class Groups:
    def __init__(self, stack: BlueGreenStack, autoscaling: Any) -> None:
        self.stack, self.autoscaling = stack, autoscaling

    def read(self) -> dict[str, GroupState]:
        names = list(self.stack.groups.values())
        with aws_errors("autoscaling:DescribeAutoScalingGroups", ", ".join(names)):
            answer = self.autoscaling.describe_auto_scaling_groups(AutoScalingGroupNames=names)
        found = {g["AutoScalingGroupName"]: g for g in answer["AutoScalingGroups"]}
        states = {}
        for colour, name in self.stack.groups.items():
            group = found.get(name)
            if group is None:
                raise ReleaseError(f"group {name} ({colour}): not found; run pulumi up")
            tags = {t["Key"]: t["Value"] for t in group.get("Tags", [])}
            states[colour] = GroupState(
                colour,
                name,
                Capacity(group["MinSize"], group["DesiredCapacity"], group["MaxSize"]),
                tags.get(RELEASE_TAG),
                tags.get(IDLE_TAG),
            )
        return states

    def resize(self, colour: str, capacity: Capacity) -> None:
        """Set all three at once (a MinSize above the old Max would be refused otherwise)."""
        name = self.stack.groups[colour]
        with aws_errors("autoscaling:UpdateAutoScalingGroup", name):
            self.autoscaling.update_auto_scaling_group(
                AutoScalingGroupName=name,
                MinSize=capacity.min_size,
                DesiredCapacity=capacity.desired,
                MaxSize=capacity.max_size,
            )

    def mark(self, colour: str, revision: str) -> None:
        """``colour`` is the one this release moves the users to; the other loses the mark."""
        other = self.stack.other(colour)
        with aws_errors("autoscaling:CreateOrUpdateTags", self.stack.groups[colour]):
            self.autoscaling.create_or_update_tags(Tags=[self._tag(colour, revision)])
        with aws_errors("autoscaling:DeleteTags", self.stack.groups[other]):
            self.autoscaling.delete_tags(Tags=[self._tag(other, "")])

    def mark_idle(self, colour: str, deployment_id: str) -> None:
        """Tell the hooks of ``deployment_id`` that ``colour`` carries no user (no Standby)."""
        with aws_errors("autoscaling:CreateOrUpdateTags", self.stack.groups[colour]):
            self.autoscaling.create_or_update_tags(
                Tags=[self._tag(colour, deployment_id, IDLE_TAG)]
            )

    def clear_idle(self) -> list[str]:
        """Take ``cutover:idle`` off every colour that carries it (read first); returns them.
        Called before any weight moves, so the tag is never on a colour with users."""
        marked = [c for c, s in self.read().items() if s.idle is not None]
        for colour in marked:
            with aws_errors("autoscaling:DeleteTags", self.stack.groups[colour]):
                self.autoscaling.delete_tags(Tags=[self._tag(colour, "", IDLE_TAG)])
        return marked

    def _tag(self, colour: str, value: str, key: str = RELEASE_TAG) -> dict[str, Any]:
        return {
            "ResourceId": self.stack.groups[colour],
            "ResourceType": "auto-scaling-group",
            "Key": key,
            "Value": value,
            "PropagateAtLaunch": False,
        }
