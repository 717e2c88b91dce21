"""``crisislab what-ifs``: it lists what :mod:`crisislab.whatifs` reads from a scenario."""

from __future__ import annotations

import json

import typer

from crisislab.whatifs import list_what_ifs


def register(app: typer.Typer) -> None:
    """Add ``crisislab what-ifs`` to the command line."""

    @app.command("what-ifs")
    def what_ifs_command(
        scenario: str = typer.Argument(..., help="A scenario file or built-in id."),
        format: str = typer.Option("text", "--format", "-f", help="text or json"),
    ) -> None:
        """List a scenario's named what-ifs: what each changes, why, and what it should do
        to the odds (use an id with --what-if)."""
        from crisislab.cli.common import fail, load_or_exit, out

        if format not in ("text", "json"):
            fail(f"unknown format '{format}'", "use --format text or --format json")
        sc = load_or_exit(scenario)
        items = list_what_ifs(sc)
        if format == "json":
            print(json.dumps([w.to_json() for w in items], indent=2, ensure_ascii=False))
            return
        if not items:
            out.print(f"{sc.id} has no what-ifs", highlight=False)
            return
        for w in items:
            out.print(f"[bold]{w.id}[/bold]  {w.summary}", highlight=False)
            rise = [k for k, v in w.expected.items() if v == "rise"]
            fall = [k for k, v in w.expected.items() if v == "fall"]
            odds = "; ".join(
                x
                for x in (
                    f"rise: {', '.join(rise)}" if rise else "",
                    f"fall: {', '.join(fall)}" if fall else "",
                )
                if x
            )
            out.print(f"    expected  {odds}", highlight=False)
            src = "; ".join(f"{c.source}, {c.locator}" for c in w.citations)
            if src:
                out.print(f"    sources   {src}", highlight=False, markup=False)
            if w.assumption:
                out.print(
                    "    assumes   " + " ".join(w.assumption.split()), highlight=False, markup=False
                )
