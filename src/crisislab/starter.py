"""``crisislab new``: a commented starter scenario to write a crisis from.

The starter (``templates/starter.yaml``) is a small, complete crisis: two actors, a few
actions, a chance event, outcomes with tags, sources, a historical track and letters. It
validates, replays and simulates as it is written (a test runs all three on it), so an
author changes a working file rather than filling in a blank one.
"""

from __future__ import annotations

import re
import string
from importlib import resources
from pathlib import Path

import typer

from crisislab.errors import fail

NAME_PATTERN = r"^[a-z][a-z0-9_-]*$"
MAX_NAME = 64


def starter_text(name: str, file: str | None = None) -> str:
    """The starter scenario for ``name`` (its id), as YAML text."""
    template = (resources.files("crisislab") / "templates" / "starter.yaml").read_text(
        encoding="utf-8"
    )
    title = name.replace("-", " ").replace("_", " ").strip().capitalize()
    return string.Template(template).substitute(
        id=name, title=f"{title}: a starter crisis", file=file or f"{name}.yaml"
    )


def write_starter(name: str, folder: Path) -> Path:
    """Write ``NAME.yaml`` in ``folder``; never over an existing file."""
    path = folder / f"{name}.yaml"
    with path.open("x", encoding="utf-8") as out:  # "x": fails if the file exists
        out.write(starter_text(name, str(path)))
    return path


def register(app: typer.Typer) -> None:
    @app.command("new")
    def new(
        name: str = typer.Argument(
            ...,
            help="The scenario's id, also its file name: lower "
            "case letters, digits, '-' and '_' (e.g. demo).",
        ),
        folder: Path = typer.Option(
            Path("."), "--dir", "-d", help="The folder to write NAME.yaml in (it must exist)."
        ),
    ) -> None:
        """Write a small, commented starter scenario, NAME.yaml, that validates, replays and
        simulates as it is.

        It holds two actors, a few actions, a chance event, outcomes with tags, sources,
        a historical track and letters, each section explained where it starts. An existing
        file is never overwritten. Then: crisislab validate NAME.yaml, crisislab replay
        NAME.yaml, crisislab simulate NAME.yaml."""
        if len(name) > MAX_NAME or not re.fullmatch(NAME_PATTERN, name):
            fail(
                f"'{name}' cannot name a scenario",
                f"use a lower-case letter, then letters, digits, '-' or '_' (at most "
                f"{MAX_NAME} characters), e.g. demo",
            )
        if not folder.is_dir():
            fail(f"--dir: no folder '{folder}'", "create it first, or give an existing one")
        target = folder / f"{name}.yaml"
        try:
            path = write_starter(name, folder)
        except FileExistsError:
            fail(
                f"{target} already exists; it is left as it is",
                "choose another NAME or --dir, or move the file away",
            )
        except OSError as e:
            fail(
                f"cannot write {target}: {e.strerror or e}",
                "choose a folder you can write to with --dir",
                code=1,
            )
        typer.echo(
            f"wrote {path}: a starter scenario '{name}'. Next: crisislab validate "
            f"{path}; crisislab replay {path}; crisislab simulate {path}"
        )
