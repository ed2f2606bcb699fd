"""Describes pulumi_aws services as a fresh process sees them, with or without the preview's loader.

    python tests/preview/awsmodules_driver.py fast|plain SERVICE...

Prints one JSON object: per service, every name `dir()` lists with what it is (a class with its
module and qualified name, a function, a submodule, an enum member...), and per Pulumi class
the types Pulumi's runtime reads from its annotations (`pulumi._types`), as text.
"""

from __future__ import annotations

import gc
import importlib
import json
import pkgutil
import sys
from pathlib import Path

gc.disable()  # as `python -m preview` runs; the objects stay until the process ends
sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from preview import awsmodules  # noqa: E402

# How the package was loaded, not what it holds.
MACHINERY = {"__loader__", "__spec__", "__cached__"}


def _what(value: object) -> str:
    if isinstance(value, type):
        return f"class {value.__module__}.{value.__qualname__}"
    if callable(value) and hasattr(value, "__qualname__"):
        return f"function {value.__module__}.{value.__qualname__}"
    if type(value).__name__ == "module" or hasattr(value, "__path__"):
        return f"module {value.__name__}"
    return f"{type(value).__name__} {value!r}"


def _pulumi_types(value: object) -> dict[str, str] | None:
    from pulumi import CustomResource, _types

    if not isinstance(value, type):
        return None
    if _types.is_input_type(value):
        found = _types.input_type_types(value)
    elif _types.is_output_type(value):
        found = _types.output_type_types(value)
    elif issubclass(value, CustomResource):
        found = _types.resource_types(value)
    else:
        return None
    return {name: repr(typ) for name, typ in sorted(found.items())}


def describe(service: str) -> dict[str, object]:
    package = importlib.import_module(f"pulumi_aws.{service}")
    # pulumi_aws's own lazy import: the package is loaded on the first attribute read.
    outputs = getattr(package, "outputs", None)  # a service without output types has none
    # A look-up's module imported by its full name, as `import pulumi_aws.ec2.get_ami` does:
    # its package must still hold the function of the same name, not the module.
    look_ups = sorted(m.name for m in pkgutil.iter_modules(package.__path__))
    look_up = next((name for name in look_ups if name.startswith("get_")), None)
    if look_up is not None:
        importlib.import_module(f"pulumi_aws.{service}.{look_up}")
    names = {}
    types = {}
    for name in dir(package):
        value = getattr(package, name)
        names[name] = "import machinery" if name in MACHINERY else _what(value)
        found = _pulumi_types(value)
        if found is not None:
            types[name] = found
    for name in dir(outputs) if outputs is not None else []:
        found = _pulumi_types(getattr(outputs, name))
        if found is not None:
            types[f"outputs.{name}"] = found
    star: dict[str, object] = {}
    exec(f"from pulumi_aws.{service} import *", star)  # noqa: S102 - what a star import binds
    return {"names": names, "types": types, "star": sorted(star)}


def main() -> int:
    mode, *services = sys.argv[1:]
    if mode == "fast" and awsmodules.install() is None:
        sys.exit("the loader did not install")
    report = {service: describe(service) for service in services}
    report["loader"] = [type(f).__name__ for f in sys.meta_path]
    print(json.dumps(report, sort_keys=True))
    return 0


if __name__ == "__main__":
    sys.exit(main())
