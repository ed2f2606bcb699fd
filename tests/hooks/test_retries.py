"""The retry policy on its own, with botocore's real service model and a clock the test owns:
throttling until the deadline (the last pause cut to it), other errors as botocore says."""

from __future__ import annotations

import botocore.session
import pytest
from botocore.awsrequest import AWSResponse
from botocore.exceptions import EndpointConnectionError

from hooks.errors import EXIT_DEADLINE, HookError
from hooks.retries import RetryUntilDeadline

OPERATION = (
    botocore.session.get_session()
    .get_service_model("autoscaling")
    .operation_model("DescribeAutoScalingGroups")
)


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def answer(code: str, status: int = 400) -> dict:
    parsed = {"Error": {"Code": code, "Message": "Rate exceeded"}}
    parsed["ResponseMetadata"] = {"HTTPStatusCode": status}
    return {
        "response": (AWSResponse("http://aws", status, {}, None), parsed),
        "caught_exception": None,
    }


def ask(policy: RetryUntilDeadline, attempts: int, outcome: dict) -> float | None:
    return policy(operation=OPERATION, attempts=attempts, request_dict={"context": {}}, **outcome)


@pytest.fixture
def clock() -> Clock:
    return Clock()


def policy(clock: Clock, max_retries: int = 2) -> RetryUntilDeadline:
    # jitter 1.0: the longest pause botocore's full-jitter backoff could choose
    return RetryUntilDeadline(clock() + 60, 60, max_retries, 20, clock=clock, jitter=lambda: 1.0)


def test_throttling_is_retried_far_beyond_the_retry_count_with_capped_backoff(clock):
    retry = policy(clock, max_retries=2)
    pauses = [ask(retry, attempt, answer("Throttling")) for attempt in range(1, 8)]
    assert pauses == [1, 2, 4, 8, 16, 20, 20]


def test_the_last_pause_ends_at_the_deadline_and_then_it_gives_up(clock):
    retry = policy(clock)
    clock.now += 55
    assert ask(retry, 9, answer("ThrottlingException")) == pytest.approx(5)
    clock.now += 5
    with pytest.raises(HookError) as caught:
        ask(retry, 10, answer("Throttling"))
    assert caught.value.exit_code == EXIT_DEADLINE
    assert str(caught.value).startswith(
        "timed out after 60s: AWS DescribeAutoScalingGroups still throttled (Throttling: Rate "
        "exceeded) after 10 attempts"
    )


def test_connection_errors_get_max_retries_then_surface(clock):
    retry = policy(clock, max_retries=2)
    refused = {"response": None, "caught_exception": EndpointConnectionError(endpoint_url="x")}
    assert ask(retry, 1, refused) == pytest.approx(0.05)
    assert ask(retry, 2, refused) == pytest.approx(0.1)
    assert ask(retry, 3, refused) is None


def test_a_transient_error_is_not_retried_past_the_deadline(clock):
    retry = policy(clock)
    clock.now += 61
    assert ask(retry, 1, answer("InternalFailure", 500)) is None


def test_an_error_aws_means_is_not_retried(clock):
    assert ask(policy(clock), 1, answer("ValidationError")) is None


def test_the_throttling_backoff_runs_on_aws_clock_the_network_one_does_not(clock):
    """AWS refills its token buckets on its own clock: an emulator running 10 times faster
    (CUTOVER_TIME_SCALE=10) refills 10 times sooner, so the backoff shrinks with it."""
    retry = RetryUntilDeadline(
        clock() + 60, 60, 2, 20, clock=clock, jitter=lambda: 1.0, time_scale=10
    )
    pauses = [ask(retry, attempt, answer("Throttling")) for attempt in range(1, 7)]
    assert pauses == pytest.approx([0.1, 0.2, 0.4, 0.8, 1.6, 2.0])
    refused = {"response": None, "caught_exception": EndpointConnectionError(endpoint_url="x")}
    assert ask(retry, 1, refused) == pytest.approx(0.05)
