"""The CrossGuard policy pack: `pulumi preview --policy-pack policy` from the repository root.

Each rule of `policy.rules` becomes a mandatory stack validation policy (`policy.pack`). The same
functions run without the Pulumi CLI in `python -m infra.preview STACK --check`.
"""

import sys
from pathlib import Path

from pulumi_policy import PolicyPack

# The Pulumi CLI runs the pack from this folder; the rules import as `policy.rules`.
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from policy.pack import policies  # noqa: E402

PolicyPack(name="cutover-zero-downtime", policies=policies())
