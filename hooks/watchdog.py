"""Self-healing: deregister arms a detached watchdog that returns the instance once its own
deployment must be over, unless register completed first (README "Self-healing").

The watchdog is `python3 -m hooks heal --instance-id ID --region R --since T`, started in its
own session so that the agent killing the hook (or its process group) does not kill it. It
sleeps until CodeDeploy says its deployment is over (or, when CodeDeploy cannot answer, until
the entry written at T is CUTOVER_HEAL_AFTER seconds old); if the entry is still
the one written at T (register never finished, no later deployment re-armed it), it runs the
register steps for the instance: load balancers, ExitStandby, healthy, restore."""

from __future__ import annotations

import os
import random
import subprocess
import sys
import time
from pathlib import Path

from hooks import deployment
from hooks.clients import AwsSession, connect
from hooks.run import HookRun, utc_now
from hooks.settings import Settings

PACKAGE_PARENT = Path(__file__).resolve().parent.parent


def arm(run: HookRun) -> None:
    """Start the watchdog for this instance's entry (no-op when CUTOVER_HEAL=off)."""
    s = run.settings
    mine = run.mine
    if not s.heal or mine is None or s.command != "deregister":
        return
    log_path = Path(s.state_dir) / f"heal-{run.instance_id}.log"
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join(
            p for p in (str(PACKAGE_PARENT), os.environ.get("PYTHONPATH", "")) if p
        ),
        "DEPLOYMENT_ID": s.deployment_id,
    }
    command = [
        sys.executable,
        "-m",
        "hooks",
        "heal",
        "--instance-id",
        run.instance_id,
        "--region",
        run.region,
        "--since",
        repr(mine.since),
    ]
    try:
        log_path.parent.mkdir(parents=True, exist_ok=True)
        with open(log_path, "ab") as log:
            run.watchdog = subprocess.Popen(  # noqa: S603
                command,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                env=env,
                cwd="/",
                start_new_session=True,
                close_fds=True,
            )
    except OSError as error:
        # Healing is a safety net: without it reconcile still repairs; say so, do not fail.
        run.log(f"self-healing not armed ({error}); run reconcile if this deployment fails")


def sleep_until_due(settings: Settings, session: AwsSession = None) -> None:
    """Sleep until the armed entry's deployment is over: CodeDeploy is asked every
    CUTOVER_HEAL_POLL seconds (Succeeded, Failed, Stopped or unknown to it: over). The time
    rule bounds the wait (the entry CUTOVER_HEAL_AFTER seconds old) and decides alone when
    CodeDeploy cannot answer or the entry names no deployment. Called before the run starts,
    so its deadline (and the retries bounded by it) count from the wake-up."""
    due = settings.heal_since + settings.heal_after
    codedeploy = None
    asking = settings.deployment_id not in deployment.NO_DEPLOYMENT
    said = ""
    while True:
        remaining = due - time.time()
        if remaining <= 0:
            _say(settings, "the entry is CUTOVER_HEAL_AFTER old: the deployment must be over")
            return
        if asking:
            if codedeploy is None:
                region = settings.region or ""
                deadline = time.monotonic() + remaining
                codedeploy = connect(settings, region, session, deadline).codedeploy
            state = deployment.ask(codedeploy, settings.deployment_id)
            if state.over:
                _say(settings, f"{state.describe()}: the deployment is over")
                return
            if state.over is None:
                asking = False
                _say(
                    settings,
                    f"{state.describe()}: falling back to the time rule, sleeping "
                    f"{remaining:.0f}s until the deployment must be over",
                )
            elif state.status != said:
                said = state.status
                _say(
                    settings,
                    f"{state.describe()}: sleeping, asking CodeDeploy every "
                    f"{settings.heal_poll:g}s (at most {remaining:.0f}s)",
                )
        else:
            if not said:
                said = "time rule"
                _say(settings, f"sleeping {remaining:.0f}s until the deployment must be over")
        # Jittered (0.8..1.2 x): a fleet's watchdogs, armed together, do not ask in step.
        pause = settings.heal_poll * random.uniform(0.8, 1.2) if asking else remaining
        time.sleep(min(remaining, pause))


def _say(settings: Settings, message: str) -> None:
    print(f"{utc_now()} cutover-hooks heal {settings.instance_id}: {message}", flush=True)
