"""The standard-library client against botocore's: the same parsed answers and the same errors
for every operation the hooks call (hooks/permissions.py), against one moto state over HTTP;
the same SigV4 signature as botocore's signer; the same method names and retry conditions."""

from __future__ import annotations

import copy
from typing import Any

import botocore.retries.standard
import pytest
from botocore import xform_name
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials as BotocoreCredentials
from botocore.exceptions import ClientError

from hooks import awsclient, retries
from hooks.awsprotocol import serialize
from hooks.clients import Clients, connect
from hooks.permissions import ALL_ACTIONS
from hooks.servicemodels import SERVICES
from hooks.settings import from_environment
from hooks.sigv4 import Credentials, signed_headers

from .conftest import AMI, REGION, fast_session


def normalized(answer: Any) -> Any:
    """An answer without what differs from call to call (request id, date header)."""
    answer = copy.deepcopy(answer)
    metadata = answer.get("ResponseMetadata", {})
    metadata.pop("HTTPHeaders", None)
    metadata.pop("RequestId", None)
    # botocore's bookkeeping of its own retries, which the hooks turn off (one attempt).
    metadata.pop("MaxAttemptsReached", None)
    return answer


def both(clients: tuple[Clients, Clients], service: str, method: str, **params: Any) -> Any:
    """The answer (or the error response) of each client, normalized, asserted equal."""
    outcomes = []
    for pair in clients:
        try:
            outcomes.append(
                ("answer", normalized(getattr(getattr(pair, service), method)(**params)))
            )
        except ClientError as error:
            outcomes.append(("error", error.operation_name, normalized(error.response)))
    assert outcomes[0] == outcomes[1]
    return outcomes[0]


@pytest.fixture
def pair(aws_env) -> tuple[Clients, Clients]:
    settings = from_environment("deregister", region=REGION)
    standard = connect(settings, REGION)
    assert isinstance(standard.ec2, awsclient.Client)
    return standard, connect(settings, REGION, session=fast_session())


def called(service: str) -> set[str]:
    prefix = SERVICES[service] + ":"
    return {a.removeprefix(prefix) for a in ALL_ACTIONS if a.startswith(prefix)}


def test_every_hook_operation_has_botocores_method_name():
    for service in SERVICES:
        model = awsclient.service_model(service)
        wanted = called(service) & set(model.document["operations"])
        assert wanted, service
        for operation in wanted:
            assert model.methods[xform_name(operation)] == operation


def test_reads_give_botocores_answers(make_fleet, pair, codedeploy, session_deployment):
    fleet = make_fleet(1, 3, 2, classic=True)
    iid = fleet.instance_ids[0]
    fleet.ec2.create_tags(Resources=[iid], Tags=[{"Key": "cutover:deploy", "Value": "x y"}])
    kind, groups = both(
        pair, "autoscaling", "describe_auto_scaling_groups", AutoScalingGroupNames=[fleet.asg]
    )
    assert kind == "answer" and groups["AutoScalingGroups"][0]["CreatedTime"].tzinfo is not None
    both(pair, "autoscaling", "describe_auto_scaling_instances", InstanceIds=fleet.instance_ids)
    _, reservations = both(pair, "ec2", "describe_instances", InstanceIds=fleet.instance_ids)
    assert {
        t["Key"]
        for r in reservations["Reservations"]
        for i in r["Instances"]
        for t in i.get("Tags", [])
    } >= {"cutover:deploy"}
    both(
        pair,
        "ec2",
        "describe_instances",
        Filters=[
            {"Name": "tag-key", "Values": ["cutover:deploy"]},
            {"Name": "instance-state-name", "Values": ["running", "pending"]},
        ],
    )
    both(pair, "elbv2", "describe_target_groups", TargetGroupArns=[fleet.target_group_arn])
    both(pair, "elbv2", "describe_target_health", TargetGroupArn=fleet.target_group_arn)
    both(pair, "elbv2", "describe_target_group_attributes", TargetGroupArn=fleet.target_group_arn)
    both(pair, "elbv2", "describe_load_balancers", Names=["no-such-lb"])
    both(
        pair,
        "elbv2",
        "describe_load_balancer_attributes",
        LoadBalancerArn=fleet.target_group_arn.replace("targetgroup", "loadbalancer/app"),
    )
    both(pair, "elb", "describe_load_balancers", LoadBalancerNames=[fleet.elb_name])
    both(pair, "elb", "describe_instance_health", LoadBalancerName=fleet.elb_name)
    both(pair, "elb", "describe_load_balancer_attributes", LoadBalancerName=fleet.elb_name)
    _, deployment = both(pair, "codedeploy", "get_deployment", deploymentId=session_deployment)
    assert deployment["deploymentInfo"]["createTime"].tzinfo is not None


def test_errors_give_botocores_client_errors(aws_env, pair):
    missing = [
        (
            "autoscaling",
            "update_auto_scaling_group",
            {"AutoScalingGroupName": "no-such", "MinSize": 1},
        ),
        ("ec2", "describe_instances", {"InstanceIds": ["i-0000000000000dead"]}),
        ("ec2", "describe_instances", {"InstanceIds": ["not-an-instance-id"]}),
        (
            "elbv2",
            "describe_target_health",
            {"TargetGroupArn": f"arn:aws:elasticloadbalancing:{REGION}:1:targetgroup/x/0"},
        ),
        ("elb", "describe_instance_health", {"LoadBalancerName": "no-such-elb"}),
        ("codedeploy", "get_deployment", {"deploymentId": "d-NOSUCHDEP"}),
    ]
    for service, method, params in missing:
        kind, *details = both(pair, service, method, **params)
        assert kind == "error", (service, method)
        response = details[-1]
        assert response["Error"]["Code"] and response["ResponseMetadata"]["HTTPStatusCode"] >= 400


def test_writes_give_botocores_answers_and_change_the_same_state(make_fleet, pair):
    fleet = make_fleet(1, 4, 2, classic=True)
    first, second = fleet.instance_ids
    standard, boto = pair
    tag = {
        "ResourceId": fleet.asg,
        "ResourceType": "auto-scaling-group",
        "PropagateAtLaunch": False,
    }
    answers: list[list[Any]] = []
    for n, clients in enumerate(pair):
        name = f"cutover:test{n}"
        answers.append(
            [
                clients.autoscaling.create_or_update_tags(
                    Tags=[{**tag, "Key": name, "Value": "a b&c"}]
                ),
                fleet.tags()[name],
                clients.autoscaling.delete_tags(Tags=[{**tag, "Key": name}]),
                name in fleet.tags(),
                clients.ec2.create_tags(Resources=[first], Tags=[{"Key": name, "Value": "=x"}]),
                clients.ec2.delete_tags(Resources=[first], Tags=[{"Key": name}]),
            ]
        )
    assert [[normalized(a) if isinstance(a, dict) else a for a in run] for run in answers] == [
        [{"ResponseMetadata": {"HTTPStatusCode": 200, "RetryAttempts": 0}}, "a b&c"] * 1
        + [{"ResponseMetadata": {"HTTPStatusCode": 200, "RetryAttempts": 0}}, False]
        + [{"ResponseMetadata": {"HTTPStatusCode": 200, "RetryAttempts": 0}}] * 2
    ] * 2
    assert fleet.entries() == {}
    both(
        pair, "autoscaling", "update_auto_scaling_group", AutoScalingGroupName=fleet.asg, MinSize=0
    )
    standard.autoscaling.enter_standby(
        InstanceIds=[first], AutoScalingGroupName=fleet.asg, ShouldDecrementDesiredCapacity=True
    )
    boto.autoscaling.enter_standby(
        InstanceIds=[second], AutoScalingGroupName=fleet.asg, ShouldDecrementDesiredCapacity=True
    )
    assert set(fleet.lifecycle().values()) == {"Standby"}
    a = standard.autoscaling.exit_standby(InstanceIds=[first], AutoScalingGroupName=fleet.asg)
    b = boto.autoscaling.exit_standby(InstanceIds=[second], AutoScalingGroupName=fleet.asg)
    assert [x["Description"][:20] for x in a["Activities"]] == [
        x["Description"][:20] for x in b["Activities"]
    ]
    # Each client its own instance: the same write twice would meet a changed state.
    for method in ("deregister_targets", "register_targets"):
        answers = [
            normalized(
                getattr(c.elbv2, method)(TargetGroupArn=fleet.target_group_arn, Targets=[{"Id": i}])
            )
            for c, i in zip(pair, (first, second), strict=True)
        ]
        assert answers[0] == answers[1]
    for method in (
        "deregister_instances_from_load_balancer",
        "register_instances_with_load_balancer",
    ):
        answers = [
            normalized(
                getattr(c.elb, method)(
                    LoadBalancerName=fleet.elb_name, Instances=[{"InstanceId": i}]
                )
            )
            for c, i in zip(pair, (first, second), strict=True)
        ]
        assert answers[0] == answers[1]
    assert set(fleet.targets()) == {first, second}
    assert fleet.capacity()[0] == 0 and set(fleet.lifecycle().values()) == {"InService"}


def test_paged_calls_give_botocores_pages(make_fleet, pair):
    fleet = make_fleet(1, 2, 1, classic=True)
    tag = [{"ResourceType": "instance", "Tags": [{"Key": "cutover:page", "Value": fleet.asg}]}]
    for _ in range(6):  # six reservations: EC2 pages by reservation
        fleet.ec2.run_instances(ImageId=AMI, MinCount=1, MaxCount=1, TagSpecifications=tag)
    for n in range(3):
        fleet.elb.create_load_balancer(
            LoadBalancerName=f"{fleet.elb_name}-{n}",
            Listeners=[{"Protocol": "HTTP", "LoadBalancerPort": 80, "InstancePort": 80}],
            AvailabilityZones=[f"{REGION}a"],
        )
    pages = []
    for clients in pair:
        paginator = clients.ec2.get_paginator("describe_instances")
        found = paginator.paginate(
            Filters=[{"Name": "tag:cutover:page", "Values": [fleet.asg]}],
            PaginationConfig={"PageSize": 5},
        )
        pages.append([normalized(page) for page in found])
        groups = clients.elbv2.get_paginator("describe_target_groups").paginate()
        pages.append([normalized(page) for page in groups])
        balancers = clients.elb.get_paginator("describe_load_balancers")
        pages.append([normalized(p) for p in balancers.paginate(PaginationConfig={"PageSize": 2})])
    assert pages[:3] == pages[3:]
    assert [len(p["Reservations"]) for p in pages[0]] == [5, 1]  # EC2's smallest page is 5
    assert len(pages[2]) >= 2


def test_signature_is_botocores_for_query_and_json_with_a_session_token():
    keys = ("AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", "token/with+chars==")
    for service, operation, params in [
        ("autoscaling", "DescribeAutoScalingGroups", {"AutoScalingGroupNames": ["a b", "c&d"]}),
        ("ec2", "DescribeInstances", {"Filters": [{"Name": "tag:x", "Values": ["1"]}]}),
        ("codedeploy", "GetDeployment", {"deploymentId": "d-123"}),
    ]:
        for token in (keys[2], None):
            model = awsclient.service_model(service)
            headers, body = serialize(model, operation, params)
            url = f"https://{model.metadata['endpointPrefix']}.eu-central-1.amazonaws.com/"
            request = AWSRequest(method="POST", url=url, data=body, headers=dict(headers))
            auth = SigV4Auth(
                BotocoreCredentials(*keys[:2], token), model.signing_name, "eu-central-1"
            )
            auth.add_auth(request)
            ours = signed_headers(
                "POST",
                url,
                headers,
                body,
                Credentials(keys[0], keys[1], token),
                "eu-central-1",
                model.signing_name,
                request.headers["X-Amz-Date"],
            )
            assert ours["Authorization"] == request.headers["Authorization"]
            assert ours.get("X-Amz-Security-Token") == request.headers.get("X-Amz-Security-Token")


def test_a_non_default_port_is_signed_as_botocore_signs_it():
    model = awsclient.service_model("elbv2")
    headers, body = serialize(model, "DescribeTargetGroups", {})
    url = "http://127.0.0.1:5000/"
    request = AWSRequest(method="POST", url=url, data=body, headers=dict(headers))
    SigV4Auth(BotocoreCredentials("a", "b"), "elasticloadbalancing", REGION).add_auth(request)
    ours = signed_headers(
        "POST",
        url,
        headers,
        body,
        Credentials("a", "b"),
        REGION,
        "elasticloadbalancing",
        request.headers["X-Amz-Date"],
    )
    assert ours["Authorization"] == request.headers["Authorization"]


def test_retry_conditions_are_botocores():
    standard = botocore.retries.standard
    assert (
        set(standard.ThrottledRetryableChecker._THROTTLED_ERROR_CODES) == retries.THROTTLING_CODES
    )
    assert set(standard.TransientRetryableChecker._TRANSIENT_ERROR_CODES) == retries.TRANSIENT_CODES
    assert (
        set(standard.TransientRetryableChecker._TRANSIENT_STATUS_CODES)
        == retries.TRANSIENT_STATUSES
    )


def test_calls_on_threads_share_keep_alive_connections(make_fleet, throttling_proxy, monkeypatch):
    """Through an HTTP/1.1 server (the proxy in front of moto, throttling nothing): 40 calls on
    8 threads, each answered right, over at most 8 connections kept open."""
    from concurrent.futures import ThreadPoolExecutor

    fleet = make_fleet(1, 2, 1)
    monkeypatch.setenv("AWS_ENDPOINT_URL", throttling_proxy.url)
    standard = connect(from_environment("deregister", region=REGION), REGION)

    def name(_: int) -> str:
        answer = standard.autoscaling.describe_auto_scaling_groups(
            AutoScalingGroupNames=[fleet.asg]
        )
        return answer["AutoScalingGroups"][0]["AutoScalingGroupName"]

    with ThreadPoolExecutor(8) as pool:
        assert list(pool.map(name, range(40))) == [fleet.asg] * 40
    idle = standard.autoscaling._caller.connections._idle
    assert 1 <= sum(len(v) for v in idle.values()) <= 8
    assert throttling_proxy.forwarded == 40


def test_throttling_is_retried_by_the_standard_client_with_its_rate_limiter(
    make_fleet, throttling_proxy, monkeypatch
):
    fleet = make_fleet(1, 2, 1)
    monkeypatch.setenv("AWS_ENDPOINT_URL", throttling_proxy.url)
    monkeypatch.setenv("CUTOVER_MAX_RETRIES", "0")  # does not bound throttling retries
    monkeypatch.setenv("CUTOVER_RETRY_MAX_DELAY", "0.02")
    standard = connect(from_environment("deregister", region=REGION), REGION)
    throttling_proxy.remaining = 4

    answer = standard.autoscaling.describe_auto_scaling_groups(AutoScalingGroupNames=[fleet.asg])

    assert answer["AutoScalingGroups"][0]["AutoScalingGroupName"] == fleet.asg
    assert answer["ResponseMetadata"]["RetryAttempts"] == 4
    assert throttling_proxy.throttled == 4 and throttling_proxy.forwarded == 1
    # botocore's adaptive mode: the limiter is on once AWS throttled, off for other clients.
    assert standard.autoscaling._limiter._enabled
    assert not standard.ec2._limiter._enabled


def test_a_failing_endpoint_gets_max_retries_then_botocores_error(aws_env, monkeypatch):
    import threading
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    seen: list[str] = []

    class Failing(BaseHTTPRequestHandler):
        def log_message(self, *args: Any) -> None:
            pass

        def do_POST(self) -> None:  # noqa: N802
            self.rfile.read(int(self.headers.get("Content-Length", 0)))
            seen.append(self.path)
            body = b"<html><body>Service Unavailable</body></html>"
            self.send_response(503)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

    server = ThreadingHTTPServer(("127.0.0.1", 0), Failing)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        monkeypatch.setenv("AWS_ENDPOINT_URL", f"http://127.0.0.1:{server.server_address[1]}")
        monkeypatch.setenv("CUTOVER_MAX_RETRIES", "2")
        outcomes = []
        for session in (None, fast_session()):
            clients = connect(from_environment("deregister", region=REGION), REGION, session)
            seen.clear()
            with pytest.raises(ClientError) as caught:
                clients.elbv2.describe_target_groups()
            outcomes.append((len(seen), normalized(caught.value.response)))
    finally:
        server.shutdown()
    assert outcomes[0][0] == 3  # the first attempt and CUTOVER_MAX_RETRIES retries
    assert outcomes[0] == outcomes[1]
    assert outcomes[0][1]["Error"] == {"Code": "503", "Message": "Service Unavailable"}


def test_an_unreachable_endpoint_is_botocores_connection_error(aws_env, monkeypatch):
    from botocore.exceptions import EndpointConnectionError

    from .conftest import free_port

    monkeypatch.setenv("AWS_ENDPOINT_URL", f"http://127.0.0.1:{free_port()}")
    monkeypatch.setenv("CUTOVER_MAX_RETRIES", "1")
    standard = connect(from_environment("deregister", region=REGION), REGION)
    with pytest.raises(EndpointConnectionError, match="Could not connect to the endpoint URL"):
        standard.ec2.describe_instances()


def test_the_operation_in_progress_is_remembered(aws_env):
    from hooks.clients import last_call

    standard = connect(from_environment("deregister", region=REGION), REGION)
    standard.elbv2.describe_target_groups()
    assert last_call.operation == "DescribeTargetGroups"
    assert last_call.endpoint == aws_env["AWS_ENDPOINT_URL"]


def test_an_answer_that_does_not_fit_the_model_is_a_parser_error():
    from hooks.awsprotocol import ResponseParserError, parse

    model = awsclient.service_model("autoscaling")
    wrong = (
        b"<DescribeAutoScalingGroupsResponse><DescribeAutoScalingGroupsResult><AutoScalingGroups>"
        b"<member><MinSize>one</MinSize></member></AutoScalingGroups>"
        b"</DescribeAutoScalingGroupsResult></DescribeAutoScalingGroupsResponse>"
    )
    for body in (wrong, b"<html><body>Welcome</body></html>", b'{"json": true}'):
        with pytest.raises(ResponseParserError, match="Unable to parse response"):
            parse(model, "DescribeAutoScalingGroups", 200, {}, body)


def test_timestamps_are_botocores_instants():
    from botocore.utils import parse_timestamp

    from hooks.awsprotocol import _timestamp

    for text in (
        "2026-12-07T09:57:00Z",
        "2026-12-07T09:57:00.329Z",
        "2026-12-07T09:57:00.123456789Z",
        "2026-12-07T11:57:00.5+02:00",
        "2026-12-07T09:57:00",
        "1765101420",
        "1765101420.25",
    ):
        assert _timestamp(text) == parse_timestamp(text), text
    assert _timestamp(1765101420.25) == parse_timestamp(1765101420.25)
