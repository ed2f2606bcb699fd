"""The ramp: per step, set both weights, wait until Route 53 is in sync, wait the TTL and the
hold, check the gates; on a breach roll back at once and stop.

Resumable by construction: the only state is the live weights. A shift started again (after a
kill, a crash or Ctrl-C) reads them, checks the step it finds before going on, and takes the
next step up from there, never one further.
"""

from __future__ import annotations

import socket
import sys
from collections.abc import Callable
from dataclasses import asdict, dataclass

import boto3
from botocore.config import Config

from cutover.exitcodes import BAD_INPUT, CHECK_FAILED, ENVIRONMENT, OK
from shift.dnsrecords import LiveRecords, WeightedRecords, Weights, find_zone_id
from shift.errors import ShiftError
from shift.gates import GateResult, Gates, GateSettings
from shift.options import DEFAULT_STEPS
from shift.progress import Progress
from shift.target import ShiftTarget
from shift.wallclock import Clock

# A TTL above this makes every step and every rollback slow to reach the users.
LONG_TTL = 300

Resolver = Callable[[str], list[str]]


def resolve_host(host: str) -> list[str]:
    """The addresses ``host`` resolves to (the system resolver); raises OSError if none."""
    return sorted({info[4][0] for info in socket.getaddrinfo(host, None)})


def parse_steps(text: str) -> tuple[int, ...]:
    """``5,25,50,100``: AWS's share after each step, rising, each 1..100."""
    try:
        steps = tuple(int(part) for part in text.split(",") if part.strip())
    except ValueError:
        raise ShiftError(
            f"--steps {text!r}: give percentages separated by commas, e.g. 5,25,50,100", BAD_INPUT
        ) from None
    if not steps or any(not 1 <= s <= 100 for s in steps):
        raise ShiftError(f"--steps {text!r}: every step is 1..100 percent", BAD_INPUT)
    if any(b <= a for a, b in zip(steps, steps[1:], strict=False)):
        raise ShiftError(f"--steps {text!r}: the steps must rise, e.g. 5,25,50,100", BAD_INPUT)
    return steps


@dataclass(frozen=True)
class RampOptions:
    steps: tuple[int, ...] = DEFAULT_STEPS
    hold: float = 300.0
    max_5xx_ratio: float = 0.01
    alarm: str | None = None
    dry_run: bool = False
    rollback: bool = False  # move everything back to Azure now, then stop
    breach_to: str = "last-step"  # where a breach rolls back to: last-step | azure
    change_timeout: float = 600.0  # for a change to be INSYNC
    poll: float = 5.0  # between GetChange calls
    tick: float = 30.0  # between "time left" lines while waiting


class Ramp:
    def __init__(
        self,
        target: ShiftTarget,
        options: RampOptions,
        *,
        session: boto3.Session,
        clock: Clock,
        progress: Progress,
        resolve: Resolver = resolve_host,
    ) -> None:
        self.target, self.options = target, options
        self.clock, self.progress, self.resolve = clock, progress, resolve
        config = Config(retries={"mode": "standard", "max_attempts": 5}, connect_timeout=10)
        self.route53 = session.client("route53", config=config)
        self.elbv2 = session.client("elbv2", region_name=target.region, config=config)
        self.cloudwatch = session.client("cloudwatch", region_name=target.region, config=config)

    # -- the command ---------------------------------------------------------------------------
    def run(self) -> int:
        t, o = self.target, self.options
        zone_id = t.zone_id or find_zone_id(self.route53, t.zone_name)
        records = WeightedRecords(self.route53, zone_id, t.record_name, self.clock)
        records.check_zone()
        live = records.read()
        current = live.weights
        self.progress.say(
            f"record {t.record_name} (hosted zone {zone_id}): {current}, "
            f"AWS takes {current.percent_aws}%"
        )
        if o.rollback:
            try:
                self._check_endpoints(live, ("azure",))
            except ShiftError as error:
                # Rolling back to a name that does not resolve may still beat staying: say so.
                self.progress.warn(str(error))
            return self._rollback_now(records, live)
        self._check_endpoints(live, ("azure", "aws"))
        gates = Gates(
            GateSettings(
                target_group_arn=t.target_group_arn,
                load_balancer_arn=t.load_balancer_arn,
                health_check_id=t.health_check_id or live.aws_health_check_id,
                min_healthy=t.min_healthy,
                max_5xx_ratio=o.max_5xx_ratio,
                alarm=o.alarm,
            ),
            self.elbv2,
            self.cloudwatch,
            self.route53,
        )
        # Every gate read once before anything changes: a missing permission or alarm stops
        # the shift here, with nothing changed.
        now = self.clock.now()
        before = gates.check(now, now)
        self.progress.say("gates now: " + " | ".join(str(r) for r in before))
        plan = self._plan(current.percent_aws)
        self._announce(live.ttl, plan, current.percent_aws)
        if not plan and not self._resuming(current.percent_aws):
            self.progress.say(f"nothing to do: AWS already takes {current.percent_aws}%")
            return OK
        if current.percent_aws == 0 and not all(r.ok for r in before):
            print(
                "the AWS side is not healthy before the shift: "
                + "; ".join(str(r) for r in before if not r.ok)
                + "; nothing changed",
                file=sys.stderr,
            )
            return CHECK_FAILED
        if o.dry_run:
            for k, step in enumerate(plan, 1):
                self.progress.say(
                    f"dry run: step {k}/{len(plan)} would set {Weights.aws_share(step)}, "
                    f"then wait {live.ttl + o.hold:.0f}s and check the gates"
                )
            self.progress.say("dry run: nothing changed")
            return OK
        return self._ramp(records, gates, live, plan)

    # -- planning ------------------------------------------------------------------------------
    def _plan(self, percent: int) -> list[int]:
        """The steps still to take: those above the live share, in order (never skipping)."""
        return [s for s in self.options.steps if s > percent]

    def _resuming(self, percent: int) -> bool:
        return 0 < percent < 100 and bool(self._plan(percent))

    def _held_below(self, percent: int) -> int:
        """The step a resumed shift falls back to: the last planned one below ``percent``."""
        return max((s for s in self.options.steps if s < percent), default=0)

    def _announce(self, ttl: int, plan: list[int], percent: int) -> None:
        o = self.options
        per_step = ttl + o.hold
        stages = len(plan) + (1 if self._resuming(percent) else 0)
        self.progress.say(
            f"each step takes the record's TTL ({ttl}s) + hold ({o.hold:.0f}s) = {per_step:.0f}s, "
            f"plus Route 53 propagation (usually under 60s); {stages} stage(s): about "
            f"{stages * per_step / 60:.1f} min"
        )
        if ttl > LONG_TTL:
            self.progress.warn(
                f"the record's TTL is {ttl}s: resolvers keep the old answer that long after each "
                "step and after a rollback; lower it first (README: migration-day runbook)"
            )

    # -- checks before changing anything -------------------------------------------------------
    def _check_endpoints(self, live: LiveRecords, sides: tuple[str, ...]) -> None:
        """Each CNAME target must resolve: a name that does not would lose every user sent
        there (an A record holds an address, an alias is checked by Route 53 itself)."""
        if live.azure["Type"] != "CNAME":
            return
        for side in sides:
            endpoint = live.azure_endpoint if side == "azure" else live.aws_endpoint
            try:
                self.resolve(endpoint)
            except OSError as error:
                raise ShiftError(
                    f"{side} endpoint {endpoint} (record {self.target.record_name}, set {side}) "
                    f"does not resolve ({error}); fix it before moving traffic",
                    ENVIRONMENT,
                ) from None

    # -- changing the weights ------------------------------------------------------------------
    def _set(self, records: WeightedRecords, live: LiveRecords, weights: Weights, why: str) -> str:
        change = records.set_weights(live, weights, f"cutover shift {self.target.stack}: {why}")
        self.progress.event(
            "change",
            f"  set {weights} ({why}); change {change}",
            change=change,
            azure=weights.azure,
            aws=weights.aws,
            reason=why,
        )
        waited = records.wait_in_sync(change, self.options.change_timeout, self.options.poll)
        self.progress.event(
            "insync", f"  change {change} INSYNC after {waited:.0f}s", change=change
        )
        return change

    def _rollback_now(self, records: WeightedRecords, live: LiveRecords) -> int:
        if live.weights.aws == 0:
            self.progress.say("nothing to roll back: Azure takes every user")
            return OK
        if self.options.dry_run:
            self.progress.say(f"dry run: would set {Weights.aws_share(0)}; nothing changed")
            return OK
        self._set(records, live, Weights.aws_share(0), "rollback requested")
        self.progress.event(
            "rolled-back", "rolled back: every user goes to Azure again", azure=100, aws=0
        )
        return OK

    def _ramp(
        self, records: WeightedRecords, gates: Gates, live: LiveRecords, plan: list[int]
    ) -> int:
        percent = live.weights.percent_aws
        held = 0
        stages: list[tuple[int, bool]] = [(s, True) for s in plan]
        if self._resuming(percent):
            # The step that was live when the last shift stopped was never checked: check it
            # first, and if it fails fall back to the step before it.
            stages.insert(0, (percent, False))
            held = self._held_below(percent)
            self.progress.event(
                "resume",
                f"resuming at AWS {percent}% ({live.weights}): checking it before going on",
                percent=percent,
            )
        total = len(stages)
        for k, (step, change) in enumerate(stages, 1):
            weights = Weights.aws_share(step)
            left = (total - k + 1) * (live.ttl + self.options.hold)
            self.progress.event(
                "step",
                f"step {k}/{total}: AWS {step}% ({weights}); about {left / 60:.1f} min left",
                step=k,
                percent=step,
            )
            try:
                if change:
                    self._set(records, live, weights, f"step {k}/{total}: AWS {step}%")
                since = self.clock.now()
                self._wait(live.ttl, self.options.hold)
                results = gates.check(since, self.clock.now())
            except KeyboardInterrupt:
                self.progress.event(
                    "interrupted",
                    f"interrupted at step {k}: the weights stay as they are; run the shift again "
                    "to resume, or with --rollback to send everyone back to Azure",
                    step=k,
                )
                raise
            self._report(k, results)
            breached = [r for r in results if not r.ok]
            if breached:
                return self._breach(records, live, k, step, held, breached)
            held = step
            self.progress.event(
                "held", f"step {k}/{total} held: AWS takes {step}%", step=k, percent=step
            )
        self.progress.event("done", f"shift complete: AWS takes {held}%", percent=held)
        return OK

    def _wait(self, ttl: int, hold: float) -> None:
        """Wait out the TTL (resolvers still answering the old weights) and the hold."""
        total = ttl + hold
        remaining = total
        while remaining > 0:
            nap = min(self.options.tick, remaining)
            self.clock.sleep(nap)
            remaining -= nap
            if remaining > 0:
                self.progress.say(
                    f"  waiting: {remaining:.0f}s left (TTL {ttl}s + hold {hold:.0f}s)"
                )

    def _report(self, k: int, results: list[GateResult]) -> None:
        self.progress.event(
            "gates",
            "  gates: " + " | ".join(str(r) for r in results),
            step=k,
            gates=[asdict(r) for r in results],
        )

    def _breach(
        self,
        records: WeightedRecords,
        live: LiveRecords,
        k: int,
        step: int,
        held: int,
        breached: list[GateResult],
    ) -> int:
        back_to = 0 if self.options.breach_to == "azure" else held
        weights = Weights.aws_share(back_to)
        reason = "; ".join(f"{r.name} {r.value} ({r.limit})" for r in breached)
        try:
            self._set(records, live, weights, f"rollback: step {k} breached")
        except ShiftError as error:
            raise ShiftError(
                f"gate breached at step {k} (AWS {step}%): {reason}; the ROLLBACK FAILED: "
                f"{error}; run `python -m shift {self.target.stack} --rollback` now",
                error.exit_code,
            ) from None
        self.progress.event(
            "rolled-back",
            f"gate breached at step {k} (AWS {step}%): {reason}; rolled back to {weights}",
            verdict=True,
            step=k,
            percent=back_to,
            reason=reason,
        )
        return CHECK_FAILED
