"""Reading the files a user names: regular files only, never more than a limit.

A folder, a device such as ``/dev/zero``, a FIFO or a socket is refused before it is read,
so nothing reads forever or hangs; a file larger than the limit is refused before its
bytes are held in memory.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

EXIT_USAGE = 2


class InputError(ValueError):
    """Bad input: ``message`` says what and where, ``hint`` how to fix it; a command
    stops with ``code`` (2: the input is wrong, 1: the work failed)."""

    def __init__(self, message: str, hint: str = "", code: int = EXIT_USAGE) -> None:
        super().__init__(message)
        self.message, self.hint, self.code = message, hint, code


def check_regular(path: Path | str, limit: int, what: str = "file") -> int:
    """Refuse what is not a regular file of at most ``limit`` bytes; return its size."""
    try:
        info = os.stat(path)
    except FileNotFoundError:
        raise InputError(f"{path}: no such {what}", f"check the path of the {what}") from None
    except (OSError, ValueError) as e:
        reason = getattr(e, "strerror", None) or str(e)
        raise InputError(
            f"{path}: cannot read it ({reason})", f"check the path of the {what}"
        ) from None
    if stat.S_ISDIR(info.st_mode):
        raise InputError(f"{path} is a folder", f"give the path of a {what}")
    if not stat.S_ISREG(info.st_mode):
        raise InputError(
            f"{path} is not a regular file (a device, a pipe or a socket)",
            f"give the path of a {what} saved on disk",
        )
    if info.st_size > limit:
        raise InputError(
            f"{path} is {info.st_size:,} bytes, more than the {limit:,} a {what} may be",
            f"give a smaller {what}",
        )
    return info.st_size


def read_regular(path: Path | str, limit: int, what: str = "file") -> bytes:
    """The bytes of a regular file of at most ``limit`` bytes (see :func:`check_regular`);
    a file that grows past the limit while it is read is refused too."""
    check_regular(path, limit, what)
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
        with os.fdopen(fd, "rb") as f:
            data = f.read(limit + 1)
    except OSError as e:
        raise InputError(
            f"{path}: cannot read it ({e.strerror})",
            "check that the file exists and that you may read it",
        ) from None
    if len(data) > limit:
        raise InputError(
            f"{path} is more than the {limit:,} bytes a {what} may be", f"give a smaller {what}"
        )
    return data


def read_text(path: Path | str, limit: int, what: str = "file") -> str:
    """A regular UTF-8 text file of at most ``limit`` bytes."""
    data = read_regular(path, limit, what)
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as e:
        raise InputError(
            f"{path} is not UTF-8 text (byte {e.start + 1})", "save it as UTF-8"
        ) from None
