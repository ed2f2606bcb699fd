"""The two weighted records of the move in Route 53: read them, set both weights in one change,
wait until the change is INSYNC.

The records are found by their set identifiers (``azure`` and ``aws``, as ``infra/traffic.py``
creates them). A change is always one ChangeBatch that UPSERTs both records, copied from what
Route 53 holds with only the weight changed, so the Azure record (its type, value, TTL and
health check) is never deleted and never rewritten by hand, and the weights never pass through
a state where both are 0.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass
from typing import Any

from botocore.exceptions import ClientError

from cutover.exitcodes import BAD_INPUT, ENVIRONMENT
from shift.access import aws_errors, error_code
from shift.errors import ShiftError
from shift.wallclock import Clock
from stack.names import AWS_SET_IDENTIFIER as AWS
from stack.names import AZURE_SET_IDENTIFIER as AZURE

# An alias record has no TTL: resolvers cache it for the target's TTL, 60 s for a load balancer.
ALIAS_TTL = 60


@dataclass(frozen=True)
class Weights:
    """The two weights, as the percentage of users each side gets (they always sum to 100)."""

    azure: int
    aws: int

    @classmethod
    def aws_share(cls, percent: int) -> Weights:
        if not 0 <= percent <= 100:
            raise ValueError(f"a share is 0..100 percent, got {percent}")
        return cls(azure=100 - percent, aws=percent)

    @property
    def percent_aws(self) -> int:
        """AWS's share of the users, rounded down (live weights need not sum to 100)."""
        total = self.azure + self.aws
        return 0 if total == 0 else (100 * self.aws) // total

    def __str__(self) -> str:
        return f"azure {self.azure} / aws {self.aws}"


@dataclass(frozen=True)
class LiveRecords:
    azure: dict[str, Any]
    aws: dict[str, Any]

    @property
    def weights(self) -> Weights:
        return Weights(azure=int(self.azure["Weight"]), aws=int(self.aws["Weight"]))

    @property
    def ttl(self) -> int:
        """How long resolvers keep an answer: the longer of the two records' TTLs."""
        return max(int(r.get("TTL", ALIAS_TTL)) for r in (self.azure, self.aws))

    @property
    def azure_endpoint(self) -> str:
        return _target(self.azure)

    @property
    def aws_endpoint(self) -> str:
        return _target(self.aws)

    @property
    def aws_health_check_id(self) -> str | None:
        return self.aws.get("HealthCheckId")


def _target(record: dict[str, Any]) -> str:
    """Where a record sends its users: its (first) value, or its alias target."""
    values = record.get("ResourceRecords") or []
    if values:
        return str(values[0]["Value"]).rstrip(".")
    return str(record.get("AliasTarget", {}).get("DNSName", "")).rstrip(".")


def _fqdn(name: str) -> str:
    return name.rstrip(".").lower() + "."


class WeightedRecords:
    """The ``azure`` and ``aws`` weighted records of ``record_name`` in zone ``zone_id``."""

    def __init__(self, route53: Any, zone_id: str, record_name: str, clock: Clock) -> None:
        self.route53 = route53
        self.zone_id = zone_id.removeprefix("/hostedzone/")
        self.record_name = record_name.rstrip(".")
        self.clock = clock

    def check_zone(self) -> None:
        with aws_errors("route53:GetHostedZone", f"hosted zone {self.zone_id}"):
            try:
                self.route53.get_hosted_zone(Id=self.zone_id)
            except ClientError as error:
                if error_code(error) in ("NoSuchHostedZone", "InvalidInput"):
                    raise ShiftError(
                        f"hosted zone {self.zone_id}: no such zone in this account; check "
                        "cutover:traffic.zoneId (or --zone-id) and the AWS account",
                        ENVIRONMENT,
                    ) from None
                raise

    def read(self) -> LiveRecords:
        """Both records as Route 53 holds them; a missing one is an environment error."""
        found: dict[str, dict[str, Any]] = {}
        with aws_errors("route53:ListResourceRecordSets", f"hosted zone {self.zone_id}"):
            pages = self.route53.get_paginator("list_resource_record_sets").paginate(
                HostedZoneId=self.zone_id, StartRecordName=_fqdn(self.record_name)
            )
            for page in pages:
                for record in page["ResourceRecordSets"]:
                    if _fqdn(record["Name"]) != _fqdn(self.record_name):
                        break
                    if record.get("SetIdentifier") in (AZURE, AWS) and "Weight" in record:
                        found[record["SetIdentifier"]] = record
                else:
                    continue
                break
        missing = [side for side in (AZURE, AWS) if side not in found]
        if missing:
            raise ShiftError(
                f"record {self.record_name} in hosted zone {self.zone_id}: no weighted record "
                f"with set identifier {' or '.join(repr(m) for m in missing)}; create both with "
                "cutover:traffic and pulumi up (infra/README.md)",
                ENVIRONMENT,
            )
        if found[AZURE]["Type"] != found[AWS]["Type"]:
            raise ShiftError(
                f"record {self.record_name}: the azure ({found[AZURE]['Type']}) and aws "
                f"({found[AWS]['Type']}) records differ in type; Route 53 weighs only records "
                "of one type",
                BAD_INPUT,
            )
        return LiveRecords(azure=found[AZURE], aws=found[AWS])

    def set_weights(self, live: LiveRecords, weights: Weights, comment: str) -> str:
        """UPSERT both records with ``weights`` in one ChangeBatch; return the change id."""
        if weights.azure == 0 and weights.aws == 0:
            # Route 53 would then answer with both at random: never the shift's intent.
            raise ValueError("both weights 0")
        changes = []
        for record, weight in ((live.azure, weights.azure), (live.aws, weights.aws)):
            updated = copy.deepcopy(record)
            updated["Weight"] = weight
            changes.append({"Action": "UPSERT", "ResourceRecordSet": updated})
        with aws_errors("route53:ChangeResourceRecordSets", f"record {self.record_name}"):
            answer = self.route53.change_resource_record_sets(
                HostedZoneId=self.zone_id,
                ChangeBatch={"Comment": comment[:256], "Changes": changes},
            )
        return str(answer["ChangeInfo"]["Id"]).removeprefix("/change/")

    def wait_in_sync(self, change_id: str, timeout: float, poll: float) -> float:
        """Wait until Route 53 reports the change INSYNC on all its servers; return the wait."""
        waited = 0.0
        while True:
            with aws_errors("route53:GetChange", f"change {change_id}"):
                status = self.route53.get_change(Id=change_id)["ChangeInfo"]["Status"]
            if status == "INSYNC":
                return waited
            if waited >= timeout:
                raise ShiftError(
                    f"change {change_id}: still {status} after {timeout:.0f}s; Route 53 is "
                    "slow: check the AWS Health Dashboard, then run the shift again",
                    ENVIRONMENT,
                )
            self.clock.sleep(poll)
            waited += poll


def find_zone_id(route53: Any, zone_name: str) -> str:
    """The id of the public hosted zone named ``zone_name`` (the config names it, not its id)."""
    with aws_errors("route53:ListHostedZonesByName", f"hosted zone {zone_name}"):
        answer = route53.list_hosted_zones_by_name(DNSName=_fqdn(zone_name), MaxItems="10")
    for zone in answer.get("HostedZones", []):
        private = zone.get("Config", {}).get("PrivateZone", False)
        if _fqdn(zone["Name"]) == _fqdn(zone_name) and not private:
            return str(zone["Id"]).removeprefix("/hostedzone/")
    raise ShiftError(
        f"hosted zone {zone_name}: no public zone of that name in this account; check "
        "cutover:traffic.zoneName (or give --zone-id)",
        ENVIRONMENT,
    )
