"""The release, step by step; every step reads AWS first, so an interrupted release resumes.

1. size the idle colour to the live one's Min/Desired/Max;
2. once its targets are healthy, deploy the revision to it with CodeDeploy (its own deployment
   group, no traffic on it: tagged ``cutover:idle`` = the deployment while it runs, so its hooks
   skip Standby and the drain, see hooks/idle.py);
3. wait until its targets are healthy;
4. take ``cutover:idle`` off every colour, pin the old colour (MinSize = its Desired, so it
   cannot scale in while the users leave it), then move the users in steps: before each step
   the new colour follows any scale-out of the old one, then the weights change, the step is
   held, and the gates are checked;
5. on a breach: one change per forward gives the old colour everything back; exit 1;
6. after the last step the old colour stays at capacity for ``keep_old`` seconds (instant
   rollback), then it is scaled to zero.

State lives in AWS only: the weights, the groups' capacities and the ``cutover:release`` tag on
the colour being released into. Run again, the release finds the step it was at and checks its
gate before going on; it never skips one.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from cutover.exitcodes import BAD_INPUT, CHECK_FAILED, OK
from hooks.idle import IDLE_TAG
from release.capacity import Capacity, Groups, GroupState
from release.deploy import CodeDeploy, Revision
from release.errors import ReleaseError
from release.gates import ReleaseGates, ReleaseGateSettings
from release.stack import BlueGreenStack
from release.traffic import Traffic
from shift.gates import GateResult
from shift.wallclock import Clock

DEFAULT_STEPS = (10, 50, 100)


@dataclass(frozen=True)
class ReleaseOptions:
    revision: Revision | None = None
    steps: tuple[int, ...] = DEFAULT_STEPS
    hold: float = 300.0
    max_5xx_ratio: float = 0.01
    alarm: str | None = None
    keep_old: float = 3600.0
    rollback: bool = False
    deploy_timeout: float = 3600.0
    healthy_timeout: float = 900.0
    poll: float = 15.0


@dataclass(frozen=True)
class Event:
    """One moment of the release: what happened, the new colour's share, every capacity."""

    seconds: float
    what: str
    share: dict[str, int]
    capacity: dict[str, str]


@dataclass
class Report:
    new: str = ""
    old: str = ""
    events: list[Event] = field(default_factory=list)
    rollback_seconds: float | None = None  # from the breach seen to the users back


class Release:
    def __init__(
        self,
        stack: BlueGreenStack,
        options: ReleaseOptions,
        *,
        session: Any,
        clock: Clock,
        codedeploy: CodeDeploy | None = None,
        say: Callable[[str], None] = print,
    ) -> None:
        self.stack, self.options, self.clock, self.say = stack, options, clock, say
        self.groups = Groups(stack, session.client("autoscaling"))
        self.traffic = Traffic(stack, session.client("elbv2"))
        self._elbv2, self._cloudwatch = session.client("elbv2"), session.client("cloudwatch")
        self.codedeploy = codedeploy or CodeDeploy(session.client("codedeploy"), clock)
        self.report = Report()
        self._start = clock.now()

    # -- the record ----------------------------------------------------------------------------
    def _note(self, what: str) -> None:
        states = self.groups.read()
        share = {c: self.traffic.share(c) for c in self.stack.colours}
        seconds = (self.clock.now() - self._start).total_seconds()
        event = Event(seconds, what, share, {c: str(s.capacity) for c, s in states.items()})
        self.report.events.append(event)
        shares = " ".join(f"{c} {share[c]}%" for c in self.stack.colours)
        sizes = " ".join(f"{c} {event.capacity[c]}" for c in self.stack.colours)
        self.say(f"[{seconds:7.0f}s] {what} | traffic {shares} | min/desired/max {sizes}")

    # -- the run -------------------------------------------------------------------------------
    def run(self) -> int:
        if self.options.rollback:
            return self.rollback()
        revision = self.options.revision
        if revision is None:
            raise ReleaseError("--revision s3://BUCKET/KEY is required (or --rollback)", BAD_INPUT)
        states = self.groups.read()
        new, old = self._colours(states, revision)
        self.report.new, self.report.old = new, old
        share = self.traffic.share(new)
        if share == 100 and states[old].capacity.empty:
            self._note(f"{revision.uri} is already live on {new}: nothing to do")
            return OK
        if share == 0:
            failed = self._prepare(new, old, states[new].capacity, revision)
            if failed:
                return failed
        breach = self._shift(new, old, share)
        if breach:
            return breach
        self._retire(old)
        return OK

    def _colours(self, states: dict[str, GroupState], revision: Revision) -> tuple[str, str]:
        """(new, old): the colour already marked with this revision (a resumed release), else
        the idle one (no traffic), marked now."""
        marked = [c for c, s in states.items() if s.release == revision.uri]
        if marked:
            return marked[0], self.stack.other(marked[0])
        idle = [c for c in self.stack.colours if self.traffic.share(c) == 0]
        if not idle:
            shares = {c: self.traffic.share(c) for c in self.stack.colours}
            raise ReleaseError(
                f"another release is in progress (traffic {shares}): run it to its end with its "
                "own --revision, or move the users back with --rollback",
                BAD_INPUT,
            )
        new = idle[0]
        self.groups.mark(new, revision.uri)
        return new, self.stack.other(new)

    def _gates(self, new: str) -> ReleaseGates:
        return ReleaseGates(
            ReleaseGateSettings(
                load_balancer_arn=self.traffic.load_balancer_arn(),
                target_group_arns=self.stack.target_groups[new],
                max_5xx_ratio=self.options.max_5xx_ratio,
                alarm=self.options.alarm,
            ),
            self._elbv2,
            self._cloudwatch,
        )

    def _prepare(self, new: str, old: str, before: Capacity, revision: Revision) -> int:
        """Steps 1-3; on a failure the new colour goes back to ``before`` (no user saw it)."""
        live = self.groups.read()[old].capacity
        self.groups.resize(new, before.at_least(live))
        self._note(f"sized {new} to {old}'s {live}")
        app, group = self.stack.application, self.stack.deployment_groups[new]
        # CodeDeploy deploys to the instances in service when the deployment is created (one
        # launched a moment ago is still in Pending:Wait, its launch deployment installing the
        # group's last revision), and the hooks keep one other healthy instance while each is
        # out: both need the sized colour up and healthy first.
        if not self._wait_healthy(new):
            self.groups.resize(new, before)
            self._note(f"{new}'s targets not healthy in time after sizing: {new} back to {before}")
            return CHECK_FAILED
        if self.codedeploy.succeeded_before(app, group, revision):
            self._note(f"{revision.uri} already deployed to {new}")
        else:
            deployment = self.codedeploy.create(app, group, revision)
            # No user on it: its hooks skip Standby and the drain (hooks/idle.py). A hook that
            # read the group before this tag takes the ordinary path, which is only slower.
            self.groups.mark_idle(new, deployment)
            try:
                status = self.codedeploy.wait(deployment, self.options.deploy_timeout)
            finally:
                self._clear_idle()
            if status != "Succeeded":
                self.groups.resize(new, before)
                self._note(f"deployment {deployment} {status}: {new} back to {before}")
                return CHECK_FAILED
            self._note(f"deployed {revision.uri} to {new} ({deployment})")
        if not self._wait_healthy(new):
            self.groups.resize(new, before)
            self._note(f"{new}'s targets not healthy in time: {new} back to {before}")
            return CHECK_FAILED
        return OK

    def _wait_healthy(self, new: str) -> bool:
        gates, waited = self._gates(new), 0.0
        while True:
            desired = self.groups.read()[new].capacity.desired
            results = gates.healthy(desired)
            if all(r.ok for r in results):
                return True
            if waited >= self.options.healthy_timeout:
                self.say(f"healthy targets: {', '.join(map(str, results))}")
                return False
            self.clock.sleep(self.options.poll)
            waited += self.options.poll

    def _follow(self, new: str, old: str) -> None:
        """The new colour at least as large as the old one (a scale-out during the release)."""
        states = self.groups.read()
        have, live = states[new].capacity, states[old].capacity
        wanted = Capacity(
            have.min_size, max(have.desired, live.desired), max(have.max_size, live.max_size)
        )
        if wanted != have:
            self.groups.resize(new, wanted)
            self._note(f"{new} follows {old}'s scale-out to {wanted}")
            if not self._wait_healthy(new):
                raise ReleaseError(
                    f"{new}'s targets not healthy after following {old} to {wanted}: "
                    "the users stay where they are; run again or --rollback",
                    CHECK_FAILED,
                )

    def _pin(self, old: str) -> None:
        """MinSize = Desired, so the old colour keeps its instances while the users leave it."""
        have = self.groups.read()[old].capacity
        if have.min_size < have.desired:
            self.groups.resize(old, Capacity(have.desired, have.desired, have.max_size))
            self._note(f"{old} pinned at {have.desired} for an instant rollback")

    def _clear_idle(self) -> None:
        cleared = self.groups.clear_idle()
        if cleared:
            self._note(f"{' and '.join(cleared)}: {IDLE_TAG} removed (users may come)")

    def _shift(self, new: str, old: str, share: int) -> int:
        # Before any weight moves, also on a resumed release (one that died mid-deployment).
        self._clear_idle()
        self._pin(old)
        gates = self._gates(new)
        steps = [s for s in self.options.steps if s > share]
        if 0 < share < 100 or (share == 100 and not steps):
            # Resumed: the step it was at is held and checked again before going on.
            steps = [share, *steps]
        for step in steps:
            self._follow(new, old)
            if self.traffic.share(new) != step:
                self.traffic.set_share(new, step)
            began = self.clock.now()
            self._note(f"{new} at {step}%")
            self.clock.sleep(self.options.hold)
            floor = max(1, self.groups.read()[new].capacity.min_size)
            results = gates.check(floor, began, self.clock.now())
            self.say(f"gates at {step}%: {'; '.join(map(str, results))}")
            breached = [r for r in results if not r.ok]
            if breached:
                return self._roll_back_after(new, old, breached)
        return OK

    def _roll_back_after(self, new: str, old: str, breached: list[GateResult]) -> int:
        seen = self.clock.now()
        self.traffic.set_share(new, 0)
        self.report.rollback_seconds = (self.clock.now() - seen).total_seconds()
        self._unpin(new, old)
        self._note(f"rolled back to {old}: {'; '.join(map(str, breached))}")
        # No user is on the new colour any more: it goes back to nothing, as before the release.
        have = self.groups.read()[new].capacity
        self.groups.resize(new, Capacity(0, 0, have.max_size))
        self._note(f"{new} scaled to zero")
        raise ReleaseError(
            f"gate breached on {new} ({'; '.join(map(str, breached))}): every user is back "
            f"on {old}",
            CHECK_FAILED,
        )

    def _unpin(self, new: str, old: str) -> None:
        """The old colour's MinSize back to what the new colour copied from it."""
        states = self.groups.read()
        have, original = states[old].capacity, states[new].capacity.min_size
        if have.min_size != original and original <= have.desired:
            self.groups.resize(old, Capacity(original, have.desired, have.max_size))

    def _retire(self, old: str) -> None:
        self._note(f"keeping {old} at capacity for {self.options.keep_old:g} s")
        self.clock.sleep(self.options.keep_old)
        have = self.groups.read()[old].capacity
        self.groups.resize(old, Capacity(0, 0, have.max_size))
        self._note(f"{old} scaled to zero")

    # -- --rollback ----------------------------------------------------------------------------
    def rollback(self) -> int:
        states = self.groups.read()
        marked = [c for c, s in states.items() if s.release]
        if not marked:
            raise ReleaseError(
                "no release to roll back: neither colour carries the cutover:release tag",
                BAD_INPUT,
            )
        new = marked[0]
        old = self.stack.other(new)
        self.report.new, self.report.old = new, old
        if self.traffic.share(new) == 0:
            self._note(f"every user is already on {old}")
            return OK
        needed = states[old].capacity.at_least(states[new].capacity)
        if states[old].capacity.desired < states[new].capacity.desired:
            # Scaled to zero already: the users can only go back once the old colour is up.
            self.groups.resize(old, needed)
            self._note(f"{old} sized back to {needed} before the users return")
            if not self._wait_healthy(old):
                raise ReleaseError(
                    f"{old}'s targets not healthy: the users stay on {new}", CHECK_FAILED
                )
        self._clear_idle()
        seen = self.clock.now()
        self.traffic.set_share(new, 0)
        self.report.rollback_seconds = (self.clock.now() - seen).total_seconds()
        self._unpin(new, old)
        self._note(f"rolled back: every user on {old}")
        return OK
