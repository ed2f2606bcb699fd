"""``cutover``: one entry point for every Cutover command (the console script of pyproject.toml).

``cutover migrate ...`` runs exactly what ``python -m migrate ...`` runs, and so on for each
command below: same options, same output, same exit codes (README.md, "Exit codes").
"""

from __future__ import annotations

import runpy
import sys
from collections.abc import Sequence

from cutover.exitcodes import BAD_INPUT
from cutover.main import run

# command -> (module run as ``python -m``, what it does)
COMMANDS: dict[str, tuple[str, str]] = {
    "migrate": ("migrate", "Azure inventory -> AWS plan -> reports and Pulumi stack config"),
    "shift": ("shift", "migration day: move the users' traffic with gated Route 53 weights"),
    "release": ("release", "blue/green: deploy to the idle colour, move the users in steps"),
    "preview": ("preview", "offline preview of a stack, with --check the policy pack"),
    "rehearse": ("rehearsal", "rehearse a deployment on a local AWS emulator"),
    "revision": ("revision", "`revision bundle DIR`: put the hooks into a CodeDeploy revision"),
    "hooks": ("hooks", "the CodeDeploy hooks (deregister, register, reconcile)"),
}


def usage() -> str:
    width = max(map(len, COMMANDS))
    lines = [
        "usage: cutover COMMAND [ARGS ...]",
        "",
        "Move a VM fleet from Azure to AWS and deploy to it with zero downtime.",
        "",
        "commands:",
    ]
    lines += [f"  {name:<{width}}  {text}" for name, (_, text) in COMMANDS.items()]
    lines += [
        "",
        "`cutover COMMAND --help` for each command's options. Exit codes: 0 ok, 1 check or "
        "verdict failed, 2 bad input or usage, 3 environment, 70 unexpected error (--debug for "
        "the traceback).",
    ]
    return "\n".join(lines) + "\n"


def dispatch(argv: Sequence[str]) -> int:
    if not argv or argv[0] in ("-h", "--help", "help"):
        (sys.stdout if argv else sys.stderr).write(usage())
        return 0 if argv else BAD_INPUT
    name, *rest = argv
    if name not in COMMANDS:
        sys.stderr.write(usage())
        print(f"cutover: error: unknown command {name!r}", file=sys.stderr)
        return BAD_INPUT
    module = COMMANDS[name][0]
    saved = sys.argv
    sys.argv = [f"cutover {name}", *rest]
    try:
        runpy.run_module(module, run_name="__main__")
    except SystemExit as stop:
        if stop.code is None or isinstance(stop.code, int):
            return stop.code or 0
        print(stop.code, file=sys.stderr)
        return 1
    finally:
        sys.argv = saved
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    return run(f"cutover {args[0]}" if args else "cutover", lambda: dispatch(args), args)


if __name__ == "__main__":
    sys.exit(main())
