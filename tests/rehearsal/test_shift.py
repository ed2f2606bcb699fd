"""The traffic shift rehearsed: the real ramp (`shift/ramp.py`) moves the users of
the deployed fleet from Azure to AWS through the rehearsal's proxy (Route 53 changes PENDING
then INSYNC, health check status and target health from the emulated world, the load
balancer's 5xx in moto's CloudWatch), and the verdict judges what Route 53 received.

The verdicts read the order of events (gate checks, changes, the ramp's sleeps), never how
long anything took, so a loaded machine changes nothing but the wall time."""

from __future__ import annotations

import io
import time

import pytest
import yaml

from rehearsal import shift
from rehearsal.clock import Clock
from rehearsal.declared import declared_fleet
from rehearsal.emulator import Emulator
from rehearsal.run import Options, rehearse
from stack.load import read_stack_file, stack_file_path
from tests.rehearsal import VERDICT_KEYS, broken_ramp
from tests.rehearsal.verdicts import body_of

# No hook runs during a shift: the clock drives only the ramp's waits (TTL + hold, polls), and
# the verdict reads the ramp's own events (a sleep before the rollback), never real timings.
FAST = {"time_scale": 240.0}


@pytest.fixture(scope="module")
def production_traffic():
    return declared_fleet("production", traffic=True)


@pytest.fixture(scope="module")
def staging_traffic():
    return declared_fleet("staging", traffic=True)


def _rehearse(fleet, **options):
    return rehearse(fleet, Options(**{**FAST, **options}), io.StringIO(), io.StringIO(), 400, 120)


def test_the_shipped_stacks_get_the_rehearsal_default_section(production_traffic):
    traffic = production_traffic.traffic
    assert traffic.source.startswith("rehearsal default (no cutover:traffic in")
    assert traffic.record_name == "www.shift-rehearsal.example"
    # Declared by the program itself: an A pair, azure 100 at the documentation address and
    # aws 0 as an alias to the program's load balancer.
    assert traffic.records["azure"].values == ["192.0.2.10"]
    assert traffic.records["azure"].weight == 100 and traffic.records["aws"].weight == 0
    assert traffic.records["aws"].alias == traffic.load_balancer_dns


def test_shift_ramps_to_100_percent_and_passes(production_traffic):
    verdict = _rehearse(production_traffic, scenario="shift")
    assert verdict.ok, verdict.render()
    body = body_of(verdict)
    assert set(body) >= VERDICT_KEYS, sorted(VERDICT_KEYS - set(body))
    traffic = body["traffic"]
    assert traffic["stepsPlanned"] == [5, 25, 50, 100]
    assert [s["percent"] for s in traffic["steps"]] == [5, 25, 50, 100]
    assert all(s["held"] for s in traffic["steps"])
    assert traffic["steps"][0]["weights"] == {"azure": 95, "aws": 5}
    assert [c["weights"]["aws"] for c in traffic["changes"]] == [5, 25, 50, 100]
    assert traffic["finalWeights"] == {"azure": 0, "aws": 100}
    assert traffic["exitCode"] == 0 and traffic["azureRecordKept"]
    assert traffic["deletedRecords"] == [] and not traffic["bothWeightsZeroEver"]
    # The gates read the emulated world: every target healthy, the users' requests counted.
    gates = {g["name"]: g for g in traffic["steps"][-1]["gates"]}
    assert gates["healthy targets"]["value"] == "3/3"
    assert traffic["requests"]["aws"] > 0 and traffic["requests"]["awsTarget5xx"] == 0
    # The fleet's own promises hold too: nobody went out of service.
    assert verdict.lowest_in_service == 3 >= verdict.floor
    assert verdict.capacity_after == verdict.capacity_before


def test_shift_rollback_returns_to_the_last_step_that_held(production_traffic):
    verdict = _rehearse(production_traffic, scenario="shift-rollback")
    assert verdict.ok, verdict.render()
    traffic = body_of(verdict)["traffic"]
    assert traffic["breachInjectedAtStep"] == 2
    assert [(s["percent"], s["held"]) for s in traffic["steps"]] == [(5, True), (25, False)]
    breached = {g["name"]: g for g in traffic["steps"][1]["gates"]}
    assert not breached["5xx ratio"]["ok"]
    assert [c["weights"]["aws"] for c in traffic["changes"]] == [5, 25, 5]
    assert traffic["rollback"]["fromStep"] == 2 and traffic["rollback"]["atOnce"]
    assert traffic["rollback"]["toWeights"] == {"azure": 95, "aws": 5}
    assert "5xx ratio" in traffic["rollback"]["reason"]
    assert traffic["finalWeights"] == {"azure": 95, "aws": 5}
    assert traffic["exitCode"] == 1 and traffic["azureRecordKept"]


def test_a_ramp_that_does_not_roll_back_fails_the_verdict(production_traffic):
    verdict = _rehearse(production_traffic, scenario="shift-rollback", ramp=broken_ramp.NoRollback)
    assert not verdict.ok
    assert any(r.startswith("traffic: no rollback") for r in verdict.reasons), verdict.reasons
    assert any("expected azure 95 / aws 5" in r for r in verdict.reasons)
    assert body_of(verdict)["traffic"]["finalWeights"] == {"azure": 75, "aws": 25}


def test_a_rollback_that_waits_first_fails_the_verdict(staging_traffic):
    verdict = _rehearse(staging_traffic, scenario="shift-rollback", ramp=broken_ramp.LateRollback)
    assert not verdict.ok
    assert any("the rollback was not at once" in r for r in verdict.reasons), verdict.reasons
    # It did get back to the right weights: only the delay is wrong.
    assert body_of(verdict)["traffic"]["finalWeights"] == {"azure": 95, "aws": 5}


def test_a_stack_with_its_own_traffic_section_is_shifted_as_declared(tmp_path):
    """A hostname Azure endpoint: the program declares a CNAME pair, the ramp checks that both
    names resolve (the rehearsal's resolver knows the emulated ones) and moves the weights."""
    values = read_stack_file(stack_file_path("staging"))
    values["cutover:traffic"] = {
        "zoneName": "shop.example.com",
        "recordName": "www.shop.example.com",
        "azureEndpoint": "shop.westeurope.cloudapp.azure.com",
        "ttl": 30,
    }
    path = tmp_path / "Pulumi.staging.yaml"
    path.write_text(yaml.safe_dump({"config": values}), encoding="utf-8")
    fleet = declared_fleet("staging", path, traffic=True)
    assert fleet.traffic.source == "Pulumi.staging.yaml (cutover:traffic)"
    assert {r.type for r in fleet.traffic.records.values()} == {"CNAME"}
    verdict = _rehearse(fleet, scenario="shift")
    assert verdict.ok, verdict.render()
    traffic = body_of(verdict)["traffic"]
    assert traffic["recordType"] == "CNAME" and traffic["ttl"] == 30
    assert traffic["finalWeights"] == {"azure": 0, "aws": 100}


def test_route53_answers_as_aws_pending_then_insync_and_health_from_the_world(
    production_traffic,
):
    """moto answers every change INSYNC under one id and every health check healthy; the
    rehearsal's Route 53 does not."""
    clock = Clock(1.0)  # 30 real seconds to INSYNC: "PENDING" cannot be a race
    with Emulator(production_traffic.region) as emulator:
        emulated = emulator.build(production_traffic, clock, 3, "r0")
        emulated.world.start()
        estate = shift.build(emulator, emulated, production_traffic, clock)
        session = shift.ProxiedSession(emulated.url, production_traffic.region)
        route53 = session.client("route53")
        records = estate.read_records()
        changes = []
        for weight in (5, 25):
            batch = [
                {"Action": "UPSERT", "ResourceRecordSet": {**records[side], "Weight": w}}
                for side, w in (("azure", 100 - weight), ("aws", weight))
            ]
            answer = route53.change_resource_record_sets(
                HostedZoneId=estate.target.zone_id, ChangeBatch={"Changes": batch}
            )
            changes.append(answer["ChangeInfo"])
        assert [c["Status"] for c in changes] == ["PENDING", "PENDING"]
        assert changes[0]["Id"] != changes[1]["Id"]
        assert route53.get_change(Id=changes[1]["Id"])["ChangeInfo"]["Status"] == "PENDING"
        assert [c.weights for c in estate.route53.changes] == [
            {"azure": 95, "aws": 5},
            {"azure": 75, "aws": 25},
        ]
        clock.set_scale(10_000.0)
        time.sleep(0.05)  # 500 emulated seconds
        assert route53.get_change(Id=changes[1]["Id"])["ChangeInfo"]["Status"] == "INSYNC"

        def healthy() -> int:
            status = route53.get_health_check_status(HealthCheckId=estate.target.health_check_id)
            reports = [o["StatusReport"]["Status"] for o in status["HealthCheckObservations"]]
            return sum(r.startswith("Success") for r in reports)

        emulated.world.advance()
        assert healthy() == 8
        estate.users.fail(sorted(emulated.world.serving())[0])
        assert healthy() == 5  # the checkers' requests spread over 3 targets, one fails
