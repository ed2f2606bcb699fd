"""`python -m release` against a moto server: prepare, deploy, gates, steps, rollback, resume."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from moto.server import ThreadedMotoServer

from hooks.idle import IDLE_TAG
from rehearsal.declared import declared_fleet
from rehearsal.run import Options, RehearsalInputError, validate
from release.cli import parser, run_release
from release.errors import ReleaseError
from release.run import Release
from tests.release.awsmodel import TargetsTurnHealthy
from tests.release.estate import Estate, PlayedCodeDeploy, build_estate
from tests.shift.traffic_estate import FakeClock

REVISION = "s3://shop-revisions/app-2.0.zip"
# The production stack's health check: healthyThreshold 3, interval 10 s.
TIME_TO_HEALTHY = (3 + 1) * 10


@pytest.fixture(scope="module")
def moto_url() -> Iterator[str]:
    logging.getLogger("werkzeug").setLevel(logging.WARNING)
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    yield f"http://{host}:{port}"
    server.stop()


@pytest.fixture(scope="module")
def aws(moto_url: str) -> Iterator[TargetsTurnHealthy]:
    model = TargetsTurnHealthy(moto_url, FakeClock(), TIME_TO_HEALTHY)
    yield model
    model.close()


@pytest.fixture
def clock(aws: TargetsTurnHealthy) -> FakeClock:
    """The test's time, which the AWS model in front of moto follows too."""
    aws.clock, aws.seconds = FakeClock(), TIME_TO_HEALTHY
    return aws.clock


@pytest.fixture
def estate(
    aws: TargetsTurnHealthy, clock: FakeClock, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Estate:
    for name, value in {
        "AWS_ENDPOINT_URL": aws.url,
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_CONFIG_FILE": str(tmp_path / "no-aws-config"),
        "AWS_SHARED_CREDENTIALS_FILE": str(tmp_path / "no-aws-credentials"),
    }.items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("AWS_PROFILE", raising=False)
    # One moto server for the module: each test gets its own stack name.
    built = build_estate(tmp_path, stack=tmp_path.name[-12:].replace("_", "-").strip("-"))
    built.clock = clock
    clock.sleep(TIME_TO_HEALTHY)  # the live colour's targets have long been healthy
    for arn in built.target_groups.values():
        built.client("elbv2").describe_target_health(TargetGroupArn=arn)
    clock.sleep(TIME_TO_HEALTHY)
    return built


def release(
    estate: Estate,
    *options: str,
    clock: FakeClock | None = None,
    outcome: str = "Succeeded",
    say: Any = None,
) -> tuple[Release, PlayedCodeDeploy]:
    args = parser().parse_args(
        ["shop", "--config", str(estate.stack_file), "--hold", "60", "--keep-old", "600", *options]
    )
    clock = clock or estate.clock
    played = PlayedCodeDeploy(estate.client("codedeploy"), clock, outcome)
    built = run_release(
        args,
        session=estate.session,
        clock=clock,
        codedeploy=played,
        outputs=lambda stack: estate.outputs,
    )
    if say is not None:
        built.say = say
    return built, played


def test_a_release_moves_every_user_to_the_idle_colour_and_retires_the_old(estate):
    built, played = release(estate, "--revision", REVISION)
    assert built.run() == 0
    assert estate.weights() == {"blue": 0, "green": 100}
    assert estate.capacity("green") == (2, 3, 6)
    assert estate.capacity("blue") == (0, 0, 6)
    assert [g for g, _ in played.created] == [estate.groups["green"]]
    shares = [e.share["green"] for e in built.report.events]
    assert list(dict.fromkeys(shares)) == [0, 10, 50, 100]
    # Sized before anything else, pinned before the first user moved, retired last.
    whats = [e.what for e in built.report.events]
    assert whats[0] == "sized green to blue's 2/3/6"
    assert whats[-1] == "blue scaled to zero"
    kept = next(e for e in built.report.events if e.what.startswith("keeping blue"))
    assert kept.capacity["blue"] == "3/3/6" and kept.share["green"] == 100


def test_each_step_is_held_and_gated(estate, clock):
    lines: list[str] = []
    built, _ = release(estate, "--revision", REVISION, say=lines.append)
    assert built.run() == 0
    gates = [line for line in lines if line.startswith("gates at")]
    assert [g.split(":")[0] for g in gates] == ["gates at 10%", "gates at 50%", "gates at 100%"]
    assert all("healthy targets 3/3" in g and "5xx ratio" in g for g in gates)
    assert clock.naps.count(60) == 3 and 600 in clock.naps


def test_no_user_moves_before_the_new_targets_passed_their_health_checks(estate):
    built, _ = release(estate, "--revision", REVISION)
    assert built.run() == 0
    events = built.report.events
    sized = next(e for e in events if e.what.startswith("sized green"))
    first_step = next(e for e in events if e.share["green"] > 0)
    assert first_step.seconds - sized.seconds >= TIME_TO_HEALTHY


def test_targets_that_never_turn_healthy_move_no_user(estate, aws):
    aws.seconds = 10_000
    changes = listener_changes(estate)
    built, played = release(estate, "--revision", REVISION, "--healthy-timeout", "120")
    assert built.run() == 1
    assert changes == []
    assert estate.capacity("green") == (0, 0, 6)
    # Not even deployed: CodeDeploy takes only instances in service, and the hooks need the
    # colour's other instances healthy (the rehearsal's blue-green scenarios found it).
    assert played.created == []
    assert built.report.events[-1].what == (
        "green's targets not healthy in time after sizing: green back to 0/0/6"
    )


def listener_changes(estate: Estate) -> list[dict[str, int]]:
    """The weights of every ModifyListener call, as sent (botocore's public event)."""
    seen: list[dict[str, int]] = []
    colour = {arn: c for c, arn in estate.target_groups.items()}

    def before(model: Any, params: dict[str, Any], **kwargs: Any) -> None:
        if model.name == "ModifyListener":
            (action,) = params["DefaultActions"]
            tuples = action["ForwardConfig"]["TargetGroups"]
            seen.append({colour[t["TargetGroupArn"]]: t["Weight"] for t in tuples})

    estate.session.events.register("before-parameter-build.elastic-load-balancing-v2", before)
    return seen


def errors_from_green(estate: Estate, built: Release, at: str):
    """The new colour answers 5xx once the release reports ``at``: 40 of 100 requests."""

    def say(line: str) -> None:
        if f"] {at} |" in line:
            dimensions = [
                {
                    "Name": "LoadBalancer",
                    "Value": estate.load_balancer_arn.split(":loadbalancer/")[1],
                },
                {
                    "Name": "TargetGroup",
                    "Value": estate.target_groups["green"].split(":")[-1],
                },
            ]
            now = built.clock.now() + timedelta(seconds=30)
            estate.client("cloudwatch").put_metric_data(
                Namespace="AWS/ApplicationELB",
                MetricData=[
                    {"MetricName": name, "Dimensions": dimensions, "Timestamp": now, "Value": v}
                    for name, v in (("HTTPCode_Target_5XX_Count", 40), ("RequestCount", 100))
                ],
            )

    return say


def test_5xx_at_the_second_step_gives_the_old_colour_everything_in_the_next_change(estate):
    changes = listener_changes(estate)
    built, _ = release(estate, "--revision", REVISION)
    built.say = errors_from_green(estate, built, "green at 50%")
    with pytest.raises(ReleaseError) as error:
        built.run()
    assert error.value.exit_code == 1
    assert "5xx ratio 0.4000 (40/100)" in str(error.value) and "back on blue" in str(error.value)
    assert changes == [
        {"green": 10, "blue": 90},
        {"green": 50, "blue": 50},
        {"green": 0, "blue": 100},
    ]
    assert estate.weights() == {"blue": 100, "green": 0}
    assert built.report.rollback_seconds == 0
    # The old colour is unpinned (its MinSize as before), the new one back to nothing.
    assert estate.capacity("blue") == (2, 3, 6)
    assert estate.capacity("green") == (0, 0, 6)


def test_a_failed_deployment_moves_no_user_and_empties_the_new_colour(estate):
    changes = listener_changes(estate)
    built, played = release(estate, "--revision", REVISION, outcome="Failed")
    assert built.run() == 1
    assert changes == []
    assert estate.weights() == {"blue": 100, "green": 0}
    assert estate.capacity("green") == (0, 0, 6)
    assert estate.capacity("blue") == (2, 3, 6)


def test_a_scale_out_of_the_live_colour_is_followed_before_half_the_users_move(estate):
    built, _ = release(estate, "--revision", REVISION)

    def say(line: str) -> None:
        if "] green at 10% |" in line:
            estate.scale("blue", 5)  # the users arrive while green takes 10 %

    built.say = say
    assert built.run() == 0
    events = built.report.events
    follow = next(i for i, e in enumerate(events) if e.what.startswith("green follows"))
    assert events[follow].capacity["green"] == "2/5/6"
    passed_half = next(i for i, e in enumerate(events) if e.share["green"] > 50)
    assert follow < passed_half
    assert all(int(e.capacity["green"].split("/")[1]) >= 5 for e in events[passed_half:])


class Interrupted(Exception):
    pass


def interrupt_at(at: str):
    def say(line: str) -> None:
        if f"] {at} |" in line:
            raise Interrupted(at)

    return say


def test_an_interrupted_release_resumes_at_its_step_and_checks_its_gate_again(estate):
    first, played_first = release(estate, "--revision", REVISION)
    first.say = interrupt_at("green at 50%")
    with pytest.raises(Interrupted):
        first.run()
    assert estate.weights() == {"blue": 50, "green": 50}
    lines: list[str] = []
    second, played_second = release(estate, "--revision", REVISION, say=lines.append)
    assert second.run() == 0
    assert played_first.created and not played_second.created  # not deployed twice
    gates = [line.split(":")[0] for line in lines if line.startswith("gates at")]
    assert gates == ["gates at 50%", "gates at 100%"]
    assert estate.weights() == {"blue": 0, "green": 100}
    assert estate.capacity("blue") == (0, 0, 6)


def test_a_finished_release_run_again_changes_nothing(estate):
    built, _ = release(estate, "--revision", REVISION)
    assert built.run() == 0
    changes = listener_changes(estate)
    again, played = release(estate, "--revision", REVISION)
    assert again.run() == 0
    assert changes == [] and not played.created
    assert again.report.events[-1].what.endswith("nothing to do")


def test_the_next_release_goes_to_the_other_colour(estate):
    assert release(estate, "--revision", REVISION)[0].run() == 0
    built, played = release(estate, "--revision", "s3://shop-revisions/app-3.0.zip")
    assert built.run() == 0
    assert [g for g, _ in played.created] == [estate.groups["blue"]]
    assert estate.weights() == {"blue": 100, "green": 0}
    assert estate.capacity("green") == (0, 0, 6) and estate.capacity("blue") == (2, 3, 6)


def test_rollback_during_the_keep_period_is_one_change(estate):
    first, _ = release(estate, "--revision", REVISION)
    first.say = interrupt_at("keeping blue at capacity for 600 s")
    with pytest.raises(Interrupted):
        first.run()
    changes = listener_changes(estate)
    back, _ = release(estate, "--rollback")
    assert back.run() == 0
    assert changes == [{"green": 0, "blue": 100}]
    assert estate.capacity("blue") == (2, 3, 6)  # unpinned, at capacity


def test_rollback_after_the_old_colour_was_retired_brings_it_up_first(estate):
    assert release(estate, "--revision", REVISION)[0].run() == 0
    back, _ = release(estate, "--rollback")
    assert back.run() == 0
    assert estate.weights() == {"blue": 100, "green": 0}
    whats = [e.what for e in back.report.events]
    assert whats[0].startswith("blue sized back to")
    assert estate.capacity("blue")[1] == 3


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ((), "--revision s3://BUCKET/KEY is required"),
        (("--revision", "shop.zip"), "s3://BUCKET/KEY"),
        (("--revision", "s3://b/app.exe"), "the key must end in"),
        (("--revision", REVISION, "--steps", "50,10,100"), "rising percentages"),
        (("--revision", REVISION, "--steps", "10,50"), "ending at 100"),
        (("--revision", REVISION, "--max-5xx-ratio", "2"), "--max-5xx-ratio 2: must be 0..1"),
    ],
)
def test_bad_options_name_the_option(estate, options, message):
    with pytest.raises(ReleaseError) as error:
        release(estate, *options)
    assert error.value.exit_code == 2 and message in str(error.value)


def test_an_in_place_stack_is_refused_naming_the_key(estate, tmp_path):
    in_place = tmp_path / "Pulumi.inplace.yaml"
    in_place.write_text(estate.stack_file.read_text().replace("blue-green", "in-place"))
    args = parser().parse_args(["shop", "--config", str(in_place), "--revision", REVISION])
    with pytest.raises(ReleaseError) as error:
        run_release(args, session=estate.session, outputs=lambda s: estate.outputs)
    assert "cutover:deployment.style is in-place" in str(error.value)


def test_missing_outputs_name_the_output(estate):
    args = parser().parse_args(["shop", "--config", str(estate.stack_file), "--revision", REVISION])
    with pytest.raises(ReleaseError) as error:
        run_release(args, session=estate.session, outputs=lambda s: {})
    assert "deploymentStyle" in str(error.value)


def test_the_in_place_rehearsal_sends_a_blue_green_stack_to_the_release_scenarios(estate):
    fleet = declared_fleet("shop", estate.stack_file)
    assert set(fleet.colours) == {"blue", "green"}
    with pytest.raises(RehearsalInputError) as error:
        validate(fleet, Options(scenario="deploy"))
    assert "--scenario blue-green, blue-green-rollback, blue-green-scale-out" in str(error.value)


def test_the_first_release_after_pulumi_up_retires_the_colour_up_started(estate, tmp_path):
    """`pulumi up` creates both colours at the stack's bounds, blue with every user."""
    (tmp_path / "fresh").mkdir()
    fresh = build_estate(tmp_path / "fresh", stack="fresh-up", idle=(2, 3, 6))
    fresh.clock = estate.clock
    estate.clock.sleep(TIME_TO_HEALTHY)
    for arn in fresh.target_groups.values():
        fresh.client("elbv2").describe_target_health(TargetGroupArn=arn)
    estate.clock.sleep(TIME_TO_HEALTHY)
    built, played = release(fresh, "--revision", REVISION)
    assert built.run() == 0
    assert [g for g, _ in played.created] == [fresh.groups["green"]]
    assert fresh.weights() == {"blue": 0, "green": 100}
    assert fresh.capacity("blue") == (0, 0, 6) and fresh.capacity("green") == (2, 3, 6)


def test_another_revision_while_the_users_are_split_is_refused(estate):
    first, _ = release(estate, "--revision", REVISION)
    first.say = interrupt_at("green at 50%")
    with pytest.raises(Interrupted):
        first.run()
    other, played = release(estate, "--revision", "s3://shop-revisions/app-3.0.zip")
    with pytest.raises(ReleaseError) as error:
        other.run()
    assert error.value.exit_code == 2 and "another release is in progress" in str(error.value)
    assert estate.weights() == {"blue": 50, "green": 50} and not played.created


def idle_tags_at(estate: Estate, operations: tuple[str, ...]) -> list[tuple[str, dict[str, str]]]:
    """At each call of ``operations`` (botocore's public event): which colours carry the hooks'
    ``cutover:idle`` tag, read from moto just before the call goes out."""
    seen: list[tuple[str, dict[str, str]]] = []
    groups = {name: colour for colour, name in estate.groups.items()}
    reader = estate.client("autoscaling")

    def before(model: Any, **kwargs: Any) -> None:
        if model.name in operations:
            answer = reader.describe_auto_scaling_groups(AutoScalingGroupNames=list(groups))
            tags = {
                groups[g["AutoScalingGroupName"]]: t["Value"]
                for g in answer["AutoScalingGroups"]
                for t in g["Tags"]
                if t["Key"] == IDLE_TAG
            }
            seen.append((model.name, tags))

    for service in ("elastic-load-balancing-v2", "codedeploy"):
        estate.session.events.register(f"before-parameter-build.{service}", before)
    return seen


def test_the_idle_tag_is_on_the_new_colour_during_its_deployment_and_gone_before_any_user(
    estate,
):
    seen = idle_tags_at(estate, ("GetDeployment", "ModifyListener"))
    built, played = release(estate, "--revision", REVISION)
    assert built.run() == 0
    ((_, deployment),) = played.created
    waits = [tags for op, tags in seen if op == "GetDeployment"]
    moves = [tags for op, tags in seen if op == "ModifyListener"]
    # The hooks of this deployment (and only of it) see green as idle while it runs...
    assert waits and all(tags == {"green": deployment} for tags in waits)
    # ...and no colour carries the tag when the users move, nor after the release.
    assert len(moves) == 3 and all(tags == {} for tags in moves)
    assert estate.tags("green").get(IDLE_TAG) is None


def test_a_release_resumed_after_dying_in_its_deployment_clears_the_idle_tag_first(estate):
    first, played = release(estate, "--revision", REVISION)

    def say(line: str) -> None:
        if f"] deployed {REVISION} to green (" in line:
            raise Interrupted(line)

    first.say = say
    with pytest.raises(Interrupted):
        first.run()
    # Killed during the deployment's wait (no cleanup ran): the tag is left on green.
    estate.set_tag("green", IDLE_TAG, played.created[0][1])
    seen = idle_tags_at(estate, ("ModifyListener",))
    lines: list[str] = []
    second, played_again = release(estate, "--revision", REVISION, say=lines.append)
    assert second.run() == 0
    assert not played_again.created  # the deployment had succeeded: not repeated
    assert any(f"green: {IDLE_TAG} removed" in line for line in lines)
    assert seen and all(tags == {} for _, tags in seen)
    assert estate.weights() == {"blue": 0, "green": 100}


def test_rollback_clears_an_idle_tag_before_the_users_move(estate):
    first, played = release(estate, "--revision", REVISION)
    first.say = interrupt_at("green at 50%")
    with pytest.raises(Interrupted):
        first.run()
    # Whatever left it there (an operator, a tool), the colour users return to must not carry it.
    estate.set_tag("blue", IDLE_TAG, "d-ANY00001")
    seen = idle_tags_at(estate, ("ModifyListener",))
    back, _ = release(estate, "--rollback")
    assert back.run() == 0
    assert seen == [("ModifyListener", {})]
    assert estate.weights() == {"blue": 100, "green": 0}
