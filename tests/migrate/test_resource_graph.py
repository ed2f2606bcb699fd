"""Live inventory through Azure Resource Graph: the real ResourceGraphClient against the fake."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest

from migrate.errors import MigrateError
from migrate.plan import build_plan
from migrate.sources.export import load_export
from migrate.sources.graph import QuotaPacer
from migrate.sources.live import inventory_live
from tests.migrate.conftest import LEGACY, PROD, SAMPLE, connection_for
from tests.migrate.estate import synthetic_subscription
from tests.migrate.fake_arm import FakeArm
from tests.migrate.test_live_inventory import _neutral
from tests.migrate.test_matching import SUB_A, _gateway, _nic, _vm

GRAPH = "/providers/Microsoft.ResourceGraph/resources"


def test_graph_inventory_equals_the_export_and_the_per_subscription_lists(
    sample_arm: FakeArm, tmp_path: Path
) -> None:
    sub = "00000000-0000-4000-8000-000000000001"
    sample_arm.add_resources(synthetic_subscription(sub, vms=7, scale_sets=3, lbs=4))
    sample_arm.ensure_collections()
    sample_arm.write_export(tmp_path)
    subs = [PROD, LEGACY, sub]

    graph = inventory_live(subs, connection_for(sample_arm), progress=False, resource_graph=True)
    lists = inventory_live(subs, connection_for(sample_arm), progress=False)

    assert _neutral(graph) == _neutral(load_export(tmp_path)) == _neutral(lists)
    queries = sample_arm.requests_for(GRAPH)
    assert len(queries) == 1 and queries[0].status == 200 and queries[0].api_version


def test_graph_pages_follow_the_skip_token(sample_arm: FakeArm) -> None:
    sample_arm.graph_page_size = 4
    inventory = inventory_live(
        [PROD, LEGACY], connection_for(sample_arm), progress=False, resource_graph=True
    )
    rows = (
        len(inventory.vms)
        + len(inventory.scale_sets)
        + len(inventory.autoscale)
        + len(inventory.load_balancers)
    )
    assert len(sample_arm.requests_for(GRAPH)) == -(-rows // 4)
    assert _neutral(inventory) == _neutral(load_export(SAMPLE))


def test_a_403_falls_back_to_per_subscription_lists(sample_arm: FakeArm) -> None:
    sample_arm.deny_graph(403)

    inventory = inventory_live(
        [PROD, LEGACY], connection_for(sample_arm), progress=False, resource_graph=True
    )

    assert [r.status for r in sample_arm.requests_for(GRAPH)] == [403]
    body, expected = _neutral(inventory), _neutral(load_export(SAMPLE))
    assert body.pop("notes") and not expected.pop("notes")
    assert body == expected
    assert any("Resource Graph query not permitted" in n and "403" in n for n in inventory.notes)
    assert sample_arm.requests_for(
        f"/subscriptions/{PROD}/providers/Microsoft.Compute/virtualMachines"
    )


def test_429_retry_after_is_honoured(sample_arm: FakeArm) -> None:
    sample_arm.fail(GRAPH, 429, times=1, retry_after="1")

    inventory = inventory_live(
        [PROD, LEGACY], connection_for(sample_arm), progress=False, resource_graph=True
    )

    queries = sample_arm.requests_for(GRAPH)
    assert [q.status for q in queries] == [429, 200]
    assert queries[1].started - queries[0].ended >= 0.9
    assert len(inventory.vms) == 7


def test_the_pacer_keeps_within_15_queries_per_5_seconds() -> None:
    now = [0.0]
    slept = []

    def sleep(seconds: float) -> None:
        slept.append(seconds)
        now[0] += seconds

    pacer = QuotaPacer(clock=lambda: now[0], sleep=sleep)
    sends = []
    for _ in range(40):
        pacer.before_request()
        sends.append(now[0])
        now[0] += 0.05  # the round trip
        pacer.after_response({})
    for i in range(15, 40):
        assert sends[i] - sends[i - 15] >= 5.0  # never 16 in a window
    assert sends[-1] < 2 * (5.0 + 0.05) + 15 * 0.05  # and no slower than the quota needs


def test_the_pacer_waits_when_the_service_says_the_quota_is_spent() -> None:
    now = [0.0]
    pacer = QuotaPacer(clock=lambda: now[0], sleep=lambda s: now.__setitem__(0, now[0] + s))
    pacer.before_request()
    pacer.after_response(
        {"x-ms-user-quota-remaining": "0", "x-ms-user-quota-resets-after": "00:00:03"}
    )
    pacer.before_request()
    assert now[0] >= 3.0


def test_the_fake_enforces_the_quota_and_the_client_stays_within_it(fake_arm: FakeArm) -> None:
    fake_arm.graph_quota, fake_arm.graph_window, fake_arm.graph_page_size = 3, 1.0, 2
    sub = "00000000-0000-4000-8000-000000000003"
    fake_arm.add_resources(synthetic_subscription(sub, vms=10, scale_sets=1, lbs=2))
    fake_arm.ensure_collections()
    from migrate.sources import graph

    started = time.monotonic()
    with connection_for(fake_arm).graph_client() as client:
        result = graph.query_resources(client, [sub], pacer=QuotaPacer(quota=3, window=1.0))

    assert result.rows == 10 + 1 + 1 + 2 and result.pages == 7
    assert all(q.status == 200 for q in fake_arm.requests_for(GRAPH))  # no 429 needed
    assert time.monotonic() - started >= 2.0  # 7 queries at 3 per second: two waits


def test_nics_are_queried_where_pools_name_members_by_address(fake_arm: FakeArm) -> None:
    resources = [
        _gateway(SUB_A, "vnet-a", ["10.0.0.4"]),
        _vm(SUB_A, "app-1", ""),
        _vm(SUB_A, "app-2", ""),
        _nic(SUB_A, "app-1", "10.0.0.4", "vnet-other"),
        _nic(SUB_A, "app-2", "10.0.0.4", "vnet-a"),
    ]
    from tests.migrate.fake_arm import arm_body

    fake_arm.add_resources([arm_body(r) for r in resources])
    fake_arm.ensure_collections()

    for graph in (True, False):
        inventory = inventory_live(
            [SUB_A], connection_for(fake_arm), progress=False, resource_graph=graph
        )
        plan = build_plan(inventory)
        gateway = next(w for w in plan["workloads"] if w["azure"]["loadBalancers"])
        assert [i.rsplit("/", 1)[-1] for i in gateway["azure"]["ids"]] == ["app-2"], graph
    assert json.dumps(plan)


def test_a_subscription_without_rows_is_noted(sample_arm: FakeArm) -> None:
    empty = "00000000-0000-4000-8000-0000000000ee"
    sample_arm.add(empty, "Microsoft.Compute/virtualMachines", [])

    inventory = inventory_live(
        [PROD, LEGACY, empty], connection_for(sample_arm), progress=False, resource_graph=True
    )

    assert [n for n in inventory.notes if empty in n] == [
        f"Resource Graph returned nothing for subscription {empty}: it is empty, or the "
        "identity lacks the Reader role on it"
    ]


def test_a_failing_query_is_one_clear_error(sample_arm: FakeArm) -> None:
    sample_arm.fail(GRAPH, 500, times=10)

    with pytest.raises(MigrateError, match="Resource Graph query failed") as caught:
        inventory_live(
            [PROD], connection_for(sample_arm, retry_total=1), progress=False, resource_graph=True
        )
    assert caught.value.exit_code == 3
