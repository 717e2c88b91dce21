"""The light install: a command whose optional package is missing says, in one line,
which extra to install, and exits 1; the top-level command imports none of the heavy
packages to list its commands."""

from __future__ import annotations

import importlib
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from crisislab.extras import EXTRAS, MissingExtra, available, require

ROOT = Path(__file__).resolve().parent.parent
MINI = str(ROOT / "tests" / "data" / "mini.yaml")
KUHN = str(ROOT / "tests" / "data" / "gt" / "kuhn_poker.efg")


def hide(monkeypatch: pytest.MonkeyPatch, package: str, *users: str) -> None:
    """Make ``package`` look uninstalled, and forget the modules (``users`` prefixes)
    that imported it so that they import it again."""
    for name in list(sys.modules):
        if any(name == u or name.startswith(u + ".") for u in (package, *users)):
            monkeypatch.delitem(sys.modules, name)
    monkeypatch.setitem(sys.modules, package, None)


def run_app(*args: str) -> object:
    from crisislab.cli import app

    return CliRunner().invoke(app, list(args))


def one_line(result: object, extra: str) -> str:
    """The error the command printed, checked to be one line naming the extra."""
    assert result.exit_code == 1, result.output  # type: ignore[attr-defined]
    assert result.exception is None or isinstance(  # type: ignore[attr-defined]
        result.exception, SystemExit
    ), result.exception  # type: ignore[attr-defined]
    text = result.output  # type: ignore[attr-defined]
    assert "Traceback" not in text
    lines = [line for line in text.splitlines() if line.startswith("error:")]
    assert len(lines) == 1, text
    assert f"pip install 'crisislab[{extra}]'" in " ".join(text.split())
    return lines[0]


@pytest.fixture()
def db(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    path = tmp_path / "runs.db"
    monkeypatch.setenv("CRISISLAB_DB", str(path))
    return path


def test_gt_without_pygambit(monkeypatch: pytest.MonkeyPatch) -> None:
    hide(monkeypatch, "pygambit", "crisislab.gt")
    line = one_line(run_app("gt", "solve", KUHN), "gt")
    assert "pygambit" in line
    one_line(run_app("gt", "model", "chicken"), "gt")


def test_sensitivity_sobol_without_salib(monkeypatch: pytest.MonkeyPatch) -> None:
    hide(monkeypatch, "SALib", "crisislab.analysis.sensitivity")
    assert "SALib" in one_line(
        run_app("sensitivity", MINI, "--method", "sobol", "-q"), "sensitivity"
    )


def test_sensitivity_one_at_a_time_needs_no_salib(
    monkeypatch: pytest.MonkeyPatch, db: Path
) -> None:
    hide(monkeypatch, "SALib", "crisislab.analysis.sensitivity")
    result = run_app(
        "sensitivity",
        MINI,
        "--method",
        "oat",
        "--runs-per-point",
        "200",
        "--workers",
        "1",
        "-q",
        "--format",
        "json",
    )
    assert result.exit_code == 0, result.output  # type: ignore[attr-defined]


def test_ray_backend_without_ray(monkeypatch: pytest.MonkeyPatch, db: Path) -> None:
    hide(monkeypatch, "ray")
    one_line(run_app("simulate", MINI, "--runs", "100", "--backend", "ray"), "ray")


def test_plot_without_matplotlib(monkeypatch: pytest.MonkeyPatch, db: Path, tmp_path: Path) -> None:
    hide(monkeypatch, "matplotlib", "crisislab.analysis.plots")
    line = one_line(
        run_app(
            "simulate",
            MINI,
            "--runs",
            "100",
            "--workers",
            "1",
            "--plot",
            str(tmp_path / "odds.png"),
        ),
        "plot",
    )
    assert "matplotlib" in line
    assert not (tmp_path / "odds.png").exists()


def test_fit_without_scipy(monkeypatch: pytest.MonkeyPatch) -> None:
    hide(monkeypatch, "scipy")
    one_line(run_app("fit", "cuba-1962"), "fit")


def test_rl_environment_without_pettingzoo(monkeypatch: pytest.MonkeyPatch) -> None:
    hide(monkeypatch, "pettingzoo", "crisislab.rl")
    with pytest.raises(MissingExtra) as caught:
        importlib.import_module("crisislab.rl")
    assert "pip install 'crisislab[rl]'" in str(caught.value)
    assert caught.value.extra == "rl"


def test_require_and_available() -> None:
    assert available("json") and not available("no_such_module_for_crisislab")
    assert require("json", "plot").dumps([1]) == "[1]"
    with pytest.raises(MissingExtra, match=r"crisislab\[plot\]"):
        require("no_such_module_for_crisislab", "plot")
    assert set(EXTRAS) == {"gt", "sensitivity", "rl", "ray", "plot", "fit", "parquet", "web", "llm"}


def test_every_extra_is_declared_in_pyproject() -> None:
    import tomllib

    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    extras = project["optional-dependencies"]
    # "bench" holds the benchmarks' peer (OpenSpiel), which no command or test needs
    assert set(EXTRAS) | {"all", "test", "bench"} == set(extras)
    assert extras["all"] == [f"crisislab[{','.join(EXTRAS)}]"]
    assert "crisislab[all]" in extras["test"]
    assert not any("bench" in r or "open_spiel" in r for r in extras["test"] + extras["all"])
    core = " ".join(project["dependencies"]).lower()
    for heavy in ("pygambit", "salib", "pettingzoo", "gymnasium", "ray", "matplotlib", "scipy"):
        assert heavy not in core


# ---- lazy start-up ---------------------------------------------------------------------


def test_help_lists_every_command_with_its_own_help() -> None:
    from crisislab.cli import LAZY_COMMANDS, first_paragraph, lazy_command

    result = run_app("--help")
    assert result.exit_code == 0  # type: ignore[attr-defined]
    listed = " ".join(result.output.split())  # type: ignore[attr-defined]
    for name, (_, text, _) in LAZY_COMMANDS.items():
        command = lazy_command(name)
        assert first_paragraph(command.help or "") == text, name
        assert f"{name} {text}" in listed
    for name in ("version", "scenarios", "schema", "validate", "replay", "sources"):
        assert f" {name} " in listed


def test_listing_the_commands_imports_no_heavy_package() -> None:
    code = (
        "import sys\nfrom typer.testing import CliRunner\nfrom crisislab.cli import app\n"
        "r = CliRunner().invoke(app, ['--help'])\nassert r.exit_code == 0, r.output\n"
        "print(' '.join(m for m in ('numpy', 'pydantic', 'sqlalchemy', 'yaml', "
        "'pygambit', 'crisislab.scenario', 'crisislab.store') if m in sys.modules))"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == ""


def test_a_command_runs_after_lazy_loading() -> None:
    result = run_app("gt", "--help")
    assert result.exit_code == 0  # type: ignore[attr-defined]
    assert "solve" in result.output  # type: ignore[attr-defined]
    unknown = run_app("no-such-command")
    assert unknown.exit_code == 2  # type: ignore[attr-defined]
