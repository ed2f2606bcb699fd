"""Verdicts shaped like the demo's two rehearsals, without the emulator: a OneAtATime
deployment to three instances, and the shift that rolls back at step 2 (for the chart tests)."""

from __future__ import annotations

from types import SimpleNamespace

from rehearsal.codedeploy import Deployment
from rehearsal.observer import Mark, Sample
from rehearsal.verdict import Capacity, OutOfService, Verdict

IDS = ("i-0a1b2c3d4e9164e8", "i-0a1b2c3d4ebed761", "i-0a1b2c3d4e576bbe")


def _samples(end: float, out: dict[str, tuple[float, float, float]]) -> list[Sample]:
    """Every 0.1 s; ``out``: instance -> (Standby from, out of service from, back at)."""
    found = []
    for i in range(int(end * 10) + 1):
        t = i / 10
        standby = {d for d, (a, b, _) in out.items() if a <= t < b}
        away = {d for d, (a, _, c) in out.items() if a <= t < c}
        found.append(
            Sample(
                t=t,
                serving=frozenset(set(IDS) - away),
                standby=frozenset(standby),
                instances=frozenset(IDS),
                launching=frozenset(),
                min_size=2,
                desired_capacity=3 - len(standby),
                max_size=6,
            )
        )
    return found


def _verdict(scenario: str, samples, marks, out_of_service, traffic=None) -> Verdict:
    deployment = Deployment("d-1", "cutover-production-fleet", "r1", "deploy", list(IDS), 2)
    deployment.status = "Succeeded"
    return Verdict(
        stack="production",
        scenario=scenario,
        floor=2,
        lowest_in_service=2,
        lowest_at=13.0,
        capacity_before=Capacity(2, 3, 6),
        capacity_after=Capacity(2, 3, 6),
        expected_after=Capacity(2, 3, 6),
        instances_before=3,
        instances_after=3,
        terminated_by_restore=[],
        left_in_standby=[],
        replaced_unhealthy=[],
        deployments=[deployment] if traffic is None else [],
        expected_failures=set(),
        out_of_service=out_of_service,
        calls_per_instance={i: 23 for i in IDS},
        throttled=0,
        refused={},
        peak_group_tags=4,
        stack_group_tags=4,
        peak_instance_tags=2,
        changes=[],
        seconds=42.3,
        time_scale=30,
        hook_runs=6,
        samples=samples,
        marks=marks,
        traffic=traffic,
    )


def deployment() -> Verdict:
    out = {IDS[0]: (13.0, 20.0, 20.9), IDS[1]: (24.0, 31.0, 31.9), IDS[2]: (33.0, 38.0, 38.9)}
    marks = [
        Mark(11.7, "d-1 deploy r1 starts"),
        Mark(38.6, "d-1 succeeded"),
        Mark(38.9, "end"),
    ]
    oos = [OutOfService(i, c - a, 5.3) for i, (a, _, c) in out.items()]
    return _verdict("deploy", _samples(38.9, out), marks, oos)


def shift_rollback() -> Verdict:
    gates = [
        {"name": "healthy targets", "ok": True, "value": "3/3", "limit": "at least 2"},
        {"name": "5xx ratio", "ok": True, "value": "0.0000 (0/312)", "limit": "at most 0.01"},
    ]
    breached = [
        gates[0],
        {"name": "5xx ratio", "ok": False, "value": "0.3333 (566/1698)", "limit": "at most 0.01"},
    ]
    traffic = SimpleNamespace(
        initial={"azure": 100, "aws": 0},
        changes=[
            {"atSeconds": 6.62, "weights": {"azure": 95, "aws": 5}},
            {"atSeconds": 11.94, "weights": {"azure": 75, "aws": 25}},
            {"atSeconds": 17.33, "weights": {"azure": 95, "aws": 5}},
        ],
        steps=[
            {"step": 1, "percent": 5, "gates": gates, "held": True, "atSeconds": 11.8},
            {"step": 2, "percent": 25, "gates": breached, "held": False, "atSeconds": 17.2},
        ],
        render=lambda: [],
        reasons=[],
    )
    marks = [
        Mark(6.62, "AWS 5%"),
        Mark(11.94, "AWS 25%"),
        Mark(12.0, "fault: 5xx on e120ec", "action"),
        Mark(17.2, "step 2 breached", "failed"),
        Mark(17.33, "rollback to AWS 5%", "rollback"),
        Mark(18.5, "end"),
    ]
    return _verdict("shift-rollback", _samples(18.5, {}), marks, [], traffic)
