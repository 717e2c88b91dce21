"""``crisislab fit``: the leaders' choice model fitted to the record, as a table."""

from __future__ import annotations

import json
from pathlib import Path

import typer
from rich.console import Console
from rich.table import Table
from rich.text import Text

from crisislab.engine.version import engine_version
from crisislab.fit import FitResult, fit

out = Console(soft_wrap=False)


def _words(result: FitResult, descriptions: dict[str, str]) -> list[Text]:
    lines = []
    base = result.baseline
    lines.append(
        Text(
            f"{base['decisions']} decisions on the record ({base['documented']} documented "
            f"choices, the rest turns on which the leader waited)."
        )
    )
    lines.append(
        Text(
            f"Log-likelihood of the record: {result.log_likelihood:.1f} under the fitted model, "
            f"{base['uniform']:.1f} if every option were equally likely, "
            f"{base['base_rate']:.1f} for leaders who act as often as the record has them act "
            f"but pick blindly among their options"
            + (
                f", {base['doctrines']:.1f} for the best of the doctrines "
                f"({base['doctrines_name']}, with a 1% tremble: it makes "
                f"{base['doctrines_right']:.0f} of the {base['decisions']} choices)"
                if "doctrines" in base
                else ""
            )
            + "."
        )
    )
    lifts = sorted(r["p"] / r["p_base_rate"] for r in result.decisions if r["p_base_rate"])
    if lifts:
        better = sum(x > 1 for x in lifts)
        lines.append(
            Text(
                f"The fitted model makes {better} of the {len(lifts)} documented choices likelier "
                f"than that blind pick does; the median choice is {lifts[len(lifts) // 2]:.1f} "
                f"times as likely."
            )
        )
    return lines


def register(app: typer.Typer) -> None:
    @app.command("fit")
    def fit_command(
        scenario: str = typer.Argument(..., help="A scenario file or built-in id."),
        fmt: str = typer.Option("text", "--format", "-f", help="text or json."),
        output: Path | None = typer.Option(
            None, "--output", "-o", help="Write the fitted parameters (YAML) here."
        ),
        loo: bool = typer.Option(
            True, "--loo/--no-loo", help="Refit once per documented choice, leaving it out."
        ),
    ) -> None:
        """Fit the leaders' choice model to the documented choices (maximum likelihood)."""
        from crisislab.cli.common import fail, load_or_exit
        from crisislab.fit import compare_stand_ins

        if fmt not in ("text", "json"):
            fail(f"unknown format '{fmt}'", "use --format text or --format json")
        sc = load_or_exit(scenario)
        if sc.spec.leaders is None:
            fail(
                f"{sc.id} declares no leaders' model",
                "add a `leaders:` section (see docs/scenario-format.md)",
            )
        result = fit(sc, leave_one_out=loo)
        compare_stand_ins(sc, result)
        if output is not None:
            import yaml

            doc = {
                "scenario": sc.id,
                "version": sc.version,
                "engine_version": engine_version(),
                "content_hash": sc.content_hash,
                "method": result.method,
                "date": result.date,
                "log_likelihood": round(result.log_likelihood, 3),
                "parameters": {k: round(v, 4) for k, v in result.parameters.items()},
            }
            output.write_text(yaml.safe_dump(doc, sort_keys=False), encoding="utf-8")
        if fmt == "json":
            out.print_json(json.dumps(result.to_json()))
            return
        descriptions = {p.id: p.description for p in sc.spec.parameters}
        out.print(
            Text(f"The leaders' choice model of {sc.title}, fitted to the record", style="bold")
        )
        for line in _words(result, descriptions):
            out.print(line)
        table = Table(title="Coefficients (95% intervals from the observed information)")
        for col in ("parameter", "what it is", "value", "interval", "note"):
            table.add_column(col, overflow="fold")
        for name, value in result.parameters.items():
            note = {
                "lower": "at the lower end of its range",
                "upper": "at the upper end of its range",
                "not identified": "the record never offers this choice: the declared value is kept",
            }.get(result.at_bound.get(name, ""), "")
            table.add_row(
                Text(name),
                Text(descriptions.get(name, "")),
                f"{value:.2f}",
                f"{result.low[name]:.2f} to {result.high[name]:.2f}",
                note,
            )
        out.print(table)
        docs = Table(
            title="The documented choices: the probability the fitted model gives "
            "each (and with it left out of the fit)"
        )
        for col in (
            "date",
            "who",
            "choice",
            "options",
            "p",
            "p left out",
            "p, blind pick at the record's rate",
        ):
            docs.add_column(col)
        loo_p = {(r["actor"], r["date"]): r["p"] for r in result.leave_one_out}
        actions = {a.id: a.label for a in sc.actions}
        names = {a.id: a.name for a in sc.spec.actors}
        for r in result.decisions:
            held = loo_p.get((r["actor"], r["date"]))
            docs.add_row(
                r["date"],
                Text(names.get(r["actor"], r["actor"])),
                Text(actions.get(r["choice"], r["choice"])),
                str(r["options"]),
                f"{r['p']:.1%}",
                "" if held is None else f"{held:.1%}",
                f"{r['p_base_rate']:.1%}",
            )
        out.print(docs)
        if output is not None:
            out.print(Text(f"Fitted parameters written to {output}"))
