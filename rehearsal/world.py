"""The emulated account as AWS would run it: what moto holds, plus what moto lacks.

moto keeps the group, its instances and tags. This module keeps, on the rehearsal's clock, what
moto does not model: load balancer targets (`targets.py`), which instances run the application,
instances held in `Pending:Wait` by CodeDeploy's launch lifecycle hook, the group's replacement
of instances that stay unhealthy past the grace period (health check type ELB), suspended
processes, and the counters the verdict reports. A background thread advances it."""

from __future__ import annotations

import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from hooks.state import GROUP_NAME_TAG
from rehearsal.clock import Clock
from rehearsal.declared import DeclaredFleet
from rehearsal.targets import Balancer

TICK = 0.05  # real seconds between advances of the world
GROUP_POLL = 0.5  # real seconds between looks at moto's group
MAX_STALE_POLLS = 3  # looks overtaken by a group write before one is made under the lock


class GroupWrites:
    """A re-entrant lock that counts its releases: a reader that notes `generation` before a
    read made without the lock, and finds it unchanged under the lock, knows no holder (a
    group write and its update of the world's copy) ended in between."""

    def __init__(self) -> None:
        self._lock = threading.RLock()
        self.generation = 0

    def __enter__(self) -> GroupWrites:
        self._lock.acquire()
        return self

    def __exit__(self, *exc: object) -> None:
        self.generation += 1
        self._lock.release()


@dataclass
class Instance:
    iid: str
    zone: str
    launched: float  # emulated time it came InService (the grace period starts there)
    running_since: float | None = None  # the application runs since (None: not running)
    revision: str | None = None


@dataclass
class Counters:
    calls: Counter = field(default_factory=Counter)  # caller -> calls
    throttled: Counter = field(default_factory=Counter)  # caller -> throttled calls
    # (caller, API family) -> calls / throttled calls; families: see rules.family
    by_family: Counter = field(default_factory=Counter)
    throttled_by_family: Counter = field(default_factory=Counter)
    refused: Counter = field(default_factory=Counter)  # "Action: code" -> count
    peak_group_tags: int = 0
    terminated_by_hooks: list[str] = field(default_factory=list)
    peak_instance_tags: int = 0


class World:
    def __init__(
        self,
        fleet: DeclaredFleet,
        clock: Clock,
        autoscaling: Any,
        balancers: dict[str, Balancer],
        group_balancers: list[str],
        ec2: Any = None,
    ) -> None:
        self.fleet = fleet
        # A client straight to moto, to keep what AWS keeps of a terminated instance.
        self.ec2 = ec2
        self.clock = clock
        self.autoscaling = autoscaling  # a client straight to moto (not counted, not throttled)
        self.balancers = balancers  # by target group ARN (moto's) or classic ELB name
        self.group_balancers = group_balancers  # the group's own (attached) load balancers
        self.lock = threading.RLock()
        # Held across a group write and the world's update of its copy (rules.py), and while
        # the world stores its own look at moto, so that look never stores a group read
        # older than a write (see GroupWrites).
        self.write_lock = GroupWrites()
        self._stale_polls = 0
        self.instances: dict[str, Instance] = {}
        self.lifecycle: dict[str, str] = {}  # as moto reports it
        self.pending_wait: set[str] = set()
        self.gone: dict[str, float] = {}  # instance -> emulated time it left the group
        self.replaced: list[str] = []  # terminated by the group's health check
        self.suspended: set[str] = set()
        self.counters = Counters()
        self.on_launch: Callable[[str], None] | None = None  # CodeDeploy's launch hook
        self.on_change: Callable[[], None] = lambda: None  # the world wrote to moto itself
        # The instance's operating system shuts down: its processes get SIGTERM (run.py).
        self.on_gone: Callable[[str], None] = lambda iid: None
        self.group: dict[str, Any] = {}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="world", daemon=True)
        self._last_poll = 0.0
        self.error: Exception | None = None

    # -- set-up -------------------------------------------------------------------------------
    def adopt(self, installed: str | None) -> None:
        """Take the instances moto launched at creation: InService, registered, and (when a
        revision is installed) healthy since long before the rehearsal started."""
        group = self.refresh()
        now = self.clock.now()
        for item in group["Instances"]:
            iid = item["InstanceId"]
            # A fleet running a revision has been up for long; a fresh one was just launched.
            since = -1e6 if installed else now
            running = since if installed else None
            self.instances[iid] = Instance(iid, item["AvailabilityZone"], since, running, installed)
            for key in self.group_balancers:
                balancer = self.balancers[key]
                balancer.register(iid, -1e6 if installed else now)
        self.advance()

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread.is_alive():  # a rehearsal that failed before starting it
            self._thread.join()

    # -- the application on each instance (told by the CodeDeploy agent) ---------------------
    def app_stopped(self, iid: str) -> None:
        with self.lock:
            instance = self.instances.get(iid)
            if instance is None or instance.running_since is None:
                return
            instance.running_since = None
            for balancer in self.balancers.values():
                balancer.app_stopped(iid, self.clock.now())

    def app_installed(self, iid: str, revision: str) -> None:
        with self.lock:
            instance = self.instances.get(iid)
            if instance is not None:
                instance.revision = revision
                instance.running_since = self.clock.now()

    def complete_launch(self, iid: str) -> None:
        """CodeDeploy completed the launch lifecycle action: the instance goes InService."""
        with self.lock:
            if iid not in self.pending_wait:
                return
            self.pending_wait.discard(iid)
            instance = self.instances.get(iid)
            if instance is not None:
                instance.launched = self.clock.now()
            for key in self.group_balancers:
                self.balancers[key].register(iid, self.clock.now())

    # -- what AWS does on its own -------------------------------------------------------------
    def entered_standby(self, ids: list[str]) -> None:
        """AWS deregisters an instance entering Standby from the group's load balancers."""
        with self.lock:
            now = self.clock.now()
            for iid in ids:
                for key in self.group_balancers:
                    self.balancers[key].deregister(iid, now)

    def exited_standby(self, ids: list[str]) -> None:
        """AWS registers an instance leaving Standby with the group's load balancers."""
        with self.lock:
            now = self.clock.now()
            for iid in ids:
                for key in self.group_balancers:
                    self.balancers[key].register(iid, now)

    def running(self) -> dict[str, float | None]:
        return {iid: i.running_since for iid, i in self.instances.items()}

    def advance(self) -> None:
        with self.lock:
            now, running = self.clock.now(), self.running()
            for balancer in self.balancers.values():
                balancer.advance(now, running)

    def _describe_group(self) -> dict[str, Any]:
        return self.autoscaling.describe_auto_scaling_groups(
            AutoScalingGroupNames=[self.fleet.group.name]
        )["AutoScalingGroups"][0]

    def refresh(self, group: dict[str, Any] | None = None) -> dict[str, Any]:
        """Read the group from moto (or take `group`, just read); notice launched and departed
        instances."""
        if group is None:
            group = self._describe_group()
        with self.lock:
            self.group = group
            now = self.clock.now()
            current = {i["InstanceId"]: i for i in group["Instances"]}
            launched = [iid for iid in current if iid not in self.instances]
            for iid in launched:
                self.instances[iid] = Instance(iid, current[iid]["AvailabilityZone"], now)
                if self.on_launch is not None:
                    # CodeDeploy's lifecycle hook holds it until the last revision is installed.
                    self.pending_wait.add(iid)
                else:
                    self.complete_launch(iid)
            departed = [i for i in self.instances if i not in current and i not in self.gone]
            for iid in departed:
                self.gone[iid] = now
                self.pending_wait.discard(iid)
                for balancer in self.balancers.values():
                    balancer.deregister(iid, now)
            self.lifecycle = {iid: item["LifecycleState"] for iid, item in current.items()}
            self.suspended = {p["ProcessName"] for p in group.get("SuspendedProcesses", [])}
        if launched or departed:
            self.on_change()  # EC2 describes other instances now (the proxy's views forget)
        for iid in departed:
            self.on_gone(iid)
        for iid in launched:
            if self.on_launch is not None and iid in self.pending_wait:
                self.on_launch(iid)
        return group

    def standby_changed(self, ids: list[str], entering: bool) -> dict[str, Any]:
        """What a successful EnterStandby (decrementing) or ExitStandby did to the group, applied
        to the world's copy instead of describing the group again: neither launches nor
        terminates, and at a hundred instances re-reading after each of fifty such calls,
        one at a time, made the emulator, not AWS, the bottleneck. The world's own poll
        re-reads the group every GROUP_POLL seconds all the same."""
        state = "Standby" if entering else "InService"
        with self.lock:
            group = dict(self.group)
            instances = []
            for item in group.get("Instances", []):
                if item["InstanceId"] in ids:
                    item = {**item, "LifecycleState": state}
                instances.append(item)
            group["Instances"] = instances
            group["DesiredCapacity"] += -len(ids) if entering else len(ids)
            self.group = group
            self.lifecycle = {i["InstanceId"]: i["LifecycleState"] for i in instances}
            return group

    def presented_lifecycle(self) -> dict[str, str]:
        """Lifecycle states as AWS would report them (Pending:Wait where CodeDeploy holds)."""
        with self.lock:
            states = dict(self.lifecycle)
            for iid in self.pending_wait:
                if iid in states:
                    states[iid] = "Pending:Wait"
            return states

    def _replace_unhealthy(self) -> None:
        """Health check type ELB: an InService instance unhealthy past the grace period is
        terminated and (unless Launch is suspended) replaced."""
        group = self.fleet.group
        if group.health_check_type != "ELB" or self.suspended & {"HealthCheck", "Terminate"}:
            return
        now = self.clock.now()
        doomed = []
        with self.lock:
            for iid, state in self.presented_lifecycle().items():
                instance = self.instances.get(iid)
                if state != "InService" or instance is None:
                    continue
                if now < instance.launched + group.grace_period:
                    continue
                if any(self.balancers[k].state(iid) == "unhealthy" for k in self.group_balancers):
                    doomed.append(iid)
        for iid in doomed:
            self.replaced.append(iid)
            with self.lock:
                self.gone[iid] = now
                for balancer in self.balancers.values():
                    balancer.deregister(iid, now)
            replace = "Launch" not in self.suspended
            self.autoscaling.terminate_instance_in_auto_scaling_group(
                InstanceId=iid, ShouldDecrementDesiredCapacity=not replace
            )
            if self.ec2 is not None:
                # AWS lists a terminated instance with its tags for about an hour, the group's
                # among them (the hooks find its entry by it); moto drops that one.
                self.ec2.create_tags(
                    Resources=[iid], Tags=[{"Key": GROUP_NAME_TAG, "Value": group.name}]
                )
            self.on_gone(iid)
            self.on_change()
        if doomed:
            self.refresh()

    def _run(self) -> None:
        while not self._stop.wait(TICK):
            try:
                self.advance()
                if time.monotonic() - self._last_poll >= GROUP_POLL:
                    self._last_poll = time.monotonic()
                    self._poll()
            except Exception as error:  # reported by the rehearsal: a stopped world proves nothing
                self.error = error
                return

    def _poll(self) -> None:
        """The world's own look at moto. moto describes a hundred-instance group in about half
        a second: holding the write lock through that read (as this did) made every group
        write of the hooks queue behind it, the emulator's cost counted as the hooks' time
        out of service. The read is made without the lock and stored only if no group write
        ended meanwhile; after MAX_STALE_POLLS reads overtaken by writes in a row, the next
        is made under the lock, so a busy wave still sees launches and departures."""
        if self._stale_polls < MAX_STALE_POLLS:
            seen = self.write_lock.generation
            group = self._describe_group()
            with self.write_lock:
                if self.write_lock.generation != seen:
                    self._stale_polls += 1
                    return
                self.refresh(group)
                self._replace_unhealthy()
        else:
            with self.write_lock:
                self.refresh()
                self._replace_unhealthy()
        self._stale_polls = 0

    # -- what an observer sees ------------------------------------------------------------------
    def serving(self) -> set[str]:
        """Instances every one of the group's load balancers routes to (healthy in all)."""
        with self.lock:
            sets = [self.balancers[k].serving() for k in self.group_balancers]
        if not sets:
            return set()
        return set.intersection(*sets)
