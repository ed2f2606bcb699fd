"""Did the traffic shift keep its promises? Read from what Route 53 received (the proxy kept
every change batch) and from the ramp's own events, never from the ramp's word alone.

Both scenarios: the weights were never both 0; the Azure record still exists at the end and no
change deleted a record; the ramp ended without an error.
`shift`: it exited 0, every planned step held, and AWS takes 100 % at the end.
`shift-rollback`: the breach injected at step `BREACH_STEP` was caught by that step's gate
check; the next change Route 53 received set the last step that held, with no wait in between
(no sleep of the ramp between the gate check and the change); no step above the breached one
was ever set; the weights are still the last held step's at the end; the ramp exited 1 with the
reason."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from rehearsal.shift import BREACH_STEP, TrafficEstate


def _weights(azure: int, aws: int) -> dict[str, int]:
    return {"azure": azure, "aws": aws}


@dataclass
class ShiftReport:
    scenario: str
    source: str
    record: str
    record_type: str
    ttl: int | None
    load_balancer: str
    steps_planned: list[int]
    hold: float
    breach_step: int | None
    fault: str | None
    steps: list[dict[str, Any]]
    changes: list[dict[str, Any]]
    initial: dict[str, int]
    final: dict[str, int]
    exit_code: int | None
    error: str | None
    rollback: dict[str, Any] | None
    azure_record_kept: bool
    deleted: list[str]
    both_zero: bool
    requests: dict[str, int]
    reasons: list[str] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        return {
            "source": self.source,
            "record": self.record,
            "recordType": self.record_type,
            "ttl": self.ttl,
            "loadBalancer": self.load_balancer,
            "stepsPlanned": self.steps_planned,
            "holdSeconds": self.hold,
            "breachInjectedAtStep": self.breach_step,
            "fault": self.fault,
            "steps": self.steps,
            "changes": self.changes,
            "initialWeights": self.initial,
            "finalWeights": self.final,
            "rollback": self.rollback,
            "exitCode": self.exit_code,
            "error": self.error,
            "azureRecordKept": self.azure_record_kept,
            "deletedRecords": self.deleted,
            "bothWeightsZeroEver": self.both_zero,
            "requests": self.requests,
            "reasons": self.reasons,
        }

    def render(self) -> list[str]:
        lines = [f"  traffic             {self.source}"]
        for step in self.steps:
            gates = "; ".join(
                f"{g['name']} {g['value']}{'' if g['ok'] else ' BREACHED'}" for g in step["gates"]
            )
            word = "held" if step["held"] else "BREACHED"
            lines.append(
                f"  step {step['step']} AWS {step['percent']:>3}%  {word}: {gates or 'no gates'}"
            )
        if self.rollback:
            lines.append(
                f"  rollback            to azure {self.rollback['toWeights']['azure']} / aws "
                f"{self.rollback['toWeights']['aws']} after step {self.rollback['fromStep']}: "
                f"{self.rollback['reason']}"
            )
        lines.append(
            f"  weights             azure {self.final.get('azure')} / aws {self.final.get('aws')}"
            f" at the end; shift exit {self.exit_code}"
        )
        return lines


def judge(estate: TrafficEstate, scenario: str) -> ShiftReport:
    options = estate.options
    planned = list(options.steps) if options else []
    events = estate.timeline
    changes = estate.route53.changes
    steps: list[dict[str, Any]] = []
    percents: dict[int, int] = {}
    for entry in events:
        if entry.get("event") == "step":
            percents[entry["step"]] = entry["percent"]
        if entry.get("event") == "gates":
            k = entry["step"]
            percent = percents.get(k, 0)
            steps.append(
                {
                    "step": k,
                    "percent": percent,
                    "weights": _weights(100 - percent, percent),
                    "gates": entry["gates"],
                    "held": all(g["ok"] for g in entry["gates"]),
                    # when the gates were read (real seconds): the chart plots them there
                    "atSeconds": round(entry.get("atReal", 0.0), 2),
                }
            )
    records = estate.read_records()
    final = {side: int(r.get("Weight", 0)) for side, r in records.items()}
    deleted = [
        f"{side} ({action})" for c in changes for action, side in c.actions if action == "DELETE"
    ]
    both_zero = any(
        c.weights.get("azure", 0) == 0 and c.weights.get("aws", 0) == 0 for c in changes
    )
    reasons: list[str] = []
    if estate.error:
        reasons.append(f"the shift stopped with an error: {estate.error}")
    if both_zero:
        reasons.append("both weights were 0 at once (Route 53 then answers with either side)")
    if "azure" not in records:
        reasons.append("the azure record is gone at the end")
    if deleted:
        reasons.append(f"the shift deleted records: {', '.join(deleted)}")
    rollback = None
    if scenario == "shift":
        _judge_ramp(estate, planned, steps, final, reasons)
    else:
        rollback = _judge_rollback(estate, planned, steps, final, reasons)
    initial = estate.route53.initial
    return ShiftReport(
        scenario=scenario,
        source=estate.declared.source,
        record=estate.declared.record_name,
        record_type=estate.declared.records["azure"].type,
        ttl=estate.declared.records["azure"].ttl,
        load_balancer=estate.load_balancer_dns,
        steps_planned=planned,
        hold=options.hold if options else 0.0,
        breach_step=BREACH_STEP if scenario == "shift-rollback" else None,
        fault=estate.fault,
        steps=steps,
        changes=[
            {
                "atSeconds": round(c.at_real, 2),
                "changeId": c.change_id,
                "weights": _weights(c.weights.get("azure", 0), c.weights.get("aws", 0)),
                "actions": [f"{action} {side}" for action, side in c.actions],
                "comment": c.comment,
            }
            for c in changes
        ],
        initial=_weights(initial.get("azure", 0), initial.get("aws", 0)),
        final=_weights(final.get("azure", 0), final.get("aws", 0)),
        exit_code=estate.exit_code,
        error=estate.error,
        rollback=rollback,
        azure_record_kept="azure" in records,
        deleted=deleted,
        both_zero=both_zero,
        requests=estate.users.totals.to_json(),
        reasons=reasons,
    )


def _judge_ramp(estate, planned, steps, final, reasons) -> None:
    if estate.exit_code != 0:
        reasons.append(f"the shift exited {estate.exit_code}, expected 0")
    held = [s["percent"] for s in steps if s["held"]]
    if held != planned:
        failed = [f"step {s['step']} (AWS {s['percent']}%)" for s in steps if not s["held"]]
        reasons.append(
            f"not every step held: held {held or 'none'} of {planned}"
            + (f"; breached: {', '.join(failed)}" if failed else "")
        )
    if final.get("aws") != 100 or final.get("azure") != 0:
        reasons.append(
            f"the ramp did not reach 100 %: azure {final.get('azure')} / aws {final.get('aws')} "
            "at the end"
        )


def _judge_rollback(estate, planned, steps, final, reasons) -> dict[str, Any] | None:
    if estate.exit_code != 1:
        reasons.append(f"the shift exited {estate.exit_code}, expected 1 (a gate breached)")
    breached = next((s for s in steps if not s["held"]), None)
    if breached is None:
        reasons.append(
            f"the breach injected at step {BREACH_STEP} was never detected by a gate check"
        )
        return None
    if breached["step"] != BREACH_STEP:
        reasons.append(
            f"the breach injected at step {BREACH_STEP} was detected at step {breached['step']}"
        )
    last_held = max((s["percent"] for s in steps if s["held"]), default=0)
    expected = _weights(100 - last_held, last_held)
    # The first change Route 53 received after the breached gate check, and whether the ramp
    # slept in between (a rollback "at once" does not wait).
    events = estate.timeline
    index = next(
        i
        for i, e in enumerate(events)
        if e.get("event") == "gates" and e.get("step") == breached["step"]
    )
    after = events[index + 1 :]
    change = next((e for e in after if e.get("event") == "change"), None)
    slept = [
        e for e in (after[: after.index(change)] if change else after) if e.get("event") == "sleep"
    ]
    breached_at = events[index]["atReal"]
    later = [c for c in estate.route53.changes if c.at_real >= breached_at]
    step_percent = breached["percent"]
    above = [c for c in estate.route53.changes if c.weights.get("aws", 0) > step_percent]
    if not later:
        reasons.append(
            f"no rollback: after step {breached['step']} breached, Route 53 received no change "
            f"(azure {final.get('azure')} / aws {final.get('aws')} at the end, expected "
            f"azure {expected['azure']} / aws {expected['aws']}, the last step that held)"
        )
    else:
        first = later[0].weights
        if _weights(first.get("azure", 0), first.get("aws", 0)) != expected:
            reasons.append(
                f"rolled back to azure {first.get('azure')} / aws {first.get('aws')}, expected "
                f"azure {expected['azure']} / aws {expected['aws']} (the last step that held)"
            )
        if slept:
            waited = sum(e["seconds"] for e in slept)
            reasons.append(
                f"the rollback was not at once: the ramp waited {waited:g} s after the breached "
                "gate check before changing the weights"
            )
    if above:
        reasons.append(f"a step above the breached one was set: AWS {above[0].weights.get('aws')}%")
    if final != expected:
        reasons.append(
            f"weights at the end azure {final.get('azure')} / aws {final.get('aws')}, expected "
            f"azure {expected['azure']} / aws {expected['aws']} (the last step that held)"
        )
    rolled = next((e for e in after if e.get("event") == "rolled-back"), None)
    if rolled is None and estate.exit_code == 1:
        reasons.append("the shift exited 1 without saying why (no rolled-back event)")
    return {
        "fromStep": breached["step"],
        "toWeights": expected
        if not later
        else _weights(later[0].weights.get("azure", 0), later[0].weights.get("aws", 0)),
        "expectedWeights": expected,
        "atSeconds": round(later[0].at_real, 2) if later else None,
        "atOnce": bool(later) and not slept,
        "reason": rolled.get("reason") if rolled else None,
    }
