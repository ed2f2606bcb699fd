"""The CodeDeploy agent on each emulated instance: runs every lifecycle event's scripts from the
bundled revision as subprocesses, one deployment at a time per instance.

The revision is what `python -m revision bundle` makes; its appspec.yml says which scripts run in
which lifecycle event and with what timeout. Each script gets the agent's environment
(DEPLOYMENT_ID, DEPLOYMENT_GROUP_NAME, APPLICATION_NAME, LIFECYCLE_EVENT), the instance's own
IMDSv2 endpoint, the rehearsal's AWS endpoint as AWS_ENDPOINT_URL and an access key id of its
own (so the proxy counts calls per instance). The agent tells the world when the application
stops (Install starts) and runs again (Install done), which drives the health checks."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TextIO

import yaml

from hooks.settings import DEFAULT_HEAL_POLL
from hooks.timing import DEFAULT_DEADLINES
from rehearsal.clock import Clock
from rehearsal.codedeploy import Deployment
from rehearsal.world import World
from revision.bundle import bundle

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
# Real seconds added to each appspec timeout for API latency on a busy machine (not scaled).
START_ALLOWANCE = 5.0
START_CAP = 120.0  # real seconds a hook may take to print its first line
# Hooks starting at once: on EC2 each instance starts its own hook on its own CPU; here dozens
# share a few cores, and starting them all together only makes every one of them late.
STARTING_AT_ONCE = max(2, 2 * (os.cpu_count() or 1))
# Real seconds added to the hooks' own (scaled) deadlines: their API calls and polling take real
# time that the clock does not compress.
HOOK_ALLOWANCE = 3.0


@dataclass(frozen=True)
class HookScript:
    event: str
    location: str
    timeout: int  # emulated seconds, as the appspec says


@dataclass(frozen=True)
class Revision:
    """A bundled revision folder and the hook scripts its appspec.yml declares."""

    root: Path
    scripts: tuple[HookScript, ...]

    @classmethod
    def bundle(cls, root: Path, deregister_timeout: int, register_timeout: int) -> Revision:
        root.mkdir(parents=True, exist_ok=True)
        appspec = bundle(
            str(root), deregister_timeout=deregister_timeout, register_timeout=register_timeout
        )
        hooks = yaml.safe_load(appspec.read_text(encoding="utf-8")).get("hooks") or {}
        scripts = tuple(
            HookScript(event, entry["location"], int(entry.get("timeout", 3600)))
            for event in LIFECYCLE_EVENTS
            for entry in hooks.get(event) or []
        )
        return cls(root, scripts)

    def scale_deadlines(self, scale: float) -> None:
        """The bundle writes the hooks' deadlines (seconds) into its env file: put them on the
        rehearsal's clock, as every other delay is, plus a few real seconds for what does not
        scale (API latency and CPU on a busy machine)."""
        env_file = self.root / "cutover-hooks" / "cutover-hooks.env"
        if not env_file.exists():
            return
        lines = []
        for line in env_file.read_text(encoding="utf-8").splitlines():
            key, sep, value = line.partition("=")
            if sep and key.strip().endswith("_TIMEOUT") and _number(value):
                line = f"{key}={float(value) / scale + HOOK_ALLOWANCE:.3f}"
            lines.append(line)
        env_file.write_text("\n".join(lines) + "\n", encoding="utf-8")

    def for_event(self, event: str) -> list[HookScript]:
        return [s for s in self.scripts if s.event == event]


def _number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


@dataclass(frozen=True)
class HookRun:
    """One script run on one instance (times in real seconds)."""

    deployment_id: str
    instance_id: str
    event: str
    location: str
    returncode: int
    started: float
    seconds: float
    killed: bool = False
    # Killed by the rehearsal's appspec timeout (not by a scenario's fault); not_started: by the
    # start-up cap, before its first line.
    timed_out: bool = False
    not_started: bool = False


@dataclass
class Faults:
    """Faults on request: Install fails on chosen instances; a hook is killed once."""

    fail_install: set[tuple[str, str]] = field(default_factory=set)  # (deployment id, instance)
    kill_after_step: str | None = None
    killed: list[str] = field(default_factory=list)  # "instance event" of the killed run
    lock: threading.Lock = field(default_factory=threading.Lock)


# Something a scenario does when an event finishes on an instance: (deployment, instance, event).
EventListener = Callable[[Deployment, str, str], None]


class Agent:
    def __init__(
        self,
        revision: Revision,
        environment: Callable[[Deployment, str, str], dict[str, str]],
        world: World,
        clock: Clock,
        log: TextIO,
        faults: Faults,
        install_seconds: float,
    ) -> None:
        self._revision = revision
        self._environment = environment
        self._world = world
        self._clock = clock
        self._log = log
        self._log_lock = threading.Lock()
        self._install_seconds = install_seconds  # emulated
        self._busy: dict[str, threading.Lock] = {}
        self._busy_lock = threading.Lock()
        self._starting = threading.Semaphore(STARTING_AT_ONCE)
        self.faults = faults
        self.runs: list[HookRun] = []
        self.listeners: list[EventListener] = []

    def _instance_lock(self, iid: str) -> threading.Lock:
        with self._busy_lock:
            return self._busy.setdefault(iid, threading.Lock())

    def _gone(self, iid: str) -> bool:
        with self._world.lock:
            return iid in self._world.gone

    def instance(self, deployment: Deployment, iid: str) -> str | None:
        """Every lifecycle event on one instance: None, "gone", or the failure as one line."""
        with self._instance_lock(iid):
            for event in LIFECYCLE_EVENTS:
                if self._gone(iid):
                    return "gone"
                if event == "Install":
                    self._world.app_stopped(iid)
                    self._clock.sleep(self._install_seconds)
                    if (deployment.deployment_id, iid) in self.faults.fail_install:
                        return f"{iid}: Install failed (injected fault)"
                    self._world.app_installed(iid, deployment.revision)
                for script in self._revision.for_event(event):
                    run = self._run(deployment, iid, script)
                    if run.returncode != 0:
                        if self._gone(iid):
                            return "gone"
                        how = "killed" if run.killed else f"exited {run.returncode}"
                        return (
                            f"{iid}: {event} {script.location} {how}: "
                            f"{self._last_error(deployment, iid, script)}"
                        )
                for listener in self.listeners:
                    listener(deployment, iid, event)
        return None

    def _stderr_path(self, deployment: Deployment, iid: str, script: HookScript) -> Path:
        name = f"{deployment.deployment_id}-{iid}-{Path(script.location).stem}.err"
        return self._revision.root.parent / "stderr" / name

    def _last_error(self, deployment: Deployment, iid: str, script: HookScript) -> str:
        path = self._stderr_path(deployment, iid, script)
        text = path.read_text(encoding="utf-8", errors="replace") if path.exists() else ""
        lines = [line for line in text.splitlines() if line.strip()]
        return lines[-1] if lines else "(nothing on stderr)"

    def _run(self, deployment: Deployment, iid: str, script: HookScript) -> HookRun:
        started = self._clock.real()
        stderr_path = self._stderr_path(deployment, iid, script)
        stderr_path.parent.mkdir(parents=True, exist_ok=True)
        env = self._environment(deployment, iid, script.event)
        killed = False
        starting = True
        self._starting.acquire()
        with stderr_path.open("w", encoding="utf-8") as stderr:
            process = subprocess.Popen(
                [str(self._revision.root / script.location)],
                cwd=self._revision.root,
                env=env,
                stdout=subprocess.PIPE,
                stderr=stderr,
                text=True,
            )
            # The appspec timeout, on the clock, counted from the hook's first line: starting
            # Python is not scaled, and dozens of hooks starting at once on a small machine take
            # far longer to start than one does on its own instance. Start-up gets its own cap.
            expired: list[str] = []

            def expire(why: str) -> None:
                expired.append(why)
                process.kill()

            timer = threading.Timer(START_CAP, expire, ("start",))
            timer.start()
            try:
                assert process.stdout is not None
                for line in process.stdout:
                    if starting:
                        starting = False
                        self._starting.release()
                        timer.cancel()
                        limit = self._clock.to_real(script.timeout) + START_ALLOWANCE
                        timer = threading.Timer(limit, expire, ("timeout",))
                        timer.start()
                    self._write(f"{deployment.deployment_id} {script.event} {line}")
                    if self._should_kill(line, iid, script):
                        process.send_signal(signal.SIGKILL)
                        killed = True
                        self._write(
                            f"{deployment.deployment_id} {script.event} rehearsal: killed "
                            f"{iid}'s hook after step {self.faults.kill_after_step}\n"
                        )
                        break
                returncode = process.wait()
            finally:
                timer.cancel()
                if starting:
                    self._starting.release()
        run = HookRun(
            deployment.deployment_id,
            iid,
            script.event,
            script.location,
            returncode,
            started,
            self._clock.real() - started,
            killed,
            timed_out=bool(expired),
            not_started=expired == ["start"],
        )
        with self._log_lock:
            self.runs.append(run)
        return run

    def _should_kill(self, line: str, iid: str, script: HookScript) -> bool:
        faults = self.faults
        if not faults.kill_after_step or f" step {faults.kill_after_step}:" not in line:
            return False
        with faults.lock:
            if faults.killed:
                return False
            faults.killed.append(f"{iid} {script.event}")
        return True

    def _write(self, text: str) -> None:
        with self._log_lock:
            self._log.write(text)
            self._log.flush()


def heal_environment(clock: Clock, heal_after: float) -> dict[str, str]:
    """The hooks' self-healing on the rehearsal's clock: its delay (emulated seconds), how often
    the watchdog asks CodeDeploy and the healing run's own deadline (the hooks' defaults)."""
    return {
        "CUTOVER_HEAL_AFTER": f"{clock.to_real(heal_after):.3f}",
        "CUTOVER_HEAL_POLL": f"{clock.to_real(DEFAULT_HEAL_POLL):.3f}",
        "CUTOVER_HEAL_TIMEOUT": f"{clock.to_real(DEFAULT_DEADLINES['heal']) + HOOK_ALLOWANCE:.3f}",
    }


def agent_environment(
    aws_url: str,
    imds: dict[str, str],
    state_root: Path,
    application: str,
    clock: Clock,
    marker: str,
    extra: dict[str, str],
) -> Callable[[Deployment, str, str], dict[str, str]]:
    """The environment the CodeDeploy agent gives a hook, pointed at the emulator."""

    def environment(deployment: Deployment, iid: str, event: str) -> dict[str, str]:
        return {
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
            "LANG": "C.UTF-8",
            "DEPLOYMENT_ID": deployment.deployment_id,
            "DEPLOYMENT_GROUP_NAME": deployment.group,
            "DEPLOYMENT_GROUP_ID": f"{deployment.group}-id",
            "APPLICATION_NAME": application,
            "LIFECYCLE_EVENT": event,
            "AWS_ENDPOINT_URL": aws_url,
            # One access key id per instance: the proxy counts and throttles per caller.
            "AWS_ACCESS_KEY_ID": f"rehearsal-{iid}",
            "AWS_SECRET_ACCESS_KEY": "rehearsal",
            # Nothing from the user's own AWS setup: only the emulator is reachable.
            "AWS_CONFIG_FILE": os.devnull,
            "AWS_SHARED_CREDENTIALS_FILE": os.devnull,
            "AWS_EC2_METADATA_SERVICE_ENDPOINT": imds[iid],
            "CUTOVER_STATE_DIR": str(state_root / iid),
            # The hooks' polling, on the rehearsal's clock (their default is 5 s).
            "CUTOVER_POLL_INTERVAL": f"{clock.to_real(5.0):.3f}",
            # AWS's own figures (deregistration delay, health checks), which the hooks read
            # and wait for, run on the rehearsal's clock too.
            "CUTOVER_TIME_SCALE": f"{clock.scale:g}",
            # The metadata service answers at once on EC2; here a busy machine may be slow.
            "CUTOVER_IMDS_TIMEOUT": "10",
            "CUTOVER_PYTHON": sys.executable,
            # Lets the rehearsal find (and end) processes the hooks leave behind.
            "CUTOVER_REHEARSAL": marker,
            **extra,
        }

    return environment


def leftover_processes(marker: str, state_dir: Path | None = None) -> list[int]:
    """Processes of this user still carrying the rehearsal's marker (e.g. detached watchdogs);
    with `state_dir`, only those of the instance whose hooks keep their state there."""
    found = []
    needles = [f"CUTOVER_REHEARSAL={marker}".encode()]
    if state_dir is not None:
        needles.append(f"CUTOVER_STATE_DIR={state_dir}".encode())
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit() or int(entry.name) == os.getpid():
            continue
        try:
            if entry.stat().st_uid != os.getuid():
                continue
            environ = (entry / "environ").read_bytes().split(b"\0")
            if all(needle in environ for needle in needles):
                found.append(int(entry.name))
        except OSError:
            continue
    return found


def shut_down(marker: str, state_dir: Path, grace: float) -> None:
    """What EC2 does to a terminated instance's operating system: SIGTERM to its processes
    (the hooks' detached watchdog included), SIGKILL to what is left after `grace` real
    seconds (systemd's stop timeout). Returns at once."""
    for pid in leftover_processes(marker, state_dir):
        try:
            os.kill(pid, signal.SIGTERM)
        except ProcessLookupError:
            continue

    def power_off() -> None:
        time.sleep(grace)
        end_processes(leftover_processes(marker, state_dir))

    threading.Thread(target=power_off, name=f"shutdown {state_dir.name}", daemon=True).start()


def end_processes(pids: list[int]) -> None:
    for pid in pids:
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            continue
    time.sleep(0.05)
