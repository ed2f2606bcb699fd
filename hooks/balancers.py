"""Load balancer membership of one instance: target groups (ALB/NLB) and classic ELBs.

The hooks deregister and register the instance themselves, looking before each change so a
re-run is idempotent, and never rely on Standby doing it."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

# Target states in which the load balancer may still route new requests to the target.
TARGET_ACTIVE = frozenset({"initial", "healthy", "unhealthy", "unavailable"})
TARGET_HEALTHY = "healthy"
CLASSIC_HEALTHY = "InService"


@dataclass
class Balancers:
    """Where the instance belongs: target group ARN -> port (None: the group's port), ELB names."""

    target_groups: dict[str, int | None] = field(default_factory=dict)
    classic: list[str] = field(default_factory=list)

    def merge(self, other: Balancers) -> None:
        for arn, port in other.target_groups.items():
            if self.target_groups.get(arn) is None:
                self.target_groups[arn] = port
        for name in other.classic:
            if name not in self.classic:
                self.classic.append(name)

    def __bool__(self) -> bool:
        return bool(self.target_groups or self.classic)

    def describe(self) -> str:
        names = [arn.split(":")[-1] for arn in self.target_groups] + [
            f"elb/{name}" for name in self.classic
        ]
        return ", ".join(names) if names else "no load balancer"

    def to_json(self) -> dict[str, Any]:
        return {"targetGroups": self.target_groups, "classic": self.classic}

    @classmethod
    def from_json(cls, body: dict[str, Any]) -> Balancers:
        groups = body.get("targetGroups", {})
        return cls(
            {str(arn): (int(p) if p is not None else None) for arn, p in groups.items()},
            [str(n) for n in body.get("classic", [])],
        )


@dataclass(frozen=True)
class Health:
    """One reading of every load balancer: instance id -> state, per balancer."""

    target_groups: dict[str, dict[str, str]]
    classic: dict[str, dict[str, str]]

    def healthy_others(self, instance_id: str, excluded: set[str]) -> dict[str, int]:
        """Per balancer, how many other instances (not in `excluded`) are healthy."""
        counts = {}
        for arn, states in self.target_groups.items():
            counts[arn.split(":")[-1]] = sum(
                1
                for iid, state in states.items()
                if iid != instance_id and iid not in excluded and state == TARGET_HEALTHY
            )
        for name, states in self.classic.items():
            counts[f"elb/{name}"] = sum(
                1
                for iid, state in states.items()
                if iid != instance_id and iid not in excluded and state == CLASSIC_HEALTHY
            )
        return counts


class LoadBalancing:
    """The calls the hooks make on Elastic Load Balancing for one instance."""

    def __init__(self, elbv2: Any, elb: Any, instance_id: str) -> None:
        self.elbv2 = elbv2
        self.elb = elb
        self.instance_id = instance_id

    def target_states(self, arn: str) -> tuple[dict[str, str], int | None]:
        """States of every registered target, and the port this instance is registered on."""
        answer = self.elbv2.describe_target_health(TargetGroupArn=arn)
        states: dict[str, str] = {}
        port = None
        for item in answer.get("TargetHealthDescriptions", []):
            target = item["Target"]
            states[target["Id"]] = item.get("TargetHealth", {}).get("State", "")
            if target["Id"] == self.instance_id:
                port = target.get("Port")
        return states, port

    def classic_states(self, name: str) -> dict[str, str]:
        """States of every instance registered with the classic ELB."""
        answer = self.elb.describe_instance_health(LoadBalancerName=name)
        return {i["InstanceId"]: i.get("State", "") for i in answer.get("InstanceStates", [])}

    def health(self, balancers: Balancers) -> Health:
        groups = {}
        for arn in balancers.target_groups:
            states, port = self.target_states(arn)
            groups[arn] = states
            if port is not None:
                balancers.target_groups[arn] = port
        classic = {name: self.classic_states(name) for name in balancers.classic}
        return Health(groups, classic)

    def discover(self, vpc_id: str | None = None) -> Balancers:
        """Scan the instance-type target groups (of `vpc_id`, when known) and the classic ELBs
        of the region for this instance. Cost: ceil(target groups / 400) DescribeTargetGroups
        pages, one DescribeTargetHealth per target group scanned, and one
        DescribeLoadBalancers page per 400 classic ELBs."""
        found = self.discover_target_groups(vpc_id, known=())
        for page in self.elb.get_paginator("describe_load_balancers").paginate():
            for lb in page.get("LoadBalancerDescriptions", []):
                ids = {i["InstanceId"] for i in lb.get("Instances", [])}
                if self.instance_id in ids:
                    found.classic.append(lb["LoadBalancerName"])
        return found

    def discover_target_groups(self, vpc_id: str | None, known: Iterable[str]) -> Balancers:
        """Target groups not in `known` that hold this instance (registered, in any state):
        one DescribeTargetHealth, for this instance only, per instance-type target group of
        the VPC."""
        skip = set(known)
        found = Balancers()
        for page in self.elbv2.get_paginator("describe_target_groups").paginate():
            for group in page.get("TargetGroups", []):
                arn = group["TargetGroupArn"]
                if (
                    arn in skip
                    or group.get("TargetType", "instance") != "instance"
                    or (vpc_id is not None and group.get("VpcId") != vpc_id)
                ):
                    continue
                answer = self.elbv2.describe_target_health(
                    TargetGroupArn=arn, Targets=[{"Id": self.instance_id}]
                )
                for item in answer.get("TargetHealthDescriptions", []):
                    state = item.get("TargetHealth", {}).get("State", "unused")
                    if item["Target"]["Id"] == self.instance_id and state != "unused":
                        found.target_groups[arn] = item["Target"].get("Port")
        return found

    def deregister(self, balancers: Balancers, health: Health) -> list[str]:
        """Deregister wherever the instance still takes traffic; returns where it did."""
        done = []
        for arn, port in balancers.target_groups.items():
            if health.target_groups.get(arn, {}).get(self.instance_id) in TARGET_ACTIVE:
                self.elbv2.deregister_targets(TargetGroupArn=arn, Targets=[self._target(port)])
                done.append(arn.split(":")[-1])
        for name in balancers.classic:
            if self.instance_id in health.classic.get(name, {}):
                self.elb.deregister_instances_from_load_balancer(
                    LoadBalancerName=name, Instances=[{"InstanceId": self.instance_id}]
                )
                done.append(f"elb/{name}")
        return done

    def register(self, balancers: Balancers, health: Health) -> list[str]:
        """Register wherever the instance is not registered; returns where it did."""
        done = []
        for arn, port in balancers.target_groups.items():
            state = health.target_groups.get(arn, {}).get(self.instance_id, "unused")
            if state not in TARGET_ACTIVE:
                self.elbv2.register_targets(TargetGroupArn=arn, Targets=[self._target(port)])
                done.append(arn.split(":")[-1])
        for name in balancers.classic:
            if self.instance_id not in health.classic.get(name, {}):
                self.elb.register_instances_with_load_balancer(
                    LoadBalancerName=name, Instances=[{"InstanceId": self.instance_id}]
                )
                done.append(f"elb/{name}")
        return done

    def still_serving(self, health: Health) -> list[str]:
        """Balancers that still route to (or are draining) this instance."""
        waiting = [
            arn.split(":")[-1]
            for arn, states in health.target_groups.items()
            if states.get(self.instance_id, "unused") != "unused"
        ]
        waiting += [
            f"elb/{name}"
            for name, states in health.classic.items()
            if states.get(self.instance_id) == CLASSIC_HEALTHY
        ]
        return waiting

    def healthy_anywhere(self, health: Health) -> bool:
        """True when at least one load balancer counts this instance as healthy."""
        return any(
            states.get(self.instance_id) == TARGET_HEALTHY
            for states in health.target_groups.values()
        ) or any(
            states.get(self.instance_id) == CLASSIC_HEALTHY for states in health.classic.values()
        )

    def not_healthy(self, health: Health) -> list[str]:
        """Balancers where this instance is not healthy yet."""
        waiting = [
            arn.split(":")[-1]
            for arn, states in health.target_groups.items()
            if states.get(self.instance_id) != TARGET_HEALTHY
        ]
        waiting += [
            f"elb/{name}"
            for name, states in health.classic.items()
            if states.get(self.instance_id) != CLASSIC_HEALTHY
        ]
        return waiting

    def _target(self, port: int | None) -> dict[str, Any]:
        target: dict[str, Any] = {"Id": self.instance_id}
        if port is not None:
            target["Port"] = port
        return target
