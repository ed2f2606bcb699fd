"""CodeDeploy's arithmetic and scheduling as documented: minimum healthy hosts, the OneAtATime
last-instance rule, failing at once when the minimum cannot be kept."""

from __future__ import annotations

import threading

import pytest

from awsfacts.codedeploy import PREDEFINED, minimum_healthy
from rehearsal.codedeploy import Deployment, DeploymentConfigError, resolve, run
from rehearsal.declared import MinimumHealthyHosts


@pytest.mark.parametrize(
    ("config", "instances", "kept"),
    [
        (PREDEFINED["CodeDeployDefault.OneAtATime"], 3, 2),
        (PREDEFINED["CodeDeployDefault.OneAtATime"], 1, 0),
        (PREDEFINED["CodeDeployDefault.HalfAtATime"], 100, 50),
        (PREDEFINED["CodeDeployDefault.HalfAtATime"], 5, 3),  # 50 % of 5, rounded up
        (PREDEFINED["CodeDeployDefault.AllAtOnce"], 7, 0),
        (MinimumHealthyHosts("HOST_COUNT", 6), 9, 6),  # AWS's own example
        (MinimumHealthyHosts("FLEET_PERCENT", 40), 9, 4),  # AWS's own example: 3.6 -> 4
    ],
)
def test_minimum_healthy_hosts_as_codedeploy_computes_them(config, instances, kept):
    assert minimum_healthy(config, instances) == kept


def test_an_unknown_config_without_minimum_is_bad_input():
    with pytest.raises(DeploymentConfigError, match="neither predefined nor declared"):
        resolve("MyConfig", None)
    assert resolve("MyConfig", MinimumHealthyHosts("FLEET_PERCENT", 75)).value == 75


def test_a_custom_minimum_on_the_command_line_is_a_config():
    assert resolve("FLEET_PERCENT:50", None) == MinimumHealthyHosts("FLEET_PERCENT", 50)
    assert resolve("HOST_COUNT:2", None) == MinimumHealthyHosts("HOST_COUNT", 2)
    for bad in ("FLEET_PERCENT:100", "FLEET_PERCENT:x", "HOST_COUNT:-1"):
        with pytest.raises(DeploymentConfigError, match="takes a whole number"):
            resolve(bad, None)


def _deploy(instances: list[str], kept: int, fails: set[str]) -> tuple[Deployment, int]:
    deployment = Deployment("d-1", "g", "r1", "deploy", instances, kept)
    running, peak, lock = [0], [0], threading.Lock()
    barrier = threading.Event()

    def instance(_: Deployment, iid: str) -> str | None:
        with lock:
            running[0] += 1
            peak[0] = max(peak[0], running[0])
        barrier.wait(0.05)  # let every allowed instance start before any finishes
        with lock:
            running[0] -= 1
        return f"{iid}: failed" if iid in fails else None

    run(deployment, instance)
    return deployment, peak[0]


def test_one_at_a_time_succeeds_when_only_the_last_instance_fails():
    deployment, peak = _deploy(["a", "b", "c"], 2, {"c"})
    assert deployment.status == "Succeeded" and peak == 1
    assert deployment.failed_instances == ["c"]


def test_one_at_a_time_stops_at_an_earlier_failure():
    deployment, _ = _deploy(["a", "b", "c"], 2, {"b"})
    assert deployment.status == "Failed"
    assert deployment.succeeded == ["a"]  # c never started


def test_fleet_percent_deploys_as_many_at_once_as_the_minimum_allows():
    instances = [f"i-{n}" for n in range(9)]
    deployment, peak = _deploy(instances, 4, set())  # FLEET_PERCENT 40 of 9
    assert deployment.status == "Succeeded" and peak == 5


def test_a_minimum_the_fleet_cannot_keep_fails_at_once():
    deployment, peak = _deploy(["a", "b"], 3, set())  # HOST_COUNT 3 of 2 instances
    assert deployment.status == "Failed" and peak == 0
    assert "HEALTH_CONSTRAINTS_INVALID" in deployment.failures[0]


def test_get_deployment_answers_the_rehearsals_own_deployments(account):
    """The hooks' repairs ask CodeDeploy whether a deployment is over; moto knows none of the
    rehearsal's deployments (it would say DeploymentDoesNotExist, i.e. over, mid-deployment)."""
    from botocore.exceptions import ClientError

    from rehearsal.deployments import DeploymentsApi

    running = Deployment("d-1", "group", "r1", "deploy", ["i-1"], 0)
    account.emulated.rules.apis.append(DeploymentsApi(lambda: [running]))
    codedeploy = account.client("codedeploy")

    def status(deployment_id: str) -> str:
        return codedeploy.get_deployment(deploymentId=deployment_id)["deploymentInfo"]["status"]

    assert status("d-1") == "InProgress"
    running.status = "Failed"
    assert status("d-1") == "Failed"
    with pytest.raises(ClientError, match="DeploymentDoesNotExist"):
        status("d-9")
