"""The stack's settings: one typed model, validated once, with errors that name the key.

Three ways in, one set of rules:

* ``load_pulumi_config()`` inside the Pulumi program (reads ``pulumi.Config``);
* ``load_mapping({"cutover:fleet": {...}, "aws:region": "eu-central-1"}, stack="staging")``
  from plain values (structured values as mappings or as JSON strings, as Pulumi passes them);
* ``load_stack_file("Pulumi.staging.yaml")`` from a stack file, without the Pulumi runtime.

Every key, its default and its rule is documented in ``infra/README.md``. Any broken rule raises
a single ``ConfigError`` whose message names the file (when there is one), the key and the rule.
"""

from __future__ import annotations

import ipaddress
import json
import math
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from hooks.group import ALLOW_DOWNTIME_TAG, BASELINE_TAG, STANDBY_TAG_PREFIX
from infra import limits

PROJECT = "cutover"
NAMESPACE = f"{PROJECT}:"
REPO_ROOT = Path(__file__).resolve().parent.parent

# Seconds the deregister hook spends beyond the load balancer's own drain: entering Standby,
# polling intervals and API retries. The drain plus this margin must fit in the hook's timeout.
DEREGISTER_HOOK_MARGIN = 60
# A CodeDeploy lifecycle event may run for at most one hour.
MAX_HOOK_TIMEOUT = 3600

DEFAULT_DEPLOYMENT_CONFIGS = (
    "CodeDeployDefault.OneAtATime",
    "CodeDeployDefault.HalfAtATime",
    "CodeDeployDefault.AllAtOnce",
)
LOAD_BALANCER_TYPES = ("application", "network", "classic")
LISTENER_PROTOCOLS = {
    "application": ("HTTP", "HTTPS"),
    "network": ("TCP", "TLS"),
    "classic": ("HTTP", "HTTPS", "TCP", "SSL"),
}
HEALTH_CHECK_PROTOCOLS = {
    "application": ("HTTP", "HTTPS"),
    "network": ("TCP", "HTTP", "HTTPS"),
    "classic": ("HTTP", "HTTPS", "TCP", "SSL"),
}
ENCRYPTED_PROTOCOLS = ("HTTPS", "TLS", "SSL")
NAT_MODES = ("none", "single", "perAz")
SCALING_MODES = ("targetTracking", "step")
# The hooks keep their state in tags on the group under this prefix (one home: hooks.group).
# The program declares none of those keys except the downtime opt-out, and users may not either.
HOOK_TAG_PREFIX = os.path.commonprefix([ALLOW_DOWNTIME_TAG, BASELINE_TAG, STANDBY_TAG_PREFIX])
# The program tags each Auto Scaling group with the Security Hub controls its stack file opts
# out of (space-separated ids): an opt-out is visible on the resource, and the policy pack
# honours exactly those.
OPT_OUTS_TAG = "cutover:opt-outs"
# Amazon Linux 2023, resolved by EC2 at each launch: the launch template never changes when
# Amazon publishes a new image, so `pulumi up` stays quiet (see fleet.ami).
AL2023_PARAMETER = "/aws/service/ami-amazon-linux-latest/al2023-ami-kernel-default-{arch}"

_TOP_LEVEL_KEYS = (
    "environment",
    "network",
    "fleet",
    "scaling",
    "loadBalancer",
    "deployment",
    "queue",
    "database",
    "revisions",
    "logs",
    "tags",
)


class ConfigError(Exception):
    """A stack setting breaks a rule. ``str(error)`` is one line: ``[file: ]key: rule``."""

    exit_code = 2  # bad input (the exit-code convention of every Cutover command)

    def __init__(self, key: str, rule: str, source: str | None = None) -> None:
        self.key = key
        self.rule = rule
        self.source = source
        prefix = f"{source}: " if source else ""
        super().__init__(f"{prefix}{key}: {rule}")


# ---------------------------------------------------------------------------------------------
# The model


@dataclass(frozen=True)
class NetworkConfig:
    vpc_cidr: str = "10.0.0.0/16"
    availability_zones: int = 2
    nat_gateways: str = "single"
    flow_logs: bool = True

    def subnet_cidrs(self) -> tuple[list[str], list[str]]:
        """Public and private subnet CIDRs, one of each per AZ, carved as /(vpc+4) blocks."""
        vpc = ipaddress.IPv4Network(self.vpc_cidr)
        blocks = list(vpc.subnets(prefixlen_diff=4))
        count = self.availability_zones
        public = [str(b) for b in blocks[:count]]
        private = [str(b) for b in blocks[8 : 8 + count]]
        return public, private

    @property
    def instances_in_private_subnets(self) -> bool:
        """Without a NAT gateway instances need public IPs to reach CodeDeploy and dnf."""
        return self.nat_gateways != "none"


@dataclass(frozen=True)
class FleetConfig:
    instance_type: str = "t3.small"
    instance_types: tuple[str, ...] = ()
    single_instance_type: bool = False
    on_demand_base_capacity: int = 2
    on_demand_percentage_above_base: int = 100
    ami: str = ""
    min_size: int = 2
    max_size: int = 4
    desired_capacity: int = 2
    app_port: int = 80
    root_volume_size_gb: int = 20
    health_check_grace_period: int = 300
    default_instance_warmup: int = 300
    termination_policies: tuple[str, ...] = ("OldestLaunchTemplate", "OldestInstance")
    instance_refresh: bool = True
    wait_for_healthy_targets: bool = True
    public_ips: bool = False
    ssm_session_manager: bool = False
    allow_downtime: bool = False

    @property
    def architecture(self) -> str:
        """``arm64`` or ``x86_64``: from the EC2 catalog, else from the family name (a ``g``
        after the generation: m7g, c7gn, t4g)."""
        known = limits.instance_type(self.instance_type)
        if known is not None:
            return "arm64" if known.architectures == ("arm64",) else "x86_64"
        family = self.instance_type.split(".", 1)[0]
        match = re.fullmatch(r"([a-z]+)(\d+)([a-z-]*)", family)
        if family == "a1" or (match and "g" in match.group(3)):
            return "arm64"
        return "x86_64"

    @property
    def image_id(self) -> str:
        """What the launch template names: the pinned AMI, or an SSM parameter EC2 resolves at
        launch (``resolve:ssm:...``), by default Amazon Linux 2023 for the architecture."""
        if self.ami:
            return self.ami
        return "resolve:ssm:" + AL2023_PARAMETER.format(arch=self.architecture)

    @property
    def all_instance_types(self) -> tuple[str, ...]:
        """The primary type first, then the alternatives (the mixed-instances overrides)."""
        return (self.instance_type, *self.instance_types)


@dataclass(frozen=True)
class StepConfig:
    threshold: int
    adjustment: int
    cooldown: int = 300
    evaluation_periods: int = 2
    period: int = 60


@dataclass(frozen=True)
class ScalingConfig:
    mode: str = "targetTracking"
    target_cpu: int = 50
    scale_out: StepConfig = field(default_factory=lambda: StepConfig(threshold=70, adjustment=1))
    scale_in: StepConfig = field(
        default_factory=lambda: StepConfig(threshold=30, adjustment=-1, evaluation_periods=5)
    )


@dataclass(frozen=True)
class ListenerRule:
    """Requests whose path matches one of ``path_patterns`` go to ``target_port``'s targets."""

    path_patterns: tuple[str, ...]
    target_port: int


@dataclass(frozen=True)
class ListenerConfig:
    protocol: str
    port: int
    certificate_arn: str = ""
    target_port: int = 80
    rules: tuple[ListenerRule, ...] = ()

    @property
    def encrypted(self) -> bool:
        return self.protocol in ENCRYPTED_PROTOCOLS


@dataclass(frozen=True)
class HealthCheckConfig:
    protocol: str = "HTTP"
    path: str = "/"
    interval: int = 15
    timeout: int = 5
    healthy_threshold: int = 2
    unhealthy_threshold: int = 3
    matcher: str = "200"

    @property
    def uses_path(self) -> bool:
        return self.protocol in ("HTTP", "HTTPS")


@dataclass(frozen=True)
class LoadBalancerConfig:
    type: str = "application"
    listeners: tuple[ListenerConfig, ...] = (ListenerConfig("HTTP", 80),)
    health_check: HealthCheckConfig = field(default_factory=HealthCheckConfig)
    deregistration_delay: int = 60
    certificate_arn: str = ""
    internal: bool = False
    access_logs: bool = True
    deletion_protection: bool = True

    @property
    def target_ports(self) -> tuple[int, ...]:
        """Every port the instances serve behind this load balancer, one target group each."""
        ports = [listener.target_port for listener in self.listeners]
        ports += [rule.target_port for listener in self.listeners for rule in listener.rules]
        return tuple(dict.fromkeys(ports))

    @property
    def redirects_http(self) -> bool:
        """ALB with an HTTPS listener: plain HTTP listeners redirect to it (ELB.1)."""
        return self.type == "application" and self.https_port is not None

    @property
    def https_port(self) -> int | None:
        return next((x.port for x in self.listeners if x.protocol == "HTTPS"), None)


@dataclass(frozen=True)
class MinimumHealthyHosts:
    type: str
    value: int


@dataclass(frozen=True)
class DeploymentConfig:
    config: str = "CodeDeployDefault.OneAtATime"
    minimum_healthy_hosts: MinimumHealthyHosts | None = None
    deregister_timeout: int = 400
    register_timeout: int = 300
    auto_rollback: bool = True
    rollback_alarms: bool = True

    @property
    def is_custom(self) -> bool:
        """A custom config is created by the stack; the CodeDeployDefault ones already exist."""
        return self.minimum_healthy_hosts is not None


@dataclass(frozen=True)
class QueueConfig:
    enabled: bool = False
    visibility_timeout: int = 30
    max_receive_count: int = 5
    message_retention: int = 345600


@dataclass(frozen=True)
class DatabaseConfig:
    enabled: bool = False
    engine_version: str = "16"
    instance_class: str = "db.t4g.micro"
    allocated_storage: int = 20
    multi_az: bool = False
    db_name: str = "app"
    username: str = "cutover"
    backup_retention_days: int = 7
    deletion_protection: bool = True
    iam_authentication: bool = True
    monitoring_interval: int = 60
    log_exports: tuple[str, ...] = ("postgresql", "upgrade")
    port: int = 5432


@dataclass(frozen=True)
class RevisionsConfig:
    noncurrent_version_days: int = 90
    kms_key_arn: str = ""


@dataclass(frozen=True)
class LogsConfig:
    retention_days: int = 365


@dataclass(frozen=True)
class StackConfig:
    """Everything the program needs for one stack, already validated."""

    stack: str
    region: str
    environment: str
    network: NetworkConfig
    fleet: FleetConfig
    scaling: ScalingConfig
    load_balancer: LoadBalancerConfig
    deployment: DeploymentConfig
    queue: QueueConfig
    database: DatabaseConfig
    tags: Mapping[str, str]
    revisions: RevisionsConfig = field(default_factory=RevisionsConfig)
    logs: LogsConfig = field(default_factory=LogsConfig)
    source: str | None = None

    @property
    def zero_downtime(self) -> bool:
        """Every stack keeps the zero-downtime and security rules unless its file opts out with
        ``fleet.allowDowntime: true``; ``environment`` is only a label."""
        return not self.fleet.allow_downtime

    @property
    def resource_prefix(self) -> str:
        """Prefix of every logical name and of the names the stack sets itself."""
        return f"{PROJECT}-{self.stack}"

    @property
    def resource_tags(self) -> dict[str, str]:
        """Tags on every resource: the configured ones plus the stack and its environment."""
        return {**self.tags, "cutover:stack": self.stack, "cutover:environment": self.environment}

    @property
    def group_name(self) -> str:
        """The Auto Scaling group's name; fixed so IAM can scope the hooks' calls to it."""
        return f"{self.resource_prefix}-fleet"

    @property
    def deployment_group_name(self) -> str:
        return f"{self.resource_prefix}-fleet"


# ---------------------------------------------------------------------------------------------
# Reading raw values with their key names


class _Section:
    """One mapping of raw values; every read is checked and every unread key is an error."""

    def __init__(self, raw: Any, key: str, source: str | None) -> None:
        self.key = key
        self.source = source
        if raw is None:
            raw = {}
        if isinstance(raw, str):
            raw = _parse_json(raw, key, source)
        if not isinstance(raw, Mapping):
            raise ConfigError(key, "must be a mapping of settings", source)
        self.raw = dict(raw)
        self.read: set[str] = set()

    def error(self, name: str, rule: str) -> ConfigError:
        return ConfigError(self.child_key(name), rule, self.source)

    def child_key(self, name: str) -> str:
        return f"{self.key}.{name}"

    def has(self, name: str) -> bool:
        return name in self.raw

    def value(self, name: str, default: Any) -> Any:
        self.read.add(name)
        value = self.raw.get(name, default)
        return default if value is None else value

    def integer(
        self, name: str, default: int, low: int | None = None, high: int | None = None
    ) -> int:
        value = self.value(name, default)
        if isinstance(value, str) and re.fullmatch(r"-?\d+", value.strip()):
            value = int(value)
        if isinstance(value, bool) or not isinstance(value, int):
            raise self.error(name, f"must be a whole number, got {value!r}")
        if low is not None and value < low:
            raise self.error(name, f"must be >= {low}, got {value}")
        if high is not None and value > high:
            raise self.error(name, f"must be <= {high}, got {value}")
        return value

    def boolean(self, name: str, default: bool) -> bool:
        value = self.value(name, default)
        if isinstance(value, str) and value.strip().lower() in ("true", "false"):
            return value.strip().lower() == "true"
        if not isinstance(value, bool):
            raise self.error(name, f"must be true or false, got {value!r}")
        return value

    def string(self, name: str, default: str, pattern: str | None = None, hint: str = "") -> str:
        value = self.value(name, default)
        if isinstance(value, int | float) and not isinstance(value, bool):
            value = str(value)
        if not isinstance(value, str):
            raise self.error(name, f"must be a string, got {value!r}")
        if pattern and not (value == default == "" or re.fullmatch(pattern, value)):
            raise self.error(name, f"{hint or 'must match ' + pattern}, got {value!r}")
        return value

    def choice(self, name: str, default: str, choices: tuple[str, ...]) -> str:
        value = self.string(name, default)
        if value not in choices:
            raise self.error(name, f"must be one of {' | '.join(choices)}, got {value!r}")
        return value

    def section(self, name: str) -> _Section:
        return _Section(self.value(name, {}), self.child_key(name), self.source)

    def sequence(self, name: str) -> list[Any] | None:
        value = self.value(name, None)
        if value is None:
            return None
        if isinstance(value, str):
            value = _parse_json(value, self.child_key(name), self.source)
        if not isinstance(value, list):
            raise self.error(name, "must be a list")
        return value

    def finish(self) -> None:
        """Reject keys nobody read: a typo must not silently fall back to a default."""
        unknown = sorted(set(self.raw) - self.read)
        if unknown:
            known = ", ".join(sorted(self.read))
            raise ConfigError(
                self.child_key(unknown[0]), f"unknown key (known keys: {known})", self.source
            )


def _parse_json(text: str, key: str, source: str | None) -> Any:
    try:
        return json.loads(text)
    except json.JSONDecodeError as error:
        raise ConfigError(key, f"is not valid JSON ({error.msg})", source) from None


# ---------------------------------------------------------------------------------------------
# Sections


def _network(s: _Section) -> NetworkConfig:
    cidr = s.string("vpcCidr", NetworkConfig.vpc_cidr)
    try:
        network = ipaddress.IPv4Network(cidr, strict=True)
    except ValueError as error:
        raise s.error("vpcCidr", f"must be an IPv4 network in CIDR notation ({error})") from None
    if not 16 <= network.prefixlen <= 24:
        raise s.error("vpcCidr", f"prefix must be between /16 and /24, got /{network.prefixlen}")
    if not network.is_private:
        raise s.error("vpcCidr", f"must be a private (RFC 1918) range, got {cidr}")
    zones = s.integer("availabilityZones", NetworkConfig.availability_zones, 2, 6)
    nat = s.choice("natGateways", NetworkConfig.nat_gateways, NAT_MODES)
    flow_logs = s.boolean("flowLogs", NetworkConfig.flow_logs)
    s.finish()
    return NetworkConfig(
        vpc_cidr=str(network), availability_zones=zones, nat_gateways=nat, flow_logs=flow_logs
    )


_AMI = r"ami-[0-9a-f]{8,17}|resolve:ssm:[A-Za-z0-9_./-]{1,2048}(:\d+)?"


def _instance_type(s: _Section, key: str, name: Any) -> str:
    if not isinstance(name, str) or not re.fullmatch(r"[a-z][a-z0-9-]*\.[a-z0-9-]+", name):
        raise s.error(key, f"must be an EC2 instance type such as t3.small, got {name!r}")
    if limits.instance_type(name) is None:
        raise s.error(
            key,
            f"{name!r} is not an EC2 instance type (checked against migrate's EC2 catalog)"
            + limits.suggest_instance_type(name),
        )
    return name


def _fleet(s: _Section) -> FleetConfig:
    d = FleetConfig()
    instance_type = _instance_type(s, "instanceType", s.value("instanceType", d.instance_type))
    raw_types = s.sequence("instanceTypes") or []
    types = tuple(
        _instance_type(s, f"instanceTypes[{i}]", name) for i, name in enumerate(raw_types)
    )
    _check_instance_types(s, instance_type, types)
    ami = s.string("ami", d.ami, _AMI, 'must be an AMI id (ami-...), resolve:ssm:<parameter> or ""')
    min_size = s.integer("minSize", d.min_size, 0, 1000)
    max_size = s.integer("maxSize", d.max_size, 1, 1000)
    desired = s.integer("desiredCapacity", min_size, 0, 1000)
    if min_size > max_size:
        raise s.error("minSize", f"must be <= maxSize ({min_size} > {max_size})")
    if not min_size <= desired <= max_size:
        raise s.error(
            "desiredCapacity",
            f"must be between minSize and maxSize ({min_size} <= {desired} <= {max_size} fails)",
        )
    policies = tuple(s.sequence("terminationPolicies") or d.termination_policies)
    for i, policy in enumerate(policies):
        if policy not in limits.TERMINATION_POLICIES:
            raise s.error(
                f"terminationPolicies[{i}]",
                f"must be one of {' | '.join(limits.TERMINATION_POLICIES)}, got {policy!r}",
            )
    fleet = FleetConfig(
        instance_type=instance_type,
        instance_types=types,
        single_instance_type=s.boolean("singleInstanceType", d.single_instance_type),
        on_demand_base_capacity=s.integer("onDemandBaseCapacity", min_size, 0, 1000),
        on_demand_percentage_above_base=s.integer(
            "onDemandPercentageAboveBaseCapacity", d.on_demand_percentage_above_base, 0, 100
        ),
        ami=ami,
        min_size=min_size,
        max_size=max_size,
        desired_capacity=desired,
        app_port=s.integer("appPort", d.app_port, 1, 65535),
        root_volume_size_gb=s.integer("rootVolumeSizeGb", d.root_volume_size_gb, 8, 16384),
        health_check_grace_period=s.integer(
            "healthCheckGracePeriod", d.health_check_grace_period, 0, 7200
        ),
        default_instance_warmup=s.integer(
            "defaultInstanceWarmup", d.default_instance_warmup, 0, 3600
        ),
        termination_policies=policies,
        instance_refresh=s.boolean("instanceRefresh", d.instance_refresh),
        wait_for_healthy_targets=s.boolean("waitForHealthyTargets", d.wait_for_healthy_targets),
        public_ips=s.boolean("publicIps", d.public_ips),
        ssm_session_manager=s.boolean("ssmSessionManager", d.ssm_session_manager),
        allow_downtime=s.boolean("allowDowntime", d.allow_downtime),
    )
    s.finish()
    return fleet


def _check_instance_types(s: _Section, primary: str, alternatives: tuple[str, ...]) -> None:
    """A mixed-instances policy needs distinct types of one architecture (one AMI for all)."""
    seen = {primary}
    architecture = limits.instance_type(primary).architectures  # type: ignore[union-attr]
    for i, name in enumerate(alternatives):
        if name in seen:
            raise s.error(f"instanceTypes[{i}]", f"{name} is listed twice (or is instanceType)")
        seen.add(name)
        other = limits.instance_type(name).architectures  # type: ignore[union-attr]
        if not set(other) & set(architecture):
            raise s.error(
                f"instanceTypes[{i}]",
                f"{name} runs {'/'.join(other)}, instanceType {primary} runs "
                f"{'/'.join(architecture)}: one launch template (one AMI) serves all types",
            )


def _step(s: _Section, threshold_key: str, default: StepConfig, sign: int) -> StepConfig:
    threshold = s.integer(threshold_key, default.threshold, 1, 99)
    adjustment = s.integer("adjustment", default.adjustment, -100, 100)
    if adjustment == 0 or (adjustment > 0) != (sign > 0):
        word = "positive" if sign > 0 else "negative"
        raise s.error("adjustment", f"must be {word}, got {adjustment}")
    period = s.integer("period", default.period, limits.EC2_METRIC_PERIOD, 86400)
    if period % limits.EC2_METRIC_PERIOD:
        raise s.error(
            "period",
            "must be a multiple of 60 seconds, 60..86400 (CPUUtilization is an EC2 metric "
            f"published once a minute), got {period}",
        )
    step = StepConfig(
        threshold=threshold,
        adjustment=adjustment,
        cooldown=s.integer("cooldown", default.cooldown, 0, 86400),
        evaluation_periods=s.integer("evaluationPeriods", default.evaluation_periods, 1, 100),
        period=period,
    )
    s.finish()
    return step


def _scaling(s: _Section) -> ScalingConfig:
    d = ScalingConfig()
    mode = s.choice("mode", d.mode, SCALING_MODES)
    target = s.integer("targetCpu", d.target_cpu, 1, 99)
    scale_out = _step(s.section("scaleOut"), "cpuAbove", d.scale_out, +1)
    scale_in = _step(s.section("scaleIn"), "cpuBelow", d.scale_in, -1)
    if scale_in.threshold >= scale_out.threshold:
        raise s.error(
            "scaleIn.cpuBelow",
            f"must be below scaleOut.cpuAbove ({scale_in.threshold} >= {scale_out.threshold})",
        )
    s.finish()
    return ScalingConfig(mode=mode, target_cpu=target, scale_out=scale_out, scale_in=scale_in)


_CERTIFICATE_ARN = (
    r"arn:aws[a-z-]*:(acm:[a-z0-9-]+:\d{12}:certificate/.+|iam::\d{12}:server-certificate/.+)"
)


def _listener(s: _Section, lb_type: str, default_certificate: str, app_port: int) -> ListenerConfig:
    protocol = s.choice("protocol", "", LISTENER_PROTOCOLS[lb_type])
    port = s.integer("port", 0, 1, 65535)
    certificate = s.string(
        "certificateArn", "", _CERTIFICATE_ARN, "must be an ACM or IAM certificate ARN"
    )
    certificate = certificate or default_certificate
    if protocol in ENCRYPTED_PROTOCOLS and not certificate:
        raise s.error(
            "certificateArn",
            f"a {protocol} listener needs a certificate: set loadBalancer.certificateArn "
            "or the listener's certificateArn",
        )
    if protocol not in ENCRYPTED_PROTOCOLS:
        certificate = ""
    target_port = s.integer("targetPort", app_port, 1, 65535)
    raw_rules = s.sequence("rules") or []
    if raw_rules and lb_type != "application":
        raise s.error("rules", f"path rules need an application load balancer, not {lb_type}")
    rules = tuple(
        _rule(_Section(item, f"{s.key}.rules[{i}]", s.source), target_port)
        for i, item in enumerate(raw_rules)
    )
    s.finish()
    return ListenerConfig(
        protocol=protocol,
        port=port,
        certificate_arn=certificate,
        target_port=target_port,
        rules=rules,
    )


# An ALB listener rule: at most 5 condition values in all; path patterns up to 128 characters.
_MAX_PATH_PATTERNS = 5


def _rule(s: _Section, default_port: int) -> ListenerRule:
    patterns = s.sequence("pathPatterns")
    if not patterns or len(patterns) > _MAX_PATH_PATTERNS:
        raise s.error("pathPatterns", f"needs 1..{_MAX_PATH_PATTERNS} path patterns such as /api/*")
    for i, pattern in enumerate(patterns):
        if not isinstance(pattern, str) or not re.fullmatch(r"/\S{0,127}", pattern):
            raise s.error(
                f"pathPatterns[{i}]",
                f"must be a path pattern starting with / (up to 128 characters), got {pattern!r}",
            )
    if not s.has("targetPort"):
        raise s.error("targetPort", "is required: the port the matching requests go to")
    rule = ListenerRule(
        path_patterns=tuple(patterns), target_port=s.integer("targetPort", default_port, 1, 65535)
    )
    s.finish()
    return rule


def _listeners(
    s: _Section, lb_type: str, certificate: str, app_port: int
) -> tuple[ListenerConfig, ...]:
    raw = s.sequence("listeners")
    if raw is None:
        plain, secure = ("HTTP", "HTTPS") if lb_type != "network" else ("TCP", "TLS")
        defaults = [ListenerConfig(plain, 80, target_port=app_port)]
        if certificate:
            defaults.append(ListenerConfig(secure, 443, certificate, target_port=app_port))
        return tuple(defaults)
    if not raw:
        raise s.error("listeners", "needs at least one listener")
    listeners = tuple(
        _listener(
            _Section(item, f"{s.key}.listeners[{i}]", s.source), lb_type, certificate, app_port
        )
        for i, item in enumerate(raw)
    )
    ports = [listener.port for listener in listeners]
    duplicates = sorted({p for p in ports if ports.count(p) > 1})
    if duplicates:
        raise s.error("listeners", f"each port may have one listener, {duplicates[0]} repeats")
    redirecting = lb_type == "application" and any(x.protocol == "HTTPS" for x in listeners)
    for i, listener in enumerate(listeners):
        if redirecting and listener.protocol == "HTTP" and listener.rules:
            raise s.error(
                f"listeners[{i}].rules",
                "an HTTP listener redirects to HTTPS when a certificate is configured (ELB.1): "
                "put the rules on the HTTPS listener",
            )
    return listeners


def _range(s: _Section, name: str, default: int, bounds: tuple[int, int], lb_type: str) -> int:
    low, high = bounds
    value = s.integer(name, default)
    if not low <= value <= high:
        raise s.error(
            name, f"must be {low}..{high} for a {lb_type} load balancer (AWS's range), got {value}"
        )
    return value


def _health_check(s: _Section, lb_type: str) -> HealthCheckConfig:
    d = HealthCheckConfig()
    bounds = limits.HEALTH_CHECK_LIMITS[lb_type]
    protocol = s.choice("protocol", d.protocol, HEALTH_CHECK_PROTOCOLS[lb_type])
    path = s.string("path", "", r"/[^\s]{0,1023}", "must start with / (up to 1024 characters)")
    if protocol in ("HTTP", "HTTPS"):
        path = path or d.path
    elif path:
        raise s.error("path", f"only HTTP and HTTPS health checks have a path, not {protocol}")
    interval = _range(s, "interval", d.interval, bounds.interval, lb_type)
    timeout = _range(s, "timeout", d.timeout, bounds.timeout, lb_type)
    if timeout >= interval:
        raise s.error("timeout", f"must be shorter than interval ({timeout} >= {interval})")
    if bounds.matcher is None:
        if s.has("matcher"):
            raise s.error("matcher", limits.matcher_problem("", lb_type) or "")
        matcher = ""
    else:
        matcher = s.string("matcher", bounds.matcher_default)
        problem = limits.matcher_problem(matcher, lb_type)
        if problem:
            raise s.error("matcher", problem)
    check = HealthCheckConfig(
        protocol=protocol,
        path=path,
        interval=interval,
        timeout=timeout,
        healthy_threshold=_range(
            s, "healthyThreshold", d.healthy_threshold, bounds.threshold, lb_type
        ),
        unhealthy_threshold=_range(
            s, "unhealthyThreshold", d.unhealthy_threshold, bounds.threshold, lb_type
        ),
        matcher=matcher,
    )
    s.finish()
    return check


def _load_balancer(s: _Section, app_port: int, protected: bool) -> LoadBalancerConfig:
    d = LoadBalancerConfig()
    lb_type = s.choice("type", d.type, LOAD_BALANCER_TYPES)
    certificate = s.string(
        "certificateArn", "", _CERTIFICATE_ARN, "must be an ACM or IAM certificate ARN"
    )
    listeners = _listeners(s, lb_type, certificate, app_port)
    health_check = _health_check(s.section("healthCheck"), lb_type)
    delay = s.integer("deregistrationDelay", d.deregistration_delay, 0, 3600)
    internal = s.boolean("internal", d.internal)
    access_logs = s.boolean("accessLogs", protected)
    deletion_protection = s.boolean("deletionProtection", protected)
    if lb_type == "classic" and s.has("deletionProtection") and deletion_protection:
        raise s.error("deletionProtection", "a classic load balancer has no deletion protection")
    s.finish()
    return LoadBalancerConfig(
        type=lb_type,
        listeners=listeners,
        health_check=health_check,
        deregistration_delay=delay,
        certificate_arn=certificate,
        internal=internal,
        access_logs=access_logs,
        deletion_protection=deletion_protection and lb_type != "classic",
    )


def _deployment(s: _Section) -> DeploymentConfig:
    d = DeploymentConfig()
    name = s.string(
        "config", d.config, r"[A-Za-z0-9_.-]{1,100}", "must be a deployment config name"
    )
    minimum: MinimumHealthyHosts | None = None
    if s.has("minimumHealthyHosts"):
        if name in DEFAULT_DEPLOYMENT_CONFIGS or name.startswith("CodeDeployDefault."):
            raise s.error(
                "minimumHealthyHosts", f"only for a custom config name, not the built-in {name}"
            )
        m = s.section("minimumHealthyHosts")
        kind = m.choice("type", "HOST_COUNT", ("HOST_COUNT", "FLEET_PERCENT"))
        value = m.integer("value", 1, 0, 100 if kind == "FLEET_PERCENT" else 1000)
        m.finish()
        minimum = MinimumHealthyHosts(type=kind, value=value)
    elif name not in DEFAULT_DEPLOYMENT_CONFIGS:
        raise s.error(
            "config",
            f"must be one of {' | '.join(DEFAULT_DEPLOYMENT_CONFIGS)}, or a custom name "
            f"with deployment.minimumHealthyHosts, got {name!r}",
        )
    deployment = DeploymentConfig(
        config=name,
        minimum_healthy_hosts=minimum,
        deregister_timeout=s.integer(
            "deregisterTimeout", d.deregister_timeout, 1, MAX_HOOK_TIMEOUT
        ),
        register_timeout=s.integer("registerTimeout", d.register_timeout, 1, MAX_HOOK_TIMEOUT),
        auto_rollback=s.boolean("autoRollback", d.auto_rollback),
        rollback_alarms=s.boolean("rollbackAlarms", d.rollback_alarms),
    )
    s.finish()
    return deployment


def _queue(s: _Section) -> QueueConfig:
    d = QueueConfig()
    queue = QueueConfig(
        enabled=s.boolean("enabled", d.enabled),
        visibility_timeout=s.integer("visibilityTimeout", d.visibility_timeout, 0, 43200),
        max_receive_count=s.integer("maxReceiveCount", d.max_receive_count, 1, 1000),
        message_retention=s.integer("messageRetention", d.message_retention, 60, 1209600),
    )
    s.finish()
    return queue


def _database(s: _Section, protected: bool) -> DatabaseConfig:
    d = DatabaseConfig()
    database = DatabaseConfig(
        enabled=s.boolean("enabled", d.enabled),
        engine_version=s.string(
            "engineVersion", d.engine_version, r"\d+(\.\d+)?", "must be a PostgreSQL version"
        ),
        instance_class=s.string(
            "instanceClass",
            d.instance_class,
            r"db\.[a-z0-9]+\.[a-z0-9]+",
            "must be db.<family>.<size>",
        ),
        allocated_storage=s.integer("allocatedStorage", d.allocated_storage, 20, 65536),
        multi_az=s.boolean("multiAz", d.multi_az),
        db_name=s.string("dbName", d.db_name, r"[A-Za-z][A-Za-z0-9_]{0,62}", "must be a name"),
        username=s.string(
            "username", d.username, r"[A-Za-z][A-Za-z0-9_]{0,62}", "must be a user name"
        ),
        backup_retention_days=s.integer("backupRetentionDays", d.backup_retention_days, 0, 35),
        deletion_protection=s.boolean("deletionProtection", protected),
        iam_authentication=s.boolean("iamAuthentication", d.iam_authentication),
        monitoring_interval=s.integer("monitoringInterval", d.monitoring_interval, 0, 60),
        log_exports=tuple(s.sequence("logExports") or d.log_exports),
    )
    if database.username.lower() in ("postgres", "rdsadmin", "admin"):
        raise s.error("username", f"{database.username!r} is reserved by RDS PostgreSQL")
    if database.monitoring_interval not in limits.RDS_MONITORING_INTERVALS:
        raise s.error(
            "monitoringInterval",
            f"must be one of {', '.join(map(str, limits.RDS_MONITORING_INTERVALS))} seconds "
            f"(0 turns enhanced monitoring off), got {database.monitoring_interval}",
        )
    for i, log in enumerate(database.log_exports):
        if log not in _POSTGRES_LOGS:
            raise s.error(
                f"logExports[{i}]", f"must be one of {' | '.join(_POSTGRES_LOGS)}, got {log!r}"
            )
    s.finish()
    return database


_POSTGRES_LOGS = ("postgresql", "upgrade", "iam-db-auth-error")
_KMS_KEY_ARN = r"arn:aws[a-z-]*:kms:[a-z0-9-]+:\d{12}:(key/[0-9a-f-]{36}|alias/[A-Za-z0-9/_-]+)"


def _revisions(s: _Section) -> RevisionsConfig:
    d = RevisionsConfig()
    revisions = RevisionsConfig(
        noncurrent_version_days=s.integer(
            "noncurrentVersionDays", d.noncurrent_version_days, 1, 3650
        ),
        kms_key_arn=s.string(
            "kmsKeyArn", d.kms_key_arn, _KMS_KEY_ARN, "must be a KMS key ARN (arn:aws:kms:...)"
        ),
    )
    s.finish()
    return revisions


def _logs(s: _Section) -> LogsConfig:
    logs = LogsConfig(retention_days=s.integer("retentionDays", LogsConfig.retention_days, 1, 3650))
    s.finish()
    return logs


def _tags(raw: Any, source: str | None) -> dict[str, str]:
    s = _Section(raw, f"{NAMESPACE}tags", source)
    tags: dict[str, str] = {}
    for name in list(s.raw):
        value = s.string(name, "")
        if not 1 <= len(name) <= 128 or name.lower().startswith("aws:"):
            raise s.error(name, "tag keys are 1-128 characters and may not start with aws:")
        if name.startswith((NAMESPACE, HOOK_TAG_PREFIX)):
            raise s.error(
                name, f"the {HOOK_TAG_PREFIX} tag prefix is reserved for the program and its hooks"
            )
        if len(value) > 256:
            raise s.error(name, "tag values are at most 256 characters")
        tags[name] = value
    return tags


# ---------------------------------------------------------------------------------------------
# Cross-section rules


def _check_rules(c: StackConfig) -> None:
    def fail(key: str, rule: str) -> ConfigError:
        return ConfigError(f"{NAMESPACE}{key}", rule, c.source)

    lb, dep = c.load_balancer, c.deployment
    drain = lb.deregistration_delay + DEREGISTER_HOOK_MARGIN
    if drain >= dep.deregister_timeout:
        raise fail(
            "loadBalancer.deregistrationDelay",
            f"the drain ({lb.deregistration_delay}s) plus the hook's {DEREGISTER_HOOK_MARGIN}s "
            f"margin must be shorter than deployment.deregisterTimeout "
            f"({drain} >= {dep.deregister_timeout})",
        )
    healthy_after = (lb.health_check.healthy_threshold + 1) * lb.health_check.interval
    if healthy_after >= dep.register_timeout:
        raise fail(
            "deployment.registerTimeout",
            "must exceed (healthCheck.healthyThreshold + 1) x healthCheck.interval, the time a "
            "registered instance needs to turn healthy "
            f"({dep.register_timeout} <= {healthy_after})",
        )
    _check_minimum_healthy_hosts(c, fail)
    _check_public_ips(c, fail)
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
    if hosts.type == "FLEET_PERCENT" and math.ceil(fleet * hosts.value / 100) > fleet - 1:
        highest = max(p for p in range(100) if math.ceil(fleet * p / 100) <= fleet - 1)
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
            if name not in _TOP_LEVEL_KEYS:
                raise ConfigError(
                    key, f"unknown key (known keys: {', '.join(_TOP_LEVEL_KEYS)})", source
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
    config = StackConfig(
        stack=stack,
        region=region,
        environment=environment,
        network=_network(section("network")),
        fleet=fleet,
        scaling=_scaling(section("scaling")),
        load_balancer=_load_balancer(section("loadBalancer"), fleet.app_port, protected),
        deployment=_deployment(section("deployment")),
        queue=_queue(section("queue")),
        database=_database(section("database"), protected),
        tags=_tags(ours.get("tags"), source),
        revisions=_revisions(section("revisions")),
        logs=_logs(section("logs")),
        source=source,
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


def load_pulumi_config() -> StackConfig:
    """Validate the running Pulumi program's config (every ``cutover:`` key, ``aws:region``)."""
    import pulumi
    from pulumi.runtime import config as runtime_config

    values: dict[str, Any] = {}
    values.update(runtime_config.get_config_env())
    values.update(runtime_config.CONFIG.get())
    region = pulumi.Config("aws").get("region")
    if region is not None:
        values["aws:region"] = region
    return load_mapping(values, stack=pulumi.get_stack(), source=f"stack {pulumi.get_stack()}")
