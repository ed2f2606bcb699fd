"""The ``loadBalancer`` section: listeners and their rules, the health check, HTTPS (an
existing certificate or one the stack requests), the WAF; each value within the AWS APIs'
limits (``awsfacts.limits``)."""

from __future__ import annotations

import re

from awsfacts import limits
from stack.config import (
    ENCRYPTED_PROTOCOLS,
    HEALTH_CHECK_PROTOCOLS,
    LISTENER_PROTOCOLS,
    LOAD_BALANCER_TYPES,
    TARGET_PROTOCOLS,
    WAF_MANAGED_RULE_GROUPS,
    CertificateRequest,
    HealthCheckConfig,
    ListenerConfig,
    ListenerRule,
    LoadBalancerConfig,
    WafConfig,
)
from stack.reader import _Section

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
