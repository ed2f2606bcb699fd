"""How serious each thing the plan says is: blocker, action or note.

plan.json carries a workload's warnings and a skipped resource's reason as plain sentences. The
reports classify them with the one table below (documented in migrate/README.md, "Severity"):
the first rule whose pattern is found in the text (case-insensitive) wins; a text no rule knows
is an **action**, so nothing new is ever shown as harmless.

* **blocker**: the cutover of this workload (or resource) cannot go ahead as planned: traffic or
  a machine would be lost, or the instances would not boot.
* **action**: the plan works, but someone has to decide or do something before `pulumi up`.
* **note**: for the record; nothing to do.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache, lru_cache
from typing import Any

BLOCKER, ACTION, NOTE = "blocker", "action", "note"
SEVERITIES = (BLOCKER, ACTION, NOTE)  # most serious first

# (severity, pattern) for workload warnings, first match wins.
WARNING_RULES: tuple[tuple[str, str], ...] = (
    (BLOCKER, r"cannot go through an ALB|HA ports\) not mapped"),  # a listener is lost
    (BLOCKER, r"Windows image: set fleet\.ami"),  # the default AMI is Linux
    (BLOCKER, r"must change architecture"),  # x64 build on Arm (or back)
    (BLOCKER, r"has no close EC2 match"),  # GPU workload without an equivalent
    (BLOCKER, r"a plain NLB would bypass the appliances"),  # inspection lost
    (BLOCKER, r"authentication at the edge is dropped"),  # a security regression
    (NOTE, r"the ALB adds X-Forwarded-For"),
    (ACTION, r"passes through the appliances|Global Accelerator"),
    (ACTION, r"outbound rule .* SNAT egress|inbound NAT pool"),
    (ACTION, r"instance mix .*(not in the mixed-instances group|is not known)"),
    (NOTE, r"zonePlacementPolicy Auto|planned as a mixed-instances group"),
    (ACTION, r"needs an ACM certificate"),
    (ACTION, r"cannot be deployed without downtime"),
    (ACTION, r"not in the inventory|dangling"),
    (ACTION, r"not mapped: add an ASG scheduled action|only CPU rules become policies"),
    (ACTION, r"watches another resource|on the opposite threshold|not mapped: unsupported"),
    (ACTION, r"is inconsistent; planned|no default profile"),
    (ACTION, r"inbound NAT rule"),
    (ACTION, r"no health probe|choose the listeners and health check"),
    (ACTION, r"several backend ports|members have different sizes"),
    (ACTION, r"DesiredCapacity 0|review the security design"),
    (NOTE, r"Spot/low-priority|AWS zone names do not map|Basic SKU load balancer"),
    (NOTE, r"adjusted to|planned as HTTP GET|mapped as an Average alarm|matcher 200"),
    (NOTE, r"no autoscale setting: fixed capacity|stopped/deallocated"),
    (NOTE, r"type is big enough for|type has exactly|nearest larger"),
)

# (severity, pattern) for skipped resources, first match wins.
SKIPPED_RULES: tuple[tuple[str, str], ...] = (
    (BLOCKER, r"not in the SKU catalog|no EC2 instance type"),  # a VM or scale set not planned
    (BLOCKER, r"inventory failed"),  # a whole subscription unread
    (NOTE, r"its workload .* was skipped|its scale set was skipped"),  # the blocker says it
    (NOTE, r"its (VM|load balancer|scale set) .* was skipped \(see its reason\)"),
    (NOTE, r"public IP address attached to nothing"),
    (ACTION, r"public IP address of .* update DNS and allowlists"),
    (ACTION, r"Gateway Load Balancer|Global Accelerator"),
    (ACTION, r"already drives scale set|already maps to|add a second target group"),
    (ACTION, r"no load-balancing rule for workload"),
    (NOTE, r"disabled:|is not migrated by Cutover|without any backend member"),
    (NOTE, r"which is not a VM scale set in the inventory"),
)


@cache
def _rules(table: tuple[tuple[str, str], ...]) -> tuple[tuple[str, re.Pattern[str]], ...]:
    return tuple((s, re.compile(p, re.IGNORECASE)) for s, p in table)


def _classify(text: str, table: tuple[tuple[str, str], ...]) -> str:
    for severity, pattern in _rules(table):
        if pattern.search(text):
            return severity
    return ACTION


# Large estates repeat the same sentences thousands of times: classify each once.
@lru_cache(maxsize=65536)
def warning_severity(text: str) -> str:
    return _classify(text, WARNING_RULES)


@lru_cache(maxsize=65536)
def skipped_severity(reason: str) -> str:
    return _classify(reason, SKIPPED_RULES)


@dataclass(frozen=True, slots=True)
class Finding:
    severity: str
    subject: str  # the workload's name, or the skipped resource's id
    text: str
    workload: str = ""  # set for a workload's warnings

    @property
    def rank(self) -> int:
        return SEVERITIES.index(self.severity)


def workload_findings(workload: dict[str, Any]) -> list[Finding]:
    """The workload's warnings, most serious first (stable within a severity)."""
    found = [
        Finding(warning_severity(w), workload["name"], w, workload["name"])
        for w in workload.get("warnings") or []
    ]
    return sorted(found, key=lambda f: f.rank)


def skipped_findings(plan: dict[str, Any]) -> list[Finding]:
    found = [Finding(skipped_severity(s["reason"]), s["id"], s["reason"]) for s in plan["skipped"]]
    return sorted(found, key=lambda f: f.rank)


def all_findings(plan: dict[str, Any]) -> list[Finding]:
    """Every warning and skipped resource, blockers first."""
    found = [f for w in plan["workloads"] for f in workload_findings(w)]
    found += skipped_findings(plan)
    return sorted(found, key=lambda f: f.rank)


def counts(findings: list[Finding]) -> dict[str, int]:
    return {s: sum(1 for f in findings if f.severity == s) for s in SEVERITIES}


def status(findings: list[Finding]) -> str:
    """A workload's status from its findings: blocked, action needed, or ready."""
    severities = {f.severity for f in findings}
    if BLOCKER in severities:
        return "blocked"
    if ACTION in severities:
        return "action needed"
    return "ready"
