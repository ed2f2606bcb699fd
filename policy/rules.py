"""Zero-downtime and security rules over a stack's resources.

Pure functions of a `Stack` (a list of `Resource`s with their properties in the engine's camelCase
wire names). The same functions run in two places: the CrossGuard policy pack in this folder
(`pulumi preview --policy-pack policy`) and `python -m infra.preview STACK --check`, which feeds
them the resources the program registers under Pulumi's mocks. Each rule returns the violations it
finds; an empty list means the stack passes it.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

# The contract the rules check: the hooks' downtime tag, and the time the deregister hook needs
# on top of the drain (the margin infra.config applies to the stack's settings).
from hooks.group import ALLOW_DOWNTIME_TAG
from infra.config import DEREGISTER_HOOK_MARGIN

GROUP = "aws:autoscaling/group:Group"
SUBNET = "aws:ec2/subnet:Subnet"
LAUNCH_TEMPLATE = "aws:ec2/launchTemplate:LaunchTemplate"
INSTANCE = "aws:ec2/instance:Instance"
SECURITY_GROUP = "aws:ec2/securityGroup:SecurityGroup"
SG_RULE = "aws:ec2/securityGroupRule:SecurityGroupRule"
SG_INGRESS_RULE = "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule"
TARGET_GROUPS = ("aws:lb/targetGroup:TargetGroup", "aws:alb/targetGroup:TargetGroup")
CLASSIC_ELB = "aws:elb/loadBalancer:LoadBalancer"
DEPLOYMENT_GROUP = "aws:codedeploy/deploymentGroup:DeploymentGroup"
DEPLOYMENT_CONFIG = "aws:codedeploy/deploymentConfig:DeploymentConfig"
BUCKET = "aws:s3/bucket:Bucket"
BUCKET_PUBLIC_ACCESS_BLOCK = "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock"
BUCKET_ENCRYPTION = (
    "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration"
)
BUCKET_ACL = "aws:s3/bucketAcl:BucketAcl"
IAM_POLICIES = (
    "aws:iam/policy:Policy",
    "aws:iam/rolePolicy:RolePolicy",
)

ENVIRONMENT_TAG = "cutover:environment"
INTERNET = ("0.0.0.0/0", "::/0")
ADMIN_PORTS = (22, 3389)
PUBLIC_ACLS = ("public-read", "public-read-write", "authenticated-read")
# Target groups drain for 300 s unless told otherwise (the AWS default).
DEFAULT_DEREGISTRATION_DELAY = 300
DEFAULT_DEREGISTER_TIMEOUT = 400
# Instances each predefined CodeDeploy config keeps healthy in a fleet of n (in-place).
# HalfAtATime deploys to at most half, rounded down: it keeps the larger half.
PREDEFINED_DEPLOYMENT_CONFIGS: dict[str, Callable[[int], int]] = {
    "CodeDeployDefault.OneAtATime": lambda n: n - 1,
    "CodeDeployDefault.HalfAtATime": lambda n: n - n // 2,
    "CodeDeployDefault.AllAtOnce": lambda n: 0,
}
BLOCK_PUBLIC_ACCESS_FLAGS = (
    "blockPublicAcls",
    "blockPublicPolicy",
    "ignorePublicAcls",
    "restrictPublicBuckets",
)


@dataclass(frozen=True)
class Resource:
    """One resource: its type token, logical name and properties (camelCase wire names).

    `refs` maps a property to the keys (URNs, else names) of the resources its value came from,
    when the engine knows (CrossGuard's property dependencies). Without it, references are
    resolved by matching the property's values against other resources' `id`, `arn` and `name`.
    """

    type: str
    name: str
    props: Mapping[str, Any]
    refs: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    urn: str = ""

    @property
    def key(self) -> str:
        return self.urn or self.name


@dataclass(frozen=True)
class Violation:
    policy: str
    resource: str
    message: str

    def __str__(self) -> str:
        return f"[{self.policy}] {self.resource}: {self.message}"


@dataclass(frozen=True)
class Settings:
    """What the rules need to know that no resource says."""

    deregister_timeout: int = DEFAULT_DEREGISTER_TIMEOUT
    environment: str | None = None  # used when a group carries no cutover:environment tag


class Stack:
    def __init__(self, resources: Iterable[Resource]) -> None:
        self.resources = list(resources)
        self._by_key = {r.key: r for r in self.resources}

    def of_type(self, *types: str) -> list[Resource]:
        return [r for r in self.resources if r.type in types]

    def referenced(self, resource: Resource, prop: str, *types: str) -> list[Resource]:
        """The resources (of `types`) that `resource.props[prop]` points at."""
        if resource.refs.get(prop):
            found = [self._by_key[k] for k in resource.refs[prop] if k in self._by_key]
        else:
            wanted = set(_strings(resource.props.get(prop)))
            found = [
                r for r in self.resources if r is not resource and wanted & set(_identities(r))
            ]
        return [r for r in found if not types or r.type in types]

    def pointing_at(self, target: Resource, prop: str, *types: str) -> list[Resource]:
        """The resources (of `types`) whose `prop` points at `target`."""
        return [r for r in self.of_type(*types) if target in self.referenced(r, prop, target.type)]


def _strings(value: Any) -> Iterator[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, Sequence):
        for item in value:
            yield from _strings(item)


def _identities(r: Resource) -> Iterator[str]:
    for key in ("id", "arn", "name", "bucket"):
        value = r.props.get(key)
        if isinstance(value, str) and value:
            yield value


def _tags(resource: Resource) -> dict[str, str]:
    """Tags from the `tags` map or an Auto Scaling group's list of `{key, value}` tags."""
    tags: dict[str, str] = {}
    raw = resource.props.get("tags")
    if isinstance(raw, Mapping):
        tags.update({str(k): str(v) for k, v in raw.items()})
    elif isinstance(raw, Sequence) and not isinstance(raw, str):
        tags.update({str(t.get("key")): str(t.get("value")) for t in raw if isinstance(t, Mapping)})
    return tags


def _allows_downtime(group: Resource) -> bool:
    return _tags(group).get(ALLOW_DOWNTIME_TAG, "").lower() == "true"


def _is_production(group: Resource, settings: Settings) -> bool:
    # A group that does not say which environment it serves is held to production's rules.
    environment = _tags(group).get(ENVIRONMENT_TAG) or settings.environment or "production"
    return environment == "production"


def _int(value: Any, default: int) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        return default


def instances_kept_healthy(
    config: str, minimum_healthy_hosts: Mapping[str, Any] | None, fleet: int
) -> int:
    """How many of `fleet` instances an in-place deployment with `config` keeps in service.

    `minimum_healthy_hosts` ({"type": HOST_COUNT | FLEET_PERCENT, "value": n}) describes a custom
    config; CodeDeploy rounds a percentage up to whole instances. A deployment takes at least one
    instance out, so a one-instance fleet keeps none, whatever the config.
    """
    if minimum_healthy_hosts is not None:
        value = _int(minimum_healthy_hosts.get("value"), 0)
        if minimum_healthy_hosts.get("type") == "FLEET_PERCENT":
            value = math.ceil(fleet * value / 100)
        kept = value
    elif config in PREDEFINED_DEPLOYMENT_CONFIGS:
        kept = PREDEFINED_DEPLOYMENT_CONFIGS[config](fleet)
    else:
        raise ValueError(f"unknown deployment config {config!r}")
    return max(0, min(kept, fleet - 1))


# --- the rules -------------------------------------------------------------------------------


def production_group_capacity(stack: Stack, settings: Settings) -> list[Violation]:
    """Production groups keep MinSize >= 2 across >= 2 AZs and use ELB health checks."""
    found = []
    name = "production-group-capacity"
    for group in stack.of_type(GROUP):
        if not _is_production(group, settings):
            continue
        min_size = _int(group.props.get("minSize"), 0)
        if min_size < 2:
            found.append(
                Violation(name, group.name, f"MinSize is {min_size}; production needs >= 2")
            )
        zones = set(_strings(group.props.get("availabilityZones")))
        for subnet in stack.referenced(group, "vpcZoneIdentifiers", SUBNET):
            zones.update(_strings(subnet.props.get("availabilityZone")))
        if len(zones) < 2:
            found.append(
                Violation(name, group.name, f"spans {len(zones)} availability zone(s); needs >= 2")
            )
        if group.props.get("healthCheckType") != "ELB":
            found.append(
                Violation(
                    name,
                    group.name,
                    f"healthCheckType is {group.props.get('healthCheckType')!r}; use 'ELB' so an "
                    "instance the load balancer finds unhealthy is replaced",
                )
            )
        if _allows_downtime(group):
            found.append(
                Violation(name, group.name, f"production group carries {ALLOW_DOWNTIME_TAG}=true")
            )
    return found


def deployment_keeps_healthy_instance(stack: Stack, settings: Settings) -> list[Violation]:
    """An in-place deployment never takes the last healthy instance of a group out of service."""
    found = []
    name = "deployment-keeps-a-healthy-instance"
    custom = {
        c.props.get("deploymentConfigName"): c.props.get("minimumHealthyHosts") or {}
        for c in stack.of_type(DEPLOYMENT_CONFIG)
    }
    for deployment in stack.of_type(DEPLOYMENT_GROUP):
        config = deployment.props.get("deploymentConfigName") or "CodeDeployDefault.OneAtATime"
        groups = stack.referenced(deployment, "autoscalingGroups", GROUP)
        for group in groups:
            if _allows_downtime(group):
                continue
            fleet = _int(group.props.get("minSize"), 0)
            if config not in PREDEFINED_DEPLOYMENT_CONFIGS and config not in custom:
                found.append(
                    Violation(name, deployment.name, f"unknown deployment config {config!r}")
                )
                continue
            kept = instances_kept_healthy(config, custom.get(config), fleet)
            if kept < 1:
                found.append(
                    Violation(
                        name,
                        deployment.name,
                        f"{config} keeps {kept} healthy instance(s) of group {group.name} "
                        f"(MinSize {fleet}); raise MinSize, pick a config that keeps one, or tag "
                        f"the group {ALLOW_DOWNTIME_TAG}=true if this stack accepts downtime",
                    )
                )
    return found


def deregistration_delay_fits_hook(stack: Stack, settings: Settings) -> list[Violation]:
    """Draining finishes inside the deregister hook's timeout (with room for its own calls)."""
    found = []
    name = "deregistration-delay-fits-hook"
    budget = settings.deregister_timeout - DEREGISTER_HOOK_MARGIN - 1
    delays = [
        (tg, _int(tg.props.get("deregistrationDelay"), DEFAULT_DEREGISTRATION_DELAY))
        for tg in stack.of_type(*TARGET_GROUPS)
    ]
    delays += [
        (elb, _int(elb.props.get("connectionDrainingTimeout"), DEFAULT_DEREGISTRATION_DELAY))
        for elb in stack.of_type(CLASSIC_ELB)
    ]
    for resource, delay in delays:
        if delay > budget:
            found.append(
                Violation(
                    name,
                    resource.name,
                    f"drains for {delay} s but the deregister hook times out after "
                    f"{settings.deregister_timeout} s (needs <= {budget} s)",
                )
            )
    return found


def imdsv2_required(stack: Stack, settings: Settings) -> list[Violation]:
    """Launch templates and instances require IMDSv2 session tokens."""
    name = "imdsv2-required"
    return [
        Violation(name, r.name, "metadataOptions.httpTokens must be 'required' (IMDSv2)")
        for r in stack.of_type(LAUNCH_TEMPLATE, INSTANCE)
        if (r.props.get("metadataOptions") or {}).get("httpTokens") != "required"
    ]


def _ingress(stack: Stack) -> Iterator[tuple[Resource, list[Resource], Mapping[str, Any]]]:
    """Every ingress rule as (where it is declared, the security groups it opens, the rule)."""
    for sg in stack.of_type(SECURITY_GROUP):
        for rule in sg.props.get("ingress") or []:
            yield sg, [sg], rule
    for rule in stack.of_type(SG_RULE):
        if rule.props.get("type") == "ingress":
            yield rule, stack.referenced(rule, "securityGroupId", SECURITY_GROUP), rule.props
    for rule in stack.of_type(SG_INGRESS_RULE):
        props = dict(rule.props)
        props["cidrBlocks"] = [props.get("cidrIpv4"), props.get("cidrIpv6")]
        yield rule, stack.referenced(rule, "securityGroupId", SECURITY_GROUP), props


def _opens(rule: Mapping[str, Any], port: int) -> bool:
    if str(rule.get("protocol", rule.get("ipProtocol"))) in ("-1", "all"):
        return True
    return _int(rule.get("fromPort"), 0) <= port <= _int(rule.get("toPort"), 65535)


def no_internet_ingress_to_instances(stack: Stack, settings: Settings) -> list[Violation]:
    """No SSH/RDP from the internet anywhere; instances take no traffic from the internet."""
    found = []
    name = "no-internet-ingress-to-instances"
    instance_sgs = {
        sg.name
        for lt in stack.of_type(LAUNCH_TEMPLATE, INSTANCE)
        for prop in ("vpcSecurityGroupIds", "securityGroupIds")
        for sg in stack.referenced(lt, prop, SECURITY_GROUP)
    }
    for lt in stack.of_type(LAUNCH_TEMPLATE):
        for nic in lt.props.get("networkInterfaces") or []:
            wanted = set(_strings(nic.get("securityGroups")))
            instance_sgs.update(
                sg.name for sg in stack.of_type(SECURITY_GROUP) if wanted & set(_identities(sg))
            )
    for where, groups, rule in _ingress(stack):
        sources = set(_strings(rule.get("cidrBlocks"))) | set(_strings(rule.get("ipv6CidrBlocks")))
        if not sources & set(INTERNET):
            continue
        for port in ADMIN_PORTS:
            if _opens(rule, port):
                found.append(Violation(name, where.name, f"opens port {port} to the internet"))
        for sg in groups:
            if sg.name in instance_sgs:
                found.append(
                    Violation(
                        name,
                        where.name,
                        f"opens instance security group {sg.name} to the internet; allow the "
                        "app port only from the load balancer's security group",
                    )
                )
    return found


def revision_bucket_private_encrypted(stack: Stack, settings: Settings) -> list[Violation]:
    """Every bucket blocks public access, has no public ACL, and is encrypted at rest."""
    found = []
    name = "revision-bucket-private-encrypted"
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


def _is_mutating_lb_or_asg(action: str) -> bool:
    service, _, operation = action.partition(":")
    if action == "*":
        return True
    if service.lower() not in ("autoscaling", "elasticloadbalancing"):
        return False
    # "Describe*" matches only read calls; any other pattern may match a mutating one.
    return not operation.startswith("Describe")


def no_wildcard_mutations(stack: Stack, settings: Settings) -> list[Violation]:
    """No IAM statement allows a mutating Auto Scaling or load-balancer action on every resource."""
    found = []
    name = "no-wildcard-mutations"
    for policy in stack.of_type(*IAM_POLICIES):
        document = policy.props.get("policy")
        if isinstance(document, str):
            try:
                document = json.loads(document)
            except ValueError:
                found.append(Violation(name, policy.name, "policy document is not valid JSON"))
                continue
        statements = (document or {}).get("Statement") or []
        if isinstance(statements, Mapping):
            statements = [statements]
        for statement in statements:
            if statement.get("Effect") != "Allow" or statement.get("Condition"):
                continue
            resources = list(_strings(statement.get("Resource")))
            if "*" not in resources:
                continue
            for action in _strings(statement.get("Action")):
                if _is_mutating_lb_or_asg(action):
                    found.append(
                        Violation(
                            name,
                            policy.name,
                            f"allows {action} on Resource '*'; scope it to the stack's group or "
                            "load balancer ARN",
                        )
                    )
    return found


RULES: dict[str, Callable[[Stack, Settings], list[Violation]]] = {
    "production-group-capacity": production_group_capacity,
    "deployment-keeps-a-healthy-instance": deployment_keeps_healthy_instance,
    "deregistration-delay-fits-hook": deregistration_delay_fits_hook,
    "imdsv2-required": imdsv2_required,
    "no-internet-ingress-to-instances": no_internet_ingress_to_instances,
    "revision-bucket-private-encrypted": revision_bucket_private_encrypted,
    "no-wildcard-mutations": no_wildcard_mutations,
}


def check(resources: Iterable[Resource], settings: Settings | None = None) -> list[Violation]:
    """Run every rule over the stack; the violations, in rule order."""
    stack = Stack(resources)
    settings = settings or Settings()
    return [v for rule in RULES.values() for v in rule(stack, settings)]
