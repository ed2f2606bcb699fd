"""What the rules see: a stack's resources with their properties, and the violations found.

`Resource` properties use the engine's camelCase wire names. References between resources are
resolved through CrossGuard's property dependencies when the engine gives them, else by matching
values against other resources' `id`, `arn`, `name` and `bucket`.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from awsfacts.tokens import GROUP
from hooks.group import ALLOW_DOWNTIME_TAG
from hooks.timing import DEFAULT_DEREGISTER_TIMEOUT, DEFAULT_REGISTER_TIMEOUT
from stack.names import OPT_OUTS_TAG


@dataclass(frozen=True)
class Resource:
    """One resource: its type token, logical name and properties (camelCase wire names).

    `refs` maps a property to the keys (URNs, else names) of the resources its value came from,
    when the engine knows (CrossGuard's property dependencies). Without it, references are
    resolved by matching the property's values against other resources' `id`, `arn` and `name`.
    """

    type: str
    name: str
    props: Mapping[str, Any]
    refs: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    urn: str = ""

    @property
    def key(self) -> str:
        return self.urn or self.name


@dataclass(frozen=True)
class Violation:
    policy: str
    resource: str
    message: str

    def __str__(self) -> str:
        return f"[{self.policy}] {self.resource}: {self.message}"


@dataclass(frozen=True)
class Settings:
    """What the rules need to know that no resource says."""

    deregister_timeout: int = DEFAULT_DEREGISTER_TIMEOUT
    register_timeout: int = DEFAULT_REGISTER_TIMEOUT


class Stack:
    def __init__(self, resources: Iterable[Resource]) -> None:
        self.resources = list(resources)
        self._by_key = {r.key: r for r in self.resources}

    def of_type(self, *types: str) -> list[Resource]:
        return [r for r in self.resources if r.type in types]

    def referenced(self, resource: Resource, prop: str, *types: str) -> list[Resource]:
        """The resources (of `types`) that `resource.props[prop]` points at."""
        if resource.refs.get(prop):
            found = [self._by_key[k] for k in resource.refs[prop] if k in self._by_key]
        else:
            wanted = set(strings(resource.props.get(prop)))
            found = [r for r in self.resources if r is not resource and wanted & set(identities(r))]
        return [r for r in found if not types or r.type in types]

    def pointing_at(self, target: Resource, prop: str, *types: str) -> list[Resource]:
        """The resources (of `types`) whose `prop` points at `target`."""
        return [r for r in self.of_type(*types) if target in self.referenced(r, prop, target.type)]


def strings(value: Any) -> Iterator[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, Sequence):
        for item in value:
            yield from strings(item)


def identities(r: Resource) -> Iterator[str]:
    for key in ("id", "arn", "name", "bucket"):
        value = r.props.get(key)
        if isinstance(value, str) and value:
            yield value


def tags_of(resource: Resource) -> dict[str, str]:
    """Tags from the `tags` map or an Auto Scaling group's list of `{key, value}` tags."""
    tags: dict[str, str] = {}
    raw = resource.props.get("tags")
    if isinstance(raw, Mapping):
        tags.update({str(k): str(v) for k, v in raw.items()})
    elif isinstance(raw, Sequence) and not isinstance(raw, str):
        tags.update({str(t.get("key")): str(t.get("value")) for t in raw if isinstance(t, Mapping)})
    return tags


def allows_downtime(group: Resource) -> bool:
    return tags_of(group).get(ALLOW_DOWNTIME_TAG, "").lower() == "true"


def opted_out(stack: Stack, control: str) -> bool:
    """Whether the stack's group says its file opts out of Security Hub ``control``."""
    return any(
        control in tags_of(group).get(OPT_OUTS_TAG, "").split() for group in stack.of_type(GROUP)
    )


def as_int(value: Any, default: int) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        return default
