"""The rehearsed fleet is what the Pulumi program declares: a change to the program (or the
stack's config) reaches the rehearsal without a second description of the fleet."""

from __future__ import annotations

from rehearsal.declared import from_evaluation
from tests.infra.conftest import run_program, stack_values


def test_production_fleet_comes_from_the_program(production):
    group = production.group
    assert (group.min_size, group.desired_capacity, group.max_size) == (2, 3, 6)
    assert (group.health_check_type, group.grace_period) == ("ELB", 300)
    (tg,) = group.target_groups
    assert tg.deregistration_delay == 120
    assert (tg.health_check.healthy_threshold, tg.health_check.interval) == (3, 10)
    assert production.deployment_group.config_name == "CodeDeployDefault.OneAtATime"
    assert production.deployment_group.auto_rollback
    assert len(production.zones) == 3
    assert {t["key"] for t in group.tags} >= {"Name", "team", "cutover:stack"}


def test_a_classic_elb_and_a_custom_config_reach_the_rehearsal():
    values = stack_values("production")
    values["cutover:loadBalancer"]["type"] = "classic"
    values["cutover:loadBalancer"]["allowPlainHttp"] = True  # a classic ELB cannot redirect
    values["cutover:loadBalancer"]["deregistrationDelay"] = 45
    values["cutover:deployment"]["config"] = "Cutover.SeventyFive"
    values["cutover:deployment"]["minimumHealthyHosts"] = {"type": "FLEET_PERCENT", "value": 75}
    # 75 % healthy keeps 3 of 4: the config refuses it for a fleet of MinSize 2
    values["cutover:fleet"].update(minSize=4, desiredCapacity=4, maxSize=8)
    fleet = from_evaluation("production", "eu-central-1", run_program("production", values))
    assert fleet.group.target_groups == []
    (elb,) = fleet.group.classic_elbs
    assert elb.draining_timeout == 45 and elb.health_check.healthy_threshold == 3
    hosts = fleet.deployment_group.minimum_healthy_hosts
    assert (hosts.type, hosts.value) == ("FLEET_PERCENT", 75)
