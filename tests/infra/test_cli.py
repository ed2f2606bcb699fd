"""The program as the Pulumi CLI runs it, and the offline preview command."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from preview import cli as preview
from stack.load import REPO_ROOT, read_stack_file, stack_file_path, to_pulumi_values

PYTHON = sys.executable
DRIVER = Path(__file__).with_name("cli_driver.py")

EXPECTED_PRODUCTION_TYPES = {
    "aws:ec2/vpc:Vpc",
    "aws:ec2/subnet:Subnet",
    "aws:ec2/internetGateway:InternetGateway",
    "aws:ec2/natGateway:NatGateway",
    "aws:ec2/routeTable:RouteTable",
    "aws:ec2/securityGroup:SecurityGroup",
    "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule",
    "aws:lb/loadBalancer:LoadBalancer",
    "aws:lb/targetGroup:TargetGroup",
    "aws:lb/listener:Listener",
    "aws:ec2/launchTemplate:LaunchTemplate",
    "aws:autoscaling/group:Group",
    "aws:autoscaling/policy:Policy",
    "aws:s3/bucket:Bucket",
    "aws:s3/bucketVersioning:BucketVersioning",
    "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock",
    "aws:codedeploy/application:Application",
    "aws:codedeploy/deploymentGroup:DeploymentGroup",
    "aws:iam/role:Role",
    "aws:iam/rolePolicy:RolePolicy",
    "aws:iam/instanceProfile:InstanceProfile",
    "aws:sqs/queue:Queue",
    "aws:rds/subnetGroup:SubnetGroup",
    "aws:rds/instance:Instance",
}


def test_program_runs_as_the_pulumi_cli_runs_it(tmp_path):
    """cwd infra/, runpy.run_path on the folder, repository root not on sys.path."""
    config = tmp_path / "config.json"
    config.write_text(json.dumps(to_pulumi_values(read_stack_file(stack_file_path("production")))))
    result = subprocess.run(
        [PYTHON, "-I", str(DRIVER), str(config), "production"],
        cwd=REPO_ROOT / "infra",
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    report = json.loads(result.stdout.splitlines()[-1])
    assert report["rootOnPathBefore"] is False
    assert report["cwd"] == str(REPO_ROOT / "infra")
    assert Path(report["hooksPermissionsFrom"]) == REPO_ROOT / "hooks" / "permissions.py"
    assert set(report["types"]) >= EXPECTED_PRODUCTION_TYPES
    assert {
        "loadBalancerDnsName",
        "autoScalingGroupName",
        "codeDeployApplicationName",
        "codeDeployDeploymentGroupName",
        "revisionBucketName",
    } <= set(report["outputs"])


def test_preview_production_json_lists_every_resource():
    result = subprocess.run(
        [PYTHON, "-m", "preview", "production", "--json"],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    resources = json.loads(result.stdout)
    assert all(set(r) == {"type", "name", "inputs"} for r in resources)
    assert {r["type"] for r in resources} >= EXPECTED_PRODUCTION_TYPES
    names = [(r["type"], r["name"]) for r in resources]
    assert len(names) == len(set(names))
    group = next(r for r in resources if r["type"] == "aws:autoscaling/group:Group")
    assert (group["inputs"]["minSize"], group["inputs"]["maxSize"]) == (2, 6)


def test_preview_prints_a_table_with_outputs(capsys):
    assert preview.main(["staging"]) == 0
    out = capsys.readouterr().out
    group_row = next(line for line in out.splitlines() if line.startswith("aws:autoscaling:Group "))
    assert "cutover-staging-fleet-group" in group_row
    assert "minSize=1 desiredCapacity=1 maxSize=2" in group_row
    assert "autoScalingGroupName: cutover-staging-fleet" in out


def test_preview_evaluate_returns_the_resources():
    resources = preview.evaluate("staging")
    assert sum(r["type"] == "aws:lb/listener:Listener" for r in resources) == 1


@pytest.mark.parametrize(
    ("replace", "message"),
    [
        (("maxSize: 2", "maxSize: 0"), "cutover:fleet.maxSize: must be >= 1"),
        (("type: application", "type: gateway"), "cutover:loadBalancer.type: must be one of"),
        (
            ("    minSize: 1\n", "    minSize: 1\n    minsize: 1\n"),
            "cutover:fleet.minsize: unknown key",
        ),
    ],
)
def test_preview_rejects_invalid_config_with_one_line(tmp_path, capsys, replace, message):
    path = tmp_path / "Pulumi.staging.yaml"
    path.write_text(stack_file_path("staging").read_text().replace(*replace))
    assert preview.main(["staging", "--config", str(path)]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    lines = captured.err.strip().splitlines()
    assert len(lines) == 1
    assert str(path) in lines[0] and message in lines[0]


# -- the exit-code convention and a quiet success ----------------------------------------------


def test_a_policy_violation_exits_1(monkeypatch, capsys):
    from policy import rules

    def always(stack, settings):
        return [rules.Violation("test-rule", "somewhere", "violated on purpose")]

    monkeypatch.setitem(rules.RULES, "test-rule", always)
    assert preview.main(["staging", "--check"]) == 1
    err = capsys.readouterr().err
    assert "policy violation: [test-rule] somewhere: violated on purpose" in err


def test_usage_errors_exit_2(capsys):
    with pytest.raises(SystemExit) as stop:
        preview.main(["staging", "--bogus"])
    assert stop.value.code == 2


def test_a_missing_or_folder_config_exits_2_naming_it(tmp_path, capsys):
    assert preview.main(["staging", "--config", str(tmp_path)]) == 2
    assert str(tmp_path) in capsys.readouterr().err
    assert preview.main(["staging", "--config", str(tmp_path / "nope.yaml")]) == 2
    assert "no such file" in capsys.readouterr().err


def test_a_utf16_stack_file_is_read(tmp_path, capsys):
    # What Windows PowerShell 5 writes for `Get-Content ... > Pulumi.staging.yaml`.
    path = tmp_path / "Pulumi.staging.yaml"
    path.write_bytes(stack_file_path("staging").read_text().encode("utf-16"))
    assert preview.main(["staging", "--config", str(path)]) == 0


def test_an_unexpected_error_is_one_line_and_exits_70(monkeypatch, capsys):
    def broken(*args, **kwargs):
        raise RuntimeError("boom")

    monkeypatch.setattr(preview, "evaluate_stack", broken)
    assert preview.main(["staging"]) == 70
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "RuntimeError: boom" in err and "--debug" in err
    assert preview.main(["staging", "--debug"]) == 70
    assert "Traceback (most recent call last)" in capsys.readouterr().err


def test_policy_help_prints_help_and_exits_0():
    result = subprocess.run(
        [PYTHON, "-m", "policy", "--help"],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("usage: pulumi preview --policy-pack policy")
    from policy.rules import RULES

    assert all(name in result.stdout for name in RULES)
