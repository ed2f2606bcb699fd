"""How serious each thing the plan says is: blocker, action or note.

plan.json carries a workload's warnings and a skipped resource's reason as plain sentences. Every
report format (and stack-config's refusal of a blocked workload) classifies them with the one
table of finding kinds, ``catalog/findings.json`` (documented in migrate/README.md, "Severity"):
the first rule whose pattern is found in the text (case-insensitive) wins; a text no rule knows
is an **action**, so nothing new is ever shown as harmless.

* **blocker**: the cutover of this workload (or resource) cannot go ahead as planned: traffic or
  a machine would be lost, or the instances would not boot.
* **action**: the plan works, but someone has to decide or do something before `pulumi up`.
* **note**: for the record; nothing to do.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from functools import cache, lru_cache
from pathlib import Path
from typing import Any

BLOCKER, ACTION, NOTE = "blocker", "action", "note"
SEVERITIES = (BLOCKER, ACTION, NOTE)  # most serious first

FINDINGS_FILE = Path(__file__).parent / "catalog" / "findings.json"


@dataclass(frozen=True, slots=True)
class Rule:
    """One kind of finding: its name, severity, and the pattern that recognises its sentence."""

    kind: str
    severity: str
    pattern: re.Pattern[str]


@cache
def rules(table: str) -> tuple[Rule, ...]:
    """The rules of ``table`` ("warnings" or "skipped") from ``catalog/findings.json``, in
    order (the first match wins)."""
    rows = json.loads(FINDINGS_FILE.read_text())[table]
    return tuple(
        Rule(row["kind"], row["severity"], re.compile(row["pattern"], re.IGNORECASE))
        for row in rows
    )


def classify(text: str, table: str) -> tuple[str, str]:
    """(kind, severity) of a sentence; an unknown sentence is an action of kind "other"."""
    for rule in rules(table):
        if rule.pattern.search(text):
            return rule.kind, rule.severity
    return "other", ACTION


# Large estates repeat the same sentences thousands of times: classify each once.
@lru_cache(maxsize=65536)
def warning_severity(text: str) -> str:
    return classify(text, "warnings")[1]


@lru_cache(maxsize=65536)
def skipped_severity(reason: str) -> str:
    return classify(reason, "skipped")[1]


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
