"""Calls a step makes side by side (HookRun.together, CUTOVER_PARALLEL)."""

from __future__ import annotations

import dataclasses
import threading
import time

import pytest

from hooks.clients import Clients
from hooks.errors import HookError
from hooks.run import HookRun
from hooks.settings import from_environment


def run_with(parallel: bool) -> HookRun:
    settings = dataclasses.replace(from_environment("deregister"), parallel=parallel)
    return HookRun(settings, Clients(lambda service: None), "i-0123456789abcdef0", 0.0)


def test_side_by_side_calls_overlap_and_keep_their_order_of_results() -> None:
    started = threading.Barrier(3, timeout=5)  # each waits for the other two: overlap or fail

    def call(value: int):
        def go() -> int:
            started.wait()
            return value

        return go

    assert run_with(True).together(call(1), call(2), call(3)) == [1, 2, 3]


def test_an_error_of_one_call_is_raised_once_every_call_has_ended() -> None:
    ended = []

    def slow() -> None:
        time.sleep(0.05)
        ended.append("slow")

    def failing() -> None:
        raise HookError("refused")

    with pytest.raises(HookError, match="refused"):
        run_with(True).together(failing, slow)
    assert ended == ["slow"]


def test_off_they_run_one_after_the_other_in_the_order_given() -> None:
    order = []
    threads = set()

    def call(name: str):
        def go() -> None:
            order.append(name)
            threads.add(threading.get_ident())

        return go

    run_with(False).together(call("group"), call("entries"), call("health"))
    assert order == ["group", "entries", "health"]
    assert threads == {threading.get_ident()}


def test_cutover_parallel_accepts_on_and_off_only(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CUTOVER_PARALLEL", "off")
    assert from_environment("register").parallel is False
    monkeypatch.setenv("CUTOVER_PARALLEL", "sometimes")
    with pytest.raises(HookError, match="CUTOVER_PARALLEL must be on or off"):
        from_environment("register")


def test_clients_are_created_one_at_a_time_even_when_first_used_side_by_side() -> None:
    # botocore sessions are not thread-safe: client creation must not overlap.
    inside = []
    overlapped = []
    lock = threading.Lock()

    def make(service: str) -> str:
        with lock:
            inside.append(service)
            if len(inside) > 1:
                overlapped.append(service)
        time.sleep(0.05)
        with lock:
            inside.remove(service)
        return f"client {service}"

    clients = Clients(make)
    run = run_with(True)
    made = run.together(lambda: clients.ec2, lambda: clients.elbv2, lambda: clients.ec2)
    assert made == ["client ec2", "client elbv2", "client ec2"]
    assert overlapped == []
