"""Interleaving explorer: run 2-3 hook runs (and operator actions) on threads against the moto
server, pause every one of them at each AWS call (botocore's public `before-call` event) and let
a seeded random scheduler choose which run's call goes next. Exactly one run moves at a time, so
a schedule is a total order of AWS calls and is reproduced by its seed.

The rules real AWS enforces and moto does not are applied in the same handlers, while the chosen
run holds the turn: EnterStandby refused when Desired - n < MinSize, ExitStandby refused when
Desired + n > MaxSize, tag limits (50 per resource, 25 per Auto Scaling call, keys <= 128 and
values <= 256 characters), UpdateAutoScalingGroup without DesiredCapacity moving Desired to a
new MinSize above it (or a new MaxSize below it), and Standby as AWS does it (EnterStandby only
from InService and ExitStandby only from Standby; the group's own target group deregisters an
instance entering Standby and registers one leaving it).

After each schedule the invariants are checked: the final capacity is one that a serial order of
the same runs gives, the group runs exactly Desired instances (none extra launched, none lost),
no hook state is left on the group or its instances, nothing is left in Standby.

Used by tests/hooks/test_interleavings.py (a few fixed seeds) and bench/bench_hooks.py (>= 500).
"""

from __future__ import annotations

import dataclasses
import random
import threading
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import boto3
import botocore.loaders
import botocore.session

from hooks import shutdown
from hooks.errors import EXIT_REFUSED, HookError
from hooks.runbook import run_hook
from hooks.settings import from_environment

from .aws_rules import enforce_aws_rules, enforce_standby_membership

REGION = "us-east-1"
AMI = "ami-12c6146b"
HOOK_TAG_PREFIX = "cutover:"
OWN_TAGS = ("cutover:allow-downtime",)
STEP_TIMEOUT = 60.0  # seconds a schedule may wait for a run to reach its next call

_LOADER = botocore.loaders.create_loader()


def session() -> boto3.Session:
    core = botocore.session.get_session()
    core.register_component("data_loader", _LOADER)
    return boto3.Session(botocore_session=core)


class RandomPolicy:
    """Seeded random choice, with a per-seed tendency to let the last run go on: from switching
    at every call to long bursts, so one run can get far (e.g. through its whole register)
    while another sits between two of its calls."""

    def __init__(self, seed: int) -> None:
        self.rng = random.Random(seed)
        self.switch = self.rng.choice((1.0, 0.5, 0.2, 0.05))
        self.last: str | None = None

    def choose(self, waiting: dict[str, str]) -> str:
        if self.last in waiting and self.rng.random() > self.switch:
            return self.last
        self.last = self.rng.choice(sorted(waiting))
        return self.last


@dataclass(frozen=True)
class Until:
    """Script step: run `actor` until it is about to make its `nth` call of `operation` in this
    step (or has made `limit` calls: a run that waits on another cannot get there)."""

    actor: str
    operation: str
    nth: int = 1
    limit: int = 60


class ScriptPolicy:
    """A schedule written down: the steps in order, then every run to its end in name order."""

    def __init__(self, steps: list[Until]) -> None:
        self.steps = list(steps)
        self.seen = 0
        self.granted = 0

    def choose(self, waiting: dict[str, str]) -> str:
        while self.steps:
            step = self.steps[0]
            pending = waiting.get(step.actor)
            if pending is None or self.granted >= step.limit:
                self._next()
                continue
            if pending == step.operation:
                if self.seen + 1 == step.nth:
                    self._next()
                    continue
                self.seen += 1
            self.granted += 1
            return step.actor
        return sorted(waiting)[0]

    def _next(self) -> None:
        self.steps.pop(0)
        self.seen = self.granted = 0


class Scheduler:
    """Lets one actor at a time make its next AWS call, as the policy chooses."""

    def __init__(self, policy: RandomPolicy | ScriptPolicy) -> None:
        self.policy = policy
        self.cond = threading.Condition()
        self.waiting: dict[str, str] = {}
        self.busy: set[str] = set()
        self.turn: str | None = None
        self.trace: list[str] = []

    def pause(self, name: str, operation: str) -> None:
        with self.cond:
            self.busy.discard(name)
            self.waiting[name] = operation
            self.cond.notify_all()
            while self.turn != name:
                self.cond.wait()
            self.turn = None
            self.trace.append(f"{name}:{operation}")

    def finished(self, name: str) -> None:
        with self.cond:
            self.busy.discard(name)
            self.cond.notify_all()

    def expect(self, names: list[str]) -> None:
        """Called before the actors' threads start: they are busy until they first call."""
        with self.cond:
            self.busy = set(names)

    def drive(self) -> None:
        """Run until every actor has finished; raise if one neither calls nor finishes."""
        with self.cond:
            while True:
                if not self.cond.wait_for(lambda: not self.busy, STEP_TIMEOUT):
                    raise TimeoutError(f"actors {sorted(self.busy)} made no call for a minute")
                if not self.waiting:
                    return
                pick = self.policy.choose(dict(self.waiting))
                del self.waiting[pick]
                self.busy.add(pick)
                self.turn = pick
                self.cond.notify_all()


@dataclass
class World:
    """One group behind one target group, in its own VPC, and an admin's view of it."""

    asg: str
    target_group_arn: str
    instance_ids: list[str]
    admin: boto3.Session = field(default_factory=session)

    def __post_init__(self) -> None:
        self.autoscaling = self.admin.client("autoscaling", region_name=REGION)
        self.ec2 = self.admin.client("ec2", region_name=REGION)

    def group(self) -> dict[str, Any]:
        return self.autoscaling.describe_auto_scaling_groups(AutoScalingGroupNames=[self.asg])[
            "AutoScalingGroups"
        ][0]

    def capacity(self) -> tuple[int, int, int]:
        g = self.group()
        return g["MinSize"], g["MaxSize"], g["DesiredCapacity"]


def build_world(min_size: int, max_size: int, desired: int, allow_downtime: bool = False) -> World:
    s = session()
    ec2 = s.client("ec2", region_name=REGION)
    suffix = uuid.uuid4().hex[:8]
    vpc = ec2.create_vpc(CidrBlock="10.0.0.0/16")["Vpc"]["VpcId"]
    subnet = ec2.create_subnet(VpcId=vpc, CidrBlock="10.0.0.0/24", AvailabilityZone=f"{REGION}a")
    tg = s.client("elbv2", region_name=REGION).create_target_group(
        Name=f"tg-{suffix}", Protocol="HTTP", Port=80, VpcId=vpc, TargetType="instance"
    )["TargetGroups"][0]["TargetGroupArn"]
    ec2.create_launch_template(
        LaunchTemplateName=f"lt-{suffix}",
        LaunchTemplateData={"ImageId": AMI, "InstanceType": "t3.micro"},
    )
    autoscaling = s.client("autoscaling", region_name=REGION)
    tags = [{"Key": "cutover:allow-downtime", "Value": "true"}] if allow_downtime else []
    autoscaling.create_auto_scaling_group(
        AutoScalingGroupName=f"asg-{suffix}",
        LaunchTemplate={"LaunchTemplateName": f"lt-{suffix}", "Version": "$Latest"},
        MinSize=min_size,
        MaxSize=max_size,
        DesiredCapacity=desired,
        VPCZoneIdentifier=subnet["Subnet"]["SubnetId"],
        TargetGroupARNs=[tg],
        Tags=tags,
    )
    world = World(f"asg-{suffix}", tg, [])
    world.instance_ids = sorted(i["InstanceId"] for i in world.group()["Instances"])
    return world


# Actors ---------------------------------------------------------------------------------------


@dataclass
class Outcome:
    refused: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)


def hook_actor(
    commands: list[tuple[str, str]], deployment: str, outcome: Outcome, **options: Any
) -> Callable[[boto3.Session], None]:
    """A sequence of (command, instance) runs as one CodeDeploy deployment would make them on
    one instance: a refused deregister ends that instance's deployment."""

    def act(s: boto3.Session) -> None:
        for command, instance_id in commands:
            settings = from_environment(command, instance_id=instance_id, region=REGION, **options)
            # One call at a time per run: the scheduler pauses each run at each call
            # (CUTOVER_PARALLEL off: side-by-side calls one after the other, as listed).
            settings = dataclasses.replace(
                settings, deployment_id=deployment, poll_interval=0.0, parallel=False
            )
            try:
                run_hook(settings, session=s)
            except HookError as error:
                if error.exit_code == EXIT_REFUSED and command == "deregister":
                    outcome.refused.append(f"{instance_id}: {error}")
                    return
                outcome.errors.append(f"{command} {instance_id}: {error}")
                return

    return act


def operator_actor(call: Callable[[Any], None]) -> Callable[[boto3.Session], None]:
    def act(s: boto3.Session) -> None:
        call(s.client("autoscaling", region_name=REGION))

    return act


@dataclass
class Scenario:
    """A group, the actors to interleave, and the capacities a serial order can end at."""

    name: str
    capacity: tuple[int, int, int]
    actors: Callable[[World, Outcome], dict[str, Callable[[boto3.Session], None]]]
    allowed: Callable[[World], set[tuple[int, int, int]]]
    allow_downtime: bool = False
    # Runs alone after the actors, before the check (e.g. an operator's reconcile).
    then: Callable[[World], None] | None = None


def _cycles(instances: list[str], deployments: list[str], outcome: Outcome) -> dict:
    return {
        f"hook-{i}": hook_actor([("deregister", iid), ("register", iid)], dep, outcome)
        for i, (iid, dep) in enumerate(zip(instances, deployments, strict=True))
    }


def _exact(world: World, capacity: tuple[int, int, int]) -> set[tuple[int, int, int]]:
    return {capacity}


def scenarios() -> list[Scenario]:
    d1, d2 = "d-EXPLORE01", "d-EXPLORE02"

    def operator_scale_out(world: World, outcome: Outcome) -> dict:
        actors = _cycles(world.instance_ids[:2], [d1, d1], outcome)

        def scale(client: Any) -> None:
            client.update_auto_scaling_group(
                AutoScalingGroupName=world.asg, MaxSize=10, DesiredCapacity=8
            )

        actors["operator"] = operator_actor(scale)
        return actors

    def operator_min(world: World, outcome: Outcome) -> dict:
        actors = _cycles(world.instance_ids[:2], [d1, d1], outcome)

        def raise_min(client: Any) -> None:
            client.update_auto_scaling_group(AutoScalingGroupName=world.asg, MinSize=3, MaxSize=8)

        actors["operator"] = operator_actor(raise_min)
        return actors

    def policy_scale_out(world: World, outcome: Outcome) -> dict:
        actors = _cycles(world.instance_ids[:2], [d1, d1], outcome)

        # A simple scaling policy: AWS applies "+1" to the Desired of that moment, atomically.
        world.autoscaling.put_scaling_policy(
            AutoScalingGroupName=world.asg,
            PolicyName="cpu-high",
            PolicyType="SimpleScaling",
            AdjustmentType="ChangeInCapacity",
            ScalingAdjustment=1,
        )

        def scale(client: Any) -> None:
            client.execute_policy(AutoScalingGroupName=world.asg, PolicyName="cpu-high")

        actors["policy"] = operator_actor(scale)
        return actors

    def terminated_in_standby(world: World, outcome: Outcome) -> dict:
        lost, other = world.instance_ids[:2]
        deregister = hook_actor([("deregister", lost)], d1, outcome)

        def lose(s: boto3.Session) -> None:
            deregister(s)
            # Someone else terminates it in Standby: the group drops it, no replacement.
            s.client("ec2", region_name=REGION).terminate_instances(InstanceIds=[lost])

        return {
            "lost": lose,
            "hook-1": hook_actor([("deregister", other), ("register", other)], d1, outcome),
        }

    def settled_on_shutdown(world: World, outcome: Outcome) -> dict:
        lost, other = world.instance_ids[:2]
        deregister = hook_actor([("deregister", lost)], d1, outcome)

        def lose(s: boto3.Session) -> None:
            deregister(s)
            s.client("ec2", region_name=REGION).terminate_instances(InstanceIds=[lost])
            # The shutdown's SIGTERM reaches the instance's watchdog: it settles.
            settings = from_environment("heal", instance_id=lost, region=REGION)
            try:
                shutdown.settle(
                    dataclasses.replace(settings, poll_interval=0.0, parallel=False), session=s
                )
            except HookError as error:
                outcome.errors.append(f"settle {lost}: {error}")

        return {
            "lost": lose,
            "hook-1": hook_actor([("deregister", other), ("register", other)], d2, outcome),
        }

    def reconcile(world: World) -> None:
        # If the other instance's register finished before the termination, nobody was left
        # to give the decrement back: the operator's reconcile does. Run after a give-back, it
        # must change nothing (once per instance).
        s = session()
        enforce_aws_rules(s.events, world, [])
        enforce_standby_membership(s.events)
        settings = from_environment("reconcile", asg=world.asg, region=REGION, force=True)
        run_hook(dataclasses.replace(settings, poll_interval=0.0, parallel=False), session=s)

    return [
        Scenario(
            "two instances",
            (3, 6, 3),
            lambda w, o: _cycles(w.instance_ids[:2], [d1, d1], o),
            lambda w: {(3, 6, 3)},
        ),
        Scenario(
            "three instances, HalfAtATime batch",
            (4, 8, 6),
            lambda w, o: _cycles(w.instance_ids[:3], [d1, d1, d1], o),
            lambda w: {(4, 8, 6)},
        ),
        Scenario(
            "a deployment starting while another finishes",
            (3, 6, 3),
            lambda w, o: {
                "first": hook_actor(
                    [("deregister", w.instance_ids[0]), ("register", w.instance_ids[0])], d1, o
                ),
                "second": hook_actor(
                    [("deregister", w.instance_ids[1]), ("register", w.instance_ids[1])], d2, o
                ),
            },
            lambda w: {(3, 6, 3)},
        ),
        Scenario(
            "overlapping deployment groups",
            (2, 4, 3),
            lambda w, o: _cycles(w.instance_ids[:2], [d1, d2], o),
            lambda w: {(2, 4, 3)},
        ),
        Scenario(
            "whole small group with downtime allowed",
            (2, 2, 2),
            lambda w, o: _cycles(w.instance_ids[:2], [d1, d1], o),
            lambda w: {(2, 2, 2)},
            allow_downtime=True,
        ),
        Scenario(
            "operator emergency scale-out mid-run",
            (2, 6, 3),
            operator_scale_out,
            # Instances in Standby when the operator sets Desired 8 come back on top of it.
            lambda w: {(2, max(10, 8 + k), 8 + k) for k in range(3)},
        ),
        Scenario(
            "operator raises Min and Max mid-run",
            (2, 6, 3),
            operator_min,
            # A MinSize of 3 above a Desired lowered by k instances in Standby raises Desired to
            # 3; those k come back on top of it.
            lambda w: {(3, 8, 3 + k) for k in range(3)},
        ),
        Scenario(
            "scale-out policy mid-run",
            (2, 6, 3),
            policy_scale_out,
            lambda w: {(2, 6, 4)},
        ),
        Scenario(
            "an instance terminated in Standby while another deploys",
            (2, 6, 3),
            terminated_in_standby,
            # The hooks give back their EnterStandby decrement, exactly once: the group
            # launches a replacement.
            lambda w: {(2, 6, 3)},
            then=reconcile,
        ),
        Scenario(
            "an instance terminated in Standby settles on shutdown while another deploys",
            (2, 6, 3),
            settled_on_shutdown,
            # Its watchdog or the other instance's register gives the decrement back, exactly
            # once, with no reconcile after them.
            lambda w: {(2, 6, 3)},
        ),
    ]


# One schedule ---------------------------------------------------------------------------------


@dataclass
class Result:
    scenario: str
    seed: int
    violations: list[str]
    trace: list[str]

    def __str__(self) -> str:
        head = f"{self.scenario} seed={self.seed}"
        if not self.violations:
            return f"{head}: ok"
        return f"{head}: " + "; ".join(self.violations) + "\n  trace: " + " ".join(self.trace)


def hook_state(world: World) -> list[str]:
    """Every tag the hooks own, on the group and on its instances (past and present)."""
    left = [
        f"group tag {t['Key']}"
        for t in world.group().get("Tags", [])
        if t["Key"].startswith(HOOK_TAG_PREFIX) and t["Key"] not in OWN_TAGS
    ]
    pages = world.ec2.get_paginator("describe_instances").paginate(
        Filters=[{"Name": "instance-id", "Values": world.instance_ids + live_ids(world)}]
    )
    for page in pages:
        for reservation in page["Reservations"]:
            for instance in reservation["Instances"]:
                for tag in instance.get("Tags", []):
                    if tag["Key"].startswith(HOOK_TAG_PREFIX):
                        left.append(f"{instance['InstanceId']} tag {tag['Key']}")
    return left


def live_ids(world: World) -> list[str]:
    return [i["InstanceId"] for i in world.group()["Instances"]]


def explore(scenario: Scenario, seed: int, script: list[Until] | None = None) -> Result:
    """Run one schedule of `scenario` (chosen by `seed`, or written as `script`) and check the
    invariants."""
    min_size, max_size, desired = scenario.capacity
    world = build_world(min_size, max_size, desired, scenario.allow_downtime)
    outcome, refusals = Outcome(), []
    scheduler = Scheduler(ScriptPolicy(script) if script is not None else RandomPolicy(seed))
    actors = scenario.actors(world, outcome)
    threads = []
    for name, act in actors.items():
        s = session()
        enforce_aws_rules(s.events, world, refusals)
        enforce_standby_membership(s.events)

        def pause(model: Any, _name: str = name, **_: Any) -> None:
            scheduler.pause(_name, model.name)

        s.events.register_first("before-call", pause)

        def body(_act=act, _s=s, _name=name) -> None:
            try:
                _act(_s)
            except BaseException as error:  # reported as a violation below
                outcome.errors.append(f"{_name}: {type(error).__name__}: {error}")
            finally:
                scheduler.finished(_name)

        threads.append(threading.Thread(target=body, name=name, daemon=True))
    violations: list[str] = []
    scheduler.expect(list(actors))
    for t in threads:
        t.start()
    try:
        scheduler.drive()
    except TimeoutError as error:
        violations.append(str(error))
    for t in threads:
        t.join(STEP_TIMEOUT)
    if scenario.then is not None and not violations:
        try:
            scenario.then(world)
        except HookError as error:
            violations.append(f"then: {error}")
    violations += outcome.errors
    violations += check(world, scenario)
    return Result(scenario.name, seed, violations, scheduler.trace)


def check(world: World, scenario: Scenario) -> list[str]:
    found: list[str] = []
    group = world.group()
    capacity = (group["MinSize"], group["MaxSize"], group["DesiredCapacity"])
    allowed = scenario.allowed(world)
    if capacity not in allowed:
        found.append(f"capacity {capacity} is no serial order's {sorted(allowed)}")
    states = {i["InstanceId"]: i["LifecycleState"] for i in group["Instances"]}
    in_service = [i for i, s in states.items() if s == "InService"]
    if len(in_service) != group["DesiredCapacity"]:
        found.append(
            f"{len(in_service)} instances in service for Desired {group['DesiredCapacity']}"
        )
    stuck = sorted(i for i, s in states.items() if s != "InService")
    if stuck:
        found.append(f"not in service: {', '.join(f'{i} {states[i]}' for i in stuck)}")
    left = hook_state(world)
    if left:
        found.append("state left: " + ", ".join(left))
    return found


def run_many(seeds: range, only: str | None = None) -> list[Result]:
    results = []
    for scenario in scenarios():
        if only and only not in scenario.name:
            continue
        for seed in seeds:
            results.append(explore(scenario, seed))
    return results
