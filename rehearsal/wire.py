"""How the AWS query APIs (Auto Scaling, ELB, ELBv2, EC2) are spoken over HTTP: form-encoded
requests, XML answers and AWS's error documents. The rules in `rules.py` speak through this."""

from __future__ import annotations

import re
import uuid
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from urllib.parse import parse_qsl, urlencode
from xml.sax.saxutils import escape

CREDENTIAL = re.compile(r"Credential=([^/,\s]+)/[^/]+/[^/]+/([^/]+)/")
NAMESPACES = {
    "autoscaling": "http://autoscaling.amazonaws.com/doc/2011-01-01/",
    "elbv2": "http://elasticloadbalancing.amazonaws.com/doc/2015-12-01/",
    "elb": "http://elasticloadbalancing.amazonaws.com/doc/2012-06-01/",
    "ec2": "http://ec2.amazonaws.com/doc/2016-11-15/",
}


@dataclass
class Call:
    """One API request as the proxy received it."""

    service: str  # autoscaling | elasticloadbalancing | ec2 (the signing name)
    action: str
    params: list[tuple[str, str]]
    caller: str  # the access key id: the rehearsal gives each instance its own
    version: str = ""
    instances_before: frozenset[str] = frozenset()  # the group's, before a group write

    @classmethod
    def parse(cls, body: bytes, authorization: str) -> Call:
        params = parse_qsl(body.decode("utf-8"), keep_blank_values=True)
        found = CREDENTIAL.search(authorization or "")
        caller, service = (found.group(1), found.group(2)) if found else ("anonymous", "?")
        values = dict(params)
        return cls(service, values.get("Action", ""), params, caller, values.get("Version", ""))

    def get(self, name: str, default: str | None = None) -> str | None:
        for key, value in self.params:
            if key == name:
                return value
        return default

    def members(self, prefix: str) -> list[str]:
        """Values of a list parameter, e.g. members("InstanceIds.member") -> [i-1, i-2]."""
        pattern = re.compile(re.escape(prefix) + r"\.(\d+)$")
        found = [(int(m.group(1)), v) for k, v in self.params if (m := pattern.match(k))]
        return [v for _, v in sorted(found)]

    def structs(self, prefix: str) -> list[dict[str, str]]:
        """Values of a list of structures, e.g. structs("Tags.member") -> [{Key, Value}, ...]."""
        pattern = re.compile(re.escape(prefix) + r"\.(\d+)\.(\w+)$")
        found: dict[int, dict[str, str]] = {}
        for key, value in self.params:
            m = pattern.match(key)
            if m:
                found.setdefault(int(m.group(1)), {})[m.group(2)] = value
        return [found[i] for i in sorted(found)]

    def with_param(self, name: str, value: str) -> bytes:
        params = [(k, v) for k, v in self.params if k != name] + [(name, value)]
        self.params = params
        return urlencode(params).encode()

    @property
    def mutating(self) -> bool:
        return not self.action.startswith("Describe")


@dataclass
class Reply:
    status: int
    body: bytes
    headers: dict[str, str] = field(default_factory=dict)


def _namespace(service: str, version: str) -> str:
    if service == "elasticloadbalancing":
        return NAMESPACES["elb" if version.startswith("2012") else "elbv2"]
    return NAMESPACES.get(service, "")


def error(call: Call, code: str, message: str, status: int = 400) -> Reply:
    """AWS's error document for the call's protocol."""
    request_id = str(uuid.uuid4())
    if call.service == "ec2":
        body = (
            f"<?xml version='1.0' encoding='UTF-8'?><Response><Errors><Error><Code>{code}</Code>"
            f"<Message>{escape(message)}</Message></Error></Errors>"
            f"<RequestID>{request_id}</RequestID></Response>"
        )
    else:
        body = (
            f'<ErrorResponse xmlns="{_namespace(call.service, call.version)}"><Error>'
            f"<Type>Sender</Type><Code>{code}</Code><Message>{escape(message)}</Message></Error>"
            f"<RequestId>{request_id}</RequestId></ErrorResponse>"
        )
    return Reply(status, body.encode(), {"Content-Type": "text/xml"})


def answer(call: Call, result: str = "") -> Reply:
    """A successful query-protocol answer with `result` inside <ActionResult>."""
    ns = _namespace(call.service, call.version)
    body = (
        f'<{call.action}Response xmlns="{ns}"><{call.action}Result>{result}'
        f"</{call.action}Result><ResponseMetadata><RequestId>{uuid.uuid4()}</RequestId>"
        f"</ResponseMetadata></{call.action}Response>"
    )
    return Reply(200, body.encode(), {"Content-Type": "text/xml"})


def members(items: list[str]) -> str:
    return "".join(f"<member>{item}</member>" for item in items)


def text(value: object) -> str:
    return escape(str(value))


def set_lifecycle(
    body: bytes, states: dict[str, str], desired: dict[str, int] | None = None
) -> bytes:
    """Rewrite the LifecycleState of the given instances in an Auto Scaling answer (and, with
    `desired`, the DesiredCapacity of the groups it names)."""
    root = ET.fromstring(body)
    ns = root.tag[1:].split("}")[0] if root.tag.startswith("{") else ""
    ET.register_namespace("", ns)
    q = (lambda tag: f"{{{ns}}}{tag}") if ns else (lambda tag: tag)
    changed = False
    for node in root.iter():
        iid = node.find(q("InstanceId"))
        state = node.find(q("LifecycleState"))
        if iid is not None and state is not None and iid.text in states:
            changed |= state.text != states[iid.text]
            state.text = states[iid.text]
        name = node.find(q("AutoScalingGroupName"))
        capacity = node.find(q("DesiredCapacity"))
        if desired and name is not None and capacity is not None and name.text in desired:
            changed |= capacity.text != str(desired[name.text])
            capacity.text = str(desired[name.text])
    return ET.tostring(root, encoding="utf-8") if changed else body


def server_failure(call: Call, reply: Reply) -> Reply | None:
    """moto's own crash (an HTML 500 page) as AWS would report a failure on its side: an XML
    error document with status 500, which clients retry as AWS documents. None otherwise."""
    if reply.status < 500 or b"<Error" in reply.body:
        return None
    code = "InternalError" if call.service == "ec2" else "InternalFailure"
    return error(call, code, "We encountered an internal error. Please try again.", 500)
