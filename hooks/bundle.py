"""`python3 -m hooks bundle DIR`: add the hooks to an application's revision folder.

Copies the `hooks` package and the wrapper scripts into DIR/cutover-hooks/ and writes or merges
the hooks section of DIR/appspec.yml: deregister first in its event, register last in its event
(after the application's own start scripts), and keeps the hooks' own deadlines below those
timeouts in DIR/cutover-hooks/cutover-hooks.env. Re-running it changes nothing."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

from hooks.errors import EXIT_USAGE, HookError

BUNDLE_FOLDER = "cutover-hooks"
PACKAGE = Path(__file__).resolve().parent
SCRIPTS = ("deregister.sh", "register.sh", "reconcile.sh")
ENV_FILE = "cutover-hooks.env"
# Time the agent needs around the hook's own deadline: starting Python, the last API calls.
DEREGISTER_MARGIN = 40
REGISTER_MARGIN = 20
TOP_KEY = re.compile(r"^(?P<key>[A-Za-z_][\w-]*):\s*(?P<rest>.*)$")


def bundle(
    directory: str,
    deregister_event: str = "BeforeInstall",
    register_event: str = "ApplicationStart",
    deregister_timeout: int = 400,
    register_timeout: int = 120,
) -> Path:
    """Copy the hooks into `directory` and merge the appspec; returns the appspec path."""
    root = Path(directory)
    if not root.is_dir():
        raise HookError(f"bundle: {directory} is not a folder", EXIT_USAGE)
    target = root / BUNDLE_FOLDER
    package = target / "hooks"
    if package.exists():
        shutil.rmtree(package)
    shutil.copytree(
        PACKAGE, package, ignore=shutil.ignore_patterns("__pycache__", "*.pyc", "scripts")
    )
    for script in SCRIPTS:
        shutil.copy2(PACKAGE / "scripts" / script, target / script)
        (target / script).chmod(0o755)
    write_deadlines(
        target / ENV_FILE,
        {
            "CUTOVER_DEREGISTER_TIMEOUT": max(1, deregister_timeout - DEREGISTER_MARGIN),
            "CUTOVER_REGISTER_TIMEOUT": max(1, register_timeout - REGISTER_MARGIN),
        },
    )
    appspec = root / "appspec.yml"
    text = appspec.read_text(encoding="utf-8") if appspec.exists() else "version: 0.0\nos: linux\n"
    entries = (
        (deregister_event, "deregister.sh", deregister_timeout, True),
        (register_event, "register.sh", register_timeout, False),
    )
    for event, script, timeout, first in entries:
        text = merge_hook(text, event, f"{BUNDLE_FOLDER}/{script}", timeout, first)
    appspec.write_text(text, encoding="utf-8")
    return appspec


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


def merge_hook(text: str, event: str, location: str, timeout: int, first: bool) -> str:
    """Add one hook entry to appspec YAML text (block style); if it is there, set its timeout."""
    lines = text.splitlines()
    ours = re.compile(rf"^(\s*)- location:\s*['\"]?{re.escape(location)}['\"]?\s*$")
    at = next((i for i, line in enumerate(lines) if ours.match(line)), None)
    if at is not None:
        return _set_timeout(lines, at, timeout)
    hooks_at = next(
        (i for i, line in enumerate(lines) if (m := TOP_KEY.match(line)) and m["key"] == "hooks"),
        None,
    )
    if hooks_at is None:
        lines.append("hooks:")
        hooks_at = len(lines) - 1
    elif TOP_KEY.match(lines[hooks_at])["rest"].split("#")[0].strip():
        raise HookError(
            "bundle: appspec.yml writes `hooks:` in flow style; rewrite it in block style or add "
            f"`{location}` to {event} by hand",
            EXIT_USAGE,
        )
    end = _block_end(lines, hooks_at, 0)
    events = [i for i in range(hooks_at + 1, end) if _significant(lines[i])]
    event_indent = _indent(lines[events[0]]) if events else 2
    heads = [i for i in events if _indent(lines[i]) == event_indent]
    event_at = next((i for i in heads if lines[i].strip() == f"{event}:"), None)
    if event_at is None:
        item = _item(event_indent + 2, location, timeout)
        lines[end:end] = [" " * event_indent + f"{event}:", *item]
        return "\n".join(lines) + "\n"
    event_end = _block_end(lines, event_at, event_indent)
    items = [i for i in range(event_at + 1, event_end) if _significant(lines[i])]
    item_indent = _indent(lines[items[0]]) if items else event_indent + 2
    at = event_at + 1 if first else event_end
    lines[at:at] = _item(item_indent, location, timeout)
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


def _item(indent: int, location: str, timeout: int) -> list[str]:
    pad = " " * indent
    return [f"{pad}- location: {location}", f"{pad}  timeout: {timeout}", f"{pad}  runas: root"]


def write_deadlines(path: Path, deadlines: dict[str, int]) -> None:
    """Keep the hooks' deadlines below the appspec timeouts, in the wrappers' env file; other
    lines of an existing file are kept."""
    lines = (
        path.read_text(encoding="utf-8").splitlines()
        if path.exists()
        else ["# Read by the cutover-hooks wrapper scripts (KEY=value). See hooks/README.md."]
    )
    kept = [line for line in lines if line.split("=", 1)[0].strip() not in deadlines]
    kept += [f"{key}={value}" for key, value in deadlines.items()]
    path.write_text("\n".join(kept) + "\n", encoding="utf-8")
