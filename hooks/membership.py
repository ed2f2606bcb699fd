"""Load balancer membership of one instance: target groups (ALB/NLB) and classic ELBs.

The hooks deregister and register the instance themselves, looking before each change so a
re-run is idempotent; only after their own successful EnterStandby do they leave the group's own
target groups and classic ELBs to AWS, which deregisters an instance entering Standby."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from hooks.clients import Clients
from hooks.timing import AWS_DEFAULT_DEREGISTRATION_DELAY as AWS_DEFAULT_DELAY

# Target states in which the load balancer may still route new requests to the target.
TARGET_ACTIVE = frozenset({"initial", "healthy", "unhealthy", "unavailable"})
TARGET_HEALTHY = "healthy"
CLASSIC_HEALTHY = "InService"
DELAY_ATTRIBUTE = "deregistration_delay.timeout_seconds"


@dataclass(frozen=True)
class Timing:
    """One load balancer's own figures, in AWS seconds (None: not read yet)."""

    delay: float | None = None  # deregistration delay (classic: connection draining timeout)
    healthy_after: float | None = None  # healthyThreshold x interval: registered -> healthy
    interval: float | None = None  # between two health checks

    def merged(self, other: Timing) -> Timing:
        return Timing(
            self.delay if self.delay is not None else other.delay,
            self.healthy_after if self.healthy_after is not None else other.healthy_after,
            self.interval if self.interval is not None else other.interval,
        )

    def to_json(self) -> dict[str, float]:
        body = {"d": self.delay, "h": self.healthy_after, "i": self.interval}
        return {k: v for k, v in body.items() if v is not None}

    @classmethod
    def from_json(cls, body: dict[str, Any]) -> Timing:
        def number(key: str) -> float | None:
            value = body.get(key)
            return float(value) if value is not None else None

        return cls(number("d"), number("h"), number("i"))


@dataclass
class Balancers:
    """Where the instance belongs: target group ARN -> port (None: the group's port), ELB names."""

    target_groups: dict[str, int | None] = field(default_factory=dict)
    classic: list[str] = field(default_factory=list)
    # Target group ARN or classic ELB name -> what AWS said about its clock (read once, kept
    # in the local record so register need not ask again).
    timing: dict[str, Timing] = field(default_factory=dict)

    def merge(self, other: Balancers) -> None:
        for arn, port in other.target_groups.items():
            if self.target_groups.get(arn) is None:
                self.target_groups[arn] = port
        for name in other.classic:
            if name not in self.classic:
                self.classic.append(name)
        self.learn(other.timing)

    def learn(self, timing: dict[str, Timing]) -> None:
        for key, known in timing.items():
            self.timing[key] = self.timing.get(key, Timing()).merged(known)

    def without(self, keys: Iterable[str]) -> Balancers:
        """These load balancers but those named in `keys` (target group ARNs, ELB names)."""
        skip = set(keys)
        return Balancers(
            {arn: port for arn, port in self.target_groups.items() if arn not in skip},
            [name for name in self.classic if name not in skip],
            dict(self.timing),
        )

    def names(self) -> list[str]:
        """Every target group ARN and classic ELB name."""
        return [*self.target_groups, *self.classic]

    def __bool__(self) -> bool:
        return bool(self.target_groups or self.classic)

    def describe(self) -> str:
        names = [arn.split(":")[-1] for arn in self.target_groups] + [
            f"elb/{name}" for name in self.classic
        ]
        return ", ".join(names) if names else "no load balancer"

    def to_json(self) -> dict[str, Any]:
        timing = {k: t.to_json() for k, t in self.timing.items() if t.to_json()}
        return {"targetGroups": self.target_groups, "classic": self.classic, "timing": timing}

    @classmethod
    def from_json(cls, body: dict[str, Any]) -> Balancers:
        groups = body.get("targetGroups", {})
        return cls(
            {str(arn): (int(p) if p is not None else None) for arn, p in groups.items()},
            [str(n) for n in body.get("classic", [])],
            {str(k): Timing.from_json(t) for k, t in (body.get("timing") or {}).items()},
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

    def __init__(self, clients: Clients, instance_id: str) -> None:
        # The clients are created on first use: a classic ELB client only where a classic ELB
        # is (named, recorded, or scanned for an instance in no group).
        self.clients = clients
        self.instance_id = instance_id

    @property
    def elbv2(self) -> Any:
        return self.clients.elbv2

    @property
    def elb(self) -> Any:
        return self.clients.elb

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

    def list_target_groups(self) -> list[dict[str, Any]]:
        """Every target group of the region: ceil(target groups / 400) DescribeTargetGroups."""
        pages = self.elbv2.get_paginator("describe_target_groups").paginate()
        return [group for page in pages for group in page.get("TargetGroups", [])]

    def discover(
        self, vpc_id: str | None = None, listed: list[dict[str, Any]] | None = None
    ) -> Balancers:
        """Scan the instance-type target groups (of `vpc_id`, when known) and the classic ELBs
        of the region for this instance. Cost: ceil(target groups / 400) DescribeTargetGroups
        pages, one DescribeTargetHealth per target group scanned, and one
        DescribeLoadBalancers page per 400 classic ELBs."""
        found = self.discover_target_groups(vpc_id, known=(), listed=listed)
        for page in self.elb.get_paginator("describe_load_balancers").paginate():
            for lb in page.get("LoadBalancerDescriptions", []):
                ids = {i["InstanceId"] for i in lb.get("Instances", [])}
                if self.instance_id in ids:
                    found.classic.append(lb["LoadBalancerName"])
        return found

    def discover_target_groups(
        self,
        vpc_id: str | None,
        known: Iterable[str],
        listed: list[dict[str, Any]] | None = None,
    ) -> Balancers:
        """Target groups not in `known` that hold this instance (registered, in any state):
        one DescribeTargetHealth, for this instance only, per instance-type target group of
        the VPC. `listed`: the region's target groups if already read (list_target_groups)."""
        skip = set(known)
        found = Balancers()
        for group in listed if listed is not None else self.list_target_groups():
            arn = group["TargetGroupArn"]
            if arn in skip:
                # The scan reads every target group's health check: register needs it.
                found.timing[arn] = _check_timing(group)
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
                    found.timing[arn] = _check_timing(group)
        return found

    def read_health_checks(self, balancers: Balancers) -> None:
        """Fill in healthyThreshold x interval where not known: one DescribeTargetGroups for
        every target group, one DescribeLoadBalancers for every classic ELB."""
        timing = balancers.timing
        arns = [a for a in balancers.target_groups if timing.get(a, Timing()).interval is None]
        names = [n for n in balancers.classic if timing.get(n, Timing()).interval is None]
        learned: dict[str, Timing] = {}
        if arns:
            answer = self.elbv2.describe_target_groups(TargetGroupArns=arns)
            for group in answer.get("TargetGroups", []):
                learned[group["TargetGroupArn"]] = _check_timing(group)
        if names:
            answer = self.elb.describe_load_balancers(LoadBalancerNames=names)
            for lb in answer.get("LoadBalancerDescriptions", []):
                check = lb.get("HealthCheck", {})
                interval = float(check.get("Interval", 30))
                after = float(check.get("HealthyThreshold", 10)) * interval
                learned[lb["LoadBalancerName"]] = Timing(None, after, interval)
        balancers.learn(learned)

    def read_delays(self, balancers: Balancers, keys: Iterable[str]) -> None:
        """Fill in the deregistration delay of `keys` where not known: one
        DescribeTargetGroupAttributes per target group, one DescribeLoadBalancerAttributes per
        classic ELB (its connection draining timeout; 0 when draining is off)."""
        learned: dict[str, Timing] = {}
        for key in keys:
            if balancers.timing.get(key, Timing()).delay is not None:
                continue
            if key in balancers.target_groups:
                answer = self.elbv2.describe_target_group_attributes(TargetGroupArn=key)
                values = {a["Key"]: a.get("Value") for a in answer.get("Attributes", [])}
                delay = float(values.get(DELAY_ATTRIBUTE) or AWS_DEFAULT_DELAY)
            else:
                answer = self.elb.describe_load_balancer_attributes(LoadBalancerName=key)
                draining = answer.get("LoadBalancerAttributes", {}).get("ConnectionDraining", {})
                delay = float(draining.get("Timeout", 300)) if draining.get("Enabled") else 0.0
            learned[key] = Timing(delay=delay)
        balancers.learn(learned)

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

    def register(self, balancers: Balancers, health: Health | None) -> list[str]:
        """Register wherever the instance is not registered (everywhere when `health` is
        None: registering a registered target changes nothing); returns where it did."""
        done = []
        for arn, port in balancers.target_groups.items():
            state = health.target_groups.get(arn, {}).get(self.instance_id) if health else None
            if state not in TARGET_ACTIVE:
                self.elbv2.register_targets(TargetGroupArn=arn, Targets=[self._target(port)])
                done.append(arn.split(":")[-1])
        for name in balancers.classic:
            if health is None or self.instance_id not in health.classic.get(name, {}):
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

    def serving_in(self, health: Health) -> list[str]:
        """Balancers that count this instance healthy: taking it out starts a drain there."""
        return [
            arn
            for arn, states in health.target_groups.items()
            if states.get(self.instance_id) == TARGET_HEALTHY
        ] + [
            name
            for name, states in health.classic.items()
            if states.get(self.instance_id) == CLASSIC_HEALTHY
        ]

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


def _check_timing(group: dict[str, Any]) -> Timing:
    """A target group's health check timing (AWS's defaults where the answer omits them)."""
    interval = float(group.get("HealthCheckIntervalSeconds", 30))
    return Timing(None, float(group.get("HealthyThresholdCount", 5)) * interval, interval)
