"""Zero-downtime and security rules over a stack's resources.

Pure functions of a `Stack` (a list of `Resource`s with their properties in the engine's camelCase
wire names). The same functions run in two places: the CrossGuard policy pack in this folder
(`pulumi preview --policy-pack policy`) and `python -m preview STACK --check`, which feeds
them the resources the program registers under Pulumi's mocks. Each rule returns the violations it
finds; an empty list means the stack passes it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import Any

from awsfacts import codedeploy
from awsfacts.codedeploy import MinimumHealthyHosts
from awsfacts.limits import DEFAULT_DEREGISTRATION_DELAY as AWS_DEFAULT_DEREGISTRATION_DELAY
from awsfacts.tokens import (
    BUCKET,
    BUCKET_ACL,
    BUCKET_ENCRYPTION,
    BUCKET_PUBLIC_ACCESS_BLOCK,
    CLASSIC_ELB,
    DEPLOYMENT_CONFIG,
    DEPLOYMENT_GROUP,
    GROUP,
    IAM_POLICIES,
    INSTANCE,
    LAUNCH_TEMPLATE,
    SECURITY_GROUP,
    SG_INGRESS_RULE,
    SG_RULE,
    SUBNET,
    TARGET_GROUPS,
)

# The contract the rules check: the hooks' downtime tag, and the time the deregister hook needs
# on top of the drain (the same margin the stack rules apply to the stack's settings).
from hooks.group import ALLOW_DOWNTIME_TAG
from hooks.timing import DEREGISTER_HOOK_MARGIN, HookTimeouts
from policy import colours, firewall, iam, security
from policy.resources import (
    DEFAULT_DEREGISTER_TIMEOUT,
    DEFAULT_REGISTER_TIMEOUT,
    OPT_OUTS_TAG,
    Resource,
    Settings,
    Stack,
    Violation,
    allows_downtime,
    as_int,
    identities,
    opted_out,
    strings,
)

__all__ = [
    "BUCKET",
    "BUCKET_ACL",
    "BUCKET_ENCRYPTION",
    "BUCKET_PUBLIC_ACCESS_BLOCK",
    "DEFAULT_DEREGISTER_TIMEOUT",
    "DEFAULT_REGISTER_TIMEOUT",
    "IAM_POLICIES",
    "INSTANCE",
    "LAUNCH_TEMPLATE",
    "OPT_OUTS_TAG",
    "RULES",
    "SECURITY_GROUP",
    "SG_INGRESS_RULE",
    "SG_RULE",
    "Resource",
    "Settings",
    "Stack",
    "Violation",
    "check",
    "identities",
    "instances_kept_healthy",
    "opted_out",
    "strings",
]


def instances_kept_healthy(
    config: str, minimum_healthy_hosts: Mapping[str, Any] | None, fleet: int
) -> int:
    """How many of `fleet` instances an in-place deployment with `config` keeps in service
    (`minimum_healthy_hosts`: a custom config's {"type", "value"} as the resource carries it)."""
    custom = (
        MinimumHealthyHosts.from_props(minimum_healthy_hosts)
        if minimum_healthy_hosts is not None
        else None
    )
    return codedeploy.instances_kept_healthy(config, custom, fleet)


# --- the zero-downtime rules -----------------------------------------------------------------


def zero_downtime_group_capacity(stack: Stack, settings: Settings) -> list[Violation]:
    """Groups keep MinSize >= 2 across >= 2 AZs with ELB health checks, unless tagged
    cutover:allow-downtime=true (the visible opt-out); the environment label plays no part."""
    found = []
    name = "zero-downtime-group-capacity"
    for group in stack.of_type(GROUP):
        checks = [c.strip() for c in str(group.props.get("healthCheckType") or "").split(",")]
        if "ELB" not in checks:
            found.append(
                Violation(
                    name,
                    group.name,
                    f"healthCheckType is {group.props.get('healthCheckType')!r}; include 'ELB' "
                    "so an instance the load balancer finds unhealthy is replaced",
                )
            )
        if allows_downtime(group):
            continue
        min_size = as_int(group.props.get("minSize"), 0)
        if min_size < 2:
            found.append(
                Violation(
                    name,
                    group.name,
                    f"MinSize is {min_size}; a zero-downtime group needs >= 2 (or the "
                    f"{ALLOW_DOWNTIME_TAG}=true opt-out)",
                )
            )
        zones = set(strings(group.props.get("availabilityZones")))
        for subnet in stack.referenced(group, "vpcZoneIdentifiers", SUBNET):
            zones.update(strings(subnet.props.get("availabilityZone")))
        if len(zones) < 2:
            found.append(
                Violation(name, group.name, f"spans {len(zones)} availability zone(s); needs >= 2")
            )
    return found


def deployment_keeps_healthy_instance(stack: Stack, settings: Settings) -> list[Violation]:
    """An in-place deployment never takes the last healthy instance of a group out of service,
    and never asks to keep more instances healthy than the group has (CodeDeploy fails it)."""
    found = []
    name = "deployment-keeps-a-healthy-instance"
    custom = {
        c.props.get("deploymentConfigName"): c.props.get("minimumHealthyHosts") or {}
        for c in stack.of_type(DEPLOYMENT_CONFIG)
    }
    for deployment in stack.of_type(DEPLOYMENT_GROUP):
        config = deployment.props.get("deploymentConfigName") or "CodeDeployDefault.OneAtATime"
        for group in stack.referenced(deployment, "autoscalingGroups", GROUP):
            fleet = as_int(group.props.get("minSize"), 0)
            if config not in codedeploy.PREDEFINED and config not in custom:
                found.append(
                    Violation(name, deployment.name, f"unknown deployment config {config!r}")
                )
                continue
            asked = _hosts_asked(custom.get(config), fleet)
            if asked is not None and fleet and asked > fleet - 1:
                found.append(
                    Violation(
                        name,
                        deployment.name,
                        f"{config} keeps {asked} healthy instance(s) of group {group.name} "
                        f"(MinSize {fleet}): a deployment could not take one out and fails",
                    )
                )
                continue
            if allows_downtime(group):
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


def _hosts_asked(minimum_healthy_hosts: Mapping[str, Any] | None, fleet: int) -> int | None:
    if not minimum_healthy_hosts:
        return None
    return codedeploy.minimum_healthy(MinimumHealthyHosts.from_props(minimum_healthy_hosts), fleet)


def deregistration_delay_fits_hook(stack: Stack, settings: Settings) -> list[Violation]:
    """Draining finishes inside the deregister hook's timeout (with room for its own calls)."""
    found = []
    name = "deregistration-delay-fits-hook"
    budget = settings.deregister_timeout - DEREGISTER_HOOK_MARGIN - 1
    delays = [
        (tg, as_int(tg.props.get("deregistrationDelay"), AWS_DEFAULT_DEREGISTRATION_DELAY))
        for tg in stack.of_type(*TARGET_GROUPS)
    ]
    delays += [
        (elb, as_int(elb.props.get("connectionDrainingTimeout"), AWS_DEFAULT_DEREGISTRATION_DELAY))
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


def register_timeout_fits_health_check(stack: Stack, settings: Settings) -> list[Violation]:
    """A registered instance turns healthy inside the register hook's timeout (with room for its
    own calls): the hooks' timing contract, as the stack rules and `revision bundle` apply it."""
    found = []
    name = "register-timeout-fits-health-check"
    for tg in (*stack.of_type(*TARGET_GROUPS), *stack.of_type(CLASSIC_ELB)):
        check = tg.props.get("healthCheck") or {}
        threshold = as_int(check.get("healthyThreshold"), 5)  # the target groups' default
        interval = as_int(check.get("interval"), 30)
        timeouts = HookTimeouts(
            register=settings.register_timeout, time_to_healthy=(threshold + 1) * interval
        )
        problem = timeouts.register_problem()
        if problem:
            found.append(Violation(name, tg.name, problem))
    return found


RULES: dict[str, Callable[[Stack, Settings], list[Violation]]] = {
    "zero-downtime-group-capacity": zero_downtime_group_capacity,
    "deployment-keeps-a-healthy-instance": deployment_keeps_healthy_instance,
    "deregistration-delay-fits-hook": deregistration_delay_fits_hook,
    "register-timeout-fits-health-check": register_timeout_fits_health_check,
    **security.RULES,
    **firewall.RULES,
    **iam.RULES,
    **colours.RULES,
}


def check(resources: Iterable[Resource], settings: Settings | None = None) -> list[Violation]:
    """Run every rule over the stack; the violations, in rule order."""
    stack = Stack(resources)
    settings = settings or Settings()
    return [v for rule in RULES.values() for v in rule(stack, settings)]
