"""One parser per config section: each reads its keys, applies the AWS APIs' limits
(``awsfacts.limits``) and returns the section's typed model."""

from __future__ import annotations

import ipaddress
import re
from typing import Any

from awsfacts import limits
from stack.config import (
    DEFAULT_DEPLOYMENT_CONFIGS,
    DEPLOYMENT_STYLES,
    HOOK_TAG_PREFIX,
    LOG_STATEMENT_LEVELS,
    MAX_HOOK_TIMEOUT,
    NAMESPACE,
    NAT_MODES,
    SCALING_MODES,
    ConfigError,
    DatabaseConfig,
    DataVolume,
    DeploymentConfig,
    FleetConfig,
    LogsConfig,
    MinimumHealthyHosts,
    NetworkConfig,
    QueueConfig,
    RevisionsConfig,
    ScalingConfig,
    StepConfig,
)
from stack.reader import _Section


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
    ami = s.string("ami", d.ami, _AMI, 'must be an AMI id (ami-...), resolve:ssm:<parameter> or ""')
    _check_instance_types(s, instance_type, types, ami)
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
        data_volumes=_data_volumes(s),
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


MAX_DATA_VOLUMES = 21  # device names /dev/sdf .. /dev/sdz (infra/fleet.py)


def _data_volumes(s: _Section) -> tuple[DataVolume, ...]:
    raw = s.sequence("dataVolumes") or []
    if len(raw) > MAX_DATA_VOLUMES:
        raise s.error("dataVolumes", f"at most {MAX_DATA_VOLUMES} volumes, got {len(raw)}")
    return tuple(
        _data_volume(_Section(item, f"{s.key}.dataVolumes[{i}]", s.source))
        for i, item in enumerate(raw)
    )


def _data_volume(s: _Section) -> DataVolume:
    d = DataVolume(size_gb=0)
    kind = s.choice("type", d.type, tuple(limits.EBS_VOLUME_TYPES))
    rule = limits.EBS_VOLUME_TYPES[kind]
    size = s.integer("sizeGb", 0, *rule.size_gb)
    iops = s.integer("iops", d.iops, 0, 256000)
    throughput = s.integer("throughput", d.throughput, 0, 1000)
    if iops and rule.iops is None:
        raise s.error("iops", f"{kind} volumes take no provisioned IOPS; leave it out")
    if rule.iops is not None and kind != "gp3" and not iops:
        raise s.error("iops", f"{kind} volumes need provisioned IOPS ({rule.iops[0]}..)")
    if iops and rule.iops is not None:
        high = min(rule.iops[1], rule.iops_per_gb * size)
        if not rule.iops[0] <= iops <= high:
            raise s.error(
                "iops",
                f"{kind} takes {rule.iops[0]}..{high} IOPS at {size} GiB "
                f"(at most {rule.iops_per_gb} per GiB), got {iops}",
            )
    if throughput and rule.throughput is None:
        raise s.error("throughput", "only gp3 volumes take a provisioned throughput")
    if throughput and not rule.throughput[0] <= throughput <= rule.throughput[1]:  # type: ignore[index]
        raise s.error(
            "throughput",
            f"gp3 takes {rule.throughput[0]}..{rule.throughput[1]} MiB/s, got {throughput}",  # type: ignore[index]
        )
    s.finish()
    return DataVolume(size_gb=size, type=kind, iops=iops, throughput=throughput)


def _check_instance_types(
    s: _Section, primary: str, alternatives: tuple[str, ...], ami: str
) -> None:
    """Distinct types; several architectures only with the default image, which resolves per
    architecture (each gets a launch template of its own). A pinned image runs on one."""
    seen = {primary}
    architecture = limits.instance_type(primary).architectures  # type: ignore[union-attr]
    for i, name in enumerate(alternatives):
        if name in seen:
            raise s.error(f"instanceTypes[{i}]", f"{name} is listed twice (or is instanceType)")
        seen.add(name)
        other = limits.instance_type(name).architectures  # type: ignore[union-attr]
        if ami and not set(other) & set(architecture):
            raise s.error(
                f"instanceTypes[{i}]",
                f"{name} runs {'/'.join(other)}, instanceType {primary} runs "
                f"{'/'.join(architecture)}: the pinned fleet.ami serves one architecture; drop "
                'the type, or set ami: "" (Amazon Linux 2023 resolved per architecture)',
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
        style=s.choice("style", d.style, DEPLOYMENT_STYLES),
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
        log_statement=s.choice("logStatement", d.log_statement, LOG_STATEMENT_LEVELS),
        log_min_duration_statement=s.integer(
            "logMinDurationStatement", d.log_min_duration_statement, 0, 2_147_483_647
        ),
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


# AWS allows TAGS_PER_RESOURCE (50) tags per resource. The group also carries Name, cutover:stack,
# cutover:environment, cutover:allow-downtime, cutover:opt-outs and the hooks' state tags.
MAX_USER_TAGS = limits.TAGS_PER_RESOURCE - 10


def _tags(raw: Any, source: str | None) -> dict[str, str]:
    s = _Section(raw, f"{NAMESPACE}tags", source)
    if len(s.raw) > MAX_USER_TAGS:
        raise ConfigError(
            s.key,
            f"at most {MAX_USER_TAGS} tags (AWS allows {limits.TAGS_PER_RESOURCE} per resource; "
            "the Auto Scaling group also carries the program's and the hooks' own), "
            f"got {len(s.raw)}",
            source,
        )
    tags: dict[str, str] = {}
    for name in list(s.raw):
        value = s.string(name, "")
        if not 1 <= len(name) <= limits.TAG_KEY_LENGTH or name.lower().startswith("aws:"):
            raise s.error(
                name,
                f"tag keys are 1-{limits.TAG_KEY_LENGTH} characters and may not start with aws:",
            )
        if name.startswith((NAMESPACE, HOOK_TAG_PREFIX)):
            raise s.error(
                name, f"the {HOOK_TAG_PREFIX} tag prefix is reserved for the program and its hooks"
            )
        if len(value) > limits.TAG_VALUE_LENGTH:
            raise s.error(name, f"tag values are at most {limits.TAG_VALUE_LENGTH} characters")
        tags[name] = value
    return tags
