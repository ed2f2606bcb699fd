"""The wire format of the hooks' AWS calls, driven by the reduced service models in models/
(botocore's service-2 format): parameters to a request body (the `query` protocol of Auto
Scaling and Elastic Load Balancing, `ec2`, `json` for CodeDeploy) and an answer to the dict
botocore's parsers give, or to a botocore ClientError with the `response` botocore builds.

An answer that is not the operation's (an HTML page from a proxy, a JSON body where XML is
due) raises ResponseParserError, as botocore's parsers do for invalid XML: hooks/errors.py
tells the operator that something other than AWS answers."""

from __future__ import annotations

import base64
import calendar
import http.client
import json
import re
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from functools import cached_property
from pathlib import Path
from typing import Any
from urllib.parse import quote

from botocore.exceptions import ClientError

Shape = dict[str, Any]


class ResponseParserError(Exception):
    """An answer that is not the operation's; named as botocore's (botocore.parsers, whose
    import costs a tenth of a second) so that hooks/errors.py classifies both alike."""


_FIRST_CAP = re.compile(r"(.)([A-Z][a-z]+)")
_END_CAP = re.compile(r"([a-z0-9])([A-Z])")
# botocore's own content types for the protocols' request bodies.
_FORM = "application/x-www-form-urlencoded; charset=utf-8"
# datetime.UTC is 3.11's; the hooks run on the instances' Python 3.9+.
UTC = timezone.utc  # noqa: UP017
_ISO8601 = re.compile(
    r"(\d{4})-(\d\d)-(\d\d)[T ](\d\d):(\d\d):(\d\d)(?:\.(\d+))?(Z|[+-]\d\d:?\d\d)?$"
)


def snake_case(name: str) -> str:
    """botocore's method name for an operation (DescribeAutoScalingGroups ->
    describe_auto_scaling_groups); a test compares them for every operation the hooks call."""
    return _END_CAP.sub(r"\1_\2", _FIRST_CAP.sub(r"\1_\2", name)).lower()


@dataclass
class ServiceModel:
    """One reduced service-2 document."""

    document: dict[str, Any]

    @classmethod
    def load(cls, path: Path) -> ServiceModel:
        return cls(json.loads(path.read_text(encoding="utf-8")))

    @property
    def metadata(self) -> dict[str, Any]:
        return self.document["metadata"]

    @property
    def protocol(self) -> str:
        """`query`, `ec2` or `json`: botocore's choice among the model's protocols, except that
        a CBOR one is never chosen (the JSON form of the same API is always offered beside it)."""
        offered = self.metadata.get("protocols") or [self.metadata["protocol"]]
        for protocol in offered:
            if protocol in ("query", "ec2", "json"):
                return protocol
        raise ValueError(f"no supported protocol among {offered}")

    @property
    def service_id(self) -> str:
        return self.metadata["serviceId"]

    @property
    def signing_name(self) -> str:
        return self.metadata.get("signingName") or self.metadata["endpointPrefix"]

    @cached_property
    def methods(self) -> dict[str, str]:
        """snake_case method name -> operation name."""
        return {snake_case(name): name for name in self.document["operations"]}

    def shape(self, name: str) -> Shape:
        return self.document["shapes"][name]

    def operation(self, name: str) -> dict[str, Any]:
        return self.document["operations"][name]


# Requests -------------------------------------------------------------------------------------


def serialize(model: ServiceModel, operation: str, params: dict[str, Any]) -> tuple[dict, bytes]:
    """(headers, body) of a call: all three protocols POST to the endpoint's `/`."""
    op = model.operation(operation)
    shape_name = op.get("input", {}).get("shape")
    if model.protocol == "json":
        body = _json_value(model, model.shape(shape_name), params) if shape_name else {}
        target = f"{model.metadata['targetPrefix']}.{operation}"
        version = model.metadata.get("jsonVersion", "1.0")
        headers = {"X-Amz-Target": target, "Content-Type": f"application/x-amz-json-{version}"}
        return headers, json.dumps(body, separators=(",", ":")).encode("utf-8")
    fields: list[tuple[str, str]] = [
        ("Action", operation),
        ("Version", model.metadata["apiVersion"]),
    ]
    if shape_name:
        _query_value(model, model.shape(shape_name), params, "", fields, model.protocol == "ec2")
    body = "&".join(f"{quote(k, safe='-_.~')}={quote(v, safe='-_.~')}" for k, v in fields)
    return {"Content-Type": _FORM}, body.encode("utf-8")


def _unknown(shape: Shape, params: dict[str, Any]) -> None:
    extra = sorted(set(params) - set(shape.get("members", {})))
    if extra:
        raise TypeError(f"unknown parameter(s) {extra}; the model knows {sorted(shape['members'])}")


def _query_name(ref: dict[str, Any], name: str, ec2: bool) -> str:
    if ec2:
        if ref.get("queryName"):
            return ref["queryName"]
        location = ref.get("locationName")
        return location[0].upper() + location[1:] if location else name
    return ref.get("locationName", name)


def _query_value(
    model: ServiceModel, shape: Shape, value: Any, prefix: str, out: list, ec2: bool
) -> None:
    kind = shape["type"]
    if kind == "structure":
        _unknown(shape, value)
        for name, ref in shape["members"].items():
            if name in value and value[name] is not None:
                key = _query_name(ref, name, ec2)
                key = f"{prefix}.{key}" if prefix else key
                _query_value(model, model.shape(ref["shape"]), value[name], key, out, ec2)
    elif kind == "list":
        if not value:
            if not ec2:
                out.append((prefix, ""))
            return
        if ec2 or shape.get("flattened"):
            item_prefix = prefix
        else:
            item_prefix = f"{prefix}.{shape['member'].get('locationName', 'member')}"
        for index, item in enumerate(value, 1):
            _query_value(
                model,
                model.shape(shape["member"]["shape"]),
                item,
                f"{item_prefix}.{index}",
                out,
                ec2,
            )
    elif kind == "map":
        entry = prefix if shape.get("flattened") else f"{prefix}.entry"
        key_name = shape["key"].get("locationName", "key")
        value_name = shape["value"].get("locationName", "value")
        for index, (k, v) in enumerate(value.items(), 1):
            _query_value(
                model,
                model.shape(shape["key"]["shape"]),
                k,
                f"{entry}.{index}.{key_name}",
                out,
                ec2,
            )
            _query_value(
                model,
                model.shape(shape["value"]["shape"]),
                v,
                f"{entry}.{index}.{value_name}",
                out,
                ec2,
            )
    else:
        out.append((prefix, _scalar(kind, value)))


def _scalar(kind: str, value: Any) -> str:
    if kind == "boolean":
        return "true" if value else "false"
    if kind == "timestamp":
        return _iso8601(value)
    if kind == "blob":
        data = value.encode("utf-8") if isinstance(value, str) else value
        return base64.b64encode(data).decode("ascii")
    return str(value)


def _iso8601(value: Any) -> str:
    if isinstance(value, datetime):
        if value.tzinfo is not None:
            value = value.astimezone(UTC)
        return value.strftime("%Y-%m-%dT%H:%M:%SZ")
    return str(value)


def _json_value(model: ServiceModel, shape: Shape, value: Any) -> Any:
    kind = shape["type"]
    if kind == "structure":
        _unknown(shape, value)
        return {
            ref.get("locationName", name): _json_value(
                model, model.shape(ref["shape"]), value[name]
            )
            for name, ref in shape["members"].items()
            if name in value and value[name] is not None
        }
    if kind == "list":
        member = model.shape(shape["member"]["shape"])
        return [_json_value(model, member, item) for item in value]
    if kind == "map":
        inner = model.shape(shape["value"]["shape"])
        return {k: _json_value(model, inner, v) for k, v in value.items()}
    if kind == "timestamp":
        if isinstance(value, datetime):
            # botocore's JSON form: whole seconds since the epoch.
            return calendar.timegm(value.utctimetuple())
        return value
    if kind == "blob":
        data = value.encode("utf-8") if isinstance(value, str) else value
        return base64.b64encode(data).decode("ascii")
    return value


# Answers --------------------------------------------------------------------------------------


def parse(
    model: ServiceModel, operation: str, status: int, headers: dict[str, str], body: bytes
) -> dict[str, Any]:
    """The parsed answer of a successful call; ClientError for an AWS error, ResponseParserError
    for an answer AWS would not give. `headers`: names in lower case."""
    if status >= 301:
        raise ClientError(_error(model, status, headers, body), operation)
    try:
        parsed = _parse(model, operation, body)
    except (KeyError, ValueError, TypeError, IndexError, AttributeError) as error:
        # Well-formed, but not what the model says (a number that is not one, an entry
        # without its key): not an answer of AWS's.
        raise _not_aws(f"{type(error).__name__}: {error}", body) from error
    metadata = parsed["ResponseMetadata"]
    if model.protocol == "json" and "x-amzn-requestid" in headers:
        metadata["RequestId"] = headers["x-amzn-requestid"]
    metadata["HTTPStatusCode"] = status
    metadata["HTTPHeaders"] = dict(headers)
    return parsed


def _parse(model: ServiceModel, operation: str, body: bytes) -> dict[str, Any]:
    op = model.operation(operation)
    shape_name = op.get("output", {}).get("shape")
    if model.protocol == "json":
        document = _json_document(body) if body.strip() else {}
        parsed = _from_json(model, model.shape(shape_name), document) if shape_name else {}
        parsed["ResponseMetadata"] = {}
    else:
        root = _xml(body)
        # An AWS answer's root is <OperationResponse>; like botocore, a well-formed AWS answer
        # is read even if it is another operation's (the hooks then meet what AWS never says).
        if not _tag(root).endswith("Response"):
            raise _not_aws(f"an XML document <{_tag(root)}>, not {operation}Response", body)
        parsed, start = {}, root
        wrapper = op.get("output", {}).get("resultWrapper")
        if wrapper:
            start = _children(root).get(wrapper)
            if start is None:
                raise _not_aws(f"{operation}Response without {wrapper}", body)
        if shape_name:
            parsed = _from_xml(model, model.shape(shape_name), start)
        parsed["ResponseMetadata"] = _xml_metadata(root, model.protocol == "ec2")
    return parsed


def _not_aws(what: str, body: bytes) -> ResponseParserError:
    return ResponseParserError(
        f"Unable to parse response ({what}), not the operation's answer:\n"
        + body[:300].decode("utf-8", "replace")
    )


def _xml(body: bytes) -> ET.Element:
    try:
        return ET.fromstring(body)
    except ET.ParseError as error:
        raise ResponseParserError(
            f"Unable to parse response ({error}), invalid XML received. Further retries may "
            f"succeed:\n{body[:300].decode('utf-8', 'replace')}"
        ) from None


def _json_document(body: bytes) -> dict[str, Any]:
    try:
        document = json.loads(body)
    except ValueError as error:
        raise _not_aws(f"invalid JSON: {error}", body) from None
    if not isinstance(document, dict):
        raise _not_aws("JSON that is not an object", body)
    return document


def _tag(node: ET.Element) -> str:
    return node.tag.rsplit("}", 1)[-1]


def _children(node: ET.Element) -> dict[str, Any]:
    """botocore's name -> node mapping: repeated names become a list of nodes."""
    found: dict[str, Any] = {}
    for child in node:
        key = _tag(child)
        if key in found:
            previous = found[key]
            found[key] = [*previous, child] if isinstance(previous, list) else [previous, child]
        else:
            found[key] = child
    return found


def _from_xml(model: ServiceModel, shape: Shape, node: Any) -> Any:
    kind = shape["type"]
    if kind == "structure":
        found = _children(node[0] if isinstance(node, list) else node)
        parsed = {}
        for name, ref in shape["members"].items():
            member = model.shape(ref["shape"])
            key = ref.get("locationName", name)
            if member["type"] == "list" and member.get("flattened"):
                key = member["member"].get("locationName") or key
            if key in found:
                parsed[name] = _from_xml(model, member, found[key])
        return parsed
    if kind == "list":
        if shape.get("flattened") and not isinstance(node, list):
            node = [node]
        member = model.shape(shape["member"]["shape"])
        return [_from_xml(model, member, item) for item in node]
    if kind == "map":
        entries = node if shape.get("flattened") else list(node)
        key_name = shape["key"].get("locationName", "key")
        value_name = shape["value"].get("locationName", "value")
        value_shape = model.shape(shape["value"]["shape"])
        parsed = {}
        for entry in entries if isinstance(entries, list) else [entries]:
            found = _children(entry)
            parsed[found[key_name].text or ""] = _from_xml(model, value_shape, found[value_name])
        return parsed
    text = node.text if hasattr(node, "text") else node
    return _scalar_from_text(kind, text if text is not None else "")


def _scalar_from_text(kind: str, text: str) -> Any:
    if kind == "boolean":
        return text == "true"
    if kind in ("integer", "long"):
        return int(text)
    if kind in ("float", "double"):
        return float(text)
    if kind == "timestamp":
        return _timestamp(text)
    if kind == "blob":
        return base64.b64decode(text)
    return text


def _timestamp(value: Any) -> datetime:
    """An aware UTC datetime for what AWS sends (botocore: dateutil's tzutc for ISO 8601,
    tzlocal for epoch seconds; the same instant either way)."""
    if isinstance(value, (int, float)):
        return datetime.fromtimestamp(value, UTC)
    try:
        return datetime.fromtimestamp(float(value), UTC)
    except ValueError:
        pass
    # Parsed by hand: Python 3.9's fromisoformat takes neither Z nor every fraction length.
    found = _ISO8601.match(value.strip())
    if found is None:
        raise ValueError(f"not a timestamp: {value[:40]!r}")
    *fields, fraction, zone = found.groups()
    micro = int((fraction or "0")[:6].ljust(6, "0"))
    # No zone: naive, as botocore gives it (AWS always sends one).
    moment = datetime(*map(int, fields), micro, tzinfo=UTC if zone else None)
    if zone and zone != "Z":
        sign = 1 if zone[0] == "+" else -1
        digits = zone[1:].replace(":", "")
        moment -= sign * timedelta(hours=int(digits[:2]), minutes=int(digits[2:]))
    return moment


def _xml_metadata(root: ET.Element, ec2: bool) -> dict[str, Any]:
    found = _children(root)
    if ec2:
        request = found.get("requestId")
        return {"RequestId": request.text} if request is not None else {}
    metadata = found.get("ResponseMetadata")
    if metadata is None:
        return {}
    return {key: node.text for key, node in _children(metadata).items()}


def _from_json(model: ServiceModel, shape: Shape, value: Any) -> Any:
    kind = shape["type"]
    if value is None:
        return None
    if kind == "structure":
        return {
            name: _from_json(model, model.shape(ref["shape"]), value[ref.get("locationName", name)])
            for name, ref in shape["members"].items()
            if value.get(ref.get("locationName", name)) is not None
        }
    if kind == "list":
        member = model.shape(shape["member"]["shape"])
        return [_from_json(model, member, item) for item in value]
    if kind == "map":
        inner = model.shape(shape["value"]["shape"])
        return {k: _from_json(model, inner, v) for k, v in value.items()}
    if kind == "timestamp":
        return _timestamp(value)
    if kind == "blob":
        return base64.b64decode(value)
    return value


# Errors ---------------------------------------------------------------------------------------


def _error(model: ServiceModel, status: int, headers: dict[str, str], body: bytes) -> dict:
    """The `response` of botocore's ClientError for an error answer."""
    if status >= 500 and (not body.strip() or body.strip().startswith(b"<html>")):
        # botocore's generic error: an HTML page (or nothing) from something in front of AWS.
        parsed: dict[str, Any] = {
            "Error": {"Code": str(status), "Message": http.client.responses.get(status, "")},
            "ResponseMetadata": {},
        }
    elif model.protocol == "json":
        parsed = _json_error(status, headers, body)
    else:
        parsed = _xml_error(body, model.protocol == "ec2")
    parsed.setdefault("ResponseMetadata", {})
    parsed["ResponseMetadata"]["HTTPStatusCode"] = status
    parsed["ResponseMetadata"]["HTTPHeaders"] = dict(headers)
    return parsed


def _xml_error(body: bytes, ec2: bool) -> dict[str, Any]:
    def plain(nodes: dict[str, Any]) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for key, node in nodes.items():
            node = node[-1] if isinstance(node, list) else node
            out[key] = plain(_children(node)) if len(node) else node.text
        return out

    parsed = plain(_children(_xml(body)))
    if "Errors" in parsed and isinstance(parsed["Errors"], dict):
        parsed.update(parsed.pop("Errors"))
    request_id = "RequestID" if ec2 and "RequestID" in parsed else "RequestId"
    if request_id in parsed:
        parsed["ResponseMetadata"] = {"RequestId": parsed.pop(request_id)}
    return parsed


def _json_error(status: int, headers: dict[str, str], body: bytes) -> dict[str, Any]:
    try:
        document = json.loads(body) if body.strip() else {}
    except ValueError:
        document = {"message": body.decode("utf-8", "replace")}
    if not isinstance(document, dict):
        document = {}
    code = str(document.get("__type", status))
    code = code.split(":", 1)[0].rsplit("#", 1)[-1]
    parsed: dict[str, Any] = {
        "Error": {"Message": document.get("message", document.get("Message", "")), "Code": code},
        "ResponseMetadata": {},
    }
    if "x-amzn-requestid" in headers:
        parsed["ResponseMetadata"]["RequestId"] = headers["x-amzn-requestid"]
    return parsed
