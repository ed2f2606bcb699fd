"""The watchdog's last act (hooks/shutdown.py): SIGTERM, sent by the operating system's shutdown
when EC2 terminates the instance, makes it settle what the instance's entry owes the group.

The watchdog runs as the real detached process deregister starts; the test sends the SIGTERM
the shutdown would."""

from __future__ import annotations

import json
import signal
import time
from pathlib import Path

import pytest

PATIENCE = 60  # seconds for the watchdog to settle and exit (a few AWS calls)


def heal_log(aws_env: dict[str, str], iid: str) -> str:
    return (Path(aws_env["CUTOVER_STATE_DIR"]) / f"heal-{iid}.log").read_text()


@pytest.fixture
def watchdogs(monkeypatch):
    """Self-healing on, far off: only a SIGTERM makes the watchdog act in these tests."""
    monkeypatch.setenv("CUTOVER_HEAL", "on")
    monkeypatch.setenv("CUTOVER_HEAL_AFTER", "3600")
    started = []
    yield started
    for process in started:
        if process.poll() is None:
            process.kill()
            process.wait()


def _deregister(hook, aws_env: dict[str, str], iid: str, watchdogs: list):
    """Deregister, and wait until its watchdog sleeps (SIGTERM before Python has started would
    end it the default way: the window an instance shut down in its first second has)."""
    run = hook("deregister", iid)
    assert run.watchdog is not None
    watchdogs.append(run.watchdog)
    give_up = time.monotonic() + PATIENCE
    while "sleeping" not in heal_log(aws_env, iid):
        assert time.monotonic() < give_up and run.watchdog.poll() is None, heal_log(aws_env, iid)
        time.sleep(0.05)
    return run.watchdog


def _stop(watchdog) -> int:
    watchdog.send_signal(signal.SIGTERM)
    return watchdog.wait(timeout=PATIENCE)


def test_only_instance_terminated_in_standby_gives_back_and_restores(
    make_fleet, hook, aws_env, watchdogs
):
    """A one-instance group (downtime allowed): after EnterStandby the group is at 0/0/2 and
    nothing else will ever run a hook on it."""
    fleet = make_fleet(1, 2, 1, allow_downtime=True)
    (iid,) = fleet.instance_ids
    watchdog = _deregister(hook, aws_env, iid, watchdogs)
    assert fleet.capacity() == (0, 2, 0)

    fleet.ec2.terminate_instances(InstanceIds=[iid])
    assert _stop(watchdog) == 0, heal_log(aws_env, iid)

    log = heal_log(aws_env, iid)
    assert "instance terminated with nobody in flight: restoring" in log, log
    assert fleet.capacity() == (1, 2, 1)  # the decrement given back, MinSize restored
    assert fleet.record() is None
    assert iid not in fleet.entries()


def test_sigterm_on_a_running_instance_changes_nothing(make_fleet, hook, aws_env, watchdogs):
    """The agent restarting (or anyone) stops the watchdog: the instance is not going, so the
    deployment's own register, or reconcile, stays in charge."""
    fleet = make_fleet(1, 2, 1, allow_downtime=True)
    (iid,) = fleet.instance_ids
    watchdog = _deregister(hook, aws_env, iid, watchdogs)

    assert _stop(watchdog) == 0, heal_log(aws_env, iid)

    assert "self-healing ends here" in heal_log(aws_env, iid)
    assert fleet.capacity() == (0, 2, 0)
    assert fleet.lifecycle() == {iid: "Standby"}
    assert json.loads(fleet.entries()[iid])["s"] == "sb"
    hook("register", iid)
    assert fleet.capacity() == (1, 2, 1)


def test_with_others_in_flight_the_decrement_stays_owed_to_the_last_register(
    make_fleet, hook, aws_env, watchdogs
):
    fleet = make_fleet(2, 4, 3, allow_downtime=True)
    lost, other = fleet.instance_ids[0], fleet.instance_ids[1]
    watchdog = _deregister(hook, aws_env, lost, watchdogs)
    _deregister(hook, aws_env, other, watchdogs)
    assert fleet.capacity() == (1, 4, 1)

    fleet.ec2.terminate_instances(InstanceIds=[lost])
    assert _stop(watchdog) == 0, heal_log(aws_env, lost)

    assert f"still in flight: {other}" in heal_log(aws_env, lost)
    assert json.loads(fleet.entries()[lost])["s"] == "sb"  # owed, for the last one
    assert fleet.capacity() == (1, 4, 1)  # nothing written while another is out

    hook("register", other)
    assert fleet.capacity() == (2, 4, 3)
    assert fleet.hook_tags() == {}
