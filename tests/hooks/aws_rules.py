"""The rules real AWS enforces and moto does not, applied through botocore's public event system
on a session the hooks use (documented AWS behaviour; see hooks/README.md):

- EnterStandby is refused when Desired - n < MinSize; ExitStandby when Desired + n > MaxSize;
- tags: at most 25 per Auto Scaling call, 50 per group, keys <= 128 and values <= 256 characters;
- UpdateAutoScalingGroup without DesiredCapacity moves Desired to a new MinSize above it (or a
  new MaxSize below it).

`group` is anything with `asg`, `autoscaling` (an admin client, not the hooks' session),
`capacity()` and `group()`: the tests' Fleet or the explorer's World."""

from __future__ import annotations

import threading
import time
from typing import Any

import boto3


class _Answer:
    def __init__(self, status: int) -> None:
        self.status_code = status


def _refuse(code: str, message: str) -> tuple[_Answer, dict[str, Any]]:
    return _Answer(400), {"Error": {"Code": code, "Message": message}}


def enforce_aws_rules(events: Any, world: Any, refusals: list[str]) -> None:
    """Register handlers that answer like AWS where moto is kinder (see module docstring)."""

    def enter_standby(params: dict[str, Any], **_: Any):
        min_size, _max, desired = world.capacity()
        n = len([k for k in params if k.startswith("InstanceIds.member.")])
        if desired - n < min_size:
            refusals.append(f"EnterStandby {desired - n} < {min_size}")
            return _refuse("ValidationError", f"desired {desired - n} below min {min_size}")
        return None

    def exit_standby(params: dict[str, Any], **_: Any):
        _min, max_size, desired = world.capacity()
        n = len([k for k in params if k.startswith("InstanceIds.member.")])
        if desired + n > max_size:
            refusals.append(f"ExitStandby {desired + n} > {max_size}")
            return _refuse("ValidationError", f"desired {desired + n} above max {max_size}")
        return None

    def group_tags(params: dict[str, Any], **_: Any):
        keys = {v: k for k, v in params.items() if k.endswith(".Key")}
        values = [v for k, v in params.items() if k.endswith(".Value")]
        if len(keys) > 25:
            return _refuse("ValidationError", "more than 25 tags in one call")
        if any(len(k) > 128 for k in keys) or any(len(v) > 256 for v in values):
            return _refuse("ValidationError", "tag key or value too long")
        existing = {t["Key"] for t in world.group().get("Tags", [])}
        if len(existing | set(keys)) > 50:
            return _refuse("LimitExceeded", "more than 50 tags on the group")
        return None

    def instance_tags(params: dict[str, Any], **_: Any):
        keys = {v for k, v in params.items() if k.startswith("Tag.") and k.endswith(".Key")}
        values = [v for k, v in params.items() if k.startswith("Tag.") and k.endswith(".Value")]
        if any(len(k) > 128 for k in keys) or any(len(v) > 256 for v in values):
            return _refuse("InvalidParameterValue", "tag key or value too long")
        return None

    def desired_follows_bounds(params: dict[str, Any], **_: Any) -> None:
        if "DesiredCapacity" in params:
            return
        min_size, max_size, desired = world.capacity()
        if "MinSize" in params and int(params["MinSize"]) > desired:
            world.autoscaling.set_desired_capacity(
                AutoScalingGroupName=world.asg, DesiredCapacity=int(params["MinSize"])
            )
        elif "MaxSize" in params and int(params["MaxSize"]) < desired:
            world.autoscaling.set_desired_capacity(
                AutoScalingGroupName=world.asg, DesiredCapacity=int(params["MaxSize"])
            )

    def before(model: Any, params: dict[str, Any], **kwargs: Any):
        body = params.get("body") or {}
        if not isinstance(body, dict):
            return None
        rule = {
            "EnterStandby": enter_standby,
            "ExitStandby": exit_standby,
            "CreateOrUpdateTags": group_tags,
            "CreateTags": instance_tags,
        }.get(model.name)
        return rule(body) if rule else None

    events.register("before-call", before)
    # AWS moves Desired with the bounds: compare the request with the group after the call.
    pending: dict[int, dict[str, Any]] = {}

    def remember(model: Any, params: dict[str, Any], **_: Any) -> None:
        if model.name == "UpdateAutoScalingGroup":
            body = params.get("body") or {}
            pending[threading.get_ident()] = dict(body) if isinstance(body, dict) else {}

    def apply(model: Any, **_: Any) -> None:
        if model.name == "UpdateAutoScalingGroup":
            body = pending.pop(threading.get_ident(), {})
            desired_follows_bounds(body)

    events.register("before-call", remember)
    events.register("after-call", apply)


def _targets(params: dict[str, Any]) -> list[tuple[str, int | None]]:
    """The (id, port) pairs of a RegisterTargets/DeregisterTargets/DescribeTargetHealth body."""
    found = []
    numbers = {k.split(".")[2] for k in params if k.startswith("Targets.member.")}
    for n in sorted(numbers, key=int):
        port = params.get(f"Targets.member.{n}.Port")
        found.append((params[f"Targets.member.{n}.Id"], int(port) if port else None))
    return found


class _Draining:
    """Targets AWS still reports `draining`: (target group, id) -> (port, until monotonic)."""

    def __init__(self) -> None:
        self.until: dict[tuple[str, str], tuple[int | None, float]] = {}
        self.lock = threading.Lock()


def enforce_target_rules(events: Any, elbv2: Any, time_scale: float) -> _Draining:
    """ELBv2 as AWS answers it where moto differs (FIELD-NOTES, AWS documentation):

    - DeregisterTargets of a target that is not registered (or already draining) succeeds
      (moto refuses it with InvalidTarget);
    - a deregistered target stays `draining` in DescribeTargetHealth (reason
      Target.DeregistrationInProgress) until the target group's deregistration delay
      (deregistration_delay.timeout_seconds, AWS seconds / time_scale) has passed (moto drops it
      at once). Registering it again ends the drain.

    `elbv2` is an admin client that bypasses these rules."""
    draining = _Draining()

    def registered(arn: str) -> set[str]:
        answer = elbv2.describe_target_health(TargetGroupArn=arn)
        return {d["Target"]["Id"] for d in answer["TargetHealthDescriptions"]}

    def delay(arn: str) -> float:
        attributes = elbv2.describe_target_group_attributes(TargetGroupArn=arn)["Attributes"]
        seconds = {a["Key"]: a["Value"] for a in attributes}.get(
            "deregistration_delay.timeout_seconds", "300"
        )
        return float(seconds) / time_scale

    def deregister(params: dict[str, Any]):
        arn = params["TargetGroupArn"]
        targets = _targets(params)
        present = registered(arn)
        if all(i not in present for i, _ in targets):
            return _Answer(200), {"ResponseMetadata": {"HTTPStatusCode": 200}}
        until = time.monotonic() + delay(arn)
        with draining.lock:
            for iid, port in targets:
                if iid in present:
                    draining.until[(arn, iid)] = (port, until)
        if any(i not in present for i, _ in targets):
            # Only the registered ones reach moto: AWS accepts the others silently.
            kept = [(i, p) for i, p in targets if i in present]
            for key in [k for k in params if k.startswith("Targets.member.")]:
                del params[key]
            for n, (iid, port) in enumerate(kept, 1):
                params[f"Targets.member.{n}.Id"] = iid
                if port is not None:
                    params[f"Targets.member.{n}.Port"] = str(port)
        return None

    def register(params: dict[str, Any]) -> None:
        arn = params["TargetGroupArn"]
        with draining.lock:
            for iid, _ in _targets(params):
                draining.until.pop((arn, iid), None)

    asked_for = threading.local()

    def before(model: Any, params: dict[str, Any], **_: Any):
        body = params.get("body") or {}
        if not isinstance(body, dict):
            return None
        if model.name == "DescribeTargetHealth":
            asked_for.body = dict(body)
        if model.name == "DeregisterTargets":
            return deregister(body)
        if model.name == "RegisterTargets":
            register(body)
        return None

    def still_draining(model: Any, parsed: dict[str, Any], **_: Any) -> None:
        if model.name != "DescribeTargetHealth":
            return
        body = getattr(asked_for, "body", {})
        arn = body.get("TargetGroupArn", "")
        asked = {i for i, _ in _targets(body)}
        now = time.monotonic()
        listed = {d["Target"]["Id"] for d in parsed.get("TargetHealthDescriptions", [])}
        with draining.lock:
            for (tg, iid), (port, until) in list(draining.until.items()):
                if now >= until:
                    del draining.until[(tg, iid)]
                    continue
                if tg != arn or iid in listed or (asked and iid not in asked):
                    continue
                target: dict[str, Any] = {"Id": iid}
                if port is not None:
                    target["Port"] = port
                parsed.setdefault("TargetHealthDescriptions", []).append(
                    {
                        "Target": target,
                        "TargetHealth": {
                            "State": "draining",
                            "Reason": "Target.DeregistrationInProgress",
                            "Description": "Target deregistration is in progress",
                        },
                    }
                )

    events.register("before-call", before)
    events.register("after-call", still_draining)
    return draining


def enforce_standby_membership(
    events: Any, draining: _Draining | None = None, time_scale: float = 1.0
) -> None:
    """What AWS does when an instance changes Standby (AWS documentation, "Temporarily remove
    instances from your Auto Scaling group"; moto does none of it): it refuses EnterStandby of
    an instance not InService and ExitStandby of one not in Standby; a successful EnterStandby
    deregisters the instance from the group's target groups and classic ELBs (the target then
    drains for the deregistration delay: recorded in `draining` when given, as
    enforce_target_rules answers it), and ExitStandby registers it with them again. Target
    groups the instance was registered with by hand are left alone.

    The changes are made with admin clients of their own, so they are not the hooks' calls."""
    admin: dict[str, Any] = {}

    def client(name: str) -> Any:
        if name not in admin:
            # Created on first use: they follow the test's AWS_ENDPOINT_URL.
            admin[name] = boto3.client(name)
        return admin[name]

    def attachments(group: str) -> tuple[list[str], list[str]]:
        found = client("autoscaling").describe_auto_scaling_groups(AutoScalingGroupNames=[group])
        g = (found.get("AutoScalingGroups") or [{}])[0]
        return list(g.get("TargetGroupARNs", [])), list(g.get("LoadBalancerNames", []))

    def entering(group: str, ids: list[str]) -> None:
        elbv2, elb = client("elbv2"), client("elb")
        arns, names = attachments(group)
        for arn in arns:
            answer = elbv2.describe_target_health(TargetGroupArn=arn)
            held = {d["Target"]["Id"]: d["Target"].get("Port") for d in answer[_TARGETS]}
            leaving = [(i, held[i]) for i in ids if i in held]
            if not leaving:
                continue
            elbv2.deregister_targets(
                TargetGroupArn=arn, Targets=[_target(i, p) for i, p in leaving]
            )
            if draining is not None:
                attributes = elbv2.describe_target_group_attributes(TargetGroupArn=arn)
                seconds = {a["Key"]: a["Value"] for a in attributes["Attributes"]}.get(
                    "deregistration_delay.timeout_seconds", "300"
                )
                until = time.monotonic() + float(seconds) / time_scale
                with draining.lock:
                    for iid, port in leaving:
                        draining.until[(arn, iid)] = (port, until)
        for name in names:
            states = elb.describe_instance_health(LoadBalancerName=name)["InstanceStates"]
            held_ids = {s["InstanceId"] for s in states}
            leaving_ids = [i for i in ids if i in held_ids]
            if leaving_ids:
                elb.deregister_instances_from_load_balancer(
                    LoadBalancerName=name, Instances=[{"InstanceId": i} for i in leaving_ids]
                )

    def leaving(group: str, ids: list[str]) -> None:
        arns, names = attachments(group)
        for arn in arns:
            if draining is not None:
                with draining.lock:
                    for iid in ids:
                        draining.until.pop((arn, iid), None)
            client("elbv2").register_targets(TargetGroupArn=arn, Targets=[{"Id": i} for i in ids])
        for name in names:
            client("elb").register_instances_with_load_balancer(
                LoadBalancerName=name, Instances=[{"InstanceId": i} for i in ids]
            )

    asked = threading.local()

    def remember(model: Any, params: dict[str, Any], **_: Any):
        if model.name not in ("EnterStandby", "ExitStandby"):
            return None
        body = params.get("body") or {}
        asked.body = dict(body) if isinstance(body, dict) else {}
        # AWS refuses to move an instance that is not in the state the call starts from (moto
        # moves it anyway, and ExitStandby then raises DesiredCapacity once more).
        wanted = "InService" if model.name == "EnterStandby" else "Standby"
        ids = [v for k, v in asked.body.items() if k.startswith("InstanceIds.member.")]
        found = client("autoscaling").describe_auto_scaling_instances(InstanceIds=ids)
        states = {i["InstanceId"]: i["LifecycleState"] for i in found["AutoScalingInstances"]}
        for iid in ids:
            if states.get(iid) != wanted:
                asked.body = {}
                return _refuse("ValidationError", f"The instance {iid} is not in {wanted}.")
        return None

    def apply(model: Any, http_response: Any, **_: Any) -> None:
        if model.name not in ("EnterStandby", "ExitStandby"):
            return
        body = getattr(asked, "body", {})
        if getattr(http_response, "status_code", 500) >= 300 or not body:
            return
        ids = [v for k, v in sorted(body.items()) if k.startswith("InstanceIds.member.")]
        group = body.get("AutoScalingGroupName", "")
        (entering if model.name == "EnterStandby" else leaving)(group, ids)

    events.register("before-call", remember)
    events.register("after-call", apply)


_TARGETS = "TargetHealthDescriptions"


def _target(iid: str, port: int | None) -> dict[str, Any]:
    return {"Id": iid, "Port": port} if port is not None else {"Id": iid}
