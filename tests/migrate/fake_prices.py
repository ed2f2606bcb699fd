"""Fake price APIs on 127.0.0.1, in their real response shapes.

* Azure Retail Prices: ``GET /api/retail/prices?$filter=...`` answers ``{"BillingCurrency",
  "CustomerEntityId", "CustomerEntityType", "Items": [...], "NextPageLink", "Count"}``; pages of
  ``page_size`` items, ``NextPageLink`` an absolute URL with ``$skip`` (the filter repeated), null
  on the last page. The filter's ``serviceName``, ``armRegionName``, ``priceType`` and
  ``armSkuName`` equalities are applied case-sensitively, as the API does.
* AWS Price List Query API (JSON 1.1, ``X-Amz-Target: AWSPriceListService.GetProducts``):
  ``{"FormatVersion": "aws_v1", "PriceList": ["<product JSON>", ...], "NextToken"}``; every
  TERM_MATCH filter is applied to the product attributes.
"""

from __future__ import annotations

import json
import re
import threading
from collections.abc import Iterable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, quote, urlsplit


def azure_item(sku: str, region: str, price: float, *, windows: bool = False,
               kind: str = "Consumption", spot: bool = False) -> dict[str, Any]:  # fmt: skip
    """A Retail Prices item as the API returns it for a VM meter."""
    short = sku.removeprefix("Standard_").replace("_", " ")
    series = re.sub(r"\d+", "", short.split(" ")[0])
    meter = f"{short}{' Spot' if spot else ''}"
    return {
        "currencyCode": "USD",
        "tierMinimumUnits": 0.0,
        "retailPrice": price,
        "unitPrice": price,
        "armRegionName": region,
        "location": region,
        "effectiveStartDate": "2024-01-01T00:00:00Z",
        "meterId": f"meter-{sku}-{region}-{windows}-{spot}-{kind}",
        "meterName": meter,
        "productId": f"DZH318Z0{series}",
        "skuId": f"DZH318Z0{series}/00{len(short)}",
        "productName": f"Virtual Machines {series} Series{' Windows' if windows else ''}",
        "skuName": meter,
        "serviceName": "Virtual Machines",
        "serviceId": "DZH313Z7MMC8",
        "serviceFamily": "Compute",
        "unitOfMeasure": "1 Hour",
        "type": kind,
        "isPrimaryMeterRegion": True,
        "armSkuName": sku,
        **({"reservationTerm": "1 Year"} if kind == "Reservation" else {}),
    }


def aws_product(instance_type: str, region: str, os_name: str, price: float,
                **attributes: str) -> str:  # fmt: skip
    """One PriceList entry (a JSON string) with its OnDemand term."""
    sku = f"SKU{abs(hash((instance_type, region, os_name))) % 10**8:08d}"
    attrs = {
        "instanceType": instance_type,
        "regionCode": region,
        "operatingSystem": os_name,
        "tenancy": "Shared",
        "preInstalledSw": "NA",
        "capacitystatus": "Used",
        "licenseModel": "No License required",
        "servicecode": "AmazonEC2",
        **attributes,
    }
    term = f"{sku}.JRTCKXETXF"
    return json.dumps(
        {
            "product": {"productFamily": "Compute Instance", "attributes": attrs, "sku": sku},
            "serviceCode": "AmazonEC2",
            "terms": {
                "OnDemand": {
                    term: {
                        "priceDimensions": {
                            f"{term}.6YS6EN2CT7": {
                                "unit": "Hrs",
                                "endRange": "Inf",
                                "description": f"${price} per On Demand {os_name} "
                                f"{instance_type} Instance Hour",
                                "appliesTo": [],
                                "rateCode": f"{term}.6YS6EN2CT7",
                                "beginRange": "0",
                                "pricePerUnit": {"USD": f"{price:.10f}"},
                            }
                        },
                        "sku": sku,
                        "effectiveDate": "2026-11-01T00:00:00Z",
                        "offerTermCode": "JRTCKXETXF",
                        "termAttributes": {},
                    }
                }
            },
            "version": "20261101000000",
            "publicationDate": "2026-11-01T00:00:00Z",
        }
    )


@dataclass
class FakePrices:
    azure_items: list[dict[str, Any]] = field(default_factory=list)
    aws_products: list[str] = field(default_factory=list)
    page_size: int = 2
    log: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        self._server: ThreadingHTTPServer | None = None

    def add_azure(self, items: Iterable[dict[str, Any]]) -> None:
        self.azure_items += list(items)

    def add_aws(self, products: Iterable[str]) -> None:
        self.aws_products += list(products)

    @property
    def url(self) -> str:
        assert self._server is not None
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    def __enter__(self) -> FakePrices:
        handler = type("Handler", (_Handler,), {"fake": self})
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self._server.daemon_threads = True
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return self

    def __exit__(self, *exc: object) -> None:
        assert self._server is not None
        self._server.shutdown()
        self._server.server_close()


_EQ = re.compile(r"(\w+) eq '([^']*)'")


class _Handler(BaseHTTPRequestHandler):
    fake: FakePrices
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: Any) -> None:  # quiet
        pass

    def _send(self, status: int, body: dict[str, Any]) -> None:
        raw = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(raw)))
        self.end_headers()
        self.wfile.write(raw)

    def do_GET(self) -> None:  # noqa: N802 (http.server API)
        parts = urlsplit(self.path)
        if parts.path != "/api/retail/prices":
            self._send(404, {"error": {"code": "NotFound"}})
            return
        query = {k: v[0] for k, v in parse_qs(parts.query).items()}
        self.fake.log.append(f"azure {query.get('$skip', '0')} {query.get('$filter', '')}")
        # The filter says priceType; the items carry it as "type".
        wanted = {
            ("type" if k == "priceType" else k): v for k, v in _EQ.findall(query.get("$filter", ""))
        }
        matching = [
            i for i in self.fake.azure_items if all(i.get(k) == v for k, v in wanted.items())
        ]
        skip = int(query.get("$skip", "0"))
        page = matching[skip : skip + self.fake.page_size]
        more = skip + self.fake.page_size < len(matching)
        link = (
            f"{self.fake.url}/api/retail/prices?$filter={quote(query.get('$filter', ''))}"
            f"&$skip={skip + self.fake.page_size}"
            if more
            else None
        )
        self._send(
            200,
            {
                "BillingCurrency": "USD",
                "CustomerEntityId": "Default",
                "CustomerEntityType": "Retail",
                "Items": page,
                "NextPageLink": link,
                "Count": len(page),
            },
        )

    def do_POST(self) -> None:  # noqa: N802 (http.server API)
        body = json.loads(self.rfile.read(int(self.headers.get("Content-Length") or 0)) or b"{}")
        target = self.headers.get("X-Amz-Target", "")
        self.fake.log.append(f"aws {target} {body.get('NextToken', '')}")
        if target != "AWSPriceListService.GetProducts":
            self._send(400, {"__type": "InvalidParameterException", "message": target})
            return
        filters = {f["Field"]: f["Value"] for f in body.get("Filters", [])}
        matching = []
        for raw in self.fake.aws_products:
            product = json.loads(raw)
            attrs = product["product"]["attributes"]
            if product["serviceCode"] == body.get("ServiceCode") and all(
                attrs.get(k) == v for k, v in filters.items()
            ):
                matching.append(raw)
        start = int(body.get("NextToken") or 0)
        page = matching[start : start + self.fake.page_size]
        answer: dict[str, Any] = {"FormatVersion": "aws_v1", "PriceList": page}
        if start + self.fake.page_size < len(matching):
            answer["NextToken"] = str(start + self.fake.page_size)
        self._send(200, answer)
