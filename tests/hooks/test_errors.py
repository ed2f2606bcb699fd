"""Bad identity and broken endpoints: one stderr line and the exit code of the kind of problem,
never a traceback and never a silent exit 0. A tiny HTTP server on 127.0.0.1 stands in for a
proxy or a captive portal answering instead of AWS or the metadata service."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from hooks.errors import EXIT_ENVIRONMENT, EXIT_FAILED, EXIT_UNEXPECTED, EXIT_USAGE

from .conftest import REGION
from .test_cli import run_cli

IID = "i-0123456789abcdef0"
PORTAL = b"<!DOCTYPE html><html><body><h1>Welcome to the guest network</h1></body></html>"


class Impostor(BaseHTTPRequestHandler):
    """Answers every request with the same status, content type and body."""

    status = 200
    content_type = "text/html"
    body = PORTAL

    def log_message(self, *args: Any) -> None:
        pass

    def _answer(self) -> None:
        self.rfile.read(int(self.headers.get("Content-Length", 0)))
        self.send_response(Impostor.status)
        self.send_header("Content-Type", Impostor.content_type)
        self.send_header("Content-Length", str(len(Impostor.body)))
        self.end_headers()
        self.wfile.write(Impostor.body)

    do_GET = do_PUT = do_POST = _answer  # noqa: N815


@pytest.fixture
def impostor() -> Iterator[str]:
    Impostor.status, Impostor.content_type, Impostor.body = 200, "text/html", PORTAL
    server = ThreadingHTTPServer(("127.0.0.1", 0), Impostor)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()


def assert_one_line(out: Any, code: int, command: str = "deregister") -> str:
    assert out.returncode == code, out.stderr
    assert "Traceback" not in out.stderr
    assert out.stderr.count("\n") == 1, out.stderr
    assert out.stderr.startswith(f"cutover-hooks {command}: error: ")
    return out.stderr


# The metadata service -------------------------------------------------------------------------


def test_metadata_answering_an_html_page_is_an_error_not_an_exit_0(aws_env, impostor):
    out = run_cli("deregister", env={"AWS_EC2_METADATA_SERVICE_ENDPOINT": impostor})

    err = assert_one_line(out, EXIT_ENVIRONMENT)
    assert "the answer is not a metadata value ('<!DOCTYPE html><html><body>" in err
    assert "--instance-id" in err
    assert "not in an Auto Scaling group" not in out.stdout


def test_metadata_answering_something_that_is_no_instance_id(aws_env, imds):
    imds.serve("instance-0001")
    out = run_cli("deregister")

    err = assert_one_line(out, EXIT_ENVIRONMENT)
    assert "the instance id from the metadata service at" in err
    assert "is not an EC2 instance id (i- and 8 or 17 hex digits): 'instance-0001'" in err


def test_metadata_answering_a_bad_region(aws_env, imds):
    imds.serve(IID, region="Europe (Frankfurt)")
    out = run_cli("register")

    err = assert_one_line(out, EXIT_ENVIRONMENT, "register")
    assert "the region from the metadata service" in err and "Europe (Frankfurt)" in err


def test_the_metadata_service_is_never_asked_through_a_proxy(aws_env, imds, impostor):
    imds.serve("i-0abc1234", region=REGION)
    # The proxy would answer its HTML page; the hook must go straight to the metadata service
    # (AWS, moto here, is reached directly through NO_PROXY).
    moto = aws_env["AWS_ENDPOINT_URL"].removeprefix("http://")
    proxy = {"HTTP_PROXY": impostor, "http_proxy": impostor, "NO_PROXY": moto, "no_proxy": moto}
    out = run_cli("deregister", env=proxy)
    assert "GET /latest/meta-data/instance-id" in imds.requests
    assert "i-0abc1234" in out.stdout + out.stderr


@pytest.mark.parametrize(
    ("option", "value", "message"),
    [
        ("--instance-id", "i-xyz", "--instance-id is not an EC2 instance id"),
        ("--region", "eu_central_1", "--region is not an AWS region name"),
    ],
)
def test_bad_options_are_usage_errors(aws_env, option, value, message):
    args = {"--instance-id": IID, "--region": REGION, option: value}
    out = run_cli("deregister", *[part for pair in args.items() for part in pair])
    assert message in assert_one_line(out, EXIT_USAGE)


# AWS endpoints ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("status", "content_type", "body", "expected"),
    [
        (200, "text/html", PORTAL, "got an answer that is not an AWS response"),
        (403, "text/html", PORTAL, "got an answer that is not an AWS response"),
        (200, "application/json", b'{"unexpected": true}', "not an AWS response"),
        (502, "text/html", b"<html><body>Bad Gateway</body></html>", "answered HTTP 502"),
        (407, "text/plain", b"Proxy Authentication Required", "not an AWS response"),
    ],
)
def test_an_endpoint_that_is_not_aws_is_one_line_and_exit_5(
    aws_env, impostor, status, content_type, body, expected
):
    Impostor.status, Impostor.content_type, Impostor.body = status, content_type, body
    out = run_cli(
        "deregister",
        "--instance-id",
        IID,
        "--region",
        REGION,
        env={"AWS_ENDPOINT_URL": impostor, "CUTOVER_MAX_RETRIES": "0"},
    )

    err = assert_one_line(out, EXIT_ENVIRONMENT)
    assert expected in err
    assert "AWS_ENDPOINT_URL" in err


def test_access_denied_points_at_the_instance_role(aws_env, impostor):
    Impostor.status, Impostor.content_type = 403, "text/xml"
    Impostor.body = (
        b"<ErrorResponse><Error><Type>Sender</Type><Code>AccessDenied</Code><Message>User: "
        b"arn:aws:sts::1:assumed-role/web/i-0 is not authorized to perform: "
        b"autoscaling:DescribeAutoScalingInstances</Message></Error></ErrorResponse>"
    )
    out = run_cli(
        "deregister", "--instance-id", IID, "--region", REGION, env={"AWS_ENDPOINT_URL": impostor}
    )

    err = assert_one_line(out, EXIT_ENVIRONMENT)
    assert "AWS DescribeInstances refused: AccessDenied" in err
    assert "hooks/permissions.py" in err


def test_a_refused_operation_stays_exit_1(aws_env, impostor):
    Impostor.status, Impostor.content_type = 400, "text/xml"
    Impostor.body = (
        b"<ErrorResponse><Error><Type>Sender</Type><Code>ValidationError</Code>"
        b"<Message>\n  something\n  AWS did not like\n</Message></Error></ErrorResponse>"
    )
    out = run_cli(
        "deregister", "--instance-id", IID, "--region", REGION, env={"AWS_ENDPOINT_URL": impostor}
    )

    err = assert_one_line(out, EXIT_FAILED)
    assert "DescribeInstances failed: ValidationError: something AWS did not like" in err


def test_an_unexpected_error_is_one_line_and_exit_70_with_the_traceback_on_request(
    aws_env, impostor
):
    # A well-formed answer AWS never gives (an instance without its group): the hook's code
    # cannot handle it, which is a bug to report, not a deployment problem.
    Impostor.content_type = "text/xml"
    Impostor.body = (
        b"<DescribeAutoScalingInstancesResponse><DescribeAutoScalingInstancesResult>"
        b"<AutoScalingInstances><member><InstanceId>" + IID.encode() + b"</InstanceId></member>"
        b"</AutoScalingInstances></DescribeAutoScalingInstancesResult>"
        b"</DescribeAutoScalingInstancesResponse>"
    )
    args = ("deregister", "--instance-id", IID, "--region", REGION)
    # Without the scan's DescribeTargetGroups beside the first call (the impostor's answer is
    # not one: an environment error), the group lookup alone meets the odd answer.
    env = {"AWS_ENDPOINT_URL": impostor, "CUTOVER_DISCOVER_TARGET_GROUPS": "off"}

    out = run_cli(*args, env=env)
    err = assert_one_line(out, EXIT_UNEXPECTED)
    assert "unexpected" in err and "--debug" in err and "this is a bug" in err

    debug = run_cli(*args, "--debug", env=env)
    assert debug.returncode == EXIT_UNEXPECTED
    assert "Traceback (most recent call last)" in debug.stderr
    assert run_cli(*args, env={**env, "CUTOVER_DEBUG": "1"}).stderr.startswith("Traceback")


def test_an_unwritable_state_folder_is_an_environment_error(make_fleet, tmp_path):
    fleet = make_fleet(1, 2, 1, allow_downtime=True)
    blocked = tmp_path / "not-a-folder"
    blocked.write_text("a file where the state folder should be\n")
    out = run_cli(
        "deregister",
        "--instance-id",
        fleet.instance_ids[0],
        "--region",
        REGION,
        env={"CUTOVER_STATE_DIR": str(blocked / "state")},
    )

    err = assert_one_line(out, EXIT_ENVIRONMENT)
    assert str(blocked) in err


def test_missing_credentials_point_at_the_instance_profile(aws_env):
    # No keys, no files; the metadata service (the fake) has no role credentials either.
    out = run_cli(
        "deregister",
        "--instance-id",
        IID,
        "--region",
        REGION,
        env={"AWS_ACCESS_KEY_ID": "", "AWS_SECRET_ACCESS_KEY": ""},
    )

    err = assert_one_line(out, EXIT_ENVIRONMENT)
    assert "Unable to locate credentials" in err and "instance profile" in err
