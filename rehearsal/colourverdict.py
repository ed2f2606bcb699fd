"""Did the blue/green release keep its promises? Read from what the listener received (every
ModifyListener, with both groups at that moment) and the order of the release's waits, gate
reads and changes, never from the release's word alone.

Every scenario: the users always had a colour (the weights never both 0); the users' fleet
never had fewer instances serving than the live colour's DesiredCapacity before the release
(the top-level floor); the colour not live at the end has the capacity it should.
`blue-green` and `blue-green-scale-out`: the release exited 0; the new colour's weight took
every planned step in order and ends at 100; whenever its weight passed 50 % the new colour's
DesiredCapacity and serving instances were at least the live colour's DesiredCapacity (an
operator's scale-out meanwhile included); the old colour is retired (Min 0, Desired 0).
`blue-green-rollback`: the 5xx injected at the second step was read by that step's gate check,
and the very next listener change gave the old colour every user, with no wait of the release
in between (a rollback after another hold FAILs); no step above the breached one was ever set;
the release exited 1 with the reason; the new colour is back at zero."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from rehearsal.colours import Listener
from rehearsal.observer import Observer, Sample
from rehearsal.verdict import Capacity, Verdict, aws_time


def _capacity_json(by_colour: dict[str, Capacity]) -> dict[str, dict[str, int]]:
    return {c: cap.to_json() for c, cap in by_colour.items()}


@dataclass
class ColourRecord:
    scenario: str
    live_before: str
    new: str
    revision: str
    hold: float
    keep_old: float
    breach_step: int | None
    capacity_before: dict[str, Capacity]
    listener: Listener
    timeline: list[dict[str, Any]]
    steps_planned: list[int] = field(default_factory=list)
    fault: str | None = None
    fault_at: float | None = None
    exit_code: int | None = None
    error: str | None = None
    release_started: float = 0.0
    release_ended: float = 0.0
    release_report: Any = None
    final: dict[str, int] = field(default_factory=dict)
    # Filled by `judge`.
    live_after: str | None = None
    capacity_after: dict[str, Capacity] = field(default_factory=dict)
    expected_after: dict[str, Capacity] = field(default_factory=dict)
    rollback: dict[str, Any] | None = None
    peak_instances: int = 0
    both_serving_seconds: float = 0.0
    requests: dict[str, Any] = field(default_factory=dict)
    in_service: dict[str, list[tuple[float, int]]] = field(default_factory=dict)
    # Each instance serving in its own colour's target group, users or not (the chart's rows).
    instance_samples: list[Sample] = field(default_factory=list)
    time_scale: float = 1.0
    reasons: list[str] = field(default_factory=list)

    @property
    def old(self) -> str:
        return self.live_before

    @property
    def release_seconds(self) -> float:
        return self.release_ended - self.release_started

    def weights_json(self) -> list[dict[str, Any]]:
        return [
            {
                "atSeconds": round(c.at_real, 2),
                "weights": c.weights,
                "capacity": {
                    colour: {"min": cap[0], "desired": cap[1], "max": cap[2]}
                    for colour, cap in c.capacity.items()
                },
                "inService": c.in_service,
            }
            for c in self.listener.changes
        ]

    def to_json(self) -> dict[str, Any]:
        return {
            "liveBefore": self.live_before,
            "liveAfter": self.live_after,
            "newColour": self.new,
            "revision": self.revision,
            "stepsPlanned": self.steps_planned,
            "holdSeconds": self.hold,
            "keepOldSeconds": self.keep_old,
            "breachInjectedAtStep": self.breach_step,
            "fault": self.fault,
            "initialWeights": self.listener.initial,
            "finalWeights": self.final,
            "weights": self.weights_json(),
            "capacityBefore": _capacity_json(self.capacity_before),
            "capacityAfter": _capacity_json(self.capacity_after),
            "expectedCapacityAfter": _capacity_json(self.expected_after),
            "exitCode": self.exit_code,
            "error": self.error,
            "rollback": self.rollback,
            "timeToRollBackSeconds": self.rollback["seconds"] if self.rollback else None,
            "releaseSeconds": round(self.release_seconds, 2),
            "releaseAwsSeconds": round(self.release_seconds * self.time_scale),
            "peakInstances": self.peak_instances,
            "bothColoursServingSeconds": round(self.both_serving_seconds, 2),
            "requests": self.requests,
            "reasons": self.reasons,
        }

    def render(self) -> list[str]:
        shares = " -> ".join(
            "/".join(f"{c} {w}" for c, w in change.weights.items())
            for change in self.listener.changes
        )
        lines = [
            f"  colours             live {self.live_before} before, {self.live_after or 'split'}"
            f" after; release {self.revision} to {self.new}",
            f"  weights             {shares or 'never changed'}",
        ]
        for colour in self.capacity_before:
            lines.append(
                f"  {colour:<19} Min/Desired/Max {self.capacity_before[colour]} before, "
                f"{self.capacity_after.get(colour, '-')} after (expected "
                f"{self.expected_after.get(colour, '-')})"
            )
        lines.append(
            f"  release             exit {self.exit_code}, {self.release_seconds:.1f} s real = "
            f"{aws_time(self.release_seconds, self.time_scale)} AWS time; peak "
            f"{self.peak_instances} instances, both colours serving for "
            f"{aws_time(self.both_serving_seconds, self.time_scale)} AWS time"
        )
        if self.fault:
            lines.append(f"  fault               {self.fault}")
        if self.rollback:
            lines.append(
                f"  rollback            {self.rollback['seconds']:.2f} s real from the gate "
                f"read to every user on {self.old} "
                f"({'at once' if self.rollback['atOnce'] else 'after a wait'})"
            )
        return lines


def _rollback(record: ColourRecord, reasons: list[str]) -> None:
    """The breach read at the second step; the very next change gives the old colour all."""
    timeline, new = record.timeline, record.new
    if record.fault_at is None:
        reasons.append(
            f"the fault was never injected: {new} never reached step {record.breach_step}"
        )
        return
    fault = next(i for i, e in enumerate(timeline) if e["event"] == "fault")
    read = next((i for i in range(fault, len(timeline)) if timeline[i]["event"] == "metrics"), None)
    if read is None:
        reasons.append("the release never read the 5xx gate after the fault")
        return
    change = next((i for i in range(read, len(timeline)) if timeline[i]["event"] == "change"), None)
    breached = max(c.weights[new] for c in record.listener.changes)
    if change is None:
        reasons.append(
            f"no rollback: no listener change after the breach was read "
            f"({timeline[read]['atReal']:.1f} s); {new} keeps {record.final.get(new)} %"
        )
        return
    entry = timeline[change]["change"]
    waited = sum(e["seconds"] for e in timeline[read:change] if e["event"] == "sleep")
    seconds = entry.at_real - timeline[read]["atReal"]
    record.rollback = {
        "fromPercent": breached,
        "toWeights": entry.weights,
        "atSeconds": round(entry.at_real, 2),
        "seconds": round(seconds, 3),
        "awsSeconds": round(seconds * record.time_scale, 1),
        "atOnce": waited == 0,
        "reason": record.error,
    }
    if entry.weights[new] != 0:
        reasons.append(
            f"the change after the breach gave {new} {entry.weights[new]} %, not 0 (every user "
            f"back on {record.old})"
        )
    if waited:
        reasons.append(
            f"rolled back only after waiting {waited:g} s more (the release slept between the "
            "gate read and the change)"
        )
    if breached > record.steps_planned[(record.breach_step or 1) - 1]:
        reasons.append(f"a step above the breached one was set ({new} {breached} %)")
    if record.final.get(new) != 0:
        reasons.append(f"{new} still has {record.final.get(new)} % of the users at the end")
    if record.exit_code != 1 or not record.error:
        reasons.append(
            f"the release exited {record.exit_code} after the breach, not 1 with the reason"
        )


def _release(record: ColourRecord, reasons: list[str]) -> None:
    new, old = record.new, record.old
    if record.exit_code != 0:
        reasons.append(f"the release exited {record.exit_code}: {record.error}")
    taken = [c.weights[new] for c in record.listener.changes]
    if taken != record.steps_planned:
        reasons.append(f"{new}'s weight took {taken}, planned {record.steps_planned}")
    if record.final.get(new) != 100:
        reasons.append(f"{new} has {record.final.get(new)} % of the users at the end, not 100")
    for change in record.listener.changes:
        if change.weights[new] <= 50:
            continue
        live_desired = change.capacity[old][1]
        if change.capacity[new][1] < live_desired or change.in_service[new] < live_desired:
            reasons.append(
                f"{new} passed 50 % ({change.weights[new]} % at {change.at_real:.1f} s) with "
                f"Desired {change.capacity[new][1]} and {change.in_service[new]} serving, below "
                f"{old}'s Desired {live_desired}"
            )


def _in_service(observer: Observer) -> list[tuple[float, int]]:
    return [(s.t, s.in_service) for s in observer.samples]


def combined_samples(
    observers: dict[str, Observer], listener: Listener, users_only: bool = True
) -> list[Sample]:
    """What the users saw at each moment: the instances serving in the colours the listener
    sends users to (`users_only`; else in either colour), and the capacity the account runs
    (both groups' Min/Desired/Max added)."""
    found = []
    lists = list(observers.values())
    for row in zip(*(o.samples for o in lists), strict=False):
        weights = listener.weights_at_real(row[0].t)
        carrying = [
            s
            for c, s in zip(observers, row, strict=True)
            if weights.get(c, 0) > 0 or not users_only
        ]
        found.append(
            Sample(
                t=row[0].t,
                serving=frozenset().union(*(s.serving for s in carrying)),
                standby=frozenset().union(*(s.standby for s in row)),
                instances=frozenset().union(*(s.instances for s in row)),
                launching=frozenset().union(*(s.launching for s in row)),
                min_size=sum(s.min_size for s in row),
                desired_capacity=sum(s.desired_capacity for s in row),
                max_size=sum(s.max_size for s in row),
            )
        )
    return found


def judge_record(
    record: ColourRecord,
    after: dict[str, dict[str, Any]],
    expected: dict[str, Capacity],
    observers: dict[str, Observer],
    combined: list[Sample],
    users: Any,
    time_scale: float,
) -> None:
    """Fill the record's figures and reasons."""
    record.time_scale = time_scale
    record.capacity_after = {c: Capacity.of(g) for c, g in after.items()}
    record.expected_after = expected
    final = record.final
    record.live_after = next((c for c, w in final.items() if w == 100), None)
    record.in_service = {c: _in_service(o) for c, o in observers.items()}
    record.peak_instances = max((len(s.instances) for s in combined), default=0)
    rows = list(zip(*(o.samples for o in observers.values()), strict=False))
    record.both_serving_seconds = sum(
        b[0].t - a[0].t for a, b in zip(rows, rows[1:], strict=False) if all(s.serving for s in a)
    )
    record.requests = {
        **{c: round(v) for c, v in users.requests.items()},
        "target5xx": {c: round(v) for c, v in users.target_5xx.items()},
        "elb5xx": round(users.elb_5xx),
    }
    reasons: list[str] = []
    if any(sum(c.weights.values()) == 0 for c in record.listener.changes):
        reasons.append("the listener's weights were both 0 at some point (no colour for the users)")
    if record.scenario == "blue-green-rollback":
        _rollback(record, reasons)
    else:
        _release(record, reasons)
    for colour, want in expected.items():
        if colour != record.live_after and record.capacity_after[colour] != want:
            reasons.append(
                f"{colour} ends at Min/Desired/Max {record.capacity_after[colour]}, expected {want}"
            )
    record.reasons = reasons


def judge(
    fleet,
    options,
    record: ColourRecord,
    sessions,
    observers: dict[str, Observer],
    before: dict[str, Capacity],
    after: dict[str, dict[str, Any]],
    expected: dict[str, Capacity],
    instances_before: int,
    settled: float,
    leftovers: int,
    seconds: float,
    hungry,
    scale_reason: str,
    users: Any,
) -> Verdict:
    """The verdict: the top-level fields about the users' fleet (the colours they were sent
    to), `blueGreen` about the release."""
    combined = combined_samples(observers, record.listener)
    record.instance_samples = combined_samples(observers, record.listener, users_only=False)
    judge_record(record, after, expected, observers, combined, users, options.time_scale)
    live = record.live_after or record.live_before
    world = sessions[live].emulated.world
    allow = sessions[record.live_before].fleet_allows_downtime
    floor = 0 if allow else before[record.live_before].desired
    lowest = min(combined, key=lambda s: s.in_service)
    states: dict[str, str] = {}
    replaced: list[str] = []
    deployments = []
    for session in sessions.values():
        states.update(session.emulated.world.presented_lifecycle())
        replaced += session.emulated.world.replaced
        deployments += session.deployments
    deployments.sort(key=lambda d: int(d.deployment_id.split("-")[1]))
    counters = world.counters
    hooks = {k: v for k, v in counters.calls.items() if k.startswith("rehearsal-i-")}
    by_family: dict[str, int] = {}
    throttled_by_family: dict[str, int] = {}
    for source, target in (
        (counters.by_family, by_family),
        (counters.throttled_by_family, throttled_by_family),
    ):
        for (caller, fam), count in source.items():
            if caller.startswith("rehearsal-i-"):
                target[fam] = target.get(fam, 0) + count
    stack_tags = sum(1 for t in fleet.group.tags if not t["key"].startswith("aws:"))
    agent = sessions[live].agent
    live_states = world.presented_lifecycle()
    return Verdict(
        stack=fleet.stack,
        scenario=options.scenario,
        floor=floor,
        lowest_in_service=lowest.in_service,
        lowest_at=lowest.t,
        capacity_before=before[record.live_before],
        capacity_after=Capacity.of(after[live]),
        expected_after=expected[live],
        instances_before=instances_before,
        instances_after=len(after[live]["Instances"]),
        terminated_by_restore=counters.terminated_by_hooks,
        left_in_standby=sorted(i for i, s in states.items() if s == "Standby"),
        replaced_unhealthy=replaced,
        deployments=deployments,
        expected_failures=set(),
        out_of_service=[],
        calls_per_instance={k.removeprefix("rehearsal-"): v for k, v in hooks.items()},
        throttled=sum(counters.throttled.values()),
        calls_by_family=by_family,
        throttled_by_family=throttled_by_family,
        refused=dict(counters.refused),
        peak_group_tags=max(counters.peak_group_tags, stack_tags),
        stack_group_tags=stack_tags,
        peak_instance_tags=counters.peak_instance_tags,
        changes=sessions[record.live_before].changes,
        seconds=seconds,
        time_scale=options.time_scale,
        hook_runs=len(agent.runs),
        killed=agent.faults.killed,
        never_served=sorted(set(live_states) - world.serving()),
        settled_after=settled,
        leftover_processes=leftovers,
        samples=combined,
        marks=next(iter(observers.values())).marks,
        blue_green=record,
        starved=hungry or [],
        time_scale_reason=scale_reason,
    )
