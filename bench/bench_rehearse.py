"""Benchmark: the deployment rehearsal, per scenario and at fleet scale (real seconds).

Prints, per scenario of the production stack: the verdict, the wall time, and each instance's
out-of-service time against its bound (deregistration delay + install + healthyThreshold x
interval, per deployment that touched it) with the overhead goal (<= 1 s + 10 % of the bound).
Then the production `deploy` wall time (goal < 60 s) and 100 instances with
CodeDeployDefault.HalfAtATime and with a custom FLEET_PERCENT:50 config, at the time scale the
rehearsal chooses (issue 20: PASS within 5 minutes beside `make test` on 2 cores; the machine's
load is printed before and after): wall time, the scale and why, starved hooks, out-of-service
times, where the emulator's time went per action (calls, real seconds in the proxy and in
moto), AWS calls per instance (goal <= 15 Auto Scaling/ELB calls, the throttled APIs; the total and
each family are printed too), throttled calls (each one is retried by the hooks), and the peak
number of tags on the group (must stay <= 50 minus the stack's own, which the rehearsal
enforces anyway).

    .venv/bin/python bench/bench_rehearse.py [--scenarios a,b] [--skip-scale] [--time-scale X]
                                              [--scale-time-scale X] [--instances N]
                                              [--scale-configs A,B]
"""

from __future__ import annotations

import argparse
import io
import os
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from rehearsal.declared import declared_fleet  # noqa: E402
from rehearsal.emulator import STATS_FILE  # noqa: E402
from rehearsal.run import DEFAULT_TIME_SCALE, Options, rehearse  # noqa: E402
from rehearsal.scenarios import BLUE_GREEN_SCENARIOS, SCENARIOS  # noqa: E402
from rehearsal.shift import SHIFT_SCENARIOS  # noqa: E402
from stack.load import load_stack_file, stack_file_path  # noqa: E402

EXTRA = {"fail-instance": {"fail_instance": 2}, "kill-hook": {"kill_hook_after": "enter_standby"}}


def _run(fleet, timeouts, **options):
    started = time.perf_counter()
    verdict = rehearse(fleet, Options(**options), io.StringIO(), io.StringIO(), *timeouts)
    return verdict, time.perf_counter() - started


def _load() -> str:
    return "/".join(f"{x:.1f}" for x in os.getloadavg())


def _reasons(verdict) -> str:
    return "PASS" if verdict.ok else "FAIL: " + "; ".join(verdict.reasons)


def scenarios(fleet, timeouts, names: list[str], scale: float) -> None:
    print(
        f"== scenarios on production ({fleet.group.desired_capacity} instances, time scale "
        f"{scale:g}; real seconds)"
    )
    for name in names:
        verdict, wall = _run(
            fleet, timeouts, scenario=name, time_scale=scale, **EXTRA.get(name, {})
        )
        print(f"{name:22} {wall:6.1f} s wall  {_reasons(verdict)}")
        for o in verdict.out_of_service:
            overhead = o.seconds - o.bound
            goal = 1.0 + 0.1 * o.bound
            mark = "ok" if o.within_goal else "OVER GOAL"
            print(
                f"    {o.instance}  out of service {o.seconds:6.2f} s  bound {o.bound:6.2f} s  "
                f"overhead {overhead:+6.2f} s (goal <= {goal:.2f})  {mark}"
            )


def at_scale(fleet, timeouts, instances: int, scale: float | None, cases: list[str]) -> None:
    chosen = "chosen by the rehearsal" if scale is None else f"{scale:g}"
    print(f"== {instances} instances (MaxSize raised), time scale {chosen}, load {_load()}")
    for config in cases:
        with tempfile.TemporaryDirectory() as tmp:
            stats = Path(tmp) / "emulator.txt"
            os.environ[STATS_FILE] = str(stats)
            try:
                verdict, wall = _run(
                    fleet,
                    timeouts,
                    instances=instances,
                    raise_max=True,
                    deployment_config=config,
                    time_scale=scale,
                )
            finally:
                os.environ.pop(STATS_FILE, None)
            table = stats.read_text(encoding="utf-8") if stats.exists() else ""
        body = verdict.to_json()
        families = body["apiCallsByFamily"]
        per = {k: round(v / max(1, len(body["apiCalls"])), 1) for k, v in families.items()}
        word = "INCONCLUSIVE" if body["inconclusive"] else _reasons(verdict)
        print(f"{config:32} {wall:6.1f} s wall (goal <= 300)  {word}  load after {_load()}")
        print(f"    time scale {body['timeScale']:g} ({body['timeScaleReason']})")
        starved = body["starvedHooks"]
        print(f"    starved hooks {len(starved)}: {body['inconclusive'] or 'none'}")
        oos = body["outOfService"]
        if oos:
            seconds = sorted(o["outOfServiceSeconds"] for o in oos)
            within = sum(1 for o in oos if o["withinGoal"])
            print(
                f"    out of service median {seconds[len(seconds) // 2]:.1f} s, longest "
                f"{seconds[-1]:.1f} s, bound {oos[0]['boundSeconds']:.1f} s, {within} of "
                f"{len(oos)} within the goal"
            )
        print(
            f"    AWS calls per instance: {body['apiCallsPerInstanceAutoScalingElb']} Auto "
            f"Scaling/ELB (goal <= 15), {body['apiCallsPerInstance']} in all "
            f"(autoscaling {per['autoscaling']}, elb {per['elb']}, ec2 {per['ec2']}, other "
            f"{per['other']})"
        )
        print("    where the emulator's time went (real seconds, per action):")
        print("\n".join(f"      {line}" for line in table.splitlines()))
        print(
            f"    throttled (each one retried) {body['throttledCalls']} "
            f"{body['throttledCallsByFamily']}, refused {body['refusedCalls']}, peak tags on the "
            f"group {body['peakTagsOnGroup']} (stack's own {body['stackTagsOnGroup']}, limit "
            f"50), lowest in service {body['lowestInService']} / floor "
            f"{body['promisedFloor']}, {body['hookRuns']} hook runs, Min/Desired/Max "
            f"{body['capacityAfter']} (expected {body['expectedCapacityAfter']})"
        )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument(
        "--scenarios",
        # production deploys in place: the blue-green scenarios are bench_release.py's
        default=",".join(n for n in SCENARIOS if n not in BLUE_GREEN_SCENARIOS),
    )
    parser.add_argument("--skip-scale", action="store_true")
    parser.add_argument("--time-scale", type=float, default=DEFAULT_TIME_SCALE)
    # None: the rehearsal's own choice (the default settings a user runs with).
    parser.add_argument("--scale-time-scale", type=float, default=None)
    parser.add_argument("--instances", type=int, default=100)
    parser.add_argument(
        "--scale-configs",
        default="CodeDeployDefault.HalfAtATime,FLEET_PERCENT:50",
        help="deployment configs of the fleet-scale runs (comma-separated)",
    )
    args = parser.parse_args()
    cfg = load_stack_file(stack_file_path("production"), stack="production")
    timeouts = (cfg.deployment.deregister_timeout, cfg.deployment.register_timeout)
    names = [n for n in args.scenarios.split(",") if n]
    # the shift scenarios need the stack's traffic records (the rehearsal refuses them without)
    fleet = declared_fleet("production", traffic=any(n in SHIFT_SCENARIOS for n in names))
    if "deploy" in names:
        verdict, wall = _run(fleet, timeouts, time_scale=args.time_scale)
        print(f"production deploy: {wall:.1f} s wall (goal < 60), {_reasons(verdict)}")
    scenarios(fleet, timeouts, names, args.time_scale)
    if not args.skip_scale:
        configs = [c for c in args.scale_configs.split(",") if c]
        at_scale(fleet, timeouts, args.instances, args.scale_time_scale, configs)
    return 0


if __name__ == "__main__":
    sys.exit(main())
