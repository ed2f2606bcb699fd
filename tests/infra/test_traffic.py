"""cutover:traffic: the two weighted records and their health checks, the weights the program
never moves back, and every key's rule."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pulumi
import pytest
import yaml

from preview.mocks import Evaluation
from stack.load import ConfigError, load_mapping, load_stack_file
from tests.infra.conftest import run_program, stack_values

RECORD = "aws:route53/record:Record"
HEALTH_CHECK = "aws:route53/healthCheck:HealthCheck"
ALB = "aws:lb/loadBalancer:LoadBalancer"
AZURE_HOST = "shop.westeurope.cloudapp.azure.com"
QA_FLEET = {"allowDowntime": True}
TRAFFIC = {"zoneName": "example.com", "recordName": "www.example.com", "azureEndpoint": AZURE_HOST}


def with_traffic(traffic: dict[str, Any], stack: str = "production") -> Evaluation:
    values = stack_values(stack)
    values["cutover:traffic"] = traffic
    return run_program(stack, values)


@pytest.fixture(scope="module")
def hostname() -> Evaluation:
    return with_traffic(TRAFFIC)


@pytest.fixture(scope="module")
def address() -> Evaluation:
    return with_traffic(
        {
            **TRAFFIC,
            "zoneName": "",
            "zoneId": "Z0123456789ABC",
            "azureEndpoint": "20.50.2.10",
            "ttl": 30,
        }
    )


def records(evaluation: Evaluation) -> dict[str, dict[str, Any]]:
    """The weighted records (not the certificate's DNS validation records)."""
    return {
        r.inputs["setIdentifier"]: r.inputs
        for r in evaluation.of_type(RECORD)
        if "setIdentifier" in r.inputs
    }


def test_committed_stacks_have_no_weighted_records(staging, production):
    for evaluation in (staging, production):
        assert records(evaluation) == {} and evaluation.of_type(HEALTH_CHECK) == []
        assert "trafficZoneId" not in evaluation.outputs


def test_hostname_gets_a_weighted_cname_pair_starting_all_on_azure(hostname):
    alb = hostname.one(ALB).outputs
    azure, aws = records(hostname)["azure"], records(hostname)["aws"]
    zone = hostname.outputs["trafficZoneId"]
    assert azure == {
        "zoneId": zone,
        "name": "www.example.com",
        "type": "CNAME",
        "ttl": 60,
        "records": [AZURE_HOST],
        "setIdentifier": "azure",
        "weightedRoutingPolicies": [{"weight": 100}],
        "healthCheckId": hostname.outputs["trafficHealthCheckIds"]["azure"],
        "allowOverwrite": True,  # adopts the record the runbook's hand-over created
    }
    # Route 53 weighs records of one type only, and an ELB alias is A/AAAA: a CNAME pair.
    assert aws["type"] == "CNAME"
    assert aws["records"] == [alb["dnsName"]]
    assert aws["weightedRoutingPolicies"] == [{"weight": 0}]
    assert aws["healthCheckId"] == hostname.outputs["trafficHealthCheckIds"]["aws"]
    # The zone named in config is looked up, not created.
    assert any(token == "aws:route53/getZone:getZone" for token, _ in hostname.calls)


def test_ip_gets_an_a_record_and_an_alias_to_the_load_balancer(address):
    alb = address.one(ALB).outputs
    azure, aws = records(address)["azure"], records(address)["aws"]
    assert (azure["type"], azure["records"], azure["ttl"]) == ("A", ["20.50.2.10"], 30)
    assert aws["type"] == "A"
    assert aws["aliases"] == [
        {"name": alb["dnsName"], "zoneId": alb["zoneId"], "evaluateTargetHealth": True}
    ]
    assert "ttl" not in aws and "records" not in aws
    assert {r["zoneId"] for r in (azure, aws)} == {"Z0123456789ABC"}
    assert address.outputs["trafficZoneId"] == "Z0123456789ABC"


def test_a_health_check_per_side(hostname, address):
    checks = {r.name.rsplit("-", 1)[1]: r.inputs for r in hostname.of_type(HEALTH_CHECK)}
    assert checks["aws"]["fqdn"] == hostname.one(ALB).outputs["dnsName"]
    assert (checks["aws"]["type"], checks["aws"]["port"], checks["aws"]["resourcePath"]) == (
        "HTTP",
        80,
        "/",
    )
    assert (checks["azure"]["fqdn"], checks["azure"]["type"], checks["azure"]["port"]) == (
        AZURE_HOST,
        "HTTPS",
        443,
    )
    ip_checks = {r.name.rsplit("-", 1)[1]: r.inputs for r in address.of_type(HEALTH_CHECK)}
    assert ip_checks["azure"]["ipAddress"] == "20.50.2.10"
    assert "fqdn" not in ip_checks["azure"]


def test_health_check_settings_come_from_config():
    evaluation = with_traffic(
        {
            **TRAFFIC,
            "requestInterval": 10,
            "failureThreshold": 2,
            "healthCheck": {"aws": {"path": "/health"}, "azure": {"protocol": "TCP", "port": 8443}},
        }
    )
    checks = {r.name.rsplit("-", 1)[1]: r.inputs for r in evaluation.of_type(HEALTH_CHECK)}
    assert checks["aws"]["resourcePath"] == "/health"
    assert (checks["azure"]["type"], checks["azure"]["port"]) == ("TCP", 8443)
    assert "resourcePath" not in checks["azure"]
    assert {c["requestInterval"] for c in checks.values()} == {10}
    assert {c["failureThreshold"] for c in checks.values()} == {2}


def test_outputs_name_what_the_shift_reads(hostname):
    outputs = hostname.outputs
    assert outputs["trafficRecordName"] == "www.example.com"
    assert set(outputs["trafficHealthCheckIds"]) == {"azure", "aws"}
    assert outputs["loadBalancerArn"] == hostname.one(ALB).outputs["arn"]
    assert outputs["targetGroupArns"]


def test_pulumi_up_never_moves_the_weights_back():
    """After a shift the live weights differ from the program's 100/0; the engine keeps the
    live ones because both records ignore changes to their weighted routing policy."""
    seen: dict[str, Any] = {}

    def spy(args: pulumi.ResourceTransformationArgs) -> None:
        if args.type_ == RECORD and "-traffic-" in args.name:
            seen[args.name] = args.opts.ignore_changes
        return None

    def program_with_spy() -> None:
        pulumi.runtime.register_stack_transformation(spy)

    values = stack_values("production")
    values["cutover:traffic"] = TRAFFIC
    from infra import __main__ as program
    from infra.config import load_pulumi_config
    from preview import mocks
    from stack.load import to_pulumi_values

    def run() -> None:
        program_with_spy()
        program.main(load_pulumi_config())

    mocks.evaluate(run, stack="production", values=to_pulumi_values(values))
    assert seen == {
        "cutover-production-traffic-azure": ["weightedRoutingPolicies"],
        "cutover-production-traffic-aws": ["weightedRoutingPolicies"],
    }


# -- config rules ------------------------------------------------------------------------------


def load(traffic: Any, lb_type: str = "application") -> Any:
    return load_mapping(
        {
            "aws:region": "eu-central-1",
            "cutover:traffic": traffic,
            # plain HTTP keeps these tests about traffic's own keys
            "cutover:loadBalancer": {"type": lb_type, "allowPlainHttp": lb_type != "network"},
            "cutover:fleet": QA_FLEET,
        },
        stack="qa",
    )


def test_defaults():
    traffic = load(TRAFFIC).traffic
    assert (traffic.ttl, traffic.request_interval, traffic.failure_threshold) == (60, 30, 3)
    assert (traffic.aws_check.protocol, traffic.aws_check.port) == ("HTTP", 80)
    assert (traffic.azure_check.protocol, traffic.azure_check.port) == ("HTTPS", 443)
    plain = {
        "aws:region": "eu-central-1",
        "cutover:fleet": QA_FLEET,
        "cutover:loadBalancer": {"allowPlainHttp": True},
    }
    assert load_mapping(plain, stack="qa").traffic is None


@pytest.mark.parametrize(
    ("change", "key", "rule"),
    [
        ({"zoneName": ""}, "zoneId", "exactly one"),
        ({"zoneId": "Z0123ABC"}, "zoneId", "exactly one"),
        ({"zoneName": "", "zoneId": "not a zone"}, "zoneId", "hosted zone id"),
        ({"recordName": ""}, "recordName", "is required"),
        ({"recordName": "www.example.org"}, "recordName", "is not inside the zone"),
        ({"recordName": "www..example.com"}, "recordName", "must be a DNS name"),
        ({"azureEndpoint": ""}, "azureEndpoint", "is required"),
        ({"azureEndpoint": "300.1.2.3"}, "azureEndpoint", "not a valid IPv4 address"),
        ({"azureEndpoint": "http://shop"}, "azureEndpoint", "hostname or an IPv4"),
        ({"azureEndpoint": "www.example.com"}, "azureEndpoint", "must not be the record"),
        ({"recordName": "example.com"}, "azureEndpoint", "the zone apex cannot hold"),
        ({"ttl": -1}, "ttl", "must be >= 0"),
        ({"ttl": "soon"}, "ttl", "whole number"),
        ({"requestInterval": 20}, "requestInterval", "every 10 or 30 seconds"),
        ({"failureThreshold": 11}, "failureThreshold", "must be <= 10"),
        ({"weight": 50}, "weight", "unknown key"),
        ({"healthCheck": {"aws": {"protocol": "UDP"}}}, "healthCheck.aws.protocol", "one of"),
        (
            {"healthCheck": {"azure": {"protocol": "TCP", "path": "/x"}}},
            "healthCheck.azure.path",
            "no path",
        ),
        ({"healthCheck": {"gcp": {}}}, "healthCheck.gcp", "unknown key"),
    ],
)
def test_every_key_has_its_rule(change, key, rule):
    with pytest.raises(ConfigError) as raised:
        load({**TRAFFIC, **change})
    assert raised.value.key == f"cutover:traffic.{key}"
    assert rule in raised.value.rule


def test_only_an_application_load_balancer_can_take_the_traffic():
    with pytest.raises(ConfigError, match="needs loadBalancer.type application"):
        load(TRAFFIC, lb_type="network")


def test_a_stack_file_error_names_the_file_and_key(tmp_path: Path):
    path = tmp_path / "Pulumi.qa.yaml"
    path.write_text(
        yaml.safe_dump(
            {
                "config": {
                    "aws:region": "eu-central-1",
                    "cutover:fleet": QA_FLEET,
                    "cutover:loadBalancer": {"allowPlainHttp": True},
                    "cutover:traffic": {**TRAFFIC, "ttl": -5},
                }
            }
        )
    )
    with pytest.raises(ConfigError, match=r"Pulumi\.qa\.yaml: cutover:traffic\.ttl: must be >= 0"):
        load_stack_file(path)
