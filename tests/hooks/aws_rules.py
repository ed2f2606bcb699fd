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
