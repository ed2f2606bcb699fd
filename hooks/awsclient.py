"""A standard-library AWS client for the hooks' few operations: http.client with keep-alive
connections, SigV4 (hooks/sigv4.py), the wire format from the reduced service models
(hooks/awsprotocol.py), credentials (hooks/awscredentials.py), and the hooks' retry policy
(hooks/retries.py) with a client-side rate limiter after throttling, as botocore's adaptive mode.

Why: a hook is a process of its own on the instance's critical path, and importing botocore's
client machinery and building its clients was two thirds of a hook's CPU (README "Speed").
The call interface is botocore's (`client.describe_instances(**kwargs)`, `get_paginator`), the
answers are the dicts botocore returns and the errors its exception classes, so the hooks'
code does not know which client it has (hooks/clients.py chooses)."""

from __future__ import annotations

import http.client
import importlib.util
import json
import os
import re
import socket
import ssl
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from datetime import datetime
from functools import cache
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from botocore.exceptions import (
    ClientError,
    ConnectionClosedError,
    ConnectTimeoutError,
    EndpointConnectionError,
    HTTPClientError,
    ReadTimeoutError,
    SSLError,
)
from botocore.exceptions import ConnectionError as NetworkError
from botocore.retries.bucket import Clock, TokenBucket
from botocore.retries.throttling import CubicCalculator

from hooks.awscredentials import CredentialChain
from hooks.awsprotocol import UTC, ServiceModel, parse, serialize
from hooks.retries import THROTTLING_CODES, TRANSIENT_CODES, TRANSIENT_STATUSES, RetryUntilDeadline
from hooks.servicemodels import MODELS
from hooks.sigv4 import TIMESTAMP_FORMAT, signed_headers

USER_AGENT = "cutover-hooks (python http.client)"


@cache
def service_model(service: str) -> ServiceModel:
    """The reduced model of a botocore service name (models/<service>/<version>/)."""
    folder = MODELS / service
    versions = sorted(p for p in folder.iterdir() if (p / "service-2.json").is_file())
    if not versions:
        raise FileNotFoundError(
            f"no service model under {folder}: run python -m hooks.servicemodels"
        )
    return ServiceModel.load(versions[-1] / "service-2.json")


@cache
def _endpoints() -> dict[str, Any]:
    return json.loads((MODELS / "endpoints.json").read_text(encoding="utf-8"))


def _env_name(service_id: str) -> str:
    return "AWS_ENDPOINT_URL_" + re.sub(r"[\s-]+", "_", service_id).upper()


@dataclass(frozen=True)
class Endpoint:
    url: str
    signing_region: str


def endpoint(model: ServiceModel, region: str, environ: Mapping[str, str]) -> Endpoint:
    """AWS_ENDPOINT_URL_<SERVICE ID>, then AWS_ENDPOINT_URL (botocore's variables), else the
    standard endpoint from endpoints.json (the region's partition and overrides)."""
    for name in (_env_name(model.service_id), "AWS_ENDPOINT_URL"):
        configured = environ.get(name, "").strip()
        if configured:
            return Endpoint(configured.rstrip("/"), region)
    prefix = model.metadata["endpointPrefix"]
    partitions = _endpoints()["partitions"]
    partition = next(
        (p for p in partitions if region in p.get("regions", {})),
        None,
    ) or next((p for p in partitions if re.match(p["regionRegex"], region)), partitions[0])
    service = partition.get("services", {}).get(prefix, {})
    override = service.get("endpoints", {}).get(region, {})
    template = (
        override.get("hostname")
        or service.get("defaults", {}).get("hostname")
        or partition["defaults"]["hostname"]
    )
    host = template.format(service=prefix, region=region, dnsSuffix=partition["dnsSuffix"])
    scope = override.get("credentialScope", {}).get("region", region)
    return Endpoint(f"https://{host}", scope)


def proxied(url: str) -> bool:
    """True when HTTP(S)_PROXY applies to `url` (the standard client then leaves the calls to
    botocore, which speaks to proxies)."""
    parts = urlsplit(url)
    # urllib.request's rules (any case of <scheme>_proxy, NO_PROXY), imported only when such a
    # variable is set: the module costs a hook process ~5 ms of CPU to import.
    wanted = f"{parts.scheme}_proxy"
    if not any(value and name.lower() == wanted for name, value in os.environ.items()):
        return False
    import urllib.request  # noqa: PLC0415 (see above)

    proxy = urllib.request.getproxies().get(parts.scheme)
    # host:port, so that NO_PROXY entries naming a port match too.
    return bool(proxy) and not urllib.request.proxy_bypass(parts.netloc)


@cache
def _tls(ca_bundle: str | None = None) -> ssl.SSLContext:
    """Certificates verified against `ca_bundle` (AWS_CA_BUNDLE or the profile's), else
    botocore's own default (certifi's bundle when installed), so both clients trust the same
    authorities."""
    if ca_bundle:
        return ssl.create_default_context(cafile=os.path.expanduser(ca_bundle))
    spec = importlib.util.find_spec("certifi")
    bundle = None
    if spec is not None and spec.origin:
        bundle = Path(spec.origin).parent / "cacert.pem"
    if bundle is None or not bundle.is_file():
        botocore_spec = importlib.util.find_spec("botocore")
        bundle = Path(botocore_spec.origin).parent / "cacert.pem" if botocore_spec else None
    if bundle is not None and bundle.is_file():
        return ssl.create_default_context(cafile=str(bundle))
    return ssl.create_default_context()


class Connections:
    """Keep-alive connections per endpoint, each used by one thread at a time."""

    def __init__(
        self, connect_timeout: float, read_timeout: float, ca_bundle: str | None = None
    ) -> None:
        self.ca_bundle = ca_bundle
        self.connect_timeout = connect_timeout
        self.read_timeout = read_timeout
        self._idle: dict[str, list[http.client.HTTPConnection]] = {}
        self._lock = threading.Lock()

    def _new(self, url: str) -> http.client.HTTPConnection:
        parts = urlsplit(url)
        try:
            if parts.scheme == "https":
                connection: http.client.HTTPConnection = http.client.HTTPSConnection(
                    parts.hostname or "",
                    parts.port,
                    timeout=self.connect_timeout,
                    context=_tls(self.ca_bundle),
                )
            else:
                connection = http.client.HTTPConnection(
                    parts.hostname or "", parts.port, timeout=self.connect_timeout
                )
            connection.connect()
        except socket.timeout as error:  # noqa: UP041 (TimeoutError only from Python 3.10)
            raise ConnectTimeoutError(endpoint_url=url, error=error) from error
        except ssl.SSLError as error:
            raise SSLError(endpoint_url=url, error=error) from error
        except OSError as error:
            raise EndpointConnectionError(endpoint_url=url, error=error) from error
        if connection.sock is not None:
            connection.sock.settimeout(self.read_timeout)
        return connection

    def post(self, url: str, headers: dict[str, str], body: bytes) -> tuple[int, dict, bytes]:
        """(status, headers with lower-case names, body). A kept-alive connection the server
        closed meanwhile is replaced once; other failures raise botocore's exceptions."""
        with self._lock:
            idle = self._idle.setdefault(url, [])
            connection = idle.pop() if idle else None
        reused = connection is not None
        while True:
            if connection is None:
                connection = self._new(url)
            try:
                connection.request("POST", urlsplit(url).path or "/", body=body, headers=headers)
                response = connection.getresponse()
                data = response.read()
            except socket.timeout as error:  # noqa: UP041
                connection.close()
                raise ReadTimeoutError(endpoint_url=url, error=error) from error
            except (http.client.HTTPException, OSError) as error:
                connection.close()
                if reused and isinstance(
                    error, (http.client.RemoteDisconnected, BrokenPipeError, ConnectionResetError)
                ):
                    connection, reused = None, False
                    continue
                raise ConnectionClosedError(endpoint_url=url, error=error) from error
            answer = {key.lower(): value for key, value in response.getheaders()}
            if response.will_close:
                connection.close()
            else:
                with self._lock:
                    self._idle[url].append(connection)
            return response.status, answer, data


class RateLimiter:
    """botocore's adaptive mode (botocore.retries.adaptive.ClientRateLimiter, its CUBIC rate
    and token bucket): off until AWS throttles, then sends at a measured, adjusted rate."""

    SMOOTHING = 0.8
    BUCKET = 0.5
    MAX_RATE_ADJUST_SCALE = 2.0

    def __init__(self) -> None:
        self._clock = Clock()
        now = self._clock.current_time()
        self._cubic = CubicCalculator(starting_max_rate=0, start_time=now)
        self._bucket = TokenBucket(max_rate=1, clock=self._clock)
        self._enabled = False
        self._lock = threading.Lock()
        self._measured = 0.0
        self._count = 0
        self._last_bucket = float(int(now))

    def before_send(self) -> None:
        if self._enabled:
            self._bucket.acquire()

    def _record(self) -> float:
        now = self._clock.current_time()
        bucket = int(now / self.BUCKET) * self.BUCKET
        self._count += 1
        if bucket > self._last_bucket:
            rate = self._count / (bucket - self._last_bucket)
            self._measured = rate * self.SMOOTHING + self._measured * (1 - self.SMOOTHING)
            self._count, self._last_bucket = 0, bucket
        return self._measured

    def after_answer(self, throttled: bool) -> None:
        with self._lock:
            measured = self._record()
            now = self._clock.current_time()
            if not throttled:
                rate = self._cubic.success_received(now)
            else:
                used = measured if not self._enabled else min(measured, self._bucket.max_rate)
                rate = self._cubic.error_received(used, now)
                self._enabled = True
            self._bucket.max_rate = min(rate, self.MAX_RATE_ADJUST_SCALE * measured)


@dataclass
class Caller:
    """What every client of a run shares: credentials, connections, the retry policy."""

    credentials: CredentialChain
    connections: Connections
    retry: RetryUntilDeadline
    adaptive: bool
    # Told the operation and endpoint before each call (hooks/clients.py's last_call).
    on_call: Callable[[str, str], None] = lambda operation, endpoint: None
    sleep: Callable[[float], None] = time.sleep


class Client:
    """One service's client: a method per operation of its model, and its paginators."""

    def __init__(self, service: str, region: str, caller: Caller, environ: Mapping[str, str]):
        self.service = service
        self.model = service_model(service)
        self.endpoint = endpoint(self.model, region, environ)
        self._caller = caller
        self._limiter = RateLimiter() if caller.adaptive else None

    def __getattr__(self, name: str) -> Callable[..., dict[str, Any]]:
        operation = self.model.methods.get(name)
        if operation is None:
            raise AttributeError(f"{self.service} client has no operation {name} in its model")

        def call(**params: Any) -> dict[str, Any]:
            return self.call(operation, params)

        call.__name__ = name
        return call

    def call(self, operation: str, params: dict[str, Any]) -> dict[str, Any]:
        """The parsed answer; botocore's ClientError or connection errors when it fails for
        good (after the retry policy's attempts)."""
        caller = self._caller
        caller.on_call(operation, self.endpoint.url)
        headers, body = serialize(self.model, operation, params)
        headers["User-Agent"] = USER_AGENT
        attempt = 1
        while True:
            if self._limiter:
                self._limiter.before_send()
            try:
                parsed = self._send(operation, headers, body)
            except (NetworkError, HTTPClientError) as error:
                failure: Exception = error
                throttled, transient, info = False, True, {}
            except ClientError as error:
                failure, response = error, error.response
                info = response.get("Error", {})
                status = response.get("ResponseMetadata", {}).get("HTTPStatusCode")
                throttled = info.get("Code") in THROTTLING_CODES
                transient = info.get("Code") in TRANSIENT_CODES or status in TRANSIENT_STATUSES
            else:
                if self._limiter:
                    self._limiter.after_answer(False)
                parsed["ResponseMetadata"]["RetryAttempts"] = attempt - 1
                return parsed
            if self._limiter:
                self._limiter.after_answer(throttled)
            pause = caller.retry.decide(operation, attempt, throttled, transient, info)
            if pause is None:
                if isinstance(failure, ClientError):
                    failure.response["ResponseMetadata"]["RetryAttempts"] = attempt - 1
                raise failure
            caller.sleep(pause)
            attempt += 1

    def _send(self, operation: str, headers: dict[str, str], body: bytes) -> dict[str, Any]:
        timestamp = datetime.now(UTC).strftime(TIMESTAMP_FORMAT)
        signed = signed_headers(
            "POST",
            self.endpoint.url + "/",
            headers,
            body,
            self._caller.credentials.get(),
            self.endpoint.signing_region,
            self.model.signing_name,
            timestamp,
        )
        status, answer_headers, data = self._caller.connections.post(
            self.endpoint.url + "/", signed, body
        )
        return parse(self.model, operation, status, answer_headers, data)

    def get_paginator(self, method: str) -> Paginator:
        operation = self.model.methods.get(method)
        config = _paginators(self.service, self.model.metadata["apiVersion"]).get(operation or "")
        if config is None:
            raise ValueError(f"{self.service} has no paginator for {method}")
        return Paginator(self, operation or "", config)


@cache
def _paginators(service: str, version: str) -> dict[str, Any]:
    """botocore's paginators-1.json of the service (data, not restated here)."""
    spec = importlib.util.find_spec("botocore")
    folder = Path(spec.origin).parent if spec and spec.origin else Path()
    path = folder / "data" / service / version / "paginators-1.json"
    return json.loads(path.read_text(encoding="utf-8"))["pagination"]


def _as_list(value: str | list[str]) -> list[str]:
    return [value] if isinstance(value, str) else list(value)


class Paginator:
    """botocore's paginate(): the pages, each a full answer, following the output token."""

    def __init__(self, client: Client, operation: str, config: dict[str, Any]) -> None:
        self._client = client
        self._operation = operation
        self._inputs = _as_list(config["input_token"])
        self._outputs = _as_list(config["output_token"])
        self._limit = config.get("limit_key")

    def paginate(self, **params: Any) -> Iterator[dict[str, Any]]:
        options = dict(params.pop("PaginationConfig", None) or {})
        if set(options) - {"PageSize", "StartingToken"}:
            raise ValueError(f"PaginationConfig {sorted(options)}: only PageSize and StartingToken")
        if options.get("PageSize") is not None and self._limit:
            params[self._limit] = options["PageSize"]
        if options.get("StartingToken"):
            params[self._inputs[0]] = options["StartingToken"]
        return self._pages(params)

    def _pages(self, params: dict[str, Any]) -> Iterator[dict[str, Any]]:
        previous = None
        while True:
            page = self._client.call(self._operation, params)
            yield page
            tokens = [page.get(name) for name in self._outputs]
            if not any(tokens) or tokens == previous:
                return
            previous = tokens
            params = {**params, **dict(zip(self._inputs, tokens))}  # noqa: B905 (3.9)
