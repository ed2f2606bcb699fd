"""pulumi_aws as the preview process loads it: the same classes for a quarter of the CPU.

A production preview spent 0.8 s of its 1.3 s of CPU executing pulumi_aws's modules
(preview/README.md, "Speed"). Three things made them slow, and the finder `install` puts first
on ``sys.meta_path`` changes how each is compiled, never what the program gets:

- **Annotations evaluated at class creation.** ``Optional[pulumi.Input['WebAclRuleArgs']]`` on
  every property and argument, some 7,000 on production. The modules are compiled with
  ``from __future__ import annotations``: the annotations stay strings. Pulumi reads them only
  through ``typing.get_type_hints`` (``pulumi._types``, resource and output types), which
  evaluates a string in the module's globals to the very object the eager annotation was.
- **TypedDict twins of the argument classes** (``WebAclRuleArgsDict``), written for type
  checkers: ``typing`` turns each of their string annotations into a ``ForwardRef`` and
  compiles it. Pulumi's runtime asks of them only ``typing.is_typeddict`` (``_types``); their
  class bodies are compiled without the annotations, so they are TypedDicts with no keys.
- **A service's package executes all its resource modules** (``from .vpc import *`` for each
  of ec2's 180) although a stack uses a dozen. A service package's ``__init__`` is compiled
  without those star imports: its module becomes a ``ModuleType`` subclass whose
  ``__getattr__`` imports the submodule that exports a name on first use, from a table of each
  submodule's ``__all__`` read from the source. The shared ``_enums``, ``_inputs`` and
  ``outputs`` stay eager. Names resolve to the same objects, with the star imports' precedence;
  ``dir()`` and a star import of the package see every name. A package whose shape differs
  from what this expects (a submodule without a literal ``__all__``, a name bound twice in a
  way laziness would change) is compiled as it is.

The code objects are cached in the user's cache directory (``$XDG_CACHE_HOME`` or
``~/.cache``, ``cutover/preview-pulumi_aws-VERSION-PYTHON-fFORMAT``, 16 MB for production),
each validated against its source's modification time and size; a new pulumi_aws version gets
a directory of its own and the older ones are removed.
The first preview after an install or upgrade compiles what it uses (some seconds, see the
README), the next ones read the cache. ``PYTHONDONTWRITEBYTECODE`` is about the ``__pycache__``
beside the sources and does not turn this application cache off. Without a writable cache
directory, with a pulumi_aws whose version cannot be read or whose major version was not
checked (``CHECKED_MAJOR``), or with ``CUTOVER_PREVIEW_PLAIN_IMPORT`` set, the preview imports
pulumi_aws as usual. Only ``python -m preview`` installs the finder:
never ``pulumi up``, the tests of the program or the rehearsal. ``tests/preview/
test_awsmodules.py`` proves the output of both shipped stacks the same with and without it.
"""

from __future__ import annotations
import __future__

import ast
import importlib.abc
import importlib.machinery
import importlib.metadata
import importlib.util
import marshal
import os
import re
import shutil
import struct
import sys
from collections.abc import Sequence
from pathlib import Path
from types import CodeType, ModuleType

PACKAGE = "pulumi_aws"
# The pulumi_aws major version whose generated code this was checked against (the shape of its
# packages and classes); another one is imported as usual.
CHECKED_MAJOR = "7"
# Bump when what the loader generates changes: the cache directory's name carries it.
FORMAT = 2
# Set (to anything) to import pulumi_aws as usual in the preview too.
OPT_OUT = "CUTOVER_PREVIEW_PLAIN_IMPORT"
# The modules a service package keeps importing eagerly (shared by all its resources).
EAGER_SUBMODULES = frozenset({"_enums", "_inputs", "outputs"})
_HEADER = struct.Struct("<16sqq")  # Python's magic number (padded), source mtime_ns, size
_ALL = re.compile(rb"^__all__ = (\[.*?\])$", re.MULTILINE | re.DOTALL)


def cache_directory(version: str) -> Path:
    """Where the code objects of pulumi_aws ``version`` are cached for this Python."""
    root = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    tag = sys.implementation.cache_tag
    return root / "cutover" / f"preview-{PACKAGE}-{version}-{tag}-f{FORMAT}"


def install() -> Path | None:
    """Put the finder first on ``sys.meta_path``, before pulumi_aws is imported.

    Returns the cache directory, or None when pulumi_aws is to be imported as usual (not
    installed, a version not checked, no writable cache directory)."""
    try:
        version = importlib.metadata.version(PACKAGE)
    except importlib.metadata.PackageNotFoundError:
        return None
    if version.split(".")[0] != CHECKED_MAJOR:
        return None
    if os.environ.get(OPT_OUT):
        return None
    directory = cache_directory(version)
    if not directory.is_dir():
        try:
            directory.mkdir(parents=True)
        except OSError:
            return None
        _remove_other_caches(directory)
    if not os.access(directory, os.W_OK):
        return None
    sys.meta_path.insert(0, AwsModuleFinder(directory))
    return directory


def _remove_other_caches(directory: Path) -> None:
    """A new pulumi_aws version (or Python, or FORMAT) no longer needs the older caches."""
    for other in directory.parent.glob(f"preview-{PACKAGE}-*"):
        if other != directory:
            shutil.rmtree(other, ignore_errors=True)


class AwsModuleFinder(importlib.abc.MetaPathFinder):
    """Finds pulumi_aws's modules where Python would, and loads them with `AwsModuleLoader`."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory

    def find_spec(
        self, fullname: str, path: Sequence[str] | None, target: ModuleType | None = None
    ) -> importlib.machinery.ModuleSpec | None:
        if fullname != PACKAGE and not fullname.startswith(PACKAGE + "."):
            return None
        spec = importlib.machinery.PathFinder.find_spec(fullname, path)
        if spec is None or type(spec.loader) is not importlib.machinery.SourceFileLoader:
            return spec  # not found, or not plain source: as Python would
        spec.loader = AwsModuleLoader(fullname, spec.origin, self.directory)
        return spec


class AwsModuleLoader(importlib.machinery.SourceFileLoader):
    """A source loader whose code comes from the transformation above, cached."""

    def __init__(self, fullname: str, path: str, directory: Path) -> None:
        super().__init__(fullname, path)
        self.directory = directory

    def get_code(self, fullname: str) -> CodeType:
        source_path = self.get_filename(fullname)
        stat = os.stat(source_path)
        header = _HEADER.pack(importlib.util.MAGIC_NUMBER, stat.st_mtime_ns, stat.st_size)
        cached = self.directory / f"{fullname}.pyc"
        try:
            data = cached.read_bytes()
        except OSError:
            data = b""
        if data[: _HEADER.size] == header:
            try:
                return marshal.loads(data[_HEADER.size :])
            except (EOFError, ValueError, TypeError):
                pass  # a damaged file: compiled again below
        code = transform_and_compile(fullname, self.get_data(source_path), source_path)
        _write_atomically(cached, header + marshal.dumps(code))
        return code


def _write_atomically(path: Path, data: bytes) -> None:
    # Another preview may read or write the same file meanwhile: a rename is atomic.
    partial = path.with_name(f"{path.name}.{os.getpid()}.tmp")
    try:
        partial.write_bytes(data)
        os.replace(partial, path)
    except OSError:
        partial.unlink(missing_ok=True)  # a full disk: the next preview compiles again


def transform_and_compile(fullname: str, source: bytes, source_path: str) -> CodeType:
    """The module's code with annotations left as strings, TypedDict bodies without them,
    and, for a service package, its resource modules imported on first use."""
    service_package = fullname.count(".") == 1 and Path(source_path).name == "__init__.py"
    if service_package or b"(TypedDict):" in source:
        tree = ast.parse(source, source_path)
        _strip_typeddict_annotations(tree.body)
        if service_package:
            _import_on_first_use(tree, Path(source_path).parent)
        source = ast.fix_missing_locations(tree)  # type: ignore[assignment]
    return compile(
        source,
        source_path,
        "exec",
        flags=__future__.annotations.compiler_flag,
        dont_inherit=True,  # neither this module's own __future__ imports
    )


def _strip_typeddict_annotations(statements: list[ast.stmt]) -> None:
    """``class XArgsDict(TypedDict): ...`` keeps its docstring and loses its annotations."""
    for statement in statements:
        if isinstance(statement, ast.If):  # `if not MYPY:` in some generations
            _strip_typeddict_annotations(statement.body)
            _strip_typeddict_annotations(statement.orelse)
        elif isinstance(statement, ast.ClassDef) and any(
            isinstance(base, ast.Name) and base.id == "TypedDict" for base in statement.bases
        ):
            body = [s for s in statement.body if not isinstance(s, ast.AnnAssign)]
            statement.body = body or [ast.Pass()]


def exported_names(module_path: Path) -> list[str] | None:
    """A generated module's literal ``__all__``, or None when it has none."""
    try:
        found = _ALL.search(module_path.read_bytes())
    except OSError:
        return None
    if found is None:
        return None
    try:
        names = ast.literal_eval(found.group(1).decode())
    except (SyntaxError, ValueError):
        return None
    if not isinstance(names, list) or not all(isinstance(n, str) for n in names):
        return None
    return names


def _import_on_first_use(tree: ast.Module, package_dir: Path) -> None:
    """Replace the package's ``from .x import *`` of resource modules with a lazy look-up.

    Leaves ``tree`` unchanged when laziness could change what a name resolves to."""
    owners: dict[str, str] = {}  # name -> the submodule whose star import binds it last
    lazy: list[ast.stmt] = []
    eager_names: set[str] = set()
    for statement in tree.body:
        submodule = _star_import(statement)
        if submodule is None or submodule in EAGER_SUBMODULES:
            names = _bound_names(statement, package_dir)
            if names is None:
                return
            if lazy and names & set(owners):
                return  # an eager binding after a lazy one of the same name: keep it simple
            eager_names |= names
            continue
        exported = exported_names(package_dir / f"{submodule}.py")
        if exported is None:
            return
        if set(exported) & eager_names:
            return  # a lazy name would have replaced an eager one
        owners.update(dict.fromkeys(exported, submodule))
        lazy.append(statement)
    if not lazy:
        return
    submodules = {_star_import(s) for s in lazy}
    for name in set(owners) & submodules:
        if owners[name] != name:
            return  # `x` the submodule and `x` another submodule's export: keep it eager
    end = max(getattr(node, "end_lineno", 0) or 0 for node in tree.body)
    tree.body = [s for s in tree.body if s not in lazy]
    hook = ast.parse(_LAZY_PACKAGE.format(owners=owners, submodules=sorted(submodules)))
    # Past the source's last line: a traceback through the hook shows no unrelated source.
    ast.increment_lineno(hook, end)
    tree.body.extend(hook.body)


def _star_import(statement: ast.stmt) -> str | None:
    if (
        isinstance(statement, ast.ImportFrom)
        and statement.level == 1
        and statement.module
        and "." not in statement.module
        and [a.name for a in statement.names] == ["*"]
    ):
        return statement.module
    return None


def _bound_names(statement: ast.stmt, package_dir: Path) -> set[str] | None:
    """Top-level names a statement binds (None when that cannot be told from the source)."""
    submodule = _star_import(statement)
    if submodule is not None:
        names = exported_names(package_dir / f"{submodule}.py")
        return None if names is None else set(names)
    if isinstance(statement, ast.Import | ast.ImportFrom):
        return {(a.asname or a.name).split(".")[0] for a in statement.names}
    return {
        node.id
        for node in ast.walk(statement)
        if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store)
    } | {
        node.name
        for node in ast.walk(statement)
        if isinstance(node, ast.FunctionDef | ast.ClassDef | ast.AsyncFunctionDef)
    }


# Appended to a service package's __init__. Self-contained (the cached code must not depend
# on this module's version beyond FORMAT) and leaves no name in the package's namespace.
_LAZY_PACKAGE = '''
def __cutover_lazy_package(owners={owners!r}, submodules={submodules!r}):
    import importlib
    import sys
    import types

    class ServicePackage(types.ModuleType):
        """A pulumi_aws service whose resource modules load on first use (preview only)."""

        def __getattr__(self, name):
            owner = owners.get(name)
            if owner is None and name in submodules:
                return importlib.import_module(self.__name__ + "." + name)
            if owner is None:
                if name == "__all__":
                    for submodule in submodules:
                        importlib.import_module(self.__name__ + "." + submodule)
                    for each in owners:
                        getattr(self, each)
                raise AttributeError(f"module {{self.__name__!r}} has no attribute {{name!r}}")
            value = getattr(importlib.import_module(self.__name__ + "." + owner), name)
            types.ModuleType.__setattr__(self, name, value)
            return value

        def __setattr__(self, name, value):
            # The import system binds a submodule `get_ami` on its package; the eager package's
            # star import then bound the function `get_ami` over it.
            if (
                owners.get(name) == name
                and isinstance(value, types.ModuleType)
                and value.__name__ == self.__name__ + "." + name
            ):
                value = getattr(value, name)
            types.ModuleType.__setattr__(self, name, value)

        def __dir__(self):
            return sorted(set(self.__dict__) | set(owners) | set(submodules))

    sys.modules[__name__].__class__ = ServicePackage


__cutover_lazy_package()
del __cutover_lazy_package
'''
