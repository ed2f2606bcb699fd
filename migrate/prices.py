"""The dated local price cache: on-demand hourly prices of Azure VM sizes and EC2 types.

Filled by `migrate prices refresh --azure-region R --aws-region R`: Azure from the Retail Prices
REST API (anonymous, OData ``$filter``, pages followed through ``NextPageLink``), AWS from the
Price List Query API (boto3 ``pricing`` ``GetProducts``, each product's ``terms.OnDemand``).
Every entry records where it came from and when; nothing here invents a price: a look-up that
misses returns None, and the caller shows "unknown" with ``fetch_command``.

Cache file (JSON)::

    {"schemaVersion": 1, "prices": [{"cloud": "azure"|"aws", "region": ..., "sku": ...,
      "os": "Linux"|"Windows", "hourly": 0.192, "currency": "USD", "source": ..., "fetchedAt":
      "2026-12-07", "illustrative": false}]}
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable, Iterator
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import requests

from cutover.exitcodes import ENVIRONMENT
from cutover.files import read_text, write_text
from migrate.errors import MigrateError

CACHE_SCHEMA_VERSION = 1
AZURE_RETAIL_URL = "https://prices.azure.com/api/retail/prices"
# The Price List Query API is served from a few regions only; us-east-1 is one.
PRICING_REGION = "us-east-1"
OPERATING_SYSTEMS = ("Linux", "Windows")


def default_cache() -> Path:
    """``$CUTOVER_PRICE_CACHE``, else ``$XDG_CACHE_HOME/cutover/prices.json``."""
    explicit = os.environ.get("CUTOVER_PRICE_CACHE")
    if explicit:
        return Path(explicit)
    base = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    return base / "cutover" / "prices.json"


@dataclass(frozen=True, slots=True)
class Price:
    cloud: str  # azure | aws
    region: str
    sku: str
    os: str  # Linux | Windows
    hourly: float
    currency: str
    source: str
    fetched_at: str
    illustrative: bool = False

    def to_json(self) -> dict[str, Any]:
        body = asdict(self)
        body["fetchedAt"] = body.pop("fetched_at")
        return body


class PriceCache:
    """Prices by (cloud, region, sku lower case, os)."""

    def __init__(self, prices: Iterable[Price] = (), path: Path | None = None) -> None:
        self.path = path
        self.by_key: dict[tuple[str, str, str, str], Price] = {}
        for price in prices:
            self.add(price)

    def add(self, price: Price) -> None:
        self.by_key[(price.cloud, price.region.lower(), price.sku.lower(), price.os)] = price

    def get(self, cloud: str, region: str, sku: str, os_name: str) -> Price | None:
        return self.by_key.get((cloud, region.lower(), sku.lower(), os_name))

    def to_json(self) -> dict[str, Any]:
        ordered = sorted(self.by_key.values(), key=lambda p: (p.cloud, p.region, p.sku, p.os))
        return {"schemaVersion": CACHE_SCHEMA_VERSION, "prices": [p.to_json() for p in ordered]}


def load_cache(path: Path) -> PriceCache:
    """The cache in ``path``; an absent file is an empty cache (every price unknown)."""
    if not path.exists():
        return PriceCache(path=path)
    text = read_text(path)
    try:
        body = json.loads(text)
    except json.JSONDecodeError as exc:
        raise MigrateError(
            f"{path}: malformed JSON at line {exc.lineno} column {exc.colno}: {exc.msg}; "
            "delete it and run `migrate prices refresh`"
        ) from exc
    if not isinstance(body, dict) or body.get("schemaVersion") != CACHE_SCHEMA_VERSION:
        raise MigrateError(f"{path}: not a price cache (schemaVersion {CACHE_SCHEMA_VERSION})")
    prices = []
    for i, item in enumerate(body.get("prices") or []):
        try:
            prices.append(
                Price(
                    cloud=str(item["cloud"]),
                    region=str(item["region"]),
                    sku=str(item["sku"]),
                    os=str(item["os"]),
                    hourly=float(item["hourly"]),
                    currency=str(item.get("currency") or "USD"),
                    source=str(item["source"]),
                    fetched_at=str(item["fetchedAt"]),
                    illustrative=bool(item.get("illustrative", False)),
                )
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise MigrateError(
                f"{path}: $.prices[{i}]: needs cloud, region, sku, os, hourly (a number), source "
                f"and fetchedAt ({exc!r})"
            ) from exc
        if prices[-1].cloud not in ("azure", "aws") or prices[-1].os not in OPERATING_SYSTEMS:
            raise MigrateError(f"{path}: $.prices[{i}]: cloud azure|aws and os Linux|Windows")
    return PriceCache(prices, path)


def save_cache(cache: PriceCache, path: Path) -> None:
    write_text(path, json.dumps(cache.to_json(), indent=1) + "\n")


def fetch_command(azure_region: str, aws_region: str) -> str:
    """The command that fills the cache for these regions."""
    return (
        f"python -m migrate prices refresh --azure-region {azure_region or 'REGION'} "
        f"--aws-region {aws_region or 'REGION'}"
    )


def _today() -> str:
    return datetime.now(UTC).date().isoformat()


# -- Azure Retail Prices API ---------------------------------------------------------------------


def azure_filter(region: str, sku: str | None = None) -> str:
    """The OData filter (values are case-sensitive): pay-as-you-go VM meters of one region."""
    parts = [
        "serviceName eq 'Virtual Machines'",
        f"armRegionName eq '{region}'",
        "priceType eq 'Consumption'",
    ]
    if sku:
        parts.append(f"armSkuName eq '{sku}'")
    return " and ".join(parts)


def _azure_items(
    url: str, params: dict[str, str] | None, session: requests.Session
) -> Iterator[dict[str, Any]]:
    next_url: str | None = url
    while next_url:
        try:
            response = session.get(next_url, params=params, timeout=60)
        except requests.RequestException as exc:
            raise MigrateError(
                f"{next_url}: Azure Retail Prices API not reachable ({exc})", ENVIRONMENT
            ) from exc
        if response.status_code != 200:
            raise MigrateError(
                f"{next_url}: Azure Retail Prices API answered {response.status_code}: "
                f"{response.text[:200]}",
                ENVIRONMENT,
            )
        body = response.json()
        yield from body.get("Items") or []
        next_url, params = body.get("NextPageLink") or None, None  # the link holds the query


def azure_os(item: dict[str, Any]) -> str | None:
    """Linux or Windows for a pay-as-you-go VM meter; None for Spot, Low Priority, other meters."""
    sku_name = str(item.get("skuName") or "")
    if "Spot" in sku_name or "Low Priority" in sku_name:
        return None
    if item.get("type") != "Consumption" or item.get("unitOfMeasure") != "1 Hour":
        return None
    product = str(item.get("productName") or "")
    if "Cloud Services" in product:
        return None
    return "Windows" if "Windows" in product else "Linux"


def refresh_azure(
    cache: PriceCache,
    region: str,
    skus: Iterable[str] = (),
    url: str | None = None,
    session: requests.Session | None = None,
) -> int:
    """Add the region's pay-as-you-go VM prices (only ``skus`` when given); the count added."""
    url = url or os.environ.get("CUTOVER_AZURE_PRICES_URL") or AZURE_RETAIL_URL
    session = session or requests.Session()
    today = _today()
    added = 0
    for sku in list(skus) or [None]:
        query = {"$filter": azure_filter(region, sku)}
        for item in _azure_items(url, query, session):
            os_name = azure_os(item)
            if os_name is None or not item.get("armSkuName"):
                continue
            cache.add(
                Price(
                    cloud="azure",
                    region=region,
                    sku=str(item["armSkuName"]),
                    os=os_name,
                    hourly=float(item["retailPrice"]),
                    currency=str(item.get("currencyCode") or "USD"),
                    source=f"Azure Retail Prices API ({url}, meter {item.get('meterId', '?')})",
                    fetched_at=today,
                )
            )
            added += 1
    return added


# -- AWS Price List Query API --------------------------------------------------------------------


def aws_filters(region: str, os_name: str, instance_type: str | None) -> list[dict[str, str]]:
    fields = {
        "regionCode": region,
        "operatingSystem": os_name,
        "tenancy": "Shared",
        "preInstalledSw": "NA",
        "capacitystatus": "Used",
        "licenseModel": "No License required",
    }
    if instance_type:
        fields["instanceType"] = instance_type
    return [{"Type": "TERM_MATCH", "Field": k, "Value": v} for k, v in fields.items()]


def on_demand_hourly(product: dict[str, Any]) -> tuple[float, str] | None:
    """(hourly price, currency) from a PriceList product's ``terms.OnDemand``."""
    for term in (product.get("terms") or {}).get("OnDemand", {}).values():
        for dimension in term.get("priceDimensions", {}).values():
            if dimension.get("unit") != "Hrs":
                continue
            for currency, amount in (dimension.get("pricePerUnit") or {}).items():
                return float(amount), currency
    return None


def refresh_aws(
    cache: PriceCache, region: str, instance_types: Iterable[str] = (), client: Any = None
) -> int:
    """Add the region's on-demand EC2 prices (only ``instance_types`` when given), Linux and
    Windows; the count added. ``client``: a boto3 ``pricing`` client (default: us-east-1,
    boto3's default session, so AWS_ENDPOINT_URL applies)."""
    if client is None:
        import boto3  # boto3 is slow to import; only this command needs it

        client = boto3.client("pricing", region_name=PRICING_REGION)
    today = _today()
    added = 0
    paginator = client.get_paginator("get_products")
    types: list[str | None] = [*instance_types] or [None]  # once: asked again for each OS
    for os_name in OPERATING_SYSTEMS:
        for instance_type in types:
            pages = paginator.paginate(
                ServiceCode="AmazonEC2", Filters=aws_filters(region, os_name, instance_type)
            )
            for page in pages:
                for raw in page.get("PriceList", []):
                    product = json.loads(raw) if isinstance(raw, str) else raw
                    attrs = (product.get("product") or {}).get("attributes") or {}
                    found = on_demand_hourly(product)
                    if found is None or not attrs.get("instanceType"):
                        continue
                    cache.add(
                        Price(
                            cloud="aws",
                            region=region,
                            sku=attrs["instanceType"],
                            os=os_name,
                            hourly=found[0],
                            currency=found[1],
                            source="AWS Price List Query API (GetProducts AmazonEC2, "
                            f"publication {product.get('publicationDate', '?')})",
                            fetched_at=today,
                        )
                    )
                    added += 1
    return added
