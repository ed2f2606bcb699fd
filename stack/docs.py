"""`python -m stack.docs [--check]`: write the defaults the documentation shows from their one
definition (`make docs`), or with --check only say which file is stale (exit 1).

What it keeps true:
* the Default column of stack/README.md's key table, for every key whose default is a plain
  value of the model (stack/config.py);
* the hooks' appspec timeouts shown in the example appspec (hooks/appspec.yml) and in the
  top-level README's sample, from hooks/timing.py.

So changing a default is one line in its definition, then `make docs`; the tests run --check.
"""

from __future__ import annotations

import argparse
import dataclasses
import re
import sys
from collections.abc import Callable
from pathlib import Path

from hooks import timing
from stack import config

ROOT = Path(__file__).resolve().parent.parent
SECTIONS = {
    "network": config.NetworkConfig,
    "fleet": config.FleetConfig,
    "scaling": config.ScalingConfig,
    "loadBalancer": config.LoadBalancerConfig,
    "deployment": config.DeploymentConfig,
    "queue": config.QueueConfig,
    "database": config.DatabaseConfig,
    "revisions": config.RevisionsConfig,
    "logs": config.LogsConfig,
}
HOOK_TIMEOUTS = {
    "cutover-hooks/deregister.sh": timing.DEFAULT_DEREGISTER_TIMEOUT,
    "cutover-hooks/register.sh": timing.DEFAULT_REGISTER_TIMEOUT,
}
_CELLS = re.compile(r"(?<!\\)\|")


def camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(part.title() for part in rest)


def shown(value: object) -> str:
    """As YAML would need it written: booleans lower-case, a string quoted where bare it would
    read as something else (empty, or a number)."""
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, str) and (value == "" or value.replace(".", "").isdigit()):
        return f'"{value}"'
    return str(value)


def plain_defaults(section: str) -> dict[str, str]:
    """camelCase key -> the default as the table shows it, for scalar defaults of the model."""
    out = {}
    for field in dataclasses.fields(SECTIONS[section]):
        if field.default is dataclasses.MISSING or isinstance(field.default, tuple):
            continue
        if isinstance(field.default, bool | int | str):
            out[camel(field.name)] = shown(field.default)
    return out


def key_table(text: str) -> str:
    """stack/README.md with every plain Default cell set from the model (cells that describe a
    default in words, or name another key, are left as written)."""
    lines = text.split("\n")
    section = None
    for index, line in enumerate(lines):
        heading = re.match(r"\| \*\*`cutover:(\w+)`\*\*", line)
        if heading:
            section = heading.group(1) if heading.group(1) in SECTIONS else None
            continue
        if section is None or not line.startswith("| `"):
            continue
        cells = _CELLS.split(line)
        key = re.fullmatch(r"\s*`([A-Za-z]+)`\s*", cells[1])
        default = re.fullmatch(r"\s*`([^`]*)`\s*", cells[3]) if len(cells) > 4 else None
        defaults = plain_defaults(section)
        if key and default and key.group(1) in defaults and default.group(1) not in defaults:
            cells[3] = f" `{defaults[key.group(1)]}` "
            lines[index] = "|".join(cells)
    return "\n".join(lines)


def hook_timeouts(text: str) -> str:
    """An appspec (or a README's sample of one) with the hooks' default timeouts."""
    for location, seconds in HOOK_TIMEOUTS.items():
        text = re.sub(
            rf"(location: {re.escape(location)}[^\n]*\n\s+timeout: )\d+",
            rf"\g<1>{seconds}",
            text,
        )
    return text


FILES: dict[str, Callable[[str], str]] = {
    "stack/README.md": key_table,
    "hooks/appspec.yml": hook_timeouts,
    "README.md": hook_timeouts,
}


def stale(root: Path = ROOT) -> dict[Path, str]:
    """Files whose generated parts differ from their definitions: path -> the right text."""
    found = {}
    for name, render in FILES.items():
        path = root / name
        text = path.read_text(encoding="utf-8")
        right = render(text)
        if right != text:
            found[path] = right
    return found


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m stack.docs", description=__doc__)
    parser.add_argument("--check", action="store_true", help="exit 1 if a file is stale")
    args = parser.parse_args(argv)
    found = stale()
    for path, text in found.items():
        if args.check:
            print(f"{path.relative_to(ROOT)}: stale; run `make docs`", file=sys.stderr)
        else:
            path.write_text(text, encoding="utf-8")
            print(f"wrote {path.relative_to(ROOT)}")
    return 1 if found and args.check else 0


if __name__ == "__main__":
    sys.exit(main())
