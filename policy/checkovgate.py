"""Judge checkov's findings on a stack's converted plan against the reviewed skip list.

    python -m policy.checkovgate STACK REPORT.json [--config FILE] [--skips FILE]

REPORT is checkov's ``-o json`` output for the plan that ``python -m preview.cli STACK
--terraform-plan FILE`` wrote. A failed check passes the gate only when ``checkov-skips.yaml``
(beside this file) skips it for that resource with a reason, or when it is what one of the
stack's own opt-outs (the Security Hub controls in its ``cutover:opt-outs`` tag, listed by the
preview) lets checkov report. Exit 0 when every failure is covered, 1 otherwise (each uncovered
failure on its own line), 2 on bad input.
"""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import dataclass
from fnmatch import fnmatchcase
from pathlib import Path
from typing import Any

import yaml

from stack.load import ConfigError, load_stack_file, opted_out_controls, stack_file_path

SKIPS_FILE = Path(__file__).resolve().parent / "checkov-skips.yaml"


@dataclass(frozen=True)
class Skip:
    check: str
    resources: tuple[str, ...]
    why: str

    def covers(self, check: str, resource: str) -> bool:
        return check == self.check and any(fnmatchcase(resource, p) for p in self.resources)


@dataclass(frozen=True)
class Verdict:
    passed: int
    skipped: list[tuple[str, str]]  # (check, resource) covered by a reviewed skip
    opted_out: list[tuple[str, str, str]]  # (check, resource, control)
    uncovered: list[tuple[str, str, str]]  # (check, resource, check name)


def load_skips(path: Path = SKIPS_FILE) -> tuple[list[Skip], dict[str, tuple[str, ...]]]:
    """The reviewed skips and, per Security Hub control, the checks its opt-out lets fail."""
    document = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    skips = []
    for i, entry in enumerate(document.get("skips") or []):
        why = str(entry.get("why") or "").strip()
        if not why or not entry.get("check") or not entry.get("resources"):
            raise ValueError(f"{path}: skips[{i}] needs a check, resources and why")
        skips.append(Skip(str(entry["check"]), tuple(entry["resources"]), why))
    opt_outs = {str(k): tuple(v) for k, v in (document.get("optOuts") or {}).items()}
    return skips, opt_outs


def failed_checks(report: Any) -> tuple[int, list[dict[str, Any]]]:
    """(passed count, failed checks) of a checkov JSON report (one framework or several)."""
    reports = report if isinstance(report, list) else [report]
    passed, failed = 0, []
    for one in reports:
        if one.get("summary", {}).get("parsing_errors"):
            raise ValueError("checkov could not parse the plan (parsing_errors in its summary)")
        passed += int(one.get("summary", {}).get("passed", 0))
        failed += one.get("results", {}).get("failed_checks") or []
    return passed, failed


def judge(
    report: Any, controls: tuple[str, ...], skips: list[Skip], opt_outs: dict[str, tuple[str, ...]]
) -> Verdict:
    passed, failed = failed_checks(report)
    if not passed and not failed:
        raise ValueError("checkov ran no check: an empty or unreadable plan")
    verdict = Verdict(passed, [], [], [])
    for finding in failed:
        check, resource = str(finding["check_id"]), str(finding["resource"])
        control = next((c for c in controls if check in opt_outs.get(c, ())), None)
        if control:
            verdict.opted_out.append((check, resource, control))
        elif any(skip.covers(check, resource) for skip in skips):
            verdict.skipped.append((check, resource))
        else:
            verdict.uncovered.append((check, resource, str(finding.get("check_name", ""))))
    return verdict


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m policy.checkovgate", description=__doc__)
    parser.add_argument("stack")
    parser.add_argument("report", help="checkov's -o json output")
    parser.add_argument("--config", help="stack file (default: Pulumi.STACK.yaml)")
    parser.add_argument("--skips", default=str(SKIPS_FILE), help="the reviewed skip list")
    args = parser.parse_args(argv)
    try:
        cfg = load_stack_file(args.config or stack_file_path(args.stack), stack=args.stack)
        skips, opt_outs = load_skips(Path(args.skips))
        report = json.loads(Path(args.report).read_text(encoding="utf-8"))
        verdict = judge(report, opted_out_controls(cfg), skips, opt_outs)
    except (ConfigError, OSError, ValueError, KeyError) as error:
        print(f"checkovgate: {error}", file=sys.stderr)
        return 2
    for check, resource, control in verdict.opted_out:
        print(f"opt-out {control}: {check} {resource}")
    for check, resource, name in verdict.uncovered:
        print(f"FAILED {check} {resource}: {name}", file=sys.stderr)
    print(
        f"checkov on {args.stack}: {verdict.passed} passed, {len(verdict.uncovered)} failed, "
        f"{len(verdict.skipped)} skipped (reviewed), {len(verdict.opted_out)} opted out"
    )
    return 1 if verdict.uncovered else 0


if __name__ == "__main__":
    sys.exit(main())
