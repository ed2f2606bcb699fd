"""deployment.style blue-green: two groups from one template, weighted target groups, and what
`pulumi up` leaves to the release."""

from __future__ import annotations

import json
from typing import Any

import pulumi_aws
import pytest

from preview.mocks import Evaluation
from stack import names
from stack.load import ConfigError

GROUP = "aws:autoscaling/group:Group"
TARGET_GROUP = "aws:lb/targetGroup:TargetGroup"
LISTENER = "aws:lb/listener:Listener"
RULE = "aws:lb/listenerRule:ListenerRule"
TEMPLATE = "aws:ec2/launchTemplate:LaunchTemplate"
POLICY = "aws:autoscaling/policy:Policy"
ALARM = "aws:cloudwatch/metricAlarm:MetricAlarm"
DEPLOYMENT_GROUP = "aws:codedeploy/deploymentGroup:DeploymentGroup"
ROLE_POLICY = "aws:iam/rolePolicy:RolePolicy"


def blue_green(values: dict[str, Any]) -> None:
    values["cutover:deployment"]["style"] = "blue-green"


def with_path_rule(values: dict[str, Any]) -> None:
    blue_green(values)
    values["cutover:loadBalancer"]["listeners"][1]["rules"] = [
        {"pathPatterns": ["/api/*"], "targetPort": 8080}
    ]


@pytest.fixture(scope="module")
def production_bg() -> Evaluation:
    from tests.infra.conftest import run_program, stack_values

    values = stack_values("production")
    blue_green(values)
    return run_program("production", values)


@pytest.fixture(scope="module")
def staging_bg() -> Evaluation:
    from tests.infra.conftest import run_program, stack_values

    values = stack_values("staging")
    blue_green(values)
    return run_program("staging", values)


def groups_by_colour(evaluation: Evaluation) -> dict[str, dict[str, Any]]:
    found = {}
    for group in evaluation.of_type(GROUP):
        tags = {t["key"]: t["value"] for t in group.inputs["tags"]}
        found[tags[names.COLOUR_TAG]] = group.inputs
    return found


def test_in_place_is_the_default_and_declares_one_group(production):
    assert len(production.of_type(GROUP)) == 1
    assert names.DEPLOYMENT_STYLE not in production.outputs
    assert names.AUTO_SCALING_GROUP_NAME in production.outputs


def test_blue_green_declares_two_groups_from_one_template_with_the_stacks_bounds(production_bg):
    groups = groups_by_colour(production_bg)
    assert set(groups) == {"blue", "green"}
    (template,) = [t for t in production_bg.of_type(TEMPLATE)]
    for colour, group in groups.items():
        assert group["name"] == f"cutover-production-fleet-{colour}"
        assert (group["minSize"], group["desiredCapacity"], group["maxSize"]) == (2, 3, 6)
        assert group["healthCheckType"] == "ELB"
        spec = group["mixedInstancesPolicy"]["launchTemplate"]["launchTemplateSpecification"]
        assert spec["launchTemplateId"] == template.outputs["id"]
    assert groups["blue"]["vpcZoneIdentifiers"] == groups["green"]["vpcZoneIdentifiers"]


def test_each_colour_has_its_own_target_group_and_the_listener_weighs_them(production_bg):
    groups = groups_by_colour(production_bg)
    tgs = {tg.name: tg.outputs["arn"] for tg in production_bg.of_type(TARGET_GROUP)}
    assert set(tgs) == {"cutover-production-tg-blue", "cutover-production-tg-green"}
    for colour, group in groups.items():
        assert group["targetGroupArns"] == [tgs[f"cutover-production-tg-{colour}"]]
    https = production_bg.named(LISTENER, "cutover-production-https-443").inputs
    (action,) = https["defaultActions"]
    assert action["type"] == "forward" and "targetGroupArn" not in action
    assert action["forward"]["targetGroups"] == [
        {"arn": tgs["cutover-production-tg-blue"], "weight": 100},
        {"arn": tgs["cutover-production-tg-green"], "weight": 0},
    ]
    assert action["forward"]["stickiness"]["enabled"] is False
    # The plain HTTP listener still only redirects.
    http = production_bg.named(LISTENER, "cutover-production-http-80").inputs
    assert http["defaultActions"][0]["type"] == "redirect"
    out = production_bg.outputs
    assert out[names.WEIGHTED_LISTENER_ARNS] == [
        production_bg.named(LISTENER, "cutover-production-https-443").outputs["arn"]
    ]
    assert out[names.COLOUR_TARGET_GROUP_ARNS] == {
        c: [tgs[f"cutover-production-tg-{c}"]] for c in ("blue", "green")
    }
    assert out[names.COLOUR_GROUP_NAMES] == {
        c: f"cutover-production-fleet-{c}" for c in ("blue", "green")
    }


def test_each_colour_scales_with_the_same_policies(staging_bg):
    policies: dict[str, dict[str, Any]] = {}
    for policy in staging_bg.of_type(POLICY):
        colour = policy.inputs["autoscalingGroupName"].rsplit("-", 1)[1]
        direction = policy.name.rsplit("-", 1)[1]
        policies[f"{colour}-{direction}"] = {
            k: v for k, v in policy.inputs.items() if k not in ("autoscalingGroupName",)
        }
    assert set(policies) == {"blue-out", "blue-in", "green-out", "green-in"}
    assert policies["blue-out"] == policies["green-out"]
    assert policies["blue-in"] == policies["green-in"]
    scaling_alarms = [a for a in staging_bg.of_type(ALARM) if "-scaling-" in a.name]
    dims = sorted(a.inputs["dimensions"]["AutoScalingGroupName"] for a in scaling_alarms)
    assert dims == sorted(2 * ["cutover-staging-fleet-blue", "cutover-staging-fleet-green"])


def test_each_colour_has_its_unhealthy_alarm_and_deployment_group(production_bg):
    unhealthy = [a for a in production_bg.of_type(ALARM) if "-unhealthy-" in a.name]
    assert len(unhealthy) == 2
    deployment_groups = {
        dg.inputs["deploymentGroupName"]: dg.inputs["autoscalingGroups"]
        for dg in production_bg.of_type(DEPLOYMENT_GROUP)
    }
    assert deployment_groups == {
        f"cutover-production-fleet-{c}": [f"cutover-production-fleet-{c}"]
        for c in ("blue", "green")
    }
    assert production_bg.outputs[names.COLOUR_DEPLOYMENT_GROUP_NAMES] == {
        c: f"cutover-production-fleet-{c}" for c in ("blue", "green")
    }


def test_the_hooks_may_act_on_both_colours_and_nothing_else(production_bg):
    policy = json.loads(
        production_bg.named(ROLE_POLICY, "cutover-production-instance-policy").inputs["policy"]
    )
    statements = {s["Sid"]: s for s in policy["Statement"]}
    resources = statements["HooksOwnGroup"]["Resource"]
    assert [r.rsplit("/", 1)[1] for r in resources] == [
        "cutover-production-fleet-blue",
        "cutover-production-fleet-green",
    ]
    (values,) = statements["HooksOwnInstanceEntries"]["Condition"]["StringEquals"].values()
    assert values == ["cutover-production-fleet-blue", "cutover-production-fleet-green"]


def test_listener_rules_are_weighted_too(evaluate_variant):
    evaluation = evaluate_variant("production", with_path_rule)
    (rule,) = evaluation.of_type(RULE)
    (action,) = rule.inputs["actions"]
    weights = [t["weight"] for t in action["forward"]["targetGroups"]]
    assert weights == [100, 0]
    assert len(evaluation.of_type(TARGET_GROUP)) == 4
    assert evaluation.outputs[names.WEIGHTED_RULE_ARNS] == [rule.outputs["arn"]]


def test_up_leaves_weights_and_capacities_to_the_release(monkeypatch, evaluate_variant):
    seen: dict[str, Any] = {}

    def spy(cls):
        class Spy(cls):
            def __init__(self, resource_name, *args, opts=None, **kwargs):
                seen[resource_name] = opts
                super().__init__(resource_name, *args, opts=opts, **kwargs)

        return Spy

    monkeypatch.setattr(pulumi_aws.autoscaling, "Group", spy(pulumi_aws.autoscaling.Group))
    monkeypatch.setattr(pulumi_aws.lb, "Listener", spy(pulumi_aws.lb.Listener))
    monkeypatch.setattr(pulumi_aws.lb, "ListenerRule", spy(pulumi_aws.lb.ListenerRule))
    evaluate_variant("production", with_path_rule)
    for colour in ("blue", "green"):
        ignored = seen[f"cutover-production-fleet-{colour}-group"].ignore_changes
        assert set(ignored) >= {"minSize", "maxSize", "desiredCapacity", "tags"}
    assert seen["cutover-production-https-443"].ignore_changes == ["defaultActions"]
    assert seen["cutover-production-https-443-rule-0"].ignore_changes == ["actions"]
    assert not (seen["cutover-production-http-80"].ignore_changes or [])


NETWORK = {
    "type": "network",
    "listeners": [{"protocol": "TCP", "port": 80}],
    "healthCheck": {"protocol": "TCP"},
    "allowPlainHttp": None,
}


@pytest.mark.parametrize("lb", [NETWORK, {"type": "classic"}], ids=["network", "classic"])
def test_blue_green_needs_an_application_load_balancer(evaluate_variant, lb):
    def change(values: dict[str, Any]) -> None:
        blue_green(values)
        values["cutover:loadBalancer"].update(lb)

    with pytest.raises(ConfigError) as error:
        evaluate_variant("staging", change)
    assert error.value.key == "cutover:deployment.style"
    assert "application" in error.value.rule


def test_an_unknown_style_names_the_key(evaluate_variant):
    with pytest.raises(ConfigError) as error:
        evaluate_variant("production", lambda v: v["cutover:deployment"].update(style="canary"))
    assert error.value.key == "cutover:deployment.style"
