"""`python -m shift` against a moto server: the ramp, its gates, rollback, resume."""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from moto.server import ThreadedMotoServer

from cutover.main import run
from shift.cli import parser
from shift.command import run_shift
from tests.shift.traffic_estate import (
    AZURE_HOST,
    Estate,
    FakeClock,
    answer,
    build_estate,
    refuse,
    resolver,
)


@pytest.fixture(scope="module")
def moto_url() -> Iterator[str]:
    logging.getLogger("werkzeug").setLevel(logging.WARNING)
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    yield f"http://{host}:{port}"
    server.stop()


@pytest.fixture
def estate(moto_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Estate:
    for name, value in {
        "AWS_ENDPOINT_URL": moto_url,
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_CONFIG_FILE": str(tmp_path / "no-aws-config"),
        "AWS_SHARED_CREDENTIALS_FILE": str(tmp_path / "no-aws-credentials"),
    }.items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("AWS_PROFILE", raising=False)
    return build_estate(tmp_path)


def weight_changes(estate: Estate) -> list[int]:
    """The AWS weight of every ChangeResourceRecordSets the shift sends (botocore's public
    ``before-parameter-build`` event sees the call's parameters)."""
    seen: list[int] = []

    def before_call(model: Any, params: dict[str, Any], **kwargs: Any) -> None:
        if model.name == "ChangeResourceRecordSets":
            for change in params["ChangeBatch"]["Changes"]:
                if change["ResourceRecordSet"]["SetIdentifier"] == "aws":
                    seen.append(change["ResourceRecordSet"]["Weight"])

    estate.session.events.register("before-parameter-build.route53", before_call)
    return seen


def shift(
    estate: Estate,
    *options: str,
    clock: FakeClock | None = None,
    listener: Callable[[dict[str, Any]], None] | None = None,
    resolve: Callable[[str], list[str]] | None = None,
    wrap: bool = True,
) -> int:
    argv = [
        "shop",
        "--config",
        str(estate.stack_file),
        "--hold",
        "0",
        "--target-group-arn",
        estate.target_group_arn,
        "--load-balancer-arn",
        estate.load_balancer_arn,
        "--log",
        str(estate.stack_file.parent / "shift.log"),
        *options,
    ]
    args = parser().parse_args(argv)

    def main() -> int:
        return run_shift(
            args,
            session=estate.session,
            clock=clock or FakeClock(),
            listener=listener,
            resolve=resolve or estate.resolves(),
            outputs=lambda stack: {},
        )

    return run("migrate", main, argv) if wrap else main()


def log_events(estate: Estate) -> list[dict[str, Any]]:
    path = estate.stack_file.parent / "shift.log"
    return [json.loads(line) for line in path.read_text().splitlines()]


# -- the ramp ----------------------------------------------------------------------------------


def test_full_ramp_moves_every_user_to_aws(estate: Estate, capsys) -> None:
    changes = weight_changes(estate)
    clock = FakeClock()
    assert shift(estate, clock=clock) == 0
    assert estate.weights() == (0, 100)
    assert changes == [5, 25, 50, 100]
    # The Azure record is kept (weight 0), with its value and health check.
    azure = estate.records()["azure"]
    assert azure["ResourceRecords"] == [{"Value": AZURE_HOST}]
    assert azure["HealthCheckId"] == estate.health_check_ids["azure"]
    # Each step waited the record's TTL (60 s) before its gates: no real sleeping.
    assert sum(clock.naps) == 4 * 60
    out = capsys.readouterr().out
    assert "step 2/4: AWS 25% (azure 75 / aws 25)" in out
    assert "healthy targets 3/3 (at least 2) ok" in out
    assert "s left (TTL 60s + hold 0s)" in out
    assert "shift complete: AWS takes 100%" in out
    events = log_events(estate)
    assert [(e["azure"], e["aws"]) for e in events if e["event"] == "change"] == [
        (95, 5),
        (75, 25),
        (50, 50),
        (0, 100),
    ]
    assert events[-1]["event"] == "done"


def test_full_ramp_on_an_address_and_an_alias(moto_url: str, estate: Estate, tmp_path: Path):
    alias = build_estate(tmp_path / "alias", azure_ip="20.50.2.10")
    changes = weight_changes(alias)
    assert shift(alias, resolve=resolver({})) == 0  # nothing to resolve: an address, an alias
    assert changes == [5, 25, 50, 100]
    records = alias.records()
    assert records["azure"]["ResourceRecords"] == [{"Value": "20.50.2.10"}]
    assert records["aws"]["AliasTarget"]["DNSName"].rstrip(".") == alias.load_balancer_dns
    assert (records["azure"]["Weight"], records["aws"]["Weight"]) == (0, 100)


@pytest.mark.parametrize(
    ("entry", "name"), [(["shift"], "shift"), (["migrate", "shift"], "migrate shift")]
)
def test_the_command_line_runs_it(estate: Estate, entry: list[str], name: str) -> None:
    """`python -m shift` as typed (and its old name `python -m migrate shift`): the real clock,
    resolver and boto3 session."""
    import subprocess
    import sys

    alias = build_estate(estate.stack_file.parent / f"cli-{name}", azure_ip="20.50.2.10")
    command = [
        sys.executable,
        "-m",
        *entry,
        "shop",
        "--config",
        str(alias.stack_file),
        "--target-group-arn",
        alias.target_group_arn,
        "--load-balancer-arn",
        alias.load_balancer_arn,
        "--dry-run",
    ]
    root = Path(__file__).resolve().parents[2]
    done = subprocess.run(command, cwd=root, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert "dry run: step 1/4 would set azure 95 / aws 5" in done.stdout
    bad = subprocess.run([*command, "--steps", "9,3"], cwd=root, capture_output=True, text=True)
    assert bad.returncode == 2
    assert (
        bad.stderr.strip() == f"{name}: error: --steps '9,3': the steps must rise, e.g. 5,25,50,100"
    )


def test_weights_never_both_zero_and_changes_are_one_batch(estate: Estate) -> None:
    batches: list[list[dict[str, Any]]] = []

    def before_call(model: Any, params: dict[str, Any], **kwargs: Any) -> None:
        if model.name == "ChangeResourceRecordSets":
            batches.append(params["ChangeBatch"]["Changes"])

    estate.session.events.register("before-parameter-build.route53", before_call)
    assert shift(estate, "--steps", "50,100") == 0
    assert len(batches) == 2
    for batch in batches:
        assert {c["Action"] for c in batch} == {"UPSERT"}
        assert {c["ResourceRecordSet"]["SetIdentifier"] for c in batch} == {"azure", "aws"}
        assert sum(c["ResourceRecordSet"]["Weight"] for c in batch) == 100


def breach_after_step_1(estate: Estate, clock: FakeClock) -> Callable[[dict[str, Any]], None]:
    """Once step 1 has held: the ALB answers half its requests 5xx and two targets die."""

    def listener(event: dict[str, Any]) -> None:
        if event["event"] == "held" and event["step"] == 1:
            estate.put_requests(clock.now(), requests=1000, elb_5xx=300, target_5xx=200)
            estate.stop_instances(2)

    return listener


def test_breach_at_step_2_rolls_back_to_the_step_that_held(estate: Estate, capsys) -> None:
    changes = weight_changes(estate)
    clock = FakeClock()
    assert shift(estate, clock=clock, listener=breach_after_step_1(estate, clock)) == 1
    assert changes == [5, 25, 5]
    assert estate.weights() == (95, 5)
    out, err = capsys.readouterr()
    assert "healthy targets 1/3 (at least 2) BREACHED" in out
    assert "5xx ratio 0.5000 (500/1000) (at most 0.01) BREACHED" in out
    # The verdict, one line on stderr: the step, every breached gate, where it rolled back to.
    assert err.strip() == (
        "gate breached at step 2 (AWS 25%): healthy targets 1/3 (at least 2); "
        "5xx ratio 0.5000 (500/1000) (at most 0.01); rolled back to azure 95 / aws 5"
    )
    last = log_events(estate)[-1]
    assert (last["event"], last["percent"]) == ("rolled-back", 5)


def test_breach_rolls_back_to_azure_when_asked(estate: Estate) -> None:
    clock = FakeClock()
    code = shift(
        estate, "--on-breach", "azure", clock=clock, listener=breach_after_step_1(estate, clock)
    )
    assert code == 1
    assert estate.weights() == (100, 0)


def test_5xx_ratio_under_the_threshold_passes(estate: Estate, capsys) -> None:
    clock = FakeClock()

    def listener(event: dict[str, Any]) -> None:
        if event["event"] == "insync":
            estate.put_requests(clock.now(), requests=10000, elb_5xx=3, target_5xx=2)

    assert shift(estate, "--steps", "5", clock=clock, listener=listener) == 0
    assert "5xx ratio 0.0005 (5/10000) (at most 0.01) ok" in capsys.readouterr().out


def test_alarm_in_alarm_breaches(estate: Estate, capsys) -> None:
    cloudwatch = estate.client("cloudwatch")
    name = f"latency-{estate.zone_id}"
    cloudwatch.put_metric_alarm(
        AlarmName=name,
        Namespace="AWS/ApplicationELB",
        MetricName="TargetResponseTime",
        Statistic="Average",
        Period=60,
        EvaluationPeriods=1,
        Threshold=1.0,
        ComparisonOperator="GreaterThanThreshold",
    )

    def listener(event: dict[str, Any]) -> None:
        if event["event"] == "insync":
            cloudwatch.set_alarm_state(AlarmName=name, StateValue="ALARM", StateReason="test")

    assert shift(estate, "--alarm", name, listener=listener) == 1
    assert estate.weights() == (100, 0)
    assert f"alarm {name} ALARM (not ALARM)" in capsys.readouterr().err


def test_unhealthy_route53_health_check_breaches(estate: Estate, capsys) -> None:
    # moto reports every health check healthy; AWS reports what its checkers see.
    failing = {
        "HealthCheckObservations": [
            {"Region": r, "IPAddress": "15.177.2.1", "StatusReport": {"Status": "Failure: 503"}}
            for r in ("us-east-1", "eu-west-1", "ap-southeast-1")
        ]
    }
    held: list[int] = []
    answer(estate.session, "GetHealthCheckStatus", failing, when=lambda: bool(held))

    def listener(event: dict[str, Any]) -> None:
        if event["event"] == "held":
            held.append(event["step"])

    assert shift(estate, listener=listener) == 1
    assert estate.weights() == (95, 5)
    assert "health check 0/3 checkers healthy" in capsys.readouterr().err


def test_change_pending_is_waited_for(estate: Estate) -> None:
    # moto answers INSYNC at once; Route 53 says PENDING for a while first.
    calls: list[str] = []

    def before_call(model: Any, **kwargs: Any) -> Any:
        if model.name == "GetChange" and len(calls) < 2:
            calls.append("PENDING")
            from botocore.awsrequest import AWSResponse

            info = {"Id": "/change/C1", "Status": "PENDING", "SubmittedAt": "2026-01-01T00:00:00Z"}
            body = {"ChangeInfo": info, "ResponseMetadata": {"HTTPStatusCode": 200}}
            return AWSResponse("https://aws.invalid", 200, {}, None), body
        return None

    estate.session.events.register("before-call", before_call)
    clock = FakeClock()
    assert shift(estate, "--steps", "5", clock=clock) == 0
    assert clock.naps[:2] == [5.0, 5.0]


# -- resume, dry run, rollback -----------------------------------------------------------------


class Killed(Exception):
    """The shift's process dying (SIGKILL, a closed laptop) right after a step held."""


def test_killed_after_a_step_resumes_from_the_live_weights(estate: Estate, capsys) -> None:
    def kill_after_step_2(event: dict[str, Any]) -> None:
        if event["event"] == "held" and event["step"] == 2:
            raise Killed

    with pytest.raises(Killed):
        shift(estate, listener=kill_after_step_2, wrap=False)
    assert estate.weights() == (75, 25)
    first_run = log_events(estate)
    assert first_run[-1]["event"] == "held"
    capsys.readouterr()

    changes = weight_changes(estate)
    assert shift(estate) == 0
    # Step 25% is checked again first, then 50 and 100: never a jump.
    assert changes == [50, 100]
    assert estate.weights() == (0, 100)
    out = capsys.readouterr().out
    assert "resuming at AWS 25%" in out
    assert "step 1/3: AWS 25%" in out
    # The log is appended to: the first run's lines are kept, the second run's follow.
    events = log_events(estate)
    assert events[: len(first_run)] == first_run
    assert [e["aws"] for e in events if e["event"] == "change"] == [5, 25, 50, 100]


def test_resume_between_steps_takes_the_next_step_up(estate: Estate) -> None:
    estate.set_weights(70, 30)  # someone moved the weights by hand
    changes = weight_changes(estate)
    assert shift(estate) == 0
    assert changes == [50, 100]


def test_resumed_step_that_fails_falls_back_to_the_step_below(estate: Estate) -> None:
    estate.set_weights(50, 50)
    estate.stop_instances(2)
    changes = weight_changes(estate)
    assert shift(estate) == 1
    assert changes == [25]
    assert estate.weights() == (75, 25)


def test_dry_run_changes_nothing(estate: Estate, capsys) -> None:
    changes = weight_changes(estate)
    assert shift(estate, "--dry-run") == 0
    assert changes == []
    assert estate.weights() == (100, 0)
    assert not (estate.stack_file.parent / "shift.log").exists()
    out = capsys.readouterr().out
    assert "dry run: step 4/4 would set azure 0 / aws 100" in out
    assert "dry run: nothing changed" in out


def test_rollback_sends_every_user_back_to_azure(estate: Estate) -> None:
    estate.set_weights(50, 50)
    assert shift(estate, "--rollback") == 0
    assert estate.weights() == (100, 0)
    assert [e["event"] for e in log_events(estate)] == ["change", "insync", "rolled-back"]


def test_rollback_works_without_the_gates_permissions(estate: Estate) -> None:
    estate.set_weights(0, 100)
    refuse(estate.session, "GetMetricData", "AccessDenied", "not allowed")
    assert shift(estate, "--rollback") == 0
    assert estate.weights() == (100, 0)


def test_ttl_is_announced_and_a_long_one_warned_about(estate: Estate, capsys) -> None:
    records = estate.records()
    route53 = estate.client("route53")
    changes = [
        {"Action": "UPSERT", "ResourceRecordSet": dict(records[side], TTL=3600)}
        for side in ("azure", "aws")
    ]
    route53.change_resource_record_sets(
        HostedZoneId=estate.zone_id, ChangeBatch={"Changes": changes}
    )
    assert shift(estate, "--dry-run", "--hold", "120") == 0
    captured = capsys.readouterr()
    assert "TTL (3600s) + hold (120s) = 3720s" in captured.out
    assert "the record's TTL is 3600s" in captured.err


# -- bad input and environment: one line, nothing changed --------------------------------------


def one_line(capsys) -> str:
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1, err
    return err[0]


def test_no_such_zone(estate: Estate, capsys) -> None:
    assert shift(estate, "--zone-id", "Z0000000NOSUCH") == 3
    assert "hosted zone Z0000000NOSUCH: no such zone" in one_line(capsys)
    assert estate.weights() == (100, 0)


def test_no_such_record(estate: Estate, capsys) -> None:
    assert shift(estate, "--record-name", f"api.{estate.zone_name}") == 3
    line = one_line(capsys)
    assert f"record api.{estate.zone_name}" in line
    assert "no weighted record with set identifier 'azure' or 'aws'" in line
    assert estate.weights() == (100, 0)


def test_azure_endpoint_that_does_not_resolve(estate: Estate, capsys) -> None:
    changes = weight_changes(estate)
    assert shift(estate, resolve=estate.resolves(estate.load_balancer_dns)) == 3
    assert f"azure endpoint {AZURE_HOST} (record {estate.record_name}, set azure)" in one_line(
        capsys
    )
    assert changes == []


def test_aws_endpoint_that_does_not_resolve(estate: Estate, capsys) -> None:
    changes = weight_changes(estate)
    assert shift(estate, resolve=estate.resolves(AZURE_HOST)) == 3
    assert f"aws endpoint {estate.load_balancer_dns}" in one_line(capsys)
    assert changes == []


def test_rollback_goes_ahead_with_a_warning_when_azure_does_not_resolve(
    estate: Estate, capsys
) -> None:
    estate.set_weights(0, 100)
    assert shift(estate, "--rollback", resolve=resolver({})) == 0
    assert estate.weights() == (100, 0)
    assert f"warning: azure endpoint {AZURE_HOST}" in capsys.readouterr().err


@pytest.mark.parametrize(
    "operation",
    ["ChangeResourceRecordSets", "GetMetricData", "DescribeTargetHealth", "ListResourceRecordSets"],
)
def test_missing_permission_is_one_line_and_changes_nothing(
    estate: Estate, capsys, operation: str
) -> None:
    refused = refuse(estate.session, operation, "AccessDenied", "User is not authorized")
    assert shift(estate) == 3
    line = one_line(capsys)
    assert "access denied" in line
    assert operation in line
    assert refused == [operation]
    assert estate.weights() == (100, 0)


def test_unknown_alarm_is_bad_input(estate: Estate, capsys) -> None:
    assert shift(estate, "--alarm", "no-such-alarm") == 2
    assert "alarm no-such-alarm: no such CloudWatch alarm" in one_line(capsys)
    assert estate.weights() == (100, 0)


@pytest.mark.parametrize(
    ("options", "message"),
    [
        (("--steps", "50,25"), "the steps must rise"),
        (("--steps", "0,50"), "every step is 1..100"),
        (("--hold", "-1"), "--hold -1: must be 0 or more"),
        (("--max-5xx-ratio", "5"), "--max-5xx-ratio 5: must be 0..1"),
    ],
)
def test_bad_options(estate: Estate, capsys, options: tuple[str, ...], message: str) -> None:
    assert shift(estate, *options) == 2
    assert message in one_line(capsys)


def test_stack_without_traffic_section_is_bad_input(estate: Estate, capsys) -> None:
    config = yaml.safe_load(estate.stack_file.read_text())
    del config["config"]["cutover:traffic"]
    estate.stack_file.write_text(yaml.safe_dump(config))
    assert shift(estate) == 2
    assert "cutover:traffic is not set" in one_line(capsys)


def test_aws_side_unhealthy_before_the_shift_changes_nothing(estate: Estate, capsys) -> None:
    estate.stop_instances(2)
    changes = weight_changes(estate)
    assert shift(estate) == 1
    assert changes == []
    assert "not healthy before the shift" in capsys.readouterr().err


def test_zone_named_in_the_config_is_looked_up(estate: Estate) -> None:
    config = yaml.safe_load(estate.stack_file.read_text())
    traffic = config["config"]["cutover:traffic"]
    traffic["zoneName"] = estate.zone_name
    del traffic["zoneId"]
    estate.stack_file.write_text(yaml.safe_dump(config))
    assert shift(estate, "--steps", "100") == 0
    assert estate.weights() == (0, 100)


def test_outputs_name_what_the_options_do_not(estate: Estate) -> None:
    from shift.target import resolve_target

    outputs = {
        "trafficZoneId": estate.zone_id,
        "loadBalancerArn": estate.load_balancer_arn,
        "targetGroupArns": [estate.target_group_arn],
        "trafficHealthCheckIds": estate.health_check_ids,
    }
    target = resolve_target("shop", estate.stack_file, {}, lambda stack: outputs)
    assert (target.load_balancer_arn, target.target_group_arn) == (
        estate.load_balancer_arn,
        estate.target_group_arn,
    )
    assert target.health_check_id == estate.health_check_ids["aws"]
    assert target.min_healthy == 2


def test_stack_outputs_come_from_the_pulumi_cli(tmp_path: Path, monkeypatch) -> None:
    from shift.target import pulumi_stack_outputs

    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    cli = bin_dir / "pulumi"
    cli.write_text(
        "#!/bin/sh\n"
        'if [ "$*" = "stack output --json --stack shop" ]; then\n'
        '  echo \'{"trafficZoneId": "Z1", "targetGroupArns": ["arn:tg"]}\'\n'
        "else\n  echo 'error: no stack named' \"$*\" >&2; exit 255\nfi\n"
    )
    cli.chmod(0o755)
    monkeypatch.setenv("PATH", str(bin_dir))
    assert pulumi_stack_outputs("shop") == {"trafficZoneId": "Z1", "targetGroupArns": ["arn:tg"]}
    assert pulumi_stack_outputs("other") == {}  # not logged in, no such stack: fall back
    monkeypatch.setenv("PATH", str(tmp_path / "nowhere"))
    assert pulumi_stack_outputs("shop") == {}  # no Pulumi CLI at all


def test_without_outputs_the_missing_option_is_named(estate: Estate) -> None:
    from shift.errors import ShiftError
    from shift.target import resolve_target

    with pytest.raises(ShiftError) as raised:
        resolve_target("shop", estate.stack_file, {}, lambda stack: {})
    assert raised.value.exit_code == 2
    assert "no targetGroupArns output" in str(raised.value)
    assert "give --target-group-arn" in str(raised.value)
