"""A fake Azure Monitor on 127.0.0.1: the metrics batch API and the per-resource metrics API.

* ``POST /<region>/subscriptions/<sub>/metrics:getBatch?api-version=...&starttime&endtime&
  interval&metricnamespace&metricnames&aggregation`` with ``{"resourceids": [...]}``: the batch
  API of azure-monitor-querymetrics (the region is the endpoint's path here, standing in for
  ``https://<region>.metrics.monitor.azure.com``). It refuses, as Azure does, more than 50
  resources, resources of another subscription or region, and a request without api-version.
  The answer is ``{"values": [{"starttime", "endtime", "interval", "namespace",
  "resourceregion", "resourceid", "value": [metric...]}]}``, one entry per requested resource in
  order.
* ``GET /subscriptions/.../providers/Microsoft.Insights/metrics?api-version=...``: the
  per-resource API of azure-mgmt-monitor, answering the stored `az monitor metrics list` body.

Both answer, as Azure does, only the metrics (``metricnames``) and the aggregations
(``aggregation``, e.g. ``Maximum,Minimum``) asked for: a point keeps its timestamp and the
asked aggregations the stored body has (store bodies with every aggregation a test asks for).
``aggregations`` records each call's ``aggregation`` parameter.

Faults: ``throttle(n)`` answers the next n batch calls 429 with Retry-After; ``refuse_batch()``
answers every batch call 403 (AuthorizationFailed); ``latency`` per request. ``log`` records
(kind, resource count, status).
"""

from __future__ import annotations

import json
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

from migrate.sources.metrics import is_metrics_body, resource_of

BATCH_LIMIT = 50


@dataclass
class FakeMonitor:
    latency: float = 0.0
    bodies: dict[str, dict[str, Any]] = field(default_factory=dict)  # resource id lower -> body
    regions: dict[str, str] = field(default_factory=dict)  # resource id lower -> region
    log: list[tuple[str, int, int]] = field(default_factory=list)
    throttled: int = 0
    retry_after: str = "1"
    batch_refused: int = 0
    # For benchmarks: the metrics of any resource without its own body (ids substituted).
    template: dict[str, Any] | None = None
    rendered: dict[tuple[str, ...], bytes] = field(default_factory=dict)  # ids -> batch answer
    aggregations: list[str] = field(default_factory=list)  # each call's `aggregation` parameter

    def __post_init__(self) -> None:
        self._lock = threading.Lock()
        self._server: ThreadingHTTPServer | None = None
        self._encoded: dict[str, bytes] = {}

    def add(self, body: dict[str, Any]) -> None:
        rid = resource_of(body["value"][0]["id"]).lower()
        self.bodies[rid] = body
        self.regions[rid] = str(body.get("resourceregion", "")).lower()

    def add_export_folder(self, folder: Path) -> None:
        for file in sorted(folder.rglob("*.json")):
            body = json.loads(file.read_text(encoding="utf-8"))
            if is_metrics_body(body):
                self.add(body)

    def throttle(self, calls: int, retry_after: str = "1") -> None:
        self.throttled, self.retry_after = calls, retry_after

    def refuse_batch(self, status: int = 403) -> None:
        self.batch_refused = status

    @property
    def url(self) -> str:
        assert self._server is not None
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    def endpoint(self, region: str) -> str:
        return f"{self.url}/{region}"

    def start(self) -> FakeMonitor:
        handler = type("Handler", (_Handler,), {"monitor": self})
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self._server.daemon_threads = True
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()

    def __enter__(self) -> FakeMonitor:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def batch_entry(self, rid: str, query: dict[str, str]) -> dict[str, Any]:
        body = self.bodies.get(rid.lower())
        metrics = _answered((body or {}).get("value", []), query)
        return {
            "starttime": query.get("starttime"),
            "endtime": query.get("endtime"),
            "interval": query.get("interval", "PT1H"),
            "namespace": query.get("metricnamespace"),
            "resourceregion": self.regions.get(rid.lower(), ""),
            "resourceid": rid,
            "value": metrics,
        }

    def templated(self, ids: list[str], query: dict[str, str]) -> bytes:
        """The batch answer from ``template`` (each resource's id put in), or a rendered one."""
        rendered = self.rendered.get(tuple(ids))
        if rendered is not None:
            return rendered
        parts = self._template_parts(query)
        return b'{"values":[' + b",".join(rid.encode().join(parts) for rid in ids) + b"]}"

    def templated_size(self, ids: list[str], query: dict[str, str]) -> int:
        """The size in bytes of ``templated(ids, query)``, without rendering it."""
        parts = self._template_parts(query)
        entry = sum(map(len, parts))
        named = sum(len(rid.encode()) for rid in ids) * (len(parts) - 1)
        return len(b'{"values":[]}') + entry * len(ids) + named + max(0, len(ids) - 1)

    def _template_parts(self, query: dict[str, str]) -> list[bytes]:
        if "_template" not in self._encoded:
            assert self.template is not None
            rid = resource_of(self.template["value"][0]["id"])
            entry = self.batch_entry("__RID__", query)
            entry["value"] = _answered(self.template["value"], query)
            entry["resourceregion"] = self.template.get("resourceregion", "")
            self._encoded["_template"] = (
                json.dumps(entry, separators=(",", ":")).replace(rid, "__RID__").encode()
            )
        return self._encoded["_template"].split(b"__RID__")

    def render(self, ids: list[str], query: dict[str, str]) -> int:
        """Render the templated answer for ``ids`` now, so that a benchmark measures the client
        and not this server's JSON; the answer's size in bytes."""
        self.rendered[tuple(ids)] = self.templated(ids, query)
        return len(self.rendered[tuple(ids)])


def _answered(metrics: list[dict[str, Any]], query: dict[str, str]) -> list[dict[str, Any]]:
    """What Azure answers of a resource's ``metrics``: those ``metricnames`` names (all without
    it), each point with its timestamp and the aggregations ``aggregation`` asks for (all it
    has without it)."""
    names = set(query["metricnames"].split(",")) if query.get("metricnames") else None
    asked = query.get("aggregation")
    keys = {"timeStamp", *(a.strip().lower() for a in asked.split(","))} if asked else None
    out = []
    for metric in metrics:
        if names is not None and metric["name"]["value"] not in names:
            continue
        if keys is not None:
            series = [
                {**each, "data": [{k: v for k, v in p.items() if k in keys} for p in each["data"]]}
                for each in metric.get("timeseries", [])
            ]
            metric = {**metric, "timeseries": series}
        out.append(metric)
    return out


def _error(code: str, message: str) -> bytes:
    return json.dumps({"error": {"code": code, "message": message}}).encode()


class _Handler(BaseHTTPRequestHandler):
    monitor: FakeMonitor
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True

    def log_message(self, format: str, *args: Any) -> None:  # quiet
        pass

    def _send(self, status: int, body: bytes, headers: dict[str, str] | None = None) -> None:
        lines = [
            f"HTTP/1.1 {status} {self.responses.get(status, ('',))[0]}",
            "Content-Type: application/json; charset=utf-8",
            f"Content-Length: {len(body)}",
            *(f"{name}: {value}" for name, value in (headers or {}).items()),
        ]
        self.wfile.write(("\r\n".join(lines) + "\r\n\r\n").encode() + body)

    def _query(self) -> tuple[str, dict[str, str]]:
        parts = urlsplit(self.path)
        return unquote(parts.path), {k: v[0] for k, v in parse_qs(parts.query).items()}

    def do_POST(self) -> None:  # noqa: N802 (http.server API)
        m = self.monitor
        raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        if m.latency:
            time.sleep(m.latency)
        path, query = self._query()
        ids = json.loads(raw or b"{}").get("resourceids") or []
        status, body, headers = self._batch(path, query, ids)
        with m._lock:
            m.log.append(("batch", len(ids), status))
            m.aggregations.append(query.get("aggregation", ""))
        self._send(status, body, headers)

    def _batch(
        self, path: str, query: dict[str, str], ids: list[str]
    ) -> tuple[int, bytes, dict[str, str]]:
        m = self.monitor
        segments = path.strip("/").split("/")
        if (
            len(segments) != 4
            or segments[1] != "subscriptions"
            or segments[3] != "metrics:getBatch"
        ):
            return 404, _error("NotFound", f"no route {path}"), {}
        if "api-version" not in query:
            return 400, _error("MissingApiVersionParameter", "api-version is required"), {}
        with m._lock:
            if m.throttled > 0:
                m.throttled -= 1
                return 429, _error("TooManyRequests", "throttled"), {"Retry-After": m.retry_after}
        if m.batch_refused:
            return m.batch_refused, _error("AuthorizationFailed", "batch API not allowed"), {}
        region, subscription = segments[0], segments[2]
        if not ids or len(ids) > BATCH_LIMIT:
            return 400, _error("BadRequest", f"{len(ids)} resourceids (1-50 allowed)"), {}
        for rid in ids:
            if rid.split("/")[2].lower() != subscription.lower():
                return 400, _error("BadRequest", f"{rid} is not in {subscription}"), {}
            if m.regions.get(rid.lower(), region) != region:
                return 400, _error("BadRequest", f"{rid} is not in region {region}"), {}
        if m.template is not None:
            return 200, m.templated(ids, query), {}
        doc = {"values": [m.batch_entry(rid, query) for rid in ids]}
        return 200, json.dumps(doc, separators=(",", ":")).encode(), {}

    def do_GET(self) -> None:  # noqa: N802 (http.server API)
        m = self.monitor
        if m.latency:
            time.sleep(m.latency)
        path, query = self._query()
        marker = "/providers/microsoft.insights/metrics"
        if not path.lower().endswith(marker):
            self._send(404, _error("NotFound", f"no route {path}"))
            return
        if "api-version" not in query:
            self._send(400, _error("MissingApiVersionParameter", "api-version is required"))
            return
        rid = "/" + path[: -len(marker)].lstrip("/")
        key = rid.lower()
        with m._lock:
            m.log.append(("resource", 1, 200 if key in m.bodies else 404))
            m.aggregations.append(query.get("aggregation", ""))
        if key not in m.bodies:
            self._send(404, _error("ResourceNotFound", f"{rid} has no metrics here"))
            return
        body = m.bodies[key]
        self._send(200, json.dumps({**body, "value": _answered(body["value"], query)}).encode())
