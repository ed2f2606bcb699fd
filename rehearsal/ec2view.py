"""EC2's DescribeInstances answered from moto's own description of each instance.

moto renders every instance it describes through its botocore-model serializer: about 6 ms an
instance on a loaded 2-core machine, and it renders them all again for every call. The hooks'
read of the group's entries (a filtered DescribeInstances: 50 instances carry one at HalfAtATime
on 100) cost moto 0.4-0.6 s each, twice per instance per deployment (two more reads name the
instance), and made it the bottleneck of a rehearsal at fleet scale.

This view keeps each instance's description as moto last rendered it and answers the queries the
hooks make (instance ids; filters on tags, tag keys and values, the state and the id, with AWS's
`*` and `?` wildcards) by applying EC2's filter rules to those descriptions. It never describes
an instance moto has not: an instance named by a tag write through the proxy is described again
before the next answer, and anything that may have launched, terminated or changed an instance
otherwise (any other EC2 write, a group write that changed the group's instances, the world's
own writes) makes it describe every instance again. A query it does not understand (another
filter, a NextToken, more reservations than one page) goes to moto as before."""

from __future__ import annotations

import re
import threading
import uuid
import xml.etree.ElementTree as ET
from collections.abc import Callable
from dataclasses import dataclass, field
from urllib.parse import urlencode

from rehearsal.wire import Call

# Filters this view evaluates itself; any other name goes to moto.
FILTERS = {"tag-key", "tag-value", "instance-state-name", "instance-id"}
PAGE = 100  # moto's page size (reservations) when the call gives no MaxResults
VERSION = "2016-11-15"

# fetch(params) -> moto's answer body to DescribeInstances with these query parameters.
Fetch = Callable[[list[tuple[str, str]]], bytes]


class MotoRefused(Exception):
    """moto did not answer a describe: the caller forwards the query instead."""


@dataclass
class Described:
    """One instance as moto last described it."""

    iid: str
    reservation: str
    state: str
    tags: dict[str, str]
    xml: str  # the instance's <item> in moto's answer


@dataclass
class Reservation:
    rid: str
    header: str  # the reservation's elements other than its instancesSet
    order: list[str] = field(default_factory=list)  # instance ids, as moto lists them


def _wildcard(value: str) -> re.Pattern[str]:
    """AWS filter values: `*` any run of characters, `?` one character, case-sensitive."""
    parts = [".*" if c == "*" else "." if c == "?" else re.escape(c) for c in value]
    return re.compile("".join(parts), re.DOTALL)


@dataclass(frozen=True)
class Query:
    ids: tuple[str, ...]
    filters: tuple[tuple[str, tuple[re.Pattern[str], ...]], ...]
    max_results: int

    @classmethod
    def of(cls, call: Call) -> Query | None:
        """The query, or None when the view leaves it to moto."""
        names: dict[int, str] = {}
        values: dict[int, list[tuple[int, str]]] = {}
        ids: list[tuple[int, str]] = []
        max_results = None
        for key, value in call.params:
            if key in ("Action", "Version"):
                continue
            if m := re.fullmatch(r"InstanceId\.(\d+)", key):
                ids.append((int(m.group(1)), value))
            elif m := re.fullmatch(r"Filter\.(\d+)\.Name", key):
                names[int(m.group(1))] = value
            elif m := re.fullmatch(r"Filter\.(\d+)\.Value\.(\d+)", key):
                values.setdefault(int(m.group(1)), []).append((int(m.group(2)), value))
            elif key == "MaxResults" and value.isdigit():
                max_results = int(value)
            else:
                return None  # NextToken, DryRun, anything else: moto's
        if ids and max_results is not None:
            return None  # AWS refuses the combination: moto says so
        if max_results is not None and not 5 <= max_results <= 1000:
            return None
        filters = []
        for n, name in sorted(names.items()):
            given = [v for _, v in sorted(values.get(n, []))]
            if not given or "\\" in "".join(given):
                return None
            if name not in FILTERS and not name.startswith("tag:"):
                return None
            filters.append((name, tuple(_wildcard(v) for v in given)))
        if set(values) - set(names):
            return None
        return cls(tuple(v for _, v in sorted(ids)), tuple(filters), max_results or PAGE)

    def matches(self, d: Described) -> bool:
        for name, patterns in self.filters:
            if name == "instance-state-name":
                candidates = [d.state]
            elif name == "instance-id":
                candidates = [d.iid]
            elif name == "tag-key":
                candidates = list(d.tags)
            elif name == "tag-value":
                candidates = list(d.tags.values())
            else:
                key = name.removeprefix("tag:")
                candidates = [d.tags[key]] if key in d.tags else []
            if not any(p.fullmatch(c) for p in patterns for c in candidates):
                return False
        return True


class InstanceView:
    def __init__(self) -> None:
        self._lock = threading.Lock()  # one describe of moto at a time
        self._state = threading.Lock()  # the fields below
        self._instances: dict[str, Described] = {}
        self._reservations: dict[str, Reservation] = {}
        self._namespace = ""
        self._complete = False
        self._epoch = 0  # bumped by forget(): everything is to be described again
        self._versions: dict[str, int] = {}  # bumped by changed(iid)
        self._fresh: dict[str, int] = {}  # iid -> the version its description was read at
        self.described = 0  # instances moto described for the view (the benchmark prints it)

    # -- what the proxy tells it ----------------------------------------------------------------
    def changed(self, ids: list[str]) -> None:
        """A write named these instances (EC2 CreateTags, DeleteTags): describe them again."""
        with self._state:
            for iid in ids:
                self._versions[iid] = self._versions.get(iid, 0) + 1

    def tagged(self, action: str, ids: list[str], tags: list[dict[str, str]]) -> None:
        """A CreateTags or DeleteTags moto accepted: apply it to the descriptions as moto does
        (a new key last, an existing one in its place, a deleted one gone), so that a hundred
        hooks writing their entries do not make moto describe their instances again. A
        DeleteTags naming values is left to moto (described again)."""
        if action == "DeleteTags" and any("Value" in t for t in tags):
            return self.changed(ids)
        with self._state:
            for iid in ids:
                found = self._instances.get(iid)
                if found is None:
                    continue
                current = self._current(iid)
                self._versions[iid] = self._versions.get(iid, 0) + 1
                if not current:
                    continue  # to be described again anyway
                for tag in tags:
                    if action == "CreateTags":
                        found.tags[tag.get("Key", "")] = tag.get("Value", "")
                    else:
                        found.tags.pop(tag.get("Key", ""), None)
                if found.tags:  # (no tags at all: how moto says that is moto's to say)
                    found.xml = _with_tags(found.xml, found.tags)
                    self._fresh[iid] = self._versions[iid]

    def forget(self) -> None:
        """Instances may have been launched, terminated or changed: describe them all again."""
        with self._state:
            self._epoch += 1
            self._complete = False

    def tag_keys(self, iid: str) -> set[str] | None:
        """The instance's tag keys if the view's description of it is current, else None."""
        with self._state:
            found = self._instances.get(iid)
            if found is None or not self._current(iid):
                return None
            return set(found.tags)

    # -- answering ------------------------------------------------------------------------------
    def answer(self, call: Call, fetch: Fetch) -> bytes | None:
        """moto's answer to `call`, composed here; None: forward the call to moto."""
        query = Query.of(call)
        if query is None:
            return None
        try:
            self._bring_up_to_date(query.ids, fetch)
        except MotoRefused:
            return None
        with self._state:
            if query.ids and any(i not in self._instances for i in query.ids):
                return None  # moto's InvalidInstanceID.NotFound
            wanted = set(query.ids)
            found: dict[str, list[str]] = {}
            for rid, reservation in self._reservations.items():
                for iid in reservation.order:
                    d = self._instances[iid]
                    if (not wanted or iid in wanted) and query.matches(d):
                        found.setdefault(rid, []).append(d.xml)
            if len(found) > query.max_results:
                return None  # more than one page: moto's NextToken
            items = "".join(
                f"<item>{self._reservations[rid].header}<instancesSet>{''.join(xml)}"
                "</instancesSet></item>"
                for rid, xml in found.items()
            )
            ns = self._namespace
        sets = f"<reservationSet>{items}</reservationSet>" if items else "<reservationSet/>"
        return (
            f'<?xml version="1.0" encoding="utf-8"?>\n<DescribeInstancesResponse xmlns="{ns}">'
            f"{sets}<requestId>{uuid.uuid4()}</requestId></DescribeInstancesResponse>"
        ).encode()

    def _current(self, iid: str) -> bool:
        return self._fresh.get(iid) == self._versions.get(iid, 0)

    def _bring_up_to_date(self, ids: tuple[str, ...], fetch: Fetch) -> None:
        with self._lock:
            with self._state:
                epoch, complete = self._epoch, self._complete
                versions = dict(self._versions)
                stale = [i for i in self._instances if not self._current(i)]
            if not complete:
                self._describe_all(epoch, versions, fetch)
                return
            unknown = [i for i in ids if i not in self._instances]
            if stale or unknown:
                self._describe(sorted(set(stale) | set(unknown)), versions, fetch)

    def _describe_all(self, epoch: int, versions: dict[str, int], fetch: Fetch) -> None:
        instances: dict[str, Described] = {}
        reservations: dict[str, Reservation] = {}
        token = None
        while True:
            params = [("MaxResults", "1000")] + ([("NextToken", token)] if token else [])
            token = self._parse(fetch(params), instances, reservations)
            if not token:
                break
        with self._state:
            self._instances, self._reservations = instances, reservations
            self._fresh = {iid: versions.get(iid, 0) for iid in instances}
            self._complete = self._epoch == epoch
            self.described += len(instances)

    def _describe(self, ids: list[str], versions: dict[str, int], fetch: Fetch) -> None:
        params = [(f"InstanceId.{n}", iid) for n, iid in enumerate(ids, 1)]
        instances: dict[str, Described] = {}
        reservations: dict[str, Reservation] = {}
        try:
            self._parse(fetch(params), instances, reservations)
        except MotoRefused:
            # An id moto does not know (a typo in a hook's call): describe only the known ones.
            known = [i for i in ids if i in self._instances]
            if len(known) == len(ids) or not known:
                raise
            return self._describe(known, versions, fetch)
        with self._state:
            for iid, d in instances.items():
                if iid not in self._instances:
                    # Not seen in the last full describe: only a full one places it right.
                    self._complete = False
                    continue
                self._instances[iid] = d
                self._fresh[iid] = versions.get(iid, 0)
            self.described += len(instances)

    def _parse(
        self, body: bytes, instances: dict[str, Described], reservations: dict[str, Reservation]
    ) -> str | None:
        """Add moto's answer to `instances` and `reservations`; returns its NextToken."""
        try:
            root = ET.fromstring(body)
        except ET.ParseError as error:
            raise MotoRefused(str(error)) from error
        ns = root.tag[1:].split("}")[0] if root.tag.startswith("{") else ""
        if not root.tag.endswith("DescribeInstancesResponse"):
            raise MotoRefused(root.tag)
        self._namespace = ns

        def q(tag: str) -> str:
            return f"{{{ns}}}{tag}" if ns else tag

        def inner(element: ET.Element) -> str:
            # The element as moto wrote it, without the namespace declaration ElementTree adds.
            text = ET.tostring(element, encoding="unicode", default_namespace=ns or None)
            return text.replace(f' xmlns="{ns}"', "", 1) if ns else text

        for r in root.iterfind(f"{q('reservationSet')}/{q('item')}"):
            rid = r.findtext(q("reservationId")) or ""
            header = "".join(inner(child) for child in r if child.tag != q("instancesSet"))
            reservation = reservations.setdefault(rid, Reservation(rid, header))
            for item in r.iterfind(f"{q('instancesSet')}/{q('item')}"):
                iid = item.findtext(q("instanceId")) or ""
                tags = {
                    t.findtext(q("key")) or "": t.findtext(q("value")) or ""
                    for t in item.iterfind(f"{q('tagSet')}/{q('item')}")
                }
                state = item.findtext(f"{q('instanceState')}/{q('name')}") or ""
                instances[iid] = Described(iid, rid, state, tags, inner(item))
                reservation.order.append(iid)
        return root.findtext(q("nextToken")) or None


def _with_tags(xml: str, tags: dict[str, str]) -> str:
    """An instance's <item> with its tagSet replaced (moto lists tags in insertion order)."""
    item = ET.fromstring(xml)
    found = item.find("tagSet")
    if found is None:
        found = ET.SubElement(item, "tagSet")
    found.clear()
    for key, value in tags.items():
        entry = ET.SubElement(found, "item")
        ET.SubElement(entry, "key").text = key
        ET.SubElement(entry, "value").text = value
    return ET.tostring(item, encoding="unicode")


def fetcher(forward: Callable[..., object], path: str, headers: dict[str, str]) -> Fetch:
    """A Fetch that asks moto through the proxy's connection, with the caller's headers."""

    def fetch(params: list[tuple[str, str]]) -> bytes:
        body = urlencode([("Action", "DescribeInstances"), ("Version", VERSION), *params])
        reply = forward("POST", path, headers, body.encode())
        if getattr(reply, "status", 500) != 200:
            raise MotoRefused(f"moto answered {getattr(reply, 'status', '?')}")
        return reply.body  # type: ignore[attr-defined]

    return fetch
