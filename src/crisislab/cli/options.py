"""What the analysis commands share (simulate, runs, compare, sensitivity, calibrate,
paths, tournament): their consoles, options and checks, and how they turn bad input into
one line with a fix."""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from enum import StrEnum
from pathlib import Path
from typing import Any

import typer
from rich.console import Console

from crisislab.agents.registry import AgentSpecError
from crisislab.analysis.simulate import AnalysisError, Progress, Variant
from crisislab.errors import MAX_RUNS, MAX_WORKERS, check_range, check_seed, fail
from crisislab.scenario.model import Scenario
from crisislab.store import Store, StoreError, shown_url

out = Console(soft_wrap=False)
err = Console(stderr=True)


MAX_SAMPLES = 1 << 20  # Sobol base samples
MAX_PASSES = 1000  # passes of the calibration search
MAX_TOLERANCE = 100_000  # days


class OutFormat(StrEnum):
    text = "text"
    json = "json"


class Backend(StrEnum):
    local = "local"
    ray = "ray"


RUNS_HELP = f"How many crises to simulate, 1 to {MAX_RUNS:,}."
SEED_OPTION = typer.Option(0, help="Seed, 0 to 2**63 - 1: the same seed gives the same result.")

# options shared by simulate, compare and sensitivity
FORMAT_OPTION = typer.Option(OutFormat.text, "--format", "-f", help="text or json")
BACKEND_OPTION = typer.Option(Backend.local, help="local (processes) or ray")
ADDRESS_OPTION = typer.Option(None, help="Ray cluster address (with --backend ray).")
WORKERS_OPTION = typer.Option(
    None, help=f"Processes to use, 1 to {MAX_WORKERS} (default: every core)."
)
PLOT_OPTION = typer.Option(None, "--plot", help="Write a figure (.png, .svg).")
QUIET_OPTION = typer.Option(False, "--quiet", "-q", help="No progress bar.")


PARAMS_FILE_OPTION = typer.Option(
    None,
    "--params",
    help="A YAML file of parameter values "
    "(NAME: VALUE, as `calibrate --fit --write` makes); "
    "--param overrides it.",
)


def _params_file(sc: Scenario, path: Path | None) -> list[str]:
    """A parameter file as NAME=VALUE options (checked later like --param)."""
    if path is None:
        return []
    from crisislab.analysis.calibrate import read_parameter_file

    with _clean_errors():
        return [f"{k}={v!r}" for k, v in read_parameter_file(path).items()]
    raise AssertionError("unreachable")


class SweepMethod(StrEnum):
    oat = "oat"
    sobol = "sobol"
    both = "both"


def _fail(message: str, hint: str = "", code: int = 2) -> None:
    from crisislab.cli.common import fail

    fail(message, hint, code)


def _load(ref: str) -> Scenario:
    from crisislab.cli.common import load_or_exit

    return load_or_exit(ref)


@contextmanager
def _clean_errors() -> Iterator[None]:
    """Bad input becomes one line with a fix, never a traceback."""
    try:
        yield
    except AgentSpecError as e:
        _fail(str(e), "see the agents with `crisislab play --help`; e.g. --agent usa=historical")
    except AnalysisError as e:
        _fail(str(e))
    except StoreError as e:
        _fail(str(e), "give --db a SQLAlchemy URL such as sqlite:///runs.db")


def _store(db: str | None, writable: bool = False) -> Store:
    """The database, opened (and, for a run to store, proved writable) before any work."""
    try:
        return Store(db, writable=writable)
    except StoreError as e:
        fail(str(e), "give --db a SQLAlchemy URL such as sqlite:///runs.db, or --no-store", code=1)
    except ImportError as e:  # a URL whose database driver is not installed
        fail(
            f"cannot open the database {shown_url(db or '')}: {e}",
            "install its driver, or use sqlite:///FILE",
        )


def _check_common(
    runs: int, seed: int, workers: int | None, chunk: int, runs_option: str = "--runs"
) -> None:
    check_range(runs_option, runs, 1, MAX_RUNS, f"e.g. {runs_option} 100000")
    check_seed(seed)
    check_range("--workers", workers, 1, MAX_WORKERS, "omit it to use every core")
    check_range("--chunk-size", chunk, 1, MAX_RUNS, "omit it for the default")


def _plot_path(plot: Path | None) -> None:
    if plot is None:
        return
    from crisislab.analysis.plots import check_path

    with _clean_errors():
        check_path(plot)


@contextmanager
def _progress(total: int, label: str, quiet: bool) -> Iterator[Progress | None]:
    """A progress bar on a terminal's stderr for long work; nothing otherwise."""
    if quiet or not err.is_terminal or total < 200_000:
        yield None
        return
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeRemainingColumn

    with Progress(
        "[progress.description]{task.description}",
        BarColumn(),
        MofNCompleteColumn(),
        TimeRemainingColumn(),
        console=err,
        transient=True,
    ) as bar:
        task = bar.add_task(label, total=total)

        def update(done: int, all_: int) -> None:
            bar.update(task, completed=done, total=all_)

        yield update


def _variant(
    sc: Scenario, agents: list[str], what_ifs: list[str], params: list[str], label: str = "baseline"
) -> Variant:
    from crisislab.analysis.simulate import check_what_ifs, parse_parameters, seat_specs

    with _clean_errors():
        parsed = parse_parameters(sc, params)
        for name, value in parsed:
            low, high = next(p.range for p in sc.spec.parameters if p.id == name)
            if not low <= value <= high:
                err.print(
                    f"note: --param {name}={value:g} is outside its stated range "
                    f"[{low:g}, {high:g}]",
                    highlight=False,
                )
        return Variant(label, seat_specs(sc, agents), check_what_ifs(sc, what_ifs), parsed)
    raise AssertionError("unreachable")


def _pct(p: float) -> str:
    return f"{100 * p:.3g}%" if p < 0.9995 else f"{100 * p:.4g}%"


def _when(scenario: Scenario | None, label: str) -> str:
    """A turn label or date as words, when the scenario is at hand."""
    from crisislab.scenario.display import label_words

    return label if scenario is None else label_words(scenario, label)


def _who(scenario: Scenario | None, actor: str) -> str:
    from crisislab.scenario.display import actor_name

    return actor if scenario is None else actor_name(scenario, actor)


def _share_word(quantile: str) -> str:
    """``q05`` -> ``5%``."""
    return f"{int(quantile[1:])}%"


def _outcome_names(scenario: Scenario | None) -> dict[str, str]:
    """What a reader sees for each outcome: its label, not its id."""
    return {} if scenario is None else {o.id: o.label for o in scenario.outcomes}


def _points(x: float) -> str:
    """A difference of two shares in percentage points, to a hundredth of a point."""
    return f"{100 * x:+.2f}".replace("+0.00", "0.00").replace("-0.00", "0.00")


def _interval(item: dict[str, Any]) -> str:
    return f"{_pct(item['p'])}  [{_pct(item['low'])}, {_pct(item['high'])}]"


def _bar(p: float, width: int = 30) -> str:
    return "█" * int(round(p * width))


def _emit_json(doc: dict[str, Any]) -> None:
    sys.stdout.write(json.dumps(doc, indent=2, ensure_ascii=False) + "\n")
