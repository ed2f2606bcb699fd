"""The hooks as the CodeDeploy agent runs them: real subprocesses, IMDSv2, exit codes, stderr."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

from hooks.errors import EXIT_DEADLINE, EXIT_ENVIRONMENT, EXIT_REFUSED, EXIT_USAGE
from hooks.runbook import DEREGISTER_STEPS

from .conftest import REGION, free_port

ROOT = Path(__file__).resolve().parents[2]
TIMESTAMP = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}\+00:00 cutover-hooks ")


def run_cli(*args: str, env: dict[str, str] | None = None, script: str | None = None):
    command = (
        [str(ROOT / "hooks" / "scripts" / script)]
        if script
        else [
            sys.executable,
            "-m",
            "hooks",
        ]
    )
    full_env = {**os.environ, **(env or {})}
    if script:
        full_env["CUTOVER_PYTHON"] = sys.executable  # the wrapper's python3, with boto3
    return subprocess.run(
        [*command, *args], capture_output=True, text=True, env=full_env, cwd=ROOT, timeout=60
    )


def test_cycle_with_identity_from_imdsv2(make_fleet, imds):
    fleet = make_fleet(1, 2, 1, allow_downtime=True)
    (iid,) = fleet.instance_ids
    imds.serve(iid)

    out = run_cli(script="deregister.sh")
    assert out.returncode == 0, out.stderr
    lines = out.stdout.splitlines()
    assert all(TIMESTAMP.match(line) for line in lines), lines
    assert lines[0].endswith("settings: deadline 20s (CUTOVER_TIMEOUT from the environment)")
    assert [line.split("step ")[1].split(":")[0] for line in lines[1:-1]] == [
        name for name, _ in DEREGISTER_STEPS
    ]
    assert fleet.lifecycle() == {iid: "Standby"}
    assert "PUT /latest/api/token" in imds.requests  # IMDSv2: the fake refuses tokenless GETs

    out = run_cli(script="register.sh")
    assert out.returncode == 0, out.stderr
    assert fleet.capacity() == (1, 2, 1)
    assert fleet.lifecycle() == {iid: "InService"}


def test_refusal_is_one_stderr_line_and_its_own_exit_code(make_fleet):
    fleet = make_fleet(1, 2, 1)
    out = run_cli("deregister", "--instance-id", fleet.instance_ids[0], "--region", REGION)

    assert out.returncode == EXIT_REFUSED
    assert len(out.stderr.strip().splitlines()) == 1
    assert out.stderr.startswith("cutover-hooks deregister: error: refusing to take")


def test_unreachable_endpoint_fails_loudly(aws_env):
    dead = f"http://127.0.0.1:{free_port()}"
    out = run_cli(
        "deregister",
        "--instance-id",
        "i-0123456789abcdef0",
        "--region",
        REGION,
        env={"AWS_ENDPOINT_URL": dead, "CUTOVER_MAX_RETRIES": "1"},
    )

    assert out.returncode == EXIT_ENVIRONMENT
    assert "not in an Auto Scaling group" not in out.stdout
    assert len(out.stderr.strip().splitlines()) == 1
    assert "step locate_instance" in out.stderr
    assert "Could not connect to the endpoint URL" in out.stderr


def test_missing_metadata_service_fails_loudly(aws_env):
    dead = f"http://127.0.0.1:{free_port()}"
    out = run_cli("register", env={"AWS_EC2_METADATA_SERVICE_ENDPOINT": dead})

    assert out.returncode == EXIT_ENVIRONMENT
    assert "IMDSv2" in out.stderr and "--instance-id" in out.stderr


def test_deadline_gives_a_clear_non_zero_exit(make_fleet, hook):
    fleet = make_fleet(desired=2, target_group=False, classic=True, in_group=False)
    iid = fleet.instance_ids[0]
    hook("deregister", iid)
    fleet.ec2.stop_instances(InstanceIds=[iid])  # it will never be InService again

    out = run_cli("register", "--instance-id", iid, "--region", REGION, "--timeout", "0.5")

    assert out.returncode == EXIT_DEADLINE
    assert "timed out after 0.5s waiting for InService and healthy targets" in out.stderr
    assert len(out.stderr.strip().splitlines()) == 1


def test_usage_errors_exit_2():
    assert run_cli("reconcile").returncode == EXIT_USAGE
    out = run_cli("deregister", "--timeout", "-1", "--instance-id", "i-1", "--region", REGION)
    assert out.returncode == EXIT_USAGE
