"""The preview's way of loading pulumi_aws changes its CPU time, never what it prints or builds."""

from __future__ import annotations

import json
import marshal
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from preview import awsmodules
from stack.load import REPO_ROOT

PYTHON = sys.executable
DRIVER = Path(__file__).with_name("awsmodules_driver.py")


@pytest.fixture(scope="module")
def cache_home(tmp_path_factory) -> Path:
    """One user cache for the module: the first preview compiles, the next ones read it."""
    return tmp_path_factory.mktemp("xdg-cache")


def _run(args: list[str], **env: str) -> subprocess.CompletedProcess:
    environment = {**os.environ, **env}
    environment.pop(awsmodules.OPT_OUT, None)
    environment.update(env)
    return subprocess.run(
        [PYTHON, *args], cwd=REPO_ROOT, env=environment, capture_output=True, timeout=300
    )


def _preview(stack: str, flag: str, cache_home: Path, *, plain: bool) -> bytes:
    env = {"XDG_CACHE_HOME": str(cache_home)}
    if plain:
        env[awsmodules.OPT_OUT] = "1"
    done = _run(["-m", "preview", stack, flag], **env)
    assert done.returncode == 0, done.stderr.decode()[-2000:]
    return done.stdout + b"\n--- stderr\n" + done.stderr


def _cached_modules(cache_home: Path) -> set[str]:
    return {p.stem for p in cache_home.glob("cutover/preview-pulumi_aws-*/*.pyc")}


@pytest.mark.parametrize("stack", ["production", "staging"])
def test_the_preview_prints_the_same_resources_with_and_without_the_loader(stack, cache_home):
    plain = _preview(stack, "--json", cache_home, plain=True)
    first = _preview(stack, "--json", cache_home, plain=False)  # compiles what it uses
    again = _preview(stack, "--json", cache_home, plain=False)  # reads the cache
    assert first == plain
    assert again == plain
    assert json.loads(plain.split(b"\n--- stderr\n")[0])  # a real listing, not two empty ones
    # The loader was at work, not silently skipped: the WAF service was compiled by it.
    assert {"pulumi_aws.wafv2", "pulumi_aws.wafv2._inputs"} <= _cached_modules(cache_home)


def test_the_table_and_the_policy_verdict_are_the_same_with_the_loader(cache_home):
    plain = _preview("production", "--check", cache_home, plain=True)
    assert _preview("production", "--check", cache_home, plain=False) == plain
    assert b"Policy pack on production: all rules pass" in plain


def _services_the_shipped_stacks_use(cache_home: Path) -> list[str]:
    """The pulumi_aws services (packages) the loader compiled for both stacks' previews."""
    for stack in ("production", "staging"):
        _preview(stack, "--json", cache_home, plain=False)
    modules = _cached_modules(cache_home)
    return sorted({name.split(".")[1] for name in modules if name.count(".") == 2})


def test_services_hold_the_same_names_and_pulumi_reads_the_same_types(tmp_path):
    """Every name of the services the stacks use (classes, functions, submodules, enum members),
    what a star import binds, and the types Pulumi's runtime reads from every resource, input
    and output class's annotations: evaluated at import, or strings evaluated when Pulumi asks."""
    services = _services_the_shipped_stacks_use(tmp_path)
    assert {"ec2", "lb", "wafv2", "rds"} <= set(services)
    reports = {}
    for mode in ("plain", "fast"):
        done = _run([str(DRIVER), mode, *services], XDG_CACHE_HOME=str(tmp_path))
        assert done.returncode == 0, done.stderr.decode()[-2000:]
        reports[mode] = json.loads(done.stdout)
    plain, fast = reports["plain"], reports["fast"]
    assert fast.pop("loader")[0] == "AwsModuleFinder"
    assert "AwsModuleFinder" not in plain.pop("loader")
    for service in services:
        assert fast[service]["names"] == plain[service]["names"], service
        assert fast[service]["star"] == plain[service]["star"], service
        assert fast[service]["types"] == plain[service]["types"], service
    # A function module and its function share a name: the package holds the function.
    assert plain["ec2"]["names"]["get_ami"] == "function pulumi_aws.ec2.get_ami.get_ami"
    assert len(plain["wafv2"]["types"]) > 1000  # the argument and output classes were read


def test_a_service_loads_only_the_resource_modules_the_program_uses(tmp_path):
    probe = textwrap.dedent(
        """
        import sys
        from preview import awsmodules
        assert awsmodules.install() is not None
        import pulumi_aws as aws
        vpc = aws.ec2.Vpc
        loaded = sorted(n for n in sys.modules if n.startswith("pulumi_aws.ec2."))
        print(vpc.__module__, loaded)
        """
    )
    done = _run(["-c", probe], XDG_CACHE_HOME=str(tmp_path))
    assert done.returncode == 0, done.stderr.decode()[-2000:]
    module, loaded = done.stdout.decode().split(" ", 1)
    assert module == "pulumi_aws.ec2.vpc"
    assert eval(loaded) == [  # noqa: S307 - our own probe's repr of a list of names
        "pulumi_aws.ec2._enums",
        "pulumi_aws.ec2._inputs",
        "pulumi_aws.ec2.outputs",
        "pulumi_aws.ec2.vpc",
    ]


# -- when the loader stands aside ----------------------------------------------------------


def _install_in_fresh_process(*python_flags: str, **env: str) -> str:
    probe = "from preview import awsmodules; print(awsmodules.install())"
    done = _run([*python_flags, "-c", probe], **env)
    assert done.returncode == 0, done.stderr.decode()[-2000:]
    return done.stdout.decode().strip()


def test_a_pulumi_aws_major_version_not_checked_is_imported_as_usual(tmp_path):
    # A distribution of pulumi_aws 8 found first on the path, as after an upgrade.
    dist = tmp_path / "site" / "pulumi_aws-8.0.0.dist-info"
    dist.mkdir(parents=True)
    (dist / "METADATA").write_text("Metadata-Version: 2.1\nName: pulumi_aws\nVersion: 8.0.0\n")
    assert _install_in_fresh_process(PYTHONPATH=str(tmp_path / "site")) == "None"


def test_without_pulumi_aws_installed_the_loader_stands_aside(tmp_path):
    # -S: no site-packages, so no pulumi_aws distribution to read a version from.
    assert _install_in_fresh_process("-S", XDG_CACHE_HOME=str(tmp_path)) == "None"


def test_an_unwritable_cache_directory_leaves_the_usual_import(tmp_path):
    blocked = tmp_path / "a-file"
    blocked.write_text("not a directory")
    assert _install_in_fresh_process(XDG_CACHE_HOME=str(blocked)) == "None"


def test_the_opt_out_leaves_the_usual_import(tmp_path):
    found = _install_in_fresh_process(XDG_CACHE_HOME=str(tmp_path), **{awsmodules.OPT_OUT: "1"})
    assert found == "None"
    assert not list(tmp_path.iterdir())


def test_a_new_pulumi_aws_version_gets_a_cache_of_its_own():
    assert awsmodules.cache_directory("7.51.1") != awsmodules.cache_directory("7.52.0")
    assert awsmodules.cache_directory("7.51.1").name.endswith(f"-f{awsmodules.FORMAT}")


# -- the cache -------------------------------------------------------------------------------

MODULE = "pulumi_aws.cutover_probe"


def _load(source_path: Path, cache: Path) -> dict:
    loader = awsmodules.AwsModuleLoader(MODULE, str(source_path), cache)
    namespace: dict = {"__name__": MODULE}
    exec(loader.get_code(MODULE), namespace)  # noqa: S102 - the code the loader made
    return namespace


def test_annotations_stay_strings_and_typeddict_twins_lose_theirs(tmp_path):
    source = tmp_path / "probe.py"
    source.write_text(
        textwrap.dedent(
            '''
            from typing import TypedDict

            class WebAclArgs:
                def __init__(self, rule: Undefined["WebAclRuleArgs"] = None) -> Missing:
                    self.rule = rule

            class WebAclArgsDict(TypedDict):
                """Keys for type checkers."""
                rule: NotDefinedEither
            '''
        )
    )
    (tmp_path / "cache").mkdir()
    namespace = _load(source, tmp_path / "cache")
    hints = namespace["WebAclArgs"].__init__.__annotations__
    assert hints == {"rule": "Undefined['WebAclRuleArgs']", "return": "Missing"}
    twin = namespace["WebAclArgsDict"]
    assert twin.__doc__ == "Keys for type checkers."
    assert twin.__annotations__ == {}


def test_a_changed_source_is_compiled_again(tmp_path):
    source, cache = tmp_path / "probe.py", tmp_path / "cache"
    cache.mkdir()
    source.write_text("ANSWER = 1\n")
    assert _load(source, cache)["ANSWER"] == 1
    source.write_text("ANSWER = 22\n")
    os.utime(source, ns=(1, 1))  # a new mtime whatever the clock's resolution
    assert _load(source, cache)["ANSWER"] == 22
    assert _load(source, cache)["ANSWER"] == 22  # and cached as such


def test_a_damaged_cache_file_is_compiled_again(tmp_path):
    source, cache = tmp_path / "probe.py", tmp_path / "cache"
    cache.mkdir()
    source.write_text("ANSWER = 1\n")
    _load(source, cache)
    cached = cache / f"{MODULE}.pyc"
    header = cached.read_bytes()[: awsmodules._HEADER.size]
    cached.write_bytes(header + b"\x00garbage")
    assert _load(source, cache)["ANSWER"] == 1
    code = marshal.loads(cached.read_bytes()[awsmodules._HEADER.size :])
    assert "ANSWER" in code.co_names


def test_a_new_cache_directory_removes_the_older_versions_caches(tmp_path):
    older = tmp_path / "cutover" / "preview-pulumi_aws-7.50.0-cpython-311-f1"
    older.mkdir(parents=True)
    (older / "pulumi_aws.pyc").write_bytes(b"old")
    unrelated = tmp_path / "cutover" / "something-else"
    unrelated.mkdir()
    found = _install_in_fresh_process(XDG_CACHE_HOME=str(tmp_path))
    assert Path(found).parent == tmp_path / "cutover"
    assert Path(found).is_dir()
    assert not older.exists()
    assert unrelated.exists()
