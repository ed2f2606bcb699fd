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

import dataclasses
import ipaddress
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

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

_TOP_LEVEL_KEYS = (
    "environment",
    "network",
    "fleet",
    "scaling",
    "loadBalancer",
    "deployment",
    "queue",
    "database",
    "tags",
    "traffic",
)


class ConfigError(Exception):
    """A stack setting breaks a rule. ``str(error)`` is one line: ``[file: ]key: rule``."""

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
    ami: str = ""
    min_size: int = 1
    max_size: int = 2
    desired_capacity: int = 1
    app_port: int = 80
    root_volume_size_gb: int = 20
    health_check_grace_period: int = 300
    allow_downtime: bool = False

    @property
    def architecture(self) -> str:
        """``arm64`` for Graviton families (a ``g`` after the generation: m7g, c7gn, t4g)."""
        family = self.instance_type.split(".", 1)[0]
        match = re.fullmatch(r"([a-z]+)(\d+)([a-z-]*)", family)
        if family == "a1" or (match and "g" in match.group(3)):
            return "arm64"
        return "x86_64"


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
class ListenerConfig:
    protocol: str
    port: int
    certificate_arn: str = ""

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
    deletion_protection: bool = False
    port: int = 5432


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
    source: str | None = None
    traffic: TrafficConfig | None = None  # the weighted DNS records of the move, when set

    @property
    def is_production(self) -> bool:
        return self.environment == "production"

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
    s.finish()
    return NetworkConfig(vpc_cidr=str(network), availability_zones=zones, nat_gateways=nat)


def _fleet(s: _Section) -> FleetConfig:
    d = FleetConfig()
    instance_type = s.string(
        "instanceType",
        d.instance_type,
        r"[a-z][a-z0-9-]*\.[a-z0-9-]+",
        "must be an EC2 instance type such as t3.small",
    )
    ami = s.string("ami", d.ami, r"ami-[0-9a-f]{8,17}", 'must be an AMI id (ami-...) or ""')
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
    fleet = FleetConfig(
        instance_type=instance_type,
        ami=ami,
        min_size=min_size,
        max_size=max_size,
        desired_capacity=desired,
        app_port=s.integer("appPort", d.app_port, 1, 65535),
        root_volume_size_gb=s.integer("rootVolumeSizeGb", d.root_volume_size_gb, 8, 16384),
        health_check_grace_period=s.integer(
            "healthCheckGracePeriod", d.health_check_grace_period, 0, 7200
        ),
        allow_downtime=s.boolean("allowDowntime", d.allow_downtime),
    )
    s.finish()
    return fleet


def _step(s: _Section, threshold_key: str, default: StepConfig, sign: int) -> StepConfig:
    threshold = s.integer(threshold_key, default.threshold, 1, 99)
    adjustment = s.integer("adjustment", default.adjustment, -100, 100)
    if adjustment == 0 or (adjustment > 0) != (sign > 0):
        word = "positive" if sign > 0 else "negative"
        raise s.error("adjustment", f"must be {word}, got {adjustment}")
    period = s.integer("period", default.period, 10, 86400)
    if period not in (10, 30) and period % 60:
        raise s.error("period", f"must be 10, 30 or a multiple of 60 seconds, got {period}")
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


def _listener(s: _Section, lb_type: str, default_certificate: str) -> ListenerConfig:
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
    s.finish()
    return ListenerConfig(protocol=protocol, port=port, certificate_arn=certificate)


def _listeners(s: _Section, lb_type: str, certificate: str) -> tuple[ListenerConfig, ...]:
    raw = s.sequence("listeners")
    if raw is None:
        plain, secure = ("HTTP", "HTTPS") if lb_type != "network" else ("TCP", "TLS")
        defaults = [ListenerConfig(plain, 80)]
        if certificate:
            defaults.append(ListenerConfig(secure, 443, certificate))
        return tuple(defaults)
    if not raw:
        raise s.error("listeners", "needs at least one listener")
    listeners = tuple(
        _listener(_Section(item, f"{s.key}.listeners[{i}]", s.source), lb_type, certificate)
        for i, item in enumerate(raw)
    )
    ports = [listener.port for listener in listeners]
    duplicates = sorted({p for p in ports if ports.count(p) > 1})
    if duplicates:
        raise s.error("listeners", f"each port may have one listener, {duplicates[0]} repeats")
    return listeners


def _health_check(s: _Section, lb_type: str) -> HealthCheckConfig:
    d = HealthCheckConfig()
    protocol = s.choice("protocol", d.protocol, HEALTH_CHECK_PROTOCOLS[lb_type])
    path = s.string("path", "", r"/[^\s]*", "must start with /")
    if protocol in ("HTTP", "HTTPS"):
        path = path or d.path
    elif path:
        raise s.error("path", f"only HTTP and HTTPS health checks have a path, not {protocol}")
    interval = s.integer("interval", d.interval, 5, 300)
    timeout = s.integer("timeout", d.timeout, 2, 120)
    if timeout >= interval:
        raise s.error("timeout", f"must be shorter than interval ({timeout} >= {interval})")
    matcher = s.string("matcher", d.matcher, r"\d{3}([-,]\d{3})*", "must be HTTP codes like 200")
    check = HealthCheckConfig(
        protocol=protocol,
        path=path,
        interval=interval,
        timeout=timeout,
        healthy_threshold=s.integer("healthyThreshold", d.healthy_threshold, 2, 10),
        unhealthy_threshold=s.integer("unhealthyThreshold", d.unhealthy_threshold, 2, 10),
        matcher=matcher,
    )
    s.finish()
    return check


def _load_balancer(s: _Section) -> LoadBalancerConfig:
    d = LoadBalancerConfig()
    lb_type = s.choice("type", d.type, LOAD_BALANCER_TYPES)
    certificate = s.string(
        "certificateArn", "", _CERTIFICATE_ARN, "must be an ACM or IAM certificate ARN"
    )
    listeners = _listeners(s, lb_type, certificate)
    health_check = _health_check(s.section("healthCheck"), lb_type)
    delay = s.integer("deregistrationDelay", d.deregistration_delay, 0, 3600)
    s.finish()
    return LoadBalancerConfig(
        type=lb_type,
        listeners=listeners,
        health_check=health_check,
        deregistration_delay=delay,
        certificate_arn=certificate,
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


def _database(s: _Section, production: bool) -> DatabaseConfig:
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
        deletion_protection=s.boolean("deletionProtection", production),
    )
    if database.username.lower() in ("postgres", "rdsadmin", "admin"):
        raise s.error("username", f"{database.username!r} is reserved by RDS PostgreSQL")
    s.finish()
    return database


def _tags(raw: Any, source: str | None) -> dict[str, str]:
    s = _Section(raw, f"{NAMESPACE}tags", source)
    tags: dict[str, str] = {}
    for name in list(s.raw):
        value = s.string(name, "")
        if not 1 <= len(name) <= 128 or name.lower().startswith("aws:"):
            raise s.error(name, "tag keys are 1-128 characters and may not start with aws:")
        if name.startswith(NAMESPACE):
            raise s.error(name, f"the {NAMESPACE} tag prefix is reserved for the program")
        if len(value) > 256:
            raise s.error(name, "tag values are at most 256 characters")
        tags[name] = value
    return tags


@dataclass(frozen=True)
class EndpointCheckConfig:
    """A Route 53 health check of one side of the move."""

    protocol: str
    port: int
    path: str

    @property
    def uses_path(self) -> bool:
        return self.protocol in ("HTTP", "HTTPS")


@dataclass(frozen=True)
class TrafficConfig:
    """Two weighted records for one name: Azure's current front end and the AWS load balancer.

    The records' weights belong to ``python -m migrate shift`` once they exist: the program
    creates them at azure 100 / aws 0 and never changes them again."""

    zone_id: str  # "" when the zone is named instead
    zone_name: str  # "" when the zone is given by id
    record_name: str
    azure_endpoint: str
    ttl: int
    aws_check: EndpointCheckConfig
    azure_check: EndpointCheckConfig
    request_interval: int = 30
    failure_threshold: int = 3

    @property
    def azure_is_ip(self) -> bool:
        """An IP address gets an A record; a hostname a CNAME."""
        try:
            ipaddress.IPv4Address(self.azure_endpoint)
        except ValueError:
            return False
        return True


TRAFFIC_CHECK_PROTOCOLS = ("HTTP", "HTTPS", "TCP")
# Set identifiers of the two weighted records: infra/traffic.py creates them under these,
# python -m migrate shift finds them by these.
AZURE_SET_IDENTIFIER = "azure"
AWS_SET_IDENTIFIER = "aws"
# Route 53 limits: a TTL up to 2^31 - 1 (a day is plenty for a record being moved), and health
# checks every 10 or 30 seconds with a failure threshold of 1..10.
_DNS_NAME = r"(?=.{1,253}\.?$)([A-Za-z0-9_]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)+[A-Za-z]{2,63}\.?"
_ZONE_ID = r"(/hostedzone/)?[A-Z0-9]{1,32}"


def _endpoint_check(s: _Section, default: EndpointCheckConfig) -> EndpointCheckConfig:
    protocol = s.choice("protocol", default.protocol, TRAFFIC_CHECK_PROTOCOLS)
    default_port = {"HTTP": 80, "HTTPS": 443}.get(protocol, default.port)
    port = s.integer("port", default_port, 1, 65535)
    path = s.string("path", "", r"/[^\s]{0,254}", "must start with / (at most 255 characters)")
    if protocol == "TCP" and path:
        raise s.error("path", "a TCP health check has no path")
    check = EndpointCheckConfig(protocol=protocol, port=port, path=path or "/")
    s.finish()
    return check


def _traffic(raw: Any, source: str | None, load_balancer_type: str) -> TrafficConfig | None:
    """``cutover:traffic``: absent means the program creates no DNS records at all."""
    if raw is None:
        return None
    s = _Section(raw, f"{NAMESPACE}traffic", source)
    zone_id = s.string("zoneId", "", _ZONE_ID, "must be a Route 53 hosted zone id such as Z0123ABC")
    zone_name = s.string("zoneName", "", _DNS_NAME, "must be a DNS name such as example.com")
    if bool(zone_id) == bool(zone_name):
        raise s.error("zoneId", "give the hosted zone as zoneId or as zoneName (exactly one)")
    record = s.string("recordName", "", _DNS_NAME, "must be a DNS name such as www.example.com")
    if not record:
        raise s.error(
            "recordName", "is required: the name your users resolve, e.g. www.example.com"
        )
    zone = zone_name.rstrip(".").lower()
    name = record.rstrip(".").lower()
    if zone and not (name == zone or name.endswith("." + zone)):
        raise s.error("recordName", f"{record!r} is not inside the zone {zone_name!r}")
    endpoint = s.string(
        "azureEndpoint",
        "",
        _DNS_NAME + r"|\d{1,3}(\.\d{1,3}){3}",
        "must be a hostname or an IPv4 address",
    )
    if not endpoint:
        raise s.error("azureEndpoint", "is required: the hostname or IP of Azure's front end")
    if re.fullmatch(r"[\d.]+", endpoint):
        try:
            ipaddress.IPv4Address(endpoint)
        except ValueError:
            raise s.error("azureEndpoint", f"{endpoint!r} is not a valid IPv4 address") from None
    if zone and name == zone and not re.fullmatch(r"[\d.]+", endpoint):
        raise s.error(
            "azureEndpoint",
            "a hostname needs a CNAME, which the zone apex cannot hold: give Azure's IPv4 "
            "address, or a recordName below the apex (www.)",
        )
    if endpoint.rstrip(".").lower() == name:
        raise s.error("azureEndpoint", "must not be the record itself (a CNAME to itself loops)")
    if load_balancer_type != "application":
        raise s.error(
            "recordName",
            "the traffic shift needs loadBalancer.type application (its 5xx gate reads the "
            f"ALB's metrics), got {load_balancer_type}",
        )
    ttl = s.integer("ttl", 60, 0, 86400)
    interval = s.integer("requestInterval", 30, 10, 30)
    if interval not in (10, 30):
        raise s.error("requestInterval", f"Route 53 checks every 10 or 30 seconds, got {interval}")
    threshold = s.integer("failureThreshold", 3, 1, 10)
    checks = s.section("healthCheck")
    aws_check = _endpoint_check(checks.section("aws"), EndpointCheckConfig("HTTP", 80, "/"))
    azure_check = _endpoint_check(checks.section("azure"), EndpointCheckConfig("HTTPS", 443, "/"))
    checks.finish()
    s.finish()
    return TrafficConfig(
        zone_id=zone_id.removeprefix("/hostedzone/"),
        zone_name=zone_name.rstrip("."),
        record_name=record.rstrip("."),
        azure_endpoint=endpoint.rstrip("."),
        ttl=ttl,
        aws_check=aws_check,
        azure_check=azure_check,
        request_interval=interval,
        failure_threshold=threshold,
    )


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
    if c.is_production:
        _check_production(c, fail)


def _check_production(c: StackConfig, fail: Any) -> None:
    fleet, dep = c.fleet, c.deployment
    if fleet.min_size < 2:
        raise fail(
            "fleet.minSize",
            f"production needs minSize >= 2 so a deployment never takes the last instance "
            f"out, got {fleet.min_size}",
        )
    if c.network.availability_zones < 2:
        raise fail("network.availabilityZones", "production needs at least 2 availability zones")
    if fleet.allow_downtime:
        raise fail("fleet.allowDowntime", "production must not accept downtime: set it to false")
    if dep.config == "CodeDeployDefault.AllAtOnce":
        raise fail("deployment.config", "production may not deploy AllAtOnce (full outage)")
    if dep.minimum_healthy_hosts is not None and dep.minimum_healthy_hosts.value < 1:
        raise fail(
            "deployment.minimumHealthyHosts.value",
            "production needs at least one healthy host during a deployment",
        )


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
    production = environment == "production"
    config = StackConfig(
        stack=stack,
        region=region,
        environment=environment,
        network=_network(section("network")),
        fleet=_fleet(section("fleet")),
        scaling=_scaling(section("scaling")),
        load_balancer=_load_balancer(section("loadBalancer")),
        deployment=_deployment(section("deployment")),
        queue=_queue(section("queue")),
        database=_database(section("database"), production),
        tags=_tags(ours.get("tags"), source),
        source=source,
    )
    config = dataclasses.replace(
        config, traffic=_traffic(ours.get("traffic"), source, config.load_balancer.type)
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

    path = Path(path)
    try:
        document = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except OSError as error:
        raise ConfigError("file", f"cannot be read ({error.strerror})", str(path)) from None
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
