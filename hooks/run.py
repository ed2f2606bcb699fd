"""What one run of a hook knows, and the reads every step shares."""

from __future__ import annotations

import random
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import TYPE_CHECKING

from hooks.clients import Clients
from hooks.errors import EXIT_DEADLINE, HookError
from hooks.group import AutoScalingGroup, GroupSnapshot
from hooks.membership import Balancers, Health, LoadBalancing
from hooks.settings import Settings
from hooks.state import Entry, InstanceTags
from hooks.statefile import MembershipRecord

if TYPE_CHECKING:
    import subprocess

# A backing-off wait pauses at most this many poll intervals between two polls.
MAX_BACKOFF = 4.0


def utc_now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="milliseconds")  # noqa: UP017


@dataclass
class HookRun:
    """What one run of a hook knows; steps fill it in as they go."""

    settings: Settings
    clients: Clients
    instance_id: str
    deadline: float
    region: str = ""
    group: AutoScalingGroup | None = None
    lifecycle: str | None = None
    snapshot: GroupSnapshot | None = None
    entries: dict[str, Entry] = field(default_factory=dict)
    balancers: Balancers = field(default_factory=Balancers)
    health: Health | None = None
    finished: bool = False
    watchdog: subprocess.Popen | None = None
    vpc_id: str | None = None
    # deregister: the region's target groups (DescribeTargetGroups pages), read beside the
    # instance's own DescribeInstances for the scan of find_load_balancers.
    listed_target_groups: list[dict] | None = None
    # Load balancers this run deregistered the instance from (None: not tried yet).
    deregistered: list[str] | None = None
    # register: (target group ARNs / ELB names, what was registered) done beside the group read.
    registered_early: tuple[list[str], list[str]] | None = None
    # time.monotonic() of the call that started the instance's drain (EnterStandby, or the
    # hooks' own deregistration) and of its registration: the waits are sized from them.
    drain_from: float | None = None
    # deregister: this run's EnterStandby succeeded (AWS took the instance out of the group's
    # own load balancers).
    entered_standby: bool = False
    registered_at: float | None = None
    # reconcile: instances left in flight, and why (their deployment may still be running).
    kept: dict[str, str] = field(default_factory=dict)

    @property
    def lb(self) -> LoadBalancing:
        return LoadBalancing(self.clients, self.instance_id)

    @property
    def record(self) -> MembershipRecord:
        return MembershipRecord(self.settings.state_dir, self.instance_id)

    @property
    def tags(self) -> InstanceTags:
        assert self.group is not None
        return InstanceTags(self.clients.ec2, self.group.name)

    @property
    def mine(self) -> Entry | None:
        return self.entries.get(self.instance_id)

    def log(self, message: str) -> None:
        who = self.instance_id or self.settings.asg or "-"
        print(f"{utc_now()} cutover-hooks {self.settings.command} {who}: {message}", flush=True)

    def wait(
        self,
        what: str,
        check: Callable[[], str | None],
        backoff: bool = False,
        interval: float | None = None,
    ) -> None:
        """Poll `check` (None: done; else what is still awaited) until done or the deadline.

        Each pause is jittered (0.8..1.2 x the interval, default the poll interval) so that
        instances starting together do not poll in step. With `backoff` (a wait whose length is
        unknown, like a drain already under way) the pause grows 1.5x per poll up to 4 x the
        interval: fewer calls for a bounded overshoot."""
        interval = interval if interval is not None else self.settings.poll_interval
        pause = interval
        while True:
            pending = check()
            if pending is None:
                return
            left = self.deadline - time.monotonic()
            if interval > left:
                raise HookError(
                    f"timed out after {self.settings.timeout:g}s waiting for {what} ({pending}); "
                    "raise --timeout (and the appspec timeout above it) or check the instance",
                    EXIT_DEADLINE,
                )
            time.sleep(min(pause * random.uniform(0.8, 1.2), left))
            if backoff:
                pause = min(pause * 1.5, interval * MAX_BACKOFF)

    def together(self, *calls: Callable[[], object]) -> list[object]:
        """Run independent calls side by side and return their results in order; the first
        error raised is raised here, once every call has ended. Each AWS round trip is time
        out of service, so a step makes the calls that do not depend on each other at once
        (reads beside reads, or beside a write they do not read). With CUTOVER_PARALLEL=off
        they run one after the other, in the order given."""
        if not self.settings.parallel or len(calls) < 2:
            return [call() for call in calls]
        results: list[object] = [None] * len(calls)
        errors: list[BaseException | None] = [None] * len(calls)

        def run(index: int) -> None:
            try:
                results[index] = calls[index]()
            except BaseException as error:  # noqa: BLE001 - handed to the caller below
                errors[index] = error

        threads = [
            threading.Thread(target=run, args=(i,), daemon=True) for i in range(1, len(calls))
        ]
        for thread in threads:
            thread.start()
        run(0)
        for thread in threads:
            thread.join()
        for error in errors:
            if error is not None:
                raise error
        return results

    def drained_at(self, since: float, aws_seconds: float) -> bool:
        """Has `aws_seconds` (AWS's clock) passed since `since` (time.monotonic())?"""
        return time.monotonic() >= since + aws_seconds / self.settings.time_scale

    def sleep_until(self, since: float, aws_seconds: float, spread: bool = True) -> float:
        """Sleep until `aws_seconds` (AWS's clock, see CUTOVER_TIME_SCALE) after `since`
        (time.monotonic()); with `spread` (a look follows) plus up to 2 % so that instances do
        not poll in step (6 s over a 300 s delay) without holding the instance out of service
        longer than needed; never past one poll interval before the deadline. Returns the
        seconds slept."""
        wanted = aws_seconds / self.settings.time_scale
        if spread:
            wanted *= random.uniform(1.0, 1.02)
        until = min(since + wanted, self.deadline - self.settings.poll_interval)
        pause = max(0.0, until - time.monotonic())
        time.sleep(pause)
        return pause

    def read_group(self) -> GroupSnapshot:
        assert self.group is not None
        self.snapshot = self.group.describe()
        return self.snapshot

    def read_entries(self) -> dict[str, Entry]:
        self.entries = self.tags.entries()
        return self.entries

    def read_state(self) -> GroupSnapshot:
        """The group and the entries of its instances (two calls, side by side; one after the
        other, the group first, with CUTOVER_PARALLEL=off)."""
        self.together(self.read_group, self.read_entries)
        assert self.snapshot is not None
        return self.snapshot
