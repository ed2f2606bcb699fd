"""Throttling is retried until the hook's own deadline, not for botocore's few attempts: through
a proxy in front of moto that answers Throttling for a while (tests/hooks/conftest.py)."""

from __future__ import annotations

from hooks.errors import EXIT_DEADLINE

from .conftest import REGION
from .test_cli import run_cli

# botocore's standard budget is 3 attempts (2 retries); the hooks' old setting gave up after 5.
BEYOND_BOTOCORE = 4
FAR_BEYOND_BOTOCORE = 15


def test_throttling_beyond_botocores_budget_is_retried_in_adaptive_mode(
    make_fleet, hook, throttling_proxy, monkeypatch
):
    fleet = make_fleet(2, 3, 2)
    iid = fleet.instance_ids[0]
    monkeypatch.setenv("AWS_ENDPOINT_URL", throttling_proxy.url)
    monkeypatch.setenv("CUTOVER_MAX_RETRIES", "1")  # does not bound throttling retries
    monkeypatch.setenv("CUTOVER_RETRY_MAX_DELAY", "0.02")
    # The default mode: botocore's rate limiter slows the client to 0.5 calls/s after a throttle.
    monkeypatch.delenv("CUTOVER_RETRY_MODE", raising=False)

    throttling_proxy.remaining = BEYOND_BOTOCORE
    hook("deregister", iid)

    assert throttling_proxy.throttled == BEYOND_BOTOCORE
    assert fleet.lifecycle()[iid] == "Standby"


def test_long_throttling_is_retried_until_it_passes(
    make_fleet, hook, throttling_proxy, monkeypatch
):
    fleet = make_fleet(2, 3, 2)
    iid = fleet.instance_ids[0]
    monkeypatch.setenv("AWS_ENDPOINT_URL", throttling_proxy.url)
    monkeypatch.setenv("CUTOVER_MAX_RETRIES", "1")
    monkeypatch.setenv("CUTOVER_RETRY_MAX_DELAY", "0.02")
    monkeypatch.setenv("CUTOVER_RETRY_MODE", "standard")  # no rate limiter: a quick test

    throttling_proxy.remaining = FAR_BEYOND_BOTOCORE
    hook("deregister", iid)
    throttling_proxy.remaining = FAR_BEYOND_BOTOCORE
    hook("register", iid)

    assert throttling_proxy.throttled == 2 * FAR_BEYOND_BOTOCORE
    assert fleet.capacity() == (2, 3, 2)
    assert set(fleet.lifecycle().values()) == {"InService"}
    assert fleet.hook_tags() == {}


def test_throttling_past_the_deadline_exits_with_the_deadline_code(make_fleet, throttling_proxy):
    fleet = make_fleet(2, 3, 2)
    throttling_proxy.remaining = 10**9

    out = run_cli(
        "deregister",
        "--instance-id",
        fleet.instance_ids[0],
        "--region",
        REGION,
        "--timeout",
        "1.5",
        env={"AWS_ENDPOINT_URL": throttling_proxy.url, "CUTOVER_RETRY_MAX_DELAY": "0.05"},
    )

    assert out.returncode == EXIT_DEADLINE, out.stderr
    assert out.stderr.count("\n") == 1
    assert out.stderr.startswith(
        "cutover-hooks deregister: error: timed out after 1.5s: AWS DescribeInstances "
        "still throttled (Throttling: Rate exceeded) after "
    )
    assert throttling_proxy.throttled >= 2 and throttling_proxy.forwarded == 0
    assert fleet.capacity() == (2, 3, 2)  # nothing was changed
