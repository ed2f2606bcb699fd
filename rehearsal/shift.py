"""The traffic shift on the rehearsal's account: the real ramp (`shift/ramp.py`)
moving the users from Azure to the deployed fleet.

`build` creates in moto what the program declares for `cutover:traffic` (the hosted zone, the
load balancer with a listener to the group's target group, the two health checks and the
weighted pair at azure 100 / aws 0) and puts Route 53's rules (`route53.py`) and the users
(`users.py`) in front of it. `play` runs the ramp through the proxy, with its waits (TTL + hold,
INSYNC polling) on the rehearsal's clock; `shift-rollback` breaks the application on one
instance when step `BREACH_STEP` starts. `judge` (in `shiftverdict.py`) says whether the ramp
kept its promises."""

from __future__ import annotations

import contextlib
import io
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import boto3

from rehearsal.clock import Clock
from rehearsal.declared import DeclaredFleet, DeclaredTraffic
from rehearsal.emulator import Emulated, Emulator
from rehearsal.route53 import PROPAGATION, Route53Rules
from rehearsal.users import Users
from shift.errors import ShiftError
from shift.gates import load_balancer_dimension
from shift.progress import Progress
from shift.ramp import Ramp, RampOptions
from shift.target import ShiftTarget

SHIFT_SCENARIOS = ("shift", "shift-rollback")
BREACH_STEP = 2
# One CloudWatch minute after the TTL: enough for the gates to read a whole minute of the step
# (the command's default is 300 s; the rehearsal keeps each scenario under a minute of wall time).
REHEARSAL_HOLD = 60.0
SHIFT_CALLER = "shift"  # the ramp's access key id (its calls are counted under it)


class ShiftClock:
    """The ramp's clock (`shift.wallclock.Clock`) on the rehearsal's: wall time is the
    epoch plus the emulated seconds; every sleep is recorded in the timeline."""

    def __init__(self, clock: Clock, epoch: datetime, timeline: list[dict[str, Any]]) -> None:
        self.clock, self.epoch, self.timeline = clock, epoch, timeline

    def now(self) -> datetime:
        return self.epoch + timedelta(seconds=self.clock.now())

    def sleep(self, seconds: float) -> None:
        self.timeline.append({"event": "sleep", "seconds": seconds})
        self.clock.sleep(seconds)


class ProxiedSession(boto3.Session):
    """A boto3 session whose clients go to the rehearsal's proxy: the standard `endpoint_url`
    argument, what AWS_ENDPOINT_URL does for the hooks' processes."""

    def __init__(self, url: str, region: str, caller: str = SHIFT_CALLER) -> None:
        super().__init__(
            aws_access_key_id=caller, aws_secret_access_key="rehearsal", region_name=region
        )
        self.url = url

    def client(self, *args: Any, **kwargs: Any) -> Any:
        kwargs.setdefault("endpoint_url", self.url)
        return super().client(*args, **kwargs)


@dataclass
class TrafficEstate:
    """What `build` created, and the rules and users in front of it."""

    declared: DeclaredTraffic
    target: ShiftTarget
    load_balancer_dns: str
    route53: Route53Rules
    users: Users
    read_records: Any  # () -> {set identifier: record} straight from moto
    epoch: datetime
    timeline: list[dict[str, Any]] = field(default_factory=list)
    exit_code: int | None = None
    error: str | None = None
    fault: str | None = None
    options: RampOptions | None = None


def _record_sets(declared: DeclaredTraffic, lb: dict[str, Any], checks: dict[str, str]) -> list:
    """The declared pair, pointed at moto's load balancer instead of the mocked one."""
    sets = []
    for side, record in sorted(declared.records.items()):
        item: dict[str, Any] = {
            "Name": declared.record_name,
            "Type": record.type,
            "SetIdentifier": side,
            "Weight": record.weight,
        }
        if record.alias is not None:
            item["AliasTarget"] = {
                "HostedZoneId": lb["CanonicalHostedZoneId"],
                "DNSName": lb["DNSName"],
                "EvaluateTargetHealth": True,
            }
        else:
            values = [
                lb["DNSName"] if v == declared.load_balancer_dns else v for v in record.values
            ]
            item["TTL"] = record.ttl
            item["ResourceRecords"] = [{"Value": v} for v in values]
        if side in checks:
            item["HealthCheckId"] = checks[side]
        sets.append(item)
    return sets


def build(
    emulator: Emulator, emulated: Emulated, fleet: DeclaredFleet, clock: Clock
) -> TrafficEstate:
    """Create the declared traffic section in moto; put its rules and users in front of it."""
    declared = fleet.traffic
    assert declared is not None
    elbv2, route53 = emulator.client("elbv2"), emulator.client("route53")
    lb = elbv2.create_load_balancer(
        Name=declared.load_balancer_name[:32], Subnets=emulated.subnets, Type="application"
    )["LoadBalancers"][0]
    target_group = emulated.target_groups[0]
    elbv2.create_listener(
        LoadBalancerArn=lb["LoadBalancerArn"],
        Protocol="HTTP",
        Port=80,
        DefaultActions=[{"Type": "forward", "TargetGroupArn": target_group}],
    )
    zone = route53.create_hosted_zone(
        Name=declared.zone_name, CallerReference=f"rehearsal-{fleet.stack}"
    )["HostedZone"]
    zone_id = zone["Id"].removeprefix("/hostedzone/")
    checks: dict[str, str] = {}
    for side, record in sorted(declared.records.items()):
        check = record.health_check
        if check is None:
            continue
        endpoint = lb["DNSName"] if check.endpoint == declared.load_balancer_dns else check.endpoint
        config: dict[str, Any] = {
            "Type": check.type,
            "Port": check.port,
            "RequestInterval": check.request_interval,
            "FailureThreshold": check.failure_threshold,
        }
        config[
            "IPAddress" if endpoint.replace(".", "").isdigit() else "FullyQualifiedDomainName"
        ] = endpoint
        if check.path and check.type != "TCP":
            config["ResourcePath"] = check.path
        checks[side] = route53.create_health_check(
            CallerReference=f"rehearsal-{fleet.stack}-{side}", HealthCheckConfig=config
        )["HealthCheck"]["Id"]
    route53.change_resource_record_sets(
        HostedZoneId=zone_id,
        ChangeBatch={
            "Changes": [
                {"Action": "CREATE", "ResourceRecordSet": item}
                for item in _record_sets(declared, lb, checks)
            ]
        },
    )

    def read_records() -> dict[str, dict[str, Any]]:
        found = route53.list_resource_record_sets(HostedZoneId=zone_id)["ResourceRecordSets"]
        name = declared.record_name.rstrip(".") + "."
        return {r["SetIdentifier"]: r for r in found if r["Name"] == name and "SetIdentifier" in r}

    def read_weights() -> dict[str, int]:
        return {side: int(r.get("Weight", 0)) for side, r in read_records().items()}

    # Whole minutes of emulated wall time start at multiples of 60 emulated seconds.
    epoch = datetime.now(UTC).replace(second=0, microsecond=0)
    rules_box: list[Route53Rules] = []
    users = Users(
        emulated.world,
        clock,
        epoch,
        emulator.client("cloudwatch"),
        load_balancer_dimension(lb["LoadBalancerArn"]),
        target_group,
        lambda t: rules_box[0].weights_at(t),
        lambda: [c.insync_at for c in rules_box[0].changes],
    )
    rules = Route53Rules(clock, epoch, read_weights, checks.get("aws", ""), users.checkers)
    rules_box.append(rules)
    emulated.rules.apis += [rules, users]
    emulated.rules.forget()  # the load balancer was made in moto, past the proxy's answers
    target = ShiftTarget(
        stack=fleet.stack,
        region=fleet.region,
        zone_id=zone_id,
        zone_name=declared.zone_name,
        record_name=declared.record_name,
        target_group_arn=target_group,
        load_balancer_arn=lb["LoadBalancerArn"],
        health_check_id=checks.get("aws"),
        min_healthy=fleet.group.min_size,
    )
    return TrafficEstate(declared, target, lb["DNSName"], rules, users, read_records, epoch)


def play(session: Any, options: Any) -> None:
    """Run the real ramp on the estate; what it did stays in `session.traffic`."""
    estate: TrafficEstate = session.traffic
    ramp_class = options.ramp or Ramp
    ramp_options = RampOptions(hold=REHEARSAL_HOLD)
    estate.options = ramp_options
    breach = options.scenario == "shift-rollback"
    world = session.emulated.world
    clock = ShiftClock(session.clock, estate.epoch, estate.timeline)
    session.say(
        f"traffic: {estate.declared.source}; record {estate.declared.record_name} "
        f"({estate.declared.records['azure'].type} pair), load balancer {estate.load_balancer_dns}"
    )
    session.say(
        f"traffic: ramp {','.join(map(str, ramp_options.steps))} with hold "
        f"{REHEARSAL_HOLD:g} s (the command's default is 300 s), Route 53 changes in sync after "
        f"{PROPAGATION:g} s"
        + (
            f"; the application on one instance fails when step {BREACH_STEP} starts"
            if breach
            else ""
        )
    )

    def listen(entry: dict[str, Any]) -> None:
        estate.timeline.append({**entry, "atReal": session.clock.real()})
        name = entry["event"]
        if name == "step" and breach and entry.get("step") == BREACH_STEP and not estate.fault:
            victim = sorted(world.serving())[0]
            estate.users.fail(victim)
            estate.fault = (
                f"the application on {victim} answers 5xx from step {BREACH_STEP} on "
                "(its target group health check still passes)"
            )
            session.observer.mark(f"fault: 5xx on {victim[-6:]}", "action")
        elif name == "change":
            rollback = str(entry.get("reason", "")).startswith("rollback")
            label = f"{'rollback to ' if rollback else ''}AWS {entry.get('aws')}%"
            session.observer.mark(label, "rollback" if rollback else "info")
        elif name == "gates" and not all(g["ok"] for g in entry.get("gates", [])):
            session.observer.mark(f"step {entry.get('step')} breached", "failed")

    progress = Progress(clock, None, out=_Lines(session), listener=listen)
    ramp = ramp_class(
        estate.target,
        ramp_options,
        session=ProxiedSession(session.emulated.url, session.fleet.region),
        clock=clock,
        progress=progress,
        resolve=_resolver(estate),
    )
    stderr = io.StringIO()
    try:
        with contextlib.redirect_stderr(stderr):
            estate.exit_code = ramp.run()
    except ShiftError as error:
        estate.exit_code, estate.error = error.exit_code, str(error)
    for line in stderr.getvalue().splitlines():
        session.say(f"  shift: {line}")
    estate.users.flush()


class _Lines(io.TextIOBase):
    """The ramp's screen, as the rehearsal's progress lines."""

    def __init__(self, session: Any) -> None:
        self.session, self.buffer = session, ""

    def write(self, text: str) -> int:
        self.buffer += text
        while "\n" in self.buffer:
            line, self.buffer = self.buffer.split("\n", 1)
            self.session.say(f"  shift: {line}")
        return len(text)


def _resolver(estate: TrafficEstate):
    """Names the emulated world knows (a CNAME pair's two targets); nothing leaves 127.0.0.1."""
    known = {estate.load_balancer_dns.rstrip(".")}
    known |= {v.rstrip(".") for r in estate.declared.records.values() for v in r.values}

    def resolve(host: str) -> list[str]:
        if host.rstrip(".") not in known:
            raise OSError(f"[Errno -2] Name or service not known: {host!r}")
        return ["192.0.2.10"]

    return resolve
