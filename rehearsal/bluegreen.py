"""Blue/green releases rehearsed: the real release (`release.run.Release`, what
`python -m release` runs) on a blue-green stack's two groups in the emulated account.

The account holds both colours as the program declares them: blue live (every user, the
stack's capacity, running `r0`), green idle (Min 0, Desired 0, the declared MaxSize: retired
by the last release, whose revision `r0` its deployment group last deployed), an application
load balancer whose listener forwards to both target groups (blue 100, green 0). The release
talks to the proxy like any AWS client; its CodeDeploy deployments are the rehearsal's own, so
the bundled hooks run on the instances of every deployment it causes (the release's own, and the
launch deployments of instances its resizes launch). Its waits (hold, keep-old, polling) run on
the rehearsal's clock. `rehearsal/colourverdict.py` judges what the listener received."""

from __future__ import annotations

import contextlib
import io
import secrets
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TextIO

from awsfacts.codedeploy import MinimumHealthyHosts, minimum_healthy
from rehearsal import codedeploy
from rehearsal.agent import (
    Agent,
    Faults,
    Revision,
    agent_environment,
    end_processes,
    heal_environment,
    leftover_processes,
    shut_down,
)
from rehearsal.changes import Change
from rehearsal.clock import Clock
from rehearsal.codedeploy import Ids
from rehearsal.colours import BothWorlds, ColourUsers, Listener, ReleaseCodeDeploy
from rehearsal.colours import Change as ColourChange
from rehearsal.colourverdict import ColourRecord, judge
from rehearsal.declared import DeclaredFleet
from rehearsal.emulator import Emulated, Emulator
from rehearsal.observer import Observer
from rehearsal.run import (
    DEFAULT_TIME_SCALE,
    INSTALL_SECONDS,
    SHUTDOWN_MIN_REAL,
    SHUTDOWN_STOP_SECONDS,
    MetadataServers,
    Options,
    append_watchdog_logs,
    hook_events,
    starved_hooks,
    validate,
)
from rehearsal.scenarios import capacity_call
from rehearsal.session import FIRST_REVISION, Session
from rehearsal.shift import ProxiedSession, ShiftClock
from rehearsal.starvation import CallTimes, HostLag
from rehearsal.timescale import calibrate, choose
from rehearsal.verdict import Capacity, Verdict, expected_after
from release.deploy import parse_revision
from release.errors import ReleaseError
from release.run import Release, ReleaseOptions
from release.stack import BlueGreenStack
from shift.gates import load_balancer_dimension

LIVE, IDLE = "blue", "green"  # blue takes every user at the start (as `pulumi up` creates it)
RELEASE_CALLER = "release"  # the release's access key id (its calls are counted under it)
REVISION_URI = "s3://cutover-rehearsal/app-r1.zip"
# The release's defaults but its waits: one CloudWatch minute per step (300 s by default) and
# the old colour kept 120 s (3600 s by default), so a scenario takes seconds of wall time.
REHEARSAL_HOLD = 60.0
REHEARSAL_KEEP_OLD = 120.0
BREACH_STEP = 2  # blue-green-rollback: the new colour answers 5xx from its second step on
SCALE_OUT = 2  # blue-green-scale-out: the operator's DesiredCapacity increase on the live colour


@dataclass
class ColourObserver:
    """One observer per colour, sampled together (same moment), marks shared."""

    observers: dict[str, Observer]
    interval: float
    error: Exception | None = None
    _stop: threading.Event = field(default_factory=threading.Event)
    _thread: threading.Thread | None = None

    def __post_init__(self) -> None:
        first = next(iter(self.observers.values()))
        for observer in self.observers.values():
            observer.marks = first.marks

    def mark(self, label: str, kind: str = "info") -> None:
        next(iter(self.observers.values())).mark(label, kind)

    def sample(self) -> None:
        for observer in self.observers.values():
            observer.sample()

    def start(self) -> None:
        self.sample()
        self._thread = threading.Thread(target=self._run, name="observers", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.wait(self.interval):
            try:
                self.sample()
            except Exception as error:  # reported by stop(): a blind observer proves nothing
                self.error = error
                return

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join()
        self.sample()
        if self.error is not None:
            raise self.error


def _listener(emulator: Emulator, emulated: dict[str, Emulated], fleet: DeclaredFleet) -> str:
    """The load balancer and its listener, weighted over both colours (the first takes all)."""
    elbv2 = emulator.client("elbv2")
    first = emulated[LIVE]
    name = f"{fleet.stack}-bg"[:32]
    lb = elbv2.create_load_balancer(Name=name, Subnets=first.subnets, Type="application")
    arn = lb["LoadBalancers"][0]["LoadBalancerArn"]
    groups = [
        {"TargetGroupArn": emulated[c].target_groups[0], "Weight": 100 if c == LIVE else 0}
        for c in (LIVE, IDLE)
    ]
    listener = elbv2.create_listener(
        LoadBalancerArn=arn,
        Protocol="HTTP",
        Port=80,
        DefaultActions=[{"Type": "forward", "ForwardConfig": {"TargetGroups": groups}}],
    )
    return str(listener["Listeners"][0]["ListenerArn"])


def _deployment_configs(
    fleets: dict[str, DeclaredFleet], options: Options
) -> dict[str, tuple[str, MinimumHealthyHosts]]:
    """Each colour's deployment config (name, minimum healthy hosts): its own, or the option."""
    configs = {}
    for colour, own in fleets.items():
        declared = own.deployment_group.config_name
        name = options.deployment_config or declared
        custom = own.deployment_group.minimum_healthy_hosts if name == declared else None
        configs[colour] = (name, codedeploy.resolve(name, custom))
    return configs


def _sessions(
    fleets: dict[str, DeclaredFleet],
    clock: Clock,
    emulated: dict[str, Emulated],
    agent: Agent,
    observers: ColourObserver,
    configs: dict[str, tuple[str, MinimumHealthyHosts]],
    progress: TextIO,
) -> dict[str, Session]:
    """A session per colour (its deployments, launch deployments, actors), one agent and one
    sequence of deployment ids for both."""
    ids = Ids()
    return {
        c: Session(
            fleets[c],
            clock,
            emulated[c],
            agent,
            observers.observers[c],
            configs[c][1],
            configs[c][0],
            progress,
            # Both colours' deployment groups deployed r0 last (green before it retired).
            FIRST_REVISION,
            ids=ids,
        )
        for c in (LIVE, IDLE)
    }


def _traffic(
    emulator: Emulator, emulated: dict[str, Emulated], fleet: DeclaredFleet, clock: Clock
) -> tuple[Listener, ColourUsers, datetime]:
    """The weighted listener (watched) and the users in front of it; the metrics' epoch."""
    elbv2 = emulator.client("elbv2")
    listener_arn = _listener(emulator, emulated, fleet)
    listener = Listener(
        listener_arn,
        elbv2,
        {c: e.world for c, e in emulated.items()},
        {c: e.target_groups[0] for c, e in emulated.items()},
        clock,
        [],
    )
    listener.initial = listener.weights()
    found = elbv2.describe_listeners(ListenerArns=[listener_arn])["Listeners"][0]
    # Whole minutes of emulated wall time start at multiples of 60 emulated seconds.
    epoch = datetime.now(UTC).replace(second=0, microsecond=0)
    users = ColourUsers(
        listener,
        clock,
        epoch,
        emulator.client("cloudwatch"),
        load_balancer_dimension(found["LoadBalancerArn"]),
    )
    return listener, users, epoch


def rehearse(
    fleet: DeclaredFleet,
    options: Options,
    log: TextIO,
    progress: TextIO,
    deregister_timeout: int,
    register_timeout: int,
) -> Verdict:
    """Rehearse a blue-green scenario; hook output to `log`, milestones to `progress`."""
    n = validate(fleet, options)
    fleets = {c: fleet.colours[c] for c in (LIVE, IDLE)}
    configs = _deployment_configs(fleets, options)
    scale_reason = "given"
    if options.time_scale is None:
        at_once = max(1, n - minimum_healthy(configs[IDLE][1], n))
        cycle = fleet.drain_seconds + INSTALL_SECONDS + fleet.healthy_seconds
        choice = choose(at_once, cycle, DEFAULT_TIME_SCALE, calibrate())
        options, scale_reason = replace(options, time_scale=choice.scale), choice.reason
        progress.write(f"time scale {choice.scale:g} ({choice.reason})\n")
    assert options.time_scale is not None
    if n > fleet.group.max_size:
        progress.write(f"note: MaxSize raised from {fleet.group.max_size} to {n} (--raise-max)\n")
        fleets = {c: replace(f, group=replace(f.group, max_size=n)) for c, f in fleets.items()}
    clock = Clock(options.time_scale)
    marker = secrets.token_hex(8)
    started = time.monotonic()
    live_group, idle_group = fleets[LIVE].group, fleets[IDLE].group
    capacities = {
        LIVE: (live_group.min_size, n, live_group.max_size),
        IDLE: (0, 0, idle_group.max_size),
    }
    with Emulator(fleet.region) as emulator, tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        emulated = emulator.build_colours(
            fleets, clock, capacities, {LIVE: FIRST_REVISION, IDLE: None}
        )
        worlds = {c: e.world for c, e in emulated.items()}
        both = BothWorlds(list(worlds.values()))
        imds = MetadataServers(fleet.region, both)
        try:
            revision = Revision.bundle(work / "revision", deregister_timeout, register_timeout)
            revision.scale_deadlines(options.time_scale)
            if callable(options.patch_revision):
                options.patch_revision(revision.root)
            environment = agent_environment(
                emulated[LIVE].url,
                imds,
                work / "state",
                fleet.deployment_group.application,
                clock,
                marker,
                heal_environment(clock, options.heal_after),
            )
            observers = ColourObserver(
                {c: Observer(w, clock, options.sample_interval) for c, w in worlds.items()},
                options.sample_interval,
            )
            agent = Agent(revision, environment, both, clock, log, Faults(), INSTALL_SECONDS)  # type: ignore[arg-type]
            sessions = _sessions(fleets, clock, emulated, agent, observers, configs, progress)
            by_group = {s.fleet.deployment_group.name: s for s in sessions.values()}
            codedeploy_api = ReleaseCodeDeploy(by_group)
            grace = max(clock.to_real(SHUTDOWN_STOP_SECONDS), SHUTDOWN_MIN_REAL)
            for colour, world in worlds.items():
                world.on_launch = sessions[colour].on_launch
                world.on_gone = lambda iid: shut_down(marker, work / "state" / iid, grace)
            listener, users, epoch = _traffic(emulator, emulated, fleet, clock)
            rules = emulated[LIVE].rules
            rules.apis += [codedeploy_api, listener, users]
            before = {c: Capacity.of(w.refresh()) for c, w in worlds.items()}
            instances_before = len(worlds[LIVE].refresh()["Instances"])
            rules.call_times = CallTimes(clock.real)
            rules.call_delay = options.call_delay
            lag = HostLag(clock.real).start()
            for world in worlds.values():
                world.start()
            observers.start()
            record = ColourRecord(
                scenario=options.scenario,
                live_before=LIVE,
                new=IDLE,
                revision=REVISION_URI,
                hold=REHEARSAL_HOLD,
                keep_old=REHEARSAL_KEEP_OLD,
                breach_step=BREACH_STEP if options.scenario == "blue-green-rollback" else None,
                capacity_before=before,
                listener=listener,
                timeline=listener.timeline,
            )
            _play(options, sessions, listener, users, record, clock, epoch, hook_events(revision))
            for session in sessions.values():
                for thread in list(session.background):
                    thread.join()
            for thread in list(codedeploy_api.threads):
                thread.join()
            changes = sessions[LIVE].changes
            expected = _expected(record, before, changes)
            settled = _settle(sessions, listener, expected, options, fleet)
            observers.mark("end")
            observers.stop()
            for world in worlds.values():
                if world.error is not None:
                    raise world.error
            users.flush()
            after = {c: w.refresh() for c, w in worlds.items()}
            record.final = listener.weights()
            leftovers = leftover_processes(marker)
            end_processes(leftovers)
            lag.stop()
            runs = agent.runs
            hungry = starved_hooks(runs, rules.call_times, lag)
        finally:
            end_processes(leftover_processes(marker))
            imds.close()
            append_watchdog_logs(work / "state", log)
    return judge(
        fleet,
        options,
        record,
        sessions,
        observers.observers,
        before,
        after,
        expected,
        instances_before,
        settled,
        len(leftovers),
        time.monotonic() - started,
        hungry,
        scale_reason,
        users,
    )


def _expected(
    record: ColourRecord, before: dict[str, Capacity], changes: list[Change]
) -> dict[str, Capacity]:
    """Each colour's capacity at the end: after a release the new colour carries the live one's
    (the operator's scale-out kept) and the old is retired (Min 0, Desired 0, MaxSize kept);
    after a rollback the live colour is as it was and the new one back at zero."""
    live = expected_after(before[LIVE], changes)
    if record.scenario == "blue-green-rollback":
        return {LIVE: live, IDLE: Capacity(0, 0, before[IDLE].max)}
    return {LIVE: Capacity(0, 0, live.max), IDLE: Capacity(live.min, live.desired, live.max)}


def _fail_at_second_step(
    new: Session, users: ColourUsers, record: ColourRecord, clock: Clock
) -> Callable[[ColourChange], None]:
    """blue-green-rollback: when the new colour's weight is raised a `BREACH_STEP`-th time,
    every instance of it answers 5xx to the users from then on (health checks still pass)."""
    raised: list[int] = []

    def breach(change: ColourChange) -> None:
        if change.weights[IDLE] > (raised[-1] if raised else 0):
            raised.append(change.weights[IDLE])
        if len(raised) != BREACH_STEP or record.fault is not None:
            return
        world = new.emulated.world
        with world.lock:
            victims = sorted(i for i in world.instances if i not in world.gone)
        users.fail(*victims)
        record.fault = (
            f"the application on every {IDLE} instance ({len(victims)}) answers 5xx "
            f"from step {BREACH_STEP} ({change.weights[IDLE]} %) on (health checks pass)"
        )
        record.fault_at = clock.real()
        record.timeline.append({"event": "fault", "atReal": record.fault_at})
        new.observer.mark(f"fault: {IDLE} answers 5xx", "action")

    return breach


def _scale_out_while_preparing(
    live: Session, new: Session, events: dict[str, str]
) -> Callable[[Any, str, str], None]:
    """blue-green-scale-out: when the first instance of the release's deployment to the new
    colour is back, an operator raises the live colour's DesiredCapacity by `SCALE_OUT`."""
    fired = threading.Event()
    group = live.fleet.group.name

    def scale_out(deployment: Any, iid: str, event: str) -> None:
        mine = deployment.group == new.fleet.deployment_group.name
        if not mine or deployment.kind != "deploy" or event != events["register"]:
            return
        if fired.is_set():
            return
        fired.set()
        current = live.group()
        desired = min(current["MaxSize"], current["DesiredCapacity"] + SCALE_OUT)
        capacity_call(
            live,
            "operator",
            f"operator: {LIVE} DesiredCapacity {current['DesiredCapacity']} -> {desired} "
            f"while {IDLE} is being prepared ({iid} back)",
            lambda c: c.update_auto_scaling_group(
                AutoScalingGroupName=group, DesiredCapacity=desired
            ),
        )

    return scale_out


def _play(
    options: Options,
    sessions: dict[str, Session],
    listener: Listener,
    users: ColourUsers,
    record: ColourRecord,
    clock: Clock,
    epoch: datetime,
    events: dict[str, str],
) -> None:
    """Run the real release; the scenario's fault or operator act at their moment."""
    live, new = sessions[LIVE], sessions[IDLE]
    fault = None
    if options.scenario == "blue-green-rollback":
        fault = _fail_at_second_step(new, users, record, clock)
    elif options.scenario == "blue-green-scale-out":
        live.agent.listeners.append(_scale_out_while_preparing(live, new, events))

    def on_change(change: ColourChange) -> None:
        if fault is not None:
            fault(change)
        back = change.weights[IDLE] == 0
        label = f"{'rollback: ' if back else ''}{IDLE} {change.weights[IDLE]}%"
        live.observer.mark(label, "rollback" if back else "info")

    listener.on_change = on_change
    _run_release(options, sessions, listener, record, clock, epoch)


def _run_release(
    options: Options,
    sessions: dict[str, Session],
    listener: Listener,
    record: ColourRecord,
    clock: Clock,
    epoch: datetime,
) -> None:
    """The release command's own class (or the test's broken one) through the proxy."""
    live = sessions[LIVE]
    say = live.say
    stack = BlueGreenStack(
        name=live.fleet.stack,
        application=live.fleet.deployment_group.application,
        groups={c: s.fleet.group.name for c, s in sessions.items()},
        target_groups={c: tuple(s.emulated.target_groups) for c, s in sessions.items()},
        deployment_groups={c: s.fleet.deployment_group.name for c, s in sessions.items()},
        listeners=(listener.listener_arn,),
    )
    release_options = ReleaseOptions(
        revision=parse_revision(REVISION_URI), hold=REHEARSAL_HOLD, keep_old=REHEARSAL_KEEP_OLD
    )
    record.steps_planned = list(release_options.steps)
    say(
        f"release: {REVISION_URI} to {IDLE} (steps {','.join(map(str, release_options.steps))}, "
        f"hold {REHEARSAL_HOLD:g} s and keep-old {REHEARSAL_KEEP_OLD:g} s: the command's "
        "defaults are 300 s and 3600 s)"
        + (f"; {IDLE} answers 5xx from step {BREACH_STEP}" if record.breach_step else "")
    )
    release_class = options.release or Release
    release = release_class(  # type: ignore[operator]
        stack,
        release_options,
        session=ProxiedSession(live.emulated.url, live.fleet.region, RELEASE_CALLER),
        clock=ShiftClock(clock, epoch, record.timeline),
        say=lambda line: say(f"  release: {line}"),
    )
    record.release_started = clock.real()
    stderr = io.StringIO()
    try:
        with contextlib.redirect_stderr(stderr):
            record.exit_code = release.run()
    except ReleaseError as error:
        record.exit_code, record.error = error.exit_code, str(error)
    record.release_ended = clock.real()
    record.release_report = release.report
    for line in stderr.getvalue().splitlines():
        say(f"  release: {line}")


def _settled(sessions: dict[str, Session], expected: dict[str, Capacity]) -> bool:
    for colour, session in sessions.items():
        world = session.emulated.world
        group = session.group()
        states = world.presented_lifecycle()
        if Capacity.of(group) != expected[colour] or len(states) != expected[colour].desired:
            return False
        if not all(s == "InService" for s in states.values()) or not set(states) <= world.serving():
            return False
    return True


def _settle(
    sessions: dict[str, Session],
    listener: Listener,
    expected: dict[str, Capacity],
    options: Options,
    fleet: DeclaredFleet,
) -> float:
    """Wait, at most the hooks' self-healing delay plus one drain and health check, for both
    colours to reach what they should end at; the real seconds waited."""
    clock = next(iter(sessions.values())).clock
    limit = options.heal_after + fleet.drain_seconds + fleet.healthy_seconds + 60
    started = clock.now()
    while clock.now() - started < limit and not _settled(sessions, expected):
        time.sleep(0.1)
    for session in sessions.values():
        for thread in list(session.background):
            thread.join()
    return clock.to_real(clock.now() - started)
