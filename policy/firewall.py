"""Web application firewall rules: every internet-facing Application Load Balancer sits behind
a WAFv2 web ACL with rules (ELB.16, WAF.10) whose requests are logged (WAF.11), unless the
stack's file opts out (``loadBalancer.waf.enabled: false``, tagged ELB.16)."""

from __future__ import annotations

from collections.abc import Callable

from awsfacts.tokens import (
    LOAD_BALANCERS,
    LOG_GROUP,
    WEB_ACL,
    WEB_ACL_ASSOCIATION,
    WEB_ACL_LOGGING,
)
from policy.resources import Resource, Settings, Stack, Violation, opted_out, strings

# AWS WAF delivers logs only to destinations (log group, bucket, stream) named like this.
WAF_LOG_PREFIX = "aws-waf-logs-"


def _internet_facing_albs(stack: Stack) -> list[Resource]:
    return [
        lb
        for lb in stack.of_type(*LOAD_BALANCERS)
        if (lb.props.get("loadBalancerType") or "application") == "application"
        and lb.props.get("internal") is not True
    ]


def web_acl_on_public_albs(stack: Stack, settings: Settings) -> list[Violation]:
    """Internet-facing ALBs are associated with a WAFv2 web ACL that has rules (ELB.16,
    WAF.10) and logs to an ``aws-waf-logs-`` destination (WAF.11)."""
    if opted_out(stack, "ELB.16"):
        return []
    name = "web-acl-on-public-albs"
    found = []
    for lb in _internet_facing_albs(stack):
        associations = stack.pointing_at(lb, "resourceArn", WEB_ACL_ASSOCIATION)
        acls = [
            acl
            for association in associations
            for acl in stack.referenced(association, "webAclArn", WEB_ACL)
        ]
        if not acls:
            found.append(Violation(name, lb.name, "is not associated with a WAF web ACL (ELB.16)"))
        for acl in acls:
            found += [Violation(name, acl.name, message) for message in _acl_problems(stack, acl)]
    return found


def _acl_problems(stack: Stack, acl: Resource) -> list[str]:
    problems = []
    if not acl.props.get("rules") and not acl.props.get("ruleJson"):
        problems.append("has no rules: it allows every request (WAF.10)")
    logging = stack.pointing_at(acl, "resourceArn", WEB_ACL_LOGGING)
    destinations = [
        d for config in logging for d in strings(config.props.get("logDestinationConfigs"))
    ]
    named = [d for d in destinations if _destination_name(stack, d).startswith(WAF_LOG_PREFIX)]
    if not named:
        problems.append(
            f"logs no requests (WAF.11): a logging configuration to an {WAF_LOG_PREFIX}... "
            "destination"
        )
    return problems


def _destination_name(stack: Stack, arn: str) -> str:
    """The destination's name: the log group's own, else the ARN's last segment."""
    for group in stack.of_type(LOG_GROUP):
        if arn in (group.props.get("arn"), group.props.get("id")):
            return str(group.props.get("name") or "")
    return arn.removesuffix(":*").split(":")[-1].split("/")[-1]


RULES: dict[str, Callable[[Stack, Settings], list[Violation]]] = {
    "web-acl-on-public-albs": web_acl_on_public_albs,
}
