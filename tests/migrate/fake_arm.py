"""A fake Azure Resource Manager on 127.0.0.1 for the real azure-mgmt clients (tests and bench).

Also serves Azure Resource Graph (``POST /providers/Microsoft.ResourceGraph/resources``): the
rows of the resource types the query names (``type in~ ('...')``) across the subscriptions of
the request, ``$skipToken`` paging at ``graph_page_size`` rows, and the per-user quota of
``graph_quota`` requests per ``graph_window`` seconds (15 per 5 s, as documented): a request
over it gets 429 with ``Retry-After``, and every answer carries ``x-ms-user-quota-remaining`` and
``x-ms-user-quota-resets-after``. ``deny_graph()`` answers 403 to every query.

Serves ``GET /subscriptions`` and ``GET /subscriptions/{id}/providers/{namespace}/{type}`` lists
with ``nextLink`` paging (absolute links built from its own host), answers 400
``MissingApiVersionParameter`` to a request without ``api-version`` (as ARM does), serves export
files as ARM REST bodies (:func:`arm_body`), and can inject faults: a status for the next N
matching requests (429 with Retry-After, 5xx), 401/403 for a whole subscription, and a fixed
latency per request. Pages are serialised once and cached, so the
server costs little CPU next to the client it measures.
"""

from __future__ import annotations

import json
import math
import re
import threading
import time
from collections import deque
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

from azure.core.credentials import AccessToken
from azure.core.pipeline.policies import SansIOHTTPPolicy

from migrate.sources.metrics import is_metrics_body, resource_of

TOKEN = "fake-arm-token"

# Top-level keys of an ARM resource outside its ``properties`` (the ARM resource envelope).
ENVELOPE = {
    "id",
    "name",
    "type",
    "location",
    "tags",
    "sku",
    "zones",
    "identity",
    "plan",
    "etag",
    "extendedLocation",
    "kind",
    "managedBy",
    "systemData",
    "properties",
}
_CLOCK = re.compile(r"^(\d+):(\d\d):(\d\d)$")
COMPACT = (",", ":")  # Azure answers compact JSON

COLLECTIONS = {
    "microsoft.compute/virtualmachines": "microsoft.compute/virtualmachines",
    "microsoft.compute/virtualmachinescalesets": "microsoft.compute/virtualmachinescalesets",
    "microsoft.insights/autoscalesettings": "microsoft.insights/autoscalesettings",
    "microsoft.network/loadbalancers": "microsoft.network/loadbalancers",
    "microsoft.network/applicationgateways": "microsoft.network/applicationgateways",
    "microsoft.compute/skus": "microsoft.compute/skus",
}


class FakeCredential:
    """A TokenCredential that never talks to Entra ID."""

    def get_token(self, *scopes: str, **kwargs: Any) -> AccessToken:
        return AccessToken(TOKEN, int(time.time()) + 3600)

    def close(self) -> None:
        pass


class PlainHttpBearerPolicy(SansIOHTTPPolicy):
    """Adds the bearer token like the ARM policy does, but also over http://127.0.0.1.

    The SDK's BearerTokenCredentialPolicy refuses non-TLS URLs; clients take this one through
    their documented ``authentication_policy=`` keyword.
    """

    def __init__(self, credential: Any) -> None:
        self._credential = credential

    def on_request(self, request: Any) -> None:
        token = self._credential.get_token("https://management.azure.com/.default").token
        request.http_request.headers["Authorization"] = f"Bearer {token}"


@dataclass
class Fault:
    path_end: str
    status: int
    remaining: int
    retry_after: str | None = None


@dataclass
class Request:
    path: str
    page: int
    status: int
    started: float
    ended: float
    api_version: str


@dataclass
class FakeArm:
    page_size: int = 100
    latency: float = 0.0
    items: dict[tuple[str, str], list[dict[str, Any]]] = field(default_factory=dict)
    subscription_ids: list[str] = field(default_factory=list)
    denied: dict[str, int] = field(default_factory=dict)
    faults: list[Fault] = field(default_factory=list)
    log: list[Request] = field(default_factory=list)
    graph_page_size: int = 1000
    graph_quota: int = 15
    graph_window: float = 5.0
    graph_denied: int = 0
    # `az monitor metrics list` bodies by resource id (lower case): the metrics APIs' answers.
    metrics: dict[str, dict[str, Any]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self._lock = threading.Lock()
        self._pages: dict[tuple[str, str, int], bytes] = {}
        self._graph_rows: dict[tuple[Any, ...], list[Any]] = {}
        self._graph_pages: dict[tuple[Any, ...], bytes] = {}
        self._graph_sent: deque[float] = deque()
        self._server: ThreadingHTTPServer | None = None

    # -- estate -------------------------------------------------------------------------------
    def add(self, subscription: str, collection: str, items: list[dict[str, Any]]) -> None:
        """Serve ``items`` at /subscriptions/{subscription}/providers/{collection}."""
        if subscription not in self.subscription_ids:
            self.subscription_ids.append(subscription)
        key = (subscription.lower(), collection.lower())
        self.items.setdefault(key, []).extend(items)
        self._pages.clear()
        self._graph_rows.clear()
        self._graph_pages.clear()

    def add_resources(self, resources: list[dict[str, Any]]) -> None:
        """Sort ARM/az resources into collections by their id."""
        for res in resources:
            parts = res["id"].split("/")
            sub = parts[2]
            provider = parts.index("providers")
            self.add(sub, f"{parts[provider + 1]}/{parts[provider + 2]}", [res])

    def add_export_folder(self, folder: Path) -> None:
        """Serve every resource of an export folder as ARM returns it (see :func:`arm_body`)."""
        for file in sorted(folder.rglob("*.json")):
            body = json.loads(file.read_text())
            if is_metrics_body(body):  # `az monitor metrics list`: served by the metrics APIs
                self.metrics[resource_of(body["value"][0]["id"]).lower()] = body
                continue
            if isinstance(body, dict):
                body = body.get("value", [body])
            self.add_resources([arm_body(res) for res in body if "id" in res])

    def write_export(self, folder: Path) -> None:
        """Write every collection as the ARM list body it is served as (one file each)."""
        for (sub, collection), items in self.items.items():
            name = f"{sub}-{collection.replace('/', '-')}.json"
            (folder / name).write_text(json.dumps({"value": items}))

    def ensure_collections(self) -> None:
        """Every subscription answers every list (empty lists where nothing was added)."""
        for sub in self.subscription_ids:
            for collection in COLLECTIONS:
                self.items.setdefault((sub.lower(), collection), [])

    # -- faults -------------------------------------------------------------------------------
    def fail(
        self, path_end: str, status: int, times: int = 1, retry_after: str | None = None
    ) -> None:
        """Answer ``status`` to the next ``times`` requests whose path ends with ``path_end``."""
        self.faults.append(Fault(path_end.lower(), status, times, retry_after))

    def deny(self, subscription: str, status: int = 403) -> None:
        self.denied[subscription.lower()] = status

    def deny_graph(self, status: int = 403) -> None:
        """Answer every Resource Graph query with ``status`` (the caller may not query)."""
        self.graph_denied = status

    # -- Resource Graph -----------------------------------------------------------------------
    def graph_quota_check(self) -> tuple[bool, int, float]:
        """(allowed, remaining, seconds until the window frees a request) for one query."""
        now = time.monotonic()
        with self._lock:
            sent = self._graph_sent
            while sent and sent[0] <= now - self.graph_window:
                sent.popleft()
            if len(sent) >= self.graph_quota:
                return False, 0, sent[0] + self.graph_window - now
            sent.append(now)
            resets = sent[0] + self.graph_window - now
            return True, self.graph_quota - len(sent), resets

    def warm_graph(self, subscriptions: list[str], query: str) -> int:
        """Serialise every page of ``query`` now (the benchmark times the client, not the fake's
        first-request work); returns the number of pages."""
        pages, token = 0, None
        while True:
            options = {"$top": self.graph_page_size, **({"$skipToken": token} if token else {})}
            body = json.loads(
                self.graph_page(
                    {"subscriptions": subscriptions, "query": query, "options": options}
                )
            )
            pages += 1
            token = body.get("$skipToken")
            if not token:
                return pages

    def graph_page(self, request: dict[str, Any]) -> bytes:
        subs = tuple(s.lower() for s in request.get("subscriptions") or self.subscription_ids)
        text = str(request["query"])
        types = tuple(re.findall(r"'(microsoft\.[a-z]+/[a-z]+)'", text.lower()))
        # `project row = tostring(pack('k', k, ...))`: each row is one JSON string of those keys
        packed = re.search(r"project\s+(\w+)\s*=\s*tostring\(pack\(([^)]*)\)\)", text)
        columns = re.findall(r"'(\w+)'", packed[2]) if packed else []
        options = request.get("options") or {}
        offset = int(options.get("$skipToken") or 0)
        top = min(int(options.get("$top") or self.graph_page_size), self.graph_page_size)
        key = (subs, types, packed[1] if packed else "", tuple(columns))
        cache_key = (key, offset, top)
        body = self._graph_pages.get(cache_key)
        if body is None:
            rows = self._graph_rows.get(key)
            if rows is None:
                rows = [
                    {**item, "subscriptionId": sub}
                    for sub in subs
                    for rtype in types
                    for item in self.items.get((sub, rtype), [])
                ]
                if packed:
                    rows = [
                        {
                            packed[1]: json.dumps(
                                {c: row.get(c) for c in columns}, separators=COMPACT
                            )
                        }
                        for row in rows
                    ]
                self._graph_rows[key] = rows
            chunk = rows[offset : offset + top]
            doc: dict[str, Any] = {
                "totalRecords": len(rows),
                "count": len(chunk),
                "resultTruncated": "false",
                "data": chunk,
                "facets": [],
            }
            if offset + top < len(rows):
                doc["$skipToken"] = str(offset + top)
            body = json.dumps(doc, separators=COMPACT).encode()
            self._graph_pages[cache_key] = body
        return body

    # -- lifecycle ----------------------------------------------------------------------------
    @property
    def url(self) -> str:
        assert self._server is not None, "start() first"
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    def start(self) -> FakeArm:
        handler = type("Handler", (_Handler,), {"arm": self})
        server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        server.daemon_threads = True
        server.request_queue_size = 512
        self._server = server
        threading.Thread(target=server.serve_forever, name="fake-arm", daemon=True).start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def __enter__(self) -> FakeArm:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # -- serving ------------------------------------------------------------------------------
    def requests_for(self, path_end: str) -> list[Request]:
        """Logged requests whose path ends with ``path_end`` (case-insensitive)."""
        with self._lock:
            return [r for r in self.log if r.path.lower().endswith(path_end.lower())]

    def _take_fault(self, path: str) -> Fault | None:
        with self._lock:
            for fault in self.faults:
                if fault.remaining > 0 and path.lower().endswith(fault.path_end):
                    fault.remaining -= 1
                    return fault
        return None

    def page(
        self, key: tuple[str, str], page: int, path: str, query: dict[str, list[str]]
    ) -> bytes:
        cache_key = (*key, page)
        body = self._pages.get(cache_key)
        if body is None:
            items = self.items[key]
            chunk = items[page * self.page_size : (page + 1) * self.page_size]
            doc: dict[str, Any] = {"value": chunk}
            if (page + 1) * self.page_size < len(items):
                version = query["api-version"][0]  # as ARM does: the version asked for
                doc["nextLink"] = f"{self.url}{path}?api-version={version}&%24skiptoken={page + 1}"
            body = json.dumps(doc).encode()
            self._pages[cache_key] = body
        return body

    def subscriptions_page(self) -> bytes:
        value = [
            {
                "id": f"/subscriptions/{s}",
                "subscriptionId": s,
                "displayName": f"sub-{s[:8]}",
                "state": "Enabled",
                "tenantId": "72f988bf-0000-0000-0000-000000000000",
            }
            for s in self.subscription_ids
        ]
        return json.dumps({"value": value}).encode()


def arm_body(resource: dict[str, Any]) -> dict[str, Any]:
    """An ``az ... list`` item as the ARM REST body it came from.

    az prints the SDK's flattened models: it drops the ``properties`` wrapper, adds
    ``resourceGroup``, and prints durations as ``H:MM:SS``. ARM sends ``properties`` and ISO 8601
    (the SDK's msrest models refuse anything else). Items that already have ``properties`` are
    served as they are.
    """
    if "properties" in resource:
        return resource
    body = {k: v for k, v in resource.items() if k in ENVELOPE}
    body["properties"] = {
        k: _iso_durations(v) for k, v in resource.items() if k not in ENVELOPE | {"resourceGroup"}
    }
    return body


def _iso_durations(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _iso_durations(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_iso_durations(v) for v in value]
    match = _CLOCK.match(value) if isinstance(value, str) else None
    if match is None:
        return value
    parts = zip((int(g) for g in match.groups()), "HMS", strict=True)
    return "PT" + ("".join(f"{n}{unit}" for n, unit in parts if n) or "0S")


def _error(code: str, message: str) -> bytes:
    return json.dumps({"error": {"code": code, "message": message}}).encode()


class _Handler(BaseHTTPRequestHandler):
    arm: FakeArm
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True

    def log_message(self, format: str, *args: Any) -> None:  # quiet
        pass

    def _send(self, status: int, body: bytes, headers: dict[str, str] | None = None) -> None:
        lines = [
            f"HTTP/1.1 {status} {self.responses.get(status, ('',))[0]}",
            "Content-Type: application/json; charset=utf-8",
            f"Content-Length: {len(body)}",
            "x-ms-request-id: fake",
            *(f"{name}: {value}" for name, value in (headers or {}).items()),
        ]
        # One write: headers and body in separate segments would meet Nagle + delayed ACK (40 ms).
        self.wfile.write(("\r\n".join(lines) + "\r\n\r\n").encode() + body)

    def do_POST(self) -> None:  # noqa: N802 (http.server API)
        started = time.perf_counter()
        arm = self.arm
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        if arm.latency:
            time.sleep(arm.latency)
        split = urlsplit(self.path)
        query = parse_qs(split.query)
        status, body, headers = self._graph(split.path, query, raw)
        self._send(status, body, headers)
        with arm._lock:
            arm.log.append(
                Request(
                    split.path,
                    0,
                    status,
                    started,
                    time.perf_counter(),
                    query.get("api-version", [""])[0],
                )
            )

    def _graph(
        self, path: str, query: dict[str, list[str]], raw: bytes
    ) -> tuple[int, bytes, dict[str, str]]:
        arm = self.arm
        if path.lower() != "/providers/microsoft.resourcegraph/resources":
            return 404, _error("InvalidResourceType", f"no route for POST {path}"), {}
        if self.headers.get("Authorization") != f"Bearer {TOKEN}":
            return 401, _error("AuthenticationFailed", "Authentication failed."), {}
        if not query.get("api-version", [""])[0]:
            return 400, _error("MissingApiVersionParameter", "api-version is required."), {}
        if arm.graph_denied:
            return (
                arm.graph_denied,
                _error(
                    "AuthorizationFailed",
                    "The client does not have authorization to perform action "
                    "'Microsoft.ResourceGraph/resources/read'.",
                ),
                {},
            )
        fault = arm._take_fault(path)
        if fault is not None:
            headers = {"Retry-After": fault.retry_after} if fault.retry_after else {}
            return fault.status, _error("RateLimiting", f"injected {fault.status}"), headers
        allowed, remaining, resets = arm.graph_quota_check()
        quota = {
            "x-ms-user-quota-remaining": str(remaining),
            "x-ms-user-quota-resets-after": time.strftime(
                "%H:%M:%S", time.gmtime(math.ceil(resets))
            ),
        }
        if not allowed:
            retry = {"Retry-After": str(max(1, math.ceil(resets)))}
            return (
                429,
                _error("RateLimiting", "Please provide below info when asking for support"),
                {**quota, **retry},
            )
        try:
            request = json.loads(raw or b"{}")
            body = arm.graph_page(request)
        except (ValueError, KeyError) as exc:
            return 400, _error("BadRequest", f"cannot read the query: {exc}"), quota
        return 200, body, quota

    def do_GET(self) -> None:  # noqa: N802 (http.server API)
        started = time.perf_counter()
        arm = self.arm
        if arm.latency:
            time.sleep(arm.latency)
        split = urlsplit(self.path)
        query = parse_qs(split.query)
        page = int(query.get("$skiptoken", ["0"])[0])
        status, body, headers = self._route(split.path, page, query)
        self._send(status, body, headers)
        with arm._lock:
            arm.log.append(
                Request(
                    split.path,
                    page,
                    status,
                    started,
                    time.perf_counter(),
                    query.get("api-version", [""])[0],
                )
            )

    def _route(
        self, path: str, page: int, query: dict[str, list[str]]
    ) -> tuple[int, bytes, dict[str, str]]:
        arm = self.arm
        if self.headers.get("Authorization") != f"Bearer {TOKEN}":
            return (
                401,
                _error("AuthenticationFailed", "Authentication failed: no bearer token."),
                {},
            )
        if not query.get("api-version", [""])[0]:
            # ARM answers every request without ?api-version= this way: a hand-built URL that
            # forgets it fails here as it would in Azure.
            return (
                400,
                _error(
                    "MissingApiVersionParameter",
                    "The api-version query parameter (?api-version=) is required for all requests.",
                ),
                {},
            )
        fault = arm._take_fault(path)
        if fault is not None:
            headers = {"Retry-After": fault.retry_after} if fault.retry_after else {}
            code = "TooManyRequests" if fault.status == 429 else "InternalServerError"
            return fault.status, _error(code, f"injected {fault.status}"), headers
        parts = [p for p in path.split("/") if p]
        if parts == ["subscriptions"]:
            return 200, arm.subscriptions_page(), {}
        if len(parts) != 5 or parts[0] != "subscriptions" or parts[2] != "providers":
            return 404, _error("InvalidResourceType", f"no route for {path}"), {}
        sub = parts[1].lower()
        if sub in arm.denied:
            status = arm.denied[sub]
            if status == 401:
                return 401, _error("InvalidAuthenticationToken", "The access token is invalid."), {}
            return (
                status,
                _error(
                    "AuthorizationFailed",
                    f"The client does not have authorization to perform action "
                    f"'{parts[3]}/{parts[4]}/read' over scope '/subscriptions/{parts[1]}'.",
                ),
                {},
            )
        key = (sub, f"{parts[3]}/{parts[4]}".lower())
        if key not in arm.items:
            if not any(s.lower() == sub for s in arm.subscription_ids):
                return (
                    404,
                    _error(
                        "SubscriptionNotFound", f"The subscription '{parts[1]}' could not be found."
                    ),
                    {},
                )
            return 200, b'{"value": []}', {}
        return 200, arm.page(key, page, path, query), {}
