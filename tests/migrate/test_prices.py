"""The price cache, its refresh from the (fake) Azure Retail Prices and AWS Price List APIs, and the
costs in the plan and the reports."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest

from migrate.cli import main
from migrate.costs import cost_plan
from migrate.errors import MigrateError
from migrate.plan import build_plan
from migrate.prices import PriceCache, load_cache, refresh_aws, refresh_azure
from migrate.render import render
from migrate.report import Context
from migrate.sources.export import load_export
from tests.migrate.conftest import REPO, SAMPLE
from tests.migrate.fake_prices import FakePrices, aws_product, azure_item

SAMPLE_PRICES = REPO / "migrate" / "sample-prices.json"


@pytest.fixture
def prices() -> Iterator[FakePrices]:
    with FakePrices(page_size=2) as server:
        server.add_azure(
            [
                azure_item("Standard_D4s_v5", "westeurope", 0.2),
                azure_item("Standard_D4s_v5", "westeurope", 0.384, windows=True),
                azure_item("Standard_D4s_v5", "westeurope", 0.04, spot=True),
                azure_item("Standard_D4s_v5", "westeurope", 0.12, kind="Reservation"),
                azure_item("Standard_F8s_v2", "westeurope", 0.383),
                azure_item("Standard_D2s_v3", "westeurope", 0.188, windows=True),
                azure_item("Standard_D2s_v3", "westeurope", 0.11),
                azure_item("Standard_D4s_v5", "northeurope", 0.19),
            ]
        )
        server.add_aws(
            [
                aws_product("m7i.xlarge", "eu-west-1", "Linux", 0.2226),
                aws_product("m7i.xlarge", "eu-west-1", "Windows", 0.4066),
                aws_product("c7i.2xlarge", "eu-west-1", "Linux", 0.3808),
                aws_product("m7i.large", "eu-west-1", "Windows", 0.2033),
                aws_product("m7i.large", "eu-west-1", "Linux", 0.1113),
                aws_product("m7i.xlarge", "eu-west-1", "Linux", 0.5, tenancy="Dedicated"),
                aws_product("m7i.xlarge", "eu-central-1", "Linux", 0.2304),
            ]
        )
        yield server


def _pricing(server: FakePrices) -> Any:
    return boto3.client(
        "pricing",
        region_name="us-east-1",
        endpoint_url=server.url,
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )


def test_azure_prices_follow_next_page_link_and_keep_pay_as_you_go_only(
    prices: FakePrices,
) -> None:
    cache = PriceCache()
    refresh_azure(cache, "westeurope", url=f"{prices.url}/api/retail/prices")

    pages = [line for line in prices.log if line.startswith("azure")]
    assert len(pages) == 3  # 5 westeurope Consumption items (the Reservation filtered), 2 a page
    assert "priceType eq 'Consumption'" in pages[0] and "armRegionName eq 'westeurope'" in pages[0]
    linux = cache.get("azure", "westeurope", "Standard_D4s_v5", "Linux")
    windows = cache.get("azure", "westeurope", "Standard_D4s_v5", "Windows")
    assert linux is not None and linux.hourly == 0.2  # not the Spot meter
    assert windows is not None and windows.hourly == 0.384
    assert "Azure Retail Prices API" in linux.source and linux.fetched_at
    assert cache.get("azure", "northeurope", "Standard_D4s_v5", "Linux") is None


def test_azure_prices_of_named_skus_filter_on_arm_sku_name(prices: FakePrices) -> None:
    cache = PriceCache()
    refresh_azure(cache, "westeurope", ["Standard_F8s_v2"], url=f"{prices.url}/api/retail/prices")

    assert "armSkuName eq 'Standard_F8s_v2'" in prices.log[0]
    assert [k[2] for k in cache.by_key] == ["standard_f8s_v2"]


def test_aws_prices_come_from_get_products_on_demand_terms(prices: FakePrices) -> None:
    cache = PriceCache()
    added = refresh_aws(cache, "eu-west-1", ["m7i.xlarge", "m7i.large"], client=_pricing(prices))

    assert added == 4  # Linux and Windows of both; not the Dedicated one, not eu-central-1
    assert cache.get("aws", "eu-west-1", "m7i.xlarge", "Linux").hourly == 0.2226  # type: ignore[union-attr]
    assert cache.get("aws", "eu-west-1", "m7i.xlarge", "Windows").hourly == 0.4066  # type: ignore[union-attr]
    source = cache.get("aws", "eu-west-1", "m7i.large", "Linux").source  # type: ignore[union-attr]
    assert "AWS Price List Query API" in source and "2026-11-01" in source


def test_aws_prices_of_types_given_as_a_generator_ask_for_those_types_only(
    prices: FakePrices,
) -> None:
    """Linux then Windows for the same types: a one-pass iterable must not leave Windows with
    no types, which would ask for every type of the region."""
    cache = PriceCache()
    types = (t for t in ["m7i.xlarge", "m7i.large"])
    added = refresh_aws(cache, "eu-west-1", types, client=_pricing(prices))

    assert added == 4
    # One GetProducts per operating system and type (each answer fits one page).
    assert sum(1 for line in prices.log if line.startswith("aws")) == 4


def test_aws_prices_follow_next_token(prices: FakePrices) -> None:
    prices.page_size = 1
    cache = PriceCache()
    refresh_aws(cache, "eu-west-1", client=_pricing(prices))

    assert len([k for k in cache.by_key if k[0] == "aws"]) == 5
    assert sum(1 for line in prices.log if line.startswith("aws")) == 5  # one product a page


def _plan(tmp_path: Path, *extra: str) -> dict[str, Any]:
    inventory, plan = tmp_path / "inventory.json", tmp_path / "plan.json"
    if not inventory.exists():
        assert main(["inventory", "--from-export", str(SAMPLE), "-o", str(inventory)]) == 0
    assert main(["plan", str(inventory), "-o", str(plan), *extra]) == 0
    return json.loads(plan.read_text())


def test_prices_refresh_then_plan_prices_both_sides(
    prices: FakePrices, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CUTOVER_AZURE_PRICES_URL", f"{prices.url}/api/retail/prices")
    monkeypatch.setenv("AWS_ENDPOINT_URL", prices.url)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    cache = tmp_path / "prices.json"
    _plan(tmp_path, "--no-prices")
    refresh = ["prices", "refresh", "--azure-region", "westeurope", "--aws-region", "eu-west-1"]
    assert main([*refresh, "--plan", str(tmp_path / "plan.json"), "--cache", str(cache)]) == 0

    plan = {w["name"]: w for w in _plan(tmp_path, "--prices", str(cache))["workloads"]}

    web = plan["web"]["cost"]  # 3 x D4s_v5 Linux in westeurope, 3 x m7i.xlarge in eu-west-1
    assert web["azure"]["monthly"] == round(0.2 * 730 * 3, 2) == 438.0
    assert web["aws"]["monthly"] == round(0.2226 * 730 * 3, 2) == 487.49
    assert "Azure Retail Prices API" in web["azure"]["source"] and web["azure"]["date"]
    reporting = plan["reporting"]["cost"]  # Windows, priced as Windows on both sides
    assert reporting["os"] == "Windows"
    assert reporting["azure"]["hourly"] == 0.188 and reporting["aws"]["hourly"] == 0.2033
    shop = plan["shop"]["cost"]  # germanywestcentral was not fetched: unknown, with the command
    assert shop["azure"]["unknown"] is True and shop["saving"] is None
    assert shop["azure"]["fetch"] == (
        "python -m migrate prices refresh --azure-region germanywestcentral "
        "--aws-region eu-central-1"
    )


def test_the_demo_report_shows_both_sides_with_sources_and_the_saving(tmp_path: Path) -> None:
    plan = _plan(tmp_path, "--prices", str(SAMPLE_PRICES))
    md = render(plan, "md", Context())
    page = render(plan, "html", Context())

    assert "Monthly cost (on-demand, 730 h, desired capacity): Azure $4,526.00; AWS" in md
    assert "right-sizing saving $" in md and "ILLUSTRATIVE" in md
    assert "Price source: illustrative figure for the demo" in md
    shop = next(line for line in md.splitlines() if line.startswith("| shop | r7a.xlarge"))
    assert "| r7a.large | performance | 8 % |" in shop and "$255.79" in shop
    assert page.count("<svg") >= 7 and "daily peak CPU and memory" in page
    rows = list(csv.DictReader(io.StringIO(render(plan, "csv"))))
    shop_row = next(r for r in rows if r["workload"] == "shop")
    assert shop_row["asIsInstanceType"] == "r7a.xlarge" and shop_row["savingMonthly"] == "255.79"
    assert shop_row["confidence"] == "5" and "illustrative" in shop_row["priceSources"]


def test_without_a_cache_every_price_is_unknown_with_the_command(tmp_path: Path) -> None:
    plan = build_plan(load_export(SAMPLE))
    cost_plan(plan, load_cache(tmp_path / "absent.json"))
    md = render(plan, "md", Context())

    assert "unknown (fetch: python -m migrate prices refresh --azure-region westeurope" in md
    assert "$" not in md.split("## Findings")[0].split("Measured use")[1]


def test_a_malformed_cache_is_a_clear_error(tmp_path: Path) -> None:
    bad = tmp_path / "prices.json"
    bad.write_text('{"schemaVersion": 1, "prices": [{"cloud": "aws", "hourly": "x"}]}')

    with pytest.raises(MigrateError, match=r"\$\.prices\[0\]: needs cloud, region, sku"):
        load_cache(bad)


def test_every_shipped_demo_price_is_marked_illustrative_with_a_source_and_date() -> None:
    body = json.loads(SAMPLE_PRICES.read_text())
    assert body["prices"] and all(
        p["illustrative"] is True and p["source"] and p["fetchedAt"] for p in body["prices"]
    )
