"""The CrossGuard policy pack: `pulumi preview --policy-pack policy` from the repository root.

Each rule of `policy.rules` becomes a mandatory stack validation policy (`policy.pack`). The same
functions run without the Pulumi CLI in `python -m preview STACK --check`.

Started by the Pulumi CLI, the pack serves its rules over gRPC on a local port it prints on
stdout. `--help` prints this text and the rules instead, and exits 0.
"""

import sys
from pathlib import Path

# The Pulumi CLI runs the pack from this folder; the rules import as `policy.rules`.
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from policy.rules import RULES  # noqa: E402


def usage() -> str:
    rules = "\n".join(
        f"  {name:<38} {(rule.__doc__ or '').strip().splitlines()[0]}"
        for name, rule in RULES.items()
    )
    return (
        "usage: pulumi preview --policy-pack policy [--policy-pack-config FILE]\n"
        "       python -m preview STACK --check     (the same rules, offline)\n\n"
        "Cutover's policy pack (cutover-zero-downtime). Run by the Pulumi CLI, it serves its "
        "rules over gRPC\non a local port printed on stdout; it is not meant to be run by hand.\n\n"
        f"Rules (all mandatory):\n{rules}\n"
    )


if __name__ == "__main__":
    if any(arg in ("-h", "--help") for arg in sys.argv[1:]):
        print(usage())
        sys.exit(0)
    from pulumi_policy import PolicyPack

    from policy.pack import policies

    PolicyPack(name="cutover-zero-downtime", policies=policies())
