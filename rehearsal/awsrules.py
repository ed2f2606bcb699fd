"""The AWS rules moto lacks, applied to each API call on its way from a hook to moto.

`Rules.before(call)` answers a call itself (an AWS error, throttling, or an answer about load
balancer targets, which `World` owns) or lets it through, possibly amended (UpdateAutoScalingGroup
moves DesiredCapacity as AWS does). `Rules.after(call, reply)` tells the world what a successful
call changed (Standby deregisters, ExitStandby registers) and shows instances held by CodeDeploy's
launch hook as `Pending:Wait`."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

from awsfacts import limits
from rehearsal import wire
from rehearsal.ec2view import InstanceView
from rehearsal.starvation import EmulatorStats
from rehearsal.throttling import RATES, TokenBucket
from rehearsal.wire import Call, Reply
from rehearsal.world import World

TARGET_ACTIONS = {
    "DescribeTargetHealth",
    "RegisterTargets",
    "DeregisterTargets",
    "DescribeInstanceHealth",
    "RegisterInstancesWithLoadBalancer",
    "DeregisterInstancesFromLoadBalancer",
}
HOOK_CALLER = "rehearsal-i-"  # the access key ids the agent gives the hooks
GROUP_WRITES = {
    "EnterStandby",
    "ExitStandby",
    "UpdateAutoScalingGroup",
    "SetDesiredCapacity",
    "CreateOrUpdateTags",
    "DeleteTags",
}


CACHED_READS = {
    ("autoscaling", "DescribeAutoScalingGroups"),
    ("autoscaling", "DescribeAutoScalingInstances"),
    ("autoscaling", "DescribeTags"),
    ("ec2", "DescribeInstances"),
    ("ec2", "DescribeTags"),
    # What the hooks read of their load balancers; only an ELB write changes it.
    ("elasticloadbalancing", "DescribeTargetGroups"),
    ("elasticloadbalancing", "DescribeTargetGroupAttributes"),
    ("elasticloadbalancing", "DescribeLoadBalancers"),
    ("elasticloadbalancing", "DescribeLoadBalancerAttributes"),
}
# What EnterStandby and ExitStandby change in moto's answers: the instances' LifecycleState and
# the group's DesiredCapacity (neither launches nor terminates; the world's poll sees it if so).
STANDBY_PATCHED = {"DescribeAutoScalingGroups", "DescribeAutoScalingInstances"}
STANDBY_PATCHED_BY = {"EnterStandby", "ExitStandby"}


# The API families the verdict counts apart: Auto Scaling and Elastic Load Balancing are the
# ones AWS throttles per account without publishing the rate (see RATES).
FAMILIES = {"autoscaling": "autoscaling", "elasticloadbalancing": "elb", "ec2": "ec2"}


def family(service: str) -> str:
    """autoscaling | elb | ec2 | other, from a call's signing name."""
    return FAMILIES.get(service, "other")


class ReadCache:
    """moto's answers to the reads the hooks repeat most, until a write changes them.

    moto changes only when a write reaches it (through the proxy, or the world's own), and
    every write clears its service's answers (EnterStandby and ExitStandby patch theirs: the
    group's answer at a hundred instances costs moto 36 ms to render asked alone (load 8), and
    each instance goes through Standby and back); a read that raced a write is not stored
    (generation check). With a hundred instances polling, moto would otherwise spend its time
    re-describing the group."""

    def __init__(self) -> None:
        self._answers: dict[tuple, bytes] = {}
        self._generation = 0
        self._lock = threading.Lock()

    @staticmethod
    def key(call: Call) -> tuple:
        return (call.service, call.action, tuple(sorted(call.params)))

    def get(self, call: Call) -> tuple[bytes | None, int]:
        with self._lock:
            return self._answers.get(self.key(call)), self._generation

    def put(self, call: Call, generation: int, body: bytes) -> None:
        with self._lock:
            if generation == self._generation:
                self._answers[self.key(call)] = body

    def clear(self, service: str | None = None) -> None:
        """Forget every answer (or only `service`'s: a write that changes nothing else)."""
        with self._lock:
            if service is None:
                self._answers.clear()
            else:
                self._answers = {k: v for k, v in self._answers.items() if k[0] != service}
            self._generation += 1

    def patch(self, service: str, change: Callable[[str, bytes], bytes | None]) -> None:
        """Rewrite `service`'s answers as a write changed them: change(action, body) gives the
        new body, or None to forget it."""
        with self._lock:
            kept = {}
            for key, body in self._answers.items():
                changed = change(key[1], body) if key[0] == service else body
                if changed is not None:
                    kept[key] = changed
            self._answers = kept
            self._generation += 1


class Rules:
    def __init__(self, world: World, ec2: Any) -> None:
        self.world = world
        self.ec2 = ec2  # straight to moto, for tag counts
        self.buckets = {key: TokenBucket(rate, world.clock.now()) for key, rate in RATES.items()}
        # AWS applies one group change after another: check and write as one step.
        self.group_lock = world.write_lock
        self.cache = ReadCache()
        # DescribeInstances from moto's last description of each instance (ec2view.py).
        self.instances = InstanceView()
        world.on_change = self.forget
        # Rules for APIs spoken otherwise than the query protocol (Route 53's REST, CloudWatch's
        # CBOR), tried first: each `handles(method, path, headers, body)` and
        # `relay(method, path, headers, body, forward)`. The shift scenarios add theirs.
        self.apis: list[Any] = []
        # Real seconds each caller's calls spend in here (rehearsal/starvation.py); set by the
        # run.
        self.call_times: Any = None
        # Real seconds added to every query-protocol call (a slower emulator, a region's
        # latency).
        self.call_delay = 0.0
        # Per action: calls, real seconds in the proxy and in moto (bench/bench_rehearse.py).
        self.stats = EmulatorStats()

    def forget(self) -> None:
        """moto changed otherwise than through a call the proxy saw (the world's own writes)."""
        self.cache.clear()
        self.instances.forget()

    # -- before moto ------------------------------------------------------------------------
    def before(self, call: Call) -> tuple[Reply | None, bytes | None]:
        """(an answer, None) or (None, the body to forward, changed or not)."""
        counters = self.world.counters
        counters.calls[call.caller] += 1
        counters.by_family[call.caller, family(call.service)] += 1
        bucket = self.buckets.get((call.service, call.mutating))
        if bucket is not None and not bucket.take(self.world.clock.now()):
            counters.throttled[call.caller] += 1
            counters.throttled_by_family[call.caller, family(call.service)] += 1
            if call.service == "ec2":
                return wire.error(
                    call, "RequestLimitExceeded", "Request limit exceeded.", 503
                ), None
            return wire.error(call, "Throttling", "Rate exceeded"), None
        if call.service == "elasticloadbalancing" and call.action in TARGET_ACTIONS:
            return self._targets(call), None
        if call.service == "autoscaling" and call.action in GROUP_WRITES:
            return self._group_write(call)
        if call.service == "ec2" and call.action in ("CreateTags", "DeleteTags"):
            return self._ec2_tags(call), None
        return None, None

    def refuse(self, call: Call, code: str, message: str) -> tuple[Reply, None]:
        self.world.counters.refused[f"{call.action}: {code}"] += 1
        return wire.error(call, code, message), None

    def _group(self) -> dict[str, Any]:
        # Exact: every change to the group goes through here (under group_lock) or through the
        # world's own writes, and each is followed by a refresh.
        return self.world.group or self.world.refresh()

    def _group_write(self, call: Call) -> tuple[Reply | None, bytes | None]:
        group = self._group()
        call.instances_before = frozenset(i["InstanceId"] for i in group["Instances"])
        name = group["AutoScalingGroupName"]
        low, high, desired = group["MinSize"], group["MaxSize"], group["DesiredCapacity"]
        if call.action in ("EnterStandby", "ExitStandby"):
            ids = call.members("InstanceIds.member")
            if len(ids) > limits.STANDBY_IDS_PER_CALL:
                return self.refuse(
                    call,
                    "ValidationError",
                    f"The number of instance ids that may be passed in is limited to "
                    f"{limits.STANDBY_IDS_PER_CALL}.",
                )
            states = self.world.presented_lifecycle()
            wanted = "InService" if call.action == "EnterStandby" else "Standby"
            for iid in ids:
                if states.get(iid) != wanted:
                    return self.refuse(
                        call,
                        "ValidationError",
                        f"The instance {iid} is not in {wanted}.",
                    )
            n = len(ids)
            if call.action == "EnterStandby":
                decrement = call.get("ShouldDecrementDesiredCapacity", "false") == "true"
                if decrement and desired - n < low:
                    return self.refuse(
                        call,
                        "ValidationError",
                        f"AutoScalingGroup {name} has min-size={low}, max-size={high}, and "
                        f"desired-capacity={desired}. To place into standby {n} instances, "
                        "please update the AutoScalingGroup sizes appropriately.",
                    )
            elif desired + n > high:
                return self.refuse(
                    call,
                    "ValidationError",
                    f"AutoScalingGroup {name} has min-size={low}, max-size={high}, and "
                    f"desired-capacity={desired}. To exit standby {n} instances, please "
                    "update the AutoScalingGroup sizes appropriately.",
                )
            return None, None
        if call.action == "UpdateAutoScalingGroup":
            new_low = int(call.get("MinSize") or low)
            new_high = int(call.get("MaxSize") or high)
            if new_low > new_high:
                return self.refuse(
                    call,
                    "ValidationError",
                    f"Max bound, {new_high}, must be greater than or equal to min bound, {new_low}",
                )
            given = call.get("DesiredCapacity")
            if given is not None:
                if not new_low <= int(given) <= new_high:
                    return self.refuse(
                        call,
                        "ValidationError",
                        f"Desired capacity:{given} must be between the specified min size:"
                        f"{new_low} and max size:{new_high}",
                    )
                return None, None
            moved = min(max(desired, new_low), new_high)
            if moved != desired:
                # AWS: a MinSize above (MaxSize below) the current size moves DesiredCapacity.
                return None, call.with_param("DesiredCapacity", str(moved))
            return None, None
        if call.action == "SetDesiredCapacity":
            value = int(call.get("DesiredCapacity") or desired)
            if value < low:
                return self.refuse(
                    call,
                    "ValidationError",
                    f"New SetDesiredCapacity value {value} is below min value {low} for the "
                    "AutoScalingGroup.",
                )
            if value > high:
                return self.refuse(
                    call,
                    "ValidationError",
                    f"New SetDesiredCapacity value {value} is above max value {high} for the "
                    "AutoScalingGroup.",
                )
            return None, None
        tags = call.structs("Tags.member")
        problem = limits.tag_problem(tags)
        if problem:
            return self.refuse(call, "ValidationError", problem)
        if call.action == "CreateOrUpdateTags":
            keys = {t["Key"] for t in group.get("Tags", [])} | {t.get("Key", "") for t in tags}
            if limits.counted(keys) > limits.TAGS_PER_RESOURCE:
                return self.refuse(
                    call,
                    "LimitExceeded",
                    f"The number of tags on {name} would be {limits.counted(keys)}: at most "
                    f"{limits.TAGS_PER_RESOURCE} tags per resource",
                )
        return None, None

    def _ec2_tags(self, call: Call) -> Reply | None:
        tags = call.structs("Tag")
        problem = limits.tag_problem(tags)
        if problem:
            self.world.counters.refused[f"{call.action}: InvalidParameterValue"] += 1
            return wire.error(call, "InvalidParameterValue", problem)
        if call.action == "DeleteTags":
            return None
        for resource in call.members("ResourceId"):
            present = self.instances.tag_keys(resource)  # an instance the view knows
            if present is None:
                found = self.ec2.describe_tags(
                    Filters=[{"Name": "resource-id", "Values": [resource]}]
                )
                present = {t["Key"] for t in found["Tags"]}
            keys = present | {t.get("Key", "") for t in tags}
            count = limits.counted(keys)
            if count > limits.TAGS_PER_RESOURCE:
                self.world.counters.refused[f"{call.action}: TagLimitExceeded"] += 1
                return wire.error(
                    call,
                    "TagLimitExceeded",
                    "The maximum number of Tags for a resource has been reached.",
                )
            counters = self.world.counters
            counters.peak_instance_tags = max(counters.peak_instance_tags, count)
        return None

    # -- load balancer targets (the world's, not moto's) -------------------------------------
    def _balancer(self, call: Call):
        key = call.get("TargetGroupArn") or call.get("LoadBalancerName") or ""
        return self.world.balancers.get(key), key

    def _targets(self, call: Call) -> Reply:
        world = self.world
        balancer, key = self._balancer(call)
        if balancer is None:
            code = "TargetGroupNotFound" if call.get("TargetGroupArn") else "LoadBalancerNotFound"
            return wire.error(call, code, f"{key} not found")
        with world.lock:
            world.advance()
            now = world.clock.now()
            if call.action == "DescribeTargetHealth":
                wanted = [t["Id"] for t in call.structs("Targets.member")]
                ids = wanted or sorted(balancer.targets)
                return wire.answer(call, _target_health(balancer, ids))
            if call.action == "DescribeInstanceHealth":
                wanted = [t["InstanceId"] for t in call.structs("Instances.member")]
                ids = wanted or sorted(balancer.targets)
                return wire.answer(call, _instance_health(balancer, ids))
            if call.action in ("RegisterTargets", "DeregisterTargets"):
                for target in call.structs("Targets.member"):
                    iid = target["Id"]
                    if call.action == "RegisterTargets":
                        port = int(target.get("Port") or balancer.port)
                        balancer.register(iid, now, port)
                    else:
                        # AWS answers 200 for a target that is not (or no longer) registered
                        # (moto refuses with InvalidTarget: kinder to nobody, just different).
                        balancer.deregister(iid, now)
                return wire.answer(call)
            ids = [t["InstanceId"] for t in call.structs("Instances.member")]
            for iid in ids:
                if call.action == "RegisterInstancesWithLoadBalancer":
                    balancer.register(iid, now)
                else:
                    balancer.deregister(iid, now)
            remaining = [
                f"<InstanceId>{wire.text(i)}</InstanceId>" for i in sorted(balancer.targets)
            ]
            return wire.answer(call, f"<Instances>{wire.members(remaining)}</Instances>")

    # -- after moto ---------------------------------------------------------------------------
    def after(self, call: Call, status: int, body: bytes) -> bytes:
        if call.mutating:
            # An instance's tags are in EC2's answers only: a hundred hooks writing their
            # entries need not make moto describe the group again.
            tags_only = call.service == "ec2" and call.action in ("CreateTags", "DeleteTags")
            standby = call.service == "autoscaling" and call.action in STANDBY_PATCHED_BY
            if standby and status == 200:
                pass  # patched below, once the world's copy of the group has followed
            elif call.service == "elasticloadbalancing" or tags_only:
                # A load balancer's write changes its own API's answers; an instance's tags
                # are in EC2's answers only. A group's may launch or terminate instances.
                self.cache.clear(call.service)
            else:
                self.cache.clear()
            if tags_only and status == 200:
                self.instances.tagged(call.action, call.members("ResourceId"), call.structs("Tag"))
            elif tags_only:
                self.instances.changed(call.members("ResourceId"))
            elif call.service == "ec2" or (
                call.service == "autoscaling" and (call.action not in GROUP_WRITES or status != 200)
            ):
                # May have launched, terminated or changed instances. A group write that
                # succeeded is judged below, by the group's instances before and after.
                self.instances.forget()
        if status != 200:
            return body
        world = self.world
        if call.service == "autoscaling" and call.action in (
            "DescribeAutoScalingGroups",
            "DescribeAutoScalingInstances",
        ):
            with world.lock:
                held = {iid: "Pending:Wait" for iid in world.pending_wait}
            return wire.set_lifecycle(body, held) if held else body
        changes_group = (call.service == "autoscaling" and call.mutating) or (
            call.service == "ec2" and call.action == "TerminateInstances"
        )
        if not changes_group:
            return body
        ids = call.members("InstanceIds.member")
        if call.action == "EnterStandby":
            world.entered_standby(ids)
        elif call.action == "ExitStandby":
            world.exited_standby(ids)
        decrementing = call.get("ShouldDecrementDesiredCapacity", "false") == "true"
        if call.action == "ExitStandby" or (call.action == "EnterStandby" and decrementing):
            group = world.standby_changed(ids, entering=call.action == "EnterStandby")
            self.cache.patch("autoscaling", _standby_patch(group, ids))
        else:
            group = world.refresh()
            if call.action in STANDBY_PATCHED_BY:
                self.cache.clear()  # EnterStandby keeping Desired: the group launches
        if call.action == "CreateOrUpdateTags":
            count = limits.counted({t["Key"] for t in group.get("Tags", [])})
            world.counters.peak_group_tags = max(world.counters.peak_group_tags, count)
        if call.action in GROUP_WRITES:
            now = {i["InstanceId"] for i in group["Instances"]}
            if now != call.instances_before:
                self.instances.forget()  # launched or terminated: EC2's answers changed
            gone = call.instances_before - now
            if gone and call.caller.startswith(HOOK_CALLER):
                # A hook's capacity write made the group terminate instances.
                world.counters.terminated_by_hooks += sorted(gone)
        return body


def _standby_patch(group: dict[str, Any], ids: list[str]) -> Callable[[str, bytes], bytes | None]:
    """moto's answers after EnterStandby (decrementing) or ExitStandby, from the world's copy of
    the group: those instances' LifecycleState and the group's DesiredCapacity, as they are now
    (absolute values: patching an answer read after the write changes nothing)."""
    states = {
        i["InstanceId"]: i["LifecycleState"] for i in group["Instances"] if i["InstanceId"] in ids
    }
    name, desired = group["AutoScalingGroupName"], group["DesiredCapacity"]

    def change(action: str, body: bytes) -> bytes | None:
        if action not in STANDBY_PATCHED:
            return body
        if action == "DescribeAutoScalingInstances" and not any(i.encode() in body for i in ids):
            return body  # another instance's answer: nothing to parse (under the group's lock)
        return wire.set_lifecycle(body, states, {name: desired})

    return change


def _target_health(balancer, ids: list[str]) -> str:
    reasons = {
        "initial": "Elb.RegistrationInProgress",
        "unhealthy": "Target.FailedHealthChecks",
        "draining": "Target.DeregistrationInProgress",
        "unused": "Target.NotRegistered",
    }
    items = []
    for iid in ids:
        state = balancer.state(iid)
        target = balancer.targets.get(iid)
        port = target.port if target else balancer.port
        reason = f"<Reason>{reasons[state]}</Reason>" if state in reasons else ""
        items.append(
            f"<Target><Id>{wire.text(iid)}</Id><Port>{port}</Port></Target>"
            f"<HealthCheckPort>{port}</HealthCheckPort>"
            f"<TargetHealth><State>{state}</State>{reason}</TargetHealth>"
        )
    return f"<TargetHealthDescriptions>{wire.members(items)}</TargetHealthDescriptions>"


def _instance_health(balancer, ids: list[str]) -> str:
    # Classic ELB words: a draining instance still reports InService until the drain ends.
    words = {
        "healthy": ("InService", "N/A", "N/A"),
        "draining": ("InService", "N/A", "Instance deregistration currently in progress."),
        "initial": ("OutOfService", "ELB", "Instance registration is still in progress."),
        "unhealthy": (
            "OutOfService",
            "Instance",
            "Instance has failed at least the "
            "UnhealthyThreshold number of health checks consecutively.",
        ),
        "unused": (
            "OutOfService",
            "Instance",
            "Instance is not currently registered with the LoadBalancer.",
        ),
    }
    items = []
    for iid in ids:
        state, reason, description = words[balancer.state(iid)]
        items.append(
            f"<InstanceId>{wire.text(iid)}</InstanceId><State>{state}</State>"
            f"<ReasonCode>{reason}</ReasonCode><Description>{description}</Description>"
        )
    return f"<InstanceStates>{wire.members(items)}</InstanceStates>"


class ColourRules:
    """The rules of a blue-green account: two groups, each with its own world and `Rules`,
    behind one proxy. A call goes to the rules of the group (or target group, or instance) it
    names; a read of both groups shows both worlds' `Pending:Wait`. One account: the throttling
    buckets, the read cache, the counters and the group-write lock are shared."""

    def __init__(self, by_colour: dict[str, Rules]) -> None:
        self.by_colour = by_colour
        first = next(iter(by_colour.values()))
        for rules in by_colour.values():
            rules.buckets, rules.cache = first.buckets, first.cache
            rules.instances, rules.stats = first.instances, first.stats  # one EC2, one proxy
            rules.world.on_change = first.forget
        self.world = first.world  # its counters are every colour's
        self.buckets, self.cache, self.group_lock = first.buckets, first.cache, first.group_lock
        self.instances, self.stats, self.forget = first.instances, first.stats, first.forget
        self.apis: list[Any] = []
        self.call_times: Any = None
        self.call_delay = 0.0

    def rules_for(self, call: Call) -> Rules:
        names = {call.get("AutoScalingGroupName")} | set(
            call.members("AutoScalingGroupNames.member")
        )
        names |= {t.get("ResourceId") for t in call.structs("Tags.member")}
        balancer = call.get("TargetGroupArn") or call.get("LoadBalancerName")
        ids = set(call.members("InstanceIds.member")) | set(call.members("InstanceId"))
        for rules in self.by_colour.values():
            world = rules.world
            with world.lock:
                mine = ids & set(world.instances)
            if world.fleet.group.name in names or balancer in world.balancers or mine:
                return rules
        return next(iter(self.by_colour.values()))

    def before(self, call: Call) -> tuple[Reply | None, bytes | None]:
        return self.rules_for(call).before(call)

    def after(self, call: Call, status: int, body: bytes) -> bytes:
        if call.service == "autoscaling" and call.action in (
            "DescribeAutoScalingGroups",
            "DescribeAutoScalingInstances",
        ):
            for rules in self.by_colour.values():
                body = rules.after(call, status, body)
            return body
        return self.rules_for(call).after(call, status, body)
