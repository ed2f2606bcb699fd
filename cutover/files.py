"""Files as users hand them to us and as we hand them back.

Reads accept UTF-8 (with or without a byte-order mark) and UTF-16/UTF-32 with a byte-order mark
(Windows PowerShell 5 writes `az ... > file.json` as UTF-16); anything else is a clear error.
Writes are atomic: the text goes to a file beside the target, is flushed and fsynced, then
renamed over it, so on any failure (a full disk, a killed process) the old file is intact.
"""

from __future__ import annotations

import codecs
import contextlib
import errno
import os
import tempfile
from pathlib import Path

from cutover.exitcodes import BAD_INPUT, ENVIRONMENT

# Longest first: the UTF-32 LE mark begins with the UTF-16 LE one.
_BOMS: tuple[tuple[bytes, str], ...] = (
    (codecs.BOM_UTF32_LE, "utf-32"),
    (codecs.BOM_UTF32_BE, "utf-32"),
    (codecs.BOM_UTF8, "utf-8-sig"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
)


class FileProblem(Exception):
    """A file we cannot read or write; the message names the path, the cause and what to do."""

    def __init__(self, message: str, exit_code: int) -> None:
        super().__init__(message)
        self.exit_code = exit_code


def _cause(error: OSError) -> str:
    if error.errno == errno.ENOSPC:
        return "no space left on the device"
    return error.strerror or str(error)


def decode(data: bytes, source: str | os.PathLike[str]) -> str:
    """Text of ``data`` read from ``source`` (named in the error), by its byte-order mark."""
    encoding = next((name for bom, name in _BOMS if data.startswith(bom)), "utf-8")
    if encoding == "utf-8" and b"\x00" in data[:4096]:
        # NUL bytes are valid UTF-8 but never in text: UTF-16/32 saved without its mark.
        raise FileProblem(
            f"{source}: looks like UTF-16 or UTF-32 without a byte-order mark: save it as UTF-8 "
            "(or UTF-16/UTF-32 with a byte-order mark)",
            BAD_INPUT,
        )
    try:
        return data.decode(encoding)
    except UnicodeDecodeError as error:
        raise FileProblem(
            f"{source}: not {encoding.upper().replace('-SIG', '')} text (byte {error.start}): "
            "save it as UTF-8 (or UTF-16/UTF-32 with a byte-order mark)",
            BAD_INPUT,
        ) from None


def read_text(path: str | os.PathLike[str]) -> str:
    """The text of ``path``, whatever Unicode encoding with a byte-order mark it was saved in."""
    try:
        data = Path(path).read_bytes()
    except FileNotFoundError:
        raise FileProblem(f"{path}: no such file", BAD_INPUT) from None
    except IsADirectoryError:
        raise FileProblem(f"{path}: is a folder, expected a file", BAD_INPUT) from None
    except OSError as error:
        raise FileProblem(f"{path}: cannot read ({_cause(error)})", ENVIRONMENT) from error
    return decode(data, path)


def _file_in_the_way(folder: Path) -> Path | None:
    """The nearest existing ancestor of ``folder`` (itself included) if it is not a folder."""
    for candidate in (folder, *folder.parents):
        if candidate.exists():
            return None if candidate.is_dir() else candidate
    return None


def ensure_writable(path: str | os.PathLike[str]) -> None:
    """Fail now, before long work, if ``path`` cannot be written (its folder is created)."""
    target = Path(path)
    if target.is_dir():
        raise FileProblem(f"{target}: is a folder; name a file to write", BAD_INPUT)
    blocker = _file_in_the_way(target.parent)
    if blocker is not None:
        raise FileProblem(
            f"{target}: cannot write there ({blocker} is a file, not a folder); "
            "choose another path",
            ENVIRONMENT,
        )
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryFile(dir=target.parent):
            pass
        if target.exists() and not os.access(target, os.W_OK):
            raise PermissionError(errno.EACCES, "permission denied")
    except OSError as error:
        raise FileProblem(
            f"{target}: cannot write there ({_cause(error)}); choose another path",
            ENVIRONMENT,
        ) from error


def ensure_writable_folder(path: str | os.PathLike[str]) -> None:
    """Fail now if files cannot be created in the folder ``path`` (it is created if missing)."""
    folder = Path(path)
    if folder.exists() and not folder.is_dir():
        raise FileProblem(f"{folder}: is a file, expected a folder", BAD_INPUT)
    try:
        folder.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryFile(dir=folder):
            pass
    except OSError as error:
        raise FileProblem(
            f"{folder}: cannot write there ({_cause(error)}); choose another folder",
            ENVIRONMENT,
        ) from error


def write_bytes(path: str | os.PathLike[str], data: bytes) -> None:
    """Replace ``path`` with ``data`` atomically; on failure the old file is left intact."""
    target = Path(path)
    if target.is_dir():
        raise FileProblem(f"{target}: is a folder; name a file to write", BAD_INPUT)
    temp: str | None = None
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        fd, temp = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".tmp")
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        if target.exists():
            os.chmod(temp, target.stat().st_mode & 0o7777)
        else:
            os.chmod(temp, 0o666 & ~_umask())
        os.replace(temp, target)
        temp = None
        _sync_folder(target.parent)
    except OSError as error:
        raise FileProblem(
            f"{target}: cannot write ({_cause(error)}); the previous file, if any, is unchanged",
            ENVIRONMENT,
        ) from error
    finally:
        if temp is not None:
            with contextlib.suppress(OSError):
                os.unlink(temp)


def write_text(path: str | os.PathLike[str], text: str) -> None:
    """Replace ``path`` with ``text`` (UTF-8) atomically."""
    write_bytes(path, text.encode("utf-8"))


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def _sync_folder(folder: Path) -> None:
    # The rename itself is durable only once the folder's entry is on disk.
    with contextlib.suppress(OSError):
        fd = os.open(folder, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def user_path(text: str) -> Path:
    """A path given on the command line, ``~`` expanded: a quoted ``'~/inv.json'`` reaches the
    program unexpanded, and would otherwise create a folder named ``~``."""
    return Path(text).expanduser()
