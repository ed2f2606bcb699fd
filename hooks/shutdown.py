"""The watchdog's last act: its instance is shutting down while the hooks still owe the group
something (README "Shutdown").

An instance terminated in Standby by someone else, or replaced by the group while its
deployment failed, never runs its register, and in a one-instance group no other hook ever
runs to restore the bounds or give back the EnterStandby decrement: the group stays lowered,
or empty, until someone runs reconcile. EC2 shuts the operating system down before it
terminates an instance, and the shutdown sends SIGTERM to every process, the detached watchdog
included. On SIGTERM the watchdog checks that its instance is really going (not the agent
restarting), then settles as a finishing register would: announce `closing`, look, and restore
(giving the decrement back) only if nobody else is in flight; otherwise it leaves its entry
saying what is owed, for the last one in flight to give back."""

from __future__ import annotations

import contextlib
import signal
import threading
import time
from collections.abc import Iterator
from dataclasses import replace
from typing import Any

from hooks import coordination
from hooks.clients import AwsSession
from hooks.group import AutoScalingGroup
from hooks.run import HookRun
from hooks.settings import Settings
from hooks.startup import start
from hooks.state import ENDED_STATES, ENTRY_TAG, GROUP_NAME_TAG, SHUTDOWN_SECONDS, Entry

# The settle's own deadline: inside the closing entry's life, so a deregister that waits for it
# is never held past SHUTDOWN_SECONDS.
SETTLE_SECONDS = SHUTDOWN_SECONDS - 5.0


class ShuttingDown(BaseException):  # noqa: N818 - an event, not an error
    """SIGTERM arrived: the operating system (or someone) is stopping the watchdog. Not an
    Exception, so that no `except Exception` on the way (botocore's included) swallows it."""


def _raise(signum: int, frame: Any) -> None:
    raise ShuttingDown


def sigterm_raises() -> contextlib.AbstractContextManager[None]:
    """SIGTERM raises ShuttingDown inside the block."""
    return _sigterm(_raise)


@contextlib.contextmanager
def _sigterm(handler: Any) -> Iterator[None]:
    # Signals reach the main thread only (in-process tests run hooks on other threads too).
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = signal.signal(signal.SIGTERM, handler)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def settle(settings: Settings, session: AwsSession = None) -> HookRun:
    """Settle what this instance's entry owes, if the instance is shutting down."""
    with _sigterm(signal.SIG_IGN):  # a second SIGTERM must not cut the settle short
        return _settle(settings, session)


def _settle(settings: Settings, session: AwsSession) -> HookRun:
    run = start(replace(settings, timeout=min(settings.timeout, SETTLE_SECONDS)), session)
    state, group = _describe_self(run)
    if state not in ENDED_STATES:
        run.log(
            f"step settle_on_shutdown: stopped by SIGTERM with the instance {state or 'unknown'} "
            "(the CodeDeploy agent restarting?): self-healing ends here; run reconcile if this "
            "deployment never finishes"
        )
        return run
    mine = run.mine
    if group is None or mine is None or mine.closing:
        run.log(f"step settle_on_shutdown: instance {state}, nothing in flight on it")
        return run
    run.group = AutoScalingGroup(run.clients.autoscaling, group)
    # Look first, once no register is restoring (one that read this entry as owed gives the
    # decrement back and drops it: writing over it would owe it again). With others in flight
    # the entry stays as it is (owed, if `sb`) for the last of them, and nothing is written.
    run.wait("other instances' registers to finish restoring", lambda: _restoring(run))
    snap = run.snapshot
    assert snap is not None
    others = coordination.in_flight(snap, run.entries, exclude=run.instance_id)
    mine = run.mine
    if mine is None:
        run.log("step settle_on_shutdown: a register's restore settled this instance")
        return run
    if not others:
        # Nobody in flight: announce, then look again (a deregister may be starting).
        until = time.time() + (run.deadline - time.monotonic())
        run.tags.write(mine.as_closing(until, owed=True))
        snap = run.read_state()
        others = coordination.in_flight(snap, run.entries, exclude=run.instance_id)
        if others:
            _withdraw(run, mine)
    if others:
        run.log(
            f"step settle_on_shutdown: instance {state}; still in flight: "
            f"{', '.join(sorted(others))}; the last one restores capacity"
        )
        return run
    run.log(f"step settle_on_shutdown: instance {state} with nobody in flight: restoring")
    coordination.restore(run, snap, "settle_on_shutdown", coordination.leftovers(snap, run.entries))
    return run


def _restoring(run: HookRun) -> str | None:
    snap = run.read_state()
    busy = coordination.closing(snap, run.entries, exclude=run.instance_id)
    return ", ".join(sorted(busy)) + " restoring capacity" if busy else None


def _withdraw(run: HookRun, mine: Entry) -> None:
    """A deregister announced itself between the two looks: give the entry back its stage (owed
    again, for the last one in flight), so that deregister does not wait for it. A restorer
    could drop the entry between the look and this write only by finishing a whole deployment
    cycle of that new instance in between."""
    if mine.in_standby or mine.record() is not None:
        # Owed, or saying what MinSize its deregister lowered: the last one in flight reads it.
        run.tags.write(mine)
    else:
        run.tags.delete([run.instance_id])


def _describe_self(run: HookRun) -> tuple[str | None, str | None]:
    """The instance's state and group, and its entry into run.entries (one call)."""
    answer = run.clients.ec2.describe_instances(InstanceIds=[run.instance_id])
    for reservation in answer.get("Reservations", []):
        for instance in reservation.get("Instances", []):
            tags = {t["Key"]: t.get("Value", "") for t in instance.get("Tags", [])}
            if ENTRY_TAG in tags:
                run.entries[run.instance_id] = Entry.parse(run.instance_id, tags[ENTRY_TAG])
            return instance.get("State", {}).get("Name"), tags.get(GROUP_NAME_TAG)
    return None, None
