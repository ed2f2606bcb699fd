"""python -m rehearsal as a user runs it: bad input exits 2 before anything starts, an
unwritable output exits 3 before the run, and a run writes its verdict as JSON."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from cutover.main import run
from rehearsal import cli as rehearse
from tests.rehearsal import VERDICT_KEYS

ROOT = Path(__file__).resolve().parents[2]


def _run(*args: str, timeout: float = 30) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "rehearsal", *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
        timeout=timeout,
    )


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--scenario", "fail-instance", "--fail-instance", "0"], "1 <= K <= 3"),
        (["--scenario", "fail-instance", "--fail-instance", "4"], "1 <= K <= 3"),
        (["--scenario", "fail-instance"], "needs K"),
        (["--instances", "10"], "above the group's MaxSize 6"),
        (["--scenario", "kill-hook"], "needs --kill-hook-after STEP"),
        (["--deployment-config", "Bogus"], "neither predefined nor declared"),
        (["--time-scale", "0"], "must be above 0"),
    ],
)
def test_bad_input_exits_2_with_one_line(tmp_path, capsys, args, message):
    argv = ["production", *args, "--chart", str(tmp_path / "c.html")]
    # In-process (the same entry point as python -m): these end before any emulator starts.
    assert run(rehearse.PROGRAM, lambda: rehearse.main(argv)) == 2
    err = capsys.readouterr().err
    assert message in err
    assert "Traceback" not in err and len(err.strip().splitlines()) == 1


def test_an_unknown_scenario_is_usage_error():
    result = _run("production", "--scenario", "nope")
    assert result.returncode == 2 and "invalid choice" in result.stderr


def test_an_unwritable_json_path_fails_before_the_run(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("x")
    result = _run(
        "staging", "--json", str(blocker / "verdict.json"), "--chart", str(tmp_path / "c")
    )
    assert result.returncode == 3, result.stdout + result.stderr
    assert "cannot write there" in result.stderr and "Rehearsal" not in result.stdout


def test_the_command_writes_the_verdict_chart_and_log(tmp_path):
    paths = {name: tmp_path / name for name in ("v.json", "c.html", "h.log")}
    result = _run(
        "staging",
        "--time-scale",
        "60",
        "--json",
        str(paths["v.json"]),
        "--chart",
        str(paths["c.html"]),
        "--log",
        str(paths["h.log"]),
        timeout=180,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Rehearsal of staging, scenario deploy: PASS" in result.stdout
    verdict = json.loads(paths["v.json"].read_text())
    assert set(verdict) >= VERDICT_KEYS, sorted(VERDICT_KEYS - set(verdict))
    assert verdict["verdict"] == "PASS" and verdict["deployments"][0]["status"] == "Succeeded"
    chart = paths["c.html"].read_text()
    assert "<svg" in chart and "PASS" in chart and "1/1/2 before" in chart
    assert "cutover-hooks deregister" in paths["h.log"].read_text()


def test_without_a_time_scale_the_command_chooses_one_and_says_why(tmp_path):
    verdict_path = tmp_path / "v.json"
    result = _run("staging", "--json", str(verdict_path), timeout=180)
    assert result.returncode == 0, result.stdout + result.stderr
    verdict = json.loads(verdict_path.read_text())
    assert verdict["timeScaleReason"].startswith("chosen: 1 instance(s) deploying at once")
    assert 1 <= verdict["timeScale"] <= 30
    assert f"time scale {verdict['timeScale']:g} (chosen" in result.stdout


def test_a_shift_scenario_needs_an_application_load_balancer(tmp_path, capsys):
    values = yaml.safe_load((ROOT / "Pulumi.staging.yaml").read_text())["config"]
    values["cutover:loadBalancer"] = {"type": "classic", "allowPlainHttp": True}
    stack = tmp_path / "Pulumi.classic.yaml"
    stack.write_text(yaml.safe_dump({"config": values}))
    argv = ["classic", "--config", str(stack), "--scenario", "shift"]
    argv += ["--chart", str(tmp_path / "c.html"), "--log", str(tmp_path / "h.log")]
    assert run(rehearse.PROGRAM, lambda: rehearse.main(argv)) == 2
    err = capsys.readouterr().err
    assert "cutover:loadBalancer.type is classic" in err and len(err.strip().splitlines()) == 1


def test_the_shift_rollback_command_passes_and_charts_the_weights(tmp_path):
    paths = {name: tmp_path / name for name in ("v.json", "c.html", "h.log")}
    result = _run(
        "staging",
        "--scenario",
        "shift-rollback",
        "--time-scale",
        "240",  # no hook runs in a shift: the verdict reads the ramp's events, not timings
        "--json",
        str(paths["v.json"]),
        "--chart",
        str(paths["c.html"]),
        "--log",
        str(paths["h.log"]),
        timeout=180,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Rehearsal of staging, scenario shift-rollback: PASS" in result.stdout
    assert "rehearsal default (no cutover:traffic in Pulumi.staging.yaml)" in result.stdout
    verdict = json.loads(paths["v.json"].read_text())
    assert verdict["verdict"] == "PASS" and verdict["capacityAfter"] == verdict["capacityBefore"]
    assert verdict["traffic"]["finalWeights"] == {"azure": 95, "aws": 5}
    # The chart plots the ratio the breached gate read, on the AWS clock.
    assert all(step["atSeconds"] > 0 for step in verdict["traffic"]["steps"])
    page = paths["c.html"].read_text()
    assert "5xx ratio of the requests" in page and " breached</text>" in page
    assert "AWS time" in page
    chart = paths["c.html"].read_text()
    assert "Route 53 weights" in chart and "AWS weight" in chart and "rollback to AWS 5%" in chart
