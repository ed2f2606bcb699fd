"""The time scale a rehearsal runs at when the user gives none: as fast as this machine can keep
up with, from the fleet's size and a short calibration.

On EC2 every instance runs its hooks on its own CPUs and AWS answers from elsewhere. Here the
instances deploying at once share this machine's cores with the emulator answering them. One
instance's deregister + register cycle costs INSTANCE_COST hook start-ups of CPU (the two hooks,
the self-healing watchdog the deregister starts, and the emulator answering their calls), and a
start-up costs what the calibration measures, now (the load beside it included). The scale is the
highest at which the instances deploying at once need at most SHARE times the cores' real
time during one cycle (the drain, the install and the health checks, divided by the scale); never
above the default, never below 1. A hook the host starved into its appspec timeout all the same
makes the verdict INCONCLUSIVE (starvation.py), never FAIL."""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass

# CPU one instance's cycle costs, in hook start-ups: 2 hooks + the watchdog + the emulator's
# answers (~21 calls). Measured: 100 instances HalfAtATime, 1.0 s of CPU per instance in the
# hooks and moto and 0.1 s in the proxy, against a 0.32 s start-up on the same machine.
INSTANCE_COST = 3.5
# How much of a cycle's real time the batch's CPU may take. Above 1 the hooks start later than
# the clock would have them (the agent starts a few at a time and counts each appspec timeout
# from the hook's first line), and every hook's own time stretches with the queue for the cores:
# the out-of-service times then measure the host, not the hooks. Measured on 2 cores, 100
# instances HalfAtATime with the standard-library client (load 0.5-2): at 1.5 (scale 12) 96 of
# 100 instances within the out-of-service goal (longest 3.0 s over the bound); at 1 (scale 8)
# 100 of 100 (longest 0.8 s over), 80 s wall instead of 65 s.
SHARE = 1.0
# Start-ups timed for the calibration; their median is taken (one start can meet a spike).
PROBES = 3
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
    """Real seconds one hook-like process takes to start on this machine, now (the median of
    PROBES starts, one after another)."""
    times = []
    for _ in range(PROBES):
        began = time.monotonic()
        subprocess.run([sys.executable, "-c", PROBE], check=True, capture_output=True)  # noqa: S603
        times.append(time.monotonic() - began)
    return statistics.median(times)


def choose(
    at_once: int, cycle_seconds: float, default: float, startup: float, cores: int | None = None
) -> Choice:
    """The scale for `at_once` instances deploying together, each cycle `cycle_seconds`
    emulated seconds long, with hook processes that take `startup` real seconds to start."""
    cores = cores or os.cpu_count() or 1
    demand = max(1, at_once) * INSTANCE_COST * startup / cores  # real seconds of CPU per core
    fastest = SHARE * cycle_seconds / demand if demand > 0 else default
    scale = max(1.0, min(default, fastest))
    scale = float(int(scale * 10)) / 10 if scale < 10 else float(int(scale))
    reason = (
        f"chosen: {at_once} instance(s) deploying at once x {INSTANCE_COST:g} hook start-ups of "
        f"CPU each (2 hooks, the watchdog, the emulator's answers) x {startup:.2f} s start-up "
        f"(calibrated) on {cores} core(s), for a {cycle_seconds:g} s cycle (drain + install + "
        f"health checks): at most {SHARE:g} x its real time on the cores; capped at "
        f"{default:g}, at least 1"
    )
    return Choice(scale, reason)
