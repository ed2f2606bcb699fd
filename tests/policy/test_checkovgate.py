"""The gate `make scan` puts after checkov: every failed check is a reviewed skip or one of
the stack's own opt-outs, or the scan fails."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from policy import checkovgate
from stack.load import load_stack_file, opted_out_controls, stack_file_path


def _report(*failed: tuple[str, str]) -> dict:
    return {
        "check_type": "terraform_plan",
        "results": {
            "failed_checks": [
                {"check_id": check, "resource": resource, "check_name": "a check"}
                for check, resource in failed
            ]
        },
        "summary": {"passed": 10, "failed": len(failed), "parsing_errors": 0},
    }


def test_every_skip_says_why_and_names_its_resources():
    skips, opt_outs = checkovgate.load_skips()
    assert skips and all(skip.why and skip.resources for skip in skips)
    assert set(opt_outs) >= {"ELB.1", "ELB.5", "ELB.6", "ELB.16", "EC2.9"}


def test_a_reviewed_skip_covers_only_its_resources():
    skips, opt_outs = checkovgate.load_skips()
    covered = _report(("CKV2_AWS_62", "aws_s3_bucket.cutover-production-logs"))
    assert not checkovgate.judge(covered, (), skips, opt_outs).uncovered
    elsewhere = _report(("CKV2_AWS_62", "aws_s3_bucket.someone-elses"))
    assert checkovgate.judge(elsewhere, (), skips, opt_outs).uncovered


def test_an_http_only_listener_fails_unless_the_stack_opts_out_of_elb_1():
    skips, opt_outs = checkovgate.load_skips()
    report = _report(("CKV_AWS_2", "aws_lb_listener.cutover-production-http-80"))
    production = opted_out_controls(load_stack_file(stack_file_path("production")))
    staging = opted_out_controls(load_stack_file(stack_file_path("staging")))
    assert checkovgate.judge(report, production, skips, opt_outs).uncovered
    verdict = checkovgate.judge(report, staging, skips, opt_outs)
    assert not verdict.uncovered and verdict.opted_out[0][2] == "ELB.1"


def test_an_unparsed_plan_is_bad_input(tmp_path: Path):
    report = tmp_path / "r.json"
    report.write_text(json.dumps({"summary": {"passed": 0, "failed": 0, "parsing_errors": 1}}))
    assert checkovgate.main(["staging", str(report)]) == 2


@pytest.mark.parametrize(("failed", "code"), [((), 0), ((("CKV_AWS_999", "aws_lb.x"),), 1)])
def test_the_exit_code_says_whether_anything_is_uncovered(tmp_path: Path, failed, code):
    report = tmp_path / "r.json"
    report.write_text(json.dumps(_report(*failed)))
    assert checkovgate.main(["production", str(report)]) == code
