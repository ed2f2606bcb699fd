"""Servers for the hooks' tests: moto over real HTTP, a small IMDSv2 fake, a throttling proxy,
and a factory for Auto Scaling groups behind target groups and classic ELBs."""

from __future__ import annotations

import http.client
import json
import logging
import socket
import threading
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import boto3
import botocore.loaders
import botocore.session
import pytest
from moto.moto_server.werkzeug_app import (
    DomainDispatcherApplication,
    MotoRequestHandler,
    create_backend_app,
)
from werkzeug.serving import make_server

from hooks.runbook import HookRun, run_hook
from hooks.settings import from_environment

from .aws_rules import enforce_standby_membership
from .codedeploy_rules import CodeDeployRules

REGION = "us-east-1"
AMI = "ami-12c6146b"  # one of moto's built-in images


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class OneAtATime:
    """moto's application with one request handled at a time. Its backends are not thread-safe:
    a DescribeInstances filtering on tags while another hook's CreateTags changed them answered
    500 with an HTML page (`dictionary changed size during iteration`), which botocore cannot
    parse. AWS answers concurrent calls consistently; the hooks still run concurrently, and
    their calls still interleave, one whole call at a time."""

    def __init__(self, app: Any) -> None:
        self.app = app
        self.lock = threading.Lock()

    def __call__(self, environ: dict[str, Any], start_response: Any) -> list[bytes]:
        with self.lock:
            return list(self.app(environ, start_response))


@pytest.fixture(scope="session")
def moto_url() -> Iterator[str]:
    logging.getLogger("werkzeug").setLevel(logging.WARNING)  # one line per request otherwise
    app = OneAtATime(DomainDispatcherApplication(create_backend_app))
    server = make_server(
        "127.0.0.1", free_port(), app, threaded=True, request_handler=MotoRequestHandler
    )
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()


class FakeImds(BaseHTTPRequestHandler):
    """IMDSv2 only: GETs without a valid token get 401, like an instance requiring tokens."""

    token = "token-" + uuid.uuid4().hex
    values: dict[str, str] = {}
    requests: list[str] = []

    def log_message(self, *args: Any) -> None:
        pass

    def _reply(self, status: int, body: str) -> None:
        data = body.encode()
        self.send_response(status)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_PUT(self) -> None:  # noqa: N802
        self.requests.append(f"PUT {self.path}")
        if self.path != "/latest/api/token" or not self.headers.get(
            "X-aws-ec2-metadata-token-ttl-seconds"
        ):
            return self._reply(400, "")
        self._reply(200, self.token)

    def do_GET(self) -> None:  # noqa: N802
        self.requests.append(f"GET {self.path}")
        if self.headers.get("X-aws-ec2-metadata-token") != self.token:
            return self._reply(401, "")
        key = self.path.removeprefix("/latest/meta-data/")
        if key not in self.values:
            return self._reply(404, "")
        self._reply(200, self.values[key])


@pytest.fixture(scope="session")
def imds_server() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), FakeImds)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()


@dataclass
class Imds:
    url: str

    def serve(self, instance_id: str, region: str = REGION) -> None:
        FakeImds.values = {"instance-id": instance_id, "placement/region": region}

    @property
    def requests(self) -> list[str]:
        return FakeImds.requests


@pytest.fixture
def imds(imds_server: str) -> Imds:
    FakeImds.values = {}
    FakeImds.requests = []
    return Imds(imds_server)


@pytest.fixture(scope="session")
def codedeploy_server(moto_url: str) -> Iterator[CodeDeployRules]:
    rules = CodeDeployRules(moto_url, REGION)
    rules.serve()
    yield rules
    rules.stop()


@pytest.fixture(scope="session")
def session_deployment(codedeploy_server: CodeDeployRules) -> str:
    """One deployment in progress (in moto) that the tests' hooks run in by default."""
    return codedeploy_server.start_deployment()


@pytest.fixture
def codedeploy(codedeploy_server: CodeDeployRules) -> Iterator[CodeDeployRules]:
    """CodeDeploy in front of moto: `start_deployment()`, `end(id, status)`, `refuse`."""
    codedeploy_server.reset()
    yield codedeploy_server
    codedeploy_server.reset()


@pytest.fixture
def aws_env(
    moto_url: str,
    imds: Imds,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    codedeploy: CodeDeployRules,
    session_deployment: str,
) -> dict[str, str]:
    """A clean moto, and the environment a hook sees on an instance (short waits for tests)."""
    # No moto reset between tests: re-creating its EC2 backend costs about a second, and every
    # test builds its own uniquely named group, target group and ELB.
    env = {
        "AWS_ENDPOINT_URL": moto_url,
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": REGION,
        "AWS_CONFIG_FILE": str(tmp_path / "no-aws-config"),
        "AWS_SHARED_CREDENTIALS_FILE": str(tmp_path / "no-aws-credentials"),
        "AWS_EC2_METADATA_SERVICE_ENDPOINT": imds.url,
        "CUTOVER_STATE_DIR": str(tmp_path / "state"),
        "CUTOVER_POLL_INTERVAL": "0.01",
        # moto drains and turns healthy at once: its deregistration delay (300 s) and health
        # checks (5 x 30 s) shrink to milliseconds on this clock.
        "CUTOVER_TIME_SCALE": "100000",
        "CUTOVER_MAX_RETRIES": "3",
        "CUTOVER_CONNECT_TIMEOUT": "2",
        "CUTOVER_TIMEOUT": "20",  # a hook that waits for nothing fails fast instead of hanging
        # CodeDeploy through the proxy that ends deployments as AWS does (moto never does).
        "AWS_ENDPOINT_URL_CODEDEPLOY": codedeploy.url,
        # A deployment CodeDeploy knows and still runs: reconcile and the watchdog ask it.
        "DEPLOYMENT_ID": session_deployment,
        "CUTOVER_HEAL": "off",  # the self-healing tests turn it on with a short delay
    }
    for name in (
        "AWS_PROFILE",
        "AWS_SESSION_TOKEN",
        "AWS_REGION",
        "CUTOVER_ALLOW_DOWNTIME",
        "CUTOVER_HEAL_AFTER",
        "CUTOVER_STALE_AFTER",
    ):
        monkeypatch.delenv(name, raising=False)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    return env


@dataclass
class Fleet:
    """One test estate: an optional Auto Scaling group, a target group, a classic ELB."""

    asg: str | None
    target_group_arn: str | None
    elb_name: str | None
    instance_ids: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.autoscaling = boto3.client("autoscaling", region_name=REGION)
        self.elbv2 = boto3.client("elbv2", region_name=REGION)
        self.elb = boto3.client("elb", region_name=REGION)
        self.ec2 = boto3.client("ec2", region_name=REGION)

    def group(self) -> dict[str, Any]:
        return self.autoscaling.describe_auto_scaling_groups(AutoScalingGroupNames=[self.asg])[
            "AutoScalingGroups"
        ][0]

    def capacity(self) -> tuple[int, int, int]:
        g = self.group()
        return g["MinSize"], g["MaxSize"], g["DesiredCapacity"]

    def tags(self) -> dict[str, str]:
        return {t["Key"]: t["Value"] for t in self.group()["Tags"]}

    def hook_tags(self) -> dict[str, str]:
        """The hooks' state: their group tags and the entries on the group's instances."""
        found = {
            k: v
            for k, v in self.tags().items()
            if k.startswith("cutover:") and k != ("cutover:allow-downtime")
        }
        return found | self.entries()

    def entries(self) -> dict[str, str]:
        """instance id -> value of its `cutover:deploy` tag, for every instance of the fleet."""
        ids = sorted(set(self.instance_ids) | set(self.lifecycle() if self.asg else {}))
        reservations = self.ec2.describe_instances(InstanceIds=ids)["Reservations"]
        return {
            i["InstanceId"]: t["Value"]
            for r in reservations
            for i in r["Instances"]
            for t in i.get("Tags", [])
            if t["Key"] == "cutover:deploy"
        }

    def record(self) -> dict[str, Any] | None:
        value = self.tags().get("cutover:capacity")
        return json.loads(value) if value is not None else None

    def lifecycle(self) -> dict[str, str]:
        return {i["InstanceId"]: i["LifecycleState"] for i in self.group()["Instances"]}

    def live_instances(self) -> set[str]:
        reservations = self.ec2.describe_instances(
            Filters=[
                {"Name": "instance-state-name", "Values": ["pending", "running"]},
                {"Name": "tag:aws:autoscaling:groupName", "Values": [self.asg or ""]},
            ]
        )["Reservations"]
        return {i["InstanceId"] for r in reservations for i in r["Instances"]}

    def targets(self) -> dict[str, str]:
        answer = self.elbv2.describe_target_health(TargetGroupArn=self.target_group_arn)
        return {
            d["Target"]["Id"]: d["TargetHealth"]["State"]
            for d in answer["TargetHealthDescriptions"]
        }

    def elb_instances(self) -> dict[str, str]:
        answer = self.elb.describe_instance_health(LoadBalancerName=self.elb_name)
        return {i["InstanceId"]: i["State"] for i in answer["InstanceStates"]}

    def set_tag(self, key: str, value: str) -> None:
        self.autoscaling.create_or_update_tags(
            Tags=[
                {
                    "ResourceId": self.asg,
                    "ResourceType": "auto-scaling-group",
                    "Key": key,
                    "Value": value,
                    "PropagateAtLaunch": False,
                }
            ]
        )


def _own_vpc(ec2: Any) -> tuple[str, str]:
    """A VPC and subnet per fleet: target group discovery scans one VPC, as on AWS."""
    vpc = ec2.create_vpc(CidrBlock="10.0.0.0/16")["Vpc"]["VpcId"]
    subnet = ec2.create_subnet(VpcId=vpc, CidrBlock="10.0.0.0/24", AvailabilityZone=f"{REGION}a")
    return vpc, subnet["Subnet"]["SubnetId"]


@pytest.fixture
def make_fleet(aws_env: dict[str, str]):
    """make_fleet(min, max, desired, target_group=True, classic=False, in_group=True, ...)."""

    def make(
        min_size: int = 1,
        max_size: int = 2,
        desired: int = 1,
        *,
        target_group: bool = True,
        classic: bool = False,
        in_group: bool = True,
        attach: bool = True,
        allow_downtime: bool = False,
    ) -> Fleet:
        suffix = uuid.uuid4().hex[:8]
        ec2 = boto3.client("ec2", region_name=REGION)
        vpc, subnet = _own_vpc(ec2)
        tg_arn = elb_name = None
        if target_group:
            tg_arn = boto3.client("elbv2", region_name=REGION).create_target_group(
                Name=f"tg-{suffix}",
                Protocol="HTTP",
                Port=80,
                VpcId=vpc,
                TargetType="instance",
            )["TargetGroups"][0]["TargetGroupArn"]
        if classic:
            elb_name = f"elb-{suffix}"
            boto3.client("elb", region_name=REGION).create_load_balancer(
                LoadBalancerName=elb_name,
                Listeners=[{"Protocol": "HTTP", "LoadBalancerPort": 80, "InstancePort": 80}],
                AvailabilityZones=[f"{REGION}a"],
            )
        if not in_group:
            fleet = Fleet(None, tg_arn, elb_name)
            reservation = ec2.run_instances(
                ImageId=AMI,
                InstanceType="t3.micro",
                MinCount=desired,
                MaxCount=desired,
                SubnetId=subnet,
            )
            fleet.instance_ids = [i["InstanceId"] for i in reservation["Instances"]]
            targets = [{"Id": i, "Port": 80} for i in fleet.instance_ids]
            if tg_arn:
                fleet.elbv2.register_targets(TargetGroupArn=tg_arn, Targets=targets)
            if elb_name:
                fleet.elb.register_instances_with_load_balancer(
                    LoadBalancerName=elb_name,
                    Instances=[{"InstanceId": i} for i in fleet.instance_ids],
                )
            return fleet
        ec2.create_launch_template(
            LaunchTemplateName=f"lt-{suffix}",
            LaunchTemplateData={"ImageId": AMI, "InstanceType": "t3.micro"},
        )
        asg = f"asg-{suffix}"
        tags = []
        if allow_downtime:
            tags.append({"Key": "cutover:allow-downtime", "Value": "true"})
        params: dict[str, Any] = {
            "AutoScalingGroupName": asg,
            "LaunchTemplate": {"LaunchTemplateName": f"lt-{suffix}", "Version": "$Latest"},
            "MinSize": min_size,
            "MaxSize": max_size,
            "DesiredCapacity": desired,
            "VPCZoneIdentifier": subnet,
            "Tags": tags,
        }
        if tg_arn and attach:
            params["TargetGroupARNs"] = [tg_arn]
        if elb_name and attach:
            params["LoadBalancerNames"] = [elb_name]
        fleet = Fleet(asg, tg_arn, elb_name)
        fleet.autoscaling.create_auto_scaling_group(**params)
        fleet.instance_ids = sorted(fleet.lifecycle())
        if not attach:
            if tg_arn:
                fleet.elbv2.register_targets(
                    TargetGroupArn=tg_arn, Targets=[{"Id": i} for i in fleet.instance_ids]
                )
            if elb_name:
                fleet.elb.register_instances_with_load_balancer(
                    LoadBalancerName=elb_name,
                    Instances=[{"InstanceId": i} for i in fleet.instance_ids],
                )
        return fleet

    return make


_LOADER = botocore.loaders.create_loader()


def fast_session(standby_membership: bool = True) -> boto3.Session:
    """A new boto3 session (one per hook run, as on an instance) that shares parsed service
    models with the other sessions of the test run, so building clients costs milliseconds.
    Standby changes the group's load balancers as on AWS (moto leaves them alone); pass
    `standby_membership=False` to install that rule yourself (e.g. with draining)."""
    core = botocore.session.get_session()
    core.register_component("data_loader", _LOADER)
    session = boto3.Session(botocore_session=core)
    if standby_membership:
        enforce_standby_membership(session.events)
    return session


@pytest.fixture
def hook(aws_env: dict[str, str]):
    """hook(command, instance_id, stop_after=None, session=None, **options): run in-process."""

    def run(
        command: str,
        instance_id: str | None = None,
        *,
        stop_after: int | None = None,
        session: boto3.Session | None = None,
        **options: Any,
    ) -> HookRun:
        settings = from_environment(command, instance_id=instance_id, region=REGION, **options)
        return run_hook(settings, session=session or fast_session(), stop_after=stop_after)

    return run


class Throttler(BaseHTTPRequestHandler):
    """Forwards to moto, but answers the first `remaining` requests with a Throttling error."""

    upstream = ""
    remaining = 0
    throttled = 0
    forwarded = 0
    lock = threading.Lock()
    protocol_version = "HTTP/1.1"

    def log_message(self, *args: Any) -> None:
        pass

    def do_POST(self) -> None:  # noqa: N802
        body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
        with Throttler.lock:
            throttle = Throttler.remaining > 0
            if throttle:
                Throttler.remaining -= 1
                Throttler.throttled += 1
            else:
                Throttler.forwarded += 1
        if throttle:
            error = (
                b"<ErrorResponse><Error><Type>Sender</Type><Code>Throttling</Code>"
                b"<Message>Rate exceeded</Message></Error><RequestId>x</RequestId></ErrorResponse>"
            )
            self.send_response(400)
            self.send_header("Content-Type", "text/xml")
            self.send_header("Content-Length", str(len(error)))
            self.end_headers()
            self.wfile.write(error)
            return
        host = Throttler.upstream.removeprefix("http://")
        conn = http.client.HTTPConnection(host, timeout=10)
        headers = {k: v for k, v in self.headers.items() if k.lower() != "host"}
        conn.request("POST", self.path, body=body, headers=headers)
        answer = conn.getresponse()
        data = answer.read()
        self.send_response(answer.status)
        for key, value in answer.getheaders():
            if key.lower() not in ("content-length", "transfer-encoding", "connection"):
                self.send_header(key, value)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)
        conn.close()


@pytest.fixture
def throttling_proxy(moto_url: str) -> Iterator[type[Throttler]]:
    Throttler.upstream = moto_url
    Throttler.remaining = Throttler.throttled = Throttler.forwarded = 0
    server = ThreadingHTTPServer(("127.0.0.1", 0), Throttler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    Throttler.url = f"http://127.0.0.1:{server.server_address[1]}"  # type: ignore[attr-defined]
    yield Throttler
    server.shutdown()


def record_calls(session: boto3.Session) -> list[str]:
    """Every API operation made through `session`, as IAM actions (service:Operation)."""
    calls: list[str] = []

    def before_call(model: Any, **kwargs: Any) -> None:
        calls.append(f"{model.service_model.endpoint_prefix}:{model.name}")

    session.events.register("before-call", before_call)
    return calls


def dump(value: Any) -> str:
    return json.dumps(value, sort_keys=True)
