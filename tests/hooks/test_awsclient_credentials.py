"""Where the standard-library client finds credentials and endpoints (botocore's order for what
it supports), and when it leaves the calls to botocore: the environment, the shared files, the
instance role from a fake IMDSv2 on 127.0.0.1, the standard endpoints of every partition."""

from __future__ import annotations

import json
import os
import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from http.server import ThreadingHTTPServer
from pathlib import Path

import botocore.session
import pytest

from hooks import awsclient
from hooks.awscredentials import CredentialChain, unsupported
from hooks.clients import connect
from hooks.settings import from_environment
from hooks.sigv4 import Credentials

from .conftest import REGION, FakeImds

ROLE = "cutover-hooks-role"


class RoleImds(FakeImds):
    """IMDSv2 with an instance role: token, role name, then the role's credentials (a new key
    each time they are asked for, expiring `expires_in` from then)."""

    issued = 0
    expires_in = timedelta(hours=6)

    def do_GET(self) -> None:  # noqa: N802
        role = f"/latest/meta-data/iam/security-credentials/{ROLE}"
        if self.path != role or self.headers.get("X-aws-ec2-metadata-token") != self.token:
            return super().do_GET()
        self.requests.append(f"GET {self.path}")
        RoleImds.issued += 1
        expiration = datetime.now(UTC) + RoleImds.expires_in
        document = {
            "Code": "Success",
            "Type": "AWS-HMAC",
            "AccessKeyId": f"ASIAROLE{RoleImds.issued}",
            "SecretAccessKey": "role-secret",
            "Token": "role-token",
            "Expiration": expiration.strftime("%Y-%m-%dT%H:%M:%SZ"),
        }
        self._reply(200, json.dumps(document, indent=2))


@pytest.fixture
def role_imds(monkeypatch: pytest.MonkeyPatch) -> Iterator[type[RoleImds]]:
    RoleImds.issued, RoleImds.requests, RoleImds.expires_in = 0, [], timedelta(hours=6)
    RoleImds.values = {"iam/security-credentials/": ROLE}
    server = ThreadingHTTPServer(("127.0.0.1", 0), RoleImds)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    monkeypatch.setenv(
        "AWS_EC2_METADATA_SERVICE_ENDPOINT", f"http://127.0.0.1:{server.server_address[1]}"
    )
    yield RoleImds
    server.shutdown()


@pytest.fixture
def bare(tmp_path: Path) -> dict[str, str]:
    """An environment without credentials or shared files."""
    return {
        "AWS_SHARED_CREDENTIALS_FILE": str(tmp_path / "credentials"),
        "AWS_CONFIG_FILE": str(tmp_path / "config"),
    }


def botocore_credentials(environ: dict[str, str], monkeypatch: pytest.MonkeyPatch) -> Credentials:
    for name, value in environ.items():
        monkeypatch.setenv(name, value)
    found = botocore.session.get_session().get_credentials().get_frozen_credentials()
    return Credentials(found.access_key, found.secret_key, found.token)


def test_environment_keys_come_first(bare, monkeypatch, tmp_path):
    Path(bare["AWS_SHARED_CREDENTIALS_FILE"]).write_text(
        "[default]\naws_access_key_id = file\naws_secret_access_key = s\n"
    )
    env = {
        **bare,
        "AWS_ACCESS_KEY_ID": "env",
        "AWS_SECRET_ACCESS_KEY": "secret",
        "AWS_SESSION_TOKEN": "tok",
    }
    assert unsupported(env) is None
    ours = CredentialChain(env).get()
    assert ours == Credentials("env", "secret", "tok") == botocore_credentials(env, monkeypatch)


def test_the_profiles_static_keys_from_the_credentials_then_the_config_file(bare, monkeypatch):
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN"):
        monkeypatch.delenv(name, raising=False)
    Path(bare["AWS_SHARED_CREDENTIALS_FILE"]).write_text(
        "[default]\naws_access_key_id = d\naws_secret_access_key = ds\n"
        "[ops]\naws_access_key_id = o\naws_secret_access_key = os\naws_session_token = ot\n"
    )
    Path(bare["AWS_CONFIG_FILE"]).write_text(
        "[profile cfg]\naws_access_key_id = c\naws_secret_access_key = cs\nregion = eu-west-1\n"
    )
    for profile, expected in [
        (None, ("d", "ds", None)),
        ("ops", ("o", "os", "ot")),
        ("cfg", ("c", "cs", None)),
    ]:
        env = {**bare, **({"AWS_PROFILE": profile} if profile else {})}
        monkeypatch.delenv("AWS_PROFILE", raising=False)
        assert unsupported(env) is None
        assert CredentialChain(env).get() == Credentials(*expected)
        assert botocore_credentials(env, monkeypatch) == Credentials(*expected)


def test_the_instance_role_from_imdsv2_and_its_refresh_before_expiry(bare, role_imds, monkeypatch):
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_PROFILE"):
        monkeypatch.delenv(name, raising=False)
    env = {
        **bare,
        "AWS_EC2_METADATA_SERVICE_ENDPOINT": os.environ["AWS_EC2_METADATA_SERVICE_ENDPOINT"],
    }
    chain = CredentialChain(env)
    assert chain.get() == Credentials("ASIAROLE1", "role-secret", "role-token")
    assert chain.get().access_key == "ASIAROLE1"  # still valid for hours: no new request
    assert role_imds.requests[0] == "PUT /latest/api/token"
    assert role_imds.issued == 1
    assert botocore_credentials(env, monkeypatch).token == "role-token"

    role_imds.expires_in = timedelta(minutes=5)  # within botocore's mandatory refresh window
    soon = CredentialChain(env)
    assert soon.get().access_key == f"ASIAROLE{role_imds.issued}"
    issued = role_imds.issued
    assert soon.get().access_key == f"ASIAROLE{issued + 1}"


def test_no_credentials_anywhere_is_botocores_error(bare, imds, monkeypatch):
    from botocore.exceptions import NoCredentialsError

    env = {**bare, "AWS_EC2_METADATA_SERVICE_ENDPOINT": imds.url}
    with pytest.raises(NoCredentialsError, match="Unable to locate credentials"):
        CredentialChain(env).get()


@pytest.mark.parametrize(
    ("extra", "profile_text", "reason"),
    [
        (
            {"AWS_ROLE_ARN": "arn:aws:iam::1:role/x", "AWS_WEB_IDENTITY_TOKEN_FILE": "/t"},
            "",
            "AWS_ROLE_ARN",
        ),
        ({"AWS_CONTAINER_CREDENTIALS_RELATIVE_URI": "/v2/creds"}, "", "AWS_CONTAINER"),
        ({"AWS_USE_FIPS_ENDPOINT": "true"}, "", "AWS_USE_FIPS_ENDPOINT"),
        ({}, "[default]\nrole_arn = arn:aws:iam::1:role/x\nsource_profile = base\n", "role_arn"),
        ({}, "[default]\ncredential_process = /bin/creds\n", "credential_process"),
        (
            {},
            "[default]\nsso_session = corp\nsso_account_id = 1\nsso_role_name = r\n"
            "[sso-session corp]\nsso_region = us-east-1\nsso_start_url = https://x.invalid\n",
            "the profile sets sso_",
        ),
    ],
)
def test_what_only_botocore_does_falls_back_to_botocore(
    aws_env, bare, monkeypatch, extra, profile_text, reason
):
    Path(bare["AWS_CONFIG_FILE"]).write_text(profile_text)
    env = {**bare, **extra}
    assert reason in (unsupported(env) or "")
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    clients = connect(from_environment("deregister", region=REGION), REGION)
    assert not isinstance(clients.ec2, awsclient.Client)
    assert type(clients.ec2).__module__ == "botocore.client"


def test_a_profile_that_is_nowhere_gets_botocores_error(aws_env, bare, monkeypatch):
    from botocore.exceptions import ProfileNotFound

    env = {**bare, "AWS_PROFILE": "nowhere"}
    assert "profile nowhere" in (unsupported(env) or "")
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    clients = connect(from_environment("deregister", region=REGION), REGION)
    with pytest.raises(ProfileNotFound):
        clients.ec2.describe_instances()


def test_the_setting_sends_every_call_through_botocore(aws_env, monkeypatch):
    assert isinstance(
        connect(from_environment("deregister", region=REGION), REGION).ec2, awsclient.Client
    )
    monkeypatch.setenv("CUTOVER_AWS_CLIENT", "botocore")
    clients = connect(from_environment("deregister", region=REGION), REGION)
    assert type(clients.ec2).__module__ == "botocore.client"


def test_an_endpoint_behind_a_proxy_is_left_to_botocore(aws_env, monkeypatch):
    monkeypatch.setenv("HTTP_PROXY", "http://127.0.0.1:9")
    monkeypatch.setenv("NO_PROXY", "")
    clients = connect(from_environment("deregister", region=REGION), REGION)
    assert type(clients.autoscaling).__module__ == "botocore.client"
    # NO_PROXY naming the endpoint (with its port, as the tests' own do): no proxy to speak to.
    monkeypatch.setenv("NO_PROXY", aws_env["AWS_ENDPOINT_URL"].removeprefix("http://"))
    clients = connect(from_environment("deregister", region=REGION), REGION)
    assert isinstance(clients.autoscaling, awsclient.Client)


@pytest.mark.parametrize(
    "region",
    [
        "us-east-1",
        "eu-central-1",
        "ap-southeast-2",
        "cn-north-1",
        "cn-northwest-1",
        "us-gov-west-1",
        "us-gov-east-1",
        "us-iso-east-1",
        "us-isob-east-1",
    ],
)
def test_standard_endpoints_are_botocores(bare, monkeypatch, region):
    for name in ("AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_CODEDEPLOY"):
        monkeypatch.delenv(name, raising=False)
    session = botocore.session.get_session()
    for service in ("autoscaling", "ec2", "elbv2", "elb", "codedeploy"):
        theirs = session.create_client(
            service, region_name=region, aws_access_key_id="a", aws_secret_access_key="b"
        )
        assert (
            awsclient.endpoint(awsclient.service_model(service), region, {}).url
            == theirs.meta.endpoint_url
        )


def test_service_specific_endpoint_variables_win_as_in_botocore(monkeypatch):
    env = {
        "AWS_ENDPOINT_URL": "http://general:1",
        "AWS_ENDPOINT_URL_ELASTIC_LOAD_BALANCING_V2": "http://v2:2",
        "AWS_ENDPOINT_URL_AUTO_SCALING": "http://asg:3",
    }
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    session = botocore.session.get_session()
    for service in ("autoscaling", "ec2", "elbv2", "elb"):
        theirs = session.create_client(
            service, region_name=REGION, aws_access_key_id="a", aws_secret_access_key="b"
        )
        assert (
            awsclient.endpoint(awsclient.service_model(service), REGION, env).url
            == theirs.meta.endpoint_url
        )
