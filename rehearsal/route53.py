"""Route 53 as AWS runs it, in front of moto (which answers every change INSYNC at once, under
one change id for all, and every health check as healthy):

- ChangeResourceRecordSets answers PENDING, under a change id of its own; GetChange says
  PENDING until `PROPAGATION` emulated seconds have passed, then INSYNC;
- GetHealthCheckStatus of the AWS side's check (the load balancer's DNS name) is answered from
  the emulated world: a checker succeeds when its request reaches a healthy target whose
  application answers; with no healthy target the load balancer answers 503 to every checker.
  Azure's side is outside the emulated account: moto's answer (healthy) stands;
- every change batch is kept: when, its actions, and the weights Route 53 holds after it, for
  the verdict and the chart.

The users follow a change once it is INSYNC (`users.py`); resolvers' caches (the TTL) are not
modelled: the shift waits the TTL out after every change anyway."""

from __future__ import annotations

import threading
import uuid
import xml.etree.ElementTree as ET
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from xml.sax.saxutils import escape

from rehearsal.clock import Clock
from rehearsal.wire import Reply

API = "/2013-04-01/"
NS = "https://route53.amazonaws.com/doc/2013-04-01/"
# AWS: "changes generally propagate to all Route 53 name servers within 60 seconds".
PROPAGATION = 30.0
# Route 53's health checkers report from these regions (its default set).
CHECKER_REGIONS = (
    "us-east-1",
    "us-west-1",
    "us-west-2",
    "eu-west-1",
    "ap-southeast-1",
    "ap-southeast-2",
    "ap-northeast-1",
    "sa-east-1",
)

Forward = Callable[[str, str, dict[str, str], bytes], Reply]


@dataclass
class WeightChange:
    """One ChangeResourceRecordSets as Route 53 accepted it."""

    change_id: str
    submitted: float  # emulated seconds
    at_real: float  # real seconds since the rehearsal started
    actions: list[tuple[str, str]]  # (Action, SetIdentifier)
    weights: dict[str, int]  # set identifier -> weight Route 53 holds after the change
    comment: str

    @property
    def insync_at(self) -> float:
        return self.submitted + PROPAGATION


def _q(tag: str) -> str:
    return f"{{{NS}}}{tag}"


def _iso(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%S.000Z")


class Route53Rules:
    """Relays Route 53 calls from the proxy to moto, as AWS would answer them."""

    def __init__(
        self,
        clock: Clock,
        epoch: datetime,
        read_weights: Callable[[], dict[str, int]],
        aws_check_id: str,
        aws_checkers: Callable[[int], list[bool]],
    ) -> None:
        self.clock, self.epoch = clock, epoch
        self.read_weights = read_weights  # straight from moto
        self.aws_check_id = aws_check_id
        self.aws_checkers = aws_checkers  # n checkers -> did each get an answer
        self.initial = read_weights()
        self.changes: list[WeightChange] = []
        self.calls = 0
        self._lock = threading.Lock()

    def handles(self, method: str, path: str, headers: dict[str, str], body: bytes) -> bool:
        return path.startswith(API)

    def relay(
        self, method: str, path: str, headers: dict[str, str], body: bytes, forward: Forward
    ) -> Reply:
        with self._lock:
            self.calls += 1
        route = path.split("?")[0].rstrip("/")
        if method == "POST" and route.endswith("/rrset"):
            return self._change(method, path, headers, body, forward)
        if method == "GET" and "/change/" in route:
            change = self._find(route.rsplit("/", 1)[1])
            if change is not None:
                return self._get_change(change)
        if method == "GET" and route.endswith("/status") and "/healthcheck/" in route:
            check_id = route.split("/healthcheck/")[1].removesuffix("/status")
            if check_id == self.aws_check_id:
                return self._status()
        return forward(method, path, headers, body)

    def weights_at(self, emulated: float) -> dict[str, int]:
        """The weights the users follow at `emulated`: the last change INSYNC by then."""
        weights = self.initial
        for change in self.changes:
            if change.insync_at <= emulated:
                weights = change.weights
        return weights

    def _find(self, change_id: str) -> WeightChange | None:
        return next((c for c in self.changes if c.change_id == change_id), None)

    def _change(
        self, method: str, path: str, headers: dict[str, str], body: bytes, forward: Forward
    ) -> Reply:
        reply = forward(method, path, headers, body)
        if reply.status != 200:
            return reply
        root = ET.fromstring(body)
        actions = [
            (
                change.findtext(_q("Action"), ""),
                change.findtext(f"{_q('ResourceRecordSet')}/{_q('SetIdentifier')}", ""),
            )
            for change in root.iter(_q("Change"))
        ]
        change = WeightChange(
            change_id="C" + uuid.uuid4().hex[:13].upper(),
            submitted=self.clock.now(),
            at_real=self.clock.real(),
            actions=actions,
            weights=self.read_weights(),
            comment=root.findtext(f"{_q('ChangeBatch')}/{_q('Comment')}", ""),
        )
        with self._lock:
            self.changes.append(change)
        return Reply(200, self._change_info("ChangeResourceRecordSets", change), reply.headers)

    def _change_info(self, action: str, change: WeightChange) -> bytes:
        status = "INSYNC" if self.clock.now() >= change.insync_at else "PENDING"
        submitted = self.epoch + timedelta(seconds=change.submitted)
        return (
            f'<?xml version="1.0" encoding="UTF-8"?><{action}Response xmlns="{NS}"><ChangeInfo>'
            f"<Id>/change/{change.change_id}</Id><Status>{status}</Status>"
            f"<SubmittedAt>{_iso(submitted)}</SubmittedAt>"
            f"<Comment>{escape(change.comment)}</Comment></ChangeInfo></{action}Response>"
        ).encode()

    def _get_change(self, change: WeightChange) -> Reply:
        return Reply(200, self._change_info("GetChange", change), {"Content-Type": "text/xml"})

    def _status(self) -> Reply:
        now = _iso(self.epoch + timedelta(seconds=self.clock.now()))
        observations = []
        for n, (region, ok) in enumerate(
            zip(CHECKER_REGIONS, self.aws_checkers(len(CHECKER_REGIONS)), strict=True)
        ):
            status = (
                "Success: HTTP Status Code 200, OK"
                if ok
                else "Failure: HTTP Status Code 503, Service Unavailable"
            )
            observations.append(
                f"<HealthCheckObservation><Region>{region}</Region>"
                f"<IPAddress>15.177.{n}.1</IPAddress><StatusReport><Status>{status}</Status>"
                f"<CheckedTime>{now}</CheckedTime></StatusReport></HealthCheckObservation>"
            )
        body = (
            f'<?xml version="1.0" encoding="UTF-8"?><GetHealthCheckStatusResponse xmlns="{NS}">'
            f"<HealthCheckObservations>{''.join(observations)}</HealthCheckObservations>"
            "</GetHealthCheckStatusResponse>"
        )
        return Reply(200, body.encode(), {"Content-Type": "text/xml"})
