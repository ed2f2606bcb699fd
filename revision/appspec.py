"""The revision's appspec.yml: check what the application brings, merge the hooks' entries.

The merge edits the text (block-style YAML) so the application's comments and layout survive;
the result is parsed again and compared with what was asked, so a layout the line editor does
not understand is refused instead of written wrong. PyYAML is imported lazily: `bundle` runs on
a developer's machine, the hooks themselves on instances with the standard library only."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from cutover.exitcodes import BAD_INPUT as EXIT_USAGE
from hooks.timing import MAX_EVENT_TIMEOUT
from revision.errors import RevisionError

# Lifecycle events an EC2/on-premises appspec may give scripts (DownloadBundle, Install,
# BlockTraffic and AllowTraffic are the agent's own).
LIFECYCLE_EVENTS = (
    "ApplicationStop",
    "BeforeInstall",
    "AfterInstall",
    "ApplicationStart",
    "ValidateService",
    "BeforeBlockTraffic",
    "AfterBlockTraffic",
    "BeforeAllowTraffic",
    "AfterAllowTraffic",
)
NEW_APPSPEC = "version: 0.0\nos: linux\n"
TOP_KEY = re.compile(r"^(?P<key>[A-Za-z_][\w-]*):\s*(?P<rest>.*)$")


@dataclass(frozen=True)
class HookEntry:
    """One of our scripts in the appspec."""

    event: str
    location: str
    timeout: int
    first: bool  # first in its event (deregister) or last (register)


def _yaml() -> Any:
    try:
        import yaml
    except ImportError:
        raise RevisionError(
            "bundle needs PyYAML on this machine: pip install -r requirements.txt", EXIT_USAGE
        ) from None
    return yaml


def parse(text: str, source: str) -> dict[str, Any]:
    """The appspec as a mapping, checked: version 0.0, os linux, hooks a mapping of lifecycle
    events to lists of scripts. Anything else is an error naming `source`."""
    yaml = _yaml()

    def bad(why: str) -> RevisionError:
        return RevisionError(f"{source}: {why}", EXIT_USAGE)

    try:
        spec = yaml.safe_load(text)
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        where = f" (line {mark.line + 1})" if mark is not None else ""
        problem = getattr(error, "problem", None) or "cannot be parsed"
        raise bad(f"not valid YAML{where}: {problem}; fix it or delete the file") from None
    if spec is None:
        raise bad(
            "is empty; delete it to have bundle write a new one, or start it with "
            "'version: 0.0' and 'os: linux'"
        )
    if not isinstance(spec, dict):
        raise bad(
            f"must be a YAML mapping (version, os, files, hooks), not a {type(spec).__name__}"
        )
    if str(spec.get("version")) != "0.0":
        raise bad(f"'version' must be 0.0 (the only appspec version), got {spec.get('version')!r}")
    if spec.get("os") != "linux":
        raise bad(
            f"'os' must be linux (the hooks' wrappers are shell scripts), got {spec.get('os')!r}"
        )
    hooks = spec.get("hooks")
    if hooks is None:
        return spec
    if not isinstance(hooks, dict):
        raise bad(f"'hooks' must be a mapping of lifecycle events, not a {type(hooks).__name__}")
    for event, entries in hooks.items():
        if event not in LIFECYCLE_EVENTS:
            raise bad(
                f"hooks.{event} is not a lifecycle event an appspec may use "
                f"({', '.join(LIFECYCLE_EVENTS)})"
            )
        if not isinstance(entries, list) or not entries:
            raise bad(f"hooks.{event} must be a list of scripts (- location: ...)")
        total = 0
        for index, entry in enumerate(entries):
            where = f"hooks.{event}[{index}]"
            if not isinstance(entry, dict) or not isinstance(entry.get("location"), str):
                raise bad(f"{where} must be a mapping with a 'location' (the script's path)")
            timeout = entry.get("timeout", 0)
            if isinstance(timeout, bool) or not isinstance(timeout, int) or timeout < 0:
                raise bad(f"{where}.timeout must be a whole number of seconds, got {timeout!r}")
            total += timeout
        if total > MAX_EVENT_TIMEOUT:
            raise bad(
                f"the timeouts of hooks.{event} add up to {total} s; CodeDeploy allows "
                f"{MAX_EVENT_TIMEOUT} s per lifecycle event: shorten them"
            )
    return spec


def merge(text: str, source: str, entries: tuple[HookEntry, ...]) -> str:
    """`text` with our entries added (or moved, or their timeouts updated); checked by parsing
    the result again. The application's own entries and other keys are left as they were."""
    before = parse(text, source)
    for entry in entries:
        text = _remove_misplaced(text, entry, before)
    for entry in entries:
        text = _merge_entry(text, entry, source)
    after = parse(text, source)
    _check(before, after, entries, source)
    return text


def _hooks(spec: dict[str, Any]) -> dict[str, list[dict[str, Any]]]:
    return spec.get("hooks") or {}


def _check(
    before: dict[str, Any], after: dict[str, Any], entries: tuple[HookEntry, ...], source: str
) -> None:
    ours = {entry.location for entry in entries}
    if {k: v for k, v in before.items() if k != "hooks"} != {
        k: v for k, v in after.items() if k != "hooks"
    }:
        raise _cannot_merge(source, "the keys outside 'hooks' would change")
    for event in LIFECYCLE_EVENTS:
        theirs_before = [e for e in _hooks(before).get(event, []) if e["location"] not in ours]
        theirs_after = [e for e in _hooks(after).get(event, []) if e["location"] not in ours]
        if theirs_before != theirs_after:
            raise _cannot_merge(source, f"the application's scripts in {event} would change")
    for entry in entries:
        scripts = _hooks(after).get(entry.event, [])
        at = 0 if entry.first else -1
        if not scripts or (scripts[at]["location"], scripts[at].get("timeout")) != (
            entry.location,
            entry.timeout,
        ):
            place = "first" if entry.first else "last"
            raise _cannot_merge(source, f"{entry.location} did not end up {place} in {entry.event}")


def _cannot_merge(source: str, why: str) -> RevisionError:
    return RevisionError(
        f"{source}: cannot merge the hooks into this layout ({why}); write its 'hooks' section "
        "in block style (one '- location:' item per line) or add the entries by hand "
        "(see hooks/appspec.yml)",
        EXIT_USAGE,
    )


def _indent(line: str) -> int:
    return len(line) - len(line.lstrip(" "))


def _significant(line: str) -> bool:
    stripped = line.strip()
    return bool(stripped) and not stripped.startswith("#")


def _block_end(lines: list[str], start: int, indent: int) -> int:
    """Index after the last line of the block opened at `start` (deeper-indented lines)."""
    end = start + 1
    for index in range(start + 1, len(lines)):
        if _significant(lines[index]):
            if _indent(lines[index]) <= indent:
                break
            end = index + 1
    return end


def _item_pattern(location: str) -> re.Pattern[str]:
    return re.compile(rf"^(\s*)- location:\s*['\"]?{re.escape(location)}['\"]?\s*$")


def _remove_misplaced(text: str, entry: HookEntry, spec: dict[str, Any]) -> str:
    """Take our entry out of an event other than the one asked (a re-run with another event)."""
    elsewhere = [
        event
        for event, scripts in _hooks(spec).items()
        if event != entry.event and any(s["location"] == entry.location for s in scripts)
    ]
    if not elsewhere:
        return text
    lines = text.splitlines()
    ours = _item_pattern(entry.location)
    at = next((i for i, line in enumerate(lines) if ours.match(line)), None)
    if at is None:
        return text  # a layout the editor does not know: _check refuses it
    del lines[at : _block_end(lines, at, _indent(lines[at]))]
    # An event left without items goes too (CodeDeploy refuses an empty event).
    head = max(
        (i for i in range(at) if lines[i].strip() == f"{elsewhere[0]}:"),
        default=None,
    )
    if head is not None and _block_end(lines, head, _indent(lines[head])) == head + 1:
        del lines[head]
    return "\n".join(lines) + "\n"


def _merge_entry(text: str, entry: HookEntry, source: str) -> str:
    """Add one hook entry to appspec YAML text (block style); if it is there, set its timeout."""
    lines = text.splitlines()
    at = next(
        (i for i, line in enumerate(lines) if _item_pattern(entry.location).match(line)), None
    )
    if at is not None:
        return _set_timeout(lines, at, entry.timeout)
    hooks_at = next(
        (i for i, line in enumerate(lines) if (m := TOP_KEY.match(line)) and m["key"] == "hooks"),
        None,
    )
    if hooks_at is None:
        lines.append("hooks:")
        hooks_at = len(lines) - 1
    else:
        match = TOP_KEY.match(lines[hooks_at])
        assert match is not None
        if match["rest"].split("#")[0].strip():
            raise RevisionError(
                f"{source} writes `hooks:` in flow style; rewrite it in block style or add "
                f"`{entry.location}` to {entry.event} by hand",
                EXIT_USAGE,
            )
    end = _block_end(lines, hooks_at, 0)
    events = [i for i in range(hooks_at + 1, end) if _significant(lines[i])]
    event_indent = _indent(lines[events[0]]) if events else 2
    heads = [i for i in events if _indent(lines[i]) == event_indent]
    event_at = next((i for i in heads if lines[i].strip() == f"{entry.event}:"), None)
    if event_at is None:
        item = _item(event_indent + 2, entry)
        lines[end:end] = [" " * event_indent + f"{entry.event}:", *item]
        return "\n".join(lines) + "\n"
    event_end = _block_end(lines, event_at, event_indent)
    items = [i for i in range(event_at + 1, event_end) if _significant(lines[i])]
    item_indent = _indent(lines[items[0]]) if items else event_indent + 2
    at = event_at + 1 if entry.first else event_end
    lines[at:at] = _item(item_indent, entry)
    return "\n".join(lines) + "\n"


def _set_timeout(lines: list[str], at: int, timeout: int) -> str:
    """Our entry is there already: make its timeout the requested one."""
    indent = _indent(lines[at])
    end = _block_end(lines, at, indent)
    for index in range(at + 1, end):
        if lines[index].strip().startswith("timeout:"):
            lines[index] = " " * (indent + 2) + f"timeout: {timeout}"
            break
    else:
        lines.insert(at + 1, " " * (indent + 2) + f"timeout: {timeout}")
    return "\n".join(lines) + "\n"


def _item(indent: int, entry: HookEntry) -> list[str]:
    pad = " " * indent
    return [
        f"{pad}- location: {entry.location}",
        f"{pad}  timeout: {entry.timeout}",
        f"{pad}  runas: root",
    ]
