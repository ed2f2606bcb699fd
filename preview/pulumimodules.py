"""Pulumi's packages a preview never uses, executed only if something reads them.

``import pulumi`` imports ``pulumi.automation`` (the Automation API: workspaces, a wrapper of
the CLI, with yaml and semver), ``pulumi.dynamic`` (dynamic providers, with dill) and
``pulumi.policy``: some 30 ms of a preview's CPU, for code the program under mocks never runs;
and ``pulumi.runtime._instrumentation`` with OpenTelemetry's SDK (10-15 ms), whose one effect
at import is to set up tracing when ``TRACEPARENT`` is set (then it is imported as usual).
In the preview process (``python -m preview`` only) their modules are created lazily, with the
loader Pulumi itself uses for pulumi_aws's services (``pulumi._utils._LazyLoader``): the module
is executed, as it would have been, the first time one of its attributes is read. A Pulumi
without that loader, or ``CUTOVER_PREVIEW_PLAIN_IMPORT`` set, leaves the usual import.
"""

from __future__ import annotations

import importlib.abc
import importlib.machinery
import os
import sys
from collections.abc import Sequence
from types import ModuleType

from preview.awsmodules import OPT_OUT

DEFERRED = frozenset({"pulumi.automation", "pulumi.dynamic", "pulumi.policy"})
TRACING = "pulumi.runtime._instrumentation"


def install() -> bool:
    """Put the finder first on ``sys.meta_path``, before pulumi is imported; False when the
    usual import is asked for."""
    if os.environ.get(OPT_OUT):
        return False
    deferred = DEFERRED if os.environ.get("TRACEPARENT") else DEFERRED | {TRACING}
    sys.meta_path.insert(0, DeferredPackageFinder(deferred))
    return True


class DeferredPackageFinder(importlib.abc.MetaPathFinder):
    """Finds the given modules where Python would and defers executing them."""

    def __init__(self, deferred: frozenset[str]) -> None:
        self.deferred = deferred

    def find_spec(
        self, fullname: str, path: Sequence[str] | None, target: ModuleType | None = None
    ) -> importlib.machinery.ModuleSpec | None:
        if fullname not in self.deferred:
            return None
        spec = importlib.machinery.PathFinder.find_spec(fullname, path)
        if spec is None or type(spec.loader) is not importlib.machinery.SourceFileLoader:
            return spec
        # Pulumi's copy of the standard LazyLoader: the standard one of Python 3.11.9 and
        # 3.12.3 fails on a package that imports its own submodules (pulumi/_utils.py).
        lazy_loader = getattr(sys.modules.get("pulumi._utils"), "_LazyLoader", None)
        if lazy_loader is None:
            return spec
        spec.loader = lazy_loader(spec.loader)
        return spec
