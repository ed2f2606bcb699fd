"""The mocks pause the garbage collector for a program run and give it back as they found it."""

from __future__ import annotations

import gc

import pulumi
import pytest

from preview import mocks


def _one_resource() -> None:
    pulumi.ComponentResource("cutover:test:Thing", "thing")


def _collector_state_inside(program) -> bool:
    seen: list[bool] = []

    def run() -> None:
        seen.append(gc.isenabled())
        program()

    mocks.evaluate(run, stack="staging", values={"aws:region": "eu-central-1"})
    return seen[0]


@pytest.fixture
def collector_restored():
    was_enabled = gc.isenabled()
    yield
    gc.enable() if was_enabled else gc.disable()


def test_the_collector_is_off_during_the_run_and_back_on_after(collector_restored):
    gc.enable()
    assert _collector_state_inside(_one_resource) is False
    assert gc.isenabled()


def test_a_collector_the_caller_turned_off_stays_off(collector_restored):
    # `python -m preview` runs without automatic collection from start to end.
    gc.disable()
    assert _collector_state_inside(_one_resource) is False
    assert not gc.isenabled()


def test_the_collector_is_back_on_after_the_program_fails(collector_restored):
    def broken() -> None:
        raise ValueError("bad config")

    gc.enable()
    with pytest.raises(ValueError, match="bad config"):
        mocks.evaluate(broken, stack="staging", values={"aws:region": "eu-central-1"})
    assert gc.isenabled()


def test_the_run_still_records_the_program_resources(collector_restored):
    evaluation = mocks.evaluate(
        _one_resource, stack="staging", values={"aws:region": "eu-central-1"}
    )
    assert [(r.type, r.name) for r in evaluation.resources] == [("cutover:test:Thing", "thing")]


def test_a_run_leaves_no_event_loop_open() -> None:
    """Every executor thread of the mock monitor runs an event loop; left open, the interpreter
    reports each at exit ("unclosed event loop", "Exception ignored ... Invalid file
    descriptor"). After a run, no open loop is left anywhere in the process."""
    import asyncio

    from preview.cli import evaluate_stack

    evaluate_stack("production")
    gc.collect()
    open_loops = [
        o
        for o in gc.get_objects()
        if isinstance(o, asyncio.AbstractEventLoop) and not o.is_closed()
    ]
    assert open_loops == []
