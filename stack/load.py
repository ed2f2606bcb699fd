"""The stack's settings: one typed model, validated once, with errors that name the key.

Three ways in, one set of rules:

* ``stack.load.load_pulumi_config()`` inside the Pulumi program (reads ``pulumi.Config``);
* ``load_mapping({"cutover:fleet": {...}, "aws:region": "eu-central-1"}, stack="staging")``
  from plain values (structured values as mappings or as JSON strings, as Pulumi passes them);
* ``load_stack_file("Pulumi.staging.yaml")`` from a stack file, without the Pulumi runtime.

Every key, its default and its rule is documented in ``infra/README.md``. Any broken rule raises
a single ``ConfigError`` whose message names the file (when there is one), the key and the rule.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from awsfacts import codedeploy
from hooks.timing import HookTimeouts
from stack.config import (
    ALLOW_DOWNTIME_TAG,
    DEFAULT_DEPLOYMENT_CONFIGS,
    DEREGISTER_HOOK_MARGIN,
    HOOK_TAG_PREFIX,
    MAX_HOOK_TIMEOUT,
    NAMESPACE,
    PROJECT,
    REPO_ROOT,
    TOP_LEVEL_KEYS,
    WAF_MANAGED_RULE_GROUPS,
    CertificateRequest,
    ConfigError,
    DatabaseConfig,
    DeploymentConfig,
    FleetConfig,
    HealthCheckConfig,
    ListenerConfig,
    ListenerRule,
    LoadBalancerConfig,
    LogsConfig,
    MinimumHealthyHosts,
    NetworkConfig,
    QueueConfig,
    RevisionsConfig,
    ScalingConfig,
    StackConfig,
    StepConfig,
    TrafficConfig,
    WafConfig,
)
from stack.loadbalancersection import _load_balancer
from stack.names import OPT_OUTS_TAG
from stack.reader import _Section
from stack.sections import (
    _database,
    _deployment,
    _fleet,
    _logs,
    _network,
    _queue,
    _revisions,
    _scaling,
    _tags,
)
from stack.trafficsection import _traffic

__all__ = [
    "ALLOW_DOWNTIME_TAG",
    "DEFAULT_DEPLOYMENT_CONFIGS",
    "DEREGISTER_HOOK_MARGIN",
    "WAF_MANAGED_RULE_GROUPS",
    "CertificateRequest",
    "HOOK_TAG_PREFIX",
    "MAX_HOOK_TIMEOUT",
    "NAMESPACE",
    "OPT_OUTS_TAG",
    "PROJECT",
    "REPO_ROOT",
    "ConfigError",
    "DatabaseConfig",
    "DeploymentConfig",
    "FleetConfig",
    "HealthCheckConfig",
    "ListenerConfig",
    "ListenerRule",
    "LoadBalancerConfig",
    "LogsConfig",
    "MinimumHealthyHosts",
    "NetworkConfig",
    "QueueConfig",
    "RevisionsConfig",
    "ScalingConfig",
    "StackConfig",
    "StepConfig",
    "TrafficConfig",
    "WafConfig",
    "load_mapping",
    "load_stack_file",
    "opt_out_lines",
    "opted_out_controls",
    "read_stack_file",
    "stack_file_path",
    "to_pulumi_values",
]


# ---------------------------------------------------------------------------------------------
# Cross-section rules


def _check_rules(c: StackConfig) -> None:
    def fail(key: str, rule: str) -> ConfigError:
        return ConfigError(f"{NAMESPACE}{key}", rule, c.source)

    lb, dep = c.load_balancer, c.deployment
    # The hooks' timing contract (hooks/timing.py), the same arithmetic `revision bundle` applies.
    timeouts = HookTimeouts(
        deregister=dep.deregister_timeout,
        register=dep.register_timeout,
        deregistration_delay=lb.deregistration_delay,
        time_to_healthy=(lb.health_check.healthy_threshold + 1) * lb.health_check.interval,
    )
    problem = timeouts.deregister_problem()
    if problem:
        raise fail("loadBalancer.deregistrationDelay", f"{problem} (deployment.deregisterTimeout)")
    problem = timeouts.register_problem()
    if problem:
        raise fail(
            "deployment.registerTimeout",
            f"{problem} ((healthCheck.healthyThreshold + 1) x healthCheck.interval)",
        )
    _check_minimum_healthy_hosts(c, fail)
    _check_public_ips(c, fail)
    if dep.blue_green and lb.type != "application":
        raise fail(
            "deployment.style",
            f"blue-green shifts traffic between weighted target groups, which only an "
            f"application load balancer has (loadBalancer.type is {lb.type}); use in-place",
        )
    if c.fleet.instance_types and c.fleet.single_instance_type:
        raise fail(
            "fleet.singleInstanceType",
            "contradicts fleet.instanceTypes: list alternatives or opt out, not both",
        )
    if c.zero_downtime:
        _check_zero_downtime(c, fail)


def _check_minimum_healthy_hosts(c: StackConfig, fail: Any) -> None:
    """CodeDeploy fails a deployment that cannot take one instance out: refuse, do not clamp."""
    hosts, fleet = c.deployment.minimum_healthy_hosts, c.fleet.min_size
    if hosts is None or fleet == 0:
        return
    key = "deployment.minimumHealthyHosts.value"
    if hosts.type == "HOST_COUNT" and hosts.value > fleet - 1:
        raise fail(
            key,
            f"HOST_COUNT must be 0..{fleet - 1} for a fleet of minSize {fleet} (a deployment "
            f"takes at least one instance out), got {hosts.value}",
        )
    if hosts.type == "FLEET_PERCENT" and not codedeploy.fits(hosts, fleet):
        highest = codedeploy.highest_percent(fleet)
        raise fail(
            key,
            f"FLEET_PERCENT must be 0..{highest} for a fleet of minSize {fleet} (CodeDeploy "
            f"rounds up; a deployment takes at least one instance out), got {hosts.value}",
        )


def _check_public_ips(c: StackConfig, fail: Any) -> None:
    no_nat = c.network.nat_gateways == "none"
    if no_nat and not c.fleet.public_ips:
        raise fail(
            "fleet.publicIps",
            "natGateways: none leaves the instances no way to AWS APIs but public IPs: opt in "
            "with fleet.publicIps: true, or set network.natGateways to single or perAz",
        )
    if c.fleet.public_ips and not no_nat:
        raise fail(
            "fleet.publicIps",
            f"instances get public IPs only without NAT (natGateways: none); with "
            f"{c.network.nat_gateways} they run in private subnets: remove publicIps",
        )


def _check_zero_downtime(c: StackConfig, fail: Any) -> None:
    """The rules every stack keeps unless it sets ``fleet.allowDowntime: true``."""
    fleet, dep = c.fleet, c.deployment
    optout = "or opt out of zero downtime with fleet.allowDowntime: true"
    if fleet.min_size < 2:
        raise fail(
            "fleet.minSize",
            f"must be >= 2 so a deployment never takes the last instance out ({optout}), "
            f"got {fleet.min_size}",
        )
    if dep.config == "CodeDeployDefault.AllAtOnce":
        raise fail(
            "deployment.config",
            f"AllAtOnce takes every instance out at once (a full outage); use OneAtATime or "
            f"HalfAtATime ({optout})",
        )
    if dep.minimum_healthy_hosts is not None and dep.minimum_healthy_hosts.value < 1:
        raise fail(
            "deployment.minimumHealthyHosts.value",
            f"must keep at least one healthy host during a deployment ({optout})",
        )
    if not fleet.instance_types and not fleet.single_instance_type:
        raise fail(
            "fleet.instanceTypes",
            "needs at least one alternative instance type, so the group can launch when "
            "instanceType has no capacity in a zone (Security Hub AutoScaling.6); or opt out "
            "visibly with fleet.singleInstanceType: true",
        )


def opted_out_controls(c: StackConfig) -> tuple[str, ...]:
    """The Security Hub controls the stack's file switches off (the group's opt-outs tag)."""
    lb, db = c.load_balancer, c.database
    controls = [
        ("EC2.9", c.fleet.public_ips),
        ("AutoScaling.6", not c.fleet.instance_types),
        ("ELB.5", not lb.access_logs),
        ("ELB.6", not lb.deletion_protection),
        ("EC2.6", not c.network.flow_logs),
        ("RDS.6", db.enabled and not db.monitoring_interval),
        ("RDS.10", db.enabled and not db.iam_authentication),
        # A classic ELB's plain listener is ELB.3 (it cannot redirect), an ALB's ELB.1.
        ("ELB.1", lb.serves_plain_http and lb.type == "application"),
        ("ELB.3", lb.serves_plain_http and lb.type == "classic"),
        ("ELB.16", lb.type == "application" and not lb.internal and not lb.waf.enabled),
    ]
    return tuple(control for control, off in controls if off)


def opt_out_lines(c: StackConfig) -> list[str]:
    """Every rule the stack's file switches off, one line each (the preview prints them)."""
    lines = []
    if c.fleet.allow_downtime:
        lines.append(
            "fleet.allowDowntime: true -- zero-downtime rules off (MinSize 1, AllAtOnce allowed; "
            f"the group is tagged {ALLOW_DOWNTIME_TAG}=true for the hooks)"
        )
    if c.fleet.public_ips:
        lines.append("fleet.publicIps: true -- instances get public IPs (EC2.9)")
    if c.fleet.single_instance_type or (c.fleet.allow_downtime and not c.fleet.instance_types):
        lines.append("one instance type only -- no mixed-instances policy (AutoScaling.6)")
    lb = c.load_balancer
    if not lb.access_logs:
        lines.append("loadBalancer.accessLogs: false -- no access logs (ELB.5)")
    if not lb.deletion_protection and lb.type != "classic":
        lines.append("loadBalancer.deletionProtection: false -- no deletion protection (ELB.6)")
    plain_control = "ELB.3" if lb.type == "classic" else "ELB.1"
    if lb.serves_plain_http and lb.internal:
        lines.append(f"internal load balancer serving plain HTTP inside the VPC ({plain_control})")
    elif lb.serves_plain_http:
        lines.append(
            "loadBalancer.allowPlainHttp: true -- the internet-facing load balancer serves "
            f"plain HTTP, not redirected to HTTPS ({plain_control})"
        )
    if lb.type == "application" and not lb.internal and not lb.waf.enabled:
        lines.append("loadBalancer.waf.enabled: false -- no WAF web ACL in front of it (ELB.16)")
    if not c.network.flow_logs:
        lines.append("network.flowLogs: false -- no VPC flow logs (EC2.6)")
    if c.database.enabled and not c.database.deletion_protection:
        lines.append("database.deletionProtection: false -- the database can be deleted")
    if c.database.enabled and not c.database.monitoring_interval:
        lines.append("database.monitoringInterval: 0 -- no enhanced monitoring (RDS.6)")
    if c.database.enabled and not c.database.iam_authentication:
        lines.append("database.iamAuthentication: false -- no IAM authentication (RDS.10)")
    return lines


# ---------------------------------------------------------------------------------------------
# Public entry points


_REGION = r"[a-z]{2}(-[a-z]+)+-\d"
_ENVIRONMENT = r"[a-z][a-z0-9-]{0,31}"


def load_mapping(
    values: Mapping[str, Any], *, stack: str, source: str | None = None
) -> StackConfig:
    """Validate fully qualified config (``{"cutover:fleet": {...}, "aws:region": ...}``).

    Structured values may be mappings or JSON strings. Keys of other namespaces than
    ``cutover:`` are ignored except ``aws:region``, which is required.
    Raises ``ConfigError`` naming the first key that breaks a rule.
    """
    if not re.fullmatch(r"[A-Za-z0-9_.-]+", stack or ""):
        raise ConfigError("stack", f"must be a Pulumi stack name, got {stack!r}", source)
    ours: dict[str, Any] = {}
    for key, value in values.items():
        if key.startswith(NAMESPACE):
            name = key[len(NAMESPACE) :]
            if name not in TOP_LEVEL_KEYS:
                raise ConfigError(
                    key, f"unknown key (known keys: {', '.join(TOP_LEVEL_KEYS)})", source
                )
            ours[name] = value
        elif ":" not in key:
            raise ConfigError(key, f"config keys need a namespace, e.g. {NAMESPACE}{key}", source)

    region = values.get("aws:region")
    if not isinstance(region, str) or not re.fullmatch(_REGION, region):
        raise ConfigError(
            "aws:region", f"must be an AWS region such as eu-central-1, got {region!r}", source
        )

    def section(name: str) -> _Section:
        return _Section(ours.get(name), f"{NAMESPACE}{name}", source)

    environment = ours.get("environment", stack)
    if not isinstance(environment, str) or not re.fullmatch(_ENVIRONMENT, environment):
        raise ConfigError(
            f"{NAMESPACE}environment",
            f"must be a lowercase name such as staging or production, got {environment!r}",
            source,
        )
    fleet = _fleet(section("fleet"))
    protected = not fleet.allow_downtime
    load_balancer = _load_balancer(section("loadBalancer"), fleet.app_port, protected)
    config = StackConfig(
        stack=stack,
        region=region,
        environment=environment,
        network=_network(section("network")),
        fleet=fleet,
        scaling=_scaling(section("scaling")),
        load_balancer=load_balancer,
        deployment=_deployment(section("deployment")),
        queue=_queue(section("queue")),
        database=_database(section("database"), protected),
        tags=_tags(ours.get("tags"), source),
        revisions=_revisions(section("revisions")),
        logs=_logs(section("logs")),
        source=source,
        traffic=_traffic(ours.get("traffic"), source, load_balancer.type),
    )
    _check_rules(config)
    return config


def stack_file_path(stack: str, root: Path = REPO_ROOT) -> Path:
    """Where the Pulumi CLI keeps a stack's settings: ``<root>/Pulumi.<stack>.yaml``."""
    return root / f"Pulumi.{stack}.yaml"


def load_stack_file(path: str | Path, *, stack: str | None = None) -> StackConfig:
    """Validate a ``Pulumi.<stack>.yaml`` file without the Pulumi runtime.

    The stack name defaults to the one in the file name. Errors name the file.
    """
    path = Path(path)
    values = read_stack_file(path)
    if stack is None:
        match = re.fullmatch(r"Pulumi\.(.+)\.ya?ml", path.name)
        stack = match.group(1) if match else path.stem
    return load_mapping(values, stack=stack, source=str(path))


def read_stack_file(path: str | Path) -> dict[str, Any]:
    """The raw ``config:`` mapping of a stack file (unvalidated)."""
    import yaml

    from cutover.files import FileProblem, read_text

    path = Path(path)
    try:
        document = yaml.safe_load(read_text(path)) or {}
    except FileProblem as problem:
        # UTF-8 with or without BOM, UTF-16/32 with BOM are read; anything else names the file.
        error = ConfigError("file", str(problem).removeprefix(f"{path}: "), str(path))
        error.exit_code = problem.exit_code
        raise error from None
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        where = f" at line {mark.line + 1}" if mark else ""
        problem = getattr(error, "problem", None) or "parse error"
        raise ConfigError("file", f"is not valid YAML: {problem}{where}", str(path)) from None
    if not isinstance(document, Mapping):
        raise ConfigError("file", "must be a YAML mapping with a config: section", str(path))
    values = document.get("config") or {}
    if not isinstance(values, Mapping):
        raise ConfigError("config", "must be a mapping of keys to values", str(path))
    return dict(values)


def to_pulumi_values(values: Mapping[str, Any]) -> dict[str, str]:
    """Raw config as the Pulumi engine hands it to a program: structured values as JSON."""
    return {
        key: value if isinstance(value, str) else json.dumps(value) for key, value in values.items()
    }
