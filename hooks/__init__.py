"""Cutover's CodeDeploy lifecycle hooks: take an instance out of its load balancers and its
Auto Scaling group before an in-place deployment, bring it back afterwards, and always restore
the group's exact capacity. Standard library and boto3 only: they run on the instances.
"""

from __future__ import annotations

from hooks.errors import HookError

__all__ = ["HookError"]
