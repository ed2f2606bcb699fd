"""The rehearsal itself: build the declared fleet, play the scenario, wait for the fleet to
settle (self-healing included), judge."""

from __future__ import annotations

import secrets
import tempfile
import threading
import time
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TextIO

import hooks.settings as hook_settings
from awsfacts.codedeploy import minimum_healthy
from hooks.errors import EXIT_DEADLINE
from rehearsal import codedeploy, scenarios
from rehearsal.agent import (
    START_ALLOWANCE,
    Agent,
    Faults,
    Revision,
    agent_environment,
    end_processes,
    heal_environment,
    leftover_processes,
    shut_down,
)
from rehearsal.clock import Clock
from rehearsal.declared import DeclaredFleet
from rehearsal.deployments import DeploymentsApi
from rehearsal.emulator import Emulator
from rehearsal.imds import InstanceMetadata
from rehearsal.observer import Observer
from rehearsal.session import FIRST_REVISION, Session
from rehearsal.shift import SHIFT_SCENARIOS
from rehearsal.starvation import CallTimes, HostLag, StarvedHook, starved
from rehearsal.timescale import calibrate, choose
from rehearsal.verdict import Capacity, OutOfService, Verdict, expected_after, out_of_service
from rehearsal.world import GROUP_POLL

# A terminated instance's operating system stops its processes: SIGTERM, then SIGKILL after
# systemd's default stop timeout (emulated seconds), but never sooner than this (real seconds).
SHUTDOWN_STOP_SECONDS = 90.0
SHUTDOWN_MIN_REAL = 10.0
DEFAULT_TIME_SCALE = 30.0  # production deploy (3 x (120 s drain + 30 s health)) in ~20 s
INSTALL_SECONDS = 10.0  # emulated: what the revision's Install takes
# The hooks' self-healing delay, when they have one (CUTOVER_HEAL_AFTER, emulated seconds).
HEAL_AFTER = float(getattr(hook_settings, "DEFAULT_HEAL_AFTER", 0) or 600)


class RehearsalInputError(Exception):
    """Options the rehearsal cannot honour (exit 2)."""

    exit_code = 2


@dataclass(frozen=True)
class Options:
    scenario: str = "deploy"
    instances: int | None = None  # default: the group's DesiredCapacity
    deployment_config: str | None = None  # default: the deployment group's
    fail_instance: int | None = None  # 1-based, in deployment order
    kill_hook_after: str | None = None  # a step name the hooks log, e.g. enter_standby
    # None: chosen from the fleet's size and a calibration (rehearsal/timescale.py).
    time_scale: float | None = DEFAULT_TIME_SCALE
    raise_max: bool = False  # allow --instances above MaxSize by raising MaxSize (said so)
    sample_interval: float = 0.05  # real seconds
    heal_after: float = HEAL_AFTER  # emulated seconds
    # Applied to the bundled revision before deploying (tests put a broken hook there).
    patch_revision: object = None
    # The shift scenarios' ramp class (default shift.ramp.Ramp; tests put a broken one).
    ramp: object = None
    # Real seconds the proxy adds to every call: a slower emulator or a real region's latency.
    call_delay: float = 0.0
    # The blue-green scenarios' release class (default release.run.Release; tests put a
    # broken one).
    release: object = None


def validate(fleet: DeclaredFleet, options: Options) -> int:
    """The instance count to rehearse with; RehearsalInputError for options out of range."""
    if options.scenario not in scenarios.SCENARIOS:
        raise RehearsalInputError(
            f"--scenario {options.scenario}: unknown; choose one of "
            f"{', '.join(scenarios.SCENARIOS)}"
        )
    blue_green = options.scenario in scenarios.BLUE_GREEN_SCENARIOS
    if fleet.colours and not blue_green:
        raise RehearsalInputError(
            f"stack {fleet.stack} is blue-green (cutover:deployment.style: blue-green, two "
            f"groups): rehearse its release with --scenario "
            f"{', '.join(scenarios.BLUE_GREEN_SCENARIOS)}"
        )
    if blue_green and not fleet.colours:
        raise RehearsalInputError(
            f"--scenario {options.scenario}: {fleet.stack} deploys in place; the blue-green "
            "scenarios need cutover:deployment.style: blue-green"
        )
    if options.time_scale is not None and options.time_scale <= 0:
        raise RehearsalInputError(f"--time-scale {options.time_scale:g}: must be above 0")
    group = fleet.group
    n = group.desired_capacity if options.instances is None else options.instances
    if n < 1:
        raise RehearsalInputError(f"--instances {n}: must be at least 1")
    if n > group.max_size and not options.raise_max:
        raise RehearsalInputError(
            f"--instances {n}: above the group's MaxSize {group.max_size} in "
            f"{fleet.stack}'s config; lower it, or pass --raise-max to rehearse with MaxSize "
            f"raised to {n}"
        )
    if options.scenario == "fail-instance":
        if options.fail_instance is None or not 1 <= options.fail_instance <= n:
            raise RehearsalInputError(
                f"--fail-instance {options.fail_instance}: scenario fail-instance needs K "
                f"with 1 <= K <= {n} (the group's instances, in deployment order)"
            )
    elif options.fail_instance is not None:
        raise RehearsalInputError("--fail-instance only applies to --scenario fail-instance")
    if options.scenario == "kill-hook" and not options.kill_hook_after:
        raise RehearsalInputError("scenario kill-hook needs --kill-hook-after STEP")
    if options.kill_hook_after and options.scenario != "kill-hook":
        raise RehearsalInputError("--kill-hook-after only applies to --scenario kill-hook")
    if options.scenario in SHIFT_SCENARIOS and fleet.traffic is None:
        raise RehearsalInputError(
            f"--scenario {options.scenario}: the fleet was read without its traffic records "
            "(declared_fleet(..., traffic=True))"
        )
    if options.scenario in SHIFT_SCENARIOS and not fleet.group.target_groups:
        raise RehearsalInputError(
            f"--scenario {options.scenario}: {fleet.stack} has no target group (the shift "
            "needs an application load balancer)"
        )
    return n


class MetadataServers(dict):
    """An IMDSv2 endpoint per instance, started when the instance first needs one."""

    def __init__(self, region: str, world) -> None:
        super().__init__()
        self._region, self._world, self._lock = region, world, threading.Lock()
        self.servers: list[InstanceMetadata] = []

    def __missing__(self, iid: str) -> str:
        with self._lock:
            if iid not in self:
                zone = self._world.instances[iid].zone
                server = InstanceMetadata(iid, self._region, zone)
                self.servers.append(server)
                dict.__setitem__(self, iid, server.url)
            return dict.__getitem__(self, iid)

    def close(self) -> None:
        for server in self.servers:
            server.close()


def hook_events(revision: Revision) -> dict[str, str]:
    found = {"deregister": "BeforeInstall", "register": "ApplicationStart"}
    for script in revision.scripts:
        name = Path(script.location).name
        if name == "deregister.sh":
            found["deregister"] = script.event
        elif name == "register.sh":
            found["register"] = script.event
    return found


def rehearse(
    fleet: DeclaredFleet,
    options: Options,
    log: TextIO,
    progress: TextIO,
    deregister_timeout: int,
    register_timeout: int,
) -> Verdict:
    """Run the rehearsal; hook output goes to `log`, one line per milestone to `progress`.
    The blue-green scenarios run in `rehearsal.bluegreen.rehearse`."""
    n = validate(fleet, options)
    if options.scenario in scenarios.BLUE_GREEN_SCENARIOS:
        raise RehearsalInputError(
            f"--scenario {options.scenario}: rehearsed by rehearsal.bluegreen.rehearse"
        )
    config_name = options.deployment_config or fleet.deployment_group.config_name
    custom = fleet.deployment_group.minimum_healthy_hosts
    if (
        options.deployment_config
        and options.deployment_config != fleet.deployment_group.config_name
    ):
        custom = None
    config = codedeploy.resolve(config_name, custom)
    scale_reason = "given"
    if options.time_scale is None:
        at_once = max(1, n - minimum_healthy(config, n))
        cycle = fleet.drain_seconds + INSTALL_SECONDS + fleet.healthy_seconds
        choice = choose(at_once, cycle, DEFAULT_TIME_SCALE, calibrate())
        options, scale_reason = replace(options, time_scale=choice.scale), choice.reason
        progress.write(f"time scale {choice.scale:g} ({choice.reason})\n")
    assert options.time_scale is not None
    group = fleet.group
    if n > group.max_size:
        progress.write(f"note: MaxSize raised from {group.max_size} to {n} (--raise-max)\n")
        fleet = _with_max(fleet, n)
    clock = Clock(options.time_scale)
    first = options.scenario == "first-deploy"
    marker = secrets.token_hex(8)
    started = time.monotonic()
    with Emulator(fleet.region) as emulator, tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        emulated = emulator.build(fleet, clock, n, None if first else FIRST_REVISION)
        world = emulated.world
        imds = MetadataServers(fleet.region, world)
        try:
            revision = Revision.bundle(work / "revision", deregister_timeout, register_timeout)
            revision.scale_deadlines(options.time_scale)
            if callable(options.patch_revision):
                options.patch_revision(revision.root)
            environment = agent_environment(
                emulated.url,
                imds,
                work / "state",
                fleet.deployment_group.application,
                clock,
                marker,
                heal_environment(clock, options.heal_after),
            )
            observer = Observer(world, clock, options.sample_interval)
            agent = Agent(revision, environment, world, clock, log, Faults(), INSTALL_SECONDS)
            session = Session(
                fleet,
                clock,
                emulated,
                agent,
                observer,
                config,
                config_name,
                progress,
                None if first else FIRST_REVISION,
            )
            # The hooks' repairs ask CodeDeploy about the rehearsal's own deployments.
            emulated.rules.apis.append(DeploymentsApi(lambda: list(session.deployments)))
            world.on_launch = session.on_launch
            grace = max(clock.to_real(SHUTDOWN_STOP_SECONDS), SHUTDOWN_MIN_REAL)
            world.on_gone = lambda iid: shut_down(marker, work / "state" / iid, grace)
            before = session.group()
            instances_before = len(before["Instances"])
            if options.scenario in SHIFT_SCENARIOS:
                from rehearsal import shift

                session.traffic = shift.build(emulator, emulated, fleet, clock)
            emulated.rules.call_times = CallTimes(clock.real)
            emulated.rules.call_delay = options.call_delay
            lag = HostLag(clock.real).start()
            world.start()
            observer.start()
            floor = scenarios.play(options.scenario, session, options, hook_events(revision))
            for thread in list(session.background):
                thread.join()
            expected = expected_after(Capacity.of(before), session.changes)
            settled = _settle(session, expected, options, fleet, marker)
            observer.mark("end")
            observer.stop()
            if world.error is not None:
                raise world.error
            after = session.group()
            traffic = None
            if session.traffic is not None:
                from rehearsal.shiftverdict import judge

                traffic = judge(session.traffic, options.scenario)  # reads Route 53: before exit
            leftovers = leftover_processes(marker)
            end_processes(leftovers)
            lag.stop()
            hungry = starved_hooks(session.agent.runs, emulated.rules.call_times, lag)
        finally:
            end_processes(leftover_processes(marker))
            imds.close()
            append_watchdog_logs(work / "state", log)
    return _judge(
        fleet,
        options,
        session,
        before,
        after,
        expected,
        instances_before,
        floor,
        settled,
        len(leftovers),
        time.monotonic() - started,
        traffic,
        hungry,
        scale_reason,
    )


def starved_hooks(runs: list, calls: CallTimes, lag: HostLag) -> list[StarvedHook]:
    """The hook runs the appspec timeout killed, or that gave up at their own deadline (exit 3,
    the appspec timeout minus a margin), while this machine starved them."""
    found = []
    for run in runs:
        if run.timed_out or run.returncode == EXIT_DEADLINE:
            caller = f"rehearsal-{run.instance_id}"
            hungry = starved(run, caller, calls, lag, START_ALLOWANCE)
            if hungry is not None:
                found.append(hungry)
    return found


def append_watchdog_logs(state_root: Path, log: TextIO) -> None:
    """The watchdogs log to their instance's state folder, which goes with the rehearsal: keep
    them in the hook log."""
    for path in sorted(state_root.glob("*/heal-*.log")):
        for line in path.read_text(encoding="utf-8", errors="replace").splitlines():
            log.write(f"watchdog {line}\n")
    log.flush()


def _with_max(fleet: DeclaredFleet, n: int) -> DeclaredFleet:
    from dataclasses import replace

    return replace(fleet, group=replace(fleet.group, max_size=n))


def _settled(session: Session, expected: Capacity) -> bool:
    """The group at the expected bounds with as many instances as its Desired, each InService
    and serving. (Without the count, a group whose only instance was terminated read as settled
    between the decrement given back and the replacement's launch: the settle stopped waiting,
    and the replacement's launch deployment was cut short at the end of the rehearsal.)"""
    world = session.emulated.world
    group = session.group()
    states = world.presented_lifecycle()
    serving = world.serving()
    return (
        Capacity.of(group) == expected
        and len(states) == expected.desired
        and all(s == "InService" for s in states.values())
        and set(states) <= serving
    )


# Real seconds nothing could act for before the settle stops waiting (four looks of the world's
# poll at moto's group: what the poll saw last is what there is).
QUIET_SECONDS = 4 * GROUP_POLL


def _nothing_can_act(session: Session, marker: str) -> bool:
    """No hook or watchdog process of the rehearsal left, no deployment running, every instance
    InService and serving or in Standby, and as many in service as the group's Desired: nothing
    the hooks or the group would do can change the group any more (an unhealthy, launching or
    terminating instance, or a Desired the group has not reached, could still be acted on: AWS
    launches and terminates after the write, not during it as moto does)."""
    if any(thread.is_alive() for thread in session.background):
        return False
    world = session.emulated.world
    serving = world.serving()
    in_service = 0
    for iid, state in world.presented_lifecycle().items():
        if state == "Standby":
            continue
        if state != "InService" or iid not in serving:
            return False
        in_service += 1
    if in_service != Capacity.of(session.group()).desired:
        return False
    return not leftover_processes(marker)


def _settle(
    session: Session, expected: Capacity, options: Options, fleet: DeclaredFleet, marker: str
) -> float:
    """Wait, at most the hooks' self-healing delay plus one drain and health check, for the
    fleet to come back, or until nothing is left that could bring it back (no hook or watchdog
    process, no deployment, no instance the group would replace) for QUIET_SECONDS; returns the
    real seconds waited."""
    clock = session.clock
    limit = options.heal_after + fleet.drain_seconds + fleet.healthy_seconds + 60
    started = clock.now()
    quiet_since: float | None = None
    looked = 0.0
    while clock.now() - started < limit:
        if _settled(session, expected):
            break
        if time.monotonic() - looked >= GROUP_POLL:
            looked = time.monotonic()
            if not _nothing_can_act(session, marker):
                quiet_since = None
            elif quiet_since is None:
                quiet_since = looked
            elif looked - quiet_since >= QUIET_SECONDS:
                break
        time.sleep(0.1)
    for thread in list(session.background):
        thread.join()
    return clock.to_real(clock.now() - started)


def _judge(
    fleet,
    options,
    session,
    before,
    after,
    expected,
    instances_before,
    floor,
    settled,
    leftovers,
    seconds,
    traffic=None,
    hungry=None,
    scale_reason="given",
) -> Verdict:
    world = session.emulated.world
    samples = session.observer.samples
    first = options.scenario == "first-deploy"
    n = instances_before
    promised = (
        0
        if session.fleet_allows_downtime
        else max(1, min(n - 1, minimum_healthy(session.config, n)))
    )
    if floor is not None:
        promised = floor

    first_serving: dict[str, float] = {}
    for sample in samples:
        for iid in sample.serving:
            first_serving.setdefault(iid, sample.t)
    present = samples[0].instances if samples else frozenset()

    def floor_at(sample) -> int:
        # A group that shrank (scale-in, a terminated instance) keeps what the config keeps of
        # the instances it still has; instances still launching do not raise the promise, nor
        # does one launched meanwhile (a replacement) before it first passes its health checks.
        unproven = {
            i for i in sample.instances - present if first_serving.get(i, float("inf")) > sample.t
        }
        size = len(sample.instances - sample.launching - unproven)
        if floor is not None or session.fleet_allows_downtime:
            return promised
        return min(promised, max(1, min(size - 1, minimum_healthy(session.config, size))))

    judged, reached = samples, 0
    if first:
        reached = next((i for i, s in enumerate(samples) if s.in_service >= promised), None)
        judged = samples[reached:] if reached is not None else samples[-1:]
    lowest = min(judged, key=lambda s: s.in_service - floor_at(s))
    states = world.presented_lifecycle()
    serving = world.serving()
    bound_one = fleet.drain_seconds + INSTALL_SECONDS + fleet.healthy_seconds
    deployments = [d for d in session.deployments if d.kind != "launch"]
    start = min((d.started for d in deployments), default=0.0)
    oos = out_of_service(samples, start, samples[-1].t)
    touched: dict[str, int] = {}
    for d in deployments:
        for iid in d.instances:
            touched[iid] = touched.get(iid, 0) + 1
    may_fail = {"fail-instance", "kill-hook", "overlap"}
    if session.config.type != "MOST_CONCURRENCY":
        may_fail.add("fail-last")  # only OneAtATime forgives the last instance's failure
    expected_failures = {
        d.deployment_id
        for d in session.deployments
        if d.status == "Failed" and d.kind == "deploy" and options.scenario in may_fail
    }
    hooks_calls = {k: v for k, v in world.counters.calls.items() if k.startswith("rehearsal-i-")}
    per_instance = {k.removeprefix("rehearsal-"): v for k, v in hooks_calls.items()}
    by_family: dict[str, int] = {}
    throttled_by_family: dict[str, int] = {}
    for source, target in (
        (world.counters.by_family, by_family),
        (world.counters.throttled_by_family, throttled_by_family),
    ):
        for (caller, fam), count in source.items():
            if caller.startswith("rehearsal-i-"):
                target[fam] = target.get(fam, 0) + count
    stack_tags = sum(1 for t in fleet.group.tags if not t["key"].startswith("aws:"))
    return Verdict(
        stack=fleet.stack,
        scenario=options.scenario,
        floor=floor_at(lowest),
        lowest_in_service=lowest.in_service,
        lowest_at=lowest.t,
        capacity_before=Capacity.of(before),
        capacity_after=Capacity.of(after),
        expected_after=expected,
        instances_before=instances_before,
        instances_after=len(after["Instances"]),
        terminated_by_restore=world.counters.terminated_by_hooks,
        left_in_standby=sorted(i for i, s in states.items() if s == "Standby"),
        replaced_unhealthy=list(world.replaced),
        deployments=session.deployments,
        expected_failures=expected_failures,
        out_of_service=[
            OutOfService(
                iid,
                seconds,
                session.clock.to_real(bound_one * max(1, touched.get(iid, 0))),
            )
            for iid, seconds in oos.items()
            if iid in touched and iid in states  # not instances that left the group
        ],
        calls_per_instance=per_instance,
        throttled=sum(world.counters.throttled.values()),
        calls_by_family=by_family,
        throttled_by_family=throttled_by_family,
        refused=dict(world.counters.refused),
        peak_group_tags=max(world.counters.peak_group_tags, stack_tags),
        stack_group_tags=stack_tags,
        peak_instance_tags=world.counters.peak_instance_tags,
        changes=session.changes,
        seconds=seconds,
        time_scale=options.time_scale,
        hook_runs=len(session.agent.runs),
        killed=session.agent.faults.killed,
        kill_requested=options.kill_hook_after,
        first_deploy=first,
        floor_reached=reached is not None,
        broken_on_purpose={iid for _, iid in session.agent.faults.fail_install},
        never_served=sorted(set(states) - serving),
        settled_after=settled,
        leftover_processes=leftovers,
        samples=samples,
        marks=session.observer.marks,
        traffic=traffic,
        starved=hungry or [],
        time_scale_reason=scale_reason,
    )
