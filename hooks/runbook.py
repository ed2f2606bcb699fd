"""The hooks as runbooks: each command is a list of named steps (hooks/steps.py), run in order.

Every step reads what it needs from AWS before it writes, so a run killed between any two steps
and started again converges. Tests stop a run after step k with `stop_after=k`."""

from __future__ import annotations

import sys
from collections.abc import Callable, Sequence

from botocore.exceptions import BotoCoreError, ClientError

from hooks.clients import AwsSession
from hooks.errors import HookError
from hooks.idle import check_idle_colour
from hooks.run import HookRun, utc_now
from hooks.settings import Settings
from hooks.startup import start
from hooks.steps import (
    check_floor,
    check_processes,
    deregister_from_load_balancers,
    enter_standby,
    exit_standby,
    find_load_balancers,
    forget_state,
    locate_instance,
    lower_min_size,
    record_state,
    register_with_load_balancers,
    restore_capacity,
    wait_until_drained,
    wait_until_healthy,
)

__all__ = [
    "DEREGISTER_STEPS",
    "REGISTER_STEPS",
    "HookRun",
    "check_floor",
    "enter_standby",
    "find_load_balancers",
    "locate_instance",
    "run_hook",
    "start",
    "utc_now",
]

Step = Callable[[HookRun], None]


def _repair(name: str) -> Step:
    """A step of hooks/repair.py, imported when it runs: deregister and register, which run on
    the instance's critical path, never load reconcile's and heal's modules."""

    def step(run: HookRun) -> None:
        from hooks import repair  # noqa: PLC0415 (see above)

        getattr(repair, name)(run)

    step.__name__ = step.__qualname__ = name
    return step


read_named_group = _repair("read_named_group")
return_stuck_instances = _repair("return_stuck_instances")
restore_group = _repair("restore_group")
check_at_rest = _repair("check_at_rest")
wait_out_deployment = _repair("wait_out_deployment")

DEREGISTER_STEPS: tuple[tuple[str, Step], ...] = (
    ("locate_instance", locate_instance),
    ("check_idle_colour", check_idle_colour),  # a blue/green release's idle colour: done
    ("find_load_balancers", find_load_balancers),
    ("check_processes", check_processes),
    ("record_state", record_state),
    ("check_floor", check_floor),
    ("lower_min_size", lower_min_size),
    ("enter_standby", enter_standby),
    ("deregister_from_load_balancers", deregister_from_load_balancers),
    ("wait_until_drained", wait_until_drained),
)
REGISTER_STEPS: tuple[tuple[str, Step], ...] = (
    ("locate_instance", locate_instance),
    ("check_idle_colour", check_idle_colour),
    ("find_load_balancers", find_load_balancers),
    ("register_with_load_balancers", register_with_load_balancers),
    ("exit_standby", exit_standby),
    ("wait_until_healthy", wait_until_healthy),
    ("restore_capacity", restore_capacity),
    ("forget_state", forget_state),
)
RECONCILE_STEPS: tuple[tuple[str, Step], ...] = (
    ("read_group", read_named_group),
    ("return_stuck_instances", return_stuck_instances),
    ("restore_group", restore_group),
    ("check_at_rest", check_at_rest),
)
HEAL_STEPS: tuple[tuple[str, Step], ...] = (
    ("wait_out_deployment", wait_out_deployment),
    *REGISTER_STEPS,
)
STEPS = {
    "deregister": DEREGISTER_STEPS,
    "register": REGISTER_STEPS,
    "reconcile": RECONCILE_STEPS,
    "heal": HEAL_STEPS,
}


def run_steps(run: HookRun, steps: Sequence[tuple[str, Step]], stop_after: int | None) -> None:
    for index, (name, step) in enumerate(steps):
        if run.finished or (stop_after is not None and index >= stop_after):
            return
        try:
            step(run)
        except ClientError as error:
            info = error.response.get("Error", {})
            op = getattr(error, "operation_name", "?")
            raise HookError(
                f"step {name}: AWS {op} failed: {info.get('Code')}: {info.get('Message')}"
            ) from error
        except BotoCoreError as error:
            raise HookError(f"step {name}: AWS call failed: {error}") from error


def _run_steps(settings: Settings, session: AwsSession, stop_after: int | None) -> HookRun:
    try:
        run = start(settings, session)
    except BotoCoreError as error:
        raise HookError(f"cannot set up AWS clients: {error}") from error
    run_steps(run, STEPS[settings.command], stop_after)
    return run


def run_hook(
    settings: Settings, session: AwsSession = None, stop_after: int | None = None
) -> HookRun:
    """Run one command's steps (all, or the first `stop_after`); raise HookError on failure."""
    if settings.command not in STEPS:
        raise HookError(f"unknown command {settings.command!r}")
    if settings.command == "heal":
        from hooks import shutdown  # noqa: PLC0415 (heal only: see _repair)
        from hooks.watchdog import sleep_until_due  # noqa: PLC0415

        try:
            with shutdown.sigterm_raises():
                sleep_until_due(settings, session)
                run = _run_steps(settings, session, stop_after)
        except shutdown.ShuttingDown:
            run = shutdown.settle(settings, session)
    else:
        run = _run_steps(settings, session, stop_after)
    if stop_after is None:
        run.log("done")
    sys.stdout.flush()
    return run
