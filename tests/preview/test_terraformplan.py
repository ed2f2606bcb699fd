"""The preview's resources as a Terraform plan: Terraform's type and argument names, blocks as
lists, and references between resources where a scanner expects them."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from preview import terraformplan
from preview.mocks import RecordedResource
from tests.infra.conftest import run_program, stack_values

ZONE = "Z0123456789ABC"
KMS_KEY = "arn:aws:kms:eu-central-1:123456789012:key/0123abcd-0123-4567-89ab-0123456789ab"


def _variant(stack: str, change) -> Any:
    values = stack_values(stack)
    change(values)
    return run_program(stack, values)


def _everything(values: dict[str, Any]) -> None:
    """Every optional resource: traffic, a custom deployment config, a KMS key, Session
    Manager, a second architecture, a path rule, step scaling, alternative names."""
    values["cutover:traffic"] = {
        "zoneId": ZONE,
        "recordName": "www.example.com",
        "azureEndpoint": "shop.azurewebsites.net",
    }
    values["cutover:deployment"].update(
        config="Cutover.Half", minimumHealthyHosts={"type": "HOST_COUNT", "value": 1}
    )
    values["cutover:revisions"] = {"kmsKeyArn": KMS_KEY}
    values["cutover:fleet"].update(ssmSessionManager=True, instanceTypes=["m7g.large"])
    values["cutover:scaling"] = {"mode": "step"}
    lb = values["cutover:loadBalancer"]
    lb["certificate"]["alternativeNames"] = ["api.example.com"]
    lb["listeners"][1]["rules"] = [{"pathPatterns": ["/api/*"], "targetPort": 8080}]


@pytest.fixture(scope="module")
def plans() -> dict[str, tuple[Any, dict[str, Any]]]:
    evaluations = {
        "production": run_program("production", stack_values("production")),
        "staging": run_program("staging", stack_values("staging")),
        "everything": _variant("production", _everything),
        "classic": _variant("staging", lambda v: v["cutover:loadBalancer"].update(type="classic")),
    }
    return {k: (e, terraformplan.convert(e.resources)) for k, e in evaluations.items()}


def _resource(plan: dict[str, Any], section: str, address: str) -> dict[str, Any]:
    resources = plan[section]["root_module"]["resources"] if section != "resource_changes" else []
    (found,) = [r for r in resources if r["address"] == address]
    return found


def test_every_resource_type_the_program_emits_has_a_terraform_name(plans):
    emitted = {r.type for evaluation, _ in plans.values() for r in evaluation.resources if r.custom}
    assert emitted == set(terraformplan.TERRAFORM_TYPES)
    converted = {
        r["type"]
        for _, plan in plans.values()
        for r in plan["planned_values"]["root_module"]["resources"]
    }
    assert converted == set(terraformplan.TERRAFORM_TYPES.values())


def test_every_resource_is_planned_configured_and_created_once(plans):
    for evaluation, plan in plans.values():
        custom = [r for r in evaluation.resources if r.custom]
        planned = plan["planned_values"]["root_module"]["resources"]
        configured = plan["configuration"]["root_module"]["resources"]
        assert len(planned) == len(configured) == len(plan["resource_changes"]) == len(custom)
        assert len({r["address"] for r in planned}) == len(custom)
        assert all(c["change"]["actions"] == ["create"] for c in plan["resource_changes"])
        assert plan["format_version"] == "1.2"


def test_a_listener_gets_terraform_names_blocks_and_references(plans):
    _, plan = plans["production"]
    address = "aws_lb_listener.cutover-production-http-80"
    values = _resource(plan, "planned_values", address)["values"]
    assert values["default_action"] == [
        {
            "type": "redirect",
            "redirect": [{"protocol": "HTTPS", "port": "443", "status_code": "HTTP_301"}],
        }
    ]
    assert values["load_balancer_arn"] is None  # unknown until apply, as in a real plan
    expressions = _resource(plan, "configuration", address)["expressions"]
    assert expressions["load_balancer_arn"] == {
        "references": ["aws_lb.cutover-production-alb.arn", "aws_lb.cutover-production-alb"]
    }
    assert expressions["port"] == {"constant_value": 80}


def test_the_web_acl_and_the_database_reach_what_they_protect(plans):
    _, plan = plans["production"]
    association = _resource(
        plan, "configuration", "aws_wafv2_web_acl_association.cutover-production-waf"
    )["expressions"]
    assert association["resource_arn"]["references"][1] == "aws_lb.cutover-production-alb"
    assert association["web_acl_arn"]["references"][1] == "aws_wafv2_web_acl.cutover-production-waf"
    acl = _resource(plan, "planned_values", "aws_wafv2_web_acl.cutover-production-waf")["values"]
    names = [
        r["statement"][0]["managed_rule_group_statement"][0]["name"]
        for r in acl["rule"]
        if "managed_rule_group_statement" in r["statement"][0]
    ]
    assert "AWSManagedRulesKnownBadInputsRuleSet" in names
    db = _resource(plan, "configuration", "aws_db_instance.cutover-production-db")["expressions"]
    assert db["parameter_group_name"]["references"][1] == (
        "aws_db_parameter_group.cutover-production-db-parameters"
    )
    parameters = _resource(
        plan, "planned_values", "aws_db_parameter_group.cutover-production-db-parameters"
    )["values"]["parameter"]
    assert {"name": "rds.force_ssl", "value": "1"} in parameters


def test_maps_keep_their_keys_and_group_tags_are_tag_blocks(plans):
    _, plan = plans["production"]
    alb = _resource(plan, "planned_values", "aws_lb.cutover-production-alb")["values"]
    assert alb["tags"]["cutover:stack"] == "production"
    group = _resource(
        plan, "planned_values", "aws_autoscaling_group.cutover-production-fleet-group"
    )
    tags = group["values"]["tag"]
    assert {"key": "cutover:stack", "value": "production", "propagate_at_launch": True} in tags
    assert "vpc_zone_identifier" in group["values"]


def test_an_unknown_pulumi_type_is_an_error_not_a_skip():
    stray = RecordedResource("aws:ec2/instance:Instance", "stray", {"ami": "ami-1"}, True, {})
    with pytest.raises(terraformplan.UnknownResourceType, match="aws:ec2/instance:Instance"):
        terraformplan.convert([stray])


def test_the_preview_writes_the_plan(tmp_path: Path):
    target = tmp_path / "staging.tfplan.json"
    result = subprocess.run(
        [sys.executable, "-m", "preview.cli", "staging", "--terraform-plan", str(target)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    plan = json.loads(target.read_text())
    assert any(r["type"] == "aws_lb" for r in plan["planned_values"]["root_module"]["resources"])
