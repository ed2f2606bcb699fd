"""Issue 20: repair as soon as the deployment is over, as CodeDeploy says (not the clock).

A failed deployment left an instance in Standby and the group lowered (MinSize/Desired 2/2 ->
1/1, MaxSize 3). `reconcile` and the watchdog ask CodeDeploy (GetDeployment): Succeeded,
Failed, Stopped or unknown to CodeDeploy means over, repair now. Only when CodeDeploy cannot
answer do they fall back to the time rule, and say so. reconcile exits 0 only when the group is
at rest afterwards."""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest

from hooks.cli import WATCHDOG_NICENESS
from hooks.errors import EXIT_FAILED, HookError

from .test_deploy_cycle import assert_back_to


def stuck_by_a_deployment(make_fleet, hook, monkeypatch, deployment: str):
    """The deployment `deployment` took one instance out and never brought it back."""
    fleet = make_fleet(2, 3, 2)
    iid = fleet.instance_ids[0]
    monkeypatch.setenv("DEPLOYMENT_ID", deployment)
    hook("deregister", iid)
    assert fleet.capacity() == (1, 3, 1) and fleet.lifecycle()[iid] == "Standby"
    monkeypatch.delenv("DEPLOYMENT_ID")  # an operator, outside any deployment
    return fleet, iid


@pytest.mark.parametrize("status", ["Failed", "Stopped"])
def test_reconcile_repairs_at_once_when_codedeploy_says_the_deployment_ended(
    make_fleet, hook, monkeypatch, codedeploy, capsys, status
):
    deployment = codedeploy.start_deployment()
    fleet, iid = stuck_by_a_deployment(make_fleet, hook, monkeypatch, deployment)
    codedeploy.end(deployment, status)

    hook("reconcile", asg=fleet.asg)  # the entry is seconds old, --stale-after is 3600 s

    assert_back_to(fleet, (2, 3, 2))
    assert f"deployment {deployment} is {status}" in capsys.readouterr().out
    assert "GetDeployment" in codedeploy.calls


def test_reconcile_repairs_an_entry_of_a_deployment_codedeploy_does_not_know(
    make_fleet, hook, monkeypatch, capsys
):
    fleet, iid = stuck_by_a_deployment(make_fleet, hook, monkeypatch, "d-GONE00001")

    hook("reconcile", asg=fleet.asg)

    assert_back_to(fleet, (2, 3, 2))
    assert "d-GONE00001 is unknown to CodeDeploy" in capsys.readouterr().out


def test_reconcile_keeps_an_instance_of_a_running_deployment_and_exits_1(
    make_fleet, hook, monkeypatch, codedeploy
):
    deployment = codedeploy.start_deployment()
    fleet, iid = stuck_by_a_deployment(make_fleet, hook, monkeypatch, deployment)

    with pytest.raises(HookError) as refused:
        hook("reconcile", asg=fleet.asg)

    assert refused.value.exit_code == EXIT_FAILED
    message = str(refused.value)
    assert iid in message and deployment in message and "--force" in message
    assert "MinSize 1" in message  # the group is left lowered, and it says so
    assert fleet.lifecycle()[iid] == "Standby" and fleet.capacity() == (1, 3, 1)

    hook("reconcile", asg=fleet.asg, force=True)
    assert_back_to(fleet, (2, 3, 2))


def test_reconcile_falls_back_to_the_time_rule_when_codedeploy_cannot_answer(
    make_fleet, hook, monkeypatch, codedeploy, capsys
):
    deployment = codedeploy.start_deployment()
    fleet, iid = stuck_by_a_deployment(make_fleet, hook, monkeypatch, deployment)
    codedeploy.end(deployment, "Failed")
    codedeploy.refuse = True  # an instance role without codedeploy:GetDeployment

    with pytest.raises(HookError) as kept:
        hook("reconcile", asg=fleet.asg)
    assert kept.value.exit_code == EXIT_FAILED
    out = capsys.readouterr().out
    assert "CodeDeploy cannot answer" in out and "AccessDenied" in out
    assert "--stale-after" in out
    assert fleet.lifecycle()[iid] == "Standby"

    hook("reconcile", asg=fleet.asg, stale_after=0)  # the time rule: old enough now
    assert_back_to(fleet, (2, 3, 2))


def test_reconcile_of_a_group_at_rest_exits_0(make_fleet, hook, monkeypatch):
    fleet = make_fleet(2, 3, 2)
    monkeypatch.delenv("DEPLOYMENT_ID")
    hook("reconcile", asg=fleet.asg)
    assert_back_to(fleet, (2, 3, 2))


def heal_log(aws_env: dict[str, str], iid: str) -> str:
    return (Path(aws_env["CUTOVER_STATE_DIR"]) / f"heal-{iid}.log").read_text()


def test_watchdog_heals_as_soon_as_its_deployment_ends(
    make_fleet, hook, monkeypatch, aws_env, codedeploy
):
    fleet = make_fleet(2, 3, 2)
    iid = fleet.instance_ids[0]
    deployment = codedeploy.start_deployment()
    monkeypatch.setenv("DEPLOYMENT_ID", deployment)
    monkeypatch.setenv("CUTOVER_HEAL", "on")  # CUTOVER_HEAL_AFTER: the default hour
    monkeypatch.setenv("CUTOVER_HEAL_POLL", "0.2")

    run = hook("deregister", iid)
    assert run.watchdog is not None
    try:
        time.sleep(1.0)
        assert run.watchdog.poll() is None  # the deployment runs: it waits
        # Niced below the hooks of the deployment (its start falls in the deregister).
        stat = Path(f"/proc/{run.watchdog.pid}/stat").read_text()
        niceness = int(stat.rsplit(")", 1)[1].split()[16])
        assert niceness == os.getpriority(os.PRIO_PROCESS, 0) + WATCHDOG_NICENESS
        assert fleet.lifecycle()[iid] == "Standby"
        codedeploy.end(deployment, "Failed")
        ended = time.monotonic()
        assert run.watchdog.wait(timeout=30) == 0, heal_log(aws_env, iid)
    finally:
        if run.watchdog.poll() is None:
            run.watchdog.kill()
            run.watchdog.wait()

    assert time.monotonic() - ended < 20
    assert_back_to(fleet, (2, 3, 2))
    log = heal_log(aws_env, iid)
    assert f"deployment {deployment} is Failed" in log and "bringing it back" in log


def test_watchdog_ends_when_its_deployment_succeeded_after_register(
    make_fleet, hook, monkeypatch, aws_env, codedeploy
):
    fleet = make_fleet(2, 3, 2)
    iid = fleet.instance_ids[0]
    deployment = codedeploy.start_deployment()
    monkeypatch.setenv("DEPLOYMENT_ID", deployment)
    monkeypatch.setenv("CUTOVER_HEAL", "on")
    monkeypatch.setenv("CUTOVER_HEAL_POLL", "0.2")

    run = hook("deregister", iid)
    hook("register", iid)
    codedeploy.end(deployment, "Succeeded")

    assert run.watchdog is not None and run.watchdog.wait(timeout=30) == 0
    assert "register completed" in heal_log(aws_env, iid)
    assert_back_to(fleet, (2, 3, 2))


def test_watchdog_falls_back_to_the_time_rule_when_codedeploy_cannot_answer(
    make_fleet, hook, monkeypatch, aws_env, codedeploy
):
    fleet = make_fleet(2, 3, 2)
    iid = fleet.instance_ids[0]
    monkeypatch.setenv("CUTOVER_HEAL", "on")
    monkeypatch.setenv("CUTOVER_HEAL_AFTER", "1.5")
    monkeypatch.setenv("CUTOVER_HEAL_POLL", "0.2")
    codedeploy.refuse = True

    run = hook("deregister", iid)
    assert run.watchdog is not None and run.watchdog.wait(timeout=60) == 0, heal_log(aws_env, iid)

    log = heal_log(aws_env, iid)
    assert "CodeDeploy cannot answer" in log and "time rule" in log
    assert_back_to(fleet, (2, 3, 2))
