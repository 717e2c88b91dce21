"""How every ``crisislab`` command reports an error, and the limits of its inputs.

One printer for all commands: the message is plain text (a user's text such as ``[/]``
is never read as markup), says what is wrong and how to fix it, and the command stops
with a documented exit code:

- 0: done;
- 1: the work failed or found problems (a scenario with problems, a database that cannot
  be opened or written, a damaged stored row, citations not found);
- 2: the command line is wrong (an option's value, an unknown id, a missing file);
- 3: a bug in crisislab (never a traceback; the message asks for a report).

:class:`SafeGroup` is the command group of the ``crisislab`` app: whatever a command
raises ends in one of these, in the installed command and in tests that drive the app
in-process alike.
"""

from __future__ import annotations

import sys
from typing import Any, NoReturn

import typer
from typer.core import TyperGroup

from crisislab.files import InputError

EXIT_FAILED = 1
EXIT_USAGE = 2
EXIT_BUG = 3

# documented ranges of numeric options (see docs/troubleshooting.md)
MAX_SEED = 2**63 - 1  # a seed fits a signed 64-bit integer, as the database stores it
MAX_RUNS = 1_000_000_000  # crises in one command: hours of work at most, not days
MAX_LIMIT = 1_000_000  # rows listed at once
MAX_WORKERS = 4096  # processes or Ray tasks at once


class StoreError(RuntimeError):
    """The database cannot be opened or written; the message says which and why (raised
    by :mod:`crisislab.store`, which names it too)."""


class StoredRowError(StoreError):
    """A stored row that does not read as what crisislab writes; the message names it."""


# the errors click (inside typer) reports itself: usage errors exit 2 with their own text
_CLICK_ERROR: type[BaseException] = next(
    c for c in typer.BadParameter.__mro__ if c.__name__ == "ClickException"
)
_PASS_THROUGH: tuple[type[BaseException], ...] = (typer.Exit, typer.Abort, _CLICK_ERROR, SystemExit)


def _stderr(text: str) -> None:
    typer.echo(text, err=True)


def say_error(message: str, hint: str = "") -> None:
    """Print ``error: MESSAGE`` and ``fix: HINT`` as plain text on stderr."""
    _stderr(f"error: {message}")
    if hint:
        _stderr(f"  fix: {hint}")


def fail(message: str, hint: str = "", code: int = EXIT_USAGE) -> NoReturn:
    """Report bad input (exit 2) or a failure (``code=1``) and stop."""
    say_error(message, hint)
    raise typer.Exit(code)


def problems(items: list[Any]) -> None:
    """Print a scenario's problems, one a line, as plain text."""
    n = len(items)
    _stderr(f"{n} problem{'s' if n != 1 else ''} found:")
    for p in items:
        _stderr(f"  {p}")


class SafeGroup(TyperGroup):
    """The ``crisislab`` group: every error a command raises ends in a plain message and a
    documented exit code, never a traceback."""

    def invoke(self, ctx: Any) -> Any:
        try:
            return super().invoke(ctx)
        except _PASS_THROUGH:
            raise
        except KeyboardInterrupt:
            _stderr("interrupted")
            raise typer.Exit(130) from None
        except Exception as e:  # noqa: BLE001 - this is the one place that stops them all
            raise typer.Exit(report_exception(e)) from None


def report_exception(e: BaseException) -> int:
    """Print an exception that escaped a command; return the exit code."""
    from crisislab.extras import MissingExtra
    from crisislab.scenario.problems import ScenarioError

    if isinstance(e, InputError):
        say_error(e.message, e.hint)
        return e.code
    if isinstance(e, MissingExtra):  # an optional package: one line naming the extra
        say_error(str(e))
        return EXIT_FAILED
    if isinstance(e, ScenarioError):
        problems(list(e.problems))
        return EXIT_FAILED
    if isinstance(e, StoredRowError):
        say_error(
            str(e),
            "the row was written by hand or by another program; remove it "
            "or restore the database from a copy",
        )
        return EXIT_FAILED
    if isinstance(e, StoreError):
        say_error(
            str(e),
            "give --db a SQLAlchemy URL such as sqlite:///runs.db, or set "
            "CRISISLAB_DB to a writable file",
        )
        return EXIT_FAILED
    if isinstance(e, MemoryError):
        say_error("the machine ran out of memory", "ask for less work (fewer --runs)")
        return EXIT_FAILED
    if isinstance(e, OSError):
        where = f"{e.filename}: " if e.filename else ""
        say_error(f"{where}{e.strerror or e}", "check the path and its permissions")
        return EXIT_FAILED
    _stderr(f"internal error: {type(e).__name__}: {e}")
    _stderr("  this is a bug in crisislab; please report it with the command you ran")
    return EXIT_BUG


def main_guard(run: Any) -> None:
    """Run the app as the installed command: anything that escapes still ends plainly."""
    try:
        run()
    except _PASS_THROUGH:
        raise
    except KeyboardInterrupt:
        _stderr("interrupted")
        sys.exit(130)
    except Exception as e:  # noqa: BLE001
        sys.exit(report_exception(e))


def check_range(option: str, value: float | None, low: float, high: float, hint: str = "") -> None:
    """Stop with exit 2 unless ``low <= value <= high`` (a number, never NaN)."""
    if value is None:
        return
    if value != value:  # NaN
        fail(
            f"{option} must be a number, not NaN", hint or f"give a value from {low:,} to {high:,}"
        )
    if value < low:
        if low == 0:
            fail(
                f"{option} must be zero or a positive number, not {value:,}",
                hint or f"give a value from 0 to {high:,}",
            )
        fail(
            f"{option} must be at least {low:,}, not {value:,}",
            hint or f"give a value from {low:,} to {high:,}",
        )
    if value > high:
        fail(
            f"{option} must be at most {high:,}, not {value:,}",
            hint or f"give a value from {low:,} to {high:,}",
        )


def check_seed(value: int, option: str = "--seed") -> None:
    """A seed is a whole number from 0 to 2**63 - 1 (it is stored as a 64-bit integer)."""
    if value < 0:
        fail(f"{option} must be zero or a positive whole number, not {value:,}", "e.g. --seed 1")
    if value > MAX_SEED:
        fail(f"{option} must be at most 2**63 - 1 ({MAX_SEED:,}), not {value:,}", "e.g. --seed 1")
