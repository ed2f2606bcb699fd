"""The stack's settings as a typed model: what each key means once validated.

Built by ``stack.load`` (which validates every value and reports the key); read by the program's
components, the preview and the rehearsal. Every key, its default and its rule is documented in
``infra/README.md``.
"""

from __future__ import annotations

import ipaddress
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from awsfacts import codedeploy, limits
from awsfacts.codedeploy import MinimumHealthyHosts
from hooks import timing
from hooks.group import ALLOW_DOWNTIME_TAG, STATE_TAGS
from stack.names import ENVIRONMENT_TAG, STACK_TAG

PROJECT = "cutover"
NAMESPACE = f"{PROJECT}:"
REPO_ROOT = Path(__file__).resolve().parent.parent

# The hooks' timing contract (hooks/timing.py) and CodeDeploy's configs (awsfacts/codedeploy.py)
# are defined once there: the drain plus DEREGISTER_HOOK_MARGIN must fit in the deregister
# hook's timeout, and a lifecycle event may run for at most MAX_HOOK_TIMEOUT seconds.
DEREGISTER_HOOK_MARGIN = timing.DEREGISTER_HOOK_MARGIN
MAX_HOOK_TIMEOUT = timing.MAX_EVENT_TIMEOUT
DEFAULT_DEPLOYMENT_CONFIGS = codedeploy.PREDEFINED_CONFIGS
LOAD_BALANCER_TYPES = ("application", "network", "classic")
LISTENER_PROTOCOLS = {
    "application": ("HTTP", "HTTPS"),
    "network": ("TCP", "TLS"),
    "classic": ("HTTP", "HTTPS", "TCP", "SSL"),
}
TARGET_PROTOCOLS = {"application": ("HTTP", "HTTPS"), "network": ("TCP", "TLS"), "classic": ()}
HEALTH_CHECK_PROTOCOLS = {
    "application": ("HTTP", "HTTPS"),
    "network": ("TCP", "HTTP", "HTTPS"),
    "classic": ("HTTP", "HTTPS", "TCP", "SSL"),
}
ENCRYPTED_PROTOCOLS = ("HTTPS", "TLS", "SSL")
# The allocation strategies of the program's mixed-instances policy (infra/fleet.py); migrate
# stack-config compares a plan's strategy with them.
ON_DEMAND_ALLOCATION_STRATEGY = "prioritized"
SPOT_ALLOCATION_STRATEGY = "price-capacity-optimized"
# AWS managed rule groups a web ACL takes by default (vendor AWS; WAF capacity units in AWS's
# documentation: 700 + 200 + 25 + 50 of the 1,500 a web ACL gets without extra charge).
WAF_MANAGED_RULE_GROUPS = (
    "AWSManagedRulesCommonRuleSet",
    "AWSManagedRulesKnownBadInputsRuleSet",
    "AWSManagedRulesAmazonIpReputationList",
    "AWSManagedRulesAnonymousIpList",
)
# PostgreSQL's log_statement levels that log at least every DDL statement (``none`` does not).
LOG_STATEMENT_LEVELS = ("ddl", "mod", "all")
NAT_MODES = ("none", "single", "perAz")
SCALING_MODES = ("targetTracking", "step")
# in-place: one group, CodeDeploy's hooks take instances out one by one. blue-green: two groups
# (BLUE_GREEN_COLOURS) behind weighted target groups; `python -m release` moves the traffic.
DEPLOYMENT_STYLES = ("in-place", "blue-green")
BLUE_GREEN_COLOURS = ("blue", "green")
# The hooks keep their state in tags on the group under this prefix (one home: hooks.group).
# The program declares none of those keys except the downtime opt-out, and users may not either.
HOOK_TAG_PREFIX = os.path.commonprefix([ALLOW_DOWNTIME_TAG, *STATE_TAGS])
# Amazon Linux 2023, resolved by EC2 at each launch: the launch template never changes when
# Amazon publishes a new image, so `pulumi up` stays quiet (see fleet.ami).
AL2023_PARAMETER = "/aws/service/ami-amazon-linux-latest/al2023-ami-kernel-default-{arch}"

TOP_LEVEL_KEYS = (
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
    "traffic",
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


def architecture_of(instance_type: str) -> str:
    """``arm64`` or ``x86_64``: from the EC2 catalog, else from the family name (a ``g`` after
    the generation: m7g, c7gn, t4g)."""
    known = limits.instance_type(instance_type)
    if known is not None:
        return "arm64" if known.architectures == ("arm64",) else "x86_64"
    family = instance_type.split(".", 1)[0]
    match = re.fullmatch(r"([a-z]+)(\d+)([a-z-]*)", family)
    if family == "a1" or (match and "g" in match.group(3)):
        return "arm64"
    return "x86_64"


@dataclass(frozen=True)
class DataVolume:
    """One EBS data volume of the launch template (an Azure data disk, from the plan)."""

    size_gb: int
    type: str = "gp3"
    iops: int = 0  # 0: the type's baseline (gp3 3,000); required for io1/io2
    throughput: int = 0  # MiB/s, gp3 only; 0: the baseline (125)


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
    data_volumes: tuple[DataVolume, ...] = ()
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
        """The primary instance type's architecture (``arm64`` or ``x86_64``)."""
        return architecture_of(self.instance_type)

    @property
    def image_id(self) -> str:
        """What the primary launch template names: the pinned AMI, or an SSM parameter EC2
        resolves at launch (``resolve:ssm:...``), by default Amazon Linux 2023."""
        return self.image_for(self.architecture)

    def image_for(self, architecture: str) -> str:
        if self.ami:
            return self.ami
        return "resolve:ssm:" + AL2023_PARAMETER.format(arch=architecture)

    @property
    def types_by_architecture(self) -> dict[str, tuple[str, ...]]:
        """Every type grouped by architecture, the primary's architecture first: one launch
        template per architecture (an image runs on one)."""
        groups: dict[str, list[str]] = {}
        for name in self.all_instance_types:
            groups.setdefault(architecture_of(name), []).append(name)
        return {arch: tuple(names) for arch, names in groups.items()}

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
class CertificateRequest:
    """An ACM certificate the stack requests and validates by DNS: the validation records go
    into the Route 53 hosted zone ``zone_id``, which must serve ``domain_name``."""

    domain_name: str
    zone_id: str
    alternative_names: tuple[str, ...] = ()


@dataclass(frozen=True)
class WafConfig:
    """The WAFv2 web ACL in front of an internet-facing Application Load Balancer."""

    enabled: bool = True
    managed_rule_groups: tuple[str, ...] = WAF_MANAGED_RULE_GROUPS
    # Requests per client IP in any 5-minute window before the rate-based rule blocks it.
    rate_limit: int = 2000
    log_retention_days: int = 365


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
    # A certificate the stack requests itself (instead of certificate_arn).
    certificate: CertificateRequest | None = None
    # The visible opt-out of HTTPS for an internet-facing load balancer (ELB.1).
    allow_plain_http: bool = False
    waf: WafConfig = field(default_factory=lambda: WafConfig(enabled=False))
    target_protocol: str = "HTTP"

    @property
    def has_certificate(self) -> bool:
        return bool(self.certificate_arn) or self.certificate is not None

    @property
    def serves_plain_http(self) -> bool:
        """An HTTP listener that forwards: an ALB's without an HTTPS listener to redirect to, or
        any classic ELB's (a classic ELB cannot redirect). TCP is not judged: an NLB or classic
        TCP listener may carry the application's own TLS."""
        plain = any(x.protocol == "HTTP" for x in self.listeners)
        if self.type == "classic":
            return plain
        return self.type == "application" and plain and not self.redirects_http

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
class DeploymentConfig:
    config: str = codedeploy.DEFAULT_CONFIG
    minimum_healthy_hosts: MinimumHealthyHosts | None = None
    deregister_timeout: int = timing.DEFAULT_DEREGISTER_TIMEOUT
    register_timeout: int = timing.DEFAULT_REGISTER_TIMEOUT
    auto_rollback: bool = True
    rollback_alarms: bool = True
    style: str = "in-place"

    @property
    def blue_green(self) -> bool:
        return self.style == "blue-green"

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
    # The stack's own parameter group: TLS only (always), DDL and slow statements in the
    # postgresql log.
    log_statement: str = "ddl"
    log_min_duration_statement: int = 1000  # milliseconds; 0 logs every statement's duration

    @property
    def parameter_group_family(self) -> str:
        """``postgres16`` for 16 or 16.4 (from 10 on the family is the major version)."""
        major = self.engine_version.split(".")[0]
        return f"postgres{major}" if int(major) >= 10 else f"postgres{self.engine_version}"


@dataclass(frozen=True)
class RevisionsConfig:
    noncurrent_version_days: int = 90
    kms_key_arn: str = ""


@dataclass(frozen=True)
class LogsConfig:
    retention_days: int = 365


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

    The records' weights belong to ``python -m shift`` once they exist: the program
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
    traffic: TrafficConfig | None = None  # the weighted DNS records of the move, when set

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
        return {**self.tags, STACK_TAG: self.stack, ENVIRONMENT_TAG: self.environment}

    @property
    def group_name(self) -> str:
        """The Auto Scaling group's name; fixed so IAM can scope the hooks' calls to it."""
        return f"{self.resource_prefix}-fleet"

    @property
    def deployment_group_name(self) -> str:
        return f"{self.resource_prefix}-fleet"
