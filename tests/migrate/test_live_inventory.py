"""The real azure-mgmt clients against the fake ARM server on 127.0.0.1."""

from __future__ import annotations

import json
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

import pytest

from migrate.errors import MigrateError
from migrate.plan import PlanOptions, build_plan
from migrate.sources.export import load_export
from migrate.sources.live import inventory_live
from tests.migrate.conftest import LEGACY, PROD, SAMPLE, connection_for
from tests.migrate.estate import sku_items, synthetic_subscription
from tests.migrate.fake_arm import TOKEN, FakeArm


def _ids(resources: list) -> set[str]:
    return {r.id.lower() for r in resources}


def _neutral(inventory: Any) -> dict[str, Any]:
    """The inventory as JSON, without where each resource was read from, in a stable order."""

    def strip(value: Any) -> Any:
        if isinstance(value, dict):
            return {k: strip(v) for k, v in value.items() if k != "source"}
        if isinstance(value, list):
            return [strip(v) for v in value]
        return value

    body = strip(inventory.to_json())
    body.pop("utilization")  # metrics are read live only with metrics=True (test_metrics.py)
    for key in ("vms", "scaleSets", "autoscale", "loadBalancers"):
        body[key].sort(key=lambda r: r["id"].lower())
    body["subscriptions"].sort(key=lambda s: s["id"])
    return body


def test_live_inventory_is_identical_to_the_export_of_the_same_json(
    sample_arm: FakeArm, tmp_path: Path
) -> None:
    # The SDK's models and back (as_dict / msrest serialize) must lose nothing the parser reads:
    # both generations of models (compute/network hybrid, monitor msrest) and both ARM shapes.
    sub = "00000000-0000-4000-8000-000000000001"
    sample_arm.add_resources(synthetic_subscription(sub, vms=7, scale_sets=3, lbs=4))
    sample_arm.ensure_collections()
    sample_arm.write_export(tmp_path)

    live = inventory_live([PROD, LEGACY, sub], connection_for(sample_arm), progress=False)

    assert _neutral(live) == _neutral(load_export(tmp_path))
    sample = load_export(SAMPLE)
    assert len(live.vms) == len(sample.vms) + 7
    assert len(live.autoscale) == len(sample.autoscale) + 3


def test_live_inventory_of_the_sample_equals_its_az_and_arm_export(sample_arm: FakeArm) -> None:
    live = inventory_live([PROD, LEGACY], connection_for(sample_arm), progress=False)

    assert _neutral(live) == _neutral(load_export(SAMPLE))


def test_every_request_carries_the_api_version_the_sdk_pins(sample_arm: FakeArm) -> None:
    inventory_live([PROD, LEGACY], connection_for(sample_arm), progress=False)

    assert sample_arm.log and all(r.status == 200 and r.api_version for r in sample_arm.log)
    by_path: dict[str, set[str]] = {}
    for r in sample_arm.log:
        by_path.setdefault(r.path.lower().split("/providers/")[-1], set()).add(r.api_version)
    # one version per operation, the same on nextLink pages as on the first
    assert all(len(versions) == 1 for versions in by_path.values()), by_path


def test_fake_arm_rejects_a_url_without_api_version(sample_arm: FakeArm) -> None:
    url = f"{sample_arm.url}/subscriptions/{PROD}/providers/Microsoft.Compute/virtualMachines"
    request = urllib.request.Request(url, headers={"Authorization": f"Bearer {TOKEN}"})

    with pytest.raises(urllib.error.HTTPError) as caught:
        urllib.request.urlopen(request, timeout=5)

    assert caught.value.code == 400
    assert json.load(caught.value)["error"]["code"] == "MissingApiVersionParameter"


def test_a_response_the_sdk_cannot_deserialize_is_a_clear_error(fake_arm: FakeArm) -> None:
    sub = "00000000-0000-4000-8000-000000000002"
    resources = synthetic_subscription(sub, vms=1, scale_sets=1, lbs=2)
    autoscale = next(r for r in resources if "autoscalesettings" in r["id"])
    autoscale["properties"]["profiles"][0]["rules"][0]["metricTrigger"]["timeGrain"] = "soon"
    fake_arm.add_resources(resources)
    fake_arm.ensure_collections()

    reason = "duration string 'soon'"
    with pytest.raises(MigrateError, match=f"azure:{sub}/autoscaleSettings: .*{reason}"):
        inventory_live([sub], connection_for(fake_arm), progress=False)


def test_live_inventory_follows_next_link_across_pages(sample_arm: FakeArm) -> None:
    inventory = inventory_live([PROD, LEGACY], connection_for(sample_arm), progress=False)

    vm_pages = sample_arm.requests_for(
        f"/subscriptions/{LEGACY}/providers/Microsoft.Compute/virtualMachines"
    )
    assert sorted(r.page for r in vm_pages) == [0, 1, 2]  # 6 VMs, 2 per page
    offline = load_export(SAMPLE)
    assert _ids(inventory.vms) == _ids(offline.vms)
    assert _ids(inventory.scale_sets) == _ids(offline.scale_sets)
    assert _ids(inventory.autoscale) == _ids(offline.autoscale)
    assert _ids(inventory.load_balancers) == _ids(offline.load_balancers)
    assert [s.status for s in inventory.subscriptions] == ["ok", "ok"]


def test_live_and_export_inventories_give_the_same_plan(sample_arm: FakeArm) -> None:
    # As-is: this live inventory is read without metrics (performance: test_metrics.py).
    as_is = PlanOptions(sizing="as-is")
    live_plan = build_plan(
        inventory_live([PROD, LEGACY], connection_for(sample_arm), progress=False), as_is
    )
    export_plan = build_plan(load_export(SAMPLE), as_is)

    def shape(plan: dict) -> list:
        return sorted(
            (w["name"], w["aws"]["instanceType"], w["aws"]["minSize"], w["aws"]["maxSize"])
            for w in plan["workloads"]
        )

    assert shape(live_plan) == shape(export_plan)


def test_all_visible_subscriptions_are_listed_when_none_is_given(sample_arm: FakeArm) -> None:
    inventory = inventory_live(None, connection_for(sample_arm), progress=False)

    assert {s.id for s in inventory.subscriptions} == {PROD, LEGACY}
    assert sample_arm.requests_for("/subscriptions")[0].path == "/subscriptions"


def test_throttling_429_is_retried_after_the_retry_after_delay(sample_arm: FakeArm) -> None:
    sample_arm.fail(
        f"{LEGACY}/providers/Microsoft.Compute/virtualMachines", 429, times=1, retry_after="1"
    )

    started = time.monotonic()
    inventory = inventory_live([LEGACY], connection_for(sample_arm), progress=False)

    requests = sample_arm.requests_for(f"{LEGACY}/providers/Microsoft.Compute/virtualMachines")
    assert [r.status for r in requests][:2] == [429, 200]
    assert requests[1].started - requests[0].ended >= 0.9  # Retry-After: 1 honoured
    assert time.monotonic() - started >= 1.0
    assert len(inventory.vms) == 6


def test_transient_5xx_are_retried_by_the_sdk_policy(sample_arm: FakeArm) -> None:
    sample_arm.fail(f"{PROD}/providers/Microsoft.Network/loadBalancers", 503, times=2)
    sample_arm.fail(f"{PROD}/providers/Microsoft.Compute/virtualMachineScaleSets", 500, times=1)

    inventory = inventory_live([PROD], connection_for(sample_arm), progress=False)

    statuses = [
        r.status
        for r in sample_arm.requests_for(f"{PROD}/providers/Microsoft.Network/loadBalancers")
    ]
    assert statuses == [503, 503, 200]
    assert inventory.subscriptions[0].status == "ok"
    assert len(inventory.scale_sets) == 2 and len(inventory.load_balancers) == 1


def test_5xx_beyond_the_retries_fails_that_subscription_only(sample_arm: FakeArm) -> None:
    sample_arm.fail(f"{PROD}/providers/Microsoft.Network/loadBalancers", 500, times=10)

    inventory = inventory_live(
        [PROD, LEGACY], connection_for(sample_arm, retry_total=1), progress=False
    )

    status = {s.id: s for s in inventory.subscriptions}
    assert status[PROD].status == "failed" and "500" in status[PROD].error
    assert status[LEGACY].status == "ok"
    assert not inventory.scale_sets  # nothing half-listed from the failed subscription
    assert len(inventory.vms) == 6


@pytest.mark.parametrize("status", [401, 403])
def test_denied_subscription_is_reported_and_the_others_continue(
    sample_arm: FakeArm, status: int
) -> None:
    sample_arm.deny(PROD, status)

    inventory = inventory_live([PROD, LEGACY], connection_for(sample_arm), progress=False)

    result = {s.id: s for s in inventory.subscriptions}
    assert result[PROD].status == "failed"
    assert str(status) in result[PROD].error
    assert ("AuthorizationFailed" if status == 403 else "InvalidAuthenticationToken") in result[
        PROD
    ].error
    assert result[LEGACY].status == "ok"
    assert {vm.id.split("/")[2] for vm in inventory.vms} == {LEGACY}
    plan = build_plan(inventory)
    assert {
        "id": f"/subscriptions/{PROD}",
        "reason": f"inventory failed: {result[PROD].error}",
    } in plan["skipped"]


def test_resource_skus_from_the_api_feed_the_size_table(fake_arm: FakeArm) -> None:
    sub = "00000000-0000-4000-8000-000000000001"
    fake_arm.add_resources(synthetic_subscription(sub, vms=5, scale_sets=1, lbs=2))
    custom = sku_items(("Standard_D2s_v5",))
    custom[0]["capabilities"][1]["value"] = "9"  # the API wins over the embedded catalog
    fake_arm.add(sub, "Microsoft.Compute/skus", custom)
    fake_arm.ensure_collections()

    inventory = inventory_live([sub], connection_for(fake_arm), progress=False)

    assert inventory.vm_sizes["Standard_D2s_v5"].memory_gb == 9
    assert inventory.vm_sizes["Standard_D4s_v5"].memory_gb == 16  # embedded fallback


def test_no_visible_subscription_is_a_clear_error(fake_arm: FakeArm) -> None:
    with pytest.raises(MigrateError, match="no enabled subscription"):
        inventory_live(None, connection_for(fake_arm), progress=False)


def test_missing_credential_is_one_clear_error(sample_arm: FakeArm) -> None:
    from azure.core.exceptions import ClientAuthenticationError

    class NoCredential:
        def get_token(self, *scopes: str, **kwargs: object) -> None:
            raise ClientAuthenticationError("DefaultAzureCredential failed to retrieve a token")

    connection = connection_for(sample_arm)
    connection.credential = NoCredential()
    with pytest.raises(MigrateError, match="no usable Azure credential .*az login") as caught:
        inventory_live([PROD], connection, progress=False)
    assert caught.value.exit_code == 3  # the environment, not the input
    assert not sample_arm.log  # nothing was sent
