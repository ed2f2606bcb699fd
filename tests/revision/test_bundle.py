"""`python -m revision bundle DIR`: the hooks and their appspec entries in a revision folder."""

from __future__ import annotations

import os
import resource
import signal
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from cutover.exitcodes import BAD_INPUT as EXIT_USAGE
from cutover.exitcodes import ENVIRONMENT as EXIT_ENVIRONMENT
from hooks.settings import from_environment
from hooks.timing import DEFAULT_DEREGISTER_TIMEOUT, DEFAULT_REGISTER_TIMEOUT
from revision.bundle import bundle
from revision.cli import main
from revision.errors import RevisionError

ROOT = Path(__file__).resolve().parents[2]

EXISTING = """\
version: 0.0
os: linux
files:
  - source: app/
    destination: /opt/app
hooks:
  BeforeInstall:
    - location: scripts/stop_app.sh
      timeout: 60
  ApplicationStart:
    - location: scripts/start_app.sh
      timeout: 60
      runas: root
  ValidateService:
    - location: scripts/smoke.sh
"""


def test_bundle_into_an_empty_revision(tmp_path):
    assert main(["bundle", str(tmp_path)]) == 0

    spec = yaml.safe_load((tmp_path / "appspec.yml").read_text())
    assert spec["hooks"] == {
        "BeforeInstall": [
            {
                "location": "cutover-hooks/deregister.sh",
                "timeout": DEFAULT_DEREGISTER_TIMEOUT,
                "runas": "root",
            }
        ],
        "ApplicationStart": [
            {
                "location": "cutover-hooks/register.sh",
                "timeout": DEFAULT_REGISTER_TIMEOUT,
                "runas": "root",
            }
        ],
    }
    assert (tmp_path / "cutover-hooks" / "hooks" / "runbook.py").is_file()
    assert (tmp_path / "cutover-hooks" / "hooks" / "permissions.py").is_file()
    # The reduced service models the hooks' session loads first (hooks/servicemodels.py).
    models = tmp_path / "cutover-hooks" / "hooks" / "models"
    assert (models / "endpoints.json").is_file()
    assert (models / "ec2" / "2016-11-15" / "service-2.json").is_file()
    assert not list(tmp_path.rglob("__pycache__"))
    for script in ("deregister.sh", "register.sh", "reconcile.sh"):
        assert os.access(tmp_path / "cutover-hooks" / script, os.X_OK)


def test_bundled_wrapper_runs_the_bundled_package(tmp_path):
    bundle(str(tmp_path))
    env = {**os.environ, "CUTOVER_PYTHON": sys.executable, "PYTHONPATH": ""}
    out = subprocess.run(
        [str(tmp_path / "cutover-hooks" / "deregister.sh"), "--help"],
        capture_output=True,
        text=True,
        env=env,
        cwd="/",
        timeout=30,
    )
    assert out.returncode == 0, out.stderr
    assert "usage: python3 -m hooks deregister" in out.stdout


def test_bundle_merges_an_existing_appspec_once(tmp_path):
    (tmp_path / "appspec.yml").write_text(EXISTING)

    bundle(str(tmp_path))
    first = (tmp_path / "appspec.yml").read_text()
    bundle(str(tmp_path))

    assert (tmp_path / "appspec.yml").read_text() == first
    spec = yaml.safe_load(first)
    assert spec["files"] == [{"source": "app/", "destination": "/opt/app"}]
    before = [h["location"] for h in spec["hooks"]["BeforeInstall"]]
    start = [h["location"] for h in spec["hooks"]["ApplicationStart"]]
    assert before == ["cutover-hooks/deregister.sh", "scripts/stop_app.sh"]  # out first
    assert start == ["scripts/start_app.sh", "cutover-hooks/register.sh"]  # back when started
    assert spec["hooks"]["ValidateService"] == [{"location": "scripts/smoke.sh"}]


def test_bundle_with_other_events(tmp_path):
    (tmp_path / "appspec.yml").write_text(EXISTING)
    bundle(str(tmp_path), deregister_event="ApplicationStop", register_event="ValidateService")

    spec = yaml.safe_load((tmp_path / "appspec.yml").read_text())
    assert spec["hooks"]["ApplicationStop"][0]["location"] == "cutover-hooks/deregister.sh"
    assert spec["hooks"]["ValidateService"][-1]["location"] == "cutover-hooks/register.sh"


def test_bundle_refuses_a_flow_style_hooks_section(tmp_path):
    (tmp_path / "appspec.yml").write_text("version: 0.0\nos: linux\nhooks: {}\n")
    with pytest.raises(RevisionError, match="flow style"):
        bundle(str(tmp_path))


def test_example_appspec_points_at_the_wrapper_scripts():
    hooks_dir = Path(__file__).resolve().parents[2] / "hooks"
    spec = yaml.safe_load((hooks_dir / "appspec.yml").read_text())
    entries = [e for event in spec["hooks"].values() for e in event]
    ours = {e["location"]: e["timeout"] for e in entries if "cutover-hooks" in e["location"]}
    assert ours == {
        "cutover-hooks/deregister.sh": DEFAULT_DEREGISTER_TIMEOUT,
        "cutover-hooks/register.sh": DEFAULT_REGISTER_TIMEOUT,
    }
    for location in ours:
        script = hooks_dir / "scripts" / Path(location).name
        assert os.access(script, os.X_OK)


def test_bundle_keeps_the_hook_deadlines_below_the_appspec_timeouts(tmp_path, monkeypatch):
    env_file = tmp_path / "cutover-hooks" / "cutover-hooks.env"
    bundle(str(tmp_path))
    env_file.write_text(env_file.read_text() + "CUTOVER_MIN_HEALTHY=2\n")

    bundle(str(tmp_path), deregister_timeout=900, register_timeout=300)

    values = dict(
        line.split("=", 1)
        for line in env_file.read_text().splitlines()
        if "=" in line and not line.startswith("#")
    )
    assert values == {
        "CUTOVER_MIN_HEALTHY": "2",
        "CUTOVER_DEREGISTER_TIMEOUT": "860",
        "CUTOVER_REGISTER_TIMEOUT": "280",
    }
    spec = yaml.safe_load((tmp_path / "appspec.yml").read_text())
    assert spec["hooks"]["BeforeInstall"][0]["timeout"] == 900  # our entry follows
    assert spec["hooks"]["ApplicationStart"][0]["timeout"] == 300
    for key, value in values.items():
        monkeypatch.setenv(key, value)
    assert from_environment("deregister").timeout == 860
    assert from_environment("register").timeout == 280
    assert from_environment("register", timeout=5).timeout == 5


# Timeouts from the stack config (issue 8 item 7) -------------------------------------------


def bundle_cli(*args: str, **kwargs) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "revision", "bundle", *args],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=60,
        **kwargs,
    )


def deadlines(folder: Path) -> dict[str, str]:
    text = (folder / "cutover-hooks" / "cutover-hooks.env").read_text()
    return dict(line.split("=", 1) for line in text.splitlines() if not line.startswith("#"))


def our_timeouts(folder: Path) -> dict[str, int]:
    spec = yaml.safe_load((folder / "appspec.yml").read_text())
    return {
        f"{event}:{entry['location'].rsplit('/', 1)[-1]}": entry["timeout"]
        for event, entries in spec["hooks"].items()
        for entry in entries
        if entry["location"].startswith("cutover-hooks/")
    }


STACK = """\
config:
  aws:region: eu-central-1
  cutover:loadBalancer:
    deregistrationDelay: 300
    healthCheck:
      interval: 30
      healthyThreshold: 5
  cutover:deployment:
    deregisterTimeout: 600
    registerTimeout: 240
"""


def test_bundle_takes_the_timeouts_of_a_stack(tmp_path):
    out = bundle_cli(str(tmp_path), "--stack", "production")

    assert out.returncode == 0, out.stderr
    production = yaml.safe_load((ROOT / "Pulumi.production.yaml").read_text())["config"]
    deployment = production["cutover:deployment"]
    assert our_timeouts(tmp_path) == {
        "BeforeInstall:deregister.sh": deployment["deregisterTimeout"],
        "ApplicationStart:register.sh": deployment["registerTimeout"],
    }
    assert deadlines(tmp_path) == {
        "CUTOVER_DEREGISTER_TIMEOUT": str(deployment["deregisterTimeout"] - 40),
        "CUTOVER_REGISTER_TIMEOUT": str(deployment["registerTimeout"] - 20),
    }


def test_bundle_takes_the_timeouts_of_a_config_file_and_options_win(tmp_path):
    config = tmp_path / "Pulumi.big.yaml"
    config.write_text(STACK)
    revision = tmp_path / "revision"
    revision.mkdir()

    out = bundle_cli(str(revision), "--config", str(config), "--register-timeout", "300")

    assert out.returncode == 0, out.stderr
    assert our_timeouts(revision) == {
        "BeforeInstall:deregister.sh": 600,
        "ApplicationStart:register.sh": 300,
    }
    assert deadlines(revision) == {
        "CUTOVER_DEREGISTER_TIMEOUT": "560",
        "CUTOVER_REGISTER_TIMEOUT": "280",
    }


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            ["--deregister-timeout", "30"],
            "the deregister timeout 30 s gives the hook a deadline of -10 s (40 s less), which "
            "must exceed the deregistration delay 300 s + 20 s: use at least 361 s or shorten "
            "the delay; the delay 300 s is AWS's default",
        ),
        (
            ["--deregister-timeout", "100", "--deregistration-delay", "60"],
            "deadline of 60 s (40 s less), which must exceed the deregistration delay 60 s + 20 s",
        ),
        (["--register-timeout", "40"], "the register timeout 40 s gives the hook a deadline of"),
        (["--deregister-timeout", "4000"], "must be 1..3600 s (CodeDeploy's limit"),
    ],
)
def test_bundle_refuses_timeouts_too_short_for_the_drain(tmp_path, args, message):
    out = bundle_cli(str(tmp_path), *args)

    assert out.returncode == EXIT_USAGE
    assert out.stderr.startswith("revision bundle: error: refusing these timeouts")
    assert message in out.stderr
    assert out.stderr.count("\n") == 1
    assert list(tmp_path.iterdir()) == []  # nothing written


def test_bundle_refuses_a_stack_whose_drain_does_not_fit(tmp_path):
    config = tmp_path / "Pulumi.slow.yaml"
    config.write_text(STACK.replace("deregisterTimeout: 600", "deregisterTimeout: 350"))
    revision = tmp_path / "revision"
    revision.mkdir()

    out = bundle_cli(str(revision), "--config", str(config))

    assert out.returncode == EXIT_USAGE
    assert f"(from {config} and the options)" in out.stderr
    assert "deregistration delay 300 s + 20 s: use at least 361 s" in out.stderr
    assert "time to turn healthy" not in out.stderr


def test_bundle_refuses_a_register_timeout_shorter_than_the_health_check(tmp_path):
    config = tmp_path / "Pulumi.slow.yaml"
    config.write_text(STACK.replace("registerTimeout: 240", "registerTimeout: 150"))
    out = bundle_cli(str(tmp_path), "--config", str(config))

    assert out.returncode == EXIT_USAGE
    assert "must exceed the 180 s a registered instance needs to turn healthy" in out.stderr


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("config: [1, 2]\n", "expected a Pulumi stack file with 'config:'"),
        (
            "config:\n  cutover:deployment:\n    deregisterTimeout: soon\n",
            "cutover:deployment.deregisterTimeout must be a whole number of seconds, got 'soon'",
        ),
        ("config: {\n", "not valid YAML"),
    ],
)
def test_bundle_names_the_key_of_a_bad_stack_config(tmp_path, text, message):
    config = tmp_path / "Pulumi.bad.yaml"
    config.write_text(text)
    revision = tmp_path / "revision"
    revision.mkdir()

    out = bundle_cli(str(revision), "--config", str(config))

    assert out.returncode == EXIT_USAGE
    assert str(config) in out.stderr and message in out.stderr
    assert list(revision.iterdir()) == []


def test_bundle_names_a_stack_that_does_not_exist(tmp_path):
    out = bundle_cli(str(tmp_path), "--stack", "nosuchstack")
    assert out.returncode == EXIT_USAGE
    assert f"{ROOT / 'Pulumi.nosuchstack.yaml'}: no such file" in out.stderr


# The appspec it merges and the folder it writes (issue 12) ----------------------------------


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "is empty; delete it to have bundle write a new one"),
        ("# only a comment\n", "is empty"),
        ("- version: 0.0\n- os: linux\n", "must be a YAML mapping (version, os, files, hooks), "),
        ("version: 0.0\nos: linux\nhooks:\n  BeforeInstall: [\n", "not valid YAML (line"),
        ("os: linux\n", "'version' must be 0.0"),
        ("version: 0.0\nos: windows\n", "'os' must be linux"),
        ("version: 0.0\nos: linux\nhooks:\n  - BeforeInstall\n", "'hooks' must be a mapping"),
        (
            "version: 0.0\nos: linux\nhooks:\n  BeforeInstal:\n    - location: a.sh\n",
            "hooks.BeforeInstal is not a lifecycle event",
        ),
        (
            "version: 0.0\nos: linux\nhooks:\n  BeforeInstall:\n    location: a.sh\n",
            "hooks.BeforeInstall must be a list of scripts",
        ),
        (
            "version: 0.0\nos: linux\nhooks:\n  BeforeInstall:\n    - timeout: 60\n",
            "hooks.BeforeInstall[0] must be a mapping with a 'location'",
        ),
        (
            "version: 0.0\nos: linux\nhooks:\n  BeforeInstall:\n    - location: a.sh\n"
            "      timeout: 3500\n",
            "the timeouts of hooks.BeforeInstall add up to 3900 s",
        ),
    ],
)
def test_bundle_refuses_an_appspec_it_cannot_merge_into(tmp_path, text, message):
    appspec = tmp_path / "appspec.yml"
    appspec.write_text(text)

    out = bundle_cli(str(tmp_path))

    assert out.returncode == EXIT_USAGE, out.stderr
    assert out.stderr.startswith(f"revision bundle: error: {appspec}: ")
    assert message in out.stderr
    assert appspec.read_text() == text
    assert not (tmp_path / "cutover-hooks").exists()


def test_bundle_refuses_an_event_block_in_flow_style_instead_of_losing_scripts(tmp_path):
    text = "version: 0.0\nos: linux\nhooks:\n  BeforeInstall: [{location: stop.sh}]\n"
    (tmp_path / "appspec.yml").write_text(text)

    out = bundle_cli(str(tmp_path))

    assert out.returncode == EXIT_USAGE
    assert "cannot merge the hooks into this layout" in out.stderr
    assert (tmp_path / "appspec.yml").read_text() == text


def test_bundle_accepts_a_utf16_appspec_with_a_byte_order_mark(tmp_path):
    (tmp_path / "appspec.yml").write_text(EXISTING, encoding="utf-16")
    assert bundle_cli(str(tmp_path)).returncode == 0
    spec = yaml.safe_load((tmp_path / "appspec.yml").read_text(encoding="utf-8"))
    assert spec["hooks"]["BeforeInstall"][1] == {"location": "scripts/stop_app.sh", "timeout": 60}


def test_bundle_moves_its_entries_when_run_again_with_other_events(tmp_path):
    (tmp_path / "appspec.yml").write_text(EXISTING)
    bundle(str(tmp_path))

    bundle(str(tmp_path), deregister_event="ApplicationStop", register_event="ValidateService")

    spec = yaml.safe_load((tmp_path / "appspec.yml").read_text())
    assert [e["location"] for e in spec["hooks"]["BeforeInstall"]] == ["scripts/stop_app.sh"]
    assert [e["location"] for e in spec["hooks"]["ApplicationStart"]] == ["scripts/start_app.sh"]
    assert spec["hooks"]["ApplicationStop"] == [
        {"location": "cutover-hooks/deregister.sh", "timeout": 400, "runas": "root"}
    ]
    assert [e["location"] for e in spec["hooks"]["ValidateService"]] == [
        "scripts/smoke.sh",
        "cutover-hooks/register.sh",
    ]


def test_bundle_events_are_restricted_to_where_the_hooks_can_run(tmp_path):
    out = bundle_cli(str(tmp_path), "--deregister-event", "Bogus")
    assert out.returncode == EXIT_USAGE
    assert "invalid choice: 'Bogus' (choose from" in out.stderr
    assert "BeforeInstall" in out.stderr and "ApplicationStop" in out.stderr
    out = bundle_cli(str(tmp_path), "--register-event", "AfterInstall")
    assert out.returncode == EXIT_USAGE
    with pytest.raises(RevisionError, match="register cannot run in 'AfterInstall'"):
        bundle(str(tmp_path), register_event="AfterInstall")
    assert list(tmp_path.iterdir()) == []


def test_bundle_help_explains_itself():
    out = bundle_cli("--help")
    assert out.returncode == 0
    for text in ("--stack STACK", "--config FILE", "{BeforeInstall,ApplicationStop}", "exit codes"):
        assert text in out.stdout


def test_an_unwritable_bundle_folder_is_an_environment_error(tmp_path):
    (tmp_path / "cutover-hooks").write_text("a file where the bundle folder goes\n")
    (tmp_path / "appspec.yml").write_text(EXISTING)

    out = bundle_cli(str(tmp_path))

    assert out.returncode == EXIT_ENVIRONMENT
    assert out.stderr.count("\n") == 1 and "Traceback" not in out.stderr
    assert f"{tmp_path / 'cutover-hooks'} is a file where the bundle folder goes" in out.stderr
    assert (tmp_path / "appspec.yml").read_text() == EXISTING


def _limited(max_bytes: int):
    def preexec() -> None:
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # a write past the limit fails (EFBIG)
        resource.setrlimit(resource.RLIMIT_FSIZE, (max_bytes, max_bytes))

    return preexec


def test_a_failed_write_leaves_the_previous_appspec_whole(tmp_path):
    """A disk that fills up (here a file-size limit) while the appspec is written."""
    bundle(str(tmp_path))
    # A limit every bundled file fits under (the hooks are copied first), and an appspec
    # twice its size: only the appspec's write reaches the limit.
    limit = max(f.stat().st_size for f in (tmp_path / "cutover-hooks").rglob("*") if f.is_file())
    limit += 4096
    long_comment = "# " + "x" * 98 + "\n"
    previous = EXISTING + long_comment * (2 * limit // 100)
    (tmp_path / "appspec.yml").write_text(previous)

    out = bundle_cli(str(tmp_path), preexec_fn=_limited(limit))

    assert out.returncode == EXIT_ENVIRONMENT, out.stderr
    assert f"cannot write {tmp_path / 'appspec.yml'}" in out.stderr
    assert "the previous file, if any, is unchanged" in out.stderr
    assert (tmp_path / "appspec.yml").read_text() == previous
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []


def files_of(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in folder.rglob("*") if p.is_file()}


def test_a_failed_copy_leaves_the_previous_hooks_whole(tmp_path):
    bundle(str(tmp_path))
    package = tmp_path / "cutover-hooks" / "hooks"
    before = files_of(package)
    appspec = (tmp_path / "appspec.yml").read_text()

    out = bundle_cli(str(tmp_path), preexec_fn=_limited(1_000))

    assert out.returncode == EXIT_ENVIRONMENT, out.stderr
    assert "cannot copy the hooks into" in out.stderr
    assert files_of(package) == before
    assert (tmp_path / "appspec.yml").read_text() == appspec
    assert [p.name for p in (tmp_path / "cutover-hooks").iterdir() if p.name[0] == "."] == []


def test_bundle_and_the_stack_config_draw_the_drain_limit_at_the_same_place(tmp_path):
    # The largest deregistration delay stack.load accepts for a 400 s deregister timeout is
    # bundled; one second more is refused by both.
    from stack import load as infra_config

    def verdicts(delay: int) -> tuple[bool, bool]:
        values = {
            "aws:region": "eu-central-1",
            "cutover:loadBalancer": {"deregistrationDelay": delay, "allowPlainHttp": True},
            "cutover:deployment": {"deregisterTimeout": 400},
            # the secure defaults want an alternative instance type (AutoScaling.6)
            "cutover:fleet": {"instanceTypes": ["m6a.large"]},
        }
        try:
            infra_config.load_mapping(values, stack="qa")
            config_accepts = True
        except infra_config.ConfigError:
            config_accepts = False
        stack = tmp_path / f"Pulumi.qa-{delay}.yaml"
        stack.write_text(yaml.safe_dump({"config": values}))
        revision = tmp_path / f"revision-{delay}"
        revision.mkdir()
        try:
            bundle(str(revision), stack_config=stack)
            bundle_accepts = True
        except RevisionError:
            bundle_accepts = False
        return config_accepts, bundle_accepts

    assert verdicts(339) == (True, True)
    assert verdicts(340) == (False, False)
