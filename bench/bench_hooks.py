"""Benchmark: a full deregister + register cycle of the hooks against a local moto server.

Prints the median wall time and the number of AWS API calls per cycle over several runs.
Goal: under 2 s and under 25 calls per cycle (the emulator answers instantly)."""

from __future__ import annotations

import logging
import os
import socket
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import boto3  # noqa: E402
from moto.server import ThreadedMotoServer  # noqa: E402

from hooks.runbook import run_hook  # noqa: E402
from hooks.settings import from_environment  # noqa: E402

REGION = "us-east-1"
RUNS = 7


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def build_group(name: str) -> str:
    ec2 = boto3.client("ec2", region_name=REGION)
    vpc = ec2.describe_vpcs(Filters=[{"Name": "is-default", "Values": ["true"]}])["Vpcs"][0]
    tg = boto3.client("elbv2", region_name=REGION).create_target_group(
        Name=f"tg-{name}", Protocol="HTTP", Port=80, VpcId=vpc["VpcId"], TargetType="instance"
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
        AvailabilityZones=[f"{REGION}a"],
        TargetGroupARNs=[tg],
    )
    group = autoscaling.describe_auto_scaling_groups(AutoScalingGroupNames=[name])
    return group["AutoScalingGroups"][0]["Instances"][0]["InstanceId"]


def made_calls(made: list[str]):
    """A botocore before-call handler that records every API operation."""

    def record(model, **_: object) -> None:
        made.append(model.name)

    return record


def main() -> None:
    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    port = free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    os.environ.update(
        {
            "AWS_ENDPOINT_URL": f"http://127.0.0.1:{port}",
            "AWS_ACCESS_KEY_ID": "bench",
            "AWS_SECRET_ACCESS_KEY": "bench",
            "AWS_DEFAULT_REGION": REGION,
            "CUTOVER_STATE_DIR": tempfile.mkdtemp(prefix="cutover-bench-"),
            "CUTOVER_POLL_INTERVAL": "0.05",
            "DEPLOYMENT_ID": "d-BENCH0001",
        }
    )
    times, calls = [], []
    try:
        for run in range(RUNS):
            instance_id = build_group(f"bench-{run}")
            session = boto3.Session()
            made: list[str] = []
            session.events.register("before-call", made_calls(made))
            sink = open(os.devnull, "w")  # noqa: SIM115
            stdout, sys.stdout = sys.stdout, sink
            start = time.perf_counter()
            try:
                for command in ("deregister", "register"):
                    settings = from_environment(command, instance_id=instance_id, region=REGION)
                    run_hook(settings, session=session)
            finally:
                sys.stdout = stdout
                sink.close()
            times.append(time.perf_counter() - start)
            calls.append(len(made))
    finally:
        server.stop()
    print(f"hooks deregister+register cycle over {RUNS} runs (moto on 127.0.0.1):")
    print(f"  median wall time: {statistics.median(times):.3f} s (goal < 2 s)")
    print(f"  AWS API calls per cycle: {int(statistics.median(calls))} (goal < 25)")
    if "-v" in sys.argv:
        print("  calls of the last cycle: " + ", ".join(made))


if __name__ == "__main__":
    main()
