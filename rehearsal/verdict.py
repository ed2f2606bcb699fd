"""The verdict: did the deployment keep every promise? PASS only if

- the in-service count never fell below the promised floor (for a first deployment: once the
  fleet first reached it);
- no instance was terminated by the hooks' own capacity writes (the restore);
- nothing is left in Standby and no capacity is left lowered at the end (self-healing included,
  within its documented delay);
- the final Min/Desired/Max and instance count equal the baseline, except for the changes the
  scenario's operator or scaling made, which must be kept;
- no deployment failed that the scenario did not ask to fail, and the group did not replace
  instances for failing their health checks.

Every time is in real seconds; the text shows the AWS time each stands for beside it (real
seconds x the time scale)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from rehearsal.changes import Change
from rehearsal.codedeploy import Deployment
from rehearsal.observer import Mark, Sample
from rehearsal.starvation import StarvedHook


def aws_time(real_seconds: float, time_scale: float) -> str:
    """``6.6`` real seconds at time scale 30 -> ``3.3 min`` (under a minute: ``45 s``)."""
    aws = real_seconds * time_scale
    return f"{aws / 60:.1f} min" if aws >= 60 else f"{aws:.0f} s"


@dataclass(frozen=True)
class Capacity:
    min: int
    desired: int
    max: int

    @classmethod
    def of(cls, group: dict[str, Any]) -> Capacity:
        return cls(group["MinSize"], group["DesiredCapacity"], group["MaxSize"])

    def __str__(self) -> str:
        return f"{self.min}/{self.desired}/{self.max}"

    def to_json(self) -> dict[str, int]:
        return {"min": self.min, "desired": self.desired, "max": self.max}


def expected_after(before: Capacity, changes: list[Change]) -> Capacity:
    """The baseline with every actor's change, as AWS applied it, kept."""
    low, desired, high = before.min, before.desired, before.max
    for change in changes:
        if change.refused:
            continue
        low = change.min_size if change.min_size is not None else low
        high = change.max_size if change.max_size is not None else high
        desired += change.desired_delta
    return Capacity(low, desired, high)


@dataclass
class OutOfService:
    instance: str
    seconds: float
    bound: float  # deregistration delay + install + healthyThreshold x interval, per deployment

    @property
    def within_goal(self) -> bool:
        """Overhead goal: at most 1 s + 10 % of the bound."""
        return self.seconds <= self.bound + 1.0 + 0.1 * self.bound

    def to_json(self) -> dict[str, Any]:
        return {
            "instance": self.instance,
            "outOfServiceSeconds": round(self.seconds, 2),
            "boundSeconds": round(self.bound, 2),
            "withinGoal": self.within_goal,
        }


def out_of_service(samples: list[Sample], start: float, end: float) -> dict[str, float]:
    """Real seconds each instance present at `start` was not serving between start and end."""
    found: dict[str, float] = {}
    window = [s for s in samples if start <= s.t <= end]
    if not window:
        return found
    tracked = set(window[0].instances)
    for before, after in zip(window, window[1:], strict=False):
        for iid in tracked:
            if iid not in before.serving:
                found[iid] = found.get(iid, 0.0) + (after.t - before.t)
    return {iid: found.get(iid, 0.0) for iid in sorted(tracked)}


@dataclass
class Verdict:
    stack: str
    scenario: str
    floor: int
    lowest_in_service: int
    lowest_at: float
    capacity_before: Capacity
    capacity_after: Capacity
    expected_after: Capacity
    instances_before: int
    instances_after: int
    terminated_by_restore: list[str]
    left_in_standby: list[str]
    replaced_unhealthy: list[str]
    deployments: list[Deployment]
    expected_failures: set[str]
    out_of_service: list[OutOfService]
    calls_per_instance: dict[str, int]
    throttled: int
    refused: dict[str, int]
    peak_group_tags: int
    stack_group_tags: int
    peak_instance_tags: int
    changes: list[Change]
    seconds: float
    time_scale: float
    hook_runs: int
    killed: list[str] = field(default_factory=list)
    kill_requested: str | None = None
    first_deploy: bool = False
    never_served: list[str] = field(default_factory=list)
    floor_reached: bool = True  # first-deploy: the fleet came up to the floor at some point
    broken_on_purpose: set[str] = field(default_factory=set)  # instances with an injected fault
    settled_after: float = 0.0
    leftover_processes: int = 0
    # The hooks' calls (and throttled ones) by API family: autoscaling, elb, ec2, other.
    calls_by_family: dict[str, int] = field(default_factory=dict)
    throttled_by_family: dict[str, int] = field(default_factory=dict)
    samples: list[Sample] = field(repr=False, default_factory=list)
    marks: list[Mark] = field(repr=False, default_factory=list)
    traffic: Any = None  # the shift scenarios' ShiftReport (rehearsal/shiftverdict.py)
    # The blue-green scenarios' ColourRecord (rehearsal/colourverdict.py).
    blue_green: Any = None
    # Hooks killed by their appspec timeout while this machine starved them (starvation.py).
    starved: list[StarvedHook] = field(default_factory=list)
    # Why this time scale: given by the user, or chosen from the fleet and a calibration.
    time_scale_reason: str = "given"

    @property
    def reasons(self) -> list[str]:
        found = []
        if not self.floor_reached:
            found.append(
                f"the fleet never reached the promised floor of {self.floor} instance(s) in "
                f"service (at the end: {self.lowest_in_service})"
            )
        elif self.lowest_in_service < self.floor:
            found.append(
                f"zero downtime violated: {self.lowest_in_service} instance(s) in service at "
                f"{self.lowest_at:.1f} s; the promised floor is {self.floor}"
            )
        if self.terminated_by_restore:
            found.append(
                f"the hooks' capacity writes terminated {', '.join(self.terminated_by_restore)}"
            )
        if self.left_in_standby:
            found.append(f"left in Standby at the end: {', '.join(self.left_in_standby)}")
        if self.capacity_after != self.expected_after:
            found.append(
                f"capacity not as expected: Min/Desired/Max {self.capacity_before} before, "
                f"{self.capacity_after} after, expected {self.expected_after}"
            )
        if self.instances_after != self.expected_after.desired:
            found.append(
                f"the group has {self.instances_after} instances at the end, expected "
                f"{self.expected_after.desired}"
            )
        for deployment in self.deployments:
            if deployment.status == "Failed" and deployment.deployment_id not in (
                self.expected_failures
            ):
                failures = "; ".join(deployment.failures) or "no instance reported why"
                found.append(f"deployment {deployment.deployment_id} failed: {failures}")
        for deployment in self.deployments:
            if deployment.status != "Succeeded":
                continue
            unexpected = [f for f in deployment.failures if not self.injected(f)]
            if unexpected:
                found.append(
                    f"deployment {deployment.deployment_id} succeeded without "
                    f"{len(unexpected)} instance(s): {'; '.join(unexpected[:3])}"
                    + (" ..." if len(unexpected) > 3 else "")
                )
        # An instance whose install the scenario broke may be replaced once back in service
        # (self-healing returns it, its health checks fail): that is AWS repairing it.
        replaced = [i for i in self.replaced_unhealthy if i not in self.broken_on_purpose]
        if replaced:
            found.append(
                "the group replaced instance(s) unhealthy past the grace period: "
                f"{', '.join(replaced)}"
            )
        if self.never_served:
            found.append(f"not serving at the end: {', '.join(self.never_served)}")
        if self.kill_requested and not self.killed:
            found.append(f"no hook ever logged step {self.kill_requested}: nothing was killed")
        if self.traffic is not None:
            found += [f"traffic: {r}" for r in self.traffic.reasons]
        if self.blue_green is not None:
            found += [f"blue-green: {r}" for r in self.blue_green.reasons]
        return found

    def injected(self, failure: str) -> bool:
        """A failure the scenario asked for (or, in overlap, the hooks' floor refusing)."""
        if "(injected fault)" in failure or " killed: " in failure:
            return True
        return self.scenario == "overlap" and " exited 4: " in failure

    @property
    def ok(self) -> bool:
        return not self.reasons

    @property
    def inconclusive(self) -> bool:
        """A broken promise that a starved hook explains: the verdict is about the host.
        Never when the hooks' own writes terminated an instance or the floor was broken:
        a killed hook cannot cause either."""
        if self.ok or not self.starved:
            return False
        return not self.terminated_by_restore and self.lowest_in_service >= self.floor

    @property
    def fix(self) -> str:
        return (
            f"rehearse again with a lower --time-scale (e.g. --time-scale "
            f"{max(1.0, self.time_scale / 2):g}), fewer --instances, or on a less busy machine"
        )

    @property
    def cause(self) -> str:
        shown = "; ".join(s.describe() for s in self.starved[:3])
        more = f" (and {len(self.starved) - 3} more)" if len(self.starved) > 3 else ""
        return f"this machine could not keep up at time scale {self.time_scale:g}: {shown}{more}"

    @property
    def word(self) -> str:
        return "PASS" if self.ok else "INCONCLUSIVE" if self.inconclusive else "FAIL"

    def to_json(self) -> dict[str, Any]:
        instances = [i for i in self.calls_per_instance]
        calls = sum(self.calls_per_instance.values())
        return {
            "stack": self.stack,
            "scenario": self.scenario,
            "verdict": self.word,
            "reasons": self.reasons,
            "promisedFloor": self.floor,
            "lowestInService": self.lowest_in_service,
            "lowestInServiceAtSeconds": round(self.lowest_at, 2),
            "capacityBefore": self.capacity_before.to_json(),
            "capacityAfter": self.capacity_after.to_json(),
            "expectedCapacityAfter": self.expected_after.to_json(),
            "instancesBefore": self.instances_before,
            "instancesAfter": self.instances_after,
            "terminatedByRestore": self.terminated_by_restore,
            "leftInStandby": self.left_in_standby,
            "replacedUnhealthy": self.replaced_unhealthy,
            "deployments": [d.to_json() for d in self.deployments],
            "changes": [
                {"actor": c.actor, "description": c.description, "refused": c.refused}
                for c in self.changes
            ],
            "outOfService": [o.to_json() for o in self.out_of_service],
            "apiCallsPerInstance": round(calls / len(instances), 1) if instances else 0,
            # The Auto Scaling and ELB calls (the throttled APIs), per instance, and every
            # family's total: the budget of 15 per instance is about the first.
            "apiCallsPerInstanceAutoScalingElb": self.throttled_family_calls_per_instance,
            "apiCallsByFamily": {
                fam: self.calls_by_family.get(fam, 0)
                for fam in ("autoscaling", "elb", "ec2", "other")
            },
            "throttledCallsByFamily": {
                fam: self.throttled_by_family.get(fam, 0)
                for fam in ("autoscaling", "elb", "ec2", "other")
            },
            "apiCalls": self.calls_per_instance,
            "throttledCalls": self.throttled,
            "refusedCalls": self.refused,
            "peakTagsOnGroup": self.peak_group_tags,
            "stackTagsOnGroup": self.stack_group_tags,
            "peakTagsOnInstance": self.peak_instance_tags,
            "hookRuns": self.hook_runs,
            "killed": self.killed,
            "leftoverProcessesEnded": self.leftover_processes,
            "timeScale": self.time_scale,
            "timeScaleReason": self.time_scale_reason,
            "starvedHooks": [h.to_json() for h in self.starved],
            "inconclusive": {"cause": self.cause, "fix": self.fix} if self.inconclusive else None,
            "wallSeconds": round(self.seconds, 2),
            **({"traffic": self.traffic.to_json()} if self.traffic is not None else {}),
            **({"blueGreen": self.blue_green.to_json()} if self.blue_green is not None else {}),
        }

    @property
    def throttled_family_calls_per_instance(self) -> float:
        """Auto Scaling + Elastic Load Balancing calls per instance (the hooks' runs)."""
        n = len(self.calls_per_instance)
        calls = self.calls_by_family.get("autoscaling", 0) + self.calls_by_family.get("elb", 0)
        return round(calls / n, 1) if n else 0

    def aws_time(self, real_seconds: float) -> str:
        """Real seconds as the AWS time they stand for at this rehearsal's time scale."""
        return aws_time(real_seconds, self.time_scale)

    def out_of_service_lines(self) -> list[str]:
        """The longest time an instance was out of service, in real seconds and AWS time, and
        what the bound beside it is: a goal, not a PASS criterion (the text and the chart)."""
        if not self.out_of_service:
            return []
        longest = max(self.out_of_service, key=lambda o: o.seconds)
        worst = max(self.out_of_service, key=lambda o: o.seconds - o.bound)
        missed = [o for o in self.out_of_service if not o.within_goal]
        goal = (
            "met"
            if not missed
            else f"missed by {len(missed)} instance(s), worst {worst.seconds - worst.bound:.1f} s"
        )
        return [
            f"out of service      longest {longest.seconds:.1f} s real = "
            f"{self.aws_time(longest.seconds)} AWS time, per instance (time scale "
            f"{self.time_scale:g}: 1 real s = {self.time_scale:g} AWS s)",
            f"  expected at least {worst.bound:.1f} s real = {self.aws_time(worst.bound)} AWS: "
            "deregistration delay + install + healthyThreshold x interval, what any in-place "
            "deployment takes",
            f"  goal (not a PASS criterion): at most 1 s + 10 % over it, from the hooks: {goal}",
        ]

    def render(self) -> str:
        lines = [f"Rehearsal of {self.stack}, scenario {self.scenario}: {self.word}"]
        lines.append(
            f"  lowest in service   {self.lowest_in_service} (at {self.lowest_at:.1f} s; "
            f"promised floor {self.floor})"
        )
        lines.append(
            f"  Min/Desired/Max     {self.capacity_before} before, {self.capacity_after} after "
            f"(expected {self.expected_after})"
        )
        lines.append(
            f"  instances           {self.instances_before} before, {self.instances_after} after"
        )
        for change in self.changes:
            lines.append(f"  {change.description}")
        for d in self.deployments:
            if d.kind == "launch":
                continue
            of = f" of {d.rollback_of}" if d.rollback_of else ""
            expected = " (as injected)" if d.deployment_id in self.expected_failures else ""
            lines.append(
                f"  deployment {d.deployment_id:<5}  {d.kind}{of} {d.revision} "
                f"({d.group}): {d.status}{expected}, {len(d.instances)} instances"
            )
        launches = [d for d in self.deployments if d.kind == "launch"]
        if launches:
            lines.append(f"  launch deployments  {len(launches)} (instances launched meanwhile)")
        lines += [f"  {line}" for line in self.out_of_service_lines()]
        per = sum(self.calls_per_instance.values()) / max(1, len(self.calls_per_instance))
        lines.append(
            f"  AWS calls           {per:.1f} per instance "
            f"({self.throttled_family_calls_per_instance:g} Auto Scaling/ELB), "
            f"{self.throttled} throttled; peak "
            f"tags on the group {self.peak_group_tags} (stack's own {self.stack_group_tags})"
        )
        if self.killed:
            lines.append(f"  killed              {', '.join(self.killed)}")
        if self.traffic is not None:
            lines += self.traffic.render()
        if self.blue_green is not None:
            lines += self.blue_green.render()
        lines.append(
            f"  {self.hook_runs} hook runs, {len(self.samples)} samples, {self.seconds:.1f} s "
            f"wall (time scale {self.time_scale:g})"
        )
        lines += [f"  reason: {r}" for r in self.reasons]
        if self.inconclusive:
            lines.append(f"  inconclusive: {self.cause}")
            lines.append(f"  fix: {self.fix}")
        return "\n".join(lines)
