"""What every command of the command line shares: its consoles, and how it reports bad
input and loads a scenario. It imports only typer (rich when a console is first used), so
that every command module may import it and ``crisislab --help`` stays quick."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn

import typer

from crisislab.errors import fail as _fail_plain
from crisislab.errors import problems as _print_problems

if TYPE_CHECKING:
    from rich.console import Console

    from crisislab.scenario.model import Scenario
    from crisislab.scenario.problems import ScenarioError


class _Deferred:
    """A rich Console made when first used: importing rich is a sixth of the start-up,
    and ``crisislab --help`` prints without it."""

    def __init__(self, **options: Any) -> None:
        self._options = options
        self._console: Console | None = None

    def __getattr__(self, name: str) -> Any:
        if self._console is None:
            from rich.console import Console

            self._console = Console(**self._options)
        return getattr(self._console, name)


out: Console = _Deferred(soft_wrap=False)  # type: ignore[assignment]
err: Console = _Deferred(stderr=True)  # type: ignore[assignment]


def fail(message: str, hint: str = "", code: int = 2) -> NoReturn:
    """Report bad input (exit 2) or a failure (``code=1``) and stop: plain text, never
    read as markup, never broken inside a word (see :mod:`crisislab.errors`)."""
    _fail_plain(message, hint, code)


def load_or_exit(ref: str) -> Scenario:
    from crisislab.scenario.loader import load_scenario
    from crisislab.scenario.problems import ScenarioError

    try:
        return load_scenario(ref)
    except ScenarioError as e:
        report_problems(e)
        raise typer.Exit(1) from None


def report_problems(e: ScenarioError) -> None:
    _print_problems(list(e.problems))


def write(text: str, output: Path | None) -> None:
    if output is None:
        sys.stdout.write(text if text.endswith("\n") else text + "\n")
        return
    try:
        output.write_text(text if text.endswith("\n") else text + "\n", encoding="utf-8")
    except OSError as e:
        fail(f"cannot write {output}: {e.strerror}", "choose a writable path")
    err.print(f"wrote {output}", highlight=False, markup=False, soft_wrap=True)
