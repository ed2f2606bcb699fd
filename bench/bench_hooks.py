"""Benchmark: the hooks against a local moto server.

1. A full deregister + register cycle, in-process: median wall time and AWS API calls per cycle,
   per API family next to the 28 calls before issue 20 (goals: <= 0.25 s and <= 20 calls; the
   emulator answers instantly, so this is the hooks' own overhead and their call budget).
   Each run gets a new boto3 session; the parsed service models are shared, as they are within
   one process (their one-time parse is printed apart).
2. The same cycle as the CodeDeploy agent runs it, one process per hook (the bundle's wrappers,
   deregister.sh then register.sh, from a fresh copy of the bundle per deployment, as the agent
   unpacks each revision: the first hook compiles what it imports; with an interpreter that
   sees botocore and not this checkout's editable install, as an instance's python3 with its
   python3-boto3 package), through a proxy that adds --latency milliseconds to every
   request (a real region's round trip; default 0 and 50) and counts the calls per action:
   median wall time per cycle, for both group shapes of issue 25 (Min/Desired/Max 1/1/2 with
   downtime allowed, and 2/3/6). With --aws-sample DIR (a local copy of the AWS CodeDeploy
   sample's `load-balancing/elb-v2` scripts: common_functions.sh, deregister_from_elb.sh,
   register_with_elb.sh; nothing is fetched) its scripts run the same way, interleaved run by run
   with the hooks, under bash, with the AWS CLI v1 from --aws-cli DIR (a folder holding `aws`,
   e.g. a venv's bin; default: the PATH) and a `curl` stand-in answering the metadata service's
   instance id (the sample hard-codes 169.254.169.254). Without the folder it says so and
   measures the hooks alone. With --baseline CHECKOUT (e.g. /work/main) that checkout's hooks
   run the same way too: before and after a change, in one run.
3. The interleaving explorer (tests/hooks/explorer.py): random schedules of 2-3 concurrent hook
   runs (and operator actions) per scenario, paused at every AWS call; prints the number of
   schedules and of invariant violations (must be 0), with the seed of any violation.

    .venv/bin/python bench/bench_hooks.py [--schedules N] [-v] [--latency MS ...]
        [--process-runs N] [--baseline CHECKOUT] [--aws-sample DIR [--aws-cli DIR]]

    e.g. python3 -m venv /work/awscli-venv && /work/awscli-venv/bin/pip install awscli
         python bench/bench_hooks.py --aws-sample /work/aws-sample --aws-cli /work/awscli-venv/bin
"""

from __future__ import annotations

import argparse
import atexit
import collections
import contextlib
import functools
import http.client
import logging
import os
import re
import resource
import shutil
import socket
import statistics
import subprocess
import sys
import sysconfig
import tempfile
import threading
import time
import urllib.request
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import boto3  # noqa: E402
from moto.server import ThreadedMotoServer  # noqa: E402

from hooks.group import ALLOW_DOWNTIME_TAG  # noqa: E402
from hooks.runbook import run_hook  # noqa: E402
from hooks.settings import from_environment  # noqa: E402
from tests.hooks.explorer import explore, scenarios  # noqa: E402
from tests.hooks.explorer import session as fresh_session  # noqa: E402

REGION = "us-east-1"
RUNS = 7
SCHEDULES = 504
# moto scans every instance it ever launched on each filtered DescribeInstances: start afresh.
RESET_EVERY = 40
# Calls per cycle per API family before issue 20 (hooks/README "API budget").
BEFORE_ISSUE_20 = {"autoscaling": 12, "elasticloadbalancing": 7, "ec2": 9}
FAMILIES = (("autoscaling", "Auto Scaling"), ("elasticloadbalancing", "ELB"), ("ec2", "EC2"))
SAMPLE_SCRIPTS = ("deregister_from_elb.sh", "register_with_elb.sh")
STEPS = ("deregister", "register")
# The sample's flag that MinSize was lowered (it keeps its state in /tmp).
SAMPLE_FLAG = "/tmp/asgmindecremented"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass(frozen=True)
class Shape:
    """A group shape of issue 25: Min/Desired/Max, and whether downtime is allowed."""

    min_size: int
    desired: int
    max_size: int
    allow_downtime: bool = False

    def __str__(self) -> str:
        text = f"{self.min_size}/{self.desired}/{self.max_size}"
        return text + (" allow-downtime" if self.allow_downtime else "")


SHAPES = (Shape(1, 1, 2, allow_downtime=True), Shape(2, 3, 6))
# The bench's in-process cycle: MinSize to lower (2/2/4), the API budget of hooks/README.
BUDGET_SHAPE = Shape(2, 2, 4)


def build_group(name: str, shape: Shape = BUDGET_SHAPE) -> str:
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
        MinSize=shape.min_size,
        MaxSize=shape.max_size,
        DesiredCapacity=shape.desired,
        VPCZoneIdentifier=subnet["Subnet"]["SubnetId"],
        TargetGroupARNs=[tg],
        Tags=[
            {
                "Key": ALLOW_DOWNTIME_TAG,
                "Value": "true",
                "PropagateAtLaunch": False,
                "ResourceId": name,
                "ResourceType": "auto-scaling-group",
            }
        ]
        if shape.allow_downtime
        else [],
    )
    group = autoscaling.describe_auto_scaling_groups(AutoScalingGroupNames=[name])
    instances = [i["InstanceId"] for i in group["AutoScalingGroups"][0]["Instances"]]
    # The instances are serving: the floor counts the others healthy (moto: at once).
    boto3.client("elbv2", region_name=REGION).register_targets(
        TargetGroupArn=tg, Targets=[{"Id": i} for i in instances]
    )
    return instances[0]


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


class LatencyProxy:
    """Forwards to moto after `latency` seconds per request; counts requests per action."""

    def __init__(self, upstream: str, latency: float) -> None:
        self.latency = latency
        self.actions: collections.Counter[str] = collections.Counter()
        host = upstream.removeprefix("http://")
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            # The handler sends a response's headers and body in two writes: with Nagle's
            # algorithm on, the body waits for the client's delayed ACK of the headers, 40 ms
            # a call on a kept-alive connection that no AWS endpoint adds (TCP_NODELAY, as
            # urllib3 sets on its side).
            disable_nagle_algorithm = True

            def log_message(self, *args: object) -> None:
                pass

            def do_POST(self) -> None:  # noqa: N802
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                target = self.headers.get("X-Amz-Target", "")
                action = target.rsplit(".", 1)[-1] if target else ""
                if not action:
                    action = parse_qs(body.decode("utf-8", "replace")).get("Action", ["?"])[0]
                # The signing scope names the service: Auto Scaling and EC2 both have DeleteTags.
                scope = CREDENTIAL_SCOPE.search(self.headers.get("Authorization", ""))
                proxy.actions[f"{scope.group(1) if scope else '?'}:{action}"] += 1
                time.sleep(proxy.latency)
                conn = http.client.HTTPConnection(host, timeout=30)
                skip = ("host", "content-length", "connection", "transfer-encoding")
                headers = {k: v for k, v in self.headers.items() if k.lower() not in skip}
                conn.request("POST", self.path, body=body, headers=headers)
                answer = conn.getresponse()
                data = answer.read()
                self.send_response(answer.status)
                for key, value in answer.getheaders():
                    if key.lower() not in skip:
                        self.send_header(key, value)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)
                conn.close()

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()


CURL_STAND_IN = """#!/bin/sh
# The AWS sample asks 169.254.169.254 for the instance id: the bench answers for it.
printf %s "$BENCH_INSTANCE_ID"
"""


def sample_environment(sample: Path, aws_cli: Path | None, base: dict[str, str]) -> dict:
    """PATH for the sample: the AWS CLI's folder and a curl stand-in first."""
    shims = Path(tempfile.mkdtemp(prefix="cutover-bench-sample-"))
    (shims / "curl").write_text(CURL_STAND_IN)
    (shims / "curl").chmod(0o755)
    path = os.pathsep.join(
        str(p) for p in (shims, aws_cli, os.environ.get("PATH", "")) if p is not None
    )
    return {**base, "PATH": path, "AWS_REGION": REGION}


def process_cycles(
    endpoint: str,
    latency: float,
    runs: int,
    shape: Shape,
    sample: Path | None,
    aws_cli: Path | None,
    baseline: Path | None = None,
) -> dict[str, dict[str, tuple[list[float], list[float], collections.Counter[str]]]]:
    """Wall seconds of deregister + register cycles, one process per hook as the agent runs
    them (the wrappers), and the calls of the last cycle per action; the AWS sample's too when
    its folder is given, interleaved run by run. Per phase (PHASES): each run builds a new
    group and deploys to its instance twice, the instance's first deployment, then its next
    (the hooks keep a hint on the instance's disk between deployments, hooks/statefile.py)."""
    proxy = LatencyProxy(endpoint, latency)
    root = Path(__file__).resolve().parent.parent
    env = {**os.environ, "AWS_ENDPOINT_URL": proxy.url, "CUTOVER_PYTHON": instance_python()}
    # Python's default, as on an instance: the agent's environment does not set it.
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    hooks_env = {**env, "CUTOVER_REGION": REGION}
    # name -> (commands, environment, working folder, the checkout whose hooks each deployment
    # copies afresh, as the agent unpacks each revision: None for the sample)
    commands: dict[str, tuple[list[list[str]], dict[str, str], Path, Path | None]] = {
        "hooks": ([], hooks_env, root, root)
    }
    if baseline is not None:
        # Another checkout's hooks (e.g. the main branch).
        commands["baseline"] = ([], hooks_env, baseline, baseline)
    if sample is not None:
        commands["aws-sample"] = (
            [["/bin/bash", str(sample / f)] for f in SAMPLE_SCRIPTS],
            sample_environment(sample, aws_cli, env),
            root,
            None,
        )
    found: dict[str, dict[str, tuple[list[float], list[float], collections.Counter[str]]]] = {
        phase: {name: ([], [], collections.Counter()) for name in commands} for phase in PHASES
    }
    bundles: list[Path] = []
    try:
        for run in range(runs):
            for name, (sample_steps, step_env, folder, checkout) in commands.items():
                instance_id = build_group(f"bench-{name}-{run}-{os.getpid()}", shape)
                for phase in PHASES:
                    Path(SAMPLE_FLAG).unlink(missing_ok=True)
                    steps = sample_steps
                    if checkout is not None:
                        folder = fresh_bundle(checkout)
                        bundles.append(folder.parent)
                        steps = [["/bin/sh", str(folder / f"{c}.sh")] for c in STEPS]
                    proxy.actions.clear()
                    cpu = resource.getrusage(resource.RUSAGE_CHILDREN)
                    start = time.perf_counter()
                    for step in steps:
                        subprocess.run(  # noqa: S603
                            step,
                            cwd=folder,
                            env={
                                **step_env,
                                "CUTOVER_INSTANCE_ID": instance_id,
                                "BENCH_INSTANCE_ID": instance_id,
                            },
                            check=True,
                            capture_output=True,
                        )
                    times, cpus, _ = found[phase][name]
                    times.append(time.perf_counter() - start)
                    after = resource.getrusage(resource.RUSAGE_CHILDREN)
                    cpus.append(after.ru_utime - cpu.ru_utime + after.ru_stime - cpu.ru_stime)
                    found[phase][name] = (times, cpus, collections.Counter(proxy.actions))
    finally:
        proxy.stop()
        Path(SAMPLE_FLAG).unlink(missing_ok=True)
        for bundle in bundles:
            shutil.rmtree(bundle, ignore_errors=True)
    return found


@functools.cache
def instance_python() -> str:
    """An interpreter like an instance's python3 with boto3 installed: a bare venv whose one
    .pth file adds this venv's site-packages as a plain folder (botocore importable), so its
    startup does not run the .pth hooks of this checkout's development install (the editable
    install's import finder: ~11 ms a process that no instance pays)."""
    folder = Path(tempfile.mkdtemp(prefix="cutover-bench-python-"))
    atexit.register(shutil.rmtree, folder, True)
    subprocess.run(  # noqa: S603
        [sys.executable, "-m", "venv", "--without-pip", str(folder)], check=True
    )
    packages = sysconfig.get_path("purelib")
    version = f"python{sys.version_info.major}.{sys.version_info.minor}"
    (folder / "lib" / version / "site-packages" / "botocore-from-bench.pth").write_text(
        packages + "\n"
    )
    return str(folder / "bin" / "python")


def fresh_bundle(checkout: Path) -> Path:
    """A fresh copy of a checkout's hooks as `python -m revision bundle` lays them out (the
    package beside the wrappers, no bytecode): the CodeDeploy agent unpacks every revision into
    a new folder, so each deployment's first hook compiles the modules it imports (Python
    writes their bytecode there) and the next hook reads it."""
    folder = Path(tempfile.mkdtemp(prefix="cutover-bench-revision-")) / "cutover-hooks"
    shutil.copytree(
        checkout / "hooks",
        folder / "hooks",
        ignore=shutil.ignore_patterns("__pycache__", "*.pyc", "scripts"),
    )
    for script in (checkout / "hooks" / "scripts").glob("*.sh"):
        shutil.copy2(script, folder / script.name)
    return folder


# An instance's first deployment (a new instance: no hint on its disk), then its next one.
PHASES = ("first deployment", "next deployment")

CREDENTIAL_SCOPE = re.compile(r"Credential=[^/]+/[^/]+/[^/]+/([^/]+)/aws4_request")


def per_family(actions: collections.Counter[str]) -> str:
    """Calls per API family ("service:Action" counts, the signing scope's service)."""
    counts: collections.Counter[str] = collections.Counter()
    for action, n in actions.items():
        counts[action.split(":")[0]] += n
    labels = dict(FAMILIES)
    return ", ".join(f"{labels.get(f, f)} {counts[f]}" for f, _ in FAMILIES if counts[f])


def reset(endpoint: str) -> None:
    request = urllib.request.Request(f"{endpoint}/moto-api/reset", data=b"", method="POST")
    urllib.request.urlopen(request, timeout=30).close()  # noqa: S310


def interleavings(endpoint: str, total: int) -> tuple[int, list[str], dict[str, int], float]:
    chosen = scenarios()
    per = -(-total // len(chosen))  # 0: skip the explorer
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


def report(
    phase: str,
    per_process: dict[str, tuple[list[float], list[float], collections.Counter[str]]],
    shape: Shape,
    latency: float,
    args: argparse.Namespace,
) -> None:
    print(
        f"one process per hook, group {shape}, {latency:g} ms added per request, {phase}, "
        f"median of {args.process_runs} (load average {os.getloadavg()[0]:.1f}):"
    )
    medians = {n: statistics.median(t) for n, (t, _, _) in per_process.items()}
    cpus = {n: statistics.median(c) for n, (_, c, _) in per_process.items()}
    for name, (times, _, actions) in per_process.items():
        print(
            f"  {name:<10} {medians[name]:.3f} s per cycle (min {min(times):.3f}, "
            f"max {max(times):.3f}; CPU {cpus[name]:.3f} s), "
            f"{sum(actions.values())} calls ({per_family(actions)})"
        )
        if args.v:
            print("    " + ", ".join(f"{a} {n}" for a, n in sorted(actions.items())))
    if "baseline" in medians:
        print(
            f"  against the baseline: {medians['baseline'] / medians['hooks']:.1f}x "
            f"wall, {cpus['baseline'] / cpus['hooks']:.1f}x CPU"
        )
    if "aws-sample" in medians:
        print(
            f"  speed-up: {medians['aws-sample'] / medians['hooks']:.1f}x wall "
            f"(goal 10x at 0 ms, 5x at 50 ms), "
            f"{cpus['aws-sample'] / cpus['hooks']:.1f}x CPU"
        )


def main() -> None:
    options = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    options.add_argument("--schedules", type=int, default=SCHEDULES)
    options.add_argument("-v", action="store_true", help="list the calls of one cycle")
    options.add_argument(
        "--latency",
        type=float,
        action="append",
        help="milliseconds the proxy adds per request (repeatable; default 0 and 50)",
    )
    options.add_argument("--process-runs", type=int, default=7)
    options.add_argument(
        "--aws-sample",
        type=Path,
        help="folder holding the AWS CodeDeploy sample's common_functions.sh, "
        "deregister_from_elb.sh and register_with_elb.sh (a local copy: nothing is fetched)",
    )
    options.add_argument(
        "--baseline",
        type=Path,
        help="another checkout of the project (e.g. /work/main) whose hooks run side by side",
    )
    options.add_argument(
        "--aws-cli",
        type=Path,
        help="folder holding the AWS CLI v1 `aws` the sample runs (default: the PATH)",
    )
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
        print(
            f"  AWS API calls per cycle: {int(statistics.median(calls))} "
            "(issue 20 goal <= 20; 28 before it)"
        )
        families = {"autoscaling": 0, "elasticloadbalancing": 0, "ec2": 0}
        for name in made:
            families[name.split(":")[0]] = families.get(name.split(":")[0], 0) + 1
        print("    family         before issue 20   now")
        for family, label in FAMILIES:
            print(f"    {label:<14} {BEFORE_ISSUE_20[family]:>16}   {families.get(family, 0):>3}")
        print(f"    {'all':<14} {sum(BEFORE_ISSUE_20.values()):>16}   {len(made):>3}")
        if args.v:
            print("  calls of the last cycle: " + ", ".join(made))
        reset(endpoint)
        print(
            "the hooks' processes call AWS with the "
            f"{os.environ.get('CUTOVER_AWS_CLIENT') or 'standard'} client (CUTOVER_AWS_CLIENT)"
        )
        sample = args.aws_sample
        if sample is not None and not all((sample / f).is_file() for f in SAMPLE_SCRIPTS):
            print(f"  no AWS sample in {sample} ({', '.join(SAMPLE_SCRIPTS)}): hooks alone")
            sample = None
        elif sample is None:
            print("  no --aws-sample DIR given: the hooks alone (nothing is fetched)")
        for latency in args.latency or [0.0, 50.0]:
            for shape in SHAPES:
                phases = process_cycles(
                    endpoint,
                    latency / 1000,
                    args.process_runs,
                    shape,
                    sample,
                    args.aws_cli,
                    args.baseline,
                )
                reset(endpoint)
                for phase, per_process in phases.items():
                    report(phase, per_process, shape, latency, args)
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
