"""Pulumi's packages a preview never uses wait until something reads them, then load as usual."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap

from preview import awsmodules, pulumimodules
from stack.load import REPO_ROOT

PROBE = textwrap.dedent(
    """
    import json, sys
    from preview import pulumimodules
    installed = pulumimodules.install()
    import pulumi
    import pulumi.runtime.mocks  # what the preview's mocks import
    executed_at_import = sorted(
        name for name in ("pulumi.automation._local_workspace", "pulumi.dynamic.dynamic", "dill",
                          "opentelemetry.sdk.trace")
        if name in sys.modules
    )
    workspace = pulumi.automation.LocalWorkspace  # the first read executes the package
    tracing = pulumi.runtime._instrumentation._tracer_provider is not None
    print(json.dumps({
        "installed": installed,
        "executedAtImport": executed_at_import,
        "workspace": f"{workspace.__module__}.{workspace.__qualname__}",
        "tracing": tracing,
    }))
    """
)


def _probe(**env: str) -> dict:
    environment = {k: v for k, v in os.environ.items() if k not in ("TRACEPARENT",)}
    environment.pop(awsmodules.OPT_OUT, None)
    environment.update(env)
    done = subprocess.run(
        [sys.executable, "-c", PROBE], cwd=REPO_ROOT, env=environment, capture_output=True
    )
    assert done.returncode == 0, done.stderr.decode()[-2000:]
    return json.loads(done.stdout)


def test_the_unused_packages_are_executed_on_first_read_not_at_import():
    found = _probe()
    assert found["installed"] is True
    assert found["executedAtImport"] == []
    assert found["workspace"] == "pulumi.automation._local_workspace.LocalWorkspace"
    assert found["tracing"] is False


def test_the_usual_import_executes_them_all():
    found = _probe(**{awsmodules.OPT_OUT: "1"})
    assert found["installed"] is False
    assert found["executedAtImport"] == [
        "dill",
        "opentelemetry.sdk.trace",
        "pulumi.automation._local_workspace",
        "pulumi.dynamic.dynamic",
    ]
    assert found["workspace"] == "pulumi.automation._local_workspace.LocalWorkspace"


def test_with_a_trace_parent_pulumi_sets_up_tracing_at_import_as_usual():
    found = _probe(TRACEPARENT="00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01")
    assert "opentelemetry.sdk.trace" in found["executedAtImport"]
    assert found["tracing"] is True


def test_only_the_named_packages_are_deferred():
    assert {"pulumi.automation", "pulumi.dynamic", "pulumi.policy"} == pulumimodules.DEFERRED
    finder = pulumimodules.DeferredPackageFinder(pulumimodules.DEFERRED)
    assert finder.find_spec("pulumi.runtime", None) is None
    assert finder.find_spec("pulumi_aws", None) is None
