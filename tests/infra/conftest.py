"""Fixtures for the infra tests: the real program evaluated under the shared Pulumi mocks."""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any

import pytest

from infra import __main__ as program
from infra.config import load_pulumi_config
from preview import mocks
from stack.load import read_stack_file, stack_file_path, to_pulumi_values


def run_program(stack: str, values: dict[str, Any]) -> mocks.Evaluation:
    """Run infra/__main__.py's program exactly as the CLI would feed it config, under mocks."""
    return mocks.evaluate(
        lambda: program.main(load_pulumi_config()),
        stack=stack,
        values=to_pulumi_values(values),
        region=values.get("aws:region", "eu-central-1"),
    )


def stack_values(stack: str) -> dict[str, Any]:
    """A deep copy of the raw config in Pulumi.<stack>.yaml, safe to modify."""
    return copy.deepcopy(read_stack_file(stack_file_path(stack)))


@pytest.fixture(scope="session")
def staging() -> mocks.Evaluation:
    return run_program("staging", stack_values("staging"))


@pytest.fixture(scope="session")
def production() -> mocks.Evaluation:
    return run_program("production", stack_values("production"))


@pytest.fixture
def evaluate_variant() -> Callable[..., mocks.Evaluation]:
    """Evaluate a stack after ``change(values)`` edits a copy of its file's config."""

    def run(stack: str, change: Callable[[dict[str, Any]], None]) -> mocks.Evaluation:
        values = stack_values(stack)
        change(values)
        return run_program(stack, values)

    return run
