"""The policy rules on the resources the real program registers for the shipped stacks.

Each failing case changes one resource the way a careless edit of the program would, so the
rules' joins (group -> subnets, deployment group -> group, launch template -> security group,
bucket -> public access block) are exercised on the program's real resource shapes.
"""

from __future__ import annotations

import json
import subprocess
import sys
from dataclasses import replace

import pytest

from policy import rules
from policy.rules import Resource, Settings
from preview.cli import check_stack, evaluate_stack
from stack import load as infra_config
from stack.load import load_stack_file, stack_file_path

GROUP = "aws:autoscaling/group:Group"


@pytest.fixture(scope="module")
def production() -> tuple[list[Resource], Settings]:
    evaluation = evaluate_stack("production")
    resources = [
        Resource(r.type, r.name, {**r.outputs, **r.inputs})
        for r in evaluation.resources
        if r.custom
    ]
    return resources, Settings(deregister_timeout=400)


def _one(resources: list[Resource], type_: str) -> Resource:
    (found,) = [r for r in resources if r.type == type_]
    return found


def _change(resources: list[Resource], target: Resource, **props) -> list[Resource]:
    return [replace(r, props={**r.props, **props}) if r is target else r for r in resources]


@pytest.mark.parametrize("stack", ["staging", "production"])
def test_both_shipped_stacks_pass_every_rule(stack):
    cfg = load_stack_file(stack_file_path(stack), stack=stack)
    assert check_stack(evaluate_stack(stack), cfg) == []


def test_preview_check_exits_zero_and_says_so():
    result = subprocess.run(
        [sys.executable, "-m", "preview", "staging", "--check"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert "Policy pack on staging: all rules pass" in result.stderr


def test_config_and_policy_draw_the_drain_limit_at_the_same_place():
    # The largest deregistration delay stack.load accepts passes the policy rule; one second
    # more is refused by both.
    def verdicts(delay: int) -> tuple[bool, bool]:
        values = {
            "aws:region": "eu-central-1",
            "cutover:fleet": {"instanceTypes": ["t3a.small"]},
            "cutover:loadBalancer": {"deregistrationDelay": delay, "allowPlainHttp": True},
            "cutover:deployment": {"deregisterTimeout": 400},
        }
        try:
            infra_config.load_mapping(values, stack="qa")
            config_accepts = True
        except infra_config.ConfigError:
            config_accepts = False
        target_group = Resource(rules.TARGET_GROUPS[0], "tg", {"deregistrationDelay": delay})
        policy_accepts = not rules.deregistration_delay_fits_hook(
            rules.Stack([target_group]), Settings(deregister_timeout=400)
        )
        return config_accepts, policy_accepts

    limit = 400 - infra_config.DEREGISTER_HOOK_MARGIN - 1
    assert verdicts(limit) == (True, True)
    assert verdicts(limit + 1) == (False, False)


def test_a_group_in_one_zone_is_caught_through_its_subnets(production):
    resources, settings = production
    group = _one(resources, GROUP)
    one_zone = _change(resources, group, vpcZoneIdentifiers=group.props["vpcZoneIdentifiers"][:1])
    assert [v.message for v in rules.check(one_zone, settings)] == [
        "spans 1 availability zone(s); needs >= 2"
    ]


def test_a_one_instance_production_group_breaks_capacity_and_the_deployment_floor(production):
    resources, settings = production
    group = _one(resources, GROUP)
    found = {v.policy for v in rules.check(_change(resources, group, minSize=1), settings)}
    assert found == {"zero-downtime-group-capacity", "deployment-keeps-a-healthy-instance"}


def test_the_app_port_opened_to_the_internet_on_the_instances_is_caught(production):
    resources, settings = production
    template = _one(resources, rules.LAUNCH_TEMPLATE)
    instance_sg_ids = list(rules.strings(template.props.get("vpcSecurityGroupIds")))
    for nic in template.props.get("networkInterfaces") or []:
        instance_sg_ids += list(rules.strings(nic.get("securityGroups")))
    assert instance_sg_ids, "the launch template names the instances' security group"
    opened = Resource(
        rules.SG_INGRESS_RULE,
        "app-from-anywhere",
        {
            "securityGroupId": instance_sg_ids[0],
            "ipProtocol": "tcp",
            "fromPort": 80,
            "toPort": 80,
            "cidrIpv4": "0.0.0.0/0",
        },
    )
    violations = rules.check([*resources, opened], settings)
    assert [v.policy for v in violations] == ["no-internet-ingress-to-instances"]


def test_a_revision_bucket_without_its_public_access_block_is_caught(production):
    resources, settings = production
    without = [r for r in resources if r.type != rules.BUCKET_PUBLIC_ACCESS_BLOCK]
    violations = rules.check(without, settings)
    assert {v.policy for v in violations} == {"buckets-private-encrypted"}


def test_a_wildcard_standby_grant_in_the_instance_policy_is_caught(production):
    resources, settings = production
    policies = [r for r in resources if r.type in rules.IAM_POLICIES]
    assert policies, "the program declares the instance policy"
    widened = Resource(
        "aws:iam/rolePolicy:RolePolicy",
        "widened",
        {
            "policy": json.dumps(
                {"Statement": [{"Effect": "Allow", "Action": "autoscaling:*", "Resource": "*"}]}
            )
        },
    )
    assert [v.policy for v in rules.check([*resources, widened], settings)] == [
        "iam-least-privilege"
    ]
