"""Benchmark: the hooks against a local moto server.

1. A full deregister + register cycle, in-process: median wall time and AWS API calls per cycle
   (goals: <= 0.25 s and <= 28 calls; the emulator answers instantly, so this is the hooks'
   own overhead and their call budget). Each run gets a new boto3 session; the parsed service
   models are shared, as they are within one process (their one-time parse is printed apart).
2. The interleaving explorer (tests/hooks/explorer.py): random schedules of 2-3 concurrent hook
   runs (and operator actions) per scenario, paused at every AWS call; prints the number of
   schedules and of invariant violations (must be 0), with the seed of any violation.

    .venv/bin/python bench/bench_hooks.py [--schedules N] [-v]
"""

from __future__ import annotations

import argparse
import contextlib
import logging
import os
import socket
import statistics
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import boto3  # noqa: E402
from moto.server import ThreadedMotoServer  # noqa: E402

from hooks.runbook import run_hook  # noqa: E402
from hooks.settings import from_environment  # noqa: E402
from tests.hooks.explorer import explore, scenarios  # noqa: E402
from tests.hooks.explorer import session as fresh_session  # noqa: E402

REGION = "us-east-1"
RUNS = 7
SCHEDULES = 504
# moto scans every instance it ever launched on each filtered DescribeInstances: start afresh.
RESET_EVERY = 40


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def build_group(name: str) -> str:
    ec2 = boto3.client("ec2", region_name=REGION)
    vpc = ec2.create_vpc(CidrBlock="10.0.0.0/16")["Vpc"]["VpcId"]
    subnet = ec2.create_subnet(VpcId=vpc, CidrBlock="10.0.0.0/24", AvailabilityZone=f"{REGION}a")
    tg = boto3.client("elbv2", region_name=REGION).create_target_group(
        Name=f"tg-{name}", Protocol="HTTP", Port=80, VpcId=vpc, TargetType="instance"
    )["TargetGroups"][0]["TargetGroupArn"]
    ec2.create_launch_template(
        LaunchTemplateName=f"lt-{name}",
        LaunchTemplateData={"ImageId": "ami-12c6146b", "InstanceType": "t3.micro"},
    )
    autoscaling = boto3.client("autoscaling", region_name=REGION)
    autoscaling.create_auto_scaling_group(
        AutoScalingGroupName=name,
        LaunchTemplate={"LaunchTemplateName": f"lt-{name}", "Version": "$Latest"},
        MinSize=2,
        MaxSize=4,
        DesiredCapacity=2,
        VPCZoneIdentifier=subnet["Subnet"]["SubnetId"],
        TargetGroupARNs=[tg],
    )
    group = autoscaling.describe_auto_scaling_groups(AutoScalingGroupNames=[name])
    return group["AutoScalingGroups"][0]["Instances"][0]["InstanceId"]


def made_calls(made: list[str]):
    """A botocore before-call handler that records every API operation."""

    def record(model, **_: object) -> None:
        made.append(f"{model.service_model.endpoint_prefix}:{model.name}")

    return record


def model_load_time() -> float:
    """What a fresh process pays once to parse the four services' models (not in the cycle)."""
    start = time.perf_counter()
    session = fresh_session()
    for service in ("autoscaling", "elbv2", "elb", "ec2"):
        session.client(service, region_name=REGION)
    return time.perf_counter() - start


def cycles() -> tuple[list[float], list[int], list[str]]:
    times, calls, made = [], [], []
    for run in range(RUNS):
        instance_id = build_group(f"bench-{run}")
        session = fresh_session()
        made = []
        session.events.register("before-call", made_calls(made))
        with open(os.devnull, "w") as sink, contextlib.redirect_stdout(sink):
            start = time.perf_counter()
            for command in ("deregister", "register"):
                settings = from_environment(command, instance_id=instance_id, region=REGION)
                run_hook(settings, session=session)
            times.append(time.perf_counter() - start)
        calls.append(len(made))
    return times, calls, made


def reset(endpoint: str) -> None:
    request = urllib.request.Request(f"{endpoint}/moto-api/reset", data=b"", method="POST")
    urllib.request.urlopen(request, timeout=30).close()  # noqa: S310


def interleavings(endpoint: str, total: int) -> tuple[int, list[str], dict[str, int], float]:
    chosen = scenarios()
    per = max(1, -(-total // len(chosen)))
    done, violations, counts = 0, [], dict.fromkeys((s.name for s in chosen), 0)
    start = time.perf_counter()
    with open(os.devnull, "w") as sink, contextlib.redirect_stdout(sink):
        for seed in range(per):
            for scenario in chosen:
                if done and done % RESET_EVERY == 0:
                    reset(endpoint)
                result = explore(scenario, seed)
                done += 1
                counts[scenario.name] += 1
                if result.violations:
                    violations.append(str(result))
    return done, violations, counts, time.perf_counter() - start


def main() -> None:
    options = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    options.add_argument("--schedules", type=int, default=SCHEDULES)
    options.add_argument("-v", action="store_true", help="list the calls of one cycle")
    args = options.parse_args()
    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    port = free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    endpoint = f"http://127.0.0.1:{port}"
    os.environ.update(
        {
            "AWS_ENDPOINT_URL": endpoint,
            "AWS_ACCESS_KEY_ID": "bench",
            "AWS_SECRET_ACCESS_KEY": "bench",
            "AWS_DEFAULT_REGION": REGION,
            "CUTOVER_STATE_DIR": tempfile.mkdtemp(prefix="cutover-bench-"),
            "CUTOVER_POLL_INTERVAL": "0.05",
            # moto drains and turns healthy at once: AWS's delays shrink to nothing.
            "CUTOVER_TIME_SCALE": "100000",
            "CUTOVER_HEAL": "off",
            "CUTOVER_TIMEOUT": "30",
            "DEPLOYMENT_ID": "d-BENCH0001",
        }
    )
    try:
        load = model_load_time()
        times, calls, made = cycles()
        print(f"hooks deregister+register cycle over {RUNS} runs (moto on 127.0.0.1):")
        print(f"  service models parsed once per process: {load:.3f} s (not in the cycle)")
        print(f"  median wall time: {statistics.median(times):.3f} s (goal <= 0.25 s)")
        print(f"  AWS API calls per cycle: {int(statistics.median(calls))} (goal <= 28)")
        families = {"autoscaling": 0, "elasticloadbalancing": 0, "ec2": 0}
        for name in made:
            families[name.split(":")[0]] = families.get(name.split(":")[0], 0) + 1
        print(
            f"    of the last cycle: {families['autoscaling']} Auto Scaling, "
            f"{families['elasticloadbalancing']} ELB, {families['ec2']} EC2"
        )
        if args.v:
            print("  calls of the last cycle: " + ", ".join(made))
        reset(endpoint)
        done, violations, counts, took = interleavings(endpoint, args.schedules)
    finally:
        server.stop()
    print("interleaving explorer (2-3 concurrent runs, paused at every AWS call):")
    for name, n in counts.items():
        print(f"  {n:4d} schedules  {name}")
    print(f"  schedules: {done}, violations: {len(violations)} (must be 0), {took:.0f} s")
    for line in violations:
        print("  " + line)
    if violations:
        sys.exit(1)


if __name__ == "__main__":
    main()
