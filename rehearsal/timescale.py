"""The time scale a rehearsal runs at when the user gives none: as fast as this machine can keep
up with, from the fleet's size and a short calibration.

On EC2 every instance runs its hooks on its own CPUs. Here the instances deploying at once share
this machine's cores: each starts HOOK_PROCESSES Python processes on the cycle's critical path
(deregister, register; the watchdog starts beside them and then sleeps), and each start costs
what the calibration measures. The scale is the highest at which starting them takes at most
SHARE of the real time one cycle is given (the drain, the install and the health checks,
divided by the scale); never above the default, never below 1. Checked against the measured
runs: 100 instances HalfAtATime passed at scale 5 on a 2-core machine (hooks/README), and this
rule gives 5 there with a 0.32 s start-up (an idle moment), 2.2 with 0.71 s (a loaded one)."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from dataclasses import dataclass

HOOK_PROCESSES = 2
# Half: the emulator answering every instance's calls shares the same cores (a 100-instance run
# at scale 10 with a 0.32 s start-up was INCONCLUSIVE: registers' calls queued 15 s).
SHARE = 0.5
# What the calibration runs: a hook's start-up (the interpreter, boto3, one client).
PROBE = (
    "import boto3; boto3.Session().client('autoscaling', region_name='us-east-1', "
    "aws_access_key_id='x', aws_secret_access_key='x')"
)


@dataclass(frozen=True)
class Choice:
    scale: float
    reason: str


def calibrate() -> float:
    """Real seconds one hook-like process takes to start on this machine, now."""
    began = time.monotonic()
    subprocess.run([sys.executable, "-c", PROBE], check=True, capture_output=True)  # noqa: S603
    return time.monotonic() - began


def choose(
    at_once: int, cycle_seconds: float, default: float, startup: float, cores: int | None = None
) -> Choice:
    """The scale for `at_once` instances deploying together, each cycle `cycle_seconds`
    emulated seconds long, with hook processes that take `startup` real seconds to start."""
    cores = cores or os.cpu_count() or 1
    demand = max(1, at_once) * HOOK_PROCESSES * startup / cores  # real seconds of start-up
    fastest = SHARE * cycle_seconds / demand if demand > 0 else default
    scale = max(1.0, min(default, fastest))
    scale = float(int(scale * 10)) / 10 if scale < 10 else float(int(scale))
    reason = (
        f"chosen: {at_once} instance(s) deploying at once x {HOOK_PROCESSES} hook processes x "
        f"{startup:.2f} s start-up (calibrated) on {cores} core(s), for a {cycle_seconds:g} s "
        f"cycle (drain + install + health checks): at most {SHARE:.0%} of its real time spent "
        f"starting hooks; capped at {default:g}, at least 1"
    )
    return Choice(scale, reason)
