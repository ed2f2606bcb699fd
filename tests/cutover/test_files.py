"""Reads that accept what Windows and az write; writes that never leave a file half-written."""

from __future__ import annotations

import codecs
import os
import subprocess
import sys
from pathlib import Path

import pytest

from cutover import exitcodes
from cutover.files import FileProblem, ensure_writable, read_text, write_text
from cutover.main import run

ROOT = Path(__file__).resolve().parents[2]
TEXT = '{"name": "vm-ä"}'


@pytest.mark.parametrize(
    "data",
    [
        TEXT.encode("utf-8"),
        codecs.BOM_UTF8 + TEXT.encode("utf-8"),
        codecs.BOM_UTF16_LE + TEXT.encode("utf-16-le"),
        codecs.BOM_UTF16_BE + TEXT.encode("utf-16-be"),
        codecs.BOM_UTF32_LE + TEXT.encode("utf-32-le"),
        codecs.BOM_UTF32_BE + TEXT.encode("utf-32-be"),
    ],
    ids=["utf8", "utf8-bom", "utf16le", "utf16be", "utf32le", "utf32be"],
)
def test_read_text_accepts_unicode_with_a_byte_order_mark(tmp_path, data):
    path = tmp_path / "vms.json"
    path.write_bytes(data)
    assert read_text(path) == TEXT


def test_read_text_names_the_file_for_other_encodings(tmp_path):
    path = tmp_path / "vms.json"
    path.write_bytes(TEXT.encode("latin-1"))
    with pytest.raises(FileProblem) as caught:
        read_text(path)
    assert str(path) in str(caught.value) and "UTF-8" in str(caught.value)
    assert caught.value.exit_code == exitcodes.BAD_INPUT


def test_missing_file_is_bad_input(tmp_path):
    with pytest.raises(FileProblem) as caught:
        read_text(tmp_path / "nope.json")
    assert "no such file" in str(caught.value)
    assert caught.value.exit_code == exitcodes.BAD_INPUT


def test_write_text_replaces_atomically_and_keeps_the_mode(tmp_path):
    path = tmp_path / "plan.json"
    path.write_text("old")
    os.chmod(path, 0o640)
    write_text(path, "new")
    assert path.read_text() == "new"
    assert path.stat().st_mode & 0o777 == 0o640
    assert [p.name for p in tmp_path.iterdir()] == ["plan.json"]


def test_a_failed_write_leaves_the_old_file_intact(tmp_path):
    # A real write failure from the kernel: a file-size limit makes write() fail (EFBIG) the way
    # a full disk (ENOSPC) does, in a child process so the limit does not leak into the suite.
    path = tmp_path / "Pulumi.production.yaml"
    path.write_text("config:\n  # a hand-written comment\n")
    child = f"""
import resource, signal, sys
signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
resource.setrlimit(resource.RLIMIT_FSIZE, (1024, 1024))
from cutover.files import FileProblem, write_text
try:
    write_text({str(path)!r}, "x" * 100_000)
except FileProblem as error:
    print(error.exit_code, error)
    sys.exit(0)
sys.exit("the write did not fail")
"""
    done = subprocess.run(
        [sys.executable, "-c", child], capture_output=True, text=True, cwd=ROOT, check=True
    )
    assert done.stdout.startswith(f"{exitcodes.ENVIRONMENT} {path}: cannot write")
    assert path.read_text() == "config:\n  # a hand-written comment\n"
    assert [p.name for p in tmp_path.iterdir()] == [path.name]


def test_ensure_writable_refuses_a_path_under_a_file(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("")
    with pytest.raises(FileProblem) as caught:
        ensure_writable(blocker / "out.json")
    assert caught.value.exit_code == exitcodes.ENVIRONMENT
    assert str(blocker / "out.json") in str(caught.value)


def test_run_turns_errors_into_one_line_and_the_convention(capsys):
    def known() -> int:
        raise FileProblem("x.json: no such file", exitcodes.BAD_INPUT)

    def bug() -> int:
        raise KeyError("vmSize")

    assert run("prog", known, []) == 2
    assert capsys.readouterr().err == "prog: error: x.json: no such file\n"
    assert run("prog", bug, []) == exitcodes.UNEXPECTED
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "KeyError" in err and "Traceback" not in err
    assert run("prog", bug, ["--debug"]) == exitcodes.UNEXPECTED
    assert "Traceback" in capsys.readouterr().err
