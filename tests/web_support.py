"""Shared fixtures of the classroom's tests: apps on SQLite or a throwaway PostgreSQL."""

from __future__ import annotations

import contextlib
import os
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Iterator
from functools import cache
from pathlib import Path

import pytest

PG_BIN = Path("/usr/lib/postgresql/15/bin")


@cache
def cuba():  # type: ignore[no-untyped-def]
    from crisislab.scenario.loader import load_scenario

    return load_scenario("cuba-1962")


def load(ref: str):  # type: ignore[no-untyped-def]
    """A built-in scenario, loaded once per test process."""
    from crisislab.scenario.loader import load_scenario

    return cuba() if ref == "cuba-1962" else load_scenario(ref)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextlib.contextmanager
def postgres_cluster() -> Iterator[str]:
    """A PostgreSQL cluster in a temporary folder on a free port, run as a user that is
    not root; yields its SQLAlchemy URL. Skips if the binaries are missing."""
    if not (PG_BIN / "initdb").exists():
        pytest.skip(f"PostgreSQL is not installed ({PG_BIN} has no initdb); .ci/run installs it")
    folder = Path(tempfile.mkdtemp(prefix="crisislab-pg-"))
    prefix: list[str] = []
    if os.geteuid() == 0:
        shutil.chown(folder, "postgres")
        prefix = ["runuser", "-u", "postgres", "--"]
    data = folder / "data"
    port = free_port()
    subprocess.run(
        [
            *prefix,
            str(PG_BIN / "initdb"),
            "-D",
            str(data),
            "-A",
            "trust",
            "-U",
            "crisislab",
            "--no-sync",
            "-E",
            "UTF8",
        ],
        check=True,
        capture_output=True,
    )
    subprocess.run(
        [
            *prefix,
            str(PG_BIN / "pg_ctl"),
            "-D",
            str(data),
            "-l",
            str(folder / "log"),
            "-w",
            "-o",
            f"-p {port} -k {folder} -c listen_addresses=127.0.0.1 -c fsync=off",
            "start",
        ],
        check=True,
        capture_output=True,
    )
    try:
        yield f"postgresql+psycopg://crisislab@127.0.0.1:{port}/postgres"
    finally:
        subprocess.run(
            [*prefix, str(PG_BIN / "pg_ctl"), "-D", str(data), "-m", "immediate", "stop"],
            capture_output=True,
        )
        shutil.rmtree(folder, ignore_errors=True)
