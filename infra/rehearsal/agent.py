"""Runs an in-place deployment the way the CodeDeploy agent would, on emulated instances.

The revision is what `python3 -m hooks bundle` makes; its appspec.yml says which scripts run in
which lifecycle event and with what timeout. Each script runs as a real subprocess with the
agent's environment (DEPLOYMENT_ID, DEPLOYMENT_GROUP_NAME, APPLICATION_NAME, LIFECYCLE_EVENT),
the instance's own IMDSv2 endpoint and the emulator as AWS_ENDPOINT_URL.
"""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import TextIO

import yaml

from hooks.bundle import bundle
from infra.config import StackConfig

# In-place deployment lifecycle events, in the order the agent runs them.
LIFECYCLE_EVENTS = (
    "ApplicationStop",
    "DownloadBundle",
    "BeforeInstall",
    "Install",
    "AfterInstall",
    "ApplicationStart",
    "ValidateService",
)


@dataclass(frozen=True)
class HookScript:
    event: str
    location: str
    timeout: int


@dataclass(frozen=True)
class Revision:
    """A bundled revision folder and the hook scripts its appspec.yml declares."""

    root: Path
    scripts: tuple[HookScript, ...]

    @classmethod
    def bundle(cls, root: Path, cfg: StackConfig) -> Revision:
        root.mkdir(parents=True, exist_ok=True)
        appspec = bundle(
            str(root),
            deregister_timeout=cfg.deployment.deregister_timeout,
            register_timeout=cfg.deployment.register_timeout,
        )
        hooks = yaml.safe_load(appspec.read_text(encoding="utf-8")).get("hooks") or {}
        scripts = tuple(
            HookScript(event, entry["location"], int(entry.get("timeout", 3600)))
            for event in LIFECYCLE_EVENTS
            for entry in hooks.get(event) or []
        )
        return cls(root, scripts)

    def for_event(self, event: str) -> list[HookScript]:
        return [s for s in self.scripts if s.event == event]


@dataclass(frozen=True)
class HookRun:
    """One script run on one instance."""

    deployment_id: str
    instance_id: str
    event: str
    location: str
    returncode: int
    seconds: float
    killed: bool = False


@dataclass
class Deployment:
    deployment_id: str
    batches: list[list[str]]
    succeeded: bool = True
    failures: list[str] = field(default_factory=list)
    runs: list[HookRun] = field(default_factory=list)


@dataclass
class Faults:
    """Faults on request: the Install step fails on one instance; a hook is killed once."""

    fail_instance: str | None = None
    kill_after_step: str | None = None
    killed: list[str] = field(default_factory=list)  # "instance event" of the killed run


class Agent:
    def __init__(
        self,
        revision: Revision,
        environment: Callable[[str, str, str], dict[str, str]],
        log: TextIO,
        install_seconds: float = 0.2,
    ) -> None:
        self._revision = revision
        self._environment = environment
        self._log = log
        self._log_lock = threading.Lock()
        self._install_seconds = install_seconds

    def deploy(
        self, deployment: Deployment, faults: Faults, on_batch: Callable[[int], None]
    ) -> None:
        """Run the batches in order, each batch's instances in parallel; stop at a failure."""
        for number, batch in enumerate(deployment.batches, start=1):
            on_batch(number)
            with ThreadPoolExecutor(max_workers=len(batch)) as pool:
                failures = list(
                    pool.map(lambda iid: self._instance(deployment, iid, faults), batch)
                )
            deployment.failures += [f for f in failures if f]
            if deployment.failures:
                # An instance failed: CodeDeploy fails the deployment and starts no more batches.
                deployment.succeeded = False
                return

    def _instance(self, deployment: Deployment, instance_id: str, faults: Faults) -> str | None:
        """Every lifecycle event on one instance; the failure, if any, as one line."""
        for event in LIFECYCLE_EVENTS:
            if event == "Install":
                if instance_id == faults.fail_instance:
                    return f"{instance_id}: Install failed (injected fault)"
                time.sleep(self._install_seconds)
            for script in self._revision.for_event(event):
                run = self._run(deployment, instance_id, script, faults)
                if run.killed:
                    # Killed mid-hook: the operator (or a retry) runs the same hook again.
                    run = self._run(deployment, instance_id, script, faults)
                if run.returncode != 0:
                    return (
                        f"{instance_id}: {event} {script.location} exited {run.returncode}: "
                        f"{self._last_error(deployment, instance_id, script)}"
                    )
        return None

    def _stderr_path(self, deployment: Deployment, instance_id: str, script: HookScript) -> Path:
        name = f"{deployment.deployment_id}-{instance_id}-{Path(script.location).stem}.err"
        return self._revision.root.parent / "stderr" / name

    def _last_error(self, deployment: Deployment, instance_id: str, script: HookScript) -> str:
        text = self._stderr_path(deployment, instance_id, script).read_text(encoding="utf-8")
        lines = [line for line in text.splitlines() if line.strip()]
        return lines[-1] if lines else "(nothing on stderr)"

    def _run(
        self, deployment: Deployment, instance_id: str, script: HookScript, faults: Faults
    ) -> HookRun:
        started = time.monotonic()
        stderr_path = self._stderr_path(deployment, instance_id, script)
        stderr_path.parent.mkdir(parents=True, exist_ok=True)
        env = self._environment(deployment.deployment_id, instance_id, script.event)
        killed = False
        with stderr_path.open("w", encoding="utf-8") as stderr:
            process = subprocess.Popen(
                [str(self._revision.root / script.location)],
                cwd=self._revision.root,
                env=env,
                stdout=subprocess.PIPE,
                stderr=stderr,
                text=True,
            )
            timer = threading.Timer(script.timeout, process.kill)  # the appspec timeout
            timer.start()
            try:
                assert process.stdout is not None
                for line in process.stdout:
                    self._write(f"{deployment.deployment_id} {script.event} {line}")
                    if self._should_kill(line, instance_id, script, faults):
                        process.kill()
                        killed = True
                        self._write(
                            f"{deployment.deployment_id} {script.event} rehearsal: killed "
                            f"{instance_id}'s hook after step {faults.kill_after_step}\n"
                        )
                        break
                returncode = process.wait()
            finally:
                timer.cancel()
        run = HookRun(
            deployment.deployment_id,
            instance_id,
            script.event,
            script.location,
            returncode,
            time.monotonic() - started,
            killed,
        )
        deployment.runs.append(run)
        return run

    def _should_kill(self, line: str, instance_id: str, script: HookScript, faults: Faults) -> bool:
        if not faults.kill_after_step or faults.killed:
            return False
        if f" step {faults.kill_after_step}:" not in line:
            return False
        faults.killed.append(f"{instance_id} {script.event}")
        return True

    def _write(self, text: str) -> None:
        with self._log_lock:
            self._log.write(text)
            self._log.flush()


def agent_environment(
    aws_url: str, imds: dict[str, str], state_root: Path, cfg: StackConfig, poll_interval: float
) -> Callable[[str, str, str], dict[str, str]]:
    """The environment the CodeDeploy agent gives a hook, pointed at the emulator."""

    def environment(deployment_id: str, instance_id: str, event: str) -> dict[str, str]:
        return {
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
            "LANG": "C.UTF-8",
            "DEPLOYMENT_ID": deployment_id,
            "DEPLOYMENT_GROUP_NAME": cfg.deployment_group_name,
            "DEPLOYMENT_GROUP_ID": f"{cfg.resource_prefix}-dg",
            "APPLICATION_NAME": f"{cfg.resource_prefix}-app",
            "LIFECYCLE_EVENT": event,
            "AWS_ENDPOINT_URL": aws_url,
            "AWS_ACCESS_KEY_ID": "rehearsal",
            "AWS_SECRET_ACCESS_KEY": "rehearsal",
            # Nothing from the user's own AWS setup: only the emulator is reachable.
            "AWS_CONFIG_FILE": os.devnull,
            "AWS_SHARED_CREDENTIALS_FILE": os.devnull,
            "AWS_EC2_METADATA_SERVICE_ENDPOINT": imds[instance_id],
            "CUTOVER_STATE_DIR": str(state_root / instance_id),
            "CUTOVER_POLL_INTERVAL": str(poll_interval),
            "CUTOVER_PYTHON": sys.executable,
        }

    return environment
