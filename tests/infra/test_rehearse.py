"""The deployment rehearsal: batching, the verdict, and whole rehearsals on the local emulator
with the real hooks as subprocesses."""

from __future__ import annotations

import io
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import pytest

from infra.config import load_stack_file, stack_file_path
from infra.rehearsal.agent import Deployment
from infra.rehearsal.chart import Sample
from infra.rehearsal.run import Options, Verdict, batches, promised_floor, rehearse

ROOT = Path(__file__).resolve().parents[2]


def _cfg(stack: str):
    return load_stack_file(stack_file_path(stack), stack=stack)


def _verdict(**changes) -> Verdict:
    good = Verdict(
        stack="production",
        floor=2,
        lowest_in_service=2,
        lowest_at=1.0,
        capacity_before=(2, 3, 6),
        capacity_after=(2, 3, 6),
        instances_before=3,
        instances_after=3,
        deployments=[Deployment("d-1", [["i-1"], ["i-2"], ["i-3"]])],
        expected_to_fail=set(),
        kill_requested=None,
        killed=[],
        seconds=1.0,
        samples=[Sample(0.0, 3, 3, 2, 3, 6)],
    )
    return replace(good, **changes)


def test_batches_follow_the_deployment_config():
    production = _cfg("production")
    assert batches(production, ["a", "b", "c"]) == [["a"], ["b"], ["c"]]
    half = replace(
        production,
        deployment=replace(production.deployment, config="CodeDeployDefault.HalfAtATime"),
    )
    assert batches(half, ["a", "b", "c", "d", "e"]) == [["a", "b"], ["c", "d"], ["e"]]
    everything = replace(
        production, deployment=replace(production.deployment, config="CodeDeployDefault.AllAtOnce")
    )
    assert batches(everything, ["a", "b", "c"]) == [["a", "b", "c"]]


def test_the_promised_floor():
    assert promised_floor(_cfg("staging"), 1) == 0  # the stack accepts downtime
    assert promised_floor(_cfg("production"), 3) == 2  # OneAtATime keeps all but one
    assert promised_floor(_cfg("production"), 1) == 1  # never less than one without the tag


def test_a_good_verdict_passes():
    assert _verdict().ok and "PASS" in _verdict().render()


@pytest.mark.parametrize(
    ("changes", "problem"),
    [
        (
            {"lowest_in_service": 1, "lowest_at": 4.2},
            "zero downtime violated: 1 instance(s) in service at 4.2 s",
        ),
        (
            {"capacity_after": (1, 3, 6)},
            "capacity not restored: Min/Desired/Max 2/3/6 before, 1/3/6 after",
        ),
        ({"instances_after": 4}, "the group has 4 instances after, 3 before"),
        ({"kill_requested": "enter_standby"}, "no hook ever logged step enter_standby"),
    ],
)
def test_each_broken_promise_fails_the_verdict(changes, problem):
    verdict = _verdict(**changes)
    assert not verdict.ok
    assert any(p.startswith(problem) for p in verdict.problems), verdict.problems
    assert "FAIL" in verdict.render()


def test_only_the_injected_deployment_may_fail():
    failed = Deployment("d-1", [["i-1"]], succeeded=False, failures=["i-1: Install failed"])
    assert _verdict(deployments=[failed], expected_to_fail={"d-1"}).ok
    assert _verdict(deployments=[failed]).problems == ["deployment d-1 failed: i-1: Install failed"]


def test_the_command_rehearses_staging_and_writes_the_chart(tmp_path):
    chart, log = tmp_path / "chart.html", tmp_path / "hooks.log"
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "infra.rehearse",
            "staging",
            "--chart",
            str(chart),
            "--log",
            str(log),
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Rehearsal of staging: PASS" in result.stdout
    assert "Min/Desired/Max     1/1/2 before, 1/1/2 after" in result.stdout
    assert "<svg" in chart.read_text() and "promised floor 0" in chart.read_text()
    hook_log = log.read_text()
    assert "cutover-hooks deregister" in hook_log and "step restore_capacity" in hook_log


def test_production_keeps_all_but_one_instance_in_service():
    verdict = rehearse(_cfg("production"), Options(), io.StringIO(), io.StringIO())
    assert verdict.ok, verdict.render()
    assert verdict.lowest_in_service == 2 and verdict.floor == 2
    assert verdict.capacity_after == verdict.capacity_before == (2, 3, 6)
    # The observer saw the dip it is there to see: one instance out at a time.
    assert {s.in_service for s in verdict.samples} >= {2, 3}
    assert verdict.hook_runs == 6


def test_a_failed_deployment_then_a_good_one_restores_the_group():
    verdict = rehearse(_cfg("production"), Options(fail_instance=2), io.StringIO(), io.StringIO())
    assert verdict.ok, verdict.render()
    first, second = verdict.deployments
    assert not first.succeeded and first.failures[0].endswith("Install failed (injected fault)")
    assert second.succeeded
    # The instance left out by the failure goes first in the next deployment.
    assert second.batches[0] == [first.batches[1][0]]
    assert verdict.capacity_after == (2, 3, 6)


def test_a_hook_killed_after_a_step_and_re_run_converges():
    options = Options(kill_hook_after="lower_min_size")
    verdict = rehearse(_cfg("production"), options, io.StringIO(), io.StringIO())
    assert verdict.ok, verdict.render()
    assert len(verdict.killed) == 1 and verdict.killed[0].endswith("BeforeInstall")
    assert any(run.killed for run in verdict.deployments[0].runs)


def test_a_stack_that_cannot_deploy_without_downtime_fails_the_rehearsal(tmp_path):
    # One instance, but downtime not accepted: the deregister hook refuses to take it out.
    text = (
        (ROOT / "Pulumi.staging.yaml")
        .read_text()
        .replace("allowDowntime: true", "allowDowntime: false")
    )
    config = tmp_path / "Pulumi.staging.yaml"
    config.write_text(text)
    cfg = load_stack_file(config, stack="staging")
    verdict = rehearse(cfg, Options(), io.StringIO(), io.StringIO())
    assert not verdict.ok
    assert verdict.lowest_in_service == 1 and verdict.floor == 1
    (problem,) = verdict.problems
    assert problem.startswith("deployment d-1 failed:") and "BeforeInstall" in problem
