"""The running Pulumi program's config, read into the stack contract (``stack/``) and validated
there: the same rules, defaults and messages as every other way in."""

from __future__ import annotations

from typing import Any

import pulumi
from pulumi.runtime import config as runtime_config

from stack.config import StackConfig
from stack.load import load_mapping


def load_pulumi_config() -> StackConfig:
    """Validate the running Pulumi program's config (every ``cutover:`` key, ``aws:region``)."""
    values: dict[str, Any] = {}
    values.update(runtime_config.get_config_env())
    values.update(runtime_config.CONFIG.get())
    region = pulumi.Config("aws").get("region")
    if region is not None:
        values["aws:region"] = region
    return load_mapping(values, stack=pulumi.get_stack(), source=f"stack {pulumi.get_stack()}")
