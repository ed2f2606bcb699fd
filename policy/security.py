"""Security rules: network exposure, encryption, logging and the AWS Security Hub (Foundational
Security Best Practices) controls the program meets. Controls a stack's file opts out of are
named in its group's ``cutover:opt-outs`` tag and skipped here, visibly."""

from __future__ import annotations

import ipaddress
from collections.abc import Callable, Iterator, Mapping
from typing import Any

from awsfacts.tokens import (
    BUCKET,
    BUCKET_ACL,
    BUCKET_ENCRYPTION,
    BUCKET_LIFECYCLE,
    BUCKET_LOGGING,
    BUCKET_PUBLIC_ACCESS_BLOCK,
    BUCKET_VERSIONING,
    CLASSIC_ELB,
    DB_INSTANCE,
    DB_PARAMETER_GROUP,
    DEFAULT_SECURITY_GROUP,
    EBS_VOLUME,
    FLOW_LOG,
    GROUP,
    INSTANCE,
    LAUNCH_TEMPLATE,
    LISTENERS,
    LOAD_BALANCERS,
    QUEUE,
    SECURITY_GROUP,
    SG_INGRESS_RULE,
    SG_RULE,
    VPC,
)
from policy.resources import (
    Resource,
    Settings,
    Stack,
    Violation,
    as_int,
    identities,
    opted_out,
    strings,
)

# Ports no source outside private address space may reach: remote administration and databases.
ADMIN_PORTS = (22, 3389)
DATABASE_PORTS = (1433, 1521, 3306, 5432, 6379, 9200, 11211, 27017)
PUBLIC_ACLS = ("public-read", "public-read-write", "authenticated-read")
BLOCK_PUBLIC_ACCESS_FLAGS = (
    "blockPublicAcls",
    "blockPublicPolicy",
    "ignorePublicAcls",
    "restrictPublicBuckets",
)


# --- instances --------------------------------------------------------------------------------


def imdsv2_required(stack: Stack, settings: Settings) -> list[Violation]:
    """Launch templates and instances require IMDSv2 tokens with a response hop limit of 1."""
    name = "imdsv2-required"
    found = []
    for r in stack.of_type(LAUNCH_TEMPLATE, INSTANCE):
        options = r.props.get("metadataOptions") or {}
        if options.get("httpTokens") != "required":
            found.append(
                Violation(name, r.name, "metadataOptions.httpTokens must be 'required' (IMDSv2)")
            )
        hops = as_int(options.get("httpPutResponseHopLimit"), 1)
        if hops > 1:
            found.append(
                Violation(
                    name,
                    r.name,
                    f"metadataOptions.httpPutResponseHopLimit is {hops}; 1 keeps the instance's "
                    "credentials away from containers and forwarded requests (AutoScaling.4)",
                )
            )
    return found


def instances_without_public_ips(stack: Stack, settings: Settings) -> list[Violation]:
    """Instances get no public IP unless the stack opts in (fleet.publicIps, EC2.9)."""
    if opted_out(stack, "EC2.9"):
        return []
    name = "instances-without-public-ips"
    found = []
    for lt in stack.of_type(LAUNCH_TEMPLATE):
        for nic in lt.props.get("networkInterfaces") or []:
            if str(nic.get("associatePublicIpAddress")).lower() == "true":
                found.append(Violation(name, lt.name, "gives instances public IPs (EC2.9)"))
    for instance in stack.of_type(INSTANCE):
        if instance.props.get("associatePublicIpAddress") is True:
            found.append(Violation(name, instance.name, "has a public IP (EC2.9)"))
    return found


def mixed_instance_types(stack: Stack, settings: Settings) -> list[Violation]:
    """Groups can launch more than one instance type (AutoScaling.6), unless opted out."""
    if opted_out(stack, "AutoScaling.6"):
        return []
    found = []
    for group in stack.of_type(GROUP):
        policy = group.props.get("mixedInstancesPolicy") or {}
        overrides = (policy.get("launchTemplate") or {}).get("overrides") or []
        types = {o.get("instanceType") for o in overrides if o.get("instanceType")}
        if len(types) < 2:
            found.append(
                Violation(
                    "mixed-instance-types",
                    group.name,
                    "launches a single instance type; add fleet.instanceTypes so the group can "
                    "launch when one type has no capacity (AutoScaling.6)",
                )
            )
    return found


# --- network ----------------------------------------------------------------------------------


def _ingress(stack: Stack) -> Iterator[tuple[Resource, list[Resource], dict[str, Any]]]:
    """Every ingress rule as (where it is declared, the security groups it opens, the rule with
    its sources under ``sources``: CIDRs and ``pl:<id>`` for prefix lists)."""
    for sg in stack.of_type(SECURITY_GROUP):
        for rule in sg.props.get("ingress") or []:
            yield sg, [sg], _with_sources(rule, "cidrBlocks", "ipv6CidrBlocks", "prefixListIds")
    for rule in stack.of_type(SG_RULE):
        if rule.props.get("type") == "ingress":
            opened = stack.referenced(rule, "securityGroupId", SECURITY_GROUP)
            props = _with_sources(rule.props, "cidrBlocks", "ipv6CidrBlocks", "prefixListIds")
            yield rule, opened, props
    for rule in stack.of_type(SG_INGRESS_RULE):
        opened = stack.referenced(rule, "securityGroupId", SECURITY_GROUP)
        yield rule, opened, _with_sources(rule.props, "cidrIpv4", "cidrIpv6", "prefixListId")


def _with_sources(rule: Mapping[str, Any], v4: str, v6: str, lists: str) -> dict[str, Any]:
    sources = [*strings(rule.get(v4)), *strings(rule.get(v6))]
    sources += [f"pl:{p}" for p in strings(rule.get(lists))]
    return {**rule, "sources": sources}


def _outside(source: str) -> bool:
    """A source that reaches beyond private address space: a public or wide CIDR (0.0.0.0/1
    and 128.0.0.0/1 together are the internet), ::/0, or a prefix list (its entries can change
    without this stack)."""
    if source.startswith("pl:"):
        return True
    try:
        network = ipaddress.ip_network(source, strict=False)
    except ValueError:
        return True  # not a CIDR we can judge: assume the worst
    return not network.is_private


def _opens(rule: Mapping[str, Any], port: int) -> bool:
    if str(rule.get("protocol", rule.get("ipProtocol"))) in ("-1", "all"):
        return True
    return as_int(rule.get("fromPort"), 0) <= port <= as_int(rule.get("toPort"), 65535)


def _instance_security_groups(stack: Stack) -> set[str]:
    found = {
        sg.name
        for lt in stack.of_type(LAUNCH_TEMPLATE, INSTANCE)
        for prop in ("vpcSecurityGroupIds", "securityGroupIds")
        for sg in stack.referenced(lt, prop, SECURITY_GROUP)
    }
    for lt in stack.of_type(LAUNCH_TEMPLATE):
        for nic in lt.props.get("networkInterfaces") or []:
            wanted = set(strings(nic.get("securityGroups")))
            found.update(
                sg.name for sg in stack.of_type(SECURITY_GROUP) if wanted & set(identities(sg))
            )
    return found


def no_internet_ingress_to_instances(stack: Stack, settings: Settings) -> list[Violation]:
    """No SSH/RDP or database port open beyond private addresses anywhere; instances take no
    traffic from outside the VPC (only from the load balancer's security group)."""
    found = []
    name = "no-internet-ingress-to-instances"
    instance_sgs = _instance_security_groups(stack)
    for where, groups, rule in _ingress(stack):
        outside = [s for s in rule["sources"] if _outside(s)]
        if not outside:
            continue
        shown = ", ".join(s.replace("pl:", "prefix list ") for s in outside)
        for port in ADMIN_PORTS + DATABASE_PORTS:
            if _opens(rule, port):
                kind = "administration" if port in ADMIN_PORTS else "database"
                found.append(Violation(name, where.name, f"opens {kind} port {port} to {shown}"))
        for sg in groups:
            if sg.name in instance_sgs:
                found.append(
                    Violation(
                        name,
                        where.name,
                        f"opens instance security group {sg.name} to {shown}; allow the "
                        "target ports only from the load balancer's security group",
                    )
                )
    return found


def vpc_hardened(stack: Stack, settings: Settings) -> list[Violation]:
    """Each VPC's default security group is managed with no rules (EC2.2) and its flows are
    logged (EC2.6, unless opted out)."""
    found = []
    name = "vpc-hardened"
    for vpc in stack.of_type(VPC):
        defaults = stack.pointing_at(vpc, "vpcId", DEFAULT_SECURITY_GROUP)
        if not defaults:
            found.append(
                Violation(name, vpc.name, "its default security group is not managed (EC2.2)")
            )
        for sg in defaults:
            if sg.props.get("ingress") or sg.props.get("egress"):
                found.append(
                    Violation(name, sg.name, "the default security group has rules (EC2.2)")
                )
        if not opted_out(stack, "EC2.6") and not stack.pointing_at(vpc, "vpcId", FLOW_LOG):
            found.append(Violation(name, vpc.name, "has no flow log (EC2.6)"))
    return found


# --- load balancers ---------------------------------------------------------------------------


def load_balancer_hardened(stack: Stack, settings: Settings) -> list[Violation]:
    """ALBs drop invalid headers (ELB.4) and serve HTTPS, every HTTP listener redirecting to
    it (ELB.1); classic ELBs serve no plain HTTP (ELB.3); access logs (ELB.5) and deletion
    protection (ELB.6). ELB.1, ELB.3, ELB.5 and ELB.6 unless opted out."""
    found = []
    name = "load-balancer-hardened"
    logs_required = not opted_out(stack, "ELB.5")
    protection_required = not opted_out(stack, "ELB.6")
    for lb in stack.of_type(*LOAD_BALANCERS):
        application = (lb.props.get("loadBalancerType") or "application") == "application"
        if application and lb.props.get("dropInvalidHeaderFields") is not True:
            found.append(Violation(name, lb.name, "dropInvalidHeaderFields must be true (ELB.4)"))
        logs = lb.props.get("accessLogs") or {}
        if logs_required and application and not (logs.get("enabled") and logs.get("bucket")):
            found.append(Violation(name, lb.name, "has no access logs (ELB.5)"))
        if protection_required and lb.props.get("enableDeletionProtection") is not True:
            found.append(Violation(name, lb.name, "has no deletion protection (ELB.6)"))
        if application and not opted_out(stack, "ELB.1"):
            found += _plain_http_listeners(stack, lb)
    for elb in stack.of_type(CLASSIC_ELB):
        logs = elb.props.get("accessLogs") or {}
        if logs_required and not (logs.get("enabled") and logs.get("bucket")):
            found.append(Violation(name, elb.name, "has no access logs (ELB.5)"))
        plain = [x for x in elb.props.get("listeners") or [] if x.get("lbProtocol") == "HTTP"]
        if plain and not opted_out(stack, "ELB.3"):
            ports = ", ".join(str(as_int(x.get("lbPort"), 0)) for x in plain)
            found.append(
                Violation(
                    name,
                    elb.name,
                    f"serves plain HTTP on {ports}; a classic load balancer cannot redirect: "
                    "HTTPS/SSL listeners only (ELB.3)",
                )
            )
    return found


def _plain_http_listeners(stack: Stack, lb: Resource) -> list[Violation]:
    """Every HTTP listener of an ALB redirects to one of its HTTPS listeners (ELB.1): an
    HTTP-only balancer fails, and so does a redirect to a port that serves no HTTPS."""
    listeners = stack.pointing_at(lb, "loadBalancerArn", *LISTENERS)
    https_ports = {
        str(as_int(x.props.get("port"), 0)) for x in listeners if x.props.get("protocol") == "HTTPS"
    }
    found = []
    for listener in listeners:
        if listener.props.get("protocol") != "HTTP":
            continue
        redirects = [
            a.get("redirect") or {}
            for a in listener.props.get("defaultActions") or []
            if a.get("type") == "redirect"
        ]
        to_https = any(
            r.get("protocol") == "HTTPS" and str(r.get("port", "#{port}")) in https_ports
            for r in redirects
        )
        if not to_https:
            message = (
                "plain HTTP must redirect to HTTPS (ELB.1)"
                if https_ports
                else "serves plain HTTP with no HTTPS listener to redirect to (ELB.1): give the "
                "stack a certificate, or opt out with loadBalancer.allowPlainHttp"
            )
            found.append(Violation("load-balancer-hardened", listener.name, message))
    return found


# --- storage ----------------------------------------------------------------------------------


def buckets_private_encrypted(stack: Stack, settings: Settings) -> list[Violation]:
    """Every bucket blocks public access, has no public ACL, and is encrypted at rest."""
    found = []
    name = "buckets-private-encrypted"
    for bucket in stack.of_type(BUCKET):
        blocks = stack.pointing_at(bucket, "bucket", BUCKET_PUBLIC_ACCESS_BLOCK)
        if not any(all(b.props.get(f) is True for f in BLOCK_PUBLIC_ACCESS_FLAGS) for b in blocks):
            found.append(
                Violation(name, bucket.name, "needs a public access block with all four flags on")
            )
        acls = [bucket.props.get("acl")]
        acls += [a.props.get("acl") for a in stack.pointing_at(bucket, "bucket", BUCKET_ACL)]
        if any(acl in PUBLIC_ACLS for acl in acls):
            found.append(Violation(name, bucket.name, "has a public ACL"))
        encrypted = bucket.props.get("serverSideEncryptionConfiguration") or stack.pointing_at(
            bucket, "bucket", BUCKET_ENCRYPTION
        )
        if not encrypted:
            found.append(
                Violation(name, bucket.name, "needs a server-side encryption configuration")
            )
    return found


def _log_targets(stack: Stack) -> set[str]:
    """Names of the buckets that receive logs: the end of the chain, they need no access log.
    Found through the engine's property dependencies when it gives them (values may still be
    unknown during a first preview), else by the values themselves."""
    targets: set[str] = set()
    buckets = stack.of_type(BUCKET)

    def by_value(value: str) -> None:
        name = value.removeprefix("arn:aws:s3:::").split("/")[0]
        targets.update(b.name for b in buckets if name in set(identities(b)))

    for logging in stack.of_type(BUCKET_LOGGING):
        targets.update(b.name for b in stack.referenced(logging, "targetBucket", BUCKET))
    for lb in stack.of_type(*LOAD_BALANCERS, CLASSIC_ELB):
        if lb.refs.get("accessLogs"):
            targets.update(b.name for b in stack.referenced(lb, "accessLogs", BUCKET))
        for value in strings((lb.props.get("accessLogs") or {}).get("bucket")):
            by_value(value)
    for flow in stack.of_type(FLOW_LOG):
        if flow.refs.get("logDestination"):
            targets.update(b.name for b in stack.referenced(flow, "logDestination", BUCKET))
        for value in strings(flow.props.get("logDestination")):
            by_value(value)
    return targets


def buckets_logged_and_expiring(stack: Stack, settings: Settings) -> list[Violation]:
    """Buckets log their access to a log bucket (S3.9) and have lifecycle rules (S3.10);
    versioned buckets expire noncurrent versions."""
    found = []
    name = "buckets-logged-and-expiring"
    targets = _log_targets(stack)
    for bucket in stack.of_type(BUCKET):
        if bucket.name not in targets and not stack.pointing_at(bucket, "bucket", BUCKET_LOGGING):
            found.append(Violation(name, bucket.name, "has no server access logging (S3.9)"))
        lifecycles = stack.pointing_at(bucket, "bucket", BUCKET_LIFECYCLE)
        rules = [
            rule
            for lifecycle in lifecycles
            for rule in lifecycle.props.get("rules") or []
            if rule.get("status") == "Enabled"
        ]
        if not rules:
            found.append(Violation(name, bucket.name, "has no lifecycle rules (S3.10)"))
            continue
        versioned = any(
            (v.props.get("versioningConfiguration") or {}).get("status") == "Enabled"
            for v in stack.pointing_at(bucket, "bucket", BUCKET_VERSIONING)
        )
        if versioned and not any(r.get("noncurrentVersionExpiration") for r in rules):
            found.append(
                Violation(name, bucket.name, "is versioned but never expires noncurrent versions")
            )
    return found


def encrypted_at_rest(stack: Stack, settings: Settings) -> list[Violation]:
    """Queues (SQS.1) and EBS volumes (launch templates, instances, volumes) are encrypted."""
    found = []
    name = "encrypted-at-rest"
    for queue in stack.of_type(QUEUE):
        if not (queue.props.get("sqsManagedSseEnabled") or queue.props.get("kmsMasterKeyId")):
            found.append(Violation(name, queue.name, "is not encrypted (SQS.1)"))
    for lt in stack.of_type(LAUNCH_TEMPLATE):
        for mapping in lt.props.get("blockDeviceMappings") or []:
            ebs = mapping.get("ebs")
            if ebs is not None and str(ebs.get("encrypted")).lower() != "true":
                found.append(
                    Violation(name, lt.name, f"EBS volume {mapping.get('deviceName')} unencrypted")
                )
    for instance in stack.of_type(INSTANCE):
        root = instance.props.get("rootBlockDevice") or {}
        if root.get("encrypted") is not True:
            found.append(Violation(name, instance.name, "root volume is not encrypted"))
    for volume in stack.of_type(EBS_VOLUME):
        if volume.props.get("encrypted") is not True:
            found.append(Violation(name, volume.name, "is not encrypted"))
    return found


def database_hardened(stack: Stack, settings: Settings) -> list[Violation]:
    """Databases are private and encrypted, export their logs (RDS.9), allow IAM
    authentication (RDS.10) and have enhanced monitoring (RDS.6); PostgreSQL runs on a
    parameter group that forces TLS and logs DDL and slow statements."""
    found = []
    name = "database-hardened"
    for db in stack.of_type(DB_INSTANCE):
        props = db.props
        checks: list[tuple[bool, str, str | None]] = [
            (props.get("publiclyAccessible") is True, "is publicly accessible (RDS.2)", None),
            (props.get("storageEncrypted") is not True, "storage is not encrypted (RDS.3)", None),
            (
                not props.get("enabledCloudwatchLogsExports"),
                "exports no logs to CloudWatch (RDS.9)",
                "RDS.9",
            ),
            (
                props.get("iamDatabaseAuthenticationEnabled") is not True,
                "IAM authentication is off (RDS.10)",
                "RDS.10",
            ),
            (
                not as_int(props.get("monitoringInterval"), 0),
                "enhanced monitoring is off (RDS.6)",
                "RDS.6",
            ),
        ]
        for failed, message, control in checks:
            if failed and not (control and opted_out(stack, control)):
                found.append(Violation(name, db.name, message))
        if str(props.get("engine", "postgres")).startswith("postgres"):
            found += [Violation(name, db.name, m) for m in _postgres_parameters(stack, db)]
    return found


# log_statement levels that include DDL statements.
DDL_LOGGED = ("ddl", "mod", "all")


def _postgres_parameters(stack: Stack, db: Resource) -> list[str]:
    """What a PostgreSQL instance's parameter group lacks: TLS only, DDL and slow statements
    logged (the default parameter group has none of them)."""
    groups = stack.referenced(db, "parameterGroupName", DB_PARAMETER_GROUP)
    if not groups:
        return ["runs on the default parameter group (no forced TLS, no statement logging)"]
    values = {
        str(p.get("name")): str(p.get("value"))
        for group in groups
        for p in group.props.get("parameters") or []
    }
    problems = []
    if values.get("rds.force_ssl") != "1":
        problems.append("parameter group does not set rds.force_ssl=1 (TLS only)")
    if values.get("log_statement") not in DDL_LOGGED:
        problems.append("parameter group does not log DDL statements (log_statement=ddl)")
    if as_int(values.get("log_min_duration_statement"), -1) < 0:
        problems.append("parameter group logs no slow statements (log_min_duration_statement)")
    return problems


RULES: dict[str, Callable[[Stack, Settings], list[Violation]]] = {
    "imdsv2-required": imdsv2_required,
    "instances-without-public-ips": instances_without_public_ips,
    "mixed-instance-types": mixed_instance_types,
    "no-internet-ingress-to-instances": no_internet_ingress_to_instances,
    "vpc-hardened": vpc_hardened,
    "load-balancer-hardened": load_balancer_hardened,
    "buckets-private-encrypted": buckets_private_encrypted,
    "buckets-logged-and-expiring": buckets_logged_and_expiring,
    "encrypted-at-rest": encrypted_at_rest,
    "database-hardened": database_hardened,
}
