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
    ENCRYPTED_PROTOCOLS,
    HEALTH_CHECK_PROTOCOLS,
    HOOK_TAG_PREFIX,
    LISTENER_PROTOCOLS,
    LOAD_BALANCER_TYPES,
    LOG_STATEMENT_LEVELS,
    MAX_HOOK_TIMEOUT,
    NAMESPACE,
    NAT_MODES,
    SCALING_MODES,
    TARGET_PROTOCOLS,
    WAF_MANAGED_RULE_GROUPS,
    CertificateRequest,
    ConfigError,
    DatabaseConfig,
    DataVolume,
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
    StepConfig,
    WafConfig,
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


_CERTIFICATE_ARN = (
    r"arn:aws[a-z-]*:(acm:[a-z0-9-]+:\d{12}:certificate/.+|iam::\d{12}:server-certificate/.+)"
)


def _listener(
    s: _Section, lb_type: str, default_certificate: str, requested: bool, app_port: int
) -> ListenerConfig:
    """``requested``: the stack requests a certificate itself (loadBalancer.certificate); its
    ARN is known only at deployment, so the listener's ``certificate_arn`` stays empty."""
    protocol = s.choice("protocol", "", LISTENER_PROTOCOLS[lb_type])
    port = s.integer("port", 0, 1, 65535)
    certificate = s.string(
        "certificateArn", "", _CERTIFICATE_ARN, "must be an ACM or IAM certificate ARN"
    )
    certificate = certificate or default_certificate
    if protocol in ENCRYPTED_PROTOCOLS and not certificate and not requested:
        raise s.error(
            "certificateArn",
            f"a {protocol} listener needs a certificate: set loadBalancer.certificateArn, "
            "loadBalancer.certificate (domainName + zoneId) or the listener's certificateArn",
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
    s: _Section, lb_type: str, certificate: str, requested: bool, app_port: int
) -> tuple[ListenerConfig, ...]:
    raw = s.sequence("listeners")
    if raw is None:
        plain, secure = ("HTTP", "HTTPS") if lb_type != "network" else ("TCP", "TLS")
        defaults = [ListenerConfig(plain, 80, target_port=app_port)]
        if certificate or requested:
            defaults.append(ListenerConfig(secure, 443, certificate, target_port=app_port))
        return tuple(defaults)
    if not raw:
        raise s.error("listeners", "needs at least one listener")
    listeners = tuple(
        _listener(
            _Section(item, f"{s.key}.listeners[{i}]", s.source),
            lb_type,
            certificate,
            requested,
            app_port,
        )
        for i, item in enumerate(raw)
    )
    ports = [listener.port for listener in listeners]
    duplicates = sorted({p for p in ports if ports.count(p) > 1})
    if duplicates:
        raise s.error("listeners", f"each port may have one listener, {duplicates[0]} repeats")
    redirecting = lb_type == "application" and any(x.protocol == "HTTPS" for x in listeners)
    if lb_type == "application" and (certificate or requested) and not redirecting:
        which = "certificateArn" if certificate else "certificate"
        raise s.error(
            "listeners",
            f"{which} is set but no listener is HTTPS: add {{protocol: HTTPS, port: 443}} "
            "so plain HTTP redirects to it (ELB.1)",
        )
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
    raw_request = s.value("certificate", None)
    requested = None
    if raw_request is not None:
        requested = _certificate_request(
            _Section(raw_request, s.child_key("certificate"), s.source)
        )
    if certificate and requested:
        raise s.error(
            "certificate",
            "give loadBalancer.certificateArn (an existing certificate) or "
            "loadBalancer.certificate (the stack requests one), not both",
        )
    listeners = _listeners(s, lb_type, certificate, requested is not None, app_port)
    health_check = _health_check(s.section("healthCheck"), lb_type)
    delay = s.integer("deregistrationDelay", d.deregistration_delay, 0, 3600)
    internal = s.boolean("internal", d.internal)
    access_logs = s.boolean("accessLogs", protected)
    deletion_protection = s.boolean("deletionProtection", protected)
    if lb_type == "classic" and s.has("deletionProtection") and deletion_protection:
        raise s.error("deletionProtection", "a classic load balancer has no deletion protection")
    config = LoadBalancerConfig(
        type=lb_type,
        listeners=listeners,
        health_check=health_check,
        deregistration_delay=delay,
        certificate_arn=certificate,
        internal=internal,
        access_logs=access_logs,
        deletion_protection=deletion_protection and lb_type != "classic",
        certificate=requested,
        allow_plain_http=s.boolean("allowPlainHttp", d.allow_plain_http),
        waf=_waf(s.section("waf"), lb_type, internal),
        target_protocol=_target_protocol(s, lb_type),
    )
    _check_https(s, config)
    s.finish()
    return config


def _target_protocol(s: _Section, lb_type: str) -> str:
    """What the load balancer speaks to the instances (a classic ELB's follows each listener)."""
    if lb_type == "classic":
        if s.has("targetProtocol"):
            raise s.error("targetProtocol", "a classic load balancer's follows each listener")
        return ""
    choices = TARGET_PROTOCOLS[lb_type]
    return s.choice("targetProtocol", choices[0], choices)


def _check_https(s: _Section, lb: LoadBalancerConfig) -> None:
    """An internet-facing load balancer serves HTTPS (plain HTTP only redirects to it), unless
    its file opts out with ``allowPlainHttp: true`` (ELB.1)."""
    plain = lb.serves_plain_http
    if plain and not lb.internal and not lb.allow_plain_http:
        if lb.type == "classic":
            rule = (
                "an internet-facing classic load balancer cannot redirect HTTP to HTTPS: use "
                "HTTPS/SSL listeners only (with certificateArn), type: application, or opt out "
                "visibly with loadBalancer.allowPlainHttp: true (ELB.1)"
            )
            raise s.error("listeners", rule)
        key = "listeners" if lb.has_certificate else "certificateArn"
        raise s.error(
            key,
            "an internet-facing load balancer serves HTTPS, with HTTP only redirecting to it "
            "(ELB.1): set loadBalancer.certificateArn to an ACM certificate, or "
            "loadBalancer.certificate: {domainName, zoneId} for the stack to request and "
            "DNS-validate one; or opt out visibly with loadBalancer.allowPlainHttp: true",
        )
    if lb.allow_plain_http and not plain:
        raise s.error(
            "allowPlainHttp",
            "nothing to opt out of: no listener serves plain HTTP (HTTP redirects to HTTPS, or "
            "there is no HTTP listener); remove the key",
        )


_DOMAIN = r"(\*\.)?([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}"
_ZONE_ID = r"Z[A-Z0-9]{1,31}"


def _certificate_request(s: _Section) -> CertificateRequest:
    if not s.has("domainName"):
        raise s.error(
            "domainName", "is required: the name the certificate is for (www.example.com)"
        )
    if not s.has("zoneId"):
        raise s.error(
            "zoneId",
            "is required: the Route 53 hosted zone (Z0123...) that serves domainName; the "
            "stack writes the DNS validation records there",
        )
    hint = "must be a lowercase DNS name such as www.example.com (a leading *. for a wildcard)"
    domain = s.string("domainName", "", _DOMAIN, hint)
    zone = s.string("zoneId", "", _ZONE_ID, "must be a Route 53 hosted zone id (Z0123...)")
    names = s.sequence("alternativeNames") or []
    for i, name in enumerate(names):
        if not isinstance(name, str) or not re.fullmatch(_DOMAIN, name):
            raise s.error(f"alternativeNames[{i}]", f"{hint}, got {name!r}")
    s.finish()
    return CertificateRequest(domain_name=domain, zone_id=zone, alternative_names=tuple(names))


# CloudWatch Logs accepts only these retention periods (days).
LOG_RETENTION_DAYS = (
    1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922,
    3288, 3653,
)  # fmt: skip
# A rate-based rule's limit: requests per 5 minutes per client IP (the WAFv2 API's range).
WAF_RATE_LIMITS = (10, 2_000_000_000)


def _waf(s: _Section, lb_type: str, internal: bool) -> WafConfig:
    d = WafConfig()
    enabled = s.boolean("enabled", lb_type == "application" and not internal)
    if enabled and lb_type != "application":
        raise s.error(
            "enabled",
            f"AWS WAF protects Application Load Balancers only; a {lb_type} load balancer "
            "cannot be associated with a web ACL: remove loadBalancer.waf, or use type: "
            "application",
        )
    raw = s.sequence("managedRuleGroups")
    groups = d.managed_rule_groups if raw is None else tuple(raw)
    if not groups:
        raise s.error(
            "managedRuleGroups",
            f"needs at least one AWS managed rule group, e.g. {WAF_MANAGED_RULE_GROUPS[0]}",
        )
    for i, name in enumerate(groups):
        if not isinstance(name, str) or not re.fullmatch(r"AWSManagedRules[A-Za-z0-9]+", name):
            raise s.error(
                f"managedRuleGroups[{i}]",
                f"must be an AWS managed rule group name (AWSManagedRules...), got {name!r}",
            )
    if len(set(groups)) != len(groups):
        raise s.error("managedRuleGroups", "lists a rule group twice")
    rate = s.integer("rateLimit", d.rate_limit, *WAF_RATE_LIMITS)
    retention = s.integer("logRetentionDays", d.log_retention_days)
    if retention not in LOG_RETENTION_DAYS:
        raise s.error(
            "logRetentionDays",
            "must be a CloudWatch Logs retention period "
            f"({', '.join(map(str, LOG_RETENTION_DAYS))}), got {retention}",
        )
    s.finish()
    return WafConfig(
        enabled=enabled, managed_rule_groups=groups, rate_limit=rate, log_retention_days=retention
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
