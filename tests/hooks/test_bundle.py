"""`python3 -m hooks bundle DIR`: the hooks and their appspec entries in a revision folder."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from hooks.bundle import bundle
from hooks.cli import main
from hooks.errors import HookError
from hooks.settings import from_environment

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
            {"location": "cutover-hooks/deregister.sh", "timeout": 400, "runas": "root"}
        ],
        "ApplicationStart": [
            {"location": "cutover-hooks/register.sh", "timeout": 120, "runas": "root"}
        ],
    }
    assert (tmp_path / "cutover-hooks" / "hooks" / "runbook.py").is_file()
    assert (tmp_path / "cutover-hooks" / "hooks" / "permissions.py").is_file()
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
    with pytest.raises(HookError, match="flow style"):
        bundle(str(tmp_path))


def test_example_appspec_points_at_the_wrapper_scripts():
    hooks_dir = Path(__file__).resolve().parents[2] / "hooks"
    spec = yaml.safe_load((hooks_dir / "appspec.yml").read_text())
    entries = [e for event in spec["hooks"].values() for e in event]
    ours = {e["location"]: e["timeout"] for e in entries if "cutover-hooks" in e["location"]}
    assert ours == {"cutover-hooks/deregister.sh": 400, "cutover-hooks/register.sh": 120}
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
