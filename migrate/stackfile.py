"""The file stack-config writes: what it may write into, what changed in it, its character.

* Only a new file, an empty one, or a Pulumi stack file (a YAML mapping with ``config:``, or
  with only Pulumi's own top-level keys) is written into; anything else is refused unless
  ``--force`` (``stack_document``).
* A stack's *character* is its capacity and whether it accepts downtime (``CHARACTER_KEYS`` of
  ``fleet``): a one-instance staging keeps it unless told otherwise (``stackconfig``), and when
  it is changed the file's header comment says its description may no longer hold.
* ``changes`` lists every key changed, added or removed, for the user.
"""

from __future__ import annotations

import json
import textwrap
from dataclasses import dataclass, field
from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap
from ruamel.yaml.error import CommentMark, YAMLError
from ruamel.yaml.tokens import CommentToken

from migrate.errors import MigrateError


@dataclass
class Merged:
    """A stack file as written, with what the user should hear about it."""

    text: str
    notes: list[str] = field(default_factory=list)
    changes: list[str] = field(default_factory=list)
    created: bool = False

    def summary(self) -> list[str]:
        """One line per note, then per changed key (``key: old -> new``)."""
        lines = [f"note: {n}" for n in self.notes]
        if self.created:
            lines.append("new stack file: every key from the plan and infra's defaults")
        else:
            lines += self.changes or ["no key changed"]
        return lines


CHARACTER_KEYS = ("minSize", "maxSize", "desiredCapacity", "allowDowntime")


def character_changed(before: dict[str, Any], after: dict[str, Any], key: str) -> bool:
    """True when a stack that accepted downtime got the plan's capacity (--plan-capacity): its
    header comment, written for that character, may no longer hold."""
    old, new = before.get(key), after.get(key)
    if (
        not isinstance(old, dict)
        or not isinstance(new, dict)
        or old.get("allowDowntime") is not True
    ):
        return False
    return any(k in old and old[k] != new.get(k) for k in CHARACTER_KEYS)


def add_header_line(document: CommentedMap, text: str) -> None:
    """Append ``text`` to the file's header comment, wrapped (once, also on re-runs)."""
    lines = [f"# {line}\n" for line in textwrap.wrap(text, 96)]
    if document.ca.comment is None or not document.ca.comment[1]:
        document.yaml_set_start_comment("\n".join(line[2:-1] for line in lines))
        return
    tokens = document.ca.comment[1]
    if any(getattr(t, "value", None) == lines[0] for t in tokens):
        return
    tokens.extend(CommentToken(line, CommentMark(0), None) for line in lines)


def plain(node: Any) -> Any:
    if isinstance(node, dict):
        return {str(k): plain(v) for k, v in node.items()}
    if isinstance(node, list):
        return [plain(v) for v in node]
    return node


def changes(old: Any, new: Any, path: str = "") -> list[str]:
    """``changed key: old -> new``, ``added key: value``, ``removed key`` (a whole new or removed
    mapping is one line; lists compare whole)."""
    show = json.dumps
    if isinstance(old, dict) and isinstance(new, dict):
        lines = []
        for key in new:
            where = f"{path}.{key}" if path else str(key)
            if key in old:
                lines += changes(old[key], new[key], where)
            else:
                lines.append(f"added {where}: {show(new[key])}")
        lines += [
            f"removed {path}.{key}" if path else f"removed {key}" for key in old if key not in new
        ]
        return lines
    if old != new or isinstance(old, bool) != isinstance(new, bool):
        return [f"changed {path}: {show(old)} -> {show(new)}"]
    return []


# Top-level keys of a Pulumi stack file (Pulumi.<stack>.yaml) besides config:.
STACK_FILE_KEYS = frozenset(
    {"config", "secretsprovider", "encryptedkey", "encryptionsalt", "environment"}
)


def stack_document(
    text: str | None, source: str, yaml: YAML, *, force: bool
) -> tuple[CommentedMap | None, str]:
    """The stack file's mapping to merge into (None: write a new file) and, when ``force``
    replaced something that is not a stack file, a note saying so.

    Refused (MigrateError, exit 2) unless ``force``: malformed YAML, a list or scalar, a mapping
    without ``config:`` (a plan.json, a compose file), ``config:`` that is not a mapping."""
    if text is None or not text.strip():
        return None, ""
    try:
        document = yaml.load(text)
    except YAMLError as exc:
        problem = f"not valid YAML ({str(exc).splitlines()[0]})"
    else:
        problem = not_a_stack_file(document)
        if not problem:
            return document, ""
    if force:
        return None, f"{source}: {problem}: replaced (--force)"
    raise MigrateError(
        f"{source}: {problem}; refusing to overwrite it: name a Pulumi.<stack>.yaml (or a new "
        "file), or pass --force to replace it"
    )


def not_a_stack_file(document: Any) -> str:
    """Why ``document`` is not a Pulumi stack file ('' when it is one, or is empty)."""
    if document is None:
        return ""
    if not isinstance(document, CommentedMap):
        return f"not a Pulumi stack file (a YAML {type(document).__name__}, not a mapping)"
    if "config" in document:
        if document["config"] is None or isinstance(document["config"], CommentedMap):
            return ""
        return "not a Pulumi stack file (config: is not a mapping)"
    if set(map(str, document)) <= STACK_FILE_KEYS:
        return ""
    keys = ", ".join(list(map(str, document))[:4])
    return f"not a Pulumi stack file (a mapping without config:, with keys {keys})"
