"""The rehearsal itself: build the fleet, deploy (with faults on request), observe, judge."""

from __future__ import annotations

import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import TextIO

from infra.config import StackConfig
from infra.rehearsal import chart
from infra.rehearsal.agent import Agent, Deployment, Faults, Revision, agent_environment
from infra.rehearsal.emulator import Emulator, Fleet
from infra.rehearsal.imds import InstanceMetadata
from infra.rehearsal.observer import Observer
from policy.rules import instances_kept_healthy

Capacity = tuple[int, int, int]  # MinSize, DesiredCapacity, MaxSize


@dataclass(frozen=True)
class Options:
    instances: int | None = None  # default: the stack's DesiredCapacity
    fail_instance: int | None = None  # 1-based, in deployment order
    kill_hook_after: str | None = None  # a step name the hooks log, e.g. enter_standby
    sample_interval: float = 0.05
    poll_interval: float = 0.2  # the hooks' own polling (CUTOVER_POLL_INTERVAL)
    install_seconds: float = 0.2


@dataclass
class Verdict:
    stack: str
    floor: int
    lowest_in_service: int
    lowest_at: float
    capacity_before: Capacity
    capacity_after: Capacity
    instances_before: int
    instances_after: int
    deployments: list[Deployment]
    expected_to_fail: set[str]
    kill_requested: str | None
    killed: list[str]
    seconds: float
    samples: list[chart.Sample] = field(repr=False, default_factory=list)
    marks: list[chart.Mark] = field(repr=False, default_factory=list)

    @property
    def hook_runs(self) -> int:
        return sum(len(d.runs) for d in self.deployments)

    @property
    def problems(self) -> list[str]:
        found = []
        if self.lowest_in_service < self.floor:
            found.append(
                f"zero downtime violated: {self.lowest_in_service} instance(s) in service at "
                f"{self.lowest_at:.1f} s; the stack promises at least {self.floor}"
            )
        if self.capacity_after != self.capacity_before:
            found.append(
                f"capacity not restored: Min/Desired/Max {_fmt(self.capacity_before)} before, "
                f"{_fmt(self.capacity_after)} after"
            )
        if self.instances_after != self.instances_before:
            found.append(
                f"the group has {self.instances_after} instances after, {self.instances_before} "
                "before"
            )
        for deployment in self.deployments:
            if not deployment.succeeded and deployment.deployment_id not in self.expected_to_fail:
                failures = "; ".join(deployment.failures)
                found.append(f"deployment {deployment.deployment_id} failed: {failures}")
        if self.kill_requested and not self.killed:
            found.append(f"no hook ever logged step {self.kill_requested}: nothing was killed")
        return found

    @property
    def ok(self) -> bool:
        return not self.problems

    def render(self) -> str:
        word = "PASS" if self.ok else "FAIL"
        lines = [f"Rehearsal of {self.stack}: {word}"]
        lines.append(
            f"  lowest in service   {self.lowest_in_service} (at {self.lowest_at:.1f} s; "
            f"promised floor {self.floor})"
        )
        lines.append(
            f"  Min/Desired/Max     {_fmt(self.capacity_before)} before, "
            f"{_fmt(self.capacity_after)} after"
        )
        lines.append(
            f"  instances           {self.instances_before} before, {self.instances_after} after"
        )
        for d in self.deployments:
            state = "succeeded" if d.succeeded else "failed"
            expected = " (as injected)" if d.deployment_id in self.expected_to_fail else ""
            sizes = "/".join(str(len(b)) for b in d.batches)
            lines.append(
                f"  deployment {d.deployment_id}     {state}{expected}, batches {sizes}, "
                f"{len(d.runs)} hook runs"
            )
        if self.killed:
            lines.append(f"  killed and re-run   {', '.join(self.killed)}")
        lines.append(
            f"  {self.hook_runs} hook runs, {len(self.samples)} samples, {self.seconds:.1f} s"
        )
        lines += [f"  problem: {p}" for p in self.problems]
        return "\n".join(lines)


def _fmt(capacity: Capacity) -> str:
    return "/".join(str(v) for v in capacity)


def _kept(cfg: StackConfig, fleet_size: int) -> int:
    """Instances the stack's deployment config keeps in service (as the policy pack reckons)."""
    hosts = cfg.deployment.minimum_healthy_hosts
    custom = {"type": hosts.type, "value": hosts.value} if hosts else None
    return instances_kept_healthy(cfg.deployment.config, custom, fleet_size)


def promised_floor(cfg: StackConfig, fleet_size: int) -> int:
    """In-service instances the stack promises during a deployment."""
    return 0 if cfg.fleet.allow_downtime else max(1, _kept(cfg, fleet_size))


def batches(cfg: StackConfig, order: list[str]) -> list[list[str]]:
    """Split the deployment order as the stack's deployment config does."""
    size = max(1, len(order) - _kept(cfg, len(order)))
    return [order[i : i + size] for i in range(0, len(order), size)]


def _group(clients: dict, fleet: Fleet) -> dict:
    return clients["autoscaling"].describe_auto_scaling_groups(
        AutoScalingGroupNames=[fleet.group_name]
    )["AutoScalingGroups"][0]


def _capacity(group: dict) -> Capacity:
    return group["MinSize"], group["DesiredCapacity"], group["MaxSize"]


def _order(group: dict) -> list[str]:
    """Instances already out of service first (they cost no capacity), then by id."""
    return [
        i["InstanceId"]
        for i in sorted(
            group["Instances"], key=lambda i: (i["LifecycleState"] == "InService", i["InstanceId"])
        )
    ]


def rehearse(cfg: StackConfig, options: Options, log: TextIO, progress: TextIO) -> Verdict:
    """Run the rehearsal; hook output goes to `log`, one line per milestone to `progress`."""
    started = time.monotonic()
    with Emulator(cfg.region) as emulator, tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        clients = {s: emulator.client(s) for s in ("autoscaling", "elbv2", "elb")}
        fleet = emulator.build(cfg, options.instances)
        imds = {iid: InstanceMetadata(iid, cfg.region, zone) for iid, zone in fleet.zones.items()}
        try:
            revision = Revision.bundle(work / "revision", cfg)
            environment = agent_environment(
                emulator.url,
                {iid: server.url for iid, server in imds.items()},
                work / "state",
                cfg,
                options.poll_interval,
            )
            agent = Agent(revision, environment, log, options.install_seconds)
            before = _group(clients, fleet)
            observer = Observer(clients, fleet, options.sample_interval)
            observer.start()
            deployments, expected = [], set()
            faults = Faults(kill_after_step=options.kill_hook_after)
            order = _order(before)
            if options.fail_instance:
                if not 1 <= options.fail_instance <= len(order):
                    raise ValueError(
                        f"--fail-instance {options.fail_instance}: the group has {len(order)} "
                        "instances (1-based)"
                    )
                faults.fail_instance = order[options.fail_instance - 1]
                expected.add("d-1")
            plans = ["d-1", "d-2"] if options.fail_instance else ["d-1"]
            for deployment_id in plans:
                if deployment_id == "d-2":
                    faults.fail_instance = None
                group = _group(clients, fleet)
                deployment = Deployment(deployment_id, batches(cfg, _order(group)))
                observer.mark(f"{deployment_id} starts")
                progress.write(
                    f"deployment {deployment_id}: {len(group['Instances'])} instances in "
                    f"batches of {len(deployment.batches[0])} ({cfg.deployment.config})\n"
                )

                def on_batch(number: int, d: Deployment = deployment) -> None:
                    observer.mark(f"batch {number}")
                    progress.write(f"  batch {number}: {', '.join(d.batches[number - 1])}\n")

                agent.deploy(deployment, faults, on_batch)
                deployments.append(deployment)
                outcome = "succeeded" if deployment.succeeded else "failed"
                progress.write(f"deployment {deployment_id}: {outcome}\n")
            observer.mark("done")
            observer.stop()
        finally:
            for server in imds.values():
                server.close()
        after = _group(clients, fleet)
    samples = observer.samples
    lowest = min(samples, key=lambda s: s.in_service)
    return Verdict(
        stack=cfg.stack,
        floor=promised_floor(cfg, len(before["Instances"])),
        lowest_in_service=lowest.in_service,
        lowest_at=lowest.t,
        capacity_before=_capacity(before),
        capacity_after=_capacity(after),
        instances_before=len(before["Instances"]),
        instances_after=len(after["Instances"]),
        deployments=deployments,
        expected_to_fail=expected,
        kill_requested=options.kill_hook_after,
        killed=faults.killed,
        seconds=time.monotonic() - started,
        samples=samples,
        marks=observer.marks,
    )
