"""Reading raw config values with their key names: every read is checked, every unread key
is an error (a typo must not silently fall back to a default)."""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from typing import Any

from stack.config import ConfigError


class _Section:
    """One mapping of raw values; every read is checked and every unread key is an error."""

    def __init__(self, raw: Any, key: str, source: str | None) -> None:
        self.key = key
        self.source = source
        if raw is None:
            raw = {}
        if isinstance(raw, str):
            raw = _parse_json(raw, key, source)
        if not isinstance(raw, Mapping):
            raise ConfigError(key, "must be a mapping of settings", source)
        self.raw = dict(raw)
        self.read: set[str] = set()

    def error(self, name: str, rule: str) -> ConfigError:
        return ConfigError(self.child_key(name), rule, self.source)

    def child_key(self, name: str) -> str:
        return f"{self.key}.{name}"

    def has(self, name: str) -> bool:
        return name in self.raw

    def value(self, name: str, default: Any) -> Any:
        self.read.add(name)
        value = self.raw.get(name, default)
        return default if value is None else value

    def integer(
        self, name: str, default: int, low: int | None = None, high: int | None = None
    ) -> int:
        value = self.value(name, default)
        if isinstance(value, str) and re.fullmatch(r"-?\d+", value.strip()):
            value = int(value)
        if isinstance(value, bool) or not isinstance(value, int):
            raise self.error(name, f"must be a whole number, got {value!r}")
        if low is not None and value < low:
            raise self.error(name, f"must be >= {low}, got {value}")
        if high is not None and value > high:
            raise self.error(name, f"must be <= {high}, got {value}")
        return value

    def boolean(self, name: str, default: bool) -> bool:
        value = self.value(name, default)
        if isinstance(value, str) and value.strip().lower() in ("true", "false"):
            return value.strip().lower() == "true"
        if not isinstance(value, bool):
            raise self.error(name, f"must be true or false, got {value!r}")
        return value

    def string(self, name: str, default: str, pattern: str | None = None, hint: str = "") -> str:
        value = self.value(name, default)
        if isinstance(value, int | float) and not isinstance(value, bool):
            value = str(value)
        if not isinstance(value, str):
            raise self.error(name, f"must be a string, got {value!r}")
        if pattern and not (value == default == "" or re.fullmatch(pattern, value)):
            raise self.error(name, f"{hint or 'must match ' + pattern}, got {value!r}")
        return value

    def choice(self, name: str, default: str, choices: tuple[str, ...]) -> str:
        value = self.string(name, default)
        if value not in choices:
            raise self.error(name, f"must be one of {' | '.join(choices)}, got {value!r}")
        return value

    def section(self, name: str) -> _Section:
        return _Section(self.value(name, {}), self.child_key(name), self.source)

    def sequence(self, name: str) -> list[Any] | None:
        value = self.value(name, None)
        if value is None:
            return None
        if isinstance(value, str):
            value = _parse_json(value, self.child_key(name), self.source)
        if not isinstance(value, list):
            raise self.error(name, "must be a list")
        return value

    def finish(self) -> None:
        """Reject keys nobody read: a typo must not silently fall back to a default."""
        unknown = sorted(set(self.raw) - self.read)
        if unknown:
            known = ", ".join(sorted(self.read))
            raise ConfigError(
                self.child_key(unknown[0]), f"unknown key (known keys: {known})", self.source
            )


def _parse_json(text: str, key: str, source: str | None) -> Any:
    try:
        return json.loads(text)
    except json.JSONDecodeError as error:
        raise ConfigError(key, f"is not valid JSON ({error.msg})", source) from None
