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
