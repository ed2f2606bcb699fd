"""stack-config: the keys infra reads, merged without losing other keys or comments."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from migrate.errors import MigrateError
from migrate.model import Inventory
from migrate.plan import build_plan
from migrate.stackconfig import render, write_stack_config
from tests.migrate.conftest import REPO

CERT = "arn:aws:acm:eu-central-1:123456789012:certificate/0f1e2d3c-4b5a-6978-8a9b-0c1d2e3f4a5b"


@pytest.fixture
def plan(sample_inventory: Inventory) -> dict:
    return build_plan(sample_inventory)


def _config(path: Path) -> dict:
    return yaml.safe_load(path.read_text())["config"]


def test_merge_keeps_other_keys_and_comments(plan: dict, tmp_path: Path) -> None:
    target = tmp_path / "Pulumi.staging.yaml"
    shutil.copy(REPO / "Pulumi.staging.yaml", target)
    original = target.read_text()

    write_stack_config(plan, "web", "staging", target)

    text = target.read_text()
    for line in original.splitlines():
        if line.lstrip().startswith("#"):
            assert line in text  # full-line comments survive
    assert "natGateways: none          # none | single | perAz" in text
    assert 'ami: ""                    # empty: Amazon Linux 2023 via resolve:ssm' in text
    config = _config(target)
    assert config["cutover:network"] == {
        "vpcCidr": "10.20.0.0/16",
        "availabilityZones": 2,
        "natGateways": "none",
    }
    assert config["cutover:tags"] == {"team": "platform", "workload": "web"}
    assert config["aws:region"] == "eu-west-1"  # the plan's region (Azure westeurope)
    fleet = config["cutover:fleet"]
    # Staging accepts downtime: it keeps its one-instance capacity; the type comes from the plan.
    assert (
        fleet["instanceType"],
        fleet["minSize"],
        fleet["desiredCapacity"],
        fleet["maxSize"],
    ) == ("m7i.xlarge", 1, 1, 2)
    assert fleet["allowDowntime"] is True
    scaling = config["cutover:scaling"]
    assert scaling["mode"] == "step"
    assert scaling["scaleOut"] == {
        "cpuAbove": 70,
        "adjustment": 1,
        "cooldown": 300,
        "evaluationPeriods": 5,
        "period": 60,
    }
    assert scaling["scaleIn"] == {
        "cpuBelow": 30,
        "adjustment": -1,
        "cooldown": 600,
        "evaluationPeriods": 10,
        "period": 60,
    }
    assert config["cutover:loadBalancer"]["healthCheck"]["path"] == "/health"


def test_rerun_is_idempotent(plan: dict, tmp_path: Path) -> None:
    target = tmp_path / "Pulumi.staging.yaml"
    shutil.copy(REPO / "Pulumi.staging.yaml", target)
    write_stack_config(plan, "web", "staging", target)
    once = target.read_text()
    write_stack_config(plan, "web", "staging", target)
    assert target.read_text() == once


def test_production_needs_min_two_and_says_so(plan: dict, tmp_path: Path) -> None:
    target = tmp_path / "Pulumi.production.yaml"
    notes = write_stack_config(plan, "legacy", "production", target).notes
    fleet = _config(target)["cutover:fleet"]
    assert (
        fleet["minSize"],
        fleet["desiredCapacity"],
        fleet["maxSize"],
        fleet["allowDowntime"],
    ) == (2, 2, 2, False)
    assert any("production needs >= 2" in n for n in notes)
    assert "# Azure runs MinSize 1; production needs >= 2" in target.read_text()
    assert _config(target)["cutover:environment"] == "production"


def test_https_listener_needs_a_certificate(plan: dict, tmp_path: Path) -> None:
    text, notes = render(plan, "shop", "staging", None)
    listeners = yaml.safe_load(text)["config"]["cutover:loadBalancer"]["listeners"]
    assert listeners == [{"protocol": "HTTP", "port": 80}]
    assert any("--certificate-arn" in n for n in notes)

    text, _ = render(plan, "shop", "staging", None, certificate_arn=CERT)
    lb = yaml.safe_load(text)["config"]["cutover:loadBalancer"]
    assert lb["listeners"] == [{"protocol": "HTTP", "port": 80}, {"protocol": "HTTPS", "port": 443}]
    assert lb["certificateArn"] == CERT and lb["deregistrationDelay"] == 60


def test_without_a_certificate_the_planned_alb_opts_out_of_https_visibly(plan: dict) -> None:
    text, notes = render(plan, "shop", "staging", None)
    lb = yaml.safe_load(text)["config"]["cutover:loadBalancer"]
    assert lb["allowPlainHttp"] is True
    assert "# opt-out: no certificate, plain HTTP (ELB.1)" in text
    assert any("allowPlainHttp: opt-out" in n for n in notes)
    # with a certificate on a rerun the opt-out goes, and HTTP redirects to the HTTPS listener
    text, _ = render(plan, "shop", "staging", text, certificate_arn=CERT)
    lb = yaml.safe_load(text)["config"]["cutover:loadBalancer"]
    assert "allowPlainHttp" not in lb and lb["certificateArn"] == CERT


def test_a_certificate_the_stack_requests_is_kept_with_an_https_listener(plan: dict) -> None:
    existing = (
        "config:\n"
        "  cutover:loadBalancer:\n"
        "    certificate: {domainName: www.example.com, zoneId: Z0123456789ABC}\n"
    )
    text, notes = render(plan, "shop", "production", existing)
    lb = yaml.safe_load(text)["config"]["cutover:loadBalancer"]
    assert lb["certificate"] == {"domainName": "www.example.com", "zoneId": "Z0123456789ABC"}
    assert {"protocol": "HTTPS", "port": 443} in lb["listeners"]
    assert "allowPlainHttp" not in lb


def test_new_file_region_comes_from_the_azure_location(plan: dict) -> None:
    text, _ = render(plan, "shop", "staging", None)
    assert yaml.safe_load(text)["config"]["aws:region"] == "eu-central-1"  # germanywestcentral
    text, _ = render(plan, "web", "staging", None)
    assert yaml.safe_load(text)["config"]["aws:region"] == "eu-west-1"  # westeurope


def test_unknown_workload_lists_the_known_ones(plan: dict, tmp_path: Path) -> None:
    with pytest.raises(MigrateError, match=r"no workload 'nope' \(workloads: .*web"):
        write_stack_config(plan, "nope", "staging", tmp_path / "x.yaml")


def test_broken_existing_yaml_is_a_clear_error(plan: dict, tmp_path: Path) -> None:
    target = tmp_path / "Pulumi.staging.yaml"
    target.write_text("config:\n  cutover:fleet: [unclosed\n")
    with pytest.raises(MigrateError, match="Pulumi.staging.yaml: not valid YAML"):
        write_stack_config(plan, "web", "staging", target)


def _preview(stack: str, path: Path) -> list[dict]:
    result = subprocess.run(
        [sys.executable, "-m", "preview", stack, "--config", str(path), "--json"],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


@pytest.mark.parametrize(
    ("workload", "stack", "certificate"),
    [("web", "staging", None), ("legacy", "production", None), ("shop", "production", CERT)],
)
def test_infra_preview_accepts_the_generated_config(
    plan: dict, tmp_path: Path, workload: str, stack: str, certificate: str | None
) -> None:
    target = tmp_path / f"Pulumi.{stack}.yaml"
    shutil.copy(REPO / f"Pulumi.{stack}.yaml", target)
    write_stack_config(plan, workload, stack, target, certificate_arn=certificate)

    resources = _preview(stack, target)

    groups = [r for r in resources if r["type"] == "aws:autoscaling/group:Group"]
    assert len(groups) == 1
    expected = next(w for w in plan["workloads"] if w["name"] == workload)["aws"]
    # staging keeps its own capacity (it accepts downtime); production takes the plan's
    assert groups[0]["inputs"]["maxSize"] == (
        max(expected["maxSize"], 2) if stack == "production" else 2
    )
    templates = [r for r in resources if r["type"] == "aws:ec2/launchTemplate:LaunchTemplate"]
    assert templates[0]["inputs"]["instanceType"] == expected["instanceType"]
    balancers = [r for r in resources if r["type"] == "aws:lb/loadBalancer:LoadBalancer"]
    assert balancers[0]["inputs"]["loadBalancerType"] == expected["loadBalancerType"]


def test_udp_listener_is_left_out_with_a_note(plan: dict) -> None:
    legacy = next(w for w in plan["workloads"] if w["name"] == "legacy")
    legacy["aws"]["listeners"].append({"protocol": "UDP", "port": 53})
    text, notes = render(plan, "legacy", "staging", None)
    assert yaml.safe_load(text)["config"]["cutover:loadBalancer"]["listeners"] == [
        {"protocol": "TCP", "port": 443}
    ]
    assert any("UDP listener on 53" in n for n in notes)
