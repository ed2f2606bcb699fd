"""Live inventory through Azure Resource Graph: one query across every subscription.

For a large estate the per-subscription lists (``migrate.sources.live``) cost one SDK model per
resource and a thread per (subscription, type); Resource Graph answers one KQL query for all of
them, 1,000 rows a page, followed with ``$skipToken``. Resource Graph throttles each user at 15
queries per 5 seconds: :class:`QuotaPacer` keeps under that (and reads the
``x-ms-user-quota-*`` headers), and a 429 is retried by the client's own retry policy, which
honours ``Retry-After``. Where the identity may not query Resource Graph (403), the caller falls
back to the per-subscription lists.

The rows are ARM JSON (``properties`` wrapper), read by ``migrate.sources.arm`` like an export,
so the inventory is the same whichever way it was read. The query is the SDK's typed
``resources()`` operation (its api-version, retries and error mapping); its msrest deserializer
walks every row once, which bench/bench_migrate.py measures.
"""

from __future__ import annotations

import json
import threading
import time
from collections import deque
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from queue import Queue
from typing import Any

from azure.core.exceptions import HttpResponseError, ServiceRequestError, ServiceResponseError
from azure.mgmt.resourcegraph import ResourceGraphClient
from azure.mgmt.resourcegraph.models import QueryRequest, QueryRequestOptions

from migrate.errors import MigrateError
from migrate.sources import arm

PAGE_ROWS = 1000  # Resource Graph's maximum page
QUOTA_REQUESTS = 15  # per user, per window (learn.microsoft.com: guidance for throttled requests)
QUOTA_WINDOW_S = 5.0
SUBSCRIPTIONS_PER_QUERY = 1000  # a larger list is queried in batches
TYPES = (arm.VM_TYPE, arm.VMSS_TYPE, arm.AUTOSCALE_TYPE, arm.LB_TYPE, arm.AGW_TYPE)


# The ARM envelope of each row, packed into one JSON string per row: the SDK's msrest
# deserializer walks every value of a row object (~50 ms of CPU per 1,000 rows, more than a
# page's latency) but takes a string as it is; the row is then decoded by json, in C.
COLUMNS = ("id", "name", "type", "location", "tags", "sku", "zones", "properties", "subscriptionId")


def query_for(types: tuple[str, ...]) -> str:
    listed = ", ".join(f"'{t}'" for t in types)
    packed = ", ".join(f"'{c}', {c}" for c in COLUMNS)
    return (
        f"Resources | where type in~ ({listed}) | order by id asc "
        f"| project row = tostring(pack({packed}))"
    )


class GraphDenied(Exception):
    """The identity may not query Resource Graph (403): use the per-subscription lists."""


class QuotaPacer:
    """Keeps queries within the per-user quota: a query waits until the one ``quota`` queries
    back was answered ``window`` seconds ago, and waits when the service says the quota is
    spent (another client of the same user may be spending it).

    The window counts from each *answer*, not each send: the service counts a query when it
    arrives, which is after our send and before our answer, so counting from the answer never
    lets a 16th query arrive inside the window (a 429 would cost a whole ``Retry-After``), for
    the price of one round trip per window.
    """

    def __init__(
        self,
        quota: int = QUOTA_REQUESTS,
        window: float = QUOTA_WINDOW_S,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.quota, self.window = quota, window
        self._clock, self._sleep = clock, sleep
        self._answered: deque[float] = deque()
        self._service_wait_until = 0.0
        self.waited = 0.0

    def before_request(self) -> None:
        now = self._clock()
        wait = 0.0
        if len(self._answered) >= self.quota:
            wait = self._answered[-self.quota] + self.window - now
        if self._service_wait_until > now:
            wait = max(wait, self._service_wait_until - now)
        if wait > 0:
            self.waited += wait
            self._sleep(wait)

    def after_response(self, headers: Mapping[str, str]) -> None:
        now = self._clock()
        self._answered.append(now)
        while len(self._answered) > self.quota:
            self._answered.popleft()
        remaining = headers.get("x-ms-user-quota-remaining")
        resets = headers.get("x-ms-user-quota-resets-after")
        self._service_wait_until = 0.0
        if remaining is not None and resets and remaining.strip() == "0":
            self._service_wait_until = now + _clock_seconds(resets)


def _clock_seconds(text: str) -> float:
    try:
        hours, minutes, seconds = (float(p) for p in text.split(":"))
    except ValueError:
        return QUOTA_WINDOW_S
    return hours * 3600 + minutes * 60 + seconds


@dataclass
class GraphResult:
    rows: int = 0
    pages: int = 0
    items: dict[str, list[Any]] = field(default_factory=dict)  # ARM type -> parsed resources


def _query(client: ResourceGraphClient, request: QueryRequest) -> tuple[Any, Mapping[str, str]]:
    """One page through the typed operation, with the response headers (quota)."""
    return client.resources(request, cls=lambda raw, page, _: (page, raw.http_response.headers))


def _pages(
    client: ResourceGraphClient, subscriptions: list[str], query: str, pacer: QuotaPacer
) -> Iterator[list[dict[str, Any]]]:
    """Every page of rows, in order, following ``$skipToken``."""
    for start in range(0, len(subscriptions), SUBSCRIPTIONS_PER_QUERY):
        batch = subscriptions[start : start + SUBSCRIPTIONS_PER_QUERY]
        token: str | None = None
        while True:
            options = QueryRequestOptions(
                top=PAGE_ROWS, skip_token=token, result_format="objectArray"
            )
            request = QueryRequest(query=query, subscriptions=batch, options=options)
            pacer.before_request()
            try:
                page, headers = _query(client, request)
            except HttpResponseError as exc:
                if exc.status_code == 403:
                    raise GraphDenied(_short(exc)) from exc
                raise
            pacer.after_response(headers)
            yield page.data or []
            token = page.skip_token
            if not token:
                break


def _short(exc: HttpResponseError) -> str:
    error = getattr(exc, "error", None)
    code = getattr(error, "code", None) or exc.reason
    message = getattr(error, "message", None) or str(exc).splitlines()[0]
    return f"{exc.status_code} {code}: {message}"


def query_resources(
    client: ResourceGraphClient,
    subscriptions: list[str],
    types: tuple[str, ...] = TYPES,
    pacer: QuotaPacer | None = None,
) -> GraphResult:
    """Query ``types`` across ``subscriptions`` and parse every row into the neutral model.

    Pages are fetched in a thread while the previous page is parsed, so the parsing overlaps the
    next page's latency. Raises GraphDenied on 403 and MigrateError on other failures.
    """
    pacer = pacer or QuotaPacer()
    result = GraphResult(items={t: [] for t in types})
    pages: Queue[list[dict[str, Any]] | BaseException | None] = Queue(maxsize=2)

    def fetch() -> None:
        try:
            for page in _pages(client, subscriptions, query_for(types), pacer):
                pages.put(page)
            pages.put(None)
        except BaseException as exc:  # handed to the parsing thread, which raises it
            pages.put(exc)

    fetcher = threading.Thread(target=fetch, name="resource-graph", daemon=True)
    fetcher.start()
    while True:
        page = pages.get()
        if page is None:
            break
        if isinstance(page, GraphDenied):
            raise page
        if isinstance(page, HttpResponseError | ServiceRequestError | ServiceResponseError):
            raise MigrateError(f"Resource Graph query failed: {page}", exit_code=3) from page
        if isinstance(page, BaseException):
            raise page
        result.pages += 1
        for packed in page:
            row = json.loads(packed["row"]) if isinstance(packed.get("row"), str) else packed
            rtype = arm.resource_type(row)
            if rtype in result.items:
                sub = row.get("subscriptionId") or ""
                result.items[rtype].append(arm.parse(rtype, row, f"resourcegraph:{sub}"))
                result.rows += 1
    fetcher.join()
    return result
