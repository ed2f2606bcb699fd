"""IAM rules: least privilege in every policy document the stack declares, no administrator
attachments, and trust policies bound to the account (the confused-deputy guard)."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator, Mapping
from typing import Any

from awsfacts.tokens import IAM_POLICIES, POLICY_ATTACHMENTS, ROLE
from policy.resources import Resource, Settings, Stack, Violation, strings

# AWS managed policies that grant (nearly) everything, or every IAM permission.
ADMIN_POLICIES = ("AdministratorAccess", "PowerUserAccess", "IAMFullAccess")
# The instance role may resize its own group only within these condition keys' bounds.
CAPACITY_ACTION = "autoscaling:UpdateAutoScalingGroup"
CAPACITY_KEYS = ("autoscaling:MinSize", "autoscaling:MaxSize")
# EC2 does not supply aws:SourceAccount/aws:SourceArn when an instance assumes its role.
SERVICES_WITHOUT_SOURCE_KEYS = ("ec2.amazonaws.com",)


def _documents(stack: Stack) -> Iterator[tuple[Resource, Any]]:
    """(declaring resource, parsed document) for every permission policy in the stack."""
    for policy in stack.of_type(*IAM_POLICIES):
        yield policy, policy.props.get("policy")
    for role in stack.of_type(ROLE):
        for inline in role.props.get("inlinePolicies") or []:
            yield role, inline.get("policy")


def _parse(document: Any) -> Mapping[str, Any] | None:
    if isinstance(document, str):
        try:
            document = json.loads(document)
        except ValueError:
            return None
    return document if isinstance(document, Mapping) else {}


def _statements(document: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    statements = document.get("Statement") or []
    return [statements] if isinstance(statements, Mapping) else list(statements)


def _is_mutating_lb_or_asg(action: str) -> bool:
    service, _, operation = action.partition(":")
    if action == "*":
        return True
    if service.lower() not in ("autoscaling", "elasticloadbalancing"):
        return False
    # "Describe*" matches only read calls; any other pattern may match a mutating one.
    return not operation.startswith("Describe")


def _statement_problems(statement: Mapping[str, Any]) -> Iterator[str]:
    if statement.get("Effect") != "Allow":
        return
    if "NotAction" in statement:
        yield "allows NotAction (everything but a list); name the actions instead"
    if "NotResource" in statement:
        yield "allows on NotResource (everything but a list); name the resources instead"
    actions = list(strings(statement.get("Action")))
    resources = list(strings(statement.get("Resource")))
    everywhere = "*" in resources
    for action in actions:
        service, _, operation = action.partition(":")
        if action == "*" or operation == "*":
            yield f"allows every action of {service if operation else 'every service'} ({action})"
        elif everywhere and _is_mutating_lb_or_asg(action):
            # A Condition does not make this safe: conditions on request context rarely bind
            # the resource, and the statement still names every group and load balancer.
            yield (
                f"allows {action} on Resource '*'; scope it to the stack's group or load "
                "balancer ARN"
            )
        if action.lower() == "iam:passrole" and any("*" in r for r in resources):
            yield "allows iam:PassRole on a wildcard resource; name the role ARN"
        if action == CAPACITY_ACTION:
            condition = statement.get("Condition") or {}
            bound = {k for test in condition.values() if isinstance(test, Mapping) for k in test}
            missing = [k for k in CAPACITY_KEYS if k not in bound]
            if missing:
                yield (
                    f"allows {CAPACITY_ACTION} without a {' / '.join(missing)} condition; bound "
                    "MinSize and MaxSize to the stack's own limits"
                )


def iam_least_privilege(stack: Stack, settings: Settings) -> list[Violation]:
    """No wildcard actions, NotAction/NotResource, mutating Auto Scaling or load-balancer
    actions on '*' (with or without a Condition), iam:PassRole on a wildcard, unbounded
    UpdateAutoScalingGroup, or administrator policy attachments."""
    found = []
    name = "iam-least-privilege"
    for resource, raw in _documents(stack):
        document = _parse(raw)
        if document is None:
            found.append(Violation(name, resource.name, "policy document is not valid JSON"))
            continue
        for statement in _statements(document):
            found += [Violation(name, resource.name, p) for p in _statement_problems(statement)]
    attached = [
        (a, arn)
        for a in stack.of_type(*POLICY_ATTACHMENTS)
        for arn in strings(a.props.get("policyArn"))
    ]
    attached += [
        (r, arn) for r in stack.of_type(ROLE) for arn in strings(r.props.get("managedPolicyArns"))
    ]
    for resource, arn in attached:
        policy_name = arn.rsplit("/", 1)[-1]
        if ":aws:policy/" in arn and policy_name in ADMIN_POLICIES:
            found.append(Violation(name, resource.name, f"attaches {policy_name}"))
    return found


def trust_bound_to_account(stack: Stack, settings: Settings) -> list[Violation]:
    """Roles an AWS service assumes require aws:SourceAccount or aws:SourceArn (except EC2,
    which does not supply them)."""
    found = []
    name = "trust-bound-to-account"
    for role in stack.of_type(ROLE):
        document = _parse(role.props.get("assumeRolePolicy"))
        for statement in _statements(document or {}):
            principal = statement.get("Principal")
            services = (
                set(strings(principal.get("Service"))) if isinstance(principal, Mapping) else set()
            )
            services -= set(SERVICES_WITHOUT_SOURCE_KEYS)
            if statement.get("Effect") != "Allow" or not services:
                continue
            condition = json.dumps(statement.get("Condition") or {})
            if "aws:SourceAccount" not in condition and "aws:SourceArn" not in condition:
                found.append(
                    Violation(
                        name,
                        role.name,
                        f"trusts {', '.join(sorted(services))} without aws:SourceAccount or "
                        "aws:SourceArn (confused deputy)",
                    )
                )
    return found


RULES: dict[str, Callable[[Stack, Settings], list[Violation]]] = {
    "iam-least-privilege": iam_least_privilege,
    "trust-bound-to-account": trust_bound_to_account,
}
