"""Where the hooks' settings come from, through the real wrapper scripts of a bundled revision:
command line > environment > /etc/cutover/hooks.env > the revision's bundled defaults."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from hooks.errors import EXIT_DEADLINE, EXIT_ENVIRONMENT, EXIT_USAGE
from hooks.settings import Layers, from_environment, read_env_file
from hooks.timing import DEFAULT_REGISTER_TIMEOUT, REGISTER_MARGIN
from revision.bundle import bundle

from .conftest import REGION, free_port

IID = "i-0123456789abcdef0"


@pytest.fixture
def revision(tmp_path: Path) -> Path:
    """A bundled revision (its cutover-hooks.env holds CUTOVER_DEREGISTER_TIMEOUT=360)."""
    root = tmp_path / "revision"
    root.mkdir()
    bundle(str(root))
    return root / "cutover-hooks"


def clean_env(tmp_path: Path, **extra: str) -> dict[str, str]:
    """The environment of the agent's script: no CUTOVER_* left over from the test run."""
    etc = tmp_path / "etc-hooks.env"
    if not etc.exists():
        etc.write_text("# nothing set on this instance\n")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("CUTOVER_", "AWS_"))}
    env.update(
        CUTOVER_PYTHON=sys.executable,
        CUTOVER_ETC_ENV=str(etc),
        # Nothing answers there: the hook stops right after logging its settings.
        AWS_EC2_METADATA_SERVICE_ENDPOINT=f"http://127.0.0.1:{free_port()}",
        PYTHONPATH="",
    )
    env.update(extra)
    return env


def wrapper(script: Path, env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(script), *args], capture_output=True, text=True, env=env, cwd="/", timeout=60
    )


def deadline_line(out: subprocess.CompletedProcess[str]) -> str:
    assert out.returncode == EXIT_ENVIRONMENT, out.stderr  # the metadata service is absent
    (line,) = [line for line in out.stdout.splitlines() if "settings:" in line]
    return line.split("settings: ", 1)[1]


def test_the_environment_wins_over_the_bundled_defaults(revision, tmp_path):
    env = clean_env(tmp_path, CUTOVER_DEREGISTER_TIMEOUT="8")
    out = wrapper(revision / "deregister.sh", env)
    assert deadline_line(out) == "deadline 8s (CUTOVER_DEREGISTER_TIMEOUT from the environment)"


def test_the_instance_file_wins_over_the_bundled_defaults(revision, tmp_path):
    (tmp_path / "etc-hooks.env").write_text("# on the instance\nexport CUTOVER_TIMEOUT='200'\n")
    out = wrapper(revision / "deregister.sh", clean_env(tmp_path))
    etc = tmp_path / "etc-hooks.env"
    # The instance's general CUTOVER_TIMEOUT beats the revision's CUTOVER_DEREGISTER_TIMEOUT:
    # layers first, then the name within a layer.
    assert deadline_line(out) == f"deadline 200s (CUTOVER_TIMEOUT from {etc})"


def test_the_environment_wins_over_the_instance_file(revision, tmp_path):
    (tmp_path / "etc-hooks.env").write_text("CUTOVER_DEREGISTER_TIMEOUT=200\n")
    env = clean_env(tmp_path, CUTOVER_TIMEOUT="9")
    out = wrapper(revision / "deregister.sh", env)
    assert deadline_line(out) == "deadline 9s (CUTOVER_TIMEOUT from the environment)"


def test_the_command_line_wins_over_everything(revision, tmp_path):
    (tmp_path / "etc-hooks.env").write_text("CUTOVER_DEREGISTER_TIMEOUT=200\n")
    env = clean_env(tmp_path, CUTOVER_DEREGISTER_TIMEOUT="8")
    out = wrapper(revision / "deregister.sh", env, "--timeout", "5")
    assert deadline_line(out) == "deadline 5s (--timeout)"


def test_the_bundled_defaults_apply_when_nothing_else_is_set(revision, tmp_path):
    out = wrapper(revision / "register.sh", clean_env(tmp_path))
    bundled = revision / "cutover-hooks.env"
    deadline = DEFAULT_REGISTER_TIMEOUT - REGISTER_MARGIN  # the appspec default minus the margin
    assert deadline_line(out) == f"deadline {deadline}s (CUTOVER_REGISTER_TIMEOUT from {bundled})"


def test_variables_from_the_instance_file_reach_boto3_and_the_interpreter(revision, tmp_path):
    # AWS_* and proxy settings in /etc/cutover/hooks.env are exported to the hook's process.
    dead = f"http://127.0.0.1:{free_port()}"
    (tmp_path / "etc-hooks.env").write_text(
        f"AWS_ENDPOINT_URL={dead}\nCUTOVER_MAX_RETRIES=0\nCUTOVER_PYTHON={sys.executable}\n"
        "AWS_ACCESS_KEY_ID=testing\nAWS_SECRET_ACCESS_KEY=testing\n"
    )
    env = clean_env(tmp_path)
    del env["CUTOVER_PYTHON"]  # found in the instance file by the wrapper
    out = wrapper(revision / "deregister.sh", env, "--instance-id", IID, "--region", REGION)

    assert out.returncode == EXIT_ENVIRONMENT, out.stderr
    assert dead in out.stderr and "Could not connect" in out.stderr


def test_a_line_that_is_not_an_assignment_is_refused_with_its_place(revision, tmp_path):
    etc = tmp_path / "etc-hooks.env"
    etc.write_text("CUTOVER_TIMEOUT=9\n$(reboot)\n")
    out = wrapper(revision / "deregister.sh", clean_env(tmp_path))
    assert out.returncode == EXIT_USAGE
    assert out.stderr == (
        f"cutover-hooks deregister: error: {etc}:2: expected KEY=value, got '$(reboot)'; "
        "fix or remove the line\n"
    )


def test_deadline_from_the_environment_is_the_one_the_hook_keeps(make_fleet, hook, tmp_path):
    """The reported defect: CUTOVER_*_TIMEOUT in the instance's environment was overridden by
    the revision's bundled file. A register that can never succeed shows which deadline ran."""
    fleet = make_fleet(desired=2, target_group=False, classic=True, in_group=False)
    iid = fleet.instance_ids[0]
    hook("deregister", iid)
    fleet.ec2.stop_instances(InstanceIds=[iid])  # it will never be InService again
    root = tmp_path / "rev"
    root.mkdir()
    bundle(str(root))
    scripts = root / "cutover-hooks"
    (scripts / "cutover-hooks.env").write_text("CUTOVER_REGISTER_TIMEOUT=4\n")
    env = {
        **clean_env(tmp_path, CUTOVER_REGISTER_TIMEOUT="0.5"),
        **{k: v for k, v in os.environ.items() if k.startswith("AWS_")},
        "CUTOVER_POLL_INTERVAL": "0.05",
        "CUTOVER_STATE_DIR": os.environ["CUTOVER_STATE_DIR"],
    }

    out = wrapper(scripts / "register.sh", env, "--instance-id", iid, "--region", REGION)

    assert out.returncode == EXIT_DEADLINE, out.stderr
    assert "timed out after 0.5s waiting for InService and healthy targets" in out.stderr


def test_a_settings_file_named_on_purpose_must_exist(revision, tmp_path):
    env = clean_env(tmp_path, CUTOVER_ETC_ENV=str(tmp_path / "typo.env"))
    out = wrapper(revision / "deregister.sh", env)
    assert out.returncode == EXIT_USAGE
    assert f"CUTOVER_ETC_ENV names {tmp_path / 'typo.env'}, which is not a file" in out.stderr


def test_settings_files_read_like_the_shell_would():
    path = Path(__file__).with_name("fixtures") / "hooks.env"
    assert read_env_file(path) == {
        "CUTOVER_TIMEOUT": "200",
        "CUTOVER_MIN_HEALTHY": "2",
        "HTTPS_PROXY": "http://proxy.internal:3128",
        "NO_PROXY": "169.254.169.254,.amazonaws.com",
        "EMPTY": "",
    }


@pytest.mark.parametrize(
    ("variables", "message"),
    [
        ({"CUTOVER_INSTANCE_ID": "i-123"}, "CUTOVER_INSTANCE_ID from the environment is not an"),
        ({"CUTOVER_INSTANCE_ID": "<html>"}, "is not an EC2 instance id"),
        ({"CUTOVER_REGION": "Frankfurt"}, "CUTOVER_REGION from the environment is not an AWS"),
        ({"CUTOVER_TIMEOUT": "soon"}, "CUTOVER_TIMEOUT from the environment must be a number"),
        ({"CUTOVER_ALLOW_DOWNTIME": "yes"}, "CUTOVER_ALLOW_DOWNTIME must be true or false"),
        ({"CUTOVER_RETRY_MODE": "legacy"}, "CUTOVER_RETRY_MODE must be adaptive or standard"),
    ],
)
def test_bad_variables_are_usage_errors_naming_them(variables, message):
    layers = Layers((("the environment", variables),))
    with pytest.raises(Exception, match=message) as caught:
        from_environment("deregister", layers)
    assert caught.value.exit_code == EXIT_USAGE


@pytest.mark.parametrize(
    "instance_id", ["i-0123abcd", "i-0123456789abcdef0", "i-0123456789ABCDEF0", "i-01234567890"]
)
def test_instance_ids_have_8_or_17_lowercase_hex_digits(instance_id):
    layers = Layers((("the environment", {}),))
    valid = instance_id in ("i-0123abcd", "i-0123456789abcdef0")
    if valid:
        assert from_environment("register", layers, instance_id=instance_id).instance_id
    else:
        with pytest.raises(Exception, match="--instance-id is not an EC2 instance id"):
            from_environment("register", layers, instance_id=instance_id)


@pytest.mark.parametrize(
    ("region", "valid"),
    [
        ("eu-central-1", True),
        ("us-gov-west-1", True),
        ("ap-southeast-2", True),
        ("cn-north-1", True),
        ("eu-central", False),
        ("EU-CENTRAL-1", False),
        ("eu-central-1a", False),
        ("https://evil.example/", False),
    ],
)
def test_regions_look_like_aws_regions(region, valid):
    layers = Layers((("the environment", {}),))
    if valid:
        assert from_environment("register", layers, region=region).region == region
    else:
        with pytest.raises(Exception, match="--region is not an AWS region name"):
            from_environment("register", layers, region=region)
