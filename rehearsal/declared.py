"""The fleet a stack declares, read from the Pulumi program's own resources.

The rehearsal runs the program under the same mocks as `python -m preview` and takes the
group, its load balancers, and the CodeDeploy deployment group from the resources it registers,
so a change to the program cannot escape the rehearsal. Nothing here restates the fleet."""

from __future__ import annotations

import tempfile
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import yaml

from awsfacts.codedeploy import MinimumHealthyHosts
from awsfacts.tokens import (
    CLASSIC_ELB,
    DEPLOYMENT_CONFIG,
    DEPLOYMENT_GROUP,
    GROUP,
    HEALTH_CHECK,
    LOAD_BALANCER,
    RECORD,
    SUBNET,
    TARGET_GROUP,
)
from stack.config import BLUE_GREEN_COLOURS
from stack.names import COLOUR_TAG

# The shift scenarios on a stack without `cutover:traffic` (the shipped ones have none): the
# rehearsal adds this section to a copy of the stack file, so the program itself declares the
# records. A zone of its own under the reserved `.example` name and an Azure front end at a
# documentation address (RFC 5737): an A pair, nothing to resolve. Said on screen and in the JSON.
REHEARSAL_TRAFFIC = {
    "zoneName": "shift-rehearsal.example",
    "recordName": "www.shift-rehearsal.example",
    "azureEndpoint": "192.0.2.10",
}


class DeclarationError(Exception):
    """The program does not declare what a rehearsal needs (exit 2)."""

    exit_code = 2


@dataclass(frozen=True)
class HealthCheck:
    protocol: str
    path: str | None
    interval: int
    timeout: int
    healthy_threshold: int
    unhealthy_threshold: int

    @property
    def healthy_after(self) -> int:
        """Emulated seconds from registration to `healthy` (healthyThreshold x interval)."""
        return self.healthy_threshold * self.interval

    @property
    def unhealthy_after(self) -> int:
        return self.unhealthy_threshold * self.interval


@dataclass(frozen=True)
class TargetGroup:
    declared_arn: str  # the ARN the mocks gave it; the group's targetGroupArns refer to it
    name: str
    protocol: str
    port: int
    health_check: HealthCheck
    deregistration_delay: int


@dataclass(frozen=True)
class ClassicLoadBalancer:
    name: str
    listeners: list[dict[str, Any]]
    health_check: HealthCheck
    draining_timeout: int


@dataclass(frozen=True)
class DeploymentGroup:
    name: str
    application: str
    config_name: str
    minimum_healthy_hosts: MinimumHealthyHosts | None  # a custom config declared by the stack
    auto_rollback: bool


@dataclass(frozen=True)
class Group:
    name: str
    min_size: int
    max_size: int
    desired_capacity: int
    health_check_type: str
    grace_period: int
    tags: list[dict[str, Any]]  # {key, value, propagateAtLaunch}
    target_groups: list[TargetGroup] = field(default_factory=list)
    classic_elbs: list[ClassicLoadBalancer] = field(default_factory=list)


@dataclass(frozen=True)
class DeclaredHealthCheck:
    """A Route 53 health check; `endpoint` is its fqdn or IP address."""

    type: str
    endpoint: str
    port: int
    path: str | None
    request_interval: int
    failure_threshold: int


@dataclass(frozen=True)
class DeclaredRecord:
    """One weighted record of the pair (set identifier `azure` or `aws`)."""

    set_identifier: str
    type: str  # A | CNAME
    ttl: int | None  # None for an alias
    values: list[str]  # the record's values (empty for an alias)
    alias: str | None  # the alias target's DNS name (the load balancer)
    weight: int
    health_check: DeclaredHealthCheck | None


@dataclass(frozen=True)
class DeclaredTraffic:
    """`cutover:traffic` as the program declares it: the two weighted records."""

    zone_name: str
    record_name: str
    records: dict[str, DeclaredRecord]  # by set identifier
    load_balancer_name: str
    load_balancer_dns: str  # the mocked DNS name the records point at
    source: str  # where the section came from: the stack file, or the rehearsal's default


@dataclass(frozen=True)
class DeclaredFleet:
    stack: str
    region: str
    group: Group
    deployment_group: DeploymentGroup
    zones: list[str]
    outputs: dict[str, Any]
    traffic: DeclaredTraffic | None = None
    # A blue-green stack (deployment.style: blue-green): each colour's own fleet (its group,
    # target groups and deployment group), by colour; the fleet itself is the first colour's.
    colours: dict[str, DeclaredFleet] = field(default_factory=dict)

    @property
    def drain_seconds(self) -> int:
        delays = [tg.deregistration_delay for tg in self.group.target_groups]
        delays += [elb.draining_timeout for elb in self.group.classic_elbs]
        return max(delays, default=0)

    @property
    def healthy_seconds(self) -> int:
        checks = [tg.health_check for tg in self.group.target_groups]
        checks += [elb.health_check for elb in self.group.classic_elbs]
        return max((c.healthy_after for c in checks), default=0)


def _health_check(raw: dict[str, Any]) -> HealthCheck:
    return HealthCheck(
        protocol=str(raw.get("protocol", "HTTP")),
        path=raw.get("path"),
        interval=int(raw.get("interval", 30)),
        timeout=int(raw.get("timeout", 5)),
        healthy_threshold=int(raw.get("healthyThreshold", raw.get("healthy_threshold", 5))),
        unhealthy_threshold=int(raw.get("unhealthyThreshold", raw.get("unhealthy_threshold", 2))),
    )


def _classic_health_check(raw: dict[str, Any]) -> HealthCheck:
    target = str(raw.get("target", "HTTP:80/"))
    protocol, _, rest = target.partition(":")
    path = "/" + rest.split("/", 1)[1] if "/" in rest else None
    return HealthCheck(
        protocol=protocol,
        path=path,
        interval=int(raw.get("interval", 30)),
        timeout=int(raw.get("timeout", 5)),
        healthy_threshold=int(raw.get("healthyThreshold", 10)),
        unhealthy_threshold=int(raw.get("unhealthyThreshold", 2)),
    )


def _colour(group: Any) -> str | None:
    tags = {str(t.get("key")): str(t.get("value")) for t in group.inputs.get("tags") or []}
    return tags.get(COLOUR_TAG)


def from_evaluation(stack: str, region: str, evaluation: Any) -> DeclaredFleet:
    """The fleet from an `preview.mocks.Evaluation` of the program: its one group, or (a
    blue-green stack) each colour's group, the first colour's as the fleet itself."""
    groups = evaluation.of_type(GROUP)
    colours = {_colour(g): g for g in groups}
    if len(groups) == 1:
        return _fleet(stack, region, evaluation, groups[0].inputs)
    if len(groups) != len(BLUE_GREEN_COLOURS) or set(colours) != set(BLUE_GREEN_COLOURS):
        raise DeclarationError(
            f"stack {stack}: the program declares {len(groups)} Auto Scaling groups; the "
            "rehearsal needs exactly one, or a blue-green stack's "
            f"{' and '.join(BLUE_GREEN_COLOURS)} (each tagged {COLOUR_TAG})"
        )
    fleets = {c: _fleet(stack, region, evaluation, colours[c].inputs) for c in BLUE_GREEN_COLOURS}
    return replace(fleets[BLUE_GREEN_COLOURS[0]], colours=fleets)


def _fleet(stack: str, region: str, evaluation: Any, raw: dict[str, Any]) -> DeclaredFleet:
    by_arn = {r.outputs.get("arn"): r for r in evaluation.of_type(TARGET_GROUP)}
    target_groups = []
    for arn in raw.get("targetGroupArns") or []:
        tg = by_arn.get(arn)
        if tg is None:
            raise DeclarationError(f"stack {stack}: the group refers to an unknown target group")
        inputs = tg.inputs
        target_groups.append(
            TargetGroup(
                declared_arn=arn,
                name=str(tg.outputs.get("name") or tg.name)[:32],
                protocol=str(inputs.get("protocol", "HTTP")),
                port=int(inputs.get("port", 80)),
                health_check=_health_check(inputs.get("healthCheck") or {}),
                deregistration_delay=int(inputs.get("deregistrationDelay", 300)),
            )
        )
    classic_by_name = {
        r.outputs.get("name"): r for r in evaluation.of_type(CLASSIC_ELB) if r.outputs.get("name")
    }
    classic = []
    for name in raw.get("loadBalancers") or []:
        elb = classic_by_name.get(name)
        if elb is None:
            raise DeclarationError(f"stack {stack}: the group refers to an unknown classic ELB")
        inputs = elb.inputs
        draining = int(inputs.get("connectionDrainingTimeout") or 300)
        classic.append(
            ClassicLoadBalancer(
                name=str(name)[:32],
                listeners=list(inputs.get("listeners") or []),
                health_check=_classic_health_check(inputs.get("healthCheck") or {}),
                draining_timeout=draining if inputs.get("connectionDraining") else 0,
            )
        )
    group = Group(
        name=str(raw["name"]),
        min_size=int(raw["minSize"]),
        max_size=int(raw["maxSize"]),
        desired_capacity=int(raw.get("desiredCapacity", raw["minSize"])),
        health_check_type=str(raw.get("healthCheckType", "EC2")),
        grace_period=int(raw.get("healthCheckGracePeriod", 300)),
        tags=[
            {
                "key": str(t["key"]),
                "value": str(t["value"]),
                "propagateAtLaunch": bool(t.get("propagateAtLaunch")),
            }
            for t in raw.get("tags") or []
        ],
        target_groups=target_groups,
        classic_elbs=classic,
    )
    return DeclaredFleet(
        stack=stack,
        region=region,
        group=group,
        deployment_group=_deployment_group(stack, evaluation, group.name),
        zones=_zones(evaluation, raw),
        outputs=dict(evaluation.outputs),
    )


def _deployment_group(stack: str, evaluation: Any, group_name: str) -> DeploymentGroup:
    found = [
        r
        for r in evaluation.of_type(DEPLOYMENT_GROUP)
        if group_name in (r.inputs.get("autoscalingGroups") or [])
    ]
    if len(found) != 1:
        raise DeclarationError(
            f"stack {stack}: {len(found)} CodeDeploy deployment groups deploy to {group_name}; "
            "the rehearsal needs exactly one"
        )
    inputs = found[0].inputs
    config_name = str(inputs.get("deploymentConfigName") or "CodeDeployDefault.OneAtATime")
    hosts = None
    for config in evaluation.of_type(DEPLOYMENT_CONFIG):
        if config.inputs.get("deploymentConfigName") == config_name:
            raw = config.inputs.get("minimumHealthyHosts") or {}
            hosts = MinimumHealthyHosts(str(raw.get("type")), int(raw.get("value", 0)))
    rollback = inputs.get("autoRollbackConfiguration") or {}
    return DeploymentGroup(
        name=str(inputs.get("deploymentGroupName")),
        application=str(inputs.get("appName")),
        config_name=config_name,
        minimum_healthy_hosts=hosts,
        auto_rollback=bool(rollback.get("enabled")),
    )


def _zones(evaluation: Any, group_inputs: dict[str, Any]) -> list[str]:
    subnets = {r.outputs.get("id"): r for r in evaluation.of_type(SUBNET)}
    zones = []
    for subnet_id in group_inputs.get("vpcZoneIdentifiers") or []:
        subnet = subnets.get(subnet_id)
        zone = subnet.inputs.get("availabilityZone") if subnet else None
        if zone and zone not in zones:
            zones.append(str(zone))
    return zones


def _declared_check(raw: Any) -> DeclaredHealthCheck | None:
    if raw is None:
        return None
    inputs = raw.inputs
    return DeclaredHealthCheck(
        type=str(inputs.get("type", "HTTP")),
        endpoint=str(inputs.get("fqdn") or inputs.get("ipAddress") or ""),
        port=int(inputs.get("port", 80)),
        path=inputs.get("resourcePath"),
        request_interval=int(inputs.get("requestInterval", 30)),
        failure_threshold=int(inputs.get("failureThreshold", 3)),
    )


def traffic_from_evaluation(
    stack: str, evaluation: Any, zone_name: str, source: str
) -> DeclaredTraffic:
    """The weighted pair the program registers (`infra/traffic.py`)."""
    checks = {r.outputs.get("id"): r for r in evaluation.of_type(HEALTH_CHECK)}
    records: dict[str, DeclaredRecord] = {}
    name = ""
    for record in evaluation.of_type(RECORD):
        inputs = record.inputs
        side = str(inputs.get("setIdentifier") or "")
        policies = inputs.get("weightedRoutingPolicies") or []
        if not side or not policies:
            continue
        aliases = inputs.get("aliases") or []
        name = str(inputs.get("name", "")).rstrip(".")
        records[side] = DeclaredRecord(
            set_identifier=side,
            type=str(inputs.get("type", "A")),
            ttl=None if aliases else int(inputs.get("ttl", 60)),
            values=[str(v) for v in inputs.get("records") or []],
            alias=str(aliases[0]["name"]) if aliases else None,
            weight=int(policies[0].get("weight", 0)),
            health_check=_declared_check(checks.get(inputs.get("healthCheckId"))),
        )
    balancers = evaluation.of_type(LOAD_BALANCER)
    if set(records) != {"azure", "aws"} or len(balancers) != 1:
        raise DeclarationError(
            f"stack {stack}: the shift needs the weighted records azure and aws and one "
            f"load balancer; the program declares records {sorted(records)} and "
            f"{len(balancers)} load balancer(s)"
        )
    balancer = balancers[0].outputs
    return DeclaredTraffic(
        zone_name=zone_name or name.partition(".")[2] or name,
        record_name=name,
        records=records,
        load_balancer_name=str(balancer.get("name", "")),
        load_balancer_dns=str(balancer.get("dnsName", "")),
        source=source,
    )


def declared_fleet(
    stack: str, config_path: str | Path | None = None, traffic: bool = False
) -> DeclaredFleet:
    """Run the program under the preview's mocks and read the fleet from its resources.

    `traffic`: also read the weighted records of `cutover:traffic`; a stack without the section
    is evaluated with `REHEARSAL_TRAFFIC` added to a copy of its file."""
    from preview.cli import evaluate_stack
    from stack.load import load_stack_file, read_stack_file, stack_file_path

    path = Path(config_path) if config_path else stack_file_path(stack)
    cfg = load_stack_file(path, stack=stack)
    if not traffic:
        return from_evaluation(stack, cfg.region, evaluate_stack(stack, path))
    if cfg.load_balancer.type != "application":
        raise DeclarationError(
            f"{path}: cutover:loadBalancer.type is {cfg.load_balancer.type}: the shift "
            "scenarios need an application load balancer (the shift's 5xx gate reads its metrics)"
        )
    if cfg.traffic is not None:
        evaluation = evaluate_stack(stack, path)
        zone = cfg.traffic.zone_name
        source = f"{path.name} (cutover:traffic)"
    else:
        values = read_stack_file(path)
        values["cutover:traffic"] = dict(REHEARSAL_TRAFFIC)
        with tempfile.TemporaryDirectory() as tmp:
            copy = Path(tmp) / path.name
            copy.write_text(yaml.safe_dump({"config": values}), encoding="utf-8")
            evaluation = evaluate_stack(stack, copy)
        zone = REHEARSAL_TRAFFIC["zoneName"]
        record, endpoint = REHEARSAL_TRAFFIC["recordName"], REHEARSAL_TRAFFIC["azureEndpoint"]
        source = (
            f"rehearsal default (no cutover:traffic in {path.name}): zone {zone}, record "
            f"{record}, Azure front end {endpoint}"
        )
    fleet = from_evaluation(stack, cfg.region, evaluation)
    return replace(fleet, traffic=traffic_from_evaluation(stack, evaluation, zone, source))
