"""A local AWS for the rehearsal: a moto server (its own process, on 127.0.0.1), the declared
fleet built in it, and the proxy that adds the AWS rules moto lacks (`rules.py`).

The fleet comes from the Pulumi program's resources (`declared.py`): the group's capacity,
health check type and grace period, tags, its target groups (health check, deregistration delay)
or classic ELB, exactly as declared. Only what the declaration cannot give (a VPC and subnets
to hold the instances, an image) is made up here."""

from __future__ import annotations

import atexit
import ctypes
import os
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import boto3
from botocore.config import Config

from rehearsal.awsrules import ColourRules, Rules
from rehearsal.clock import Clock
from rehearsal.declared import DeclaredFleet
from rehearsal.proxy import Proxy
from rehearsal.targets import Balancer
from rehearsal.world import World

DELAY = "deregistration_delay.timeout_seconds"
# The file the emulator's per-action times are written to when it stops, if set.
STATS_FILE = "CUTOVER_EMULATOR_STATS"
CREDENTIALS = {"aws_access_key_id": "rehearsal", "aws_secret_access_key": "rehearsal"}


class EnvironmentProblem(Exception):
    """The machine cannot run the rehearsal (exit 3)."""

    exit_code = 3


@dataclass
class Emulated:
    """What the rest of the rehearsal uses: the proxy's URL, the world, and moto clients."""

    url: str
    world: World
    rules: Rules
    target_groups: list[str] = field(default_factory=list)
    classic_elbs: list[str] = field(default_factory=list)
    vpc: str = ""
    subnets: list[str] = field(default_factory=list)


def _die_with_parent() -> None:
    """In the moto child: end when the rehearsal ends, however it ends (Linux prctl)."""
    try:
        libc = ctypes.CDLL(None)
        libc.prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        pass


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class _Idle:
    """moto servers this process started whose rehearsal has ended, for the next one: reset
    (0.35 s of moto's CPU) instead of a new server (1.5 s to start and load EC2's catalogue
    on the first call). Killed when the process exits; each also dies with its parent
    (PR_SET_PDEATHSIG) where Linux offers it."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._servers: list[tuple[subprocess.Popen, str]] = []
        atexit.register(self.kill_all)

    def take(self) -> tuple[subprocess.Popen, str] | None:
        """A live idle server, reset to an empty account; None when there is none."""
        while True:
            with self._lock:
                if not self._servers:
                    return None
                process, url = self._servers.pop()
            if process.poll() is None and _reset(url):
                return process, url
            _kill(process)

    def give_back(self, process: subprocess.Popen, url: str) -> None:
        with self._lock:
            self._servers.append((process, url))

    def kill_all(self) -> None:
        with self._lock:
            servers, self._servers = self._servers, []
        for process, _ in servers:
            _kill(process)


def _reset(moto_url: str) -> bool:
    """moto's own reset of every service's state (its POST /moto-api/reset)."""
    request = urllib.request.Request(f"{moto_url}/moto-api/reset", method="POST")
    try:
        with urllib.request.urlopen(request, timeout=10) as answer:
            return bool(answer.status == 200)
    except OSError:
        return False


def _kill(process: subprocess.Popen) -> None:
    # moto keeps everything in memory and writes nothing: no clean exit to wait for
    # (SIGTERM took 0.6 s of werkzeug shutdown per rehearsal).
    process.kill()
    process.wait()


_IDLE = _Idle()


class Emulator:
    """Use as a context manager: takes an idle moto server of this process (reset) or starts
    one, and stops the proxy and the world on exit, leaving the server idle for the next."""

    def __init__(self, region: str) -> None:
        self.region = region
        self.moto_url = ""
        self._process: subprocess.Popen | None = None
        self._proxy: Proxy | None = None
        self._world: World | None = None
        self._worlds: list[World] = []

    def __enter__(self) -> Emulator:
        idle = _IDLE.take()
        if idle is not None:
            self._process, self.moto_url = idle
            return self
        port = _free_port()
        self._process = subprocess.Popen(
            [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            env={**os.environ, "PYTHONWARNINGS": "ignore"},
            preexec_fn=_die_with_parent,
        )
        self.moto_url = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 30
        while True:
            try:
                with urllib.request.urlopen(f"{self.moto_url}/moto-api/", timeout=2):
                    break
            except OSError as error:
                if self._process.poll() is not None or time.monotonic() > deadline:
                    _kill(self._process)
                    self.__exit__()
                    raise EnvironmentProblem(
                        f"the AWS emulator (moto server) did not start on 127.0.0.1:{port}: {error}"
                    ) from error
                time.sleep(0.1)
        return self

    def __exit__(self, *exc: object) -> None:
        if self._world is not None:
            self._world.stop()
        for world in self._worlds:
            world.stop()
        if self._proxy is not None:
            self._proxy.close()
            report = os.environ.get(STATS_FILE)
            if report:
                # Where the emulator's time went, per action (bench/bench_rehearse.py).
                Path(report).write_text(self._proxy.rules.stats.table() + "\n", encoding="utf-8")
        if self._process is not None:
            process, self._process = self._process, None
            if process.poll() is None:
                _IDLE.give_back(process, self.moto_url)
            else:
                _kill(process)

    def client(self, service: str) -> Any:
        """A client straight to moto (the rehearsal's own bookkeeping; not counted)."""
        return boto3.client(
            service,
            region_name=self.region,
            endpoint_url=self.moto_url,
            config=Config(retries={"mode": "standard", "max_attempts": 3}),
            **CREDENTIALS,
        )

    def build(
        self, fleet: DeclaredFleet, clock: Clock, instances: int, installed: str | None
    ) -> Emulated:
        """Create the declared fleet in moto with `instances` instances, then the proxy."""
        vpc, subnets, image = self._network(fleet)
        world, target_groups, classic_elbs = self._group(
            fleet,
            clock,
            (fleet.group.min_size, instances, fleet.group.max_size),
            installed,
            subnets,
            image,
            vpc,
        )
        rules = Rules(world, self.client("ec2"))
        self._world = world
        self._proxy = Proxy(self.moto_url, rules)
        return Emulated(self._proxy.url, world, rules, target_groups, classic_elbs, vpc, subnets)

    def build_colours(
        self,
        fleets: dict[str, DeclaredFleet],
        clock: Clock,
        capacities: dict[str, tuple[int, int, int]],
        installed: dict[str, str | None],
    ) -> dict[str, Emulated]:
        """A blue-green stack: each colour's group in moto at (Min, Desired, Max), one world
        per group, and one proxy whose rules send each call to the colour it is about
        (`ColourRules`): one account, one set of throttling buckets and counters."""
        first = next(iter(fleets.values()))
        vpc, subnets, image = self._network(first)
        built = {
            colour: self._group(
                fleet, clock, capacities[colour], installed[colour], subnets, image, vpc
            )
            for colour, fleet in fleets.items()
        }
        worlds = [world for world, _, _ in built.values()]
        for world in worlds[1:]:
            world.counters = worlds[0].counters
            world.write_lock = worlds[0].write_lock
        ec2 = self.client("ec2")
        rules = ColourRules({c: Rules(world, ec2) for c, (world, _, _) in built.items()})
        self._worlds = worlds
        self._proxy = Proxy(self.moto_url, rules)  # type: ignore[arg-type]
        return {
            colour: Emulated(self._proxy.url, world, rules, tgs, elbs, vpc, subnets)  # type: ignore[arg-type]
            for colour, (world, tgs, elbs) in built.items()
        }

    def _network(self, fleet: DeclaredFleet) -> tuple[str, list[str], str]:
        """A VPC, a subnet per declared zone, an image: what the declaration cannot give."""
        ec2 = self.client("ec2")
        vpc = ec2.create_vpc(CidrBlock="10.99.0.0/16")["Vpc"]["VpcId"]
        zones = fleet.zones or [f"{fleet.region}a"]
        subnets = [
            ec2.create_subnet(VpcId=vpc, CidrBlock=f"10.99.{n}.0/24", AvailabilityZone=zone)[
                "Subnet"
            ]["SubnetId"]
            for n, zone in enumerate(zones)
        ]
        # Any Amazon image will do; a name filter keeps moto from listing its 1,350 (1-3 s).
        amazon_linux = [{"Name": "name", "Values": ["amzn2-ami-hvm-*"]}]
        images = ec2.describe_images(Owners=["amazon"], Filters=amazon_linux)["Images"]
        images = images or ec2.describe_images(Owners=["amazon"])["Images"]
        return vpc, subnets, images[0]["ImageId"]

    def _group(
        self,
        fleet: DeclaredFleet,
        clock: Clock,
        capacity: tuple[int, int, int],
        installed: str | None,
        subnets: list[str],
        image: str,
        vpc: str,
    ) -> tuple[World, list[str], list[str]]:
        """The group as declared, at `capacity` (Min, Desired, Max), with its load balancers."""
        ec2, autoscaling = self.client("ec2"), self.client("autoscaling")
        balancers: dict[str, Balancer] = {}
        group_balancers: list[str] = []
        elbv2 = self.client("elbv2")
        for tg in fleet.group.target_groups:
            check = tg.health_check
            arn = elbv2.create_target_group(
                Name=tg.name,
                Protocol=tg.protocol,
                Port=tg.port,
                VpcId=vpc,
                TargetType="instance",
                HealthCheckIntervalSeconds=check.interval,
                HealthCheckTimeoutSeconds=min(check.timeout, check.interval - 1) or 1,
                HealthyThresholdCount=check.healthy_threshold,
                UnhealthyThresholdCount=check.unhealthy_threshold,
            )["TargetGroups"][0]["TargetGroupArn"]
            elbv2.modify_target_group_attributes(
                TargetGroupArn=arn,
                Attributes=[{"Key": DELAY, "Value": str(tg.deregistration_delay)}],
            )
            # The hooks read the delay from moto (through the proxy): the drain the world
            # runs lasts what moto answers, one value.
            attributes = elbv2.describe_target_group_attributes(TargetGroupArn=arn)["Attributes"]
            delay = int(next(a["Value"] for a in attributes if a["Key"] == DELAY))
            balancers[arn] = Balancer(arn, False, check, delay, tg.port)
            group_balancers.append(arn)
        elb = self.client("elb")
        for classic in fleet.group.classic_elbs:
            check = classic.health_check
            elb.create_load_balancer(
                LoadBalancerName=classic.name,
                Listeners=[{"Protocol": "HTTP", "LoadBalancerPort": 80, "InstancePort": 80}],
                Subnets=subnets[:1],
            )
            elb.configure_health_check(
                LoadBalancerName=classic.name,
                HealthCheck={
                    "Target": "HTTP:80/",
                    "Interval": check.interval,
                    "Timeout": min(check.timeout, check.interval - 1) or 1,
                    "HealthyThreshold": check.healthy_threshold,
                    "UnhealthyThreshold": check.unhealthy_threshold,
                },
            )
            draining = classic.draining_timeout
            elb.modify_load_balancer_attributes(
                LoadBalancerName=classic.name,
                LoadBalancerAttributes={
                    "ConnectionDraining": {"Enabled": draining > 0, "Timeout": draining or 300}
                },
            )
            found = elb.describe_load_balancer_attributes(LoadBalancerName=classic.name)
            drain = found["LoadBalancerAttributes"]["ConnectionDraining"]
            delay = int(drain.get("Timeout", 300)) if drain.get("Enabled") else 0
            balancers[classic.name] = Balancer(classic.name, True, check, delay, 80)
            group_balancers.append(classic.name)
        template = f"{fleet.group.name}-template"[:120]
        ec2.create_launch_template(
            LaunchTemplateName=template,
            LaunchTemplateData={
                "ImageId": image,
                "InstanceType": "t3.small",
                "MetadataOptions": {"HttpTokens": "required", "HttpEndpoint": "enabled"},
            },
        )
        group = fleet.group
        attachments: dict[str, Any] = {}
        target_groups = [k for k in group_balancers if not balancers[k].classic]
        classic_elbs = [k for k in group_balancers if balancers[k].classic]
        if target_groups:
            attachments["TargetGroupARNs"] = target_groups
        if classic_elbs:
            attachments["LoadBalancerNames"] = classic_elbs
        autoscaling.create_auto_scaling_group(
            **attachments,
            AutoScalingGroupName=group.name,
            MinSize=capacity[0],
            MaxSize=capacity[2],
            DesiredCapacity=capacity[1],
            LaunchTemplate={"LaunchTemplateName": template, "Version": "$Latest"},
            VPCZoneIdentifier=",".join(subnets),
            HealthCheckType=group.health_check_type,
            HealthCheckGracePeriod=group.grace_period,
            Tags=[
                {
                    "Key": t["key"],
                    "Value": t["value"],
                    "PropagateAtLaunch": t["propagateAtLaunch"],
                    "ResourceId": group.name,
                    "ResourceType": "auto-scaling-group",
                }
                for t in group.tags
            ],
        )
        world = World(fleet, clock, autoscaling, balancers, group_balancers, ec2)
        world.adopt(installed)
        return world, target_groups, classic_elbs
