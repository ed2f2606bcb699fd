"""What the shift acts on, from three places (the first that knows wins):

1. the command's options (``--zone-id``, ``--target-group-arn``, ...);
2. the stack's outputs (``pulumi stack output --json``, when the Pulumi CLI is installed and
   logged in): ``trafficZoneId``, ``loadBalancerArn``, ``targetGroupArns``,
   ``trafficHealthCheckIds``;
3. the stack file (``Pulumi.STACK.yaml`` or ``--config``): ``cutover:traffic`` (zone, record),
   ``aws:region``, and ``fleet.minSize``, the floor of healthy targets.

The AWS record's health check may also come from the record itself (its HealthCheckId).
"""

from __future__ import annotations

import json
import shutil
import subprocess
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cutover.exitcodes import BAD_INPUT
from shift.errors import ShiftError
from stack import names
from stack.load import ConfigError, StackConfig, load_stack_file

StackOutputs = Callable[[str], Mapping[str, Any]]


@dataclass(frozen=True)
class ShiftTarget:
    stack: str
    region: str
    zone_id: str  # "" when only the zone's name is known (looked up in Route 53)
    zone_name: str
    record_name: str
    target_group_arn: str
    load_balancer_arn: str
    health_check_id: str | None
    min_healthy: int


def pulumi_stack_outputs(stack: str) -> Mapping[str, Any]:
    """``pulumi stack output --json`` of ``stack``, or {} when the CLI is absent or fails."""
    pulumi = shutil.which("pulumi")
    if pulumi is None:
        return {}
    try:
        done = subprocess.run(
            [pulumi, "stack", "output", "--json", "--stack", stack],
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired):
        return {}
    if done.returncode != 0:
        return {}
    try:
        outputs = json.loads(done.stdout or "{}")
    except json.JSONDecodeError:
        return {}
    return outputs if isinstance(outputs, dict) else {}


def _load_config(stack: str, config: Path) -> StackConfig:
    try:
        return load_stack_file(config, stack=stack)
    except ConfigError as error:
        raise ShiftError(str(error), BAD_INPUT) from None


def resolve_target(
    stack: str,
    config: Path,
    options: Mapping[str, Any],
    outputs: StackOutputs = pulumi_stack_outputs,
) -> ShiftTarget:
    """The shift's target; a value nobody knows is bad input naming the option to give."""
    cfg = _load_config(stack, config)
    traffic = cfg.traffic
    record_name = options.get("record_name") or (traffic.record_name if traffic else "")
    zone_id = options.get("zone_id") or ""
    zone_name = traffic.zone_name if traffic else ""
    if not record_name:
        raise ShiftError(
            f"{config}: cutover:traffic is not set: add it (infra/README.md) and run pulumi up, "
            "or give --zone-id and --record-name",
            BAD_INPUT,
        )
    wanted = {
        "zone_id": zone_id or (traffic.zone_id if traffic else ""),
        "target_group_arn": options.get("target_group_arn") or "",
        "load_balancer_arn": options.get("load_balancer_arn") or "",
        "health_check_id": options.get("health_check_id") or "",
    }
    stack_outputs: Mapping[str, Any] = {}
    if not (wanted["target_group_arn"] and wanted["load_balancer_arn"]):
        stack_outputs = outputs(stack)
    if not wanted["zone_id"]:
        wanted["zone_id"] = str(stack_outputs.get(names.TRAFFIC_ZONE_ID) or "")
    if not wanted["target_group_arn"]:
        arns = stack_outputs.get(names.TARGET_GROUP_ARNS) or []
        wanted["target_group_arn"] = str(arns[0]) if arns else ""
    if not wanted["load_balancer_arn"]:
        wanted["load_balancer_arn"] = str(stack_outputs.get(names.LOAD_BALANCER_ARN) or "")
    if not wanted["health_check_id"]:
        checks = stack_outputs.get(names.TRAFFIC_HEALTH_CHECK_IDS) or {}
        if isinstance(checks, dict):
            wanted["health_check_id"] = str(checks.get(names.AWS_SET_IDENTIFIER) or "")
    for key, option, output in (
        ("target_group_arn", "--target-group-arn", names.TARGET_GROUP_ARNS),
        ("load_balancer_arn", "--load-balancer-arn", names.LOAD_BALANCER_ARN),
    ):
        if not wanted[key]:
            raise ShiftError(
                f"stack {stack}: no {output} output (pulumi stack output --json --stack {stack} "
                f"failed or lacks it): give {option}",
                BAD_INPUT,
            )
    if not (wanted["zone_id"] or zone_name):
        raise ShiftError(f"stack {stack}: no hosted zone known: give --zone-id", BAD_INPUT)
    min_healthy = options.get("min_healthy")
    return ShiftTarget(
        stack=stack,
        region=options.get("region") or cfg.region,
        zone_id=str(wanted["zone_id"]).removeprefix("/hostedzone/"),
        zone_name=zone_name,
        record_name=str(record_name).rstrip("."),
        target_group_arn=wanted["target_group_arn"],
        load_balancer_arn=wanted["load_balancer_arn"],
        health_check_id=wanted["health_check_id"] or None,
        min_healthy=cfg.fleet.min_size if min_healthy is None else int(min_healthy),
    )
