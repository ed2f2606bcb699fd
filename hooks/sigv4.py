"""AWS Signature Version 4 for the standard-library client (hooks/awsclient.py): the header
form botocore's SigV4Auth writes for a request whose parameters travel in its body (the query,
EC2 and JSON protocols all POST to `/`). A test signs the same requests with botocore's signer
and compares."""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass
from urllib.parse import quote, urlsplit

ALGORITHM = "AWS4-HMAC-SHA256"
TIMESTAMP_FORMAT = "%Y%m%dT%H%M%SZ"
# Headers botocore leaves out of the signature (a proxy may change them).
UNSIGNED = {"expect", "user-agent", "x-amzn-trace-id", "authorization"}


@dataclass(frozen=True)
class Credentials:
    access_key: str
    secret_key: str
    token: str | None = None


def _hmac(key: bytes, text: str) -> bytes:
    return hmac.new(key, text.encode("utf-8"), hashlib.sha256).digest()


def _host(url: str) -> str:
    parts = urlsplit(url)
    default = {"http": 80, "https": 443}.get(parts.scheme)
    host = parts.hostname or ""
    return host if parts.port in (None, default) else f"{host}:{parts.port}"


def signed_headers(
    method: str,
    url: str,
    headers: dict[str, str],
    body: bytes,
    credentials: Credentials,
    region: str,
    service: str,
    timestamp: str,
) -> dict[str, str]:
    """`headers` with Host, X-Amz-Date, X-Amz-Security-Token (with a session token) and the
    Authorization of `timestamp` (YYYYMMDDTHHMMSSZ, UTC)."""
    out = {k: v for k, v in headers.items() if k.lower() not in ("authorization", "x-amz-date")}
    out["X-Amz-Date"] = timestamp
    if credentials.token:
        out["X-Amz-Security-Token"] = credentials.token
    canonical: dict[str, str] = {"host": _host(url)}
    for name, value in out.items():
        if name.lower() not in UNSIGNED and name.lower() != "host":
            canonical[name.lower()] = " ".join(str(value).split())
    names = sorted(canonical)
    parts = urlsplit(url)
    path = quote(parts.path or "/", safe="/~")
    request = "\n".join(
        [
            method.upper(),
            path,
            _canonical_query(parts.query),
            "".join(f"{name}:{canonical[name]}\n" for name in names),
            ";".join(names),
            hashlib.sha256(body).hexdigest(),
        ]
    )
    day = timestamp[:8]
    scope = f"{day}/{region}/{service}/aws4_request"
    to_sign = "\n".join(
        [ALGORITHM, timestamp, scope, hashlib.sha256(request.encode("utf-8")).hexdigest()]
    )
    key = _hmac(("AWS4" + credentials.secret_key).encode("utf-8"), day)
    for part in (region, service, "aws4_request"):
        key = _hmac(key, part)
    signature = hmac.new(key, to_sign.encode("utf-8"), hashlib.sha256).hexdigest()
    out["Authorization"] = (
        f"{ALGORITHM} Credential={credentials.access_key}/{scope}, "
        f"SignedHeaders={';'.join(names)}, Signature={signature}"
    )
    return out


def _canonical_query(query: str) -> str:
    pairs = []
    for item in query.split("&") if query else []:
        key, _, value = item.partition("=")
        pairs.append((quote(key, safe="-_.~"), quote(value, safe="-_.~")))
    return "&".join(f"{k}={v}" for k, v in sorted(pairs))
